"""How well a learned judge's recipe does: out-of-fold figures on fixed folds (cross_validate) and the
one number two models are compared by (macro_f1). No Django here, like model.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from judging.judges.learned.model import LABELS, Record, model_fit


def fold_of(record_id: str, folds: int) -> int:
    """A record's cross-validation fold: fixed by a hash of its id, so a record stays in its fold
    when the corpus grows and two recipes are compared on the same folds."""
    return int(hashlib.sha256(record_id.encode()).hexdigest(), 16) % folds


def cross_validate(
    records: Sequence[Record], recipe: Mapping[str, Any] | None = None, *, folds: int = 5
) -> dict[str, dict[str, Any]]:
    """Out-of-fold figures of `recipe` on `records`: per label, precision, recall and F1 at
    probability 0.5, with the counts (tp, fp, fn, tn), and the Brier score of the probabilities.
    Folds are fixed by `fold_of`. A label never learned in a fold counts its records as undecided."""
    predictions: dict[str, tuple[bool, float | None]] = {}
    for fold in range(folds):
        test = [record for record in records if fold_of(record.id, folds) == fold]
        if not test:
            continue
        train = [record for record in records if fold_of(record.id, folds) != fold]
        model = model_fit(train, recipe)
        for record, probabilities in zip(test, model.predict(test), strict=True):
            for label in LABELS:
                if record.labels.get(label) is not None:
                    predictions[f"{record.id}\0{label}"] = (bool(record.labels[label]), probabilities[label])
    figures: dict[str, dict[str, Any]] = {}
    for label in LABELS:
        counts = {"tp": 0, "fp": 0, "fn": 0, "tn": 0, "undecided": 0}
        brier, scored = 0.0, 0
        for key, (expected, probability) in predictions.items():
            if not key.endswith("\0" + label):
                continue
            if probability is None:
                counts["undecided"] += 1
                counts["fn" if expected else "tn"] += 1
                continue
            predicted = probability >= 0.5
            counts[("tp" if expected else "fp") if predicted else ("fn" if expected else "tn")] += 1
            brier += (probability - expected) ** 2
            scored += 1
        precision = _ratio(counts["tp"], counts["tp"] + counts["fp"])
        recall = _ratio(counts["tp"], counts["tp"] + counts["fn"])
        f1 = (
            2 * precision * recall / (precision + recall)
            if precision is not None and recall is not None and precision + recall
            else 0.0
        )
        figures[label] = counts | {
            "precision": precision,
            "recall": recall,
            "f1": round(f1, 6),
            "brier": round(brier / scored, 6) if scored else None,
        }
    return figures


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 6) if denominator else None


def macro_f1(figures: Mapping[str, Mapping[str, Any]]) -> float:
    """The mean F1 over LABELS: the one number two models are compared by."""
    return sum(float(figures.get(label, {}).get("f1") or 0.0) for label in LABELS) / len(LABELS)
