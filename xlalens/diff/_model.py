"""The records a diff is made of (frozen dataclasses; dicts only at the JSON edge)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from xlalens.diff._kinds import CHANGED, KERNEL_CLASSES, UNCHANGED  # noqa: F401 (CHANGED, UNCHANGED: re-exported)


@dataclass(frozen=True, slots=True)
class Change:
    """One field that differs between the two nodes of a pair."""

    field: str
    """``op``, ``dtype``, ``shape``, ``layout``, ``role``, ``param_index`` or ``attrs.<name>``."""
    a: Any
    """The value on the left (plain data; ``None`` when the attribute is absent)."""
    b: Any
    """The value on the right."""


@dataclass(frozen=True, slots=True)
class Pair:
    """A node of A paired with a node of B."""

    a: str
    """Node id in A."""
    b: str
    """Node id in B."""
    status: str
    """``unchanged`` or ``changed``."""
    stage: str
    """Matching stage that paired them: exact, anchor, propagation, similarity, leftover."""
    changes: tuple[Change, ...]
    """What differs (empty when unchanged), sorted by field."""


@dataclass(frozen=True, slots=True)
class OpCount:
    """How often one op occurs on each side."""

    op: str
    """Canonical op."""
    a: int
    """Count in A."""
    b: int
    """Count in B."""


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts and estimates for the report header."""

    unchanged: int
    """Pairs with equal labels."""
    changed: int
    """Pairs with some difference."""
    only_a: int
    """Nodes of A without a partner."""
    only_b: int
    """Nodes of B without a partner."""
    edit_cost: int
    """Cost of the implied edit path (docs/diff.md, 'Edit cost')."""
    nodes: tuple[int, int]
    """Node counts of A and B."""
    edges: tuple[int, int]
    """Edge counts of A and B."""
    op_histogram: tuple[OpCount, ...]
    """Per-op counts over all nodes, sorted by op."""
    kernels: tuple[int, int] | None
    """Kernel counts for two optimized HLO graphs, else ``None``."""
    flops: tuple[int | None, int | None]
    """Estimated FLOPs per side (dot/convolution 2*MACs, elementwise 1 per element); ``None`` unknown."""
    bytes: tuple[int | None, int | None]
    """Estimated bytes moved by the kernels of an optimized graph; ``None`` for other stages."""
    loops: tuple[tuple[tuple[str, int | None], ...], tuple[tuple[str, int | None], ...]] = ((), ())
    """Per side, every ``while``: (name, trip count or None) (``xlalens.ir._loops``)."""


@dataclass(frozen=True, slots=True)
class KernelPair:
    """A group of kernels of A and of B that do the same work (docs/diff.md, 'Kernel map')."""

    kind: str
    """``same_body``, ``changed_body``, ``split``, ``merged``, ``regrouped``, ``only_a`` or ``only_b``."""
    a: tuple[str, ...]
    """Kernel node ids of A (empty for ``only_b``)."""
    b: tuple[str, ...]
    """Kernel node ids of B (empty for ``only_a``)."""
    body: tuple[str, ...]
    """Body diff lines: ``- name op`` only in A, ``+ name op`` only in B, ``~ a -> b: changes``."""
    time_a: float | None
    """Median seconds of A's kernels together, ``None`` without a timing."""
    time_b: float | None
    """Median seconds of B's kernels together, ``None`` without a timing."""

    @property
    def time_delta(self) -> float | None:
        """``time_b - time_a`` when both sides were timed (an only-A/B side counts as 0)."""
        ta = self.time_a if self.a else 0.0
        tb = self.time_b if self.b else 0.0
        if ta is None or tb is None:
            return None
        return tb - ta


@dataclass(frozen=True, slots=True)
class KernelMap:
    """Kernel pairs of two optimized HLO graphs, in A's kernel order then B's."""

    pairs: tuple[KernelPair, ...]
    """Every kernel of A and of B appears in exactly one entry."""
    kernels: tuple[int, int]
    """Kernel counts of A and B."""

    def counts(self) -> dict[str, int]:
        """Entries per kind (every kind present, in a fixed order)."""
        out = dict.fromkeys(KERNEL_CLASSES, 0)
        for p in self.pairs:
            out[p.kind] += 1
        return out


@dataclass(frozen=True, slots=True)
class CollectiveChange:
    """One collective (or a group of them) that the diff inserted, removed, changed or kept."""

    status: str
    """``inserted`` (only in B), ``removed`` (only in A), ``changed``, ``unchanged``,
    ``split`` (one of A is several of B), ``merged`` (several of A are one of B),
    ``regrouped`` (several to several)."""
    kind: str
    """``all-reduce``, ``all-gather``, ... (of A's side, else B's)."""
    a: tuple[str, ...]
    """Node ids in A (empty when inserted)."""
    b: tuple[str, ...]
    """Node ids in B (empty when removed)."""
    axes_a: str
    """Mesh axes A's collectives span (``data``, ``data,model``; ``?`` unknown; ``""`` none)."""
    axes_b: str
    """Mesh axes B's collectives span."""
    bytes_a: int
    """Bytes per device A's collectives send (ring model, xlalens.ir._collectives)."""
    bytes_b: int
    """Bytes per device B's collectives send."""
    changes: tuple[str, ...]
    """What differs, one line each (``collective: ... -> ...``, ``shape: ...``)."""
    near: tuple[str, ...]
    """Where: the op it was inserted for (op_name @ source) and its neighbours,
    ``after X`` / ``before Y`` with their partners on the other side."""


@dataclass(frozen=True, slots=True)
class CollectiveTotal:
    """Collectives of one kind over one set of mesh axes, counted on both sides."""

    kind: str
    """Collective kind."""
    axes: str
    """Mesh axes (``?`` when no mesh is known)."""
    count_a: int
    """How many in A."""
    count_b: int
    """How many in B."""
    bytes_a: int
    """Bytes per device in A (ring model)."""
    bytes_b: int
    """Bytes per device in B."""


@dataclass(frozen=True, slots=True)
class CollectiveDiff:
    """The collectives of two graphs, side by side: totals and each change."""

    totals: tuple[CollectiveTotal, ...]
    """Per (kind, axes), sorted."""
    changes: tuple[CollectiveChange, ...]
    """Inserted, removed, changed, split/merged and unchanged collectives, in B's then A's order."""

    def counts(self) -> dict[str, int]:
        """Changes per status, statuses in a fixed order (zeros included)."""
        out = {k: 0 for k in COLLECTIVE_STATUSES}
        for c in self.changes:
            out[c.status] += 1
        return out


COLLECTIVE_STATUSES = (
    "inserted",
    "removed",
    "changed",
    "split",
    "merged",
    "regrouped",
    "unchanged",
)


@dataclass(frozen=True, slots=True)
class GraphInfo:
    """What a graph is, for the report header."""

    module: str
    """Module name."""
    format: str
    """``hlo`` or ``stablehlo``."""
    stage: str
    """``stablehlo``, ``hlo``, ``optimized_hlo`` or ``unknown``."""
    level: str
    """``raw`` or ``canonical``."""
    source: str
    """Where it came from (path or ``DIR:frontend:artifact``), ``""`` if unknown."""

    @property
    def kind(self) -> str:
        """``stage/level`` with the format when the stage is unknown."""
        stage = self.stage if self.stage != "unknown" else self.format
        return f"{stage}/{self.level}"


@dataclass(frozen=True, slots=True)
class Diff:
    """The structural diff of two graphs: pairs, unpaired nodes and a summary.

    Reports: :meth:`to_text`, :meth:`to_json` (plain dict, schema in docs/diff.md),
    :meth:`to_json_text`, :meth:`to_markdown`. All are deterministic.
    """

    a_info: GraphInfo
    """The left graph's kind."""
    b_info: GraphInfo
    """The right graph's kind."""
    pairs: tuple[Pair, ...]
    """Paired nodes, in A's node order."""
    only_a: tuple[str, ...]
    """Node ids only in A (removed), in A's node order."""
    only_b: tuple[str, ...]
    """Node ids only in B (added), in B's node order."""
    summary: Summary
    """Counts and estimates."""
    kernel_map: KernelMap | None
    """Kernel pairs when both graphs are optimized HLO, else ``None``."""
    all_attrs: bool
    """Whether changes of attributes without semantic effect are reported (``--all-attrs``)."""
    a: nx.MultiDiGraph = field(repr=False, compare=False)
    """The left graph itself (reports read source locations from it)."""
    b: nx.MultiDiGraph = field(repr=False, compare=False)
    """The right graph itself."""
    collectives: CollectiveDiff | None = None
    """Collectives inserted/removed/changed when either graph has any, else ``None``."""

    @property
    def same_kind(self) -> bool:
        """True when both graphs are the same IR stage and level."""
        return self.a_info.kind == self.b_info.kind

    def mapping(self) -> dict[str, str]:
        """``{a_id: b_id}`` for every pair."""
        return {p.a: p.b for p in self.pairs}

    def to_text(self, *, limit: int = 20) -> str:
        """Terminal report (``limit`` entries per op group; 0 for all)."""
        from xlalens.diff._report import to_text

        return to_text(self, limit=limit)

    def to_markdown(self, *, limit: int = 20) -> str:
        """Markdown report for issues and papers (``limit`` rows per op group; 0 for all)."""
        from xlalens.diff._report import to_markdown

        return to_markdown(self, limit=limit)

    def to_json(self) -> dict[str, Any]:
        """Plain-data form: every node of both graphs appears exactly once."""
        from xlalens.diff._report import to_json

        return to_json(self)

    def to_json_text(self) -> str:
        """:meth:`to_json` serialized deterministically (sorted keys, 1-space indent)."""
        import json

        return json.dumps(self.to_json(), sort_keys=True, indent=1) + "\n"
