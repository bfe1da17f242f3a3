"""The dataset shapes as django-import-export resources and formats, for the admin's export actions.

A resource turns a selection of conversations into a tablib Dataset whose cells keep their Python
types (rows from shapes.py, the same functions the streaming exports use); the formats below render
it with writer.py's cell rules: JSON and JSONL keep text and types exactly, CSV and XLSX neutralise
formula cells. tablib's own CSV/XLSX would write lists as Python reprs and import-export's
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT strips only a leading "=" (design.md), hence these formats.

The admin path builds the whole selection in memory: it is meant for selections, not for a whole
competition (use an export job or `manage.py export_dataset`, which stream).
"""

from __future__ import annotations

import tablib
from django.conf import settings
from django.db.models import QuerySet
from import_export import fields, resources
from import_export.formats.base_formats import Format

from conversations.models import Conversation
from judging.datasets import shapes
from judging.datasets.filters import SHAPE_FORMATS
from judging.datasets.pairs import PairFinder, pair_records
from judging.datasets.records import records_of
from judging.datasets.split import split_of
from judging.datasets.writer import EXTENSIONS, rows_render

# A selection exported from the admin is one split, train: splitting a hand-picked selection would
# only part pairs of replies (pairs stay within a split); export jobs split.
SELECTION_SPLIT = (1.0, 0.0, 0.0)


def selection_rows(shape: str, conversations: QuerySet, *, anonymous: bool) -> list[dict]:
    """The rows of `shape` for a selection of conversations, all in the train split."""
    ratios, seed = SELECTION_SPLIT, 0
    ids = list(conversations.order_by("pk").values_list("pk", flat=True))
    rows: list[dict] = []
    finder = PairFinder() if shape == "preference" else None
    for record in records_of(ids, anonymous=anonymous, with_verdicts=shape == "turns"):
        split = split_of(record.uuid, ratios=ratios, seed=seed)
        rows += shapes.record_rows(shape, record, split=split)
        if finder is not None:
            finder.add(record, split=split)
    if finder is not None:
        for split, unsafe, index, safe, safe_index in pair_records(finder.pairs(), anonymous=anonymous):
            rows.append(shapes.pair_row(shape, unsafe, index, safe, safe_index, split=split))
    return rows


class ShapeResource(resources.Resource):
    """One dataset shape over a queryset of conversations."""

    shape = ""

    @classmethod
    def get_display_name(cls) -> str:
        return f"{cls.shape} ({', '.join(SHAPE_FORMATS[cls.shape])})"

    def export(self, queryset=None, **kwargs) -> tablib.Dataset:
        columns = shapes.COLUMNS[self.shape]
        selected = kwargs.get("export_fields")
        if selected:
            columns = tuple(column for column in columns if column in selected)
        dataset = tablib.Dataset(headers=list(columns), title=self.shape)
        if queryset is None:
            # import-export's own convention: no queryset means every row of the resource.
            queryset = Conversation.objects.all()
        for row in selection_rows(self.shape, queryset, anonymous=settings.ARENA_DATASET_ANONYMOUS):
            dataset.append([row.get(column) for column in columns])
        return dataset


def _resource(shape: str) -> type[ShapeResource]:
    attributes = {column: fields.Field(attribute=column, column_name=column) for column in shapes.COLUMNS[shape]}
    attributes["shape"] = shape
    return type(f"{shape.title()}ShapeResource", (ShapeResource,), attributes)


ConversationShapeResource = _resource("conversations")
TurnShapeResource = _resource("turns")
ChatShapeResource = _resource("chat")
PreferenceShapeResource = _resource("preference")
SHAPE_RESOURCES = [ConversationShapeResource, TurnShapeResource, ChatShapeResource, PreferenceShapeResource]


class DatasetFormat(Format):
    """A file format of the dataset shapes; refuses a shape it does not hold (a clear admin message)."""

    name = ""
    content_type = "application/octet-stream"

    def get_title(self) -> str:
        return self.name

    def export_data(self, dataset: tablib.Dataset, **kwargs):
        shape = dataset.title
        if self.name not in SHAPE_FORMATS.get(shape, ()):
            raise ValueError(f"The {shape} shape is written as {', '.join(SHAPE_FORMATS[shape])}, not {self.name}.")
        columns = tuple(dataset.headers)
        data = rows_render([dict(zip(columns, row, strict=True)) for row in dataset], format=self.name, columns=columns)
        return data if self.is_binary() else data.decode("utf-8")

    def is_binary(self) -> bool:
        return self.name == "xlsx"

    def get_read_mode(self) -> str:
        return "rb" if self.is_binary() else "r"

    def get_extension(self) -> str:
        return EXTENSIONS[self.name]

    def get_content_type(self) -> str:
        return self.content_type

    def can_export(self) -> bool:
        return True

    def can_import(self) -> bool:
        return False


class DatasetCSV(DatasetFormat):
    name = "csv"
    content_type = "text/csv"


class DatasetJSON(DatasetFormat):
    name = "json"
    content_type = "application/json"


class DatasetJSONL(DatasetFormat):
    name = "jsonl"
    content_type = "application/jsonl"


class DatasetXLSX(DatasetFormat):
    name = "xlsx"
    content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


DATASET_FORMATS = [DatasetJSONL, DatasetJSON, DatasetCSV, DatasetXLSX]
