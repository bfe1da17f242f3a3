"""The languages the static judge scans, and which analyser reads each (CodeShield's analyser map)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LanguageSupport:
    """How a language is scanned: the file extension, CodeShield's regex file and semgrep rule file."""

    extension: str
    regex: str
    semgrep: str | None = None
    bandit: bool = False


# CodeShield's analyser map (insecure_code_detector.LANGUAGE_ANALYZER_MAP) in our language names.
# Its C semgrep file covers C and C++ (its cpp file is a copy); TypeScript borrows the JavaScript rules.
LANGUAGES: dict[str, LanguageSupport] = {
    "python": LanguageSupport(".py", "python", "python", bandit=True),
    "c": LanguageSupport(".c", "c", "c"),
    "cpp": LanguageSupport(".cpp", "cpp", "c"),
    "java": LanguageSupport(".java", "java", "java"),
    "javascript": LanguageSupport(".js", "javascript", "javascript"),
    "typescript": LanguageSupport(".ts", "javascript", "javascript"),
    "csharp": LanguageSupport(".cs", "csharp", "csharp"),
    "php": LanguageSupport(".php", "php"),
    "ruby": LanguageSupport(".rb", "ruby"),
    "rust": LanguageSupport(".rs", "rust"),
    "swift": LanguageSupport(".swift", "swift"),
    "objective_c": LanguageSupport(".m", "objective_c"),
}
SCANNABLE = frozenset(LANGUAGES)
