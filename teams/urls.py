from django.urls import path

from teams import views

# Namespaced: the REST API's routers name their routes "bot-list" / "bot-detail" too.
app_name = "teams"

urlpatterns = [
    path("bots/", views.bot_list, name="bot-list"),
    path("bots/<int:bot_id>/", views.bot_detail, name="bot-detail"),
    path("bots/<int:bot_id>/health-check/", views.bot_health_check_now, name="bot-health-check"),
    path("bots/<int:bot_id>/test/", views.bot_test, name="bot-test"),
    path("bots/new/", views.bot_register, name="bot-register"),
    path("bots/<int:bot_id>/edit/", views.bot_edit, name="bot-edit"),
    path("bots/<int:bot_id>/rotate-secret/", views.bot_secret_rotate_view, name="bot-rotate-secret"),
    path("bots/<int:bot_id>/finish-rotation/", views.bot_rotation_finish_view, name="bot-finish-rotation"),
]
