"""A turn's lines in parts for display: prose, and the code of each closed Markdown fence.

The templates draw a code part as a monospace ``<pre><code>`` block under its language, and prose in
the page's font with its line breaks; every line keeps its number (the judges count fence lines
too, and findings name reply lines). Fences are the judges' own (judging/judges/code_blocks.py:
fences_find). An unclosed fence stays prose here, though the judges scan it as code to the end: a
reader sees exactly what the bot sent rather than half a reply drawn as code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from judging.judges.code_blocks import fences_find
from judging.reading.transcript.findings import ReplyLine

# The label of a code part: the first word of the fence's info string ("python" of "```python x=1"),
# cut short; bot text like the rest, escaped where it is shown.
_LANGUAGE = re.compile(r"\S{1,40}")


@dataclass(frozen=True)
class TurnPart:
    """Consecutive lines of a turn: prose (no ``opening``), or a closed fence: its two fence lines
    and the code lines between them in ``lines``."""

    lines: tuple[ReplyLine, ...]
    opening: ReplyLine | None = None
    closing: ReplyLine | None = None
    language: str = ""

    @property
    def code(self) -> bool:
        return self.opening is not None


def turn_parts(lines: tuple[ReplyLine, ...]) -> tuple[TurnPart, ...]:
    """`lines` (a turn's numbered lines, reply_lines) as prose parts and closed fences, in order."""
    parts: list[TurnPart] = []
    start = 0
    for fence in fences_find([line.text for line in lines]):
        if fence.closing is None:
            break
        if fence.opening > start:
            parts.append(TurnPart(lines=lines[start : fence.opening]))
        language = _LANGUAGE.match(fence.info.strip())
        parts.append(
            TurnPart(
                lines=lines[fence.opening + 1 : fence.closing],
                opening=lines[fence.opening],
                closing=lines[fence.closing],
                language=language[0] if language else "",
            )
        )
        start = fence.closing + 1
    if start < len(lines):
        parts.append(TurnPart(lines=lines[start:]))
    return tuple(parts)
