"""The OpenAPI schema validates with no warning; its docs page loads its assets from this site."""

from __future__ import annotations

import re

from django.core.management import call_command
from django.test import Client

from tests.cast import PASSWORD


def test_it_generates_a_valid_schema_without_warnings(db, tmp_path):
    out = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    schema = out.read_text()
    for path in ("/api/bots/", "/api/conversations/{uuid}/", "/api/rounds/{id}/publish/", "/api/competitions/"):
        assert f"  {path}:" in schema


def test_it_serves_the_api_docs_with_local_assets_only(arena):
    client = Client()
    client.login(username="alice", password=PASSWORD)

    page = client.get("/api/docs/").content.decode()

    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets
    assert all(not asset.startswith(("http:", "https:", "//")) for asset in assets), assets
