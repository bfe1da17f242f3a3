"""Bot- and team-written text with bidirectional controls, kept from disguising the text around it.

A name holding a right-to-left override (U+202E) reverses everything after it in the same line:
``Rogues\u202e / bastion`` would show the bot name backwards, and a crafted one can make a page
say something else. Wrapped in FIRST STRONG ISOLATE (U+2068) ... POP DIRECTIONAL ISOLATE (U+2069)
the text is an island: the isolate closes every embedding, override and isolate opened inside it
(Unicode Bidirectional Algorithm, UAX #9, rule X6a). This works in plain text too (page titles,
select options, log lines), where <bdi> and CSS cannot reach.
"""

from __future__ import annotations

import re

BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def bidi_isolated(text: str) -> str:
    """text between FSI and PDI when it holds a bidirectional control character, else text unchanged."""
    return f"\u2068{text}\u2069" if BIDI_CONTROLS.search(text) else text
