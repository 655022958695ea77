"""A real installation (runmaster + one worker) and Debian's chromium driven by Playwright."""

import os

import pytest

from tests.e2e.harness import Orchestra

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "ada-password-e2e"  # the harness gives each user "<name>-password-e2e"


@pytest.fixture(scope="module")
def orchestra(tmp_path_factory):
    installation = Orchestra(tmp_path_factory.mktemp("browser"))
    try:
        installation.start_master()
        installation.create_user("ada", "administrator")
        installation.start_worker("browser-worker", executors=4)
        yield installation
    finally:
        installation.stop()


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is absent: `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def session(browser, orchestra):
    """Log in once through the login page; each test's context reuses the session cookie."""
    context = browser.new_context(base_url=orchestra.url)
    page = context.new_page()
    page.goto("/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login/" not in url)
    state = context.storage_state()
    context.close()
    return state


@pytest.fixture(params=[True, False], ids=["javascript", "no-javascript"])
def page(request, browser, orchestra, session):
    """A logged-in page, with JavaScript enabled or disabled."""
    context = browser.new_context(
        base_url=orchestra.url, java_script_enabled=request.param, accept_downloads=True,
        storage_state=session,
    )
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.javascript = request.param
    yield page
    context.close()
