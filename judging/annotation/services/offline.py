"""Offline annotation: a campaign's assignments written to a CSV or JSON file, and labels read back
from one (judging/annotation/resources.py says what a row holds and when it is bad). All or nothing: a file with
any bad row imports nothing, and the report names each bad row and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import tablib

from judging.annotation.resources import CampaignLabelsResource, CampaignLabelsSpreadsheetResource
from judging.models import AnnotationCampaign

FORMATS = ("csv", "json")


@dataclass
class ImportReport:
    """What an import did: rows labelled, rows left alone (no label given), and the bad rows
    (when there is any, nothing was imported)."""

    labelled: int = 0
    left_alone: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def campaign_labels_export(
    *, campaign: AnnotationCampaign, user: Any, everyone: bool = False, file_format: str = "csv"
) -> str:
    """The campaign's assignments (the user's own, or everyone's for an organizer) as CSV or JSON."""
    if file_format not in FORMATS:
        raise ValueError(f"unknown format {file_format!r}; use one of {', '.join(FORMATS)}")
    resource_class = CampaignLabelsSpreadsheetResource if file_format == "csv" else CampaignLabelsResource
    dataset = resource_class(campaign=campaign, user=user, everyone=everyone).export()
    return dataset.csv if file_format == "csv" else dataset.json


def _problem(number: int, column: str, messages: list[str]) -> str:
    return f"row {number}: {column}: {'; '.join(messages)}"


def campaign_labels_import(
    *, campaign: AnnotationCampaign, user: Any, content: str, everyone: bool = False, file_format: str = "csv"
) -> ImportReport:
    """Read labels from a file made by campaign_labels_export (rows numbered from 1 after the header).

    The rows must be the user's own assignments in this campaign (anyone's for an organizer).
    """
    if file_format not in FORMATS:
        raise ValueError(f"unknown format {file_format!r}; use one of {', '.join(FORMATS)}")
    try:
        dataset = tablib.Dataset().load(content, format=file_format)
    except Exception as exc:
        return ImportReport(problems=[f"the file is not {file_format.upper()}: {exc}"])
    if "assignment" not in (dataset.headers or []):
        return ImportReport(problems=["the file has no 'assignment' column: export the campaign's file first"])
    resource = CampaignLabelsResource(campaign=campaign, user=user, everyone=everyone)
    result = resource.import_data(dataset, dry_run=False, raise_errors=False, use_transactions=True)
    problems = []
    for row in result.invalid_rows:
        for column, messages in sorted(row.error_dict.items()):
            problems.append(_problem(row.number, column, [str(message) for message in messages]))
    for number, errors in result.row_errors():
        problems += [f"row {number}: {error.error}" for error in errors]
    if problems:
        return ImportReport(problems=sorted(problems, key=lambda text: int(text.split()[1].rstrip(":"))))
    counts = result.totals
    return ImportReport(labelled=counts.get("update", 0) + counts.get("new", 0), left_alone=counts.get("skip", 0))
