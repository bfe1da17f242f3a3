"""Judging's pages on the team site: those of the reading side (judging/reading/urls.py)."""

from django.urls import include, path

urlpatterns = [path("", include("judging.reading.urls"))]
