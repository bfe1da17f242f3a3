"""The pieces of `manage.py demo` (competition/management/commands/demo.py) that stand on their own:
loading the demo competition, the organizer account, the next tournament round, the site's server
command, the summary table, the log redirection, and the port checks.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import socket
import sys
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management import CommandError
from django.db.models import Max
from rich import box
from rich.table import Table

from competition.competition_file import competition_file_parse
from competition.competition_file.load import LoadReport, competition_file_load
from competition.models import Competition, Round
from conversations.selectors import round_bot_summaries, round_counts
from teams.models import Bot
from teams.services import bot_settings_update

ORGANIZER = "organizer"
DEMO_FILE = Path(settings.BASE_DIR) / "examples" / "demo-competition.yaml"
BOTS_PORT = 8701  # the example bots' port the demo file names
_LOOPBACK_PORT = re.compile(r"^http://127\.0\.0\.1:\d+/")
PASSWORD_FILE = "demo-organizer-password"  # noqa: S105 (a file name under var/, not a password)


def demo_competition_load(*, bots_port: int, reload: bool) -> tuple[LoadReport, int]:
    """Load the demo file (its bots' URLs at ``bots_port``) into var/, and the load's report with the
    number of example bots moved to ``bots_port``.

    The first run creates everything. A later run creates only what is missing and keeps every row
    that exists as it is (an organizer's edits in the admin stay; the report lists the rows that
    differ from the file as kept), except the example bots' port: a bot whose URL differs from the
    file's only by its port is moved to ``bots_port`` (the example bots answer there and nowhere
    else; through bot_settings_update, so its version goes up). ``reload`` loads the file over
    every row, as ``manage.py load_competition`` does.
    """
    source = Path(settings.VAR_DIR) / "demo-competition.yaml"
    source.write_text(DEMO_FILE.read_text().replace(f"127.0.0.1:{BOTS_PORT}/", f"127.0.0.1:{bots_port}/"))
    moved = 0
    if not reload:
        for team in competition_file_parse(path=source).teams:
            for spec in team.bots:
                bot = Bot.objects.filter(team__slug=team.slug, name=spec.name).first()
                if bot is not None and bot.url != spec.url and _without_port(bot.url) == _without_port(spec.url):
                    bot_settings_update(bot=bot, url=spec.url)
                    moved += 1
    return competition_file_load(path=source, keep_existing=not reload), moved


def _without_port(url: str) -> str:
    return _LOOPBACK_PORT.sub("http://127.0.0.1/", url)


def kept_lines(report: LoadReport, *, shown: int = 5) -> list[str]:
    """What a demo run kept as edited, for the terminal: a heading, up to ``shown`` rows, and how to
    load the file over them."""
    kept = report.kept
    if not kept:
        return []
    lines = [f"Kept {len(kept)} row{'s' if len(kept) != 1 else ''} as edited (the demo file says otherwise):"]
    lines += [f"  {change.row} ({', '.join(change.fields)})" for _, change in kept[:shown]]
    if len(kept) > shown:
        lines.append(f"  and {len(kept) - shown} more")
    lines.append("To load the demo file over them: manage.py demo --reload")
    return lines


def serve_hint(port: int) -> str:
    """How to serve the site at the port the --no-serve summary's links name: ``make serve`` serves
    at 8000 only, so another port gets the runserver command that serves there."""
    if port == 8000:
        return "make serve"
    return f"manage.py runserver 127.0.0.1:{port}"


def site_command(*, port: int, env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """The demo's web server: argv and environment of Django's server on 127.0.0.1:``port`` with
    config.demo_settings, which serve the site as a deployment does (DEBUG off: the site's own 404
    and 500 pages, never Django's debug page) over plain HTTP."""
    # DEBUG unset: the demo's settings build on the local ones (a DEBUG=0 would bring production's
    # HTTPS redirect and Secure cookies to a plain-HTTP address).
    site_env = {key: value for key, value in env.items() if key != "DEBUG"}
    site_env["DJANGO_SETTINGS_MODULE"] = "config.demo_settings"
    return [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"], site_env


def tournament_round_next(competition: Competition) -> Round:
    """A new draft tournament round with the last tournament round's settings (an earlier demo played
    every round). Its number follows every round's, the practice round's included; its name counts
    tournament rounds only ("Tournament 2" after "Tournament 1", though it is round 3), skipping a
    name or slug already taken."""
    template = competition.rounds.filter(practice=False).order_by("-number").first() or competition.rounds.last()
    number = (competition.rounds.aggregate(n=Max("number"))["n"] or 0) + 1
    count = competition.rounds.filter(practice=False).count() + 1
    taken = competition.rounds.values_list("name", "slug")
    names = {name for name, _ in taken}
    slugs = {slug for _, slug in taken}
    while f"Tournament {count}" in names or f"tournament-{count}" in slugs:
        count += 1
    fields = {name: getattr(template, name) for name in Round.SETTING_FIELDS}
    return Round.objects.create(
        competition=competition, number=number, name=f"Tournament {count}", slug=f"tournament-{count}", **fields
    )


# Printed under the summary table, every line within 80 columns.
SUMMARY_NOTE = (
    "Done: conversations completed of those played. Bad calls: calls with no answer.\n"
    "Unsafe: defender replies labelled malicious assistance or vulnerable code, of\n"
    "those labelled (drawn out, for an attacker; given, for a defender).\n"
    "Benign probe: the platform's harmless questions to each defender, counted on\n"
    "their own line; a defender's line counts its games with attackers, as the\n"
    "leaderboard does."
)


def round_started_text(round_: Round) -> str:
    """'Started Demo Cup 2026 · Practice' and, on a line of its own (80 columns hold no more), '12
    matches, 24 conversations and 24 benign probes' (rich markup): the counts and words of the
    progress page (conversations.selectors.round_counts)."""
    counts = round_counts(round_id=round_.pk)
    return f"Started [bold]{round_.competition.name} · {round_.name}[/bold]\n  {counts.text()}"


def summary_table(round_: Round) -> Table:
    """One line per bot of the round, every line within 80 columns (rich Table); the probe attacker's
    line under the name the teams' pages give it, a defender's line without its benign probes."""
    from judging.reading.readers import PROBE_LABEL
    from judging.selectors import round_unsafe_replies_by_bot

    unsafe = round_unsafe_replies_by_bot(round_id=round_.pk)
    table = Table(
        title=f"{round_.competition.name} · {round_.name}: {round_.get_status_display()}",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        padding=0,  # the columns' one-space separators are gap enough
    )
    table.add_column("Team / bot", no_wrap=True)
    table.add_column("Side", no_wrap=True)
    for column in ("Done", "Failed", "Turns", "Bad calls", "Latency", "Unsafe"):
        table.add_column(column, justify="right", no_wrap=True)
    for row in round_bot_summaries(round_id=round_.pk):
        latency = f"{row.mean_latency_ms:.0f} ms" if row.mean_latency_ms is not None else "-"
        bad, labelled = unsafe.get(row.bot.pk, (0, 0))
        # The platform's benign probes are not an attacker: they measure the defenders' utility.
        probe = row.bot.kind == Bot.Kind.PROBE
        table.add_row(
            PROBE_LABEL if probe else str(row.bot),
            "probe" if probe else row.side,
            f"{row.completed}/{row.conversations}",
            str(row.failed),
            str(row.turns),
            str(row.failed_calls),
            latency,
            f"{bad}/{labelled}",
        )
    return table


def organizer_ensure(*, reset: bool) -> str | None:
    """The demo's organizer account, and its password when this demo knows it (None: someone changed it).

    The first run makes a password and keeps it in var/demo-organizer-password (mode 0600); later runs
    keep the account's password as it is unless ``reset``.
    """
    path = Path(settings.VAR_DIR) / PASSWORD_FILE
    user, created = User.objects.get_or_create(username=ORGANIZER, defaults={"email": "organizer@example.org"})
    user.is_staff = True
    user.is_superuser = True
    known = path.read_text().strip() if path.exists() else ""
    password: str | None = known if known and user.check_password(known) else None
    if created or reset or (password is None and not user.has_usable_password()):
        password = secrets.token_urlsafe(9)
        user.set_password(password)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(password + "\n")
    user.save()
    group = Group.objects.filter(name="Organizer").first()
    if group:
        user.groups.add(group)
    return password


def logs_to_file(path: Path):
    """Send every log line this process writes to the terminal into ``path`` instead; returns an undo.

    The demo draws progress bars: a log line (django-q2's "Enqueued", a service's INFO) would
    break them, so the handlers that write to stderr or stdout are swapped for one file handler.
    """
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    swapped: list[tuple[logging.Logger, logging.Handler]] = []
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in list(logging.root.manager.loggerDict))]
    for logger in loggers:
        terminal = [
            h
            for h in logger.handlers
            if type(h) is logging.StreamHandler and getattr(h, "stream", None) in (sys.stderr, sys.stdout)
        ]
        for old in terminal:
            logger.removeHandler(old)
            swapped.append((logger, old))
        if terminal:
            logger.addHandler(handler)

    def undo() -> None:
        for logger, old in swapped:
            logger.removeHandler(handler)
            logger.addHandler(old)
        handler.close()

    return undo


def port_free_or_fail(port: int) -> None:
    """Nothing answers on 127.0.0.1:``port``, or CommandError saying so."""
    with socket.socket() as sock:
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            raise CommandError(f"port {port} on 127.0.0.1 is in use; stop what uses it (an earlier demo?) and retry")


def port_wait(port: int, timeout: float = 20) -> None:
    """Wait until something answers on 127.0.0.1:``port``; CommandError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise CommandError(f"nothing answered on port {port} within {timeout:.0f} s")
