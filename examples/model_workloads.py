"""The cnn and transformer workloads across frameworks, and one user model on two backends.

Captures a small cnn in jax and torch_xla and a small transformer in jax and
keras-jax, prints whether the updated parameters agree, a few roles, and then
runs one Keras user model through both Keras backends in one dump.

Run: .venv/bin/python examples/model_workloads.py   (a few minutes on 2 cores)
"""

import tempfile
from pathlib import Path

import xlalens

tmp = Path(tempfile.mkdtemp())
print(f"writing the dumps under {tmp} (about 60 MB, kept; delete it when done)")

# 1. Built-in model workloads: one numpy initial state, the same update everywhere.
for name, frameworks, settings in (
    ("cnn", ["jax", "torch_xla"], {"depth": 1, "width": 8, "features": 3, "image": 8}),
    ("transformer", ["jax", "keras-jax"], {"depth": 1, "width": 16, "heads": 2, "seq": 8}),
):
    workload = xlalens.Workload(name, **settings)
    result = xlalens.dump(tmp / name, frameworks=frameworks, workload=workload)
    cc = result.manifest["cross_check"]
    print(result.manifest["workload"]["description"])
    print(f"  agree: {cc['params_agree']} (max |diff| {cc['max_abs_diff']:.1e})")
    for fe in frameworks:
        sig = result.manifest["frontends"][fe]["signature"]
        print(f"  {fe:10s} input roles: {[i['role'] for i in sig['inputs']][:4]} ...")

# 2. A user's Keras model on both Keras backends, in one dump (then diff them).
user = tmp / "my_model.py"
user.write_text(
    "import keras, numpy as np\n"
    "def make_model():\n"
    "    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation='relu'),"
    " keras.layers.Dense(1)])\n"
    "    model.compile(optimizer='adam', loss='mse')\n"
    "    x = np.linspace(0, 1, 32, dtype=np.float32).reshape(8, 4)\n"
    "    return model, (x, x.sum(axis=1, keepdims=True))\n"
)
both = xlalens.dump(
    tmp / "keras", frameworks=["keras-tensorflow", "keras-jax"], target=f"{user}:make_model"
)
for fe, entry in both.manifest["frontends"].items():
    print(f"{fe:17s} {entry['status']} outputs_match={entry['outputs_match']}")
d = xlalens.diff(
    xlalens.load(f"{both.path}:keras-tensorflow", level="canonical"),
    xlalens.load(f"{both.path}:keras-jax", level="canonical"),
)
print(d.to_text().splitlines()[0])
