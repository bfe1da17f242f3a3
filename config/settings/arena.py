"""The platform's own settings: calls to bots and judges, the round player, size limits on what
comes in, and datasets (docs/datasets.md)."""

from __future__ import annotations

import os
from pathlib import Path

from config.settings.environment import VAR_DIR, env_bool

# --- Outbound calls to bots and judges ------------------------------------------------------------
# Loopback and private addresses are refused unless this is on; only the demo and local
# development turn it on (bots then run on this machine).
ARENA_ALLOW_PRIVATE_URLS = env_bool("ARENA_ALLOW_PRIVATE_URLS", False)
ARENA_MAX_RESPONSE_BYTES = 1024 * 1024
ARENA_CONNECT_TIMEOUT = float(os.environ.get("ARENA_CONNECT_TIMEOUT", 5))
# A playing worker renews its claim on a conversation at every turn; a claim older than this is
# taken to belong to a dead worker and the conversation is resumed from its last stored turn.
ARENA_CLAIM_SECONDS = int(os.environ.get("ARENA_CLAIM_SECONDS", 60))
# The round player (competition/pipeline/player/): calls in flight at most (threads), conversations held
# in memory at most, and how long one player task runs before handing over to a fresh one (kept
# well under the django-q2 task timeout).
ARENA_PLAYER_MAX_CALLS = int(os.environ.get("ARENA_PLAYER_MAX_CALLS", 64))
ARENA_PLAYER_MAX_CONVERSATIONS = int(os.environ.get("ARENA_PLAYER_MAX_CONVERSATIONS", 400))
ARENA_PLAYER_MAX_SECONDS = int(os.environ.get("ARENA_PLAYER_MAX_SECONDS", 45 * 60))
# How long the player's lease lives without renewal (renewed every two seconds): after a killed
# player, the reaper starts a new one once this has passed.
ARENA_PLAYER_LEASE_SECONDS = int(os.environ.get("ARENA_PLAYER_LEASE_SECONDS", 30))
# How many players play the running rounds at once (each a django-q2 task holding one PlayerLease,
# on any worker machine). One keeps up with bots that take tenths of a second; when the bots are so
# fast that a player's CPU bounds a round, more players share it (bench/README.md, docs/deploy.md).
# Each one occupies a django-q2 worker while rounds play: keep Q_WORKERS above it.
ARENA_PLAYERS = int(os.environ.get("ARENA_PLAYERS", 1))

# --- Size limits on what comes in ----------------------------------------------------------------
# A request body other than file uploads (forms, JSON): Django refuses more with a 400.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# An uploaded file larger than this is spooled to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# An admin import (teams, bots, memberships): a larger file is refused before it is read. Competition
# files have their own limit (competition/competition_file/limits.py, docs/competition-file.md).
ARENA_IMPORT_MAX_BYTES = int(os.environ.get("ARENA_IMPORT_MAX_BYTES", 5 * 1024 * 1024))
# A chat JSONL import (admin or manage.py import_dataset, docs/datasets.md): a larger file is refused
# before it is parsed. The admin's import runs inside the web request, which gunicorn ends at 60 s.
ARENA_DATASET_IMPORT_MAX_BYTES = int(os.environ.get("ARENA_DATASET_IMPORT_MAX_BYTES", 10 * 1024 * 1024))

# --- Datasets (judging/datasets, docs/datasets.md) -------------------------------------------------
# Exports name teams and bots by stable anonymous ids unless this is off; the ids are HMACs keyed
# with ARENA_DATASET_SALT (the secret key when unset), so keep the salt to keep ids across exports.
ARENA_DATASET_ANONYMOUS = env_bool("ARENA_DATASET_ANONYMOUS", True)
ARENA_DATASET_SALT = os.environ.get("ARENA_DATASET_SALT", "")
# Where export jobs write their files (one folder per job); never under a served static folder.
ARENA_EXPORT_DIR = Path(os.environ.get("ARENA_EXPORT_DIR", VAR_DIR / "exports"))
# A running export job writes a heartbeat at every 500 conversations and around its zip; one silent
# for longer than this lost its worker, and the sweep (judging.datasets.tasks.export_jobs_reap_task, every
# minute) runs it again, or fails it after three runs. Keep it well above the longest silent step
# (a chunk, the card's queries, one file zipped): a live run taken for dead stops at its next beat.
ARENA_EXPORT_STALE_SECONDS = int(os.environ.get("ARENA_EXPORT_STALE_SECONDS", 300))
