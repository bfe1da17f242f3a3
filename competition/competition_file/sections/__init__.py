"""Walking a parsed competition file section by section, collecting every problem on the way.

Each section is checked for its shape (schema.py), its values (checks.py, the model fields' own
validators) and duplicates within the file; the result is the descriptions of descriptions.py, used
only when no problem was found. The parts:

- reader.py: SectionReader, the problems and the shape checks, and the walk over the document;
- competition.py: the competition (goals, scoring weights, benign prompts, the reference defender,
  the round defaults);
- rounds.py: the rounds, their settings defaulting to the competition's;
- teams.py: the teams and their bots;
- people.py: the accounts, teams' members and annotators (a username is one person in the file);
- judges.py: the judges and each one's config against its kind's schema.

The practice section is competition_file/practice.py, with what the loader does with it.
"""

from competition.competition_file.sections.reader import SectionReader

__all__ = ["SectionReader"]
