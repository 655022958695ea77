import re

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings

from orchestra.environment import database_from_url, env_bool, env_int, env_str
from tests.orchestra.fresh_process import ROOT, python_result, run_python, settings_from

PASSWORD = "correct horse battery"
PROXY_HEADER = ["HTTP_X_FORWARDED_PROTO", "https"]


def test_tests_use_a_temporary_data_directory():
    assert "orchestra-test-" in str(settings.DATA_DIR)


JOURNAL = """
import json
from django.conf import settings
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("PRAGMA journal_mode")
    journal_mode = cursor.fetchone()[0]
    cursor.execute("PRAGMA synchronous")
    synchronous = cursor.fetchone()[0]
print(json.dumps({"file": settings.DATABASES["default"]["NAME"], "journal_mode": journal_mode,
                  "synchronous": synchronous}))
"""


def test_sqlite_is_the_default_in_wal_mode(tmp_path):
    # Asked of the database the settings open, not read from the settings.
    answer = python_result(tmp_path, {}, JOURNAL)
    assert answer == {"file": str(tmp_path / "orchestra.sqlite3"), "journal_mode": "wal", "synchronous": 1}


def test_sqlite_write_transactions_take_the_lock_up_front(tmp_path):
    database = database_from_url("ORCHESTRA_DATABASE_URL", "", tmp_path)
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_postgresql_url_becomes_a_django_database(tmp_path):
    database = database_from_url("X", "postgresql://postgres:secret@127.0.0.1:5432/orchestra", tmp_path)
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["NAME"], database["USER"], database["PASSWORD"]) == ("orchestra", "postgres", "secret")
    assert (database["HOST"], database["PORT"]) == ("127.0.0.1", "5432")


def test_mongodb_url_goes_to_the_driver_whole_and_names_the_database(tmp_path):
    url = "mongodb://orchestra:secret@db1,db2:27018/orchestra?replicaSet=rs0&authSource=admin"
    database = database_from_url("X", url, tmp_path)
    assert (database["ENGINE"], database["NAME"], database["HOST"]) == (
        "django_mongodb_backend", "orchestra", url
    )
    assert database["TEST"] == {"NAME": "test_orchestra"}


@pytest.mark.parametrize("scheme", ["mysql", "mariadb"])
def test_mariadb_url_becomes_a_django_database_with_every_character_read_committed_and_strict(tmp_path, scheme):
    database = database_from_url("X", f"{scheme}://root@127.0.0.1:3306/orchestra", tmp_path)
    assert database["ENGINE"] == "django.db.backends.mysql"
    assert (database["NAME"], database["USER"], database["HOST"], database["PORT"]) == \
        ("orchestra", "root", "127.0.0.1", "3306")
    options = database["OPTIONS"]
    assert (options["charset"], options["isolation_level"]) == ("utf8mb4", "read committed")
    assert "STRICT_TRANS_TABLES" in options["init_command"]
    assert (database["TEST"]["CHARSET"], database["TEST"]["COLLATION"]) == ("utf8mb4", "utf8mb4_nopad_bin")


def test_a_mariadb_url_query_overrides_the_default_options(tmp_path):
    database = database_from_url("X", "mysql://root@h/orchestra?isolation_level=serializable&ssl_mode=REQUIRED", tmp_path)
    assert database["OPTIONS"]["isolation_level"] == "serializable"
    assert database["OPTIONS"]["ssl_mode"] == "REQUIRED"
    assert database["OPTIONS"]["charset"] == "utf8mb4"


@pytest.mark.parametrize(
    "url", ["oracle://x/y", "postgresql://127.0.0.1/", "sqlite://", "postgresql://h:notaport/db",
            "mongodb://db1/", "mongodb://db1:notaport/orchestra", "mongodb+srv://cluster/"]
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


def test_a_variable_is_read_from_the_file_its_file_variable_names(tmp_path, monkeypatch):
    secret = tmp_path / "secret"
    secret.write_text("s" * 40 + "\n")
    monkeypatch.delenv("ORCHESTRA_SECRET_KEY", raising=False)
    monkeypatch.setenv("ORCHESTRA_SECRET_KEY_FILE", str(secret))
    assert env_str("ORCHESTRA_SECRET_KEY") == "s" * 40
    # The variable itself wins over its file.
    monkeypatch.setenv("ORCHESTRA_SECRET_KEY", "t" * 40)
    assert env_str("ORCHESTRA_SECRET_KEY") == "t" * 40


def test_settings_read_file_variables_of_every_type(tmp_path):
    files = {"ORCHESTRA_SECRET_KEY": "k" * 40, "ORCHESTRA_LOGIN_FAILURE_LIMIT": "7",
             "ORCHESTRA_DEBUG": "true", "ORCHESTRA_ALLOWED_HOSTS": "orchestra.example.com, other.example.com"}
    variables = {}
    for name, value in files.items():
        (tmp_path / name).write_text(value + "\n")
        variables[f"{name}_FILE"] = str(tmp_path / name)
    read = settings_from(tmp_path / "data", variables, "SECRET_KEY", "LOGIN_FAILURE_LIMIT", "DEBUG", "ALLOWED_HOSTS")
    assert read == {"SECRET_KEY": "k" * 40, "LOGIN_FAILURE_LIMIT": 7, "DEBUG": True,
                    "ALLOWED_HOSTS": ["orchestra.example.com", "other.example.com"]}


def test_an_unreadable_file_variable_stops_start_up_naming_the_variable(tmp_path):
    missing = tmp_path / "no-such-file"
    completed = run_python(tmp_path / "data", {"ORCHESTRA_SECRET_KEY_FILE": str(missing)}, "manage.py", "check")
    assert completed.returncode != 0
    assert f"ORCHESTRA_SECRET_KEY_FILE: cannot read {missing}" in completed.stderr
    # A directory cannot be read as a file either.
    completed = run_python(tmp_path / "data", {"ORCHESTRA_SECRET_KEY_FILE": str(tmp_path)}, "manage.py", "check")
    assert completed.returncode != 0
    assert f"ORCHESTRA_SECRET_KEY_FILE: cannot read {tmp_path}" in completed.stderr


def test_proxy_and_trusted_origins_come_from_the_environment(tmp_path):
    names = ("SECURE_PROXY_SSL_HEADER", "CSRF_TRUSTED_ORIGINS")
    assert settings_from(tmp_path, {}, *names) == {"SECURE_PROXY_SSL_HEADER": None, "CSRF_TRUSTED_ORIGINS": []}
    variables = {
        "ORCHESTRA_BEHIND_HTTPS_PROXY": "1",
        "ORCHESTRA_CSRF_TRUSTED_ORIGINS": "https://orchestra.example.com, https://ci.example.com",
    }
    assert settings_from(tmp_path, variables, *names) == {
        "SECURE_PROXY_SSL_HEADER": PROXY_HEADER,
        "CSRF_TRUSTED_ORIGINS": ["https://orchestra.example.com", "https://ci.example.com"],
    }


def proxied_login(users):
    """A login the proxy received over HTTPS and forwarded over plain HTTP."""
    return Client().post(
        "/login/", {"username": "viewer-user", "password": PASSWORD}, HTTP_X_FORWARDED_PROTO="https"
    )


def test_behind_an_https_proxy_the_session_cookie_is_secure(users):
    with override_settings(SECURE_PROXY_SSL_HEADER=tuple(PROXY_HEADER)):
        response = proxied_login(users)
    assert response.status_code == 302
    assert response.cookies[settings.SESSION_COOKIE_NAME]["secure"]


def test_without_the_proxy_setting_a_forwarded_protocol_header_is_not_trusted(users):
    with override_settings(SECURE_PROXY_SSL_HEADER=None):
        response = proxied_login(users)
    assert response.status_code == 302
    assert not response.cookies[settings.SESSION_COOKIE_NAME]["secure"]


def login_from_origin(origin: str):
    """A login form posted by a page of `origin` to a master that knows itself by another name."""
    client = Client(enforce_csrf_checks=True)
    csrf = client.get("/login/").cookies[settings.CSRF_COOKIE_NAME].value
    data = {"username": "viewer-user", "password": PASSWORD, "csrfmiddlewaretoken": csrf}
    return client.post("/login/", data, HTTP_ORIGIN=origin)


def test_a_form_from_a_trusted_origin_is_accepted_and_from_others_refused(users):
    with override_settings(CSRF_TRUSTED_ORIGINS=["https://orchestra.example.com"]):
        assert login_from_origin("https://orchestra.example.com").status_code == 302
        refused = login_from_origin("https://evil.example.com")
    assert refused.status_code == 403 and b"CSRF" in refused.content
    with override_settings(CSRF_TRUSTED_ORIGINS=[]):
        assert login_from_origin("https://orchestra.example.com").status_code == 403


def test_github_settings_default_to_githubs_own_api_without_a_token(tmp_path):
    assert settings_from(tmp_path, {}, "GITHUB_API_URL", "GITHUB_TOKEN") == {
        "GITHUB_API_URL": "https://api.github.com", "GITHUB_TOKEN": "",
    }


def test_a_github_api_address_that_is_not_http_stops_start_up_naming_the_variable(tmp_path):
    variables = {"ORCHESTRA_GITHUB_API_URL": "github.example.com/api/v3"}
    completed = run_python(tmp_path, variables, "manage.py", "check")
    assert completed.returncode != 0
    assert "ORCHESTRA_GITHUB_API_URL: expected an http:// or https:// URL" in completed.stderr


def documented_variables() -> dict[str, str]:
    """The environment table of docs/configuration.md: variable -> documented default."""
    table = (ROOT / "docs" / "configuration.md").read_text()
    rows = re.findall(r"^\| `(ORCHESTRA_\w+)` \| (.*?) \|", table, flags=re.MULTILINE)
    return {name: default.strip("`") for name, default in rows}


def test_every_variable_the_settings_read_is_documented():
    read = set(re.findall(r'"(ORCHESTRA_\w+)"', (ROOT / "orchestra" / "settings.py").read_text()))
    assert read - set(documented_variables()) == set()


def test_documented_defaults_are_the_settings_defaults(tmp_path):
    documented = documented_variables()
    defaults = settings_from(tmp_path, {}, "RUN_TRANSFORMERS", "GITHUB_API_URL")
    assert documented["ORCHESTRA_RUN_TRANSFORMERS"].split(",") == defaults["RUN_TRANSFORMERS"]
    assert documented["ORCHESTRA_GITHUB_API_URL"] == defaults["GITHUB_API_URL"]
