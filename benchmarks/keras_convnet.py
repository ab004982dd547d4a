"""A small user Keras conv net for ``bench_diff_quality.py`` (captured with ``--target``).

Two conv blocks (conv, batch norm, ReLU, pooling), a dense head, cross-entropy and
SGD with momentum: enough layers for the labelled pairing of convolutions and
dots across keras-jax and keras-tensorflow. Run:
``xlalens dump --frameworks keras-jax --target benchmarks/keras_convnet.py:make_step -o DIR``.
"""

from __future__ import annotations

import numpy as np


def make_step():
    """``(compiled_model, (x, y))`` for the Keras frontends (docs/capture.md)."""
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((16, 16, 3)),
            keras.layers.Conv2D(8, 3, padding="same", use_bias=False),
            keras.layers.BatchNormalization(),
            keras.layers.ReLU(),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(16, 3, padding="same", use_bias=False),
            keras.layers.BatchNormalization(),
            keras.layers.ReLU(),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(16, 3, padding="same"),
            keras.layers.ReLU(),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 16, 16, 3)).astype("float32")
    y = rng.integers(0, 10, (4,)).astype("int32")
    return model, (x, y)
