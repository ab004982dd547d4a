"""A user step for tests/frontends/test_proof.py: MobileNetV2-like blocks in Keras.

Inverted residual blocks (1x1 expand, 3x3 depthwise, 1x1 project) with
BatchNorm and ReLU6, SGD with momentum, 32x32 images, batch 2: the CI-sized
stand-in for the Keras MobileNetV2 step that gave a false NO (issue 21).
"""

import numpy as np


def make_step():
    """The compiled model and one batch (the Keras frontends' --target form)."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)

    def block(h, expand, out, stride):
        c = h.shape[-1]
        y = layers.Conv2D(c * expand, 1, use_bias=False)(h)
        y = layers.BatchNormalization()(y)
        y = layers.ReLU(6.0)(y)
        y = layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False)(y)
        y = layers.BatchNormalization()(y)
        y = layers.ReLU(6.0)(y)
        y = layers.Conv2D(out, 1, use_bias=False)(y)
        y = layers.BatchNormalization()(y)
        return layers.Add()([h, y]) if stride == 1 and c == out else y

    inputs = keras.Input((32, 32, 3))
    h = layers.Conv2D(8, 3, strides=2, padding="same", use_bias=False)(inputs)
    h = layers.BatchNormalization()(h)
    h = layers.ReLU(6.0)(h)
    h = block(h, 1, 8, 1)
    h = block(h, 6, 12, 2)
    h = block(h, 6, 12, 1)
    h = layers.GlobalAveragePooling2D()(h)
    out = layers.Dense(5, activation="softmax")(h)
    model = keras.Model(inputs, out)
    model.compile(
        optimizer=keras.optimizers.SGD(0.01, momentum=0.9), loss="categorical_crossentropy"
    )
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 32, 32, 3)).astype(np.float32)
    y = np.eye(5, dtype=np.float32)[[1, 3]]
    return model, (x, y)
