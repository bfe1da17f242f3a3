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


LOG_LEVELS = """
import logging, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
levels = (logging.getLogger(name).getEffectiveLevel() for name in ("axes.handlers.database", "axes.helpers"))
print(*levels)
"""


def test_it_runs_management_commands_without_django_axes_startup_banner(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env |= {"DJANGO_SETTINGS_MODULE": "config.settings", "ARENA_VAR_DIR": str(tmp_path), "LOG_LEVEL": "INFO"}
    for argv in (["standings", "--help"], ["demo", "--help"], ["check"]):
        result = subprocess.run(
            [sys.executable, "manage.py", *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
        assert "AXES" not in result.stdout + result.stderr, argv

    # Lockouts are still logged: the handlers' loggers keep INFO.
    result = subprocess.run(
        [sys.executable, "-c", LOG_LEVELS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.stdout.split() == ["20", "20"], result.stderr
