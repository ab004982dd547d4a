"""A timm Vision Transformer (tiny, 2 blocks), one AdamW training step (random init).

Run: ``xlalens dump --frameworks torch_xla,torchax --target examples/zoo/timm_vit.py:make_model``.
"""

FRONTENDS = ("torch_xla", "torchax")
FACTORY = "make_model"
LIBRARY = "timm"


def make_model():
    """VisionTransformer (patch 8 on 32x32 images, width 64, 2 blocks), AdamW, cross-entropy."""
    import torch
    from timm.models.vision_transformer import VisionTransformer

    torch.manual_seed(0)
    model = VisionTransformer(
        img_size=32, patch_size=8, num_classes=10, embed_dim=64, depth=2, num_heads=4
    ).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    batch = {
        "pixels": torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1)),
        "labels": torch.tensor([1, 4]),
    }

    def loss_fn(model, batch):
        return torch.nn.functional.cross_entropy(model(batch["pixels"]), batch["labels"])

    return model, optimizer, loss_fn, batch
