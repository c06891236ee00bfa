"""The whole path on Ergo Hestia: the real CLI over in-process tabs of the fixture iHestia (Chromium and a
subprocess only where a test drives the page or the browser connection), the database."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest

from tests.conftest import login, rows
from tests.fixtures.hestia_portal import IDENTITY_LABELS, HestiaPortal

pytestmark = pytest.mark.integration

PERIOD = ("--from", "2026-11-01", "--to", "2026-11-16")


def ihestia_policies(portal, identity="ERGO_HESTIA", first=date(2026, 11, 1), last=date(2026, 11, 16)):
    return [p for p in portal.policies[identity]
            if p.extra["system"] != "IPEGAZ" and first <= p.issue_date <= last]


def period_holds_what_the_app_shows(portal, result, db_path):
    """On the contract's period import (tests/test_contract_cli.py, which compares every row): more than one
    page of 20, and names that mean something in markup, so the comparison covered them."""
    expected = ihestia_policies(portal)
    assert len(expected) > 20
    assert any(p.holder.kind == "company" and any(c in p.holder.name for c in '&"<[') for p in expected)
    assert {p.extra["system"] for p in expected} == {"IHESTIA", "JUPITER", "HESTIABIZNES"}


AFTER_PERIOD = {"hestia": period_holds_what_the_app_shows}


def test_failed_policy_is_red_and_the_others_are_stored(cli, db_path):
    with HestiaPortal(count=20) as portal:
        expected = ihestia_policies(portal)
        broken, garbage = expected[2].number, expected[5].number
        portal.fail.add(broken)
        portal.garbage.add(garbage)
        cli.login(portal)
        result = cli("period", *PERIOD, "--source", "ihestia", "--yes")
        assert result.returncode == 1
        assert broken in result.stdout and "Wystąpił błąd systemu" in result.stdout
        assert garbage in result.stdout
        stored = {r["number"] for r in rows(db_path, "SELECT number FROM policies")}
        assert stored == {p.number for p in expected} - {broken, garbage}
        # Each failure comes with the command that reads it again, and one line reads them all again.
        said = " ".join(result.stdout.split())
        assert f"{broken} (ERGO Hestia): " in said and "ERGO_HESTIA:" not in said
        assert f"Read it again with: a21import policy {broken} --app hestia --source ihestia" in said
        retry_all = f"a21import policy {broken} {garbage} --app hestia --source ihestia"
        assert f"Read all the failed ones again with: {retry_all}" in said
        portal.fail.clear()
        portal.garbage.clear()
        again = cli(*retry_all.split()[1:], "--yes")
        assert again.returncode == 0, again.stdout + again.stderr
        stored = {r["number"] for r in rows(db_path, "SELECT number FROM policies")}
        assert stored == {p.number for p in expected}


def test_session_expiring_mid_batch_stops_with_exit_3_and_keeps_what_was_imported(cli, db_path):
    with HestiaPortal(count=30, expire_after=12) as portal:
        cli.login(portal)
        result = cli("period", *PERIOD, "--source", "ihestia", "--yes", "--concurrency", "1")
        assert result.returncode == 3, result.stdout + result.stderr
        assert "session has expired" in result.stderr
        kept = rows(db_path, "SELECT id FROM policies")
        assert 0 < len(kept) < len(ihestia_policies(portal))
        for row in kept:  # each kept policy is whole
            assert rows(db_path, "SELECT count(*) AS n FROM installments WHERE policy_id = ?", row["id"])[0]["n"] > 0


def test_identity_mismatch_exits_3_saying_what_to_switch(cli, db_path):
    with HestiaPortal(count=5) as portal:
        cli.login(portal)
        result = cli("period", *PERIOD, "--source", "ihestia", "--identity", "MTU", "--yes")
        assert result.returncode == 3
        assert "MTU" in result.stderr and "identity list" in result.stderr
        mtu_number = portal.policies["MTU"][0].number
        result = cli("policy", mtu_number, "--yes")
        assert result.returncode == 3
        assert "belongs to MTU" in result.stderr
        assert rows(db_path, "SELECT count(*) AS n FROM policies")[0]["n"] == 0


def test_switching_identity_in_the_app_imports_that_identity(user_context, run_cli, db_path):
    with HestiaPortal(count=5) as portal:
        page = login(user_context, portal)
        page.select_option('#zmianaTozsamosci select[name="kod"]', "MTU")
        with page.expect_navigation():
            page.click('#zmianaTozsamosci [type="submit"]')
        assert page.inner_text("#tozsamosc") == IDENTITY_LABELS["MTU"]
        result = run_cli("period", *PERIOD, "--source", "ipegaz", "--identity", "MTU", "--yes")
        assert result.returncode == 0, result.stdout + result.stderr
        expected = {p.number for p in portal.policies["MTU"] if p.extra["system"] == "IPEGAZ"}
        stored = rows(db_path, "SELECT number, insurer, source_system FROM policies")
        assert {r["number"] for r in stored} == expected
        assert all(r["insurer"] == "MTU" and r["source_system"] == "IPEGAZ" for r in stored)


def test_no_tab_and_no_browser_exit_3(user_context, run_cli):
    with HestiaPortal(count=5):
        result = run_cli("period", *PERIOD, "--source", "ihestia", "--yes")
        assert result.returncode == 3 and "No tab" in result.stderr
        result = run_cli("period", *PERIOD, "--source", "ihestia", "--yes", "--cdp", "http://127.0.0.1:9")
        assert result.returncode == 3 and "No browser answers" in result.stderr


@pytest.mark.parametrize(
    "args, words",
    [
        (("--from", "2026-13-01", "--to", "2026-11-16"), "does not exist"),
        (("--from", "1.11.26", "--to", "2026-11-16"), "not in the form"),
        (("--from", "2026-11-16", "--to", "2026-11-01"), "after --to"),
        (("--from", "2099-01-01", "--to", "2099-01-02"), "later than today"),
    ],
)
def test_bad_dates_exit_2(cli, args, words):
    result = cli("period", *args, "--source", "ihestia", "--yes")
    assert result.returncode == 2
    assert words in result.stderr
    assert "Traceback" not in result.stderr


def test_period_without_source_under_yes_names_the_choices(cli):
    with HestiaPortal(count=5) as portal:
        cli.login(portal)
        result = cli("period", *PERIOD, "--yes")
        assert result.returncode == 2
        assert "ihestia" in result.stderr and "ipegaz" in result.stderr


def test_long_period_is_read_in_windows_of_16_days(cli, db_path):
    with HestiaPortal(count=40, issued=(date(2026, 10, 1), date(2026, 11, 20))) as portal:
        cli.login(portal)
        result = cli("period", "--from", "01.10.2026", "--to", "2026-11-20", "--source", "ihestia", "--yes")
        assert result.returncode == 0, result.stdout + result.stderr
        expected = ihestia_policies(portal, first=date(2026, 10, 1), last=date(2026, 11, 20))
        assert {r["number"] for r in rows(db_path, "SELECT number FROM policies")} == {p.number for p in expected}
        searches = [path for _, _, path in portal.log if path.startswith("/polisy/szukaj")]
        windows = {tuple(part.split("=")[1] for part in path.split("&")[1:3]) for path in searches}
        assert ("01.10.2026", "16.10.2026") in windows and ("17.10.2026", "01.11.2026") in windows
        assert ("18.11.2026", "20.11.2026") in windows


def test_policy_and_refresh(cli, db_path):
    with HestiaPortal(count=10) as portal:
        cli.login(portal)
        fake = next(p for p in portal.policies["ERGO_HESTIA"] if len(p.installments) > 1)
        result = cli("policy", fake.number, "--yes")
        assert result.returncode == 0, result.stdout + result.stderr
        policy_id = f"ERGO_HESTIA:{fake.number}"
        assert rows(db_path, "SELECT premium_gr FROM policies")[0]["premium_gr"] == fake.premium_gr
        # The app changes: an installment gets paid. A refresh reads it again and overwrites.
        fake.installments[1].paid = True
        con = sqlite3.connect(db_path)
        con.execute("UPDATE policies SET premium_gr = 1 WHERE id = ?", [policy_id])
        con.commit()
        con.close()
        result = cli("refresh", fake.number, "--yes")
        assert result.returncode == 0, result.stdout + result.stderr
        assert rows(db_path, "SELECT premium_gr FROM policies WHERE id = ?", policy_id)[0]["premium_gr"] == fake.premium_gr
        paid = rows(db_path, "SELECT paid FROM installments WHERE policy_id = ? ORDER BY seq", policy_id)
        assert paid[1]["paid"] == 1
        assert rows(db_path, "SELECT count(*) AS n FROM policies")[0]["n"] == 1
        assert cli("refresh", fake.number, "--app", "tuz", "--yes").returncode == 2
        assert cli("refresh", "909000000000", "--yes").returncode == 2  # not stored


def test_policy_numbers_not_found_or_empty(cli, db_path):
    with HestiaPortal(count=5) as portal:
        cli.login(portal)
        missing = cli("policy", "909999999999", "--yes")
        assert missing.returncode == 1 and "does not find" in missing.stdout
        empty = cli("policy", " ", "--yes")
        assert empty.returncode == 2 and "empty" in empty.stderr


def test_interactive_confirmation_and_deselection(cli, db_path):
    with HestiaPortal(count=10) as portal:
        cli.login(portal)
        expected = ihestia_policies(portal)
        # Confirm the identity ("tak" in Polish words), leave rows 2 and 1 out (a range either way), try a
        # wrong answer, then confirm the choice.
        result = cli("period", *PERIOD, "--source", "ihestia", input="tak\n-2-1\nn\nabc\n-1-2\n\n")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "ERGO Hestia" in result.stdout
        assert f"Chosen: {len(expected) - 2} policies (rows 3–{len(expected)})." in result.stdout
        assert "'abc' is not a row number" in result.stdout and "-2,5-7" in result.stdout
        stored = {r["number"] for r in rows(db_path, "SELECT number FROM policies")}
        assert stored == {p.number for p in expected[2:]}
        # Stored rows are folded into one line; choosing one says why it cannot be chosen; keep only row 1.
        again = cli("period", *PERIOD, "--source", "ihestia", input="y\n3\n1\ny\n")
        assert again.returncode == 0, again.stdout + again.stderr
        assert f"{len(expected) - 2} policies are already stored and left out" in again.stdout
        assert "Row 3 cannot be chosen: the policy is already stored" in again.stdout
        assert expected[2].number not in again.stdout.split("already stored and left out")[0]
        stored = {r["number"] for r in rows(db_path, "SELECT number FROM policies")}
        assert stored == {p.number for p in expected[2:]} | {expected[0].number}
        # Declining and choosing another identity: the tool waits for the switch; no answer ends it with
        # the wrong identity's exit code.
        declined = cli("period", *PERIOD, "--source", "ihestia", input="n\n2\n")
        assert declined.returncode == 3
        assert "MTU" in declined.stdout
        assert "Traceback" not in declined.stderr


def test_json_output_for_scripts(cli, db_path):
    import json

    with HestiaPortal(count=8) as portal:
        expected = ihestia_policies(portal)
        portal.fail.add(expected[1].number)
        cli.login(portal)
        result = cli("period", *PERIOD, "--source", "ihestia", "--json")
        assert result.returncode == 1
        document = json.loads(result.stdout)
        assert document["exit_code"] == 1 and document["error"] is None
        assert document["counts"]["done"] == len(expected) - 1 and document["counts"]["failed"] == 1
        failed = [p for p in document["policies"] if p["status"] == "failed"]
        assert failed[0]["number"] == expected[1].number and "Wystąpił błąd systemu" in failed[0]["reason"]
        assert [p["number"] for p in document["policies"]] == [p.number for p in expected]
