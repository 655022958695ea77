"""Every route declares the authorization it needs; nothing is reachable without one.

Website views use the `requires` decorator, service views the `required_authorization`
attribute checked by `HasDeclaredAuthorization`. The authorization matrix test reads both.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

# For routes anyone may reach (the login page, static files).
PUBLIC = "public"
# For routes any logged-in user may reach (their own profile, logout).
AUTHENTICATED = "authenticated"
# For the one route that authenticates each request itself, by a signature of its body under a
# shared secret, not by a token: a hook's deliveries (projects.api.ReceiveHook).
SIGNED = "signed"


def user_has_authorization(user, authorization: str) -> bool:
    if authorization == PUBLIC:
        return True
    if not (user and user.is_authenticated and user.is_active):
        return False
    if authorization == AUTHENTICATED:
        return True
    return user.has_perm(authorization)


def requires(authorization: str):
    """Decorate a website view: anonymous users go to the login page, others get 403."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if authorization != PUBLIC and not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user_has_authorization(request.user, authorization):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.required_authorization = authorization
        return wrapper

    return decorator


def declared_authorization(callback) -> str | None:
    """The authorization a resolved URL callback declares, or None when it declares none."""
    declared = getattr(callback, "required_authorization", None)
    if declared:
        return declared
    site = admin_site_of(callback)
    if site is not None:
        return getattr(site, "required_authorization", None)
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view_class is not None:
        return getattr(view_class, "required_authorization", None)
    return None


def admin_site_of(callback):
    """The admin site serving a URL callback, or None when it is not an admin view.

    Admin views are wrapped (AdminSite.admin_view, ModelAdmin.get_urls) around bound methods of
    the site or of a ModelAdmin; the wrappers keep the wrapped view in `__wrapped__`.
    """
    from django.contrib.admin import AdminSite

    view = callback
    while view is not None:
        owner = getattr(view, "__self__", None)
        model_admin = getattr(view, "model_admin", None) or getattr(owner, "admin_site", None) and owner
        site = (
            getattr(view, "admin_site", None)
            or getattr(model_admin, "admin_site", None)
            or (owner if isinstance(owner, AdminSite) else None)
        )
        if site is not None:
            return site
        view = getattr(view, "__wrapped__", None)
    return None
