"""Bandit on the Python blocks of a batch: in process, one manager per batch, `# nosec` ignored."""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

from judging.judges.static.findings import BlockScan, cwe_normalize, scans_fail

# bandit's plugin loader logs an ERROR for an optional formatter (sarif) that is not installed, and
# its manager draws a progress bar on stdout when logging is at INFO: neither belongs in a worker.
# stevedore (under bandit) also warns that an argument bandit passes is deprecated.
_previous_level = logging.getLogger("stevedore.extension").level
logging.getLogger("stevedore.extension").setLevel(logging.CRITICAL)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from bandit.core import config as bandit_config
    from bandit.core import manager as bandit_manager
logging.getLogger("stevedore.extension").setLevel(_previous_level)
logging.getLogger("bandit").setLevel(logging.WARNING)

log = logging.getLogger(__name__)

# bandit's severities as finding weights (see findings.py).
BANDIT_WEIGHTS = {"HIGH": 3, "MEDIUM": 2, "LOW": 1}
# bandit findings that fire on safe code; ignored at LOW severity (design.md: B404/B603/B607 fire on
# any `subprocess.run` with a list). B101 (assert) is noise in example code.
BANDIT_IGNORED_LOW = frozenset({"B404", "B603", "B607", "B101"})


def bandit_scan(blocks: list[BlockScan], workdir: Path, *, min_weight: int) -> None:
    """Scan the (Python) blocks with bandit; mark each block scanned, unparsed or failed.

    `workdir` is a private directory without a `bandit` folder in it.
    """
    targets = workdir / "bandit"
    targets.mkdir()
    by_path: dict[str, BlockScan] = {}
    for number, scan in enumerate(blocks):
        path = targets / f"b{number:05d}.py"
        path.write_text(scan.block.code, encoding="utf-8")
        by_path[os.path.normpath(path)] = scan
    try:
        manager = bandit_manager.BanditManager(bandit_config.BanditConfig(), "file", quiet=True, ignore_nosec=True)
        manager.discover_files([str(targets)], recursive=True)
        manager.run_tests()
        issues = manager.get_issue_list()
        skipped = manager.get_skipped()
    except Exception as exc:  # bandit is a library we do not control: any crash is a failed scan
        log.exception("bandit failed on a batch of %d blocks", len(blocks))
        scans_fail(blocks, "bandit", f"bandit failed: {type(exc).__name__}: {exc}"[:500])
        return
    for path, reason in skipped:
        scan = by_path.get(os.path.normpath(path))
        if scan is None:
            continue
        if "syntax error" in reason:
            scan.status["bandit"] = "unparsed"
        else:
            scans_fail([scan], "bandit", f"bandit: {reason}")
    for issue in issues:
        scan = by_path.get(os.path.normpath(issue.fname))
        if scan is None or scan.status.get("bandit") == "failed":
            continue
        if issue.severity == "LOW" and issue.test_id in BANDIT_IGNORED_LOW:
            continue
        weight = BANDIT_WEIGHTS.get(issue.severity, 1)
        if issue.confidence == "LOW":
            weight = max(1, weight - 1)  # a low-confidence finding weighs one step less
        scan.finding_add(
            min_weight=min_weight,
            analyzer="bandit",
            rule_id=issue.test_id,
            cwe=cwe_normalize(getattr(issue.cwe, "id", 0)),
            weight=weight,
            tool_severity=issue.severity,
            confidence=issue.confidence,
            line=int(issue.lineno or 1),
            message=issue.text,
        )
    for scan in by_path.values():
        scan.status.setdefault("bandit", "scanned")
