from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

admin.site.site_header = "Adversarial Arena"
admin.site.site_title = "Adversarial Arena admin"
admin.site.index_title = "Organize competitions"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("conversations.urls")),
    path("", include("competition.urls")),
    path("teams/", include("teams.urls")),
]
