"""manage.py export_dataset: write a competition's dataset (one shape, one format) and its card."""

from __future__ import annotations

import contextlib
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from judging.datasets.export import dataset_export
from judging.datasets.filters import (
    DEDUP_MODES,
    FORMATS,
    LABEL_SOURCES,
    LABELS,
    SHAPES,
    UNDECIDED_MODES,
    ExportSpec,
    ExportSpecInvalid,
)
from judging.datasets.record_types import Outcome


class Command(BaseCommand):
    help = (
        "Export a competition's conversations as a dataset: one file per split and a README.md dataset "
        "card in --output. Excluded conversations and practice rounds stay out unless asked (docs/datasets.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--competition", required=True, help="competition slug")
        parser.add_argument("--rounds", nargs="*", default=[], help="round slugs (default: every non-practice round)")
        parser.add_argument("--shape", choices=SHAPES, default="conversations")
        parser.add_argument("--format", choices=FORMATS, default="jsonl")
        parser.add_argument("--output", required=True, type=Path, help="directory to write into")
        parser.add_argument("--include-practice", action="store_true", help="also every practice round")
        parser.add_argument("--include-excluded", action="store_true", help="also conversations a moderator excluded")
        parser.add_argument(
            "--outcome", dest="outcomes", nargs="*", default=[], choices=Outcome.ALL, help="keep only these outcomes"
        )
        parser.add_argument(
            "--label",
            dest="labels",
            nargs="*",
            default=[],
            choices=LABELS,
            help="a reply so labelled",
        )
        parser.add_argument("--label-source", choices=LABEL_SOURCES, default="any")
        parser.add_argument("--since", default="", help="created at or after (ISO date or datetime)")
        parser.add_argument("--until", default="", help="created before (ISO date or datetime)")
        parser.add_argument("--split", default="0.8,0.1,0.1", help="train,validation,test ratios")
        parser.add_argument("--seed", type=int, default=0, help="seed of the split")
        parser.add_argument("--dedup", choices=DEDUP_MODES, default="near")
        parser.add_argument("--near-threshold", type=float, default=0.8, help="MinHash Jaccard threshold")
        names = parser.add_mutually_exclusive_group()
        names.add_argument(
            "--anonymous",
            dest="anonymous",
            action="store_true",
            default=settings.ARENA_DATASET_ANONYMOUS,
            help="anonymous team and bot ids (default unless ARENA_DATASET_ANONYMOUS=0)",
        )
        names.add_argument("--names", dest="anonymous", action="store_false", help="team slugs and bot names")
        parser.add_argument(
            "--safe-replacements", action="store_true", help="chat: add safe replies in place of unsafe ones"
        )
        parser.add_argument(
            "--undecided",
            choices=UNDECIDED_MODES,
            default="default",
            help="chat and preference: leave_out cuts each conversation before its first undecided defender "
            "reply; keep keeps them; default: leave_out for chat, keep for preference",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options) -> None:
        console = Console(file=self.stderr._out, stderr=True)
        show_progress = not options["no_progress"] and console.is_terminal
        bar = Progress(TextColumn("exporting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console)
        task = bar.add_task("export", total=None)
        try:
            spec = ExportSpec.from_json(options)
            with bar if show_progress else contextlib.nullcontext():
                report = dataset_export(
                    spec,
                    directory=options["output"],
                    progress=(lambda done, total: bar.update(task, completed=done, total=total))
                    if show_progress
                    else None,
                )
        except ExportSpecInvalid as exc:
            raise CommandError(str(exc)) from exc
        for line in report.lines():
            self.stdout.write(line)
