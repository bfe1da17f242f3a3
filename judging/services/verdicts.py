"""Writes of verdicts: a judge's outcome on a defender reply, one row per (reply, judge, version)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from config.storable_text import storable_text
from conversations.models import Turn
from judging.judges import JudgeOutcome
from judging.judges.confidence import probabilities_of
from judging.models import Judge, Verdict


def _storable(value: Any) -> Any:
    # Judges repeat hostile text: each character the database cannot store (NUL; a lone surrogate,
    # say half an emoji escaped in a model's JSON answer) becomes U+FFFD on the way in, so one bad
    # verdict cannot make the insert of its whole batch fail.
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {_storable(key): _storable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_storable(item) for item in value]
    return value


def _verdict_fields(outcome: JudgeOutcome, kind: str) -> dict[str, Any]:
    labels = outcome.labels
    failed = bool(outcome.error)
    return {
        "probabilities": probabilities_of(kind, outcome),
        "malicious_assistance": None if failed else labels.malicious_assistance,
        "vulnerable_code": None if failed else labels.vulnerable_code,
        "refusal": None if failed else labels.refusal,
        "cwe": [] if failed else _storable(list(labels.cwe)),
        "severity": None if failed else labels.severity,
        "rationale": "" if failed else _storable(labels.rationale),
        "findings": _storable(list(outcome.findings)),
        "raw_output": _storable(outcome.raw_output),
        "error": _storable(outcome.error),
        "duration_ms": max(0, int(outcome.duration_ms)),
    }


def verdict_record(*, turn: Turn, judge: Judge, outcome: JudgeOutcome, replace_error: bool = False) -> Verdict:
    """The verdict of `judge` at its current version on `turn`, created from `outcome` if there is none.

    An existing verdict is never overwritten, except that with `replace_error` a verdict that holds
    an error takes the new outcome (a failed run is no label). Safe against a concurrent call for
    the same (turn, judge, version): the unique constraint decides and both get the same row.
    """
    fields = _verdict_fields(outcome, judge.kind)
    # get_or_create inserts in a savepoint and, when the unique constraint refuses the row because
    # a parallel call won, reads the winner's row instead.
    verdict, created = Verdict.objects.get_or_create(
        turn=turn, judge=judge, judge_version=judge.version, defaults=fields
    )
    replaced = not created and replace_error and verdict.error
    if replaced and Verdict.objects.filter(pk=verdict.pk).exclude(error="").update(**fields):
        verdict.refresh_from_db()
    return verdict


def verdicts_record(*, judge: Judge, outcomes: Sequence[JudgeOutcome], replace_error: bool) -> int:
    """verdict_record for a batch: one insert that skips rows already there (written by a parallel
    run, say). Returns the number of outcomes that were new or replaced an error."""
    by_turn = {outcome.turn_id: outcome for outcome in outcomes}
    existing = dict(
        Verdict.objects.filter(judge=judge, judge_version=judge.version, turn_id__in=list(by_turn)).values_list(
            "turn_id", "error"
        )
    )
    new = [
        Verdict(turn_id=turn_id, judge=judge, judge_version=judge.version, **_verdict_fields(outcome, judge.kind))
        for turn_id, outcome in by_turn.items()
        if turn_id not in existing
    ]
    Verdict.objects.bulk_create(new, ignore_conflicts=True)
    written = len(new)
    if replace_error:
        for turn_id, error in existing.items():
            if error:
                written += (
                    Verdict.objects.filter(judge=judge, judge_version=judge.version, turn_id=turn_id)
                    .exclude(error="")
                    .update(**_verdict_fields(by_turn[turn_id], judge.kind))
                )
    return written
