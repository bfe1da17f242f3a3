"""A refused permission logged quietly: one line at INFO, no traceback.

Django logs every PermissionDenied (an admin page an annotator may not open, a download a team may
not take) on `django.request` as a WARNING carrying the exception, so each refusal printed a whole
traceback among the warnings that need someone. A refusal is the permission check working: the
line that says who was refused what stays, at INFO; everything else on that logger is untouched.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied


class RefusedPermissionQuiet(logging.Filter):
    """On `django.request` (settings.LOGGING): a record of a PermissionDenied becomes one INFO line
    without its traceback, and is dropped when the logger does not log INFO."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not (record.exc_info and isinstance(record.exc_info[1], PermissionDenied)):
            return True
        record.exc_info = record.exc_text = record.stack_info = None
        record.levelno, record.levelname = logging.INFO, logging.getLevelName(logging.INFO)
        return logging.getLogger(record.name).isEnabledFor(logging.INFO)
