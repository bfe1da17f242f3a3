"""What a process pays to start: loading the project (django.setup(), which imports every app's
admin, selectors and services) must not import the heavy numerical and analysis libraries.

Every web process, every manage.py command and every qcluster worker pays what setup imports; the
libraries below took about 1.7 s of CPU together (measured with `python -X importtime`), so each is
imported where it is used (agreement figures, near-duplicates, scoring, the bandit analyser).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("scipy", "pandas", "statsmodels", "sklearn", "datasketch", "bandit", "semgrep", "choix", "matplotlib")

PROBE = """
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
from django.urls import get_resolver
get_resolver().url_patterns  # every URLconf and the views it names, as the web process loads them
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in %r)))
"""


def test_it_loads_the_project_without_the_heavy_libraries():
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    result = subprocess.run(
        [sys.executable, "-c", PROBE % (HEAVY,)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    imported = json.loads(result.stdout.strip().splitlines()[-1])
    assert {name.split(".")[0] for name in imported} == set(), imported
