"""Administrators may change every model in the Django admin, whatever their groups hold.

Roles carry only Orchestra's own authorizations; the admin asks for Django's model
permissions (`auth.change_user`, `runs.view_run`...). This backend grants those to members of
the administrator role, and nothing else to anyone.
"""

from django.contrib.auth.backends import BaseBackend

from orchestra.roles import CONNECT_WORKER, is_administrator

ADMIN_APPS = {"auth", "orchestra", "projects", "runs", "workers"}


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
