"""Files of the installed codeshield and semgrep packages: CodeShield's rules and the semgrep-core binary."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from judging.judges.base import JudgeConfigError


def package_dir(name: str) -> Path:
    """The directory of an installed package, found without importing it.

    Raises JudgeConfigError when the package is not installed.
    """
    # Not imported: codeshield's insecure_code_detector modules create a symlink inside the
    # installed semgrep package when imported.
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise JudgeConfigError(f"the {name} package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def codeshield_rules_root() -> Path:
    """CodeShield's rules folder: config.yaml, regex/*.yaml and semgrep/_generated_/*.json."""
    return package_dir("codeshield") / "insecure_code_detector" / "rules"


def semgrep_core_path() -> Path:
    """The semgrep-core binary shipped in the semgrep wheel (run as `osemgrep`, as CodeShield does)."""
    return package_dir("semgrep") / "bin" / "semgrep-core"
