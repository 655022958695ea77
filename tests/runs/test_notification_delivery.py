"""Sending the outbox: signed webhooks to a real receiver, mail, retries with back-off up to
the limit, claims that keep two masters from sending one delivery twice."""

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.db.models.functions import Now
from django.utils import timezone

from orchestra.database import insert
from orchestra.metrics import MASTER
from projects.models import Job, Project
from runs.metrics import NOTIFICATION_DELIVERIES
from runs.models import NotificationDelivery, Run, Status
from runs.notification_delivery import (
    claim_due_deliveries,
    deliver_due_notifications,
    record_attempt,
    retry_delay,
    send,
)
from tests.receivers import WebhookReceiver

pytestmark = [pytest.mark.database, pytest.mark.django_db]

SECRET_VARIABLE = "ORCHESTRA_TEST_HOOK_SECRET"
SECRET = "a shared secret"
PAYLOAD = {"run": "r1", "project": "p", "job": "j", "status": "failed", "message": "boom",
           "url": "https://orchestra.example.com/runs/r1/", "completed": None}


@pytest.fixture(autouse=True)
def quick_retries(settings, monkeypatch):
    settings.NOTIFICATION_RETRY_DELAY = 1
    settings.NOTIFICATION_ATTEMPTS = 3
    monkeypatch.setenv(SECRET_VARIABLE, SECRET)


@pytest.fixture
def run() -> Run:
    project = Project.objects.create(identifier="p", display_name="P")
    job = Job.objects.create(project=project, identifier="j", display_name="j")
    return Run.objects.create(project=project, job=job, status=Status.FAILED)


def queue(run: Run, kind: str, target: str) -> NotificationDelivery:
    [delivery] = insert([NotificationDelivery(
        run=run, kind=kind, target=target, payload=PAYLOAD, next_attempt=Now(),
        secret_variable=SECRET_VARIABLE if kind == "webhook" else "",
    )])
    return delivery


def make_due(delivery: NotificationDelivery) -> None:
    NotificationDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt=timezone.now() - timedelta(seconds=1))


def attempts(delivery: NotificationDelivery) -> list[tuple]:
    return list(delivery.attempt_set.values_list("number", "succeeded", "status_code", "error", "master"))


def count(kind: str, outcome: str) -> float:
    return NOTIFICATION_DELIVERIES.labels(MASTER, kind, outcome)._value.get()


def test_a_webhook_gets_the_json_body_signed_with_the_secret(run):
    with WebhookReceiver() as receiver:
        delivery = queue(run, "webhook", receiver.url)
        assert deliver_due_notifications() == 1
        [received] = receiver.deliveries()
    assert received.json == PAYLOAD
    assert received.is_signed_with(SECRET) and not received.is_signed_with("another secret")
    assert received.headers["Content-Type"] == "application/json"
    assert received.headers["X-Orchestra-Delivery"] == delivery.identifier
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.claim) == ("delivered", 1, "")
    assert delivery.delivered is not None
    assert attempts(delivery) == [(1, True, 204, "", MASTER)]
    # Nothing is due any more.
    assert deliver_due_notifications() == 0


def test_a_receiver_that_fails_twice_gets_the_notification_at_the_third_attempt(run, django_capture_on_commit_callbacks):
    delivered, retrying = count("webhook", "delivered"), count("webhook", "retrying")
    with WebhookReceiver(answers=[500, 500]) as receiver:
        delivery = queue(run, "webhook", receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver_due_notifications() == 1
        delivery.refresh_from_db()
        # Back-off: not due again before its delay.
        assert deliver_due_notifications() == 0
        assert timedelta(seconds=0.5) < delivery.next_attempt - timezone.now() <= timedelta(seconds=1)
        for attempt in (2, 3):
            make_due(delivery)
            with django_capture_on_commit_callbacks(execute=True):
                assert deliver_due_notifications() == 1
        assert len(receiver.deliveries()) == 3
        assert len({received.body for received in receiver.deliveries()}) == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("delivered", 3)
    assert [(number, succeeded, code) for number, succeeded, code, *_ in attempts(delivery)] == [
        (1, False, 500, ), (2, False, 500), (3, True, 204)]
    assert attempts(delivery)[0][3] == "the receiver answered 500 Internal Server Error"
    assert (count("webhook", "retrying") - retrying, count("webhook", "delivered") - delivered) == (2, 1)


def test_the_back_off_doubles_up_to_an_hour(settings):
    settings.NOTIFICATION_RETRY_DELAY = 30
    assert [retry_delay(attempt) for attempt in (1, 2, 3, 8, 20)] == [30, 60, 120, 3600, 3600]


def test_a_delivery_gives_up_after_the_last_attempt(run, django_capture_on_commit_callbacks):
    failed = count("webhook", "failed")
    with WebhookReceiver() as receiver:
        unreachable = receiver.url
    delivery = queue(run, "webhook", unreachable)
    for attempt in range(3):
        make_due(delivery)
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver_due_notifications() == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("failed", 3)
    make_due(delivery)
    assert deliver_due_notifications() == 0
    assert [number for number, *_ in attempts(delivery)] == [1, 2, 3]
    assert all("Connection refused" in error for *_, error, _ in attempts(delivery))
    assert count("webhook", "failed") - failed == 1


def test_a_redirect_is_a_failure_not_a_resend_without_the_body(run):
    with WebhookReceiver(answers=[302]) as receiver:
        delivery = queue(run, "webhook", receiver.url)
        deliver_due_notifications()
        assert len(receiver.deliveries()) == 1
    assert attempts(delivery)[0][1:3] == (False, 302)


def test_a_secret_missing_on_this_master_is_a_failed_attempt(run, monkeypatch):
    monkeypatch.delenv(SECRET_VARIABLE)
    with WebhookReceiver() as receiver:
        delivery = queue(run, "webhook", receiver.url)
        deliver_due_notifications()
        assert receiver.deliveries() == []
    assert attempts(delivery)[0][1:4] == (
        False, None, f"the environment variable {SECRET_VARIABLE} is not set on this master")


def test_mail_goes_to_every_address_with_the_runs_description(run):
    delivery = queue(run, "email", "a@example.com\nb@example.com")
    assert deliver_due_notifications() == 1
    [message] = mail.outbox
    assert message.to == ["a@example.com", "b@example.com"]
    assert message.subject == "p/j failed: run r1"
    assert message.body == "Run r1 of p/j ended failed.\nboom\n\nhttps://orchestra.example.com/runs/r1/"
    assert message.extra_headers["X-Orchestra-Delivery"] == delivery.identifier
    delivery.refresh_from_db()
    assert delivery.state == "delivered"


def test_a_claimed_delivery_is_not_claimed_again_until_its_claim_expires(run):
    delivery = queue(run, "webhook", "http://127.0.0.1:9/unused")
    [first] = claim_due_deliveries()
    assert claim_due_deliveries() == []
    # The claiming master died: once the claim expires, another master may send it.
    NotificationDelivery.objects.filter(pk=delivery.pk).update(
        claimed_until=timezone.now() - timedelta(seconds=1))
    [second] = claim_due_deliveries()
    assert second.claim != first.claim and second.attempt == first.attempt == 1
    # The first claim's holder no longer records anything; the second does.
    assert record_attempt(first, send(first)) is None
    assert record_attempt(second, send(second)) == "pending"
    assert [number for number, *_ in attempts(delivery)] == [1]


def test_a_claim_outlasts_the_longest_send(run, settings):
    for timeout, seconds in [(10, 100), (3, 60), (30, 300)]:
        settings.NOTIFICATION_TIMEOUT = timeout
        delivery = queue(run, "email", "a@example.com")
        claim_due_deliveries()
        delivery.refresh_from_db()
        assert abs((delivery.claimed_until - timezone.now()).total_seconds() - seconds) < 5
