"""The rich Console of a management command, writing to the command's real output stream."""

from __future__ import annotations

import os

from django.core.management.base import OutputWrapper
from rich.console import Console

PIPED_COLUMNS = 80


def command_console(stream: OutputWrapper, *, width: int | None = None, stderr: bool = False) -> Console:
    """A Console on the stream under ``stream`` (a command's self.stdout or self.stderr).

    Not on the OutputWrapper itself: it ends every write without a newline with one, so each of a
    progress bar's redraws (a carriage return and cursor moves, no newline) became a new line.
    ``call_command(..., stdout=buffer)`` still captures it: the wrapper's stream is that buffer.
    A terminal is measured; piped output (a log, CI) gets ``width``, else COLUMNS when set, else
    80 columns, the narrowest terminal the output is likely to be read in.
    """
    out = stream._out
    if width is None and not (hasattr(out, "isatty") and out.isatty()):
        columns = os.environ.get("COLUMNS", "")
        width = int(columns) if columns.isdigit() else PIPED_COLUMNS
    return Console(file=out, width=width, stderr=stderr)
