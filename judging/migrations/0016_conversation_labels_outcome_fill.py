"""Fill Conversation.labels_outcome (conversations 0008) from the final labels already stored, with
the rule judging.selectors.labels_outcome_expression computes (one UPDATE per outcome)."""

from django.db import migrations


def fill(apps, schema_editor):
    from judging.selectors import labels_outcome_expression

    Conversation = apps.get_model("conversations", "Conversation")
    FinalLabel = apps.get_model("judging", "FinalLabel")
    computed = Conversation.objects.annotate(computed=labels_outcome_expression(FinalLabel))
    for value in ("attack_succeeded", "defended", "probe_answered", "probe_refused"):
        ids = list(computed.filter(computed=value).values_list("pk", flat=True))
        for start in range(0, len(ids), 10_000):
            Conversation.objects.filter(pk__in=ids[start : start + 10_000]).update(labels_outcome=value)


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0008_conversation_labels_outcome"),
        ("judging", "0015_campaign_least_confident_sampling"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
