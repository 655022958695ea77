"""Parallel wrong guesses at the login page, each in its own thread with its own connection.

Run by tests/orchestra/test_login_race.py in a subprocess, because the database is chosen when
Django's settings load: ORCHESTRA_DATABASE_URL names a fresh database (a SQLite file or
PostgreSQL). Every guess the throttle lets through waits in the password check until all the
guesses of its round are decided (tests/orchestra/gated_backend.py).

Prints one JSON line: for each round, how many guesses reached the password check, the answers'
status codes and the failures recorded.
"""

import json
import os
import sys
import threading

import django

GUESSES = 10
LIMIT = 3


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestra.settings")
    os.environ["ORCHESTRA_LOGIN_FAILURE_LIMIT"] = str(LIMIT)
    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connections
    from django.test import Client, override_settings
    from django.test.utils import setup_test_environment

    from orchestra.models import LoginFailure
    from tests.orchestra import gated_backend

    setup_test_environment()
    call_command("migrate", verbosity=0)

    def round_of_guesses(guesses: list[tuple[str, str]]) -> dict:
        gate = gated_backend.gate = gated_backend.Gate(len(guesses))
        barrier = threading.Barrier(len(guesses))
        statuses = []

        def guess(username: str, address: str) -> None:
            barrier.wait()
            try:
                response = Client(REMOTE_ADDR=address).post(
                    "/login/", {"username": username, "password": "wrong password"}
                )
                statuses.append(response.status_code)
            finally:
                gate.answered()
                connections.close_all()

        threads = [threading.Thread(target=guess, args=pair) for pair in guesses]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return {"reached the password check": gate.admitted, "statuses": sorted(statuses)}

    backends = ["tests.orchestra.gated_backend.GatedBackend"]
    hashers = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with override_settings(AUTHENTICATION_BACKENDS=backends, PASSWORD_HASHERS=hashers):
        User.objects.create_user("alice", password="the right password")
        per_user = round_of_guesses([("alice", f"10.0.0.{number}") for number in range(GUESSES)])
        per_user["recorded"] = LoginFailure.objects.filter(username="alice").count()
        per_address = round_of_guesses([(f"guess-{number}", "10.9.9.9") for number in range(GUESSES)])
        per_address["recorded"] = LoginFailure.objects.filter(address="10.9.9.9").count()
    connections.close_all()
    print(json.dumps({"limit": LIMIT, "per user name": per_user, "per address": per_address}))


if __name__ == "__main__":
    sys.exit(main())
