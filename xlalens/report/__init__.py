"""xlalens.report: the dump's offline ``report.html``, the top floor that assembles the stages.

The report draws every graph and diff of a dump through :mod:`xlalens.render`
(SVG files under ``DIR/svg/``) and adds the sections the stages offer (timing
findings, targets, passes, sharding; ``_sections``). Stages never import this
package: they offer a ``report_section(dump_dir)`` function that the registry
names, and the CLI refreshes the report after each command. See docs/render.md.
"""

from xlalens.report._report import build_html, dump_step, refresh_report, write_report
from xlalens.report._sections import SECTIONS, register_section
from xlalens.report._svgs import render_dump

__all__ = [
    "SECTIONS",
    "build_html",
    "dump_step",
    "refresh_report",
    "register_section",
    "render_dump",
    "write_report",
]
