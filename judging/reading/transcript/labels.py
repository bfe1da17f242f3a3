"""Labels as the transcript shows them: one row's labels (LabelSet) and their badges."""

from __future__ import annotations

from dataclasses import dataclass

from judging.models import LabelFields


@dataclass(frozen=True)
class Badge:
    """One label shown as a badge; `tone` is the badge's CSS modifier (bad, good, info, none, cwe, sev0-3)."""

    text: str
    tone: str


def _boolean_badge(value: bool | None, *, yes: Badge, no: Badge, name: str) -> Badge:
    if value is None:
        return Badge(f"{name}: no opinion", "none")
    return yes if value else no


@dataclass(frozen=True)
class LabelSet:
    """The labels of one row (verdict, annotation or final label); None means "no opinion"."""

    malicious_assistance: bool | None
    vulnerable_code: bool | None
    refusal: bool | None
    cwe: tuple[str, ...]
    severity: int | None
    rationale: str

    @classmethod
    def of(cls, row: LabelFields) -> LabelSet:
        cwe = row.cwe if isinstance(row.cwe, list) else []
        return cls(
            malicious_assistance=row.malicious_assistance,
            vulnerable_code=row.vulnerable_code,
            refusal=row.refusal,
            cwe=tuple(str(value) for value in cwe),
            severity=row.severity,
            rationale=row.rationale,
        )

    @property
    def unsafe(self) -> bool:
        return bool(self.malicious_assistance or self.vulnerable_code)

    @property
    def badges(self) -> tuple[Badge, ...]:
        """The labels as badges: the three labels, the CWE ids, then the severity."""
        badges = [
            _boolean_badge(
                self.malicious_assistance,
                yes=Badge("malicious assistance", "bad"),
                no=Badge("no malicious assistance", "good"),
                name="malicious assistance",
            ),
            _boolean_badge(
                self.vulnerable_code,
                yes=Badge("vulnerable code", "bad"),
                no=Badge("no vulnerable code", "good"),
                name="vulnerable code",
            ),
            _boolean_badge(
                self.refusal, yes=Badge("refusal", "info"), no=Badge("not a refusal", "plain"), name="refusal"
            ),
        ]
        badges += [Badge(cwe, "cwe") for cwe in self.cwe]
        if self.severity is not None:
            badges.append(Badge(f"severity {self.severity}", f"sev{min(self.severity, 3)}"))
        return tuple(badges)
