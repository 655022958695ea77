"""Who holds which authorization: a user's own permissions and their roles' (groups'), and
every model in the Django admin for administrators.

Roles carry only Orchestra's own authorizations; the admin asks for Django's model
permissions (`auth.change_user`, `runs.view_run`...). AdministratorBackend grants those to
members of the administrator role, and nothing else to anyone.
"""

from django.contrib.auth.backends import BaseBackend, ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q, QuerySet

from orchestra.prepared import prepared
from orchestra.roles import CONNECT_WORKER, is_administrator

ADMIN_APPS = {"auth", "orchestra", "projects", "runs", "workers"}


class PermissionBackend(ModelBackend):
    """Django's ModelBackend, with a user's permissions and their groups' read in one query:
    every service request checks one, and Django's two queries took 4 % of the master's CPU in
    a burst of triggers (bench/README.md)."""

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                return super().get_all_permissions(user_obj, obj)
            user_obj._perm_cache = {
                f"{app_label}.{codename}" for app_label, codename in permissions_of.rows(user_obj.pk)
            }
        return user_obj._perm_cache


@prepared
def permissions_of(user_key: int) -> QuerySet:
    """(app label, codename) of the permissions a user holds, their own and their groups'."""
    return (
        Permission.objects.filter(Q(user=user_key) | Q(group__user=user_key))
        .order_by().values_list("content_type__app_label", "codename")
    )


class AdministratorBackend(BaseBackend):
    def _is_administrator(self, user) -> bool:
        if not hasattr(user, "_orchestra_is_administrator"):
            user._orchestra_is_administrator = is_administrator(user)
        return user._orchestra_is_administrator

    def has_perm(self, user_obj, perm: str, obj=None) -> bool:
        if perm == CONNECT_WORKER or perm.split(".", 1)[0] not in ADMIN_APPS:
            return False
        return self._is_administrator(user_obj)

    def has_module_perms(self, user_obj, app_label: str) -> bool:
        return app_label in ADMIN_APPS and self._is_administrator(user_obj)
