"""The admin of judging: judges (judges.py), their verdicts and the final labels (labels.py), human
annotations (annotations.py); the annotation campaigns, the annotator's queue and adjudication are
judging/annotation/admin/. Importing this package registers them all.
"""

from judging.admin import annotations, judges, labels

# Annotation campaigns, the annotator's queue and adjudication (their own modules, registered here).
from judging.annotation import admin as annotation_admin

__all__ = ["annotation_admin", "annotations", "judges", "labels"]
