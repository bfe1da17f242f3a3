"""Parsing a competition file: read the document, walk its sections, and raise if anything was wrong."""

from __future__ import annotations

from pathlib import Path

from competition.competition_file.descriptions import CompetitionFile
from competition.competition_file.limits import unstorable_text_problems
from competition.competition_file.problems import CompetitionFileInvalid, problems_in_file_order
from competition.competition_file.reading import document_read
from competition.competition_file.schema import JudgeConfigSchemas
from competition.competition_file.sections import SectionReader


def competition_file_parse(*, path: Path, judge_configs: JudgeConfigSchemas | None = None) -> CompetitionFile:
    """Read and validate the competition file at path (.yaml, .yml or .json).

    Returns the file's contents as plain dataclasses, defaults filled in. Raises CompetitionFileInvalid
    listing every problem found (unreadable file, syntax error with line and column, wrong types,
    unknown or missing keys, text the database cannot store (NUL, unpaired surrogates), values the
    model fields refuse, duplicates within the file). A file over limits.MAX_FILE_BYTES, nested more
    than limits.MAX_DEPTH deep or expanding past limits.MAX_VALUES values is refused unread.

    Every problem is listed once, in file order (by line). `judge_configs` are the judge kinds'
    config schemas (the loader passes judging's, judging.judges.config_schemas): with them every
    key of every judge's config is checked too; without them a config is checked as a JSON mapping.
    """
    document = document_read(path)
    # Text the database cannot store stops here, one problem per place: the checks below would pass
    # it on, and the load would then fail at the first such value with a database error.
    unstorable = unstorable_text_problems(document)
    if unstorable:
        raise CompetitionFileInvalid(path, unstorable)
    reader = SectionReader(judge_configs=judge_configs)
    described = reader.competition_file(path, document)
    if reader.problems:
        raise CompetitionFileInvalid(path, problems_in_file_order(reader.problems, document))
    return described
