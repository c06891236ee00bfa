"""`a21import ui` for real (issue 15): the command as a subprocess, the page driven in the session's Chromium
with Playwright, the fixture iHestia logged in beside it, the database read afterwards."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import ROOT, login, rows
from tests.fixtures.hestia_portal import IDENTITY_LABELS, HestiaPortal

pytestmark = pytest.mark.integration

FIRST, LAST = "2026-11-01", "2026-11-16"
TIMEOUT_MS = 30_000


class UiServer:
    """`python -m a21import ui` running; `url` is the first line it printed."""

    def __init__(self, chromium, db_path: Path, *args: str):
        env = {**os.environ, "A21IMPORT_CDP": chromium.cdp_url, "A21IMPORT_DB": str(db_path),
               "A21IMPORT_LOG": str(db_path.parent / "a21import.log"), "A21IMPORT_LANG": "en",
               "PYTHONIOENCODING": "utf-8", "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen([sys.executable, "-m", "a21import", "ui", *args], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
        self.url = self.process.stdout.readline().strip()
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    def stop(self) -> tuple[int, str]:
        """Ctrl-C, as the agent stops it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            code = self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        return code, self.process.stderr.read()


@pytest.fixture
def ui_server(chromium, db_path):
    servers = []

    def start(*args: str) -> UiServer:
        server = UiServer(chromium, db_path, *args)
        servers.append(server)
        return server

    yield start
    for server in servers:
        code, errors = server.stop()
        assert code in (0, 130) and "Traceback" not in errors, errors


def open_page(user_context, url: str):
    page = user_context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    return page


def start_period(page, **fields: str) -> None:
    page.click("nav a[href='/import']")
    page.wait_for_url(re.compile(r"/import$"))
    for name, value in fields.items():
        page.select_option(f"#period-form [name={name}]", value)
    page.fill("#from", FIRST)
    page.fill("#to", LAST)
    page.click("#list-policies")
    page.wait_for_url(re.compile(r"/job$"))


def finished(page) -> None:
    page.wait_for_selector("#job[data-finished='1']", state="attached")


def ihestia(portal, identity="ERGO_HESTIA"):
    return [p for p in portal.policies[identity] if p.extra["system"] != "IPEGAZ"]


def test_start_prints_the_address_first_and_opens_a_new_tab(chromium, ui_server, cdp_browser, user_context):
    """Without --no-open, the page opens in a new tab of the debugging browser; the agent's tabs stay as they were."""
    with HestiaPortal(count=3) as portal:
        app_tab = login(user_context, portal)
        before = app_tab.url
        server = ui_server()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/\?k=[\w-]{40,}", server.url), server.url
        context = cdp_browser.contexts[0]
        deadline = 20_000
        page = None
        for _ in range(deadline // 100):
            pages = [p for p in context.pages if p.url.startswith(server.url.split("?")[0])]
            if pages:
                page = pages[0]
                break
            app_tab.wait_for_timeout(100)
        assert page is not None, [p.url for p in context.pages]
        page.wait_for_selector("h1")
        assert page.url.endswith("/apps")  # the secret is gone from the address
        assert app_tab.url == before  # never navigated
        page.close()


def test_period_import_from_the_page(ui_server, user_context, db_path):
    with HestiaPortal(count=24) as portal:
        login(user_context, portal)
        server = ui_server("--no-open")
        page = open_page(user_context, server.url)
        # Apps: the logged-in tab with its identity, and the way to import from it
        page.wait_for_selector("#apps .state-logged-in")
        assert "ERGO Hestia" in page.inner_text("#apps")
        page.click("#apps a.button")
        page.wait_for_url(re.compile(r"/import\?app=hestia"))
        assert page.input_value("#app") == "hestia" and page.input_value("#source") == "ihestia"
        page.fill("#from", FIRST)
        page.fill("#to", LAST)
        page.click("#list-policies")
        page.wait_for_url(re.compile(r"/job$"))
        # Confirm the identity shown, by keyboard: the answer has the focus
        page.wait_for_selector("#confirm-yes:focus")
        assert "ERGO Hestia" in page.inner_text("#context")
        page.keyboard.press("Enter")
        # The list: every new one checked; leave two out
        page.wait_for_selector("#choice")
        expected = ihestia(portal)
        boxes = page.locator("#choice tbody input[type=checkbox]:not([disabled])")
        assert boxes.count() == len(expected)
        assert page.locator("#choice tbody input:checked").count() == len(expected)
        left_out = [expected[0].number, expected[1].number]
        for number in left_out:
            page.uncheck(f"#choice tr:has(td:text-is('{number}')) input")
        assert page.inner_text("#chosen-count") == f"Chosen: {len(expected) - 2} of {len(expected)}"
        # Filter by text, none/all, sorting by a column keeps the choice
        page.fill("#row-filter", expected[3].number)
        assert page.locator("#choice tbody tr:not(.group):visible").count() == 1
        page.fill("#row-filter", "")
        page.click("#choice th button:text-is('Number')")
        page.click("#import-chosen")
        finished(page)
        assert page.locator("#rows tr.state-done").count() == len(expected) - 2
        assert f"Imported {len(expected) - 2} policies." in page.inner_text("#outcome")
        stored = {r["number"] for r in rows(db_path, "SELECT number FROM policies")}
        assert stored == {p.number for p in expected} - set(left_out)
        # Again: the stored ones are apart and unchecked, the two left out are new and checked
        start_period(page, app="hestia", source="ihestia")
        page.click("#confirm-yes")
        page.wait_for_selector("#choice")
        assert page.locator("#choice tbody[data-group=stored] input:checked").count() == 0
        assert page.locator("#choice tbody[data-group=stored] tr:not(.group)").count() == len(expected) - 2
        assert page.locator("#choice tbody[data-group=new] input:checked").count() == 2
        page.click("#select-all")
        page.click("#select-new")
        assert page.inner_text("#chosen-count") == f"Chosen: 2 of {len(expected)}"
        page.click("#import-chosen")
        finished(page)
        assert page.locator("#rows tr.state-done").count() == 2
        assert len(rows(db_path, "SELECT number FROM policies")) == len(expected)


def test_identity_switch_is_guided_and_the_import_waits(ui_server, user_context, db_path):
    with HestiaPortal(count=4) as portal:
        app_tab = login(user_context, portal)
        server = ui_server("--no-open")
        page = open_page(user_context, server.url)
        start_period(page, app="hestia", source="ipegaz")
        # The tab shows ERGO Hestia; the agent needs MTU: "No", then the identity
        page.wait_for_selector("#confirm-no")
        assert "ERGO Hestia" in page.inner_text("#context")
        page.click("#confirm-no")
        page.check("#question input[value=MTU]")
        page.click("#choose")
        page.wait_for_selector("#look-again")
        assert "MTU" in page.inner_text("#switch-text")
        # Looking again without switching: still asked, nothing read
        page.click("#look-again")
        page.wait_for_selector("#look-again:not([disabled])")
        assert "MTU" in page.inner_text("#switch-text")
        # The agent switches in the app's tab, then says so on the page
        app_tab.select_option('#zmianaTozsamosci select[name="kod"]', "MTU")
        with app_tab.expect_navigation():
            app_tab.click('#zmianaTozsamosci [type="submit"]')
        assert app_tab.inner_text("#tozsamosc") == IDENTITY_LABELS["MTU"]
        page.click("#look-again")
        page.wait_for_selector("#confirm-yes")
        assert "MTU" in page.inner_text("#context")
        page.click("#confirm-yes")
        page.wait_for_selector("#import-chosen").click()
        finished(page)
        expected = {p.number for p in portal.policies["MTU"] if p.extra["system"] == "IPEGAZ"}
        stored = rows(db_path, "SELECT number, insurer FROM policies")
        assert {r["number"] for r in stored} == expected and all(r["insurer"] == "MTU" for r in stored)


def test_apps_change_by_themselves_when_the_agent_logs_in(ui_server, user_context):
    with HestiaPortal(count=3) as portal:
        server = ui_server("--no-open")
        page = open_page(user_context, server.url)
        page.wait_for_selector("#apps .problem")  # no app open yet
        app_tab = user_context.new_page()
        app_tab.goto(portal.login_url)
        page.wait_for_selector("#apps .state-not-logged-in", timeout=15_000)
        form = app_tab.locator(portal.LOGIN_FORM)
        for name, value in portal.LOGIN_FIELDS.items():
            form.locator(f'[name="{name}"]').fill(value)
        with app_tab.expect_navigation():
            form.locator('[type="submit"]').click()
        page.wait_for_selector("#apps .state-logged-in", timeout=15_000)
        assert "ERGO Hestia" in page.inner_text("#apps")


def test_without_a_debugging_browser_the_default_browser_opens_the_page(chromium, db_path, tmp_path):
    opened = tmp_path / "opened.txt"
    opener = f"{sys.executable} -c \"import sys; open({str(opened)!r}, 'w').write(sys.argv[1])\" %s"
    env = {**os.environ, "A21IMPORT_DB": str(db_path), "A21IMPORT_LOG": str(tmp_path / "log"),
           "A21IMPORT_LANG": "en", "BROWSER": opener, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "a21import", "ui", "--cdp", "http://127.0.0.1:9"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        url = process.stdout.readline().strip()
        assert "default browser" in process.stdout.readline()
        assert opened.read_text() == url
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) in (0, 130)
        assert "Traceback" not in process.stderr.read()


def test_stop_keeps_what_was_read_and_retry_reads_the_failed_ones(ui_server, user_context, db_path):
    with HestiaPortal(count=20, latency=0.2) as portal:
        expected = ihestia(portal)
        broken = expected[1].number
        portal.fail.add(broken)
        login(user_context, portal)
        server = ui_server("--no-open", "--concurrency", "1")
        page = open_page(user_context, server.url)
        start_period(page, app="hestia", source="ihestia")
        page.click("#confirm-yes")
        page.wait_for_selector("#import-chosen").click()
        # (wait_for_function would need eval, which the page's Content-Security-Policy refuses)
        page.locator("#rows tr.state-done").nth(2).wait_for()
        page.click("#stop")
        finished(page)
        done = page.locator("#rows tr.state-done").count()
        assert 3 <= done < len(expected) - 1
        assert page.locator("#rows tr.state-not-read").count() > 0
        assert page.locator("#rows tr.state-failed").count() == 1
        assert "Wystąpił błąd systemu" in page.inner_text(f"#rows tr:has(td:text-is('{broken}'))")
        assert len(rows(db_path, "SELECT id FROM policies")) == done
        # The failed one is mended in the app; retry reads it (the identity was confirmed already)
        portal.fail.discard(broken)
        page.click("#retry")
        page.wait_for_url(re.compile(r"/job$"))
        finished(page)
        assert page.locator("#rows tr.state-done").count() == 1
        assert broken in {r["number"] for r in rows(db_path, "SELECT number FROM policies")}


def test_one_policy_refresh_search_policy_page_and_export(ui_server, user_context, db_path, tmp_path):
    from openpyxl import load_workbook

    with HestiaPortal(count=6) as portal:
        login(user_context, portal)
        server = ui_server("--no-open")
        page = open_page(user_context, server.url)
        wanted = ihestia(portal)[0]
        page.goto(server.url.split("?")[0] + "import")
        page.fill("#policy-number", wanted.number)
        page.click("#policy-form button")
        page.click("#confirm-yes")
        finished(page)
        assert page.locator("#rows tr.state-done").count() == 1
        # Search with the Polish letters left out
        holder = wanted.holder.name
        folded = holder.translate(str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ")).lower()
        page.click("nav >> text=Policies")
        page.fill("#q", folded.split()[0])
        page.click("#apply")
        assert wanted.number in page.inner_text("#policies")
        assert holder in page.inner_text("#policies")  # shown as text, markup characters and all
        # Export this view
        with page.expect_download() as download:
            page.click("#export")
        path = tmp_path / "view.xlsx"
        download.value.save_as(path)
        sheet = load_workbook(path).active
        assert wanted.number in [row[0].value for row in sheet.iter_rows(min_row=2)]
        # The policy's page, then refresh it from there
        page.click(f"#policies a:text-is('{wanted.number}')")
        page.wait_for_selector("article.policy")
        assert "zł" in page.inner_text("article.policy")
        assert re.search(r"\d\d\.\d\d\.\d{4}", page.inner_text("article.policy"))
        first_import = rows(db_path, "SELECT imported_at FROM policies")[0]["imported_at"]
        page.click("article.policy .row-action button")
        page.click("#confirm-yes")
        finished(page)
        assert page.locator("#rows tr.state-done").count() == 1
        assert rows(db_path, "SELECT imported_at FROM policies")[0]["imported_at"] >= first_import
        # Refresh every policy with an installment due (within a year: the fixture's installments are unpaid)
        page.click("nav a[href='/import']")
        page.fill("#due-form [name=days]", "366")
        page.click("#due-form button")
        page.wait_for_url(re.compile(r"/job$"))
        page.wait_for_selector("#confirm-yes, #job[data-finished='1']", state="attached")
        if page.locator("#confirm-yes").count():  # policies to read: the identity is confirmed first
            page.click("#confirm-yes")
        finished(page)
        assert page.get_attribute("#job", "data-exit-code") == "0", page.inner_text("#job")
