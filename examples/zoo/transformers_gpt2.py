"""A Hugging Face transformers GPT-2-style decoder, one AdamW training step (random init, no download).

Run: ``xlalens dump --frameworks torch_xla,torchax --target examples/zoo/transformers_gpt2.py:make_model``.
xlalens writes the step: ``loss_fn(model, batch).backward(); optimizer.step()`` on
torch_xla, a jax gradient with the same AdamW update on torchax (docs/zoo.md).
"""

FRONTENDS = ("torch_xla", "torchax")
FACTORY = "make_model"
LIBRARY = "transformers"


def make_model():
    """GPT2LMHeadModel from a 2-layer config, AdamW, a causal-LM loss and a dict batch."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=128,
        n_positions=32,
        n_embd=64,
        n_layer=2,
        n_head=4,
        # Dropout off: the step is deterministic, so torch_xla and torchax can agree.
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        bos_token_id=0,
        eos_token_id=0,
    )
    model = GPT2LMHeadModel(config).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    ids = torch.randint(0, config.vocab_size, (2, 16), generator=torch.Generator().manual_seed(1))
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}

    def loss_fn(model, batch):
        return model(**batch, labels=batch["input_ids"]).loss

    return model, optimizer, loss_fn, batch
