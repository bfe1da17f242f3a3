from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path

from accounts.forms import QueuedPasswordResetForm, SignInForm
from config.docs import guide_view
from config.health import healthz
from teams import views as team_views


def favicon(request: HttpRequest) -> HttpResponse:
    """The site's icon; its static URL is looked up per request (the manifest exists after collectstatic)."""
    return redirect(static("arena/favicon.svg"), permanent=True)


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages that name no icon (the API's and DRF's, say).
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(authentication_form=SignInForm), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("docs/bot-protocol/", guide_view("bot-protocol"), name="guide-bot-protocol"),
    path("docs/api/", guide_view("api"), name="guide-api"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path(
        "accounts/password/reset/",
        auth_views.PasswordResetView.as_view(form_class=QueuedPasswordResetForm),
        name="password_reset",
    ),
    path("accounts/password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("accounts/", include("accounts.urls")),
    path("account/tokens/", team_views.api_tokens, name="api-tokens"),
    path("", include("conversations.urls")),
    path("", include("competition.urls")),
    path("teams/", include("teams.urls")),
    path("", include("judging.urls")),
    path("api/", include("config.api_urls")),
]

# Under /api/ errors are the API's JSON shape; elsewhere the site's pages (templates/404.html ...).
handler400 = "config.api_errors.bad_request"
handler404 = "config.api_errors.page_not_found"
handler500 = "config.api_errors.server_error"
