"""What a failed call's one-line detail says about a non-2xx answer: the status, what it usually
means when that is known, and the start of the endpoint's own reply, so an organizer's page says
what the team's "Test this bot" page shows (docs/bot-protocol.md, "How failures are recorded")."""

from __future__ import annotations

REPLY_EXCERPT_CHARS = 300

# Statuses whose usual cause a person can act on.
ADVICE = {
    401: (
        "401 means the endpoint refused the request's credentials: an arena bot checks X-Arena-Signature "
        "with its own copy of the bot's signing secret, and this one holds another (each example bot checks "
        "with the secret it was started with, so a bot registered at an example bot's URL is refused)"
    ),
    403: "403 means the endpoint refused the caller: it may allow only some addresses",
    404: "404 means nothing answers at this URL's path: check the path",
}


def reply_excerpt(body: bytes | None) -> str:
    """The first ``REPLY_EXCERPT_CHARS`` characters of a reply body on one line ('' when empty).

    The text is the bot's (hostile): callers store it as text and every page escapes it.
    """
    if not body:
        return ""
    text = " ".join(body[: REPLY_EXCERPT_CHARS * 4].decode("utf-8", "replace").split())
    if len(text) > REPLY_EXCERPT_CHARS:
        text = text[: REPLY_EXCERPT_CHARS - 1] + "…"
    return text


def status_detail(head: str, *, status: int, body: bytes | None) -> str:
    """``head`` (e.g. "answered HTTP 401 after 0.1 s"), then what the status usually means, then the reply."""
    parts = [head]
    if status in ADVICE:
        parts.append(ADVICE[status])
    excerpt = reply_excerpt(body)
    if excerpt:
        parts.append(f"its reply: {excerpt}")
    return "; ".join(parts)
