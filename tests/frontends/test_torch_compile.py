"""The torch_compile frontend through the CLI: capture, proof, graph breaks, diff, user steps."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import xlalens

REPO = Path(__file__).resolve().parents[2]
STEPS = f"{REPO}/tests/frontends/user_steps.py"


def _xlalens(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "xlalens", *args], capture_output=True, text=True, cwd=cwd
    )


@pytest.fixture(scope="module")
def compile_dump(tmp_path_factory):
    """`xlalens dump --frameworks torch_compile,torch_xla --workload mlp` (small)."""
    out = tmp_path_factory.mktemp("tc") / "dump"
    r = _xlalens(
        "dump", "--frameworks", "torch_compile,torch_xla", "--workload", "mlp",
        "--depth", "2", "--width", "8", "--size", "8", "-o", str(out),
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    return out


def test_captured_whole_and_proven(compile_dump):
    """The step is one dynamo graph (no breaks), proven against the float64 reference."""
    entry = json.loads((compile_dump / "manifest.json").read_text())["frontends"]["torch_compile"]
    assert entry["status"] == "ok" and entry["outputs_match"] is True, entry.get("reason")
    assert entry["dynamo"]["captured"] == {"graphs": 1, "graph_breaks": 0, "breaks": []}
    assert entry["optimized_hlo_source"] == "framework"  # XLA's own dump of the compile
    roles = [i["role"] for i in entry["signature"]["inputs"]]
    assert {"w0", "b0", "w1", "b1", "x", "y"} <= set(roles)
    assert {"loss", "w0", "b0"} <= {o["role"] for o in entry["signature"]["outputs"]}


def test_idiomatic_step_breaks_at_backward(compile_dump):
    """The usual zero_grad/backward/step is measured as several graphs, broken at backward()."""
    idiom = json.loads((compile_dump / "manifest.json").read_text())["frontends"]["torch_compile"][
        "dynamo"
    ]["idiomatic"]
    assert idiom["graphs"] >= 2 and idiom["graph_breaks"] >= 1
    assert any("backward" in b["reason"] for b in idiom["breaks"]), idiom["breaks"]
    assert any(b["code"] == "loss.backward()" for b in idiom["breaks"]), idiom["breaks"]


def test_agrees_with_lazy_tensor_and_diffs(compile_dump):
    """Same results as torch_xla within bounds; the two graphs diff through the public API."""
    manifest = json.loads((compile_dump / "manifest.json").read_text())
    cross = manifest["cross_check"]
    assert set(cross["compared"]) == {"torch_compile", "torch_xla"}, cross
    assert cross["params_agree"] is True, cross
    d = xlalens.diff(
        f"{compile_dump}:torch_compile:stablehlo", f"{compile_dump}:torch_xla:stablehlo"
    )
    dots = [p for p in d.pairs if "dot" in str(d.a.nodes[p.a].get("opcode", ""))]
    assert len(dots) >= 4, d.summary  # forward and backward matmuls of both layers pair


def test_user_step_and_graph_break_named(tmp_path):
    """A torch-family user step captures; one with a data-dependent branch fails naming its line."""
    ok = tmp_path / "ok"
    r = _xlalens(
        "dump", "--frameworks", "torch_compile", "--target",
        f"{STEPS}:make_torch_xla_step", "-o", str(ok),
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    entry = json.loads((ok / "manifest.json").read_text())["frontends"]["torch_compile"]
    assert entry["status"] == "ok" and entry["outputs_match"] is True
    bad = tmp_path / "bad"
    r = _xlalens(
        "dump", "--frameworks", "torch_compile", "--target",
        f"{STEPS}:make_torch_branchy_step", "-o", str(bad),
    )  # fmt: skip
    assert r.returncode != 0
    text = r.stdout + r.stderr
    assert "cannot take the step as one graph at" in text and "user_steps.py:" in text, text


# A tiny model and its whole step as torch.compile takes it (torch.func's gradient).
LOCATED_STEP = """\
import torch


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.up = torch.nn.Linear(4, 8)
        self.down = torch.nn.Linear(8, 1)

    def forward(self, x):
        h = torch.nn.functional.gelu(self.up(x))  # GELU_LINE
        return self.down(h)


def make_step(device):
    from torch.func import functional_call, grad_and_value

    torch.manual_seed(0)
    model = Block().to(device)
    params = {k: v.detach() for k, v in model.named_parameters()}
    x, y = torch.randn(6, 4).to(device), torch.randn(6, 1).to(device)

    def loss_fn(p, x, y):
        return torch.nn.functional.mse_loss(functional_call(model, p, (x,)), y)  # LOSS_LINE

    def step(params, x, y):
        grads, loss = grad_and_value(loss_fn)(params, x, y)
        return loss, *[params[k] - 0.1 * grads[k] for k in params]

    return step, (params, x, y), params
"""


@pytest.mark.slow
def test_ops_at_model_lines_and_backward_at_forward_line(tmp_path):
    """Under torch.compile, GELU's backward reads the forward GELU's line, and every op a model line."""
    (tmp_path / "tiny_step.py").write_text(LOCATED_STEP)
    out = tmp_path / "dump"
    r = _xlalens(
        "dump", "--frameworks", "torch_compile", "--target",
        f"{tmp_path / 'tiny_step.py'}:make_step", "-o", str(out),
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    model_file = str(tmp_path / "tiny_step.py")
    line = {
        m: next(i for i, t in enumerate(LOCATED_STEP.splitlines(), 1) if m in t)
        for m in ("GELU_LINE", "LOSS_LINE")
    }
    for stage in ("optimized_hlo.txt", "stablehlo.mlir"):
        graph = xlalens.load(out / "torch_compile" / stage)
        ops = [
            d for _, d in graph.nodes(data=True) if (d.get("op_name") or "").startswith("aten__")
        ]
        by_op = {}
        for d in ops:
            by_op.setdefault(d["op_name"], set()).add((d.get("source_file"), d.get("source_line")))
        assert by_op.get("aten__gelu_backward") == {(model_file, line["GELU_LINE"])}, by_op
        assert by_op.get("aten__mse_loss_backward") == {(model_file, line["LOSS_LINE"])}, by_op
        located = [d for d in ops if d.get("source_file")]
        assert located and all(d["source_file"] == model_file for d in located), by_op
