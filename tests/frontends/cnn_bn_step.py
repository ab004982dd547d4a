"""A user step for tests/frontends/test_proof.py: a small Keras CNN with BatchNorm, SGD + momentum.

The CI-sized stand-in for the Keras ResNet50 step (docs/capture.md): convolutions
with biases followed by BatchNorm (whose bias gradients are zero in exact
arithmetic, so float32 gives pure rounding noise there) and momentum state.
"""

import numpy as np


def make_step():
    """The compiled model and one batch (the Keras frontends' --target form)."""
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((16, 16, 3))
    h = keras.layers.Conv2D(8, 3, padding="same")(inputs)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.Activation("relu")(h)
    h = keras.layers.Conv2D(8, 3, strides=2, padding="same")(h)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.Activation("relu")(h)
    h = keras.layers.GlobalAveragePooling2D()(h)
    out = keras.layers.Dense(10, activation="softmax")(h)
    model = keras.Model(inputs, out)
    model.compile(
        optimizer=keras.optimizers.SGD(0.01, momentum=0.9), loss="categorical_crossentropy"
    )
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 16, 16, 3)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[[1, 2, 3, 4]]
    return model, (x, y)
