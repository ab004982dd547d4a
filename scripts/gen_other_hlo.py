"""Write HLO modules made by other tools, with the frameworks' own XLA dump flags, to a cache.

Each model runs in its own subprocess with
``XLA_FLAGS=--xla_dump_to=DIR --xla_dump_hlo_as_text``: the framework's compiler
(XLA inside jax, TensorFlow or torch_xla) writes every module it compiles, before
and after optimization, with full metadata. The largest module of each run is
kept as ``<name>.hlo.txt`` (``*.before_optimizations.txt``) and
``<name>.optimized_hlo.txt`` (``*.after_optimizations.txt``). None of these
models is checked in (``tests/core/data/real`` holds Keras ResNet50 on JAX,
MobileNetV2 on TensorFlow, a torch_xla ``nn.TransformerEncoder`` and a jax MLP);
``benchmarks/bench_ir.py`` reads them.

Usage::

    python scripts/gen_other_hlo.py [--out DIR] [--only NAME] [--list]

``DIR`` defaults to ``$XDG_CACHE_HOME/xlalens/other_hlo`` (``~/.cache/...``). A model
whose two files exist is skipped; delete them to regenerate.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def default_cache() -> Path:
    """Where the modules go by default."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "xlalens" / "other_hlo"


_KERAS_STEP = """
import numpy as np, keras
model = keras.applications.{app}(weights=None, input_shape=({size}, {size}, 3), classes=10)
model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
              loss="sparse_categorical_crossentropy", jit_compile=True)
x = np.random.rand(4, {size}, {size}, 3).astype("float32")
y = np.random.randint(0, 10, size=(4,))
model.train_on_batch(x, y)
"""

_TORCH_XLA_GPT2 = """
import torch, torch_xla
import torch_xla.core.xla_model as xm
from transformers import GPT2Config, GPT2LMHeadModel
dev = torch_xla.device()
cfg = GPT2Config(n_layer=4, n_embd=128, n_head=4, n_positions=64, vocab_size=1000)
model = GPT2LMHeadModel(cfg).to(dev)
opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
ids = torch.randint(0, 1000, (2, 32)).to(dev)
loss = model(ids, labels=ids).loss
loss.backward()
opt.step()
torch_xla.sync()
"""

_JAX_FLAX_VIT = """
import jax, jax.numpy as jnp, optax
from flax import nnx

class Block(nnx.Module):
    def __init__(self, d, rngs):
        self.ln1 = nnx.LayerNorm(d, rngs=rngs)
        self.att = nnx.MultiHeadAttention(num_heads=4, in_features=d, decode=False, rngs=rngs)
        self.ln2 = nnx.LayerNorm(d, rngs=rngs)
        self.mlp1 = nnx.Linear(d, 4 * d, rngs=rngs)
        self.mlp2 = nnx.Linear(4 * d, d, rngs=rngs)
    def __call__(self, x):
        x = x + self.att(self.ln1(x))
        return x + self.mlp2(jax.nn.gelu(self.mlp1(self.ln2(x))))

class ViT(nnx.Module):
    def __init__(self, rngs, d=128, depth=6):
        self.patch = nnx.Conv(3, d, kernel_size=(4, 4), strides=(4, 4), rngs=rngs)
        self.blocks = nnx.List([Block(d, rngs) for _ in range(depth)])
        self.head = nnx.Linear(d, 10, rngs=rngs)
    def __call__(self, x):
        x = self.patch(x)
        x = x.reshape(x.shape[0], -1, x.shape[-1])
        for b in self.blocks:
            x = b(x)
        return self.head(x.mean(axis=1))

model = ViT(nnx.Rngs(0))
opt = nnx.Optimizer(model, optax.adamw(1e-3), wrt=nnx.Param)

@nnx.jit
def step(model, opt, x, y):
    def loss_fn(m):
        return optax.softmax_cross_entropy_with_integer_labels(m(x), y).mean()
    loss, grads = nnx.value_and_grad(loss_fn)(model)
    opt.update(model, grads)
    return loss

step(model, opt, jnp.ones((4, 32, 32, 3)), jnp.zeros((4,), jnp.int32))
"""

#: name -> (description, program, extra environment)
MODELS: dict[str, tuple[str, str, dict[str, str]]] = {
    "keras_jax_mobilenetv2": (
        "Keras 3 MobileNetV2 (weights=None, 96x96x3, batch 4, SGD momentum) train_on_batch "
        "on the JAX backend (jit_compile=True)",
        _KERAS_STEP.format(app="MobileNetV2", size=96),
        {"KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"},
    ),
    "keras_tf_resnet50": (
        "Keras 3 ResNet50 (weights=None, 64x64x3, batch 4, SGD momentum) train_on_batch "
        "on the TensorFlow backend (jit_compile=True)",
        _KERAS_STEP.format(app="ResNet50", size=64),
        {"KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3", "JAX_PLATFORMS": "cpu"},
    ),
    "torch_xla_gpt2": (
        "transformers GPT2LMHeadModel (4 layers, d 128, from a config) + AdamW step on "
        "torch_xla's CPU device",
        _TORCH_XLA_GPT2,
        {"PJRT_DEVICE": "CPU", "JAX_PLATFORMS": "cpu"},
    ),
    "jax_flax_vit": (
        "a 6-block flax.nnx ViT (d 128, patches 4x4 of 32x32x3) + optax AdamW step, nnx.jit",
        _JAX_FLAX_VIT,
        {"JAX_PLATFORMS": "cpu"},
    ),
}


def _largest(dump: Path, suffix: str) -> Path | None:
    files = [p for p in dump.glob(f"*{suffix}") if p.is_file()]
    return max(files, key=lambda p: p.stat().st_size) if files else None


def generate(name: str, out: Path, timeout: float = 900) -> tuple[Path, Path]:
    """Run model ``name`` under the dump flags; returns (pre-opt, optimized) file paths.

    Raises:
        RuntimeError: the framework failed (its stderr tail is in the message) or
            wrote no module.
    """
    _desc, program, env_extra = MODELS[name]
    pre, post = out / f"{name}.hlo.txt", out / f"{name}.optimized_hlo.txt"
    if pre.exists() and post.exists():
        return pre, post
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"xlalens-{name}-") as tmp:
        dump = Path(tmp) / "dump"
        env = {
            **os.environ,
            **env_extra,
            "XLA_FLAGS": f"--xla_dump_to={dump} --xla_dump_hlo_as_text",
        }
        proc = subprocess.run(
            [sys.executable, "-c", program],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"{name}: exit {proc.returncode}; stderr tail:\n{proc.stderr[-2000:]}"
            )
        got_pre = _largest(dump, ".before_optimizations.txt")
        got_post = _largest(dump, "after_optimizations.txt")  # jax CPU: .cpu_after_...
        if got_pre is None or got_post is None:
            raise RuntimeError(f"{name}: the framework wrote no HLO module under {dump}")
        # Every module of the run (jit-compiled helpers too, small ones mostly) goes to
        # <name>.dump/ for the benchmark's corpus of many small modules.
        keep = out / f"{name}.dump"
        keep.mkdir(exist_ok=True)
        for f in dump.glob("*_optimizations.txt"):
            shutil.copyfile(f, keep / f.name)
        # Copy to a temporary name first, then rename: a cache file is whole or absent.
        for src, dst in ((got_pre, pre), (got_post, post)):
            part = dst.with_suffix(".part")
            shutil.copyfile(src, part)
            part.replace(dst)
    return pre, post


def main(argv: list[str] | None = None) -> int:
    """Generate every model (or ``--only``) into ``--out``; print one line each."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=default_cache(), help="cache folder")
    ap.add_argument("--only", help="one model name")
    ap.add_argument("--list", action="store_true", help="list the models and exit")
    args = ap.parse_args(argv)
    if args.list:
        for name, (desc, _p, _e) in MODELS.items():
            print(f"{name}: {desc}")
        return 0
    if args.only and args.only not in MODELS:
        print(f"unknown model {args.only!r}; choose one of {', '.join(MODELS)}", file=sys.stderr)
        return 2
    status = 0
    for name in [args.only] if args.only else list(MODELS):
        t0 = time.perf_counter()
        try:
            pre, post = generate(name, args.out)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            print(f"{name}: FAILED: {exc}", file=sys.stderr)
            status = 1
            continue
        print(f"{name}: {pre} {post} ({time.perf_counter() - t0:.0f} s)")
    return status


if __name__ == "__main__":
    sys.exit(main())
