"""Text the database cannot store, found before a write instead of by a database error during one.

PostgreSQL refuses the NUL character in text and JSON values, and no UTF-8 database can hold an
unpaired UTF-16 surrogate (JSON's ``\\ud800`` escape and Python strings allow both). SQLite stores
them, so without this check a file accepted in development fails in production.
"""

from __future__ import annotations

import re

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable_text_reason(text: str) -> str:
    """Why text cannot be stored ("holds a NUL character (\\0) at character 4, ..."), or "" when it can."""
    match = _UNSTORABLE.search(text)
    if match is None:
        return ""
    found = match.group()
    what = "a NUL character (\\0)" if found == "\x00" else f"an unpaired surrogate (U+{ord(found):04X})"
    return f"holds {what} at character {match.start() + 1}, which the database cannot store; remove it"


def storable_text(text: str) -> str:
    """`text` with each character the database cannot store replaced by U+FFFD (for text we keep
    rather than refuse, such as what a judge answered)."""
    return _UNSTORABLE.sub("\ufffd", text)
