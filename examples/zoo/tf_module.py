"""A plain ``tf.Module`` (a two-layer MLP with its own variables), one GradientTape SGD step.

Run: ``xlalens dump --frameworks tensorflow --target examples/zoo/tf_module.py:make_step``.
"""

FRONTENDS = ("tensorflow",)
FACTORY = "make_step"
LIBRARY = None


def make_step():
    """An MLP ``tf.Module``, a step function over (x, y), and one batch."""
    import numpy as np
    import tensorflow as tf

    class MLP(tf.Module):
        def __init__(self):
            super().__init__(name="mlp")
            rng = np.random.default_rng(0)
            self.w1 = tf.Variable(rng.normal(0, 0.3, (8, 16)).astype("float32"), name="w1")
            self.b1 = tf.Variable(np.zeros(16, "float32"), name="b1")
            self.w2 = tf.Variable(rng.normal(0, 0.3, (16, 1)).astype("float32"), name="w2")
            self.b2 = tf.Variable(np.zeros(1, "float32"), name="b2")

        def __call__(self, x):
            return tf.nn.relu(x @ self.w1 + self.b1) @ self.w2 + self.b2

    model = MLP()

    def step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x) - y))
        grads = tape.gradient(loss, model.trainable_variables)
        for v, g in zip(model.trainable_variables, grads):
            v.assign_sub(0.1 * g)
        return loss

    x = np.linspace(-1, 1, 32 * 8, dtype="float32").reshape(32, 8)
    return step, (tf.constant(x), tf.constant(x.sum(axis=1, keepdims=True)))
