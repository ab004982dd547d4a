"""The core imports no ML framework but jax/jaxlib, so `xlalens time` runs where only jax is."""

import subprocess
import sys

FRAMEWORKS = ("tensorflow", "torch", "keras", "torch_xla", "torchax", "flax", "optax")

SCRIPT = f"""
import importlib, pkgutil, sys
import xlalens
for m in pkgutil.walk_packages(xlalens.__path__, "xlalens."):
    # frontend modules run only in their subprocesses; __main__ would run the CLI
    if ".frontends.fe_" in m.name or m.name.endswith(("_jaxlike", "_tflike", "_torchlike", "_torch_model", "__main__")):
        continue
    importlib.import_module(m.name)
print(",".join(k for k in {FRAMEWORKS!r} if k in sys.modules))
"""


def test_core_modules_import_no_framework():
    """Importing every core module (all but the frontends) loads none of the ML frameworks."""
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"core imported: {out.stdout.strip()}"
