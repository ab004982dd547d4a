"""A keras-hub GPT-2 causal LM (task model, dict inputs, causal mask), its compiled train step.

Run: ``xlalens dump --frameworks keras-tensorflow,keras-jax --target examples/zoo/keras_hub_gpt2.py:make_step``.
Its causal mask is a boolean constant, which TensorFlow writes bit-packed (docs/zoo.md).
"""

FRONTENDS = ("keras-tensorflow", "keras-jax")
FACTORY = "make_step"
LIBRARY = "keras_hub"


def make_step():
    """GPT2CausalLM over a 2-layer GPT2Backbone; x is keras-hub's input dict, y the next tokens."""
    import keras
    import keras_hub
    import numpy as np

    keras.utils.set_random_seed(0)
    backbone = keras_hub.models.GPT2Backbone(
        vocabulary_size=128,
        num_layers=2,
        num_heads=2,
        hidden_dim=32,
        intermediate_dim=64,
        max_sequence_length=16,
        dropout=0.0,
    )
    model = keras_hub.models.GPT2CausalLM(backbone=backbone, preprocessor=None)
    same_init(model)
    model.compile(
        optimizer=keras.optimizers.AdamW(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    tokens = np.random.default_rng(1).integers(0, 128, (2, 17)).astype("int32")
    x = {"token_ids": tokens[:, :-1], "padding_mask": np.ones((2, 16), "int32")}
    return model, (x, tokens[:, 1:])


def same_init(model, seed=0):
    """Matrices from numpy's RNG: Keras's seeded initializers draw differently on
    TensorFlow and JAX, and the two backends' updated weights are compared."""
    import numpy as np

    rng = np.random.default_rng(seed)
    for v in model.weights:
        if len(v.shape) >= 2:
            v.assign(rng.normal(0.0, 0.05, v.shape).astype(v.dtype))
