"""Switches that never dead-end (issue 12, points 2–4): the real CLI waits at its prompt while the test
acts as the agent in the browser (logs in, switches the identity, opens Warta's other section in a
new tab), then answers the prompt through stdin, and the import goes on."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest

from a21import import db as database
from a21import.periods import today_in_poland
from tests.conftest import ROOT, login, rows
from tests.fixtures.hestia_portal import IDENTITY_LABELS, HestiaPortal
from tests.fixtures.warta_portal import HOST_ZYCIE, WartaPortal

pytestmark = pytest.mark.integration

PERIOD = ("--from", "2026-11-01", "--to", "2026-11-16")
WAIT_PROMPT = "(q stops)"


def switch(page, identity: str) -> None:
    """The agent switches the identity in iHestia's header, as in the app."""
    page.select_option('#zmianaTozsamosci select[name="kod"]', identity)
    with page.expect_navigation():
        page.click('#zmianaTozsamosci [type="submit"]')
    assert page.inner_text("#tozsamosc") == IDENTITY_LABELS[identity]


class Session:
    """The CLI run interactively: what it printed so far, and answers typed at its prompts."""

    def __init__(self, chromium, db_path, *args: str):
        env = {**os.environ, "A21IMPORT_CDP": chromium.cdp_url, "A21IMPORT_DB": str(db_path),
               "A21IMPORT_LOG": str(db_path.parent / "a21import.log"), "A21IMPORT_LANG": "en", "COLUMNS": "200",
               "PYTHONIOENCODING": "utf-8", "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen([sys.executable, "-m", "a21import", *args], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                                        cwd=ROOT, bufsize=0)
        self.output = ""
        self._chunks: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while chunk := self.process.stdout.read(1):
            self._chunks.put(chunk)

    def expect(self, text: str, *, after: int = 0, timeout: float = 60) -> int:
        """Waits until `text` is printed (after position `after`); returns the position after it."""
        deadline = time.monotonic() + timeout
        while text not in self.output[after:]:
            try:
                self.output += self._chunks.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"{text!r} was not printed; the output was:\n{self.output}") from None
        return self.output.index(text, after) + len(text)

    def next_prompt(self, prompts: tuple[str, ...], after: int, timeout: float = 60) -> tuple[str | None, int, str]:
        """The first of `prompts` printed after `after`: (prompt, position after it, text before it since
        `after`); (None, end, rest) when the program ends first."""
        deadline = time.monotonic() + timeout
        while True:
            found = [(self.output.index(p, after), p) for p in prompts if p in self.output[after:]]
            if found:
                at, prompt = min(found)
                return prompt, at + len(prompt), self.output[after:at]
            if self.process.poll() is not None and self._chunks.empty():
                return None, len(self.output), self.output[after:]
            try:
                self.output += self._chunks.get(timeout=0.1)
            except queue.Empty:
                if time.monotonic() > deadline:
                    raise AssertionError(f"no prompt came; the output was:\n{self.output}") from None

    def answer(self, line: str) -> None:
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def finish(self, timeout: float = 120) -> int:
        self.process.stdin.close()
        code = self.process.wait(timeout)
        time.sleep(0.2)  # the reader thread takes what was left in the pipe
        while not self._chunks.empty():
            self.output += self._chunks.get()
        return code


def test_not_logged_in_waits_for_the_login_then_imports(user_context, chromium, db_path):
    with HestiaPortal(count=6) as portal:
        page = user_context.new_page()
        page.goto(portal.login_url)
        cli = Session(chromium, db_path, "period", *PERIOD, "--source", "ihestia")
        cli.expect("not logged in")
        cli.expect(WAIT_PROMPT)
        form = page.locator(portal.LOGIN_FORM)
        for name, value in portal.LOGIN_FIELDS.items():
            form.locator(f'[name="{name}"]').fill(value)
        with page.expect_navigation():
            form.locator('[type="submit"]').click()
        cli.answer("")
        cli.expect("Is this the right identity and app? [Y/n]")
        cli.answer("y")
        cli.expect("Rows to import")
        cli.answer("")
        cli.expect("Go on with this choice?")
        cli.answer("")
        assert cli.finish() == 0, cli.output
        expected = {p.number for p in portal.policies["ERGO_HESTIA"] if p.extra["system"] != "IPEGAZ"}
        assert {r["number"] for r in rows(db_path, "SELECT number FROM policies")} == expected


def test_q_at_the_wait_stops_with_the_environment_exit_code(user_context, chromium, db_path):
    with HestiaPortal(count=3) as portal:
        user_context.new_page().goto(portal.login_url)
        cli = Session(chromium, db_path, "period", *PERIOD, "--source", "ihestia")
        cli.expect(WAIT_PROMPT)
        cli.answer("q")
        assert cli.finish() == 3


def test_warta_section_switch_finds_the_life_tab_opened_after_the_prompt(user_context, chromium, db_path):
    with WartaPortal() as portal:
        login(user_context, portal)  # eAgent (Majątek)
        life = portal.zycie_policies[0]
        cli = Session(chromium, db_path, "policy", life.number, "--app", "warta")
        cli.expect("Is this the right identity and app?")
        cli.answer("y")
        position = cli.expect(WAIT_PROMPT)
        # The agent opens ePlatforma in a new tab and logs in there, then presses Enter.
        login(user_context, portal, host=HOST_ZYCIE, fields=portal.login_fields_for(HOST_ZYCIE))
        cli.answer("")
        cli.expect("Is this the right identity and app?", after=position)
        cli.answer("t")
        assert cli.finish() == 0, cli.output
        assert cli.output.count(WAIT_PROMPT) == 1  # asked once, not forever
        assert [r["id"] for r in rows(db_path, "SELECT id FROM policies")] == [f"WARTA_ZYCIE:{life.number}"]


def test_refresh_due_across_identities_reads_one_group_at_a_time(user_context, chromium, db_path, run_cli):
    due_by = today_in_poland() + timedelta(days=30)
    with HestiaPortal(count=12) as portal:
        page = login(user_context, portal)
        assert run_cli("period", *PERIOD, "--source", "ihestia", "--yes").returncode == 0
        switch(page, "MTU")
        assert run_cli("period", *PERIOD, "--source", "ipegaz", "--identity", "MTU", "--yes").returncode == 0
        assert run_cli("period", *PERIOD, "--source", "ihestia", "--identity", "MTU", "--yes").returncode == 0
        due = rows(db_path, "SELECT DISTINCT p.insurer FROM policies p JOIN installments n ON n.policy_id = p.id "
                            "WHERE n.paid = 0 AND n.due_date <= ?", due_by.isoformat())
        assert {r["insurer"] for r in due} == {"ERGO_HESTIA", "MTU"}, "the data should hold both identities"
        db = database.open_db(db_path)
        db.execute("UPDATE policies SET imported_at = 'before'")
        db.conn.commit()
        db.close()

        # The tab shows MTU. Answer every prompt as the agent would: confirm, and switch to what is asked.
        cli = Session(chromium, db_path, "refresh", "--due", "--days", "30")
        switches, position = [], 0
        while True:
            prompt, position, asked = cli.next_prompt(("Is this the right identity and app?", WAIT_PROMPT), position)
            if prompt is None:
                break
            if prompt == WAIT_PROMPT:
                wanted = "MTU" if "this needs MTU" in asked else "ERGO_HESTIA"
                switch(page, wanted)
                switches.append(wanted)
                cli.answer("")
            else:
                cli.answer("y")
        code = cli.finish()
        assert code == 0, cli.output
        assert switches == ["ERGO_HESTIA", "MTU"] and "changed from" not in cli.output
        refreshed = {r["insurer"] for r in rows(db_path, "SELECT insurer FROM policies WHERE imported_at != 'before'")}
        assert refreshed == {"ERGO_HESTIA", "MTU"}
