#!/usr/bin/env bash
# Device check of `xlalens time` on a GPU box that has only jax[cuda] and networkx.
#
#   scripts/gpu_check.sh [DUMP]
#
# DUMP: a dump captured on the CPU (default tests/core/data/dumps/regression when present;
# else the tests build a small JAX-only one). It is copied to a temporary folder first, so
# a checked-in dump is never written to. Prints the `xlalens time --backend gpu` summary and
# the tests/device results, then compares the compile-only module of this GPU's model
# (`xlalens compile --target h100`) with the one compiled on the GPU, kernel by kernel;
# finishes in a few minutes. Exit status: non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

DUMP=${1:-tests/core/data/dumps/regression}
status=0

echo "== environment"
$PY - <<'PY'
import jax, jaxlib, sys
print("python", sys.version.split()[0], "jax", jax.__version__, "jaxlib", jaxlib.__version__)
print("devices", jax.devices())
PY
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv,noheader

if [ -f "$DUMP/manifest.json" ]; then
  WORK=$(mktemp -d)
  cp -r "$DUMP" "$WORK/dump"
  rm -rf "$WORK/dump/timing"
  echo "== xlalens time --backend gpu $DUMP (copy in $WORK/dump)"
  timeout 300 $PY -m xlalens time "$WORK/dump" --backend gpu --top 5 || status=$?
  export XLALENS_GPU_DUMP="$DUMP"
else
  echo "== no dump at $DUMP: the device tests build a JAX-only dump of the regression step"
fi

if [ -f "$DUMP/manifest.json" ]; then
  # The truth check of `xlalens compile` (docs/targets.md): the same dump compiled
  # compile-only from our spec file of this GPU's model and on the GPU itself,
  # compared kernel by kernel (the autotuner may pick other tiles; differences are
  # printed, not failed on). Needs no plugin beyond the jax[cuda] this box has.
  echo "== xlalens compile: compile-only vs on-device, kernel by kernel"
  timeout 600 $PY -m xlalens.targets._truth "$WORK/dump" || status=$?
fi

echo "== tests/device"
if $PY -c "import pytest" 2>/dev/null; then
  timeout 300 $PY -m pytest -q -p no:cacheprovider tests/device -s || status=$?
else
  timeout 300 $PY tests/device/test_gpu_timing.py || status=$?
fi
echo "== gpu_check exit status $status"
exit $status
