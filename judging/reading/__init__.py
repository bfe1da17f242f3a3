"""The reading side of judging: what people read of conversations and their labels.

- transcript/: a conversation's transcript (turns, final labels, verdicts, findings, annotations);
- readers.py: who reads a conversation (its side's names, the opponent by pseudonym);
- views.py, urls.py: the team pages (a team's conversations and their transcripts);
- api.py: the conversations API;
- admin/: the admin's transcript page and re-judge actions ("Transcripts", "Rounds to judge").

Imports only downward (the label core, conversations, competition, teams); nothing in the label core
imports it.
"""
