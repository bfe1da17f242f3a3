"""flawfinder on the C and C++ blocks of a batch, in process (its rule set of risky C calls).

flawfinder keeps its state in module globals, so a batch is scanned in one thread; a worker process
judges one batch at a time. Its `/* flawfinder: ignore */` comments are not honoured (a reply must
not silence a finding), like `# nosec` for bandit and `nosemgrep` for semgrep.

Weights by kind, not by flawfinder's level alone: levels 4-5 weigh 3 and level 3 weighs 2, except
the exec family (execl, execlp, execv, ...), which flawfinder reports at level 4 for every call:
running a fixed program with an argument vector is the safe way to start one, so it weighs 1. A
level 1-2 hit (a `char buf[N]` declaration, a bounded memcpy) weighs 1: a hint, not a finding.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import threading
from pathlib import Path

import flawfinder

from judging.judges.static.findings import BlockScan, cwe_normalize, scans_fail

log = logging.getLogger(__name__)

# flawfinder's own globals: the ruleset once per process, then each file's hits in `hitlist`.
_LOCK = threading.Lock()
_READY = False
_EXEC_FAMILY = re.compile(r"^(execl|execlp|execle|execv|execvp|execvpe|_?execl\w*|_?execv\w*)$")
_CWE = re.compile(r"CWE-\d+")
# CWE ids for hits whose warning names none.
CWE_FALLBACK = {"gets": "CWE-242", "scanf": "CWE-120", "strcat": "CWE-120", "sprintf": "CWE-120"}


def flawfinder_weight(name: str, level: int) -> int:
    """The finding weight of a flawfinder hit (see the module docstring)."""
    if _EXEC_FAMILY.match(name):
        return 1
    if level >= 4:
        return 3
    if level == 3:
        return 2
    return 1


def _ready() -> None:
    global _READY
    if not _READY:
        flawfinder.showheading = 0
        flawfinder.initialize_ruleset()
        _READY = True


def flawfinder_scan(blocks: list[BlockScan], workdir: Path, *, min_weight: int) -> None:
    """Scan the C/C++ blocks with flawfinder; mark each block scanned or failed."""
    folder = workdir / "flawfinder"
    folder.mkdir()
    with _LOCK:
        try:
            _ready()
            flawfinder.never_ignore = 1
            flawfinder.quiet = 1
            flawfinder.minimum_level = 1
        except Exception as exc:  # a library we do not control: its crash is a failed scan
            log.exception("flawfinder could not start")
            scans_fail(blocks, "flawfinder", f"flawfinder failed: {type(exc).__name__}: {exc}"[:500])
            return
        for number, scan in enumerate(blocks):
            path = folder / f"b{number:05d}{'.cpp' if scan.block.language == 'cpp' else '.c'}"
            path.write_text(scan.block.code, encoding="utf-8")
            flawfinder.hitlist = []
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    flawfinder.process_c_file(str(path), None)
            except Exception as exc:
                log.exception("flawfinder failed on a block")
                scans_fail([scan], "flawfinder", f"flawfinder failed: {type(exc).__name__}: {exc}"[:500])
                continue
            for hit in flawfinder.hitlist:
                name = str(getattr(hit, "name", ""))
                level = int(getattr(hit, "level", 0) or 0)
                if level < 1:
                    continue
                warning = str(getattr(hit, "warning", ""))
                found = _CWE.search(warning)
                scan.finding_add(
                    min_weight=min_weight,
                    analyzer="flawfinder",
                    rule_id=f"{getattr(hit, 'category', '')}.{name}",
                    cwe=cwe_normalize(found.group()) if found else CWE_FALLBACK.get(name, ""),
                    weight=flawfinder_weight(name, level),
                    tool_severity=f"level {level}",
                    line=int(getattr(hit, "line", 1) or 1),
                    message=warning,
                )
            scan.status.setdefault("flawfinder", "scanned")
        flawfinder.hitlist = []
