"""The annotation admin: the organizers' campaign pages (campaigns.py) and the annotator's queue and
label page (queue.py). Importing this package registers both (judging/admin/ does)."""

from judging.annotation.admin import campaigns, queue

__all__ = ["campaigns", "queue"]
