"""Hiperio end to end: the real CLI attached to Chromium, the fixture portal under its real host name,
and the SQLite database read back."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

import pytest

from a21import.formats import clean_registration
from a21import.model import insurer_name
from tests.conftest import login
from tests.fixtures.hiperio_portal import INSURER_NAMES, HiperioPortal

pytestmark = pytest.mark.integration

APP = "hiperio"
CODES = {"HESTIA": "ERGO_HESTIA", "YOU CAN DRIVE": "YCD"}  # the names whose code differs from the name
PERIOD = ("--from", "2026-11-01", "--to", "2026-11-16")


def code_of(name: str) -> str:
    return CODES.get(name, name)


def rows(db_path, sql: str, *args) -> list[dict]:
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in conn.execute(sql, args)]
    except sqlite3.OperationalError:  # no table yet: nothing was ever written
        return []
    finally:
        conn.close()


def policy_ids(db_path) -> set[str]:
    return {row["id"] for row in rows(db_path, "SELECT id FROM policies")}


def text(result) -> str:
    """stdout and stderr with Rich's line wrapping undone, for key-word checks."""
    return " ".join((result.stdout + " " + result.stderr).split())


def amount(text_amount: str | None) -> int | None:
    if text_amount is None:
        return None
    whole, cents = text_amount.split(".")
    return int(whole) * 100 + int(cents)


def assert_stored_as_in_portal(db_path, record: dict) -> None:
    """Every column of DATABASE.md for one policy, against the portal's own record."""
    pid = f"{code_of(record['towarzystwo'])}:{record['numer']}"
    [policy] = rows(db_path, "SELECT * FROM policies WHERE id = ?", pid)
    assert {k: policy[k] for k in (
        "number", "insurer", "source_app", "source_system", "product_line", "product", "status", "issue_date",
        "start_date", "end_date", "premium_gr", "currency",
    )} == {
        "number": record["numer"], "insurer": code_of(record["towarzystwo"]), "source_app": "hiperio",
        "source_system": None, "product_line": "motor", "product": record["produkt"], "status": record["status"],
        "issue_date": record["dataWystawienia"], "start_date": record["ochronaOd"], "end_date": record["ochronaDo"],
        "premium_gr": amount(record["skladka"]), "currency": "PLN",
    }
    assert policy["imported_at"]
    holder = record["ubezpieczajacy"]
    [client] = rows(db_path, "SELECT * FROM clients WHERE id = ?", policy["holder_id"])
    person = holder["typ"] == "OSOBA"
    assert {k: client[k] for k in (
        "kind", "name", "pesel", "nip", "regon", "street", "postal_code", "city", "phone", "email")} == {
        "kind": "person" if person else "company",
        "name": f"{holder['imie']} {holder['nazwisko']}" if person else holder["nazwa"],
        "pesel": holder["pesel"], "nip": holder["nip"], "regon": holder["regon"], "street": holder["ulica"],
        "postal_code": holder["kodPocztowy"], "city": holder["miejscowosc"], "phone": holder["telefon"],
        "email": holder["email"],
    }
    expected_client_id = (
        f"PESEL:{holder['pesel']}" if holder["pesel"] else f"NIP:{holder['nip']}" if holder["nip"]
        else f"REGON:{holder['regon']}" if holder["regon"] else None
    )
    if expected_client_id:
        assert policy["holder_id"] == expected_client_id
    else:
        assert policy["holder_id"].startswith("HASH:")
    vehicle = record["pojazd"]
    if vehicle["vin"] is None and vehicle["nrRejestracyjny"] is None:
        assert policy["vehicle_id"] is None
    else:
        vehicle_id = f"VIN:{vehicle['vin']}" if vehicle["vin"] else f"REG:{clean_registration(vehicle['nrRejestracyjny'])}"
        assert policy["vehicle_id"] == vehicle_id
        [stored] = rows(db_path, "SELECT * FROM vehicles WHERE id = ?", vehicle_id)
        assert {k: stored[k] for k in ("registration", "vin", "make", "model", "production_year")} == {
            "registration": clean_registration(vehicle["nrRejestracyjny"]), "vin": vehicle["vin"],
            "make": vehicle["marka"], "model": vehicle["model"], "production_year": vehicle["rokProdukcji"],
        }
    installments = rows(db_path, "SELECT seq, due_date, amount_gr, paid FROM installments WHERE policy_id = ? ORDER BY seq", pid)
    assert installments == [
        {"seq": r["nr"], "due_date": r["termin"], "amount_gr": amount(r["kwota"]), "paid": int(r["oplacona"])}
        for r in record["raty"]
    ]
    assert sum(i["amount_gr"] for i in installments) == policy["premium_gr"]
    coverages = rows(db_path, "SELECT code, name, sum_insured_gr, premium_gr FROM coverages WHERE policy_id = ? ORDER BY code", pid)
    assert coverages == sorted(
        ({"code": r["kod"], "name": r["nazwa"], "sum_insured_gr": amount(r["suma"]), "premium_gr": amount(r["skladka"])}
         for r in record["ryzyka"]),
        key=lambda c: c["code"],
    )


def expected_ids(portal: HiperioPortal, leave_out=()) -> set[str]:
    return {f"{code_of(r['towarzystwo'])}:{n}" for n, r in portal.records.items() if n not in leave_out}


def test_period_import_stores_every_policy_as_the_app_shows_it(user_context, run_cli, db_path):
    with HiperioPortal() as portal:
        login(user_context, portal)
        result = run_cli("period", "--app", APP, *PERIOD, "--yes")
        assert result.returncode == 0, text(result)
        assert policy_ids(db_path) == expected_ids(portal)
        for record in portal.records.values():
            assert_stored_as_in_portal(db_path, record)
        # The list carries whole records: one list request, no detail call.
        assert [path for _, _, path in portal.log if path.startswith("/api/")] == [
            "/api/sprzedaz/polisy?od=2026-11-01&do=2026-11-16"
        ]
        # What the data covers, so the comparisons above mean something.
        stored = rows(db_path, "SELECT insurer, vehicle_id FROM policies")
        assert {r["insurer"] for r in stored} >= {"ERGO_HESTIA", "YCD", "WARTA", "MTU", "LINK4"}
        assert any(r["vehicle_id"] is None for r in stored)
        names = {r["name"] for r in rows(db_path, "SELECT name FROM clients WHERE kind = 'company'")}
        assert any("[" in n for n in names) and any("&" in n for n in names) and any('"' in n for n in names)
        assert any("<" in n for n in names)
        assert rows(db_path, "SELECT count(*) AS n FROM coverages WHERE premium_gr IS NULL")[0]["n"] > 0

        again = run_cli("period", "--app", APP, *PERIOD, "--yes")
        assert again.returncode == 0, text(again)
        counts = {t: rows(db_path, f"SELECT count(*) AS n FROM {t}")[0]["n"]
                  for t in ("policies", "clients", "vehicles", "installments", "coverages")}
        first_import = {r["id"]: r["imported_at"] for r in rows(db_path, "SELECT id, imported_at FROM policies")}

        forced = run_cli("period", "--app", APP, *PERIOD, "--yes", "--include-stored")
        assert forced.returncode == 0, text(forced)
        assert {t: rows(db_path, f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in counts} == counts
        assert rows(db_path, "SELECT count(DISTINCT id) AS n FROM policies")[0]["n"] == 60
        assert set(first_import) == policy_ids(db_path)


def test_failing_broken_and_contract_breaking_policies_are_red_and_the_others_stored(user_context, run_cli, db_path):
    portal = HiperioPortal()
    numbers = sorted(portal.records)
    failing, broken, unknown, not_motor, euro = numbers[:5]
    portal.fail, portal.garbage = {failing}, {broken}
    portal.records[unknown]["towarzystwo"] = "NOWE TU S.A."
    portal.records[not_motor]["rodzaj"] = "MAJATEK"
    portal.records[euro]["waluta"] = "EUR"
    with portal:
        login(user_context, portal)
        result = run_cli("period", "--app", APP, *PERIOD, "--yes")
        out = text(result)
        assert result.returncode == 1, out
        assert policy_ids(db_path) == expected_ids(portal, leave_out=numbers[:5])
        assert not rows(db_path, "SELECT id FROM policies WHERE number IN (?, ?, ?, ?, ?)", *numbers[:5])
        assert f"{failing} ({insurer_name(code_of(portal.records[failing]['towarzystwo']))})" in out
        assert "Nie udało się pobrać danych polisy z systemu towarzystwa." in out
        assert broken in out and "skladka" in out
        assert "'NOWE TU S.A.'" in out and unknown in out
        assert "'MAJATEK'" in out and not_motor in out
        assert "'EUR'" in out and euro in out
        assert_stored_as_in_portal(db_path, portal.records[numbers[5]])


def halving(portal: HiperioPortal, first: date, last: date) -> list[tuple[str, str]]:
    """The list requests the spec's halving rule implies for the portal's data, in order."""
    count = sum(first <= p.issue_date <= last for p in portal.policies)
    requests = [(first.isoformat(), last.isoformat())]
    if count > 100 and first < last:
        middle = first + timedelta(days=(last - first).days // 2)
        requests += halving(portal, first, middle) + halving(portal, middle + timedelta(days=1), last)
    return requests


def test_a_busy_window_is_split_until_complete(user_context, run_cli, db_path):
    # 150 policies in four days: the halves must go three levels down before an answer is complete.
    with HiperioPortal(count=150, issued=(date(2026, 11, 1), date(2026, 11, 4))) as portal:
        login(user_context, portal)
        result = run_cli("period", "--app", APP, *PERIOD, "--yes")
        assert result.returncode == 0, text(result)
        assert policy_ids(db_path) == expected_ids(portal)
        assert len(policy_ids(db_path)) == 150
        requests = portal.list_requests()
        assert requests[:3] == [("2026-11-01", "2026-11-16"), ("2026-11-01", "2026-11-08"), ("2026-11-01", "2026-11-04")]
        assert requests == halving(portal, date(2026, 11, 1), date(2026, 11, 16))
        assert not any(path.startswith("/api/sprzedaz/polisy/") for _, _, path in portal.log)


def test_a_day_with_more_than_a_hundred_policies_is_reported_incomplete(user_context, run_cli, db_path):
    with HiperioPortal(count=130, issued=(date(2026, 11, 5), date(2026, 11, 5))) as portal:
        login(user_context, portal)
        result = run_cli("period", "--app", APP, *PERIOD, "--yes")
        out = text(result)
        assert result.returncode == 1, out
        first_hundred = sorted(portal.records)[:100]
        assert policy_ids(db_path) == {f"{code_of(portal.records[n]['towarzystwo'])}:{n}" for n in first_hundred}
        assert "only the first 100 policies issued on 2026-11-05" in out
        assert "the rest of that day could not be read" in out
        assert ("2026-11-05", "2026-11-05") in portal.list_requests()


def test_an_expired_session_stops_the_import_and_keeps_what_was_stored(user_context, run_cli, db_path):
    with HiperioPortal(count=150, issued=(date(2026, 11, 1), date(2026, 11, 4)), expire_after=3) as portal:
        login(user_context, portal)
        first = run_cli("period", "--app", APP, "--from", "2026-11-01", "--to", "2026-11-01", "--yes")
        assert first.returncode == 0, text(first)
        kept = policy_ids(db_path)
        assert kept and kept == {
            f"{code_of(r['towarzystwo'])}:{n}" for n, r in portal.records.items() if r["dataWystawienia"] == "2026-11-01"
        }
        # The busy period needs several list requests; the session dies after the first two of them.
        result = run_cli("period", "--app", APP, *PERIOD, "--yes")
        assert result.returncode == 3, text(result)
        assert "session has expired" in text(result)
        assert "Sesja wygasła" in text(result)
        assert policy_ids(db_path) == kept
        single = run_cli("policy", sorted(portal.records)[0], "--app", APP, "--yes")
        assert single.returncode == 3, text(single)


def test_one_policy_by_number(user_context, run_cli, db_path):
    portal = HiperioPortal()
    by_insurer = {r["towarzystwo"]: n for n, r in sorted(portal.records.items())}
    hestia, ycd, failing = by_insurer["HESTIA"], by_insurer["YOU CAN DRIVE"], by_insurer["PZU"]
    portal.fail = {failing}
    with portal:
        login(user_context, portal)
        result = run_cli("policy", hestia, "--app", APP, "--yes")
        assert result.returncode == 0, text(result)
        assert policy_ids(db_path) == {f"ERGO_HESTIA:{hestia}"}
        assert_stored_as_in_portal(db_path, portal.records[hestia])
        assert ("GET", "hiperio.asfpremium.pl", f"/api/sprzedaz/polisy/{hestia}") in portal.log

        result = run_cli("policy", ycd, "--app", APP, "--yes")
        assert result.returncode == 0, text(result)
        assert f"YCD:{ycd}" in policy_ids(db_path)

        refreshed = run_cli("refresh", hestia, "--yes")
        assert refreshed.returncode == 0, text(refreshed)
        assert len(policy_ids(db_path)) == 2

        failed = run_cli("policy", failing, "--app", APP, "--yes")
        assert failed.returncode == 1, text(failed)
        assert "BLAD_TOWARZYSTWA" in text(failed)
        assert not rows(db_path, "SELECT id FROM policies WHERE number = ?", failing)

        unknown = run_cli("policy", "1012345000", "--app", APP, "--yes")
        assert unknown.returncode == 1, text(unknown)
        assert "Nie znaleziono polisy o numerze 1012345000." in text(unknown)

        malformed = run_cli("policy", "908/2026/1", "--app", APP, "--yes")
        assert malformed.returncode == 2, text(malformed)
        assert "1 to 30 letters, digits or hyphens" in text(malformed)
        assert not any("908/2026" in path for _, _, path in portal.log)
        assert len(policy_ids(db_path)) == 2


def test_every_insurer_name_of_the_app_is_stored_under_its_code(user_context, run_cli, db_path):
    with HiperioPortal(count=len(INSURER_NAMES)) as portal:
        login(user_context, portal)
        result = run_cli("period", "--app", APP, *PERIOD, "--yes")
        assert result.returncode == 0, text(result)
        stored = {r["number"]: r["insurer"] for r in rows(db_path, "SELECT number, insurer FROM policies")}
        assert stored == {n: code_of(r["towarzystwo"]) for n, r in portal.records.items()}
        assert sorted({r["towarzystwo"] for r in portal.records.values()}) == sorted(INSURER_NAMES)


def test_a_tab_that_is_not_logged_in(user_context, run_cli, db_path):
    with HiperioPortal() as portal:
        page = user_context.new_page()
        page.goto(portal.login_url)
        result = run_cli("period", "--app", APP, *PERIOD, "--yes")
        assert result.returncode == 3, text(result)
        assert "not logged in" in text(result)
        assert not policy_ids(db_path)
