"""``load``: any IR the captures produce (or a saved graph) -> a validated xlalens graph.

Format detection looks at content, not file names: MLIR bytecode starts with
``ML\\xefR``; HLO text starts with ``HloModule``; StableHLO text with ``module``,
``func.func``, ``#loc`` or a generic ``"builtin.module"``; saved graphs are JSON
(``{``) or GraphML (``<``). A dump entry ``DIR:frontend[:artifact]`` resolves to
the artifact's file, records where it came from in ``graph.graph["source"]`` and
gives the canonical level the capture's signature (parameter and result roles).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

from xlalens._errors import DumpError, ParseError, UsageError
from xlalens.dumpdir import ARTIFACTS, is_dump, looks_like_entry, read_manifest, resolve_entry
from xlalens.ir._gc import paused_gc
from xlalens.ir._schema import LEVELS, STAGES
from xlalens.ir._validate import validate, validate_lowered, validate_touched

if TYPE_CHECKING:
    from xlalens.ir._canonical import Walks

IR_ARTIFACTS = ("stablehlo", "hlo", "optimized_hlo")
_MLIR_BYTECODE_MAGIC = b"ML\xefR"
# Whitespace and comments before the first token: XLA's lexer skips ``//`` and
# ``/* */`` comments anywhere (issue 23: 34 of XLA's own test modules open with one).
_LEAD = r"^(?:\s|//[^\n]*|/\*(?:[^*]|\*(?!/))*\*/)*"
_MLIR_START = re.compile(_LEAD + r'(module\b|func\.func\b|#loc|"builtin\.module"|#\w+\s*=)')
_HLO_START = re.compile(_LEAD + r"HloModule\b")
# HLO text without a header starts with a computation: ``[ENTRY] [%]name [(sig) -> type] {``.
_HLO_HEADLESS = re.compile(_LEAD + r"(?:ENTRY\s+)?%?[A-Za-z_][\w.\-]*\s*(?:\(|\{)")
# ``\S[^\n]*`` reads the same strings as ``\S+[^\n]*``, without the nested runs that
# made a failed match quadratic in the header's length (issue 23: a TF module's
# 4 KB header line, not scheduled, cost 4% of its load).
_SCHEDULED = re.compile(_LEAD + r"HloModule\s+\S[^\n]*\bis_scheduled=true")
# File names the capture writes, which also tell the stage.
_STAGE_BY_NAME = {
    "stablehlo.mlir": "stablehlo",
    "stablehlo.mlirbc": "stablehlo",
    "hlo.txt": "hlo",
    "optimized_hlo.txt": "optimized_hlo",
}


def detect_format(data: str | bytes) -> str:
    """``"stablehlo"``, ``"hlo"``, ``"json"``, ``"graphml"`` or ``"unknown"`` for IR content.

    Example:
        >>> detect_format("HloModule m\\nENTRY e { ROOT p = f32[] parameter(0) }")
        'hlo'
    """
    if isinstance(data, bytes):
        if data.startswith(_MLIR_BYTECODE_MAGIC):
            return "stablehlo"
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            return "unknown"
    head = data[:4096]
    stripped = head.lstrip()
    if _HLO_START.match(head):
        return "hlo"
    if _MLIR_START.match(head):
        return "stablehlo"
    if _HLO_HEADLESS.match(head):
        return "hlo"
    if stripped.startswith("{"):
        return "json"
    if stripped.startswith("<"):
        return "graphml"
    return "unknown"


def _check_level(level: str | None) -> None:
    if level is not None and level not in LEVELS:
        raise UsageError(
            f"level={level!r} is not one of {', '.join(LEVELS)}; pass level='raw' or 'canonical'"
        )


def _check_stage(stage: str | None) -> None:
    if stage is not None and stage not in STAGES:
        raise UsageError(f"stage={stage!r} is not one of {', '.join(STAGES)}")


def _hlo_stage(text: str, stage: str | None) -> str:
    if stage:
        return stage
    return "optimized_hlo" if _SCHEDULED.match(text[:4096]) else "unknown"


def _to_level(
    graph: nx.MultiDiGraph, level: str | None, signature: dict | None, *, copy: bool = False
) -> nx.MultiDiGraph:
    """``graph`` at ``level``; rewrites in place unless ``copy`` (the caller's own graph)."""
    from xlalens.ir._canonical import normalize

    if level is None or graph.graph.get("level") == level:
        return graph
    if level == "raw":
        raise UsageError(
            "this graph is already at the canonical level and cannot be taken back to raw; "
            "load the IR file (or the saved *.raw.json) instead"
        )
    return normalize(graph, level, signature=signature, copy=copy)


def _with_loops(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Write each ``while``'s trip count into its attrs (``xlalens.ir._loops``)."""
    from xlalens.ir._loops import annotate_loops

    annotate_loops(graph)
    return graph


def parse_ir(
    data: str | bytes,
    *,
    source: str | None = None,
    stage: str | None = None,
) -> nx.MultiDiGraph:
    """Parse IR content (HLO text, StableHLO text/bytecode, saved graph) into its stored level.

    Raises:
        ParseError: unrecognized or malformed content.
    """
    return _parse_ir(data, source=source, stage=stage)[0]


def _walks(level: str | None) -> Walks | None:
    """The node lists for the HLO reader to fill, when the load ends at the canonical level."""
    if level != "canonical":
        return None
    from xlalens.ir._canonical import Walks

    return Walks()


def _finish(
    parsed: tuple[nx.MultiDiGraph, bool],
    level: str | None,
    signature: dict | None,
    walks: Walks | None = None,
) -> nx.MultiDiGraph:
    """The parsed graph at ``level``, validated (see NOTE [checked while lowering]).

    The cyclic GC stays off meanwhile (``xlalens.ir._gc.paused_gc``). ``walks``: what
    the HLO reader listed while lowering (``xlalens.ir._canonical.Walks``).
    """
    graph, lowered = parsed
    with paused_gc():
        if lowered and level == "canonical" and graph.graph["level"] == "raw":
            from xlalens.ir._canonical import normalize

            # In place, listing the nodes the rules change (NOTE [checked while lowering]).
            touched: set[str] = set()
            rewired: set[str] = set()
            out = normalize(
                graph,
                level,
                signature=signature,
                copy=False,
                touched=touched,
                walks=walks,
                rewired=rewired,
            )
            if walks is not None:
                walks.release()  # before the check, which runs at the load's peak
            return validate_touched(out, touched, rewired)
        out = _to_level(graph, level, signature)
        if lowered and out is graph and graph.graph["level"] == "raw":
            return validate_lowered(out)
        return validate(out)


def _parse_ir(
    data: str | bytes,
    *,
    source: str | None = None,
    stage: str | None = None,
    walks: Walks | None = None,
) -> tuple[nx.MultiDiGraph, bool]:
    """:func:`parse_ir`, and whether the graph is fresh from the HLO text reader's lowering.

    ``walks``: filled by the HLO text reader (``xlalens.ir._canonical.Walks``).
    """
    fmt = detect_format(data)
    if fmt == "stablehlo":
        from xlalens.ir._stablehlo import parse_stablehlo

        return _with_loops(parse_stablehlo(data, source=source, stage=stage or "stablehlo")), False
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            # Not MLIR bytecode and not text: a serialized HloModuleProto
            # (TensorFlow's hlo_serialized, torch_xla's _get_xla_tensors_hlo_proto).
            from xlalens.ir._hlo_proto import parse_hlo_proto

            try:
                return _with_loops(
                    parse_hlo_proto(data, source=source, stage=stage or "unknown")
                ), False
            except ParseError:
                raise ParseError(
                    "binary input that is neither MLIR bytecode nor a serialized "
                    "HloModuleProto; xlalens reads HLO text or proto, StableHLO (text or "
                    "bytecode) and saved graphs (JSON, GraphML)",
                    source=source,
                ) from None
    if fmt == "hlo":
        from xlalens.ir.hlo import read_hlo_text

        graph, ops = read_hlo_text(data, source=source, stage=_hlo_stage(data, stage), walks=walks)
        # Only a module with a ``while`` has trip counts to find (a whole-graph scan).
        return (_with_loops(graph) if "while" in ops else graph), True
    if fmt == "json":
        from xlalens.ir._io import from_json

        return from_json(data, source=source), False
    if fmt == "graphml":
        from xlalens.ir._io import from_graphml

        return from_graphml(data), False
    first = next((ln for ln in data.splitlines() if ln.strip()), "")
    raise ParseError(
        "unrecognized input: expected HLO text (starting with 'HloModule'), StableHLO "
        "(starting with 'module'), MLIR bytecode, or a saved xlalens graph (JSON/GraphML)",
        line=1 if first else None,
        column=1 if first else None,
        snippet=first[:120],
        source=source,
    )


def load_file(
    path: str | Path,
    level: str | None = "raw",
    *,
    stage: str | None = None,
    signature: dict[str, Any] | None = None,
    source: dict[str, Any] | None = None,
    mesh: Any = None,
) -> nx.MultiDiGraph:
    """Load one file (IR or saved graph) at ``level``; ``source`` is stored in the graph.

    ``mesh`` (an ``xlalens.ir.Mesh``, a dump manifest's) names the axes of the
    nodes' sharding and collective records (``xlalens.ir._collectives.annotate``).

    Raises:
        UsageError: the file does not exist or cannot be read.
        ParseError: its content is not IR xlalens reads.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"no such file: {str(path)!r}") from None
    except IsADirectoryError:
        raise UsageError(
            f"{str(path)!r} is a folder; pass an IR file or a dump entry DIR:frontend[:artifact]"
        ) from None
    except OSError as exc:
        raise UsageError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    stage = stage or _STAGE_BY_NAME.get(path.name)
    walks = _walks(level)
    parsed = None
    if raw[:16].lstrip()[:1] in (b"H", b"E", b"%", b"/") and not raw.startswith(
        _MLIR_BYTECODE_MAGIC
    ):
        # Likely HLO text: decode here and drop the bytes, then hand the text over to
        # the reader, which lets it go once parsed (NOTE [the text goes before the
        # graph is built] in ``xlalens.ir.hlo``; peak memory, issue 23); other content
        # goes to _parse_ir as bytes, as before.
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            if detect_format(text) == "hlo":
                del raw
                from xlalens.ir.hlo import read_hlo_file_text

                holder = [text]
                hlo_stage = _hlo_stage(text, stage)
                del text
                graph, ops = read_hlo_file_text(
                    holder, source=str(path), stage=hlo_stage, walks=walks
                )
                parsed = (_with_loops(graph) if "while" in ops else graph), True
            else:
                del text
    if parsed is None:
        parsed = _parse_ir(raw, source=str(path), stage=stage, walks=walks)
        del raw
    graph = parsed[0]
    if mesh is not None:
        from xlalens.ir._collectives import annotate

        annotate(graph, mesh)
    if source:
        graph.graph["source"] = {**graph.graph.get("source", {}), **source}
    else:
        graph.graph["source"].setdefault("path", str(path))
    return _finish(parsed, level, signature, walks)


def load(
    target: Any,
    level: str | None = "raw",
    *,
    stage: str | None = None,
    signature: dict[str, Any] | None = None,
) -> nx.MultiDiGraph:
    """Load IR or a saved graph as a validated xlalens graph, detecting the format.

    Args:
        target: a path (HLO text, StableHLO ``.mlir`` text or bytecode, saved graph
            ``.json``/``.graphml``), IR text itself, MLIR bytecode as ``bytes``, a dump
            entry ``"DIR:frontend[:artifact]"`` (artifact ``stablehlo`` by default),
            a capture (anything with ``.dump`` and ``.frontend``: its ``stage``
            artifact, StableHLO by default), or an xlalens graph (re-leveled and
            validated).
        level: ``"raw"`` (faithful to the input) or ``"canonical"`` (see
            docs/normalization.md); ``None`` keeps a saved graph's own level.
        stage: override the IR stage recorded in the graph (``"stablehlo"``, ``"hlo"``,
            ``"optimized_hlo"``); guessed from the dump entry, the file name or the
            text otherwise.
        signature: ``{"inputs": [{"role": ...}], "outputs": [...]}`` as in a dump
            manifest, naming parameters and results at the canonical level; dump
            entries supply their own.

    Returns:
        A ``networkx.MultiDiGraph`` that passes :func:`validate`.

    Raises:
        UsageError: bad ``level``/``stage``, a missing file.
        DumpError: a dump entry whose dump, frontend or artifact does not exist.
        ParseError: malformed or unrecognized IR (with line, column and snippet).

    Example:
        >>> g = load("xlalens-dump:jax:optimized_hlo", level="canonical")  # doctest: +SKIP
        >>> g.graph["source"]["frontend"]  # doctest: +SKIP
        'jax'
    """
    _check_level(level)
    _check_stage(stage)
    # The GC off across the whole load (re-entrant): the parse's young objects are not
    # scanned by a collection the leveling's first allocations would start, and on
    # exit they go straight to the oldest generation (NOTE in ``xlalens.ir._gc``).
    with paused_gc():
        return _load(target, level, stage, signature)


def _load(
    target: Any, level: str | None, stage: str | None, signature: dict[str, Any] | None
) -> nx.MultiDiGraph:
    if isinstance(target, nx.MultiDiGraph):
        return validate(_to_level(target, level, signature, copy=True))
    walks = _walks(level)
    if isinstance(target, bytes):
        return _finish(_parse_ir(target, stage=stage, walks=walks), level, signature, walks)
    if isinstance(target, os.PathLike):
        return load_file(target, level, stage=stage, signature=signature)
    if hasattr(target, "dump") and hasattr(target, "frontend"):
        # a Capture (xlalens.capture): its StableHLO, or the artifact named by ``stage``
        artifact = stage if stage in IR_ARTIFACTS else "stablehlo"
        return load_entry(f"{target.dump}:{target.frontend}:{artifact}", level, signature=signature)
    if not isinstance(target, str):
        raise UsageError(
            f"cannot load a {type(target).__name__}; pass a path, IR text, bytes, a dump entry "
            "DIR:frontend[:artifact] or an xlalens graph"
        )
    if "\n" not in target and len(target) < 4096:
        if looks_like_entry(target):
            return load_entry(target, level, stage=stage, signature=signature)
        p = Path(target)
        if p.is_file():
            return load_file(p, level, stage=stage, signature=signature)
        if p.is_dir():
            if is_dump(p):
                fronts = ", ".join(read_manifest(p).get("frontends", {})) or "none"
                raise UsageError(
                    f"{target!r} is a dump; name a frontend and artifact: {target}:FRONTEND[:ARTIFACT] "
                    f"(frontends: {fronts}; artifacts: {', '.join(IR_ARTIFACTS)})"
                )
            raise UsageError(
                f"{target!r} is a folder; pass an IR file or a dump entry DIR:frontend[:artifact]"
            )
        if detect_format(target) == "unknown":
            if ":" in target and is_dump(target.split(":")[0]):
                return load_entry(target, level, stage=stage, signature=signature)
            raise UsageError(
                f"{target!r} is neither an existing file nor a dump entry DIR:frontend[:artifact] "
                "nor IR text"
            )
    return _finish(_parse_ir(target, stage=stage, walks=walks), level, signature, walks)


def load_entry(
    spec: str,
    level: str | None = "raw",
    *,
    stage: str | None = None,
    signature: dict[str, Any] | None = None,
) -> nx.MultiDiGraph:
    """Load ``DIR:frontend[:artifact]``; see :func:`load`."""
    entry = resolve_entry(spec)
    if entry.artifact not in IR_ARTIFACTS:
        raise DumpError(
            f"{spec!r}: {entry.artifact} is not IR; choose one of {', '.join(IR_ARTIFACTS)} "
            f"(all artifacts: {', '.join(ARTIFACTS)})"
        )
    sig = signature if signature is not None else entry.info.get("signature")
    source = {
        "dump": str(entry.dump),
        "frontend": entry.frontend,
        "artifact": entry.artifact,
        "path": str(entry.path),
    }
    if "@" in spec:  # a target compile: labels must keep it (issue 22)
        source["target"] = spec.rsplit("@", 1)[1]
    spec_sh = entry.manifest.get("sharding")
    mesh = None
    if isinstance(spec_sh, dict) and spec_sh.get("mesh") and spec_sh.get("axes"):
        from xlalens.ir._collectives import mesh_from_spec

        mesh = mesh_from_spec(spec_sh)
    return load_file(
        entry.path, level, stage=stage or entry.artifact, signature=sig, source=source, mesh=mesh
    )
