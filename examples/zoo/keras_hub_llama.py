"""A keras-hub Llama causal LM (held out: rotary positions, RMSNorm, grouped-query attention).

Run: ``xlalens dump --frameworks keras-tensorflow,keras-jax --target examples/zoo/keras_hub_llama.py:make_step``.
A second keras-hub task model beside GPT-2, written after the zoo was built (issue 20):
its attention shares two key/value heads between four query heads, and its
positions are rotary, not learned. Built from a small config: no preset, no download.
"""

FRONTENDS = ("keras-tensorflow", "keras-jax")
FACTORY = "make_step"
LIBRARY = "keras_hub"


def make_step():
    """LlamaCausalLM over a 2-layer LlamaBackbone; x is keras-hub's input dict, y the next tokens."""
    import keras
    import keras_hub
    import numpy as np

    keras.utils.set_random_seed(0)
    backbone = keras_hub.models.LlamaBackbone(
        vocabulary_size=128,
        num_layers=2,
        num_query_heads=4,
        num_key_value_heads=2,
        hidden_dim=32,
        intermediate_dim=64,
        dropout=0.0,
    )
    model = keras_hub.models.LlamaCausalLM(backbone=backbone, preprocessor=None)
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
