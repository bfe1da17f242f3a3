"""Settings from the environment: production passes Django's deploy checks; bad values are named."""

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def manage(*args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "DEBUG")}
    environment |= {"DJANGO_SETTINGS_MODULE": "config.settings", "ARENA_VAR_DIR": str(tmp_path)} | env
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def test_it_passes_the_deploy_checks_in_production_mode(tmp_path):
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        tmp_path=tmp_path,
        DEBUG="0",
        SECRET_KEY="k" * 20 + "a-long-random-production-secret-value-0123456789",
        ALLOWED_HOSTS="arena.example.org",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_it_requires_a_secret_key_in_production(tmp_path):
    result = manage("check", tmp_path=tmp_path, DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_it_generates_and_keeps_a_local_secret_key(tmp_path):
    assert manage("check", tmp_path=tmp_path).returncode == 0
    key = (tmp_path / "secret_key").read_text()
    assert len(key) >= 50
    assert manage("check", tmp_path=tmp_path).returncode == 0
    assert (tmp_path / "secret_key").read_text() == key


def test_it_names_a_bad_yes_no_value(tmp_path):
    result = manage("check", tmp_path=tmp_path, DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a yes/no value" in result.stderr


def test_it_names_a_bad_database_url(tmp_path):
    result = manage("check", tmp_path=tmp_path, DATABASE_URL="mongodb://nowhere/arena")
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


def test_it_opens_sqlite_in_wal_mode_with_a_busy_timeout(db):
    import pytest
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite only: this pass runs on " + connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] == 30_000


def _settings_defined(path: Path) -> set[str]:
    """The UPPERCASE names a settings module assigns at its top level (under an if too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef):
            continue
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        names |= {target.id for target in targets if isinstance(target, ast.Name) and target.id.isupper()}
    return names


def test_it_defines_each_setting_in_one_module_of_config_settings():
    # config/settings/__init__.py star-imports its modules: a setting in two of them would be decided
    # silently by the order of those imports.
    owners: dict[str, list[str]] = {}
    for path in sorted((ROOT / "config" / "settings").glob("*.py")):
        for name in _settings_defined(path):
            owners.setdefault(name, []).append(path.name)

    assert {name: where for name, where in owners.items() if len(where) > 1} == {}
    assert {"DEBUG", "INSTALLED_APPS", "REST_FRAMEWORK", "Q_CLUSTER", "CONTENT_SECURITY_POLICY"} <= set(owners)
