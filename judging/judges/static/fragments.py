"""Code that is not a whole file, made parseable before anyone says "could not parse it".

Replies hold fragments: a method without its class, statements without a function, a window cut
out of a file with a closing brace at the top and an open block at the bottom. A parser rejects
them and the static judge could then only answer "unknown". The repairs below are what a reviewer
does in their head: drop the closers that belong to code above the window, close what is left
open at the end, and put the fragment where its language allows it (a class around methods, a
function around statements). The fragment's own lines are never changed except for blanking
unmatched closing brackets, so every finding in a repaired source is a finding in the reply's
code; `line_offset` says how many lines a repair put before the fragment's first line.

`fragment_repairs` gives the candidates for one block; the semgrep step scans them all in one run
and keeps what the ones that parsed found. Python is checked here with `ast` and gets at most one
repair, which bandit and semgrep both read.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = {")": "(", "]": "[", "}": "{"}
# Strings and comments of C-like languages, skipped when counting brackets (a rough lexer: it is
# enough that brackets inside literals do not count).
_C_LIKE_SKIP = re.compile(
    r"//[^\n]*|/\*[\s\S]*?(?:\*/|$)|\"(?:\\.|[^\"\\\n])*\"?|'(?:\\.|[^'\\\n])*'?|`(?:\\.|[^`\\])*`?|#[^\n]*"
)
# Lines that must stay outside a wrapper: imports, packages, usings, includes.
_TOP_LEVEL_LINE = re.compile(r"^\s*(?:import\s|package\s|using\s+[\w.]+\s*;|#\s*include\b|#\s*import\b|@file:)")


@dataclass(frozen=True)
class Repair:
    """A parseable candidate for a fragment: the source, lines added before it, and how it was made."""

    source: str
    line_offset: int
    how: str
    # Every line of the fragment is in the source. A repair that dropped lines (a statement cut off
    # at the end, or a placeholder: the two look alike) may find weaknesses, but its parse is not a
    # full scan: the block stays "unparsed", so no finding means "unknown", never clean.
    complete: bool = True


# Languages in which '#' starts a comment or a preprocessor line; elsewhere it is code.
_HASH_COMMENTS = frozenset({"c", "cpp", "objective_c", "php", "ruby", "shell"})


def brackets_balance(code: str, language: str) -> str:
    """The code with unmatched closing brackets blanked (spaces, so columns and lines stay) and the
    brackets still open at the end closed on a new last line. Brackets in strings and comments do
    not count (nor in C's preprocessor lines)."""

    def blank(match: re.Match[str]) -> str:
        if match[0].startswith("#") and language not in _HASH_COMMENTS:
            return match[0]
        return " " * len(match[0])

    masked = _C_LIKE_SKIP.sub(blank, code)
    text, closing = _balance(code, masked)
    return text + ("\n" + closing + "\n" if closing else "")


def _balance(code: str, masked: str) -> tuple[str, str]:
    """The code with its unmatched closing brackets blanked, and the closers of the brackets still
    open at its end; `masked` is the code with strings and comments blanked (same length)."""
    chars = list(code)
    stack: list[str] = []
    for position, char in enumerate(masked):
        if char in _OPENERS:
            stack.append(char)
        elif char in _CLOSERS:
            if stack and stack[-1] == _CLOSERS[char]:
                stack.pop()
            elif not stack:
                chars[position] = " "  # closes code above the window
            else:
                # A mismatch inside the window: close what this closer ends, as a parser would hope.
                while stack and stack[-1] != _CLOSERS[char]:
                    stack.pop()
                if stack:
                    stack.pop()
    return "".join(chars), "".join(_OPENERS[opener] for opener in reversed(stack))


def _wrap(code: str, prefix: str, suffix: str) -> str:
    """`prefix` put at the start of the first line that is not an import (so lines do not move),
    `suffix` on a new last line."""
    lines = code.split("\n")
    at = next((number for number, line in enumerate(lines) if line.strip() and not _TOP_LEVEL_LINE.match(line)), 0)
    lines[at] = prefix + lines[at]
    return "\n".join(lines) + "\n" + suffix + "\n"


# Wrappers by language: (how, prefix, suffix). A class around members, a function around statements.
_WRAPPERS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "java": (
        ("in a class", "class ArenaFragment { ", "}"),
        ("in a method", "class ArenaFragment { void arenaFragment() throws Exception { ", "}}"),
    ),
    "csharp": (
        ("in a class", "class ArenaFragment { ", "}"),
        ("in a method", "class ArenaFragment { void ArenaFragmentBody() { ", "}}"),
    ),
    "javascript": (("in a function", "async function arenaFragment() { ", "}"),),
    "typescript": (("in a function", "async function arenaFragment() { ", "}"),),
    "c": (("in a function", "void arena_fragment(void) { ", "}"),),
    "cpp": (("in a function", "void arena_fragment() { ", "}"),),
    "go": (("in a function", "func arenaFragment() { ", "}"),),
    "php": (("in a function", "function arena_fragment() { ", "}"),),
}


def fragment_repairs(code: str, language: str) -> list[Repair]:
    """Candidates that may parse where `code` did not: balanced brackets, then each wrapper of the
    language around the balanced code. Python: at most one candidate, checked with `ast`."""
    if language == "python":
        repaired = python_repair(code)
        return [repaired] if repaired is not None else []
    balanced = brackets_balance(code, language)
    if language == "go" and not re.search(r"(?m)^\s*package\s+\w+", balanced):
        balanced = "package main; " + balanced  # a Go file must start with its package clause
    repairs = [Repair(balanced, 0, "brackets balanced")] if balanced != code else []
    for how, prefix, suffix in _WRAPPERS.get(language, ()):
        repairs.append(Repair(_wrap(balanced, prefix, suffix), 0, f"brackets balanced, {how}"))
    return repairs


def _parses(source: str) -> bool:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError):
        return False
    return True


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _python_open_blocks(lines: list[str]) -> tuple[list[str], int]:
    """Headers that open the blocks a window starts inside: one at each indentation level the first
    code line sits above; `try:` when the window goes on at that level with `except`/`finally`,
    else `if True:` (which `elif`/`else` also continue)."""
    code_lines = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not code_lines:
        return [], 0
    first = _indent(code_lines[0])
    if first == 0:
        return [], 0
    levels = sorted({0} | {_indent(line) for line in code_lines if _indent(line) < first})
    headers = []
    for level in levels:
        following = next((line for line in code_lines[1:] if _indent(line) == level), "")
        opener = "try:" if re.match(r"\s*(?:except\b|finally\b)", following) else "if True:"
        headers.append(" " * level + opener)
    return headers, len(headers)


def python_repair(code: str) -> Repair | None:
    """A parseable version of a Python window, or None: headers for the blocks the window starts
    inside, unmatched closing brackets blanked, and the statement cut off at the end dropped
    (trailing lines removed one by one, at most 15). None when the code parses already or no
    repair parses."""
    if _parses(code):
        return None
    headers, offset = _python_open_blocks(code.split("\n"))
    body = brackets_balance_python(code)
    lines = body.split("\n")
    for cut in range(min(15, len(lines) - 1) + 1):
        kept = lines[: len(lines) - cut] if cut else lines
        source = "\n".join([*headers, *kept]) + "\n"
        if _parses(source):
            how = "open blocks added" if headers else "brackets balanced"
            return Repair(source, offset, how + (f", last {cut} line(s) dropped" if cut else ""), complete=not cut)
        # An open block at the very end needs a body to parse.
        if _parses(source + " " * (_indent(kept[-1]) + 4 if kept else 0) + "pass\n"):
            return Repair(
                source + " " * (_indent(kept[-1]) + 4) + "pass\n",
                offset,
                "open block closed with pass",
                complete=not cut,
            )
    return None


def brackets_balance_python(code: str) -> str:
    """Python's brackets balanced like brackets_balance (strings and comments skipped), the closers
    added at the end of the last line so no line is added."""
    masked = re.sub(
        r"#[^\n]*|'''[\s\S]*?(?:'''|$)|\"\"\"[\s\S]*?(?:\"\"\"|$)|\"(?:\\.|[^\"\\\n])*\"?|'(?:\\.|[^'\\\n])*'?",
        lambda match: " " * len(match[0]),
        code,
    )
    text, closing = _balance(code, masked)
    return text.rstrip("\n") + closing
