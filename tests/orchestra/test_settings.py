import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from orchestra.environment import database_from_url, env_bool, env_int


def test_tests_use_a_temporary_data_directory():
    assert "orchestra-test-" in str(settings.DATA_DIR)


def test_sqlite_is_the_default_in_wal_mode(tmp_path):
    database = database_from_url("ORCHESTRA_DATABASE_URL", "", tmp_path)
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == str(tmp_path / "orchestra.sqlite3")
    assert "journal_mode=WAL" in database["OPTIONS"]["init_command"]
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_postgresql_url_becomes_a_django_database(tmp_path):
    database = database_from_url("X", "postgresql://postgres:secret@127.0.0.1:5432/orchestra", tmp_path)
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["NAME"], database["USER"], database["PASSWORD"]) == ("orchestra", "postgres", "secret")
    assert (database["HOST"], database["PORT"]) == ("127.0.0.1", "5432")


@pytest.mark.parametrize(
    "url", ["oracle://x/y", "postgresql://127.0.0.1/", "sqlite://", "postgresql://h:notaport/db"]
)
def test_wrong_database_url_names_the_variable(tmp_path, url):
    with pytest.raises(ImproperlyConfigured, match="ORCHESTRA_DATABASE_URL"):
        database_from_url("ORCHESTRA_DATABASE_URL", url, tmp_path)


def test_wrong_boolean_and_number_name_the_variable(monkeypatch):
    monkeypatch.setenv("ORCHESTRA_DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="ORCHESTRA_DEBUG"):
        env_bool("ORCHESTRA_DEBUG")
    monkeypatch.setenv("ORCHESTRA_WORKER_INACTIVE_SECONDS", "soon")
    with pytest.raises(ImproperlyConfigured, match="ORCHESTRA_WORKER_INACTIVE_SECONDS"):
        env_int("ORCHESTRA_WORKER_INACTIVE_SECONDS", 1)
