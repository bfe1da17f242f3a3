"""manage.py import_dataset: chat JSONL conversations into a new imported round of a competition."""

from __future__ import annotations

import logging
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from competition.models import Competition
from judging.datasets.importer import DatasetImportInvalid, dataset_file_lines, dataset_import


class Command(BaseCommand):
    help = (
        "Import conversations in the chat JSONL shape into a new round marked imported; teams and bots are "
        "matched by name or created. All or nothing: every problem is listed with its line (docs/datasets.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="chat JSONL file")
        parser.add_argument("--competition", required=True, help="competition slug")
        parser.add_argument("--round-slug", required=True, help="slug of the new round")
        parser.add_argument("--round-name", default="", help="name of the new round (default: the slug)")

    def handle(self, *args, **options) -> None:
        competition = Competition.objects.filter(slug=options["competition"]).first()
        if competition is None:
            raise CommandError(f"no competition with slug {options['competition']!r}")
        try:
            with open(options["file"], "rb") as file:
                lines = dataset_file_lines(file, size=options["file"].stat().st_size)
        except OSError as exc:
            raise CommandError(f"{options['file']}: {exc}") from exc
        except DatasetImportInvalid as exc:
            raise CommandError(f"{options['file']}: nothing imported; {exc.problems[0]}") from exc
        # The import queues judging of the new round; django-q logs that enqueue at INFO, which would
        # land among the command's own lines. The command says it instead (below).
        queue_log = logging.getLogger("django-q")
        level = queue_log.level
        queue_log.setLevel(logging.WARNING)
        try:
            report = dataset_import(
                competition=competition,
                round_name=options["round_name"] or options["round_slug"],
                round_slug=options["round_slug"],
                lines=lines,
            )
        except DatasetImportInvalid as exc:
            raise CommandError(
                f"{options['file']}: nothing imported; {len(exc.problems)} problem(s):\n" + "\n".join(exc.problems)
            ) from exc
        finally:
            queue_log.setLevel(level)
        for line in report.lines():
            self.stdout.write(line)
        self.stdout.write("Judging of the round is queued: a worker (manage.py qcluster) judges it.")
