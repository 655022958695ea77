"""Templates and static files in the override directories replace the shipped ones, file by file."""

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.views import serve
from django.test import RequestFactory, override_settings

from tests.e2e.harness import Orchestra

OVERRIDES = Path(settings.BASE_DIR) / "examples" / "overrides"


def templates_with(directory: Path) -> list[dict]:
    engine = dict(settings.TEMPLATES[0])
    engine["DIRS"] = [directory, *settings.TEMPLATES[0]["DIRS"]]
    return [engine]


def test_example_override_changes_the_header_and_adds_a_stylesheet(admin_client, populated):
    with override_settings(
        TEMPLATES=templates_with(OVERRIDES / "templates"),
        STATICFILES_DIRS=[OVERRIDES / "static", *settings.STATICFILES_DIRS],
    ):
        page = admin_client.get("/").content.decode()
        assert "ACME builds" in page
        assert 'href="/static/acme.css"' in page
        assert 'href="/static/orchestra.css"' in page  # not overridden: still the shipped one
        assert Path(finders.find("acme.css")).parent == OVERRIDES / "static"
    assert "ACME builds" not in admin_client.get("/").content.decode()


def test_static_override_replaces_one_file_and_is_what_is_served(tmp_path):
    (tmp_path / "orchestra.css").write_text("body{color:red}")
    with override_settings(STATICFILES_DIRS=[tmp_path, *settings.STATICFILES_DIRS]):
        response = serve(RequestFactory().get("/static/orchestra.css"), "orchestra.css",
                         insecure=True)
        assert b"".join(response.streaming_content) == b"body{color:red}"
        shipped = serve(RequestFactory().get("/static/log.js"), "log.js", insecure=True)
        assert b"TextDecoder" in b"".join(shipped.streaming_content)


def test_environment_variables_name_the_override_directories(tmp_path):
    script = (
        "import django; django.setup()\n"
        "from django.contrib.staticfiles import finders\n"
        "from django.template.loader import get_template\n"
        "print(finders.find('acme.css'))\n"
        "print(finders.find('log.js'))\n"
        "print(get_template('includes/brand.html').origin.name)\n"
    )
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "orchestra.settings",
        "ORCHESTRA_DATA_DIR": str(tmp_path),
        "ORCHESTRA_TEMPLATES_DIR": str(OVERRIDES / "templates"),
        "ORCHESTRA_STATIC_DIR": str(OVERRIDES / "static"),
    }
    output = subprocess.run([sys.executable, "-c", script], env=environment, check=True,
                            capture_output=True, text=True, cwd=settings.BASE_DIR).stdout
    acme, log_js, brand = output.split()
    assert acme == str(OVERRIDES / "static" / "acme.css")
    assert log_js == str(Path(settings.BASE_DIR) / "static" / "log.js")
    assert brand == str(OVERRIDES / "templates" / "includes" / "brand.html")


@pytest.mark.e2e
def test_a_real_master_serves_the_overrides(tmp_path):
    installation = Orchestra(tmp_path, env={
        "ORCHESTRA_TEMPLATES_DIR": str(OVERRIDES / "templates"),
        "ORCHESTRA_STATIC_DIR": str(OVERRIDES / "static"),
    })
    try:
        installation.start_master()
        with urllib.request.urlopen(f"{installation.url}/static/acme.css") as response:
            assert b"#5a1f6b" in response.read()
        with urllib.request.urlopen(f"{installation.url}/static/log.js") as response:
            assert b"TextDecoder" in response.read()  # not overridden: the shipped file
        with urllib.request.urlopen(f"{installation.url}/login/") as response:
            page = response.read().decode()
        assert "ACME builds" in page and 'href="/static/acme.css"' in page
    finally:
        installation.stop()
