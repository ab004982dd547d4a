"""The pass timeline: every snapshot parsed, each diffed with the one before.

NOTE: [what a step of the timeline is] XLA writes a snapshot after each pass
that changed the module, named ``after_<pass>.before_<next>``; the change from
the previous snapshot to this one is the work of ``<pass>``. Passes XLA ran in
between changed nothing (XLA wrote nothing for them). A snapshot whose text is
identical to the one before (a pipeline's start repeats the previous
pipeline's end) is hashed and skipped: not parsed, not diffed. A pass whose
diff shows no structural change (it only renamed instructions, say) is
*folded*: kept in the record, left out of the printed table.

Parsing goes through :func:`xlalens.ir.parse_hlo_text` (stage
``optimized_hlo`` for every snapshot, so that each node's ``fusion`` names the
kernel that will run it) and diffing through :func:`xlalens.diff.diff`. Across
passes that move ops between computations (fusion, inlining) the ops are also
followed with fusions flattened (``xlalens.diff.match(..., flatten=(True,
True))``), so that an op moved into a fusion is still the same op.
"""

from __future__ import annotations

import gc
import hashlib
import re
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from xlalens.diff import classify, match
from xlalens.ir import kernel_nodes, parse_hlo_text
from xlalens.ir._ops import TRIVIAL_OPCODES
from xlalens.passes._files import ModuleFiles

# Instructions that carry no computation of their own (the op count leaves them out):
# what runs no kernel (the op table's TRIVIAL_OPCODES) and the fusion wrapper.
NOT_OPS = TRIVIAL_OPCODES | {"fusion"}
# An entry op that turns into one of these is a new kernel, not a changed op.
KERNEL_MAKERS = frozenset({"fusion", "custom-call"})
INPUT = "(input)"
"""What a kernel or op that XLA received as it is was "created by"."""

_CACHE: OrderedDict[str, nx.MultiDiGraph] = OrderedDict()
_CACHE_SIZE = 8  # pick_step and the timeline read the same final text; graphs are large


def parse_snapshot(text: str, source: str | None = None) -> nx.MultiDiGraph:
    """Parse one snapshot's HLO text, cached by content hash.

    Args:
        text: the snapshot's HLO text.
        source: its path, for error messages.

    Returns:
        The raw-level graph (stage ``optimized_hlo``: ``fusion`` names kernels).
        The same object is returned for the same text: do not mutate it.

    Example:
        >>> g = parse_snapshot(Path(snap).read_text())  # doctest: +SKIP
    """
    key = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
    g = _CACHE.get(key)
    if g is None:
        g = parse_hlo_text(text, source=source, stage="optimized_hlo")
        _CACHE[key] = g
        if len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    else:
        _CACHE.move_to_end(key)
    return g


def op_nodes(g: nx.MultiDiGraph) -> list[str]:
    """Node ids that count as ops: not parameters, tuples or fusions, not inside reducers."""
    comps = g.graph["computations"]
    return [
        n
        for n, d in g.nodes(data=True)
        if d["opcode"] not in NOT_OPS and comps.get(d["computation"], {}).get("kind") != "reducer"
    ]


@dataclass(frozen=True, slots=True)
class PassStep:
    """One snapshot of the timeline and what its pass did."""

    index: int
    """Position in the timeline (0: the module as XLA received it)."""
    pipeline: str
    """The pass pipeline."""
    pass_name: str
    """The pass after which the snapshot was taken."""
    file: str
    """The snapshot file's name."""
    ops: int
    """Ops after the pass (see :func:`op_nodes`)."""
    kernels: int
    """Kernels after the pass (``xlalens.ir.kernel_nodes``: non-trivial entry instructions)."""
    added: int
    """Nodes only in this snapshot (the diff's ``only_b``)."""
    removed: int
    """Nodes only in the previous one (``only_a``)."""
    changed: int
    """Paired nodes that differ."""
    added_ops: tuple[tuple[str, int], ...]
    """Added nodes per op, most first."""
    removed_ops: tuple[tuple[str, int], ...]
    """Removed nodes per op, most first."""
    changed_fields: tuple[tuple[str, int], ...]
    """Changed pairs per differing field (``layout``, ``attrs.dimensions``...), most first."""
    summary: str
    """One line generated from the diff."""
    identical: bool
    """The text equals the previous snapshot's: skipped (neither parsed nor diffed)."""
    folded: bool
    """The pass changed nothing structural (or was skipped as identical)."""

    @property
    def label(self) -> str:
        """``pipeline/pass``."""
        return f"{self.pipeline}/{self.pass_name}"


@dataclass(frozen=True, slots=True)
class KernelBlame:
    """Who made one kernel of the optimized module."""

    kernel: str
    """The kernel's instruction name in the optimized module."""
    op: str
    """Its op (``fusion``, ``dot``, ``custom-call``...)."""
    created_by: str
    """The step label (``pipeline/pass``) that created it, or ``(input)``."""
    changed_by: tuple[str, ...]
    """Step labels that changed it (or its fused computation) afterwards, in order."""
    fused_ops: int
    """Ops it runs (itself, or its fused computation's ops)."""
    source: str
    """``file:line`` of its metadata, or ``""``."""


@dataclass(frozen=True, slots=True)
class OpFate:
    """Where one op of the module XLA received ended up."""

    op_id: str
    """Node id in the first snapshot."""
    op: str
    """Its op."""
    kernel: str | None
    """The optimized module's kernel that runs it (instruction name), if it survived."""
    kept_as: str | None
    """The instruction it became in the optimized module, if it survived."""
    removed_by: str | None
    """The step label that removed it, if it did not survive."""
    source: str
    """``file:line`` of its metadata, or ``""``."""


@dataclass(frozen=True, slots=True)
class Timeline:
    """One module's pass timeline with blame, as built by :func:`build_timeline`."""

    module: str
    """The module's name."""
    steps: tuple[PassStep, ...]
    """Every snapshot, in pass order; step 0 is the module as received."""
    kernels: tuple[KernelBlame, ...]
    """Blame per kernel of the last snapshot, in program order."""
    ops: tuple[OpFate, ...]
    """Fate per op of the first snapshot."""
    fingerprint: str
    """Structural fingerprint of the last snapshot (``xlalens.passes.fingerprint``)."""
    seconds: float
    """Wall seconds the build took."""
    final_graph: nx.MultiDiGraph | None = field(default=None, repr=False, compare=False)
    """The last snapshot's graph (``None`` when read back from JSON)."""

    @property
    def shown(self) -> list[PassStep]:
        """Step 0 and the steps that changed something (the folded ones left out)."""
        return [s for s in self.steps if s.index == 0 or not s.folded]

    def to_json(self) -> dict[str, Any]:
        """Plain data (``timeline.json``)."""
        return {
            "module": self.module,
            "fingerprint": self.fingerprint,
            "seconds": self.seconds,
            "steps": [
                {
                    **{k: getattr(s, k) for k in PassStep.__slots__},
                    "added_ops": [list(x) for x in s.added_ops],
                    "removed_ops": [list(x) for x in s.removed_ops],
                    "changed_fields": [list(x) for x in s.changed_fields],
                }
                for s in self.steps
            ],
            "kernels": [
                {
                    **{k: getattr(b, k) for k in KernelBlame.__slots__},
                    "changed_by": list(b.changed_by),
                }
                for b in self.kernels
            ],
            "ops": [{k: getattr(o, k) for k in OpFate.__slots__} for o in self.ops],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Timeline:
        """Inverse of :meth:`to_json` (without ``final_graph``)."""
        steps = tuple(
            PassStep(
                **{
                    **s,
                    "added_ops": tuple(tuple(x) for x in s["added_ops"]),
                    "removed_ops": tuple(tuple(x) for x in s["removed_ops"]),
                    "changed_fields": tuple(tuple(x) for x in s["changed_fields"]),
                }
            )
            for s in data["steps"]
        )
        kernels = tuple(
            KernelBlame(**{**b, "changed_by": tuple(b["changed_by"])}) for b in data["kernels"]
        )
        return cls(
            module=data["module"],
            steps=steps,
            kernels=kernels,
            ops=tuple(OpFate(**o) for o in data["ops"]),
            fingerprint=data["fingerprint"],
            seconds=data["seconds"],
        )


@dataclass
class _Link:
    """What one step did, as the blame walk needs it (mutable scratch)."""

    forward: dict[str, str]
    """prev id -> next id, following ops through fusion (flattened when needed)."""
    backward: dict[str, str]
    """next id -> prev id for entry-level nodes (unflattened pairs)."""
    created: set[str]
    """next ids only in the next snapshot."""
    touched_kernels: set[str]
    """next kernel ids whose instruction or fused computation changed."""


def _counts(items: list[str]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(Counter(items).items(), key=lambda kv: (-kv[1], kv[0])))


def _plural(n: int, word: str) -> str:
    if n == 1:
        return f"1 {word}"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return f"{n} {word[:-1]}ies"
    return f"{n} {word}es" if word.endswith(("h", "s", "x")) else f"{n} {word}s"


def summarize(
    pass_name: str,
    prev: nx.MultiDiGraph,
    nxt: nx.MultiDiGraph,
    only_a: list[str],
    only_b: list[str],
    changed_fields: tuple[tuple[str, int], ...],
    became: set[str] | frozenset[str] = frozenset(),
) -> str:
    """One line saying what a pass did, from its diff.

    Fusion-like changes read ``"31 ops into 5 kernels"``; otherwise the largest
    per-op additions and removals (``"4 broadcasts folded"``, ``"3 copies
    inserted"``) and changed fields (``"layout of 7 ops changed"``).

    Args:
        pass_name: the pass.
        prev: the previous snapshot's graph.
        nxt: this snapshot's graph.
        only_a: ids removed by the pass.
        only_b: ids added by the pass.
        changed_fields: changed pairs per field.
        became: ids of this snapshot's entry instructions whose opcode the pass
            changed (an op that became a fusion): new kernels too.

    Returns:
        ``"<pass>: <what>"``.

    Example:
        >>> summarize("algsimp", g0, g1, ["e/b.1"], [], ())  # doctest: +SKIP
        'algsimp: 1 broadcast folded'
    """
    entry = nxt.graph["entry"]
    nn = nxt.nodes
    new_fusions = [
        n
        for n in [*only_b, *sorted(became)]
        if nn[n]["opcode"] == "fusion" and nn[n]["computation"] == entry
    ]
    phrases = []
    if new_fusions:
        created = set(new_fusions)
        fused = [
            n
            for n, d in nn(data=True)
            if d["fusion"] in created and d["opcode"] not in NOT_OPS and n not in created
        ]
        phrases.append(f"{_plural(len(fused), 'op')} into {_plural(len(new_fusions), 'kernel')}")
    lower = pass_name.lower()
    verb = (
        "folded"
        if any(w in lower for w in ("simp", "fold", "constant"))
        else "deduplicated"
        if re.search(r"(^|[-_])cse($|[-_])", lower) and "barrier" not in lower
        else "removed"
    )
    pa = prev.nodes
    rem = Counter(pa[n]["opcode"] for n in only_a if pa[n]["opcode"] not in NOT_OPS)
    add = Counter(nn[n]["opcode"] for n in only_b if nn[n]["opcode"] not in NOT_OPS)
    if new_fusions:
        # The fused ops are counted above; what left the entry is what they replaced.
        add = Counter()
        rem = Counter()
    net = []
    for op in set(rem) | set(add):
        d = add.get(op, 0) - rem.get(op, 0)
        if d:
            net.append((abs(d), op, d))
    net.sort(key=lambda t: (-t[0], t[1]))
    for n, op, d in net[:3]:
        phrases.append(f"{_plural(n, op)} {'inserted' if d > 0 else verb}")
    if not net and (rem or add) and not new_fusions:
        phrases.append(f"{sum(rem.values())} ops rewritten")
    if not phrases and (only_a or only_b):
        # Only structure moved: tuples and get-tuple-elements (tuple-simplifier,
        # copy-insertion's clean-up).
        raw = Counter(pa[n]["opcode"] for n in only_a)
        raw.subtract(Counter(nn[n]["opcode"] for n in only_b))
        for op, d in sorted(raw.items(), key=lambda kv: (-abs(kv[1]), kv[0]))[:2]:
            if d:
                phrases.append(f"{_plural(abs(d), op)} {'removed' if d > 0 else 'inserted'}")
    for fld, n in changed_fields[:2]:
        if "->" in fld:
            phrases.append(f"{_plural(n, fld.split('->')[0])} turned into {fld.split('->')[1]}")
            continue
        what = fld.removeprefix("attrs.")
        phrases.append(f"{what} of {_plural(n, 'op')} changed")
    return f"{pass_name}: {', '.join(phrases) if phrases else 'no structural change'}"


def _source(d: dict[str, Any]) -> str:
    f, line = d.get("source_file"), d.get("source_line")
    if not f:
        return ""
    return f"{f}:{line}" if line is not None else str(f)


def _comp_layout(g: nx.MultiDiGraph) -> frozenset[str]:
    return frozenset(g.graph["computations"])


def build_timeline(module: ModuleFiles) -> Timeline:
    """Parse every pass snapshot of ``module`` in order and diff each with the one before.

    Args:
        module: the module's dump files (from :func:`xlalens.passes.scan`).

    Returns:
        The :class:`Timeline`, with per-kernel and per-op blame.

    Raises:
        UsageError: the module has no pass snapshots.
        ParseError: a snapshot is not HLO text our reader accepts.

    Example:
        >>> tl = build_timeline(pick_step(scan(xla_dir), optimized_text).module)  # doctest: +SKIP
        >>> print(format_table(tl))  # doctest: +SKIP
    """
    # NOTE: [gc pause] as in xlalens.diff.diff: parsing and matching allocate
    # many small objects while large graphs stay alive, and nothing here makes
    # reference cycles; the cyclic collector would rescan every graph again and again.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _build(module)
    finally:
        if was_enabled:
            gc.enable()


def _build(module: ModuleFiles) -> Timeline:
    from xlalens._errors import UsageError
    from xlalens.passes._fingerprint import fingerprint

    start = time.perf_counter()
    if not module.snapshots:
        raise UsageError(
            f"module {module.name}: no pass snapshots; re-run with a --passes regex that matches "
            "some pass (default '.*')"
        )
    steps: list[PassStep] = []
    links: list[_Link | None] = []  # links[i]: from step i-1 to step i (None: identical)
    # Only the first and the last graph are needed after the walk: the links
    # carry what blame needs, and a 20k-instruction module's graphs are large.
    graphs: list[nx.MultiDiGraph] = []
    prev_text = None
    prev_g: nx.MultiDiGraph | None = None
    for i, snap in enumerate(module.snapshots):
        text = snap.path.read_text(errors="replace")
        if prev_g is not None and text == prev_text:
            steps.append(
                PassStep(
                    i, snap.pipeline, snap.after, snap.path.name, steps[-1].ops,
                    steps[-1].kernels, 0, 0, 0, (), (), (),
                    f"{snap.after}: identical to the previous snapshot", True, True,
                )
            )  # fmt: skip
            links.append(None)
            continue
        g = parse_snapshot(text, source=str(snap.path))
        n_ops, n_kernels = len(op_nodes(g)), len(kernel_nodes(g))
        if prev_g is None:
            steps.append(
                PassStep(
                    i, snap.pipeline, snap.after, snap.path.name, n_ops, n_kernels,
                    0, 0, 0, (), (), (), f"{snap.after}: the module as XLA received it",
                    False, False,
                )
            )  # fmt: skip
            links.append(None)
        else:
            step, link = _step(i, snap, prev_g, g, n_ops, n_kernels)
            steps.append(step)
            links.append(link)
        graphs = [graphs[0], g] if graphs else [g]
        prev_g, prev_text = g, text
    final = graphs[-1]
    kernels = _blame_kernels(steps, links, graphs)
    ops = _blame_ops(steps, links, graphs)
    return Timeline(
        module=module.name,
        steps=tuple(steps),
        kernels=kernels,
        ops=ops,
        fingerprint=fingerprint(final),
        seconds=time.perf_counter() - start,
        final_graph=final,
    )


@dataclass(frozen=True, slots=True)
class _Pair:
    a: str
    b: str
    status: str
    changes: tuple


def _diff(prev_g: nx.MultiDiGraph, g: nx.MultiDiGraph):
    """``xlalens.diff``'s matching and classification, without the report summary.

    NOTE: [no diff summary] ``diff()`` also estimates FLOPs and bytes of both
    graphs for its report header: a fifth of the timeline's time on a
    2k-instruction module, for numbers the timeline does not show.
    """
    m = match(prev_g, g)
    pa, nb = prev_g.nodes, g.nodes
    pairs = []
    for a, b, _stage in m.pairs:
        changes = classify(pa[a], nb[b])
        pairs.append(_Pair(a, b, "changed" if changes else "unchanged", changes))
    return m.only_a, m.only_b, pairs


def _step(i, snap, prev_g, g, n_ops, n_kernels) -> tuple[PassStep, _Link]:
    d_only_a, d_only_b, d_pairs = _diff(prev_g, g)
    pa, nb = prev_g.nodes, g.nodes
    entry = g.graph["entry"]
    # An entry instruction whose opcode changed (``subtract`` -> ``fusion``,
    # ``dot`` -> ``fusion``) is a new kernel: the matcher pairs a fusion with
    # the op it grew from, but the pass made a new kernel there.
    # Likewise an instruction that launches no kernel (a bitcast) turned into
    # one that does (a copy).
    kernels_a, kernels_b = set(kernel_nodes(prev_g)), set(kernel_nodes(g))
    became = {
        p.b
        for p in d_pairs
        if nb[p.b]["computation"] == entry
        and pa[p.a]["opcode"] != nb[p.b]["opcode"]
        and (nb[p.b]["opcode"] in KERNEL_MAKERS or (p.b in kernels_b and p.a not in kernels_a))
    }
    backward = {p.b: p.a for p in d_pairs}
    first_pairs = dict(backward)
    same = _same_fusions(prev_g, g, became, backward)
    # A fusion re-paired with its old self frees whatever the matcher had paired
    # that old fusion with (a copy, say): that node is new.
    stolen = {first_pairs[n] for n in same if n in first_pairs} | {backward[n] for n in same}
    only_a = list(d_only_a)
    only_b = [n for n in d_only_b if n not in same]
    pairs = []
    for p in d_pairs:
        if p.b in same:
            continue
        if p.a in stolen:
            only_b.append(p.b)
            continue
        pairs.append(p)
    for n in sorted(same):
        changes = classify(pa[backward[n]], nb[n])
        pairs.append(_Pair(backward[n], n, "changed" if changes else "unchanged", changes))
    fields = Counter()
    changed_ids = set()
    for p in pairs:
        if p.status != "changed":
            continue
        changed_ids.add(p.b)
        op_a, op_b = pa[p.a]["opcode"], nb[p.b]["opcode"]
        if p.b in became:
            continue
        if op_a != op_b and nb[p.b]["computation"] == entry:
            fields[f"{op_a}->{op_b}"] += 1
            continue
        for c in p.changes:
            fields[c.field] += 1
    changed_fields = _counts(list(fields.elements()))
    added_ops = _counts([nb[n]["opcode"] for n in only_b])
    removed_ops = _counts([pa[n]["opcode"] for n in only_a])
    folded = not only_a and not only_b and not changed_ids
    summary = summarize(snap.after, prev_g, g, only_a, only_b, changed_fields, became)
    forward = {p.a: p.b for p in pairs}
    if only_a and _comp_layout(prev_g) != _comp_layout(g):
        # Ops moved between computations (fusion, inlining): follow them flattened.
        m = match(prev_g, g, flatten=(True, True))
        for a, b, _ in m.pairs:
            forward.setdefault(a, b)
    touched: set[str] = set()
    for n in [*only_b, *changed_ids]:
        k = nb[n].get("fusion")
        if k:
            touched.add(k)
    for n in only_a:
        k = pa[n].get("fusion")
        if k and k in forward:
            touched.add(forward[k])
    step = PassStep(
        i, snap.pipeline, snap.after, snap.path.name, n_ops, n_kernels,
        len(only_b), len(only_a), len(changed_ids), added_ops, removed_ops,
        changed_fields, summary, False, folded,
    )  # fmt: skip
    return step, _Link(forward, backward, set(only_b) | became, touched)


def _same_fusions(prev_g, g, became: set[str], backward: dict[str, str]) -> set[str]:
    """Re-pair fusions the matcher left unpaired or paired with another op.

    A pass that inserts copies (copy-insertion) can make the matcher pair a
    fusion with a copy; a fusion whose called computation is structurally
    identical to one of the previous snapshot's is the same kernel. Updates
    ``became`` and ``backward``; returns the re-paired ids of ``g``.
    """
    from xlalens.passes._fingerprint import cached_hashes

    entry_b, entry_a = g.graph["entry"], prev_g.graph["entry"]
    pa, nb = prev_g.nodes, g.nodes

    def fusions(graph, entry):
        return [
            n
            for n, dd in graph.nodes(data=True)
            if dd["computation"] == entry and dd["opcode"] == "fusion" and dd["calls"]
        ]

    odd = [
        n
        for n in fusions(g, entry_b)
        if n in became or n not in backward or pa[backward[n]]["opcode"] != "fusion"
    ]
    if not odd:
        return set()
    _, comp_a = cached_hashes(prev_g)
    _, comp_b = cached_hashes(g)
    paired_prev = {backward[n] for n in fusions(g, entry_b) if n not in odd and n in backward}
    pool: dict[tuple, list[str]] = {}
    for n in fusions(prev_g, entry_a):
        if n not in paired_prev:
            key = (pa[n]["type"], tuple(comp_a.get(c) for c in pa[n]["calls"]))
            pool.setdefault(key, []).append(n)
    same = set()
    for n in odd:
        key = (nb[n]["type"], tuple(comp_b.get(c) for c in nb[n]["calls"]))
        if pool.get(key):
            backward[n] = pool[key].pop(0)
            became.discard(n)
            same.add(n)
    return same


def _blame_kernels(steps, links, graphs) -> tuple[KernelBlame, ...]:
    final = graphs[-1]
    runs = Counter(nd["fusion"] for _, nd in final.nodes(data=True) if nd["opcode"] not in NOT_OPS)
    out = []
    for k in kernel_nodes(final):
        d = final.nodes[k]
        cur = k
        created = INPUT
        changed: list[str] = []
        for i in range(len(steps) - 1, 0, -1):
            link = links[i]
            if link is None:
                continue
            if cur in link.created:
                created = steps[i].label
                break
            if cur in link.touched_kernels:
                changed.append(steps[i].label)
            prev = link.backward.get(cur)
            if prev is None:  # unpaired but not listed as created: treat as created
                created = steps[i].label
                break
            cur = prev
        fused = runs.get(k, 0)
        out.append(
            KernelBlame(
                kernel=d["name"],
                op=d["opcode"],
                created_by=created,
                changed_by=tuple(reversed(changed)),
                fused_ops=max(fused, 1),
                source=_source(d),
            )
        )
    return tuple(out)


def _blame_ops(steps, links, graphs) -> tuple[OpFate, ...]:
    first, final = graphs[0], graphs[-1]
    out = []
    for n in op_nodes(first) + [
        x
        for x, dd in first.nodes(data=True)
        if dd["opcode"] in ("parameter",) and dd["computation"] == first.graph["entry"]
    ]:
        d = first.nodes[n]
        cur: str | None = n
        removed = None
        for i in range(1, len(steps)):
            link = links[i]
            if link is None:
                continue
            nxt = link.forward.get(cur)
            if nxt is None:
                removed = steps[i].label
                cur = None
                break
            cur = nxt
        if cur is not None:
            fd = final.nodes[cur]
            kernel_id = fd.get("fusion")
            kernel = final.nodes[kernel_id]["name"] if kernel_id in final.nodes else None
            if kernel_id and final.nodes[kernel_id]["opcode"] in TRIVIAL_OPCODES:
                kernel = None
            out.append(OpFate(n, d["opcode"], kernel, fd["name"], None, _source(d)))
        else:
            out.append(OpFate(n, d["opcode"], None, None, removed, _source(d)))
    return tuple(out)


def format_table(tl: Timeline, *, all_steps: bool = False) -> str:
    """The per-pass table ``xlalens passes`` prints.

    Args:
        tl: the timeline.
        all_steps: also list folded (no-change and identical) steps.

    Returns:
        Text, one row per shown pass.

    Example:
        >>> print(format_table(tl))  # doctest: +SKIP
    """
    rows = [["#", "pipeline", "pass", "ops", "kernels", "+", "-", "~", "summary"]]
    for s in tl.steps if all_steps else tl.shown:
        what = s.summary.split(": ", 1)[-1]
        rows.append(
            [str(s.index), s.pipeline, s.pass_name, str(s.ops), str(s.kernels),
             str(s.added), str(s.removed), str(s.changed), what]
        )  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for j, r in enumerate(rows):
        cells = [
            c.rjust(w) if 3 <= i <= 7 or i == 0 else c.ljust(w)
            for i, (c, w) in enumerate(zip(r, widths))
        ]
        lines.append("  ".join([*cells, r[-1]]).rstrip())
        if j == 0:
            lines.append("  ".join("-" * w for w in widths) + "  -------")
    folded = sum(1 for s in tl.steps if s.folded and s.index)
    lines.append(
        f"{len(tl.steps)} snapshots, {folded} folded (no structural change); "
        f"built in {tl.seconds:.2f} s"
    )
    return "\n".join(lines)
