"""Load a competition file into the database: create or update by natural keys, all or nothing.

Natural keys: competition slug; round (competition, number); team slug; account username (team
members and annotators, who are made staff in the Annotator group);
membership (team, account); bot (team, bot name); entry (competition, team); judge (competition,
judge slug). Every team the file lists is entered in its competition, approved, with the bots the
file lists for it (an entry counts as created when the load entered the team or one of its bots). The file is the
truth for every key it describes (a key left out takes its default), with three exceptions kept on
purpose: nothing is ever deleted, a password only sets the password of an account the load creates
(people change their own), and a round's status is never touched (starting rounds is the lifecycle's
job). A round that has started keeps its settings: a file that would change them is refused.

Two ways to load short of that: a dry run (``dry_run``) checks and writes everything, reports what
changed, and rolls it all back (the admin's upload shows it before the load); ``keep_existing`` only
adds what the database lacks and leaves every row that exists as it is, reporting those that differ
from the file as kept (the demo: a second run keeps what an organizer edited in the admin).

The package: stored.py (the rows the file names, read under a lock), conflicts.py (what the file may
not do to them), writes.py (creating, updating or keeping each row), report.py (what the load did).
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from competition.competition_file import CompetitionFileInvalid, competition_file_parse
from competition.competition_file.load.conflicts import conflicts
from competition.competition_file.load.report import LoadReport, NewBotSecret, RowChange, Tally
from competition.competition_file.load.stored import Stored
from competition.competition_file.load.writes import write

# Judging is below the loader (docs/architecture.md: it acts from the top of the stack): a competition
# file describes the whole competition, its judges included, and loads in one transaction.
from judging.judges import config_schemas

__all__ = ["LoadReport", "NewBotSecret", "RowChange", "Tally", "competition_file_load"]


def competition_file_load(
    *, path: Path, dry_run: bool = False, keep_existing: bool = False, by: AbstractBaseUser | None = None
) -> LoadReport:
    """Create or update everything the competition file at path describes, or change nothing at all.

    The file is validated in full before anything is written, then checked against the database
    (rows it would change but must not: a started round's settings, a name another row holds, a judge
    with verdicts changed without a new version). Raises CompetitionFileInvalid listing every problem;
    a database error raised during the writes rolls the whole load back as well. Loading the same file
    twice changes nothing the second time and reports every row unchanged.

    ``dry_run``: the same checks and writes, then all rolled back; the report says what the load would
    do (no bot is made, so it holds no secret). ``keep_existing``: rows that exist are left as they
    are (counted as kept when they differ from the file, RowChange lists them); only missing rows are
    created, and only those are checked against the database. ``by``: the person loading through the
    admin; a file naming a superuser's account is refused unless they are a superuser too (the load
    sets the email of the accounts it names, and an organizer may not change a superuser's).
    """
    # Every judge's config is checked against its kind's schema, declared next to the judge.
    described = competition_file_parse(path=path, judge_configs=config_schemas())
    report = LoadReport(
        path=path, competition_slug=described.competition.slug, dry_run=dry_run, keep_existing=keep_existing
    )
    with transaction.atomic():
        stored = Stored.locked(described)
        problems = conflicts(described, stored, keep_existing=keep_existing, by=by)
        if problems:
            raise CompetitionFileInvalid(path, problems)
        write(described, stored, report)
        if dry_run:
            transaction.set_rollback(True)
            report.new_bot_secrets.clear()
    return report
