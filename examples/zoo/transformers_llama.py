"""A Hugging Face transformers Llama-style decoder, one Adam training step (random init, no download).

Held out: a second transformers architecture (RMSNorm, rotary attention with grouped
key/value heads, SwiGLU MLP), added after the capture rules were built on GPT-2 and BERT.
Run: ``xlalens dump --frameworks torch_xla,torchax --target examples/zoo/transformers_llama.py:make_model``.
"""

FRONTENDS = ("torch_xla", "torchax")
FACTORY = "make_model"
LIBRARY = "transformers"


def make_model():
    """LlamaForCausalLM from a 2-layer config (4 heads, 2 key/value heads), Adam, causal-LM loss."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=128,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=32,
        attention_dropout=0.0,
        bos_token_id=0,
        eos_token_id=0,
        pad_token_id=0,
    )
    # The eager attention (no SDPA kernel choice): the same ops on every frontend.
    config._attn_implementation = "eager"
    model = LlamaForCausalLM(config).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    ids = torch.randint(0, config.vocab_size, (2, 16), generator=torch.Generator().manual_seed(1))
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}

    def loss_fn(model, batch):
        return model(**batch, labels=batch["input_ids"]).loss

    return model, optimizer, loss_fn, batch
