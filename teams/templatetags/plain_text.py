"""Template filters for text shown where no markup reaches (a page's <title>)."""

from __future__ import annotations

from django import template

from config.bidi import BIDI_CONTROLS

register = template.Library()


@register.filter
def title_text(value: object) -> str:
    """``value`` without bidirectional controls: a <title> is one plain line, where an isolate shows
    as an invisible character in tabs and bookmarks and an override could reverse the rest of it."""
    return BIDI_CONTROLS.sub("", str(value))
