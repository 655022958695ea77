"""The kinds of values Orchestra takes from outside, each checked here, once.

Every entry (the service, the website, the configuration, the worker protocol) checks what it
takes with these functions, so that what is stored can always be stored on every database and
shown back: no lone surrogate, no NUL, no number JSON cannot write, no nesting or size that
would make a page or a message fail later.
"""

import json
import math
import re
from datetime import datetime, timezone
from urllib.parse import urlsplit

# Deep enough for any real results object; shallow enough for every JSON reader on the way.
MAX_JSON_DEPTH = 32
# Seconds since the epoch that Python's datetime (years 1 to 9999) can hold.
LATEST_TIMESTAMP = 253402300799
# Projects, jobs, schedules, pipeline elements and workers: they are path segments of the
# website and the service, and file names on workers, so no '/', no space, nothing to escape.
IDENTIFIER = re.compile(r"[A-Za-z0-9][-A-Za-z0-9_]{0,99}")
IDENTIFIER_RULE = "1 to 100 letters, digits, '-' and '_', starting with a letter or a digit"
# A parameter's name is `{name}` in a command: a Python identifier.
PARAMETER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")
# Properties (of workers and of jobs) are short labels shown in tables and matched as text.
MAX_PROPERTIES = 50
MAX_PROPERTY_NAME_LENGTH = 100
MAX_PROPERTY_VALUE_LENGTH = 1000
# Integers every database's 64-bit integer holds (JSON sets no limit; its readers do).
SMALLEST_INTEGER, LARGEST_INTEGER = -(2**63), 2**63 - 1
# C0, DEL and C1 control characters: a one-line label shows none of them.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# A trigger's Idempotency-Key: visible ASCII, what every HTTP client and proxy passes unchanged
# in a header (no space: they may trim it), as long as the keys clients commonly send.
IDEMPOTENCY_KEY = re.compile(r"[!-~]{1,255}")
IDEMPOTENCY_KEY_RULE = "1 to 255 visible ASCII characters, without spaces"
LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
# The name of an environment variable a step gets (a job's secrets): what every shell accepts.
ENVIRONMENT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")
ENVIRONMENT_NAME_RULE = "1 to 100 letters, digits and '_', not starting with a digit"
# A secret's value travels in every run request of its jobs and is searched for in every byte
# of their logs: a few KB hold any token, password or key.
MAX_SECRET_BYTES = 4096


class InvalidValue(ValueError):
    """A value refused at the door; `field` names where it was (`results.answer`)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def shown(value: object, limit: int = 40) -> str:
    """`value` quoted for an error message: escaped, and cut short, whatever it holds."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def check_text(value: object, field: str, *, max_length: int | None = None,
               one_line: bool = False) -> str:
    """Text every database stores and every page shows: valid Unicode without NUL, at most
    `max_length` characters; `one_line` also refuses control characters (tab, newline...)."""
    if not isinstance(value, str):
        raise InvalidValue(field, "must be text")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidValue(field, "is not valid Unicode text (it holds a lone surrogate)")
    if "\x00" in value:
        raise InvalidValue(field, "must not contain NUL characters")
    if max_length is not None and len(value) > max_length:
        raise InvalidValue(field, f"must be at most {max_length} characters")
    if one_line and CONTROL_CHARACTERS.search(value):
        raise InvalidValue(field, "must be one line without control characters")
    return value


def check_identifier(value: object, field: str) -> str:
    """The identifier of a project, job, schedule, pipeline element or worker."""
    if not isinstance(value, str) or not IDENTIFIER.fullmatch(value):
        raise InvalidValue(field, f"{shown(value)} is not an identifier ({IDENTIFIER_RULE})")
    return value


def check_environment_name(value: object, field: str) -> str:
    """The name of an environment variable: one a step gets, or one the master reads a secret
    from (secrets, hooks, webhooks)."""
    if not isinstance(value, str) or not ENVIRONMENT_NAME.fullmatch(value):
        raise InvalidValue(
            field, f"{shown(value)} is not an environment variable's name ({ENVIRONMENT_NAME_RULE})"
        )
    return value


def check_secret_value(value: object, field: str) -> str:
    """A secret's value: non-empty text an environment variable can hold (no NUL), at most
    MAX_SECRET_BYTES in UTF-8. Messages never quote the value."""
    if not isinstance(value, str):
        raise InvalidValue(field, "must be text")
    if not value:
        raise InvalidValue(field, "is empty")
    if "\x00" in value or LONE_SURROGATE.search(value):
        raise InvalidValue(field, "holds a NUL character or a lone surrogate")
    if len(value.encode("utf-8")) > MAX_SECRET_BYTES:
        raise InvalidValue(field, f"is longer than {MAX_SECRET_BYTES} bytes")
    return value


def check_http_url(value: object, field: str, *, max_length: int) -> str:
    """An http:// or https:// address with a host, one line without spaces (a notification's
    webhook, the website's public address)."""
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        raise InvalidValue(field, "must be an http:// or https:// URL")
    check_text(value, field, max_length=max_length, one_line=True)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (raises for a port that is not a number)
    except ValueError:
        raise InvalidValue(field, "must be an http:// or https:// URL")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidValue(field, "must be an http:// or https:// URL")
    return value


def check_email_address(value: object, field: str) -> str:
    """An e-mail address as Django's mail and its validator take it."""
    # Imported here: the worker client and the executor use this module without Django.
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    try:
        validate_email(value)
    except ValidationError:
        raise InvalidValue(field, f"{shown(value)} is not an e-mail address")
    return value


def check_idempotency_key(value: object, field: str) -> str:
    """The key a client sends to have a trigger made once (docs/service.md)."""
    if not isinstance(value, str) or not IDEMPOTENCY_KEY.fullmatch(value):
        raise InvalidValue(field, f"{shown(value)} is not a key ({IDEMPOTENCY_KEY_RULE})")
    return value


def check_properties(value: object, field: str) -> dict[str, str]:
    """Properties of a worker or a job: at most MAX_PROPERTIES names, each non-empty one-line
    text of at most MAX_PROPERTY_NAME_LENGTH characters, to one-line texts of at most
    MAX_PROPERTY_VALUE_LENGTH."""
    if not isinstance(value, dict):
        raise InvalidValue(field, "must be an object of names to texts")
    if len(value) > MAX_PROPERTIES:
        raise InvalidValue(
            field, f"has {len(value)} properties, more than the {MAX_PROPERTIES} allowed"
        )
    for name, text in value.items():
        check_text(name, f"{field} (a name)", max_length=MAX_PROPERTY_NAME_LENGTH, one_line=True)
        if not name:
            raise InvalidValue(f"{field} (a name)", "must not be empty")
        check_text(text, f"{field}.{name}", max_length=MAX_PROPERTY_VALUE_LENGTH, one_line=True)
    return value


def check_scalar(value: object, field: str) -> str | int | float | bool:
    """A parameter's value: text, a boolean, a finite number, an integer of 64 bits."""
    if isinstance(value, str):
        return check_text(value, field)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if not SMALLEST_INTEGER <= value <= LARGEST_INTEGER:
            raise InvalidValue(field, "is an integer beyond 64 bits (-2**63 to 2**63 - 1)")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidValue(field, f"is not a number JSON can hold ({value})")
        return value
    raise InvalidValue(field, "must be a string, number or boolean")


def encoded_size(value: object) -> int:
    """Bytes of `value` as JSON the way the worker protocol sends it: ASCII, so a character
    outside ASCII counts its \\uXXXX escape (6 bytes; 12 beyond the Basic Multilingual Plane)."""
    return len(json.dumps(value, allow_nan=False))


def check_json(value: object, field: str, *, max_bytes: int,
               integers_of_64_bits: bool = False) -> object:
    """A JSON document every database stores and every page shows: finite numbers, valid
    text keys and strings, at most MAX_JSON_DEPTH deep and `max_bytes` long once encoded.
    `integers_of_64_bits` for a database that stores no larger integer (MongoDB's BSON)."""
    pending = [(value, field, 0)]
    while pending:
        item, where, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            raise InvalidValue(where, f"is nested deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(item, dict):
            for key, child in item.items():
                check_text(key, f"{where} (a key)")
                pending.append((child, f"{where}.{key}", depth + 1))
        elif isinstance(item, list):
            pending.extend((child, f"{where}[{index}]", depth + 1) for index, child in enumerate(item))
        elif isinstance(item, str):
            check_text(item, where)
        elif isinstance(item, float) and not math.isfinite(item):
            raise InvalidValue(where, f"{item} is not a number JSON can hold")
        elif (
            integers_of_64_bits and isinstance(item, int) and not isinstance(item, bool)
            and not SMALLEST_INTEGER <= item <= LARGEST_INTEGER
        ):
            raise InvalidValue(where, "is an integer beyond 64 bits (-2**63 to 2**63 - 1), "
                                      "which this database cannot store")
        elif item is not None and not isinstance(item, (bool, int, float)):
            raise InvalidValue(where, f"unsupported value of type {type(item).__name__}")
    size = len(json.dumps(value, allow_nan=False, ensure_ascii=False).encode())
    if size > max_bytes:
        raise InvalidValue(field, f"is {size} bytes long, more than the {max_bytes} allowed")
    return value


def check_timestamp(value: object, field: str) -> datetime | None:
    """Seconds since the epoch (a number, or None) as an aware datetime."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidValue(field, "must be a number of seconds since the epoch")
    if not (isinstance(value, int) or math.isfinite(value)) or not 0 <= value <= LATEST_TIMESTAMP:
        raise InvalidValue(field, f"{value} is not a time between 1970 and 9999")
    return datetime.fromtimestamp(value, tz=timezone.utc)


def check_count(value: object, field: str) -> int:
    """A whole number of at least 0 that every database's 64-bit integer holds."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise InvalidValue(field, "must be a whole number from 0 to 2**63 - 1")
    return value


def without_lone_surrogates(value: object) -> object:
    """`value` (a JSON document) with every lone surrogate replaced by U+FFFD: for rows older
    versions stored on SQLite, which no page could show (the data migrations use it)."""
    if isinstance(value, str):
        return LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [without_lone_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {
            without_lone_surrogates(key): without_lone_surrogates(item)
            for key, item in value.items()
        }
    return value
