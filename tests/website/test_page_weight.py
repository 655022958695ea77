"""Every page of a populated instance stays light: HTML, CSS and JS budgets, nothing external."""

import re
from pathlib import Path

from django.contrib.staticfiles import finders

from runs.models import Status
from tests.website.conftest import add_run
from tests.website.test_pages import page_urls

HTML_BUDGET = 30 * 1024
CSS_BUDGET = 15 * 1024
JS_BUDGET = 5 * 1024
EXTERNAL = re.compile(r'(?:src|href|action)="(?:https?:)?//', re.IGNORECASE)


def static_size(name: str) -> int:
    return Path(finders.find(name)).stat().st_size


def fill(populated) -> None:
    """Full list pages, wide results and parameters, a long log."""
    for number in range(60):
        add_run(populated["echo"], Status.FAILED, worker=populated["worker"],
                parameters={"text": "x" * 200}, results={f"r{i}": "y" * 40 for i in range(20)},
                log=b"line with some text in it\n" * 4000)


def test_every_page_within_the_html_budget(admin_client, populated):
    fill(populated)
    for url in page_urls(populated) + ["/runs/?page=2", "/runs/?ordering=-job&status=failed"]:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert len(response.content) <= HTML_BUDGET, (url, len(response.content))
        page = response.content.decode()
        assert not EXTERNAL.search(page), url
        assert '<meta name="viewport"' in page, url


def test_css_and_javascript_within_budget_and_self_contained():
    css = Path(finders.find("orchestra.css")).read_text()
    assert static_size("orchestra.css") <= CSS_BUDGET
    assert static_size("log.js") + static_size("progress.js") <= JS_BUDGET
    assert "@font-face" not in css and "@import" not in css and "url(" not in css
    for script in ("log.js", "progress.js"):
        assert "http" not in Path(finders.find(script)).read_text()


def test_pages_load_only_our_own_static_files(admin_client, populated):
    run = populated["runs"]["running"]
    for url in ("/", f"/runs/{run.identifier}/", f"/runs/{run.identifier}/log/"):
        page = admin_client.get(url).content.decode()
        assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', page)
        assert set(assets) <= {"/static/orchestra.css", "/static/log.js", "/static/progress.js"}, assets
