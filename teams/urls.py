from django.urls import path

import config.converters  # noqa: F401 - registers <id:...>
from teams import views

# Namespaced: the REST API's routers name their routes "bot-list" / "bot-detail" too.
app_name = "teams"

urlpatterns = [
    path("bots/", views.bot_list, name="bot-list"),
    path("bots/<id:bot_id>/", views.bot_detail, name="bot-detail"),
    path("bots/<id:bot_id>/health-check/", views.bot_health_check_now, name="bot-health-check"),
    path("bots/<id:bot_id>/test/", views.bot_test, name="bot-test"),
    path("bots/new/", views.bot_register, name="bot-register"),
    path("bots/<id:bot_id>/edit/", views.bot_edit, name="bot-edit"),
    path("bots/<id:bot_id>/rotate-secret/", views.bot_secret_rotate_view, name="bot-rotate-secret"),
    path("bots/<id:bot_id>/finish-rotation/", views.bot_rotation_finish_view, name="bot-finish-rotation"),
]
