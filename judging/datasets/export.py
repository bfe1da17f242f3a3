"""One export from start to finish: select, read in chunks, filter, de-duplicate, split, write,
describe (the card), commit. Called by the `export_dataset` command and the export-job task.
"""

from __future__ import annotations

import contextlib
import gc
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from judging.datasets import shapes
from judging.datasets.card import card_render
from judging.datasets.card_stats import CardStats
from judging.datasets.dedup import DedupCounts, Deduplicator
from judging.datasets.filters import (
    ExportNothingMatched,
    ExportSpec,
    LeftOut,
    conversations_selected,
    record_decided_part,
    record_kept,
    selection_left_out,
)
from judging.datasets.pairs import PairFinder, pair_records
from judging.datasets.records import records_chunks
from judging.datasets.split import split_of
from judging.datasets.writer import DatasetWriter

CARD_NAME = "README.md"
# Progress is reported (and an export job's row updated) once per chunk of conversations.
CHUNK_SIZE = 500

Progress = Callable[[int, int], None]


@dataclass
class ExportReport:
    """What an export wrote: its files (final paths), rows per split, and what it left out."""

    paths: list[Path]
    rows: dict[str, int]
    conversations: int
    filtered_out: int
    dedup: DedupCounts
    pairs: int | None = None
    without_reply: int = 0
    # Undecided defender replies left out (ExportSpec.undecided), with every reply after them.
    undecided_left_out: int = 0
    files: dict[str, str] = field(default_factory=dict)
    # What the spec left out unless asked (practice rounds not named, excluded conversations).
    left_out: list[LeftOut] = field(default_factory=list)

    def lines(self) -> list[str]:
        lines = [f"{self.conversations} conversations exported; rows per split: "
                 + (", ".join(f"{split} {n}" for split, n in self.rows.items()) or "none")]  # fmt: skip
        lines.append(
            f"left out: {self.filtered_out} by the label/outcome filters, {self.dedup.exact} exact and "
            f"{self.dedup.near} near duplicates"
            + (f", {self.without_reply} without a defender reply" if self.without_reply else "")
            + (
                f", {self.undecided_left_out} defender replies at or after an undecided one"
                if self.undecided_left_out
                else ""
            )
        )
        if self.left_out:
            lines.append("left out unless asked: " + "; ".join(f"{item} ({item.ask})" for item in self.left_out))
        if self.pairs is not None:
            lines.append(f"{self.pairs} safe/unsafe pairs")
        lines += [f"wrote {path}" for path in self.paths]
        return lines


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Leave the objects that exist before the export out of the cyclic garbage collector's passes
    until it ends (gc.freeze, then gc.unfreeze: they are collected as usual afterwards).

    An export allocates millions of short-lived objects, each chunk's surviving long enough to
    trigger full collections, and every full collection walks all of Django's and the libraries'
    objects: about 40% of a chat export's time (bench/export.py) went there.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    # Young collections less often too: a chunk's objects live until the chunk is written anyway.
    gc.set_threshold(max(thresholds[0], 50_000), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _nothing_matched(spec: ExportSpec, *, matched: int, undecided: int, left_out: list[LeftOut]) -> str:
    """Why an export would write no row: no conversation matched (and what was left out unless asked),
    or those that did gave no row of the shape (and how many undecided replies were left out, when
    that is why)."""
    if matched == 0 and not undecided:
        return f"nothing matched: {spec.nothing_matched_note(left_out)}"
    message = f"nothing matched: {matched} conversation(s) matched but gave no {spec.shape} row" + (
        " (no safe/unsafe pair)" if spec.shape == "preference" else " (no reply)"
    )
    if undecided:
        message += f"; {undecided} undecided replies, or replies after one, were left out (undecided: keep keeps them)"
    return message


def dataset_export(spec: ExportSpec, *, directory: Path, progress: Progress | None = None) -> ExportReport:
    """Write the spec's dataset and its card into `directory` (created if needed).

    Files appear only when complete; on any error none of this export's files is left behind.
    Raises ExportSpecInvalid for an unknown competition or round, and ExportNothingMatched (writing
    nothing) when no row would be written.
    """
    conversations = conversations_selected(spec)
    total = conversations.count()
    unasked = selection_left_out(spec)
    deduplicator = Deduplicator(mode=spec.dedup, threshold=spec.near_threshold)
    stats = CardStats()
    pairing = spec.shape == "preference" or (spec.shape == "chat" and spec.safe_replacements)
    finder = PairFinder() if pairing else None
    filtered = without_reply = undecided_left_out = 0
    cut_undecided = spec.undecided_left_out
    pairs = None
    # The conversations written (8 bytes each): the card's agreement and judges are theirs.
    written = array("q")
    with (
        _collector_paused(),
        DatasetWriter(directory, shape=spec.shape, format=spec.format, columns=shapes.COLUMNS[spec.shape]) as writer,
    ):
        done = 0
        for chunk in records_chunks(
            conversations,
            anonymous=spec.anonymous,
            with_verdicts=spec.shape == "turns",
            chunk_size=CHUNK_SIZE,
            # Of twins, de-duplication keeps the first: let it be the one people annotated.
            annotated_first=spec.dedup != "none",
        ):
            if progress is not None:
                progress(done, total)
            done += len(chunk)
            kept = [record for record in chunk if record_kept(spec, record)]
            filtered += len(chunk) - len(kept)
            duplicates = deduplicator.check_many([shapes.conversation_text(record) for record in kept])
            for record, duplicate in zip(kept, duplicates, strict=True):
                if duplicate:
                    continue
                if cut_undecided:
                    record, left_out = record_decided_part(record)
                    undecided_left_out += left_out
                split = split_of(record.uuid, ratios=spec.split, seed=spec.seed)
                rows = shapes.record_rows(spec.shape, record, split=split)
                if spec.shape == "chat" and not rows:
                    without_reply += 1
                    continue
                for row in rows:
                    writer.write(split, row)
                stats.add(record, split=split)
                written.append(record.pk)
                if finder is not None:
                    finder.add(record, split=split)
        if finder is not None:
            pairs = 0
            for split, unsafe, index, safe, safe_index in pair_records(finder.pairs(), anonymous=spec.anonymous):
                writer.write(split, shapes.pair_row(spec.shape, unsafe, index, safe, safe_index, split=split))
                pairs += 1
        if progress is not None:
            progress(total, total)
        if not sum(writer.rows.values()):
            # Raised inside the writer: it deletes what it started, so nothing is left behind.
            raise ExportNothingMatched(
                _nothing_matched(spec, matched=stats.total, undecided=undecided_left_out, left_out=unasked)
            )
        files = writer.files()
        card = card_render(
            spec=spec,
            stats=stats,
            dedup=deduplicator.counts,
            files=files,
            rows=dict(writer.rows),
            pairs=pairs,
            conversation_ids=written,
            undecided_left_out=undecided_left_out if cut_undecided else None,
        )
        paths = writer.commit({CARD_NAME: card})
    return ExportReport(
        paths=paths,
        rows=dict(writer.rows),
        conversations=stats.total,
        filtered_out=filtered,
        dedup=deduplicator.counts,
        pairs=pairs,
        without_reply=without_reply,
        undecided_left_out=undecided_left_out,
        files=files,
        left_out=unasked,
    )
