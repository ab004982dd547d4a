"""A keras-hub BERT text classifier (task model, dict inputs), its compiled train step.

Run: ``xlalens dump --frameworks keras-tensorflow,keras-jax --target examples/zoo/keras_hub_bert.py:make_step``.
Built from a small config: no preset, no download, no preprocessor.
"""

FRONTENDS = ("keras-tensorflow", "keras-jax")
FACTORY = "make_step"
LIBRARY = "keras_hub"


def make_step():
    """BertTextClassifier over a 2-layer BertBackbone; x is keras-hub's input dict."""
    import keras
    import keras_hub
    import numpy as np

    keras.utils.set_random_seed(0)
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=128,
        num_layers=2,
        num_heads=2,
        hidden_dim=32,
        intermediate_dim=64,
        max_sequence_length=16,
        dropout=0.0,
    )
    model = keras_hub.models.BertTextClassifier(
        backbone=backbone, num_classes=3, preprocessor=None, dropout=0.0
    )
    same_init(model)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    rng = np.random.default_rng(1)
    x = {
        "token_ids": rng.integers(0, 128, (2, 16)).astype("int32"),
        "segment_ids": np.zeros((2, 16), "int32"),
        "padding_mask": np.ones((2, 16), "int32"),
    }
    return model, (x, np.array([0, 2], "int32"))


def same_init(model, seed=0):
    """Matrices from numpy's RNG: Keras's seeded initializers draw differently on
    TensorFlow and JAX, and the two backends' updated weights are compared."""
    import numpy as np

    rng = np.random.default_rng(seed)
    for v in model.weights:
        if len(v.shape) >= 2:
            v.assign(rng.normal(0.0, 0.05, v.shape).astype(v.dtype))
