"""The contract every app keeps, run over the case each fixture portal declares (tests/fixtures/contract.py):
the real CLI, the system Chromium, the fixture portal, the database.

Adding an app adds a `CONTRACTS` entry to its portal module, not test code here. What only one app does
(its paging, tokens, traps) stays in tests/test_<app>_cli.py; a module there may define
`AFTER_PERIOD = {contract name: check(portal, result, db_path)}`, run on this file's period import, so
the app's own request checks need no import of their own.
"""

from __future__ import annotations

import importlib
from urllib.parse import unquote

import pytest

from tests.conftest import login, rows
from tests.fixtures import (generali_portal, hestia_portal, hiperio_portal, insly_portal, proama_portal,
                            skaner2_portal, tuz_portal, unimarket_portal, warta_portal)
from tests.fixtures.contract import TABLES, Contract, sort_rows, tables, who_sold_it

pytestmark = pytest.mark.integration

CONTRACTS = [contract for module in (hestia_portal, generali_portal, proama_portal, tuz_portal, warta_portal,
                                     insly_portal, unimarket_portal, hiperio_portal, skaner2_portal)
             for contract in module.CONTRACTS]
each_app = pytest.mark.parametrize("contract", CONTRACTS, ids=[c.name for c in CONTRACTS])


def said(result) -> str:
    """stdout and stderr with Rich's line wrapping undone."""
    return " ".join((result.stdout + " " + result.stderr).split())


def stored_tables(db_path) -> dict[str, list[dict]]:
    if not db_path.exists():
        return {table: [] for table in TABLES}
    stored = {table: rows(db_path, f"SELECT * FROM {table}") for table in TABLES}
    for row in stored["policies"]:
        assert row.pop("imported_at")
        who_sold_it(row)
    return {table: sort_rows(table, table_rows) for table, table_rows in stored.items()}


def logged_in(context, contract: Contract, portal):
    page = login(context, contract.view(portal))
    contract.logged_in(page)
    return page


def after_period(contract: Contract):
    """The app's own checks on this period import (AFTER_PERIOD in tests/test_<app>_cli.py), if any."""
    module = importlib.import_module(f"tests.test_{contract.app}_cli")
    return getattr(module, "AFTER_PERIOD", {}).get(contract.name, lambda portal, result, db_path: None)


@each_app
def test_period_stores_exactly_the_fixture_truth_and_a_second_run_adds_nothing(contract, user_context, run_cli,
                                                                               db_path):
    """Whole rows of every table against the portal's records; a second run leaves everything as it was;
    --include-stored reads every policy again and still keeps one row each."""
    with contract.portal(**contract.options) as portal:
        logged_in(user_context, contract, portal)
        result = run_cli("period", *contract.app_args, *contract.period, "--yes")
        assert result.returncode == 0, said(result)
        expected = contract.expected(portal)
        assert len(expected) >= 10
        stored = stored_tables(db_path)
        truth = tables(expected.values())
        for table in TABLES:
            assert stored[table] == truth[table], table
        after_period(contract)(portal, result, db_path)

        imported_at = rows(db_path, "SELECT id, imported_at FROM policies ORDER BY id")
        again = run_cli("period", *contract.app_args, *contract.period, "--yes")
        assert again.returncode == 0, said(again)
        assert "Imported 0 policies." in said(again) and f"left out: {len(expected)}." in said(again)
        assert stored_tables(db_path) == stored
        assert rows(db_path, "SELECT id, imported_at FROM policies ORDER BY id") == imported_at

        forced = run_cli("period", *contract.app_args, *contract.period, "--yes", "--include-stored")
        assert forced.returncode == 0, said(forced)
        assert f"Imported {len(expected)} policies." in said(forced)
        assert stored_tables(db_path) == stored
        read_again = rows(db_path, "SELECT id, imported_at FROM policies ORDER BY id")
        assert [r["id"] for r in read_again] == [r["id"] for r in imported_at]
        assert all(new["imported_at"] >= old["imported_at"] for new, old in zip(read_again, imported_at))


@each_app
def test_failing_policy_is_red_and_the_others_are_stored(contract, user_context, run_cli, db_path):
    with contract.portal(**contract.small) as portal:
        failing = contract.failing(portal)
        portal.fail = {failing}
        logged_in(user_context, contract, portal)
        result = run_cli("period", *contract.app_args, *contract.period, "--yes")
        assert result.returncode == 1, said(result)
        assert failing in said(result) and contract.failing_says in said(result)
        expected = {key: truth for key, truth in contract.expected(portal).items()
                    if truth["policies"][0]["number"] != failing}
        assert len(expected) == len(contract.expected(portal)) - 1
        assert stored_tables(db_path) == tables(expected.values())


@each_app
def test_tab_on_the_login_page_is_not_logged_in(contract, user_context, run_cli, db_path):
    with contract.portal(**contract.small) as portal:
        user_context.new_page().goto(contract.view(portal).login_url)
        result = run_cli("period", *contract.app_args, *contract.period, "--yes")
        assert result.returncode == 3, said(result)
        assert contract.not_logged_in_says in said(result)
        assert stored_tables(db_path) == tables(())


@each_app
def test_malformed_number_is_bad_input(contract, user_context, run_cli, db_path):
    with contract.portal(**contract.small) as portal:
        logged_in(user_context, contract, portal)
        result = run_cli("policy", contract.malformed, *contract.app_args, "--yes")
        assert result.returncode == 2, said(result)
        assert contract.malformed_says in said(result)
        assert not any(contract.malformed in unquote(path) for _, _, path in portal.log)  # never sent
        assert stored_tables(db_path) == tables(())
