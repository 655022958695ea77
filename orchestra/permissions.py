from rest_framework.permissions import BasePermission

from orchestra.authorization import PUBLIC, user_has_authorization


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def declared_authorization(view, method: str) -> str | None:
    """The authorization a service view declares for a method (None: it declares none)."""
    authorization = getattr(view, "required_authorization", None)
    if authorization and method not in SAFE_METHODS:
        authorization = getattr(view, "write_authorization", None) or authorization
    return authorization


class HasDeclaredAuthorization(BasePermission):
    """Grants a service view only to users holding the authorization the view declares.

    A view may declare one authorization for all methods (`required_authorization`), or
    `write_authorization` for unsafe methods on top of it. A view that declares nothing is
    refused to everyone.
    """

    def has_permission(self, request, view) -> bool:
        authorization = declared_authorization(view, request.method)
        if not authorization:
            return False
        if authorization == PUBLIC:
            return True
        return user_has_authorization(request.user, authorization)
