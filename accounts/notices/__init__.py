"""Notices: what the platform tells a team's people, on the site (/account/notices/) and by email
(each person chooses which kinds by email). competition sends signals (competition/signals.py) and
teams saves health checks; receivers.py turns them into tasks, services.py into notices."""
