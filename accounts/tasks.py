"""Background work of accounts: sending a queued mail, fanning a round's event out into notices."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import schedule

from accounts.models import OutboundMail
from config.queue import task_path

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


def mail_send_task(mail_id: int) -> None:
    """Send one queued mail; a failure is retried after 1, 2, 4, 8 minutes, then given up.

    The row is claimed under ``select_for_update`` and left alone once sent, so a task that runs
    twice sends once (a crash between the SMTP answer and the commit can still send twice).
    """
    with transaction.atomic():
        mail = OutboundMail.objects.select_for_update().filter(pk=mail_id, status=OutboundMail.Status.QUEUED).first()
        if mail is None:
            return
        message = EmailMultiAlternatives(subject=mail.subject, body=mail.text, to=[mail.to], headers=mail.headers)
        message.attach_alternative(mail.html, "text/html")
        mail.attempts += 1
        try:
            message.send()
        except Exception as error:  # any transport failure: SMTP refusals, connection errors, timeouts
            mail.last_error = f"{type(error).__name__}: {error}"[:2000]
            if mail.attempts >= MAX_ATTEMPTS:
                mail.status = OutboundMail.Status.FAILED
                logger.warning("mail %s given up after %d attempts: %s", mail.pk, mail.attempts, mail.last_error)
            else:
                delay = timedelta(minutes=2 ** (mail.attempts - 1))
                transaction.on_commit(
                    lambda: schedule(
                        task_path(mail_send_task),
                        mail_id,
                        schedule_type=Schedule.ONCE,
                        next_run=timezone.now() + delay,
                        name=f"mail-retry-{mail_id}-{mail.attempts}",
                    )
                )
            mail.save(update_fields=["attempts", "last_error", "status"])
            return
        mail.status = OutboundMail.Status.SENT
        mail.sent_at = timezone.now()
        mail.last_error = ""
        mail.save(update_fields=["attempts", "last_error", "status", "sent_at"])
