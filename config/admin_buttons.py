"""Buttons on an object's own admin page that move it through its life (Start, Publish, Build ...).

A bulk action acts on rows ticked in the list; these act on the object whose page is open. Each
button is a small POST form (with Django's CSRF token) in the page's object tools, shown only while
its move is possible for the object as it is and the person holds the permission it needs. The
button's view checks the permission again (403 without it), answers a GET with 405, and calls the
admin's method named by the button, which calls the same service as the bulk action and says what
happened, or shows the service's refusal, as an admin message; then it goes back to the page. A
move that cannot be undone asks first, on a page of its own (``confirm``).

Whether a move is possible is only a display: the service decides, so a page left open while the
object moved on gets the service's refusal, never a second move.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse


@dataclass(frozen=True)
class ObjectButton:
    """One button of an object's page.

    ``name`` is its part of the address (``<object id>/move/<name>/``); ``run`` names the admin's
    method ``(request, obj) -> None`` that makes the move; ``shown(obj)`` says whether the move is
    possible now; ``permission`` is the admin's ``has_<permission>_permission`` it needs;
    ``confirm``, when set, is the question asked on a page of its own before the move.
    """

    name: str
    label: str
    run: str
    shown: Callable[[Any], bool]
    permission: str = "change"
    confirm: str = ""


class ObjectButtonsMixin:
    """Put before ModelAdmin in the bases and list the page's buttons in ``object_buttons``.

    The change page gets a template that draws them (admin/object_buttons/change_form.html); an
    admin with a change form template of its own extends that one instead.
    """

    object_buttons: tuple[ObjectButton, ...] = ()
    change_form_template = "admin/object_buttons/change_form.html"
    object_button_confirm_template = "admin/object_buttons/confirm.html"

    def get_urls(self) -> list[URLPattern]:
        name = f"{self.opts.app_label}_{self.opts.model_name}_move"
        view = self.admin_site.admin_view(self.object_button_view)
        return [path("<path:object_id>/move/<slug:button>/", view, name=name), *super().get_urls()]

    def object_button_allowed(self, request: HttpRequest, obj: Any, button: ObjectButton) -> bool:
        return getattr(self, f"has_{button.permission}_permission")(request, obj)

    def object_buttons_shown(self, request: HttpRequest, obj: Any) -> list[dict[str, str]]:
        """The buttons to draw on obj's page: possible now and allowed to this person, with their addresses."""
        if obj is None or obj.pk is None:
            return []
        return [
            {"label": button.label, "name": button.name, "url": self._object_button_url(obj, button)}
            for button in self.object_buttons
            if button.shown(obj) and self.object_button_allowed(request, obj, button)
        ]

    def render_change_form(self, request: HttpRequest, context: dict, *args: Any, **kwargs: Any) -> HttpResponse:
        context["object_buttons"] = self.object_buttons_shown(request, kwargs.get("obj"))
        return super().render_change_form(request, context, *args, **kwargs)

    def object_button_view(self, request: HttpRequest, object_id: str, button: str) -> HttpResponse:
        chosen = next((b for b in self.object_buttons if b.name == button), None)
        if chosen is None:
            raise Http404("No such button")
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404(f"No {self.opts.verbose_name} with this id")
        if not self.object_button_allowed(request, obj, chosen):
            raise PermissionDenied
        if chosen.confirm and request.POST.get("confirm") != "yes":
            return self.object_button_confirm(request, obj, chosen)
        getattr(self, chosen.run)(request, obj)
        return HttpResponseRedirect(self._change_url(obj))

    def object_button_confirm(self, request: HttpRequest, obj: Any, button: ObjectButton) -> HttpResponse:
        """The page that asks ``button.confirm`` before the move; an admin may add to its context
        (``object_button_confirm_context``), e.g. what publishing will show."""
        context = {
            **self.admin_site.each_context(request),
            "title": f"{button.label}: {obj}",
            "opts": self.opts,
            "object": obj,
            "button": button,
            "question": button.confirm,
            "action_url": self._object_button_url(obj, button),
            "change_url": self._change_url(obj),
            **self.object_button_confirm_context(request, obj, button),
        }
        return TemplateResponse(request, self.object_button_confirm_template, context)

    def object_button_confirm_context(self, request: HttpRequest, obj: Any, button: ObjectButton) -> dict[str, Any]:
        return {}

    def _object_button_url(self, obj: Any, button: ObjectButton) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_move", args=[quote(obj.pk), button.name])

    def _change_url(self, obj: Any) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[quote(obj.pk)])
