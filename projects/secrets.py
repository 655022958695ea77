"""Secrets: named values the master reads at start and gives a worker only for a run that needs them.

A configuration module declares each one as a `Secret` (projects.definitions) with where its
value lives: an environment variable or a file, read once at master start, never written in the
module itself, never stored in the database (a job row keeps only which variable gets which
secret's name). The values stay in this process (`hold`) and go into a `run.start` request
(`reveal`) at the moment it is sent; the worker masks them in everything the run writes
(workers/masking.py).
"""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from orchestra.values import (
    InvalidValue,
    check_environment_name,
    check_identifier,
    check_secret_value,
    check_text,
    shown,
)
from projects.definitions import Secret

MAX_SECRETS_PER_JOB = 50
# The executor sets its own ORCHESTRA_ variables after a job's secrets; a secret under one of
# those names would be overwritten, and one under the worker's own names would be confusing.
RESERVED_PREFIX = "ORCHESTRA_"


class SecretUnavailable(Exception):
    """A run needs a secret this master does not hold."""


class SecretValues:
    """The secrets a configuration declares, each read once from where its value lives.

    `declare` checks a declaration and reads its value; a value that cannot be read (variable
    unset, file missing, empty...) is kept as the reason why, for the jobs that need it to
    report (an error at master start, or the reason a job is disabled).
    """

    def __init__(self, environ: Mapping[str, str] | None = None):
        self.environ = os.environ if environ is None else environ
        self.declared: dict[str, Secret] = {}
        self.values: dict[str, str] = {}
        self.unavailable: dict[str, str] = {}

    def declare(self, secret: Secret, field: str) -> None:
        """Check a declaration and read its value; InvalidValue (naming `field`) if it is wrong."""
        check_identifier(secret.identifier, f"{field}.identifier")
        known = self.declared.get(secret.identifier)
        if known is not None:
            if known != secret:
                raise InvalidValue(
                    field, f"secret {secret.identifier!r} is declared twice, differently"
                )
            return
        if bool(secret.environment) == bool(secret.file):
            raise InvalidValue(field, "give either `environment` (a variable's name) or `file` (a path)")
        if secret.environment:
            check_environment_name(secret.environment, f"{field}.environment")
        else:
            check_text(secret.file, f"{field}.file", max_length=4096, one_line=True)
        if not isinstance(secret.required, bool):
            raise InvalidValue(f"{field}.required", "must be True or False")
        self.declared[secret.identifier] = secret
        try:
            self.values[secret.identifier] = check_secret_value(self._read(secret), "its value")
        except InvalidValue as error:
            self.unavailable[secret.identifier] = f"{self._source(secret)} {error.message}"
        except OSError as error:
            self.unavailable[secret.identifier] = f"{self._source(secret)} cannot be read ({error.strerror})"

    def _read(self, secret: Secret) -> str:
        if secret.environment:
            value = self.environ.get(secret.environment)
            if value is None:
                raise InvalidValue("its value", "is not set")
            return value
        try:
            value = Path(secret.file).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise InvalidValue("its value", "is not UTF-8 text") from None
        # Files written by editors and `echo` end with a newline that is not part of the value.
        return value.removesuffix("\n").removesuffix("\r")

    @staticmethod
    def _source(secret: Secret) -> str:
        return f"the variable {secret.environment}" if secret.environment else f"the file {secret.file}"

    def why_unavailable(self, identifier: str) -> str:
        return f"the master has no secret {identifier!r} ({self.unavailable[identifier]})"


def normalize_job_secrets(secrets: Any, values: SecretValues) -> tuple[dict[str, str], str, list[tuple[str, str]]]:
    """A job's `secrets` as stored: {variable: secret identifier}; the reason the job is
    disabled ('' if none: an optional secret the master cannot read); and the problems found
    as (field, message), a required secret the master cannot read among them."""
    if not isinstance(secrets, dict):
        return {}, "", [("secrets", "must be a dict of environment variable names to Secret")]
    if len(secrets) > MAX_SECRETS_PER_JOB:
        return {}, "", [("secrets", f"has {len(secrets)} secrets, more than the {MAX_SECRETS_PER_JOB} allowed")]
    mapping, reasons, problems = {}, [], []
    for name, secret in secrets.items():
        try:
            check_environment_name(name, "secrets (a variable name)")
        except InvalidValue as error:
            problems.append((error.field, error.message))
            continue
        field = f"secrets.{name}"
        if name.upper().startswith(RESERVED_PREFIX):
            problems.append((field, f"names starting with {RESERVED_PREFIX} are Orchestra's own"))
            continue
        if not isinstance(secret, Secret):
            problems.append((field, f"must be a Secret, got {shown(secret)}"))
            continue
        try:
            values.declare(secret, field)
        except InvalidValue as error:
            problems.append((error.field, error.message))
            continue
        mapping[name] = secret.identifier
        if secret.identifier in values.unavailable:
            if secret.required:
                problems.append((field, values.why_unavailable(secret.identifier)))
            else:
                reasons.append(values.why_unavailable(secret.identifier))
    return mapping, "; ".join(reasons), problems


# The values this master holds, from its configuration's last load.
_held: dict[str, str] = {}


def hold(values: SecretValues) -> None:
    """Keep the values read at master start for the runs that will need them."""
    _held.clear()
    _held.update(values.values)


def reveal(secrets: dict[str, str]) -> dict[str, str]:
    """{variable: value} for a run whose job maps variables to secret identifiers;
    SecretUnavailable naming the first secret this master does not hold."""
    revealed = {}
    for name, identifier in secrets.items():
        if identifier not in _held:
            raise SecretUnavailable(
                f"the master has no secret {identifier!r} (for the variable {name}): is every "
                "master started with it?"
            )
        revealed[name] = _held[identifier]
    return revealed
