"""The REST API's page numbers, with the schema stating what they take.

DRF documents ``page`` as any integer, so ``?page=0`` looked valid and was a 404; the schema says a
page counts from 1, and config/api_query.py answers a smaller one with a 400 naming it. A page past
the last stays a 404 (DRF's "Invalid page."): the schema cannot know how many there are.
"""

from __future__ import annotations

from rest_framework.pagination import PageNumberPagination


def minimum_set(parameters: list[dict], *, name: str, minimum: int) -> list[dict]:
    """``parameters`` (OpenAPI parameter objects) with ``minimum`` added to the schema of the one named ``name``."""
    for parameter in parameters:
        if parameter["name"] == name:
            parameter["schema"] = {**parameter["schema"], "minimum": minimum}
    return parameters


class PageNumbers(PageNumberPagination):
    """DRF's page numbers (settings.REST_FRAMEWORK's pagination), documented from 1."""

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return minimum_set(super().get_schema_operation_parameters(view), name=self.page_query_param, minimum=1)
