"""Hostile answers to in-page requests (issue #11, points 2, 5, 6, 8), in the real Chromium with the
fixture iHestia and the real CLI: an answer that redirects to another site, one that trickles and never
ends, one too large to read, and a page whose own scripts replaced fetch and JSON. Each time only that
policy is red, with the reason; the others are stored with the portal's values."""

from __future__ import annotations

import json

import pytest

from tests.conftest import login, rows
from tests.fixtures.hestia_portal import HestiaPortal
from tests.fixtures.portal import AWAY_HOST
from tests.test_hestia_cli import ihestia_policies

pytestmark = pytest.mark.integration

PERIOD_ARGS = ("period", "--from", "2026-11-01", "--to", "2026-11-16", "--source", "ihestia", "--yes")


def assert_stored_exactly(db_path, expected) -> None:
    """The database holds exactly these policies, each with the portal's values."""
    stored = {r["number"]: r for r in rows(db_path, "SELECT * FROM policies")}
    assert set(stored) == {fake.number for fake in expected}
    for fake in expected:
        row = stored[fake.number]
        assert (row["premium_gr"], row["product"], row["issue_date"]) == (
            fake.premium_gr, fake.product, fake.issue_date.isoformat())
        assert rows(db_path, "SELECT name FROM clients WHERE id = ?", row["holder_id"])[0]["name"] == fake.holder.name
        installments = rows(db_path, "SELECT * FROM installments WHERE policy_id = ? ORDER BY seq", row["id"])
        assert [(i["seq"], i["amount_gr"]) for i in installments] == [(i.seq, i.amount_gr) for i in fake.installments]


def run_json(run_cli, *extra: str, env: dict[str, str] | None = None) -> tuple[dict, object]:
    result = run_cli(*PERIOD_ARGS, "--json", *extra, env=env)
    assert "Traceback" not in result.stderr, result.stderr
    return json.loads(result.stdout), result


def reasons(document: dict) -> dict[str, tuple[str, str | None]]:
    return {p["number"]: (p["status"], p["reason"]) for p in document["policies"]}


@pytest.mark.parametrize("cors", [False, True], ids=["plain", "other-site-allows-cors"])
def test_an_answer_redirected_to_another_site_is_red_and_never_read(user_context, run_cli, db_path, cors):
    with HestiaPortal(count=8, away_cors=cors) as portal:
        expected = ihestia_policies(portal)
        victim = expected[1]
        portal.redirect_away = {f"/polisa/{victim.number}"}
        login(user_context, portal)
        document, result = run_json(run_cli)
        assert result.returncode == 1, result.stdout + result.stderr
        assert reasons(document)[victim.number] == (
            "failed", f"The app's answer to /polisa/{victim.number} redirected to another site; it was not read.")
        assert all(status == "done" for number, (status, _r) in reasons(document).items() if number != victim.number)
        assert_stored_exactly(db_path, [fake for fake in expected if fake is not victim])
        # The request never left for the other site.
        assert not [entry for entry in portal.log if entry[1] == AWAY_HOST]


def test_an_answer_that_never_ends_is_red_after_the_deadline_and_the_others_are_shown_first(
        user_context, run_cli, db_path):
    with HestiaPortal(count=10, slow_for=30) as portal:
        expected = ihestia_policies(portal)
        victim = expected[0]  # the first row: everything after it finishes while it is being read
        portal.slow = {f"/polisa/{victim.number}"}
        login(user_context, portal)
        result = run_cli(*PERIOD_ARGS, "--concurrency", "2", env={"A21IMPORT_REQUEST_TIMEOUT": "2"}, timeout=90)
        assert result.returncode == 1, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
        text = result.stdout
        victim_row = next(line for line in text.splitlines() if victim.number in line)
        assert "failed" in victim_row and "The app did not answer within 2 s." in " ".join(text.split())
        # The table printed every other row before the slow one, which keeps its place number 1.
        first_seen = text.index(victim.number)
        assert all(text.index(fake.number) < first_seen for fake in expected[1:])
        assert text[:first_seen].rstrip().endswith("1")
        assert_stored_exactly(db_path, expected[1:])


def test_an_answer_larger_than_the_cap_is_red_and_not_read(user_context, run_cli, db_path):
    with HestiaPortal(count=8, huge_bytes=3 * 1024 * 1024) as portal:
        expected = ihestia_policies(portal)
        victim = expected[2]
        portal.huge = {f"/polisa/{victim.number}"}
        login(user_context, portal)
        document, result = run_json(run_cli, env={"A21IMPORT_MAX_RESPONSE_MB": "1"})
        assert result.returncode == 1, result.stdout + result.stderr
        assert reasons(document)[victim.number] == (
            "failed", f"The app's answer to /polisa/{victim.number} is larger than 1 MB; it was not read.")
        assert_stored_exactly(db_path, [fake for fake in expected if fake is not victim])


def test_a_bad_limit_in_the_environment_is_bad_input(user_context, run_cli, db_path):
    with HestiaPortal(count=3) as portal:
        login(user_context, portal)
        document, result = run_json(run_cli, env={"A21IMPORT_REQUEST_TIMEOUT": "soon"})
        assert result.returncode == 2, result.stdout + result.stderr
        assert document["error"] == ("The environment variable A21IMPORT_REQUEST_TIMEOUT must be a number greater "
                                     "than 0, not 'soon'.")


def test_the_pages_own_scripts_cannot_change_what_is_read(user_context, run_cli, db_path):
    with HestiaPortal(count=8) as portal:
        expected = ihestia_policies(portal)
        tab = login(user_context, portal)
        # The app's page (or a script injected into it) replaces what an in-page read would use.
        tab.evaluate("""() => {
            const fake = '<html><body><div id="naglowek"><span id="tozsamosc">ERGO Hestia</span></div></body></html>';
            window.fetch = () => Promise.reject('trap');
            window.XMLHttpRequest = function () { throw new Error('trap'); };
            JSON.parse = () => ({});
            JSON.stringify = () => '{}';
            Response.prototype.text = async () => fake;
            Response.prototype.json = async () => ({});
            TextDecoder.prototype.decode = () => fake;
            URL.prototype.toString = () => 'http://evil.example/';
            ReadableStreamDefaultReader.prototype.read = async () => ({done: true});
        }""")
        document, result = run_json(run_cli)
        assert result.returncode == 0, result.stdout + result.stderr
        assert all(status == "done" for status, _r in reasons(document).values())
        assert_stored_exactly(db_path, expected)
        assert tab.evaluate("() => window.fetch.toString()").startswith("()")  # the page's own world untouched
