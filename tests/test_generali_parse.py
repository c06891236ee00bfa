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
    adapter = GeneraliAdapter(FakeTab(html=text("shell.html")))
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
    adapter = GeneraliAdapter(FakeTab())
    assert adapter.check_number("2611034521") == "2611034521"
    assert adapter.check_number(" 2611034521 ") == "2611034521"
    for bad in ("261103452", "26110345210", "261103452a", "2611-034521", "KOS1234567", ""):
        with pytest.raises(BadInput, match="exactly 10 digits"):
            adapter.check_number(bad)


def test_matches_host():
    assert GeneraliAdapter.matches_host("merkury.generali.pl")
    assert not GeneraliAdapter.matches_host("generali.pl")
    assert not GeneraliAdapter.matches_host("merkury.generali.pl.evil.com")


# -- request flow over a fake tab -------------------------------------------------------------------
class FakeTab:
    """Serves saved responses; records the headers of every request and the cookie reads."""

    host = "merkury.generali.pl"
    url = "http://merkury.generali.pl/merkury/"

    def __init__(self, *, html: str = "", answers=None, cookies=None):
        self._html = html
        self.answers = list(answers or [])  # (status, file name or text) in order
        self.cookies = list(cookies or ["XSRF-TOKEN=token-0000000000000000"])
        self.requests: list[tuple[str, dict]] = []
        self.cookie_reads = 0

    async def html(self) -> str:
        return self._html

    async def evaluate(self, expression: str, arg=None):
        assert "document.cookie" in expression
        value = self.cookies[min(self.cookie_reads, len(self.cookies) - 1)]
        self.cookie_reads += 1
        return value

    async def fetch(self, url, *, method="GET", headers=None, body=None):
        self.requests.append((url, dict(headers or {})))
        status, name = self.answers.pop(0)
        body_text = text(name) if name.endswith(".json") else name
        path = "/login" if status == 302 else urlsplit(url).path
        return FetchResponse(200 if status == 302 else status, "http://merkury.generali.pl" + path, body_text)


def listing(adapter, first=date(2026, 11, 1), last=date(2026, 11, 16)):
    async def collect():
        return [item async for item in adapter.list_policies(first, last)]

    return asyncio.run(collect())


def test_list_requests_every_page_with_a_fresh_token_each():
    tab = FakeTab(answers=[(200, "list_page0.json"), (200, "list_page1.json")],
                  cookies=["XSRF-TOKEN=first-token-0000000", "a=b; XSRF-TOKEN=second-token-000000"])
    items = listing(GeneraliAdapter(tab))
    assert len(items) == 60
    queries = [parse_qs(urlsplit(url).query) for url, _ in tab.requests]
    assert [urlsplit(url).path for url, _ in tab.requests] == ["/api/v2/policies"] * 2
    assert queries == [
        {"issueDateFrom": ["2026-11-01"], "issueDateTo": ["2026-11-16"], "page": [str(n)], "size": ["50"]}
        for n in (0, 1)
    ]
    assert [h["X-XSRF-TOKEN"] for _, h in tab.requests] == ["first-token-0000000", "second-token-000000"]
    assert all(h["Accept"] == "application/json" for _, h in tab.requests)
    assert tab.cookie_reads == 2


def test_empty_window_is_one_request():
    tab = FakeTab(answers=[(200, "list_empty.json")])
    assert listing(GeneraliAdapter(tab)) == []
    assert len(tab.requests) == 1


def test_403_rereads_the_cookie_and_retries_once():
    tab = FakeTab(answers=[(403, "error_403.json"), (200, "detail_person_motor.json")],
                  cookies=["XSRF-TOKEN=stale-token-0000000", "XSRF-TOKEN=fresh-token-0000000"])
    item = ListedPolicy(number="2611034521", insurer="GENERALI", ref="3f2b6c1e-8a4d-4c1f-9b7e-2d5a6f0e1c93")
    policy = asyncio.run(GeneraliAdapter(tab).read_policy(item))
    assert policy.premium_gr == 123456
    assert [h["X-XSRF-TOKEN"] for _, h in tab.requests] == ["stale-token-0000000", "fresh-token-0000000"]
    assert [url for url, _ in tab.requests] == ["/api/v2/policies/3f2b6c1e-8a4d-4c1f-9b7e-2d5a6f0e1c93"] * 2


def test_second_403_stops_the_import():
    tab = FakeTab(answers=[(403, "error_403.json"), (403, "error_403.json")])
    item = ListedPolicy(number="2611034521", insurer="GENERALI", ref="x")
    with pytest.raises(EnvironmentProblem, match="Invalid CSRF token") as caught:
        asyncio.run(GeneraliAdapter(tab).read_policy(item))
    assert not isinstance(caught.value, NotLoggedIn)
    assert len(tab.requests) == 2


def test_missing_cookie_sends_no_header():
    tab = FakeTab(answers=[(401, "error_401.json")], cookies=["lang=pl"])
    with pytest.raises(NotLoggedIn, match="session has expired"):
        listing(GeneraliAdapter(tab))
    assert "X-XSRF-TOKEN" not in tab.requests[0][1]


@pytest.mark.parametrize("answer", [(401, "error_401.json"), (302, "<form id='fm1'></form>")])
def test_session_expired(answer):
    tab = FakeTab(answers=[answer])
    item = ListedPolicy(number="2611034521", insurer="GENERALI", ref="x")
    with pytest.raises(NotLoggedIn):
        asyncio.run(GeneraliAdapter(tab).read_policy(item))


def test_detail_failures():
    item = ListedPolicy(number="2611034521", insurer="GENERALI", ref="a b/c")
    tab = FakeTab(answers=[(500, "error_500.json"), (404, "error_404.json"), (200, "detail_truncated.json"),
                           (200, "detail_company_home.json")])
    adapter = GeneraliAdapter(tab)
    with pytest.raises(PolicyError) as failed:
        asyncio.run(adapter.read_policy(item))
    assert failed.value.reason == (
        "Merkury+ could not show policy 2611034521: Błąd systemu polisowego. Spróbuj ponownie później.")
    assert type(failed.value) is PolicyError
    with pytest.raises(PolicyNotFound, match="Policy not found"):
        asyncio.run(adapter.read_policy(item))
    with pytest.raises(ParseError):
        asyncio.run(adapter.read_policy(item))
    with pytest.raises(ParseError, match="with policy 2611041190"):
        asyncio.run(adapter.read_policy(item))
    assert tab.requests[0][0] == "/api/v2/policies/a%20b%2Fc"


def test_lookup_by_number():
    tab = FakeTab(answers=[(200, "lookup_one.json"), (200, "lookup_none.json")])
    adapter = GeneraliAdapter(tab)
    items = asyncio.run(adapter.lookup("2683004746"))
    assert [(i.number, i.skip_reason) for i in items] == [("2683004746", "segment CORPORATE")]
    assert parse_qs(urlsplit(tab.requests[0][0]).query) == {
        "policyNumber": ["2683004746"], "page": ["0"], "size": ["50"]}
    with pytest.raises(PolicyNotFound, match="2699999999"):
        asyncio.run(adapter.lookup("2699999999"))
    with pytest.raises(BadInput):
        asyncio.run(adapter.lookup("12345"))
    assert len(tab.requests) == 2


def test_list_refused_stops_the_import():
    tab = FakeTab(answers=[(400, "error_400.json")])
    with pytest.raises(EnvironmentProblem, match="Invalid request parameters"):
        listing(GeneraliAdapter(tab))
    tab = FakeTab(answers=[(200, "list_item_without_number.json")])
    with pytest.raises(EnvironmentProblem, match="cannot be read"):
        listing(GeneraliAdapter(tab))


def test_module_constants_follow_the_spec():
    assert generali.PAGE_SIZE == 50
    assert generali.XSRF_COOKIE == "XSRF-TOKEN" and generali.XSRF_HEADER == "X-XSRF-TOKEN"
    assert generali.SKIP_REASON == "segment CORPORATE"


def test_after_a_stop_no_further_request_is_sent():
    tab = FakeTab(answers=[(401, "error_401.json")])
    adapter = GeneraliAdapter(tab)
    item = ListedPolicy(number="2611034521", insurer="GENERALI", ref="x")
    for _ in range(2):
        with pytest.raises(NotLoggedIn):
            asyncio.run(adapter.read_policy(item))
    assert len(tab.requests) == 1
