"""Django admin actions that enable or disable through the state-change functions.

Going through `set_job_enabled` and friends (not a field edit) writes the audit record, so a
change made in the admin is as visible as one made on the website or through the service.
"""

from django.contrib import admin, messages

from orchestra.actions import ChangeRefused
from orchestra.audit import Actor


def enable_disable_actions(setter, noun: str) -> list:
    """Two admin actions calling `setter(instance, enabled, actor)` for each selected row."""

    def make(enabled: bool):
        verb = "enable" if enabled else "disable"

        @admin.action(description=f"{verb.capitalize()} selected {noun}s")
        def action(modeladmin, request, queryset):
            actor = Actor.from_request(request)
            done = 0
            for instance in queryset:
                try:
                    setter(instance, enabled, actor)
                except ChangeRefused as refusal:
                    modeladmin.message_user(request, str(refusal), messages.ERROR)
                else:
                    done += 1
            modeladmin.message_user(request, f"{done} {noun}(s) {verb}d.", messages.SUCCESS)

        action.__name__ = f"{verb}_selected"
        return action

    return [make(True), make(False)]
