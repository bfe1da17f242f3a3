"""Guards for django-import-export's admin views: bad addresses get a message, never a 500.

- The export view builds the changelist from the address's filters; a filter value the changelist
  refuses (``?side=nonsense``) raised IncorrectLookupParameters (a 500). It now goes back to the list
  with a message, as the list itself does.
- The import's confirm step names the uploaded file kept between the two steps
  (``import_file_name``, a path under the system's temporary folder). A name that is not such a
  file (gone after a first confirm, made up, or a path elsewhere) raised FileNotFoundError, or read
  another file. It now goes back to the import form with a message.
"""

from __future__ import annotations

import os
import tempfile

from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse


def _kept_upload(name: str) -> bool:
    """Whether ``name`` is an upload import-export's TempFolderStorage kept: a file directly in the temporary folder."""
    if not name or "\x00" in name:
        return False
    folder = os.path.realpath(tempfile.gettempdir())
    path = os.path.realpath(os.path.join(folder, name))
    return os.path.dirname(path) == folder and os.path.basename(path).startswith("tmp") and os.path.isfile(path)


class GuardedImportExportMixin:
    """Put before import-export's admin mixins in a ModelAdmin's bases."""

    def _admin_url(self, view: str) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_{view}")

    def export_action(self, request: HttpRequest) -> HttpResponse:
        try:
            return super().export_action(request)
        except IncorrectLookupParameters:
            messages.error(request, "The address holds a filter this list does not offer; nothing was exported.")
            return HttpResponseRedirect(self._admin_url("changelist"))

    def process_import(self, request: HttpRequest, **kwargs) -> HttpResponse:
        if request.method == "POST" and not _kept_upload(request.POST.get("import_file_name", "")):
            if not self.has_import_permission(request):
                raise PermissionDenied
            messages.error(
                request,
                "The uploaded file is no longer there (already imported, or the step came too late): upload it again.",
            )
            return HttpResponseRedirect(self._admin_url("import"))
        return super().process_import(request, **kwargs)
