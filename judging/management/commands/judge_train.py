"""``manage.py judge_train COMPETITION JUDGE``: train a learned judge; ``--seed-model``: rebuild
the shipped seed model (docs/judges.md, "learned")."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from judging.judges.learned.model import model_digest
from judging.judges.learned.runner import SEED_MODEL
from judging.judges.learned.training import TrainingRefused, learned_judge_train, seed_model_build
from judging.models import Judge


class Command(BaseCommand):
    help = (
        "Train a learned judge on the seed corpus and its competition's human labels; print the "
        "cross-validated precision and recall per label (5 fixed folds) beside the active model's on the "
        "same folds; store the model as the judge's next version unless it does worse (macro F1). "
        "With --seed-model, rebuild the seed model the demo ships from the seed corpus instead."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("competition", nargs="?", help="the competition's slug")
        parser.add_argument("judge", nargs="?", help="the learned judge's slug")
        parser.add_argument("--seed-model", action="store_true", help="rebuild the shipped seed model")
        parser.add_argument(
            "--output", type=Path, default=SEED_MODEL, help=f"where --seed-model writes (default {SEED_MODEL})"
        )
        parser.add_argument(
            "--check", action="store_true", help="with --seed-model: write nothing, fail unless the bytes match"
        )

    def handle(self, *args, competition=None, judge=None, seed_model=False, output=SEED_MODEL, check=False, **opts):
        if seed_model:
            self._seed_model(output=output, check=check)
            return
        if not competition or not judge:
            raise CommandError("give COMPETITION and JUDGE (slugs), or --seed-model")
        found = Judge.objects.filter(competition__slug=competition, slug=judge).first()
        if found is None:
            raise CommandError(f"no judge {judge!r} in competition {competition!r}")
        try:
            report = learned_judge_train(judge=found)
        except TrainingRefused as exc:
            raise CommandError(str(exc)) from None
        for line in report.lines():
            self.stdout.write(line)
        if not report.accepted:
            raise CommandError("the model was not stored")

    def _seed_model(self, *, output: Path, check: bool) -> None:
        data, figures = seed_model_build()
        for label, row in figures.items():
            self.stdout.write(
                f"{label}: precision {row['precision']} recall {row['recall']} F1 {row['f1']} "
                f"(tp {row['tp']} fp {row['fp']} fn {row['fn']} tn {row['tn']})"
            )
        digest = model_digest(data)
        if check:
            shipped = output.read_bytes() if output.exists() else b""
            if shipped != data:
                raise CommandError(f"the rebuilt model ({digest}) differs from {output} ({model_digest(shipped)})")
            self.stdout.write(f"{output} is reproduced byte for byte ({len(data)} bytes, sha256 {digest})")
            return
        output.write_bytes(data)
        self.stdout.write(f"wrote {output} ({len(data)} bytes, sha256 {digest})")
