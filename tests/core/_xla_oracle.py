"""XLA's own HLO parser as an oracle, run in a worker process (some bad inputs abort it).

``python tests/core/_xla_oracle.py`` reads a JSON list of HLO texts on stdin and
writes one JSON line per text: ``{"ok": true, "view": {...}}`` with
``"computation/instruction" -> [opcode, [operand names]]``, or
``{"ok": false, "error": "..."}``. :func:`xla_views` runs the worker over a batch
and restarts it after a case that kills it (a CHECK failure), reporting that
case as ``{"ok": false, "error": "abort"}``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

# HloOpcode enum names whose text spelling is not the kebab-case of the name.
_SPELLING = {
    "kExp": "exponential",
    "kExpm1": "exponential-minus-one",
    "kLog1p": "log-plus-one",
    "kClz": "count-leading-zeros",
    "kPopulationCount": "popcnt",
    "kOptimizationBarrier": "opt-barrier",
    "kTopK": "topk",
    "kAtan2": "atan2",
    "kFft": "fft",
    "kCos": "cosine",
    "kSin": "sine",
    "kRoundNearestAfz": "round-nearest-afz",
}


def opcode_text(opcode) -> str:
    """The text spelling of an ``HloOpcode`` enum value (``kGetTupleElement`` -> ``get-tuple-element``)."""
    name = opcode.name
    return _SPELLING.get(name) or re.sub(r"(?<!^)(?=[A-Z0-9])", "-", name[1:]).lower()


def _view(text: str) -> dict:
    from jax._src.lib import hlo

    module = hlo.hlo_module_from_text(text)
    return {
        f"{c.name}/{i.name}": [opcode_text(i.opcode), [o.name for o in i.operands()]]
        for c in module.computations()
        for i in c.instructions()
    }


def _types(text: str) -> dict:
    """``"computation/instruction" -> type text`` as XLA's printer writes it (inferred or not)."""
    from jax._src.lib import hlo

    out = {}
    for c in hlo.hlo_module_from_text(text).computations():
        for i in c.instructions():
            rhs = i.to_string().split(" = ", 1)[1]
            out[f"{c.name}/{i.name}"] = rhs[: rhs.find(f" {opcode_text(i.opcode)}(")]
    return out


def _worker() -> None:
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    texts = json.loads(sys.stdin.read())
    for text in texts:
        try:
            out = {"ok": True, "view": _view(text), "types": _types(text)}
        except Exception as exc:  # XLA's parser raises JaxRuntimeError with its message
            out = {"ok": False, "error": " | ".join(str(exc).splitlines()[:4])[:600]}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


def xla_views(texts: list[str]) -> list[dict]:
    """XLA's view of each text, in one worker process (restarted after an abort)."""
    results: list[dict] = []
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "TF_CPP_MIN_LOG_LEVEL": "3"}
    while len(results) < len(texts):
        rest = texts[len(results) :]
        proc = subprocess.run(
            [sys.executable, str(Path(__file__))],
            input=json.dumps(rest),
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        got = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
        results.extend(got)
        if len(results) < len(texts):
            # The worker died on the next case (a CHECK failure aborts the process).
            results.append({"ok": False, "error": "abort"})
    return results


if __name__ == "__main__":
    _worker()
