"""Fill Conversation.labels_labelled and labels_confirmed (conversations 0009) from the final labels
already stored, as judging.selectors.conversations_labels_counts computes them (one aggregate query
per 10,000 conversations, one UPDATE per pair of values)."""

from django.db import migrations
from django.db.models import Count, Q

HUMAN_SOURCES = ("adjudication", "human_majority")  # FinalLabel.HUMAN_SOURCES when this was written
CHUNK = 10_000


def fill(apps, schema_editor):
    Conversation = apps.get_model("conversations", "Conversation")
    Turn = apps.get_model("conversations", "Turn")
    ids = list(Conversation.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        by_value: dict[tuple[int, int], list[int]] = {}
        rows = (
            Turn.objects.filter(conversation_id__in=chunk, speaker="defender", status="ok", final_label__isnull=False)
            .order_by()
            .values("conversation_id")
            .annotate(labelled=Count("pk"), confirmed=Count("pk", filter=Q(final_label__source__in=HUMAN_SOURCES)))
            .values_list("conversation_id", "labelled", "confirmed")
        )
        for conversation_id, labelled, confirmed in rows:
            by_value.setdefault((labelled, confirmed), []).append(conversation_id)
        for (labelled, confirmed), chosen in by_value.items():
            Conversation.objects.filter(pk__in=chosen).update(labels_labelled=labelled, labels_confirmed=confirmed)


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0009_conversation_labels_counts"),
        ("judging", "0016_conversation_labels_outcome_fill"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
