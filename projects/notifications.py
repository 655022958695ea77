"""Validation of the notifications a project or a job declares (`Webhook`, `Email`) into the
plain data stored with it (Project.notifications, Job.notifications).

What a notification needs from the master is checked at start too, so that a master that
could never deliver one does not start: the public address of the run pages
(ORCHESTRA_PUBLIC_URL), the webhook's secret in its environment variable, and an SMTP host
for e-mail (ORCHESTRA_EMAIL_HOST). The secret itself is never stored: the master that sends
reads it (`runs.notification_delivery`).
"""

import os
from typing import Any, Protocol

from django.conf import settings

from orchestra.values import InvalidValue, check_email_address, check_environment_name, check_http_url
from projects.definitions import Email, Webhook
from runs.notifications import ON_CHOICES

# The lengths of the database columns these go to (runs.models.NotificationDelivery).
MAX_URL_LENGTH = 2000
MAX_RECIPIENTS = 50


class Errors(Protocol):
    def add(self, where: str, field_name: str, message: str) -> None: ...


def normalize_notifications(errors: Errors, where: str, notifications: Any) -> list[dict]:
    """Plain data for each notification; every problem is added to `errors`, naming `where`
    and the field (`notifications[0].url`)."""
    if not isinstance(notifications, (list, tuple)):
        errors.add(where, "notifications", "must be a list of Webhook or Email")
        return []
    normalized = []
    for index, notification in enumerate(notifications):
        name = f"notifications[{index}]"
        if isinstance(notification, Webhook):
            declared = _webhook(errors, where, name, notification)
        elif isinstance(notification, Email):
            declared = _email(errors, where, name, notification)
        else:
            errors.add(where, name, f"must be a Webhook or an Email, got {type(notification).__name__}")
            continue
        if notification.on not in ON_CHOICES:
            errors.add(where, f"{name}.on", f"must be one of {', '.join(map(repr, ON_CHOICES))}")
        if not settings.PUBLIC_URL:
            errors.add(where, name, "notifications link to the run's page: set ORCHESTRA_PUBLIC_URL")
        normalized.append({**declared, "on": notification.on})
    return normalized


def _webhook(errors: Errors, where: str, name: str, webhook: Webhook) -> dict:
    url = webhook.url
    try:
        check_http_url(url, f"{name}.url", max_length=MAX_URL_LENGTH)
    except InvalidValue as error:
        errors.add(where, error.field, error.message)
    variable = webhook.secret_variable
    try:
        check_environment_name(variable, f"{name}.secret_variable")
    except InvalidValue as error:
        errors.add(where, error.field, error.message)
    else:
        if not os.environ.get(variable):
            errors.add(where, f"{name}.secret_variable",
                       f"the environment variable {variable} that holds the secret is not set")
    return {"kind": "webhook", "url": url, "secret_variable": variable}


def _email(errors: Errors, where: str, name: str, email: Email) -> dict:
    recipients = [email.to] if isinstance(email.to, str) else email.to
    if not isinstance(recipients, (list, tuple)) or not 0 < len(recipients) <= MAX_RECIPIENTS:
        errors.add(where, f"{name}.to", f"must be a list of 1 to {MAX_RECIPIENTS} e-mail addresses")
        recipients = []
    for index, address in enumerate(recipients):
        try:
            check_email_address(address, f"{name}.to[{index}]")
        except InvalidValue as error:
            errors.add(where, error.field, error.message)
    if not settings.EMAIL_HOST:
        errors.add(where, name, "e-mail is sent through an SMTP server: set ORCHESTRA_EMAIL_HOST")
    return {"kind": "email", "to": list(recipients)}
