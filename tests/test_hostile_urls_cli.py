"""Issue 11, point 4, in the real Chromium with the fixture iHestia and the real CLI: a policy number
listed by the app that would lead the in-page request elsewhere (`../wyloguj?x=` resolves to the
logout page) is a red row with its reason, never a request, and the agent stays logged in."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from tests.conftest import login, rows
from tests.fixtures.hestia_portal import HestiaPortal
from tests.test_hestia_cli import ihestia_policies

pytestmark = pytest.mark.integration

PERIOD = ("period", "--from", "2026-11-01", "--to", "2026-11-16", "--source", "ihestia")
HOSTILE = "../wyloguj?x="
LOGOUT = "/wyloguj"  # docs/portals/hestia.md: the header's `a#wyloguj`


def plant(portal: HestiaPortal, index: int, number: str):
    """Gives the `index`-th listed iHestia policy the number `number`; returns (hostile, the others)."""
    listed = ihestia_policies(portal)
    victim = listed[index]
    hostile = replace(victim, number=number)
    policies = portal.policies["ERGO_HESTIA"]
    policies[policies.index(victim)] = hostile
    del portal.by_number[victim.number]
    portal.by_number[number] = ("ERGO_HESTIA", hostile)
    return hostile, [p for p in listed if p is not victim]


def test_a_listed_number_that_leaves_the_policy_path_is_red_and_never_requested(user_context, run_cli, db_path):
    with HestiaPortal(count=25) as portal:
        hostile, others = plant(portal, 2, HOSTILE)
        login(user_context, portal)
        result = run_cli(*PERIOD, "--yes", "--json")
        assert result.returncode == 1, result.stdout + result.stderr
        document = json.loads(result.stdout)
        failed = [p for p in document["policies"] if p["status"] == "failed"]
        assert [p["number"] for p in failed] == [HOSTILE]
        assert "Ergo Hestia iHestia" in failed[0]["reason"] and HOSTILE in failed[0]["reason"]
        assert "not in the form of its policy numbers" in failed[0]["reason"]
        assert document["counts"]["done"] == len(others)

        # No request left the policy paths: nothing reached the logout page, nothing carried the value.
        paths = [path for _method, _host, path in portal.log]
        assert not [p for p in paths if p.startswith(LOGOUT)], paths
        assert not [p for p in paths if "wyloguj" in p], paths

        stored = {r["number"]: r for r in rows(db_path, "SELECT * FROM policies")}
        assert set(stored) == {p.number for p in others}
        for fake in others:
            row = stored[fake.number]
            assert (row["premium_gr"], row["product"], row["issue_date"]) == (
                fake.premium_gr, fake.product, fake.issue_date.isoformat())
            paid = rows(db_path, "SELECT seq, amount_gr FROM installments WHERE policy_id = ? ORDER BY seq", row["id"])
            assert [(i["seq"], i["amount_gr"]) for i in paid] == [(i.seq, i.amount_gr) for i in fake.installments]

        # The session is still alive: a second run reads again (the stored ones are left out, the red one
        # is red again) and ends the same way instead of meeting the login page.
        again = run_cli(*PERIOD, "--yes")
        assert again.returncode == 1, again.stdout + again.stderr
        assert "session has expired" not in again.stdout + again.stderr
        assert f"Policies already in the database, left out: {len(others)}." in again.stdout
        assert not [p for _m, _h, p in portal.log if "wyloguj" in p]


def test_a_number_with_a_slash_and_query_is_red_too(user_context, run_cli, db_path):
    with HestiaPortal(count=5) as portal:
        plant(portal, 0, "a/b?x=")
        login(user_context, portal)
        result = run_cli(*PERIOD, "--yes", "--json")
        assert result.returncode == 1, result.stdout + result.stderr
        failed = [p for p in json.loads(result.stdout)["policies"] if p["status"] == "failed"]
        assert [p["number"] for p in failed] == ["a/b?x="]
        assert not [p for _m, _h, p in portal.log if p.startswith(("/polisa/a", "/a/b"))]
