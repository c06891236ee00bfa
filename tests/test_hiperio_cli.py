"""Hiperio end to end: the real CLI over in-process tabs of the fixture portal under its real host name,
and the SQLite database read back."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

import pytest

from a21import.model import insurer_name
from tests.fixtures.contract import stored_policy, truth_of
from tests.fixtures.hiperio_portal import CODES, CONTRACTS, INSURER_NAMES, HiperioPortal

pytestmark = pytest.mark.integration

APP = "hiperio"
[CONTRACT] = CONTRACTS
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


def assert_stored_as_in_portal(db_path, portal: HiperioPortal, record: dict) -> None:
    """Every column of DATABASE.md for one policy, against the portal's own record."""
    key = f"{code_of(record['towarzystwo'])}:{record['numer']}"
    assert stored_policy(db_path, key) == truth_of(CONTRACT, portal, key)


def expected_ids(portal: HiperioPortal, leave_out=()) -> set[str]:
    return {f"{code_of(r['towarzystwo'])}:{n}" for n, r in portal.records.items() if n not in leave_out}


# The contract's period import (tests/test_contract_cli.py) compares every row; here what only Hiperio does.
def period_as_hiperio_lists_it(portal, result, db_path):
    # The list carries whole records: one list request, no detail call.
    assert [path for _, _, path in portal.log if path.startswith("/api/")] == [
        "/api/sprzedaz/polisy?od=2026-11-01&do=2026-11-16"
    ]
    # What the data covers, so the comparison meant something.
    stored = rows(db_path, "SELECT insurer, vehicle_id FROM policies")
    assert {r["insurer"] for r in stored} >= {"ERGO_HESTIA", "YCD", "WARTA", "MTU", "LINK4"}
    assert any(r["vehicle_id"] is None for r in stored)
    names = {r["name"] for r in rows(db_path, "SELECT name FROM clients WHERE kind = 'company'")}
    assert any("[" in n for n in names) and any("&" in n for n in names) and any('"' in n for n in names)
    assert any("<" in n for n in names)
    assert rows(db_path, "SELECT count(*) AS n FROM coverages WHERE premium_gr IS NULL")[0]["n"] > 0


AFTER_PERIOD = {"hiperio": period_as_hiperio_lists_it}


def test_failing_broken_and_contract_breaking_policies_are_red_and_the_others_stored(cli, db_path):
    portal = HiperioPortal()
    numbers = sorted(portal.records)
    failing, broken, unknown, not_motor, euro = numbers[:5]
    portal.fail, portal.garbage = {failing}, {broken}
    portal.records[unknown]["towarzystwo"] = "NOWE TU S.A."
    portal.records[not_motor]["rodzaj"] = "MAJATEK"
    portal.records[euro]["waluta"] = "EUR"
    with portal:
        cli.login(portal)
        result = cli("period", "--app", APP, *PERIOD, "--yes")
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
        assert_stored_as_in_portal(db_path, portal, portal.records[numbers[5]])


def halving(portal: HiperioPortal, first: date, last: date) -> list[tuple[str, str]]:
    """The list requests the spec's halving rule implies for the portal's data, in order."""
    count = sum(first <= p.issue_date <= last for p in portal.policies)
    requests = [(first.isoformat(), last.isoformat())]
    if count > 100 and first < last:
        middle = first + timedelta(days=(last - first).days // 2)
        requests += halving(portal, first, middle) + halving(portal, middle + timedelta(days=1), last)
    return requests


def test_a_busy_window_is_split_until_complete(cli, db_path):
    # 150 policies in four days: the halves must go three levels down before an answer is complete.
    with HiperioPortal(count=150, issued=(date(2026, 11, 1), date(2026, 11, 4))) as portal:
        cli.login(portal)
        result = cli("period", "--app", APP, *PERIOD, "--yes")
        assert result.returncode == 0, text(result)
        assert policy_ids(db_path) == expected_ids(portal)
        assert len(policy_ids(db_path)) == 150
        requests = portal.list_requests()
        assert requests[:3] == [("2026-11-01", "2026-11-16"), ("2026-11-01", "2026-11-08"), ("2026-11-01", "2026-11-04")]
        assert requests == halving(portal, date(2026, 11, 1), date(2026, 11, 16))
        assert not any(path.startswith("/api/sprzedaz/polisy/") for _, _, path in portal.log)


def test_a_day_with_more_than_a_hundred_policies_is_reported_incomplete(cli, db_path):
    with HiperioPortal(count=130, issued=(date(2026, 11, 5), date(2026, 11, 5))) as portal:
        cli.login(portal)
        result = cli("period", "--app", APP, *PERIOD, "--yes")
        out = text(result)
        assert result.returncode == 1, out
        first_hundred = sorted(portal.records)[:100]
        assert policy_ids(db_path) == {f"{code_of(portal.records[n]['towarzystwo'])}:{n}" for n in first_hundred}
        assert "only the first 100 policies issued on 2026-11-05" in out
        assert "the rest of that day could not be read" in out
        assert ("2026-11-05", "2026-11-05") in portal.list_requests()


def test_an_expired_session_stops_the_import_and_keeps_what_was_stored(cli, db_path):
    with HiperioPortal(count=150, issued=(date(2026, 11, 1), date(2026, 11, 4)), expire_after=3) as portal:
        cli.login(portal)
        first = cli("period", "--app", APP, "--from", "2026-11-01", "--to", "2026-11-01", "--yes")
        assert first.returncode == 0, text(first)
        kept = policy_ids(db_path)
        assert kept and kept == {
            f"{code_of(r['towarzystwo'])}:{n}" for n, r in portal.records.items() if r["dataWystawienia"] == "2026-11-01"
        }
        # The busy period needs several list requests; the session dies after the first two of them.
        result = cli("period", "--app", APP, *PERIOD, "--yes")
        assert result.returncode == 3, text(result)
        assert "session has expired" in text(result)
        assert "Sesja wygasła" in text(result)
        assert policy_ids(db_path) == kept
        single = cli("policy", sorted(portal.records)[0], "--app", APP, "--yes")
        assert single.returncode == 3, text(single)


def test_one_policy_by_number(cli, db_path):
    portal = HiperioPortal()
    by_insurer = {r["towarzystwo"]: n for n, r in sorted(portal.records.items())}
    hestia, ycd, failing = by_insurer["HESTIA"], by_insurer["YOU CAN DRIVE"], by_insurer["PZU"]
    portal.fail = {failing}
    with portal:
        cli.login(portal)
        result = cli("policy", hestia, "--app", APP, "--yes")
        assert result.returncode == 0, text(result)
        assert policy_ids(db_path) == {f"ERGO_HESTIA:{hestia}"}
        assert_stored_as_in_portal(db_path, portal, portal.records[hestia])
        assert ("GET", "hiperio.asfpremium.pl", f"/api/sprzedaz/polisy/{hestia}") in portal.log

        result = cli("policy", ycd, "--app", APP, "--yes")
        assert result.returncode == 0, text(result)
        assert f"YCD:{ycd}" in policy_ids(db_path)

        refreshed = cli("refresh", hestia, "--yes")
        assert refreshed.returncode == 0, text(refreshed)
        assert len(policy_ids(db_path)) == 2

        failed = cli("policy", failing, "--app", APP, "--yes")
        assert failed.returncode == 1, text(failed)
        assert "BLAD_TOWARZYSTWA" in text(failed)
        assert not rows(db_path, "SELECT id FROM policies WHERE number = ?", failing)

        unknown = cli("policy", "1012345000", "--app", APP, "--yes")
        assert unknown.returncode == 1, text(unknown)
        assert "Nie znaleziono polisy o numerze 1012345000." in text(unknown)
        assert len(policy_ids(db_path)) == 2


def test_every_insurer_name_of_the_app_is_stored_under_its_code(cli, db_path):
    with HiperioPortal(count=len(INSURER_NAMES)) as portal:
        cli.login(portal)
        result = cli("period", "--app", APP, *PERIOD, "--yes")
        assert result.returncode == 0, text(result)
        stored = {r["number"]: r["insurer"] for r in rows(db_path, "SELECT number, insurer FROM policies")}
        assert stored == {n: code_of(r["towarzystwo"]) for n, r in portal.records.items()}
        assert sorted({r["towarzystwo"] for r in portal.records.values()}) == sorted(INSURER_NAMES)
