"""Issue 13: notifications of failed runs reach a webhook receiver and an SMTP server started
by the test, from real masters and workers: signed, retried, and sent once even when the master
is killed between the run's end and the delivery."""

import json
import time
from email import message_from_bytes

import pytest

from tests.e2e.harness import Orchestra, free_port, poll
from tests.receivers import SMTPReceiver, WebhookReceiver

pytestmark = pytest.mark.e2e

SECRET = "examples webhook secret"
PUBLIC_URL = "https://orchestra.example.com"
MAIL_TO = "ops@example.com"


def notifying(tmp_path, webhook_url: str, **variables) -> Orchestra:
    return Orchestra(tmp_path, env={
        "ORCHESTRA_EXAMPLES_WEBHOOK_URL": webhook_url,
        "ORCHESTRA_EXAMPLES_WEBHOOK_SECRET": SECRET,
        "ORCHESTRA_PUBLIC_URL": PUBLIC_URL,
        "ORCHESTRA_NOTIFICATION_RETRY_DELAY": "1",
        **variables,
    })


def test_a_failed_run_is_told_to_the_webhook_signed_at_the_third_try_and_mailed(tmp_path):
    with WebhookReceiver(answers=[500, 500]) as receiver, SMTPReceiver() as smtp:
        orchestra = notifying(
            tmp_path, receiver.url, ORCHESTRA_CONFIGURATION="tests.e2e.notification_configuration",
            ORCHESTRA_TEST_MAIL_TO=MAIL_TO, ORCHESTRA_EMAIL_HOST="127.0.0.1",
            ORCHESTRA_EMAIL_PORT=str(smtp.port), ORCHESTRA_EMAIL_FROM="orchestra@example.com",
        )
        try:
            orchestra.start_master()
            orchestra.start_worker("w")
            succeeded = orchestra.trigger("examples", "hello")["identifier"]
            assert orchestra.wait_for_run(succeeded)["status"] == "succeeded"
            failed = orchestra.wait_for_run(orchestra.trigger("examples", "fail")["identifier"])
            assert failed["status"] == "failed"

            poll(lambda: len(receiver.deliveries()) >= 3, 60,
                 lambda: f"the webhook got {len(receiver.deliveries())} of 3 attempts")
            poll(lambda: smtp.messages, 60, lambda: "no mail arrived")
            time.sleep(3)  # time for a wrong extra delivery or mail to arrive
            attempts = receiver.deliveries()
            assert len(attempts) == 3 and len(smtp.messages) == 1
            # The service shows every attempt's outcome.
            status, told = orchestra.api("GET", f"/api/runs/{failed['identifier']}/notifications")
            assert status == 200
            assert [(n["kind"], n["state"]) for n in told] == [("webhook", "delivered"), ("email", "delivered")]
            assert [(a["number"], a["succeeded"], a["status_code"]) for a in told[0]["attempts"]] == [
                (1, False, 500), (2, False, 500), (3, True, 204)]
            assert told[0]["identifier"] == attempts[0].headers["X-Orchestra-Delivery"]
            assert [a["succeeded"] for a in told[1]["attempts"]] == [True]
            status, none = orchestra.api("GET", f"/api/runs/{succeeded}/notifications")
            assert (status, none) == (200, [])
        finally:
            orchestra.stop()
    # The same delivery three times; the succeeded run told nobody (failures only).
    assert len({(a.body, a.headers["X-Orchestra-Delivery"]) for a in attempts}) == 1
    notification = attempts[-1]
    assert notification.is_signed_with(SECRET) and not notification.is_signed_with("guess")
    assert notification.json == {
        "run": failed["identifier"], "project": "examples", "job": "fail", "status": "failed",
        "message": failed["status_message"], "url": f"{PUBLIC_URL}/runs/{failed['identifier']}/",
        "completed": notification.json["completed"],
    }
    sender, recipients, content = smtp.messages[0]
    mail = message_from_bytes(content)
    assert (sender, recipients) == ("orchestra@example.com", [MAIL_TO])
    assert mail["Subject"] == f"examples/fail failed: run {failed['identifier']}"
    assert f"{PUBLIC_URL}/runs/{failed['identifier']}/" in mail.get_payload()


def test_a_notification_survives_a_master_killed_between_the_runs_end_and_its_delivery(tmp_path):
    port = free_port()
    orchestra = notifying(tmp_path, f"http://127.0.0.1:{port}/hook")
    attempts = ("from runs.models import NotificationAttempt as A; "
                "print(A.objects.filter(succeeded=False).count())")
    try:
        orchestra.start_master()
        orchestra.start_worker("w")
        failed = orchestra.wait_for_run(orchestra.trigger("examples", "fail")["identifier"])
        assert failed["status"] == "failed"
        # Nothing listens yet: the master tries, fails, and is killed before it succeeds.
        poll(lambda: int(orchestra.shell(attempts)) >= 1, 60, lambda: "no attempt was made")
        orchestra.kill_master()
        with WebhookReceiver(port=port) as receiver:
            orchestra.start_master()
            poll(lambda: receiver.deliveries(), 180, lambda: "the notification was lost")
            time.sleep(3)  # time for a wrong second delivery to arrive
            [notification] = receiver.deliveries()
    finally:
        orchestra.stop()
    assert notification.is_signed_with(SECRET)
    assert (notification.json["run"], notification.json["status"]) == (failed["identifier"], "failed")
