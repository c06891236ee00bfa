"""Proama ProAgent end to end: the real CLI attached to Chromium, reading the fixture portal from a
tab logged in through the app's own form, writing a real database."""

from __future__ import annotations

import json
import re
import sqlite3
import urllib.error
import urllib.request
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from tests.conftest import login
from tests.fixtures.proama_portal import ProamaPortal

pytestmark = pytest.mark.integration

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


def expected_client_id(holder: dict) -> str | None:
    for label, key in (("PESEL", "pesel"), ("NIP", "nip"), ("REGON", "regon")):
        if holder[key]:
            return f"{label}:{holder[key]}"
    return None  # the importer's own hash


def expected_vehicle(pojazd: dict | None) -> dict | None:
    if pojazd is None:
        return None
    vin = pojazd["vin"].upper() if pojazd["vin"] else None
    registration = pojazd["nrRejestracyjny"].replace(" ", "").upper() if pojazd["nrRejestracyjny"] else None
    if not vin and not registration:
        return None
    return {"id": f"VIN:{vin}" if vin else f"REG:{registration}", "registration": registration, "vin": vin,
            "make": pojazd["marka"], "model": pojazd["model"], "production_year": pojazd["rokProdukcji"]}


def assert_stored_as_served(db_path, portal, numer):
    """The stored rows of one policy are exactly what the API served, mapped as proama.md says."""
    d = portal.details[numer]
    [policy] = rows(db_path, "SELECT * FROM policies WHERE id = ?", f"PROAMA:{numer}")
    holder = d["ubezpieczajacy"]
    vehicle = expected_vehicle(d["pojazd"])
    assert {k: policy[k] for k in ("number", "insurer", "source_app", "source_system", "product", "product_line",
                                   "status", "issue_date", "start_date", "end_date", "premium_gr", "currency",
                                   "vehicle_id")} == {
        "number": numer, "insurer": "PROAMA", "source_app": "proama", "source_system": None, "product": d["produkt"],
        "product_line": LINES[d["linia"]], "status": d["status"], "issue_date": d["dataWystawienia"],
        "start_date": d["okresOd"], "end_date": d["okresDo"], "premium_gr": d["skladkaGr"], "currency": "PLN",
        "vehicle_id": vehicle["id"] if vehicle else None,
    }
    client_id = expected_client_id(holder)
    if client_id is None:
        assert policy["holder_id"].startswith("HASH:")
    else:
        assert policy["holder_id"] == client_id
    [client] = rows(db_path, "SELECT * FROM clients WHERE id = ?", policy["holder_id"])
    name = holder["nazwa"] if holder["typ"] == "FIRMA" else f"{holder['imie']} {holder['nazwisko']}"
    assert {k: client[k] for k in ("kind", "name", "pesel", "nip", "regon", "street", "postal_code", "city",
                                   "phone", "email")} == {
        "kind": "company" if holder["typ"] == "FIRMA" else "person", "name": name, "pesel": holder["pesel"],
        "nip": holder["nip"], "regon": holder["regon"], "street": holder["adres"]["ulica"],
        "postal_code": holder["adres"]["kodPocztowy"], "city": holder["adres"]["miejscowosc"],
        "phone": holder["telefon"], "email": holder["email"],
    }
    if vehicle:
        [stored_vehicle] = rows(db_path, "SELECT * FROM vehicles WHERE id = ?", vehicle["id"])
        assert {k: stored_vehicle[k] for k in vehicle} == vehicle
    installments = rows(db_path, "SELECT seq, due_date, amount_gr, paid FROM installments WHERE policy_id = ? "
                        "ORDER BY seq", f"PROAMA:{numer}")
    assert installments == [{"seq": r["nr"], "due_date": r["termin"], "amount_gr": r["kwotaGr"],
                             "paid": int(r["status"] == "OPLACONA")} for r in portal.schedules[numer]["raty"]]
    coverages = rows(db_path, "SELECT code, name, sum_insured_gr, premium_gr FROM coverages WHERE policy_id = ?",
                     f"PROAMA:{numer}")
    assert sorted(coverages, key=lambda c: c["code"]) == sorted(
        ({"code": r["kod"], "name": r["nazwa"], "sum_insured_gr": r["sumaGr"], "premium_gr": r["skladkaGr"]}
         for r in d["ryzyka"]), key=lambda c: c["code"])


def list_requests(portal) -> list[str]:
    return [path for method, path, _a, _b in portal.api_log if path.startswith("/agent-api/v1/polisy?")]


# -- the period import -----------------------------------------------------------------------------
def test_period_imports_every_individual_policy_across_pages(user_context, run_cli, db_path):
    with ProamaPortal() as portal:
        page = logged_in(user_context, portal)
        token = tab_token(page)
        result = run_cli(*PERIOD)
        assert result.returncode == 0, result.stdout + result.stderr

        wanted, skipped = individual(portal), not_individual(portal)
        assert len(wanted) > 30 and len(skipped) >= 3
        assert stored_numbers(db_path) == set(wanted)
        for numer in wanted:
            assert_stored_as_served(db_path, portal, numer)

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
        api = [entry for entry in portal.api_log if entry[1] != "/agent-api/v1/sesja"]
        assert api and all(auth == f"Bearer {token}" and accept == "application/json"
                           for _m, _p, auth, accept in api)


def test_failing_and_broken_policies_are_red_and_the_others_stored(user_context, run_cli, db_path):
    with ProamaPortal() as portal:
        wanted = individual(portal)
        detail_502, schedule_502, garbage, euro, bad_rata = wanted[3], wanted[7], wanted[11], wanted[15], wanted[20]
        portal.fail = {detail_502}
        portal.fail_schedule = {schedule_502}
        portal.garbage = {garbage}
        portal.details[euro]["waluta"] = "EUR"
        portal.schedules[bad_rata]["raty"][0]["status"] = "CZESCIOWO_OPLACONA"
        logged_in(user_context, portal)
        result = run_cli(*PERIOD)
        assert result.returncode == 1, result.stdout + result.stderr
        red = {detail_502, schedule_502, garbage, euro, bad_rata}
        assert stored_numbers(db_path) == set(wanted) - red
        for numer in red:
            assert numer in result.stdout
        assert "System polisowy nie odpowiada" in result.stdout
        assert "EUR" in result.stdout and "CZESCIOWO_OPLACONA" in result.stdout
        assert not rows(db_path, "SELECT * FROM installments WHERE policy_id IN (?, ?)",
                        f"PROAMA:{schedule_502}", f"PROAMA:{bad_rata}")


def test_expired_token_mid_batch_stops_and_keeps_what_was_imported(user_context, run_cli, db_path):
    # 3 list pages, then detail + harmonogram per policy: about 8 policies before the 401.
    with ProamaPortal(expire_after=3 + 16) as portal:
        logged_in(user_context, portal)
        result = run_cli(*PERIOD)
        assert result.returncode == 3, result.stdout + result.stderr
        assert "Log in to ProAgent" in result.stderr
        stored = stored_numbers(db_path)
        assert 5 <= len(stored) <= 8
        assert stored < set(individual(portal))
        for numer in stored:
            assert_stored_as_served(db_path, portal, numer)
        assert portal.sessions and all(s.expired for s in portal.sessions.values())


def test_second_run_adds_nothing_and_include_stored_keeps_one_row_each(user_context, run_cli, db_path):
    with ProamaPortal(count=30) as portal:
        logged_in(user_context, portal)
        assert run_cli(*PERIOD).returncode == 0
        wanted = individual(portal)
        counts = [len(rows(db_path, f"SELECT * FROM {t}")) for t in ("policies", "installments", "coverages")]
        reads = len(portal.detail_requests())

        again = run_cli(*PERIOD)
        assert again.returncode == 0, again.stdout + again.stderr
        assert len(portal.detail_requests()) == reads  # nothing read again
        assert [len(rows(db_path, f"SELECT * FROM {t}")) for t in ("policies", "installments", "coverages")] == counts

        portal.details[wanted[0]]["status"] = "ANULOWANA"
        forced = run_cli(*PERIOD[:-1], "--include-stored", "--yes")
        assert forced.returncode == 0, forced.stdout + forced.stderr
        assert len(portal.detail_requests()) == reads * 2
        assert [len(rows(db_path, f"SELECT * FROM {t}")) for t in ("policies", "installments", "coverages")] == counts
        assert rows(db_path, "SELECT status FROM policies WHERE number = ?", wanted[0]) == [{"status": "ANULOWANA"}]


# -- one policy ------------------------------------------------------------------------------------
def test_policy_by_number(user_context, run_cli, db_path):
    with ProamaPortal(count=20) as portal:
        logged_in(user_context, portal)
        numer = next(n for n in individual(portal) if portal.details[n]["pojazd"])
        result = run_cli("policy", numer, "--app", "proama", "--yes")
        assert result.returncode == 0, result.stdout + result.stderr
        assert stored_numbers(db_path) == {numer}
        assert_stored_as_served(db_path, portal, numer)
        # The look-up is the detail: one detail request, one harmonogram, no list.
        assert [p for _m, p, _a, _b in portal.api_log] == [
            "/agent-api/v1/sesja", f"/agent-api/v1/polisy/{numer}", f"/agent-api/v1/polisy/{numer}/harmonogram"]

        portal.details[numer]["status"] = "WYGASLA"
        refreshed = run_cli("refresh", numer, "--yes")
        assert refreshed.returncode == 0, refreshed.stdout + refreshed.stderr
        assert rows(db_path, "SELECT status FROM policies") == [{"status": "WYGASLA"}]


def test_policy_of_a_non_individual_client_is_not_imported(user_context, run_cli, db_path):
    with ProamaPortal(count=20) as portal:
        logged_in(user_context, portal)
        numer = not_individual(portal)[0]
        result = run_cli("policy", numer, "--app", "proama", "--yes")
        assert result.returncode == 1, result.stdout + result.stderr
        assert "klientIndywidualny false" in result.stdout
        assert stored_numbers(db_path) == set()
        assert portal.detail_requests() == [numer]  # the detail decided; no harmonogram


def test_policy_failing_in_the_back_end(user_context, run_cli, db_path):
    with ProamaPortal(count=20) as portal:
        numer = individual(portal)[0]
        portal.fail = {numer}
        logged_in(user_context, portal)
        result = run_cli("policy", numer, "--app", "proama", "--yes")
        assert result.returncode == 1, result.stdout + result.stderr
        assert "System polisowy nie odpowiada" in result.stdout
        assert stored_numbers(db_path) == set()


def test_unknown_and_malformed_numbers(user_context, run_cli, db_path):
    with ProamaPortal(count=10) as portal:
        logged_in(user_context, portal)
        unknown = "5600000001"
        assert unknown not in portal.details
        result = run_cli("policy", unknown, "--app", "proama", "--yes")
        assert result.returncode == 1, result.stdout + result.stderr
        assert unknown in result.stdout
        assert f"Nie znaleziono polisy {unknown}" in result.stdout

        before = len(portal.api_log)
        malformed = run_cli("policy", "5700000001", "--app", "proama", "--yes")  # other forms: unit tests
        assert malformed.returncode == 2, malformed.stdout + malformed.stderr
        assert "starting with 56" in malformed.stderr
        assert len(portal.api_log) == before  # nothing sent for a malformed number
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
