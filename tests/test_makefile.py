"""`make demo` passes the demo's ports and options through (README: "make demo DEMO_PORT=...")."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def demo_line(*assignments: str) -> str:
    done = subprocess.run(
        ["make", "-n", "demo", *assignments], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    return next(line for line in done.stdout.splitlines() if "manage.py demo" in line)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_it_passes_the_site_and_bot_ports_to_the_demo():
    assert demo_line("DEMO_PORT=8001", "BOTS_PORT=8702").split()[-4:] == ["--port", "8001", "--bots-port", "8702"]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_it_passes_any_option_through_args():
    assert demo_line("ARGS=--port 8003 --no-serve").split()[-3:] == ["--port", "8003", "--no-serve"]
