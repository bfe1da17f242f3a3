"""The languages the static judge scans, and which analyser reads each (CodeShield's analyser map, widened)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LanguageSupport:
    """How a language is scanned: the file extension, CodeShield's regex file (None: none), the semgrep
    language whose rules run on it (None: semgrep does not read it), bandit, flawfinder."""

    extension: str
    regex: str | None
    semgrep: str | None = None
    bandit: bool = False
    flawfinder: bool = False


# CodeShield's analyser map (insecure_code_detector.LANGUAGE_ANALYZER_MAP) in our language names, plus
# what we added: flawfinder for C and C++, semgrep for PHP (CodeShield ships PHP rules it never runs),
# Ruby, Go and shell (the arena's rules in rules/). Its C semgrep file covers C and C++ (its cpp file
# is a copy); TypeScript borrows the JavaScript rules. A language without semgrep is read by regex
# only, and a clean regex scan is not a clean scan (see StaticJudge).
LANGUAGES: dict[str, LanguageSupport] = {
    "python": LanguageSupport(".py", "python", "python", bandit=True),
    "c": LanguageSupport(".c", "c", "c", flawfinder=True),
    "cpp": LanguageSupport(".cpp", "cpp", "c", flawfinder=True),
    "java": LanguageSupport(".java", "java", "java"),
    "javascript": LanguageSupport(".js", "javascript", "javascript"),
    "typescript": LanguageSupport(".ts", "javascript", "javascript"),
    "csharp": LanguageSupport(".cs", "csharp", "csharp"),
    "php": LanguageSupport(".php", "php", "php"),
    "ruby": LanguageSupport(".rb", "ruby", "ruby"),
    "go": LanguageSupport(".go", None, "go"),
    "shell": LanguageSupport(".sh", None, "bash"),
    "rust": LanguageSupport(".rs", "rust"),
    "swift": LanguageSupport(".swift", "swift"),
    "objective_c": LanguageSupport(".m", "objective_c"),
}
SCANNABLE = frozenset(LANGUAGES)
