"""Op categories, their colours, and the legend drawn into every picture."""

from __future__ import annotations

import html

from xlalens.ir._ops import category as op_category
from xlalens.ir._ops import collective_kind as op_collective_kind

# Category -> (fill colour, legend text). The order is the legend's order.
CATEGORIES: dict[str, tuple[str, str]] = {
    "parameter": ("#c9e7c1", "parameter"),
    "constant": ("#e6e6e6", "constant"),
    "elementwise": ("#cfe2f3", "elementwise"),
    "dot": ("#f4b6b6", "dot / convolution"),
    "reduction": ("#d9c8ec", "reduction"),
    "movement": ("#fde9b0", "data movement"),
    "control": ("#f9cb9c", "control flow"),
    "collective": ("#b7e4e0", "collective"),
    "custom-call": ("#f2c4e3", "custom call"),
    "fusion": ("#a9c7f0", "fusion (kernel)"),
    "random": ("#e9d8a6", "random numbers"),
    "structural": ("#dfe4ea", "structural (tuple, bitcast...)"),
    "other": ("#ffffff", "other"),
}

# Collapsed groups (scopes, chunks) and external stubs are not ops.
GROUP_FILL = "#eef1f6"
GROUP_BORDER = "#44546a"
EXTERNAL_FILL = "#f7f7f7"

# Diff statuses -> (fill, legend text), as the issue names them.
DIFF_STATUS: dict[str, tuple[str, str]] = {
    "unchanged": ("#d9d9d9", "unchanged"),
    "changed": ("#ffc857", "changed"),
    "left-only": ("#f08080", "left only"),
    "right-only": ("#8fd694", "right only"),
}

# NOTE: [colours from the op table] render draws what THE op table
# (xlalens.ir._ops) says an op is: one colour per op-table category, except that
# the structural ops where values enter the step (parameter, constant) get their
# own, so a picture tells inputs apart from plumbing. An opcode the table does not
# know is "other".
_FROM_OP_TABLE = {
    "elementwise": "elementwise",
    "reduction": "reduction",
    "contraction": "dot",
    "data-movement": "movement",
    "collective": "collective",
    "control-flow": "control",
    "fusion": "fusion",
    "custom": "custom-call",
    "random": "random",
    "structural": "structural",
    "other": "other",
}
_ENTRY_OPS = {"parameter": "parameter", "constant": "constant"}


def category(op: str) -> str:
    """The colour category of a canonical op, from the op table (NOTE: [colours from the op table]).

    Args:
        op: canonical op name from the graph schema (``"dot"``, ``"add"``...).

    Returns:
        A key of :data:`CATEGORIES`.

    Example:
        >>> category("broadcast")
        'movement'
    """
    return _ENTRY_OPS.get(op) or _FROM_OP_TABLE[op_category(op)]


def fill(op: str) -> str:
    """Fill colour of a canonical op."""
    return CATEGORIES[category(op)][0]


def legend_label(entries: list[tuple[str, str]], title: str, extra: list[str] = ()) -> str:
    """A graphviz HTML-like label: a small table of colour swatches and names.

    ``entries`` is (colour, text) pairs; ``extra`` lines are appended as plain text
    (what was collapsed, what was hidden), so the legend explains the picture.
    """
    rows = [f'<TR><TD COLSPAN="2"><B>{html.escape(title)}</B></TD></TR>']
    for colour, text in entries:
        rows.append(
            f'<TR><TD BGCOLOR="{colour}" WIDTH="18" HEIGHT="12"></TD>'
            f'<TD ALIGN="LEFT">{html.escape(text)}</TD></TR>'
        )
    for line in extra:
        rows.append(f'<TR><TD COLSPAN="2" ALIGN="LEFT">{html.escape(line)}</TD></TR>')
    return (
        '<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">'
        + "".join(rows)
        + "</TABLE>>"
    )


# Heat view: a sequential white -> orange -> dark red scale of time share.
# Log-scaled, because on real steps one kernel often takes 30% and most take
# well under 1%: a linear scale would leave all but a few nodes white.
HEAT_NONE = "#f4f4f4"
"""Fill of an op with no measured time (not a kernel, or not seen by the profiler)."""
HEAT_STOPS = (
    (0.001, "#fff5eb"),
    (0.01, "#fdd0a2"),
    (0.05, "#fd8d3c"),
    (0.2, "#d94801"),
    (1.0, "#7f2704"),
)
"""(time share upper bound, fill): the legend prints these bands."""


HEAT_DARK = 4
"""Heat bands from this index up are dark: their text is drawn white."""


def heat_colour(share: float) -> str:
    """Fill colour of a node or group that takes ``share`` (0..1) of the step's kernel time."""
    if share <= 0:
        return HEAT_NONE
    for bound, colour in HEAT_STOPS:
        if share <= bound:
            return colour
    return HEAT_STOPS[-1][1]


def heat_legend() -> list[tuple[str, str]]:
    """Legend entries of the heat scale: ``(fill, text)``."""
    out = [(HEAT_NONE, "no time measured")]
    lo = 0.0
    for bound, colour in HEAT_STOPS:
        out.append((colour, f"{lo * 100:g}–{bound * 100:g}% of step (log scale)"))
        lo = bound
    return out


def heat_band(share: float) -> int:
    """Index of the heat band of ``share``: 0 for none, then one per :data:`HEAT_STOPS` entry."""
    if share <= 0:
        return 0
    for i, (bound, _) in enumerate(HEAT_STOPS):
        if share <= bound:
            return i + 1
    return len(HEAT_STOPS)


# ---------------------------------------------------------------------------
# Sharded steps (issue 14): one colour family per collective kind, per-device
# shapes on edges, tooltips and legend lines from the graph's sharding records
# (xlalens.ir._collectives.annotate; docs/graph-schema.md). Called from the
# node, edge and legend code of _view.Emitter.

# Kind -> (fill, legend text): saturated hues, so a collective stands out from
# the pastel op categories. ``-start``/``-done`` halves take their kind's colour.
COLLECTIVE_KINDS: dict[str, tuple[str, str]] = {
    "all-reduce": ("#26a69a", "all-reduce"),
    "all-gather": ("#7cb342", "all-gather"),
    "reduce-scatter": ("#ec407a", "reduce-scatter"),
    "all-to-all": ("#7e57c2", "all-to-all"),
    "collective-permute": ("#ff8f00", "collective-permute"),
}

PER_DEVICE = "/dev"
"""Marker after a per-device shape on an edge label (``f32[64,512] · [16,512]/dev``)."""


def collective_kind(op: str) -> str | None:
    """The key of :data:`COLLECTIVE_KINDS` an op belongs to, or None.

    Example:
        >>> collective_kind("all-gather-start"), collective_kind("add")
        ('all-gather', None)
    """
    kind = op_collective_kind(op)
    if kind == "ragged-all-to-all":
        kind = "all-to-all"  # one colour: the same exchange, with ragged sizes
    return kind if kind in COLLECTIVE_KINDS else None


def node_fill(data: dict) -> str:
    """Fill colour of a node: its collective kind's colour, else its op category's."""
    op = data.get("op", "")
    kind = collective_kind(op)
    return COLLECTIVE_KINDS[kind][0] if kind else fill(op)


def node_category(data: dict) -> str:
    """What a node adds to the legend: its collective kind, else its op category."""
    op = data.get("op", "")
    return collective_kind(op) or category(op)


def legend_entries(categories: set[str]) -> list[tuple[str, str]]:
    """Legend rows of the op categories and collective kinds drawn, in a fixed order."""
    out = [CATEGORIES[c] for c in CATEGORIES if c in categories]
    out += [COLLECTIVE_KINDS[k] for k in COLLECTIVE_KINDS if k in categories]
    return out


def per_device_label(text: str, edge: dict) -> str:
    """An edge's shape label with its per-device shape, when the graph is pre-partitioning.

    ``edge["device_shape"]`` is set by the ir package on edges out of values whose
    sharding is known; the label changes only where it differs from the global shape.

    Example:
        >>> per_device_label("f32[4,1]", {"shape": (4, 1), "device_shape": (1, 1)})
        'f32[4,1] · [1,1]/dev'
    """
    dev = edge.get("device_shape")
    if dev is None or tuple(dev) == tuple(edge.get("shape") or ()):
        return text
    return f"{text} · [{','.join(str(d) if d >= 0 else '?' for d in dev)}]{PER_DEVICE}"


def spmd_tooltip(data: dict) -> list[str]:
    """Tooltip lines of a node's sharding, per-device shape and collective record."""
    from xlalens.ir._collectives import collective_text, sharding_text

    out = []
    if data.get("collective") is not None:
        out.append(f"collective: {collective_text(data['collective'])}")
    if data.get("sharding") is not None:
        out.append(f"sharding: {sharding_text(data['sharding'])}")
    if data.get("device_shape") is not None:
        out.append(f"per device: [{','.join(str(d) for d in data['device_shape'])}]")
    return out


def spmd_legend(graph) -> list[str]:
    """Legend lines that say how to read shapes of a sharded module (none for others)."""
    spmd = (graph.graph.get("attrs") or {}).get("spmd")
    if not spmd or (spmd.get("devices") or 1) <= 1:
        return []  # a 1-device step's {replicated} annotations say nothing to read
    mesh = spmd.get("mesh")
    where = ""
    if mesh:
        where = " on mesh " + "x".join(str(n) for n in mesh["shape"])
        where += " (" + ",".join(mesh["axes"]) + ")"
    if spmd.get("partitioned"):
        return [f"partitioned for {spmd.get('devices')} devices{where}: shapes are per device"]
    return [
        f"sharded over {spmd.get('devices')} devices{where}: "
        f"edge 'A · B{PER_DEVICE}' = global shape A, per-device shape B"
    ]
