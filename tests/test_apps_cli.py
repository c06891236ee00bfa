"""`a21import apps` for real: the session's Chromium with tabs of several fixture apps, logged in
or not, in another identity or section; what it shows, that it changes nothing, and that the
commands it suggests import from the right tab."""

from __future__ import annotations

import json
import shlex
import sqlite3
from datetime import date

import pytest

from tests.conftest import login
from tests.fixtures.hestia_portal import HestiaPortal
from tests.fixtures.tuz_portal import TuzPortal
from tests.fixtures.warta_portal import HOST_ZYCIE, WartaPortal

pytestmark = pytest.mark.integration


def said(text: str) -> str:
    """Output with its line wrapping undone."""
    return " ".join(text.split())


def stored(db_path, app: str) -> set[str]:
    con = sqlite3.connect(db_path)
    try:
        return {row[0] for row in con.execute("SELECT number FROM policies WHERE source_app = ?", (app,))}
    finally:
        con.close()


def switch_identity(page, code: str) -> None:
    """What the agent does in iHestia's header: choose the identity and confirm it."""
    page.select_option("#zmianaTozsamosci select[name=kod]", code)
    with page.expect_navigation():
        page.click("#zmianaTozsamosci button[type=submit]")


def period_of(command: str) -> tuple[date, date]:
    args = shlex.split(command)
    return date.fromisoformat(args[args.index("--from") + 1]), date.fromisoformat(args[args.index("--to") + 1])


def test_apps_shows_each_open_app_and_the_command_that_imports_from_it(user_context, run_cli, chromium, db_path):
    cdp = chromium.cdp_url
    with (HestiaPortal(count=6) as hestia, TuzPortal(count=5) as tuz,
          WartaPortal(count=5, life_count=6) as warta):
        hestia_tab = login(user_context, hestia)
        switch_identity(hestia_tab, "MTU")
        tuz_tab = user_context.new_page()  # opened, never logged in
        tuz_tab.goto(tuz.login_url)
        warta_tab = login(user_context, warta, host=HOST_ZYCIE, fields=warta.login_fields_for(HOST_ZYCIE))
        tabs = [(page, page.url) for page in (hestia_tab, tuz_tab, warta_tab)]
        requests = [len(portal.log) for portal in (hestia, tuz, warta)]

        result = run_cli("apps")
        assert result.returncode == 0, result.stdout + result.stderr
        text = said(result.stdout)
        # Looking changes nothing: no request reached any app, no tab moved.
        assert [len(portal.log) for portal in (hestia, tuz, warta)] == requests
        assert [page.url for page, _ in tabs] == [url for _, url in tabs]

        document = json.loads(run_cli("apps", "--json").stdout)
        assert [(a["app"], a["host"], a["source"]) for a in document["apps"]] == [
            ("hestia", "ihestia.ergohestia.pl", "ihestia"),
            ("tuz", "sobol-agencyjny.tuz.pl", None),
            ("warta", "eplatforma.warta.pl", "zycie"),
        ]
        (hestia_status,), (tuz_status,), (warta_status,) = (a["tabs"] for a in document["apps"])
        assert (hestia_status["state"], hestia_status["identity"], hestia_status["user"]) == ("logged in", "MTU", "0412345")
        assert (tuz_status["state"], tuz_status["command"]) == ("not logged in", None)
        assert (warta_status["state"], warta_status["identity"], warta_status["user"]) == (
            "logged in", "ZYCIE", "Anna Nowak")
        first, last = period_of(hestia_status["command"])
        assert hestia_status["command"] == (f"a21import period --from {first} --to {last} --app hestia "
                                            f"--source ihestia --identity MTU --cdp {cdp}")
        assert warta_status["command"] == (f"a21import period --from {first} --to {last} --app warta "
                                           f"--source zycie --identity ZYCIE --cdp {cdp}")

        hestia_block = (
            "Ergo Hestia iHestia (ihestia.ergohestia.pl) ✓ Logged in. iHestia is logged in as agent 0412345 with "
            f"the identity MTU. Identity: MTU (MTU). Import with: {hestia_status['command']} "
            "To read iPegaz instead, use --source ipegaz.")
        tuz_block = (
            "TUZ SOBOL (sobol-agencyjny.tuz.pl) ✗ Not logged in. The TUZ SOBOL tab is not logged in. Log in to "
            "SOBOL in that tab and run the command again.")
        warta_block = (
            "Warta eAgent / ePlatforma (eplatforma.warta.pl) ✓ Logged in. Logged in to Warta ePlatforma as Anna "
            "Nowak, section Życie (TUnŻ Warta life policies). Section: Życie (ePlatforma) (ZYCIE). "
            f"Import with: {warta_status['command']}")
        assert text.startswith(f"Supported apps open in the browser at {cdp}: {hestia_block} {tuz_block} "
                               f"{warta_block} ")
        assert text.endswith("The commands import this month so far; change --from and --to as you need.")

        # The suggested commands import from the tab they were shown for.
        for status, app in ((hestia_status, "hestia"), (warta_status, "warta")):
            run = run_cli(*shlex.split(status["command"])[1:], "--yes")
            assert run.returncode == 0, run.stdout + run.stderr
        assert stored(db_path, "hestia") == {
            p.number for p in hestia.policies["MTU"]
            if p.extra["system"] != "IPEGAZ" and first <= p.issue_date <= last}
        assert stored(db_path, "warta") == {p.number for p in warta.zycie_policies if first <= p.issue_date <= last}
        assert stored(db_path, "hestia") or first > date(2026, 11, 16), "the portal's policies fall in this month"


def test_apps_with_no_supported_tab_and_with_no_browser(user_context, run_cli, chromium):
    page = user_context.new_page()
    page.goto("data:text/html,<title>Not an app</title>")
    result = run_cli("apps")
    assert result.returncode == 0, result.stdout + result.stderr
    assert said(result.stdout) == (
        f"No tab of a supported app is open in the browser at {chromium.cdp_url}. The supported apps are: Ergo "
        "Hestia iHestia, Generali Merkury+, Proama ProAgent, TUZ SOBOL, Warta eAgent / ePlatforma, INSLY, UNILINK "
        "UniMarket, ASF Premium Hiperio, Skaner2. Open one of them in that browser, log in, and run "
        "`a21import apps` again.")
    document = json.loads(run_cli("apps", "--json").stdout)
    assert document["apps"] == [] and document["message"].startswith("No tab of a supported app is open")
    assert len(document["supported"]) == 9
    gone = run_cli("apps", "--cdp", "http://127.0.0.1:1")
    assert gone.returncode == 3
    assert said(gone.stderr).startswith("No browser answers at http://127.0.0.1:1.")
    remote = run_cli("apps", "--cdp", "http://192.0.2.1:9222")
    assert remote.returncode == 2 and "--allow-remote-cdp" in remote.stderr
