"""Generali Merkury+ end to end: the real CLI, run in-process over a logged-in tab of the fixture portal,
writing the real database."""

from __future__ import annotations

import sqlite3
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.fixtures.contract import stored_policy, truth_of
from tests.fixtures.fakedata import FakePolicy
from tests.fixtures.generali_portal import CONTRACTS, GeneraliPortal

pytestmark = pytest.mark.integration

APP = "generali"
[CONTRACT] = CONTRACTS
PERIOD = ("period", "--app", APP, "--from", "2026-11-01", "--to", "2026-11-16", "--yes")


def rows(db_path, sql: str, *params) -> list[dict]:
    with sqlite3.connect(db_path) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute(sql, params)]


def stored_numbers(db_path) -> set[str]:
    if not db_path.exists():
        return set()
    return {row["number"] for row in rows(db_path, "SELECT number FROM policies")}


def individual(portal: GeneraliPortal) -> list[FakePolicy]:
    return [p for p in portal.policies if p.extra["segment"] == "INDIVIDUAL"]


def api_requests(portal: GeneraliPortal) -> list[str]:
    return [target for _, _, target in portal.log if target.startswith("/api/")]


def assert_stored_as_generated(db_path, portal: GeneraliPortal, p: FakePolicy) -> None:
    """The policy's rows in every table equal the portal's record (amounts in grosze, not floats)."""
    key = f"GENERALI:{p.number}"
    assert stored_policy(db_path, key) == truth_of(CONTRACT, portal, key)


# -- a whole period: tests/test_contract_cli.py compares every row; here what only Merkury+ does -----------
def period_as_merkury_serves_it(portal, result, db_path):
    wanted = individual(portal)
    corporate = [p for p in portal.policies if p.extra["segment"] == "CORPORATE"]
    assert len(wanted) == 50 and len(corporate) == 10

    # The traps of the spec's amounts, as stored.
    example = portal.pick(premium_gr=123456)
    assert rows(db_path, "SELECT premium_gr FROM policies WHERE number = ?", example.number) == [{"premium_gr": 123456}]
    assert rows(db_path, "SELECT premium_gr FROM coverages WHERE policy_id = ? AND code = 'ASS'",
                f"GENERALI:{example.number}") == [{"premium_gr": 1999}]
    assert {r["premium_gr"] for r in rows(db_path, "SELECT premium_gr FROM policies")} >= {123456, 74510, 840000}
    [home] = rows(db_path, "SELECT amount_gr FROM installments WHERE policy_id = ?",
                  f"GENERALI:{portal.pick(premium_gr=74510).number}")
    assert home["amount_gr"] == 74510

    # Pages 0 and 1 of 50, nothing more; no detail of a CORPORATE policy was fetched.
    lists = [parse_qs(urlsplit(t).query) for t in portal.list_requests()]
    assert [(q["page"], q["size"]) for q in lists] == [(["0"], ["50"]), (["1"], ["50"])]
    assert all(q["issueDateFrom"] == ["2026-11-01"] and q["issueDateTo"] == ["2026-11-16"] for q in lists)
    assert all(portal.detail_requests(p.extra["id"]) == 0 for p in corporate)
    assert all(portal.detail_requests(p.extra["id"]) == 1 for p in wanted)
    for p in corporate:
        assert p.number in result.stdout
    assert result.stdout.count("segment CORPORATE") >= len(corporate)

    # The token rotated during the import and was never sent stale: read anew before every request.
    assert portal.xsrf_rotations >= 5
    assert portal.xsrf_rejections == 0


AFTER_PERIOD = {"generali": period_as_merkury_serves_it}


# -- one policy fails, the others go on ------------------------------------------------------------
def test_policy_errors_garbage_and_removed_policies(cli, db_path):
    with GeneraliPortal(count=20) as portal:
        euro, pet, sme, garbled, removed, *rest = individual(portal)
        portal.patch = {euro.number: {"currency": "EUR"}, pet.number: {"productLine": "PET"},
                        sme.number: {"segment": "SME"}}
        portal.garbage.add(garbled.number)
        portal.missing.add(removed.number)
        cli.login(portal)
        result = cli(*PERIOD)
    assert result.returncode == 1, result.stdout + result.stderr
    assert stored_numbers(db_path) == {p.number for p in rest}
    out = " ".join(result.stdout.split())
    for p in (euro, pet, sme, garbled, removed):
        assert p.number in out
    assert "EUR" in out and "'PET'" in out and "'SME'" in out
    assert "Policy not found" in out
    # An unknown segment is red from the list: its detail is never asked for.
    assert portal.detail_requests(sme.extra["id"]) == 0


# -- the session --------------------------------------------------------------------------------------
def test_session_expired_mid_batch_stops_and_keeps_what_was_stored(cli, db_path):
    with GeneraliPortal(count=20, expire_after=8) as portal:
        cli.login(portal)
        result = cli(*PERIOD)
    assert result.returncode == 3, result.stdout + result.stderr
    # One list page, then 7 details answered before the 401.
    stored = stored_numbers(db_path)
    assert len(stored) == 7
    assert stored <= {p.number for p in individual(portal)}
    assert "expired" in (result.stdout + result.stderr)


def test_shell_still_shown_but_session_gone_is_not_logged_in(cli, db_path):
    with GeneraliPortal(count=5) as portal:
        cli.login(portal)
        portal.expire_all()
        result = cli(*PERIOD)
    assert result.returncode == 3, result.stdout + result.stderr
    assert stored_numbers(db_path) == set()
    assert len(api_requests(portal)) == 1


# -- XSRF ---------------------------------------------------------------------------------------------
def test_stale_token_is_read_again_and_the_request_retried_once(cli, db_path):
    with GeneraliPortal(count=12, xsrf_rotate_every=0) as portal:
        target = individual(portal)[2]
        portal.xsrf_reject.add(target.number)
        cli.login(portal)
        result = cli(*PERIOD)
    assert result.returncode == 0, result.stdout + result.stderr
    assert portal.xsrf_rejections == 1
    assert portal.detail_requests(target.extra["id"]) == 2
    assert stored_numbers(db_path) == {p.number for p in individual(portal)}
    assert_stored_as_generated(db_path, portal, target)


def test_second_403_stops_the_import(cli, db_path):
    with GeneraliPortal(count=20, xsrf_lost_after=4) as portal:
        cli.login(portal)
        result = cli(*PERIOD)
    assert result.returncode == 3, result.stdout + result.stderr
    # The list and 3 details went through; the 4th detail was refused, retried, refused again.
    assert len(stored_numbers(db_path)) == 3
    assert portal.xsrf_rejections == 2
    assert len(api_requests(portal)) == 6
    assert "Invalid CSRF token" in " ".join((result.stdout + result.stderr).split())


# -- one policy by number --------------------------------------------------------------------------
def test_policy_by_number(cli, db_path):
    with GeneraliPortal(count=20) as portal:
        example = portal.pick(premium_gr=123456)
        cli.login(portal)
        result = cli("policy", example.number, "--app", APP, "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert stored_numbers(db_path) == {example.number}
    assert_stored_as_generated(db_path, portal, example)
    [lookup] = portal.list_requests()
    assert parse_qs(urlsplit(lookup).query) == {"policyNumber": [example.number], "page": ["0"], "size": ["50"]}


def test_corporate_policy_by_number_is_skipped_without_its_detail(cli, db_path):
    with GeneraliPortal(count=20) as portal:
        corporate = portal.pick(segment="CORPORATE")
        cli.login(portal)
        result = cli("policy", corporate.number, "--app", APP, "--yes")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "segment CORPORATE" in result.stdout
    assert stored_numbers(db_path) == set()
    assert portal.detail_requests(corporate.extra["id"]) == 0


def test_unknown_number_is_not_found(cli, db_path):
    with GeneraliPortal(count=5) as portal:
        cli.login(portal)
        unknown = cli("policy", "2699999999", "--app", APP, "--yes")
    assert unknown.returncode == 1, unknown.stdout + unknown.stderr
    assert "2699999999" in unknown.stdout
    assert [parse_qs(urlsplit(t).query)["policyNumber"] for t in api_requests(portal)] == [["2699999999"]]
    assert stored_numbers(db_path) == set()
