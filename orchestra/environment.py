"""Typed readers for the ORCHESTRA_* environment variables.

Every setting Orchestra reads from the environment goes through these helpers, so a wrong
value stops start-up with a message that names the variable.
"""

import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured
from pymongo.errors import InvalidURI
from pymongo.uri_parser import parse_uri

from orchestra.values import InvalidValue, check_email_address, check_http_url

# The longest address of the website that can still prefix a run's path in a notification.
MAX_PUBLIC_URL_LENGTH = 1000


def env_str(name: str, default: str = "") -> str:
    value = os.environ.get(name)
    if value is None:
        file_name = os.environ.get(f"{name}_FILE")
        if file_name:
            try:
                return Path(file_name).read_text().strip()
            except OSError as error:
                raise ImproperlyConfigured(f"{name}_FILE: cannot read {file_name}: {error}")
        return default
    return value


def env_bool(name: str, default: bool = False) -> bool:
    value = env_str(name, "").strip().lower()
    if not value:
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name}: expected true or false, got {value!r}")


def env_int(name: str, default: int | None, minimum: int = 0) -> int | None:
    value = env_str(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}: expected a whole number, got {value!r}")
    if number < minimum:
        raise ImproperlyConfigured(f"{name}: must be at least {minimum}, got {number}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = env_str(name, "").strip()
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_directory(name: str, default: Path) -> Path:
    path = Path(env_str(name, "") or default).expanduser().resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ImproperlyConfigured(f"{name}: cannot create directory {path}: {error}")
    return path


# MariaDB as Django recommends it: every character (utf8mb4, not the 3-byte utf8), READ
# COMMITTED (under REPEATABLE READ a transaction keeps reading the rows it first saw, so a
# claim or a log append retried in it would not see another master's commit), and strict mode
# (a value that does not fit is an error, never silently cut or replaced).
MARIADB_OPTIONS = {
    "charset": "utf8mb4",
    "isolation_level": "read committed",
    "init_command": "SET sql_mode = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'",
}
# Text compares as on PostgreSQL and SQLite: case and trailing spaces count (identifiers, names
# and keys that differ only there are different).
MARIADB_COLLATION = "utf8mb4_nopad_bin"


def database_from_url(name: str, url: str, data_dir: Path) -> dict:
    """Turn a database URL into a Django DATABASES entry.

    Accepted: sqlite:///absolute/path, sqlite:relative/path, postgresql://user:pw@host:port/db,
    mysql://user:pw@host:port/db (MariaDB), mongodb://user:pw@host1,host2/db?replicaSet=rs0
    (and mongodb+srv://). Query parameters become OPTIONS (MongoDB: the URL keeps them).
    """
    if not url:
        return sqlite_database(data_dir / "orchestra.sqlite3")
    parts = urlsplit(url)
    if parts.scheme in ("mongodb", "mongodb+srv"):
        return mongodb_database(name, url)
    options = dict(parse_qsl(parts.query))
    if parts.scheme == "sqlite":
        path = unquote(parts.path or parts.netloc)
        if not path or path == "/":
            raise ImproperlyConfigured(f"{name}: sqlite URL needs a file path, got {url!r}")
        if url.startswith("sqlite:///"):
            path = "/" + path.lstrip("/")
        return sqlite_database(Path(path))
    engines = {
        "postgres": "django.db.backends.postgresql",
        "postgresql": "django.db.backends.postgresql",
        "mysql": "django.db.backends.mysql",
        "mariadb": "django.db.backends.mysql",
    }
    if parts.scheme not in engines:
        raise ImproperlyConfigured(
            f"{name}: unsupported scheme {parts.scheme!r} (use sqlite, postgresql, mysql or "
            "mongodb)"
        )
    database_name = unquote(parts.path.lstrip("/"))
    if not database_name:
        raise ImproperlyConfigured(f"{name}: the URL names no database: {url!r}")
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured(f"{name}: invalid port in {url!r}")
    test = {"NAME": f"test_{database_name}"}
    if engines[parts.scheme] == "django.db.backends.mysql":
        options = {**MARIADB_OPTIONS, **options}
        test.update(CHARSET="utf8mb4", COLLATION=MARIADB_COLLATION)
    return {
        "ENGINE": engines[parts.scheme],
        "NAME": database_name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(port or ""),
        "OPTIONS": options,
        # Kept open between requests: connecting to PostgreSQL cost 13 ms of every page
        # (bench/README.md); the health check replaces a connection the server dropped.
        "CONN_MAX_AGE": 600,
        "CONN_HEALTH_CHECKS": True,
        "TEST": test,
    }


def mongodb_database(name: str, url: str) -> dict:
    """A MongoDB connection string as a DATABASES entry for django-mongodb-backend: the string
    goes to MongoClient whole (hosts, replica set, credentials, options); the database is its
    path."""
    if url.startswith("mongodb+srv://"):
        # Its hosts are looked up in DNS when the client connects, not while settings load.
        database_name = unquote(urlsplit(url).path.lstrip("/"))
    else:
        try:
            database_name = parse_uri(url)["database"]
        except (InvalidURI, ValueError) as error:
            raise ImproperlyConfigured(f"{name}: invalid MongoDB URL {url!r}: {error}")
    if not database_name:
        raise ImproperlyConfigured(f"{name}: the URL names no database: {url!r}")
    return {
        "ENGINE": "django_mongodb_backend",
        "NAME": database_name,
        "HOST": url,
        "OPTIONS": {},
        "TEST": {"NAME": f"test_{database_name}"},
    }


def private_file(path: Path) -> None:
    """Make `path` readable and writable by its owner alone (0600), creating it empty if it
    does not exist: created with that mode, so no other user can open it in between."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass
    # An existing file may have been made with the usual umask (0644), or a stricter umask
    # may have removed the owner's own bits.
    os.chmod(path, 0o600)


def sqlite_database(path: Path) -> dict:
    """The database settings of a SQLite file, which holds token and password hashes and run
    parameters: the file is made 0600 before anything opens it, and SQLite gives its WAL and
    shared-memory files the database's mode when it creates them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        sibling = path.with_name(path.name + suffix)
        if sibling.exists():
            sibling.chmod(0o600)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        # Kept open between requests and worker messages: reopening the file and re-running
        # the PRAGMAs for every log chunk tripled its cost (bench/README.md).
        "CONN_MAX_AGE": 600,
        "OPTIONS": {
            # Write transactions take the lock up front instead of failing half-way with
            # "database is locked" when the master and its threads write concurrently.
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }


def http_url(name: str, default: str) -> str:
    """An http:// or https:// address; unset or empty means the default."""
    url = env_str(name, "").strip() or default
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ImproperlyConfigured(f"{name}: expected an http:// or https:// URL, got {url!r}")
    return url


def public_url(name: str) -> str:
    """The http:// or https:// address people reach the website at, without a trailing slash;
    unset or empty means none."""
    url = env_str(name, "").strip().rstrip("/")
    if url:
        try:
            check_http_url(url, name, max_length=MAX_PUBLIC_URL_LENGTH)
        except InvalidValue as error:
            raise ImproperlyConfigured(f"{name}: {error.message}, got {url!r}")
        if "?" in url or "#" in url:
            raise ImproperlyConfigured(f"{name}: must have no query or fragment, got {url!r}")
    return url


def email_address(name: str, default: str) -> str:
    address = env_str(name, "").strip() or default
    try:
        return check_email_address(address, name)
    except InvalidValue as error:
        raise ImproperlyConfigured(f"{name}: {error.message}")


def redis_url(name: str) -> str:
    url = env_str(name, "").strip()
    if url and urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise ImproperlyConfigured(f"{name}: expected a redis:// URL, got {url!r}")
    return url
