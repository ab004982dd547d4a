"""DOT source of planned views: node labels, tooltips, clusters, edges and legends.

``_plan`` cuts a graph into views under a node budget (NOTE: [how a large graph
is cut into SVGs] there); :class:`Emitter` writes one view's DOT: every unit drawn
as a node or a cluster, links to the drill-downs of collapsed units, operand
edges (bundled between groups), the heat and diff colours and the legend.
"""

from __future__ import annotations

from collections import Counter

import networkx as nx

from xlalens.render import _budget, _cost, _style
from xlalens.render._dot import REASON, quote
from xlalens.render._plan import (  # noqa: F401  (the planner's names, re-exported)
    _REPLACED_OPS,
    MODES,
    Unit,
    ViewPlan,
    _Builder,
    _regroup,
    plan,
    scope_path,
    slug,
    split_scope,
    walk_nodes,
)

# Longest edge drawn, in ranks (see NOTE: [long edges]).
_LONG = 6
# Virtual nodes dot handles quickly; below this no edge is cut.
_VIRTUAL_OK = 1500
# Row length when a view without edges is stacked into a grid.
_GRID = 12
# Edges per drawn node above which implied edges are dropped (NOTE: [dense group views]).
_DENSE = 1.6
# Caption line of a view laid out in the cheaper mode; the reason is filled in
# by the layout step (see xlalens.render._dot.layout_views).
DEFERRED_TIP = (
    " (not drawn by the dump yet: `xlalens render DIR --all-views` draws it; "
    "see docs/render.md, Lazy views)"
)
CHEAP_NOTE = f"⚠ cheaper layout (frames dropped, tighter dot limits): {REASON}"


def _fmt_shape(dtype: str, shape: tuple) -> str:
    if dtype in ("tuple", "token", "none"):
        return dtype
    return f"{dtype}[{','.join(str(d) if d >= 0 else '?' for d in shape)}]"


def _short(value: object, n: int = 160) -> str:
    text = str(value)
    return text if len(text) <= n else text[: n - 1] + "…"


def node_tooltip(data: dict) -> str:
    """Tooltip text of one op: type, source location, op_name and attributes."""
    # A long tuple's type (an LLM step's root: thousands of elements) is cut: dot
    # rejects a quoted string over 16,384 characters.
    lines = [
        f"{data.get('name')} = {data.get('opcode')}  {_short(data.get('type') or '', 400)}".rstrip()
    ]
    if data.get("op_name"):
        lines.append(f"op_name: {data['op_name']}")
    if data.get("source_file"):
        from xlalens._paths import display_path

        loc = display_path(data["source_file"])
        if data.get("source_line") is not None:
            loc += f":{data['source_line']}"
        lines.append(f"source: {loc}")
    if data.get("role"):
        lines.append(f"role: {data['role']}")
    if data.get("calls"):
        lines.append("calls: " + ", ".join(data["calls"]))
    lines += _style.spmd_tooltip(data)
    for k in sorted(data.get("attrs") or {}):
        lines.append(f"{k}: {_short(data['attrs'][k])}")
        if len(lines) >= 16:
            lines.append("…")
            break
    return "\n".join(lines)


def node_label(data: dict) -> str:
    """Two-line label: instruction name, then op and result type."""
    op = data.get("op") or data.get("opcode") or "?"
    if op == "while" and isinstance((data.get("attrs") or {}).get("trip_count"), int):
        op = f"while x{data['attrs']['trip_count']}"
    if data.get("param_index") is not None and op == "parameter":
        op = f"parameter({data['param_index']})"
    dtype = data.get("dtype", "none")
    second = op if dtype == "none" else f"{op} {_fmt_shape(dtype, tuple(data.get('shape') or ()))}"
    if data.get("role"):
        second += f"  [{data['role']}]"
    label = f"{_short(data.get('name') or '?', 48)}\n{second}"
    # Heat view: kernel times put on the graph by xlalens.timing.annotate.
    attrs = data.get("attrs") or {}
    share, secs = attrs.get("time_share"), attrs.get("time_s")
    if isinstance(share, (int, float)) and isinstance(secs, (int, float)):
        label += f"\ntime {share * 100:.1f}% · {_fmt_time(secs)}"
    return label


def _fmt_time(secs: float) -> str:
    if secs < 1e-3:
        return f"{secs * 1e6:.3g} µs"
    return f"{secs * 1e3:.3g} ms" if secs < 1 else f"{secs:.3g} s"


class Emitter:
    """Writes the DOT source of one planned view."""

    def __init__(
        self,
        g: nx.MultiDiGraph,
        view: ViewPlan,
        links: dict[str, str],
        *,
        status: dict[str, str] | None = None,
        pair_class: dict[str, str] | None = None,
        edge_labels: bool = True,
        legend_extra: list[str] = (),
        flat: bool = False,
        heat: dict[str, float] | None = None,
        paint_heat: bool = True,
        deferred: frozenset[str] = frozenset(),
    ) -> None:
        self.g = g
        self.deferred = deferred
        self.flat = flat
        self.heat = heat
        self.paint_heat = paint_heat and heat is not None
        self.view = view
        self.links = links
        self.status = status
        self.pair_class = pair_class or {}
        self.edge_labels = edge_labels
        self.legend_extra = list(legend_extra)
        self.lines: list[str] = []
        self.rep: dict[str, str] = {}  # graph node -> drawn DOT node name
        self.in_port: dict[str, dict[int, str]] = {}
        self.framed: list[str] = []  # graph nodes drawn as a frame (expanded kernels)
        self.out_port: dict[str, str] = {}
        self.categories: set[str] = set()
        self.n_groups = 0
        self.scopes_drawn = False
        self.n_internal = 0
        self._cluster = 0

    # -- nodes ------------------------------------------------------------
    def _op_node(self, u: Unit, indent: str, collapsed: bool) -> None:
        data = self.g._node[u.node]
        name = u.key
        cat = _style.category(data.get("op", ""))
        self.categories.add(_style.node_category(data))
        colour = _style.node_fill(data)
        classes = [f"xl-op xl-cat-{cat}"]
        if self.status is not None:
            st = self.status.get(u.node, "unchanged")
            colour = _style.DIFF_STATUS[st][0]
            classes.append(f"xl-{st}")
            if u.node in self.pair_class:
                classes.append(self.pair_class[u.node])
        fontcolor = ""
        if self.heat is not None:
            inside = walk_nodes(u) if collapsed else [u.node]
            classes.append(f"xl-heat-{_style.heat_band(self._heat_share(inside) or 0.0)}")
            if self.paint_heat:
                colour = self._heat_fill(inside) or _style.HEAT_NONE
                if _style.heat_band(self._heat_share(inside) or 0.0) >= _style.HEAT_DARK:
                    fontcolor = "white"
        attrs = {
            "label": node_label(data),
            "tooltip": node_tooltip(data),
            "fillcolor": colour,
            "fontcolor": fontcolor,
            "id": "n:" + u.node,
        }
        if collapsed:
            n_inner = u.size - 1
            attrs["label"] += f"\n▸ {n_inner} ops inside"
            attrs["tooltip"] += f"\n\nclick: open its {n_inner} ops" + (
                DEFERRED_TIP if u.key in self.deferred else ""
            )
            attrs["peripheries"] = "2"
            attrs["URL"] = self.links.get(u.key, "")
            classes.append("xl-group xl-kernel")
            if u.key in self.deferred:
                classes.append("xl-deferred")
            self.n_groups += 1
        attrs["class"] = " ".join(classes)
        self.lines.append(f"{indent}{quote(name)} [{_attrs(attrs)}];")
        for n in walk_nodes(u) if collapsed else [u.node]:
            self.rep[n] = name

    def _heat_share(self, nodes: list[str]) -> float | None:
        if self.heat is None:
            return None
        return sum(self.heat.get(n, 0.0) for n in nodes)

    def _heat_fill(self, nodes: list[str]) -> str | None:
        share = self._heat_share(nodes)
        return None if share is None else _style.heat_colour(share)

    def _heat_suffix(self, nodes: list[str]) -> str:
        share = self._heat_share(nodes)
        if not share:
            return ""
        return f" · {share * 100:.1f}% of step time"

    def _group_node(self, u: Unit, indent: str) -> None:
        nodes = walk_nodes(u)
        # List comprehensions, not generators: an overview's few groups hold every
        # node of the graph (10^5 at LLM size), and a generator step costs more.
        nd = self.g._node
        hist = Counter([nd[n].get("op", "?") for n in nodes])
        top = ", ".join(
            f"{op}×{c}" for op, c in sorted(hist.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        )
        kernels = len([n for n in nodes if nd[n].get("fusion") == n])
        second = f"{len(nodes)} ops" + (f" · {kernels} kernels" if kernels else "")
        if self.status is None:
            total, unknown = _cost.group_flops(self.g, nodes)
            if total or unknown:
                second += " · " + _cost.fmt_flops(total, unknown)
        heat = self._heat_suffix(nodes)
        label = f"{_short(u.label, 60)}\n{second}{heat}\n{top}"
        classes = "xl-group xl-" + u.kind
        tip = f"{u.label}\n{second}{heat}\n{top}\n\nclick: open this group"
        if u.key in self.deferred:
            classes += " xl-deferred"
            tip += DEFERRED_TIP
        if self.status is not None:
            classes += " xl-mixed"
        if self.heat is not None:
            classes += f" xl-heat-{_style.heat_band(self._heat_share(nodes) or 0.0)}"
        attrs = {
            "label": label,
            "tooltip": tip,
            "shape": "box3d",
            "fillcolor": (self._heat_fill(nodes) if self.paint_heat else None) or _style.GROUP_FILL,
            "fontcolor": "white"
            if self.paint_heat
            and _style.heat_band(self._heat_share(nodes) or 0.0) >= _style.HEAT_DARK
            else "",
            "color": _style.GROUP_BORDER,
            "URL": self.links.get(u.key, ""),
            "class": classes,
            # search outlines the group that holds a node it looks for
            "id": "n:" + u.key,
        }
        self.lines.append(f"{indent}{quote(u.key)} [{_attrs(attrs)}];")
        self.rep.update(dict.fromkeys(nodes, u.key))
        self.n_groups += 1

    def _unit(self, u: Unit, indent: str) -> None:
        expanded = u.key in self.view.expanded or u.key in self.view.folded
        if u.kind == "op":
            if not expanded:
                self._op_node(u, indent, collapsed=bool(u.children))
                return
            data = self.g._node[u.node]
            replaced = data.get("op") in _REPLACED_OPS and len(u.children) == 1
            self.categories.add(_style.category(data.get("op", "")))
            if not self.flat:
                self._cluster += 1
                fill = _style.CATEGORIES["fusion"][0] if data.get("op") == "fusion" else "#fbfbfb"
                kind = (data.get("attrs") or {}).get("kind")
                title = f"{data.get('name')} ({data.get('op')}{', ' + str(kind) if kind else ''})"
                title += self._heat_suffix([u.node])
                self.lines.append(f"{indent}subgraph cluster_{self._cluster} {{")
                self.lines.append(
                    f"{indent}  {_attrs({'label': title, 'style': 'rounded,filled', 'fillcolor': _tint((self._heat_fill([u.node]) if self.paint_heat else None) or fill), 'color': '#7f9cc6', 'tooltip': node_tooltip(data), 'class': 'xl-cluster xl-kernel-cluster', 'id': 'n:' + u.node}, sep='; ')};"
                )
            self.framed.append(u.node)
            if not replaced:
                self._op_node(u, indent + "  ", collapsed=False)
            for body in u.children:
                self._body(body, indent + "  ", inline=replaced)
            if not self.flat:
                self.lines.append(f"{indent}}}")
            if replaced:
                comp = u.children[0].key[len("body:") :]
                cinfo = self.g.graph["computations"][comp]
                ports = {}
                for i, p in enumerate(cinfo.get("params") or []):
                    ports[i] = p
                self.in_port[u.node] = ports
                if cinfo.get("root"):
                    self.out_port[u.node] = cinfo["root"]
            return
        if not expanded:
            self._group_node(u, indent)
            return
        if self.flat or u.key in self.view.folded:
            for m in u.children:
                self._unit(m, indent)
            return
        self._cluster += 1
        self.scopes_drawn = True
        self.lines.append(f"{indent}subgraph cluster_{self._cluster} {{")
        self.lines.append(
            f"{indent}  {_attrs({'label': _short(u.label, 80), 'style': 'rounded,dashed', 'color': _style.GROUP_BORDER, 'tooltip': u.label, 'class': 'xl-cluster xl-' + u.kind}, sep='; ')};"
        )
        for m in u.children:
            self._unit(m, indent + "  ")
        self.lines.append(f"{indent}}}")

    def _body(self, body: Unit, indent: str, inline: bool) -> None:
        if inline or self.flat:
            for m in body.children:
                self._unit(m, indent)
            return
        self._cluster += 1
        self.lines.append(f"{indent}subgraph cluster_{self._cluster} {{")
        self.lines.append(
            f"{indent}  {_attrs({'label': body.label, 'style': 'rounded', 'color': '#9e9e9e', 'class': 'xl-cluster xl-body'}, sep='; ')};"
        )
        for m in body.children:
            self._unit(m, indent + "  ")
        self.lines.append(f"{indent}}}")

    # -- edges ------------------------------------------------------------
    def _resolve_src(self, n: str) -> str | None:
        for _ in range(8):
            if n in self.out_port:
                n = self.out_port[n]
            else:
                break
        return self.rep.get(n)

    def _resolve_dst(self, n: str, k: int) -> str | None:
        for _ in range(8):
            ports = self.in_port.get(n)
            if ports is not None and k in ports:
                n = ports[k]
                k = -1
            else:
                break
        return self.rep.get(n)

    def edges(self) -> None:
        """Aggregate graph edges onto drawn nodes, add stubs for the outside, and
        cut long edges (see NOTE: [long edges])."""
        agg: dict[tuple[str, str], list] = {}
        ext_in: dict[str, set[str]] = {}
        ext_out: dict[str, set[str]] = {}
        inside = self.rep
        # NOTE: [networkx internals] the adjacency dicts directly (same order as
        # ``in_edges``/``out_edges``): the edge views cost ~3x per edge, and the
        # overview of a 150k-node module walks every edge once.
        pred, succ = self.g._pred, self.g._succ
        in_port, out_port = self.in_port, self.out_port
        for v in [*inside, *(n for n in in_port if n not in inside)]:
            # Without ports a node's edges all land on what draws it.
            ported = v in in_port
            dst = None if ported else inside.get(v)
            for u, keyed in pred[v].items():
                internal = u in inside or u in out_port
                src = (
                    (self._resolve_src(u) if u in out_port else inside.get(u)) if internal else None
                )
                for k, d in keyed.items():
                    if ported:
                        dst = self._resolve_dst(v, k)
                    if internal:
                        if src is None or dst is None or src == dst:
                            continue
                        item = agg.get((src, dst))
                        if item is None:
                            agg[(src, dst)] = [1, d, d.get("kind") == "capture"]
                        else:
                            item[0] += 1
                    elif dst is not None:
                        ext_in.setdefault(u, set()).add(dst)
            for w in succ[v]:
                if w not in inside and w not in in_port:
                    src = self._resolve_src(v)
                    if src is not None:
                        ext_out.setdefault(w, set()).add(src)
        self.n_internal = len(agg)
        edges: list[tuple[str, str, dict[str, str], str]] = []
        for (src, dst), (count, d, capture) in sorted(agg.items()):
            attrs: dict[str, str] = {}
            if count == 1:
                shape = _fmt_shape(d.get("dtype", "none"), tuple(d.get("shape") or ()))
                shape = _style.per_device_label(shape, d)
                if self.edge_labels:
                    attrs["label"] = shape
                attrs["tooltip"] = shape
            else:
                attrs["label"] = f"×{count}"
                attrs["penwidth"] = "1.6"
                attrs["tooltip"] = f"{count} tensors"
            if capture:
                attrs["style"] = "dashed"
            edges.append((src, dst, attrs, attrs.get("tooltip", "")))
        stubs: dict[str, dict[str, str]] = {}
        self._stubs(ext_in, "in", edges, stubs)
        self._stubs(ext_out, "out", edges, stubs)
        self._emit_edges(edges, stubs)

    def _stubs(self, ext: dict[str, set[str]], way: str, edges: list, stubs: dict) -> None:
        if not ext:
            return
        names = sorted(ext, key=lambda n: (self.g._node[n].get("name") or n, n))
        shown, rest = names[:8], names[8:]
        style = {
            "shape": "note",
            "fillcolor": _style.EXTERNAL_FILL,
            "fontcolor": "#666666",
            "color": "#aaaaaa",
            "class": "xl-external",
        }
        dotted = {"style": "dotted", "color": "#999999"}
        for n in shown:
            data = self.g._node[n]
            stub = f"ext:{way}:{n}"
            shape = _fmt_shape(data.get("dtype", "none"), tuple(data.get("shape") or ()))
            tip = (
                "input from outside this view: " if way == "in" else "read outside this view by: "
            ) + n
            stubs[stub] = {
                "label": f"{_short(data.get('name') or n, 40)}\n{shape}",
                "tooltip": tip,
                **style,
            }
            for t in sorted(ext[n]):
                a, b = (stub, t) if way == "in" else (t, stub)
                edges.append((a, b, dict(dotted), data.get("name") or n))
        if rest:
            stub = f"ext:{way}:more"
            what = "more inputs" if way == "in" else "more readers outside"
            stubs[stub] = {
                "label": f"+{len(rest)} {what}",
                "tooltip": ", ".join(rest[:40]),
                **style,
            }
            for t in sorted({t for n in rest for t in ext[n]})[:16]:
                a, b = (stub, t) if way == "in" else (t, stub)
                edges.append((a, b, dict(dotted), f"{len(rest)} outside"))

    def _emit_edges(self, edges: list, stubs: dict[str, dict[str, str]]) -> None:
        # NOTE: [long edges] dot routes an edge through one virtual node per rank
        # it spans. A view of a training step links each forward layer to its
        # backward layer ~100 ranks below; a few hundred such edges made 78,000
        # virtual nodes and a layout that did not finish in 300 s. Edges that
        # span more than _LONG ranks (estimated by longest path) are cut, longest
        # first, while the view holds more than _VIRTUAL_OK virtual nodes, into two
        # short stubs, one below the producer ("to ...") and one above the
        # consumer ("from ..."), each listing the other end in its tooltip.
        dg = nx.DiGraph()
        dg.add_edges_from((a, b) for a, b, _, _ in edges)
        drawn_nodes = max(1, dg.number_of_nodes())
        if len(edges) > _DENSE * drawn_nodes:
            # NOTE: [dense group views] Between collapsed groups nearly every
            # pair exchanges some tensor (a forward block feeds every later
            # block's backward), so a view of 80 groups had 380 edges: unreadable,
            # and dot spent 12 s on their crossings. An edge implied by a path
            # (A->C when A->B->C) is dropped, and the legend says how many.
            # On the condensation, so that cycles between groups are allowed.
            cd = nx.condensation(dg)
            of = cd.graph["mapping"]
            keep = set(nx.transitive_reduction(cd).edges)
            before = len(edges)
            edges = [e for e in edges if of[e[0]] == of[e[1]] or (of[e[0]], of[e[1]]) in keep]
            limit = int(_DENSE * drawn_nodes)
            if len(edges) > limit:
                # Still dense (groups that feed each other both ways): keep the
                # edges between nearby ranks, drop the longest.
                rk: dict[int, int] = {}
                for c in nx.topological_sort(cd):
                    rk[c] = max((rk[p] + 1 for p in cd.predecessors(c)), default=0)
                order = sorted(
                    range(len(edges)),
                    key=lambda i: (abs(rk[of[edges[i][1]]] - rk[of[edges[i][0]]]), i),
                )
                edges = [edges[i] for i in sorted(order[:limit])]
            dg = nx.DiGraph()
            dg.add_edges_from((a, b) for a, b, _, _ in edges)
            self.legend_extra.append(
                f"{before - len(edges)} implied or long edges between groups not drawn"
            )
        cond = nx.condensation(dg)
        rank_c: dict[int, int] = {}
        for c in nx.topological_sort(cond):
            rank_c[c] = max((rank_c[p] + 1 for p in cond.predecessors(c)), default=0)
        member = cond.graph["mapping"]
        rank = {n: rank_c[member[n]] for n in dg}
        outs: dict[str, list[str]] = {}
        ins: dict[str, list[str]] = {}
        used: set[str] = set()
        spans = sorted(
            ((abs(rank[b] - rank[a]), i) for i, (a, b, _, _) in enumerate(edges)), reverse=True
        )
        virtual = sum(max(0, s - 1) for s, _ in spans)
        cut: set[int] = set()
        for span, i in spans:
            if virtual <= _VIRTUAL_OK or span <= _LONG:
                break
            cut.add(i)
            virtual -= span - 1
        for i, (a, b, attrs, what) in enumerate(edges):
            if i in cut:
                outs.setdefault(a, []).append(self._name_of(b, stubs))
                ins.setdefault(b, []).append(
                    self._name_of(a, stubs) + (f" ({what})" if what else "")
                )
                continue
            used.update((a, b))
            self.lines.append(f"  {quote(a)} -> {quote(b)} [{_attrs(attrs)}];")
        conn = {
            "shape": "cds",
            "style": "filled",
            "fillcolor": "#f3f3f3",
            "color": "#bbbbbb",
            "fontsize": "7",
            "height": "0.2",
            "class": "xl-connector",
        }
        for a in sorted(outs):
            items = sorted(set(outs[a]))
            name = f"cut:out:{a}"
            lbl = f"to {_short(items[0], 28)}" + (f" +{len(items) - 1}" if len(items) > 1 else "")
            self.lines.append(
                f"  {quote(name)} [{_attrs({**conn, 'label': lbl, 'tooltip': 'long edges, read further down by:' + chr(10) + chr(10).join(items[:30])})}];"
            )
            self.lines.append(
                f'  {quote(a)} -> {quote(name)} [style=dashed, color="#aaaaaa", arrowhead=none];'
            )
            used.add(a)
        for b in sorted(ins):
            items = sorted(set(ins[b]))
            name = f"cut:in:{b}"
            lbl = f"from {_short(items[0], 28)}" + (f" +{len(items) - 1}" if len(items) > 1 else "")
            self.lines.append(
                f"  {quote(name)} [{_attrs({**conn, 'label': lbl, 'tooltip': 'long edges, produced further up by:' + chr(10) + chr(10).join(items[:30])})}];"
            )
            self.lines.append(f'  {quote(name)} -> {quote(b)} [style=dashed, color="#aaaaaa"];')
            used.add(b)
        for stub in sorted(stubs):
            if stub in used:
                self.lines.append(f"  {quote(stub)} [{_attrs(stubs[stub])}];")

    def _name_of(self, drawn: str, stubs: dict[str, dict[str, str]]) -> str:
        if drawn in stubs:
            return stubs[drawn]["label"].split("\n")[0]
        if drawn.startswith("op:"):
            return self.g._node[drawn[3:]].get("name") or drawn[3:]
        return drawn.split(":", 1)[-1].rsplit("/", 1)[-1]

    # -- whole graph ------------------------------------------------------
    def source(self, title: str, body_first: list[str] = ()) -> str:
        limits = _budget.CHEAP_LIMITS if self.flat else _budget.LIMITS
        if self.flat:
            title += "\n" + CHEAP_NOTE
        gattrs = {
            "rankdir": "TB",
            "fontname": "Helvetica",
            "fontsize": "11",
            "nodesep": "0.18",
            "ranksep": "0.32",
            "label": title,
            "labelloc": "t",
            "labeljust": "l",
            "tooltip": title,
            "newrank": "true",
            **limits,
        }
        header = [
            "digraph xlalens {",
            f"  graph [{_attrs(gattrs)}];",
            '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=9, height=0.3, margin="0.06,0.03", penwidth=0.8];',
            '  edge [fontname="Helvetica", fontsize=7, arrowsize=0.5, color="#5a5a5a", fontcolor="#555555"];',
            *body_first,
        ]
        for u in self.view.units:
            self._unit(u, "  ")
        self.edges()
        if not self.n_internal and len(self.view.units) > _GRID:
            # No edge at all (a pool of parameters): dot would put every node on
            # one rank, a picture hundreds of boxes wide. Invisible edges stack
            # them in rows of _GRID instead.
            names = [u.key for u in self.view.units]
            for a, b in zip(names, names[_GRID:]):
                self.lines.append(f"  {quote(a)} -> {quote(b)} [style=invis];")
        if self.paint_heat:
            extra = [*self.legend_extra, "fill: share of the step's measured kernel time"]
            if self.n_groups:
                extra.append("3-D box: collapsed group (its kernels' summed share); click to open")
            legend = _style.legend_label(_style.heat_legend(), "kernel time (heat)", extra)
        elif self.status is None:
            entries = _style.legend_entries(self.categories)
            extra = [*self.legend_extra, *_style.spmd_legend(self.g)]
            if "fusion" in self.categories:
                extra.append("blue frame: a fusion's body (one kernel)")
            if self.scopes_drawn:
                extra.append("dashed frame: name scope (op_name prefix)")
            if self.n_groups:
                extra.append("double border / 3-D box: collapsed, click to open")
            legend = _style.legend_label(entries, "op category", extra)
        else:
            entries = list(_style.DIFF_STATUS.values())
            legend = _style.legend_label(entries, "diff status", self.legend_extra)
        header.append(
            f'  "xl:legend" [shape=plaintext, style="", margin=0, label={legend}, class="xl-legend", tooltip="legend"];'
        )
        return "\n".join([*header, *self.lines, "}"]) + "\n"


def _tint(colour: str) -> str:
    """A pale version of a fill, for cluster backgrounds."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#{:02x}{:02x}{:02x}".format(*((c + 2 * 255) // 3 for c in (r, g, b)))


def _attrs(attrs: dict[str, str], sep: str = ", ") -> str:
    return sep.join(f"{k}={quote(str(v))}" for k, v in attrs.items() if v != "")
