"""A final label's detail names the rows that decided each label as objects, not strings.

Before: "verdict:7 (rules v1)", "annotation:9 (4)", "adjudication:9 (4)", which the transcript had to
parse back by prefix. After: {"kind": "verdict", "id": 7, "judge": "rules", "judge_version": 1},
{"kind": "annotation", "id": 9, "annotator": 4} (judging.models.final_label_row). Reversible; a
string in neither shape is left as it is.
"""

import re

from django.db import migrations, models

VERDICT = re.compile(r"^verdict:(\d+) \((.*) v(\d+)\)$", re.DOTALL)
HUMAN = re.compile(r"^(annotation|adjudication):(\d+) \((\d*)\)$")
BATCH = 500


def row_structured(row):
    if not isinstance(row, str):
        return row
    match = VERDICT.match(row)
    if match:
        return {"kind": "verdict", "id": int(match[1]), "judge": match[2], "judge_version": int(match[3])}
    match = HUMAN.match(row)
    if match:
        return {"kind": match[1], "id": int(match[2]), "annotator": int(match[3]) if match[3] else None}
    return row


def row_text(row):
    if isinstance(row, dict) and row.get("kind") == "verdict":
        return f"verdict:{row.get('id')} ({row.get('judge')} v{row.get('judge_version')})"
    if isinstance(row, dict) and row.get("kind") in ("annotation", "adjudication"):
        annotator = row.get("annotator")
        return f"{row['kind']}:{row.get('id')} ({'' if annotator is None else annotator})"
    return row


def details_convert(apps, convert):
    FinalLabel = apps.get_model("judging", "FinalLabel")
    changed = []
    for label in FinalLabel.objects.only("pk", "detail").iterator(chunk_size=BATCH):
        if not isinstance(label.detail, dict):
            continue
        detail = {
            name: {**entry, "rows": [convert(row) for row in entry["rows"]]}
            if isinstance(entry, dict) and isinstance(entry.get("rows"), list)
            else entry
            for name, entry in label.detail.items()
        }
        if detail != label.detail:
            label.detail = detail
            changed.append(label)
        if len(changed) >= BATCH:
            FinalLabel.objects.bulk_update(changed, ["detail"])
            changed = []
    FinalLabel.objects.bulk_update(changed, ["detail"])


def rows_structure(apps, schema_editor):
    details_convert(apps, row_structured)


def rows_flatten(apps, schema_editor):
    details_convert(apps, row_text)


class Migration(migrations.Migration):
    dependencies = [
        ("judging", "0005_annotator_assignment_permission"),
    ]

    operations = [
        migrations.AlterField(
            model_name="finallabel",
            name="detail",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text='Per label: {"value", "source", "rows", "vote"}; each row that decided it is '
                '{"kind": verdict|annotation|adjudication, "id", and "judge" + "judge_version" or "annotator"}',
            ),
        ),
        migrations.RunPython(rows_structure, rows_flatten),
    ]
