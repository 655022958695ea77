"""SecantusDB, the MongoDB-compatible server the MongoDB test session runs on
(tests/environment.py starts it as `python -m tests.mongodb_server ARGUMENTS`), with one
difference from mongod mended.

mongod reads a nested document in a `$project` stage of inclusions as the dotted paths it
spells (`{"a": {"b": 1}}` is `{"a.b": 1}`: "Embedded document fields", in MongoDB's manual of
`$project`). SecantusDB 0.7.0b3 takes it for an expression and answers the literal `{"b": 1}`:
django-mongodb-backend projects every field read through a join that way (a user's
permissions read their content type's app label), so the permissions came back as `1.*`.
"""

import sys
from collections.abc import Mapping

from secantus import aggregate
from secantus.cli import main

_project_one = aggregate._project_one


def _inclusion_paths(spec: Mapping, prefix: str = "") -> dict:
    """`spec` with each nested document of inclusions spelt as dotted paths."""
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


aggregate._project_one = _project_one_as_mongod

if __name__ == "__main__":
    sys.exit(main())
