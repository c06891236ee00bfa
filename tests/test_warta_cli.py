"""The whole path on Warta: the real CLI, the system Chromium, the fixture eAgent (Majątek) and
ePlatforma (Życie), the database."""

from __future__ import annotations

import pytest

from a21import import db as database
from a21import.model import Client
from a21import.ui import money
from tests.conftest import login, rows
from tests.fixtures.warta_portal import HOST_MAJATEK, HOST_ZYCIE, WartaPortal

pytestmark = pytest.mark.integration

PERIOD = ("--from", "2026-11-01", "--to", "2026-11-16")
NO_RIGHTS_SENTENCE = "This agent has no access to TUnŻ (life) in ePlatforma, so there is nothing to import."


def said(text: str) -> str:
    """Output with its line wrapping undone."""
    return " ".join(text.split())


def login_majatek(context, portal):
    return login(context, portal)


def login_zycie(context, portal):
    return login(context, portal, host=HOST_ZYCIE, fields=portal.login_fields_for(HOST_ZYCIE))


def holder_id(fake) -> str:
    holder = fake.holder
    if holder.kind == "person":
        return f"PESEL:{holder.pesel}"
    if holder.nip:
        return f"NIP:{holder.nip}"
    if holder.regon:
        return f"REGON:{holder.regon}"
    return Client(kind="company", name=holder.name, street=holder.street, postal_code=holder.postal_code, city=holder.city).id


def insured_id(fake) -> str:
    """warta.md: the insured's own id; without a PESEL and with the person holder's name, the holder's."""
    insured = fake.extra["insured"]
    if insured.pesel:
        return f"PESEL:{insured.pesel}"
    if fake.holder.kind == "person" and insured.name == fake.holder.name:
        return holder_id(fake)
    return Client(kind="person", name=insured.name).id


def assert_common(db_path, row, fake):
    assert row["premium_gr"] == fake.premium_gr and row["currency"] == "PLN"
    assert row["product"] == fake.product and row["product_line"] == fake.line and row["status"] == fake.status
    assert (row["issue_date"], row["start_date"], row["end_date"]) == (
        fake.issue_date.isoformat(), fake.start_date.isoformat(), fake.end_date.isoformat())
    assert row["holder_id"] == holder_id(fake)
    client = rows(db_path, "SELECT * FROM clients WHERE id = ?", row["holder_id"])[0]
    holder = fake.holder
    assert (client["kind"], client["name"]) == (holder.kind, holder.name)
    assert (client["pesel"], client["nip"], client["regon"]) == (holder.pesel, holder.nip, holder.regon)
    assert (client["street"], client["postal_code"], client["city"]) == (holder.street, holder.postal_code, holder.city)
    assert (client["phone"], client["email"]) == (holder.phone, holder.email)
    installments = rows(db_path, "SELECT * FROM installments WHERE policy_id = ? ORDER BY seq", row["id"])
    assert [(i["seq"], i["due_date"], i["amount_gr"], i["paid"]) for i in installments] == [
        (i.seq, i.due_date.isoformat(), i.amount_gr, int(i.paid)) for i in fake.installments]
    assert sum(i["amount_gr"] for i in installments) == row["premium_gr"]
    coverages = rows(db_path, "SELECT * FROM coverages WHERE policy_id = ? ORDER BY code", row["id"])
    assert [(c["code"], c["name"], c["sum_insured_gr"], c["premium_gr"]) for c in coverages] == sorted(
        (c.code, c.name, c.sum_insured_gr, c.premium_gr) for c in fake.coverages)


# == MAJATEK (eAgent) ==========================================================================


def test_majatek_period_imports_every_policy_across_pages(user_context, run_cli, db_path):
    with WartaPortal() as portal:
        login_majatek(user_context, portal)
        result = run_cli("period", "--app", "warta", *PERIOD, "--yes")
        assert result.returncode == 0, result.stdout + result.stderr
        expected = portal.majatek_policies
        assert len(expected) > 50  # two pages of 50
        lists = [path for _, host, path in portal.log if host == HOST_MAJATEK and "/policies?" in path]
        assert any("offset=50&limit=50" in path for path in lists)
        stored = {r["number"]: r for r in rows(db_path, "SELECT * FROM policies")}
        assert set(stored) == {p.number for p in expected}
        for fake in expected:
            row = stored[fake.number]
            assert row["id"] == f"WARTA:{fake.number}"
            assert (row["insurer"], row["source_app"], row["source_system"]) == ("WARTA", "warta", "MAJATEK")
            assert row["insured_id"] is None
            assert_common(db_path, row, fake)
            if fake.vehicle is None:
                assert row["vehicle_id"] is None
            else:
                registration = fake.vehicle.registration.replace(" ", "").upper()
                assert row["vehicle_id"] == (f"VIN:{fake.vehicle.vin}" if fake.vehicle.vin else f"REG:{registration}")
                vehicle = rows(db_path, "SELECT * FROM vehicles WHERE id = ?", row["vehicle_id"])[0]
                assert (vehicle["registration"], vehicle["vin"], vehicle["make"], vehicle["model"], vehicle["production_year"]) == (
                    registration, fake.vehicle.vin, fake.vehicle.make, fake.vehicle.model, fake.vehicle.year)
        assert {p.line for p in expected} == {"motor", "property", "travel", "other"}
        assert any(p.vehicle is not None and p.vehicle.vin is None for p in expected)
        tricky = [p for p in expected if p.holder.kind == "company" and any(c in p.holder.name for c in '&"<[')]
        assert tricky, "the fixture data should hold names with markup characters"


def test_majatek_failed_and_garbage_policies_are_red_and_the_others_stored(user_context, run_cli, db_path):
    with WartaPortal(count=20) as portal:
        expected = portal.majatek_policies
        broken, garbage, no_installments = expected[2].number, expected[5].number, expected[9].number
        portal.fail.add(broken)
        portal.garbage.add(garbage)
        portal.fail_installments.add(no_installments)
        login_majatek(user_context, portal)
        result = run_cli("period", "--app", "warta", *PERIOD, "--yes")
        assert result.returncode == 1, result.stdout + result.stderr
        assert broken in said(result.stdout) and "Błąd systemu polisowego" in said(result.stdout)
        assert garbage in said(result.stdout) and no_installments in said(result.stdout)
        stored = {r["number"] for r in rows(db_path, "SELECT number FROM policies")}
        assert stored == {p.number for p in expected} - {broken, garbage, no_installments}


def test_majatek_session_expiring_mid_batch_stops_with_exit_3(user_context, run_cli, db_path):
    with WartaPortal(count=30, expire_after=12) as portal:
        login_majatek(user_context, portal)
        result = run_cli("period", "--app", "warta", *PERIOD, "--yes", "--concurrency", "1")
        assert result.returncode == 3, result.stdout + result.stderr
        assert "session has expired" in said(result.stderr) and "eAgent" in said(result.stderr)
        kept = rows(db_path, "SELECT id FROM policies")
        assert 0 < len(kept) < len(portal.majatek_policies)
        for row in kept:
            assert rows(db_path, "SELECT count(*) AS n FROM installments WHERE policy_id = ?", row["id"])[0]["n"] > 0


def test_majatek_second_run_adds_nothing_and_include_stored_overwrites(user_context, run_cli, db_path):
    with WartaPortal(count=15) as portal:
        login_majatek(user_context, portal)
        assert run_cli("period", "--app", "warta", *PERIOD, "--yes").returncode == 0
        first = rows(db_path, "SELECT id, imported_at FROM policies ORDER BY id")
        counts = [rows(db_path, f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in ("installments", "coverages", "clients", "vehicles")]
        before = len(portal.log)
        again = run_cli("period", "--app", "warta", *PERIOD, "--yes")
        assert again.returncode == 0
        assert f"Policies already in the database, left out: {len(first)}." in said(again.stdout)
        assert rows(db_path, "SELECT id, imported_at FROM policies ORDER BY id") == first
        assert all("/policies?" in path for _, _, path in portal.log[before:] if path.startswith("/view360/api"))
        forced = run_cli("period", "--app", "warta", *PERIOD, "--yes", "--include-stored")
        assert forced.returncode == 0
        assert [r["id"] for r in rows(db_path, "SELECT id FROM policies ORDER BY id")] == [r["id"] for r in first]
        assert [rows(db_path, f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in ("installments", "coverages", "clients", "vehicles")] == counts


def test_majatek_policy_by_number_unknown_malformed_and_a_life_number(user_context, run_cli, db_path):
    with WartaPortal(count=10) as portal:
        login_majatek(user_context, portal)
        fake = portal.majatek_policies[3]
        result = run_cli("policy", fake.number, "--app", "warta", "--yes")
        assert result.returncode == 0, result.stdout + result.stderr
        row = rows(db_path, "SELECT * FROM policies")
        assert [r["id"] for r in row] == [f"WARTA:{fake.number}"]
        assert_common(db_path, row[0], fake)
        # The green row shows what was stored, not the blanks of a look-up by number.
        shown = said(result.stdout)
        assert " ".join(money(fake.premium_gr).split()) in shown and fake.issue_date.strftime("%d.%m.%Y") in shown
        assert fake.holder.name in shown
        unknown = run_cli("policy", "908999999999", "--app", "warta", "--yes")
        assert unknown.returncode == 1, unknown.stdout + unknown.stderr
        assert "908999999999" in said(unknown.stdout) and "Nie znaleziono polisy" in said(unknown.stdout)
        malformed = run_cli("policy", "90812345", "--app", "warta", "--yes")
        assert malformed.returncode == 2
        assert "908 followed by 9 digits" in said(malformed.stderr)
        life = run_cli("policy", "8012345678", "--app", "warta", "--yes")
        assert life.returncode == 3
        assert "--source zycie" in said(life.stderr)
        assert len(rows(db_path, "SELECT id FROM policies")) == 1


# == ZYCIE (ePlatforma) ========================================================================


def test_zycie_period_imports_life_policies_with_insured_persons(user_context, run_cli, db_path):
    with WartaPortal(count=5, life_count=45) as portal:
        page = login_zycie(user_context, portal)
        assert page.url.endswith("/start")
        # Neither --app nor --source: the tab's host names the app and the section.
        result = run_cli("period", *PERIOD, "--yes")
        assert result.returncode == 0, result.stdout + result.stderr
        lists = [path for _, host, path in portal.log if host == HOST_ZYCIE and path.startswith("/polisy/lista")]
        assert [path[-8:] for path in lists] == ["strona=1", "strona=2", "strona=3"]
        assert not any(host == HOST_MAJATEK for _, host, _ in portal.log)
        expected = portal.zycie_policies
        stored = {r["number"]: r for r in rows(db_path, "SELECT * FROM policies")}
        assert set(stored) == {p.number for p in expected}
        variants = set()
        for fake in expected:
            row = stored[fake.number]
            assert row["id"] == f"WARTA_ZYCIE:{fake.number}"
            assert (row["insurer"], row["source_app"], row["source_system"]) == ("WARTA_ZYCIE", "warta", "ZYCIE")
            assert row["vehicle_id"] is None
            assert_common(db_path, row, fake)
            # The yearly premium, never the per-installment one (they differ unless paid yearly).
            assert row["premium_gr"] == fake.premium_gr
            insured = fake.extra["insured"]
            assert row["insured_id"] == insured_id(fake)
            person = rows(db_path, "SELECT * FROM clients WHERE id = ?", row["insured_id"])[0]
            assert (person["kind"], person["name"]) == ("person", insured.name)
            if row["insured_id"] == row["holder_id"]:
                variants.add("holder with PESEL" if insured.pesel else "holder without PESEL")
            else:
                variants.add("other with PESEL" if insured.pesel else "other without PESEL")
                assert person["pesel"] == insured.pesel
                assert (person["street"], person["phone"], person["email"]) == (None, None, None)
        assert variants == {"holder with PESEL", "holder without PESEL", "other with PESEL", "other without PESEL"}
        # One client row a person: the insured-is-holder rule adds no second row.
        ids = {r["holder_id"] for r in stored.values()} | {r["insured_id"] for r in stored.values()}
        assert rows(db_path, "SELECT count(*) AS n FROM clients")[0]["n"] == len(ids)
        assert {p.extra["frequency"] for p in expected} == {"jednorazowa", "miesięczna", "kwartalna", "półroczna", "roczna"}
        assert any(fake.extra["installment_gr"] != fake.premium_gr for fake in expected)


def test_zycie_insured_person_leaves_the_stored_address_alone(user_context, run_cli, db_path):
    with WartaPortal(count=5, life_count=10) as portal:
        other = next(p for p in portal.zycie_policies
                     if p.extra["insured"].pesel and p.extra["insured"].name != p.holder.name)
        insured = other.extra["insured"]
        db = database.open_db(db_path)
        db["clients"].insert({"id": f"PESEL:{insured.pesel}", "kind": "person", "name": "Stare Nazwisko",
                              "pesel": insured.pesel, "street": "ul. Stara 1/2", "postal_code": "00-950",
                              "city": "Warszawa", "phone": "600 000 000", "email": "stary@example.pl"})
        db.conn.close()
        login_zycie(user_context, portal)
        result = run_cli("policy", other.number, "--app", "warta", "--source", "zycie", "--yes")
        assert result.returncode == 0, result.stdout + result.stderr
        policy = rows(db_path, "SELECT * FROM policies")[0]
        assert policy["insured_id"] == f"PESEL:{insured.pesel}" and policy["holder_id"] != policy["insured_id"]
        person = rows(db_path, "SELECT * FROM clients WHERE id = ?", policy["insured_id"])[0]
        assert person == {**person, "name": insured.name, "pesel": insured.pesel, "street": "ul. Stara 1/2",
                          "postal_code": "00-950", "city": "Warszawa", "phone": "600 000 000", "email": "stary@example.pl"}


def test_zycie_failures_expiry_and_rerun(user_context, run_cli, db_path):
    with WartaPortal(count=5, life_count=24) as portal:
        expected = portal.zycie_policies
        broken, garbage, no_installments = expected[1].number, expected[4].number, expected[22].number
        portal.fail.add(broken)
        portal.garbage.add(garbage)
        portal.fail_installments.add(no_installments)
        login_zycie(user_context, portal)
        result = run_cli("period", "--app", "warta", "--source", "zycie", *PERIOD, "--yes")
        assert result.returncode == 1, result.stdout + result.stderr
        assert broken in said(result.stdout) and "Usługa chwilowo niedostępna" in said(result.stdout)
        assert garbage in said(result.stdout) and no_installments in said(result.stdout)
        stored = {r["number"] for r in rows(db_path, "SELECT number FROM policies")}
        assert stored == {p.number for p in expected} - {broken, garbage, no_installments}
        # Fixed on the insurer's side: a second run reads only the three that are missing.
        portal.fail.clear(), portal.garbage.clear(), portal.fail_installments.clear()
        before = len(portal.log)
        again = run_cli("period", "--app", "warta", "--source", "zycie", *PERIOD, "--yes")
        assert again.returncode == 0, again.stdout + again.stderr
        assert "Policies already in the database, left out: 21." in said(again.stdout)
        read = {path.split("nr=")[1] for _, _, path in portal.log[before:] if path.startswith("/polisa?")}
        assert read == {broken, garbage, no_installments}
        assert len(rows(db_path, "SELECT id FROM policies")) == 24


def test_zycie_session_expiring_mid_batch_stops_with_exit_3(user_context, run_cli, db_path):
    with WartaPortal(count=5, life_count=20, expire_after=10) as portal:
        login_zycie(user_context, portal)
        result = run_cli("period", "--app", "warta", "--source", "zycie", *PERIOD, "--yes", "--concurrency", "1")
        assert result.returncode == 3, result.stdout + result.stderr
        assert "session has expired" in said(result.stderr) and "ePlatforma" in said(result.stderr)
        kept = rows(db_path, "SELECT id FROM policies")
        assert 0 < len(kept) < 20
        for row in kept:
            assert rows(db_path, "SELECT count(*) AS n FROM installments WHERE policy_id = ?", row["id"])[0]["n"] > 0


def test_zycie_policy_by_number_unknown_malformed_and_a_property_number(user_context, run_cli, db_path):
    with WartaPortal(count=5, life_count=8) as portal:
        login(user_context, portal.section("zycie"))
        fake = portal.zycie_policies[2]
        result = run_cli("policy", fake.number, "--app", "warta", "--yes")
        assert result.returncode == 0, result.stdout + result.stderr
        row = rows(db_path, "SELECT * FROM policies")
        assert [r["id"] for r in row] == [f"WARTA_ZYCIE:{fake.number}"]
        assert row[0]["insured_id"] == insured_id(fake)
        refreshed = run_cli("refresh", fake.number, "--yes")
        assert refreshed.returncode == 0, refreshed.stdout + refreshed.stderr
        assert rows(db_path, "SELECT count(*) AS n FROM policies")[0]["n"] == 1
        unknown = run_cli("policy", "8000000001", "--app", "warta", "--source", "zycie", "--yes")
        assert unknown.returncode == 1, unknown.stdout + unknown.stderr
        assert "8000000001" in said(unknown.stdout) and "Nie znaleziono polisy" in said(unknown.stdout)
        majatek = run_cli("policy", "908012345111", "--app", "warta", "--source", "zycie", "--yes")
        assert majatek.returncode == 3
        assert "--source majatek" in said(majatek.stderr)
        assert rows(db_path, "SELECT count(*) AS n FROM policies")[0]["n"] == 1


def test_zycie_agent_without_tunz_rights_stops_with_exit_3(user_context, run_cli, db_path):
    with WartaPortal(count=5, life_count=5, no_rights=True) as portal:
        login_zycie(user_context, portal)
        result = run_cli("period", "--app", "warta", "--source", "zycie", *PERIOD, "--yes")
        assert result.returncode == 3, result.stdout + result.stderr
        assert NO_RIGHTS_SENTENCE in said(result.stderr)
        assert not any(path.startswith("/polisa") for _, _, path in portal.log)
        assert rows(db_path, "SELECT count(*) AS n FROM policies")[0]["n"] == 0


# == both sections open ========================================================================


def test_source_picks_the_host_when_both_sections_are_open(user_context, run_cli, db_path):
    with WartaPortal(count=6, life_count=7) as portal:
        login_majatek(user_context, portal)
        login_zycie(user_context, portal)
        undecided = run_cli("period", "--app", "warta", *PERIOD, "--yes")
        assert undecided.returncode == 2
        assert "--source" in said(undecided.stderr)
        life = run_cli("period", "--app", "warta", "--source", "zycie", "--identity", "ZYCIE", *PERIOD, "--yes")
        assert life.returncode == 0, life.stdout + life.stderr
        counts = rows(db_path, "SELECT insurer, source_system, count(*) AS n FROM policies GROUP BY insurer")
        assert counts == [{"insurer": "WARTA_ZYCIE", "source_system": "ZYCIE", "n": 7}]
        assert not any(host == HOST_MAJATEK and path.startswith("/view360/api") for _, host, path in portal.log)
        wrong = run_cli("period", "--app", "warta", "--source", "majatek", "--identity", "ZYCIE", *PERIOD, "--yes")
        assert wrong.returncode == 3
        assert "--source zycie" in said(wrong.stderr)
        assert rows(db_path, "SELECT count(*) AS n FROM policies")[0]["n"] == 7


def test_login_page_tab_is_not_logged_in(user_context, run_cli, db_path):
    with WartaPortal(count=3) as portal:
        page = user_context.new_page()
        page.goto(portal.url("/login", host=HOST_MAJATEK))
        result = run_cli("period", "--app", "warta", *PERIOD, "--yes")
        assert result.returncode == 3
        assert "Log in to Warta eAgent" in said(result.stderr)
        assert not any(path.startswith("/view360/api") for _, _, path in portal.log)
