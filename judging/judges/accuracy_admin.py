"""A judge's last accuracy measurement on its admin page (JudgeAccuracy, `manage.py judge_accuracy`)."""

from __future__ import annotations

from typing import Any

from django.utils.html import format_html, format_html_join

from judging.judges.accuracy import LABELS
from judging.models import Judge, JudgeAccuracy


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _interval(interval: list[float] | None) -> str:
    return "" if not interval else f" [{interval[0]:.2f}-{interval[1]:.2f}]"


def _rows(who: str, figures: dict[str, Any]) -> list[tuple[str, ...]]:
    rows = []
    for label in LABELS:
        s = (figures.get("labels") or {}).get(label) or {}
        if not s.get("n"):
            continue
        rows.append(
            (
                who,
                label,
                _number(s.get("precision")) + _interval(s.get("precision_interval")),
                _number(s.get("recall")) + _interval(s.get("recall_interval")),
                str(s.get("undecided", 0)),
                str(s.get("n", 0)),
            )
        )
    return rows


def accuracy_latest(judge: Judge) -> JudgeAccuracy | None:
    """The judge's latest measurement, or None."""
    return JudgeAccuracy.objects.filter(judge=judge).order_by("-measured_at", "-pk").first()


def accuracy_html(measurement: JudgeAccuracy | None) -> str:
    """The measurement as a table (this judge, then the final label of the same run); every value
    is escaped. "-" when the judge was never measured."""
    if measurement is None:
        return "Not measured yet: manage.py judge_accuracy COMPETITION FILE (docs/judges.md)."
    figures = measurement.figures.get("all", {}) if isinstance(measurement.figures, dict) else {}
    ensemble = measurement.ensemble.get("all", {}) if isinstance(measurement.ensemble, dict) else {}
    rows = _rows("this judge", figures) + _rows("final label", ensemble)
    body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
    return format_html(
        "<p>{} replies of {} at version {}, {} (Wilson 95% intervals; undecided replies count as misses"
        " for recall).</p><table><thead><tr><th>who</th><th>label</th><th>precision</th><th>recall</th>"
        "<th>undecided</th><th>n</th></tr></thead><tbody>{}</tbody></table>",
        measurement.replies,
        measurement.file_name,
        measurement.judge_version,
        f"{measurement.measured_at:%Y-%m-%d %H:%M} UTC",
        body,
    )
