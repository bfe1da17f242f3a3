from django.urls import path

from teams import views

# Namespaced: the REST API's routers name their routes "bot-list" / "bot-detail" too.
app_name = "teams"

urlpatterns = [
    path("bots/", views.bot_list, name="bot-list"),
    path("bots/<int:bot_id>/", views.bot_detail, name="bot-detail"),
    path("bots/<int:bot_id>/health-check/", views.bot_health_check_now, name="bot-health-check"),
    path("bots/<int:bot_id>/test/", views.bot_test, name="bot-test"),
]
