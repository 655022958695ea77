"""The kinds of values Orchestra takes from outside, each checked here, once.

Every entry (the service, the website, the configuration, the worker protocol) checks what it
takes with these functions, so that what is stored can always be stored on every database and
shown back: no lone surrogate, no NUL, no number JSON cannot write, no nesting or size that
would make a page or a message fail later.
"""

import json
import math
from datetime import datetime, timezone

# Deep enough for any real results object; shallow enough for every JSON reader on the way.
MAX_JSON_DEPTH = 32
# Seconds since the epoch that Python's datetime (years 1 to 9999) can hold.
LATEST_TIMESTAMP = 253402300799


class InvalidValue(ValueError):
    """A value refused at the door; `field` names where it was (`results.answer`)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def check_text(value: object, field: str, *, max_length: int | None = None) -> str:
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
    return value


def check_json(value: object, field: str, *, max_bytes: int) -> object:
    """A JSON document every database stores and every page shows: finite numbers, valid
    text keys and strings, at most MAX_JSON_DEPTH deep and `max_bytes` long once encoded."""
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
