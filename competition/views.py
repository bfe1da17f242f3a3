from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from competition import selectors


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "competition/home.html", {"competitions": selectors.competition_list_public()})
