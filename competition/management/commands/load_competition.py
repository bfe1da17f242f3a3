"""``manage.py load_competition FILE``: create or update a competition from a YAML or JSON file.

The signing secret of each bot the load creates is shown once (docs/competition-file.md, "Bots'
secrets"): printed, or with ``--secrets-out FILE`` written to a file only its owner can read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from competition.competition_file import CompetitionFileInvalid
from competition.competition_file.load import LoadReport, competition_file_load


class Command(BaseCommand):
    help = (
        "Create or update a competition, its rounds, teams, accounts, bots and judges from a competition file "
        "(.yaml, .yml or .json; see docs/competition-file.md). All or nothing: a file with any problem changes "
        "nothing, and every problem is listed. The signing secret of each bot it creates is shown once."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, help="the competition file")
        parser.add_argument(
            "--secrets-out",
            type=Path,
            metavar="FILE",
            help="write the new bots' signing secrets to FILE (JSON, readable only by you) instead of printing them",
        )

    def handle(self, *args, file: Path, secrets_out: Path | None = None, **options) -> None:
        if secrets_out is not None and not secrets_out.parent.is_dir():
            raise CommandError(f"--secrets-out {secrets_out}: the folder {secrets_out.parent} does not exist")
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
        self._secrets_show(report, secrets_out)

    def _secrets_show(self, report: LoadReport, secrets_out: Path | None) -> None:
        if not report.new_bot_secrets:
            return
        count = len(report.new_bot_secrets)
        if secrets_out is not None:
            secrets_write(report, secrets_out)
            self.stdout.write(
                f"The signing secrets of {count} new bot{'s' if count != 1 else ''} are in {secrets_out} "
                "(readable only by you). Give each team its own bots' secrets, then delete the file."
            )
            return
        self.stdout.write(
            f"Signing secrets of {count} new bot{'s' if count != 1 else ''}, shown only this once "
            "(the admin shows only a hint; rotate a secret there to make a new one). Give each team its own:"
        )
        for new in report.new_bot_secrets:
            self.stdout.write(f"  {new.team} / {new.bot}: {new.secret}")


def secrets_write(report: LoadReport, path: Path) -> None:
    """The new bots' secrets as JSON in a file only its owner can read or write (mode 0600).

    Shape: {"competition": slug, "bots": [{"team", "bot", "url", "secret"}, ...]}. An existing
    file is replaced, its mode set to 0600 before anything is written into it.
    """
    content = {
        "competition": report.competition_slug,
        "bots": [
            {"team": new.team, "bot": new.bot, "url": new.url, "secret": new.secret} for new in report.new_bot_secrets
        ],
    }
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(content, handle, indent=2)
        handle.write("\n")
