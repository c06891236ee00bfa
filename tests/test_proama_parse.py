"""Proama ProAgent: the pure parse functions on saved responses (tests/data/proama/), and the
reader's request flow against a fake tab (headers, cursor encoding, what is fetched when)."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

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
from a21import.insurers.base import FetchResponse
from a21import.insurers.proama import (
    SKIP_NOT_INDIVIDUAL,
    ProamaAdapter,
    parse_auth,
    parse_client,
    parse_coverages,
    parse_error,
    parse_installments,
    parse_list_page,
    parse_lookup,
    parse_policy,
    parse_vehicle,
)
from a21import.model import Client, Coverage, Installment, ListedPolicy, Vehicle
from tests.fixtures.inprocess import ProAgentShellTab
from tests.fixtures.proama_portal import AUTH_KEY, ProamaPortal

DATA = Path(__file__).resolve().parent / "data" / "proama"


# Answers that differ from a saved one in one place: derived here rather than stored as near-copies.
DERIVED = {
    "detail_bad_amount.json": ("detail_person.json", '"skladkaGr": 123456,', '"skladkaGr": "1234.56",'),
    "detail_currency_eur.json": ("detail_person.json", '"waluta": "PLN"', '"waluta": "EUR"'),
    "detail_missing_start.json": ("detail_person.json", '"okresOd": "2026-11-05",', ""),
    "detail_unknown_holder_type.json": ("detail_person.json", '"typ": "OSOBA"', '"typ": "INSTYTUCJA"'),
    "detail_unknown_line.json": ("detail_person.json", '"linia": "KOMUNIKACJA"', '"linia": "ZYCIE"'),
    "harmonogram_bad_status.json": ("harmonogram_person.json", '"status": "OPLACONA"', '"status": "CZESCIOWO_OPLACONA"'),
}


def text(name: str) -> str:
    if name in DERIVED:
        saved, old, new = DERIVED[name]
        page = text(saved)
        assert page.count(old) == 1, (saved, old)
        return page.replace(old, new)
    return (DATA / name).read_text(encoding="utf-8")


def load(name: str):
    return json.loads(text(name))


# -- auth and errors -------------------------------------------------------------------------------
def test_auth_gives_token_and_agent():
    token, agent = parse_auth(text("auth.json"))
    assert token == "cGEtNGY3YjE5ZDI"
    assert agent == {"login": "a.nowak", "imieNazwisko": "Anna Nowak", "numer": "PA-004512"}


@pytest.mark.parametrize(
    "value", [None, "", "not json", "[]", '{"agent":{}}', '{"accessToken":null}', '{"accessToken":42}']
)
def test_auth_without_token_is_not_logged_in(value):
    with pytest.raises(NotLoggedIn, match="Log in to ProAgent in that tab"):
        parse_auth(value)


def test_auth_with_empty_token_is_not_logged_in():
    with pytest.raises(NotLoggedIn):
        parse_auth(text("auth_empty_token.json"))


@pytest.mark.parametrize(
    "name, kod, komunikat",
    [
        ("error_401.json", "BRAK_AUTORYZACJI", "Sesja wygasła. Zaloguj się ponownie."),
        ("error_404.json", "NIE_ZNALEZIONO", "Nie znaleziono polisy 5600123456."),
        ("error_502.json", "BLAD_SYSTEMU_POLISOWEGO", "System polisowy nie odpowiada. Spróbuj ponownie później."),
        ("error_400_cursor.json", "NIEPRAWIDLOWY_KURSOR", "Nieprawidłowy kursor."),
        ("error_400_params.json", "NIEPRAWIDLOWE_PARAMETRY", "Nieprawidłowe parametry zapytania."),
    ],
)
def test_error_shapes(name, kod, komunikat):
    assert parse_error(text(name)) == (kod, komunikat)


def test_error_of_another_shape():
    assert parse_error("<html>Bad Gateway</html>") == (None, None)
    assert parse_error("[1]") == (None, None)


# -- list ----------------------------------------------------------------------------------------
def test_list_first_page():
    items, cursor = parse_list_page(load("list_first_page.json"))
    assert cursor == "+/8or4Q5/Ad7Im8iOjE4LCJrIjoxfQ=="
    assert [i.number for i in items] == ["5600123456", "5600123501", "5600123777", "5600200001"]
    assert items[0] == ListedPolicy(
        number="5600123456", insurer="PROAMA", product="Proama Auto", holder_name="Agnieszka Kołodziej",
        issue_date=date(2026, 11, 3), premium_gr=123456,
    )
    assert items[0].ref == {"numer": "5600123456"}
    assert items[0].key == "PROAMA:5600123456"
    # Listed, but not imported: exactly the reason the spec words.
    assert items[1].skip_reason == SKIP_NOT_INDIVIDUAL == "klientIndywidualny false"
    assert items[1].holder_name == "Transport <Sokół> Jan Nowak"
    assert items[1].premium_gr == 98000
    assert items[2].holder_name == 'Kowalski & Syn "Łąka" [bold red]s.c.[/bold red]'
    assert items[2].skip_reason is None
    # An unusable field of one item makes that one red, not the page.
    assert items[3].error and "543,21" in items[3].error
    assert items[3].skip_reason is None


def test_list_last_and_empty_pages():
    items, cursor = parse_list_page(load("list_last_page.json"))
    assert cursor is None
    assert items[0].product == "Proama Podróż"
    assert items[0].premium_gr == 5000
    assert parse_list_page(load("list_empty.json")) == ([], None)


@pytest.mark.parametrize("name", ["list_bad_number.json", "list_no_cursor_key.json", "error_400_cursor.json"])
def test_list_of_another_shape(name):
    with pytest.raises(ParseError):
        parse_list_page(load(name))


# -- detail ----------------------------------------------------------------------------------------
def test_policy_of_a_person_with_a_vehicle():
    policy = parse_policy("5600123456", load("detail_person.json"), load("harmonogram_person.json"))
    assert policy.id == "PROAMA:5600123456"
    assert (policy.insurer, policy.source_app, policy.source_system) == ("PROAMA", "proama", None)
    assert (policy.product, policy.product_line, policy.status) == ("Proama Auto", "motor", "AKTYWNA")
    assert (policy.issue_date, policy.start_date, policy.end_date) == (date(2026, 11, 3), date(2026, 11, 5), date(2027, 11, 4))
    assert (policy.premium_gr, policy.currency) == (123456, "PLN")  # grosze as given, never divided
    assert policy.holder == Client(
        kind="person", name="Agnieszka Kołodziej", pesel="88090993185", street="ul. Piłsudskiego 44/2",
        postal_code="43-300", city="Bielsko-Biała", phone="512 345 678", email="a.kolodziej@example.pl",
    )
    assert policy.holder.id == "PESEL:88090993185"
    assert policy.vehicle == Vehicle(registration="SB7M301", vin="U5YH5819AKL662019", make="Kia", model="Ceed", production_year=2019)
    assert policy.vehicle.id == "VIN:U5YH5819AKL662019"
    assert policy.coverages == (
        Coverage("OC", "OC komunikacyjne", None, 80315),
        Coverage("AC", "Autocasco", 4500000, 43141),
    )
    assert policy.installments == (
        Installment(1, date(2026, 11, 5), 61728, True),
        Installment(2, date(2027, 5, 5), 61728, False),
    )
    assert policy.insured is None


def test_policy_of_a_company_with_markup_and_brackets():
    policy = parse_policy("5600123501", load("detail_company_not_individual.json"),
                          {"numer": "5600123501", "raty": [{"nr": 1, "termin": "2026-11-10", "kwotaGr": 98000, "status": "OPLACONA"}]})
    assert policy.holder == Client(
        kind="company", name="Transport <Sokół> Jan Nowak", nip="6344988737", regon="945414276",
        street="ul. Długa 5/12", postal_code="80-827", city="Gdańsk", phone="58 301 22 33", email="biuro@sokol.example.pl",
    )
    assert policy.holder.id == "NIP:6344988737"
    assert policy.product_line == "property"
    assert policy.vehicle is None
    assert sum(i.amount_gr for i in policy.installments) == policy.premium_gr == 98000
    assert sum(c.premium_gr for c in policy.coverages) == 98000


def test_policy_of_a_sole_trader_with_quotes_and_ampersand():
    detail = load("detail_company_individual.json")
    policy = parse_policy("5600123777", detail, {"numer": "5600123777", "raty": [
        {"nr": 1, "termin": "2026-11-04", "kwotaGr": 12345, "status": "NIEOPLACONA"}]})
    assert policy.holder.kind == "company"
    assert policy.holder.name == 'Kowalski & Syn "Łąka" [bold red]s.c.[/bold red]'
    assert policy.holder.id == "REGON:945414276"
    assert (policy.holder.phone, policy.holder.email, policy.holder.nip) == (None, None, None)
    assert (policy.product_line, policy.status) == ("other", "ANULOWANA")
    assert policy.installments == (Installment(1, date(2026, 11, 4), 12345, False),)


def test_policy_with_missing_optional_fields():
    policy = parse_policy("5600200001", load("detail_missing_optional.json"), {"numer": "5600200001", "raty": [
        {"nr": 1, "termin": "2026-11-06", "kwotaGr": 54321, "status": "NIEOPLACONA"}]})
    holder = policy.holder
    assert (holder.name, holder.pesel, holder.nip, holder.regon, holder.phone, holder.email) == (
        "Jan O'Brien-Żak", None, None, None, None, None)
    assert holder.id.startswith("HASH:")
    assert holder.id == Client(kind="person", name="Jan O'Brien-Żak", street="os. Kwiatowe 7",
                               postal_code="31-042", city="Kraków").id
    assert policy.vehicle == Vehicle(registration="KR12345", vin=None, make="Škoda", model=None, production_year=None)
    assert policy.vehicle.id == "REG:KR12345"
    assert policy.coverages == (Coverage("OC", None, None, None),)
    assert policy.status == "WYGASLA"


def test_vehicle_without_vin_or_registration_is_no_vehicle():
    policy = parse_policy("5600200002", load("detail_vehicle_without_ids.json"), {"numer": "5600200002", "raty": [
        {"nr": 1, "termin": "2026-11-06", "kwotaGr": 54321, "status": "OPLACONA"}]})
    assert policy.vehicle is None
    assert parse_vehicle(None) is None


def test_travel_line():
    policy = parse_policy("5600300003", load("detail_travel.json"), {"numer": "5600300003", "raty": [
        {"nr": 1, "termin": "2026-11-04", "kwotaGr": 12345, "status": "OPLACONA"}]})
    assert (policy.product, policy.product_line, policy.end_date) == ("Proama Podróż", "travel", date(2026, 11, 20))


@pytest.mark.parametrize(
    "name, error, words",
    [
        ("detail_currency_eur.json", PolicyError, "EUR"),
        ("detail_unknown_line.json", PolicyError, "ZYCIE"),
        ("detail_missing_start.json", ParseError, "okresOd"),
        ("detail_bad_amount.json", ParseError, "1234.56"),
        ("detail_unknown_holder_type.json", ParseError, "INSTYTUCJA"),
        ("error_502.json", ParseError, "numer"),
    ],
)
def test_detail_errors(name, error, words):
    with pytest.raises(error, match=words):
        parse_policy("5600123456", load(name), load("harmonogram_person.json"))


def test_truncated_detail_is_a_parse_error():
    response = FetchResponse(200, "http://proagent.proama.pl/agent-api/v1/polisy/5600123456", text("detail_truncated.json"))
    with pytest.raises(ParseError, match="not valid JSON"):
        response.json()


def test_detail_of_another_policy():
    with pytest.raises(ParseError, match="5600123456"):
        parse_policy("5600999999", load("detail_person.json"), load("harmonogram_person.json"))


# -- installments, coverages, client --------------------------------------------------------------
def test_installment_status_other_than_the_two_is_a_policy_error():
    with pytest.raises(PolicyError, match="CZESCIOWO_OPLACONA"):
        parse_installments("5600123456", load("harmonogram_bad_status.json"))


@pytest.mark.parametrize("name", ["harmonogram_empty.json", "harmonogram_other_policy.json", "error_404.json"])
def test_installments_of_another_shape(name):
    with pytest.raises(ParseError):
        parse_installments("5600123456", load(name))


@pytest.mark.parametrize("bad", [[], None, [{"nazwa": "bez kodu"}], [{"kod": "OC", "sumaGr": 12.5}], "OC"])
def test_coverages_of_another_shape(bad):
    with pytest.raises(ParseError):
        parse_coverages(bad)


@pytest.mark.parametrize("bad", [None, {"typ": "OSOBA", "imie": "Jan", "nazwisko": None, "adres": None},
                                 {"typ": "FIRMA", "nazwa": "", "adres": None}, {"typ": "OSOBA"}])
def test_client_of_another_shape(bad):
    with pytest.raises(ParseError):
        parse_client(bad)


# -- look-up: the detail's flag decides ----------------------------------------------------------
def test_lookup_of_an_individual_client():
    item = parse_lookup("5600123777", load("detail_company_individual.json"))
    assert item.skip_reason is None
    assert item.holder_name == 'Kowalski & Syn "Łąka" [bold red]s.c.[/bold red]'
    assert (item.issue_date, item.premium_gr) == (date(2026, 11, 4), 12345)
    assert item.ref["detail"]["numer"] == "5600123777"


def test_lookup_of_a_non_individual_client_is_skipped():
    item = parse_lookup("5600123501", load("detail_company_not_individual.json"))
    assert item.skip_reason == "klientIndywidualny false"
    assert item.holder_name == "Transport <Sokół> Jan Nowak"


def test_lookup_without_the_flag_is_a_parse_error():
    detail = load("detail_person.json")
    del detail["klientIndywidualny"]
    with pytest.raises(ParseError, match="klientIndywidualny"):
        parse_lookup("5600123456", detail)


# -- the reader over the fixture portal, in-process -----------------------------------------------
class ProAgentTab(ProAgentShellTab):
    """ProAgent's tab as the in-process CLI's (the login script's answer kept in sessionStorage), but no script
    rendered the shell: the adapter finds the token and no agent's name."""

    async def evaluate(self, expression, arg=None):
        self.evaluated.append(expression)
        assert arg == AUTH_KEY and "sessionStorage" in expression
        return {"auth": self.session_storage.get(arg), "agent": None}


class Rewriting(ProAgentTab):
    """The adapter's requests and the app's answers changed on the way, to meet what the app can answer."""

    def __init__(self, portal, *, url=lambda u: u, answer=lambda t: t):
        self.rewrite_url, self.rewrite_answer = url, answer
        super().__init__(portal)

    async def fetch(self, url, **options):
        answer = await super().fetch(self.rewrite_url(url), **options)
        return FetchResponse(answer.status, answer.url, self.rewrite_answer(answer.text))


LIST = "/agent-api/v1/polisy?dataOd=2026-11-01&dataDo=2026-11-16&limit=25"


def run(coro):
    return asyncio.run(coro)


async def collect(adapter, first=date(2026, 11, 1), last=date(2026, 11, 16)):
    return [item async for item in adapter.list_policies(first, last)]


def individual(portal: ProamaPortal, company: bool | None = None) -> str:
    return next(n for n in portal.numbers if portal.details[n]["klientIndywidualny"]
                and (company is None or (portal.details[n]["ubezpieczajacy"]["typ"] == "FIRMA") == company))


def test_listing_follows_the_percent_encoded_cursor_with_the_bearer_token():
    portal = ProamaPortal(count=40)
    tab = ProAgentTab(portal)
    items = run(collect(ProamaAdapter(tab)))
    assert [i.number for i in items] == portal.numbers
    urls = [r["url"] for r in tab.requests]
    assert urls[0] == LIST and len(urls) > 1
    cursor = parse_qs(urlsplit(urls[1]).query)["kursor"][0]
    assert cursor.startswith("+/") and cursor.endswith("=")
    assert urls[1] == LIST + "&kursor=" + quote(cursor, safe="")
    token = json.loads(tab.session_storage[AUTH_KEY])["accessToken"]
    for request in tab.requests:
        assert request["headers"] == {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    assert len(tab.evaluated) == 1


def test_listing_stops_on_a_repeated_cursor():
    tab = Rewriting(ProamaPortal(count=40), url=lambda u: u.split("&kursor=")[0])  # the first page, again
    with pytest.raises(EnvironmentProblem, match="same cursor"):
        run(collect(ProamaAdapter(tab)))


def without_cursor(text_: str) -> str:
    return json.dumps({"pozycje": json.loads(text_)["pozycje"]})


@pytest.mark.parametrize("url, answer, words", [
    (None, lambda t: t[: len(t) // 2], "not valid JSON"),
    (None, without_cursor, "documented shape"),
    (lambda u: u + "&kursor=AAAA", None, "Nieprawidłowy kursor"),
    (lambda u: u.replace("limit=25", "limit=500"), None, "parametry"),
])
def test_unreadable_list_stops_the_import(url, answer, words):
    tab = Rewriting(ProamaPortal(count=10), url=url or (lambda u: u), answer=answer or (lambda t: t))
    with pytest.raises(EnvironmentProblem, match=words):
        run(collect(ProamaAdapter(tab)))


def test_listing_with_expired_token_is_not_logged_in():
    portal = ProamaPortal(count=10)
    tab = ProAgentTab(portal)
    portal.expire_all()
    with pytest.raises(NotLoggedIn, match="Sesja wygasła"):
        run(collect(ProamaAdapter(tab)))


def test_tab_without_token_is_not_logged_in_before_any_request():
    tab = ProAgentTab(ProamaPortal(count=10), logged_in=False)
    adapter = ProamaAdapter(tab)
    with pytest.raises(NotLoggedIn):
        run(adapter.context())
    with pytest.raises(NotLoggedIn):
        run(collect(adapter))
    assert tab.requests == []


def test_context_names_the_agent():
    context = run(ProamaAdapter(ProAgentTab(ProamaPortal(count=1))).context())
    assert (context.app_id, context.user, context.identity) == ("proama", "Anna Nowak", None)
    assert context.description == "Logged in to Proama ProAgent as Anna Nowak (agent PA-004512)."


def test_read_policy_fetches_detail_then_schedule():
    portal = ProamaPortal(count=10)
    number = individual(portal)
    tab = ProAgentTab(portal)
    item = ListedPolicy(number=number, insurer="PROAMA", ref={"numer": number})
    policy = run(ProamaAdapter(tab).read_policy(item))
    assert policy.premium_gr == portal.details[number]["skladkaGr"]
    assert [r["url"] for r in tab.requests] == [f"/agent-api/v1/polisy/{number}", f"/agent-api/v1/polisy/{number}/harmonogram"]


@pytest.mark.parametrize(
    "fault, error, words",
    [
        ("fail", PolicyError, "System polisowy nie odpowiada"),
        ("fail_schedule", PolicyError, "System polisowy nie odpowiada"),
        ("missing", PolicyNotFound, "5600000000"),
        ("expired_schedule", NotLoggedIn, "Log in"),
        ("garbage", ParseError, "JSON"),
        ("not_individual", OutOfScope, "klientIndywidualny false"),
        ("bad_status", PolicyError, "CZESCIOWO_OPLACONA"),
    ],
)
def test_read_policy_failures(fault, error, words):
    portal = ProamaPortal(count=10, expire_after=1 if fault == "expired_schedule" else None)
    number = individual(portal)
    if fault in ("fail", "fail_schedule", "garbage"):
        setattr(portal, fault, {number})
    elif fault == "missing":
        number = "5600000000"
        assert number not in portal.details
    elif fault == "not_individual":
        number = next(n for n in portal.numbers if not portal.details[n]["klientIndywidualny"])
    elif fault == "bad_status":
        portal.schedules[number]["raty"][0]["status"] = "CZESCIOWO_OPLACONA"
    item = ListedPolicy(number=number, insurer="PROAMA", ref={"numer": number})
    with pytest.raises(error, match=words):
        run(ProamaAdapter(ProAgentTab(portal)).read_policy(item))


def test_lookup_reads_the_detail_once():
    portal = ProamaPortal(count=20)
    number = individual(portal, company=True)
    tab = ProAgentTab(portal)
    adapter = ProamaAdapter(tab)
    [item] = run(adapter.lookup(number))
    policy = run(adapter.read_policy(item))
    assert policy.holder.kind == "company"
    assert [r["url"] for r in tab.requests] == [f"/agent-api/v1/polisy/{number}", f"/agent-api/v1/polisy/{number}/harmonogram"]


def test_lookup_not_found_and_failing():
    portal = ProamaPortal(count=10)
    with pytest.raises(PolicyNotFound, match="5600000000"):
        run(ProamaAdapter(ProAgentTab(portal)).lookup("5600000000"))
    number = individual(portal)
    portal.fail = {number}
    [item] = run(ProamaAdapter(ProAgentTab(portal)).lookup(number))
    assert item.error and "System polisowy nie odpowiada" in item.error


@pytest.mark.parametrize("number", ["5700123456", "560012345", "56001234567", "PROAMA5600", "", "56 00123456"])
def test_check_number_rejects_other_forms(number):
    with pytest.raises(BadInput, match="56"):
        ProamaAdapter(ProAgentTab(ProamaPortal(count=1), logged_in=False)).check_number(number)


def test_check_number_accepts_the_app_form():
    assert ProamaAdapter(ProAgentTab(ProamaPortal(count=1), logged_in=False)).check_number(" 5600123456 ") == "5600123456"


def test_host():
    assert ProamaAdapter.matches_host("proagent.proama.pl")
    assert not ProamaAdapter.matches_host("proama.pl")
    assert not ProamaAdapter.matches_host("proagent.proama.pl.evil.example")
