"""`manage.py standings COMPETITION [--round N] [--json]`: a round's standings, for people or scripts."""

from __future__ import annotations

import json

from django.core.management import BaseCommand, CommandError
from rich.table import Table
from rich.text import Text

from competition.management.console import command_console
from competition.models import Competition, Round
from competition.standings.selectors import round_standings_table


class Command(BaseCommand):
    help = (
        "Print a round's standings: rank, team, bot, score, its parts, and the rating with its 95% interval. "
        "Without --round: the latest scored or published round."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("competition", help="The competition's slug")
        parser.add_argument("--round", type=int, dest="number", help="The round's number")
        parser.add_argument("--json", action="store_true", help="Print JSON (for scripts)")
        parser.add_argument(
            "--recompute",
            action="store_true",
            help="Compute the standings now from the current labels first (done anyway when a scored round has none)",
        )

    def handle(self, *args, **options) -> None:
        competition = Competition.objects.filter(slug=options["competition"]).first()
        if competition is None:
            raise CommandError(f"no competition with slug {options['competition']!r}")
        rounds = competition.rounds.all()
        if options["number"] is not None:
            round_ = rounds.filter(number=options["number"]).first()
            if round_ is None:
                raise CommandError(f"{competition.slug} has no round {options['number']}")
        else:
            round_ = rounds.filter(status__in=[Round.Status.SCORED, Round.Status.PUBLISHED]).order_by("-number").first()
            if round_ is None:
                raise CommandError(f"{competition.slug} has no scored round yet")
        scored = round_.status in (Round.Status.SCORED, Round.Status.PUBLISHED)
        if options["recompute"] or (scored and not round_.standings.exists()):
            # Also when the round's scoring task has not run yet (no worker since it was scored).
            from competition.pipeline.scoring import round_score

            round_score(round_id=round_.pk, reason="recomputed with manage.py standings")
        table = round_standings_table(round_=round_)
        if options["json"]:
            self.stdout.write(json.dumps(table, indent=2))
            return
        self._print(table)

    def _print(self, table: dict) -> None:
        console = command_console(self.stdout, width=160)
        round_ = table["round"]
        if not table["bots"]:
            console.print(f"{round_['name']} ({round_['status']}): no standings computed yet")
            return
        for side in ("attacker", "defender"):
            rows = [row for row in table["bots"] if row["side"] == side]
            title = f"{table['competition']['name']} · {round_['name']} ({round_['status']}): {side}s"
            grid = Table(title=title)
            columns = ["Rank", "Team", "Bot", "Score"]
            columns += (
                ["Success (balanced)", "Diversity x", "Near-dup.", "Availability"]
                if side == "attacker"
                else ["Safety", "Utility", "Probes ok", "Availability"]
            )
            columns += ["Rating [95% interval]"]
            for column in columns:
                grid.add_column(column, justify="left" if column in ("Team", "Bot") else "right")
            for row in rows:
                parts = (
                    [_num(row["success_rate"]), _num(row["multiplier"]), str(row["near_duplicates"])]
                    if side == "attacker"
                    else [_num(row["safety"]), _num(row["utility"]), f"{row['probes_answered']}/{row['probes']}"]
                )
                rating = "-"
                if row["rating"] is not None:
                    rating = f"{row['rating']:.0f} " + (
                        f"[{row['rating_lower']:.0f}, {row['rating_upper']:.0f}]"
                        if row["rating_lower"] is not None
                        else "[not enough data]"
                    )
                cells = [str(row["rank"]), row["team"], row["bot"], _num(row["score"]), *parts]
                # Names come from teams: plain Text, never rich markup.
                grid.add_row(*(Text(cell) for cell in [*cells, _num(row["availability"]), rating]))
            console.print(grid)
        if table["revisions"]:
            console.print(f"{len(table['revisions'])} revision(s) since publishing; see --json")


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
