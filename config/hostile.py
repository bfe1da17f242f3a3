"""One guard for hostile structure in the JSON and JSONL that come in: API bodies, chat JSONL imports,
competition files, judges' answers.

What it refuses, each with a message a person can act on (``HostileJson``), before anything is built
or stored: more bytes than the door allows; bytes that are not UTF-8; nesting deeper than
``MAX_DEPTH`` (found by scanning brackets, before the parser recurses: Python's json module raises
RecursionError near 1,000 levels, which no caller expects); text the database cannot store (NUL, an
unpaired surrogate: config/storable_text.py) in any key or string; NaN and Infinity (not JSON), and a
number no double holds (``1e400``, which Python reads as infinity) or an integer of more digits than
Python converts (``sys.get_int_max_str_digits()``, 4,300: a bare ValueError). A UTF-8 byte order
mark at the start is accepted and dropped (editors on some systems write one).
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable
from typing import Any

from config.storable_text import unstorable_text_reason

# Lists and objects inside one another. Nothing the platform reads needs more than ten or so.
MAX_DEPTH = 64
BOM = "\ufeff"

# A string (skipped whole, escapes included) or a bracket: the brackets outside strings give the depth.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class HostileJson(ValueError):
    """The input is refused; ``str()`` says why and where (a column, or a path like ``messages[2].content``)."""


def utf8_text(data: bytes, *, max_bytes: int | None = None, what: str = "the body") -> str:
    """``data`` decoded as UTF-8 without a leading byte order mark; HostileJson when over ``max_bytes``
    or not UTF-8."""
    if max_bytes is not None and len(data) > max_bytes:
        raise HostileJson(f"{what} has {len(data):,} bytes; the limit is {max_bytes:,} bytes")
    try:
        return data.decode("utf-8").removeprefix(BOM)
    except UnicodeDecodeError as exc:
        raise HostileJson(f"{what} is not UTF-8 text (byte {exc.start + 1})") from None


def depth_exceeded_at(text: str, *, max_depth: int = MAX_DEPTH) -> tuple[int, int] | None:
    """(line, column), from 1, of the first bracket that nests lists and objects deeper than ``max_depth``; or None.

    A linear scan of the text, whatever it is: malformed JSON is left to the parser to report.
    """
    depth = 0
    for match in _TOKEN.finditer(text):
        bracket = match.group()
        if bracket in "[{":
            depth += 1
            if depth > max_depth:
                line = text.count("\n", 0, match.start()) + 1
                return line, match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
        elif bracket in "]}":
            depth -= 1
    return None


def depth_problem(text: str, *, max_depth: int = MAX_DEPTH) -> str | None:
    """Why ``text`` nests lists and objects deeper than ``max_depth`` (saying where), or None."""
    found = depth_exceeded_at(text, max_depth=max_depth)
    if found is None:
        return None
    line, column = found
    at = f"column {column}" if line == 1 else f"line {line}, column {column}"
    return f"nested too deeply: more than {max_depth} lists and objects inside one another ({at})"


def _place(where: str, key: object) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else str(key)


def unstorable_problem(value: Any, where: str = "") -> str | None:
    """The first key or string of the parsed ``value`` the database cannot store, said with its path; or None.

    Iterative (an explicit stack), so any depth is safe.
    """
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        item, place = stack.pop()
        if isinstance(item, str):
            if reason := unstorable_text_reason(item):
                return f"{place or 'the value'} {reason}"
        elif isinstance(item, dict):
            for key, child in reversed(item.items()):
                child_place = _place(place, key)
                if isinstance(key, str) and (reason := unstorable_text_reason(key)):
                    return f"the key {child_place} {reason}"
                stack.append((child, child_place))
        elif isinstance(item, list):
            stack.extend((child, _place(place, index)) for index, child in reversed(list(enumerate(item))))
    return None


def _refuse_constant(name: str) -> None:
    # Python's json reads NaN and Infinity, which are not JSON and which PostgreSQL's JSON refuses.
    raise HostileJson(f"not JSON: {name} is not a JSON value")


def _float(text: str) -> float:
    # Python reads an overflowing literal as inf, which no JSON writer, database or judge expects.
    value = float(text)
    if not math.isfinite(value):
        raise HostileJson(f"the number {text[:40]} is out of range (a double holds up to about 1.8e308)")
    return value


def _int(text: str) -> int:
    limit = sys.get_int_max_str_digits()
    if limit and len(text.lstrip("-")) > limit:
        raise HostileJson(f"an integer of {len(text.lstrip('-')):,} digits is longer than the {limit:,} read")
    return int(text)


def json_loads(
    data: str | bytes,
    *,
    max_bytes: int | None = None,
    max_depth: int = MAX_DEPTH,
    storable: bool = True,
    what: str = "the body",
    object_pairs_hook: Callable | None = None,
) -> Any:
    """Parse one JSON document from hostile input; HostileJson (never RecursionError) when it is refused.

    ``data`` as bytes is checked against ``max_bytes`` and decoded as UTF-8; a leading byte order
    mark is dropped either way. With ``storable`` (the default) every key and string must be text
    the database can store. ``object_pairs_hook`` goes to ``json.loads`` (its own exceptions pass).
    """
    text = utf8_text(data, max_bytes=max_bytes, what=what) if isinstance(data, bytes) else data.removeprefix(BOM)
    if max_bytes is not None and isinstance(data, str) and len(text) > max_bytes:
        raise HostileJson(f"{what} has more than {max_bytes:,} characters")
    if problem := depth_problem(text, max_depth=max_depth):
        raise HostileJson(problem)
    try:
        value = json.loads(
            text,
            object_pairs_hook=object_pairs_hook,
            parse_constant=_refuse_constant,
            parse_float=_float,
            parse_int=_int,
        )
    except json.JSONDecodeError as exc:
        at = f"column {exc.colno}" if exc.lineno == 1 else f"line {exc.lineno}, column {exc.colno}"
        raise HostileJson(f"not JSON: {exc.msg} ({at})") from None
    except RecursionError:  # the depth scan keeps far below the limit; the last line of defence
        raise HostileJson("nested too deeply to be read") from None
    if storable and (problem := unstorable_problem(value)):
        raise HostileJson(problem)
    return value
