"""``manage.py agreement CAMPAIGN [--json]``: an annotation campaign's agreement figures."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from judging.annotation.selectors import campaign_agreement
from judging.models import AnnotationCampaign

FIGURES = ("percent_agreement", "cohen_kappa", "fleiss_kappa", "krippendorff_alpha", "gwet_ac1")


def _number(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


class Command(BaseCommand):
    help = (
        "Print an annotation campaign's agreement figures per label (percent agreement, Cohen's kappa over "
        "pairs, Fleiss' kappa, Krippendorff's alpha, Gwet's AC1, each with its number of items) and each "
        "judge's precision, recall and kappa against the human majority. CAMPAIGN is its id or its name."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("campaign", help="the campaign's id or name")
        parser.add_argument("--json", action="store_true", dest="as_json", help="print the figures as JSON")

    def handle(self, *args, campaign: str, as_json: bool = False, **options) -> None:
        found = AnnotationCampaign.objects.filter(name=campaign)
        if campaign.isdigit():
            found = found | AnnotationCampaign.objects.filter(pk=int(campaign))
        matches = list(found.distinct())
        if not matches:
            raise CommandError(f"no annotation campaign with the id or name {campaign!r}")
        if len(matches) > 1:
            ids = ", ".join(str(match.pk) for match in matches)
            raise CommandError(f"{len(matches)} campaigns are named {campaign!r} (ids {ids}): give the id")
        report = campaign_agreement(campaign=matches[0])
        if as_json:
            self.stdout.write(json.dumps(report, indent=2))
            return
        info = report["campaign"]
        self.stdout.write(
            f"Campaign {info['name']} (id {info['id']}): {info['labelled_items']} of {info['items']} items labelled, "
            f"k={info['overlap']}"
        )
        width = max(len(label) for label in report["labels"]) + 2
        self.stdout.write("label".ljust(width) + "".join(name.ljust(22) for name in FIGURES))
        for label, figures in report["labels"].items():
            cells = "".join(
                f"{_number(figures[name]['value'])} (n={figures[name]['items']})".ljust(22) for name in FIGURES
            )
            self.stdout.write(f"{label.ljust(width)}{cells}")
        for judge in report["judges"]:
            self.stdout.write(f"Judge {judge['judge']} against the human majority:")
            for label, stats in judge["labels"].items():
                self.stdout.write(
                    f"  {label}: precision {_number(stats['precision'], 2)}, recall {_number(stats['recall'], 2)}, "
                    f"kappa {_number(stats['kappa'], 2)} (n={stats['items']})"
                )
