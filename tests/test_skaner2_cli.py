"""The whole path on Skaner2 (PUNKTA, ARRANT, PROFI): the real CLI in this process over in-process tabs
(tests/fixtures/incli.py), the fixture Skaner2 on its three hosts, the database."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from a21import.insurers.skaner2 import INSURERS
from tests.conftest import rows
from tests.fixtures.contract import sorted_truth, stored_policy
from tests.fixtures.skaner2_portal import ARRANT, PROFI, PUNKTA, Skaner2Portal, truth

pytestmark = pytest.mark.integration

PERIOD = ("--from", "2026-11-01", "--to", "2026-11-16")
APP = ("--app", "skaner2")


def key(fake) -> str:
    return f"{INSURERS[fake.insurer]}:{fake.number}"


def unique(portal, host=PUNKTA):
    """Policies of the host whose number no other insurer uses there."""
    return [p for p in portal.policies[host] if len(portal.find(p.number, host)) == 1]


def paths(portal, host, prefix="/polisy/"):
    return [path for _, h, path in portal.log if h == host and path.startswith(prefix)]


def assert_stored_as_in_the_app(db_path, fake, source_system):
    assert stored_policy(db_path, key(fake)) == sorted_truth(truth(fake, source_system))


# The contract's period import (tests/test_contract_cli.py) compares every row; here what only Skaner2 does.
def period_as_skaner2_pages_it(portal, result, db_path):
    expected = portal.policies[PUNKTA]
    assert len(expected) == 65
    # Pages 1 to 3 of 30, 30 and 5, each asked once, and nothing else listed.
    assert paths(portal, PUNKTA, "/polisy?") == [f"/polisy?od=01.11.2026&do=16.11.2026&strona={n}" for n in (1, 2, 3)]
    # The data covers what matters: two insurers on one number, every kind, tricky names, no vehicle ids.
    assert portal.duplicate_numbers(PUNKTA)
    assert {p.line for p in expected} == {"motor", "property", "life", "travel", "other"}
    assert {p.insurer for p in expected} == set(INSURERS)
    names = {r["name"] for r in rows(db_path, "SELECT name FROM clients")}
    assert {"Transport <Sokół> Jan Nowak", 'Kowalski & Syn "Łąka" s.c.',
            "Sklep [bold red]Pod Lipą[/bold red] Sp. z o.o."} <= names
    assert any(p.vehicle and p.vehicle.vin is None for p in expected)
    assert any(p.extra.get("no_vehicle_ids") for p in expected)


AFTER_PERIOD = {"skaner2": period_as_skaner2_pages_it}


def test_failed_garbage_and_vanished_policies_are_red_and_the_others_stored(cli, db_path):
    with Skaner2Portal(count=20) as portal:
        candidates = unique(portal)
        broken, garbage, gone = candidates[3], candidates[7], candidates[9]
        portal.fail.add(broken.number)
        portal.garbage.add(garbage.number)
        portal.gone.add(gone.number)
        cli.login(portal)
        result = cli("period", *PERIOD, *APP, "--yes")
        assert result.returncode == 1, result.stdout + result.stderr
        assert broken.number in result.stdout and "BLAD_TU" in result.stdout
        assert "Nie udało się pobrać polisy" in result.stdout
        assert garbage.number in result.stdout and "not valid JSON" in result.stdout
        assert gone.number in result.stdout and "NIE_ZNALEZIONO" in result.stdout
        stored = {r["id"] for r in rows(db_path, "SELECT id FROM policies")}
        assert stored == {key(p) for p in portal.policies[PUNKTA]} - {key(broken), key(garbage), key(gone)}


def test_session_expiring_mid_batch_stops_with_exit_3_and_keeps_what_was_imported(cli, db_path):
    with Skaner2Portal(count=40, expire_after=12) as portal:
        cli.login(portal)
        result = cli("period", *PERIOD, *APP, "--yes", "--concurrency", "1")
        assert result.returncode == 3, result.stdout + result.stderr
        assert "session has expired" in result.stderr and "skaner2.punkta.pl" in result.stderr
        kept = rows(db_path, "SELECT id FROM policies")
        # Two list pages and 10 details were answered before the login page came.
        assert len(kept) == 10
        by_key = {key(p): p for p in portal.policies[PUNKTA]}
        for row in kept:
            assert_stored_as_in_the_app(db_path, by_key[row["id"]], "PUNKTA")


def test_expired_login_exits_3(cli, db_path):
    with Skaner2Portal(count=5) as portal:
        cli.login(portal)
        portal.expire_all()  # the tab still shows a logged-in page; the server answers with the login page
        result = cli("period", *PERIOD, *APP, "--yes")
        assert result.returncode == 3 and "session has expired" in result.stderr
        assert rows(db_path, "SELECT count(*) AS n FROM policies")[0]["n"] == 0


def test_policy_by_number_with_a_slash(cli, db_path):
    with Skaner2Portal(count=20) as portal:
        fake = next(p for p in unique(portal) if "/" in p.number)
        cli.login(portal)
        result = cli("policy", fake.number, *APP, "--yes")
        assert result.returncode == 0, result.stdout + result.stderr
        assert [r["id"] for r in rows(db_path, "SELECT id FROM policies")] == [key(fake)]
        assert_stored_as_in_the_app(db_path, fake, "PUNKTA")
        assert f"/polisy?numer={quote(fake.number, safe='')}" in paths(portal, PUNKTA, "/polisy?")
        assert paths(portal, PUNKTA) == [f"/polisy/{fake.extra['id']}"]


def test_look_up_of_a_number_of_two_insurers_imports_both(cli, db_path):
    with Skaner2Portal(count=20) as portal:
        number = portal.duplicate_numbers(PUNKTA)[0]
        both = portal.find(number, PUNKTA)
        assert len({p.insurer for p in both}) == 2
        cli.login(portal)
        result = cli("policy", number, *APP, "--yes")
        assert result.returncode == 0, result.stdout + result.stderr
        assert {r["id"] for r in rows(db_path, "SELECT id FROM policies")} == {key(p) for p in both}
        for fake in both:
            assert_stored_as_in_the_app(db_path, fake, "PUNKTA")


def test_unknown_number(cli, db_path):
    with Skaner2Portal(count=5) as portal:
        cli.login(portal)
        missing = cli("policy", "PL/2099/0000001", *APP, "--yes")
        assert missing.returncode == 1, missing.stdout + missing.stderr
        assert "PL/2099/0000001" in missing.stdout and "No policy numbered" in missing.stdout
        assert rows(db_path, "SELECT count(*) AS n FROM policies")[0]["n"] == 0
        assert paths(portal, PUNKTA, "/polisy?numer=") == [f"/polisy?numer={quote('PL/2099/0000001', safe='')}"]


def test_unknown_insurer_kind_and_currency_are_red(cli, db_path):
    with Skaner2Portal(count=12) as portal:
        candidates = unique(portal)
        odd_insurer, odd_kind, odd_currency = candidates[1], candidates[4], candidates[6]
        portal.overrides = {
            odd_insurer.number: {"towarzystwo": "Nowe TU [S.A.] & Syn"},
            odd_kind.number: {"rodzaj": "maja\u0328tkowe"},  # NFD: not the documented value
            odd_currency.number: {"waluta": "EUR"},
        }
        cli.login(portal)
        result = cli("period", *PERIOD, *APP, "--yes")
        assert result.returncode == 1, result.stdout + result.stderr
        assert "Nowe TU [S.A.] & Syn" in result.stdout and "not known" in result.stdout
        assert odd_kind.number in result.stdout and "rodzaj" in result.stdout
        assert odd_currency.number in result.stdout and "'EUR'" in result.stdout
        stored = {r["id"] for r in rows(db_path, "SELECT id FROM policies")}
        assert stored == {key(p) for p in portal.policies[PUNKTA]} - {key(odd_insurer), key(odd_kind), key(odd_currency)}
        # Neither an unknown insurer nor an unknown kind is read: the list already says it cannot be stored.
        assert f"/polisy/{odd_insurer.extra['id']}" not in paths(portal, PUNKTA)
        assert f"/polisy/{odd_kind.extra['id']}" not in paths(portal, PUNKTA)


# -- several networks ------------------------------------------------------------------------


def test_source_picks_the_network_and_only_its_host_is_asked(cli, db_path):
    with Skaner2Portal(count=20) as portal:
        cli.login(portal, host=PUNKTA)
        cli.login(portal, host=ARRANT)
        before = len(portal.log)
        result = cli("period", *PERIOD, *APP, "--source", "arrant", "--yes")
        assert result.returncode == 0, result.stdout + result.stderr
        expected = portal.policies[ARRANT]
        assert {r["id"] for r in rows(db_path, "SELECT id FROM policies")} == {key(p) for p in expected}
        assert {r["source_system"] for r in rows(db_path, "SELECT source_system FROM policies")} == {"ARRANT"}
        for fake in expected:
            assert_stored_as_in_the_app(db_path, fake, "ARRANT")
        assert {host for _, host, path in portal.log[before:] if path.startswith("/polisy")} == {ARRANT}


def test_two_networks_without_source_under_yes_exit_2_naming_them(cli, db_path):
    with Skaner2Portal(count=5) as portal:
        cli.login(portal, host=PUNKTA)
        cli.login(portal, host=PROFI)
        before = len(portal.log)
        result = cli("period", *PERIOD, *APP, "--yes")
        assert result.returncode == 2, result.stdout + result.stderr
        assert PUNKTA in result.stderr and PROFI in result.stderr and ARRANT not in result.stderr
        assert "--source" in result.stderr
        # A network whose tab is not open: nothing to read.
        result = cli("period", *PERIOD, *APP, "--source", "arrant", "--yes")
        assert result.returncode == 3 and "arrant" in result.stderr
        assert [entry for entry in portal.log[before:] if entry[2].startswith("/polisy")] == []
        assert rows(db_path, "SELECT count(*) AS n FROM policies")[0]["n"] == 0


def test_policy_seen_through_two_networks_is_one_row_of_the_last_import(cli, db_path):
    with Skaner2Portal(count=20) as portal:
        shared = portal.shared_numbers(PUNKTA, ARRANT)
        assert len(shared) >= 3
        number = shared[0]
        fake = portal.find(number, PUNKTA)[0]
        assert portal.find(number, ARRANT)[0].extra["id"] != fake.extra["id"]  # another id on another host
        cli.login(portal, host=PUNKTA)
        cli.login(portal, host=ARRANT)

        def systems():
            return {r["number"]: r["source_system"] for r in rows(db_path, "SELECT number, source_system FROM policies")}

        assert cli("period", *PERIOD, *APP, "--source", "punkta", "--yes").returncode == 0
        # Without --include-stored the common policies are left out, so PUNKTA stays their source.
        assert cli("period", *PERIOD, *APP, "--source", "arrant", "--yes").returncode == 0
        every = {key(p) for host in (PUNKTA, ARRANT) for p in portal.policies[host]}
        assert {r["id"] for r in rows(db_path, "SELECT id FROM policies")} == every
        assert {systems()[n] for n in shared} == {"PUNKTA"}
        # Read again through ARRANT: still one row each, now from ARRANT.
        assert cli("period", *PERIOD, *APP, "--source", "arrant", "--yes", "--include-stored").returncode == 0
        assert rows(db_path, "SELECT count(*) AS n FROM policies")[0]["n"] == len(every)
        assert {systems()[n] for n in shared} == {"ARRANT"}
        assert_stored_as_in_the_app(db_path, portal.find(number, ARRANT)[0], "ARRANT")
        # One policy by number through PUNKTA: the row is PUNKTA's again.
        assert cli("policy", number, *APP, "--source", "punkta", "--yes").returncode == 0
        assert rows(db_path, "SELECT id, source_system FROM policies WHERE number = ?", number) == [
            {"id": key(fake), "source_system": "PUNKTA"}]
        # A refresh reads it where it came from last (PUNKTA), with both tabs open.
        punkta_reads = paths(portal, PUNKTA).count(f"/polisy/{fake.extra['id']}")
        arrant_reads = len(paths(portal, ARRANT))
        assert cli("refresh", number, "--yes").returncode == 0
        assert paths(portal, PUNKTA).count(f"/polisy/{fake.extra['id']}") == punkta_reads + 1
        assert len(paths(portal, ARRANT)) == arrant_reads
        assert rows(db_path, "SELECT count(*) AS n FROM policies WHERE number = ?", number)[0]["n"] == 1
