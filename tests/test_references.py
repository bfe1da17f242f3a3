"""Docs and comments cite only what the repository holds (issue 14, item 7): every cited Markdown
file exists, every cited section of one is a heading in it, and nothing points outside the checkout."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["*.md", "docs/*.md", "bench/*.md", "**/*.py", "**/*.html", "**/*.js", ".ci/run", "Makefile"]
# Tests are not documentation, and the shared judging cases they read live beside the checkout.
SKIPPED = (".venv", "var", "static", "node_modules", ".git", "tests")
# "docs/judges.md", "design.md", "../shared/bot-protocol.md"; not a URL's path.
CITED_FILE = re.compile(r"(?<![\w/.:-])((?:\.\./|[\w.-]+/)*[\w-]+\.md)\b")
# docs/rounds.md ("Lifecycle"), design.md, "Scores", bot-protocol.md, section "Judges"
CITED_SECTION = re.compile(r"([\w/.-]+\.md)\s*(?:\(\s*|,\s*(?:section\s+)?)[\"“]([^\"”\n]{2,60})[\"”]")
OUTSIDE = re.compile(r"/work/|\.\./shared/")


def sources() -> list[Path]:
    found = set()
    for pattern in SOURCES:
        for path in ROOT.glob(pattern):
            if path.is_file() and not any(part in SKIPPED for part in path.relative_to(ROOT).parts):
                found.add(path)
    return sorted(found)


def resolve(cited: str, citing: Path) -> Path | None:
    """The file a citation names: beside the citing file, from the repository's root, in docs/, or
    in templates/ (a template's name, as Django's loader reads it)."""
    for base in (citing.parent, ROOT, ROOT / "docs", ROOT / "templates"):
        candidate = (base / cited).resolve()
        if candidate.is_file() and candidate.is_relative_to(ROOT):
            return candidate
    return None


def plain(text: str) -> str:
    return text.replace("`", "").strip().lower()


def headings(path: Path) -> list[str]:
    return [plain(line.lstrip("#")) for line in path.read_text().splitlines() if line.startswith("#")]


def test_it_cites_only_markdown_files_the_repository_holds():
    missing = []
    for path in sources():
        text = path.read_text(errors="replace")
        for match in CITED_FILE.finditer(text):
            if resolve(match.group(1), path) is None:
                missing.append(f"{path.relative_to(ROOT)}: {match.group(1)}")
    assert missing == []


def test_it_cites_only_sections_that_exist():
    missing = []
    for path in sources():
        for cited, section in CITED_SECTION.findall(path.read_text(errors="replace")):
            target = resolve(cited, path)
            if target is not None and not any(plain(section) in heading for heading in headings(target)):
                missing.append(f"{path.relative_to(ROOT)}: {cited} ({section!r})")
    assert missing == []


def test_it_points_nowhere_outside_the_repository():
    outside = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sources()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1)
        if OUTSIDE.search(line)
    ]
    assert outside == []
