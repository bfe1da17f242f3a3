"""`manage.py demo`: a demo competition end to end on this machine.

Loads examples/demo-competition.yaml, starts the example bots and a django-q2 cluster, plays a
round over real HTTP with a progress bar, waits for judging, prints a summary per bot, then serves
the site and the admin with a printed organizer login. Ctrl-C stops everything it started.
"""

from __future__ import annotations

import json
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
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from competition.models import Competition, Round
from competition.pipeline import lifecycle
from conversations.models import Conversation, Turn
from conversations.selectors import round_bot_summaries
from teams.models import Bot

DEMO_FILE = Path(settings.BASE_DIR) / "examples" / "demo-competition.yaml"
BOTS_PORT = 8701
ORGANIZER = "organizer"


class Command(BaseCommand):
    help = "Play a demo competition end to end with the example bots, then serve the site."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", type=int, default=8000, help="Port of the site (default 8000)")
        parser.add_argument("--latency", type=float, default=0.3, help="Example bots' answer latency in seconds")
        parser.add_argument("--no-serve", action="store_true", help="Stop after the round instead of serving")
        parser.add_argument("--timeout", type=float, default=900, help="Give up on the round after this many s")

    def handle(self, *args, **options) -> None:
        # Piped output (a log, CI) has no terminal width to read: give tables room instead of 80 columns.
        self.console = Console(width=None if sys.stdout.isatty() else 120)
        self.children: list[subprocess.Popen] = []
        previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        try:
            self._run(options)
        except KeyboardInterrupt:
            # A second Ctrl-C must not cut the clean-up short and leave children running.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            self.console.print("\n[bold]Stopping the site, the workers and the example bots…[/bold]")
        finally:
            self._stop_children()
            signal.signal(signal.SIGTERM, previous)

    def _run(self, options) -> None:
        for port in (BOTS_PORT, options["port"]):
            if not options["no_serve"] or port == BOTS_PORT:
                _port_free_or_fail(port)
        env = os.environ | {"ARENA_ALLOW_PRIVATE_URLS": "1", "PYTHONUNBUFFERED": "1"}
        self.console.rule("Adversarial Arena demo")
        call_command("migrate", interactive=False, verbosity=0)
        competition = self._competition_load()
        round_ = self._round_choose(competition)
        password = self._organizer_ensure()
        secrets_file = self._bot_secrets_write()
        self._spawn(
            "bots",
            [
                sys.executable,
                "-m",
                "examples.bots.server",
                "--port",
                str(BOTS_PORT),
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
        _wait_for_port(BOTS_PORT)
        self.console.print(f"Example bots answer on http://127.0.0.1:{BOTS_PORT}/ (latency ≈ {options['latency']} s)")
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
        if options["no_serve"]:
            return
        self._spawn(
            "site", [sys.executable, "manage.py", "runserver", f"127.0.0.1:{options['port']}", "--noreload"], env=env
        )
        _wait_for_port(options["port"])
        base = f"http://127.0.0.1:{options['port']}"
        self.console.rule("Serving")
        self.console.print(f"Site:       {base}/")
        self.console.print(f"Admin:      {base}/admin/")
        self.console.print(f"Progress:   {base}/rounds/{round_.pk}/progress/")
        self.console.print(f"Organizer:  [bold]{ORGANIZER}[/bold] / [bold]{password}[/bold]")
        self.console.print("Team owners log in with the accounts in examples/demo-competition.yaml.")
        self.console.print("Press Ctrl-C to stop the site, the workers and the example bots.")
        while all(child.poll() is None for child in self.children):
            time.sleep(0.5)
        raise CommandError("a demo process stopped unexpectedly; see its output above")

    # --- set-up -----------------------------------------------------------------------------------

    def _competition_load(self) -> Competition:
        # Loading is idempotent: a second demo finds everything unchanged and plays another round.
        call_command("load_competition", str(DEMO_FILE), stdout=self.stdout)
        return Competition.objects.get(slug="demo-2026")

    def _round_choose(self, competition: Competition) -> Round:
        drafts = competition.rounds.filter(status=Round.Status.DRAFT).order_by("practice", "number")
        if drafts.exists():
            return drafts.first()
        # Every round was played by an earlier demo: play another with the last tournament's settings.
        template = competition.rounds.filter(practice=False).order_by("-number").first() or competition.rounds.last()
        number = (competition.rounds.aggregate(n=Max("number"))["n"] or 0) + 1
        fields = {name: getattr(template, name) for name in Round.SETTING_FIELDS}
        return Round.objects.create(
            competition=competition, number=number, name=f"Tournament {number}", slug=f"tournament-{number}", **fields
        )

    def _organizer_ensure(self) -> str:
        password = secrets.token_urlsafe(9)
        user, _ = User.objects.get_or_create(username=ORGANIZER, defaults={"email": "organizer@example.org"})
        user.is_staff = True
        user.is_superuser = True
        user.set_password(password)
        user.save()
        group = Group.objects.filter(name="Organizer").first()
        if group:
            user.groups.add(group)
        return password

    def _bot_secrets_write(self) -> Path:
        """Give the example bots their secrets so they verify every signature, as real bots should."""
        mapping = {}
        for bot in Bot.objects.filter(url__startswith=f"http://127.0.0.1:{BOTS_PORT}/"):
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

    def _summary(self, round_: Round) -> None:
        from judging.selectors import round_unsafe_replies_by_bot

        unsafe = round_unsafe_replies_by_bot(round_id=round_.pk)
        table = Table(title=f"{round_.competition.name} · {round_.name}: {round_.get_status_display()}")
        for column in ("Team / bot", "Side", "Conv.", "Done", "Failed", "Turns", "Bad calls", "Latency", "Unsafe"):
            table.add_column(column, justify="left" if column in ("Team / bot", "Side") else "right")
        for row in round_bot_summaries(round_id=round_.pk):
            latency = f"{row.mean_latency_ms:.0f} ms" if row.mean_latency_ms is not None else "-"
            bad, labelled = unsafe.get(row.bot.pk, (0, 0))
            table.add_row(
                str(row.bot),
                row.side,
                str(row.conversations),
                str(row.completed),
                str(row.failed),
                str(row.turns),
                str(row.failed_calls),
                latency,
                f"{bad}/{labelled}",
            )
        self.console.print(table)
        self.console.print(
            "Unsafe: defender replies whose final label is malicious assistance or vulnerable code, of those "
            "labelled (drawn out, for an attacker; given, for a defender)."
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
