"""Cancelled and ended policies (issue 12, point 5): every app's wording is read, and `renewals` and
`due` leave those policies out unless asked (`--all`), saying how many."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from a21import import db as database
from a21import.model import Client, Installment, Policy
from a21import.periods import today_in_poland
from a21import.statuses import is_ended, kind

TODAY = today_in_poland()


@pytest.mark.parametrize("status", ["Anulowana", "ANULOWANA", "Rozwiązana", "ROZWIAZANA", "CANCELLED", "cancelled",
                                    "expired", "EXPIRED", "WYGASLA", "Wygasła"])
def test_every_apps_wording_of_an_ended_policy(status):
    assert is_ended(status)


@pytest.mark.parametrize("status", ["Aktywna", "AKTYWNA", "W_MOCY", "W mocy", "active", "ACTIVE", "ISSUED",
                                    "Wystawiona", "WYSTAWIONA", "pending", "Oczekuje na płatność", "Opłacona", None,
                                    "Nowy status"])
def test_live_or_unknown_statuses_are_not_ended(status):
    assert not is_ended(status)
    assert kind("W_MOCY") == "active" and kind("Nowy status") is None


def _policy(number: str, status: str) -> Policy:
    return Policy(number=number, insurer="TUZ", source_app="tuz", source_system=None, product_line="motor",
                  product="OC", status=status, issue_date=TODAY - timedelta(days=350),
                  start_date=TODAY - timedelta(days=355), end_date=TODAY + timedelta(days=10), premium_gr=50000,
                  holder=Client("person", f"Klient {number}"),
                  installments=(Installment(1, TODAY - timedelta(days=3), 50000, False),))


def test_renewals_and_due_leave_ended_policies_out_unless_all(cli, db_path):
    """The real CLI in this process (conftest's `cli`, no tab) on the test's database."""
    db = database.open_db(db_path)
    for number, status in (("KOS0000001", "Aktywna"), ("KOS0000002", "Rozwiązana"), ("KOS0000003", "Anulowana")):
        database.save_policy(db, _policy(number, status))
    db.close()

    def run(*args):
        result = cli(*args, env={"A21IMPORT_LOG": "off", "COLUMNS": "160"}, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout

    for command in ("renewals", "due"):
        shown = run(command)
        assert "KOS0000001" in shown and "KOS0000002" not in shown and "KOS0000003" not in shown
        assert "2 cancelled or ended policies were left out; --all shows them." in shown
        everything = run(command, "--all")
        assert all(n in everything for n in ("KOS0000001", "KOS0000002", "KOS0000003"))
        assert "Terminated" in everything and "Cancelled" in everything and "left out" not in everything
        assert [r.get("number") or r["policy"]["number"] for r in json.loads(run(command, "--json"))] == [
            "KOS0000001"]
