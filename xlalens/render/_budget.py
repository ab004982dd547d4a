"""The layout budget: what a view may hold, and how long ``dot`` will take on it.

NOTE: [what makes dot slow]
Measured on the views of real modules (a Keras ResNet50 train step on JAX, a
torch_xla TransformerEncoder step, Keras on TF; see docs/render.md), ``dot``'s
time is not a function of the node count. It grows with

- the drawn nodes *including* connector stubs (``cut:*``, ``ext:*``);
- the edges, and the virtual nodes of edges that span many ranks;
- clusters, and above all cluster *nesting*: every nested cluster is laid out
  as its own sub-problem and then constrained into its parent, and mincross
  runs again inside each. A view with 417 nodes, 271 connectors and 105
  clusters nested 6 deep took more than 100 s, while 300 plain nodes take 1 s.

So the planner (``_view.plan``) charges each cluster ``CLUSTER_WEIGHT`` node
units, opens no cluster deeper than ``MAX_DEPTH`` (a deeper scope stays a
collapsed group, that is: folds into its parent view as one box with its own
drill-down) and no more than ``MAX_CLUSTERS`` per view. After emission,
:func:`features` reads the view's real size from its DOT source and
:func:`predict` turns it into seconds with the model fitted in docs/render.md;
a view predicted to miss its deadline is laid out in the cheaper mode at once
instead of waiting for the deadline.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from xlalens._errors import UsageError

# Planner limits (see NOTE above and docs/render.md for the measurements).
MAX_DEPTH = 3
"""Deepest cluster nesting a view may draw (a fusion inside a scope inside a scope)."""
MAX_CLUSTERS = 24
"""Most clusters one view may draw."""
CLUSTER_WEIGHT = 4
"""Node units one cluster costs in the planner's budget."""

# Graphviz's own work limits, applied to every view. Measured on the slowest
# real views (docs/render.md): mclimit/nslimit cut dot's time by 2-5x there
# with no visible change on views that were already fast; remincross=false
# skips a second full mincross pass over the clustered graph.
LIMITS = {
    "mclimit": "0.4",
    "nslimit": "4",
    "nslimit1": "4",
    "searchsize": "20",
    "remincross": "false",
}
# The cheaper mode: no clusters, and the tightest limits.
CHEAP_LIMITS = {
    "mclimit": "0.05",
    "nslimit": "1",
    "nslimit1": "1",
    "searchsize": "5",
    "remincross": "false",
}

OVERVIEW_DEADLINE = 5.0
"""Seconds the overview's layout may take before the cheaper mode is used."""
VIEW_DEADLINE = 2.0
"""Seconds a drill-down's layout may take before the cheaper mode is used."""


def deadlines() -> tuple[float, float]:
    """(overview, drill-down) layout deadlines in seconds, scaled by ``$XLALENS_LAYOUT_DEADLINE``.

    ``XLALENS_LAYOUT_DEADLINE`` is the drill-down deadline in seconds (default 2);
    the overview gets 2.5 times as long.

    Raises:
        UsageError: the variable is not a positive number.
    """
    env = os.environ.get("XLALENS_LAYOUT_DEADLINE")
    if not env:
        return OVERVIEW_DEADLINE, VIEW_DEADLINE
    try:
        v = float(env)
        if not v > 0:
            raise ValueError
    except ValueError:
        raise UsageError(
            f"XLALENS_LAYOUT_DEADLINE={env!r}: give the drill-down layout deadline in seconds "
            "(a positive number, default 2)"
        ) from None
    return 2.5 * v, v


@dataclass(frozen=True, slots=True)
class Features:
    """The size of one view as ``dot`` sees it (read from its DOT source)."""

    nodes: int
    """Nodes drawn, connectors, stubs and the legend included."""
    connectors: int
    """Of ``nodes``: stubs for cut long edges and for producers/readers outside the view."""
    edges: int
    """Edges drawn."""
    clusters: int
    """Clusters (``subgraph cluster_*``)."""
    depth: int
    """Deepest cluster nesting (0: no cluster)."""


_NODE = re.compile(r'^\s*"[^"]*(?:\\.[^"]*)*"\s*\[')
_EDGE = re.compile(r'^\s*"[^"]*(?:\\.[^"]*)*"\s*->')


def features(source: str) -> Features:
    """Count nodes, connectors, edges, clusters and nesting depth of a DOT source
    written by :class:`xlalens.render._view.Emitter` (one statement per line).

    Example:
        >>> features('digraph { subgraph cluster_1 {\\n "a" [];\\n}\\n "a" -> "b" [];\\n "b" [];\\n}')
        Features(nodes=2, connectors=0, edges=1, clusters=1, depth=1)
    """
    nodes = conn = edges = clusters = depth = cur = 0
    for line in source.splitlines():
        s = line.strip()
        if s.startswith("subgraph cluster_"):
            clusters += 1
            cur += 1
            depth = max(depth, cur)
        elif s == "}":
            cur = max(0, cur - 1)
        elif _EDGE.match(s):
            edges += 1
        elif _NODE.match(s):
            nodes += 1
            if s.startswith(('"cut:', '"ext:')):
                conn += 1
    return Features(nodes, conn, edges, clusters, depth)


def predict(f: Features) -> float:
    """Predicted ``dot -Tsvg`` seconds for a view of this size, with :data:`LIMITS` applied.

    The model (fitted in docs/render.md on 1,678 views of a real ResNet50
    train step, on this project's 2-core machine): a start-up cost, a term in
    connectors x clusters (edges that enter frames from stubs outside them are
    what makes dot's mincross and ranking slow: the strongest single predictor,
    correlation 0.85), and quadratic terms in edges and nodes for large flat
    views. It ranks views and catches the hopeless ones; it is not exact.

    Example:
        >>> predict(Features(300, 0, 320, 0, 0)) < 2.0
        True
    """
    return 0.08 + 1.8e-3 * f.connectors * f.clusters + 1.0e-5 * f.edges**2 + 2.0e-6 * f.nodes**2
