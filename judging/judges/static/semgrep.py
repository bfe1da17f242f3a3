"""Semgrep: CodeShield's generated rule files (Java repaired) and ours, run once per batch.

All the blocks of a batch go to one semgrep process, one file per block in a private temporary
directory; blocks it could read only in part get a second run over their repairs (fragments.py).
The exit code, the `errors` array and the list of scanned paths are all checked: a block semgrep
did not scan, or a run that failed, is a failed scan, never a clean one.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from judging.judges.static.findings import SECRET_CONTEXT, BlockScan, cwe_normalize, scans_fail
from judging.judges.static.fragments import fragment_repairs
from judging.judges.static.installed import codeshield_rules_root
from judging.judges.static.languages import LANGUAGES

# semgrep's severities as finding weights (see findings.py).
SEMGREP_WEIGHTS = {"ERROR": 3, "WARNING": 2, "INFO": 1}

# CodeShield semgrep rules whose every match is a hint, not a weakness: weighed 1 (reported, not counted).
SEMGREP_HINTS = frozenset(
    {
        # Any memcpy into a stack buffer, bounded or not: the length check it needs is not looked at.
        "write-to-stack-buffer",
    }
)
# CodeShield rule files its own config never selects, run by us, and the language each is for:
# its rule for the `random` module (CWE-338). Weighed by context (SECRET_CONTEXT): 2 in a block
# that makes tokens or keys, else 1.
CODESHIELD_UNSELECTED = {"insecure-crypto-prng-random": ("python", "crypto_prng_random.yaml")}
CONTEXT_WEIGHTED = frozenset(CODESHIELD_UNSELECTED)
# CWE ids for CodeShield rules whose metadata lacks one.
CWE_FALLBACK = {"vulnerable-strcpy": "CWE-120"}

# Our own semgrep rules (rules/<language>.yaml, semgrep's own rule format, each with a comment
# saying why): weaknesses the attackers aim at that CodeShield's rule files do not cover, and the
# languages it has no semgrep rules for (Ruby, Go, shell). Ids get the "arena." prefix in findings.
ARENA_RULES_DIR = Path(__file__).resolve().parent / "rules"
# libyaml's safe loader when PyYAML has it: the pure-Python one took about 0.15 s at every import.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
ARENA_SEMGREP_RULES: tuple[dict[str, Any], ...] = tuple(
    rule
    for path in sorted(ARENA_RULES_DIR.glob("*.yaml"))
    for rule in (yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER) or {}).get("rules", [])  # noqa: S506
)

# semgrep's error types (semgrep_output_v1.atd `error_type`) that say a file was read only in part.
# Most are strings; PartialParsing comes as ["PartialParsing", [locations...]] at level "warn".
SEMGREP_PARSE_ERRORS = frozenset(
    {"Syntax error", "Lexical error", "Other syntax error", "AST builder error", "PartialParsing", "Partial parsing"}
)


def semgrep_error_type(error: Mapping[str, Any]) -> str:
    """The name of a semgrep error's type, whether given as "Syntax error" or ["PartialParsing", [...]]."""
    kind = error.get("type")
    if isinstance(kind, list) and kind:
        kind = kind[0]
    return str(kind) if isinstance(kind, str) else repr(kind)[:80]


_JAVA_IMPORT_WITHOUT_SEMICOLON = re.compile(r"(?m)^([ \t]*import[ \t]+[\w.]+(?:\.\*)?)[ \t]*$")


def semgrep_rules_repair(document: dict[str, Any]) -> dict[str, Any]:
    """CodeShield's Java rules with `import x.y` patterns given the semicolon semgrep 1.100.0 needs.

    Without it the rule ssrf_insecure_patterns fails to parse and semgrep exits 2 for the whole run.
    """

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: fix(value) for key, value in node.items()}
        if isinstance(node, list):
            return [fix(value) for value in node]
        if isinstance(node, str):
            return _JAVA_IMPORT_WITHOUT_SEMICOLON.sub(r"\1;", node)
        return node

    return {**document, "rules": [fix(rule) for rule in document.get("rules", [])]}


@functools.cache
def codeshield_semgrep_rules(stem: str, ruleset: str, *, repaired: bool = True) -> dict[str, Any]:
    """CodeShield's generated semgrep rule document for one language (Java repaired unless asked not to)."""
    path = codeshield_rules_root() / "semgrep" / "_generated_" / f"{stem}_{ruleset}.json"
    document = json.loads(path.read_text())
    return semgrep_rules_repair(document) if stem == "java" and repaired else document


@functools.cache
def codeshield_unselected_rules() -> list[dict[str, Any]]:
    """CodeShield's rules that its config.yaml never selects (CODESHIELD_UNSELECTED), from its rule files."""
    rules = []
    for rule_id, (language, filename) in CODESHIELD_UNSELECTED.items():
        document = yaml.safe_load((codeshield_rules_root() / "semgrep" / language / filename).read_text())
        rules += [rule for rule in document.get("rules", []) if rule.get("id") == rule_id]
    return rules


def semgrep_default_rules(ruleset: str) -> dict[str, dict[str, Any]]:
    """The rule documents the judge runs: one per CodeShield semgrep language, CodeShield's rules its
    config never selects as "unselected", and ours as "arena"."""
    stems = sorted({support.semgrep for support in LANGUAGES.values() if support.semgrep})
    generated = codeshield_rules_root() / "semgrep" / "_generated_"
    return {
        stem: codeshield_semgrep_rules(stem, ruleset)
        for stem in stems
        if (generated / f"{stem}_{ruleset}.json").is_file()
    } | {"unselected": {"rules": codeshield_unselected_rules()}, "arena": {"rules": list(ARENA_SEMGREP_RULES)}}


def _weight(rule_id: str, severity: str, scan: BlockScan) -> int:
    if rule_id in SEMGREP_HINTS:
        return 1
    if rule_id in CONTEXT_WEIGHTED:
        return 2 if SECRET_CONTEXT.search(scan.block.code) else 1
    return SEMGREP_WEIGHTS.get(severity, 2)


_SCRIPT_TAG = re.compile(r"(?im)^[ \t]*</?script\b[^>\n]*>[ \t]*$")


def _semgrep_source(language: str, code: str) -> str:
    """The code as semgrep gets it: in JavaScript, lines that are only a <script> or </script> tag
    (an HTML snippet) become blank, so the script is read as code, not as JSX text; PHP without
    `<?php` gets one. Line numbers stay."""
    if language in ("javascript", "typescript") and "<script" in code.lower():
        return _SCRIPT_TAG.sub("", code)
    if language == "php" and "<?" not in code:
        # Without an opening tag semgrep reads PHP as inline HTML; on the first line, so lines stay.
        return "<?php " + code
    return code


@dataclass(frozen=True)
class SemgrepTarget:
    """One file of a semgrep run: the block it scans, its source, and the lines a repair put before
    the block's first line (fragments.py)."""

    scan: BlockScan
    source: str
    line_offset: int = 0
    how: str = ""
    complete: bool = True  # the source holds every line of the block (fragments.Repair.complete)


@dataclass
class SemgrepRun:
    """What one semgrep run said: its version, per target whether it parsed fully, and its results;
    `failure` is set when the run as a whole failed (then nothing else holds)."""

    version: str = ""
    failure: str = ""
    parse_errors: set[str] = field(default_factory=set)  # relative paths read only in part
    file_errors: dict[str, str] = field(default_factory=dict)  # relative path -> error that is not a parse error
    scanned: set[str] = field(default_factory=set)
    results: list[dict[str, Any]] = field(default_factory=list)


def _semgrep_rules_write(workdir: Path, documents: Mapping[str, dict[str, Any]], languages: set[str]) -> dict:
    """Step: write the rules of the languages present (ids prefixed by their stem) to rules.json;
    returns each prefixed id's rule, for its metadata."""
    wanted = {LANGUAGES[language].semgrep for language in languages} | {"arena", "unselected"}
    rules, rule_meta = [], {}
    for stem, document in documents.items():
        if stem not in wanted:
            continue
        for rule in document.get("rules", []):
            # Rule ids repeat across CodeShield's files; the prefix keeps them apart in one run.
            prefixed = f"{stem}.{rule.get('id', '')}"
            rules.append({**rule, "id": prefixed})
            rule_meta[prefixed] = rule
    (workdir / "rules.json").write_text(json.dumps({"rules": rules}), encoding="utf-8")
    return rule_meta


def _semgrep_files_write(targets: list[SemgrepTarget], workdir: Path, folder: str) -> dict[str, SemgrepTarget]:
    """Step: one file per target under `folder`; returns the targets by relative path."""
    (workdir / folder).mkdir()
    by_path: dict[str, SemgrepTarget] = {}
    for number, target in enumerate(targets):
        relative = f"{folder}/b{number:05d}{LANGUAGES[target.scan.block.language].extension}"
        (workdir / relative).write_text(target.source, encoding="utf-8")
        by_path[relative] = target
    return by_path


def _semgrep_execute(workdir: Path, folder: str, *, binary: Path, jobs: int, timeout: float) -> SemgrepRun:
    """Step: run semgrep over `folder` with rules.json and read its JSON output; any failure of the
    run (it did not start, exited non-zero, printed no JSON, reported an error for the run) is the
    run's `failure`."""
    command = [
        "osemgrep",
        "--experimental",
        "--metrics",
        "off",
        "--quiet",
        "--json",
        "--disable-nosem",  # a reply's `nosemgrep` comment must not silence a finding
        "--no-git-ignore",
        "--timeout",
        "10",
        "-j",
        str(jobs),
        "--config",
        "rules.json",
        folder,
    ]
    env = os.environ | {"SEMGREP_SEND_METRICS": "off", "SEMGREP_ENABLE_VERSION_CHECK": "0"}
    try:
        # The command is fixed above; the binary comes from the judge's constructor, never from a Judge row.
        completed = subprocess.run(  # noqa: S603
            command, executable=str(binary), cwd=workdir, capture_output=True, timeout=timeout, env=env, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return SemgrepRun(failure=f"semgrep did not run: {exc}")
    try:
        parsed = json.loads(completed.stdout.decode("utf-8", "replace") or "null")
    except ValueError:
        parsed = None
    output = parsed if isinstance(parsed, dict) else None
    errors = (output or {}).get("errors") or []
    if completed.returncode != 0 or output is None:
        first = next((error.get("message", "") for error in errors if isinstance(error, dict)), "")
        detail = first or completed.stderr.decode("utf-8", "replace").strip()[-500:] or "no output"
        return SemgrepRun(failure=f"semgrep exited with {completed.returncode}: {detail[:500]}")
    return _semgrep_output_read(output, errors)


def _semgrep_output_read(output: dict[str, Any], errors: list[Any]) -> SemgrepRun:
    """Step: sort semgrep's errors into parse errors and other errors by file; an error for no file
    is the run's failure."""
    run = SemgrepRun(version=str(output.get("version", "")))
    for error in errors:
        path = error.get("path") if isinstance(error, dict) else None
        if not path:
            message = str(error.get("message", error) if isinstance(error, dict) else error)[:500]
            run.failure = run.failure or f"semgrep reported an error for the run: {message}"
        elif semgrep_error_type(error) in SEMGREP_PARSE_ERRORS:
            run.parse_errors.add(path)
        else:
            run.file_errors[path] = f"semgrep: {semgrep_error_type(error)}: {str(error.get('message'))[:300]}"
    run.scanned = set((output.get("paths") or {}).get("scanned") or [])
    run.results = [result for result in output.get("results") or [] if isinstance(result, dict)]
    return run


def _semgrep_finding_add(target: SemgrepTarget, result: dict[str, Any], rule_meta: dict, min_weight: int) -> None:
    """Step: one semgrep result as a finding of its block, at the block's line."""
    scan = target.scan
    extra = result.get("extra") or {}
    check_id = str(result.get("check_id", ""))
    meta = rule_meta.get(check_id, {})
    stem, _, rule_id = check_id.partition(".")
    metadata = meta.get("metadata") or {}
    cwe = cwe_normalize(metadata.get("cwe_id")) or cwe_normalize(metadata.get("cwe"))
    severity = str(extra.get("severity") or meta.get("severity") or "WARNING").upper()
    line = int((result.get("start") or {}).get("line") or 1) - target.line_offset
    rule_name = f"arena.{rule_id}" if stem == "arena" else rule_id
    if any(found["rule_id"] == rule_name and found["line"] == max(1, line) for found in scan.findings):
        return  # the same finding in another repair of the block
    scan.finding_add(
        min_weight=min_weight,
        analyzer="semgrep",
        rule_id=rule_name,
        cwe=cwe or CWE_FALLBACK.get(rule_id, ""),
        weight=_weight(rule_id, severity, scan),
        tool_severity=severity,
        line=line,
        message=str(extra.get("message") or meta.get("message") or "").strip(),
    )


def semgrep_scan(
    blocks: list[BlockScan],
    workdir: Path,
    *,
    documents: Mapping[str, dict[str, Any]],
    binary: Path,
    jobs: int,
    timeout: float,
    min_weight: int,
) -> str:
    """Scan every block in one semgrep run; mark each block scanned, unparsed or failed.

    Blocks semgrep read only in part are then repaired (fragments.py: brackets balanced, wrapped
    in a class or function) and scanned again in a second run: a block is scanned when some repair
    parsed fully, and the findings of every repair are kept. A failed second run leaves the blocks
    unparsed (never clean). `documents` are rule documents by stem (as semgrep_default_rules gives
    them); `workdir` is an empty private directory. Returns the semgrep version, "" when semgrep
    gave no usable output.
    """
    rule_meta = _semgrep_rules_write(workdir, documents, {scan.block.language for scan in blocks})
    by_path = _semgrep_files_write(
        [SemgrepTarget(scan, _semgrep_source(scan.block.language, scan.block.code)) for scan in blocks],
        workdir,
        "semgrep",
    )
    run = _semgrep_execute(workdir, "semgrep", binary=binary, jobs=jobs, timeout=timeout)
    if run.failure:
        scans_fail(blocks, "semgrep", run.failure)
        return run.version
    for path, target in by_path.items():
        if path in run.file_errors:
            scans_fail([target.scan], "semgrep", run.file_errors[path])
        elif path not in run.scanned:
            scans_fail([target.scan], "semgrep", "semgrep did not scan the block")
        elif path in run.parse_errors:
            # Read in part (or not at all): what was found stands, but no finding means "unknown".
            target.scan.status["semgrep"] = "unparsed"
    for result in run.results:
        target = by_path.get(str(result.get("path")))
        if target is not None and target.scan.status.get("semgrep") != "failed":
            _semgrep_finding_add(target, result, rule_meta, min_weight)
    for target in by_path.values():
        target.scan.status.setdefault("semgrep", "scanned")
    unparsed = [scan for scan in blocks if scan.status.get("semgrep") == "unparsed"]
    if unparsed:
        _semgrep_repairs_scan(
            unparsed, workdir, rule_meta, binary=binary, jobs=jobs, timeout=timeout, min_weight=min_weight
        )
    return run.version


def _semgrep_repairs_scan(
    blocks: list[BlockScan], workdir: Path, rule_meta: dict, *, binary: Path, jobs: int, timeout: float, min_weight: int
) -> None:
    """Step: the second run over the repairs of the blocks the first run read only in part."""
    targets = [
        SemgrepTarget(
            scan, _semgrep_source(scan.block.language, repair.source), repair.line_offset, repair.how, repair.complete
        )
        for scan in blocks
        for repair in fragment_repairs(scan.block.code, scan.block.language)
    ]
    if not targets:
        return
    by_path = _semgrep_files_write(targets, workdir, "semgrep-repaired")
    run = _semgrep_execute(workdir, "semgrep-repaired", binary=binary, jobs=jobs, timeout=timeout)
    if run.failure:
        return  # the blocks stay unparsed: "unknown", never clean
    for path, target in by_path.items():
        if path in run.scanned and path not in run.parse_errors and path not in run.file_errors:
            if target.complete:
                target.scan.status["semgrep"] = "scanned"
            target.scan.repairs.append(f"semgrep: {target.how}")
    for result in run.results:
        target = by_path.get(str(result.get("path")))
        if target is not None and str(result.get("path")) not in run.file_errors:
            _semgrep_finding_add(target, result, rule_meta, min_weight)
