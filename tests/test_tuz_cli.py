"""The whole path on TUZ SOBOL: the real CLI, the system Chromium, the fixture SOBOL, the database."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import login, rows
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


def test_period_reads_every_page_and_stores_real_values(user_context, run_cli, db_path):
    with TuzPortal() as portal:
        login(user_context, portal)
        result = run_cli("period", "--app", "tuz", *PERIOD, "--yes")
        assert result.returncode == 0, output(result)
        expected = portal.policies
        assert len(expected) > 2 * PAGE_SIZE  # three pages
        # Newest first: the walk ends on the missing li.next, never on dates.
        lists = requested(portal, "/insured/contracts?")
        assert lists == [f"/insured/contracts?date_from=2026-11-01&date_to=2026-11-16&page={n}" for n in (1, 2, 3)]
        assert sorted(requested(portal, "/insured/contracts/")) == sorted(
            f"/insured/contracts/{p.extra['tuz'].data_id}" for p in expected)

        stored = {r["number"]: r for r in rows(db_path, "SELECT * FROM policies")}
        assert set(stored) == {p.number for p in expected}
        assert any(number[3:].startswith("000") for number in stored)  # leading zeros kept
        lines = set()
        for fake in expected:
            row = stored[fake.number]
            series = fake.extra["tuz"].series
            assert row["id"] == f"TUZ:{fake.number}"
            assert (row["insurer"], row["source_app"], row["source_system"]) == ("TUZ", "tuz", None)
            assert (row["product"], row["product_line"], row["status"]) == (fake.product, fake.line, fake.status)
            lines.add((series, row["product_line"]))
            assert (row["issue_date"], row["start_date"], row["end_date"]) == (
                fake.issue_date.isoformat(), fake.start_date.isoformat(), fake.end_date.isoformat())
            assert (row["premium_gr"], row["currency"]) == (fake.premium_gr, "PLN")
            assert row["imported_at"]

            holder = fake.holder
            client = rows(db_path, "SELECT * FROM clients WHERE id = ?", row["holder_id"])[0]
            assert (client["kind"], client["name"]) == (holder.kind, holder.name)
            assert (client["pesel"], client["nip"], client["regon"]) == (holder.pesel, holder.nip, holder.regon)
            assert (client["street"], client["postal_code"], client["city"]) == (holder.street, holder.postal_code, holder.city)
            assert (client["phone"], client["email"]) == (holder.phone, holder.email)
            if holder.pesel or holder.nip or holder.regon:
                label, value = next((k, v) for k, v in (("PESEL", holder.pesel), ("NIP", holder.nip),
                                                        ("REGON", holder.regon)) if v)
                assert row["holder_id"] == f"{label}:{value}"
            else:
                assert row["holder_id"].startswith("HASH:")

            if series == "KOS":
                vehicle = rows(db_path, "SELECT * FROM vehicles WHERE id = ?", row["vehicle_id"])[0]
                registration = fake.vehicle.registration.replace(" ", "").upper()
                assert vehicle["id"] == (f"VIN:{fake.vehicle.vin}" if fake.vehicle.vin else f"REG:{registration}")
                assert (vehicle["registration"], vehicle["vin"]) == (registration, fake.vehicle.vin)
                assert (vehicle["make"], vehicle["model"], vehicle["production_year"]) == (
                    fake.vehicle.make, fake.vehicle.model, fake.vehicle.year)
            else:
                assert row["vehicle_id"] is None

            installments = rows(db_path, "SELECT * FROM installments WHERE policy_id = ? ORDER BY seq", row["id"])
            assert [(i["seq"], i["due_date"], i["amount_gr"], i["paid"]) for i in installments] == [
                (i.seq, i.due_date.isoformat(), i.amount_gr, int(i.paid)) for i in fake.installments]
            assert sum(i["amount_gr"] for i in installments) == row["premium_gr"]
            coverages = rows(db_path, "SELECT * FROM coverages WHERE policy_id = ? ORDER BY code", row["id"])
            assert [(c["code"], c["name"], c["sum_insured_gr"], c["premium_gr"]) for c in coverages] == sorted(
                (c.code, c.name, c.sum_insured_gr, c.premium_gr) for c in fake.coverages)

        assert lines == {("KOS", "motor"), ("ROL", "property"), ("MIE", "property"), ("OCR", "other"),
                         ("NNW", "other"), ("TUR", "travel")}
        assert any(p.vehicle is not None and p.vehicle.vin is None for p in expected)  # a REG: vehicle
        tricky = [p for p in expected if any(c in p.holder.name for c in '&"<[')]
        assert len(tricky) >= 3
        assert rows(db_path, "SELECT COUNT(*) AS n FROM vehicles")[0]["n"] == len({
            p.vehicle.vin or p.vehicle.registration for p in expected if p.vehicle})


def test_failing_and_broken_policies_are_red_and_the_others_stored(user_context, run_cli, db_path):
    with TuzPortal(count=30, unknown_series=("XYZ",)) as portal:
        strange = next(p.number for p in portal.policies if p.number.startswith("XYZ"))
        known = [p.number for p in portal.policies if p.number != strange]
        failing, broken = known[3], known[17]
        portal.fail, portal.garbage = {failing}, {broken}
        login(user_context, portal)
        result = run_cli("period", "--app", "tuz", *PERIOD, "--yes")
        assert result.returncode == 1, output(result)
        for number in (failing, broken, strange):
            assert number in result.stdout
        assert "Wystąpił nieoczekiwany błąd" in result.stdout
        assert "series XYZ" in result.stdout
        assert stored_numbers(db_path) == {p.number for p in portal.policies} - {failing, broken, strange}
        # The unknown series is red from the list already: its page is never opened.
        odd_id = portal.by_number[strange].extra["tuz"].data_id
        assert f"/insured/contracts/{odd_id}" not in requested(portal, "/insured/contracts/")


def test_session_expiring_mid_batch_stops_and_keeps_what_was_stored(user_context, run_cli, db_path):
    # 3 list pages and 10 policy pages succeed; the 14th data request meets the login page.
    with TuzPortal(expire_after=13) as portal:
        login(user_context, portal)
        result = run_cli("period", "--app", "tuz", *PERIOD, "--yes")
        assert result.returncode == 3, output(result)
        assert "session has expired" in output(result)
        assert len(stored_numbers(db_path)) == 10
        assert stored_numbers(db_path) < {p.number for p in portal.policies}


def test_session_expiring_while_listing_stores_nothing(user_context, run_cli, db_path):
    with TuzPortal(expire_after=1) as portal:
        login(user_context, portal)
        result = run_cli("period", "--app", "tuz", *PERIOD, "--yes")
        assert result.returncode == 3, output(result)
        assert "Log in to SOBOL" in output(result)
        assert stored_numbers(db_path) == set()


def test_tab_on_the_login_page_is_not_logged_in(user_context, run_cli, db_path):
    with TuzPortal(count=5) as portal:
        page = user_context.new_page()
        page.goto(portal.login_url)
        result = run_cli("period", "--app", "tuz", *PERIOD, "--yes")
        assert result.returncode == 3, output(result)
        assert "The TUZ SOBOL tab is not logged in" in output(result)
        assert requested(portal, "/insured/contracts") == []


def test_second_run_adds_nothing_and_include_stored_keeps_one_row(user_context, run_cli, db_path):
    with TuzPortal(count=12) as portal:
        login(user_context, portal)
        assert run_cli("period", "--app", "tuz", *PERIOD, "--yes").returncode == 0
        first = rows(db_path, "SELECT id, imported_at FROM policies ORDER BY id")
        counts = {t: rows(db_path, f"SELECT COUNT(*) AS n FROM {t}")[0]["n"]
                  for t in ("policies", "clients", "vehicles", "installments", "coverages")}
        details = len(requested(portal, "/insured/contracts/"))

        again = run_cli("period", "--app", "tuz", *PERIOD, "--yes")
        assert again.returncode == 0, output(again)
        assert rows(db_path, "SELECT id, imported_at FROM policies ORDER BY id") == first
        assert len(requested(portal, "/insured/contracts/")) == details  # nothing read again

        forced = run_cli("period", "--app", "tuz", *PERIOD, "--yes", "--include-stored")
        assert forced.returncode == 0, output(forced)
        after = rows(db_path, "SELECT id, imported_at FROM policies ORDER BY id")
        assert [r["id"] for r in after] == [r["id"] for r in first]
        assert all(a["imported_at"] >= b["imported_at"] for a, b in zip(after, first))
        assert len(requested(portal, "/insured/contracts/")) == 2 * details
        assert {t: rows(db_path, f"SELECT COUNT(*) AS n FROM {t}")[0]["n"] for t in counts} == counts


def test_policy_by_number_with_leading_zeros(user_context, run_cli, db_path):
    with TuzPortal() as portal:
        fake = next(p for p in portal.policies if p.number[3:].startswith("000") and p.installments)
        login(user_context, portal)
        result = run_cli("policy", fake.number, "--app", "tuz", "--yes")
        assert result.returncode == 0, output(result)
        assert requested(portal, "/insured/contracts") == [
            f"/insured/contracts?number={fake.number}", f"/insured/contracts/{fake.extra['tuz'].data_id}"]
        (row,) = rows(db_path, "SELECT * FROM policies")
        assert (row["id"], row["number"], row["premium_gr"]) == (f"TUZ:{fake.number}", fake.number, fake.premium_gr)
        assert len(rows(db_path, "SELECT * FROM installments")) == len(fake.installments)


def test_failing_and_unknown_numbers_are_red(user_context, run_cli, db_path):
    with TuzPortal(count=10) as portal:
        failing = portal.policies[2].number
        portal.fail = {failing}
        login(user_context, portal)
        result = run_cli("policy", failing, "--app", "tuz", "--yes")
        assert result.returncode == 1, output(result)
        assert "Wystąpił nieoczekiwany błąd" in result.stdout

        unknown = next(f"KOS{n:07d}" for n in range(1, 100) if f"KOS{n:07d}" not in portal.by_number)
        result = run_cli("policy", unknown, "--app", "tuz", "--yes")
        assert result.returncode == 1, output(result)
        assert f"no policy with the number {unknown}" in result.stdout
        assert requested(portal, "/insured/contracts?number=")[-1] == f"/insured/contracts?number={unknown}"
        assert stored_numbers(db_path) == set()


def test_malformed_numbers_are_bad_input_and_never_sent(user_context, run_cli, db_path):
    with TuzPortal(count=5) as portal:
        login(user_context, portal)
        for number, message in (("KOS12345", "seven digits"), ("XYZ1234567", "series XYZ"), ("kos1234567", "seven digits")):
            result = run_cli("policy", number, "--app", "tuz", "--yes")
            assert result.returncode == 2, output(result)
            assert message in output(result)
        assert requested(portal, "/insured/contracts") == []


def test_period_spanning_two_windows(user_context, run_cli, db_path):
    with TuzPortal(count=30, issued=(date(2026, 10, 10), date(2026, 11, 16))) as portal:
        login(user_context, portal)
        result = run_cli("period", "--app", "tuz", "--from", "10.10.2026", "--to", "16.11.2026", "--yes")
        assert result.returncode == 0, output(result)
        assert stored_numbers(db_path) == {p.number for p in portal.policies}
        assert len({path.split("&page")[0] for path in requested(portal, "/insured/contracts?")}) >= 2
