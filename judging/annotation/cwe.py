"""The CWE ids annotators pick from: judging/data/cwe.json (the CWE Top 25 and weaknesses common in
generated code, with MITRE's names). Annotations may name any well-formed CWE id; the list is what
the queue's search offers and what the form names."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

CWE_FILE = Path(__file__).resolve().parent.parent / "data" / "cwe.json"


@cache
def cwe_names() -> dict[str, str]:
    """CWE id -> its name, in the file's order."""
    data = json.loads(CWE_FILE.read_text(encoding="utf-8"))
    return {cwe_id: name for cwe_id, name in data["weaknesses"]}
