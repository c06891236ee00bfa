"""Hiperio's pure parse functions on saved answers (tests/data/hiperio), and the adapter's reading flow
(window splitting, look-ups, errors) over the fixture portal's WSGI app without a browser."""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from a21import.errors import (
    BadInput,
    NotLoggedIn,
    ParseError,
    PolicyError,
    PolicyNotFound,
)
from a21import.insurers import hiperio
from a21import.insurers.base import FetchResponse
from a21import.insurers.hiperio import (
    HiperioAdapter,
    halves,
    incomplete_day_item,
    insurer_code,
    parse_context,
    parse_error,
    parse_list,
    parse_list_record,
    parse_policy,
    parse_single,
)
from a21import.model import Client, Coverage, Installment, ListedPolicy, Policy, Vehicle
from tests.fixtures.hiperio_portal import HiperioPortal
from tests.fixtures.inprocess import PortalTab

DATA = Path(__file__).resolve().parent / "data" / "hiperio"


def read(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def record(name: str) -> dict:
    return json.loads(read(name))["polisa"]


# The spec's table, written out again here so a typo in the adapter's constant cannot hide.
SPEC_INSURERS = [
    ("PZU", "PZU"), ("WARTA", "WARTA"), ("ALLIANZ", "ALLIANZ"), ("LINK4", "LINK4"), ("UNIQA", "UNIQA"),
    ("COMPENSA", "COMPENSA"), ("INTERRISK", "INTERRISK"), ("WIENER", "WIENER"), ("TRASTI", "TRASTI"),
    ("BALCIA", "BALCIA"), ("BEESAFE", "BEESAFE"), ("GENERALI", "GENERALI"), ("HESTIA", "ERGO_HESTIA"),
    ("MTU", "MTU"), ("YOU CAN DRIVE", "YCD"), ("PROAMA", "PROAMA"), ("TUZ", "TUZ"), ("HDI", "HDI"),
    ("EUROINS", "EUROINS"), ("BENEFIA", "BENEFIA"), ("AXA", "AXA"), ("GOTHAER", "GOTHAER"), ("AVIVA", "AVIVA"),
]

WARTA_POLICY = Policy(
    number="908012399871",
    insurer="WARTA",
    source_app="hiperio",
    source_system=None,
    product_line="motor",
    product="OC + AC",
    status="WYSTAWIONA",
    issue_date=date(2026, 11, 5),
    start_date=date(2026, 11, 6),
    end_date=date(2027, 11, 5),
    premium_gr=123456,
    currency="PLN",
    holder=Client(
        kind="person", name="Piotr Jóźwiak", pesel="72042156472", street="ul. Kościuszki 15/7",
        postal_code="90-418", city="Łódź", phone="601 987 654", email="piotr.jozwiak@example.pl",
    ),
    vehicle=Vehicle(registration="EL4W119", vin="JTDKB20U303418226", make="Toyota", model="Yaris", production_year=2016),
    coverages=(
        Coverage("OC", "OC posiadaczy pojazdów", None, 83456),
        Coverage("AC", "Autocasco", 2700000, 40000),
    ),
    installments=(Installment(1, date(2026, 11, 6), 123456, True),),
)


# -- the tab ---------------------------------------------------------------------------------------
def test_context_of_a_logged_in_page():
    context = parse_context(read("page_logged_in.html"))
    assert context.app_id == "hiperio"
    assert context.user == "Anna Nowak"
    assert context.identity is None
    assert context.description == 'Logged in to ASF Premium Hiperio as Anna Nowak of Multiagencja "Nowak" & <Wspólnicy>.'


def test_context_of_the_login_page_is_not_logged_in():
    with pytest.raises(NotLoggedIn, match="Log in to Hiperio in that tab"):
        parse_context(read("page_login.html"))


def test_host_and_number_format():
    assert HiperioAdapter.matches_host("hiperio.asfpremium.pl")
    assert not HiperioAdapter.matches_host("asfpremium.pl")
    assert not HiperioAdapter.matches_host("hiperio.asfpremium.pl.example.com")
    adapter = HiperioAdapter(tab=None)
    assert adapter.check_number(" 908012399871 ") == "908012399871"
    assert adapter.check_number("AL-1234-567890") == "AL-1234-567890"
    assert adapter.check_number("x" * 30) == "x" * 30
    for bad in ("", "908/2026", "908 012", "x" * 31, "ŁÓDŹ1", "../1", "12?a=1"):
        with pytest.raises(BadInput, match="1 to 30 letters, digits or hyphens"):
            adapter.check_number(bad)


# -- insurers --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "code"), SPEC_INSURERS)
def test_every_insurer_name_of_the_table(name, code):
    assert insurer_code(name, "1") == code


def test_the_table_is_exactly_the_spec():
    assert hiperio.INSURERS == dict(SPEC_INSURERS)


@pytest.mark.parametrize("name", ["NOWE TU S.A.", "Hestia", "ERGO_HESTIA", "YCD", " PZU", "", None])
def test_an_unknown_insurer_name_is_a_policy_error_naming_it(name):
    with pytest.raises(PolicyError) as caught:
        insurer_code(name, "555")
    assert repr(name) in caught.value.reason
    assert "555" in caught.value.reason


# -- the list --------------------------------------------------------------------------------------
def test_list_with_complete_and_short_records():
    items, truncated = parse_list(read("list_mixed.json"))
    assert truncated is False
    assert [(i.number, i.insurer, i.key) for i in items] == [
        ("908012399871", "WARTA", "WARTA:908012399871"),
        ("1012345999", "LINK4", "LINK4:1012345999"),
        ("HE-2026-000417", "ERGO_HESTIA", "ERGO_HESTIA:HE-2026-000417"),
        ("911000123456", "YCD", "YCD:911000123456"),
    ]
    warta, short, company, ycd = items
    assert warta == ListedPolicy(
        number="908012399871", insurer="WARTA", product="OC + AC", holder_name="Piotr Jóźwiak",
        issue_date=date(2026, 11, 5), premium_gr=123456,
    )
    assert warta.error is None and warta.skip_reason is None
    assert warta.ref["numer"] == "908012399871"  # the whole record: no detail call needed
    assert short.error == (
        "Hiperio could not read policy 1012345999 (BLAD_TOWARZYSTWA): "
        "Nie udało się pobrać danych polisy z systemu towarzystwa."
    )
    assert short.issue_date == date(2026, 11, 5)
    assert company.holder_name == 'Sklep [bold red]"Pod Lipą"[/bold red] & <Syn> Sp. z o.o.'
    assert ycd.premium_gr == 99


def test_empty_list():
    assert parse_list(read("list_empty.json")) == ([], False)


def test_truncated_list_keeps_its_hundred_records():
    items, truncated = parse_list(read("list_truncated.json"))
    assert truncated is True
    assert len(items) == 100
    assert len({i.number for i in items}) == 100
    assert all(i.issue_date == date(2026, 11, 5) for i in items)
    assert [i.number for i in items] == sorted(i.number for i in items)


@pytest.mark.parametrize("name", ["error_400.json", "error_401.json", "error_404.json", "error_502.json", "policy_garbage.json"])
def test_a_list_answer_that_is_no_list_is_a_parse_error(name):
    with pytest.raises(ParseError):
        parse_list(read(name))


@pytest.mark.parametrize(
    "text",
    ['{"polisy": {}, "obcieto": false}', '{"polisy": [], "obcieto": "false"}', '{"polisy": []}', "[]", "null", ""],
)
def test_malformed_list_envelopes(text):
    with pytest.raises(ParseError):
        parse_list(text)


def test_list_records_that_break_the_contract():
    items, _ = parse_list(read("list_contract_breaks.json"))
    by_number = {i.number: i for i in items}
    unknown = by_number["555000111"]
    assert unknown.insurer is None and "'NOWE TU S.A.'" in unknown.error
    assert by_number["555000666"].insurer is None and "'Hestia'" in by_number["555000666"].error
    assert by_number["(record 6)"].error == (
        "Hiperio listed a record without a policy number at position 6 of its answer."
    )
    # The others are listed normally; reading them reports what is wrong, one policy at a time.
    for number in ("555000222", "555000333", "555000444", "555000555", "555000777", "555000888"):
        assert by_number[number].error is None and isinstance(by_number[number].ref, dict)
    assert by_number["555000444"].premium_gr is None
    assert by_number["555000555"].holder_name is None


def test_reading_records_that_break_the_contract():
    items, _ = parse_list(read("list_contract_breaks.json"))
    by_number = {i.number: i.ref for i in items}
    with pytest.raises(PolicyError) as caught:
        parse_policy(by_number["555000222"])
    assert not isinstance(caught.value, ParseError)
    assert caught.value.reason == (
        "Policy 555000222 has rodzaj 'MAJATEK' instead of KOMUNIKACJA, which breaks Hiperio's motor-only "
        "contract, so it was not imported."
    )
    with pytest.raises(PolicyError, match=r"currency 'EUR'; only PLN"):
        parse_policy(by_number["555000333"])
    with pytest.raises(ParseError, match=r"'skladka' cannot be read: The amount '1 234,56' is not in the form 1234.56"):
        parse_policy(by_number["555000444"])
    with pytest.raises(ParseError, match="without the key 'ubezpieczajacy'"):
        parse_policy(by_number["555000555"])
    with pytest.raises(ParseError, match="'raty' is an empty list"):
        parse_policy(by_number["555000777"])
    with pytest.raises(ParseError, match=r"'skladka' cannot be read: The amount 1234.56 is not a decimal string"):
        parse_policy(by_number["555000888"])


# -- one policy ------------------------------------------------------------------------------------
def test_person_policy_whole():
    assert parse_policy(record("policy_person.json")) == WARTA_POLICY


def test_list_record_and_single_answer_give_the_same_policy():
    items, _ = parse_list(read("list_mixed.json"))
    assert parse_policy(items[0].ref) == parse_policy(parse_single(read("policy_person.json")))


def test_company_policy_with_escaped_unicode_tricky_name_and_no_vehicle_ids():
    policy = parse_policy(parse_single(read("policy_company.json")))
    assert policy.id == "ERGO_HESTIA:HE-2026-000417"
    assert policy.insurer == "ERGO_HESTIA"
    assert policy.holder == Client(
        kind="company", name='Sklep [bold red]"Pod Lipą"[/bold red] & <Syn> Sp. z o.o.', nip="5256243606",
        street="al. Jerozolimskie 123A/4", postal_code="02-017", city="Warszawa",
    )
    assert policy.holder.id == "NIP:5256243606"
    assert policy.holder.regon is None and policy.holder.phone is None and policy.holder.email is None
    assert policy.vehicle is None  # pojazd is there, but with neither VIN nor registration
    assert policy.coverages == (
        Coverage("OC", "OC posiadaczy pojazdów", None, 210000),
        Coverage("NNW", "NNW kierowcy i pasażerów", 1000000, 211000),
        Coverage("ZK", None, None, None),
    )
    assert policy.installments == (
        Installment(1, date(2026, 11, 10), 210500, True),
        Installment(2, date(2027, 5, 10), 210500, False),
    )
    assert sum(i.amount_gr for i in policy.installments) == policy.premium_gr == 421000
    assert policy.status == "AKTYWNA"


def test_company_with_regon_registration_only_and_small_amounts():
    items, _ = parse_list(read("list_mixed.json"))
    policy = parse_policy(items[3].ref)
    assert policy.id == "YCD:911000123456"
    assert policy.holder.name == "Auto-Handel Bąk Sp.j."
    assert (policy.holder.nip, policy.holder.regon) == ("5256243606", "631716916")
    assert policy.vehicle == Vehicle(registration="GD4F218", vin=None, make="Škoda", model="Octavia", production_year=2019)
    assert policy.vehicle.id == "REG:GD4F218"
    assert policy.premium_gr == 99
    assert [i.amount_gr for i in policy.installments] == [25, 25, 25, 24]
    assert sum(i.amount_gr for i in policy.installments) == policy.premium_gr
    assert policy.status == "ANULOWANA"


def test_a_short_record_read_as_a_policy_is_the_apps_failure():
    with pytest.raises(PolicyError, match=r"could not read policy 1012345999 \(BLAD_TOWARZYSTWA\)"):
        parse_policy(parse_single(read("policy_short.json")))
    assert parse_list_record(json.loads(read("policy_short.json"))["polisa"]).key == "LINK4:1012345999"


def test_single_answer_that_is_broken():
    with pytest.raises(ParseError, match="not valid JSON"):
        parse_single(read("policy_garbage.json"))
    with pytest.raises(ParseError, match="no 'polisa' object"):
        parse_single(read("error_404.json"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"numer": None}, "without 'numer'"),
        ({"rodzaj": None}, "without 'rodzaj'"),
        ({"dataWystawienia": "05.11.2026"}, "'dataWystawienia' cannot be read: The date '05.11.2026' is not in the form YYYY-MM-DD"),
        ({"ochronaDo": "2027-02-30"}, "does not exist"),
        ({"skladka": "1234.5"}, "not in the form 1234.56"),
        ({"skladka": None}, "is not a decimal string"),
        ({"pojazd": None}, "without 'pojazd'"),
        ({"ryzyka": []}, "'ryzyka' is an empty list"),
        ({"ryzyka": [{"kod": "OC", "nazwa": "OC", "suma": "12,00", "skladka": None}]}, "'suma'"),
        ({"ryzyka": ["OC"]}, "'ryzyka' has an entry that is not an object"),
        ({"raty": [{"nr": "1", "termin": "2026-11-06", "kwota": "1.00", "oplacona": True}]}, "'nr' is '1'"),
        ({"raty": [{"nr": 1, "termin": "2026-11-06", "kwota": "1.00", "oplacona": 1}]}, "'oplacona' is 1"),
        ({"raty": None}, "without 'raty'"),
        ({"status": 3}, "'status' is 3"),
    ],
)
def test_malformed_records_are_parse_errors(change, message):
    data = record("policy_person.json")
    data.update(change)
    with pytest.raises(ParseError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_policy(data)


@pytest.mark.parametrize(
    ("holder_change", "vehicle_change", "message"),
    [
        ({"typ": "KLIENT"}, {}, "'typ' is 'KLIENT' instead of OSOBA or FIRMA"),
        ({"imie": None}, {}, "without 'imie'"),
        ({"typ": "FIRMA", "nazwa": None}, {}, "without 'nazwa'"),
        ({"pesel": 72042156472}, {}, "'pesel' is 72042156472 instead of text"),
        ({}, {"rokProdukcji": "2016"}, "'rokProdukcji' is '2016' instead of a whole number"),
        ({}, {"vin": 17}, "'vin' is 17"),
    ],
)
def test_malformed_holder_and_vehicle(holder_change, vehicle_change, message):
    data = record("policy_person.json")
    data["ubezpieczajacy"].update(holder_change)
    data["pojazd"].update(vehicle_change)
    with pytest.raises(ParseError, match=message):
        parse_policy(data)


def test_optional_fields_null_and_vin_only_vehicle():
    data = record("policy_person.json")
    data["ubezpieczajacy"].update(pesel=None, telefon=None, email=None, ulica=None)
    data["pojazd"].update(nrRejestracyjny=None, vin="jtdkb20u303418226", marka=None, model=None, rokProdukcji=None)
    policy = parse_policy(data)
    assert policy.holder.pesel is None and policy.holder.phone is None and policy.holder.email is None
    assert policy.holder.id.startswith("HASH:")
    assert policy.vehicle == Vehicle(registration=None, vin="JTDKB20U303418226")


def test_amounts_by_integer_arithmetic():
    data = record("policy_person.json")
    for text, grosze in (("0.01", 1), ("19.99", 1999), ("1234567.89", 123456789), ("0.29", 29), ("1.10", 110)):
        data["skladka"] = text
        assert parse_policy(data).premium_gr == grosze


# -- error bodies ----------------------------------------------------------------------------------
def test_error_bodies():
    assert parse_error(read("error_401.json")) == ("SESJA_WYGASLA", "Sesja wygasła. Zaloguj się ponownie.")
    assert parse_error(read("error_404.json")) == ("NIE_ZNALEZIONO", "Nie znaleziono polisy o numerze 1012345000.")
    assert parse_error(read("error_502.json")) == (
        "BLAD_TOWARZYSTWA", "Nie udało się pobrać danych polisy z systemu towarzystwa."
    )
    assert parse_error(read("error_400.json")) == ("NIEPRAWIDLOWE_PARAMETRY", "Nieprawidłowe parametry zapytania.")
    assert parse_error(read("policy_person.json")) is None
    assert parse_error(read("policy_garbage.json")) is None
    assert parse_error("<html>") is None


# -- splitting -------------------------------------------------------------------------------------
def test_halves():
    d = date(2026, 11, 1)
    assert halves(d, date(2026, 11, 16)) == ((d, date(2026, 11, 8)), (date(2026, 11, 9), date(2026, 11, 16)))
    assert halves(d, date(2026, 11, 2)) == ((d, d), (date(2026, 11, 2), date(2026, 11, 2)))
    assert halves(d, date(2026, 11, 3)) == ((d, date(2026, 11, 2)), (date(2026, 11, 3), date(2026, 11, 3)))
    assert halves(date(2026, 10, 31), date(2026, 11, 2)) == (
        (date(2026, 10, 31), date(2026, 11, 1)), (date(2026, 11, 2), date(2026, 11, 2))
    )


def test_incomplete_day_item():
    item = incomplete_day_item(date(2026, 11, 5))
    assert item == ListedPolicy(
        number="(2026-11-05)", insurer=None, issue_date=date(2026, 11, 5),
        error="Hiperio returned only the first 100 policies issued on 2026-11-05; the rest of that day could not be read.",
    )


# -- the adapter over the portal, without a browser ------------------------------------------------
def listed(adapter: HiperioAdapter, first: date, last: date) -> list[ListedPolicy]:
    async def collect():
        return [item async for item in adapter.list_policies(first, last)]

    return asyncio.run(collect())


def expected_windows(portal: HiperioPortal, first: date, last: date) -> list[tuple[str, str]]:
    """The spec's halving rule, applied to the portal's data: the list requests it implies, in order."""
    count = sum(first <= p.issue_date <= last for p in portal.policies)
    requests = [(first.isoformat(), last.isoformat())]
    if count > 100 and first < last:
        middle = first + timedelta(days=(last - first).days // 2)
        requests += expected_windows(portal, first, middle)
        requests += expected_windows(portal, middle + timedelta(days=1), last)
    return requests


NOV1, NOV16 = date(2026, 11, 1), date(2026, 11, 16)


def test_a_busy_window_is_split_and_every_policy_comes_once():
    portal = HiperioPortal(count=250)
    tab = PortalTab(portal)
    items = listed(HiperioAdapter(tab), NOV1, NOV16)
    numbers = [i.number for i in items]
    assert len(numbers) == 250
    assert set(numbers) == set(portal.records)
    assert all(i.error is None for i in items)
    requests = portal.list_requests()
    assert requests[0] == ("2026-11-01", "2026-11-16")
    assert ("2026-11-01", "2026-11-08") in requests  # 250 in 16 days cannot fit in one answer
    assert requests == expected_windows(portal, NOV1, NOV16)
    assert len(requests) > 3
    # In the app's order: by issue date, then number.
    assert [(i.issue_date, i.number) for i in items] == sorted((i.issue_date, i.number) for i in items)
    assert all(r["headers"] == {"Accept": "application/json"} for r in tab.requests)


def test_a_quiet_window_is_one_request():
    portal = HiperioPortal(count=60)
    items = listed(HiperioAdapter(PortalTab(portal)), NOV1, NOV16)
    assert len(items) == 60
    assert portal.list_requests() == [("2026-11-01", "2026-11-16")]


def test_exactly_one_hundred_is_not_truncated():
    portal = HiperioPortal(count=100, issued=(date(2026, 11, 5), date(2026, 11, 5)))
    items = listed(HiperioAdapter(PortalTab(portal)), NOV1, NOV16)
    assert len(items) == 100 and all(i.error is None for i in items)
    assert portal.list_requests() == [("2026-11-01", "2026-11-16")]


def test_a_day_still_truncated_imports_its_hundred_and_reports_the_day():
    portal = HiperioPortal(count=130, issued=(date(2026, 11, 5), date(2026, 11, 5)))
    items = listed(HiperioAdapter(PortalTab(portal)), NOV1, NOV16)
    good = [i for i in items if i.error is None]
    assert len(good) == 100
    first_hundred = sorted(portal.records)[:100]
    assert [i.number for i in good] == first_hundred
    assert items[-1] == incomplete_day_item(date(2026, 11, 5))
    assert len(items) == 101
    assert portal.list_requests() == expected_windows(portal, NOV1, NOV16)
    assert ("2026-11-05", "2026-11-05") in portal.list_requests()


def test_read_policy_parses_the_listed_record_without_a_request():
    portal = HiperioPortal(count=20)
    tab = PortalTab(portal)
    adapter = HiperioAdapter(tab)
    items = listed(adapter, NOV1, NOV16)
    before = len(tab.fetched)
    policies = [asyncio.run(adapter.read_policy(item)) for item in items]
    assert len(tab.fetched) == before
    assert {p.number for p in policies} == set(portal.records)
    assert all(p.source_app == "hiperio" and p.product_line == "motor" for p in policies)


def test_fail_and_garbage_in_the_list():
    portal = HiperioPortal(count=30)
    bad, broken = sorted(portal.records)[:2]
    portal.fail, portal.garbage = {bad}, {broken}
    adapter = HiperioAdapter(PortalTab(portal))
    items = {i.number: i for i in listed(adapter, NOV1, NOV16)}
    assert "BLAD_TOWARZYSTWA" in items[bad].error and items[bad].insurer is not None
    with pytest.raises(ParseError):
        asyncio.run(adapter.read_policy(items[broken]))


def test_expired_session_stops_listing():
    portal = HiperioPortal(count=250, expire_after=2)
    with pytest.raises(NotLoggedIn, match="Sesja wygasła. Zaloguj się ponownie. Log in to Hiperio again"):
        listed(HiperioAdapter(PortalTab(portal)), NOV1, NOV16)


def test_not_logged_in_tab():
    portal = HiperioPortal(count=1)
    with pytest.raises(NotLoggedIn):
        asyncio.run(HiperioAdapter(PortalTab(portal, logged_in=False)).context())
    assert asyncio.run(HiperioAdapter(PortalTab(portal)).context()).user == "Anna Nowak"


def test_lookup_by_number():
    portal = HiperioPortal(count=30)
    number = sorted(portal.records)[3]
    tab = PortalTab(portal)
    adapter = HiperioAdapter(tab)
    [item] = asyncio.run(adapter.lookup(number))
    assert item.number == number and item.error is None
    assert tab.fetched[-1] == f"/api/sprzedaz/polisy/{number}"
    policy = asyncio.run(adapter.read_policy(item))
    assert policy.premium_gr == portal.policies[[p.number for p in portal.policies].index(number)].premium_gr
    # A bare item (no record) is read by number.
    again = asyncio.run(adapter.read_policy(ListedPolicy(number=number, insurer=policy.insurer)))
    assert again == policy


def test_lookup_errors():
    portal = HiperioPortal(count=30)
    bad, broken = sorted(portal.records)[:2]
    portal.fail, portal.garbage = {bad}, {broken}
    adapter = HiperioAdapter(PortalTab(portal))
    with pytest.raises(PolicyNotFound) as caught:
        asyncio.run(adapter.lookup("1012345000"))
    assert caught.value.reason == (
        "Hiperio has no policy numbered 1012345000; the app answered: Nie znaleziono polisy o numerze 1012345000."
    )
    with pytest.raises(PolicyError, match="BLAD_TOWARZYSTWA"):
        asyncio.run(adapter.lookup(bad))
    with pytest.raises(ParseError, match="not valid JSON"):
        asyncio.run(adapter.lookup(broken))
    with pytest.raises(BadInput):
        asyncio.run(adapter.lookup("908/1"))
    portal.expire_all()
    with pytest.raises(NotLoggedIn):
        asyncio.run(adapter.lookup(bad))


def test_unknown_insurer_and_other_rodzaj_from_the_portal():
    portal = HiperioPortal(count=10)
    first, second = sorted(portal.records)[:2]
    portal.records[first]["towarzystwo"] = "NOWE TU S.A."
    portal.records[second]["rodzaj"] = "MAJATEK"
    adapter = HiperioAdapter(PortalTab(portal))
    items = {i.number: i for i in listed(adapter, NOV1, NOV16)}
    assert items[first].insurer is None and "'NOWE TU S.A.'" in items[first].error
    with pytest.raises(PolicyError, match="'MAJATEK'"):
        asyncio.run(adapter.read_policy(items[second]))


def test_a_list_refused_by_the_app_is_one_red_row_for_the_window():
    class Refusing(PortalTab):
        async def fetch(self, url, **kwargs):
            return FetchResponse(400, "http://x" + url, read("error_400.json"))

    items = listed(HiperioAdapter(Refusing(HiperioPortal(count=1))), NOV1, NOV16)
    assert items == [
        ListedPolicy(
            number="(2026-11-01..2026-11-16)", insurer=None,
            error="Hiperio did not list the policies issued from 2026-11-01 to 2026-11-16: the app answered "
            "HTTP 400 (NIEPRAWIDLOWE_PARAMETRY): Nieprawidłowe parametry zapytania.",
        )
    ]
