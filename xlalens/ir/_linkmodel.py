"""The analytic communication model: collective bytes against a link bandwidth (alpha-beta).

NOTE: [the link model] one collective of kind ``k`` over a group of ``n``
devices takes, on every device of the group,

    t = steps(k, n) * latency + bytes_per_device(k, n) / bandwidth

the textbook alpha-beta cost of ring algorithms (Thakur, Rabenseifner and
Gropp, "Optimization of Collective Communication Operations in MPICH", 2005),
where ``bytes_per_device`` is the ring figure of :mod:`xlalens.ir._collectives`
(what each device *sends*) and ``bandwidth`` is one direction of one link, per
device. Ring steps: ``2 (n-1)`` for all-reduce (reduce-scatter then
all-gather), ``n-1`` for all-gather, reduce-scatter and all-to-all, 1 for a
permute. A group of one device costs nothing. Collectives are assumed not to
overlap each other or compute (an upper bound where XLA overlaps them).

Extrapolation to meshes we cannot run (8 -> 64 -> 512 devices) keeps each
collective's *logical* size fixed (the gradients of dp, the activations of tp
do not shrink when the mesh grows: strong scaling at the captured batch) and
grows its group: the group of a collective that spans the grown axis is scaled
by ``target / devices``; the others keep their size. The grown axis is
``data`` when the mesh has one, else the mesh's first axis.

With fixed bytes the bandwidth term saturates as groups grow and the ring's
latency term (linear in n) takes over; libraries switch to trees or 2-D rings
(O(log n) or O(sqrt n) steps) at large n, so there the latency term is an
upper bound.

The links are assumptions, not measurements (:data:`LINKS`); ``--link-bandwidth``
replaces the bandwidth.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from xlalens._errors import UsageError
from xlalens.ir._collectives import Collective, _send_bytes


@dataclass(frozen=True, slots=True)
class Link:
    """An assumed interconnect: bandwidth of one direction of one link, and per-step latency."""

    name: str
    """Short name (``nvlink-h100``, ``ici-v5e``, ``user``)."""
    bandwidth_bytes_per_s: float
    """One direction of one link, per device, in bytes/s."""
    latency_s: float
    """Latency of one ring step (alpha), in seconds."""
    source: str
    """Where the numbers come from (they are assumptions: say which)."""

    def as_dict(self) -> dict[str, object]:
        """Plain dict for the JSON edge."""
        return {f: getattr(self, f) for f in self.__slots__}


LINKS: dict[str, Link] = {
    "nvlink-h100": Link(
        "nvlink-h100",
        450e9,
        1.9e-6,
        "H100 SXM NVLink 4: 900 GB/s per GPU in both directions, so 450 GB/s per direction "
        "(NVIDIA H100 datasheet); 1.9 us per ring step is NCCL's NVLink ring hop latency "
        "(LL128, src/graph/tuning.cc hwLat)",
    ),
    "ici-v5e": Link(
        "ici-v5e",
        50e9,
        1e-6,
        "TPU v5e ICI: 400 GB/s bidirectional per chip over 4 links of a 2D torus (Cloud TPU "
        "v5e docs), so 50 GB/s per direction per link; 1 us per hop is an assumption",
    ),
}
DEFAULT_LINK = "nvlink-h100"


def link(name: str = DEFAULT_LINK, bandwidth_gb_s: float | str | None = None) -> Link:
    """The assumed link ``name``, with its bandwidth replaced by ``bandwidth_gb_s`` when given.

    Args:
        name: a key of :data:`LINKS`.
        bandwidth_gb_s: ``--link-bandwidth`` in GB/s (1e9 bytes/s); None keeps the default.

    Returns:
        The :class:`Link`.

    Raises:
        UsageError: unknown link name, or a bandwidth that is not a positive finite number.

    Example:
        >>> link("nvlink-h100", 100).bandwidth_bytes_per_s
        100000000000.0
    """
    if name not in LINKS:
        raise UsageError(f"--link {name!r} is unknown; choose one of {', '.join(LINKS)}")
    base = LINKS[name]
    if bandwidth_gb_s is None:
        return base
    try:
        bw = float(bandwidth_gb_s)
    except (TypeError, ValueError):
        bw = math.nan
    if not math.isfinite(bw) or bw <= 0:
        raise UsageError(
            f"--link-bandwidth {bandwidth_gb_s!r}: need a positive number of GB/s per "
            f"direction, e.g. 450 (H100 NVLink) or 50 (TPU v5e ICI link)"
        )
    return replace(
        base,
        name=f"{base.name} at {bw:g} GB/s",
        bandwidth_bytes_per_s=bw * 1e9,
        source=f"--link-bandwidth {bw:g} GB/s; latency from {base.name}",
    )


def ring_steps(kind: str, n: int) -> int:
    """Ring steps (latency terms) of one collective over ``n`` devices (0 when ``n`` <= 1)."""
    if n <= 1:
        return 0
    if kind == "all-reduce":
        return 2 * (n - 1)
    if kind in ("collective-permute", "collective-broadcast"):
        return 1
    return n - 1


def collective_seconds(kind: str, group_size: int, bytes_per_device: float, lk: Link) -> float:
    """Modelled seconds of one collective on each device of its group (NOTE [the link model]).

    Example:
        >>> collective_seconds("all-reduce", 4, 1.5e9, link("nvlink-h100", 100)) * 1e3
        15.0114
    """
    if group_size <= 1:
        return 0.0
    return ring_steps(kind, group_size) * lk.latency_s + bytes_per_device / lk.bandwidth_bytes_per_s


def logical_bytes(c: Collective) -> float:
    """The collective's size that does not change with the group (NOTE [the link model]).

    All-gather's operand is one shard (``D``), so its whole result ``n * D`` is
    the fixed size; every other kind's operand is already the fixed size.
    """
    return c.operand_bytes * c.group_size if c.kind == "all-gather" else c.operand_bytes


def _bytes_at(c: Collective, n: int) -> float:
    """Bytes each device sends when the collective's group has ``n`` devices."""
    full = logical_bytes(c)
    if c.kind == "all-gather":
        return (n - 1) * full / n if n > 1 else 0.0
    return float(_send_bytes(c.kind, n, int(full)))


@dataclass(frozen=True, slots=True)
class Prediction:
    """The model's communication time of one step at one device count."""

    devices: int
    """Device count the prediction is for."""
    bytes_per_device: float
    """Bytes each device sends per step (sum over collectives)."""
    seconds: float
    """Modelled communication seconds per step on one device (sum over collectives)."""
    per_collective: tuple[tuple[str, float], ...]
    """``(collective node, seconds)`` per collective."""

    def as_dict(self) -> dict[str, object]:
        """Plain dict for the JSON edge."""
        return {
            "devices": self.devices,
            "bytes_per_device": self.bytes_per_device,
            "seconds": self.seconds,
            "per_collective": [list(p) for p in self.per_collective],
        }


def grown_axis(axes: Sequence[str]) -> str | None:
    """The mesh axis that extrapolation grows: ``data`` if present, else the first axis."""
    if not axes:
        return None
    return "data" if "data" in axes else axes[0]


def predict(
    items: Iterable[Collective],
    lk: Link,
    *,
    devices: int,
    target: int | None = None,
    axes: Sequence[str] = (),
) -> Prediction:
    """Communication time per step of a partitioned module, at its own or a larger mesh.

    Args:
        items: the module's collectives (:func:`xlalens.ir.collectives`), captured at ``devices``.
        lk: the assumed :class:`Link`.
        devices: devices of the captured mesh.
        target: device count to predict for (None: ``devices``); groups that span
            the grown axis scale by ``target / devices`` (NOTE [the link model]).
        axes: the mesh axis names, to find the grown axis.

    Returns:
        The :class:`Prediction`.

    Example:
        >>> predict(collectives(graph), link(), devices=8, target=64).seconds  # doctest: +SKIP
    """
    target = target or devices
    grow = grown_axis(tuple(axes))
    total_b, total_s, per = 0.0, 0.0, []
    for c in items:
        n = c.group_size
        spans = c.axes is None or grow is None or grow in c.axes or len(axes) <= 1
        # A group of one device (axes ()) spans nothing; a permute's pairs stay pairs.
        grows = spans and c.group_size > 1 and c.kind != "collective-permute"
        if target != devices and grows:
            n = max(1, round(n * target / devices))
        b = _bytes_at(c, n) if n != c.group_size else float(c.bytes_per_device)
        s = collective_seconds(c.kind, n, b, lk)
        total_b += b
        total_s += s
        per.append((c.node, s))
    return Prediction(target, total_b, total_s, tuple(per))
