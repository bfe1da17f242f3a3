"""Reading a competition file into a parsed document: file type by suffix, UTF-8, YAML or JSON syntax.

Any failure here stops at once with one located problem (a syntax error names its line and column);
what the document says is checked afterwards by sections/. A key repeated in one mapping or object
is refused rather than silently keeping the last value. A file too large, nested too deeply or
expanding too far through YAML aliases is refused before it is built into Python objects (limits.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from competition.competition_file.limits import MAX_FILE_BYTES, json_limits_problem, yaml_limits_problem
from competition.competition_file.problems import CompetitionFileInvalid, Problem

SUFFIXES = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}


def document_read(path: Path) -> Any:
    """The file's parsed document; raises CompetitionFileInvalid when it cannot be read or parsed."""
    syntax = SUFFIXES.get(path.suffix.lower())
    if syntax is None:
        raise CompetitionFileInvalid(
            path, [Problem("", f"unsupported file type {path.suffix!r}; use .yaml, .yml or .json")]
        )
    if not path.exists():
        raise CompetitionFileInvalid(path, [Problem("", "file not found")])
    if not path.is_file():
        raise CompetitionFileInvalid(path, [Problem("", "not a regular file")])
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise CompetitionFileInvalid(path, [Problem("", f"cannot be read: {exc.strerror}")]) from None
    if size > MAX_FILE_BYTES:
        raise CompetitionFileInvalid(
            path, [Problem("", f"the file has {size:,} bytes; the limit is {MAX_FILE_BYTES:,} bytes")]
        )
    try:
        # utf-8-sig: editors on some systems start files with a byte order mark.
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CompetitionFileInvalid(path, [Problem(f"byte {exc.start}", "the file is not UTF-8 text")]) from None
    except OSError as exc:
        raise CompetitionFileInvalid(path, [Problem("", f"cannot be read: {exc.strerror}")]) from None
    limit_problem = yaml_limits_problem(text) if syntax == "yaml" else json_limits_problem(text)
    if limit_problem is not None:
        raise CompetitionFileInvalid(path, [limit_problem])
    try:
        return _parse(text, syntax, path)
    except RecursionError:
        # The limits above keep nesting far below the recursion limit; this is the last line of defence.
        raise CompetitionFileInvalid(path, [Problem("", "nested too deeply to be read")]) from None


def _parse(text: str, syntax: str, path: Path) -> Any:
    if syntax == "yaml":
        try:
            return yaml.load(text, Loader=_UniqueKeySafeLoader)  # noqa: S506 - a SafeLoader subclass
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            detail = "; ".join(part for part in (exc.context, exc.problem) if part)
            raise CompetitionFileInvalid(path, [Problem(where, f"YAML syntax error: {detail}")]) from None
        except yaml.YAMLError as exc:
            raise CompetitionFileInvalid(path, [Problem("", f"YAML syntax error: {exc}")]) from None
    try:
        return json.loads(text, object_pairs_hook=_json_object)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise CompetitionFileInvalid(path, [Problem(where, f"JSON syntax error: {exc.msg}")]) from None
    except _DuplicateJsonKey as exc:
        raise CompetitionFileInvalid(path, [Problem("", f"the key {exc.key!r} appears twice in one object")]) from None


class _UniqueKeySafeLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key repeated in one mapping is an error.

    Plain PyYAML keeps the last of two equal keys silently, so a second ``url:`` in a bot would quietly
    win. Keys brought in by a ``<<`` merge may still be overridden, as YAML intends.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set = set()
        for key_node, _value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
                continue
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping", node.start_mark, f"found the key {key!r} twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _DuplicateJsonKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _json_object(pairs: list[tuple[str, Any]]) -> dict:
    result: dict = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateJsonKey(key)
        result[key] = value
    return result
