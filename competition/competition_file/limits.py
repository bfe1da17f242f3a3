"""Limits that keep a hostile competition file from hanging or crashing the loader.

A YAML file is small on disk but may expand without bound through aliases (the "billion laughs":
nine aliases of nine aliases of ...), and any file may nest lists inside lists deeper than Python's
recursion allows. Both are found here from the parser's event stream, before a single Python object
is built, so refusing such a file takes as long as reading its text. Text the database cannot store
(NUL characters, which PostgreSQL refuses in text and JSON; unpaired UTF-16 surrogates, which are
not UTF-8) is found in every key and value of the parsed document, one problem per place.

The numbers are documented for organizers in docs/competition-file.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from competition.competition_file.problems import Problem, place_of
from config.hostile import depth_exceeded_at
from config.storable_text import unstorable_text_reason

# Bytes on disk. A competition of hundreds of teams with long system prompts is well under 1 MB.
MAX_FILE_BYTES = 5 * 1024 * 1024
# Lists and mappings inside one another; a competition file needs six or so, judge configs a few more.
MAX_DEPTH = 64
# Values (scalars, lists and mappings) in the document once every alias is expanded.
MAX_VALUES = 200_000


_EVENT_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class _Frame:
    """One open list or mapping while the event stream is read."""

    where: list[str]
    is_mapping: bool
    anchor: str | None
    values: int = 1
    index: int = -1
    key: str | None = None
    expecting_key: bool = True


@dataclass
class _Walk:
    frames: list[_Frame] = field(default_factory=list)
    anchors: dict[str, int] = field(default_factory=dict)
    total: int = 0


def _segments_place(segments: list[str]) -> str:
    """The place of a value from its path segments; a very deep place keeps its start and end."""
    if len(segments) > 8:
        segments = [*segments[:4], "…", *segments[-1:]]
    place = ""
    for segment in segments:
        place = f"{place}{segment}" if segment.startswith("[") or segment == "…" or not place else f"{place}.{segment}"
    return place


def _child_segments(walk: _Walk) -> list[str] | None:
    """The path of the node that starts now, or None when that node is a mapping's key."""
    if not walk.frames:
        return []
    parent = walk.frames[-1]
    if parent.is_mapping:
        if parent.expecting_key:
            return None
        key = parent.key
        segment = place_of("", key) if key is not None else "[?]"
        return [*parent.where, segment]
    parent.index += 1
    return [*parent.where, f"[{parent.index}]"]


def _after_child(walk: _Walk, key_value: Any = None) -> None:
    """Move the parent mapping on from a key to its value, or from a value to the next key."""
    if walk.frames and walk.frames[-1].is_mapping:
        parent = walk.frames[-1]
        if parent.expecting_key:
            parent.key = key_value if isinstance(key_value, str) else None
        parent.expecting_key = not parent.expecting_key


def _at(event: yaml.Event) -> str:
    mark = event.start_mark
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""


def yaml_limits_problem(text: str) -> Problem | None:
    """The first limit the YAML text breaks (nesting depth, values after aliases expand), or None.

    Reads only parser events, so it is as fast as the text is long whatever the aliases would expand
    to. libyaml's parser is used when PyYAML has it: PyYAML's pure-Python scanner looks ahead over
    every open flow bracket for a possible key, which takes seconds for a few thousand ``[``. libyaml
    itself refuses more than 1,000 levels with a syntax error; that error is reported as the nesting
    problem it is, at the deepest place read. Other syntax errors are left to the real load, which
    reports them with their line and column.
    """
    walk = _Walk()
    try:
        for event in yaml.parse(text, Loader=_EVENT_LOADER):
            problem = _event_step(walk, event)
            if problem is not None:
                return problem
    except yaml.MarkedYAMLError as exc:
        if "nesting depth" in str(exc.problem) and walk.frames:
            mark = exc.problem_mark
            at = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            return Problem(
                _segments_place([*walk.frames[-1].where, "…"]),
                f"nested too deeply: more than {MAX_DEPTH} lists and mappings inside one another "
                f"({at}); a competition file needs far fewer",
            )
        return None
    except yaml.YAMLError:
        return None
    return None


def _event_step(walk: _Walk, event: yaml.Event) -> Problem | None:
    if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
        segments = _child_segments(walk)
        if len(walk.frames) >= MAX_DEPTH:
            where = _segments_place(segments or walk.frames[-1].where)
            return Problem(
                where,
                f"nested too deeply: more than {MAX_DEPTH} lists and mappings inside one another "
                f"({_at(event)}); a competition file needs far fewer",
            )
        walk.frames.append(
            _Frame(
                where=segments if segments is not None else walk.frames[-1].where,
                is_mapping=isinstance(event, yaml.MappingStartEvent),
                anchor=event.anchor,
            )
        )
        return _count(walk, 1, event, None)
    if isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
        frame = walk.frames.pop()
        if frame.anchor is not None:
            walk.anchors[frame.anchor] = frame.values
        if walk.frames:
            walk.frames[-1].values += frame.values
        _after_child(walk)
        return None
    if isinstance(event, yaml.ScalarEvent):
        _child_segments(walk)
        if event.anchor is not None:
            walk.anchors[event.anchor] = 1
        problem = _count(walk, 1, event, None)
        if walk.frames:
            walk.frames[-1].values += 1
        _after_child(walk, event.value)
        return problem
    if isinstance(event, yaml.AliasEvent):
        segments = _child_segments(walk)
        where = _segments_place(segments if segments is not None else walk.frames[-1].where)
        size = walk.anchors.get(event.anchor)
        if size is None:
            # Either undefined (the real load reports it) or an alias inside its own anchor: a loop.
            open_anchors = {frame.anchor for frame in walk.frames}
            if event.anchor in open_anchors:
                return Problem(where, f"the alias *{event.anchor} is inside its own anchor ({_at(event)})")
            return None
        problem = _count(walk, size, event, where)
        if walk.frames:
            walk.frames[-1].values += size
        _after_child(walk)
        return problem
    return None


def _count(walk: _Walk, size: int, event: yaml.Event, alias_where: str | None) -> Problem | None:
    walk.total += size
    if walk.total <= MAX_VALUES:
        return None
    if alias_where is not None:
        return Problem(
            alias_where,
            f"aliases expand the file past {MAX_VALUES:,} values (*{event.anchor} repeats {size:,} values "
            f"here, {_at(event)}); a competition file needs far fewer, so it is refused",
        )
    where = _segments_place(walk.frames[-1].where) if walk.frames else ""
    return Problem(where, f"the file holds more than {MAX_VALUES:,} values ({_at(event)}); it is refused")


def json_limits_problem(text: str) -> Problem | None:
    """A problem when the JSON text nests lists and objects more than MAX_DEPTH deep, else None
    (the scan of config/hostile.py, the guard every JSON door uses)."""
    found = depth_exceeded_at(text, max_depth=MAX_DEPTH)
    if found is None:
        return None
    return Problem(
        f"line {found[0]}, column {found[1]}",
        f"nested too deeply: more than {MAX_DEPTH} lists and objects inside one another; "
        "a competition file needs far fewer",
    )


def unstorable_text_problems(document: Any, where: str = "") -> list[Problem]:
    """One problem for every key or string value holding text the database cannot store, in file order.

    Recursive: called only on a document that yaml_limits_problem or json_limits_problem passed, so
    the depth is at most MAX_DEPTH.
    """
    if isinstance(document, str):
        message = unstorable_text_reason(document)
        return [Problem(where, message)] if message else []
    problems: list[Problem] = []
    if isinstance(document, dict):
        for key, item in document.items():
            place = place_of(where, key)
            if isinstance(key, str) and (message := unstorable_text_reason(key)):
                problems.append(Problem(place, f"this key {message}"))
            problems += unstorable_text_problems(item, place)
    elif isinstance(document, list):
        for index, item in enumerate(document):
            problems += unstorable_text_problems(item, f"{where}[{index}]")
    return problems
