"""Training the learned judge: each accepted run is a new judge version with its own model.

A run trains on the seed corpus (seed/seed.jsonl, public data and the project's own cases) and the
competition's human labels (judging/judges/learned/selectors.py), cross-validates the candidate
recipe on fixed folds (evaluation.fold_of: a hash of each record's id, 5 folds, the recipe's seed), and
the active model's recipe on the same folds of the same records. A candidate whose macro F1 (mean
F1 over the three labels) is lower than the active one's is refused: nothing is stored and the
judge keeps its version. Otherwise the model fitted on all the records is stored as a LearnedModel
at the judge's next version and the judge's version is raised, so its verdicts are judged again as
after any version change (docs/judges.md, "Judging a round").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from judging.judges.base import JudgeConfigError
from judging.judges.learned.evaluation import cross_validate, macro_f1
from judging.judges.learned.model import (
    DEFAULT_RECIPE,
    LABELS,
    Record,
    model_digest,
    model_dump,
    model_fit,
    model_load,
)
from judging.judges.learned.models import LearnedModel
from judging.judges.learned.runner import SEED_MODEL, LearnedJudge
from judging.judges.learned.selectors import human_records
from judging.models import Judge

SEED_CORPUS = Path(__file__).resolve().parent / "seed" / "seed.jsonl"
FOLDS = 5


class TrainingRefused(ValueError):
    """The judge cannot be trained (not a learned judge, or a recipe that cannot work)."""


@dataclass
class TrainingReport:
    """What a training run did. `figures` and `active_figures`: per label, the out-of-fold counts,
    precision, recall, F1 and Brier score (evaluation.cross_validate) of the candidate and of the active
    model's recipe, on the same folds."""

    accepted: bool
    reason: str
    records: dict[str, int]
    figures: dict[str, dict[str, Any]]
    active_figures: dict[str, dict[str, Any]]
    version: int
    digest: str = ""
    labelled: dict[str, dict[str, int]] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """The report as text lines (the command's output, the admin's message)."""
        out = [f"records: {sum(self.records.values())} ({', '.join(f'{k} {v}' for k, v in self.records.items())})"]
        out.append(f"cross-validated, {FOLDS} fixed folds: label  precision  recall  F1  (active model's recipe)")
        for label in LABELS:
            new, old = self.figures.get(label, {}), self.active_figures.get(label, {})
            out.append(
                f"  {label}: P {_fmt(new.get('precision'))}  R {_fmt(new.get('recall'))}  F1 {_fmt(new.get('f1'))}"
                f"  (P {_fmt(old.get('precision'))}  R {_fmt(old.get('recall'))}  F1 {_fmt(old.get('f1'))})"
            )
        out.append(f"macro F1 {macro_f1(self.figures):.3f} vs active {macro_f1(self.active_figures):.3f}")
        out.append(("accepted: " if self.accepted else "refused: ") + self.reason)
        return out


def _fmt(value: float | None) -> str:
    return "  -  " if value is None else f"{value:.3f}"


def seed_records(path: Path = SEED_CORPUS) -> list[Record]:
    """The seed corpus: one record per line of seed.jsonl, in file order (sorted by id)."""
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            raw = json.loads(line)
            records.append(
                Record(
                    id=raw["id"],
                    request=raw.get("request", ""),
                    reply=raw["reply"],
                    labels={label: raw["labels"].get(label) for label in LABELS},
                    source=raw.get("source", "seed"),
                )
            )
    return records


def recipe_of(config: Mapping[str, Any]) -> dict[str, Any]:
    """DEFAULT_RECIPE with the judge config's `recipe` overrides: `C` (> 0), `calibration_folds`
    (2-10), `seed` (an integer) and, per feature block, `max_features` and `min_df`.
    Raises TrainingRefused for anything else."""
    recipe = json.loads(json.dumps(DEFAULT_RECIPE))
    overrides = config.get("recipe") or {}
    if not isinstance(overrides, dict):
        raise TrainingRefused("config key 'recipe' must be an object")
    for key, value in overrides.items():
        if key == "C" and isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            recipe["C"] = float(value)
        elif key == "calibration_folds" and isinstance(value, int) and 2 <= value <= 10:
            recipe["calibration_folds"] = value
        elif key == "seed" and isinstance(value, int) and not isinstance(value, bool):
            recipe["seed"] = value
        elif key == "features" and isinstance(value, dict) and set(value) <= set(recipe["features"]):
            for name, settings in value.items():
                if not isinstance(settings, dict) or not set(settings) <= {"max_features", "min_df"}:
                    raise TrainingRefused(f"recipe feature {name!r}: only max_features and min_df can be set")
                for setting, number in settings.items():
                    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
                        raise TrainingRefused(f"recipe feature {name!r}: {setting} must be a positive integer")
                    recipe["features"][name][setting] = number
        else:
            raise TrainingRefused(f"recipe key {key!r}: not a setting, or a value it cannot take")
    return recipe


def active_model_data(judge: Judge) -> bytes:
    """The bytes of the model the judge uses now: its newest trained model at or below its
    version, else the shipped seed model."""
    row = (
        LearnedModel.objects.filter(judge=judge, version__lte=judge.version)
        .order_by("-version")
        .values_list("data", flat=True)
        .first()
    )
    return bytes(row) if row is not None else SEED_MODEL.read_bytes()


def _counts(records: list[Record]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in records:
        counts[record.source] = counts.get(record.source, 0) + 1
    return dict(sorted(counts.items()))


def _labelled(records: list[Record]) -> dict[str, dict[str, int]]:
    return {
        label: {
            "true": sum(1 for record in records if record.labels.get(label) is True),
            "false": sum(1 for record in records if record.labels.get(label) is False),
        }
        for label in LABELS
    }


def learned_judge_train(*, judge: Judge, user: Any = None, seed_path: Path = SEED_CORPUS) -> TrainingReport:
    """Train `judge` (kind `learned`) on the seed corpus and its competition's human labels; store
    the model as the judge's next version unless it cross-validates worse than the active one on
    the same folds (see the module docstring). Raises TrainingRefused for a judge of another kind
    or a recipe that cannot work."""
    if judge.kind != Judge.Kind.LEARNED:
        raise TrainingRefused(f"judge {judge.slug!r} is a {judge.kind} judge; only learned judges are trained")
    try:
        LearnedJudge(config=judge.config)
    except JudgeConfigError as exc:
        raise TrainingRefused(f"judge config: {exc}") from None
    recipe = recipe_of(judge.config)
    records = seed_records(seed_path) + human_records(competition_id=judge.competition_id)
    active = model_load(active_model_data(judge))
    figures = cross_validate(records, recipe, folds=FOLDS)
    active_figures = figures if active.recipe == recipe else cross_validate(records, active.recipe, folds=FOLDS)
    report = TrainingReport(
        accepted=False,
        reason="",
        records=_counts(records),
        figures=figures,
        active_figures=active_figures,
        version=judge.version,
        labelled=_labelled(records),
    )
    if macro_f1(figures) < macro_f1(active_figures):
        report.reason = (
            f"the candidate's macro F1 {macro_f1(figures):.3f} is below the active model's "
            f"{macro_f1(active_figures):.3f} on the same folds; the judge stays at version {judge.version}"
        )
        return report
    model = model_fit(records, recipe)
    model.figures = {"cross_validation": figures, "folds": FOLDS, "active_model": active_figures}
    data = model_dump(model)
    with transaction.atomic():
        locked = Judge.objects.select_for_update().get(pk=judge.pk)
        version = locked.version + 1
        LearnedModel.objects.create(
            judge=locked,
            version=version,
            data=data,
            digest=model_digest(data),
            figures=model.figures,
            training=model.training | {"labelled": report.labelled},
            trained_by=user if getattr(user, "pk", None) else None,
        )
        locked.version = version
        locked.save(update_fields=["version"])
    judge.version = version
    report.accepted, report.version, report.digest = True, version, model_digest(data)
    report.reason = f"stored as version {version} (model {report.digest[:12]}); its verdicts are judged again"
    return report


def seed_model_build(*, seed_path: Path = SEED_CORPUS) -> tuple[bytes, dict[str, dict[str, Any]]]:
    """The shipped seed model: DEFAULT_RECIPE on the seed corpus, with its cross-validated figures
    inside. Same corpus, same bytes (the model file is written deterministically)."""
    records = seed_records(seed_path)
    figures = cross_validate(records, DEFAULT_RECIPE, folds=FOLDS)
    model = model_fit(records, DEFAULT_RECIPE)
    model.figures = {"cross_validation": figures, "folds": FOLDS}
    return model_dump(model), figures
