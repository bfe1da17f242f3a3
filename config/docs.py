"""The project's own guides (docs/*.md) served as pages of the site, rendered from the same files
the repository holds, so a team reads on the site what a developer reads in the clone."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET
from markdown_it import MarkdownIt

DOCS = Path(settings.BASE_DIR) / "docs"

# The guides a team reads on the site: URL name -> (file under docs/, page title).
GUIDES = {
    "bot-protocol": ("bot-protocol.md", "The bot protocol"),
    "api": ("api.md", "The REST API"),
}


@lru_cache(maxsize=16)
def _rendered(name: str, until: str | None, mtime: float) -> str:
    text = (DOCS / name).read_text()
    if until is not None:
        lines = text.splitlines(keepends=True)
        cut = next((i for i, line in enumerate(lines) if line.rstrip("\n") == until), len(lines))
        text = "".join(lines[:cut])
    # The docs are the project's own text; raw HTML in them is still not rendered (html disabled).
    return MarkdownIt("commonmark", {"html": False}).enable("table").render(text)


def doc_html(name: str, *, until: str | None = None) -> SafeString:
    """``docs/<name>`` rendered to HTML (CommonMark with tables, raw HTML shown as text); with
    ``until``, only the text before the first line equal to it (the part written for the site's readers).

    Re-rendered when the file changes (the cache keys on its modification time).
    Raises FileNotFoundError for a file that is not under docs/.
    """
    path = DOCS / name
    return mark_safe(_rendered(name, until, path.stat().st_mtime))  # noqa: S308 - rendered with html disabled


def guide_view(slug: str):
    """The view serving the guide ``GUIDES[slug]`` at a page of its own."""
    filename, title = GUIDES[slug]

    @require_GET
    def view(request: HttpRequest) -> HttpResponse:
        return render(request, "docs/guide.html", {"title": title, "body": doc_html(filename), "source": filename})

    view.__name__ = f"guide_{slug.replace('-', '_')}"
    view.__doc__ = f"{title}: docs/{filename}, the same text the repository holds."
    return view
