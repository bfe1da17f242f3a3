"""Helpers of the competition file tests: the example files, writing variants, reading problems."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.apps import apps
from simple_history.models import HistoricalChanges

from competition.competition_file import CompetitionFileInvalid
from competition.competition_file.load import competition_file_load

FILES = Path(__file__).parent / "files"
GOOD = FILES / "good.yaml"
DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo-competition.yaml"


def row_counts() -> dict[str, int]:
    """Rows of every model in the project: equal before and after means nothing was written.
    The audit trail's historical rows are left out: an update in place is recorded there."""
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if not issubclass(model, HistoricalChanges)
    }


def good_data() -> dict:
    return yaml.safe_load(GOOD.read_text())


def write(tmp_path: Path, data: dict, name: str = "cup.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(CompetitionFileInvalid) as caught:
        competition_file_load(path=path)
    return caught.value.lines()


def tallies(report) -> dict[str, tuple[int, int, int]]:
    return {kind: (t.created, t.updated, t.unchanged) for kind, t in report.tallies.items()}
