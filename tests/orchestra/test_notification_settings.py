"""The settings notifications read: the public address of the run pages, the SMTP server and
the retries, from the environment, a wrong value stopping start-up naming the variable."""

import pytest

from tests.orchestra.fresh_process import run_python, settings_from


def test_mail_and_the_public_address_come_from_the_environment(tmp_path, monkeypatch):
    password_file = tmp_path / "password"
    password_file.write_text("mail-password\n")
    variables = {
        "ORCHESTRA_PUBLIC_URL": "https://orchestra.example.com/",
        "ORCHESTRA_EMAIL_HOST": "smtp.example.com", "ORCHESTRA_EMAIL_PORT": "587",
        "ORCHESTRA_EMAIL_USER": "orchestra", "ORCHESTRA_EMAIL_PASSWORD_FILE": str(password_file),
        "ORCHESTRA_EMAIL_STARTTLS": "true", "ORCHESTRA_EMAIL_FROM": "ci@example.com",
        "ORCHESTRA_NOTIFICATION_RETRY_DELAY": "2", "ORCHESTRA_NOTIFICATION_ATTEMPTS": "3",
        "ORCHESTRA_NOTIFICATION_TIMEOUT": "4",
    }
    assert settings_from(
        tmp_path, variables, "PUBLIC_URL", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER",
        "EMAIL_HOST_PASSWORD", "EMAIL_USE_TLS", "EMAIL_USE_SSL", "DEFAULT_FROM_EMAIL",
        "NOTIFICATION_RETRY_DELAY", "NOTIFICATION_ATTEMPTS", "NOTIFICATION_TIMEOUT", "EMAIL_TIMEOUT",
    ) == {
        "PUBLIC_URL": "https://orchestra.example.com", "EMAIL_HOST": "smtp.example.com",
        "EMAIL_PORT": 587, "EMAIL_HOST_USER": "orchestra", "EMAIL_HOST_PASSWORD": "mail-password",
        "EMAIL_USE_TLS": True, "EMAIL_USE_SSL": False, "DEFAULT_FROM_EMAIL": "ci@example.com",
        "NOTIFICATION_RETRY_DELAY": 2, "NOTIFICATION_ATTEMPTS": 3, "NOTIFICATION_TIMEOUT": 4,
        "EMAIL_TIMEOUT": 4,
    }


@pytest.mark.parametrize("variables, message", [
    ({"ORCHESTRA_PUBLIC_URL": "orchestra.example.com"},
     "ORCHESTRA_PUBLIC_URL: must be an http:// or https:// URL, got 'orchestra.example.com'"),
    ({"ORCHESTRA_PUBLIC_URL": "https://orchestra.example.com/?a=b"},
     "ORCHESTRA_PUBLIC_URL: must have no query or fragment"),
    ({"ORCHESTRA_EMAIL_FROM": "orchestra"},
     "ORCHESTRA_EMAIL_FROM: 'orchestra' is not an e-mail address"),
    ({"ORCHESTRA_EMAIL_PORT": "70000"}, "ORCHESTRA_EMAIL_PORT: must be at most 65535"),
    ({"ORCHESTRA_EMAIL_STARTTLS": "yes", "ORCHESTRA_EMAIL_SSL": "yes"},
     "ORCHESTRA_EMAIL_STARTTLS and ORCHESTRA_EMAIL_SSL: choose one of them"),
    ({"ORCHESTRA_NOTIFICATION_RETRY_DELAY": "0"},
     "ORCHESTRA_NOTIFICATION_RETRY_DELAY: must be at least 1"),
])
def test_a_wrong_notification_setting_stops_start_up_naming_the_variable(tmp_path, variables, message):
    completed = run_python(tmp_path, variables, "manage.py", "check")
    assert completed.returncode != 0
    assert message in completed.stderr
