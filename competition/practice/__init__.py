"""Practice matches on demand (issue 25): a team plays one of its entered bots against a reference bot
of the competition, or another team's opted-in bot, privately, between rounds (docs/practice.md)."""
