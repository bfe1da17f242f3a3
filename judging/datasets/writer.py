"""Writing rows to files: one file per split, streamed, each appearing only when complete.

Rows are written as they come to a temporary file in the target directory (``.NAME.partial``);
`commit` renames every file to its final name at the end (a rename within one directory is atomic),
`abort` deletes them, so a reader never sees half a dataset. Memory stays constant: nothing but the
current row is held (XLSX uses openpyxl's write-only mode, which streams rows to disk).

Cells: JSON and JSONL keep text byte-for-byte and values with their JSON types. CSV and XLSX hold
text only: nested values become JSON text, and every text cell that starts with = + - @ TAB or CR
gets a leading ' (OWASP's advice against formula injection; teams.resources.spreadsheet_safe).
XLSX cannot hold some control characters (they become U+FFFD) nor cells over 32,767 characters
(cut, with a marker); use JSON(L) for exact text.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import secrets
from abc import ABC, abstractmethod
from collections import Counter
from pathlib import Path
from typing import IO, Any

import orjson
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from teams.resources import spreadsheet_safe

EXTENSIONS = {"csv": "csv", "json": "json", "jsonl": "jsonl", "xlsx": "xlsx"}
XLSX_CELL_LIMIT = 32_767
XLSX_CUT_MARKER = "…[cut: XLSX cells hold at most 32,767 characters]"


def json_bytes(value: Any) -> bytes:
    """Compact JSON as UTF-8, characters as they are (not \\u escapes), except the line breaks JSON
    leaves raw that line readers split on (U+0085 NEL, U+2028, U+2029: Python's str.splitlines,
    JavaScript), which are escaped, so a JSONL record is always one line; json.loads gives back the
    same values.

    Written by orjson: byte for byte what json.dumps(ensure_ascii=False, separators=(",", ":")) writes
    for every str, int, bool, None, list and dict (checked over every code point), in a fraction of the
    time (bench/export.py: the JSON of the rows was the largest part of an export). Floats would be
    written in orjson's shortest form (1e-7, not 1e-07), the same number; no shape has floats.
    Integers beyond 64 bits, which orjson refuses, go through json.
    """
    try:
        data = orjson.dumps(value)
    except orjson.JSONEncodeError:
        data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    # Each looked for alone: the bytes they share start every character from U+2000 to U+203F (dashes,
    # curly quotes, the ellipsis), which most rows hold.
    if b"\xe2\x80\xa8" in data:
        data = data.replace(b"\xe2\x80\xa8", b"\\u2028")
    if b"\xe2\x80\xa9" in data:
        data = data.replace(b"\xe2\x80\xa9", b"\\u2029")
    # C2 85 is U+0085 only: C2 never continues another character.
    if b"\xc2\x85" in data:
        data = data.replace(b"\xc2\x85", b"\\u0085")
    return data


def json_text(value: Any) -> str:
    """json_bytes as text."""
    return json_bytes(value).decode("utf-8")


def cell_text(value: Any) -> str:
    """A value as a CSV cell: text, formula-safe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, dict)):
        value = json_text(value)
    return spreadsheet_safe(str(value))


def cell_xlsx(value: Any) -> Any:
    """A value as an XLSX cell: numbers and booleans as such, text formula-safe and storable."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = cell_text(value)
    text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)
    if len(text) > XLSX_CELL_LIMIT:
        text = text[: XLSX_CELL_LIMIT - len(XLSX_CUT_MARKER)] + XLSX_CUT_MARKER
    return text


class _Sink(ABC):
    """One output file being written."""

    def __init__(self, path: Path, columns: tuple[str, ...]) -> None:
        self.path = path
        self.columns = columns
        self.rows = 0

    @abstractmethod
    def write(self, row: dict) -> None: ...

    @abstractmethod
    def close(self) -> None: ...


class _TextSink(_Sink):
    def __init__(self, path: Path, columns: tuple[str, ...]) -> None:
        super().__init__(path, columns)
        self.file: IO[str] = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed in close()

    def close(self) -> None:
        self.file.close()


class _BinarySink(_Sink):
    """JSON files are written as the UTF-8 bytes json_bytes gives (no decoding and encoding again)."""

    def __init__(self, path: Path, columns: tuple[str, ...]) -> None:
        super().__init__(path, columns)
        # A 1 MiB buffer: fewer writes to the system than the default 8 KiB for rows of a few KiB.
        self.file: IO[bytes] = open(path, "wb", buffering=1 << 20)  # noqa: SIM115 - closed in close()

    def close(self) -> None:
        self.file.close()


class JSONLSink(_BinarySink):
    def write(self, row: dict) -> None:
        self.file.write(json_bytes(row) + b"\n")
        self.rows += 1


class JSONSink(_BinarySink):
    def write(self, row: dict) -> None:
        self.file.write((b"[\n" if not self.rows else b",\n") + json_bytes(row))
        self.rows += 1

    def close(self) -> None:
        self.file.write(b"\n]\n" if self.rows else b"[]\n")
        super().close()


class CSVSink(_TextSink):
    def __init__(self, path: Path, columns: tuple[str, ...]) -> None:
        super().__init__(path, columns)
        self.writer = csv.writer(self.file)
        self.writer.writerow(columns)

    def write(self, row: dict) -> None:
        self.writer.writerow([cell_text(row.get(column)) for column in self.columns])
        self.rows += 1


class XLSXSink(_Sink):
    def __init__(self, path: Path, columns: tuple[str, ...]) -> None:
        super().__init__(path, columns)
        self.workbook = Workbook(write_only=True)
        self.sheet = self.workbook.create_sheet("data")
        self.sheet.append(list(columns))

    def write(self, row: dict) -> None:
        self.sheet.append([cell_xlsx(row.get(column)) for column in self.columns])
        self.rows += 1

    def close(self) -> None:
        self.workbook.save(self.path)


SINKS: dict[str, type[_Sink]] = {"csv": CSVSink, "json": JSONSink, "jsonl": JSONLSink, "xlsx": XLSXSink}


def rows_render(rows: list[dict], *, format: str, columns: tuple[str, ...]) -> bytes:
    """Rows in memory as one file's bytes (the admin's export actions; small selections)."""
    if format == "xlsx":
        stream = io.BytesIO()
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("data")
        sheet.append(list(columns))
        for row in rows:
            sheet.append([cell_xlsx(row.get(column)) for column in columns])
        workbook.save(stream)
        return stream.getvalue()
    text = io.StringIO(newline="")
    if format == "csv":
        writer = csv.writer(text)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([cell_text(row.get(column)) for column in columns])
    elif format == "json":
        text.write("[\n" + ",\n".join(json_text(row) for row in rows) + "\n]\n" if rows else "[]\n")
    else:
        for row in rows:
            text.write(json_text(row) + "\n")
    return text.getvalue().encode("utf-8")


class DatasetWriter:
    """Files `{shape}-{split}.{ext}` in `directory`, one per split that gets rows, plus extra files
    (the card) handed to `commit`. Use as a context manager: leaving it by an exception aborts."""

    def __init__(self, directory: Path, *, shape: str, format: str, columns: tuple[str, ...]) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.shape = shape
        self.format = format
        self.columns = columns
        self.sinks: dict[str, _Sink] = {}
        self.rows: Counter[str] = Counter()
        self._token = secrets.token_hex(4)
        self._pending: list[tuple[Path, Path]] = []

    def file_name(self, split: str) -> str:
        return f"{self.shape}-{split}.{EXTENSIONS[self.format]}"

    def _partial(self, name: str) -> Path:
        return self.directory / f".{name}.partial-{self._token}"

    def write(self, split: str, row: dict) -> None:
        sink = self.sinks.get(split)
        if sink is None:
            sink = self.sinks[split] = SINKS[self.format](self._partial(self.file_name(split)), self.columns)
        sink.write(row)
        self.rows[split] += 1

    def files(self) -> dict[str, str]:
        """Split -> file name, for the splits that got rows."""
        return {split: self.file_name(split) for split, sink in self.sinks.items() if sink.rows}

    def commit(self, extra: dict[str, str] | None = None) -> list[Path]:
        """Close every file, write the extra text files, then rename all into place; the final paths."""
        for split, sink in self.sinks.items():
            sink.close()
            self._pending.append((sink.path, self.directory / self.file_name(split)))
        for name, text in (extra or {}).items():
            partial = self._partial(name)
            partial.write_text(text, encoding="utf-8")
            self._pending.append((partial, self.directory / name))
        for partial, final in self._pending:
            os.replace(partial, final)
        done = [final for _, final in self._pending]
        self._pending = []
        return done

    def abort(self) -> None:
        for sink in self.sinks.values():
            # The partial file is deleted below whether or not it closes cleanly.
            with contextlib.suppress(Exception):
                sink.close()
            sink.path.unlink(missing_ok=True)
        for partial, _ in self._pending:
            partial.unlink(missing_ok=True)

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()
