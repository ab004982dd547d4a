"""The exceptions xlalens raises; each message says what was wrong and what to do."""

from __future__ import annotations


class XlalensError(Exception):
    """Base class of every error xlalens raises on purpose."""


class UsageError(XlalensError, ValueError):
    """A bad argument: names the argument, the valid choices and the fix. CLI exit 2."""


class DumpError(XlalensError):
    """A dump folder or dump entry that is missing, incomplete or of another version."""


class FrontendError(XlalensError):
    """A frontend subprocess failed; carries its command, exit code and stderr tail."""

    def __init__(
        self,
        message: str,
        *,
        command: list[str] | None = None,
        returncode: int | None = None,
        stderr_tail: str = "",
    ) -> None:
        super().__init__(message)
        self.command = command or []
        self.returncode = returncode
        self.stderr_tail = stderr_tail


class ParseError(XlalensError, ValueError):
    """Malformed IR text: carries the line, column and offending snippet."""

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        snippet: str = "",
        source: str | None = None,
    ) -> None:
        where = (
            f"{source or '<text>'}:{line}:{column}" if line is not None else (source or "<text>")
        )
        full = f"{where}: {message}"
        if snippet:
            full += f"\n    {snippet}"
            if column is not None:
                full += "\n    " + " " * max(0, column - 1) + "^"
        super().__init__(full)
        self.line = line
        self.column = column
        self.snippet = snippet
        self.source = source
