from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("verify/<str:token>/", views.verify, name="verify"),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
    path("notices/", views.notices, name="notices"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("teams/<slug:slug>/members/", views.team_members, name="team-members"),
]
