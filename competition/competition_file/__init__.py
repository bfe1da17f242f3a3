"""The competition file: one YAML or JSON document describing a whole competition.

Parsing and validation only, into plain dataclasses; load/ writes them to the database.
Every problem in a file is collected, not just the first, and each one names the file, the place
inside it (``teams[2].bots[0].url``) and what is wrong, so an organizer fixes a file in one pass.
Values are checked with the validators of the model fields that will hold them, so the file can never
accept what the admin would refuse. Nothing here but load/ reads or writes the database.

The format is documented for organizers in docs/competition-file.md. The parts:

- reading.py: file type, UTF-8, YAML/JSON syntax and repeated keys, into a parsed document;
- schema.py: the keys each section may hold, and the judge constants mirrored from judging;
- checks.py: value checks built on the model fields' validators;
- sections/: the walk over the document's sections that collects every problem, a module a section;
- descriptions.py: the dataclasses a valid file becomes;
- problems.py: Problem, CompetitionFileInvalid and the wording of places and values;
- parsing.py: competition_file_parse, the entry point;
- practice.py: the practice section, read, checked and loaded;
- load/: competition_file_load, which checks a parsed file against the database (conflicts.py) and
  writes it (writes.py), reporting what it did (report.py); it imports judging: it sits at the top of
  the stack, docs/architecture.md.
"""

from competition.competition_file.descriptions import (
    AnnotatorDescription,
    BotDescription,
    CompetitionDescription,
    CompetitionFile,
    JudgeDescription,
    MemberDescription,
    RoundDescription,
    TeamDescription,
)
from competition.competition_file.parsing import competition_file_parse
from competition.competition_file.problems import CompetitionFileInvalid, Problem
from competition.competition_file.schema import JUDGE_KINDS, JUDGE_NAME_MAX_LENGTH, JUDGE_SLUG_MAX_LENGTH

__all__ = [
    "JUDGE_KINDS",
    "JUDGE_NAME_MAX_LENGTH",
    "JUDGE_SLUG_MAX_LENGTH",
    "AnnotatorDescription",
    "BotDescription",
    "CompetitionDescription",
    "CompetitionFile",
    "CompetitionFileInvalid",
    "JudgeDescription",
    "MemberDescription",
    "Problem",
    "RoundDescription",
    "TeamDescription",
    "competition_file_parse",
]
