"""Django's password check behind a gate, for tests/orchestra/login_race.py.

A guess the throttle let through waits here until every guess of the round has been either let
through or refused: all of the throttle's decisions are then taken while no admitted guess has
ended, the interleaving in which checking before recording lets every guess through.
"""

import threading

from django.contrib.auth.backends import ModelBackend

# Long enough for any machine; reached only when a guess neither arrived nor was answered.
GATE_TIMEOUT_SECONDS = 120


class Gate:
    """Counts the guesses decided so far; opens once all of them are."""

    def __init__(self, guesses: int):
        self.guesses = guesses
        self.decided = 0
        self.admitted = 0
        self.condition = threading.Condition()
        self.inside = threading.local()

    def decide(self) -> None:
        with self.condition:
            self.decided += 1
            self.condition.notify_all()

    def admit(self) -> None:
        """Called by the backend: this thread's guess passed the throttle."""
        self.inside.admitted = True
        with self.condition:
            self.admitted += 1
        self.decide()
        with self.condition:
            if not self.condition.wait_for(
                lambda: self.decided >= self.guesses, timeout=GATE_TIMEOUT_SECONDS
            ):
                raise RuntimeError(f"only {self.decided} of {self.guesses} guesses were decided")

    def answered(self) -> None:
        """Called by each guess's thread once its request is answered."""
        if not getattr(self.inside, "admitted", False):
            self.decide()


gate: Gate | None = None


class GatedBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        gate.admit()
        return super().authenticate(request, username=username, password=password, **kwargs)
