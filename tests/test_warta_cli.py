"""The whole path on Warta: the real CLI in-process over in-process tabs, the fixture eAgent (Majątek) and
ePlatforma (Życie), the database."""

from __future__ import annotations

import pytest

from a21import import db as database
from a21import.formats import money
from tests.conftest import rows
from tests.fixtures.contract import stored_policy, truth_of
from tests.fixtures.warta_portal import CONTRACTS, HOST_MAJATEK, HOST_ZYCIE, WartaPortal

pytestmark = pytest.mark.integration

MAJATEK, ZYCIE = CONTRACTS
PERIOD = ("--from", "2026-11-01", "--to", "2026-11-16")
NO_RIGHTS_SENTENCE = "This agent has no access to TUnŻ (life) in ePlatforma, so there is nothing to import."


def said(text: str) -> str:
    """Output with its line wrapping undone."""
    return " ".join(text.split())


def login_majatek(cli, portal):
    return cli.login(portal)


def login_zycie(cli, portal):
    return cli.login(portal, host=HOST_ZYCIE)


def assert_stored_as_in_the_app(db_path, contract, portal, key):
    assert stored_policy(db_path, key) == truth_of(contract, portal, key)


# == MAJATEK (eAgent) ==========================================================================


# The contract's period imports (tests/test_contract_cli.py) compare every row; here what only Warta does.
def majatek_period_as_eagent_pages_it(portal, result, db_path):
    assert len(portal.majatek_policies) > 50  # two pages of 50
    lists = [path for _, host, path in portal.log if host == HOST_MAJATEK and "/policies?" in path]
    assert any("offset=50&limit=50" in path for path in lists)
    assert not any(host == HOST_ZYCIE for _, host, _path in portal.log)
    expected = portal.majatek_policies
    assert {p.line for p in expected} == {"motor", "property", "travel", "other"}
    assert any(p.vehicle is not None and p.vehicle.vin is None for p in expected)
    assert any(p.holder.kind == "company" and any(c in p.holder.name for c in '&"<[') for p in expected)


def test_majatek_failed_and_garbage_policies_are_red_and_the_others_stored(cli, db_path):
    with WartaPortal(count=20) as portal:
        expected = portal.majatek_policies
        broken, garbage, no_installments = expected[2].number, expected[5].number, expected[9].number
        portal.fail.add(broken)
        portal.garbage.add(garbage)
        portal.fail_installments.add(no_installments)
        login_majatek(cli, portal)
        result = cli("period", "--app", "warta", *PERIOD, "--yes")
        assert result.returncode == 1, result.stdout + result.stderr
        assert broken in said(result.stdout) and "Błąd systemu polisowego" in said(result.stdout)
        assert garbage in said(result.stdout) and no_installments in said(result.stdout)
        stored = {r["number"] for r in rows(db_path, "SELECT number FROM policies")}
        assert stored == {p.number for p in expected} - {broken, garbage, no_installments}


def test_majatek_session_expiring_mid_batch_stops_with_exit_3(cli, db_path):
    with WartaPortal(count=30, expire_after=12) as portal:
        login_majatek(cli, portal)
        result = cli("period", "--app", "warta", *PERIOD, "--yes", "--concurrency", "1")
        assert result.returncode == 3, result.stdout + result.stderr
        assert "session has expired" in said(result.stderr) and "eAgent" in said(result.stderr)
        kept = rows(db_path, "SELECT id FROM policies")
        assert 0 < len(kept) < len(portal.majatek_policies)
        for row in kept:
            assert rows(db_path, "SELECT count(*) AS n FROM installments WHERE policy_id = ?", row["id"])[0]["n"] > 0


def test_majatek_policy_by_number_unknown_and_a_life_number(cli, db_path):
    with WartaPortal(count=10) as portal:
        login_majatek(cli, portal)
        fake = portal.majatek_policies[3]
        result = cli("policy", fake.number, "--app", "warta", "--yes")
        assert result.returncode == 0, result.stdout + result.stderr
        row = rows(db_path, "SELECT * FROM policies")
        assert [r["id"] for r in row] == [f"WARTA:{fake.number}"]
        assert_stored_as_in_the_app(db_path, MAJATEK, portal, f"WARTA:{fake.number}")
        # The green row shows what was stored, not the blanks of a look-up by number.
        shown = said(result.stdout)
        assert " ".join(money(fake.premium_gr).split()) in shown and fake.issue_date.strftime("%d.%m.%Y") in shown
        assert fake.holder.name in shown
        unknown = cli("policy", "908999999999", "--app", "warta", "--yes")
        assert unknown.returncode == 1, unknown.stdout + unknown.stderr
        assert "908999999999" in said(unknown.stdout) and "Nie znaleziono polisy" in said(unknown.stdout)
        life = cli("policy", "8012345678", "--app", "warta", "--yes")
        assert life.returncode == 3
        assert "--source zycie" in said(life.stderr)
        assert len(rows(db_path, "SELECT id FROM policies")) == 1


# == ZYCIE (ePlatforma) ========================================================================


def zycie_period_as_eplatforma_pages_it(portal, result, db_path):
    lists = [path for _, host, path in portal.log if host == HOST_ZYCIE and path.startswith("/polisy/lista")]
    assert [path[-8:] for path in lists] == ["strona=1", "strona=2", "strona=3"]
    assert not any(host == HOST_MAJATEK for _, host, _ in portal.log)
    expected = portal.zycie_policies
    # Every kind of insured person the spec names: the holder (with or without PESEL), someone else.
    variants = set()
    for fake in expected:
        insured = fake.extra["insured"]
        holder = fake.holder
        if (insured.pesel and insured.pesel == holder.pesel) or (
                not insured.pesel and holder.kind == "person" and insured.name == holder.name):
            variants.add("holder with PESEL" if insured.pesel else "holder without PESEL")
        else:
            variants.add("other with PESEL" if insured.pesel else "other without PESEL")
    assert variants == {"holder with PESEL", "holder without PESEL", "other with PESEL", "other without PESEL"}
    assert {p.extra["frequency"] for p in expected} == {"jednorazowa", "miesięczna", "kwartalna", "półroczna", "roczna"}
    # The yearly premium is stored (the contract compared it), never the per-installment one.
    assert any(fake.extra["installment_gr"] != fake.premium_gr for fake in expected)


AFTER_PERIOD = {"warta-majatek": majatek_period_as_eagent_pages_it, "warta-zycie": zycie_period_as_eplatforma_pages_it}


def test_zycie_insured_person_leaves_the_stored_address_alone(cli, db_path):
    with WartaPortal(count=5, life_count=10) as portal:
        other = next(p for p in portal.zycie_policies
                     if p.extra["insured"].pesel and p.extra["insured"].name != p.holder.name)
        insured = other.extra["insured"]
        db = database.open_db(db_path)
        db["clients"].insert({"id": f"PESEL:{insured.pesel}", "kind": "person", "name": "Stare Nazwisko",
                              "pesel": insured.pesel, "street": "ul. Stara 1/2", "postal_code": "00-950",
                              "city": "Warszawa", "phone": "600 000 000", "email": "stary@example.pl"})
        db.conn.close()
        login_zycie(cli, portal)
        result = cli("policy", other.number, "--app", "warta", "--source", "zycie", "--yes")
        assert result.returncode == 0, result.stdout + result.stderr
        policy = rows(db_path, "SELECT * FROM policies")[0]
        assert policy["insured_id"] == f"PESEL:{insured.pesel}" and policy["holder_id"] != policy["insured_id"]
        person = rows(db_path, "SELECT * FROM clients WHERE id = ?", policy["insured_id"])[0]
        assert person == {**person, "name": insured.name, "pesel": insured.pesel, "street": "ul. Stara 1/2",
                          "postal_code": "00-950", "city": "Warszawa", "phone": "600 000 000", "email": "stary@example.pl"}


def test_zycie_failures_expiry_and_rerun(cli, db_path):
    with WartaPortal(count=5, life_count=24) as portal:
        expected = portal.zycie_policies
        broken, garbage, no_installments = expected[1].number, expected[4].number, expected[22].number
        portal.fail.add(broken)
        portal.garbage.add(garbage)
        portal.fail_installments.add(no_installments)
        login_zycie(cli, portal)
        result = cli("period", "--app", "warta", "--source", "zycie", *PERIOD, "--yes")
        assert result.returncode == 1, result.stdout + result.stderr
        assert broken in said(result.stdout) and "Usługa chwilowo niedostępna" in said(result.stdout)
        assert garbage in said(result.stdout) and no_installments in said(result.stdout)
        stored = {r["number"] for r in rows(db_path, "SELECT number FROM policies")}
        assert stored == {p.number for p in expected} - {broken, garbage, no_installments}
        # Fixed on the insurer's side: a second run reads only the three that are missing.
        portal.fail.clear(), portal.garbage.clear(), portal.fail_installments.clear()
        before = len(portal.log)
        again = cli("period", "--app", "warta", "--source", "zycie", *PERIOD, "--yes")
        assert again.returncode == 0, again.stdout + again.stderr
        assert "Policies already in the database, left out: 21." in said(again.stdout)
        read = {path.split("nr=")[1] for _, _, path in portal.log[before:] if path.startswith("/polisa?")}
        assert read == {broken, garbage, no_installments}
        assert len(rows(db_path, "SELECT id FROM policies")) == 24


def test_zycie_session_expiring_mid_batch_stops_with_exit_3(cli, db_path):
    with WartaPortal(count=5, life_count=20, expire_after=10) as portal:
        login_zycie(cli, portal)
        result = cli("period", "--app", "warta", "--source", "zycie", *PERIOD, "--yes", "--concurrency", "1")
        assert result.returncode == 3, result.stdout + result.stderr
        assert "session has expired" in said(result.stderr) and "ePlatforma" in said(result.stderr)
        kept = rows(db_path, "SELECT id FROM policies")
        assert 0 < len(kept) < 20
        for row in kept:
            assert rows(db_path, "SELECT count(*) AS n FROM installments WHERE policy_id = ?", row["id"])[0]["n"] > 0


def test_zycie_policy_by_number_unknown_and_a_property_number(cli, db_path):
    with WartaPortal(count=5, life_count=8) as portal:
        login_zycie(cli, portal)
        fake = portal.zycie_policies[2]
        result = cli("policy", fake.number, "--app", "warta", "--yes")
        assert result.returncode == 0, result.stdout + result.stderr
        row = rows(db_path, "SELECT * FROM policies")
        assert [r["id"] for r in row] == [f"WARTA_ZYCIE:{fake.number}"]
        assert_stored_as_in_the_app(db_path, ZYCIE, portal, f"WARTA_ZYCIE:{fake.number}")
        refreshed = cli("refresh", fake.number, "--yes")
        assert refreshed.returncode == 0, refreshed.stdout + refreshed.stderr
        assert rows(db_path, "SELECT count(*) AS n FROM policies")[0]["n"] == 1
        unknown = cli("policy", "8000000001", "--app", "warta", "--source", "zycie", "--yes")
        assert unknown.returncode == 1, unknown.stdout + unknown.stderr
        assert "8000000001" in said(unknown.stdout) and "Nie znaleziono polisy" in said(unknown.stdout)
        majatek = cli("policy", "908012345111", "--app", "warta", "--source", "zycie", "--yes")
        assert majatek.returncode == 3
        assert "--source majatek" in said(majatek.stderr)
        assert rows(db_path, "SELECT count(*) AS n FROM policies")[0]["n"] == 1


def test_zycie_agent_without_tunz_rights_stops_with_exit_3(cli, db_path):
    with WartaPortal(count=5, life_count=5, no_rights=True) as portal:
        login_zycie(cli, portal)
        result = cli("period", "--app", "warta", "--source", "zycie", *PERIOD, "--yes")
        assert result.returncode == 3, result.stdout + result.stderr
        assert NO_RIGHTS_SENTENCE in said(result.stderr)
        assert not any(path.startswith("/polisa") for _, _, path in portal.log)
        assert rows(db_path, "SELECT count(*) AS n FROM policies")[0]["n"] == 0


# == both sections open ========================================================================


def test_source_picks_the_host_when_both_sections_are_open(cli, db_path):
    with WartaPortal(count=6, life_count=7) as portal:
        login_majatek(cli, portal)
        login_zycie(cli, portal)
        undecided = cli("period", "--app", "warta", *PERIOD, "--yes")
        assert undecided.returncode == 2
        assert "--source" in said(undecided.stderr)
        life = cli("period", "--app", "warta", "--source", "zycie", "--identity", "ZYCIE", *PERIOD, "--yes")
        assert life.returncode == 0, life.stdout + life.stderr
        counts = rows(db_path, "SELECT insurer, source_system, count(*) AS n FROM policies GROUP BY insurer")
        assert counts == [{"insurer": "WARTA_ZYCIE", "source_system": "ZYCIE", "n": 7}]
        assert not any(host == HOST_MAJATEK and path.startswith("/view360/api") for _, host, path in portal.log)
        wrong = cli("period", "--app", "warta", "--source", "majatek", "--identity", "ZYCIE", *PERIOD, "--yes")
        assert wrong.returncode == 3
        assert "--source zycie" in said(wrong.stderr)
        assert rows(db_path, "SELECT count(*) AS n FROM policies")[0]["n"] == 7
