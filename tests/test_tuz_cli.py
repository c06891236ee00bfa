"""The whole path on TUZ SOBOL: the real CLI in-process, in-process tabs of the fixture SOBOL, the database."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import rows
from tests.fixtures.tuz_portal import PAGE_SIZE, TuzPortal

pytestmark = pytest.mark.integration

PERIOD = ("--from", "2026-11-01", "--to", "2026-11-16")


def stored_numbers(db_path) -> set[str]:
    if not db_path.exists():
        return set()
    return {r["number"] for r in rows(db_path, "SELECT number FROM policies")}


def requested(portal, prefix: str) -> list[str]:
    """The data requests (list with a query, policy pages) starting with `prefix`, in order."""
    return [path for _, _, path in portal.log
            if path.startswith(prefix) and path.startswith(("/insured/contracts?", "/insured/contracts/"))]


def output(result) -> str:
    return result.stdout + result.stderr


def period_as_the_app_pages_it(portal, result, db_path):
    """On the contract's period import (tests/test_contract_cli.py, which compares every row): SOBOL's paging
    and what its data holds, so the comparison covered it."""
    expected = portal.policies
    assert len(expected) > 2 * PAGE_SIZE  # three pages
    # Newest first: the walk ends on the missing li.next, never on dates.
    lists = requested(portal, "/insured/contracts?")
    assert lists == [f"/insured/contracts?date_from=2026-11-01&date_to=2026-11-16&page={n}" for n in (1, 2, 3)]
    assert sorted(requested(portal, "/insured/contracts/")) == sorted(
        f"/insured/contracts/{p.extra['tuz'].data_id}" for p in expected)
    assert any(p.number[3:].startswith("000") for p in expected)  # leading zeros kept
    assert {(p.extra["tuz"].series, p.line) for p in expected} == {
        ("KOS", "motor"), ("ROL", "property"), ("MIE", "property"), ("OCR", "other"), ("NNW", "other"),
        ("TUR", "travel")}
    assert any(p.vehicle is not None and p.vehicle.vin is None for p in expected)  # a REG: vehicle
    assert any(p.holder.kind == "company" and not (p.holder.nip or p.holder.regon) for p in expected)  # HASH:
    assert len([p for p in expected if any(c in p.holder.name for c in '&"<[')]) >= 3


AFTER_PERIOD = {"tuz": period_as_the_app_pages_it}


def test_broken_policies_and_unknown_series_are_red_and_the_others_stored(cli, db_path):
    with TuzPortal(count=30, unknown_series=("XYZ",)) as portal:
        strange = next(p.number for p in portal.policies if p.number.startswith("XYZ"))
        broken = [p.number for p in portal.policies if p.number != strange][17]
        portal.garbage = {broken}
        cli.login(portal)
        result = cli("period", "--app", "tuz", *PERIOD, "--yes")
        assert result.returncode == 1, output(result)
        for number in (broken, strange):
            assert number in result.stdout
        assert "series XYZ" in result.stdout
        assert stored_numbers(db_path) == {p.number for p in portal.policies} - {broken, strange}
        # The unknown series is red from the list already: its page is never opened.
        odd_id = portal.by_number[strange].extra["tuz"].data_id
        assert f"/insured/contracts/{odd_id}" not in requested(portal, "/insured/contracts/")


def test_session_expiring_mid_batch_stops_and_keeps_what_was_stored(cli, db_path):
    # 3 list pages and 10 policy pages succeed; the 14th data request meets the login page.
    with TuzPortal(expire_after=13) as portal:
        cli.login(portal)
        # One policy at a time: with two in flight, the one read beside the refused request may or may not
        # be stored before the stop, depending on the machine's load.
        result = cli("period", "--app", "tuz", *PERIOD, "--yes", "--concurrency", "1")
        assert result.returncode == 3, output(result)
        assert "session has expired" in output(result)
        assert len(stored_numbers(db_path)) == 10
        assert stored_numbers(db_path) < {p.number for p in portal.policies}


def test_session_expiring_while_listing_stores_nothing(cli, db_path):
    with TuzPortal(expire_after=1) as portal:
        cli.login(portal)
        result = cli("period", "--app", "tuz", *PERIOD, "--yes")
        assert result.returncode == 3, output(result)
        assert "Log in to SOBOL" in output(result)
        assert stored_numbers(db_path) == set()


def test_policy_by_number_with_leading_zeros(cli, db_path):
    with TuzPortal() as portal:
        fake = next(p for p in portal.policies if p.number[3:].startswith("000") and p.installments)
        cli.login(portal)
        result = cli("policy", fake.number, "--app", "tuz", "--yes")
        assert result.returncode == 0, output(result)
        assert requested(portal, "/insured/contracts") == [
            f"/insured/contracts?number={fake.number}", f"/insured/contracts/{fake.extra['tuz'].data_id}"]
        (row,) = rows(db_path, "SELECT * FROM policies")
        assert (row["id"], row["number"], row["premium_gr"]) == (f"TUZ:{fake.number}", fake.number, fake.premium_gr)
        assert len(rows(db_path, "SELECT * FROM installments")) == len(fake.installments)


def test_failing_and_unknown_numbers_are_red(cli, db_path):
    with TuzPortal(count=10) as portal:
        failing = portal.policies[2].number
        portal.fail = {failing}
        cli.login(portal)
        result = cli("policy", failing, "--app", "tuz", "--yes")
        assert result.returncode == 1, output(result)
        assert "Wystąpił nieoczekiwany błąd" in result.stdout

        unknown = next(f"KOS{n:07d}" for n in range(1, 100) if f"KOS{n:07d}" not in portal.by_number)
        result = cli("policy", unknown, "--app", "tuz", "--yes")
        assert result.returncode == 1, output(result)
        assert f"no policy with the number {unknown}" in result.stdout
        assert requested(portal, "/insured/contracts?number=")[-1] == f"/insured/contracts?number={unknown}"
        assert stored_numbers(db_path) == set()


def test_malformed_numbers_are_bad_input_and_never_sent(cli, db_path):
    with TuzPortal(count=5) as portal:
        cli.login(portal)
        for number, message in (("XYZ1234567", "series XYZ"), ("kos1234567", "seven digits")):
            result = cli("policy", number, "--app", "tuz", "--yes")
            assert result.returncode == 2, output(result)
            assert message in output(result)
        assert requested(portal, "/insured/contracts") == []


def test_period_spanning_two_windows(cli, db_path):
    with TuzPortal(count=30, issued=(date(2026, 10, 10), date(2026, 11, 16))) as portal:
        cli.login(portal)
        result = cli("period", "--app", "tuz", "--from", "10.10.2026", "--to", "16.11.2026", "--yes")
        assert result.returncode == 0, output(result)
        assert stored_numbers(db_path) == {p.number for p in portal.policies}
        assert len({path.split("&page")[0] for path in requested(portal, "/insured/contracts?")}) >= 2
