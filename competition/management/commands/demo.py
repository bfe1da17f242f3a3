"""`manage.py demo`: a demo competition end to end on this machine.

Loads examples/demo-competition.yaml (a later run creates only what is missing and keeps what was
edited in the admin, listing it; ``--reload`` loads the file over it), starts the example bots and a
django-q2 cluster, plays a round over real HTTP with a progress bar (the practice round first, then
the tournament, then new tournament rounds), waits for judging, prints a summary per bot that fits
80 columns, publishes the round once scored (a demo only: a real round waits for an organizer), then
serves the site and the admin and prints where to look (the round's leaderboard, the team pages) and
the logins. Ctrl-C stops everything it started and says so. Log lines (its own, django-q2's, its
children's) go to var/demo-*.log, never between the progress bars. The organizer's password is made
once and kept (var/demo-organizer-password) unless ``--reset-password`` asks for a new one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import BaseCommand, CommandError, call_command
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from competition.management.commands.load_competition import secrets_write
from competition.management.console import command_console
from competition.management.demo_parts import (
    BOTS_PORT,
    DEMO_FILE,
    ORGANIZER,
    PASSWORD_FILE,
    SUMMARY_NOTE,
    demo_competition_load,
    kept_lines,
    logs_to_file,
    organizer_ensure,
    port_free_or_fail,
    port_wait,
    round_started_text,
    serve_hint,
    site_command,
    summary_table,
    tournament_round_next,
)
from competition.models import Competition, Round
from competition.pipeline import lifecycle
from conversations.models import Conversation, Turn
from teams.models import Bot, Membership


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
        parser.add_argument(
            "--reload",
            action="store_true",
            help="Load the demo file over the demo's rows, undoing edits made in the admin (else they are kept)",
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
                port_free_or_fail(port)
        env = os.environ | {"ARENA_ALLOW_PRIVATE_URLS": "1", "PYTHONUNBUFFERED": "1"}
        self.console.rule("Adversarial Arena demo")
        call_command("migrate", interactive=False, verbosity=0)
        competition = self._competition_load(bots_port, reload=options["reload"])
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
        port_wait(bots_port)
        self.console.print(f"Example bots answer on http://127.0.0.1:{bots_port}/ (latency ≈ {options['latency']} s)")
        self._spawn("workers", [sys.executable, "manage.py", "qcluster"], env=env)
        self.console.print(f"Background workers started (django-q2, {settings.Q_WORKERS} workers, ORM broker)")

        round_ = lifecycle.round_start(round_id=round_.pk)
        self.console.print(round_started_text(round_))
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
        port_wait(options["port"])
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

    def _competition_load(self, bots_port: int, *, reload: bool) -> Competition:
        # A second demo creates only what is missing and keeps what an organizer edited in the admin
        # (saying so), then plays another round; --reload loads the file over every row.
        report, moved = demo_competition_load(bots_port=bots_port, reload=reload)
        if report.new_bot_secrets:
            # The example bots get every secret below; this file is the loader's usual hand-out.
            secrets_write(report, Path(settings.VAR_DIR) / "demo-new-bot-secrets.json")
        created = sum(tally.created for tally in report.tallies.values())
        updated = sum(tally.updated for tally in report.tallies.values())
        competition = Competition.objects.get(slug=report.competition_slug)
        done = [f"{created} rows created" if created else "", f"{updated} updated" if updated else ""]
        self.console.print(
            f"Loaded {competition.name} from {DEMO_FILE.relative_to(settings.BASE_DIR)}: "
            + (", ".join(part for part in done if part) or "already up to date")
        )
        if moved:
            self.console.print(f"Moved {moved} example bot{'s' if moved != 1 else ''} to port {bots_port}")
        for line in kept_lines(report):
            self.console.print(line, soft_wrap=True, highlight=False, markup=False)
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
                detail = f"conversations and probes, {turns.count()} turns, {failed} failed"
                progress.update(task, completed=finished, detail=detail)
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
        self.console.print(SUMMARY_NOTE, soft_wrap=True)

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
