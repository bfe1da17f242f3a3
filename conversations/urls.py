from django.urls import path

import config.converters  # noqa: F401 - registers <id:...>
from conversations import views

urlpatterns = [
    path("rounds/<id:round_id>/progress/", views.round_progress, name="round-progress"),
]
