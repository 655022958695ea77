"""Website pages of accounts: login, logout, the profile with API tokens, users and audit."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.models import User
from django.contrib.auth.signals import user_logged_in
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from orchestra import audit, roles, throttling
from orchestra.actions import (
    SelfLockout,
    do_change_password,
    do_create_token,
    do_create_user,
    do_delete_user,
    do_revoke_token,
    do_set_user_roles,
    set_user_enabled,
)
from orchestra.audit import Actor
from orchestra.database import with_many_to_many
from orchestra.authorization import AUTHENTICATED, PUBLIC, requires
from orchestra.filters import AuditEventFilter, UserFilter
from orchestra.forms import LoginForm, NewTokenForm, NewUserForm, RolesForm
from orchestra.middleware import set_session_cookie
from orchestra.models import AuditEvent, Token
from orchestra.tokens import create_token, delete_dead_tokens, revoke_token
from orchestra.website import InvalidListQuery, filtered_list

THROTTLED = "Too many failed logins. Wait a few minutes before trying again."
WRONG = "Wrong user name or password."


def bad_request(request, exception) -> HttpResponse:
    """The website's 400 page (Django's handler400): a list's query string the list cannot use
    shows the filter form and what is wrong; any other bad request Django's plain page."""
    if isinstance(exception, InvalidListQuery):
        return render(request, "list_invalid.html", {"listing": exception.listing}, status=400)
    return defaults.bad_request(request, exception)


def wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def safe_next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return target
    return "/"


@requires(PUBLIC)
@never_cache
def login(request):
    """Password login: a new session token in an HttpOnly cookie, or 429 after many failures."""
    form = LoginForm(request.POST or None)
    context = {"form": form, "next": safe_next(request)}
    if request.method != "POST":
        return render(request, "orchestra/login.html", context)
    address = request.META.get("REMOTE_ADDR") or None
    username = request.POST.get("username", "")
    if not throttling.begin_attempt(username, address):
        return throttled(request, context)
    user = None
    if form.is_valid():
        user = authenticate(
            request, username=form.cleaned_data["username"], password=form.cleaned_data["password"]
        )
    if user is None:
        # The same answer whether the user exists, is disabled or typed a wrong password;
        # the attempt's record stays as the failure.
        audit.record(Actor(address=address), "login.failed", username[:300], actor_name=username[:150])
        if wants_json(request):
            return JsonResponse({"error": WRONG}, status=401)
        return render(request, "orchestra/login.html", {**context, "error": WRONG})
    throttling.forget_failures(username)
    response = redirect(context["next"])
    start_session(request, response, user, address)
    return response


def throttled(request, context: dict):
    if wants_json(request):
        response = JsonResponse({"error": THROTTLED}, status=429)
    else:
        response = render(request, "orchestra/login.html", {**context, "error": THROTTLED}, status=429)
    response["Retry-After"] = str(settings.LOGIN_FAILURE_WINDOW)
    return response


def start_session(request, response, user: User, address: str | None) -> None:
    """A new session token for `user`, set as the response's cookie."""
    delete_dead_tokens()  # logins are a periodic enough moment to sweep dead tokens away
    _, value = create_token(user, kind=Token.Kind.SESSION)
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    audit.record(Actor(user=user, address=address), "login", user.get_username())
    set_session_cookie(response, request, value)


@requires(AUTHENTICATED)
@require_POST
def logout(request):
    token = getattr(request, "_orchestra_token", None)
    if token is not None and token.kind == Token.Kind.SESSION:
        revoke_token(token)
        audit.record(Actor.from_request(request), "logout", request.user.get_username())
    response = redirect("/login/")
    response.delete_cookie(settings.SESSION_COOKIE_NAME, samesite="Lax")
    return response


def own_api_tokens(user):
    return Token.objects.filter(user=user, kind=Token.Kind.API, revoked=None).order_by("-created")


def profile_page(request, status: int = 200, **context):
    """The user's own page: roles, API tokens (create, list, revoke), sessions, password."""
    current = getattr(request, "_orchestra_token", None)
    context = {
        "form": NewTokenForm(),
        "password_form": PasswordChangeForm(request.user),
        "tokens": own_api_tokens(request.user),
        "sessions": Token.objects.filter(
            user=request.user, kind=Token.Kind.SESSION, revoked=None
        ).order_by("-last_refresh"),
        "current_session": current.pk if current is not None else None,
        "roles": sorted(request.user.groups.values_list("name", flat=True)),
        **context,
    }
    return render(request, "orchestra/profile.html", context, status=status)


@requires(AUTHENTICATED)
@never_cache  # the page may show a new token's value: no cache may keep it
def profile(request):
    if request.method != "POST":
        return profile_page(request)
    form = NewTokenForm(request.POST)
    if not form.is_valid():
        return profile_page(request, status=400, form=form)
    # Rendered, not redirected: the value is shown this once and kept nowhere.
    _, new_value = do_create_token(
        request.user, form.cleaned_data["description"], Actor.from_request(request)
    )
    return profile_page(request, new_value=new_value)


@requires(AUTHENTICATED)
@require_POST
def change_password(request):
    form = PasswordChangeForm(request.user, request.POST)
    if not form.is_valid():
        return profile_page(request, status=400, password_form=form)
    current = getattr(request, "_orchestra_token", None)
    do_change_password(
        request.user, form.cleaned_data["new_password1"], Actor.from_request(request), keep=current
    )
    messages.success(request, "Password changed; your other sessions were logged out.")
    return redirect("profile")


@requires(AUTHENTICATED)
@require_POST
def revoke_own_token(request, token_id: int):
    """Revoke one of the user's API tokens or sessions (a forgotten browser's, say)."""
    token = get_object_or_404(Token, pk=token_id, user=request.user, revoked=None)
    do_revoke_token(token, Actor.from_request(request))
    return redirect("profile")


@requires(roles.VIEW_USERS)
def user_list(request):
    users = with_many_to_many(User.objects, "groups").order_by("username")
    context = {"listing": filtered_list(request, UserFilter, users), "form": NewUserForm()}
    return render(request, "orchestra/user_list.html", context)


@requires(roles.MANAGE_USERS)
@require_POST
def user_create(request):
    form = NewUserForm(request.POST)
    if not form.is_valid():
        users = with_many_to_many(User.objects, "groups").order_by("username")
        context = {"listing": filtered_list(request, UserFilter, users), "form": form}
        return render(request, "orchestra/user_list.html", context, status=400)
    data = form.cleaned_data
    user = do_create_user(
        data["username"], data["password"] or None, data["roles"], Actor.from_request(request)
    )
    return redirect("user", user.username)


@requires(roles.VIEW_USERS)
def user_detail(request, username: str):
    user = get_object_or_404(with_many_to_many(User.objects, "groups"), username=username)
    user_roles = sorted(group.name for group in user.groups.all())
    context = {
        "subject": user,
        "roles": user_roles,
        "roles_form": RolesForm(initial={"roles": user_roles}),
        "tokens": Token.objects.filter(user=user, revoked=None).order_by("-created"),
        "workers": user.workers.order_by("identifier"),
    }
    return render(request, "orchestra/user_detail.html", context)


def _subject(username: str) -> User:
    return get_object_or_404(User, username=username)


@requires(roles.MANAGE_USERS)
@require_POST
def user_roles(request, username: str):
    form = RolesForm(request.POST)
    if form.is_valid():
        subject, actor = _subject(username), Actor.from_request(request)
        try:
            do_set_user_roles(subject, form.cleaned_data["roles"], actor)
        except SelfLockout as refusal:
            messages.error(request, str(refusal))
    return redirect("user", username)


@requires(roles.MANAGE_USERS)
@require_POST
def user_enable(request, username: str):
    set_user_enabled(_subject(username), True, Actor.from_request(request))
    return redirect("user", username)


@requires(roles.MANAGE_USERS)
@require_POST
def user_disable(request, username: str):
    try:
        set_user_enabled(_subject(username), False, Actor.from_request(request))
    except SelfLockout as refusal:
        messages.error(request, str(refusal))
    return redirect("user", username)


@requires(roles.MANAGE_USERS)
@require_POST
def user_delete(request, username: str):
    try:
        do_delete_user(_subject(username), Actor.from_request(request))
    except SelfLockout as refusal:
        messages.error(request, str(refusal))
        return redirect("user", username)
    return redirect("users")


@requires(roles.MANAGE_USERS)
@require_POST
def user_revoke_token(request, username: str, token_id: int):
    token = get_object_or_404(Token, pk=token_id, user__username=username, revoked=None)
    do_revoke_token(token, Actor.from_request(request))
    return redirect("user", username)


@requires(roles.VIEW_AUDIT)
def audit_log(request):
    listing = filtered_list(request, AuditEventFilter, AuditEvent.objects.order_by("-created", "-id"))
    return render(request, "orchestra/audit.html", {"listing": listing})
