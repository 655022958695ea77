from rest_framework.permissions import BasePermission

from orchestra.authorization import PUBLIC, user_has_authorization


class HasDeclaredAuthorization(BasePermission):
    """Grants a service view only to users holding the authorization the view declares.

    A view may declare one authorization for all methods (`required_authorization`), or
    `write_authorization` for unsafe methods on top of it. A view that declares nothing is
    refused to everyone.
    """

    def has_permission(self, request, view) -> bool:
        authorization = getattr(view, "required_authorization", None)
        if not authorization:
            return False
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            authorization = getattr(view, "write_authorization", None) or authorization
        if authorization == PUBLIC:
            return True
        return user_has_authorization(request.user, authorization)
