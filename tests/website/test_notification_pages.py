"""The run page shows the notifications of the run's end and every attempt's outcome; the job
page, who is told when its runs end."""

import pytest
from django.utils import timezone

from runs.models import NotificationAttempt, NotificationDelivery
from tests.website.conftest import XSS

pytestmark = pytest.mark.django_db


def test_the_run_page_shows_each_notification_and_its_attempts(viewer_client, populated):
    run = populated["runs"]["failed"]
    now = timezone.now()
    hook = NotificationDelivery.objects.create(
        run=run, kind="webhook", target="https://hooks.example.com/secret-path", payload={},
        state="delivered", next_attempt=now,
    )
    for number, succeeded, code, error in [(1, False, 500, f"answered {XSS}"), (2, True, 204, "")]:
        NotificationAttempt.objects.create(delivery=hook, number=number, started=now,
                                           finished=now, master="m:1", succeeded=succeeded,
                                           status_code=code, error=error)
    NotificationDelivery.objects.create(run=run, kind="email", target="ops@example.com",
                                        payload={}, next_attempt=now)

    page = viewer_client.get(f"/runs/{run.identifier}/").content.decode()
    section = page[page.index("<h2>Notifications</h2>"):]
    assert "webhook https://hooks.example.com/…" in section and "secret-path" not in page
    assert "#1 " in section and "failed (500): answered &lt;script&gt;" in section
    assert "#2 " in section and "delivered (204)" in section
    assert "email ops@example.com" in section and "none yet" in section
    assert XSS not in page


def test_a_run_without_notifications_has_no_such_section(viewer_client, populated):
    page = viewer_client.get(f"/runs/{populated['runs']['succeeded'].identifier}/").content.decode()
    assert "Notifications" not in page


def test_the_job_page_says_who_is_told_when_its_runs_end(viewer_client, populated):
    echo = populated["echo"]
    echo.project.notifications = [{"kind": "email", "to": ["ops@example.com"], "on": "changes"}]
    echo.project.save()
    echo.notifications = [{"kind": "webhook", "url": "https://hooks.example.com/T0/secret-path",
                           "secret_variable": "HOOK", "on": "failures"}]
    echo.save()
    page = viewer_client.get("/projects/examples/jobs/echo/").content.decode()
    assert "email to ops@example.com on status changes (the project's)" in page
    assert "webhook to https://hooks.example.com/… on failures (the job's)" in page
    assert "secret-path" not in page and "HOOK" not in page
