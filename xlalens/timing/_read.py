"""Timing stage 1, read the capture: which frontends to time, and each one's module,
inputs, recorded outputs and error bound (the 1-device and the sharded paths share it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from xlalens._errors import DumpError, UsageError
from xlalens.dumpdir import read_outputs
from xlalens.proof import ErrorBound, error_bound
from xlalens.timing._records import (
    Capture,
    FrontendTiming,
    TimingOptions,
)


def _load_inputs(path: Path) -> list[np.ndarray]:
    with np.load(path, allow_pickle=False) as npz:
        names = sorted(npz.files, key=lambda n: int(n[3:]) if n[3:].isdigit() else 1 << 30)
        if any(not (n.startswith("arg") and n[3:].isdigit()) for n in names):
            raise DumpError(
                f"{path}: expected arrays arg0..argN-1, found {npz.files}; re-run `xlalens dump`"
            )
        return [npz[n] for n in names]


def read_capture(folder: Path, info: dict[str, Any]) -> Capture | str:
    """Read a manifest entry's StableHLO, inputs and outputs, or say why not (a reason)."""
    arts = info.get("artifacts") or {}
    try:
        paths = {k: folder / arts[k] for k in ("stablehlo", "inputs", "outputs")}
    except KeyError as exc:
        return f"manifest lists no {exc.args[0]} artifact; re-run `xlalens dump`"
    for k, p in paths.items():
        if not p.is_file():
            return f"{k} file {p} is missing; re-run `xlalens dump`"
    try:
        inputs = _load_inputs(paths["inputs"])
        outputs = read_outputs(paths["outputs"])
    except (OSError, ValueError, DumpError) as exc:
        return f"cannot read the capture: {exc}"
    text = paths["stablehlo"].read_text()
    if "data" not in outputs.summary:  # format 1: checked against the JSON summary
        return Capture(text, inputs, outputs.summary, None)
    proof = info.get("proof") or {}
    if proof.get("bound") and proof.get("native_bound"):
        # The proof's own bound on the replay's difference from the native results
        # (frontends/_run.verify): the replay's bound plus the native compiler's,
        # whose accumulation order the module alone does not tell (torch_xla's).
        replay = ErrorBound.from_dict(proof["bound"])
        return Capture(
            text, inputs, outputs, replay.plus(ErrorBound.from_dict(proof["native_bound"])), 1.0
        )
    try:
        bound = error_bound(text)  # format 2: judged by the proof's bound
    except Exception:  # an unparsable module fails at compile later, with XLA's message
        bound = None
    return Capture(text, inputs, outputs, bound)


def selected_frontends(
    folder: Path, manifest: dict[str, Any], options: TimingOptions
) -> dict[str, Any]:
    """The manifest's frontends that ``options.frontends`` asks for (all when None).

    Raises:
        UsageError: a frontend asked for is not in the dump (the message lists those that are).
    """
    fronts: dict[str, Any] = manifest.get("frontends", {})
    if not options.frontends:
        return dict(fronts)
    missing = [f for f in options.frontends if f not in fronts]
    if missing:
        raise UsageError(
            f"--frontend {', '.join(missing)}: not in {folder}; it has: {', '.join(fronts) or 'none'}"
        )
    return {fe: info for fe, info in fronts.items() if fe in options.frontends}


def skipped_capture(info: dict[str, Any]) -> dict[str, Any]:
    """The results entry of a frontend whose capture did not succeed."""
    reason = (info.get("reason") or "").strip().splitlines()[-1:] or [""]
    return FrontendTiming(
        status="skipped",
        reason=f"capture status {info.get('status')}: {reason[0]}".rstrip(": "),
    ).as_dict()
