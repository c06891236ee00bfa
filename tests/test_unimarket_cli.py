"""The whole path on UNILINK UniMarket: the real CLI over in-process tabs of the fixture UniMarket
(GraphQL), the database."""

from __future__ import annotations

from datetime import date

import pytest

from a21import.insurers.unimarket import INSURER_CODES, POLICIES_QUERY, POLICY_QUERY
from tests.conftest import rows
from tests.fixtures.unimarket_portal import UnimarketPortal, cursor_of
from tests.test_unimarket_parse import spec_documents

pytestmark = pytest.mark.integration

PERIOD = ("--from", "2026-11-01", "--to", "2026-11-16")


def stored_numbers(db_path) -> set[str]:
    return {r["number"] for r in rows(db_path, "SELECT number FROM policies")} if db_path.exists() else set()


def output(result) -> str:
    return result.stdout + result.stderr


def period(run, *extra):
    return run("period", "--app", "unimarket", *PERIOD, "--yes", *extra)


def detail_requests(portal, number=None):
    return [e for e in portal.graphql_log
            if e["operationName"] == "Policy" and (number is None or e["variables"] == {"number": number})]


# The contract's period import (tests/test_contract_cli.py) compares every row; here what only UNIMARKET does.
def period_as_unimarket_serves_it(portal, result, db_path):
    expected = portal.policies
    assert len(expected) == 120
    # The data holds what the spec warns about, so the contract's comparison covered it.
    assert {p.line for p in expected} == {"motor", "property", "life", "travel", "other"}
    assert any(p.extra["address_null"] for p in expected)
    assert any(p.extra.get("coverage_name_null") for p in expected)
    assert any(p.vehicle and p.vehicle.vin is None and p.vehicle.registration for p in expected)
    assert any(p.vehicle and p.vehicle.vin is None and p.vehicle.registration is None for p in expected)
    assert any(p.extra["issued_at"] == "2026-11-15T23:30:00Z" for p in expected)
    assert any(not p.extra["issued_at"].startswith(p.issue_date.isoformat()) for p in expected)
    assert any(p.holder.kind == "company" and any(c in p.holder.name for c in '&"<[') for p in expected)
    assert any(INSURER_CODES[p.insurer] == "TUZ" for p in expected)
    assert_front_end_requests(portal)


AFTER_PERIOD = {"unimarket": period_as_unimarket_serves_it}


def assert_front_end_requests(portal):
    """The two documents verbatim, with the front end's headers, variables and cursor paging."""
    lists = [e for e in portal.graphql_log if e["operationName"] == "Policies"]
    details = detail_requests(portal)
    assert len(lists) + len(details) == len(portal.graphql_log)
    assert (POLICIES_QUERY, POLICY_QUERY) == tuple(spec_documents())
    assert {e["query"] for e in lists} == {POLICIES_QUERY}
    assert {e["query"] for e in details} == {POLICY_QUERY}
    for entry in portal.graphql_log:
        assert entry["content_type"].split(";")[0] == "application/json"
        assert entry["accept"] == "application/json"
    # Three pages of 50: each `after` is the previous page's endCursor (the portal's cursor of its last edge).
    assert [e["variables"] for e in lists] == [
        {"from": "2026-11-01", "to": "2026-11-16", "first": 50, "after": after}
        for after in (None, cursor_of(49), cursor_of(99))]
    assert sorted(e["variables"]["number"] for e in details) == sorted(p.number for p in portal.policies)


def test_window_is_cut_by_the_warsaw_date(cli, db_path):
    with UnimarketPortal() as portal:
        cli.login(portal)
        result = cli("period", "--app", "unimarket", "--from", "2026-11-01", "--to", "2026-11-15", "--yes")
        assert result.returncode == 0, output(result)
        inside = {p.number for p in portal.policies if p.issue_date <= date(2026, 11, 15)}
        assert stored_numbers(db_path) == inside
        texts = {p.number: p.extra["issued_at"] for p in portal.policies}
        # 2026-11-15T23:30:00Z is already 16 November in Warsaw: out of the window, though the text says the 15th.
        spec_instant = next(n for n, t in texts.items() if t == "2026-11-15T23:30:00Z")
        assert spec_instant not in stored_numbers(db_path)
        # The first policy was issued just after midnight on 1 November in Warsaw, written in UTC (31 October).
        first = portal.policies[0]
        assert first.extra["issued_at"].startswith("2026-10-31T23:") and first.number in inside
        assert rows(db_path, "SELECT issue_date FROM policies WHERE number = ?", first.number)[0]["issue_date"] == "2026-11-01"
        # The last one, 23:55 in Warsaw on the 16th written at +02:00, only in a window that holds the 16th.
        last = portal.policies[-1]
        assert last.extra["issued_at"].startswith("2026-11-17T00:55") and last.number not in inside
        result = cli("period", "--app", "unimarket", "--from", "2026-11-16", "--to", "2026-11-16", "--yes")
        assert result.returncode == 0, output(result)
        assert last.number in stored_numbers(db_path)
        assert rows(db_path, "SELECT issue_date FROM policies WHERE number = ?", last.number)[0]["issue_date"] == "2026-11-16"


def test_failing_and_broken_policies_are_red_the_others_stored(cli, db_path):
    with UnimarketPortal(count=30) as portal:
        failing, broken = portal.policies[7].number, portal.policies[20].number
        portal.fail, portal.garbage = {failing}, {broken}
        cli.login(portal)
        result = period(cli)
        assert result.returncode == 1, output(result)
        assert stored_numbers(db_path) == {p.number for p in portal.policies} - {failing, broken}
        text = output(result)
        assert failing in text and broken in text
        assert "Błąd systemu" in text


def test_unknown_insurer_and_foreign_currency_are_red(cli, db_path):
    with UnimarketPortal(count=30) as portal:
        unknown, listed_eur, detail_eur, sum_eur = (portal.policies[i].number for i in (2, 11, 23, 27))
        portal.set_insurer(unknown, "Nowe Towarzystwo & Spółka S.A.")
        portal.set_currency(listed_eur, "premium", "EUR")
        portal.set_currency(detail_eur, "installment", "EUR")
        portal.set_currency(sum_eur, "sum_insured", "USD")
        if all(c.sum_insured_gr is None for c in portal.policy(sum_eur).coverages):
            portal.set_currency(sum_eur, "coverage_premium", "USD")
        cli.login(portal)
        result = period(cli)
        assert result.returncode == 1, output(result)
        red = {unknown, listed_eur, detail_eur, sum_eur}
        assert stored_numbers(db_path) == {p.number for p in portal.policies} - red
        text = output(result)
        assert all(number in text for number in red)
        assert "Nowe Towarzystwo" in text and "EUR" in text and "USD" in text
        # Red in the list already: their detail is never asked for.
        assert detail_requests(portal, unknown) == [] and detail_requests(portal, listed_eur) == []


def test_expired_session_mid_batch_keeps_what_was_imported(cli, db_path):
    # Two list pages, then five details; the sixth detail meets UNAUTHENTICATED.
    with UnimarketPortal(expire_after=7) as portal:
        cli.login(portal)
        result = period(cli)
        assert result.returncode == 3, output(result)
        assert "Sesja wygasła" in output(result) or "expired" in output(result)
        kept = stored_numbers(db_path)
        assert 1 <= len(kept) <= 5
        assert kept <= {p.number for p in portal.policies}
        assert len(detail_requests(portal)) < 60


def test_expired_session_while_listing_stops_before_importing(cli, db_path):
    with UnimarketPortal(expire_after=1) as portal:
        cli.login(portal)
        result = period(cli)
        assert result.returncode == 3, output(result)
        assert stored_numbers(db_path) == set()
        assert detail_requests(portal) == []


def test_policy_by_number(cli, db_path):
    with UnimarketPortal() as portal:
        cli.login(portal)
        fake = next(p for p in portal.policies if "/" in p.number and p.vehicle is not None)
        result = cli("policy", fake.number, "--app", "unimarket", "--yes")
        assert result.returncode == 0, output(result)
        row = rows(db_path, "SELECT * FROM policies")[0]
        assert row["id"] == f"{INSURER_CODES[fake.insurer]}:{fake.number}"
        assert (row["premium_gr"], row["issue_date"]) == (fake.premium_gr, fake.issue_date.isoformat())
        assert len(detail_requests(portal, fake.number)) == 1  # look-up and detail are one request
        assert len(rows(db_path, "SELECT * FROM installments WHERE policy_id = ?", row["id"])) == len(fake.installments)
        result = cli("refresh", fake.number, "--yes")
        assert result.returncode == 0, output(result)
        assert len(detail_requests(portal, fake.number)) == 2
        assert len(rows(db_path, "SELECT * FROM policies")) == 1


def test_unknown_number(cli, db_path):
    with UnimarketPortal() as portal:
        cli.login(portal)
        result = cli("policy", "9999/2026/999999", "--app", "unimarket", "--yes")
        assert result.returncode == 1, output(result)
        assert "9999/2026/999999" in output(result)
        assert detail_requests(portal, "9999/2026/999999")
        assert stored_numbers(db_path) == set()


def test_failing_policy_by_number_is_red(cli, db_path):
    with UnimarketPortal() as portal:
        number = portal.policies[5].number
        portal.fail = {number}
        cli.login(portal)
        result = cli("policy", number, "--app", "unimarket", "--yes")
        assert result.returncode == 1, output(result)
        assert "Błąd systemu" in output(result)
        assert stored_numbers(db_path) == set()
