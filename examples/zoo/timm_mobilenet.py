"""A timm MobileNetV3-Small, one SGD-momentum training step (random init).

Held out: a second timm architecture (depthwise convolutions, squeeze-excite,
hard-swish, BatchNorm), added after the capture rules were built on ResNet and ViT.
Run: ``xlalens dump --frameworks torch_xla,torchax --target examples/zoo/timm_mobilenet.py:make_model``.
"""

FRONTENDS = ("torch_xla", "torchax")
FACTORY = "make_model"
LIBRARY = "timm"


def make_model():
    """mobilenetv3_small_050 for 10 classes on 2 images of 32x32, SGD with momentum, cross-entropy."""
    import timm
    import torch

    torch.manual_seed(0)
    model = timm.create_model("mobilenetv3_small_050", pretrained=False, num_classes=10).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    batch = {
        "images": torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1)),
        "labels": torch.tensor([2, 5]),
    }

    def loss_fn(model, batch):
        return torch.nn.functional.cross_entropy(model(batch["images"]), batch["labels"])

    return model, optimizer, loss_fn, batch
