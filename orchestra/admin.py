"""The Django admin, for administrators only, logged in through Orchestra's own login page."""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Group, User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.shortcuts import redirect

from orchestra import audit
from orchestra.actions import do_delete_user, do_set_user_roles, self_lockout, set_user_enabled
from orchestra.admin_actions import enable_disable_actions
from orchestra.audit import Actor
from orchestra.authorization import PUBLIC
from orchestra.database import atomic
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

    def audited_fields(self, form) -> list[str]:
        """The changed fields this record lists (not those an action records on its own)."""
        return sorted(form.changed_data)

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        fields = self.audited_fields(form)
        if change and not fields:
            return
        action = f"{self.audit_noun}.{'change' if change else 'create'}"
        audit.record(Actor.from_request(request), action, str(obj), fields=fields)

    def delete_model(self, request, obj) -> None:
        target = str(obj)
        super().delete_model(request, obj)
        audit.record(Actor.from_request(request), f"{self.audit_noun}.delete", target)

    def delete_queryset(self, request, queryset) -> None:
        # The admin's bulk delete runs outside any transaction; the records must go with it.
        with atomic():
            objects = list(queryset)
            # By key: the admin's list joins other tables, and MongoDB deletes from one alone.
            super().delete_queryset(
                request, queryset.model.objects.filter(pk__in=[obj.pk for obj in objects])
            )
            for target in map(str, objects):
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


class UserForm(UserChangeForm):
    """The admin's user form: a change that would lock its actor out is an error on the form.

    The actions refuse it too (orchestra/actions.py), but only the form can say so next to
    the fields instead of failing the request.
    """

    actor: Actor = audit.SYSTEM  # the admin sets the requesting administrator

    def clean(self) -> dict:
        cleaned = super().clean()
        reason = ""
        if "is_active" in self.changed_data and not cleaned.get("is_active"):
            reason = self_lockout(self.instance, self.actor)
        if not reason and "groups" in self.changed_data and "groups" in cleaned:
            roles = [group.name for group in cleaned["groups"]]
            reason = self_lockout(self.instance, self.actor, roles)
        if reason:
            raise ValidationError(reason)
        return cleaned


class OrchestraUserAdmin(AuditedChanges, UserAdmin):
    """Enabling, disabling, roles and deletion go through the actions, which write their audit
    records and refuse to lock the administrator out; other fields are saved as usual."""

    audit_noun = "user"
    form = UserForm
    actions = enable_disable_actions(set_user_enabled, "user")

    def get_form(self, request, obj=None, **kwargs):
        # The admin builds the form class for each request: that class carries its actor.
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"actor": Actor.from_request(request)})

    def audited_fields(self, form) -> list[str]:
        recorded_by_actions = ("is_active", "groups")
        return [field for field in super().audited_fields(form) if field not in recorded_by_actions]

    def save_model(self, request, obj, form, change) -> None:
        enabled = obj.is_active
        toggled = change and "is_active" in form.changed_data
        if toggled:
            obj.is_active = not enabled  # saved as it was: set_user_enabled changes it
        super().save_model(request, obj, form, change)
        if toggled:
            set_user_enabled(obj, enabled, Actor.from_request(request))

    def save_related(self, request, form, formsets, change) -> None:
        # Taken out of the form's data so that only do_set_user_roles sets the groups.
        groups = form.cleaned_data.pop("groups", None)
        super().save_related(request, form, formsets, change)
        if groups is not None:
            roles = [group.name for group in groups]
            do_set_user_roles(form.instance, roles, Actor.from_request(request))

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and self_lockout(obj, Actor.from_request(request)):
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj) -> None:
        do_delete_user(obj, Actor.from_request(request))

    def delete_queryset(self, request, queryset) -> None:
        actor = Actor.from_request(request)
        with atomic():
            for user in queryset:
                do_delete_user(user, actor)


admin_site.register(User, OrchestraUserAdmin)


class OrchestraGroupAdmin(AuditedChanges, GroupAdmin):
    audit_noun = "role"


admin_site.register(Group, OrchestraGroupAdmin)
