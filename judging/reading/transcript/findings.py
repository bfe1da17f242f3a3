"""Code findings on a reply: each judge's stored findings in one shape, placed on the reply's lines."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from judging.judges.code_blocks import code_blocks_extract


@dataclass(frozen=True)
class Finding:
    """A judge's code finding. `line` is the reply's 1-based line, or None when the judge gave none."""

    judge: str
    analyzer: str
    rule: str
    cwe: str
    severity: int | None
    line: int | None
    message: str
    counted: bool

    @property
    def severity_tone(self) -> str:
        return f"sev{min(max(self.severity or 0, 0), 3)}"


@dataclass(frozen=True)
class ReplyLine:
    number: int
    text: str
    in_code: bool
    findings: tuple[Finding, ...]


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def finding_parse(raw: Any, *, judge: str) -> Finding:
    """A stored finding (Verdict.findings item) in one shape, whatever judge wrote it.

    The static judge stores `reply_line` (the reply's line) beside `line` (the line in its code
    block); other judges may store just `line`, meant as the reply's line when no `block` is named.
    """
    if not isinstance(raw, Mapping):
        return Finding(judge, "", "", "", None, None, str(raw)[:500], True)
    line = _int_or_none(raw.get("reply_line"))
    if line is None and "block" not in raw:
        line = _int_or_none(raw.get("line"))
    cwe = raw.get("cwe") or ""
    return Finding(
        judge=judge,
        analyzer=str(raw.get("analyzer") or ""),
        rule=str(raw.get("rule_id") or raw.get("rule") or ""),
        cwe=", ".join(map(str, cwe)) if isinstance(cwe, list) else str(cwe),
        severity=_int_or_none(raw.get("severity")),
        line=line,
        message=str(raw.get("message") or ""),
        counted=raw.get("counted", True) is not False,
    )


def reply_lines(content: str, findings: list[Finding]) -> tuple[tuple[ReplyLine, ...], tuple[Finding, ...]]:
    """The reply as numbered lines (numbered as the judges count them) with each finding on its line."""
    texts = content.splitlines()
    code_lines: set[int] = set()
    for block in code_blocks_extract(content):
        code_lines.update(range(block.start_line, block.start_line + block.code.count("\n")))
    by_line: dict[int, list[Finding]] = defaultdict(list)
    without_line = []
    for finding in findings:
        if finding.line is not None and 1 <= finding.line <= len(texts):
            by_line[finding.line].append(finding)
        else:
            without_line.append(finding)
    lines = tuple(
        ReplyLine(number=number, text=text, in_code=number in code_lines, findings=tuple(by_line[number]))
        for number, text in enumerate(texts, start=1)
    )
    return lines, tuple(without_line)
