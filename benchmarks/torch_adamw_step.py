"""A torch user step for the proof's power checks (issue 21; docs/capture.md): an MLP
trained by ``torch.optim.AdamW``, one step, written by xlalens as torchax's users write it.

The fourth case of the per-result floor, held out while it was built (the others:
``mlp_user_step.py``): 12 features, layers of 48 and 24, SiLU, AdamW with weight
decay (its moments are zero before the step, like Adam's), ``y = cos(x0 + x1 + x2)`` +
noise, 2^20 samples (``TORCH_STEP_N``). Run (about 2 minutes):

    mkdir -p ROOT && xlalens dump --frameworks torchax --force \\
        --target benchmarks/torch_adamw_step.py:make_model -o ROOT/user_1048576
    python benchmarks/bench_dump.py --proof-tightness 2^20 --workload user \\
        --frameworks torchax --reuse ROOT --power
"""

import os

N = int(os.environ.get("TORCH_STEP_N", str(2**20)))


def make_model():
    """``(model, AdamW, mse loss, (x, y))`` on the CPU: the frontend moves them."""
    import torch

    torch.manual_seed(3)
    model = torch.nn.Sequential(
        torch.nn.Linear(12, 48),
        torch.nn.SiLU(),
        torch.nn.Linear(48, 24),
        torch.nn.SiLU(),
        torch.nn.Linear(24, 1),
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    g = torch.Generator().manual_seed(11)
    x = torch.randn(N, 12, generator=g)
    y = torch.cos(x[:, :3].sum(dim=1, keepdim=True)) + 0.1 * torch.randn(N, 1, generator=g)

    def loss_fn(model, batch):
        x, y = batch
        return torch.nn.functional.mse_loss(model(x), y)

    return model, optimizer, loss_fn, (x, y)
