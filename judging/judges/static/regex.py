"""CodeShield's regex rules, loaded as its insecure_patterns module does and run here, in process."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import yaml

from judging.judges.static.findings import SECRET_CONTEXT, BlockScan, cwe_normalize
from judging.judges.static.installed import codeshield_rules_root
from judging.judges.static.languages import LANGUAGES

# CodeShield's severities as finding weights (see findings.py).
CODESHIELD_WEIGHTS = {"error": 3, "warning": 2, "advice": 1, "disabled": 0}
# CodeShield regex rules reported but never counted (weight 1), each for a reason that holds for
# every match: they flag safe code as often as unsafe.
REGEX_NOT_COUNTED = {
    # password_hash(..., PASSWORD_DEFAULT) makes and stores its own salt: this is the safe call.
    "hash-without-salt": "password_hash salts by itself",
    # Matches every "...NoPadding" transformation, AES/GCM/NoPadding (the right choice) included.
    "rsa-without-oaep-padding": "matches any NoPadding cipher, AES/GCM included",
    # Flags every exec/system call; whether the caller is authorised cannot be seen in a snippet.
    "missing-authorization": "flags every exec/system call",
}
# CodeShield regex rules raised above their `Advice` severity by the weakness they find, whatever the
# language: turning certificate checks off (CWE-295) or choosing a broken cipher (CWE-327) is a
# weakness in any code; a weak digest (CWE-328) is one where the block makes secrets (SECRET_CONTEXT).
REGEX_RAISED_CWES = {"CWE-295": 2, "CWE-327": 2}
REGEX_RAISED_IN_SECRET_CONTEXT = {"CWE-328": 2}
# A regex rule run on hostile text reports at most this many matches per rule and block.
_REGEX_MATCHES_MAX = 20


@dataclass(frozen=True)
class RegexRule:
    rule_id: str
    cwe: str
    description: str
    severity: str
    pattern: re.Pattern[str]


@functools.cache
def _enabled_rule_ids(ruleset: str) -> dict[str, dict[str, list[str]]]:
    data = yaml.safe_load((codeshield_rules_root() / "config.yaml").read_text())
    return data.get("config", {}).get(ruleset, {})


def _regex_file_rules(stem: str, ruleset: str) -> list[RegexRule]:
    enabled = _enabled_rule_ids(ruleset).get(stem, {}).get("regex", {}).get("rules") or []
    rules = []
    for entry in yaml.safe_load((codeshield_rules_root() / "regex" / f"{stem}.yaml").read_text()) or []:
        # CodeShield's filter: a rule with an id runs only when its ruleset enables it.
        if "pattern_id" in entry and entry["pattern_id"] not in enabled:
            continue
        rules.append(
            RegexRule(
                rule_id=entry.get("pattern_id") or entry["rule"][:60],
                cwe=cwe_normalize(entry.get("cwe_id")),
                description=entry["description"],
                severity=str(entry["severity"]).lower(),
                pattern=re.compile(entry["rule"]),
            )
        )
    return rules


@functools.cache
def regex_rules(stem: str, ruleset: str) -> tuple[RegexRule, ...]:
    """CodeShield's regex rules for one of its languages, loaded the way its insecure_patterns.load does."""
    rules = _regex_file_rules(stem, ruleset)
    if stem in ("cpp", "objective_c"):
        rules += regex_rules("c", ruleset)
    else:
        rules += _regex_file_rules("language_agnostic", ruleset)
    return tuple(rules)


def regex_scan(scan: BlockScan, *, ruleset: str, min_weight: int) -> None:
    """Run the regex rules of the block's language over it and mark it scanned (regex cannot fail)."""
    stem = LANGUAGES[scan.block.language].regex
    if stem is None:
        return  # CodeShield has no regex file for this language
    code = scan.block.code
    line_starts = [0] + [match.end() for match in re.finditer("\n", code)]
    for rule in regex_rules(stem, ruleset):
        for count, match in enumerate(rule.pattern.finditer(code)):
            if count >= _REGEX_MATCHES_MAX:
                break
            line = _line_of(line_starts, match.start())
            before = code[line_starts[line - 1] : match.start()].strip()
            # CodeShield's rule: a match on a line that is a comment or directive does not count.
            if before and (before.startswith(("#", "//", "/*")) or before.endswith("*/")):
                continue
            scan.finding_add(
                min_weight=min_weight,
                analyzer="codeshield-regex",
                rule_id=rule.rule_id,
                cwe=rule.cwe,
                weight=regex_weight(rule, code),
                tool_severity=rule.severity,
                line=line,
                message=rule.description,
            )
    scan.status["regex"] = "scanned"


def regex_weight(rule: RegexRule, code: str) -> int:
    """A regex finding's weight: CodeShield's severity, 1 for REGEX_NOT_COUNTED, raised for the
    weaknesses of REGEX_RAISED_CWES (and REGEX_RAISED_IN_SECRET_CONTEXT in a block making secrets)."""
    if rule.rule_id in REGEX_NOT_COUNTED:
        return 1
    weight = CODESHIELD_WEIGHTS.get(rule.severity, 2)
    raised = REGEX_RAISED_CWES.get(rule.cwe, 0)
    if rule.cwe in REGEX_RAISED_IN_SECRET_CONTEXT and SECRET_CONTEXT.search(code):
        raised = REGEX_RAISED_IN_SECRET_CONTEXT[rule.cwe]
    return max(weight, raised) if weight else weight


def _line_of(line_starts: list[int], offset: int) -> int:
    low, high = 0, len(line_starts) - 1
    while low < high:
        middle = (low + high + 1) // 2
        if line_starts[middle] <= offset:
            low = middle
        else:
            high = middle - 1
    return low + 1
