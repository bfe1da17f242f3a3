"""Helpers of the browser tests: what a person sees on a page."""

from __future__ import annotations


def horizontal_overflow(page) -> int:
    """Pixels the page can scroll sideways: scrollWidth - clientWidth of the scrolling element."""
    return page.evaluate("document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth")


def element_overflow(page, selector: str) -> int:
    """Pixels the first element matching ``selector`` scrolls sideways inside itself (0: fits or absent)."""
    return page.evaluate(
        "(selector) => { const box = document.querySelector(selector);"
        " return box ? box.scrollWidth - box.clientWidth : 0; }",
        selector,
    )


def in_viewport(page, locator) -> bool:
    """Whether the element is visible and wholly inside the window, so no scrolling sideways reaches it."""
    locator.wait_for()
    box = locator.bounding_box()
    width = page.viewport_size["width"]
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width and locator.is_visible()


def clipped_sideways(page, locator) -> bool:
    """Whether the element sticks out of a box around it that hides what sticks out sideways
    (overflow hidden or clip) before any box that scrolls: a script could scroll it into view, a person
    cannot."""
    locator.wait_for()
    return locator.evaluate(
        "(node) => { const right = node.getBoundingClientRect().right;"
        " for (let box = node.parentElement; box; box = box.parentElement) {"
        "  const overflow = getComputedStyle(box).overflowX;"
        "  if (overflow === 'auto' || overflow === 'scroll') return false;"
        "  const hides = overflow === 'hidden' || overflow === 'clip';"
        "  if (hides && right > box.getBoundingClientRect().right + 1) return true; }"
        " return false; }"
    )
