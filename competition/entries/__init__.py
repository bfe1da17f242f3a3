"""Entries: how a team takes part in a competition, and which of its bots play there.

A team belongs to no competition by itself. It takes part in one through an Entry (requested,
approved, withdrawn or declined) and enters some of its bots into that entry (EntryBot); a round
pairs only the entered, active bots of approved entries of its own competition
(selectors.bots_entered, read by competition/pipeline/lifecycle/start.py: round_start). A bot a team
registers plays nowhere until an owner enters it.
"""
