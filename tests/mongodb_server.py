"""SecantusDB, the MongoDB-compatible server the MongoDB test session runs on
(tests/mongodb.py starts it as `python -m tests.mongodb_server ARGUMENTS`).

Two differences from mongod are mended here, in the test server alone: nested documents of
fields (below), and dates compared with `$$NOW` (`_cmp_operand_as_mongod`).

mongod reads a nested document of fields in a `$project` or `$addFields` stage as the dotted
paths it spells (`{"a": {"b": 1}}` is `{"a.b": 1}`: "Embedded document fields" in MongoDB's
manual of `$project`; in `$addFields` the other fields of `a` stay). SecantusDB 0.7.0b3 takes
it for one expression: `$project` answered the literal `{"b": 1}`, and `$addFields` replaced
all of `a`. django-mongodb-backend writes both for fields read through a join: a user's
permissions (their content type's app label) came back as `1.*`, and a schedule read with its
project ordered by the project's identifier lost the project.
"""

import sys
from collections.abc import Mapping
from datetime import datetime, timezone

from secantus import aggregate, expressions
from secantus.cli import main

_project_one = aggregate._project_one
_add_fields_one = aggregate._add_fields_one


def _inclusion_paths(spec: Mapping, prefix: str = "") -> dict:
    """`spec` with each nested document of fields (not an operator) spelt as dotted paths."""
    paths = {}
    for key, value in spec.items():
        nested = (
            isinstance(value, Mapping) and value
            and not any(str(name).startswith("$") for name in value)
        )
        if nested:
            paths.update(_inclusion_paths(value, f"{prefix}{key}."))
        else:
            paths[f"{prefix}{key}"] = value
    return paths


def _project_one_as_mongod(doc, spec, vars):
    return _project_one(doc, _inclusion_paths(spec), vars)


def _add_fields_one_as_mongod(doc, spec, vars):
    return _add_fields_one(doc, _inclusion_paths(spec), vars)


_cmp_operand = expressions._cmp_operand


def _cmp_operand_as_mongod(expr, ctx):
    """BSON has one kind of date: SecantusDB holds `$$NOW` with a time zone and stored dates
    without, so that every comparison with `$$NOW` was false (the liveness sweep's
    `last_seen < NOW() - ...` found no lost worker)."""
    value = _cmp_operand(expr, ctx)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


aggregate._project_one = _project_one_as_mongod
aggregate._add_fields_one = _add_fields_one_as_mongod
expressions._cmp_operand = _cmp_operand_as_mongod

if __name__ == "__main__":
    sys.exit(main())
