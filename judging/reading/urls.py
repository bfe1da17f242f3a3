from django.urls import path

from judging.reading import views

urlpatterns = [
    path("conversations/", views.team_conversation_list, name="team-conversations"),
    path("conversations/<uuid:uuid>/", views.team_conversation_detail, name="team-conversation"),
]
