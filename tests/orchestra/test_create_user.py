"""`manage.py create_user` reads a password and its confirmation from two lines of standard
input, as a person confirming it would type them, and holds it to the website's rule."""

import io
import sys

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def create_user(monkeypatch, typed: str) -> str:
    # Not a terminal: what a pipe or a here-document gives the command.
    monkeypatch.setattr(sys, "stdin", io.StringIO(typed))
    out = io.StringIO()
    call_command("create_user", "ann", "--role", "operator", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["correct horse\ncorrect horse\n", "correct horse\r\ncorrect horse"])
def test_the_password_typed_twice_is_the_password(monkeypatch, typed):
    output = create_user(monkeypatch, typed)
    assert "Created user ann" in output and "Password:" not in output
    user = User.objects.get(username="ann")
    assert user.check_password("correct horse")
    assert list(user.groups.values_list("name", flat=True)) == ["operator"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "typed, message",
    [
        ("correct horse\ncorrect hearse\n", "the two passwords differ"),
        ("correct horse\n", "give the password twice"),
        ("correct horse", "give the password twice"),
        ("short\nshort\n", "at least 8 characters"),
        ("\ncorrect horse\n", "the two passwords differ"),
    ],
)
def test_a_password_not_confirmed_or_too_short_creates_nobody(monkeypatch, typed, message):
    with pytest.raises(CommandError, match=message):
        create_user(monkeypatch, typed)
    assert not User.objects.filter(username="ann").exists()


@pytest.mark.django_db
def test_without_input_a_password_is_generated_and_printed(monkeypatch):
    output = create_user(monkeypatch, "")
    password = output.split("Password: ")[1].strip()
    assert len(password) >= 8 and User.objects.get(username="ann").check_password(password)
