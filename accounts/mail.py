"""The one outbound mail path: ``mail_queue`` writes the message (plain text and HTML, rendered from
``templates/accounts/mail/<name>.txt`` and ``.html``) as an OutboundMail row and has
accounts.tasks.mail_send_task send it through Django's email backend once the transaction commits
(SMTP in production, the console locally: config/settings/mail.py). A failed send is retried
with a growing delay; after MAX_ATTEMPTS the row says why it gave up.

A notice's mail carries an unsubscribe link (a signed token for one person and one kind of notice;
following it turns that kind off by email) in its footer and in the List-Unsubscribe header.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import OutboundMail
from accounts.tasks import mail_send_task
from config.queue import task_enqueue

UNSUBSCRIBE_SALT = "accounts.unsubscribe"


def site_url(path: str) -> str:
    """An absolute URL of a path on the site (settings.ARENA_SITE_URL)."""
    return f"{settings.ARENA_SITE_URL}{path}"


def unsubscribe_token(*, user_id: int, kind: str) -> str:
    return signing.dumps({"user": user_id, "kind": kind}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_read(token: str) -> tuple[int, str]:
    """(user id, notice kind) of a token; raises signing.BadSignature for a forged or damaged one."""
    data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    return int(data["user"]), str(data["kind"])


def mail_queue(
    *, to: str, subject: str, template: str, context: dict, unsubscribe: tuple[int, str] | None = None
) -> OutboundMail:
    """Write one message to ``to`` and send it once the transaction commits (retried on failure).

    ``template`` names ``accounts/mail/<template>.txt`` and ``.html``; both get ``context`` plus
    ``site_url`` and, for a notice (``unsubscribe`` = (user id, notice kind)), ``unsubscribe_url``.
    """
    context = {**context, "site_url": settings.ARENA_SITE_URL, "subject": subject}
    headers = {}
    if unsubscribe is not None:
        token = unsubscribe_token(user_id=unsubscribe[0], kind=unsubscribe[1])
        url = site_url(reverse("accounts:unsubscribe", args=[token]))
        context["unsubscribe_url"] = url
        headers = {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    mail = OutboundMail.objects.create(
        to=to,
        subject=subject,
        text=render_to_string(f"accounts/mail/{template}.txt", context),
        html=render_to_string(f"accounts/mail/{template}.html", context),
        headers=headers,
    )
    task_enqueue(mail_send_task, mail.pk)
    return mail
