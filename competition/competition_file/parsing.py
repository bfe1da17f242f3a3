"""Parsing a competition file: read the document, walk its sections, and raise if anything was wrong."""

from __future__ import annotations

from pathlib import Path

from competition.competition_file.descriptions import CompetitionFile
from competition.competition_file.problems import CompetitionFileInvalid
from competition.competition_file.reading import document_read
from competition.competition_file.sections import SectionReader


def competition_file_parse(*, path: Path) -> CompetitionFile:
    """Read and validate the competition file at path (.yaml, .yml or .json).

    Returns the file's contents as plain dataclasses, defaults filled in. Raises CompetitionFileInvalid
    listing every problem found (unreadable file, syntax error with line and column, wrong types,
    unknown or missing keys, values the model fields refuse, duplicates within the file).
    """
    document = document_read(path)
    reader = SectionReader()
    described = reader.competition_file(path, document)
    if reader.problems:
        raise CompetitionFileInvalid(path, reader.problems)
    return described
