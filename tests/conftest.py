"""Shared test fixtures: one system Chromium for the session, a clean set of tabs per test,
logging in through an app's own form, and running the real CLI as a subprocess (`run_cli`), or in this
process over in-process tabs of the fixture portals (`cli`, for flow tests)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.chromium import Chromium
from tests.fixtures.portal import Portal

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


# The integration files whose tests take longest (a contract run per app, the agency store's comparisons):
# run first among the integration tests, so that parallel workers do not end waiting for one long tail.
LONG_FILES = ("test_contract_cli.py", "test_pg_cli.py", "test_web_cli.py", "test_skaner2_cli.py",
              "test_faults_cli.py", "test_hostile_content_cli.py", "test_switches_cli.py")


def pytest_collection_modifyitems(config, items):
    """Unit tests first: once the session's sync Playwright runs, it holds an event loop in this
    thread, and the unit tests' own asyncio.run() would refuse to start. Among the integration
    tests, the long files first (see LONG_FILES)."""
    def key(item) -> tuple[bool, bool]:
        integration = item.get_closest_marker("integration") is not None
        return integration, integration and item.path.name not in LONG_FILES

    items.sort(key=key)


@pytest.fixture(scope="session")
def chromium():
    with Chromium() as browser:
        yield browser


@pytest.fixture(scope="session")
def cdp_browser(playwright, chromium):
    """The test's own CDP connection to the Chromium the CLI attaches to (to act as the user)."""
    browser = playwright.chromium.connect_over_cdp(chromium.cdp_url)
    yield browser
    browser.close()


@pytest.fixture
def user_context(cdp_browser):
    """The user's browser: tabs opened in a test are closed and cookies cleared afterwards."""
    context = cdp_browser.contexts[0]
    yield context
    for page in list(context.pages):
        if page.url != "about:blank":
            page.close()
    context.clear_cookies()


def login(context, portal: Portal, *, host: str | None = None, fields: dict[str, str] | None = None):
    """Opens the portal's login page in a new tab and logs in through its form, as a user would.
    Returns the tab, left on the page the app went to after login."""
    page = context.new_page()
    page.goto(portal.url(portal.LOGIN_PATH, host=host))
    form = page.locator(portal.LOGIN_FORM)
    for name, value in (fields or portal.LOGIN_FIELDS).items():
        form.locator(f'[name="{name}"]').fill(value)
    with page.expect_navigation():
        form.locator('[type="submit"]').click()
    page.wait_for_load_state("load")
    return page


def rows(db_path, sql: str, *args) -> list[dict]:
    """The database's rows for a query, as dicts, read by a connection of the test's own."""
    con = sqlite3.connect(db_path)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(sql, args)]
    finally:
        con.close()


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "agent21.db"


@pytest.fixture
def run_cli(chromium, db_path):
    """Runs `python -m a21import ARGS` against the session's Chromium and the test's database."""

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None, timeout: float = 120):
        full_env = {
            **os.environ,
            "A21IMPORT_CDP": chromium.cdp_url,
            "A21IMPORT_DB": str(db_path),
            "A21IMPORT_LOG": str(db_path.parent / "a21import.log"),
            "A21IMPORT_LANG": "en",  # the tests read English sentences, whatever the machine's locale
            "COLUMNS": "200",
            "PYTHONIOENCODING": "utf-8",
            **(env or {}),
        }
        return subprocess.run(
            [sys.executable, "-m", "a21import", *args],
            input=input,
            capture_output=True,
            text=True,
            env=full_env,
            cwd=ROOT,
            timeout=timeout,
        )

    return run


@pytest.fixture(scope="session")
def pg_cluster():
    """A throw-away PostgreSQL cluster from the Debian package (a21import/pgcluster.py), for the session."""
    from a21import import pgcluster

    with pgcluster.start() as cluster:
        yield cluster


@pytest.fixture
def pg_database(pg_cluster, request):
    """A fresh, empty database in the session's cluster (named after the test), as the admin's address."""
    import re as _re

    name = "t_" + _re.sub(r"\W", "_", request.node.name.lower())[:50] + f"_{os.getpid()}"
    pg_cluster.psql(f"DROP DATABASE IF EXISTS {name}", database="postgres")
    pg_cluster.psql(f"CREATE DATABASE {name}", database="postgres")
    yield pg_cluster.url(database=name)


@pytest.fixture
def cli(db_path):
    """The real CLI in this process over in-process tabs of the fixture portals (tests/fixtures/incli.py): for
    flow tests that need neither Chromium nor a process of their own. `cli.login(portal)` opens a tab."""
    from tests.fixtures.incli import InProcessCli

    return InProcessCli(db_path)
