"""Reads compiled once per database connection and run with new values: the hot path's queries.

Building and compiling a queryset costs the master far more than SQLite takes to run it: a
run read by its key is ~270 µs through the ORM and ~30 µs as the same SQL through Django's
cursor (bench/README.md, "Prepared reads"). Every run makes a dozen reads whose shape never
changes, only their values: those are declared once,

    @prepared
    def run_by_identifier(identifier: str) -> QuerySet:
        return Run.objects.filter(identifier=identifier).order_by()[:1]

and `run_by_identifier.rows("…")` compiles the queryset once per connection, with a stand-in
value for each parameter (by its annotation: int, str or datetime), then runs the same SQL with
the values in the stand-ins' places, and makes rows into what the queryset would have given:
model instances (select_related too), `values()` dicts or `values_list()` tuples (flat too).
A stand-in the compiled SQL does not hold as a parameter (Django wrote it into the text, or
transformed it) fails the first call, naming the query: a prepared read never runs with a
value in the wrong place. On MongoDB, whose queries are not SQL, the queryset is simply run.
"""

import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet
from django.db.models.query import (
    FlatValuesListIterable, ModelIterable, ValuesIterable, ValuesListIterable,
    get_related_populators,
)
from django.db.models.sql import UpdateQuery
from django.db.models.sql.compiler import SQLCompiler

from orchestra.database import is_mongodb

# Stand-ins: a statement is compiled with two sets of them, which must land in the same
# parameters. Integers fit every integer field (Django refuses a value out of a field's range).
_EPOCH = datetime(1901, 2, 3, 4, 5, 6, tzinfo=timezone.utc)


def _stand_in(kind: type, index: int, series: int) -> Any:
    if kind is int:
        return 31000 + 1000 * series + index
    if kind is str:
        return f"\x1eprepared-parameter-{series}-{index}\x1e"
    if kind is datetime:
        return _EPOCH + timedelta(days=series, microseconds=index + 1)
    raise TypeError(f"a prepared statement's parameters are int, str or datetime, not {kind!r}")


@dataclass
class Compiled:
    sql: str
    params: list
    # (position in params, index of the value, how the value is written as a parameter)
    slots: list[tuple[int, int, Callable[[Any], Any]]]
    compiler: SQLCompiler
    shape: type | None = None


class Prepared:
    """A statement built by `build` from its values, compiled once per connection."""

    what = "prepared statement"

    def __init__(self, build: Callable):
        self.build = build
        self.name = build.__qualname__
        self.kinds = [
            parameter.annotation for parameter in inspect.signature(build).parameters.values()
        ]
        # Per thread, as Django's connections are: what is compiled for a connection keeps it
        # (its compiler does), and goes with its thread, as the connection does.
        self.compiled = threading.local()

    def execute(self, values: tuple, fetch: bool) -> tuple[Compiled, list | int]:
        """Run the statement with `values`: its rows if `fetch`, else how many it changed."""
        # Compiled for each connection (one per thread), whose compiler it keeps for its rows.
        database = connections[DEFAULT_DB_ALIAS]
        compiled = getattr(self.compiled, "statement", None)
        if compiled is None or compiled.compiler.connection is not database:
            compiled = self.compiled.statement = self.compile(database)
        params = list(compiled.params)
        for position, index, written in compiled.slots:
            params[position] = written(values[index])
        with database.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            return compiled, cursor.fetchall() if fetch else cursor.rowcount

    def compile(self, database) -> Compiled:
        found = []
        for series in (0, 1):
            stand_ins = [_stand_in(kind, index, series) for index, kind in enumerate(self.kinds)]
            compiler, shape = self.compiler(database, stand_ins)
            sql, params = compiler.as_sql()
            slots = self.slots(database, params, stand_ins)
            found.append((sql, [(position, index) for position, index, _ in slots]))
        if found[0] != found[1]:
            # A stand-in equal to a constant of the statement, or changing its text.
            raise ValueError(f"{self.what} {self.name}: its values change more than its "
                             "parameters")
        return Compiled(sql, list(params), slots, compiler, shape)

    def compiler(self, database, stand_ins: list) -> tuple[SQLCompiler, type | None]:
        """The statement built with `stand_ins`, compiled for `database`, and the iterable
        class that makes a read's rows."""
        raise NotImplementedError

    def slots(self, database, params, stand_ins: list) -> list[tuple[int, int, Callable]]:
        slots = []
        for index, (kind, stand_in) in enumerate(zip(self.kinds, stand_ins)):
            written = self.writer(database, kind)
            found = [
                (position, index, self.typed(written, type(written(stand_in)), type(param)))
                for position, param in enumerate(params)
                if isinstance(param, type(written(stand_in))) and param == written(stand_in)
            ]
            if not found:
                raise ValueError(
                    f"{self.what} {self.name}: its parameter {index} is not a parameter of "
                    "the compiled SQL (written into its text, or transformed)"
                )
            slots.extend(found)
        return slots

    @staticmethod
    def typed(written: Callable[[Any], Any], kind: type, compiled: type) -> Callable[[Any], Any]:
        """`written`, then made the type of the compiled parameter where that is a subclass of
        `kind` (PostgreSQL's integers are typed by their field's size: psycopg's Int4 for an
        IntegerField)."""
        if compiled is kind:
            return written
        return lambda value: None if value is None else compiled(written(value))

    @staticmethod
    def writer(database, kind: type) -> Callable[[Any], Any]:
        if kind is datetime:
            return database.ops.adapt_datetimefield_value
        return lambda value: value


class PreparedRead(Prepared):
    what = "prepared read"

    def rows(self, *values) -> list:
        """What `list(build(*values))` gives."""
        if is_mongodb():
            return list(self.build(*values))
        compiled, fetched = self.execute(values, fetch=True)
        if compiled.compiler.has_extra_select:
            fetched = [row[: compiled.compiler.col_count] for row in fetched]
        return self.materialise(compiled, fetched)

    def first(self, *values):
        """The first of `rows(*values)`, or None."""
        rows = self.rows(*values)
        return rows[0] if rows else None

    def compiler(self, database, stand_ins: list) -> tuple[SQLCompiler, type]:
        queryset = self.build(*stand_ins)
        shape = queryset._iterable_class
        if shape not in (ModelIterable, ValuesIterable, ValuesListIterable, FlatValuesListIterable):
            raise TypeError(f"prepared read {self.name}: {shape.__name__} rows are not supported")
        query = queryset.query
        if shape in (ValuesListIterable, FlatValuesListIterable) and queryset._fields:
            names = [*query.extra_select, *query.values_select, *query.annotation_select]
            fields = [
                *queryset._fields,
                *(name for name in query.annotation_select if name not in queryset._fields),
            ]
            if fields != names:
                raise TypeError(f"prepared read {self.name}: name values_list()'s fields in "
                                "the order Django selects them")
        return query.get_compiler(using=database.alias), shape

    @staticmethod
    def materialise(compiled: Compiled, fetched: list) -> list:
        compiler = compiled.compiler
        rows = compiler.results_iter([fetched], tuple_expected=True)
        if compiled.shape is FlatValuesListIterable:
            return [row[0] for row in rows]
        if compiled.shape is ValuesListIterable:
            return [tuple(row) for row in rows]
        if compiled.shape is ValuesIterable:
            names = [*compiler.query.extra_select, *compiler.query.values_select,
                     *compiler.query.annotation_select]
            return [dict(zip(names, row)) for row in rows]
        return list(_instances(compiler, rows))


def _instances(compiler: SQLCompiler, rows):
    """Model instances of rows, as django.db.models.query.ModelIterable makes them."""
    select, klass_info = compiler.select, compiler.klass_info
    annotation_col_map = compiler.annotation_col_map
    db = compiler.using
    model = klass_info["model"]
    start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    attributes = [column[0].target.attname for column in select[start:end]]
    populators = get_related_populators(klass_info, select, db)
    for row in rows:
        instance = model.from_db(db, attributes, row[start:end])
        for populator in populators:
            populator.populate(row, instance)
        for name, position in (annotation_col_map or {}).items():
            setattr(instance, name, row[position])
        yield instance


class PreparedUpdate(Prepared):
    what = "prepared update"

    def run(self, *values) -> int:
        """What `queryset.update(**changes)` gives, `build(*values)` being (queryset, changes):
        how many rows it changed. A value may be None only where it is set."""
        if is_mongodb():
            queryset, changes = self.build(*values)
            return queryset.update(**changes)
        return self.execute(values, fetch=False)[1]

    def compiler(self, database, stand_ins: list) -> tuple[SQLCompiler, None]:
        queryset, changes = self.build(*stand_ins)
        query = queryset.query.chain(UpdateQuery)
        query.add_update_values(changes)
        query.annotations = {}
        query.get_initial_alias()
        if query.count_active_tables() > 1 or query.related_updates:
            # Django would select the rows' keys first on some databases, and write them into
            # the statement: not a statement to run again with other values.
            raise TypeError(f"prepared update {self.name}: filter on the updated table alone")
        return query.get_compiler(using=database.alias), None


def prepared(build: Callable[..., QuerySet]) -> PreparedRead:
    """Declare a read whose shape is fixed and whose values change (see the module)."""
    return PreparedRead(build)


def prepared_update(build: Callable[..., tuple[QuerySet, dict]]) -> PreparedUpdate:
    """Declare an update whose shape is fixed and whose values change: `build` gives the
    queryset to update and its changes."""
    return PreparedUpdate(build)
