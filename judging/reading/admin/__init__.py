"""Judging's admin pages about conversations and rounds: a conversation's transcript, and re-judging
rounds or conversations with a chosen judge.

Judging registers them itself, on its proxy models: the transcripts and the conversations' re-judge
action on JudgedConversation ("Transcripts", transcripts.py), the rounds' re-judge action on
JudgedRound ("Rounds to judge", rounds.py); and a link from every conversation's admin row to its
transcript through conversations.admin.conversation_page_add. So neither the conversations nor the
competition app imports anything of judging. The re-judge page both actions show is rejudge.py; what
may be re-judged, and the queueing, is judging.services.rejudging: the actions only ask for the judge
and report. Importing this package registers both admins.
"""

from judging.reading.admin.rounds import RoundToJudgeAdmin
from judging.reading.admin.transcripts import TranscriptAdmin, transcript_url

__all__ = ["RoundToJudgeAdmin", "TranscriptAdmin", "transcript_url"]
