from django.urls import path

from conversations import views

urlpatterns = [
    path("rounds/<int:round_id>/progress/", views.round_progress, name="round-progress"),
]
