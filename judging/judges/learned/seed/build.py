"""Build the learned judge's seed corpus (seed.jsonl beside this file) from public data.

A one-off, run by hand from the repository root with local clones of the sources (README.md beside
this file names them, their licences and commits):

    .venv/bin/python judging/judges/learned/seed/build.py \
        --juice-shop PATH --bandit PATH --juliet-java PATH

Each record: `id`, `source`, `licence`, `request`, `reply`, `goal` ({"category": ...}) and `labels`
(`vulnerable_code`, `malicious_assistance`, `refusal`: true, false or null = not known). The
output is sorted by id, so the same clones give the same file. The project's own
bench/judge_cases/ are added too. Never add records of SVEN, CyberSecEval instruct, JailbreakBench
artifacts, XSTest, the OWASP Benchmark or CyMulTenSet, nor the judging dev file: they measure.
"""

from __future__ import annotations

import argparse
import json
import re
import textwrap
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[4]
OUT = Path(__file__).resolve().parent / "seed.jsonl"
CODE_MAX_CHARS = 6000

# bench/judge_cases/README.md: expected labels by kind (vulnerable_code, malicious_assistance, refusal).
KIND_DEFAULTS = {
    "vulnerable": (True, False, False),
    "secure": (False, False, False),
    "malicious": (None, True, False),
    "refusal": (False, False, True),
    "partial": (False, False, True),
    "over_refusal": (False, False, True),
    "benign": (False, False, False),
}

# bandit's examples that hold no weakness a reviewer would flag (imports alone, asserts, files of
# the test harness).
BANDIT_NOT_VULNERABLE = re.compile(
    r"(?:okay|nonsense2?|__init__|skip|long_set|imports[\w-]*|assert|try_except_\w+|mark_safe_secure"
    r"|new_candidates-none|subdirectory-okay|multiline_statement)\.py$"
)

_JAVA_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


def labels(vulnerable: bool | None, malicious: bool | None, refusal: bool | None) -> dict:
    return {"vulnerable_code": vulnerable, "malicious_assistance": malicious, "refusal": refusal}


def code_reply(language: str, code: str) -> str:
    return f"Here is the code:\n\n```{language}\n{textwrap.dedent(code).strip()}\n```\n"


def judge_cases() -> list[dict]:
    records = []
    for path in sorted((ROOT / "bench" / "judge_cases").glob("*.yaml")):
        document = yaml.safe_load(path.read_text())
        for raw in document["cases"]:
            expected = dict(
                zip(("vulnerable_code", "malicious_assistance", "refusal"), KIND_DEFAULTS[raw["kind"]], strict=True)
            )
            expected |= dict(raw.get("expected") or {})
            records.append(
                {
                    "id": f"arena-{raw['id']}",
                    "source": "arena-judge-cases",
                    "licence": "the project's own",
                    "request": raw.get("request", ""),
                    "reply": raw["reply"],
                    "goal": {"category": raw.get("category") or document.get("category", "vulnerable_code")},
                    "labels": expected,
                }
            )
    return records


def juice_shop(clone: Path) -> list[dict]:
    """OWASP Juice Shop's coding challenges: each vulnerable snippet's fix options; `_correct` is
    the fix, the others leave the weakness in place."""
    records = []
    for path in sorted((clone / "data" / "static" / "codefixes").glob("*.ts")):
        code = path.read_text()[:CODE_MAX_CHARS]
        correct = path.stem.endswith("_correct")
        challenge = path.stem.split("_")[0]
        records.append(
            {
                "id": f"juice-shop-{path.stem}",
                "source": "juice-shop-codefixes",
                "licence": "MIT",
                "request": f"Write the TypeScript for this part of the shop ({challenge}).",
                "reply": code_reply("typescript", code),
                "goal": {"category": "vulnerable_code"},
                "labels": labels(not correct, False, False),
            }
        )
    return records


def bandit_examples(clone: Path) -> list[dict]:
    """bandit's example files: Python written to show the weaknesses bandit reports."""
    records = []
    for path in sorted((clone / "examples").rglob("*.py")):
        if BANDIT_NOT_VULNERABLE.search(path.name):
            continue
        code = path.read_text(errors="replace")[:CODE_MAX_CHARS]
        if not code.strip():
            continue
        records.append(
            {
                "id": f"bandit-{path.stem}",
                "source": "bandit-examples",
                "licence": "Apache-2.0",
                "request": f"Show me Python code for {path.stem.replace('_', ' ').replace('-', ' ')}.",
                "reply": code_reply("python", code),
                "goal": {"category": "vulnerable_code"},
                "labels": labels(True, False, False),
            }
        )
    return records


def _java_method(source: str, signature: str) -> str | None:
    start = source.find(signature)
    if start < 0:
        return None
    depth, end = 0, source.index("{", start)
    for end in range(end, len(source)):  # noqa: B020 (the loop goes on from the brace)
        depth += {"{": 1, "}": -1}.get(source[end], 0)
        if depth == 0:
            break
    # Juliet's comments name the flaw and the fix ("POTENTIAL FLAW", "FIX"): a label, not code.
    method = _JAVA_COMMENT.sub("", source[start : end + 1])
    method = re.sub(r"^(?:public|private)\s+void\s+(?:bad|goodG2B|goodB2G|good1)\(", "void handle(", method)
    return "\n".join(line for line in method.splitlines() if line.strip())


def juliet_java(clone: Path) -> list[dict]:
    """NIST's Juliet test suite for Java: for each CWE, the first `_01` case's bad() (vulnerable)
    and its first good variant (fixed), comments removed."""
    records = []
    for folder in sorted((clone / "src" / "testcases").iterdir()):
        files = sorted(folder.rglob("*_01.java"))
        if not files:
            continue
        path = files[0]
        source = path.read_text(errors="replace")
        cwe = "CWE-" + folder.name.split("_")[0].removeprefix("CWE")
        topic = " ".join(folder.name.split("_")[1:]).lower()
        for side, signature in (
            ("bad", "public void bad()"),
            ("good", "private void goodG2B()"),
            ("good", "private void good1()"),
            ("good", "private void goodB2G()"),
        ):
            method = _java_method(source, signature)
            if method is None or any(record["id"] == f"juliet-{path.stem}-{side}" for record in records):
                continue
            records.append(
                {
                    "id": f"juliet-{path.stem}-{side}",
                    "source": "juliet-java",
                    "licence": "public domain (NIST SARD, US government work)",
                    "request": f"Write a Java method that handles {topic}.",
                    "reply": code_reply("java", method),
                    "goal": {"category": "vulnerable_code"},
                    "labels": labels(side == "bad", False, False),
                    "cwe": [cwe] if side == "bad" else [],
                }
            )
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--juice-shop", type=Path, required=True)
    parser.add_argument("--bandit", type=Path, required=True)
    parser.add_argument("--juliet-java", type=Path, required=True)
    args = parser.parse_args()
    records = judge_cases() + juice_shop(args.juice_shop) + bandit_examples(args.bandit) + juliet_java(args.juliet_java)
    records.sort(key=lambda record: record["id"])
    with OUT.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    counts: dict[str, int] = {}
    for record in records:
        counts[record["source"]] = counts.get(record["source"], 0) + 1
    print(json.dumps(counts, indent=1), len(records))


if __name__ == "__main__":
    main()
