"""xlalens.passes: what XLA's passes did to each framework's step, pass by pass.

Stages: :func:`run_passes` re-runs each frontend's capture subprocess with XLA's
dump flags into ``DIR/<frontend>/passes/`` (``_run.py``); :func:`scan` sorts
XLA's files by module (``_files.py``); :func:`build_timeline` parses every pass
snapshot with ``xlalens.ir``, diffs each with the one before with
``xlalens.diff`` and walks the diffs back for blame (``_timeline.py``);
:func:`read_memory` reads the buffer-assignment and live-range reports
(``_memory.py``); :func:`report_section` is the report's "compiler passes"
section (``_report.py``). See docs/passes.md.
"""

from xlalens.passes._files import ModuleFiles, SnapshotFile, scan
from xlalens.passes._fingerprint import fingerprint, node_hashes
from xlalens.passes._memory import Buffer, MemoryReport, read_memory
from xlalens.passes._report import report_section, section_html, step_plot_svg, write_page
from xlalens.passes._run import (
    FrontendPasses,
    analyze,
    codegen_files,
    dump_flags,
    load_passes,
    pick_step,
    run_passes,
)
from xlalens.passes._timeline import (
    KernelBlame,
    OpFate,
    PassStep,
    Timeline,
    build_timeline,
    format_table,
    parse_snapshot,
    summarize,
)

__all__ = [
    "Buffer",
    "FrontendPasses",
    "KernelBlame",
    "MemoryReport",
    "ModuleFiles",
    "OpFate",
    "PassStep",
    "SnapshotFile",
    "Timeline",
    "analyze",
    "build_timeline",
    "codegen_files",
    "dump_flags",
    "fingerprint",
    "format_table",
    "load_passes",
    "node_hashes",
    "parse_snapshot",
    "pick_step",
    "read_memory",
    "report_section",
    "run_passes",
    "scan",
    "section_html",
    "step_plot_svg",
    "summarize",
    "write_page",
]
