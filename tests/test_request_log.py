"""A refused permission is logged in one quiet line (config/request_log.py), other failures as before."""

from __future__ import annotations

import logging

import pytest

from judging.models import ExportJob
from tests.test_permissions import admin_url


def request_records(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "django.request"]


def test_it_logs_a_refused_admin_page_in_one_line_at_info_without_a_traceback(client, arena, caplog):
    client.force_login(arena.annie)  # an annotator: no export jobs
    with caplog.at_level(logging.INFO, logger="django.request"):
        response = client.get(admin_url(ExportJob, "changelist"))

    [record] = request_records(caplog)
    assert response.status_code == 403
    assert (record.levelno, record.exc_info, record.exc_text) == (logging.INFO, None, None)
    assert record.getMessage() == "Forbidden (Permission denied): /admin/judging/exportjob/"


def test_it_logs_no_refusal_where_the_log_keeps_warnings_only(client, arena, caplog):
    client.force_login(arena.annie)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get(admin_url(ExportJob, "changelist")).status_code == 403

    assert request_records(caplog) == []


@pytest.mark.django_db
def test_it_keeps_a_page_not_found_a_warning(client, caplog):
    with caplog.at_level(logging.INFO, logger="django.request"):
        assert client.get("/no-such-page/").status_code == 404

    [record] = request_records(caplog)
    assert record.levelno == logging.WARNING
