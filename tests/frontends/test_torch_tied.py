"""Tied weights stay one parameter when torch_xla moves a user's model to its device."""

import importlib.util
import json
import subprocess
import sys

import pytest

# An embedding whose matrix is also the output projection (GPT-2's lm_head), so the
# gradient reaches it along two paths.
MODEL = """\
import torch


class Tied(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(8, 4)
        self.head = torch.nn.Linear(4, 8, bias=False)
        self.head.weight = self.emb.weight

    def forward(self, ids):
        return self.head(self.emb(ids))


def make_model():
    torch.manual_seed(0)
    model = Tied()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    ids = torch.tensor([[1, 2, 3, 4], [5, 6, 7, 0]])

    def loss_fn(model, ids):
        return torch.nn.functional.cross_entropy(model(ids).reshape(-1, 8), ids.reshape(-1))

    return model, optimizer, loss_fn, ids
"""


@pytest.mark.slow
def test_tied_weight_is_one_input_and_agrees_with_torchax(tmp_path):
    """torch_xla keeps a tied embedding/head as one input, and its update agrees with torchax's."""
    for mod in ("torch_xla", "torchax"):
        if importlib.util.find_spec(mod) is None:
            pytest.skip(f"{mod} is not installed (pip install 'xlalens[torch]')")
    (tmp_path / "tied.py").write_text(MODEL)
    out = tmp_path / "dump"
    proc = subprocess.run(
        [sys.executable, "-m", "xlalens", "dump", "--frameworks", "torch_xla,torchax",
         "--target", f"{tmp_path / 'tied.py'}:make_model", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    roles = [s["role"] for s in manifest["frontends"]["torch_xla"]["signature"]["inputs"]]
    assert roles.count("emb.weight") == 1 and "head.weight" not in roles, roles
    cc = manifest["cross_check"]
    assert sorted(cc["compared"]) == ["torch_xla", "torchax"], cc
    # Untied, torch_xla's embedding misses the head's gradient: far outside the bounds.
    assert cc["params_agree"] is True, cc["disagreements"]
