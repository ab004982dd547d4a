"""torch_xla's backward ops at their forward line, the whole stack kept, and `time` on an Adam step."""

import importlib.util
import json
import subprocess
import sys

import pytest

# A tiny model target: a GELU (whose backward is its own aten op) and a LayerNorm,
# then BatchNorm after a biased linear (the bias's exact gradient is 0: the first Adam
# step of it is rounding noise, an ill-conditioned result), trained with Adam.
MODEL = """\
import torch


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.up = torch.nn.Linear(4, 8)
        self.norm = torch.nn.LayerNorm(8)
        self.mid = torch.nn.Linear(8, 8)
        self.bn = torch.nn.BatchNorm1d(8)
        self.down = torch.nn.Linear(8, 1)

    def forward(self, x):
        h = torch.nn.functional.gelu(self.up(x))  # GELU_LINE
        h = self.norm(h)
        h = self.bn(self.mid(h))
        return self.down(h)


def make_model():
    torch.manual_seed(0)
    model = Block().train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    batch = {"x": torch.randn(6, 4), "y": torch.randn(6, 1)}

    def loss_fn(model, batch):
        return torch.nn.functional.mse_loss(model(batch["x"]), batch["y"])  # LOSS_LINE

    return model, optimizer, loss_fn, batch
"""


def _line(marker: str) -> int:
    return next(i for i, text in enumerate(MODEL.splitlines(), 1) if marker in text)


@pytest.fixture(scope="module")
def tiny_dump(tmp_path_factory):
    """The tiny model target captured on torch_xla through the CLI."""
    if importlib.util.find_spec("torch_xla") is None:
        pytest.skip("torch_xla is not installed (pip install 'xlalens[torch]')")
    root = tmp_path_factory.mktemp("torch_loc")
    (root / "tiny_block.py").write_text(MODEL)
    out = root / "dump"
    target = f"{root / 'tiny_block.py'}:make_model"
    cli = [sys.executable, "-m", "xlalens", "dump", "--frameworks", "torch_xla"]
    proc = subprocess.run(
        [*cli, "--target", target, "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root, out


@pytest.mark.slow
def test_backward_ops_take_their_forward_ops_line_and_keep_the_stack(tiny_dump):
    """GELU's backward op reads the forward GELU's line, and the stack above it (loss_fn) is kept."""
    import xlalens
    from xlalens.ir import node
    from xlalens.ir._locations import source_stack

    root, out = tiny_dump
    graph = xlalens.load(out / "torch_xla" / "optimized_hlo.txt")
    model_file = str(root / "tiny_block.py")
    backward = [
        nid
        for nid, d in graph.nodes(data=True)
        if (d.get("op_name") or "").endswith("gelu_backward")
    ]
    assert backward, "no gelu_backward op in the optimized module"
    for nid in backward:
        d = graph.nodes[nid]
        assert (d["source_file"], d["source_line"]) == (model_file, _line("GELU_LINE")), d
        stack = source_stack(graph, nid)
        assert node(graph, nid).stack == tuple(stack)  # the typed view carries it too
        assert stack[0][:2] == (model_file, _line("GELU_LINE")), stack
        assert (model_file, _line("LOSS_LINE")) in [f[:2] for f in stack], stack
    # Every op of the step's kernels is located now (a reducer's parameters carry a
    # name and no frame in XLA's conversion, backward or not: left out).
    kernels = [
        d
        for _, d in graph.nodes(data=True)
        if (d.get("op_name") or "").startswith("aten__") and d["opcode"] != "parameter"
    ]
    assert kernels and all(d.get("source_file") for d in kernels)


@pytest.mark.slow
def test_time_accepts_a_torch_xla_adam_capture(tiny_dump):
    """`xlalens time` judges the replay by the proof's rule (its allowances): the Adam step is timed."""
    _, out = tiny_dump
    proc = subprocess.run(
        [sys.executable, "-m", "xlalens", "time", str(out), "--no-native", "--repeat", "3"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads((out / "timing" / "cpu.json").read_text())["frontends"]["torch_xla"]
    assert result["status"] == "ok", result
