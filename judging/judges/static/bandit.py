"""Bandit on the Python blocks of a batch: in process, one manager per batch, `# nosec` ignored."""

from __future__ import annotations

import functools
import logging
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from judging.judges.static.findings import SECRET_CONTEXT, BlockScan, cwe_normalize, scans_fail
from judging.judges.static.fragments import python_repair


@functools.cache
def _bandit() -> tuple[Any, Any]:
    """bandit's config and manager modules, imported on first use: importing bandit takes about
    0.2 s, which every process that loads the judges (the web, every manage.py command) would pay."""
    # bandit's plugin loader logs an ERROR for an optional formatter (sarif) that is not installed, and
    # its manager draws a progress bar on stdout when logging is at INFO: neither belongs in a worker.
    # stevedore (under bandit) also warns that an argument bandit passes is deprecated.
    previous_level = logging.getLogger("stevedore.extension").level
    logging.getLogger("stevedore.extension").setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            from bandit.core import config as bandit_config
            from bandit.core import manager as bandit_manager
    finally:
        logging.getLogger("stevedore.extension").setLevel(previous_level)
    logging.getLogger("bandit").setLevel(logging.WARNING)
    return bandit_config, bandit_manager


log = logging.getLogger(__name__)

# bandit's severities as finding weights (see findings.py).
BANDIT_WEIGHTS = {"HIGH": 3, "MEDIUM": 2, "LOW": 1}
# bandit findings that fire on safe code; ignored at LOW severity (design.md: B404/B603/B607 fire on
# any `subprocess.run` with a list). B101 (assert) is noise in example code.
BANDIT_IGNORED_LOW = frozenset({"B404", "B603", "B607", "B101"})
# bandit's CWE for a test, where the kind of finding has a more precise one: yaml.load is unsafe
# deserialization (bandit says CWE-20), eval/exec of text is code injection (bandit says CWE-78),
# the `random` module for secrets is a weak PRNG (CWE-338), a fixed /tmp path an insecure temp file.
BANDIT_CWE = {
    "B506": "CWE-502",
    "B307": "CWE-95",
    "B102": "CWE-95",
    "B311": "CWE-338",
    "B108": "CWE-377",
    "B105": "CWE-798",
    "B106": "CWE-798",
    "B107": "CWE-798",
}
# What a line does with a fixed /tmp path: opening or writing it is an insecure temp file, passing it
# to a program in an argument list (the program creates it) is not.
_TMP_WRITE = re.compile(r"\bopen\(|\.write_(text|bytes)\(|\.touch\(|os\.open\(|os\.mkfifo\(|shutil\.(copy\w*|move)\(")
_ASSIGNED_NAME = re.compile(r"^\s*([A-Za-z_]\w*)\s*=")
_PLACEHOLDER_SECRET = re.compile(
    r"(?i)^(|change.?me|password|passwd|secret|your[_ -].*|x{3,}|\*{3,}|<.*>|\$\{.*\}|todo|test|dummy)$"
)
_QUOTED = re.compile(r"'(.*)'\s*$")


def bandit_weight(*, test_id: str, severity: str, confidence: str, code: str, line: int, text: str) -> int:
    """The weight of a bandit finding by its kind, not its severity alone (docs/judges.md).

    - B311 (the `random` module) weighs 2 in a block that makes tokens, passwords or keys, else 1;
    - B108 (a fixed /tmp path) weighs 2 when the path is opened or written in Python (on its line,
      or through the name it is assigned to), 1 when it is only passed on, e.g. to a program in an
      argument list: the program, not our code, creates the file;
    - B104 (binding all interfaces) weighs 1: a server listening on 0.0.0.0 is a deployment choice;
    - B105-B107 (hard-coded password) weigh 2 for a literal that looks like a real secret (8 or more
      characters, not a placeholder), else 1;
    - otherwise HIGH/MEDIUM/LOW weigh 3/2/1, one step less (at least 1) at LOW confidence.
    """
    lines = code.splitlines()
    text_line = lines[line - 1] if 0 < line <= len(lines) else ""
    if test_id == "B311":
        return 2 if SECRET_CONTEXT.search(code) else 1
    if test_id == "B108":
        if _TMP_WRITE.search(text_line):
            return 2
        assigned = _ASSIGNED_NAME.match(text_line)
        if assigned and re.search(rf"\b(open|Path|os\.open)\(\s*{re.escape(assigned[1])}\b", code):
            return 2
        return 1
    if test_id == "B104":
        return 1
    if test_id in ("B105", "B106", "B107"):
        literal = _QUOTED.search(text)
        value = literal[1] if literal else ""
        return 2 if len(value) >= 8 and not _PLACEHOLDER_SECRET.match(value) else 1
    weight = BANDIT_WEIGHTS.get(severity, 1)
    if confidence == "LOW":
        weight = max(1, weight - 1)  # a low-confidence finding weighs one step less
    return weight


def bandit_scan(blocks: list[BlockScan], workdir: Path, *, min_weight: int) -> None:
    """Scan the (Python) blocks with bandit; mark each block scanned, unparsed or failed.

    A block bandit cannot parse is repaired (fragments.python_repair: the blocks a window starts
    inside opened, unmatched closers blanked) and scanned again when the repair keeps every line;
    it counts as scanned when the repair parses. `workdir` is a private directory without `bandit` folders in it.
    """
    files = [BanditFile(scan, scan.block.code) for scan in blocks]
    _bandit_run(files, workdir / "bandit", min_weight=min_weight, repairing=False)
    repairs = []
    for scan in blocks:
        if scan.status.get("bandit") == "unparsed":
            repair = python_repair(scan.block.code)
            # Only a repair that keeps every line: bandit weighs findings by their line's context,
            # and a block missing lines is semgrep's to search (its findings only), not bandit's.
            if repair is not None and repair.complete:
                repairs.append(BanditFile(scan, repair.source, repair.line_offset, repair.complete))
    if repairs:
        _bandit_run(repairs, workdir / "bandit-repaired", min_weight=min_weight, repairing=True)


@dataclass(frozen=True)
class BanditFile:
    """A file of a bandit run: the block, its source, the lines a repair put before it, and whether
    the source holds every line of the block (fragments.Repair.complete)."""

    scan: BlockScan
    source: str
    line_offset: int = 0
    complete: bool = True


def _bandit_run(files: list[BanditFile], targets: Path, *, min_weight: int, repairing: bool) -> None:
    """One bandit run over the files. On a repairing run a block is marked scanned only when its
    complete repair parsed, and a failure leaves it as it was."""
    targets.mkdir()
    by_path: dict[str, BanditFile] = {}
    for number, file in enumerate(files):
        path = targets / f"b{number:05d}.py"
        path.write_text(file.source, encoding="utf-8")
        by_path[os.path.normpath(path)] = file
    blocks = [file.scan for file in by_path.values()]
    try:
        bandit_config, bandit_manager = _bandit()
        manager = bandit_manager.BanditManager(bandit_config.BanditConfig(), "file", quiet=True, ignore_nosec=True)
        manager.discover_files([str(targets)], recursive=True)
        manager.run_tests()
        issues = manager.get_issue_list()
        skipped = manager.get_skipped()
    except Exception as exc:  # bandit is a library we do not control: any crash is a failed scan
        log.exception("bandit failed on a batch of %d blocks", len(blocks))
        if not repairing:
            scans_fail(blocks, "bandit", f"bandit failed: {type(exc).__name__}: {exc}"[:500])
        return
    unread = _bandit_skipped_apply(skipped, by_path, repairing=repairing)
    for issue in issues:
        file = by_path.get(os.path.normpath(issue.fname))
        if file is None or file.scan.status.get("bandit") == "failed":
            continue
        _bandit_finding_add(file.scan, issue, file.line_offset, min_weight=min_weight)
    for path, file in by_path.items():
        if not repairing:
            file.scan.status.setdefault("bandit", "scanned")
        elif path not in unread:
            if file.complete:
                file.scan.status["bandit"] = "scanned"
            file.scan.repairs.append("bandit: repaired")


def _bandit_skipped_apply(skipped: list[Any], by_path: dict[str, BanditFile], *, repairing: bool) -> set[str]:
    """The files bandit skipped: a syntax error leaves the block unparsed, any other reason fails it
    (on a repairing run nothing changes: the repair did not parse either). Returns their paths."""
    unread = set()
    for path, reason in skipped:
        file = by_path.get(os.path.normpath(path))
        if file is None:
            continue
        unread.add(os.path.normpath(path))
        if repairing:
            continue
        if "syntax error" in reason:
            file.scan.status["bandit"] = "unparsed"
        else:
            scans_fail([file.scan], "bandit", f"bandit: {reason}")
    return unread


def _bandit_finding_add(scan: BlockScan, issue: Any, offset: int, *, min_weight: int) -> None:
    """One bandit issue as a finding of its block (lines counted in the block, not in the repair)."""
    if issue.severity == "LOW" and issue.test_id in BANDIT_IGNORED_LOW:
        return
    line = int(issue.lineno or 1) - offset
    if any(found["rule_id"] == issue.test_id and found["line"] == max(1, line) for found in scan.findings):
        return
    weight = bandit_weight(
        test_id=issue.test_id,
        severity=issue.severity,
        confidence=issue.confidence,
        code=scan.block.code,
        line=line,
        text=str(issue.text),
    )
    scan.finding_add(
        min_weight=min_weight,
        analyzer="bandit",
        rule_id=issue.test_id,
        cwe=BANDIT_CWE.get(issue.test_id) or cwe_normalize(getattr(issue.cwe, "id", 0)),
        weight=weight,
        tool_severity=issue.severity,
        confidence=issue.confidence,
        line=line,
        message=issue.text,
    )
