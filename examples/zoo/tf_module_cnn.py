"""A plain ``tf.Module`` CNN with a hand-written Adam (held out: convolution, pooling, slots).

A second plain TensorFlow program beside the MLP, written after the zoo was
built (issue 20): ``tf.nn.conv2d``/``tf.nn.max_pool2d`` layers whose variables
live in nested ``tf.Module`` s, a softmax cross-entropy, and an Adam update
written with the module's own slot variables (no Keras anywhere).

Run: ``xlalens dump --frameworks tensorflow --target examples/zoo/tf_module_cnn.py:make_step``.
"""

FRONTENDS = ("tensorflow",)
FACTORY = "make_step"
LIBRARY = None


def make_step():
    """A conv net ``tf.Module``, an Adam step function over (images, labels), and one batch."""
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)

    class Conv(tf.Module):
        def __init__(self, cin, cout, name):
            super().__init__(name=name)
            w = rng.normal(0, (2.0 / (9 * cin)) ** 0.5, (3, 3, cin, cout)).astype("float32")
            self.kernel = tf.Variable(w, name="kernel")
            self.bias = tf.Variable(np.zeros(cout, "float32"), name="bias")

        def __call__(self, x):
            y = tf.nn.relu(tf.nn.conv2d(x, self.kernel, 1, "SAME") + self.bias)
            return tf.nn.max_pool2d(y, 2, 2, "VALID")

    class Net(tf.Module):
        def __init__(self):
            super().__init__(name="net")
            self.conv1 = Conv(3, 8, "conv1")
            self.conv2 = Conv(8, 16, "conv2")
            w = rng.normal(0, 0.05, (16 * 4 * 4, 10)).astype("float32")
            self.head = tf.Variable(w, name="head")

        def __call__(self, x):
            x = self.conv2(self.conv1(x))
            return tf.reshape(x, (x.shape[0], -1)) @ self.head

    class Adam(tf.Module):
        def __init__(self, variables, lr=1e-3, b1=0.9, b2=0.999, eps=1e-7):
            super().__init__(name="adam")
            self.lr, self.b1, self.b2, self.eps = lr, b1, b2, eps
            self.step = tf.Variable(0.0, name="step")
            self.m = [tf.Variable(tf.zeros_like(v), name=f"m_{i}") for i, v in enumerate(variables)]
            self.v = [tf.Variable(tf.zeros_like(v), name=f"v_{i}") for i, v in enumerate(variables)]

        def apply(self, grads, variables):
            self.step.assign_add(1.0)
            c1 = 1.0 - tf.pow(self.b1, self.step)
            c2 = 1.0 - tf.pow(self.b2, self.step)
            for g, var, m, v in zip(grads, variables, self.m, self.v):
                m.assign(self.b1 * m + (1.0 - self.b1) * g)
                v.assign(self.b2 * v + (1.0 - self.b2) * g * g)
                var.assign_sub(self.lr * (m / c1) / (tf.sqrt(v / c2) + self.eps))

    model = Net()
    opt = Adam(model.trainable_variables)

    def step(images, labels):
        with tf.GradientTape() as tape:
            logits = model(images)
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
            )
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply(grads, model.trainable_variables)
        return loss

    images = rng.normal(0, 1, (4, 16, 16, 3)).astype("float32")
    labels = rng.integers(0, 10, (4,)).astype("int32")
    return step, (tf.constant(images), tf.constant(labels))
