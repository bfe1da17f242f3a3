"""``manage.py shell`` with the models that can be imported by name only.

django-simple-history makes the annotation campaign's historical models (and the tables of its
many-to-many fields) in a module that does not hold them as attributes, so Django's auto-import
reported "3 objects could not be automatically imported" on every call. They stay reachable as
``AnnotationCampaign.history.model``.
"""

from __future__ import annotations

import importlib

from django.core.management.commands.shell import Command as DjangoShellCommand


def _importable(path: str) -> bool:
    module, _, name = path.rpartition(".")
    try:
        return hasattr(importlib.import_module(module), name)
    except ImportError:
        return False


class Command(DjangoShellCommand):
    def get_auto_imports(self) -> list[str]:
        return [path for path in super().get_auto_imports() if _importable(path)]
