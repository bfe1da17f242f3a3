"""Writes of human annotation (the labels themselves are the label core's: judging/services/annotations.py).

- campaigns.py: sampling a campaign's replies, assigning them, reassigning, skipping and closing;
- offline.py: a campaign's labels exported to a file and imported from one (all or nothing).

Every public name is importable from here.
"""

from judging.annotation.services.campaigns import (
    AssignReport,
    CampaignError,
    active_annotator_ids,
    assignment_skip,
    assignments_reassign,
    assignments_reassign_selected,
    campaign_assign,
    campaign_build,
    campaign_close,
    campaign_pool,
    campaign_sample,
)
from judging.annotation.services.offline import (
    FORMATS,
    ImportReport,
    campaign_labels_export,
    campaign_labels_import,
)

__all__ = [
    "FORMATS",
    "AssignReport",
    "CampaignError",
    "ImportReport",
    "active_annotator_ids",
    "assignment_skip",
    "assignments_reassign",
    "assignments_reassign_selected",
    "campaign_assign",
    "campaign_build",
    "campaign_close",
    "campaign_labels_export",
    "campaign_labels_import",
    "campaign_pool",
    "campaign_sample",
]
