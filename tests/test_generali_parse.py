"""Generali Merkury+: the pure parse functions on saved responses, and the request flow (XSRF
header, 403 retry, 401, paging) over a fake tab that serves saved responses."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from a21import.errors import (
    BadInput,
    EnvironmentProblem,
    NotLoggedIn,
    OutOfScope,
    ParseError,
    PolicyError,
    PolicyNotFound,
)
from a21import.insurers import generali
from a21import.insurers.base import FetchResponse
from a21import.insurers.generali import (
    GeneraliAdapter,
    parse_error_message,
    parse_list_item,
    parse_list_page,
    parse_policy,
    parse_shell,
    xsrf_from_cookies,
)
from a21import.model import Client, Coverage, Installment, ListedPolicy, Vehicle
from tests.fixtures.generali_portal import GeneraliPortal
from tests.fixtures.inprocess import PortalTab

DATA = Path(__file__).parent / "data" / "generali"


def text(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def load(name: str):
    return json.loads(text(name))


# -- shell ------------------------------------------------------------------------------------------
def test_shell_gives_user_and_agent():
    assert parse_shell(text("shell.html")) == ("Anna Nowak", "1200345")


def test_shell_user_with_markup_characters_is_read_as_text():
    assert parse_shell(text("shell_tricky_user.html")) == ("Anna & <Nowak> [bold]O'Brien[/bold]", None)


def test_login_page_is_not_logged_in():
    with pytest.raises(NotLoggedIn, match="login page"):
        parse_shell(text("login.html"))


def test_app_not_started_is_not_logged_in():
    with pytest.raises(NotLoggedIn, match="Log in to Merkury\\+ in that tab"):
        parse_shell(text("shell_loading.html"))


def test_context_sentence():
    adapter = GeneraliAdapter(PortalTab(GeneraliPortal(count=1)))
    context = asyncio.run(adapter.context())
    assert context.app_id == "generali"
    assert context.user == "Anna Nowak"
    assert context.description == "Logged in to Generali Merkury+ as Anna Nowak (agent 1200345)."
    assert context.identity is None


# -- cookies and error bodies -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("cookies", "token"),
    [
        ("XSRF-TOKEN=abc-DEF-123-456789012", "abc-DEF-123-456789012"),
        ("theme=dark; XSRF-TOKEN=mrk-1234567890abcdef; lang=pl", "mrk-1234567890abcdef"),
        ("X-XSRF-TOKEN=wrong; XSRF-TOKEN-OLD=wrong", None),
        ("", None),
        (None, None),
    ],
)
def test_xsrf_token_from_document_cookie(cookies, token):
    assert xsrf_from_cookies(cookies) == token


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("error_400.json", "Invalid request parameters"),
        ("error_401.json", "Session expired"),
        ("error_403.json", "Invalid CSRF token"),
        ("error_404.json", "Policy not found"),
        ("error_500.json", "Błąd systemu polisowego. Spróbuj ponownie później."),
        ("detail_truncated.json", None),
    ],
)
def test_error_messages(name, message):
    assert parse_error_message(text(name)) == message


# -- list -------------------------------------------------------------------------------------------
def test_list_page_portal():
    items, total_pages = parse_list_page(load("list_page0.json"))
    assert total_pages == 2
    assert len(items) == 50
    assert all(item.insurer == "GENERALI" and item.error is None for item in items)
    skipped = [item for item in items if item.skip_reason]
    assert skipped and all(item.skip_reason == "segment CORPORATE" for item in skipped)
    days = [(item.issue_date, item.number) for item in items]
    assert days == sorted(days)


def test_list_last_and_past_pages():
    items, total_pages = parse_list_page(load("list_page1.json"))
    assert (len(items), total_pages) == (10, 2)
    assert parse_list_page(load("list_page2.json")) == ([], 2)
    assert parse_list_page(load("list_empty.json")) == ([], 0)


def test_list_items_of_every_kind():
    items, total_pages = parse_list_page(load("list_odd.json"))
    assert total_pages == 2
    person, corporate, unknown, bad_amount, quoted = items
    assert person == ListedPolicy(
        number="2611034521", insurer="GENERALI", product="Generali Auto Komfort",
        holder_name="Małgorzata Dąbrowska", issue_date=date(2026, 11, 3), premium_gr=123456,
    )
    assert person.ref == "3f2b6c1e-8a4d-4c1f-9b7e-2d5a6f0e1c93"
    assert person.key == "GENERALI:2611034521"
    assert (corporate.skip_reason, corporate.premium_gr, corporate.holder_name) == (
        "segment CORPORATE", 840000, "Kowalski & Syn s.c.")
    assert corporate.error is None
    assert unknown.skip_reason is None
    assert unknown.error == "Merkury+ gives policy 2611034600 the segment 'SME', which is not known."
    assert unknown.premium_gr == 74510 and unknown.holder_name == "Transport <Sokół> Jan Nowak"
    assert bad_amount.number == "2611034601" and "'19,99'" in bad_amount.error
    assert quoted.premium_gr == 1999 and quoted.holder_name == 'Jan "Janek" Nowak'


def test_lookup_answers():
    items, _ = parse_list_page(load("lookup_one.json"))
    assert [(i.number, i.skip_reason, i.holder_name) for i in items] == [
        ("2683004746", "segment CORPORATE", "Transport <Sokół> Jan Nowak")]
    assert parse_list_page(load("lookup_none.json")) == ([], 0)


@pytest.mark.parametrize("name", ["list_item_without_number.json", "list_without_total_pages.json",
                                  "error_400.json", "detail_person_motor.json"])
def test_malformed_list_is_a_parse_error(name):
    with pytest.raises(ParseError):
        parse_list_page(load(name))


def test_list_item_not_an_object():
    with pytest.raises(ParseError, match="not a JSON object"):
        parse_list_item(["2611034521"])


# -- detail -----------------------------------------------------------------------------------------
def test_person_motor_policy_of_the_spec():
    policy = parse_policy(load("detail_person_motor.json"))
    assert policy.id == "GENERALI:2611034521"
    assert (policy.insurer, policy.source_app, policy.source_system) == ("GENERALI", "generali", None)
    assert (policy.product_line, policy.product, policy.status) == ("motor", "Generali Auto Komfort", "ACTIVE")
    assert (policy.issue_date, policy.start_date, policy.end_date) == (
        date(2026, 11, 3), date(2026, 11, 5), date(2027, 11, 4))
    assert (policy.premium_gr, policy.currency) == (123456, "PLN")
    assert policy.holder == Client(
        kind="person", name="Małgorzata Dąbrowska", pesel="69013009646", street="ul. Źródlana 3",
        postal_code="60-101", city="Poznań", phone="+48 602 345 678", email="m.dabrowska@example.pl",
    )
    assert policy.holder.id == "PESEL:69013009646"
    assert policy.vehicle == Vehicle(registration="PO5KX21", vin="TMBJG7NE8K0384512", make="Škoda",
                                     model="Octavia", production_year=2019)
    assert policy.vehicle.id == "VIN:TMBJG7NE8K0384512"
    assert policy.coverages == (
        Coverage("OC", "OC posiadacza pojazdu", None, 72511),
        Coverage("AC", "Autocasco", 5200000, 48946),
        Coverage("ASS", "Assistance", None, 1999),
    )
    assert policy.installments == (
        Installment(1, date(2026, 11, 5), 61728, True),
        Installment(2, date(2027, 5, 5), 61728, False),
    )
    assert sum(i.amount_gr for i in policy.installments) == policy.premium_gr
    assert sum(c.premium_gr for c in policy.coverages) == policy.premium_gr


def test_company_holder_with_quotes_regon_only_and_flat():
    policy = parse_policy(load("detail_company_home.json"))
    assert (policy.product_line, policy.premium_gr, policy.status) == ("property", 74510, "ISSUED")
    assert policy.holder == Client(
        kind="company", name='Kowalski & Syn "Łąka" s.c.', nip=None, regon="347846917",
        street="ul. Długa 5/12", postal_code="80-827", city="Gdańsk", phone=None, email="biuro@kowalski-syn.pl",
    )
    assert policy.holder.id == "REGON:347846917"
    assert policy.vehicle is None
    assert policy.coverages == (
        Coverage("MUR", "Mury i stałe elementy", 35000000, 50010),
        Coverage("OCP", "OC w życiu prywatnym", 10000050, 24500),
    )
    assert policy.installments == (Installment(1, date(2026, 11, 10), 74510, False),)


def test_company_holder_with_brackets_and_angles_on_an_individual_policy():
    policy = parse_policy(load("detail_company_tricky.json"))
    assert policy.holder.name == "Sklep [bold red]Pod Lipą[/bold red] <Sokół> & 'Syn' Sp. z o.o."
    assert policy.holder.kind == "company"
    assert policy.holder.id == "NIP:7121991269"
    assert policy.holder.street == "al. Jerozolimskie 100A"
    assert policy.holder.email is None
    assert (policy.product_line, policy.premium_gr) == ("other", 840000)
    assert [i.amount_gr for i in policy.installments] == [210000] * 4
    assert sum(i.amount_gr for i in policy.installments) == policy.premium_gr
    assert policy.coverages == (Coverage("NNW", "Następstwa nieszczęśliwych wypadków", 20000000, 840000),)


def test_foreigner_without_pesel_and_missing_optional_fields():
    policy = parse_policy(load("detail_foreigner_travel.json"))
    holder = policy.holder
    assert (holder.name, holder.pesel, holder.phone, holder.email) == ("John O'Brien", None, None, None)
    assert holder.street == "ul. Długa 5/12"
    assert holder.id.startswith("HASH:")
    assert policy.product_line == "travel" and policy.status == "EXPIRED"
    assert policy.premium_gr == 18990
    assert policy.coverages[1] == Coverage("BAG", None, None, 3900)


def test_vehicle_without_vin_or_registration_is_no_vehicle():
    policy = parse_policy(load("detail_vehicle_without_ids.json"))
    assert policy.vehicle is None
    assert policy.premium_gr == 98000
    assert policy.coverages[1] == Coverage("ASS", "Assistance", None, None)


def test_vehicle_with_registration_only():
    policy = parse_policy(load("detail_vehicle_registration_only.json"))
    assert policy.vehicle == Vehicle(registration="WA12345", vin=None, make="Toyota", model="Yaris",
                                     production_year=2012)
    assert policy.vehicle.id == "REG:WA12345"
    assert policy.premium_gr == 10


def test_portal_detail_matches_its_record():
    from tests.fixtures.generali_portal import GeneraliPortal

    record = GeneraliPortal(seed=1).by_number("2611004577")
    policy = parse_policy(load("detail_portal_motor.json"))
    assert policy.premium_gr == record.premium_gr
    assert [(i.seq, i.due_date, i.amount_gr, i.paid) for i in policy.installments] == [
        (i.seq, i.due_date, i.amount_gr, i.paid) for i in record.installments]
    assert policy.holder.street == record.holder.street
    assert policy.holder.city == "Lubartów"


@pytest.mark.parametrize("premium", [19.99, 1234.56, 745.1, 8400, 0.29, 0.57, 1.13, 4.35, 1e-2, 99999.99])
def test_amounts_are_exact_grosze(premium):
    data = load("detail_person_motor.json")
    data["totalPremium"] = premium
    assert parse_policy(data).premium_gr == round(premium * 100)


def test_amount_examples_of_the_spec():
    data = load("detail_person_motor.json")
    for value, grosze in ((19.99, 1999), (1234.56, 123456), (745.1, 74510), (8400, 840000)):
        data["totalPremium"] = value
        assert parse_policy(data).premium_gr == grosze


def test_corporate_detail_is_out_of_scope():
    with pytest.raises(OutOfScope, match="segment CORPORATE"):
        parse_policy(load("detail_corporate.json"))


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("detail_segment_unknown.json", "segment 'SME'"),
        ("detail_currency_eur.json", "in EUR"),
        ("detail_line_unknown.json", "product line 'PET'"),
    ],
)
def test_policy_errors(name, words):
    with pytest.raises(PolicyError) as caught:
        parse_policy(load(name))
    assert not isinstance(caught.value, ParseError)
    assert words in caught.value.reason
    assert "2611034521" in caught.value.reason


@pytest.mark.parametrize(
    "name",
    ["detail_amount_text.json", "detail_amount_three_decimals.json", "detail_holder_unknown_type.json",
     "detail_paid_text.json", "detail_date_pl.json", "detail_without_holder.json", "detail_array.json",
     "error_500.json"],
)
def test_malformed_detail_is_a_parse_error(name):
    with pytest.raises(ParseError) as caught:
        parse_policy(load(name))
    assert caught.value.reason.endswith(".")


def test_truncated_detail_is_a_parse_error():
    response = FetchResponse(200, "http://merkury.generali.pl/api/v2/policies/x", text("detail_truncated.json"))
    with pytest.raises(ParseError, match="not valid JSON"):
        response.json()


# -- numbers ----------------------------------------------------------------------------------------
def test_check_number():
    adapter = GeneraliAdapter(PortalTab(GeneraliPortal(count=1), logged_in=False))
    assert adapter.check_number("2611034521") == "2611034521"
    assert adapter.check_number(" 2611034521 ") == "2611034521"
    for bad in ("261103452", "26110345210", "261103452a", "2611-034521", "KOS1234567", ""):
        with pytest.raises(BadInput, match="exactly 10 digits"):
            adapter.check_number(bad)


def test_matches_host():
    assert GeneraliAdapter.matches_host("merkury.generali.pl")
    assert not GeneraliAdapter.matches_host("generali.pl")
    assert not GeneraliAdapter.matches_host("merkury.generali.pl.evil.com")


# -- request flow over the fixture portal, in-process -----------------------------------------------
def listing(adapter, first=date(2026, 11, 1), last=date(2026, 11, 16)):
    async def collect():
        return [item async for item in adapter.list_policies(first, last)]

    return asyncio.run(collect())


def tokens(tab: PortalTab) -> list[str | None]:
    return [(r["headers"] or {}).get("X-XSRF-TOKEN") for r in tab.requests]


def listed(portal: GeneraliPortal, number: str) -> ListedPolicy:
    return ListedPolicy(number=number, insurer="GENERALI", ref=portal.by_number(number).extra["id"])


def test_list_requests_every_page_with_a_fresh_token_each():
    portal = GeneraliPortal(count=60, xsrf_rotate_every=1)
    tab = PortalTab(portal)
    items = listing(GeneraliAdapter(tab))
    assert len(items) == 60
    paths = [urlsplit(r["url"]).path for r in tab.requests]
    assert paths == ["/api/v2/policies"] * 2
    assert [parse_qs(urlsplit(r["url"]).query) for r in tab.requests] == [
        {"issueDateFrom": ["2026-11-01"], "issueDateTo": ["2026-11-16"], "page": [str(n)], "size": ["50"]}
        for n in (0, 1)
    ]
    # The first page's answer rotated the token: the second request echoes the new cookie.
    first, second = tokens(tab)
    assert first and second and first != second and portal.xsrf_rejections == 0
    assert all(r["headers"]["Accept"] == "application/json" for r in tab.requests)
    assert sum("document.cookie" in e for e in tab.evaluated) == 2


def test_empty_window_is_one_request():
    tab = PortalTab(GeneraliPortal(count=10))
    assert listing(GeneraliAdapter(tab), date(2026, 10, 1), date(2026, 10, 2)) == []
    assert len(tab.requests) == 1


def test_403_rereads_the_cookie_and_retries_once():
    portal = GeneraliPortal(count=5, xsrf_rotate_every=0)
    record = portal.pick(segment="INDIVIDUAL")
    portal.xsrf_reject = {record.number}
    tab = PortalTab(portal)
    policy = asyncio.run(GeneraliAdapter(tab).read_policy(listed(portal, record.number)))
    assert policy.premium_gr == record.premium_gr
    stale, fresh = tokens(tab)
    assert stale != fresh and portal.xsrf_rejections == 1
    assert [r["url"] for r in tab.requests] == [f"/api/v2/policies/{record.extra['id']}"] * 2


def test_second_403_stops_the_import():
    portal = GeneraliPortal(count=5, xsrf_lost_after=0)
    tab = PortalTab(portal)
    with pytest.raises(EnvironmentProblem, match="Invalid CSRF token") as caught:
        asyncio.run(GeneraliAdapter(tab).read_policy(listed(portal, portal.policies[0].number)))
    assert not isinstance(caught.value, NotLoggedIn)
    assert len(tab.requests) == 2


def test_missing_cookie_sends_no_header():
    portal = GeneraliPortal(count=5)
    tab = PortalTab(portal)
    tab.client.delete_cookie("XSRF-TOKEN", domain=tab.host)
    portal.expire_all()
    with pytest.raises(NotLoggedIn, match="session has expired"):
        listing(GeneraliAdapter(tab))
    assert "X-XSRF-TOKEN" not in tab.requests[0]["headers"]


class SsoGateway(PortalTab):
    """In front of the API, the SSO gateway sends a dead session to the login page (302, then 200)."""

    async def fetch(self, url, **options):
        self.portal.expire_all()
        return await super().fetch("/merkury/")


@pytest.mark.parametrize("tab_class", [PortalTab, SsoGateway])
def test_session_expired(tab_class):
    portal = GeneraliPortal(count=5)
    tab = tab_class(portal)
    portal.expire_all()
    with pytest.raises(NotLoggedIn):
        asyncio.run(GeneraliAdapter(tab).read_policy(listed(portal, portal.policies[0].number)))


def test_detail_failures():
    portal = GeneraliPortal(count=8)
    failing, missing, broken, other, shown = (p.number for p in portal.policies[:5])
    portal.fail, portal.missing, portal.garbage = {failing}, {missing}, {broken}
    portal.patch = {other: {"policyNumber": shown}}
    tab = PortalTab(portal)
    adapter = GeneraliAdapter(tab)
    with pytest.raises(PolicyError) as failed:
        asyncio.run(adapter.read_policy(listed(portal, failing)))
    assert failed.value.reason == (
        f"Merkury+ could not show policy {failing}: Błąd systemu polisowego. Spróbuj ponownie później.")
    assert type(failed.value) is PolicyError
    with pytest.raises(PolicyNotFound, match="Policy not found"):
        asyncio.run(adapter.read_policy(listed(portal, missing)))
    with pytest.raises(ParseError):
        asyncio.run(adapter.read_policy(listed(portal, broken)))
    with pytest.raises(ParseError, match=f"with policy {shown}"):
        asyncio.run(adapter.read_policy(listed(portal, other)))
    with pytest.raises(PolicyNotFound):
        asyncio.run(adapter.read_policy(ListedPolicy(number=failing, insurer="GENERALI", ref="a b/c")))
    assert tab.requests[-1]["url"] == "/api/v2/policies/a%20b%2Fc"


def test_lookup_by_number():
    portal = GeneraliPortal(count=30)
    corporate = portal.pick(segment="CORPORATE")
    tab = PortalTab(portal)
    adapter = GeneraliAdapter(tab)
    items = asyncio.run(adapter.lookup(corporate.number))
    assert [(i.number, i.skip_reason) for i in items] == [(corporate.number, "segment CORPORATE")]
    assert parse_qs(urlsplit(tab.requests[0]["url"]).query) == {
        "policyNumber": [corporate.number], "page": ["0"], "size": ["50"]}
    with pytest.raises(PolicyNotFound, match="2699999999"):
        asyncio.run(adapter.lookup("2699999999"))
    with pytest.raises(BadInput):
        asyncio.run(adapter.lookup("12345"))
    assert len(tab.requests) == 2


class OversizedPages(PortalTab):
    """Asks for pages larger than the app allows, so the app refuses the list's parameters."""

    async def fetch(self, url, **options):
        return await super().fetch(url.replace("size=50", "size=500"), **options)


def test_list_refused_stops_the_import():
    with pytest.raises(EnvironmentProblem, match="Invalid request parameters"):
        listing(GeneraliAdapter(OversizedPages(GeneraliPortal(count=5))))
    portal = GeneraliPortal(count=5)
    portal.patch = {portal.policies[2].number: {"policyNumber": None}}
    with pytest.raises(EnvironmentProblem, match="cannot be read"):
        listing(GeneraliAdapter(PortalTab(portal)))


def test_module_constants_follow_the_spec():
    assert generali.PAGE_SIZE == 50
    assert generali.XSRF_COOKIE == "XSRF-TOKEN" and generali.XSRF_HEADER == "X-XSRF-TOKEN"
    assert generali.SKIP_REASON == "segment CORPORATE"


def test_after_a_stop_no_further_request_is_sent():
    portal = GeneraliPortal(count=5)
    tab = PortalTab(portal)
    adapter = GeneraliAdapter(tab)
    portal.expire_all()
    for _ in range(2):
        with pytest.raises(NotLoggedIn):
            asyncio.run(adapter.read_policy(listed(portal, portal.policies[0].number)))
    assert len(tab.requests) == 1
