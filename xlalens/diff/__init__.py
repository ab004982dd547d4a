"""Structural diff of two xlalens graphs (``xlalens diff``).

Stages: the graphs come from :mod:`xlalens.ir`; :func:`diff` pairs their nodes
(exact structure → anchors and propagation → neighbourhood similarity →
leftovers) and classifies each pair; the :class:`Diff` renders itself as text,
JSON and Markdown. :func:`dump_step` writes a dump's pairwise diffs. See
docs/diff.md.
"""

from xlalens.diff._cost import edit_cost
from xlalens.diff._diff import classify, diff
from xlalens.diff._dump import dump_step
from xlalens.diff._match import Matching, match
from xlalens.diff._model import Change, Diff, GraphInfo, OpCount, Pair, Summary

__all__ = [
    "Change",
    "Diff",
    "GraphInfo",
    "Matching",
    "OpCount",
    "Pair",
    "Summary",
    "classify",
    "diff",
    "dump_step",
    "edit_cost",
    "match",
]
