"""What one player run did (PlayReport) and who ran it (worker_id_new); loop.py fills the report."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass


def worker_id_new() -> str:
    """A player's id, unique across machines and runs: host, process id, 8 random hex digits."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class PlayReport:
    """What one player run did, for logs, the demo and the benchmark."""

    worker_id: str
    acquired: bool = False
    turns: int = 0
    failed_calls: int = 0
    conversations_completed: int = 0
    conversations_failed: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    work_left: bool = False
    lease: str = ""  # the name of the lease it held
    handed_over: bool = False  # stopped at its time limit or on losing its lease: a fresh player goes on
