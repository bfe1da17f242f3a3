"""Datasets: what leaves the platform, and what comes in from elsewhere.

- record_types.py: a conversation's record (turns, final labels, outcome: attack success);
- records.py: conversations read in chunks as those records (with verdicts when asked);
- filters.py: the ExportSpec (shape, format, filters, split, de-duplication) and its selection;
- shapes.py: the rows of each shape (conversations, turns, chat, preference), one builder each;
- pairs.py: safe/unsafe replies to the same context (preference rows, chat safe replacements);
- split.py, dedup.py: the seeded split per conversation; exact and MinHash de-duplication;
- writer.py: streaming files per split, formula-safe cells, atomic renames;
- card.py, card_stats.py: the README.md dataset card, and its figures;
- export.py: one export end to end (dataset_export);
- resources.py: the same shapes as django-import-export resources and formats, for the admin;
- importer.py: chat JSONL into an imported round.
- models.py: ExportJob (an export run in the background) and DatasetConversation (the admin's list);
- services.py, tasks.py: export jobs queued, run and swept when their worker stopped;
- admin.py: the conversations to export, the export jobs and the chat import (registered by judging/apps.py).

A leaf: nothing imports it but its own commands and admin, and judging/models.py (for Django to see
its models). This __init__ imports nothing, since judging/models.py imports models.py while the app loads.

It lives in judging because an export needs final labels and verdicts (judging), conversations and
turns (conversations), rounds and teams (competition, teams): judging is the one app allowed to
import all of them (docs/datasets.md).
"""
