"""Size sweeps: step time per frontend against the number of samples, with the roofline.

NOTE: [where each size's module comes from]
StableHLO shapes are static, so each size needs its own capture. For size N,
``xlalens time DIR --size ...`` uses, in order:

1. ``DIR`` itself when its workload has ``size == N`` (every frontend);
2. ``DIR/sweep/<N>/`` when it is a dump (every frontend), made with
   ``xlalens dump --size N -o DIR/sweep/<N>`` on a machine with the frameworks,
   or by ``xlalens time --size ... --capture-missing``, which captures it with
   the dump's own ok frontends (each in its subprocess, as ``xlalens dump``
   does; the timing code itself still imports no framework);
3. always, a row ``jax-recapture``: the dump's workload (``regression`` or
   ``mlp``, its features/depth/width/lr from the manifest) written in jax here,
   lowered at size N and timed through the same PJRT path. It needs only jax,
   so a sweep works on a JAX-only machine; its outputs are checked against the
   same jitted function run natively. Its data are synthetic (seed 0): timing
   does not depend on the values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from xlalens._errors import UsageError
from xlalens.dumpdir import is_dump, read_manifest
from xlalens.timing._peaks import Peaks, roofline_bound_s
from xlalens.timing._verify import SAME_BACKEND_TOL, Verification

RECAPTURE = "jax-recapture"


@dataclass(frozen=True, slots=True)
class SweepPoint:
    """One frontend at one size."""

    frontend: str
    """Frontend name (or ``jax-recapture``)."""
    size: int
    """Samples."""
    source: str
    """Where the module came from: ``dump``, ``sweep-dump`` or ``recapture``."""
    status: str
    """``ok`` or ``failed``."""
    median_s: float | None
    """Median step seconds."""
    cv: float | None
    """Coefficient of variation of the step time."""
    bytes_accessed: float | None
    """XLA's bytes accessed for the step."""
    flops: float | None
    """XLA's FLOPs for the step."""
    bound_s: float | None
    """Roofline bound of the step."""
    reason: str | None
    """Why it failed."""


def parse_sizes(text: str) -> list[int]:
    """``"4,4096,2^20"`` -> ``[4, 4096, 1048576]`` (``2^k`` and ``2**k`` allowed).

    Raises:
        UsageError: an entry is not a positive integer.

    Example:
        >>> parse_sizes("4, 2^12")
        [4, 4096]
    """
    out = []
    for part in str(text).split(","):
        p = part.strip().replace("**", "^")
        try:
            v = 2 ** int(p[2:]) if p.startswith("2^") else int(p)
        except ValueError:
            v = 0
        if v <= 0:
            raise UsageError(
                f"--size {text!r}: {part.strip()!r} is not a positive integer; e.g. --size 4,4096,2^20"
            )
        out.append(v)
    return out


def workload_step(workload: dict[str, Any], size: int) -> tuple[Any, list[np.ndarray]]:
    """The workload's training step in jax and its inputs at ``size`` samples.

    Args:
        workload: the manifest's ``workload`` (``name``: ``regression`` or ``mlp``;
            ``features``, ``depth``, ``width``, ``lr``).
        size: samples.

    Returns:
        ``(step, args)``: a function of ``(params..., x, y, lr)`` returning
        ``(loss, *updated params)``, and the host arguments.

    Raises:
        UsageError: an unknown workload name.

    Example:
        >>> step, args = workload_step({"name": "regression", "features": 1}, 4)
        >>> [a.shape for a in args]
        [(1, 1), (1,), (4, 1), (4, 1), ()]
    """
    import jax
    import jax.numpy as jnp

    from xlalens.workloads import Workload

    # One workload source (issue 10): the frontends' own Workload object gives the
    # layer sizes, the fixed init and the data, so the sweep times the same model.
    known = set(getattr(Workload, "__dataclass_fields__", {}))
    fields = {k: v for k, v in (workload or {}).items() if k in known}
    if not isinstance(fields.get("init", {}), dict):
        fields.pop("init")
    name = fields.get("name", "regression")
    if name not in ("regression", "mlp"):
        raise UsageError(
            f"workload {name!r}: a sweep re-capture knows regression and mlp; capture sweep dumps instead"
        )
    wl = Workload.from_json({**fields, "size": size})
    x, y = wl.data()
    params = [a for w, b in wl.params() for a in (w, b)]
    lr = np.float32(wl.lr)

    def forward(ps, xb):
        h = xb
        for i in range(0, len(ps), 2):
            h = h @ ps[i] + ps[i + 1]
            if i + 2 < len(ps):
                h = jnp.tanh(h)
        return h

    def step(*args):
        *ps, xb, yb, rate = args

        def loss_fn(ps):
            return jnp.mean((forward(ps, xb) - yb) ** 2)

        loss, grads = jax.value_and_grad(loss_fn)(list(ps))
        return (loss, *[p - rate * g for p, g in zip(ps, grads)])

    return step, [*params, x, y, np.asarray(lr)]


def _recapture_point(workload: dict[str, Any], size: int, options: Any, peaks: Peaks) -> SweepPoint:
    import jax

    from xlalens.timing._measure import time_module

    step, args = workload_step(workload, size)
    jitted = jax.jit(step)
    text = jitted.lower(*args).as_text()
    native = [np.asarray(o) for o in jitted(*args)]
    rtol, atol = SAME_BACKEND_TOL

    def check(outs: list[np.ndarray]) -> Verification:
        diffs = [
            float(np.max(np.abs(np.asarray(a, np.float64) - b))) if np.size(b) else 0.0
            for a, b in zip(outs, native)
        ]
        ok = len(outs) == len(native) and all(
            np.allclose(a, b, rtol=rtol, atol=atol) for a, b in zip(outs, native)
        )
        return Verification(
            ok,
            ("all",),
            max(diffs or [0.0]),
            rtol,
            atol,
            "" if ok else "re-captured outputs differ from jax.jit",
        )

    res = time_module(text, args, check=check, options=options, peaks=peaks)
    return _point(RECAPTURE, size, "recapture", res, peaks)


def _point(fe: str, size: int, source: str, res: Any, peaks: Peaks) -> SweepPoint:
    cost = res.cost or {}
    bound, _ = roofline_bound_s(cost.get("bytes_accessed"), cost.get("flops"), peaks)
    return SweepPoint(
        frontend=fe,
        size=size,
        source=source,
        status=res.status,
        median_s=res.step.median_s if res.step else None,
        cv=res.step.cv if res.step else None,
        bytes_accessed=cost.get("bytes_accessed"),
        flops=cost.get("flops"),
        bound_s=bound,
        reason=res.reason,
    )


def run_sweep(
    dump_dir: str | Path, sizes: list[int], options: Any, peaks: Peaks, log: Any = None
) -> list[SweepPoint]:
    """Time the dump's workload at each size (see NOTE [where each size's module comes from]).

    Args:
        dump_dir: the dump folder.
        sizes: sample counts.
        options: :class:`~xlalens.timing.TimingOptions` (profiling is turned off for sweeps).
        peaks: peaks measured in this run.
        log: optional progress callback.

    Returns:
        One :class:`SweepPoint` per (frontend, size) timed.

    Example:
        >>> pts = run_sweep("xlalens-dump", [4, 4096], TimingOptions(), peaks)  # doctest: +SKIP
    """
    from dataclasses import replace

    from xlalens.timing._measure import _time_frontend

    folder = Path(dump_dir)
    manifest = read_manifest(folder)
    workload = manifest.get("workload") or {}
    opts = replace(options, profile=False, min_time_s=min(options.min_time_s, 0.3))
    say = log or (lambda _m: None)
    points: list[SweepPoint] = []
    for n in sizes:
        src: tuple[Path, str] | None = None
        if int(workload.get("size") or -1) == n:
            src = (folder, "dump")
        else:
            if options.capture_missing and not is_dump(folder / "sweep" / str(n)):
                _capture_size(folder, manifest, n, options, say)
            if is_dump(folder / "sweep" / str(n)):
                src = (folder / "sweep" / str(n), "sweep-dump")
        if src is not None:
            man = read_manifest(src[0])
            same = man.get("backend") == options.backend
            for fe, info in man.get("frontends", {}).items():
                if info.get("status") != "ok" or (
                    options.frontends and fe not in options.frontends
                ):
                    continue
                say(f"sweep {n}: {fe} ({src[1]})")
                res = _time_frontend(src[0], fe, info, opts, peaks, same)
                points.append(_point(fe, n, src[1], res, peaks))
        say(f"sweep {n}: {RECAPTURE}")
        points.append(_recapture_point(workload, n, opts, peaks))
    return points


def _capture_size(folder: Path, manifest: dict[str, Any], n: int, options: Any, say: Any) -> None:
    """Capture the dump's workload at ``n`` samples into ``folder/sweep/<n>``."""
    from xlalens.capture import write_dump
    from xlalens.workloads import Workload

    workload = dict(manifest.get("workload") or {})
    if workload.get("name") not in ("regression", "mlp"):
        raise UsageError(
            f"--capture-missing needs a built-in workload; {folder} holds "
            f"{workload.get('name')!r}: capture each size with `xlalens dump --size N`"
        )
    names = [
        fe
        for fe, info in manifest.get("frontends", {}).items()
        if info.get("status") == "ok" and (not options.frontends or fe in options.frontends)
    ]
    say(f"sweep {n}: capturing {', '.join(names)} into {folder / 'sweep' / str(n)}")
    # write_dump wants its parent to exist (one rule for every -o); the sweep's folder
    # is ours to make.
    (folder / "sweep").mkdir(exist_ok=True)
    result = write_dump(
        folder / "sweep" / str(n),
        frameworks=names,
        workload=Workload.from_json({**workload, "size": n}),
        backend=manifest.get("backend", "cpu"),
        stages=False,
    )
    for fe in result.failed:
        say(f"sweep {n}: {fe} failed to capture: {result.manifest['frontends'][fe]['reason']}")


def sweep_table(points: list[SweepPoint]) -> str:
    """A Markdown table: one row per frontend, one column per size (median ms and its CV,
    the spread of the timed repeats), plus the roofline bound."""
    sizes = sorted({p.size for p in points})
    fronts = list(dict.fromkeys(p.frontend for p in points))
    cell = {(p.frontend, p.size): p for p in points}
    head = "| frontend | " + " | ".join(str(s) for s in sizes) + " |"
    rows = [head, "|" + " --- |" * (len(sizes) + 1)]
    for fe in fronts:
        vals = []
        for s in sizes:
            p = cell.get((fe, s))
            if p is None:
                vals.append("—")
            elif not p.median_s:
                vals.append("failed")
            else:
                spread = f" ±{p.cv:.0%}" if p.cv is not None else ""
                vals.append(f"{p.median_s * 1e3:.4g} ms{spread}")
        rows.append(f"| {fe} | " + " | ".join(vals) + " |")
    bounds = []
    for s in sizes:
        b = [p.bound_s for p in points if p.size == s and p.bound_s]
        bounds.append(f"{min(b) * 1e3:.4g} ms" if b else "—")
    rows.append("| roofline bound | " + " | ".join(bounds) + " |")
    return "\n".join(rows)


def sweep_svg(points: list[SweepPoint], *, title: str = "step time vs size") -> str:
    """A log-log SVG of step time per frontend against size, with the roofline bound dashed."""
    ok = [p for p in points if p.median_s]
    W, H, L, R, T, B = 640, 400, 70, 150, 30, 50
    if not ok:
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="80"><text x="10" y="40">no successful sweep points</text></svg>'
    xs = [p.size for p in ok]
    ys = [p.median_s for p in ok] + [p.bound_s for p in ok if p.bound_s]
    x0, x1 = math.log10(min(xs)), math.log10(max(xs)) + 1e-9
    pad = 0.04 * (x1 - x0)
    x0, x1 = x0 - pad, x1 + pad
    y0, y1 = math.log10(min(ys)) - 0.1, math.log10(max(ys)) + 0.1

    def px(x: float) -> float:
        return L + (math.log10(x) - x0) / max(x1 - x0, 1e-9) * (W - L - R)

    def py(y: float) -> float:
        return H - B - (math.log10(y) - y0) / (y1 - y0) * (H - T - B)

    colors = [
        "#1f77b4",
        "#ff7f0e",
        "#2ca02c",
        "#d62728",
        "#9467bd",
        "#8c564b",
        "#e377c2",
        "#7f7f7f",
    ]
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">',
        f'<text x="{W / 2}" y="18" text-anchor="middle" font-size="13">{_esc(title)}</text>',
        f'<line x1="{L}" y1="{H - B}" x2="{W - R}" y2="{H - B}" stroke="black"/>',
        f'<line x1="{L}" y1="{T}" x2="{L}" y2="{H - B}" stroke="black"/>',
        f'<text x="{(L + W - R) / 2}" y="{H - 12}" text-anchor="middle">samples</text>',
        f'<text x="14" y="{(T + H - B) / 2}" transform="rotate(-90 14 {(T + H - B) / 2})" text-anchor="middle">step time (s)</text>',
    ]
    for s in sorted(set(xs)):
        out.append(f'<text x="{px(s):.1f}" y="{H - B + 15}" text-anchor="middle">{s}</text>')
    for e in range(math.ceil(y0), math.floor(y1) + 1):
        out.append(
            f'<line x1="{L - 4}" y1="{py(10**e):.1f}" x2="{W - R}" y2="{py(10**e):.1f}" stroke="#ddd"/>'
        )
        out.append(f'<text x="{L - 6}" y="{py(10**e) + 4:.1f}" text-anchor="end">1e{e}</text>')
    series = list(dict.fromkeys(p.frontend for p in ok))
    for i, fe in enumerate(series):
        pts = sorted((p.size, p.median_s) for p in ok if p.frontend == fe)
        c = colors[i % len(colors)]
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
        out.append(f'<polyline points="{path}" fill="none" stroke="{c}" stroke-width="1.5"/>')
        out += [f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{c}"/>' for x, y in pts]
        out.append(f'<text x="{W - R + 8}" y="{T + 14 * i + 10}" fill="{c}">{_esc(fe)}</text>')
    bound = {}
    for p in ok:
        if p.bound_s:
            bound[p.size] = min(bound.get(p.size, math.inf), p.bound_s)
    if bound:
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in sorted(bound.items()))
        out.append(f'<polyline points="{path}" fill="none" stroke="black" stroke-dasharray="5,4"/>')
        out.append(
            f'<text x="{W - R + 8}" y="{T + 14 * len(series) + 10}">- - roofline bound</text>'
        )
    out.append("</svg>")
    return "\n".join(out)


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def points_as_dicts(points: list[SweepPoint]) -> list[dict[str, Any]]:
    """Plain dicts for the JSON edge."""
    return [{f: getattr(p, f) for f in p.__slots__} for p in points]
