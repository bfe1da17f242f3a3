"""People on their own: sign-up with a verified email, sign-in by username or email, passwords,
invitations into teams, the one outbound mail path, and notices (on the site and by email).

The top of the stack: it imports teams and competition, and hears of round events through the
signals competition sends (competition/signals.py), so that nothing below imports it.
"""
