"""Proama ProAgent end to end: the real CLI reading the fixture portal from a tab logged in through the app's
own login, writing a real database; in this process over an in-process tab (tests/fixtures/incli.py) for the
flow tests, attached to Chromium where a test drives the page or its token."""

from __future__ import annotations

import json
import re
import sqlite3
import urllib.error
import urllib.request
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from tests.conftest import login
from tests.fixtures.contract import stored_policy, truth_of
from tests.fixtures.proama_portal import CONTRACTS, ProamaPortal

pytestmark = pytest.mark.integration

[CONTRACT] = CONTRACTS
PERIOD = ("period", "--app", "proama", "--from", "2026-11-01", "--to", "2026-11-16", "--yes")
LINES = {"KOMUNIKACJA": "motor", "MIESZKANIE": "property", "PODROZ": "travel", "NNW": "other"}


def rows(db_path, sql, *args):
    with sqlite3.connect(db_path) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, args)]


def stored_numbers(db_path) -> set[str]:
    if not db_path.exists():
        return set()
    return {r["number"] for r in rows(db_path, "SELECT number FROM policies")}


def individual(portal) -> list[str]:
    return [n for n in portal.numbers if portal.details[n]["klientIndywidualny"]]


def not_individual(portal) -> list[str]:
    return [n for n in portal.numbers if not portal.details[n]["klientIndywidualny"]]


def logged_in(context, portal):
    """Logs in through form#logowanie and waits for the shell to show the agent."""
    page = login(context, portal)
    page.wait_for_selector("#root .pa-agent")
    assert urlsplit(page.url).path == "/"
    return page


def tab_token(page) -> str:
    return json.loads(page.evaluate("() => sessionStorage.getItem('proagent.auth')"))["accessToken"]


def assert_stored_as_served(db_path, portal, numer):
    """The stored rows of one policy are exactly what the API served, mapped as proama.md says."""
    assert stored_policy(db_path, f"PROAMA:{numer}") == truth_of(CONTRACT, portal, f"PROAMA:{numer}")


def list_requests(portal) -> list[str]:
    return [path for method, path, _a, _b in portal.api_log if path.startswith("/agent-api/v1/polisy?")]


# -- the period import: tests/test_contract_cli.py compares every row; here what only ProAgent does -------
def period_as_proagent_serves_it(portal, result, db_path):
    wanted, skipped = individual(portal), not_individual(portal)
    assert len(wanted) > 30 and len(skipped) >= 3

    # Every kind of record the spec names made it through with its values.
    kinds = {(portal.details[n]["linia"], portal.details[n]["ubezpieczajacy"]["typ"]) for n in wanted}
    assert {("KOMUNIKACJA", "OSOBA"), ("MIESZKANIE", "FIRMA")} <= kinds
    assert {LINES[portal.details[n]["linia"]] for n in wanted} == {"motor", "property", "travel", "other"}
    names = {r["name"] for r in rows(db_path, "SELECT name FROM clients")}
    assert 'Kowalski & Syn "Łąka" s.c.' in names
    assert "Sklep [bold red]Pod Lipą[/bold red] Sp. z o.o." in names

    # Listed, reported with the spec's reason, and neither detail nor harmonogram asked for.
    assert "klientIndywidualny false" in result.stdout
    for numer in skipped:
        assert numer in result.stdout
    assert not set(portal.detail_requests()) & set(skipped)
    assert sorted(portal.detail_requests()) == sorted(wanted * 2)

    # Cursor paging: three pages, the first one short of the limit, the cursor percent-encoded.
    pages = list_requests(portal)
    assert len(pages) == 3
    queries = [parse_qs(urlsplit(p).query) for p in pages]
    assert all(q["dataOd"] == ["2026-11-01"] and q["dataDo"] == ["2026-11-16"] and q["limit"] == ["25"]
               for q in queries)
    assert "kursor" not in queries[0]
    for path in pages[1:]:
        assert "kursor=%2B" in path and "%3D%3D" in path

    # The tab's own token and the JSON Accept on every API request.
    token = next(t for t, sid in portal.tokens.items() if sid in portal.sessions)
    api = [entry for entry in portal.api_log if entry[1] != "/agent-api/v1/sesja"]
    assert api and all(auth == f"Bearer {token}" and accept == "application/json" for _m, _p, auth, accept in api)


AFTER_PERIOD = {"proama": period_as_proagent_serves_it}


def test_failing_and_broken_policies_are_red_and_the_others_stored(cli, db_path):
    with ProamaPortal() as portal:
        wanted = individual(portal)
        detail_502, schedule_502, garbage, euro, bad_rata = wanted[3], wanted[7], wanted[11], wanted[15], wanted[20]
        portal.fail = {detail_502}
        portal.fail_schedule = {schedule_502}
        portal.garbage = {garbage}
        portal.details[euro]["waluta"] = "EUR"
        portal.schedules[bad_rata]["raty"][0]["status"] = "CZESCIOWO_OPLACONA"
        cli.login(portal)
        result = cli(*PERIOD)
        assert result.returncode == 1, result.stdout + result.stderr
        red = {detail_502, schedule_502, garbage, euro, bad_rata}
        assert stored_numbers(db_path) == set(wanted) - red
        for numer in red:
            assert numer in result.stdout
        assert "System polisowy nie odpowiada" in result.stdout
        assert "EUR" in result.stdout and "CZESCIOWO_OPLACONA" in result.stdout
        assert not rows(db_path, "SELECT * FROM installments WHERE policy_id IN (?, ?)",
                        f"PROAMA:{schedule_502}", f"PROAMA:{bad_rata}")


def test_expired_token_mid_batch_stops_and_keeps_what_was_imported(cli, db_path):
    # 3 list pages, then detail + harmonogram per policy: about 8 policies before the 401.
    with ProamaPortal(expire_after=3 + 16) as portal:
        cli.login(portal)
        result = cli(*PERIOD)
        assert result.returncode == 3, result.stdout + result.stderr
        assert "Log in to ProAgent" in result.stderr
        stored = stored_numbers(db_path)
        assert 5 <= len(stored) <= 8
        assert stored < set(individual(portal))
        for numer in stored:
            assert_stored_as_served(db_path, portal, numer)
        assert portal.sessions and all(s.expired for s in portal.sessions.values())


# -- one policy ------------------------------------------------------------------------------------
def test_policy_by_number(cli, db_path):
    with ProamaPortal(count=20) as portal:
        cli.login(portal)
        numer = next(n for n in individual(portal) if portal.details[n]["pojazd"])
        result = cli("policy", numer, "--app", "proama", "--yes")
        assert result.returncode == 0, result.stdout + result.stderr
        assert stored_numbers(db_path) == {numer}
        assert_stored_as_served(db_path, portal, numer)
        # The look-up is the detail: one detail request, one harmonogram, no list.
        assert [p for _m, p, _a, _b in portal.api_log] == [
            "/agent-api/v1/sesja", f"/agent-api/v1/polisy/{numer}", f"/agent-api/v1/polisy/{numer}/harmonogram"]

        portal.details[numer]["status"] = "WYGASLA"
        refreshed = cli("refresh", numer, "--yes")
        assert refreshed.returncode == 0, refreshed.stdout + refreshed.stderr
        assert rows(db_path, "SELECT status FROM policies") == [{"status": "WYGASLA"}]


def test_policy_of_a_non_individual_client_is_not_imported(cli, db_path):
    with ProamaPortal(count=20) as portal:
        cli.login(portal)
        numer = not_individual(portal)[0]
        result = cli("policy", numer, "--app", "proama", "--yes")
        assert result.returncode == 1, result.stdout + result.stderr
        assert "klientIndywidualny false" in result.stdout
        assert stored_numbers(db_path) == set()
        assert portal.detail_requests() == [numer]  # the detail decided; no harmonogram


def test_policy_failing_in_the_back_end(cli, db_path):
    with ProamaPortal(count=20) as portal:
        numer = individual(portal)[0]
        portal.fail = {numer}
        cli.login(portal)
        result = cli("policy", numer, "--app", "proama", "--yes")
        assert result.returncode == 1, result.stdout + result.stderr
        assert "System polisowy nie odpowiada" in result.stdout
        assert stored_numbers(db_path) == set()


def test_unknown_number(cli, db_path):
    with ProamaPortal(count=10) as portal:
        cli.login(portal)
        unknown = "5600000001"
        assert unknown not in portal.details
        result = cli("policy", unknown, "--app", "proama", "--yes")
        assert result.returncode == 1, result.stdout + result.stderr
        assert unknown in result.stdout
        assert f"Nie znaleziono polisy {unknown}" in result.stdout
        assert stored_numbers(db_path) == set()


# -- the token: per tab, from sessionStorage, cookies irrelevant -------------------------------------------
def test_tab_without_token_is_not_logged_in(user_context, run_cli, db_path):
    with ProamaPortal(count=10) as portal:
        page = logged_in(user_context, portal)
        # The shell still shows the agent and the cookie is still there, but the tab holds no token.
        page.evaluate("() => sessionStorage.removeItem('proagent.auth')")
        assert page.locator("#root .pa-agent").text_content() == "Anna Nowak"
        result = run_cli(*PERIOD)
        assert result.returncode == 3, result.stdout + result.stderr
        assert "not logged in" in result.stderr and "Log in to ProAgent" in result.stderr
        assert [p for _m, p, _a, _b in portal.api_log] == ["/agent-api/v1/sesja"]
        assert stored_numbers(db_path) == set()


def test_logged_out_tab_of_the_app_does_not_hide_the_logged_in_one(user_context, run_cli, db_path):
    with ProamaPortal(count=10) as portal:
        stranger = user_context.new_page()
        stranger.goto(portal.login_url)  # opened first, never logged in: no token in its sessionStorage
        page = logged_in(user_context, portal)
        # The cookie is shared by the tabs, the token is not; without cookies the API still answers.
        user_context.clear_cookies()
        result = run_cli(*PERIOD)
        assert result.returncode == 0, result.stdout + result.stderr
        assert stored_numbers(db_path) == set(individual(portal))
        token = tab_token(page)
        assert {auth for _m, p, auth, _a in portal.api_log if p != "/agent-api/v1/sesja"} == {f"Bearer {token}"}


def test_latest_login_in_the_tab_is_the_token_used(user_context, run_cli, db_path):
    with ProamaPortal(count=10) as portal:
        page = logged_in(user_context, portal)
        first = tab_token(page)
        page.goto(portal.login_url)
        form = page.locator(portal.LOGIN_FORM)
        form.locator('[name="login"]').fill("a.nowak")
        form.locator('[name="haslo"]').fill("inne")
        with page.expect_navigation():
            form.locator('[type="submit"]').click()
        page.wait_for_selector("#root .pa-agent")
        second = tab_token(page)
        assert second != first
        portal.tokens.pop(first)  # the old token no longer opens the API
        result = run_cli(*PERIOD)
        assert result.returncode == 0, result.stdout + result.stderr
        assert {auth for _m, p, auth, _a in portal.api_log if p != "/agent-api/v1/sesja"} == {f"Bearer {second}"}


# -- the portal keeps to the spec (it also checks other implementations) -------------------------------
def test_portal_api_answers_by_token_alone_and_guards_its_cursor(user_context):
    with ProamaPortal(count=60) as portal:
        page = logged_in(user_context, portal)
        token = tab_token(page)
        base = f"http://127.0.0.1:{portal.port}"

        def get(path, auth=True):
            headers = {"Accept": "application/json", "Host": f"{portal.HOSTS[0]}:{portal.port}"}
            if auth:
                headers["Authorization"] = f"Bearer {token}"
            try:
                with urllib.request.urlopen(urllib.request.Request(base + path, headers=headers)) as r:
                    return r.status, json.loads(r.read())
            except urllib.error.HTTPError as exc:
                return exc.code, json.loads(exc.read())

        query = "/agent-api/v1/polisy?dataOd=2026-11-01&dataDo=2026-11-16&limit=25"
        # Cookies alone: 401 (the browser sends PROAGENT_SID, not the token).
        answer = page.evaluate("async (u) => { const r = await fetch(u); return [r.status, await r.json()]; }", query)
        assert answer == [401, {"kod": "BRAK_AUTORYZACJI", "komunikat": "Sesja wygasła. Zaloguj się ponownie."}]

        status, first = get(query)
        assert status == 200 and len(first["pozycje"]) < 25 and first["nastepnyKursor"]
        cursor = first["nastepnyKursor"]
        assert all(ch in cursor for ch in "+/=") and len(cursor) <= 200
        bad_cursor = (400, {"kod": "NIEPRAWIDLOWY_KURSOR", "komunikat": "Nieprawidłowy kursor."})
        assert get(query + "&kursor=" + cursor) == bad_cursor  # raw "+" arrives as a space
        assert get(query.replace("limit=25", "limit=24") + "&kursor=" + quote(cursor, safe="")) == bad_cursor
        assert get(query + "&kursor=" + quote(cursor[:-4] + "AAA=", safe="")) == bad_cursor
        status, second = get(query + "&kursor=" + quote(cursor, safe=""))
        assert status == 200 and len(second["pozycje"]) == 25
        bad_params = (400, {"kod": "NIEPRAWIDLOWE_PARAMETRY", "komunikat": "Nieprawidłowe parametry zapytania."})
        assert get(query.replace("limit=25", "limit=101")) == bad_params
        assert get(query.replace("2026-11-01", "01.11.2026")) == bad_params
        assert get("/agent-api/v1/polisy?dataOd=2026-12-01&dataDo=2026-12-02&limit=25") == (
            200, {"pozycje": [], "nastepnyKursor": None})
        assert get("/agent-api/v1/polisy/5600000001") == (
            404, {"kod": "NIE_ZNALEZIONO", "komunikat": "Nie znaleziono polisy 5600000001."})
        assert get("/agent-api/v1/polisy/5600000001/harmonogram")[0] == 404
        assert get(query, auth=False)[0] == 401

        # The list's order: issue date, then number.
        order = [(p["dataWystawienia"], p["numer"]) for p in first["pozycje"] + second["pozycje"]]
        assert order == sorted(order)
        assert re.fullmatch(r"56\d{8}", first["pozycje"][0]["numer"])

        # Without script the form posts to /login, which does the same server-side.
        form = urllib.request.Request(base + "/login", data=b"login=a.nowak&haslo=x", method="POST",
                                      headers={"Host": f"{portal.HOSTS[0]}:{portal.port}"})
        with urllib.request.urlopen(form) as answer:
            assert "PROAGENT_SID=" in answer.headers["Set-Cookie"]
            html = answer.read().decode()
        stored = json.loads(re.search(r"JSON\.stringify\((\{.*?\})\)\);", html).group(1))
        assert 'sessionStorage.setItem("proagent.auth"' in html and 'location.replace("/")' in html
        assert stored["agent"] == {"login": "a.nowak", "imieNazwisko": "Anna Nowak", "numer": "PA-004512"}
        assert stored["accessToken"] in portal.tokens

        # The shell needs the cookie.
        user_context.clear_cookies()
        page.goto(portal.url("/polisy"))
        assert urlsplit(page.url).path == "/login"
        assert page.locator("form#logowanie").count() == 1
