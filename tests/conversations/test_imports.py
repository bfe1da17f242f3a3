"""The arrows between the apps: judging -> conversations -> competition -> teams. The apps below
judging import nothing of it (judging registers its own admin pages, on its proxy models)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth (functions, TYPE_CHECKING blocks included)."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def judging_importers(paths: list[Path]) -> dict[str, set[str]]:
    found = {}
    for path in paths:
        judging = {module for module in imported_modules(path) if module == "judging" or module.startswith("judging.")}
        if judging:
            found[str(path.relative_to(ROOT))] = judging
    return found


def test_it_finds_an_import_of_judging_where_there_is_one(tmp_path):
    # The check itself: a module that imports judging in any of the ways Python allows is found.
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from judging.models import Verdict\n\nimport judging.tasks as t\n")
    assert imported_modules(sample) >= {"judging.models", "judging.tasks"}


def test_it_keeps_every_module_of_conversations_free_of_judging():
    paths = sorted((ROOT / "conversations").rglob("*.py"))
    assert len(paths) > 5
    assert judging_importers(paths) == {}


def test_it_keeps_the_competition_admin_free_of_judging():
    assert judging_importers([ROOT / "competition" / "admin.py"]) == {}


def test_it_keeps_the_round_lifecycle_free_of_judging():
    # Judging reports to the lifecycle with whether labels are complete; the lifecycle never asks back.
    assert judging_importers([ROOT / "competition" / "pipeline" / "lifecycle.py"]) == {}
