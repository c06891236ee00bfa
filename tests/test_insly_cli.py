"""The whole path on INSLY: the real CLI over in-process tabs of the fixture Insly tenant (Chromium and a
subprocess only where a test needs the real browser), the database."""

from __future__ import annotations

import sqlite3

import pytest

from tests.conftest import login
from tests.fixtures.contract import stored_policy, truth_of
from tests.fixtures.insly_portal import CONTRACTS, InslyPortal

pytestmark = pytest.mark.integration

[CONTRACT] = CONTRACTS
PERIOD = ("--from", "2026-11-01", "--to", "2026-11-16")
OTHER_TENANT = "broker-nowak.insly.com"


def rows(db_path, sql, *args):
    if not db_path.exists():
        return []
    con = sqlite3.connect(db_path)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(sql, args)]
    except sqlite3.OperationalError:
        return []
    finally:
        con.close()


def output(result) -> str:
    return result.stdout + result.stderr


def motor(portal: InslyPortal) -> list:
    return [p for p in portal.policies if p.line == "motor" and portal.code_of(p)]


def detail_ids(portal: InslyPortal) -> list[int]:
    return [int(e["path"].rsplit("/", 1)[1]) for e in portal.api_log if e["method"] == "GET"]


def assert_stored_as_generated(db_path, portal: InslyPortal, fake) -> None:
    key = portal.key_of(fake)
    assert stored_policy(db_path, key) == truth_of(CONTRACT, portal, key)


# The contract's period import (tests/test_contract_cli.py) compares every row; here what only Insly does.
def period_as_insly_serves_it(portal, result, db_path):
    assert len(portal.policies) > 50  # two pages of 50

    # Two insurers under one number: two policies, one row each.
    first, second = portal.special["shared_number"]
    assert first.number == second.number and portal.code_of(first) != portal.code_of(second)
    assert len(rows(db_path, "SELECT id FROM policies WHERE number = ?", first.number)) == 2
    slash = portal.special["slash_number"][0]
    assert "/" in slash.number and rows(db_path, "SELECT id FROM policies WHERE id = ?", portal.key_of(slash))
    names = {r["name"] for r in rows(db_path, "SELECT name FROM clients")}
    assert {p.holder.name for p in portal.special["tricky"]} <= names
    assert any("[bold red]" in n for n in names) and any("<" in n for n in names) and any('"' in n for n in names)
    assert rows(db_path, "SELECT vehicle_id FROM policies WHERE id = ?",
                portal.key_of(portal.special["no_vehicle_keys"][0])) == [{"vehicle_id": None}]

    # Every other product group is listed and reported as skipped, its detail never fetched.
    expected = motor(portal)
    skipped = [p for p in portal.policies if p.line != "motor"]
    assert {p.line for p in skipped} == {"property", "travel", "life", "other"}
    for group in ("property", "travel", "life", "other"):
        assert f"product_group {group}" in result.stdout
    assert sorted(detail_ids(portal)) == sorted(p.extra["policy_id"] for p in expected)

    # The front end's own requests: JSON filter, pages 1..pages, the tab's token and JSON headers.
    token = next(s["token"] for s in portal.sessions.values() if s.get("user"))
    posts = [e for e in portal.api_log if e["method"] == "POST"]
    assert [e["body"] for e in posts] == [
        {"filter": {"issue_date_from": "01.11.2026", "issue_date_to": "16.11.2026"}, "page": page, "per_page": 50}
        for page in (1, 2)
    ]
    assert all(e["csrf"] == token and e["accept"] == "application/json" for e in portal.api_log)
    assert all(e["content_type"] == "application/json" for e in posts)


AFTER_PERIOD = {"insly": period_as_insly_serves_it}


def test_unknown_insurer_and_odd_group_are_red_the_rest_stored(cli, db_path):
    with InslyPortal(unknown_insurer="Nowe TU \"Przyszłość\" S.A.", bad_group="boat") as portal:
        cli.login(portal)
        result = cli("period", "--app", "insly", *PERIOD, "--yes")
        assert result.returncode == 1, output(result)
        unknown = portal.special["unknown_insurer"][0]
        odd = portal.special["bad_group"][0]
        assert "'Nowe TU \"Przyszłość\" S.A.'" in result.stdout and unknown.number in result.stdout
        assert "'boat'" in result.stdout and odd.number in result.stdout
        numbers = {r["number"] for r in rows(db_path, "SELECT number FROM policies")}
        assert unknown.number not in numbers and odd.number not in numbers
        assert {portal.key_of(p) for p in motor(portal)} == {r["id"] for r in rows(db_path, "SELECT id FROM policies")}
        assert unknown.extra["policy_id"] not in detail_ids(portal)
        assert odd.extra["policy_id"] not in detail_ids(portal)


def test_failing_and_garbage_policies_are_red_the_others_stored(cli, db_path):
    with InslyPortal(count=30) as portal:
        broken, garbled = motor(portal)[2], motor(portal)[4]
        portal.fail, portal.garbage = {broken.number}, {garbled.number}
        cli.login(portal)
        result = cli("period", "--app", "insly", *PERIOD, "--yes")
        assert result.returncode == 1, output(result)
        reason = f'Insly failed to read policy {broken.number}: the app answered HTTP 500 "Server Error".'
        assert reason in result.stdout
        assert garbled.number in result.stdout and "not valid JSON" in result.stdout
        stored = {r["id"] for r in rows(db_path, "SELECT id FROM policies")}
        assert stored == {portal.key_of(p) for p in motor(portal)} - {portal.key_of(broken), portal.key_of(garbled)}
        assert not rows(db_path, "SELECT * FROM installments WHERE policy_id IN (?, ?)",
                        portal.key_of(broken), portal.key_of(garbled))


def test_session_expired_during_details_stops_and_keeps_what_was_stored(cli, db_path):
    # Two list pages, then ten details answer before the session dies (401 on GET).
    with InslyPortal(expire_after=12) as portal:
        cli.login(portal)
        result = cli("period", "--app", "insly", *PERIOD, "--yes", "--concurrency", "1")  # an exact count
        assert result.returncode == 3, output(result)
        assert '"Unauthenticated."' in output(result) and "reload the Insly tab" in output(result)
        stored = {r["id"] for r in rows(db_path, "SELECT id FROM policies")}
        requested = {portal.key_of(portal.by_id[i]) for i in detail_ids(portal)}
        # Two reads run at once, so the request that met the dead session may be either of the last two.
        assert len(stored) == 10 and stored < requested and len(requested) <= 12


def test_session_expired_during_the_list_stops_with_nothing_stored(cli, db_path):
    with InslyPortal(expire_after=1) as portal:
        cli.login(portal)
        result = cli("period", "--app", "insly", *PERIOD, "--yes")
        assert result.returncode == 3, output(result)
        assert '"CSRF token mismatch."' in output(result) and "reload the Insly tab" in output(result)
        assert rows(db_path, "SELECT id FROM policies") == []


def test_stale_token_after_a_login_in_another_tab_asks_to_reload(user_context, run_cli, db_path):
    with InslyPortal(count=5) as portal:
        login(user_context, portal)
        # The session times out; the user logs in again in another tab and closes it. The first tab still
        # shows the old page: its cookie is now the new session's, its meta token the old one's.
        portal.expire_all()
        login(user_context, portal).close()
        result = run_cli("period", "--app", "insly", *PERIOD, "--yes")
        assert result.returncode == 3, output(result)
        assert "reload the Insly tab" in output(result)
        assert [e["method"] for e in portal.api_log] == ["POST"]


def test_policy_by_number_then_refresh(cli, db_path):
    with InslyPortal() as portal:
        cli.login(portal)
        fake = portal.special["slash_number"][0]
        result = cli("policy", fake.number, "--app", "insly", "--yes")
        assert result.returncode == 0, output(result)
        assert [r["id"] for r in rows(db_path, "SELECT id FROM policies")] == [portal.key_of(fake)]
        assert_stored_as_generated(db_path, portal, fake)
        lookup = [e for e in portal.api_log if e["method"] == "POST"]
        assert [e["body"] for e in lookup] == [{"filter": {"policy_no": fake.number}, "page": 1, "per_page": 50}]

        fake.installments[0].paid = not fake.installments[0].paid
        fake.status = "cancelled"
        refreshed = cli("refresh", fake.number, "--yes")
        assert refreshed.returncode == 0, output(refreshed)
        assert rows(db_path, "SELECT status FROM policies") == [{"status": "cancelled"}]
        assert_stored_as_generated(db_path, portal, fake)


def test_policy_number_of_two_insurers_imports_both(cli, db_path):
    with InslyPortal() as portal:
        cli.login(portal)
        first, second = portal.special["shared_number"]
        result = cli("policy", first.number, "--app", "insly", "--yes")
        assert result.returncode == 0, output(result)
        stored = {r["id"] for r in rows(db_path, "SELECT id FROM policies")}
        assert stored == {portal.key_of(first), portal.key_of(second)}
        assert_stored_as_generated(db_path, portal, first)
        assert_stored_as_generated(db_path, portal, second)


def test_policy_number_outside_motor_is_reported_and_not_fetched(cli, db_path):
    with InslyPortal(count=20) as portal:
        cli.login(portal)
        other = next(p for p in portal.policies if p.line == "property")
        result = cli("policy", other.number, "--app", "insly", "--yes")
        assert result.returncode == 1, output(result)
        assert "product_group property" in result.stdout
        assert detail_ids(portal) == [] and rows(db_path, "SELECT id FROM policies") == []


def test_unknown_number(cli, db_path):
    with InslyPortal(count=5) as portal:
        cli.login(portal)
        unknown = cli("policy", "ZD/2099/000001", "--app", "insly", "--yes")
        assert unknown.returncode == 1, output(unknown)
        assert "Insly has no policy number ZD/2099/000001." in unknown.stdout
        assert [e["body"]["filter"] for e in portal.api_log] == [{"policy_no": "ZD/2099/000001"}]
        assert rows(db_path, "SELECT id FROM policies") == []


def test_tabs_of_two_tenants_stop_with_both_named(cli, db_path):
    with InslyPortal(count=5) as portal:
        cli.login(portal)
        cli.login(portal, host=OTHER_TENANT)
        result = cli("period", "--app", "insly", *PERIOD, "--yes")
        assert result.returncode == 2, output(result)
        assert portal.HOSTS[0] in output(result) and OTHER_TENANT in output(result)
        assert portal.api_log == [] and rows(db_path, "SELECT id FROM policies") == []
