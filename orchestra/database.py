"""What differs between the databases Orchestra runs on, in one place.

The apps write `with atomic():` and `locked(queryset)` and mean the same thing everywhere: the
block's writes are made together or not at all, and a locked row is written by one transaction
at a time. SQL databases do this with Django's transactions and row locks. On MongoDB
(django-mongodb-backend), Django's `transaction.atomic()` is a no-op: the backend has its own
multi-document transactions (which need a replica set), and no row locks. There a transaction
that writes a document another transaction wrote since it began fails at once (a write
conflict) instead of waiting, so the functions whose transactions meet others' are retried
whole (`retried_on_conflict`), and a lock is a write to the locked documents, which makes a
second locker conflict, and retry, instead of reading counts the first one is changing.
"""

import functools
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import ParamSpec, TypeVar

from bson import ObjectId
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, models, transaction
from django.db.models import QuerySet
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.module_loading import import_string
from django_mongodb_backend import transaction as mongodb_transaction
from django_mongodb_backend.fields import ObjectIdAutoField
from django_mongodb_backend.query_utils import process_lhs
from pymongo.errors import PyMongoError
from rest_framework.serializers import CharField, ModelSerializer

# A field of every locked document that only locks write (MongoDB): models never read it.
LOCK_FIELD = "_orchestra_lock"
# A transaction retried this many times in a row has met a conflict on each: give up.
CONFLICT_ATTEMPTS = 30

Parameters = ParamSpec("Parameters")
Result = TypeVar("Result")
Row = TypeVar("Row", bound=models.Model)


def is_mongodb() -> bool:
    return connection.vendor == "mongodb"


def primary_key() -> models.Field:
    """The primary key migrations give a new model: Django's default for every model
    (`DEFAULT_AUTO_FIELD`), a 64-bit integer on SQL and an ObjectId on MongoDB, which has no
    auto-increment. Written this way, the migrations describe the models on every database."""
    return import_string(settings.DEFAULT_AUTO_FIELD)(
        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
    )


def atomic():
    """A transaction, or a part of the enclosing one: Django's on SQL, the backend's on
    MongoDB. Callbacks registered with `transaction.on_commit` run once it commits."""
    if is_mongodb():
        return _mongodb_atomic()
    return transaction.atomic()


@contextmanager
def _mongodb_atomic() -> Iterator[None]:
    outermost = not connection.in_atomic_block_mongo
    # Django's own atomic() (the admin wraps its views in one) does nothing on MongoDB, but
    # the backend would refuse to run this transaction's on-commit callbacks inside it.
    in_django_block = connection.in_atomic_block
    try:
        with mongodb_transaction.atomic():
            yield
            if outermost:
                connection.in_atomic_block = False
    except BaseException:
        # The backend keeps the session of a transaction whose commit failed, and would run
        # the next transaction's writes in it.
        if outermost and connection.session is not None:
            try:
                connection.session.end_session()
            finally:
                connection.session = None
                connection.run_on_commit = []
        raise
    finally:
        connection.in_atomic_block = in_django_block


def unique_row(queryset: QuerySet):
    """The row of `queryset`, which filters on a unique key, or None.

    `.first()` orders by the model's ordering (or its key) before it takes one: compiling that
    ORDER BY cost as much as the rest of such a query (a run by its identifier: 0.9 ms with it,
    0.5 without), for a result of one row that needs no order.
    """
    return next(iter(queryset.order_by()[:1]), None)


def locked(queryset: QuerySet) -> QuerySet:
    """The rows of `queryset`, locked until the transaction ends, and only they.

    SQL: rows of joined tables (a default ordering or select_related joins them) are left
    alone: the default ordering is dropped, and where the database cannot name the table to
    lock (`OF self`: MariaDB) the joins of select_related are not made, so its related objects
    are read when first used. The lock is FOR NO KEY UPDATE where it exists (PostgreSQL):
    inserting a row that refers to a locked one (a run of a locked job) does not wait for it,
    so a claim never blocks a trigger nor deadlocks with one. MariaDB has only FOR UPDATE,
    which such an insert's foreign key check waits for: a trigger of a job waits for a claim
    holding the job's row, which is short and takes no lock a trigger holds. SQLite has no row
    locks: its write transactions take the database's lock at BEGIN (`transaction_mode`
    IMMEDIATE).

    MongoDB: the documents are written (LOCK_FIELD incremented) in the transaction, so that
    another transaction locking them, or one that read them before, conflicts and is retried.
    """
    if is_mongodb():
        keys = list(queryset.order_by().values_list("pk", flat=True))
        if keys:
            connection.get_collection(queryset.model._meta.db_table).update_many(
                {"_id": {"$in": keys}}, {"$inc": {LOCK_FIELD: 1}}, session=connection.session
            )
        return queryset.order_by()
    features = connection.features
    if not features.has_select_for_update_of:
        queryset = queryset.select_related(None)
    return queryset.select_for_update(
        no_key=features.has_select_for_no_key_update,
        of=("self",) if features.has_select_for_update_of else (),
    ).order_by()


def retried_on_conflict(function: Callable[Parameters, Result]) -> Callable[Parameters, Result]:
    """`function`, run again when its MongoDB transaction met another's write (a transient
    transaction error: nothing of it was stored). Inside an enclosing transaction the error
    goes up to the function that began it. On SQL a lock waits instead: nothing changes."""

    @functools.wraps(function)
    def retrying(*args, **kwargs):
        if not is_mongodb() or connection.in_atomic_block_mongo:
            return function(*args, **kwargs)
        attempt = 1
        while True:
            try:
                return function(*args, **kwargs)
            except (DatabaseError, PyMongoError) as error:
                if attempt >= CONFLICT_ATTEMPTS or not _is_transient(error):
                    raise
            # Apart, so that the same two do not meet again at once.
            time.sleep(random.uniform(0, 0.002 * 2 ** min(attempt, 6)))
            attempt += 1

    return retrying


def _is_transient(error: BaseException | None) -> bool:
    """Whether `error`, or the driver's error it wraps, is a transient transaction error."""
    while error is not None:
        if isinstance(error, PyMongoError) and error.has_error_label("TransientTransactionError"):
            return True
        error = error.__cause__ or error.__context__
    return False


def insert(rows: list[Row]) -> list[Row]:
    """Insert `rows` (of one model), whose date fields may hold expressions the database
    evaluates (Now(): the database's clock, the same for every master). SQL evaluates them in
    the INSERT. MongoDB's inserts take values only: there the rows are inserted with this
    master's clock in those fields, which an update in the same transaction replaces with
    the expressions' values. Read such fields back from the database (refresh_from_db)."""
    if not rows:
        return rows
    model = type(rows[0])
    if not is_mongodb():
        return model.objects.bulk_create(rows)
    computed = [_expressions_of(row) for row in rows]
    placeholder = timezone.now()
    with atomic():
        for row, values in zip(rows, computed):
            for name in values:
                setattr(row, name, placeholder)
        model.objects.bulk_create(rows)
        for row, values in zip(rows, computed):
            if values:
                model.objects.filter(pk=row.pk).update(**values)
                for name, expression in values.items():
                    setattr(row, name, expression)
    return rows


def _expressions_of(row: models.Model) -> dict:
    expressions = {}
    for field in row._meta.concrete_fields:
        value = getattr(row, field.attname)
        if hasattr(value, "resolve_expression"):
            if not isinstance(field, models.DateTimeField):
                raise TypeError(f"insert: {field.name} is not a date field: give it a value")
            expressions[field.attname] = value
    return expressions


def insert_unless_taken(instance: models.Model) -> None:
    """Insert `instance` unless a row holding one of its unique values exists (another master
    stored it meanwhile): then nothing is written and no error raised. SQL: INSERT OR IGNORE
    (SQLite), ON CONFLICT DO NOTHING (PostgreSQL), INSERT IGNORE (MariaDB). MongoDB has no such
    insert: its unique index refuses the document, and the refusal is ignored; since a refused
    write ends a MongoDB transaction, this is called outside one there."""
    if not is_mongodb():
        type(instance).objects.bulk_create([instance], ignore_conflicts=True)
        return
    if connection.in_atomic_block_mongo:
        raise RuntimeError("insert_unless_taken inside a MongoDB transaction would end it")
    try:
        instance.save(force_insert=True)
    except IntegrityError:
        pass


class ByteLength(Length):
    """The length of a binary value in bytes (Length counts a text's characters; MongoDB
    needs another operator for binary data)."""

    def as_mql_expr(self, compiler, connection) -> dict:
        value = process_lhs(self, compiler, connection, as_expr=True)
        return {"$cond": {"if": {"$eq": [value, None]}, "then": None,
                          "else": {"$binarySize": value}}}


def as_stored(moment: datetime) -> datetime:
    """`moment` as the database stores it, so that what is told of a row matches what is read
    back: MongoDB keeps milliseconds, SQL microseconds."""
    if is_mongodb():
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    return moment


def with_many_to_many(queryset: QuerySet, *names: str) -> QuerySet:
    """`queryset` with the many-to-many relations `names` of its objects read in one query
    each where the backend can (`prefetch_related`); django-mongodb-backend cannot, so there
    each object reads its own when asked (lists of users: a page at most)."""
    if is_mongodb():
        return queryset
    return queryset.prefetch_related(*names)


class PrimaryKeyConverter:
    """A primary key in a URL (`<pk:token_id>`): digits on SQL, an ObjectId's 24 hexadecimal
    digits on MongoDB. Registered by orchestra/apps.py."""

    def __init__(self) -> None:
        self.regex = "[0-9a-f]{24}" if is_mongodb() else "[0-9]+"

    def to_python(self, value: str) -> int | ObjectId:
        return ObjectId(value) if is_mongodb() else int(value)

    def to_url(self, value: int | ObjectId) -> str:
        return str(value)


def serialise_keys() -> None:
    """The service's serializers write an ObjectId key (MongoDB) as its hexadecimal string, as
    URLs spell it: DRF takes ObjectIdAutoField, an AutoField, for an integer. Called once, by
    orchestra/apps.py; orchestra.api_views.JSONRenderer writes the keys of relations."""
    if is_mongodb():
        ModelSerializer.serializer_field_mapping[ObjectIdAutoField] = CharField


def json_key(key: int | ObjectId) -> int | str:
    """A key as a JSON value (an audit record's details): an integer on SQL, an ObjectId's
    hexadecimal string on MongoDB."""
    return str(key) if isinstance(key, ObjectId) else key


def error_text(error: BaseException) -> str:
    """What a database error says: django-mongodb-backend passes the driver's errors on
    without their message, which the error they wrap still has."""
    while error is not None:
        if text := str(error):
            return text
        error = error.__cause__ or error.__context__
    return "unknown database error"
