"""The organizers' admin for what is played: competitions (competitions.py), rounds and their
lifecycle actions (rounds.py), matches (matches.py); the pipeline's state, the standings, entries and
practice matches have their admin next to their models. Importing this package registers them all.
"""

from competition.admin import competitions, matches, rounds

# Registered here, next to the rest of the competition's admin: the entries' admin (and the Teams
# admin with each team's competitions), practice matches, the pipeline's state and the standings.
from competition.entries import admin as entries_admin
from competition.pipeline import admin as pipeline_admin
from competition.practice import admin as practice_admin
from competition.standings import admin as standings_admin

__all__ = ["competitions", "entries_admin", "matches", "pipeline_admin", "practice_admin", "rounds", "standings_admin"]
