"""torchax model targets update BatchNorm's running statistics as torch does."""

import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest

# BatchNorm first, on the batch itself: its running statistics after one step follow
# from the batch alone (torch: momentum 0.1, the unbiased variance).
MODEL = """\
import torch


def make_model():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.BatchNorm1d(3), torch.nn.Linear(3, 1)).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    batch = (torch.randn(5, 3, generator=torch.Generator().manual_seed(1)), torch.randn(5, 1))

    def loss_fn(model, batch):
        x, y = batch
        return torch.nn.functional.mse_loss(model(x), y)

    return model, optimizer, loss_fn, batch
"""


@pytest.mark.slow
def test_torchax_step_updates_running_statistics_like_torch(tmp_path):
    """A BatchNorm's running mean and (unbiased) variance move on torchax, as in torch eager."""
    if importlib.util.find_spec("torchax") is None:
        pytest.skip("torchax is not installed (pip install 'xlalens[torch]')")
    (tmp_path / "bn_first.py").write_text(MODEL)
    out = tmp_path / "dump"
    cli = [sys.executable, "-m", "xlalens", "dump", "--frameworks", "torchax"]
    proc = subprocess.run(
        [*cli, "--target", f"{tmp_path / 'bn_first.py'}:make_model", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    entry = json.loads((out / "manifest.json").read_text())["frontends"]["torchax"]
    ins = [s["role"] for s in entry["signature"]["inputs"]]
    outs = [s["role"] for s in entry["signature"]["outputs"]]
    with np.load(out / "torchax" / "inputs.npz") as npz:
        x = npz[f"arg{ins.index('batch[0]')}"].astype(np.float64)
    with np.load(out / "torchax" / "outputs.npz") as npz:
        mean = npz[f"result{outs.index('0.running_mean')}"]
        var = npz[f"result{outs.index('0.running_var')}"]
    np.testing.assert_allclose(mean, 0.1 * x.mean(0), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(var, 0.9 + 0.1 * x.var(0, ddof=1), rtol=1e-5)
