"""StableHLO (MLIR text or bytecode) -> raw xlalens graph, through jaxlib's MLIR bindings.

The module is parsed by MLIR itself (``jaxlib.mlir.ir``, with the dialects jax
registers); this file only walks the parsed operations. See
``docs/graph-schema.md`` for the fields, and the NOTE blocks below for the
choices that are specific to MLIR.

NOTE: [StableHLO node names]
MLIR forgets SSA names when it parses text, so names are generated: every op of
the module gets ``v<N>``, ``N`` counting ops in program (pre-order) order over
the whole module, functions in the order they appear, an op before the ops of
its regions. Block arguments are ``arg<i>`` inside their computation. The same
text (or bytecode) always gives the same names, and ``v<N>`` is the N-th op of
``Operation.walk`` in pre-order, which :func:`mlir_walk_summary` uses to check
the graph against MLIR.

NOTE: [regions become computations]
``func.func`` bodies are computations named after the function (``@main`` is the
entry). Each region of an op is a computation named ``<function>.<vN>.<role>``
(``main.v3.body``, ``main.v3.cond``, ``main.v7.branch0``, ``main.v9.reducer``),
listed in the op's ``calls`` in region order (an empty region still gets an
empty computation so the position in ``calls`` is the region index). Region
block arguments are its parameters; the region's terminator
(``stablehlo.return``) is its root. A value of an enclosing region used inside a
region becomes an edge of kind ``capture`` into the op that reads it.

NOTE: [multi-result ops]
An MLIR op with several results (``stablehlo.while``, a variadic
``stablehlo.reduce``) is one node with ``dtype="tuple"`` and its result types in
``attrs["tuple_types"]``; every edge out of such a node carries
``result_index`` (which result flows), and dtype/shape of that result.
"""

from __future__ import annotations

import re
from typing import Any

import networkx as nx
from jaxlib.mlir import ir

from xlalens._errors import ParseError
from xlalens.ir._gc import paused_gc
from xlalens.ir._locations import flatten_locations
from xlalens.ir._mlir_values import (  # noqa: F401  (LITERAL_LIMIT, attr_to_plain: re-exported)
    LITERAL_LIMIT,
    _op_attrs,
    _tuple_types,
    _unreadable_attr,
    attr_to_plain,
    type_info,
)
from xlalens.ir._schema import canonical_op, new_graph, node_defaults, node_id

_MLIR_BYTECODE_MAGIC = b"ML\xefR"

# role names of the regions of ops whose regions have a fixed meaning, and the
# computation kind each becomes.
_REGION_ROLES: dict[str, list[tuple[str, str]]] = {
    "stablehlo.while": [("cond", "condition"), ("body", "body")],
    "mhlo.while": [("cond", "condition"), ("body", "body")],
    "stablehlo.if": [("true", "branch"), ("false", "branch")],
    "stablehlo.select_and_scatter": [("select", "region"), ("scatter", "reducer")],
    "stablehlo.sort": [("comparator", "region")],
}
_REDUCER_OPS = {
    "stablehlo.reduce",
    "stablehlo.reduce_window",
    "stablehlo.scatter",
    "stablehlo.all_reduce",
    "stablehlo.reduce_scatter",
    "stablehlo.map",
    "mhlo.reduce",
}
_BRANCH_OPS = {"stablehlo.case", "mhlo.case"}


# --------------------------------------------------------------------------- context


def _context() -> Any:
    """A fresh MLIR context with the dialects jax registers.

    Mirrors ``jax._src.interpreters.mlir.make_ir_context`` (jax 0.10) without
    importing jax itself; unregistered dialects are allowed so that ops of
    dialects jaxlib does not ship are kept (as their own op) rather than rejected.
    """
    from jaxlib.mlir._mlir_libs import _jax_mlir_ext
    from jaxlib.mlir.dialects import chlo, mhlo, sdy, stablehlo

    ctx = ir.Context()
    # One parse per context: MLIR's own thread pool would only compete with the
    # other processes on a small machine, and the walk below is single-threaded.
    ctx.enable_multithreading(False)
    registry = ir.DialectRegistry()
    _jax_mlir_ext.register_dialects(registry)
    ctx.append_dialect_registry(registry)
    ctx.load_all_available_dialects()
    sdy.register_dialect(ctx)
    mhlo.register_mhlo_dialect(ctx)
    chlo.register_dialect(ctx)
    stablehlo.register_dialect(ctx)
    ctx.allow_unregistered_dialects = True
    return ctx


_DIAG_LOC = re.compile(r'loc\("(?P<file>[^"]*)":(?P<line>\d+):(?P<col>\d+)')


def _parse_error(exc: Exception, text: str | bytes, source: str | None) -> ParseError:
    """Turn an MLIRError into a ParseError with the first diagnostic's line/column."""
    diags = list(getattr(exc, "error_diagnostics", []) or [])
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    line = column = None
    snippet = ""
    if diags:
        d = diags[0]
        message = d.message
        notes = [n.message for n in getattr(d, "notes", [])]
        if notes:
            message += " (" + "; ".join(notes[:2]) + ")"
        m = _DIAG_LOC.search(str(d.location))
        if m:
            line, column = int(m["line"]), int(m["col"])
            if isinstance(text, str):
                lines = text.splitlines()
                if 1 <= line <= len(lines):
                    # long lines are cut after the column, so the caret still points at it
                    snippet = lines[line - 1][: max(200, column + 60)]
    return ParseError(
        f"not valid StableHLO/MLIR: {message}",
        line=line,
        column=column,
        snippet=snippet,
        source=source,
    )


def parse_module(text_or_bytes: str | bytes, ctx: Any, *, source: str | None = None) -> Any:
    """Parse MLIR text, MLIR bytecode or a StableHLO portable artifact into ``ir.Module``.

    Raises:
        ParseError: MLIR rejected the input; line and column come from its diagnostic.
    """
    from jaxlib.mlir.dialects import stablehlo

    if isinstance(text_or_bytes, str) and not text_or_bytes.strip():
        raise ParseError("empty input: expected a StableHLO module", source=source)
    with ctx:
        try:
            module = ir.Module.parse(text_or_bytes)
        except ir.MLIRError as exc:
            raise _parse_error(exc, text_or_bytes, source) from None
        except (ValueError, TypeError, RuntimeError) as exc:
            raise ParseError(f"not valid StableHLO/MLIR: {exc}", source=source) from None
        if any(op.operation.name.startswith("vhlo.") for op in module.body.operations):
            # A portable artifact (VHLO bytecode, as jax.export writes it) parses
            # as VHLO ops; StableHLO's deserializer upgrades it to StableHLO.
            try:
                return stablehlo.deserialize_portable_artifact(ctx, text_or_bytes)
            except Exception as exc:  # the bindings raise several kinds
                raise ParseError(
                    f"a StableHLO portable artifact this jaxlib cannot read ({exc}); "
                    f"this jaxlib reads StableHLO {stablehlo.get_minimum_version()} to "
                    f"{stablehlo.get_current_version()}",
                    source=source,
                ) from None
        return module


def module_text(data: bytes, *, source: str | None = None) -> str:
    """MLIR text of MLIR bytecode or a portable artifact, with one location per op.

    Each location is flattened to jax's form, ``"name"("file":line:col)``: the
    outermost name and the innermost frame of its call-site chain. XLA turns
    only that form into ``op_name`` and ``source_file``/``source_line`` when it
    converts to HLO; torch_xla writes whole Python stacks (XLA_HLO_DEBUG), of
    which XLA would keep the name alone. Text (bytes without the bytecode magic)
    comes back decoded, as it was.

    Raises:
        ParseError: MLIR rejected the input.
    """
    if not data.startswith(_MLIR_BYTECODE_MAGIC):
        return data.decode()
    ctx = _context()
    module = parse_module(data, ctx, source=source)
    with ctx:
        return flatten_locations(module.operation.get_asm(enable_debug_info=True))


# --------------------------------------------------------------------------- locations


def loc_info(loc: Any) -> tuple[str | None, str | None, int | None]:
    """(op_name, source_file, source_line) from an MLIR location.

    ``op_name`` is the outermost name (jax: ``"jit(f)/while/body/add"``); the
    file and line are those of the innermost frame (the callee end of call
    sites), which is what HLO metadata records.
    """
    op_name: str | None = None
    file: str | None = None
    line: int | None = None
    stack = [loc]
    seen = 0
    while stack and seen < 64:
        seen += 1
        cur = stack.pop()
        if isinstance(cur, ir.NameLoc):
            if op_name is None:
                op_name = cur.name_str
            stack.append(cur.child_loc)
        elif isinstance(cur, ir.CallSiteLoc):
            stack.append(cur.callee)
        elif isinstance(cur, ir.FileLineColLoc):
            # "-" is the buffer MLIR's parser names text it was handed directly:
            # that is a position in the IR text, not in the user's program.
            if cur.filename not in ("-", ""):
                file, line = cur.filename, int(cur.start_line)
            break
        elif isinstance(cur, ir.FusedLoc):
            stack.extend(reversed(list(cur.locations)))
    return op_name, file, line


# --------------------------------------------------------------------------- the walk


class _Builder:
    """Walks one parsed module and fills the graph (see the module NOTEs)."""

    def __init__(self, graph: nx.MultiDiGraph) -> None:
        self.g = graph
        self.comps: dict[str, dict[str, Any]] = graph.graph["computations"]
        self.counter = 0
        # value -> (node id, result index, number of results of the producer)
        self.values: dict[Any, tuple[str, int, int]] = {}
        self.symbol_calls: list[tuple[str, list[str]]] = []
        self.types: dict[Any, tuple[str, tuple[int, ...], str]] = {}

    def _add_comp(self, name: str, kind: str) -> None:
        self.comps[name] = {"kind": kind, "root": None, "params": [], "callers": []}

    def _add_node(self, comp: str, name: str, **fields: Any) -> str:
        nid = node_id(comp, name)
        data = node_defaults()
        data.update(fields)
        data["name"] = name
        data["computation"] = comp
        data["attrs"] = fields.get("attrs", {})
        data["calls"] = tuple(fields.get("calls", ()))
        self.g.add_node(nid, **data)
        return nid

    def block_args(
        self, block: Any, comp: str, dialect: str, arg_attrs: list | None, block_index: int
    ) -> None:
        params = block_index == 0
        for i, arg in enumerate(block.arguments):
            dtype, shape, type_str = type_info(arg.type, self.types)
            op_name, file, line = loc_info(arg.location)
            attrs = {}
            if arg_attrs and i < len(arg_attrs) and isinstance(arg_attrs[i], dict):
                attrs = arg_attrs[i]
            name = f"arg{i}"
            nid = self._add_node(
                comp,
                name if params else f"bb{block_index}.{name}",
                op="parameter",
                opcode="parameter",
                dialect=dialect,
                dtype=dtype,
                shape=shape,
                type=type_str,
                attrs=attrs,
                op_name=op_name,
                source_file=file,
                source_line=line,
                param_index=i if params else None,
            )
            if params:
                self.comps[comp]["params"].append(nid)
            self.values[arg] = (nid, 0, 1)

    def region(
        self, region: Any, comp: str, func: str, kind: str, dialect: str, caller: str
    ) -> None:
        self._add_comp(comp, kind)
        self.comps[comp]["callers"].append(caller)
        blocks = list(region.blocks)
        for bi, block in enumerate(blocks):
            self.block_args(block, comp, dialect, None, bi)
            self.ops(block, comp, func)

    def ops(self, block: Any, comp: str, func: str) -> None:
        for op in block.operations:
            self.op(op.operation, comp, func)

    def op(self, op: Any, comp: str, func: str) -> None:
        name = f"v{self.counter}"
        self.counter += 1
        opcode = op.name
        dialect = opcode.split(".", 1)[0] if "." in opcode else "builtin"
        results = list(op.results)
        attrs = _op_attrs(op)
        if opcode in ("stablehlo.constant", "mhlo.constant") and "value" in attrs:
            attrs["literal"] = attrs.pop("value")
        if len(results) == 1:
            dtype, shape, type_str = type_info(results[0].type, self.types)
            if dtype == "tuple":
                attrs["tuple_types"] = [type_info(t)[2] for t in _tuple_types(results[0].type)]
        elif not results:
            dtype, shape, type_str = "none", (), ""
        else:
            types = [type_info(r.type, self.types)[2] for r in results]
            dtype, shape, type_str = "tuple", (), "(" + ", ".join(types) + ")"
            attrs["tuple_types"] = types
        op_name, file, line = loc_info(op.location)
        is_terminator = opcode in ("func.return", "stablehlo.return", "mhlo.return") or (
            opcode.endswith((".return", ".yield", ".terminator")) and _is_last(op)
        )
        calls: list[str] = []
        nid = node_id(comp, name)
        # symbol references to functions: func.call's callee, custom_call's
        # called_computations, composite's decomposition.
        sym_calls: list[str] = []
        for key in ("callee", "decomposition"):
            if isinstance(attrs.get(key), str) and opcode != "func.func":
                sym_calls.append(attrs[key])
        cc = attrs.get("called_computations")
        if isinstance(cc, list):
            sym_calls.extend(str(c).lstrip("@") for c in cc if isinstance(c, str) and c)
        regions = list(op.regions)
        region_comps: list[tuple[Any, str, str]] = []
        roles = _REGION_ROLES.get(opcode)
        for ri, region in enumerate(regions):
            if roles and ri < len(roles):
                role, kind = roles[ri]
            elif opcode in _REDUCER_OPS:
                role, kind = "reducer", "reducer"
            elif opcode in _BRANCH_OPS:
                role, kind = f"branch{ri}", "branch"
            else:
                role, kind = f"region{ri}", "region"
            cname = f"{func}.{name}.{role}"
            region_comps.append((region, cname, kind))
            calls.append(cname)
        calls.extend(sym_calls)
        if sym_calls:
            self.symbol_calls.append((nid, sym_calls))
        self._add_node(
            comp,
            name,
            op=canonical_op(opcode),
            opcode=opcode,
            dialect=dialect,
            dtype=dtype,
            shape=shape,
            type=type_str,
            attrs=attrs,
            op_name=op_name,
            source_file=file,
            source_line=line,
            is_root=is_terminator,
            calls=calls,
        )
        if is_terminator:
            self.comps[comp]["root"] = nid
        for i, operand in enumerate(op.operands):
            try:
                src, ridx, nres = self.values[operand]
            except KeyError:
                raise ParseError(
                    f"op {opcode} ({nid}) reads a value defined in no enclosing region; "
                    "only structured (single-block, dominance-ordered) StableHLO is supported"
                ) from None
            vdtype, vshape, _ = type_info(operand.type, self.types)
            kind = "data" if self.g.nodes[src]["computation"] == comp else "capture"
            edge = {"operand_index": i, "kind": kind, "dtype": vdtype, "shape": vshape}
            if nres > 1:
                edge["result_index"] = ridx
            self.g.add_edge(src, nid, key=i, **edge)
        for r in results:
            self.values[r] = (nid, r.result_number, len(results))
        for region, cname, kind in region_comps:
            self.region(region, cname, func, kind, dialect, nid)

    def function(self, fop: Any, entry: str) -> None:
        attrs = _op_attrs(fop)
        fname = attrs.get("sym_name", f"func{len(self.comps)}")
        self._add_comp(fname, "entry" if fname == entry else "function")
        regions = list(fop.regions)
        if not regions or not list(regions[0].blocks):  # a declaration: no body
            self.g.graph["attrs"].setdefault("declarations", []).append(fname)
            return
        arg_attrs = attrs.get("arg_attrs") if isinstance(attrs.get("arg_attrs"), list) else None
        blocks = list(regions[0].blocks)
        for bi, block in enumerate(blocks):
            self.block_args(block, fname, "func", arg_attrs if bi == 0 else None, bi)
            self.ops(block, fname, fname)
        root = self.comps[fname]["root"]
        if root is not None:
            res_attrs = attrs.get("res_attrs")
            if isinstance(res_attrs, list):
                self.g.nodes[root]["attrs"]["result_attrs"] = res_attrs
        info = {k: v for k, v in attrs.items() if k not in ("arg_attrs", "res_attrs", "sym_name")}
        self.g.graph["attrs"].setdefault("functions", {})[fname] = info

    def link_symbols(self) -> None:
        for nid, callees in self.symbol_calls:
            for callee in callees:
                if callee not in self.comps:
                    raise ParseError(
                        f"{nid} calls @{callee}, which is not a function of this module"
                    )
                if nid not in self.comps[callee]["callers"]:
                    self.comps[callee]["callers"].append(nid)


def _is_last(op: Any) -> bool:
    try:
        block = op.block
        ops = block.operations
        return ops[len(ops) - 1] == op
    except (ValueError, IndexError, RuntimeError):
        return False


def _functions(module: Any) -> list[Any]:
    return [op.operation for op in module.body.operations if op.operation.name == "func.func"]


def _entry_name(funcs: list[Any]) -> str:
    names = []
    public = []
    for f in funcs:
        n = _op_attrs(f).get("sym_name", "")
        names.append(n)
        if _op_attrs(f).get("sym_visibility", "public") == "public":
            public.append(n)
    if "main" in names:
        return "main"
    return (public or names or [""])[0]


def parse_stablehlo(
    text_or_bytes: str | bytes,
    *,
    source: str | None = None,
    stage: str = "stablehlo",
) -> nx.MultiDiGraph:
    """Read a StableHLO module (MLIR text, MLIR bytecode or a portable artifact) into a raw graph.

    Args:
        text_or_bytes: the module as printed (``jax.jit(f).lower(x).as_text()``) or
            serialized bytecode.
        source: where it came from (a path), used in error messages and
            ``graph.graph["source"]["path"]``.
        stage: the capture stage to record (``"stablehlo"`` unless told otherwise).

    Returns:
        A raw-level ``networkx.MultiDiGraph`` following docs/graph-schema.md.

    Raises:
        ParseError: MLIR rejects the input (with line and column when MLIR gives them).

    Example:
        >>> g = parse_stablehlo(jax.jit(f).lower(x).as_text())  # doctest: +SKIP
        >>> g.graph["entry"]  # doctest: +SKIP
        'main'
    """
    ctx = _context()
    module = parse_module(text_or_bytes, ctx, source=source)
    with ctx, paused_gc():
        mod_attrs = _op_attrs(module.operation)
        funcs = _functions(module)
        entry = _entry_name(funcs)
        g = new_graph(
            format="stablehlo",
            stage=stage,
            module=str(mod_attrs.pop("sym_name", "")),
            entry=entry,
        )
        g.graph["attrs"].update(mod_attrs)
        if source:
            g.graph["source"]["path"] = source
        b = _Builder(g)
        for top in module.body.operations:
            top = top.operation
            if top.name == "func.func":
                b.function(top, entry)
            else:
                # sdy.mesh and other module-level symbols: kept as data, no nodes.
                g.graph["attrs"].setdefault("module_ops", []).append(
                    {"opcode": top.name, "attrs": _op_attrs(top)}
                )
                b.counter += _count_ops(top)
        b.link_symbols()
    if not funcs:
        raise ParseError(
            "the module has no func.func: expected StableHLO with a @main function", source=source
        )
    from xlalens.ir._collectives import annotate

    return annotate(g)


def _count_ops(op: Any) -> int:
    """Ops nested in ``op`` including itself (they take numbers in the pre-order walk)."""
    n = 1
    for region in op.regions:
        for block in region.blocks:
            for inner in block.operations:
                n += _count_ops(inner.operation)
    return n


# --------------------------------------------------------------------------- verification


def mlir_walk_summary(text_or_bytes: str | bytes) -> tuple[int, set[tuple[Any, Any, int]]]:
    """What MLIR itself says about a module: its op count and def-use edges.

    Walks the module with ``Operation.walk`` (pre-order, MLIR's own traversal,
    not this reader's recursion). Ops inside functions are counted; a value is
    named ``("op", N, result)`` for the N-th op of the walk or ``("arg", N,
    region, block, i)`` for argument i of a block of op N (``N = "@f"`` for the
    arguments of function ``f``). Each edge is ``(value, ("op", M), operand)``.

    Returns:
        ``(op_count, edges)`` to compare with :func:`graph_walk_summary`.

    Example:
        >>> assert mlir_walk_summary(t) == graph_walk_summary(parse_stablehlo(t))  # doctest: +SKIP
    """
    ctx = _context()
    module = parse_module(text_or_bytes, ctx)
    order: dict[Any, int] = {}
    funcs: dict[Any, str] = {}
    edges: set[tuple[Any, Any, int]] = set()
    counter = [0]

    def visit(op: Any) -> Any:
        op = op.operation
        if op.name == "builtin.module":
            return ir.WalkResult.ADVANCE
        if op.name == "func.func":
            funcs[op] = str(ir.StringAttr(op.attributes["sym_name"]).value)
            return ir.WalkResult.ADVANCE
        order[op] = counter[0]
        counter[0] += 1
        return ir.WalkResult.ADVANCE

    with ctx:
        module.operation.walk(visit, ir.WalkOrder.PRE_ORDER)

        def value_key(v: Any) -> Any:
            if isinstance(v, ir.OpResult):
                return ("op", order[v.owner.operation], v.result_number)
            arg = ir.BlockArgument(v)
            block = arg.owner
            parent = block.owner.operation
            region = block.region
            ri = next(i for i, r in enumerate(parent.regions) if r == region)
            bi = next(i for i, b in enumerate(region.blocks) if b == block)
            owner = "@" + funcs[parent] if parent in funcs else order[parent]
            return ("arg", owner, ri, bi, arg.arg_number)

        count = 0
        for op, n in order.items():
            if not _in_func(op):
                continue
            count += 1
            for i, v in enumerate(op.operands):
                edges.add((value_key(v), ("op", n), i))
    return count, edges


def _in_func(op: Any) -> bool:
    p = op.parent
    while p is not None:
        if p.name == "func.func":
            return True
        p = p.parent
    return False


def graph_walk_summary(graph: nx.MultiDiGraph) -> tuple[int, set[tuple[Any, Any, int]]]:
    """The graph's op count and def-use edges in :func:`mlir_walk_summary`'s terms.

    Derived from node names (``v<N>``, ``arg<i>``), ``calls`` and ``result_index``.
    """
    comps = graph.graph["computations"]

    def op_num(nid: str) -> int:
        return int(graph.nodes[nid]["name"][1:])

    def value_key(nid: str, ridx: int) -> Any:
        d = graph.nodes[nid]
        if d["op"] == "parameter" and not d["name"].startswith("v"):
            comp = d["computation"]
            bi, idx = 0, d["param_index"]
            if idx is None:  # "bb<k>.arg<i>": an argument of a later block
                bb, arg = d["name"].split(".")
                bi, idx = int(bb[2:]), int(arg[3:])
            callers = comps[comp]["callers"]
            if comps[comp]["kind"] in ("entry", "function"):
                return ("arg", "@" + comp, 0, bi, idx)
            caller = callers[0]
            ri = graph.nodes[caller]["calls"].index(comp)
            return ("arg", op_num(caller), ri, bi, idx)
        return ("op", op_num(nid), ridx)

    count = sum(1 for _, d in graph.nodes(data=True) if d["op"] != "parameter")
    edges = {
        (value_key(u, d.get("result_index", 0)), ("op", op_num(v)), k)
        for u, v, k, d in graph.edges(keys=True, data=True)
    }
    return count, edges
