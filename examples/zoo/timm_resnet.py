"""A timm ResNet-18 (with its stem max pool), one SGD-momentum training step (random init).

Run: ``xlalens dump --frameworks torch_xla,torchax --target examples/zoo/timm_resnet.py:make_model``.
torchax 0.0.13 cannot differentiate ``max_pool2d``: its capture exits 2 with one
line naming the op and the fix (docs/zoo.md); torch_xla captures it.
"""

FRONTENDS = ("torch_xla", "torchax")
FACTORY = "make_model"
LIBRARY = "timm"


def make_model():
    """resnet18 for 10 classes on 2 images of 32x32, SGD with momentum, cross-entropy."""
    import timm
    import torch

    torch.manual_seed(0)
    model = timm.create_model("resnet18", pretrained=False, num_classes=10).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    images = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    labels = torch.tensor([3, 7])

    def loss_fn(model, batch):
        images, labels = batch
        return torch.nn.functional.cross_entropy(model(images), labels)

    return model, optimizer, loss_fn, (images, labels)
