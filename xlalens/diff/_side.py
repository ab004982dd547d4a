"""One graph as integer-indexed lists (the matcher's compact view), and the match result.

The networkx dict-of-dicts is too slow to walk repeatedly on 20k-node modules,
so the matchers work on :class:`_Side`: lists indexed by node number, in the
graph's insertion (program) order.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter

import networkx as nx

from xlalens.diff._flatten import _FlatPlan
from xlalens.diff._labels import node_labels
from xlalens.ir._ops import HEAVY_OPCODES

# The capture flags of a one-operand node (shared tuples: one fewer allocation per node).
_PLAIN, _CAPTURE = (False,), (True,)


class _Side:
    """One graph as integer-indexed lists (see module docstring)."""

    __slots__ = (
        "calls",
        "cidx",
        "comp",
        "comp_params",
        "comp_root",
        "comps",
        "data",
        "dtype",
        "full_label",
        "graph",
        "heavy",
        "ids",
        "in_edges",
        "index",
        "label",
        "n_edges",
        "op",
        "operand_capture",
        "operand_keys",
        "operands",
        "role",
        "shape",
        "users",
    )

    def __init__(
        self,
        graph: nx.MultiDiGraph,
        interner: dict,
        plan: _FlatPlan | None = None,
        memo: dict[str, str] | None = None,
    ) -> None:
        self.graph = graph
        hidden = plan.hidden if plan is not None else frozenset()
        home = plan.home if plan is not None else {}
        res = plan.resolved if plan is not None else {}
        # Whole-list builtins (map, itemgetter, zip) walk the nodes in C, not
        # one Python loop step per node and field.
        nodes = graph._node
        ids: list[str] = [n for n in nodes if n not in hidden] if hidden else list(nodes)
        data: list[dict] = list(map(nodes.__getitem__, ids)) if hidden else list(nodes.values())
        index: dict[str, int] = dict(zip(ids, range(len(ids))))
        self.ids, self.index, self.data = ids, index, data
        n = len(ids)
        # The parameter number is left out of ``label`` and added back by the
        # fingerprint only for parameters without a role (see NOTE: [exact structure
        # ...]). memo: attribute keys, shared by both sides (NOTE: [attribute keys by
        # repr]).
        self.full_label = node_labels(data, memo)
        # NOTE: [one walk over the node dicts] The label holds the op, dtype, shape
        # (a tuple) and role as the node has them: the columns are the labels
        # transposed (in C), where one walk over the node dicts per field cost about
        # as much each as the labels' walk on a 10^5-node module (the dicts do not
        # fit in the caches; each walk is a pass over memory).
        cols = list(zip(*self.full_label)) if n else [()] * 8
        self.op, self.dtype, self.shape = list(cols[0]), list(cols[1]), list(cols[2])
        self.role = list(cols[6])
        # The dots and convolutions, in node order: the dataflow keys walk these on
        # each of their rounds, not every node (most of a 10^5-node module is not one).
        self.heavy = [i for i, op in enumerate(self.op) if op in HEAVY_OPCODES]
        if res:
            # NOTE: [roles through fusions] In optimized HLO the result role
            # (`block0.bn1.mean`) sits on the fusion instruction, which the
            # flattened form hides; it names the value of the fused root, so
            # the root carries it as an anchor (else the same fused update of
            # two layers pairs crosswise, block0's with block1's).
            # Only resolved (hidden) nodes can pass one on: walk those, then, where
            # two give the same root, in graph order (the first one keeps it).
            cands = [
                (nid, r)
                for nid, r in res.items()
                if r in index
                and (d := nodes[nid]).get("role") is not None
                and d["param_index"] is None
            ]
            if len({r for _, r in cands}) < len(cands):
                pos = dict(zip(nodes, range(len(nodes))))
                cands.sort(key=lambda c: pos[c[0]])
            for nid, r in cands:
                i = index[r]
                if self.role[i] is None and data[i]["param_index"] is None:
                    self.role[i] = nodes[nid]["role"]
        self.label = [interner.setdefault(lab[:-1], len(interner)) for lab in self.full_label]
        comps = graph.graph.get("computations", {})
        if plan is not None:
            comps = {c: comp for c, comp in comps.items() if c not in plan.inlined}
        self.comps = sorted(comps)
        cidx = {c: i for i, c in enumerate(self.comps)}
        self.cidx = cidx
        # Home computation and callees in one walk over the node dicts (NOTE: [one
        # walk over the node dicts]).
        homes, called = (
            map(list, zip(*map(itemgetter("computation", "calls"), data))) if n else ([], [])
        )
        # Callee numbers per node, in call order (what callees() gives; [] without one).
        self.calls = [[cidx[c] for c in cs if c in cidx] if cs else [] for cs in called]
        comp_no = {c: cidx.get(home.get(c, c), -1) for c in set(homes)}
        self.comp = list(map(comp_no.__getitem__, homes))
        self.comp_root = [
            index.get(res.get(comps[c]["root"], comps[c]["root"]), -1)
            if comps[c].get("root") is not None
            else -1
            for c in self.comps
        ]
        self.comp_params = [
            [index[p] for p in comps[c].get("params", []) if p in index] for c in self.comps
        ]
        # NOTE: [networkx internals] ``graph._pred`` (dict v -> u -> key -> edge
        # data) is read directly: the public edge views cost about three times
        # as much per edge, which dominates on 20k-node modules.
        pred = graph._pred
        # Node id -> its number in the flattened form, hidden nodes by what they
        # resolve to (a fused parameter by the fusion's operand); a hidden node that
        # resolves to nothing shown is absent. One lookup per operand, not two.
        number = index
        if res:
            number = dict(index)
            number.update((h, index[r]) for h, r in res.items() if r in index)
        get = number.get
        empty: tuple = ()
        operands: list[tuple[int, ...]] = []
        operand_keys: list[tuple[int, ...]] = []
        operand_capture: list[tuple[bool, ...]] = []
        users: list[list[tuple[int, int]]] = [[] for _ in range(n)]
        dropped = 0  # edges whose operand the flattening hides (counted for in_edges)
        for v, nid in enumerate(ids):
            preds = pred[nid]
            if not preds:
                operands.append(empty)
                operand_keys.append(empty)
                operand_capture.append(empty)
                continue
            if len(preds) == 1:
                # One operand node: no list to build and sort (most ops of a large module).
                ((u, keyed),) = preds.items()
                if len(keyed) == 1:
                    ((k, d),) = keyed.items()
                    u = get(u)
                    if u is None:  # hidden by the flattening (as below)
                        dropped += 1
                        operands.append(empty)
                        operand_keys.append(empty)
                        operand_capture.append(empty)
                        continue
                    operands.append((u,))
                    operand_keys.append((k,))
                    operand_capture.append(_CAPTURE if d.get("kind") == "capture" else _PLAIN)
                    users[u].append((v, 0))
                    continue
            elif len(preds) == 2:
                # Two operand nodes, one edge each (the binary ops): the general
                # path's list, sort and unzip, spelled out (the same tuples).
                (u, keyed), (w, keyed2) = preds.items()
                if len(keyed) == 1 and len(keyed2) == 1:
                    ((k, d),) = keyed.items()
                    ((k2, d2),) = keyed2.items()
                    u, w = get(u), get(w)
                    if u is not None and w is not None and k != k2:
                        if k > k2:
                            u, w, k, k2, d, d2 = w, u, k2, k, d2, d
                        operands.append((u, w))
                        operand_keys.append((k, k2))
                        operand_capture.append(
                            (d.get("kind") == "capture", d2.get("kind") == "capture")
                        )
                        users[u].append((v, 0))
                        users[w].append((v, 1))
                        continue
            ops = [
                (k, j, d.get("kind") == "capture")
                for u, keyed in preds.items()
                if (j := get(u)) is not None
                for k, d in keyed.items()
            ]
            dropped += sum(map(len, preds.values())) - len(ops)
            if not ops:  # every operand hidden by the flattening
                operands.append(empty)
                operand_keys.append(empty)
                operand_capture.append(empty)
                continue
            ops.sort()
            ks, us, cs = zip(*ops)
            operands.append(us)
            operand_keys.append(ks)
            operand_capture.append(cs)
            for pos, u in enumerate(us):
                users[u].append((v, pos))
        self.operands, self.operand_keys, self.operand_capture = (
            operands,
            operand_keys,
            operand_capture,
        )
        self.users = users
        self.n_edges = sum(map(len, self.operands))
        # Edges into these nodes in the graph as given (the flattened form drops
        # those read from a hidden node that stands for nothing shown).
        self.in_edges = self.n_edges + dropped

    def callees(self, i: int) -> list[int]:
        """Computation numbers that node ``i`` calls, in call order."""
        return [self.cidx[c] for c in self.data[i]["calls"] if c in self.cidx]

    def entry_comp(self) -> int:
        """The entry computation's number (-1 when the graph has none)."""
        return self.cidx.get(self.graph.graph.get("entry"), -1)


@dataclass(frozen=True, slots=True)
class Matching:
    """The result of :func:`match`: which node of A is paired with which of B."""

    pairs: tuple[tuple[str, str, str], ...]
    """``(a_id, b_id, stage)`` in A's node order."""
    only_a: tuple[str, ...]
    """Unpaired node ids of A, in A's node order."""
    only_b: tuple[str, ...]
    """Unpaired node ids of B, in B's node order."""
    edit_cost: int
    """Cost of the implied edit path (xlalens.diff._cost, NOTE: [edit costs])."""
    edges: tuple[int, int]
    """Edge counts of A and B."""
    labels: tuple[dict[str, tuple], dict[str, tuple]] | None = None
    """``node_label`` per node id of each side where the matcher computed them (a cache)."""
