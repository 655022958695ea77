"""The Django admin, for administrators only, logged in through Orchestra's own login page."""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect

from orchestra import audit
from orchestra.actions import set_user_enabled
from orchestra.admin_actions import enable_disable_actions
from orchestra.audit import Actor
from orchestra.authorization import PUBLIC
from orchestra.models import AuditEvent, Token
from orchestra.roles import is_administrator

ADMINISTRATOR_ONLY = "orchestra.manage_users"


class OrchestraAdminSite(admin.AdminSite):
    site_header = "Orchestra administration"
    site_title = "Orchestra admin"
    # The matrix test reads this: every admin route needs the administrator role.
    required_authorization = ADMINISTRATOR_ONLY

    def has_permission(self, request) -> bool:
        return is_administrator(request.user)

    # Both only send to the website's own pages, to anyone.
    def login(self, request, extra_context=None):
        return redirect_to_login(request.GET.get("next", "/admin/"), login_url="/login/")

    login.required_authorization = PUBLIC

    def logout(self, request, extra_context=None):
        return redirect("/logout/")

    logout.required_authorization = PUBLIC


admin_site = OrchestraAdminSite(name="admin")


class AuditedChanges:
    """Saving and deleting through the admin are audited like changes made on the website."""

    audit_noun = ""

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if change and not form.changed_data:
            return
        action = f"{self.audit_noun}.{'change' if change else 'create'}"
        audit.record(Actor.from_request(request), action, str(obj), fields=sorted(form.changed_data))

    def delete_model(self, request, obj) -> None:
        target = str(obj)
        super().delete_model(request, obj)
        audit.record(Actor.from_request(request), f"{self.audit_noun}.delete", target)

    def delete_queryset(self, request, queryset) -> None:
        targets = [str(obj) for obj in queryset]
        super().delete_queryset(request, queryset)
        for target in targets:
            audit.record(Actor.from_request(request), f"{self.audit_noun}.delete", target)


@admin.register(Token, site=admin_site)
class TokenAdmin(AuditedChanges, admin.ModelAdmin):
    audit_noun = "token"
    list_display = ["user", "kind", "description", "created", "expires", "last_used", "revoked"]
    list_filter = ["kind", "revoked", "created"]
    search_fields = ["user__username", "description"]
    readonly_fields = ["digest", "created", "last_refresh", "last_used"]

    def has_add_permission(self, request) -> bool:
        # A token's value must be shown once to its owner: the profile page does that.
        return False


@admin.register(AuditEvent, site=admin_site)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created", "actor_name", "action", "target", "address"]
    list_filter = ["action", "created"]
    search_fields = ["actor_name", "target"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class OrchestraUserAdmin(AuditedChanges, UserAdmin):
    audit_noun = "user"
    # Enabling and disabling through set_user_enabled writes the audit record.
    actions = enable_disable_actions(set_user_enabled, "user")


admin_site.register(User, OrchestraUserAdmin)
class OrchestraGroupAdmin(AuditedChanges, GroupAdmin):
    audit_noun = "role"


admin_site.register(Group, OrchestraGroupAdmin)
