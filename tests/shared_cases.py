"""The shared cases (`shared/cases/`, see its README): small inputs that once made the project fail.

They live outside the repository: `<repo>/../shared/cases` (CI puts a copy of shared/ beside the
clone), or `<repo>/../../shared/cases` for a git worktree kept in a folder of worktrees. Tests that
read them are skipped, with the reason printed, when neither is there.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CANDIDATES = (REPO.parent / "shared" / "cases", REPO.parent.parent / "shared" / "cases")


def shared_case(relative: str) -> Path:
    """The path of one shared case, e.g. "judging/reply-partial-parse-md5.md"; skips the test if absent."""
    for root in CANDIDATES:
        path = root / relative
        if path.is_file():
            return path
    reason = f"shared case {relative} not found under {' or '.join(str(root) for root in CANDIDATES)}"
    print(reason)
    pytest.skip(reason)
