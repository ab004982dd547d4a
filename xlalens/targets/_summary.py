"""What a target's optimized module holds: kernels, fusion kinds, library calls, roofline.

Reads the optimized HLO a target compile wrote through :mod:`xlalens.ir` (the one
HLO reader) and turns it, with the compile's cost analysis and memory stats, into
the per-frontend record of ``DIR/targets/<target>.json``. It also finds each
kernel's codegen artifacts in the XLA dump (PTX / LLVM IR for GPU, LLVM IR and
object code for CPU) so the report can link them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import networkx as nx

from xlalens.ir import kernel_nodes
from xlalens.ir._ops import COLLECTIVE_KINDS
from xlalens.targets._spec import Chip

COLLECTIVES = COLLECTIVE_KINDS  # THE list, in the op table
ROOFLINE_NOTE = (
    "estimate from the target's published peak FLOP/s and memory bandwidth applied to "
    "XLA's FLOP and byte counts; not a measurement"
)


def _backend_kind(attrs: dict[str, Any]) -> str:
    """The ``kind`` a fusion's backend_config names (``__triton_gemm``, ``__cudnn$fusion``...)."""
    bc = attrs.get("backend_config")
    if isinstance(bc, dict):
        # XLA:GPU says fusion_backend_config, XLA:CPU fusion_config.
        for key in ("fusion_backend_config", "fusion_config"):
            fbc = bc.get(key)
            if isinstance(fbc, dict) and fbc.get("kind"):
                return str(fbc["kind"])
    return ""


def library_of(opcode: str, attrs: dict[str, Any]) -> str | None:
    """The library a kernel calls: ``cuBLAS``, ``cuDNN``, ``Triton``, ``oneDNN``, ``XNNPACK``...

    Example:
        >>> library_of("custom-call", {"custom_call_target": "__cublas$lt$matmul"})
        'cuBLAS'
    """
    target = str(attrs.get("custom_call_target") or "")
    kind = _backend_kind(attrs) or str(attrs.get("kind") or "")
    probe = f"{target} {kind}".lower()
    for needle, lib in (
        ("cublas", "cuBLAS"),
        ("cudnn", "cuDNN"),
        ("triton", "Triton"),
        ("onednn", "oneDNN"),
        ("xnn", "XNNPACK"),
        ("ynn", "YNNPACK"),
        ("cufft", "cuFFT"),
        ("cusolver", "cuSOLVER"),
    ):
        if needle in probe:
            return lib
    return None


def _symbol(name: str) -> str:
    """The symbol XLA's emitters give an HLO instruction (``fusion.3`` -> ``fusion_3``)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def disassemble(dump_dir: Path) -> int:
    """Write ``X.s`` (``objdump -d``) beside each CPU object file ``X.o``; returns how many.

    XLA:CPU dumps machine code as object files; the report shows assembly. Needs
    binutils' ``objdump`` (absent: nothing is written and 0 returned).
    """
    objdump = shutil.which("objdump")
    if not objdump or not dump_dir.is_dir():
        return 0
    n = 0
    for obj in sorted(dump_dir.glob("*.o")):
        out = obj.with_suffix(".s")
        try:
            text = subprocess.run(
                [objdump, "-d", "--no-show-raw-insn", str(obj)],
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            ).stdout
        except (subprocess.SubprocessError, OSError):
            continue
        out.write_text(text)
        n += 1
    return n


def codegen_index(dump_dir: Path, rel_to: Path) -> dict[str, list[dict[str, Any]]]:
    """Symbol -> codegen artifacts (``{"kind", "path", "line"}``) found in an XLA dump.

    GPU: ``.entry SYM(`` in ``*.ptx`` and ``define ... @SYM(`` in ``*ir-with-opt.ll``.
    CPU: per-kernel files ``...SYM_kernel_module.ir-with-opt.ll`` / ``.o`` / ``.s``.
    Paths are relative to ``rel_to`` (the dump folder).
    """
    index: dict[str, list[dict[str, Any]]] = {}
    if not dump_dir.is_dir():
        return index

    def add(sym: str, kind: str, path: Path, line: int | None) -> None:
        index.setdefault(sym, []).append(
            {"kind": kind, "path": path.relative_to(rel_to).as_posix(), "line": line}
        )

    entry = re.compile(r"^\s*\.visible\s+\.entry\s+([A-Za-z0-9_$.]+)\s*\(")
    define = re.compile(r"^define\b[^@]*@\"?([A-Za-z0-9_$.]+)\"?\(")
    # XLA:CPU names per-kernel files module_NNNN.<module>.[obj-file.]<kernel>_kernel_module.<ext>
    # (dot.N_elemental_kernel_module, __compute_module_<kernel> too); <module> may hold dots.
    per_kernel = (
        re.compile(r"__compute_module_(.+?)\.(ir-with-opt\.ll|o|s)$"),
        re.compile(
            r"\.(?:obj-file\.)?([A-Za-z_][A-Za-z0-9_\-]*(?:\.\d+)?)(?:_elemental)?_kernel_module"
            r"\.(ir-with-opt\.ll|o|s)$"
        ),
    )
    for path in sorted(dump_dir.iterdir()):
        name = path.name
        per_file = next((m for p in per_kernel if (m := p.search(name))), None)
        if per_file:  # XLA:CPU: one file per kernel
            kind = {"o": "object", "s": "asm"}.get(per_file.group(2), "llvm-ir")
            add(_symbol(per_file.group(1)), kind, path, None)
        elif name.endswith(".ptx"):  # XLA:GPU: kernels of one LLVM module split
            for i, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                m = entry.match(line)
                if m:
                    add(_symbol(m.group(1)), "ptx", path, i)
        elif name.endswith("ir-with-opt.ll"):
            for i, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                m = define.match(line)
                if m:
                    add(_symbol(m.group(1)), "llvm-ir", path, i)
    return index


def analyze(
    graph: nx.MultiDiGraph,
    chip: Chip,
    cost: dict[str, float],
    memory: dict[str, int],
    codegen: dict[str, list[dict[str, Any]]],
) -> dict[str, Any]:
    """The summary record of one frontend's optimized module for one target.

    Args:
        graph: the optimized HLO, raw level (``xlalens.load(..., stage="optimized_hlo")``).
        chip: the target chip (for its published peaks).
        cost: XLA's cost analysis (``flops``, ``bytes accessed``, ``optimal_seconds``...).
        memory: compiled memory stats (``*_in_bytes``).
        codegen: :func:`codegen_index` of the frontend's XLA dump.

    Returns:
        A JSON-ready dict (kernels, fusion kinds, custom/library calls, collectives,
        tiled layouts, cost, memory, XLA's estimate, roofline estimate, kernel list).

    Example:
        >>> analyze(g, CHIPS["h100"], {"flops": 1e9}, {}, {})["kernels"]  # doctest: +SKIP
        14
    """
    kernels = kernel_nodes(graph)
    fusion_kinds: dict[str, int] = {}
    custom_calls: dict[str, int] = {}
    libraries: dict[str, int] = {}
    collectives: dict[str, int] = {}
    kernel_list = []
    for nid in kernels:
        d = graph.nodes[nid]
        attrs = d.get("attrs") or {}
        opcode = d.get("opcode") or d.get("op") or ""
        kind = ""
        if opcode == "fusion":
            kind = _backend_kind(attrs) or str(attrs.get("kind") or "")
            fusion_kinds[kind] = fusion_kinds.get(kind, 0) + 1
        if opcode == "custom-call":
            t = str(attrs.get("custom_call_target") or "?")
            custom_calls[t] = custom_calls.get(t, 0) + 1
        lib = library_of(opcode, attrs)
        if lib:
            libraries[lib] = libraries.get(lib, 0) + 1
        base = re.sub(r"-(start|done|update)$", "", opcode)
        if base in COLLECTIVES:
            collectives[base] = collectives.get(base, 0) + (0 if opcode.endswith("-done") else 1)
        name = d.get("name", nid)
        kernel_list.append(
            {
                "name": name,
                "opcode": opcode,
                "kind": kind or None,
                "library": lib,
                "custom_call_target": attrs.get("custom_call_target"),
                "type": d.get("type"),
                "op_name": d.get("op_name"),
                "codegen": codegen.get(_symbol(name), []),
            }
        )
    # Collectives may sit inside loop bodies / called computations, too.
    for _nid, d in graph.nodes(data=True):
        op = d.get("opcode") or ""
        base = re.sub(r"-(start|done|update)$", "", op)
        if base in COLLECTIVES and d.get("computation") != graph.graph.get("entry"):
            collectives[base] = collectives.get(base, 0) + (0 if op.endswith("-done") else 1)
    tiled = sum(1 for _n, d in graph.nodes(data=True) if ":T(" in str(d.get("type") or ""))
    dot_dtypes = {
        str(d.get("dtype"))
        for _n, d in graph.nodes(data=True)
        if (d.get("opcode") in ("dot", "convolution"))
        or (d.get("opcode") == "custom-call" and library_of("custom-call", d.get("attrs") or {}))
    }
    flops = cost.get("flops")
    nbytes = cost.get("bytes accessed")
    loops: list[dict[str, Any]] = []
    if any(d.get("op") == "while" for _n, d in graph.nodes(data=True)):
        # XLA's cost analysis counts a loop body once (NOTE [loops in the roofline],
        # xlalens.ir._cost): add what the loops' other iterations cost.
        from xlalens.ir._cost import module_cost

        mc = module_cost(graph)
        flops = None if flops is None else flops + mc.flops - mc.flops_once
        nbytes = None if nbytes is None else nbytes + mc.bytes - mc.bytes_once
        loops = [{"node": n.split("/", 1)[-1], "trip_count": t} for n, t, _ in mc.loops]
    return {
        "kernels": len(kernels),
        "fusion_kinds": dict(sorted(fusion_kinds.items())),
        "custom_calls": dict(sorted(custom_calls.items())),
        "library_calls": dict(sorted(libraries.items())),
        "collectives": {k: v for k, v in sorted(collectives.items()) if v},
        "tiled_layouts": tiled,
        "cost": {
            "flops": flops,
            "bytes_accessed": nbytes,
            "transcendentals": cost.get("transcendentals"),
            **(
                {"xla_flops": cost.get("flops"), "xla_bytes_accessed": cost.get("bytes accessed")}
                if loops
                else {}
            ),
            "loops": loops,
        },
        "memory": {
            "argument_bytes": memory.get("argument_size_in_bytes"),
            "output_bytes": memory.get("output_size_in_bytes"),
            "temp_bytes": memory.get("temp_size_in_bytes"),
            "alias_bytes": memory.get("alias_size_in_bytes"),
            "generated_code_bytes": memory.get("generated_code_size_in_bytes"),
            "peak_bytes": memory.get("peak_memory_in_bytes"),
        },
        # XLA:TPU answers a negative optimal_seconds when it has no estimate.
        "xla_estimate_seconds": (
            cost["optimal_seconds"] if (cost.get("optimal_seconds") or -1) > 0 else None
        ),
        "roofline": roofline(flops, nbytes, chip, "bf16" if dot_dtypes == {"bf16"} else "f32"),
        "kernel_list": kernel_list,
    }


def roofline(flops: float | None, nbytes: float | None, chip: Chip, dtype: str) -> dict[str, Any]:
    """The roofline time estimate ``max(flops / peak, bytes / bandwidth)`` from published peaks.

    Example:
        >>> from xlalens.targets._spec import CHIPS
        >>> roofline(1e12, 1e9, CHIPS["h100"], "f32")["bound"]
        'compute'
    """
    peak = chip.flops_per_s.get(dtype)
    if not peak or not chip.bytes_per_s:
        return {
            "seconds": None,
            "bound": None,
            "note": f"no published peak for {chip.name}; `xlalens time` measures this host",
        }
    t_c = (flops or 0.0) / peak
    t_m = (nbytes or 0.0) / chip.bytes_per_s
    return {
        "seconds": max(t_c, t_m),
        "bound": "compute" if t_c > t_m else "memory",
        "compute_seconds": t_c,
        "memory_seconds": t_m,
        "peak_flops_per_s": peak,
        "peak_bytes_per_s": chip.bytes_per_s,
        "dtype": dtype,
        "note": ROOFLINE_NOTE,
    }
