"""The accounts' pages: sign-up and verification, invitations, a team's members, notices and the
unsubscribe link. Another team's members page and invitations are a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from accounts import selectors, services
from accounts.forms import InvitationForm, NoticePreferencesForm, SignUpForm
from accounts.mail import unsubscribe_read
from accounts.models import Invitation, NoticeKind
from accounts.notices.services import notice_preference_set
from teams.models import Membership

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignUpForm(request.POST or None)
    if form.is_valid():
        try:
            user = services.account_signup(
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
            )
        except services.AccountError as error:
            form.add_error(None, str(error))
        else:
            return render(request, "accounts/signup_sent.html", {"email": user.email})
    return render(request, "accounts/signup.html", {"form": form}, status=400 if form.errors else 200)


@require_GET
def verify(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed link: the account becomes active and its person is signed in."""
    try:
        user = services.account_verify(token=token)
    except services.AccountError as error:
        return render(request, "accounts/link_invalid.html", {"problem": str(error)}, status=400)
    login(request, user, backend=MODEL_BACKEND)
    messages.success(request, "Your email is confirmed: welcome to Adversarial Arena.")
    return redirect(request.GET.get("next") or "entry-list")


@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """An invitation's link: who invites into which team, and a Join button once signed in."""
    found = services.invitation_for_token(token)
    if found is None:
        return render(
            request,
            "accounts/link_invalid.html",
            {"problem": "This invitation is not valid any more: it was used, withdrawn or has expired."},
            status=404,
        )
    if request.method == "POST" and request.user.is_authenticated:
        try:
            services.invitation_accept(token=token, user=request.user)
        except services.AccountError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"You joined {found.team.name}.")
            return redirect("team-dashboard", slug=found.team.slug)
    return render(request, "accounts/invitation.html", {"invitation": found, "path": request.get_full_path()})


@login_required
@require_http_methods(["GET", "POST"])
def team_members(request: HttpRequest, slug: str) -> HttpResponse:
    """A team's people for its members; owners invite, remove members and hand the ownership over."""
    team = selectors.team_of_member(user=request.user, slug=slug)
    if team is None:
        raise Http404("No team of yours with that name.")
    is_owner = Membership.objects.filter(team=team, user=request.user, role=Membership.Role.OWNER).exists()
    form = InvitationForm(request.POST if request.POST.get("do") == "invite" else None)
    if request.method == "POST":
        if not is_owner:
            return HttpResponse("Only the team's owners can do this.", status=403)
        try:
            done = _members_action(request, team, form)
        except services.AccountError as error:
            messages.error(request, str(error))
        else:
            if done:
                messages.success(request, done)
                return redirect("accounts:team-members", slug=team.slug)
    context = {
        "team": team,
        "is_owner": is_owner,
        "members": selectors.team_members(team=team),
        "invitations": selectors.team_invitations_open(team=team) if is_owner else [],
        "form": form,
    }
    return render(request, "accounts/team_members.html", context, status=400 if form.errors else 200)


def _members_action(request: HttpRequest, team, form: InvitationForm) -> str:
    action = request.POST.get("do")
    if action == "invite":
        if not form.is_valid():
            return ""
        invitation = services.invitation_create(team=team, email=form.cleaned_data["email"], invited_by=request.user)
        return f"Invitation sent to {invitation.email}."
    if action == "revoke":
        invitation = get_object_or_404(Invitation, pk=request.POST.get("invitation"), team=team)
        services.invitation_revoke(invitation=invitation, user=request.user)
        return f"The invitation of {invitation.email} is withdrawn."
    member = get_object_or_404(get_user_model(), pk=request.POST.get("user"), memberships__team=team)
    if action == "remove":
        services.member_remove(team=team, member=member, by=request.user)
        return f"{member.get_username()} is no longer on {team.name}."
    if action == "hand-over":
        services.ownership_hand_over(team=team, to=member, by=request.user)
        return f"{member.get_username()} owns {team.name} now."
    raise services.AccountError("Unknown action.")


@login_required
@require_http_methods(["GET", "POST"])
def notices(request: HttpRequest) -> HttpResponse:
    """The person's notices and which kinds also come by email."""
    form = NoticePreferencesForm(request.POST or None, wanted=selectors.kinds_by_email(user=request.user))
    if request.method == "POST" and form.is_valid():
        for kind in NoticeKind.values:
            notice_preference_set(user=request.user, kind=kind, email=form.cleaned_data[kind])
        messages.success(request, "Your email choices are saved.")
        return redirect("accounts:notices")
    return render(
        request,
        "accounts/notices.html",
        {"notices": selectors.notices_of(user=request.user)[:200], "form": form},
    )


@csrf_exempt  # RFC 8058 one-click: the mail client POSTs without a session; the signed token is the proof
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """A mail's unsubscribe link: GET asks to confirm (mail scanners follow links), POST turns that
    kind of notice off by email for the person the token was made for."""
    try:
        user_id, kind = unsubscribe_read(token)
    except signing.BadSignature:
        return render(request, "accounts/link_invalid.html", {"problem": "This link is not valid."}, status=400)
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None or kind not in NoticeKind.values:
        return render(request, "accounts/link_invalid.html", {"problem": "This link is not valid."}, status=400)
    label = NoticeKind(kind).label
    if request.method == "POST":
        notice_preference_set(user=user, kind=kind, email=False)
        return render(request, "accounts/unsubscribed.html", {"label": label, "done": True})
    return render(
        request,
        "accounts/unsubscribed.html",
        {"label": label, "done": False, "action": reverse("accounts:unsubscribe", args=[token])},
    )
