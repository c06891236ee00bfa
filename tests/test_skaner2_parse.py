"""The pure parse functions of the Skaner2 adapter, on saved pages (tests/data/skaner2/)."""

from __future__ import annotations

import asyncio
import copy
import json
import unicodedata
from datetime import date
from urllib.parse import quote

import pytest
from werkzeug.test import Client as WsgiClient

from a21import.errors import (
    BadInput,
    EnvironmentProblem,
    NotLoggedIn,
    ParseError,
    PolicyError,
    PolicyNotFound,
)
from a21import.insurers import skaner2
from a21import.insurers.skaner2 import (
    INSURERS,
    PRODUCT_LINES,
    Skaner2Adapter,
    insurer_code,
    page_state,
    parse_agent,
    parse_list_state,
    parse_policy_state,
    product_line,
    state_error,
)
from a21import.model import INSURERS as CANONICAL_INSURERS
from a21import.model import Client, Coverage, Installment, ListedPolicy, Vehicle
from tests.conftest import DATA
from tests.fixtures.inprocess import CutShortTab, GatewayTab, PortalTab
from tests.fixtures.skaner2_portal import (
    AGENTS,
    ARRANT,
    PROFI,
    PUNKTA,
    Skaner2Portal,
    state_json,
)

PAGES = DATA / "skaner2"


def read(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def state(name: str) -> dict:
    result = page_state(read(name))
    assert result is not None
    return result


# -- the state script ------------------------------------------------------------------------


def test_state_is_the_script_text_parsed_as_json_without_unescaping():
    raw = state("detail_company.html")["polisa"]
    # `<` came as \u003c, `>` and `&` raw, quotes escaped: all exact, nothing HTML-unescaped.
    assert raw["ubezpieczajacy"]["nazwa"] == 'Sklep <Pod Lipą> & "Syn" [bold red]Sp. z o.o.[/bold red]'
    assert raw["produkt"] == "Dom & Ogród <Premium>"


def test_state_keeps_entity_like_text_literal():
    html = '<html><body><script id="__SKANER_STATE__" type="application/json">{"a":"x &amp; y &lt;"}</script></body></html>'
    assert page_state(html) == {"a": "x &amp; y &lt;"}


def test_login_page_has_no_state():
    assert page_state(read("login_page.html")) is None
    assert page_state(read("page_without_state.html")) is None
    assert page_state("") is None


def test_truncated_state_is_a_parse_error():
    with pytest.raises(ParseError, match="not valid JSON"):
        page_state(read("detail_garbage.html"))


def test_two_state_scripts_are_a_parse_error():
    script = '<script id="__SKANER_STATE__" type="application/json">{}</script>'
    with pytest.raises(ParseError, match="more than one"):
        page_state(f"<html><body>{script}{script}</body></html>")


def test_state_that_is_not_an_object_is_a_parse_error():
    with pytest.raises(ParseError, match="JSON object"):
        page_state('<script id="__SKANER_STATE__" type="application/json">[1]</script>')


# -- the tab ---------------------------------------------------------------------------------


def test_agent_of_a_logged_in_page():
    assert parse_agent(read("list_spec.html")) == "Anna Nowak"
    assert parse_agent(read("landing_tricky_agent.html")) == "Anna & Jan <Nowak>"


def test_login_page_and_page_without_state_are_not_logged_in():
    assert parse_agent(read("login_page.html")) is None
    assert parse_agent(read("page_without_state.html")) is None


# -- list pages ------------------------------------------------------------------------------


def test_spec_list_page():
    listing = parse_list_state(state("list_spec.html"))
    assert (listing.page, listing.pages, listing.total) == (1, 3, 71)
    assert listing.items == [
        ListedPolicy(number="PL/2026/0012345", insurer="WARTA", product="OC/AC", holder_name="Weronika Grabowska",
                     issue_date=date(2026, 11, 3), premium_gr=123456),
        ListedPolicy(number="KR-558120", insurer="UNIQA", product="Dom & Ogród",
                     holder_name="Sklep <Pod Lipą> Sp. z o.o.", issue_date=date(2026, 11, 3), premium_gr=38900),
    ]
    assert [item.ref for item in listing.items] == [
        "7c9e6679-7425-40de-944b-e07fc1f90ae7", "0b8e3f52-9d1a-4c7e-a6f2-5e4d3c2b1a09"]
    assert [item.key for item in listing.items] == ["WARTA:PL/2026/0012345", "UNIQA:KR-558120"]


def test_list_page_with_raw_characters_and_tricky_names():
    listing = parse_list_state(state("list_raw.html"))
    assert (listing.page, listing.pages, listing.total) == (3, 3, 63)
    assert [(i.number, i.insurer, i.holder_name, i.product, i.premium_gr) for i in listing.items] == [
        ("123456789012", "PZU", 'Kowalski & Syn "Łąka" s.c.', "Mieszkanie <Plus>", 1234500),
        ("PZ/1/2026", "PZU_ZYCIE", "Sklep [bold red]Pod Lipą[/bold red] Sp. z o.o.", "Życie [Plus]", 240010),
        ("TR-9", "YCD", "Piekarnia [link=https://example.com]Złoty Kłos[/link] & <b>Syn</b>", "Podróże & Narty", 8990),
    ]
    assert all(i.error is None and i.skip_reason is None for i in listing.items)


def test_empty_list_page():
    listing = parse_list_state(state("list_empty.html"))
    assert (listing.items, listing.page, listing.pages, listing.total) == ([], 1, 0, 0)


def test_list_page_of_the_portal():
    listing = parse_list_state(state("portal_list_page1.html"))
    assert (listing.page, listing.pages, listing.total, len(listing.items)) == (1, 2, 60, 30)
    assert all(i.error is None and i.insurer in CANONICAL_INSURERS for i in listing.items)
    assert listing.items[1].holder_name == "Transport <Sokół> Jan Nowak"
    assert listing.items[1].product == "Mieszkanie <Plus>"
    # The app's order: issue date, then number.
    keys = [(i.issue_date, i.number) for i in listing.items]
    assert keys == sorted(keys)


def test_look_up_with_two_insurers_gives_two_items():
    listing = parse_list_state(state("lookup_several.html"))
    assert [(i.key, i.ref, i.premium_gr) for i in listing.items] == [
        ("UNIQA:KR-558120", "11111111-2222-4333-8444-555555555555", 38900),
        ("ERGO_HESTIA:KR-558120", "66666666-7777-4888-9999-000000000000", 102000),
    ]


def test_list_entries_that_cannot_be_read_are_errors_of_their_own():
    items = parse_list_state(state("list_problems.html")).items
    unknown, lower_case, nfd, no_id, lenient = items
    assert unknown.insurer is None and unknown.error is not None
    assert "'Nowe TU [S.A.]'" in unknown.error and "not known" in unknown.error
    # Names are case-sensitive.
    assert lower_case.insurer is None and "'warta'" in lower_case.error
    # A decomposed (NFD) `majątkowe` is not the documented value.
    assert nfd.insurer == "ALLIANZ" and "rodzaj" in nfd.error
    assert no_id.insurer == "ALLIANZ" and "no id" in no_id.error
    # Informational columns that do not parse are left empty; the detail decides.
    assert lenient.error is None and lenient.ref == "b5"
    assert (lenient.issue_date, lenient.premium_gr, lenient.holder_name) == (None, None, None)


def test_bad_parameters_stop_the_listing():
    with pytest.raises(EnvironmentProblem, match="NIEPRAWIDLOWE_PARAMETRY: Nieprawidłowe parametry wyszukiwania."):
        parse_list_state(state("list_bad_parameters.html"))


@pytest.mark.parametrize(
    "broken",
    [
        {"strona": 1, "stron": 1, "razem": 1},
        {"polisy": {}, "strona": 1, "stron": 1, "razem": 1},
        {"polisy": [], "strona": "1", "stron": 1, "razem": 0},
        {"polisy": [], "strona": 1, "razem": 0},
        {"polisy": [], "strona": 1, "stron": True, "razem": 0},
        {"polisy": [{"id": "x"}], "strona": 1, "stron": 1, "razem": 1},
        {"polisy": ["PL/1"], "strona": 1, "stron": 1, "razem": 1},
    ],
)
def test_malformed_list_states_are_parse_errors(broken):
    with pytest.raises(ParseError):
        parse_list_state(broken)


# -- detail pages ----------------------------------------------------------------------------


def test_spec_detail_of_a_person_with_a_car():
    policy = parse_policy_state(state("detail_person_motor.html"), "ARRANT", number="PL/2026/0012345")
    assert policy.id == "WARTA:PL/2026/0012345"
    assert (policy.number, policy.insurer, policy.source_app, policy.source_system) == (
        "PL/2026/0012345", "WARTA", "skaner2", "ARRANT")
    assert (policy.product_line, policy.product, policy.status, policy.currency) == ("motor", "OC/AC", "Aktywna", "PLN")
    assert (policy.issue_date, policy.start_date, policy.end_date) == (
        date(2026, 11, 3), date(2026, 11, 4), date(2027, 11, 3))
    assert policy.premium_gr == 123456
    assert policy.holder == Client(
        kind="person", name="Weronika Grabowska", pesel="99080806080", street="ul. Sienkiewicza 3/9",
        postal_code="25-002", city="Kielce", phone="+48 698 765 432", email="w.grabowska@example.pl")
    assert policy.holder.id == "PESEL:99080806080"
    assert policy.vehicle == Vehicle(registration="TK91234", vin="VF3CCHMZ6JT552190", make="Peugeot", model="308",
                                     production_year=2018)
    assert policy.vehicle.id == "VIN:VF3CCHMZ6JT552190"
    assert policy.coverages == (
        Coverage("OC", "OC posiadaczów pojazdów", None, 103456),
        Coverage("ASS", "Assistance", None, 20000),
    )
    assert policy.installments == (
        Installment(1, date(2026, 11, 4), 61728, True),
        Installment(2, date(2027, 5, 4), 61728, False),
    )
    assert sum(i.amount_gr for i in policy.installments) == policy.premium_gr
    assert sum(c.premium_gr for c in policy.coverages) == policy.premium_gr


def test_detail_of_a_company_without_a_vehicle():
    policy = parse_policy_state(state("detail_company.html"), "PUNKTA")
    assert policy.id == "UNIQA:KR-558120"
    assert (policy.product_line, policy.product, policy.premium_gr) == ("property", "Dom & Ogród <Premium>", 38900)
    assert policy.vehicle is None
    assert policy.holder == Client(
        kind="company", name='Sklep <Pod Lipą> & "Syn" [bold red]Sp. z o.o.[/bold red]', nip="1136856876",
        regon="926194272", street="ul. Piotrkowska 1", postal_code="90-001", city="Łódź")
    assert policy.holder.id == "NIP:1136856876"
    assert (policy.holder.phone, policy.holder.email, policy.holder.pesel) == (None, None, None)
    assert policy.coverages == (
        Coverage("MUR", "Mury i stałe elementy", 45000000, 28900),
        Coverage("OCP", "OC w życiu prywatnym & [rodzinie]", 125000000, 10000),
    )
    assert policy.installments == (Installment(1, date(2026, 11, 5), 38900, False),)


def test_detail_with_missing_optional_fields():
    policy = parse_policy_state(state("detail_missing_optional.html"), "PROFI")
    assert (policy.id, policy.status, policy.source_system) == ("LINK4:AB12345678", None, "PROFI")
    assert policy.holder.name == "Jan O'Brien-Kowalski"
    assert (policy.holder.pesel, policy.holder.nip, policy.holder.regon, policy.holder.phone, policy.holder.email) == (
        None, None, None, None, None)
    assert policy.holder.id.startswith("HASH:")
    assert policy.vehicle == Vehicle(registration="GD4F218")
    assert policy.vehicle.id == "REG:GD4F218"
    assert policy.coverages == (Coverage("OC", None, None, None),)
    assert [i.amount_gr for i in policy.installments] == [30600, 30600]
    assert sum(i.amount_gr for i in policy.installments) == policy.premium_gr


def test_vehicle_without_vin_and_registration_is_no_vehicle():
    policy = parse_policy_state(state("detail_vehicle_no_ids.html"), "PUNKTA")
    assert policy.product_line == "motor"
    assert policy.vehicle is None
    assert policy.premium_gr == 100000


def test_detail_of_the_portal():
    policy = parse_policy_state(state("portal_detail_motor.html"), "PUNKTA", number="LTR/335/773658-9")
    assert policy.id == "UNIQA:LTR/335/773658-9"
    assert (policy.premium_gr, policy.product, policy.product_line) == (133102, 'Auto Pakiet "Komfort"', "motor")
    assert policy.vehicle == Vehicle(registration="BNCM225", vin="6A2YLT8B3BDZJJJTU", make="Peugeot", model="2008",
                                     production_year=2020)
    assert policy.holder.city == "Dąbrowa Górnicza"
    assert policy.coverages[1] == Coverage("AC", "Autocasco", 5101600, 88734)
    assert sum(i.amount_gr for i in policy.installments) == policy.premium_gr


def test_not_found():
    with pytest.raises(PolicyNotFound, match="NIE_ZNALEZIONO"):
        parse_policy_state(state("detail_not_found.html"), "PUNKTA")


def test_backend_failure_is_a_policy_error_with_the_apps_message():
    with pytest.raises(PolicyError) as caught:
        parse_policy_state(state("detail_backend_failure.html"), "PUNKTA")
    assert not isinstance(caught.value, (ParseError, PolicyNotFound))
    assert "BLAD_TU" in caught.value.reason
    assert "Nie udało się pobrać polisy z systemu towarzystwa. Spróbuj ponownie później." in caught.value.reason


def test_null_policy_without_error_is_a_parse_error():
    with pytest.raises(ParseError):
        parse_policy_state(state("detail_polisa_null.html"), "PUNKTA")


def test_detail_of_another_number_is_a_parse_error():
    with pytest.raises(ParseError, match="PL/2026/0012345"):
        parse_policy_state(state("detail_person_motor.html"), "PUNKTA", number="PL/2026/0012346")


def _detail(**changes) -> dict:
    result = copy.deepcopy(state("detail_person_motor.html"))
    result["polisa"].update(changes)
    return result


def test_unknown_insurer_in_the_detail_is_a_policy_error_naming_it():
    with pytest.raises(PolicyError, match="'Warta S.A.'"):
        parse_policy_state(_detail(towarzystwo="Warta S.A."), "PUNKTA")


@pytest.mark.parametrize("kind", ["Komunikacyjne", "majatkowe", unicodedata.normalize("NFD", "majątkowe"), "", None])
def test_unknown_kind_is_a_policy_error(kind):
    with pytest.raises(PolicyError, match="rodzaj"):
        parse_policy_state(_detail(rodzaj=kind, pojazd=None), "PUNKTA")


@pytest.mark.parametrize(("kind", "line"), sorted(PRODUCT_LINES.items()))
def test_every_kind_maps_to_its_line(kind, line):
    assert product_line(kind) == line
    assert parse_policy_state(_detail(rodzaj=kind), "PUNKTA").product_line == line


def test_kinds_are_nfc():
    assert all(unicodedata.is_normalized("NFC", kind) for kind in PRODUCT_LINES)
    assert set(PRODUCT_LINES.values()) == {"motor", "property", "life", "travel", "other"}


def test_foreign_currency_is_a_policy_error():
    with pytest.raises(PolicyError, match="'EUR'"):
        parse_policy_state(_detail(waluta="EUR"), "PUNKTA")


@pytest.mark.parametrize(
    "changes",
    [
        {"skladka": "1 234,56"},  # an ordinary space instead of U+00A0
        {"skladka": "1234.56"},
        {"skladka": None},
        {"dataWystawienia": "2026-11-03"},
        {"okresOd": "31.02.2026"},
        {"numer": None},
        {"produkt": None},
        {"waluta": None},
        {"ubezpieczajacy": None},
        {"ubezpieczajacy": {"rodzaj": "spółka", "nazwa": "X"}},
        {"ubezpieczajacy": {"rodzaj": "osoba", "nazwa": ""}},
        {"ubezpieczajacy": {"rodzaj": "osoba", "nazwa": "Jan Nowak", "pesel": 99080806080}},
        {"pojazd": {"rejestracja": "TK 1", "vin": None, "rok": "2018"}},
        {"pojazd": ["TK 1"]},
        {"ryzyka": []},
        {"ryzyka": None},
        {"ryzyka": [{"kod": None, "skladka": "1,00"}]},
        {"ryzyka": [{"kod": "OC", "skladka": 10.5}]},
        {"raty": []},
        {"raty": [{"nr": "1", "termin": "04.11.2026", "kwota": "1,00", "zaplacona": True}]},
        {"raty": [{"nr": 1, "termin": "04.11.2026", "kwota": "1,00", "zaplacona": "tak"}]},
        {"raty": [{"nr": 1, "termin": None, "kwota": "1,00", "zaplacona": True}]},
        {"raty": ["x"]},
        {"status": 5},
    ],
)
def test_malformed_details_are_parse_errors(changes):
    with pytest.raises(ParseError):
        parse_policy_state(_detail(**changes), "PUNKTA")


def test_policy_that_is_not_an_object_is_a_parse_error():
    with pytest.raises(ParseError):
        parse_policy_state({"polisa": "PL/1"}, "PUNKTA")
    with pytest.raises(ParseError):
        parse_policy_state({"polisa": None, "blad": "BLAD_TU"}, "PUNKTA")


# -- insurers --------------------------------------------------------------------------------

SPEC_INSURERS = {
    "PZU": "PZU", "PZU Życie": "PZU_ZYCIE", "Warta": "WARTA", "Warta Życie": "WARTA_ZYCIE", "Allianz": "ALLIANZ",
    "Link4": "LINK4", "Uniqa": "UNIQA", "Compensa": "COMPENSA", "InterRisk": "INTERRISK", "Wiener": "WIENER",
    "Trasti": "TRASTI", "Balcia": "BALCIA", "Beesafe": "BEESAFE", "Generali": "GENERALI",
    "Ergo Hestia": "ERGO_HESTIA", "MTU": "MTU", "You Can Drive": "YCD", "Proama": "PROAMA", "TUZ": "TUZ",
    "Gothaer": "GOTHAER", "Aviva": "AVIVA", "HDI": "HDI", "Euroins": "EUROINS", "Saltus": "SALTUS",
    "Benefia": "BENEFIA", "AXA": "AXA",
}


@pytest.mark.parametrize(("name", "code"), sorted(SPEC_INSURERS.items()))
def test_every_insurer_name(name, code):
    assert insurer_code(name) == code
    assert code in CANONICAL_INSURERS
    assert parse_policy_state(_detail(towarzystwo=name), "PUNKTA").id == f"{code}:PL/2026/0012345"


def test_insurer_table_is_exactly_the_spec():
    assert INSURERS == SPEC_INSURERS


@pytest.mark.parametrize("name", ["pzu", "Warta Zycie", "Ergo Hestia ", "UNIQA", "Nowe TU", "", None])
def test_unknown_insurer_names(name):
    with pytest.raises(PolicyError, match="not known"):
        insurer_code(name)


# -- the adapter's class-level contract and number check --------------------------------------


def test_hosts_and_sources():
    assert Skaner2Adapter.app_id == "skaner2"
    assert set(Skaner2Adapter.sources) == {"punkta", "arrant", "profi"}
    assert Skaner2Adapter.source_of_host("skaner2.punkta.pl") == "punkta"
    assert Skaner2Adapter.source_of_host("skaner2.arrant.pl") == "arrant"
    assert Skaner2Adapter.source_of_host("skaner2.profi.pl") == "profi"
    assert Skaner2Adapter.source_of_host("SKANER2.PROFI.PL") == "profi"
    assert Skaner2Adapter.source_of_host("skaner2.example.pl") is None
    assert Skaner2Adapter.matches_host("skaner2.arrant.pl")
    assert not Skaner2Adapter.matches_host("punkta.pl")
    assert not Skaner2Adapter.matches_host("skaner2.punkta.pl.evil.com")


def unlogged(host: str = PUNKTA) -> PortalTab:
    return PortalTab(Skaner2Portal(count=5), host=host, logged_in=False)


@pytest.mark.parametrize("number", ["PL/2026/0012345", "KR-558120", "1", "A" * 40, "ŁÓDŹ-1/2"])
def test_good_numbers(number):
    adapter = Skaner2Adapter(unlogged())
    assert adapter.check_number(f" {number} ") == number


@pytest.mark.parametrize("number", ["", " ", "A" * 41, "PL 2026", "PL_2026", "PL.2026", "12;DROP", "<b>"])
def test_bad_numbers(number):
    adapter = Skaner2Adapter(unlogged())
    with pytest.raises(BadInput, match="letters, digits, slashes and hyphens"):
        adapter.check_number(number)


def test_context_reads_the_agent_and_the_network():
    adapter = Skaner2Adapter(PortalTab(Skaner2Portal(count=5), host=ARRANT))
    context = asyncio.run(adapter.context())
    agent = AGENTS[ARRANT]
    assert (context.app_id, context.user, context.identity) == ("skaner2", agent, None)
    assert context.description == f"Logged in to Skaner2 of ARRANT (skaner2.arrant.pl) as {agent}."


def test_context_of_the_login_page_is_not_logged_in():
    adapter = Skaner2Adapter(unlogged(PROFI))
    with pytest.raises(NotLoggedIn, match="PROFI"):
        asyncio.run(adapter.context())


def test_look_up_encodes_the_number_and_reads_several():
    portal = Skaner2Portal(count=40)
    tab = PortalTab(portal, host=PUNKTA)
    number = portal.duplicate_numbers(PUNKTA)[0]
    items = asyncio.run(Skaner2Adapter(tab).lookup(number))
    assert [(i.number, i.ref) for i in items] == [(p.number, p.extra["id"]) for p in portal.find(number)]
    assert len(items) >= 2 and len({i.key for i in items}) == len(items)
    slashed = next(p.number for p in portal.policies[PUNKTA] if "/" in p.number and len(portal.find(p.number)) == 1)
    [item] = asyncio.run(Skaner2Adapter(tab).lookup(slashed))
    assert item.number == slashed
    assert tab.fetched[-1] == "/polisy?numer=" + quote(slashed, safe="")


def test_look_up_without_match_is_not_found():
    with pytest.raises(PolicyNotFound, match="X-1"):
        asyncio.run(Skaner2Adapter(PortalTab(Skaner2Portal(count=5))).lookup("X-1"))


def test_expired_session_is_the_login_page_at_any_url():
    portal = Skaner2Portal(count=5)
    adapter = Skaner2Adapter(PortalTab(portal))
    portal.expire_all()
    with pytest.raises(NotLoggedIn, match="session has expired"):
        asyncio.run(adapter.lookup("X-1"))
    item = ListedPolicy(number="X-1", insurer="PZU", ref=portal.policies[PUNKTA][0].extra["id"])
    with pytest.raises(NotLoggedIn):
        asyncio.run(adapter.read_policy(item))


def test_read_policy_takes_source_system_from_the_host():
    portal = Skaner2Portal(count=20)
    tab = PortalTab(portal, host=PROFI)
    [item] = asyncio.run(Skaner2Adapter(tab).lookup(portal.shared_numbers(PUNKTA, PROFI)[0]))
    policy = asyncio.run(Skaner2Adapter(tab).read_policy(item))
    assert (policy.id, policy.source_system) == (item.key, "PROFI")


def test_garbage_detail_is_a_parse_error_of_that_policy():
    portal = Skaner2Portal(count=5)
    fake = portal.policies[PUNKTA][0]
    portal.garbage = {fake.number}
    item = ListedPolicy(number=fake.number, insurer="WARTA", ref=fake.extra["id"])
    with pytest.raises(ParseError):
        asyncio.run(Skaner2Adapter(PortalTab(portal)).read_policy(item))


async def _listing(adapter, first=date(2026, 11, 1), last=date(2026, 11, 16)):
    return [item async for item in adapter.list_policies(first, last)]


def test_listing_reads_every_page():
    portal = Skaner2Portal(count=70)
    tab = PortalTab(portal)
    items = asyncio.run(_listing(Skaner2Adapter(tab)))
    pages = -(-len(portal.policies[PUNKTA]) // 30)
    assert pages >= 3
    assert tab.fetched == [f"/polisy?od=01.11.2026&do=16.11.2026&strona={n}" for n in range(1, pages + 1)]
    assert [i.number for i in items] == [p.number for p in portal.policies[PUNKTA]]


def test_listing_of_an_empty_window_asks_once():
    tab = PortalTab(Skaner2Portal(count=5))
    assert asyncio.run(_listing(Skaner2Adapter(tab), date(2026, 10, 1), date(2026, 10, 1))) == []
    assert tab.fetched == ["/polisy?od=01.10.2026&do=01.10.2026&strona=1"]


def test_broken_list_page_stops_the_listing():
    with pytest.raises(EnvironmentProblem, match="could not be read"):
        asyncio.run(_listing(Skaner2Adapter(CutShortTab(Skaner2Portal(count=5)))))


def test_server_error_without_state_is_not_mistaken_for_a_logout():
    portal = Skaner2Portal(count=5)
    item = ListedPolicy(number="A-1", insurer="PZU", ref=portal.policies[PUNKTA][0].extra["id"])
    with pytest.raises(PolicyError, match="HTTP 502"):
        asyncio.run(Skaner2Adapter(GatewayTab(portal)).read_policy(item))


def test_module_constants_match_the_spec():
    assert skaner2.PAGE_SIZE == 30
    assert skaner2.SOURCE_SYSTEMS == {"punkta": "PUNKTA", "arrant": "ARRANT", "profi": "PROFI"}


# -- the fixture portal speaks the spec (no browser: werkzeug's test client) -------------------


def _client(portal, host=PUNKTA):
    client = WsgiClient(portal._wsgi)
    answer = client.post("/login", data={"email": "a@b.pl", "haslo": "x"}, headers={"Host": f"{host}:8080"})
    assert (answer.status_code, answer.headers["Location"]) == (302, "/polisy")
    return client


def _get(client, url, host=PUNKTA):
    answer = client.get(url, headers={"Host": f"{host}:8080"})
    return answer.status_code, answer.get_data(as_text=True)


def test_state_json_variants_are_the_same_json_and_never_hold_a_raw_less_than():
    data = {"c": [1, None, True], "a": "Sklep <Pod Lipą> & Syn </script>", "b": "1\u00a0234,56"}
    texts = {state_json(data, variant) for variant in range(16)}
    assert len(texts) == 12  # escaping U+00A0 alone changes nothing once every non-ASCII is escaped
    for text in texts:
        assert "<" not in text
        assert json.loads(text) == data
    assert any("&" in t and ">" in t for t in texts) and any("\\u0026" in t and "\\u003e" in t for t in texts)
    assert any("\u00a0" in t for t in texts) and any("\\u00a0" in t for t in texts)


def test_portal_pages_parse_to_its_records_whatever_the_variant():
    portal = Skaner2Portal(count=65)
    client = _client(portal)
    listed = []
    for page in (1, 2, 3, 4):
        status, html = _get(client, f"/polisy?od=01.11.2026&do=16.11.2026&strona={page}")
        assert status == 200
        listing = parse_list_state(page_state(html))
        assert (listing.page, listing.pages, listing.total) == (page, 3, 65)
        assert len(listing.items) == {1: 30, 2: 30, 3: 5, 4: 0}[page]
        listed += listing.items
    records = portal.policies[PUNKTA]
    assert [(i.number, i.ref) for i in listed] == [(p.number, p.extra["id"]) for p in records]
    for fake in records:
        status, html = _get(client, f"/polisy/{fake.extra['id']}")
        policy = parse_policy_state(page_state(html), "PUNKTA", number=fake.number)
        assert (status, policy.premium_gr, policy.holder.name, policy.product) == (
            200, fake.premium_gr, fake.holder.name, fake.product)


def test_portal_errors_as_the_spec_says():
    portal = Skaner2Portal(count=10, expire_after=6)
    client = _client(portal)
    fake = portal.policies[PUNKTA][0]
    status, html = _get(client, "/polisy?od=16.11.2026&strona=1")
    assert status == 400 and state_error(page_state(html))[0] == "NIEPRAWIDLOWE_PARAMETRY"
    status, html = _get(client, "/polisy?od=1.11.2026&do=16.11.2026")
    assert status == 400
    status, html = _get(client, "/polisy/00000000-0000-4000-8000-000000000000")
    assert status == 404 and page_state(html) == {"polisa": None, "blad": {"kod": "NIE_ZNALEZIONO",
                                                                          "komunikat": "Nie znaleziono polisy."}}
    assert parse_agent(html) == "Anna Nowak"
    portal.fail.add(fake.number)
    status, html = _get(client, f"/polisy/{fake.extra['id']}")
    assert status == 200 and state_error(page_state(html))[0] == "BLAD_TU"
    status, html = _get(client, f"/polisy?numer={quote(fake.number, safe='')}")
    assert [i.ref for i in parse_list_state(page_state(html)).items] == [fake.extra["id"]]
    status, html = _get(client, "/polisy?numer=NIE-MA-TAKIEJ")
    assert page_state(html) == {"polisy": [], "strona": 1, "stron": 0, "razem": 0}
    # The sixth data request was the last: then the login page, HTTP 200, at the requested URL.
    answer = client.get("/polisy?od=01.11.2026&do=16.11.2026", headers={"Host": PUNKTA})
    assert answer.status_code == 200 and "Location" not in answer.headers
    html = answer.get_data(as_text=True)
    assert page_state(html) is None and "<title>Skaner2 – logowanie</title>" in html and 'id="skaner-login"' in html


def test_portal_keeps_one_session_per_host_and_its_own_data():
    portal = Skaner2Portal(count=20)
    client = _client(portal, ARRANT)
    status, html = _get(client, "/polisy?od=01.11.2026&do=16.11.2026", host=PUNKTA)
    assert status == 200 and page_state(html) is None  # the ARRANT session is not PUNKTA's
    status, html = _get(client, "/polisy?od=01.11.2026&do=16.11.2026", host=ARRANT)
    assert {i.ref for i in parse_list_state(page_state(html)).items} == {p.extra["id"] for p in portal.policies[ARRANT]}
    shared = portal.shared_numbers(PUNKTA, ARRANT, PROFI)
    assert shared and portal.shared_numbers(PUNKTA, ARRANT)
    punkta_id = portal.find(shared[0], PUNKTA)[0].extra["id"]
    status, _ = _get(client, f"/polisy/{punkta_id}", host=ARRANT)
    assert status == 404  # ids are per host
