"""An app that answers 429: the real CLI slows down and asks again; a policy that stays throttled is red."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.conftest import login
from tests.fixtures.tuz_portal import TuzPortal

pytestmark = pytest.mark.integration

PERIOD = ("--from", "2026-11-01", "--to", "2026-11-16")


def stored(db_path) -> dict[str, dict]:
    if not db_path.exists():
        return {}
    con = sqlite3.connect(db_path)
    con.row_factory = sqlite3.Row
    try:
        return {r["number"]: dict(r) for r in con.execute("SELECT number, premium_gr, product FROM policies")}
    finally:
        con.close()


def detail_requests(portal) -> list[str]:
    return [path for _, _, path in portal.log if path.startswith("/insured/contracts/")]


def test_every_third_request_throttled_all_policies_stored(user_context, run_cli, db_path):
    with TuzPortal(count=30, throttle_every=3) as portal:
        login(user_context, portal)
        result = run_cli("period", "--app", "tuz", *PERIOD, "--yes", "--concurrency", "4")
        assert result.returncode == 0, result.stdout + result.stderr
        assert portal.throttled >= 10  # a third of 30+ data requests answered 429
        assert len(detail_requests(portal)) > len(portal.policies)  # the throttled ones were asked again
        rows = stored(db_path)
        assert set(rows) == {p.number for p in portal.policies}
        for fake in portal.policies:
            assert (rows[fake.number]["premium_gr"], rows[fake.number]["product"]) == (fake.premium_gr, fake.product)


def test_a_policy_that_stays_throttled_is_red_and_the_others_are_stored(user_context, run_cli, db_path):
    with TuzPortal(count=8) as portal:
        victim = portal.policies[3]
        portal.throttle = {f"/insured/contracts/{victim.extra['tuz'].data_id}"}
        login(user_context, portal)
        result = run_cli("period", "--app", "tuz", *PERIOD, "--yes", "--concurrency", "4", "--json")
        assert result.returncode == 1, result.stdout + result.stderr
        document = json.loads(result.stdout)
        by_number = {p["number"]: p for p in document["policies"]}
        assert by_number[victim.number]["status"] == "failed"
        assert "kept asking to slow down (HTTP 429)" in by_number[victim.number]["reason"]
        assert detail_requests(portal).count(f"/insured/contracts/{victim.extra['tuz'].data_id}") == 4
        others = {p.number for p in portal.policies} - {victim.number}
        assert all(by_number[number]["status"] == "done" for number in others)
        assert set(stored(db_path)) == others
