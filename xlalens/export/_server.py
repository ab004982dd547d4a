"""Model Explorer's own server on exported files, run as ``python -m xlalens.export._server``.

``xlalens explore`` starts this in its own process (the CLI's process never
imports ``model_explorer``): it loads graph JSON files (Model Explorer's built-in
JSON adapter reads them) and node-data files, prints the URL, and serves until
Ctrl-C or SIGTERM.

NOTE: [offline Model Explorer] ``model_explorer`` imports torch when it can
(to offer its PyTorch adapter), which costs seconds and an ML framework we do
not need: the launcher hides torch from it. After start it asks PyPI and GitHub
whether a newer release exists (``server._check_new_version``, also served to
the page as ``/api/v1/check_new_version``); the launcher replaces that check
with an empty answer so that nothing leaves the machine. The page itself asks
fonts.gstatic.com for its web font; offline the browser falls back to a local font.
"""

from __future__ import annotations

import argparse
import sys

INSTALL_HINT = "pip install 'xlalens[explore]' (or: pip install ai-edge-model-explorer==0.1.34)"

SECTION_LIMIT = 100
"""Model Explorer's ``groupNodeChildrenCountThreshold`` page parameter: a level with more
items is split into ``section_i_of_n`` layers (NOTE [sections for what names do not group])."""

# NOTE: [sections for what names do not group] ``export`` groups layers by their names
# (_layers.py), but a graph without name scopes (torch_xla's optimized HLO) has nothing to
# group: its 232 root ops took 270 s to lay out in headless chromium here, and a layer
# such as ``sgd`` or ``(parameters)`` holds 500+ ops. Model Explorer splits a level into
# artificial ``section_i_of_n`` layers above a threshold (1,000 by default; the page reads
# ``groupNodeChildrenCountThreshold`` from its URL, as does its "max number of nodes in a
# layer" setting): at 100, the transformer's page was ready in 6 s.


def _no_version_check(print_msg: bool = True) -> dict[str, str]:
    """What Model Explorer's version check answers when it finds nothing newer."""
    return {"version": "", "runningVersion": "", "releaseUrl": "", "desktopAppUrl": ""}


def main(argv: list[str] | None = None) -> int:
    """Start Model Explorer on ``--graph`` files with ``--node-data FILE=LABEL`` overlays."""
    p = argparse.ArgumentParser(prog="python -m xlalens.export._server")
    p.add_argument("--graph", action="append", required=True, help="graph JSON (repeatable)")
    p.add_argument(
        "--node-data",
        action="append",
        default=[],
        metavar="FILE=LABEL",
        help="node-data JSON and the label of the graph collection it colours",
    )
    p.add_argument("--host", default="localhost")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--no-browser", action="store_true")
    args = p.parse_args(argv)
    sys.modules.setdefault("torch", None)  # NOTE [offline Model Explorer]
    try:
        import model_explorer
        from model_explorer import server
    except ImportError as exc:
        print(f"xlalens explore: error: Model Explorer is not installed ({exc}); {INSTALL_HINT}")
        return 2
    server._check_new_version = _no_version_check
    config = model_explorer.config()
    # NOTE [sections for what names do not group]: the page parameter rides on the data
    # parameter, the one URL part Model Explorer lets a caller fill.
    to_url = config.to_url_param_value
    config.to_url_param_value = lambda: (
        f"{to_url()}&groupNodeChildrenCountThreshold={SECTION_LIMIT}"
    )
    for g in args.graph:
        config.add_model_from_path(g)
    for item in args.node_data:
        path, _, target = item.partition("=")
        config.add_node_data_from_path(path, model_name=target or None)
    server.start(
        host=args.host,
        port=args.port,
        config=config,
        no_open_in_browser=args.no_browser,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
