"""``manage.py load_competition FILE``: create or update a competition from a YAML or JSON file."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from competition.competition_file import CompetitionFileInvalid
from competition.competition_load import competition_file_load


class Command(BaseCommand):
    help = (
        "Create or update a competition, its rounds, teams, accounts, bots and judges from a competition file "
        "(.yaml, .yml or .json; see docs/competition-file.md). All or nothing: a file with any problem changes "
        "nothing, and every problem is listed."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, help="the competition file")

    def handle(self, *args, file: Path, **options) -> None:
        try:
            report = competition_file_load(path=file)
        except CompetitionFileInvalid as exc:
            for line in exc.lines():
                self.stderr.write(line)
            count = len(exc.problems)
            raise CommandError(f"{count} problem{'s' if count != 1 else ''} in {file}; nothing was changed") from None
        except DatabaseError as exc:
            raise CommandError(f"{file}: the database refused the load, so nothing was changed: {exc}") from exc
        self.stdout.write(f"Loaded competition {report.competition_slug!r} from {file}")
        for line in report.lines():
            self.stdout.write(line)
        if not report.changed:
            self.stdout.write("Nothing changed: the database already matched the file.")
