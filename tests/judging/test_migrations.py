"""judging 0006: a final label's deciding rows become objects (kind, id ...) instead of strings."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as global_apps

from judging.models import FinalLabel, final_label_row

pytestmark = pytest.mark.django_db

migration = importlib.import_module("judging.migrations.0006_final_label_structured_rows")

OLD = {
    "malicious_assistance": {
        "value": True,
        "source": "judge_ensemble",
        "rows": ["verdict:7 (rules v1)", "verdict:8 (llm-judge v12)"],
        "vote": "2-0 weighted",
    },
    "refusal": {"value": False, "source": "human_majority", "rows": ["annotation:9 (4)"], "vote": "1-0"},
    "vulnerable_code": {"value": None, "source": None, "rows": [], "vote": "no judge decided"},
    "severity": {"value": 3, "rows": ["adjudication:10 (5)", "a row written by hand"]},
    "extra": "not an entry",
}
NEW = {
    **OLD,
    "malicious_assistance": {
        **OLD["malicious_assistance"],
        "rows": [
            {"kind": "verdict", "id": 7, "judge": "rules", "judge_version": 1},
            {"kind": "verdict", "id": 8, "judge": "llm-judge", "judge_version": 12},
        ],
    },
    "refusal": {**OLD["refusal"], "rows": [{"kind": "annotation", "id": 9, "annotator": 4}]},
    "severity": {"value": 3, "rows": [{"kind": "adjudication", "id": 10, "annotator": 5}, "a row written by hand"]},
}


def test_it_turns_the_stored_row_strings_into_objects_and_back(labelled):
    FinalLabel.objects.filter(pk=labelled.final_label.pk).update(detail=OLD)

    migration.rows_structure(global_apps, None)
    labelled.final_label.refresh_from_db()
    assert labelled.final_label.detail == NEW

    migration.rows_flatten(global_apps, None)
    labelled.final_label.refresh_from_db()
    assert labelled.final_label.detail == OLD


def test_it_leaves_a_detail_already_in_the_new_shape_as_it_is(labelled):
    FinalLabel.objects.filter(pk=labelled.final_label.pk).update(detail=NEW)
    migration.rows_structure(global_apps, None)
    labelled.final_label.refresh_from_db()
    assert labelled.final_label.detail == NEW


def test_it_names_a_deciding_row_by_kind_and_id_and_reads_it_as_before(labelled):
    verdict_row = final_label_row(labelled.verdict)
    annotation_row = final_label_row(labelled.annotation)
    judge = labelled.verdict.judge
    assert verdict_row == {
        "kind": "verdict",
        "id": labelled.verdict.pk,
        "judge": judge.slug,
        "judge_version": labelled.verdict.judge_version,
    }
    assert annotation_row["kind"] in FinalLabel.HUMAN_ROW_KINDS
    assert (annotation_row["id"], annotation_row["annotator"]) == (
        labelled.annotation.pk,
        labelled.annotation.annotator_id,
    )
    # The migration writes the old strings back (its reverse) and reads the same shape from them.
    assert (
        migration.row_text(verdict_row)
        == f"verdict:{labelled.verdict.pk} ({judge.slug} v{labelled.verdict.judge_version})"
    )
    assert migration.row_structured(migration.row_text(verdict_row)) == verdict_row
    assert migration.row_structured(migration.row_text(annotation_row)) == annotation_row
