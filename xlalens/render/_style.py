"""Op categories, their colours, and the legend drawn into every picture."""

from __future__ import annotations

import html

# Category -> (fill colour, legend text). The order is the legend's order.
CATEGORIES: dict[str, tuple[str, str]] = {
    "parameter": ("#c9e7c1", "parameter"),
    "constant": ("#e6e6e6", "constant / iota"),
    "elementwise": ("#cfe2f3", "elementwise"),
    "dot": ("#f4b6b6", "dot / convolution"),
    "reduction": ("#d9c8ec", "reduction"),
    "movement": ("#fde9b0", "data movement"),
    "control": ("#f9cb9c", "control flow"),
    "collective": ("#b7e4e0", "collective"),
    "custom-call": ("#f2c4e3", "custom call"),
    "fusion": ("#a9c7f0", "fusion (kernel)"),
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

_CATEGORY_OPS: dict[str, tuple[str, ...]] = {
    "parameter": ("parameter", "argument"),
    "constant": ("constant", "iota", "rng-bit-generator", "rng"),
    "dot": ("dot", "convolution", "ragged-dot", "dot-general"),
    "reduction": ("reduce", "reduce-window", "select-and-scatter", "argmax", "argmin"),
    "movement": (
        "reshape",
        "transpose",
        "broadcast",
        "slice",
        "dynamic-slice",
        "dynamic-update-slice",
        "concatenate",
        "pad",
        "reverse",
        "gather",
        "scatter",
        "copy",
        "bitcast",
        "sort",
        "get-tuple-element",
        "tuple",
        "copy-start",
        "copy-done",
        "dynamic-reshape",
        "get-dimension-size",
        "set-dimension-size",
        "real-dynamic-slice",
        "dynamic-broadcast-in-dim",
    ),
    "control": (
        "while",
        "conditional",
        "call",
        "return",
        "opt-barrier",
        "after-all",
        "case",
        "if",
        "function",
        "add-dependency",
        "domain",
        "async-start",
        "async-done",
        "async-update",
    ),
    "collective": (
        "all-reduce",
        "all-gather",
        "reduce-scatter",
        "all-to-all",
        "collective-permute",
        "all-reduce-start",
        "all-reduce-done",
        "all-gather-start",
        "all-gather-done",
        "collective-permute-start",
        "collective-permute-done",
        "collective-broadcast",
        "send",
        "send-done",
        "recv",
        "recv-done",
        "partition-id",
        "replica-id",
        "ragged-all-to-all",
    ),
    "custom-call": ("custom-call",),
    "fusion": ("fusion",),
}
_OP_CATEGORY = {op: cat for cat, ops in _CATEGORY_OPS.items() for op in ops}

# Everything else that computes one output element from the same-index input
# elements; listed so that "other" stays the honest bucket for the unknown.
_ELEMENTWISE = frozenset(
    """add subtract multiply divide negate exponential exponential-minus-one log log-plus-one
    sqrt rsqrt cbrt tanh abs power compare select maximum minimum convert bitcast-convert and or
    xor not sign floor ceil clamp remainder logistic round-nearest-afz round-nearest-even
    is-finite cosine sine tan atan2 erf popcnt count-leading-zeros shift-left
    shift-right-arithmetic shift-right-logical real imag complex reduce-precision
    stochastic-convert map clz exp expm1 log1p round_nearest_even round_nearest_afz""".split()
)


def category(op: str) -> str:
    """The colour category of a canonical op (``"other"`` when unknown).

    Args:
        op: canonical op name from the graph schema (``"dot"``, ``"add"``...).

    Returns:
        A key of :data:`CATEGORIES`.

    Example:
        >>> category("broadcast")
        'movement'
    """
    if op in _OP_CATEGORY:
        return _OP_CATEGORY[op]
    if op in _ELEMENTWISE:
        return "elementwise"
    return "other"


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
