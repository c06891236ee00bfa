"""UniMarket: the pure parse functions on saved answers, the adapter's request flow against the
fixture portal (in-process, no browser), and the fixture portal's own faithfulness to the spec."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import date
from pathlib import Path

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
from a21import.insurers import get
from a21import.insurers.base import FetchResponse
from a21import.insurers.unimarket import (
    INSURER_CODES,
    PAGE_SIZE,
    POLICIES_QUERY,
    POLICY_QUERY,
    UnimarketAdapter,
    check_policy_number,
    insurer_code,
    money_to_gr,
    parse_policies_page,
    parse_policy,
    parse_policy_answer,
    parse_shell,
    response_json,
)
from a21import.model import Client, Coverage, Installment, ListedPolicy, Policy, Vehicle
from tests.fixtures.inprocess import PortalTab
from tests.fixtures.unimarket_portal import INSURER_NAMES, UnimarketPortal, cursor_of

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data" / "unimarket"
SPEC = (ROOT / "docs" / "portals" / "unimarket.md").read_text(encoding="utf-8")


def load(name: str):
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def text(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def policy_node(name: str) -> dict:
    return load(name)["data"]["policy"]


# What the app may send instead of policy_person_motor.json, one change each.
VARIANTS = {
    "bad_amount": lambda n: n["premium"].update(amount="1234.5"),
    "float_amount": lambda n: n["premium"].update(amount=1234.56),
    "bad_issued_at": lambda n: n.update(issuedAt="2026-11-15T23:30:00"),
    "missing_holder": lambda n: n.pop("holder"),
    "no_installments": lambda n: n.update(installments=[]),
    "other_number": lambda n: n.update(number="1032/2026/000452"),
    "eur_premium": lambda n: n["premium"].update(currency="EUR"),
    "eur_sum_insured": lambda n: n["coverages"][1]["sumInsured"].update(currency="EUR"),
    "eur_coverage_premium": lambda n: n["coverages"][0]["premium"].update(currency="eur"),
    "eur_installment": lambda n: n["installments"][0]["amount"].update(currency="EUR"),
    "unknown_insurer": lambda n: n["insurer"].update(name='Towarzystwo Ubezpieczeń Wzajemnych "TUZ"'),
    "unknown_line": lambda n: n.update(productLine="HEALTH"),
}


def variant(name: str) -> dict:
    node = policy_node("policy_person_motor.json")
    VARIANTS[name](node)
    return node


# -- the spec's fixed texts ------------------------------------------------------------------------
def spec_documents() -> list[str]:
    return [block.rstrip("\n") for block in re.findall(r"```graphql\n(.*?)```", SPEC, re.S) if block.startswith("query")]


def test_documents_are_the_specs_verbatim():
    policies, policy = spec_documents()
    assert POLICIES_QUERY == policies
    assert POLICY_QUERY == policy


def test_registry_names_the_adapter():
    assert get("unimarket") is UnimarketAdapter
    assert UnimarketAdapter.matches_host("unimarket.unilink.pl")
    assert UnimarketAdapter.matches_host("UniMarket.Unilink.PL")
    assert not UnimarketAdapter.matches_host("unimarket.unilink.pl.example.com")
    assert not UnimarketAdapter.matches_host("unilink.pl")


# Typed out again here, not derived from the code, so a changed character in either fails.
EXPECTED_INSURERS = [
    ("Powszechny Zakład Ubezpieczeń SA", "PZU"),
    ("Powszechny Zakład Ubezpieczeń na Życie SA", "PZU_ZYCIE"),
    ("Towarzystwo Ubezpieczeń i Reasekuracji WARTA S.A.", "WARTA"),
    ("Towarzystwo Ubezpieczeń na Życie WARTA S.A.", "WARTA_ZYCIE"),
    ("Towarzystwo Ubezpieczeń i Reasekuracji Allianz Polska S.A.", "ALLIANZ"),
    ("LINK4 Towarzystwo Ubezpieczeń S.A.", "LINK4"),
    ("UNIQA Towarzystwo Ubezpieczeń S.A.", "UNIQA"),
    ("Compensa Towarzystwo Ubezpieczeń S.A. Vienna Insurance Group", "COMPENSA"),
    ("Towarzystwo Ubezpieczeń InterRisk S.A. Vienna Insurance Group", "INTERRISK"),
    ("Wiener Towarzystwo Ubezpieczeń S.A. Vienna Insurance Group", "WIENER"),
    ("Trasti Ubezpieczenia", "TRASTI"),
    ("Balcia Insurance SE", "BALCIA"),
    ("Beesafe", "BEESAFE"),
    ("Generali Towarzystwo Ubezpieczeń S.A.", "GENERALI"),
    ("Sopockie Towarzystwo Ubezpieczeń ERGO Hestia S.A.", "ERGO_HESTIA"),
    ("MTU Moje Towarzystwo Ubezpieczeń S.A.", "MTU"),
    ("You Can Drive", "YCD"),
    ("Proama", "PROAMA"),
    ("Towarzystwo Ubezpieczeń Wzajemnych „TUZ”", "TUZ"),
    ("Gothaer Towarzystwo Ubezpieczeń S.A.", "GOTHAER"),
    ("Aviva Towarzystwo Ubezpieczeń Ogólnych S.A.", "AVIVA"),
    ("HDI Versicherung AG Oddział w Polsce", "HDI"),
    ("Euroins Insurance Group", "EUROINS"),
    ("Saltus Towarzystwo Ubezpieczeń S.A.", "SALTUS"),
    ("Benefia Towarzystwo Ubezpieczeń S.A. Vienna Insurance Group", "BENEFIA"),
    ("AXA Ubezpieczenia TUiR S.A.", "AXA"),
]


@pytest.mark.parametrize(("name", "code"), EXPECTED_INSURERS, ids=[code for _, code in EXPECTED_INSURERS])
def test_every_insurer_name(name, code):
    assert insurer_code(name, "X/1") == code


def test_insurer_table_is_exactly_the_specs():
    table = SPEC[SPEC.index("Insurers (`insurer.name`"): SPEC.index("## Formats")]
    from_spec = dict(re.findall(r"`([^`]+)` \| ([A-Z_0-9]+)", table))
    assert len(from_spec) == 26
    assert INSURER_CODES == from_spec == dict(EXPECTED_INSURERS)
    assert set(INSURER_NAMES) == set(INSURER_CODES)


def test_tuz_name_needs_the_typographic_quotes():
    tuz = next(name for name, code in INSURER_CODES.items() if code == "TUZ")
    assert "\u201eTUZ\u201d" in tuz
    for wrong in ('Towarzystwo Ubezpieczeń Wzajemnych "TUZ"', "Towarzystwo Ubezpieczeń Wzajemnych \u201dTUZ\u201d",
                  "Towarzystwo Ubezpieczeń Wzajemnych TUZ"):
        with pytest.raises(PolicyError, match="is not known") as info:
            insurer_code(wrong, "KOS1")
        assert not isinstance(info.value, ParseError)
        assert wrong in info.value.reason


@pytest.mark.parametrize("name", ["Powszechny Zakład Ubezpieczeń S.A.", "powszechny zakład ubezpieczeń sa",
                                  " Beesafe", "Proama ", "Ergo Hestia", ""])
def test_near_miss_insurer_names_are_unknown(name):
    with pytest.raises(PolicyError, match="not known"):
        insurer_code(name, "X/1")


# -- the tab ----------------------------------------------------------------------------------------
def test_shell_gives_the_user():
    assert parse_shell(text("shell.html")) == "a.nowak"
    assert parse_shell(text("shell_no_user.html").replace('id="um-app"', 'id="um-app" data-user=""')) == ""


@pytest.mark.parametrize("page", ["login.html", "shell_no_user.html"])
def test_login_page_or_shell_without_user_is_not_logged_in(page):
    with pytest.raises(NotLoggedIn, match="Log in to UniMarket in that tab"):
        parse_shell(text(page))


def test_context_sentence():
    context = asyncio.run(UnimarketAdapter(PortalTab(UnimarketPortal(count=1))).context())
    assert (context.app_id, context.user, context.identity) == ("unimarket", "a.nowak", None)
    assert context.description == "Logged in to UNILINK UniMarket as a.nowak."


@pytest.mark.parametrize("number", ["1032/2026/000451", "KOS1234567", "9081234567890123", "A", "X" * 40])
def test_numbers_in_the_format(number):
    assert check_policy_number(f" {number} ") == number


@pytest.mark.parametrize("number", ["", "   ", "X" * 41, "1032 2026", "KOS\t1", "AB\x00C"])
def test_numbers_out_of_the_format(number):
    with pytest.raises(BadInput, match="1 to 40 characters"):
        check_policy_number(number)


# -- Policies ---------------------------------------------------------------------------------------
def test_policies_first_page():
    items, cursor = parse_policies_page(load("policies_page1.json"))
    assert cursor == "Y3Vyc29yOjU="
    assert [i.number for i in items] == ["1032/2026/000451", "KOS1234567", "PL/07/00012345", "9081234567890123", "LIFE/1"]
    assert items[0] == ListedPolicy(number="1032/2026/000451", insurer="PZU", product="Auto Pakiet OC+AC",
                                    holder_name="Natalia Kamińska", issue_date=date(2026, 11, 16), premium_gr=123456)
    assert items[0].ref == "1032/2026/000451"
    assert items[1] == ListedPolicy(number="KOS1234567", insurer="TUZ", product="Dom & Mieszkanie <Komfort>",
                                    holder_name='Kowalski & Syn "Łąka" s.c.', issue_date=date(2026, 11, 16),
                                    premium_gr=38900)
    # An insurer outside the table: red in the list, naming the name, with no insurer code guessed;
    # what else could be read stays, for the table.
    assert items[2] == ListedPolicy(
        number="PL/07/00012345", insurer=None, product="Podróże [Europa]",
        holder_name="Sklep [bold red]Pod Lipą[/bold red] Sp. z o.o.", issue_date=date(2026, 11, 16), premium_gr=9990,
        error="The insurer name 'Nowe Towarzystwo Ubezpieczeń S.A.' of policy PL/07/00012345 is not known to "
              "a21import's UniMarket table, so the policy is not imported.")
    # A premium in EUR: red in the list. 23:10 at -04:00 is 04:10 on the 17th in Warsaw.
    assert items[3] == ListedPolicy(
        number="9081234567890123", insurer="WARTA", product='NNW "Bezpieczny"', holder_name="Transport <Sokół> Jan Nowak",
        issue_date=date(2026, 11, 17), premium_gr=None,
        error="The premium of policy 9081234567890123 is in 'EUR', not PLN; a21import stores PLN amounts only, so "
              "the policy is not imported.")
    # ASCII quotes are not the TUZ of the table.
    assert items[4].insurer is None and 'Wzajemnych "TUZ"' in items[4].error
    assert items[4].premium_gr == 150000 and items[4].skip_reason is None


def test_policies_last_and_empty_pages():
    items, cursor = parse_policies_page(load("policies_last.json"))
    assert cursor is None
    assert items == [ListedPolicy(number="0001/2026/000001", insurer="AXA", product="OC Komunikacyjne",
                                  holder_name="O'Reilly & Żurawski; DROP TABLE policies;-- Sp. z o.o.",
                                  issue_date=date(2026, 11, 3), premium_gr=2000000)]
    assert parse_policies_page(load("policies_empty.json")) == ([], None)


def test_policies_next_page_without_cursor_stops_the_list():
    with pytest.raises(EnvironmentProblem, match="endCursor"):
        parse_policies_page(load("policies_next_without_cursor.json"))


@pytest.mark.parametrize("name", ["error_unauthenticated.json", "error_unauthenticated_locations.json"])
def test_policies_unauthenticated_is_not_logged_in(name):
    with pytest.raises(NotLoggedIn, match="Sesja wygasła"):
        parse_policies_page(load(name))


def test_policies_bad_user_input_stops_the_list():
    with pytest.raises(EnvironmentProblem, match="Nieprawidłowe argumenty") as info:
        parse_policies_page(load("error_bad_user_input.json"))
    assert not isinstance(info.value, NotLoggedIn)


@pytest.mark.parametrize("answer", [{}, {"data": None}, {"data": {"policies": None}}, {"data": {"policies": {"edges": {}}}},
                                    {"data": {"policies": {"edges": [{"node": {}}], "pageInfo": {"hasNextPage": False}}}},
                                    {"errors": "x"}, []])
def test_malformed_policies_answers(answer):
    with pytest.raises((EnvironmentProblem, ParseError)):
        parse_policies_page(answer)


# -- Policy -----------------------------------------------------------------------------------------
def test_person_motor_policy_of_the_spec():
    policy = parse_policy(parse_policy_answer(load("policy_person_motor.json"), "1032/2026/000451"), "1032/2026/000451")
    assert policy == Policy(
        number="1032/2026/000451", insurer="PZU", source_app="unimarket", source_system=None,
        product_line="motor", product="Auto Pakiet OC+AC", status="Wystawiona",
        issue_date=date(2026, 11, 16), start_date=date(2026, 11, 17), end_date=date(2027, 11, 16),
        premium_gr=123456, currency="PLN",
        holder=Client(kind="person", name="Natalia Kamińska", pesel="03300324605", street="ul. Mickiewicza 8/15",
                      postal_code="20-001", city="Lublin", phone="+48 781 234 560",
                      email="natalia.kaminska@example.pl"),
        vehicle=Vehicle(registration="LU8821C", vin="TMAH381AAKJ310584", make="Hyundai", model="i30",
                        production_year=2019),
        coverages=(Coverage("OC", "OC posiadaczy pojazdów", None, 98000),
                   Coverage("NNW", "NNW kierowcy i pasażerów", 2000000, 25456)),
        installments=(Installment(1, date(2026, 11, 17), 123456, False),),
    )
    assert policy.id == "PZU:1032/2026/000451"
    assert policy.holder.id == "PESEL:03300324605"
    assert policy.vehicle.id == "VIN:TMAH381AAKJ310584"
    assert sum(i.amount_gr for i in policy.installments) == policy.premium_gr
    assert sum(c.premium_gr for c in policy.coverages) == policy.premium_gr


def test_company_without_address_or_vehicle():
    node = policy_node("policy_company_no_address.json")
    policy = parse_policy(node, "KOS1234567")
    assert policy == Policy(
        number="KOS1234567", insurer="TUZ", source_app="unimarket", source_system=None,
        product_line="property", product="Dom & Mieszkanie <Komfort>", status=None,
        # 00:45 at +02:00 is 23:45 in Warsaw on the 16th, though the text says the 17th.
        issue_date=date(2026, 11, 16), start_date=date(2026, 11, 20), end_date=date(2027, 11, 19),
        premium_gr=38900,
        holder=Client(kind="company", name='Zakład Usług Leśnych "Bór" s.c.', nip="5846533972", regon="120133640",
                      email="biuro@bor.example.pl"),
        vehicle=None,
        coverages=(Coverage("MUR", None, None, None), Coverage("OCP", "OC w życiu prywatnym", 10000000, 38900)),
        installments=(Installment(1, date(2026, 11, 20), 19450, True), Installment(2, date(2027, 5, 20), 19450, False)),
    )
    assert policy.id == "TUZ:KOS1234567"
    assert policy.holder.id == "NIP:5846533972"
    assert policy.holder.row()["street"] is None and policy.holder.row()["city"] is None
    assert sum(i.amount_gr for i in policy.installments) == policy.premium_gr


def test_tricky_company_motor_without_vin():
    policy = parse_policy(policy_node("policy_tricky_company_motor.json"), "PL/07/00012345")
    assert policy.insurer == "ALLIANZ" and policy.id == "ALLIANZ:PL/07/00012345"
    assert policy.product == 'Auto "Bezpieczny Kierowca" & Assistance'
    assert policy.status == "Opłacona"
    # 00:10 at +05:30 is 19:40 on 31 October in Warsaw.
    assert policy.issue_date == date(2026, 10, 31)
    assert policy.premium_gr == 450007
    assert policy.holder == Client(kind="company", name="Piekarnia [link=https://example.com]Złoty Kłos[/link] & <b>Syn</b>",
                                   regon="120133640", street="al. Jana Pawła II 12", city="Kraków")
    assert policy.holder.id == "REGON:120133640"
    assert policy.vehicle == Vehicle(registration="KR1AB23", make="Škoda")
    assert policy.vehicle.id == "REG:KR1AB23"
    assert [i.amount_gr for i in policy.installments] == [112501, 112501, 112501, 112504]
    assert sum(i.amount_gr for i in policy.installments) == policy.premium_gr
    assert [i.paid for i in policy.installments] == [True, False, False, False]


def test_vehicle_without_vin_or_registration_is_no_vehicle():
    policy = parse_policy(policy_node("policy_vehicle_without_ids.json"), "9081234567890123")
    assert policy.vehicle is None
    assert policy.insurer == "YCD"
    assert policy.issue_date == date(2026, 11, 5)
    assert policy.premium_gr == 99
    assert policy.holder.pesel is None and policy.holder.id.startswith("HASH:")
    assert (policy.holder.phone, policy.holder.email) == (None, None)


def test_product_lines_lower_cased():
    node = policy_node("policy_person_motor.json")
    for line in ("MOTOR", "PROPERTY", "LIFE", "TRAVEL", "OTHER"):
        assert parse_policy({**node, "productLine": line}, "1032/2026/000451").product_line == line.lower()
    with pytest.raises(ParseError, match="HEALTH"):
        parse_policy(variant("unknown_line"), "1032/2026/000451")


@pytest.mark.parametrize(("issued_at", "day"), [
    ("2026-11-15T23:30:00Z", date(2026, 11, 16)),
    ("2026-11-15T22:59:59Z", date(2026, 11, 15)),
    ("2026-11-16T00:30:00+02:00", date(2026, 11, 15)),
    ("2026-11-17T00:45:00+02:00", date(2026, 11, 16)),
    ("2026-11-16T23:10:00-04:00", date(2026, 11, 17)),
    ("2026-11-16T00:00:00+01:00", date(2026, 11, 16)),
    ("2026-11-16T10:00:00.250+01:00", date(2026, 11, 16)),
    ("2026-03-28T23:30:00Z", date(2026, 3, 29)),
    ("2026-10-24T22:30:00Z", date(2026, 10, 25)),
    ("2026-07-01T23:30:00+01:00", date(2026, 7, 2)),  # 00:30 CEST
    ("2026-07-01T22:30:00+01:00", date(2026, 7, 1)),
])
def test_issue_date_is_the_warsaw_date(issued_at, day):
    node = {**policy_node("policy_person_motor.json"), "issuedAt": issued_at}
    assert parse_policy(node, "1032/2026/000451").issue_date == day


@pytest.mark.parametrize(("amount", "grosze"), [("20000.00", 2000000), ("0.01", 1), ("1234.56", 123456),
                                                ("0.29", 29), ("98765432109876543.21", 9876543210987654321)])
def test_decimal_amounts_are_exact(amount, grosze):
    assert money_to_gr({"amount": amount, "currency": "PLN"}, "premium", "X") == grosze


@pytest.mark.parametrize("name", ["eur_premium", "eur_sum_insured", "eur_coverage_premium", "eur_installment"])
def test_any_money_not_in_pln_is_a_policy_error(name):
    with pytest.raises(PolicyError, match="not PLN") as info:
        parse_policy(variant(name), "1032/2026/000451")
    assert not isinstance(info.value, ParseError)
    assert "1032/2026/000451" in info.value.reason


def test_unknown_insurer_in_detail_names_it():
    with pytest.raises(PolicyError) as info:
        parse_policy(variant("unknown_insurer"), "1032/2026/000451")
    assert info.value.reason == (
        "The insurer name 'Towarzystwo Ubezpieczeń Wzajemnych \"TUZ\"' of policy 1032/2026/000451 is not known to "
        "a21import's UniMarket table, so the policy is not imported."
    )


@pytest.mark.parametrize("name", ["bad_amount", "float_amount", "bad_issued_at", "missing_holder", "no_installments",
                                  "other_number"])
def test_malformed_detail_is_a_parse_error(name):
    with pytest.raises(ParseError):
        parse_policy(variant(name), "1032/2026/000451")


@pytest.mark.parametrize("edit", [
    lambda n: n.update(coverages=[{"code": "OC", "premium": {"amount": "1.00"}}]),
    lambda n: n.update(coverages=[None]),
    lambda n: n.update(installments=[{"seq": "1", "dueDate": "2026-11-17", "amount": None, "paid": False}]),
    lambda n: n.update(installments=[{"seq": 1, "dueDate": "17.11.2026", "amount": {"amount": "1.00", "currency": "PLN"}, "paid": False}]),
    lambda n: n.update(installments=[{"seq": 1, "dueDate": "2026-11-17", "amount": {"amount": "1.00", "currency": "PLN"}, "paid": "nie"}]),
    lambda n: n["holder"].update(kind="PARTNERSHIP"),
    lambda n: n["holder"].update(address="ul. Długa 5"),
    lambda n: n["holder"].update(pesel=3300324605),
    lambda n: n["vehicle"].update(productionYear="2019"),
    lambda n: n.update(vehicle=[]),
    lambda n: n.update(startDate=None),
    lambda n: n.update(insurer=None),
    lambda n: n.update(premium=None),
    lambda n: n.update(productName=""),
])
def test_malformed_fields_never_escape_as_python_errors(edit):
    node = policy_node("policy_person_motor.json")
    edit(node)
    with pytest.raises(ParseError):
        parse_policy(node, "1032/2026/000451")


def test_error_shapes_of_policy():
    with pytest.raises(NotLoggedIn, match="Sesja wygasła"):
        parse_policy_answer(load("error_unauthenticated.json"), "1032/2026/000451")
    with pytest.raises(NotLoggedIn):
        parse_policy_answer(load("error_unauthenticated_locations.json"), "1032/2026/000451")
    with pytest.raises(PolicyNotFound, match="Nie znaleziono polisy"):
        parse_policy_answer(load("error_not_found.json"), "1032/2026/000451")
    with pytest.raises(PolicyError) as info:
        parse_policy_answer(load("error_internal.json"), "1032/2026/000451")
    assert type(info.value) is PolicyError
    assert "Błąd systemu towarzystwa" in info.value.reason and "1032/2026/000451" in info.value.reason
    with pytest.raises(PolicyError, match="BAD_USER_INPUT") as info:
        parse_policy_answer(load("error_bad_user_input.json"), "1032/2026/000451")
    assert type(info.value) is PolicyError


def test_unauthenticated_wins_over_other_errors():
    answer = {"errors": [load("error_internal.json")["errors"][0], load("error_unauthenticated.json")["errors"][0]],
              "data": None}
    with pytest.raises(NotLoggedIn):
        parse_policy_answer(answer, "1")


def test_garbage_and_non_json_answers():
    garbage = FetchResponse(200, "http://unimarket.unilink.pl/graphql", text("policy_garbage.json"))
    with pytest.raises(ParseError, match="not valid JSON"):
        response_json(garbage)
    with pytest.raises(ParseError, match="415"):
        response_json(FetchResponse(415, "http://unimarket.unilink.pl/graphql", "Unsupported Media Type"))
    with pytest.raises(NotLoggedIn):
        response_json(FetchResponse(200, "http://unimarket.unilink.pl/login", text("login.html")))
    with pytest.raises(ParseError):
        response_json(FetchResponse(200, "http://unimarket.unilink.pl/graphql", "[1, 2]"))


# -- the adapter's flow, over the fixture portal in-process ------------------------------------------
async def _collect(adapter, date_from, date_to):
    return [item async for item in adapter.list_policies(date_from, date_to)]


def test_list_pages_through_every_cursor():
    portal = UnimarketPortal(count=120)
    tab = PortalTab(portal)
    items = asyncio.run(_collect(UnimarketAdapter(tab), date(2026, 11, 1), date(2026, 11, 16)))
    assert [i.number for i in items] == [p.number for p in portal.policies]
    bodies = [json.loads(r["body"]) for r in tab.requests]
    assert [b["variables"]["after"] for b in bodies] == [None, cursor_of(49), cursor_of(99)]
    for request, body in zip(tab.requests, bodies):
        assert (request["url"], request["method"]) == ("/graphql", "POST")
        assert request["headers"] == {"Content-Type": "application/json", "Accept": "application/json"}
        assert body == {"operationName": "Policies", "query": POLICIES_QUERY,
                        "variables": {"from": "2026-11-01", "to": "2026-11-16", "first": PAGE_SIZE,
                                      "after": body["variables"]["after"]}}
    assert PAGE_SIZE == 50
    for item, record in zip(items, portal.policies):
        assert item.issue_date == record.issue_date
        assert item.premium_gr == record.premium_gr
        assert item.holder_name == record.holder.name
        assert item.insurer == INSURER_CODES[record.insurer]


def test_list_window_uses_the_warsaw_date():
    portal = UnimarketPortal()
    tab = PortalTab(portal)
    items = asyncio.run(_collect(UnimarketAdapter(tab), date(2026, 11, 16), date(2026, 11, 16)))
    expected = [p.number for p in portal.policies if p.issue_date == date(2026, 11, 16)]
    assert [i.number for i in items] == expected
    texts = {p.number: p.extra["issued_at"] for p in portal.policies}
    assert "2026-11-15T23:30:00Z" in [texts[n] for n in expected]
    assert any(texts[n].startswith("2026-11-17") for n in expected)


def test_read_and_lookup_through_the_portal():
    portal = UnimarketPortal()
    tab = PortalTab(portal)
    adapter = UnimarketAdapter(tab)
    record = next(p for p in portal.policies if p.vehicle is not None and p.vehicle.vin)
    items = asyncio.run(adapter.lookup(record.number))
    assert len(items) == 1 and items[0].number == record.number and items[0].error is None
    before = len(tab.requests)
    policy = asyncio.run(adapter.read_policy(items[0]))
    assert len(tab.requests) == before  # the look-up already carried the detail
    assert policy.vehicle.vin == record.vehicle.vin
    body = json.loads(tab.requests[0]["body"])
    assert body == {"operationName": "Policy", "query": POLICY_QUERY, "variables": {"number": record.number}}
    listed = ListedPolicy(number=record.number, insurer=INSURER_CODES[record.insurer], ref=record.number)
    assert asyncio.run(adapter.read_policy(listed)) == policy
    with pytest.raises(PolicyNotFound):
        asyncio.run(adapter.lookup("0000/0000/000000"))


def test_faults_through_the_portal():
    portal = UnimarketPortal()
    failing, broken = portal.policies[3].number, portal.policies[4].number
    portal.fail, portal.garbage = {failing}, {broken}
    adapter = UnimarketAdapter(PortalTab(portal))
    with pytest.raises(PolicyError, match="Błąd systemu towarzystwa"):
        asyncio.run(adapter.read_policy(ListedPolicy(number=failing, insurer="X", ref=failing)))
    with pytest.raises(ParseError, match="not valid JSON"):
        asyncio.run(adapter.read_policy(ListedPolicy(number=broken, insurer="X", ref=broken)))


def test_expired_session_on_either_operation():
    portal = UnimarketPortal(expire_after=1)
    adapter = UnimarketAdapter(PortalTab(portal))
    # The first page is served; the second request of the session is refused.
    with pytest.raises(NotLoggedIn, match="Sesja wygasła"):
        asyncio.run(_collect(adapter, date(2026, 11, 1), date(2026, 11, 16)))
    portal = UnimarketPortal(expire_after=0)
    adapter = UnimarketAdapter(PortalTab(portal))
    with pytest.raises(NotLoggedIn, match="Sesja wygasła"):
        asyncio.run(adapter.read_policy(ListedPolicy(number=portal.policies[0].number, insurer="X")))


def test_not_logged_in_tab():
    portal = UnimarketPortal()
    with pytest.raises(NotLoggedIn, match="not logged in"):
        asyncio.run(UnimarketAdapter(PortalTab(portal, logged_in=False)).context())


# -- the fixture portal keeps to the spec ------------------------------------------------------------
@pytest.fixture
def client():
    portal = UnimarketPortal()
    client = WsgiClient(portal._wsgi)
    response = client.post("/login", data={"login": "a.nowak", "password": "tajne"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    client.portal = portal
    return client


def gql(client, operation, query, variables, **kwargs):
    body = {"query": query, "variables": variables}
    if operation is not ...:
        body["operationName"] = operation
    response = client.post("/graphql", data=json.dumps(body), content_type="application/json",
                           headers={"Accept": "application/json"}, **kwargs)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.json


WINDOW = {"from": "2026-11-01", "to": "2026-11-16", "first": 50, "after": None}


def test_portal_login_and_shell():
    portal = UnimarketPortal()
    client = WsgiClient(portal._wsgi)
    assert client.get("/").headers["Location"] == "/login"
    assert client.get("/polisy/123").headers["Location"] == "/login"
    assert 'form id="um-login"' in client.get("/login").get_data(as_text=True)
    assert client.post("/login", data={"login": "", "password": "x"}).status_code == 200
    assert client.post("/login", data={"login": "a", "password": "x"}).headers["Location"] == "/"
    assert parse_shell(client.get("/polisy/123").get_data(as_text=True)) == "a"
    cookie = client.get_cookie("um_session")
    assert cookie is not None and cookie.http_only


def test_portal_refuses_other_content_types(client):
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/graphql"):
        response = client.post("/graphql", data=json.dumps({"query": POLICIES_QUERY}), content_type=content_type)
        assert response.status_code == 415
    assert client.get("/graphql").status_code == 405


def test_portal_recognises_operations_not_texts(client):
    reformatted = " ".join(POLICIES_QUERY.split()).replace("{ ", "{\n")
    assert gql(client, "Policies", reformatted, WINDOW)["data"]["policies"]["pageInfo"]["hasNextPage"] is True
    assert "data" in gql(client, ..., POLICIES_QUERY, WINDOW) and gql(client, ..., POLICIES_QUERY, WINDOW)["data"]
    number = client.portal.policies[0].number
    compact = "# the front end's Policy query\n" + " ".join(POLICY_QUERY.split())
    assert gql(client, None, compact, {"number": number})["data"]["policy"]["number"] == number
    assert gql(client, "Other", POLICIES_QUERY, WINDOW)["errors"][0]["extensions"]["code"] != "BAD_USER_INPUT"


def test_portal_paging_order_and_shapes(client):
    portal = client.portal
    seen, after = [], None
    while True:
        page = gql(client, "Policies", POLICIES_QUERY, {**WINDOW, "first": 7, "after": after})["data"]["policies"]
        assert len(page["edges"]) <= 7
        seen += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            assert page["pageInfo"]["endCursor"] == (page["edges"][-1]["cursor"] if page["edges"] else None)
            break
        after = page["pageInfo"]["endCursor"]
        assert after == page["edges"][-1]["cursor"]
    assert [n["number"] for n in seen] == [p.number for p in portal.policies]
    keys = [(UnimarketPortal.instant(p), p.number) for p in portal.policies]
    assert keys == sorted(keys)
    assert len({k[0] for k in keys}) < len(keys)  # a shared instant, written in two offsets, ordered by number
    assert set(seen[0]) == {"id", "number", "insurer", "productLine", "productName", "issuedAt", "premium", "holder"}
    assert set(seen[0]["holder"]) == {"name"}
    assert {n["productLine"] for n in seen} == {"MOTOR", "PROPERTY", "LIFE", "TRAVEL", "OTHER"}
    assert {n["insurer"]["name"] for n in seen} == set(INSURER_NAMES)
    offsets = {re.search(r"(Z|[+-]\d\d:\d\d)$", n["issuedAt"]).group(1) for n in seen}
    assert {"Z", "+01:00", "+02:00"} <= offsets
    empty = gql(client, "Policies", POLICIES_QUERY, {**WINDOW, "from": "2026-12-01", "to": "2026-12-31"})
    assert empty == {"data": {"policies": {"edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}}}


def test_portal_filters_by_the_warsaw_date(client):
    portal = client.portal
    for day in (date(2026, 11, 1), date(2026, 11, 16)):
        page = gql(client, "Policies", POLICIES_QUERY, {**WINDOW, "from": day.isoformat(), "to": day.isoformat()})
        numbers = [e["node"]["number"] for e in page["data"]["policies"]["edges"]]
        assert numbers == [p.number for p in portal.policies if UnimarketPortal.warsaw_day(p) == day]
        assert any(not e["node"]["issuedAt"].startswith(day.isoformat()) for e in page["data"]["policies"]["edges"])


@pytest.mark.parametrize("variables", [
    {**WINDOW, "from": "01.11.2026"}, {**WINDOW, "to": "2026-11-31"}, {**WINDOW, "from": None},
    {**WINDOW, "first": 0}, {**WINDOW, "first": 101}, {**WINDOW, "first": "50"}, {**WINDOW, "first": True},
    {**WINDOW, "after": "not a cursor"}, {**WINDOW, "after": cursor_of(10_000)}, {**WINDOW, "after": 5},
    {"from": "2026-11-01", "to": "2026-11-16"},
])
def test_portal_bad_user_input(client, variables):
    assert gql(client, "Policies", POLICIES_QUERY, variables) == load("error_bad_user_input.json")


def test_portal_first_bounds_accepted(client):
    assert len(gql(client, "Policies", POLICIES_QUERY, {**WINDOW, "first": 1})["data"]["policies"]["edges"]) == 1
    assert len(gql(client, "Policies", POLICIES_QUERY, {**WINDOW, "first": 100})["data"]["policies"]["edges"]) == 60


def test_portal_error_answers(client):
    portal = client.portal
    number = portal.policies[0].number
    assert gql(client, "Policy", POLICY_QUERY, {"number": "nope"}) == load("error_not_found.json")
    portal.fail = {number}
    assert gql(client, "Policy", POLICY_QUERY, {"number": number}) == load("error_internal.json")
    # Policies never answers INTERNAL, even when a policy of the page fails.
    assert "errors" not in gql(client, "Policies", POLICIES_QUERY, WINDOW)
    assert gql(client, "Policy", POLICY_QUERY, {}) == load("error_bad_user_input.json")
    portal.expire_all()
    assert gql(client, "Policies", POLICIES_QUERY, WINDOW) == load("error_unauthenticated.json")
    assert gql(client, "Policy", POLICY_QUERY, {"number": number}) == load("error_unauthenticated.json")


def test_portal_detail_shapes(client):
    portal = client.portal
    details = [gql(client, "Policy", POLICY_QUERY, {"number": p.number})["data"]["policy"] for p in portal.policies]
    assert all(len(d["coverages"]) >= 1 and len(d["installments"]) >= 1 for d in details)
    assert all([i["seq"] for i in d["installments"]] == list(range(1, len(d["installments"]) + 1)) for d in details)
    assert all((d["vehicle"] is not None) == (d["productLine"] == "MOTOR") for d in details)
    assert any(d["holder"]["address"] is None for d in details)
    assert any(d["vehicle"] and d["vehicle"]["vin"] is None and d["vehicle"]["registration"] for d in details)
    assert any(d["vehicle"] and d["vehicle"]["vin"] is None and d["vehicle"]["registration"] is None for d in details)
    assert {d["holder"]["kind"] for d in details} == {"PERSON", "COMPANY"}
    assert all(re.fullmatch(r"\d+\.\d\d", m["amount"]) for d in details for m in
               [d["premium"], *(i["amount"] for i in d["installments"])])
    for d, p in zip(details, portal.policies):
        parsed = parse_policy(d, p.number)
        assert sum(i.amount_gr for i in parsed.installments) == parsed.premium_gr == p.premium_gr


def test_portal_oddities_helpers(client):
    portal = client.portal
    number = portal.policies[5].number
    portal.set_insurer(number, "Nowe TU S.A.")
    portal.set_currency(number, "installment", "EUR")
    portal.drop_address(number)
    node = gql(client, "Policy", POLICY_QUERY, {"number": number})["data"]["policy"]
    assert node["insurer"]["name"] == "Nowe TU S.A."
    assert {i["amount"]["currency"] for i in node["installments"]} == {"EUR"}
    assert node["holder"]["address"] is None
