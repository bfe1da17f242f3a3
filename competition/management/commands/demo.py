"""`manage.py demo`: a demo competition end to end on this machine.

Loads examples/demo-competition.yaml, starts the example bots and a django-q2 cluster, plays a
round over real HTTP with a progress bar (the practice round first, then the tournament, then new
tournament rounds), waits for judging, prints a summary per bot that fits 80 columns, publishes the
round once scored (a demo only: a real round waits for an organizer), then serves the site and the
admin and prints where to look (the round's leaderboard, the team pages) and the logins. Ctrl-C
stops everything it started and says so. Log lines (its own, django-q2's, its children's) go to
var/demo-*.log, never between the progress bars. The organizer's password is made once and kept
(var/demo-organizer-password) unless ``--reset-password`` asks for a new one.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management import BaseCommand, CommandError, call_command
from django.db.models import Max
from rich import box
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from competition.competition_file.load import competition_file_load
from competition.management.commands.load_competition import secrets_write
from competition.management.console import command_console
from competition.models import Competition, Round
from competition.pipeline import lifecycle
from conversations.models import Conversation, Turn
from conversations.selectors import round_bot_summaries
from teams.models import Bot, Membership

DEMO_FILE = Path(settings.BASE_DIR) / "examples" / "demo-competition.yaml"
BOTS_PORT = 8701
ORGANIZER = "organizer"
PASSWORD_FILE = "demo-organizer-password"  # noqa: S105 (a file name under var/, not a password)


class Command(BaseCommand):
    help = "Play a demo competition end to end with the example bots, then serve the site."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", type=int, default=8000, help="Port of the site (default 8000)")
        parser.add_argument("--latency", type=float, default=0.3, help="Example bots' answer latency in seconds")
        parser.add_argument("--no-serve", action="store_true", help="Stop after the round instead of serving")
        parser.add_argument("--timeout", type=float, default=900, help="Give up on the round after this many s")
        parser.add_argument(
            "--reset-password", action="store_true", help="Give the organizer account a new password (else kept)"
        )
        parser.add_argument(
            "--bots-port", type=int, default=BOTS_PORT, help=f"Port of the example bots (default {BOTS_PORT})"
        )

    def handle(self, *args, **options) -> None:
        self.console = command_console(self.stdout)
        self.children: list[subprocess.Popen] = []
        previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        restore_logging = logs_to_file(Path(settings.VAR_DIR) / "demo-main.log")
        interrupted = False
        try:
            self._run(options)
        except KeyboardInterrupt:
            # A second Ctrl-C must not cut the clean-up short and leave children running.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            interrupted = True
            self.console.print("\n[bold]Stopping the site, the workers and the example bots…[/bold]")
        finally:
            self._stop_children()
            signal.signal(signal.SIGTERM, previous)
            restore_logging()
        if interrupted:
            self.console.print("[bold]Demo stopped.[/bold] Everything it started has stopped; run it again to play on.")

    def _run(self, options) -> None:
        bots_port = options["bots_port"]
        for port in (bots_port, options["port"]):
            if not options["no_serve"] or port == bots_port:
                _port_free_or_fail(port)
        env = os.environ | {"ARENA_ALLOW_PRIVATE_URLS": "1", "PYTHONUNBUFFERED": "1"}
        self.console.rule("Adversarial Arena demo")
        call_command("migrate", interactive=False, verbosity=0)
        competition = self._competition_load(bots_port)
        round_ = self._round_choose(competition)
        password = organizer_ensure(reset=options["reset_password"])
        secrets_file = self._bot_secrets_write(bots_port)
        self._spawn(
            "bots",
            [
                sys.executable,
                "-m",
                "examples.bots.server",
                "--port",
                str(bots_port),
                "--secrets",
                str(secrets_file),
                "--latency",
                str(options["latency"]),
                "--latency-jitter",
                str(options["latency"] / 2),
                "--quiet",
            ],
            env=env,
        )
        _wait_for_port(bots_port)
        self.console.print(f"Example bots answer on http://127.0.0.1:{bots_port}/ (latency ≈ {options['latency']} s)")
        self._spawn("workers", [sys.executable, "manage.py", "qcluster"], env=env)
        self.console.print(f"Background workers started (django-q2, {settings.Q_WORKERS} workers, ORM broker)")

        round_ = lifecycle.round_start(round_id=round_.pk)
        conversations = Conversation.objects.filter(match__round=round_).count()
        self.console.print(
            f"Started [bold]{round_.competition.name} · {round_.name}[/bold]: "
            f"{round_.matches.count()} matches, {conversations} conversations"
        )
        self._watch_playing(round_, timeout=options["timeout"])
        self._watch_judging(round_, timeout=options["timeout"])
        self._summary(round_)
        round_ = self._publish(round_, timeout=options["timeout"])
        base = f"http://127.0.0.1:{options['port']}"
        if options["no_serve"]:
            self.console.rule(f"Once the site is served ({serve_hint(options['port'])})")
            self._where_to_look(base, round_)
            self._login_print(password)
            return
        argv, site_env = site_command(port=options["port"], env=env)
        self._spawn("site", argv, env=site_env)
        _wait_for_port(options["port"])
        self.console.rule("Serving")
        self._where_to_look(base, round_)
        self._login_print(password)
        self.console.print("Press Ctrl-C to stop the site, the workers and the example bots.")
        while all(child.poll() is None for child in self.children):
            time.sleep(0.5)
        raise CommandError("a demo process stopped unexpectedly; see its output above")

    # --- set-up -----------------------------------------------------------------------------------

    def _where_to_look(self, base: str, round_: Round) -> None:
        self.console.print(f"Site:        {base}/")
        self.console.print(f"Admin:       {base}/admin/")
        self.console.print(f"Progress:    {base}/rounds/{round_.pk}/progress/")
        self.console.print("             (the admin and the progress page need the organizer's login, below)")
        if round_.status == Round.Status.PUBLISHED:
            slug = round_.competition.slug
            self.console.print(f"Leaderboard: {base}/competitions/{slug}/rounds/{round_.number}/")
            self.console.print(f"Overall:     {base}/competitions/{slug}/leaderboard/")
            self.console.print(f"Transcripts: {base}/conversations/ (as a team owner, below)")

    def _login_print(self, password: str | None) -> None:
        if password is None:
            shown = f"the password you set (a new one: --reset-password; it is then kept in var/{PASSWORD_FILE})"
        else:
            shown = f"[bold]{password}[/bold]"
        self.console.print(f"Organizer:   [bold]{ORGANIZER}[/bold] / {shown}")
        # The demo file gives every account the password demo-<username>-pw.
        owner = Membership.objects.filter(role=Membership.Role.OWNER, user__username__endswith="-owner").first()
        if owner is not None:
            name = owner.user.username
            self.console.print(f"Team owner:  [bold]{name}[/bold] / demo-{name}-pw")
        self.console.print("Every team:  <team-slug>-owner / demo-<team-slug>-owner-pw (see examples/)")

    def _competition_load(self, bots_port: int) -> Competition:
        # Loading is idempotent: a second demo finds everything unchanged and plays another round.
        # The bots' URLs name the example bots' port, which --bots-port may move.
        var = Path(settings.VAR_DIR)
        source = var / "demo-competition.yaml"
        source.write_text(DEMO_FILE.read_text().replace(f"127.0.0.1:{BOTS_PORT}/", f"127.0.0.1:{bots_port}/"))
        report = competition_file_load(path=source)
        if report.new_bot_secrets:
            # The example bots get every secret below; this file is the loader's usual hand-out.
            secrets_write(report, var / "demo-new-bot-secrets.json")
        created = sum(tally.created for tally in report.tallies.values())
        competition = Competition.objects.get(slug=report.competition_slug)
        self.console.print(
            f"Loaded {competition.name} from {DEMO_FILE.relative_to(settings.BASE_DIR)}: "
            + (f"{created} rows created" if report.changed else "already up to date")
        )
        return competition

    def _round_choose(self, competition: Competition) -> Round:
        # The practice round comes first, as in a real competition; then the tournament rounds.
        drafts = competition.rounds.filter(status=Round.Status.DRAFT).order_by("-practice", "number")
        if drafts.exists():
            return drafts.first()
        return tournament_round_next(competition)

    def _bot_secrets_write(self, bots_port: int) -> Path:
        """Give the example bots their secrets so they verify every signature, as real bots should."""
        mapping = {}
        for bot in Bot.objects.filter(url__startswith=f"http://127.0.0.1:{bots_port}/"):
            path = "/" + bot.url.split("/", 3)[3]
            mapping[path] = bot.secret
        path = Path(settings.VAR_DIR) / "demo-bot-secrets.json"
        path.write_text(json.dumps(mapping, indent=2))
        path.chmod(0o600)
        return path

    # --- watching ---------------------------------------------------------------------------------

    def _progress(self) -> Progress:
        return Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=self.console,
        )

    def _watch_playing(self, round_: Round, *, timeout: float) -> None:
        conversations = Conversation.objects.filter(match__round=round_)
        turns = Turn.objects.filter(conversation__match__round=round_)
        total = conversations.count()
        deadline = time.monotonic() + timeout
        with self._progress() as progress:
            task = progress.add_task("Playing", total=total, detail="")
            while True:
                self._children_alive()
                finished = conversations.filter(status__in=Conversation.FINISHED_STATUSES).count()
                failed = conversations.filter(status="failed").count()
                progress.update(task, completed=finished, detail=f"{turns.count()} turns, {failed} failed")
                round_.refresh_from_db(fields=["status"])
                if round_.status not in (Round.Status.RUNNING, Round.Status.PAUSED):
                    break
                if time.monotonic() > deadline:
                    raise CommandError(f"the round did not finish playing within {timeout:.0f} s")
                time.sleep(0.5)

    def _watch_judging(self, round_: Round, *, timeout: float) -> None:
        from judging.selectors import round_judging_progress

        deadline = time.monotonic() + timeout
        with self._progress() as progress:
            task = progress.add_task("Judging", total=round_judging_progress(round_id=round_.pk)["replies"], detail="")
            while True:
                self._children_alive()
                counts = round_judging_progress(round_id=round_.pk)
                progress.update(
                    task, total=counts["replies"], completed=counts["labelled"], detail="defender replies labelled"
                )
                round_.refresh_from_db(fields=["status"])
                if round_.status != Round.Status.JUDGING:
                    break
                if time.monotonic() > deadline:
                    raise CommandError(f"judging did not finish within {timeout:.0f} s")
                time.sleep(0.5)

    def _publish(self, round_: Round, *, timeout: float) -> Round:
        """Publish the scored round once its standings are computed (the workers' scoring task).

        Only a demo does this unasked, so that the leaderboards and the teams' conversation pages
        show something at once; in a real competition an organizer reads the standings first (the
        round's Publish preview in the admin) and then publishes.
        """
        round_.refresh_from_db(fields=["status"])
        if round_.status != Round.Status.SCORED:
            return round_
        deadline = time.monotonic() + timeout
        while not round_.standings.exists():
            self._children_alive()
            if time.monotonic() > deadline:
                raise CommandError(f"the round's standings were not computed within {timeout:.0f} s")
            time.sleep(0.5)
        round_ = lifecycle.round_publish(round_id=round_.pk)
        self.console.print(f"Published {round_.name}: a demo publishes the round it played once it is scored.")
        self.console.print("In a real competition an organizer reviews the standings, then publishes.")
        return round_

    def _summary(self, round_: Round) -> None:
        self.console.print(summary_table(round_))
        self.console.print(
            "Done: conversations completed of those played. Bad calls: calls with no answer.\n"
            "Unsafe: defender replies labelled malicious assistance or vulnerable code, of\n"
            "those labelled (drawn out, for an attacker; given, for a defender).",
            soft_wrap=True,
        )

    # --- children ---------------------------------------------------------------------------------

    def _spawn(self, name: str, argv: list[str], *, env: dict) -> None:
        """Start a child in its own process group, its output in var/demo-NAME.log."""
        with open(Path(settings.VAR_DIR) / f"demo-{name}.log", "ab") as log:
            child = subprocess.Popen(  # noqa: S603 (argv is ours: this Python, manage.py and fixed options)
                argv, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        child.arena_name = name
        self.children.append(child)

    def _children_alive(self) -> None:
        for child in self.children:
            if child.poll() is not None:
                name = child.arena_name
                raise CommandError(f"the demo's {name} stopped with status {child.returncode}; see var/demo-{name}.log")

    def _stop_children(self) -> None:
        # SIGTERM to each child's main process: the django-q2 cluster then stops its workers in
        # order; a whole process group is killed only if a child does not stop in time.
        for child in reversed(self.children):
            if child.poll() is None:
                child.terminate()
        for child in reversed(self.children):
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()


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


def summary_table(round_: Round) -> Table:
    """One line per bot of the round, every line within 80 columns (rich Table)."""
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
        table.add_row(
            str(row.bot),
            # The platform's benign probes are not an attacker: they measure the defenders' utility.
            "probe" if row.bot.kind == Bot.Kind.PROBE else row.side,
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


def _port_free_or_fail(port: int) -> None:
    with socket.socket() as sock:
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            raise CommandError(f"port {port} on 127.0.0.1 is in use; stop what uses it (an earlier demo?) and retry")


def _wait_for_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise CommandError(f"nothing answered on port {port} within {timeout:.0f} s")
