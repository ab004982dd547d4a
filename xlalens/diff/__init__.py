"""Structural diff of two xlalens graphs (``xlalens diff``).

Stages: the graphs come from :mod:`xlalens.ir`; :func:`diff` pairs their nodes
with the matchers of :data:`MATCHERS` (exact structure → anchors and
propagation → neighbourhood similarity → leftovers; every pair needs evidence),
matching optimized HLO with its fusions inlined; for two optimized graphs the
op pairs are grouped into a :class:`KernelMap` (same body, changed body, split,
merged, only in A/B). The :class:`Diff` renders itself as text, JSON and
Markdown. :func:`dump_step` writes a dump's pairwise diffs. See docs/diff.md.
"""

from xlalens.diff._cost import edit_cost
from xlalens.diff._diff import classify, diff
from xlalens.diff._dump import dump_step
from xlalens.diff._kernels import KERNEL_CLASSES, kernel_map, kernel_times
from xlalens.diff._match import HIDDEN_ATTRS, MATCHERS, Matcher, Matching, match
from xlalens.diff._model import (
    Change,
    Diff,
    GraphInfo,
    KernelMap,
    KernelPair,
    OpCount,
    Pair,
    Summary,
)
from xlalens.ir._schema import DEFAULT_LEVEL

__all__ = [
    "DEFAULT_LEVEL",
    "HIDDEN_ATTRS",
    "KERNEL_CLASSES",
    "MATCHERS",
    "Change",
    "Diff",
    "GraphInfo",
    "KernelMap",
    "KernelPair",
    "Matcher",
    "Matching",
    "OpCount",
    "Pair",
    "Summary",
    "classify",
    "diff",
    "dump_step",
    "edit_cost",
    "kernel_map",
    "kernel_times",
    "match",
]
