"""A user step for benchmarks/bench_dump.py: Keras ResNet50(weights=None), 64x64, batch 4, SGD+momentum."""

import numpy as np


def make_step():
    """The compiled model and one batch, as ``--target`` expects for the Keras frontends."""
    import keras

    keras.utils.set_random_seed(0)
    model = keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3), classes=10)
    model.compile(
        optimizer=keras.optimizers.SGD(0.01, momentum=0.9), loss="categorical_crossentropy"
    )
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 64, 64, 3)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[[1, 2, 3, 4]]
    return model, (x, y)
