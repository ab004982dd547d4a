"""Capture the seed's step with the Python API, then your own JAX function.

Run: .venv/bin/python examples/capture_api.py
"""

import tempfile
from pathlib import Path

import xlalens

# 1. One framework, the built-in workload (runs in its own subprocess).
cap = xlalens.capture("torch_xla")
print("torch_xla outputs_match:", cap.outputs_match)
print("updated params:", cap.outputs.params)
print(cap.stablehlo.splitlines()[1][:100], "...")

# 2. Your own step: a file with a function returning (step, args).
user = Path(tempfile.mkdtemp()) / "my_step.py"
user.write_text(
    "import jax.numpy as jnp\n"
    "def make_step():\n"
    "    def step(w, x):\n"
    "        return jnp.tanh(x @ w).sum()\n"
    "    return step, (jnp.ones((8, 4)), jnp.ones((2, 8)))\n"
)
mine = xlalens.capture("jax", target=f"{user}:make_step")
print("user step verified by PJRT replay:", mine.outputs_match)

# 3. Several frameworks into one dump folder, as `xlalens dump` does.
result = xlalens.dump(Path(tempfile.mkdtemp()) / "dump", frameworks=["jax", "tensorflow"])
print(f"wrote {result.path} and {user} (kept; delete them when done)")
for name, entry in result.manifest["frontends"].items():
    print(f"{name:12s} {entry['status']:7s} outputs_match={entry['outputs_match']}")
print("parameters agree:", result.manifest["cross_check"]["params_agree"])
