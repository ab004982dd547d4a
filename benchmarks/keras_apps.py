"""Real Keras application models for ``bench_diff_quality.py`` (captured with ``--target``).

``keras.applications.MobileNetV2`` (depthwise and 1x1 convolutions, BatchNorm,
ReLU6; TensorFlow rewrites its 1x1 convolutions as dots) and, as the second case
of the same kind, ``keras.applications.MobileNetV3Small``: weights=None, 64x64
images, batch 2, SGD with momentum. Run:
``xlalens dump --frameworks keras-jax,keras-tensorflow --target benchmarks/keras_apps.py:mobilenet_v2 -o DIR``.
"""

from __future__ import annotations


def _step(model):
    import keras
    import numpy as np

    rng = np.random.default_rng(0)
    # Same weights on both backends: Keras's seeded initializers draw differently.
    for v in model.weights:
        if len(v.shape) >= 2:
            v.assign(rng.normal(0.0, 0.05, v.shape).astype(v.dtype))
    model.compile(
        optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    x = rng.normal(size=(2, 64, 64, 3)).astype("float32")
    y = rng.integers(0, 10, (2,)).astype("int32")
    return model, (x, y)


def mobilenet_v2():
    """``(compiled MobileNetV2, (x, y))``: 64x64x3 images, 10 classes, no weights."""
    import keras

    keras.utils.set_random_seed(0)
    return _step(
        keras.applications.MobileNetV2(
            input_shape=(64, 64, 3), weights=None, classes=10, classifier_activation=None
        )
    )


def mobilenet_v3_small():
    """``(compiled MobileNetV3Small, (x, y))``: 64x64x3 images, 10 classes, no weights."""
    import keras

    keras.utils.set_random_seed(0)
    return _step(
        keras.applications.MobileNetV3Small(
            input_shape=(64, 64, 3),
            weights=None,
            classes=10,
            classifier_activation=None,
            include_preprocessing=False,
        )
    )
