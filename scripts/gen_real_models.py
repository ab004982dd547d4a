"""Generate the real HLO modules under ``tests/core/data/real/`` with the real frameworks.

Each module is made by its own framework in its own subprocess (frameworks clash
in one process and Keras picks its backend per process), then compressed with xz
and described in ``tests/core/data/real/manifest.json`` and ``README.md``
(framework versions, instruction counts as XLA's own parser counts them).

Usage::

    python scripts/gen_real_models.py              # every module
    python scripts/gen_real_models.py --only keras_jax_resnet50
    python scripts/gen_real_models.py --list

The modules (see ``MODELS``):

- ``keras_jax_resnet50``: ``keras.applications.ResNet50(weights=None)``, 64x64x3
  inputs, batch 4, SGD with momentum, ``jax.jit(model.train_step).lower(state, (x, y))``;
  pre-optimization HLO and XLA:CPU optimized HLO.
- ``keras_tf_mobilenetv2``: ``keras.applications.MobileNetV2(weights=None)`` on the
  TensorFlow backend, ``tf.function(model.train_step, jit_compile=True)``;
  ``experimental_get_compiler_ir`` stages ``hlo`` and ``optimized_hlo``.
- ``torch_xla_transformer``: ``nn.TransformerEncoder`` + ``AdamW`` on the XLA device;
  pre-optimization HLO from ``_get_xla_tensors_hlo``, optimized HLO by compiling
  the captured StableHLO through jaxlib's PJRT CPU client.
- ``jax_sharded_mlp``: a ``NamedSharding`` MLP step over 8 forced host devices
  (mesh 4x2); its optimized HLO carries collectives and ``replica_groups=mesh[...]``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import lzma
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "core" / "data" / "real"

#: name -> (description, extra environment of its worker)
MODELS: dict[str, tuple[str, dict[str, str]]] = {
    "keras_jax_resnet50": (
        "Keras 3 ResNet50 (weights=None, 64x64x3, batch 4, SGD momentum 0.9) train step "
        "on the JAX backend: jax.jit(model.train_step).lower(state, (x, y))",
        {"KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"},
    ),
    "keras_tf_mobilenetv2": (
        "Keras 3 MobileNetV2 (weights=None, 64x64x3, batch 4, SGD momentum 0.9) train step "
        "on the TensorFlow backend: tf.function(model.train_step, jit_compile=True)"
        ".experimental_get_compiler_ir((x, y))(stage=hlo|optimized_hlo)",
        {"KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3", "JAX_PLATFORMS": "cpu"},
    ),
    "torch_xla_transformer": (
        "torch_xla nn.TransformerEncoder (d_model 128, 4 heads, 2 layers, ff 256, "
        "seq 32, batch 4) + AdamW step: pre-opt HLO from _get_xla_tensors_hlo, optimized "
        "HLO from its StableHLO compiled by jaxlib's PJRT CPU client",
        {"PJRT_DEVICE": "CPU", "JAX_PLATFORMS": "cpu", "TF_CPP_MIN_LOG_LEVEL": "3"},
    ),
    "jax_sharded_mlp": (
        "jax NamedSharding MLP (3 layers, 512 wide, batch 64) SGD step over 8 forced host "
        "devices, mesh 4x2 ('data', 'model')",
        {
            "JAX_PLATFORMS": "cpu",
            "XLA_FLAGS": "--xla_force_host_platform_device_count=8",
        },
    ),
}


def _versions(*names: str) -> dict[str, str]:
    from importlib import metadata

    out = {}
    for n in names:
        try:
            out[n] = metadata.version(n)
        except metadata.PackageNotFoundError:
            pass
    return out


def _keras_jax(out: Path) -> dict[str, str]:
    import jax
    import keras
    import numpy as np

    model = keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3), classes=10)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9),
        loss="sparse_categorical_crossentropy",
    )
    model.optimizer.build(model.trainable_variables)
    rng = np.random.default_rng(0)
    x = jax.numpy.asarray(rng.standard_normal((4, 64, 64, 3), dtype=np.float32))
    y = jax.numpy.asarray(rng.integers(0, 10, size=(4,)).astype(np.int32))
    state = tuple(
        [v.value for v in g]
        for g in (
            model.trainable_variables,
            model.non_trainable_variables,
            model.optimizer.variables,
            model.metrics_variables,
        )
    )
    lowered = jax.jit(model.train_step).lower(state, (x, y))
    (out / "hlo.txt").write_text(lowered.as_text(dialect="hlo"))
    (out / "optimized_hlo.txt").write_text(lowered.compile().as_text())
    return _versions("keras", "jax", "jaxlib")


def _keras_tf(out: Path) -> dict[str, str]:
    import keras
    import numpy as np
    import tensorflow as tf

    model = keras.applications.MobileNetV2(weights=None, input_shape=(64, 64, 3), classes=10)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9),
        loss="sparse_categorical_crossentropy",
    )
    model.optimizer.build(model.trainable_variables)
    rng = np.random.default_rng(0)
    x = tf.constant(rng.standard_normal((4, 64, 64, 3), dtype=np.float32))
    y = tf.constant(rng.integers(0, 10, size=(4,)).astype(np.int32))
    step = tf.function(model.train_step, jit_compile=True)
    ir = step.experimental_get_compiler_ir((x, y))
    (out / "hlo.txt").write_text(ir(stage="hlo"))
    (out / "optimized_hlo.txt").write_text(ir(stage="optimized_hlo"))
    return _versions("keras", "tensorflow")


def _torch_xla(out: Path) -> dict[str, str]:
    import torch
    import torch.nn as nn
    import torch_xla

    torch.manual_seed(0)
    device = torch_xla.device()
    layer = nn.TransformerEncoderLayer(
        d_model=128, nhead=4, dim_feedforward=256, dropout=0.0, batch_first=True
    )
    model = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.randn(4, 32, 128).to(device)
    y = torch.randn(4, 32, 128).to(device)
    torch_xla.sync()
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward()
    opt.step()
    tensors = [loss] + [p for p in model.parameters()]
    tensors += [s for st in opt.state.values() for s in st.values() if isinstance(s, torch.Tensor)]
    (out / "hlo.txt").write_text(torch_xla._XLAC._get_xla_tensors_hlo(tensors))
    (out / "stablehlo.mlirbc").write_bytes(torch_xla._XLAC._get_stablehlo(tensors, "", [], False))
    torch_xla.sync()
    return _versions("torch", "torch_xla")


def _compile_stablehlo(out: Path) -> None:
    """Optimized HLO of torch_xla's StableHLO, through jaxlib's PJRT CPU client."""
    import jax.extend.backend
    from jax._src.lib import xla_client

    be = jax.extend.backend.get_backend("cpu")
    exe = be.compile_and_load(
        (out / "stablehlo.mlirbc").read_bytes(),
        [be.local_devices()[0]],
        xla_client.CompileOptions(),
    )
    (out / "optimized_hlo.txt").write_text("\n\n".join(m.to_string() for m in exe.hlo_modules()))


def _jax_sharded(out: Path) -> dict[str, str]:
    import jax
    import jax.numpy as jnp
    import numpy as np
    from jax.sharding import Mesh, NamedSharding
    from jax.sharding import PartitionSpec as P

    devices = np.array(jax.devices()[:8]).reshape(4, 2)
    mesh = Mesh(devices, ("data", "model"))
    rng = np.random.default_rng(0)
    sizes = [512, 512, 512, 16]
    params = []
    for a, b in itertools.pairwise(sizes):
        w = jax.device_put(
            rng.standard_normal((a, b), dtype=np.float32) * 0.02,
            NamedSharding(mesh, P(None, "model")),
        )
        bias = jax.device_put(np.zeros((b,), np.float32), NamedSharding(mesh, P("model")))
        params.append((w, bias))
    x = jax.device_put(
        rng.standard_normal((64, 512), dtype=np.float32), NamedSharding(mesh, P("data", None))
    )
    y = jax.device_put(
        rng.standard_normal((64, 16), dtype=np.float32), NamedSharding(mesh, P("data", None))
    )

    def loss_fn(params, x, y):
        h = x
        for i, (w, b) in enumerate(params):
            h = h @ w + b
            if i < len(params) - 1:
                h = jax.nn.gelu(h)
        return jnp.mean((h - y) ** 2)

    def step(params, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        return loss, jax.tree.map(lambda p, g: p - 0.01 * g, params, grads)

    lowered = jax.jit(step).lower(params, x, y)
    (out / "hlo.txt").write_text(lowered.as_text(dialect="hlo"))
    (out / "optimized_hlo.txt").write_text(lowered.compile().as_text())
    return _versions("jax", "jaxlib")


def _count(paths: list[str]) -> dict[str, int]:
    """Instruction count of each file as XLA's own parser reads it."""
    from jax._src.lib import hlo

    counts = {}
    for p in paths:
        module = hlo.hlo_module_from_text(Path(p).read_text())
        counts[p] = sum(len(c.instructions()) for c in module.computations())
    return counts


WORKERS = {
    "keras_jax_resnet50": _keras_jax,
    "keras_tf_mobilenetv2": _keras_tf,
    "torch_xla_transformer": _torch_xla,
    "jax_sharded_mlp": _jax_sharded,
}


def _worker(argv: list[str]) -> None:
    kind, out = argv[0], Path(argv[1])
    if kind == "count":
        print(json.dumps(_count(argv[2:])))
    elif kind == "compile_stablehlo":
        _compile_stablehlo(out)
    else:
        versions = WORKERS[kind](out)
        (out / "versions.json").write_text(json.dumps(versions))


def _run(args: list[str], env: dict[str, str]) -> str:
    full = {**os.environ, **env}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", *args],
        env=full,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.splitlines()[-30:])
        raise SystemExit(f"worker {args[:1]} failed with exit {proc.returncode}:\n{tail}")
    print(f"  {args[0]}: {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return proc.stdout


def generate(name: str) -> dict:
    """Run one model's worker, compress its HLO into DATA, return its manifest entry."""
    desc, env = MODELS[name]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        _run([name, str(out)], env)
        if name == "torch_xla_transformer":
            _run(["compile_stablehlo", str(out)], {"JAX_PLATFORMS": "cpu"})
        versions = json.loads((out / "versions.json").read_text())
        stages = {"hlo": out / "hlo.txt", "optimized_hlo": out / "optimized_hlo.txt"}
        counts = json.loads(
            _run(["count", str(out), *map(str, stages.values())], {"JAX_PLATFORMS": "cpu"})
        )
        files = {}
        DATA.mkdir(parents=True, exist_ok=True)
        for stage, path in stages.items():
            text = path.read_bytes()
            fname = f"{name}.{stage}.txt.xz"
            tmp_dst = DATA / (fname + ".tmp")
            tmp_dst.write_bytes(lzma.compress(text, preset=9 | lzma.PRESET_EXTREME))
            tmp_dst.replace(DATA / fname)
            files[stage] = {
                "file": fname,
                "instructions": counts[str(path)],
                "bytes": len(text),
            }
    return {"description": desc, "versions": versions, "files": files}


def _write_readme(manifest: dict) -> None:
    lines = [
        "# Real HLO modules",
        "",
        "Made by `scripts/gen_real_models.py` with the real frameworks on this machine",
        "(CPU). Regenerate with `python scripts/gen_real_models.py [--only NAME]`; the",
        "manifest (`manifest.json`) is rewritten with the counts below. Files are xz",
        "compressed HLO text; `xlalens.ir.load` and the tests read them through",
        "`tests/core/_real.py`. Instruction counts are XLA's own parser's",
        "(`hlo_module_from_text`, all computations).",
        "",
        "| file | instructions | text bytes | made by |",
        "|---|---:|---:|---|",
    ]
    for _name, entry in manifest.items():
        for stage, f in entry["files"].items():
            vers = ", ".join(f"{k} {v}" for k, v in entry["versions"].items())
            lines.append(
                f"| `{f['file']}` | {f['instructions']:,} | {f['bytes']:,} | "
                f"{stage} of: {entry['description']} ({vers}) |"
            )
    (DATA / "README.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    """Parse the command line and generate the requested modules."""
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        _worker(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", action="append", choices=sorted(MODELS), help="model(s) to make")
    ap.add_argument("--list", action="store_true", help="list the models and exit")
    args = ap.parse_args()
    if args.list:
        for name, (desc, _) in MODELS.items():
            print(f"{name}: {desc}")
        return
    manifest_path = DATA / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    for name in args.only or list(MODELS):
        print(f"{name} ...", file=sys.stderr)
        manifest[name] = generate(name)
        manifest = {k: manifest[k] for k in MODELS if k in manifest}
        manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
        _write_readme(manifest)


if __name__ == "__main__":
    main()
