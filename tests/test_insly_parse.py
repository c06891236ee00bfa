"""Unit tests of the INSLY adapter: the pure parse functions on saved responses (tests/data/insly),
and the adapter's request flow against a fake tab that answers with those responses."""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from a21import.errors import (
    BadInput,
    EnvironmentProblem,
    NotLoggedIn,
    OutOfScope,
    ParseError,
    PolicyError,
    PolicyNotFound,
)
from a21import.insurers.insly import (
    INSURER_CODES,
    InslyAdapter,
    insurer_code,
    parse_list_page,
    parse_message,
    parse_policy,
    parse_tab_page,
)
from a21import.model import (
    INSURERS,
    Client,
    Coverage,
    Installment,
    ListedPolicy,
    Policy,
    Vehicle,
)
from tests.fixtures import insly_portal
from tests.fixtures.inprocess import CutShortTab, GatewayTab, PortalTab

DATA = Path(__file__).resolve().parent / "data" / "insly"
HOST = "agencja-kowalski.insly.com"


def text(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def variant(name: str = "detail_spec_person.json", **changes) -> str:
    """The saved detail with some keys of `data` changed; `customer__type=...` reaches one level down."""
    body = json.loads(text(name))
    for key, value in changes.items():
        target = body["data"]
        *parents, last = key.split("__")
        for parent in parents:
            target = target[parent]
        if value is DELETE:
            del target[last]
        else:
            target[last] = value
    return json.dumps(body, ensure_ascii=False)


DELETE = object()

# The table of docs/portals/insly.md, written out again here so a typo in the adapter's copy shows.
SPEC_INSURERS = [
    ("PZU SA", "PZU"), ("PZU Życie SA", "PZU_ZYCIE"), ("TUiR Warta S.A.", "WARTA"),
    ("TUnŻ Warta S.A.", "WARTA_ZYCIE"), ("Allianz", "ALLIANZ"), ("LINK4", "LINK4"),
    ("UNIQA", "UNIQA"), ("Compensa", "COMPENSA"), ("InterRisk", "INTERRISK"),
    ("Wiener", "WIENER"), ("Trasti", "TRASTI"), ("Balcia", "BALCIA"),
    ("Beesafe", "BEESAFE"), ("Generali", "GENERALI"), ("Ergo Hestia", "ERGO_HESTIA"),
    ("MTU", "MTU"), ("You Can Drive", "YCD"), ("Proama", "PROAMA"),
    ("TUZ TUW", "TUZ"), ("Gothaer", "GOTHAER"), ("Aviva", "AVIVA"),
    ("HDI", "HDI"), ("Euroins", "EUROINS"), ("Saltus", "SALTUS"),
    ("Benefia", "BENEFIA"), ("AXA", "AXA"),
]


# -- insurers and hosts -------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "code"), SPEC_INSURERS)
def test_every_insurer_name_maps_to_its_code(name, code):
    assert insurer_code(name) == code
    assert code in INSURERS


def test_the_table_holds_exactly_the_spec_names_and_agrees_with_the_portal():
    assert INSURER_CODES == dict(SPEC_INSURERS)
    assert insly_portal.INSURERS == dict(SPEC_INSURERS)


@pytest.mark.parametrize(
    "name",
    ["TUiR Warta SA", "Warta", "pzu sa", "PZU", "PZU SA ", "Ergo hestia", "ERGO Hestia", "TUZ", "Link4", "",
     "Hestia", "Nowe TU S.A."],
)
def test_names_outside_the_table_are_never_guessed(name):
    assert insurer_code(name) is None


@pytest.mark.parametrize(
    "host", ["agencja-kowalski.insly.com", "a.insly.com", "broker1.insly.com", "AGENCJA.Insly.com", "x-1-y.insly.com"]
)
def test_tenant_hosts_match(host):
    assert InslyAdapter.matches_host(host)


@pytest.mark.parametrize(
    "host",
    ["www.insly.com", "insly.com", "a.b.insly.com", "agencja.insly.com.pl", "insly.com.evil.pl", "evil-insly.com",
     "agencja.insly.co", "-a.insly.com", "a-.insly.com", ".insly.com", "", "sobol-agencyjny.tuz.pl"],
)
def test_other_hosts_do_not_match(host):
    assert not InslyAdapter.matches_host(host)


# -- the tab's page -----------------------------------------------------------------------------
def test_logged_in_page_gives_user_tenant_and_token():
    page = parse_tab_page(text("tab_dashboard.html"))
    assert (page.user, page.tenant, page.login_form) == ("Anna Nowak", "Agencja Kowalski", False)
    assert len(page.csrf_token) == 40 and page.csrf_token.isalnum()


def test_login_page_has_a_token_but_no_user():
    page = parse_tab_page(text("tab_login.html"))
    assert page.user is None and page.login_form
    assert len(page.csrf_token) == 40


def test_page_without_meta_token_and_entities_in_tenant():
    page = parse_tab_page(text("tab_no_meta.html"))
    assert page.csrf_token is None
    assert page.tenant == 'Agencja & "Kowalski"'


def test_empty_or_broken_html_has_no_user():
    assert parse_tab_page("").user is None
    assert parse_tab_page("<div id='topbar'><span class='user-name'>").user is None


# -- the list -----------------------------------------------------------------------------------
def test_list_mixed_items():
    items, pages = parse_list_page(text("list_mixed.json"))
    assert pages == 3
    assert items[0] == ListedPolicy(
        number="908012345678", insurer="WARTA", product="OC/AC Komfort", holder_name="Michał Lewandowski",
        issue_date=date(2026, 11, 3), premium_gr=123456,
    )
    assert items[0].ref == 184467 and items[0].key == "WARTA:908012345678"
    assert items[1] == ListedPolicy(
        number="ZD/2026/118833", insurer="COMPENSA", product="Dom i Mieszkanie", holder_name="Kowalski & Syn s.c.",
        issue_date=date(2026, 11, 3), premium_gr=41200, skip_reason="product_group property",
    )
    unknown = items[2]
    assert unknown.insurer is None and unknown.skip_reason is None
    assert "'Nowe TU \"Przyszłość\" S.A.'" in unknown.error and "KOM-00112233" in unknown.error
    assert items[3].error and "'boat'" in items[3].error and items[3].skip_reason is None
    # A non-motor item needs no insurer mapping: skipped, never red.
    assert items[4].skip_reason == "product_group life" and items[4].insurer is None and items[4].error is None
    assert items[4].holder_name == "Transport <Sokół> Jan Nowak"
    assert items[5].error and "'1 234,56'" in items[5].error and items[5].insurer == "LINK4"
    assert items[5].holder_name == "Sklep [bold red]Pod Lipą[/bold red] Sp. z o.o."
    assert [i.skip_reason for i in items[6:]] == ["product_group travel", "product_group other"]
    assert items[6].insurer == "WARTA_ZYCIE"


def test_generated_list_pages():
    first, pages = parse_list_page(text("list_page1.json"))
    second, pages_again = parse_list_page(text("list_page2.json"))
    assert (len(first), len(second), pages, pages_again) == (50, 10, 2, 2)
    raw = json.loads(text("list_page1.json"))["data"] + json.loads(text("list_page2.json"))["data"]
    order = [(date(*map(int, reversed(r["issue_date"].split(".")))), r["policy_id"]) for r in raw]
    assert order == sorted(order)
    items = first + second
    assert {i.skip_reason for i in items if i.skip_reason} == {
        "product_group property", "product_group travel", "product_group life", "product_group other"
    }
    errors = [i.error for i in items if i.error]
    assert len(errors) == 2
    assert any("'Nowe Towarzystwo Ubezpieczeń S.A.'" in e for e in errors)
    assert any("'boat'" in e for e in errors)
    good = [i for i in items if not i.error and not i.skip_reason]
    assert all(i.insurer in INSURERS and isinstance(i.ref, int) for i in good)
    # The list escapes non-ASCII (\u00f3): decoded back exactly.
    assert "Mój Dom <Plus>" in {i.product for i in items}


def test_page_past_the_last_and_empty_result():
    assert parse_list_page(text("list_page3.json")) == ([], 2)
    assert parse_list_page(text("list_empty.json")) == ([], 0)


def test_shared_number_lists_two_insurers():
    items, pages = parse_list_page(text("list_lookup_shared.json"))
    assert pages == 1
    assert [(i.number, i.insurer) for i in items] == [("MT/2026/149142", "ERGO_HESTIA"), ("MT/2026/149142", "MTU")]
    assert items[0].holder_name == "O'Reilly & Żurawski; DROP TABLE policies;-- Sp. z o.o."


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        '{"data": []}',
        '{"meta": {"pages": 1}}',
        '{"data": {}, "meta": {"pages": 1}}',
        '{"data": [], "meta": {"pages": "2"}}',
        '{"data": [], "meta": {"pages": -1}}',
        '{"data": [], "meta": {"pages": true}}',
        '{"data": [1], "meta": {"pages": 1}}',
        '{"data": [{"policy_id": 1}], "meta": {"pages": 1}}',
        '{"data": [{"policy_no": ""}], "meta": {"pages": 1}}',
        '[]',
    ],
)
def test_malformed_list_raises_parse_error(body):
    with pytest.raises(ParseError):
        parse_list_page(body)


def test_motor_item_without_integer_policy_id_is_red():
    body = {"data": [{"policy_id": "184467", "policy_no": "1", "insurer": "AXA", "product_group": "motor",
                      "issue_date": "03.11.2026", "premium": "1.00"}], "meta": {"pages": 1}}
    (item,), _ = parse_list_page(json.dumps(body))
    assert item.error and "'184467'" in item.error


# -- one policy ---------------------------------------------------------------------------------
def test_spec_person_policy_whole():
    policy = parse_policy(text("detail_spec_person.json"))
    assert policy == Policy(
        number="908012345678", insurer="WARTA", source_app="insly", source_system=None, product_line="motor",
        product="OC/AC Komfort", status="active", issue_date=date(2026, 11, 3), start_date=date(2026, 11, 5),
        end_date=date(2027, 11, 4), premium_gr=123456, currency="PLN",
        holder=Client(kind="person", name="Michał Lewandowski", pesel="79061742813", street="ul. Wrocławska 21/3",
                      postal_code="45-701", city="Opole", phone="+48 604 111 222", email="m.lewandowski@example.pl"),
        vehicle=Vehicle(registration="OP3K772", vin="W0LBD6EA5JG041273", make="Opel", model="Astra",
                        production_year=2018),
        coverages=(Coverage("OC", "OC komunikacyjne", None, 70200), Coverage("AC", "Autocasco", 3100000, 53256)),
        installments=(Installment(1, date(2026, 11, 5), 61728, True), Installment(2, date(2027, 5, 5), 61728, False)),
    )
    assert policy.id == "WARTA:908012345678"
    assert policy.holder.id == "PESEL:79061742813" and policy.holder.invalid_ids == ()
    assert policy.vehicle.id == "VIN:W0LBD6EA5JG041273"
    assert sum(i.amount_gr for i in policy.installments) == policy.premium_gr
    assert sum(c.premium_gr for c in policy.coverages) == policy.premium_gr


def test_company_with_quotes_brackets_and_missing_optionals():
    policy = parse_policy(text("detail_spec_company.json"))
    assert policy.id == "COMPENSA:ZD/2026/118834"
    assert policy.product == 'Auto "Max" & Assistance' and policy.status == "pending"
    assert policy.holder == Client(
        kind="company", name='PHU "Łąka" Sp. z o.o. & <Partnerzy> [bold red]', nip="5274682865", regon="507218287",
        street="ul. Długa 5/12", postal_code="80-827", city="Gdańsk", phone=None, email=None,
    )
    assert policy.holder.id == "NIP:5274682865"
    assert policy.vehicle == Vehicle(registration="GD4F218", vin=None, make="Iveco", model=None, production_year=None)
    assert policy.vehicle.id == "REG:GD4F218"
    assert policy.coverages == (Coverage("OC", None, None, None), Coverage("AC", "Autocasco", 25000000, 3100000))
    assert policy.premium_gr == 3100000
    assert [i.amount_gr for i in policy.installments] == [775000] * 4
    assert sum(i.amount_gr for i in policy.installments) == policy.premium_gr
    assert [i.due_date for i in policy.installments][-1] == date(2027, 8, 10)


def test_generated_company_names_exact():
    tricky = parse_policy(text("detail_tricky_company.json"))
    assert tricky.holder.name == 'Kowalski & Syn "Łąka" s.c.' and tricky.holder.kind == "company"
    assert tricky.id == "BENEFIA:MT/2026/980635"
    markup = parse_policy(text("detail_markup_company.json"))
    assert markup.holder.name == "Piekarnia [link=https://example.com]Złoty Kłos[/link] & <b>Syn</b>"
    assert markup.insurer == "WIENER" and markup.premium_gr == 180260
    assert sum(i.amount_gr for i in markup.installments) == markup.premium_gr
    assert sum(c.premium_gr for c in markup.coverages) == markup.premium_gr
    assert markup.coverages[1] == Coverage("AC", "Autocasco", 2439300, 27039)


def test_generated_person_without_phone_and_email():
    policy = parse_policy(text("detail_generated_person.json"))
    assert policy.holder.kind == "person" and policy.holder.pesel and policy.holder.id.startswith("PESEL:")
    assert (policy.holder.phone, policy.holder.email, policy.holder.nip) == (None, None, None)


def test_vehicle_with_every_key_null_is_no_vehicle():
    assert parse_policy(text("detail_no_vehicle_keys.json")).vehicle is None
    assert parse_policy(variant(vehicle=None)).vehicle is None


def test_unknown_insurer_is_a_policy_error_naming_it():
    with pytest.raises(PolicyError) as caught:
        parse_policy(text("detail_unknown_insurer.json"))
    assert not isinstance(caught.value, ParseError)
    assert "'Nowe Towarzystwo Ubezpieczeń S.A.'" in caught.value.reason


def test_non_motor_detail_is_out_of_scope():
    with pytest.raises(OutOfScope) as caught:
        parse_policy(text("detail_property.json"))
    assert caught.value.reason == "product_group property"


def test_group_outside_the_five_is_a_policy_error():
    with pytest.raises(PolicyError) as caught:
        parse_policy(variant(product_group="boat"))
    assert not isinstance(caught.value, OutOfScope) and "'boat'" in caught.value.reason


def test_foreign_currency_is_a_policy_error():
    with pytest.raises(PolicyError) as caught:
        parse_policy(variant(currency="EUR"))
    assert "'EUR'" in caught.value.reason


def test_company_without_nip_uses_regon_then_hash():
    regon_only = parse_policy(variant("detail_spec_company.json", customer__nip=None))
    assert regon_only.holder.id == "REGON:507218287"
    neither = parse_policy(variant("detail_spec_company.json", customer__nip=None, customer__regon=None))
    assert neither.holder.id.startswith("HASH:")


def test_missing_address_gives_null_address_fields():
    policy = parse_policy(variant(customer__address=None))
    assert (policy.holder.street, policy.holder.postal_code, policy.holder.city) == (None, None, None)


def test_checksum_failing_pesel_is_kept_and_flagged():
    policy = parse_policy(variant(customer__pesel="79061742810"))
    assert policy.holder.pesel == "79061742810" and policy.holder.invalid_ids == ("PESEL",)


@pytest.mark.parametrize(
    "changes",
    [
        {"premium": "1 234,56"},
        {"premium": 1234.56},
        {"premium": "1234.5"},
        {"start_date": "2026-11-05"},
        {"end_date": "31.02.2027"},
        {"issue_date": None},
        {"customer": DELETE},
        {"customer": "Michał"},
        {"customer__type": "person"},
        {"customer__name": None},
        {"customer__pesel": 79061742813},
        {"customer__address": "ul. Wrocławska 21/3, 45-701 Opole"},
        {"vehicle": "OP 3K772"},
        {"vehicle__year": "18"},
        {"vehicle__year": 2018},
        {"vehicle__vin": 12345},
        {"coverages": []},
        {"coverages": DELETE},
        {"coverages": [{"name": "OC"}]},
        {"coverages": [{"code": "OC", "premium": "702,00"}]},
        {"installments": []},
        {"installments": [{"no": "1", "due_date": "05.11.2026", "amount": "1.00", "paid": True}]},
        {"installments": [{"no": 1, "due_date": "05.11.2026", "amount": "1.00", "paid": "yes"}]},
        {"installments": [{"no": 1, "due_date": "05.11.2026", "amount": None, "paid": False}]},
        {"installments": ["1"]},
        {"policy_no": None},
        {"insurer": None},
        {"product": ""},
        {"status": 1},
    ],
)
def test_malformed_detail_raises_parse_error(changes):
    with pytest.raises(ParseError):
        parse_policy(variant(**changes))


@pytest.mark.parametrize("body", ["", "null", "[]", '{"data": []}', '{"message": "Server Error"}'])
def test_detail_without_data_object_raises_parse_error(body):
    with pytest.raises(ParseError):
        parse_policy(body)


def test_truncated_detail_raises_parse_error():
    with pytest.raises(ParseError) as caught:
        parse_policy(text("detail_truncated.json"))
    assert "not valid JSON" in caught.value.reason


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


SPEC_BODY = json.loads(text("detail_spec_person.json"))
SPEC_PATHS = [p for p in _paths(SPEC_BODY) if p]


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(SPEC_PATHS), value=JSON_VALUES)
def test_any_replaced_value_gives_a_policy_or_a_policy_error(path, value):
    body = copy.deepcopy(SPEC_BODY)
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    try:
        parse_policy(json.dumps(body))
    except PolicyError:
        pass


LIST_ITEM = json.loads(text("list_mixed.json"))["data"][0]


@settings(max_examples=200, deadline=None, database=None)
@given(key=st.sampled_from(sorted(LIST_ITEM)), value=JSON_VALUES)
def test_any_replaced_list_value_gives_an_item_or_a_parse_error(key, value):
    item = {**LIST_ITEM, key: value}
    try:
        (listed,), _ = parse_list_page(json.dumps({"data": [item], "meta": {"page": 1, "pages": 1, "total": 1}}))
    except ParseError:
        return
    if listed.error or listed.skip_reason:
        return
    # Every field but the replaced one is read as before; the replaced one may hold another valid value.
    replaced = {"policy_no": "number", "insurer": "insurer", "issue_date": "issue_date", "premium": "premium_gr"}
    expected = {"number": item["policy_no"], "insurer": "WARTA", "issue_date": date(2026, 11, 3), "premium_gr": 123456}
    for field, value in expected.items():
        if field != replaced.get(key):
            assert getattr(listed, field) == value, field


# -- error shapes -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("error_419.json", "CSRF token mismatch."),
        ("error_401.json", "Unauthenticated."),
        ("error_404.json", "Policy not found."),
        ("error_500.json", "Server Error"),
        ("error_422.json", "The given data was invalid."),
        ("detail_truncated.json", None),
    ],
)
def test_error_messages(name, message):
    assert parse_message(text(name)) == message


# -- check_number -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "number"),
    [("908012345678", "908012345678"), (" ZD/2026/118833 ", "ZD/2026/118833"), ("KOM-00112233", "KOM-00112233"),
     ("a", "a"), ("A" * 40, "A" * 40)],
)
def test_good_numbers(typed, number):
    assert InslyAdapter(PortalTab(insly_portal.InslyPortal(count=1), logged_in=False)).check_number(typed) == number


@pytest.mark.parametrize("typed", ["", "   ", "ZD 2026", "A" * 41, "ZD_1", "ZD/2026/1;", "908012345678\n1", "../x"])
def test_bad_numbers(typed):
    with pytest.raises(BadInput) as caught:
        InslyAdapter(PortalTab(insly_portal.InslyPortal(count=1), logged_in=False)).check_number(typed)
    assert "1 to 40 letters, digits, slashes and hyphens" in caught.value.message


# -- the adapter's requests, over the fixture portal in-process ----------------------------------
def run(coro):
    return asyncio.run(coro)


async def collect(agen):
    return [item async for item in agen]


LIST = "/api/policy/list"
NOV1, NOV16 = date(2026, 11, 1), date(2026, 11, 16)


class NoMetaTab(PortalTab):
    """The tab's page without its CSRF meta tag (a page the app rendered without the token)."""

    async def html(self):
        return (await super().html()).replace('<meta name="csrf-token"', '<meta name="other"')


class TamperedTab(PortalTab):
    """Changes the list request's body on its way out, so the app answers what it answers to bad input."""

    async def fetch(self, url, *, body=None, **options):
        if body is not None:
            body = json.dumps({**json.loads(body), "per_page": 500})
        return await super().fetch(url, body=body, **options)


def tab_token(tab: PortalTab) -> str:
    return parse_tab_page(run(tab.html())).csrf_token


def csrf_reads(tab: PortalTab) -> int:
    return sum("csrf-token" in e for e in tab.evaluated)


def motor(portal: insly_portal.InslyPortal, index: int = 0):
    return [p for p in portal.policies if p.line == "motor" and portal.code_of(p)][index]


def _listed(portal: insly_portal.InslyPortal, fake, **extra) -> ListedPolicy:
    return ListedPolicy(number=fake.number, insurer=portal.code_of(fake), ref=fake.extra["policy_id"], **extra)


def test_context_of_a_logged_in_tab():
    context = run(InslyAdapter(PortalTab(insly_portal.InslyPortal())).context())
    assert (context.app_id, context.user, context.identity) == ("insly", "Anna Nowak", None)
    assert context.description == "Logged in to INSLY at Agencja Kowalski (agencja-kowalski.insly.com) as Anna Nowak."


def test_context_of_the_login_page_is_not_logged_in():
    with pytest.raises(NotLoggedIn) as caught:
        run(InslyAdapter(PortalTab(insly_portal.InslyPortal(), logged_in=False)).context())
    assert caught.value.message == (
        "The INSLY tab at agencja-kowalski.insly.com is not logged in. Log in to Insly in that tab and run the "
        "command again."
    )


def test_context_without_token_stops():
    with pytest.raises(EnvironmentProblem, match="no CSRF token"):
        run(InslyAdapter(NoMetaTab(insly_portal.InslyPortal())).context())


def test_list_requests_every_page_with_the_json_filter_and_headers():
    portal = insly_portal.InslyPortal(count=60)
    tab = PortalTab(portal)
    items = run(collect(InslyAdapter(tab).list_policies(NOV1, NOV16)))
    assert len(items) == 60
    assert [json.loads(r["body"]) for r in tab.requests] == [
        {"filter": {"issue_date_from": "01.11.2026", "issue_date_to": "16.11.2026"}, "page": page, "per_page": 50}
        for page in (1, 2)
    ]
    token = tab_token(tab)
    assert all(
        r["headers"] == {"Accept": "application/json", "Content-Type": "application/json", "X-CSRF-Token": token}
        and r["method"] == "POST" and r["url"] == LIST
        for r in tab.requests
    )
    assert csrf_reads(tab) == 1


class ScriptlessTab(PortalTab):
    """A tab whose scripts read nothing: whatever the adapter knows of the token comes from the page."""

    async def evaluate(self, expression, arg=None):
        self.evaluated.append(expression)


def test_token_read_by_context_is_the_one_sent():
    tab = ScriptlessTab(insly_portal.InslyPortal())
    adapter = InslyAdapter(tab)
    run(adapter.context())
    assert run(collect(adapter.list_policies(date(2026, 10, 1), date(2026, 10, 1)))) == []
    assert tab.requests[0]["headers"]["X-CSRF-Token"] == tab_token(tab) and tab.evaluated == []


def test_missing_token_in_the_tab_stops_before_any_request():
    tab = NoMetaTab(insly_portal.InslyPortal())
    with pytest.raises(EnvironmentProblem, match="Reload the Insly tab"):
        run(collect(InslyAdapter(tab).list_policies(NOV1, NOV16)))
    assert tab.requests == []


def test_empty_window_asks_one_page_only():
    tab = PortalTab(insly_portal.InslyPortal())
    assert run(collect(InslyAdapter(tab).list_policies(date(2026, 10, 1), date(2026, 10, 16)))) == []
    assert len(tab.requests) == 1


def test_419_on_the_list_asks_to_log_in_and_reload():
    portal = insly_portal.InslyPortal()
    tab = PortalTab(portal)
    portal.expire_all()
    with pytest.raises(NotLoggedIn) as caught:
        run(collect(InslyAdapter(tab).list_policies(NOV1, NOV16)))
    assert '"CSRF token mismatch."' in caught.value.message
    assert "Log in to Insly, reload the Insly tab" in caught.value.message


def test_422_on_the_list_stops_with_the_app_message():
    tab = TamperedTab(insly_portal.InslyPortal())
    with pytest.raises(EnvironmentProblem) as caught:
        run(collect(InslyAdapter(tab).list_policies(NOV1, NOV16)))
    assert not isinstance(caught.value, NotLoggedIn)
    assert "HTTP 422" in caught.value.message and "The given data was invalid." in caught.value.message


def test_unreadable_list_stops_the_import():
    tab = CutShortTab(insly_portal.InslyPortal())
    with pytest.raises(EnvironmentProblem, match="could not be read"):
        run(collect(InslyAdapter(tab).list_policies(NOV1, NOV16)))


def test_read_policy_gets_the_detail_with_headers():
    portal = insly_portal.InslyPortal()
    fake = motor(portal)
    tab = PortalTab(portal)
    policy = run(InslyAdapter(tab).read_policy(_listed(portal, fake)))
    assert policy.id == portal.key_of(fake)
    (request,) = tab.requests
    assert request["method"] == "GET" and request["body"] is None
    assert request["url"] == f"/api/policy/{fake.extra['policy_id']}"
    assert request["headers"] == {"Accept": "application/json", "X-CSRF-Token": tab_token(tab)}


def test_read_policy_401_stops_the_import():
    portal = insly_portal.InslyPortal()
    tab = PortalTab(portal)
    portal.expire_all()
    with pytest.raises(NotLoggedIn) as caught:
        run(InslyAdapter(tab).read_policy(_listed(portal, motor(portal))))
    assert '"Unauthenticated."' in caught.value.message and "reload the Insly tab" in caught.value.message


def test_read_policy_500_is_red_with_the_app_message():
    portal = insly_portal.InslyPortal()
    fake = motor(portal)
    portal.fail = {fake.number}
    with pytest.raises(PolicyError) as caught:
        run(InslyAdapter(PortalTab(portal)).read_policy(_listed(portal, fake)))
    assert type(caught.value) is PolicyError
    assert caught.value.reason == f'Insly failed to read policy {fake.number}: the app answered HTTP 500 "Server Error".'


def test_read_policy_404_is_not_found():
    portal = insly_portal.InslyPortal()
    item = ListedPolicy(number="908012345678", insurer="WARTA", ref=999999999)
    with pytest.raises(PolicyNotFound, match="Policy not found"):
        run(InslyAdapter(PortalTab(portal)).read_policy(item))


def test_read_policy_garbage_is_a_parse_error():
    portal = insly_portal.InslyPortal()
    fake = motor(portal)
    portal.garbage = {fake.number}
    with pytest.raises(ParseError):
        run(InslyAdapter(PortalTab(portal)).read_policy(_listed(portal, fake)))


def test_read_policy_of_another_number_is_a_parse_error():
    portal = insly_portal.InslyPortal()
    asked, shown = motor(portal, 0), motor(portal, 1)
    item = ListedPolicy(number=asked.number, insurer=portal.code_of(asked), ref=shown.extra["policy_id"])
    with pytest.raises(ParseError, match=shown.number):
        run(InslyAdapter(PortalTab(portal)).read_policy(item))


def test_skipped_and_red_items_are_never_fetched():
    portal = insly_portal.InslyPortal()
    fake = motor(portal)
    tab = PortalTab(portal)
    with pytest.raises(OutOfScope, match="product_group life"):
        run(InslyAdapter(tab).read_policy(_listed(portal, fake, skip_reason="product_group life")))
    with pytest.raises(PolicyError, match="not known"):
        run(InslyAdapter(tab).read_policy(_listed(portal, fake, error="The insurer name 'X' is not known.")))
    with pytest.raises(ParseError):
        run(InslyAdapter(tab).read_policy(ListedPolicy(number=fake.number, insurer="WARTA", ref="184467")))
    assert tab.requests == []


def test_lookup_returns_every_insurer_of_a_shared_number():
    portal = insly_portal.InslyPortal()
    first, second = portal.special["shared_number"]
    tab = PortalTab(portal)
    items = run(InslyAdapter(tab).lookup(first.number))
    assert sorted(i.key for i in items) == sorted([portal.key_of(first), portal.key_of(second)])
    assert json.loads(tab.requests[0]["body"]) == {"filter": {"policy_no": first.number}, "page": 1, "per_page": 50}


def test_lookup_keeps_out_of_scope_items_with_their_reason():
    portal = insly_portal.InslyPortal()
    fake = next(p for p in portal.policies if p.line == "property")
    (item,) = run(InslyAdapter(PortalTab(portal)).lookup(fake.number))
    assert item.skip_reason == "product_group property"


def test_lookup_without_items_is_not_found():
    with pytest.raises(PolicyNotFound, match="no policy number NOPE-1"):
        run(InslyAdapter(PortalTab(insly_portal.InslyPortal())).lookup("NOPE-1"))


def test_lookup_419_stops():
    portal = insly_portal.InslyPortal()
    tab = PortalTab(portal)
    portal.expire_all()
    with pytest.raises(NotLoggedIn):
        run(InslyAdapter(tab).lookup(motor(portal).number))


def test_a_failure_without_message_is_described_as_such():
    portal = insly_portal.InslyPortal()
    fake = motor(portal)
    with pytest.raises(PolicyError) as caught:
        run(InslyAdapter(GatewayTab(portal)).read_policy(_listed(portal, fake)))
    assert caught.value.reason == (
        f"Insly failed to read policy {fake.number}: the app answered HTTP 502 without a message."
    )
