"""A Hugging Face transformers BERT-style encoder for sequence classification, one SGD step.

Run: ``xlalens dump --frameworks torch_xla,torchax --target examples/zoo/transformers_bert.py:make_model``.
"""

FRONTENDS = ("torch_xla", "torchax")
FACTORY = "make_model"
LIBRARY = "transformers"


def make_model():
    """BertForSequenceClassification from a 2-layer config, SGD, and a dict batch."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=128,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=128,
        max_position_embeddings=32,
        num_labels=3,
        # Dropout off: the step is deterministic, so torch_xla and torchax can agree.
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    model = BertForSequenceClassification(config).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    gen = torch.Generator().manual_seed(1)
    ids = torch.randint(0, config.vocab_size, (2, 16), generator=gen)
    batch = {
        "input_ids": ids,
        "attention_mask": torch.ones_like(ids),
        "token_type_ids": torch.zeros_like(ids),
        "labels": torch.tensor([0, 2]),
    }

    def loss_fn(model, batch):
        return model(**batch).loss

    return model, optimizer, loss_fn, batch
