"""`refresh --due`: every stored policy with an unpaid installment due soon is read again, from the
app it came from; a group whose app is not open is reported and the others go on."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta

import pytest

from a21import import db as database
from a21import.model import Client, Installment, Policy
from a21import.periods import today_in_poland
from tests.conftest import rows
from tests.fixtures.hestia_portal import HestiaPortal

pytestmark = pytest.mark.integration


def store_tuz_policy(db_path, due: date) -> str:
    """A policy imported earlier from TUZ SOBOL, whose tab is not open now."""
    policy = Policy(
        number="KOS1234567", insurer="TUZ", source_app="tuz", source_system=None, product_line="motor",
        product="OC komunikacyjne", status="Aktywna", issue_date=due - timedelta(days=30),
        start_date=due - timedelta(days=30), end_date=due + timedelta(days=334), premium_gr=120000,
        currency="PLN", holder=Client(kind="person", name="Jan Kowalski", pesel="84031233138"),
        installments=[Installment(seq=1, due_date=due, amount_gr=120000, paid=False)],
    )
    return database.save_policy(database.open_db(db_path), policy)


def test_refresh_due_reads_again_the_policies_with_unpaid_installments(cli, db_path):
    days = 14
    due_by = today_in_poland() + timedelta(days=days)
    with HestiaPortal(count=30) as portal:
        cli.login(portal)
        assert cli("period", "--from", "2026-11-01", "--to", "2026-11-16", "--source", "ihestia",
                   "--yes").returncode == 0
        wanted = {r["policy_id"] for r in rows(
            db_path, "SELECT DISTINCT policy_id FROM installments WHERE paid = 0 AND due_date <= ?",
            due_by.isoformat())}
        stored = {r["id"] for r in rows(db_path, "SELECT id FROM policies")}
        assert wanted and wanted != stored, "the data should hold policies on both sides of the window"
        # In the app, the agent's clients paid: every installment of the wanted policies is now paid.
        fakes = {f"ERGO_HESTIA:{p.number}": p for p in portal.policies["ERGO_HESTIA"]}
        for policy_id in wanted:
            for installment in fakes[policy_id].installments:
                installment.paid = True
        tuz_id = store_tuz_policy(db_path, today_in_poland() - timedelta(days=3))
        con = sqlite3.connect(db_path)
        con.execute("UPDATE policies SET imported_at = 'before'")
        con.commit()
        con.close()

        result = cli("refresh", "--due", "--days", str(days), "--yes", "--json")
        document = json.loads(result.stdout)
        # TUZ's tab is not open: its policy is not read, exit 3, and every Hestia one is refreshed.
        assert result.returncode == 3, result.stdout + result.stderr
        assert "No tab of TUZ" in document["error"]
        statuses = {p["id"]: p["status"] for p in document["policies"]}
        assert statuses == {**{policy_id: "done" for policy_id in wanted}, tuz_id: "not read"}
        refreshed = {r["id"] for r in rows(db_path, "SELECT id FROM policies WHERE imported_at != 'before'")}
        assert refreshed == wanted
        unpaid = rows(db_path, "SELECT DISTINCT policy_id FROM installments WHERE paid = 0 AND due_date <= ?",
                      due_by.isoformat())
        assert [r["policy_id"] for r in unpaid] == [tuz_id]
        assert "84031233138" not in result.stdout  # masked wherever a message could carry it

        # Only the TUZ policy is still due; with --app hestia nothing is left to refresh.
        again = cli("refresh", "--due", "--app", "hestia", "--yes")
        assert again.returncode == 0, again.stdout + again.stderr
        assert "nothing to refresh" in again.stdout


def test_refresh_needs_a_number_or_due(cli):
    for args in (("refresh", "--yes"), ("refresh", "909123456789", "--due", "--yes")):
        result = cli(*args)
        assert result.returncode == 2 and "either a policy number or --due" in result.stderr
    result = cli("refresh", "--due", "--days", "0", "--yes")
    assert result.returncode == 2 and "--days must be a whole number from 1 to 366; 0 was given." in result.stderr
