"""``xlalens explore TARGET [--diff OTHER] [--port P] [--no-browser]`` (code in ``_export_cli``)."""

from xlalens._export_cli import register_explore as register

__all__ = ["register"]
