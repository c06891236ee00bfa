"""The Warta parse functions on saved eAgent (JSON) and ePlatforma (HTML) responses, and the
adapter's reading flow against the fixture portal through a plain-HTTP stand-in for the tab."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from a21import.errors import (
    BadInput,
    EnvironmentProblem,
    NoRights,
    NotLoggedIn,
    ParseError,
    PolicyError,
    PolicyNotFound,
    WrongIdentity,
)
from a21import.insurers import get
from a21import.insurers.base import FetchResponse
from a21import.insurers.warta import (
    INSURED_FIELDS,
    NO_RIGHTS_MESSAGE,
    WartaAdapter,
    check_warta_number,
    majatek_error,
    parse_app_config,
    parse_app_config_html,
    parse_majatek_installments,
    parse_majatek_list,
    parse_majatek_policy,
    parse_zycie_context,
    parse_zycie_installments,
    parse_zycie_list,
    parse_zycie_number,
    parse_zycie_policy,
    zycie_error,
)
from a21import.model import Client, Coverage, Installment, Vehicle
from tests.fixtures.inprocess import PortalTab, login
from tests.fixtures.warta_portal import WartaPortal

DATA = Path(__file__).parent / "data" / "warta"
TRICKY = 'Sklep [bold red]Pod Lipą[/bold red] & "Syn" <Sp. z o.o.>'


def text(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def load(name: str):
    return json.loads(text(name))


# == MAJATEK ==================================================================================


def test_registry_names_the_adapter():
    assert get("warta") is WartaAdapter
    assert WartaAdapter.identities == ("MAJATEK", "ZYCIE")
    assert set(WartaAdapter.sources) == {"majatek", "zycie"}


def test_hosts_and_sources():
    assert WartaAdapter.matches_host("eagent.warta.pl")
    assert WartaAdapter.matches_host("eplatforma.warta.pl")
    assert not WartaAdapter.matches_host("warta.pl")
    assert not WartaAdapter.matches_host("eagent.warta.pl.evil.example")
    assert WartaAdapter.source_of_host("eagent.warta.pl") == "majatek"
    assert WartaAdapter.source_of_host("eplatforma.warta.pl") == "zycie"
    assert WartaAdapter.source_of_host("example.com") is None


def test_app_config_from_the_page_script():
    config = parse_app_config_html(text("majatek_app.html"))
    assert config == {"agentOuid": "A00005152001", "agentName": "Anna Nowak", "apiBase": "/view360/api"}
    assert parse_app_config(config) == ("A00005152001", "Anna Nowak")


def test_login_page_has_no_config():
    assert parse_app_config_html(text("majatek_login.html")) is None
    with pytest.raises(NotLoggedIn, match="Log in to Warta eAgent"):
        parse_app_config(None)
    with pytest.raises(NotLoggedIn):
        parse_app_config({"agentOuid": None})


def test_malformed_agent_id_stops():
    with pytest.raises(EnvironmentProblem, match="not an agent id"):
        parse_app_config({"agentOuid": "12345"})


def test_majatek_list_page():
    rows, total = parse_majatek_list(load("majatek_list_page1.json"))
    assert total == 57
    assert [r.number for r in rows] == ["908012345111", "908012345222", "908012345333"]
    first, second, third = rows
    assert first.insurer == "WARTA" and first.key == "WARTA:908012345111"
    assert first.product == "Warta Auto Casco + OC"
    assert first.holder_name == "Grzegorz Brzęczyszczykiewicz"
    assert first.issue_date == date(2026, 11, 4)
    assert first.premium_gr == 123456
    assert first.ref == "908012345111"
    assert first.error is None and first.skip_reason is None
    assert second.holder_name == TRICKY and second.premium_gr == 38900
    # A row whose premium is not "1234.56" is red on its own; the others go on.
    assert third.error is not None and "12,50" in third.error


def test_majatek_list_empty():
    assert parse_majatek_list(load("majatek_list_empty.json")) == ([], 0)


def test_majatek_list_without_items_is_a_parse_error():
    with pytest.raises(ParseError):
        parse_majatek_list({"total": 3})
    with pytest.raises(ParseError):
        parse_majatek_list([1, 2])


def test_majatek_person_motor_policy():
    policy = parse_majatek_policy(load("majatek_detail_person_motor.json"), load("majatek_installments.json"))
    assert policy.id == "WARTA:908012345111"
    assert (policy.insurer, policy.source_app, policy.source_system) == ("WARTA", "warta", "MAJATEK")
    assert (policy.product_line, policy.product, policy.status) == ("motor", "Warta Auto Casco + OC", "W_MOCY")
    assert (policy.issue_date, policy.start_date, policy.end_date) == (date(2026, 11, 4), date(2026, 11, 5), date(2027, 11, 4))
    assert (policy.premium_gr, policy.currency) == (123456, "PLN")
    assert policy.holder == Client(
        kind="person",
        name="Grzegorz Brzęczyszczykiewicz",
        pesel="76110207499",
        street="os. Złotego Wieku 12/34",
        postal_code="31-618",
        city="Kraków",
        phone="+48 603 456 789",
        email="g.brzeczyszczykiewicz@example.pl",
    )
    assert policy.holder.id == "PESEL:76110207499"
    assert policy.vehicle == Vehicle(registration="KR7M301", vin="WBA8E1106K7A52291", make="BMW", model="320d", production_year=2019)
    assert policy.vehicle.id == "VIN:WBA8E1106K7A52291"
    assert policy.insured is None
    assert policy.coverages == (
        Coverage("OC", "OC posiadaczy pojazdów", None, 65500),
        Coverage("AC", "Autocasco", 8500000, 57956),
    )
    assert policy.installments == (
        Installment(1, date(2026, 11, 5), 61728, True),
        Installment(2, date(2027, 5, 5), 61728, False),
    )
    assert sum(i.amount_gr for i in policy.installments) == policy.premium_gr
    assert sum(c.premium_gr for c in policy.coverages) == policy.premium_gr


def test_majatek_company_property_policy():
    policy = parse_majatek_policy(load("majatek_detail_company_property.json"), load("majatek_installments_one.json"))
    assert policy.product_line == "property" and policy.product == "Warta Firma & Biuro"
    assert policy.holder == Client(
        kind="company", name=TRICKY, nip="6340662335", regon=None, street="ul. O'Connora 5",
        postal_code="80-827", city="Gdańsk", phone="58 301 22 33", email=None,
    )
    assert policy.holder.id == "NIP:6340662335"
    assert policy.vehicle is None
    assert policy.coverages[1] == Coverage("OCP", None, None, 8900)
    assert policy.installments == (Installment(1, date(2026, 11, 10), 38900, False),)


def test_majatek_vehicle_known_by_registration_only():
    policy = parse_majatek_policy(load("majatek_detail_motor_registration_only.json"), load("majatek_installments_one.json"))
    assert policy.vehicle == Vehicle(registration="SK12345", vin=None, make="Iveco", model="Daily", production_year=None)
    assert policy.vehicle.id == "REG:SK12345"
    assert policy.holder.id == "NIP:6340662335" and policy.holder.regon == "179928140"


def test_majatek_vehicle_without_vin_and_registration_is_no_vehicle():
    detail = load("majatek_detail_motor_registration_only.json")
    detail["vehicle"]["registrationNumber"] = None
    assert parse_majatek_policy(detail, load("majatek_installments_one.json")).vehicle is None


@pytest.mark.parametrize(
    "change, message",
    [
        ({"lineOfBusiness": "ROLNE"}, "ROLNE"),
        ({"currency": "EUR"}, "EUR"),
        ({"premium": 1234.56}, "1234.56"),
        ({"issueDate": "04.11.2026"}, "04.11.2026"),
        ({"policyholder": {"partyType": "INNY"}}, "INNY"),
        ({"policyholder": None}, "policyholder"),
        ({"risks": None}, "risks"),
        ({"vehicle": {"productionYear": "2019"}}, "2019"),
    ],
)
def test_majatek_policy_errors(change, message):
    detail = {**load("majatek_detail_person_motor.json"), **change}
    with pytest.raises(PolicyError, match=message):
        parse_majatek_policy(detail, load("majatek_installments.json"))


def test_majatek_bad_installments():
    with pytest.raises(ParseError, match="paid"):
        parse_majatek_installments({"items": [{"number": 1, "dueDate": "2026-11-05", "amount": "1.00", "paid": "tak"}]})
    with pytest.raises(ParseError):
        parse_majatek_installments({"items": None})
    with pytest.raises(ParseError):
        parse_majatek_installments(["x"])


def test_majatek_truncated_json_is_a_parse_error():
    response = FetchResponse(200, "http://eagent.warta.pl/view360/api/agents/A00005152001/policies/908012345111", text("majatek_detail_truncated.json"))
    with pytest.raises(ParseError, match="not valid JSON"):
        response.json()


@pytest.mark.parametrize(
    "status, name, number, exception, words",
    [
        (401, "majatek_error_session_expired.json", "908012345111", NotLoggedIn, "Log in to Warta eAgent"),
        (401, "majatek_error_session_expired.json", None, NotLoggedIn, "Log in"),
        (403, "majatek_error_access_denied.json", None, WrongIdentity, "Brak dostępu do danych agenta."),
        (404, "majatek_error_not_found.json", "908012345111", PolicyNotFound, "Nie znaleziono polisy."),
        (500, "majatek_error_backend.json", "908012345111", PolicyError, "Błąd systemu polisowego. Spróbuj ponownie później."),
        (400, "majatek_error_range.json", None, EnvironmentProblem, "Zakres dat nie może przekraczać 31 dni."),
        (400, "majatek_error_invalid.json", None, EnvironmentProblem, "Nieprawidłowe parametry."),
    ],
)
def test_majatek_error_shapes(status, name, number, exception, words):
    error = majatek_error(status, "/view360/api/agents/A00005152001/policies", text(name), number=number)
    assert type(error) is exception
    assert words in str(error)
    if number and exception is not NotLoggedIn:
        assert number in str(error)


def test_majatek_ok_and_login_redirect():
    assert majatek_error(200, "/view360/api/x", "{}") is None
    assert isinstance(majatek_error(200, "/login", text("majatek_login.html")), NotLoggedIn)
    # A body that is not the app's JSON still gives a whole sentence.
    assert "HTTP 502" in str(majatek_error(502, "/view360/api/x", "<html>Bad gateway</html>", number="908012345111"))


# == ZYCIE ====================================================================================


def test_zycie_context():
    assert parse_zycie_context(text("zycie_start.html")) == "Anna Nowak"
    with pytest.raises(NotLoggedIn, match="Log in to Warta ePlatforma"):
        parse_zycie_context(text("zycie_login.html"))
    with pytest.raises(NoRights) as caught:
        parse_zycie_context(text("zycie_no_rights.html"))
    assert caught.value.message == NO_RIGHTS_MESSAGE
    assert "This agent has no access to TUnŻ (life) in ePlatforma, so there is nothing to import." in caught.value.message
    assert caught.value.exit_code == 3


def test_zycie_list_page_with_next():
    rows, has_next = parse_zycie_list(text("zycie_list_page1.html"))
    assert has_next is True
    assert [r.number for r in rows] == ["8012345678", "8012345679", "8012345680"]
    first, second, third = rows
    assert (first.insurer, first.product, first.holder_name) == ("WARTA_ZYCIE", "Warta Ochrona Plus", "Katarzyna Zielińska")
    assert (first.issue_date, first.premium_gr, first.ref) == (date(2026, 11, 2), 180000, "8012345678")
    assert (second.product, second.holder_name, second.premium_gr) == ("Warta Emerytura & Kapitał", TRICKY, 1234567)
    assert third.holder_name == "Jan O'Brien"
    assert third.error is not None and "3.11.2026" in third.error


def test_zycie_list_last_empty_and_refused():
    rows, has_next = parse_zycie_list(text("zycie_list_last.html"))
    assert [r.number for r in rows] == ["8099999999"] and has_next is False
    assert parse_zycie_list(text("zycie_list_empty.html")) == ([], False)
    with pytest.raises(EnvironmentProblem, match="Nieprawidłowy zakres dat."):
        parse_zycie_list(text("zycie_list_bad_dates.html"))
    with pytest.raises(NotLoggedIn):
        parse_zycie_list(text("zycie_login.html"), 200, "/login")
    with pytest.raises(NoRights):
        parse_zycie_list(text("zycie_no_rights.html"))
    with pytest.raises(ParseError):
        parse_zycie_list("<html><body><div id='top'><span id='uzytkownik'>A</span></div><table id='listaPolis'><thead><tr><th>Numer polisy</th></tr></thead></table>")


def test_zycie_person_policy_insured_is_holder_by_pesel():
    policy = parse_zycie_policy(text("zycie_policy_person.html"), text("zycie_installments_monthly.html"))
    assert policy.id == "WARTA_ZYCIE:8012345678"
    assert (policy.insurer, policy.source_app, policy.source_system) == ("WARTA_ZYCIE", "warta", "ZYCIE")
    assert (policy.product_line, policy.product, policy.status) == ("life", "Warta Ochrona Plus", "W mocy")
    assert (policy.issue_date, policy.start_date, policy.end_date) == (date(2026, 11, 2), date(2026, 12, 1), date(2046, 11, 30))
    # The yearly premium, not the monthly `Składka` of 150,00 zł.
    assert (policy.premium_gr, policy.currency) == (180000, "PLN")
    assert policy.holder == Client(
        kind="person", name="Katarzyna Zielińska", pesel="95022808864", street="ul. Kwiatowa 2",
        postal_code="87-100", city="Toruń", phone="600 100 200", email=None,
    )
    assert policy.insured == Client(kind="person", name="Katarzyna Zielińska", pesel="95022808864", carried=INSURED_FIELDS)
    assert policy.insured.id == policy.holder.id == "PESEL:95022808864"
    # Writing the insured touches only name and PESEL, never the stored address.
    assert set(policy.insured.row()) == {"id", "kind", "name", "pesel", "ids_invalid"}
    assert policy.vehicle is None
    assert policy.coverages == (
        Coverage("ZG", "Zgon ubezpieczonego", 20000000, 150000),
        Coverage("NW", "Nieszczęśliwy wypadek", 5000000, 30000),
    )
    assert sum(c.premium_gr for c in policy.coverages) == policy.premium_gr
    assert len(policy.installments) == 12
    assert policy.installments[0] == Installment(1, date(2026, 12, 1), 15000, True)
    assert policy.installments[-1] == Installment(12, date(2027, 11, 1), 15000, False)
    assert sum(i.amount_gr for i in policy.installments) == policy.premium_gr


def test_zycie_company_policy_other_insured_without_pesel():
    policy = parse_zycie_policy(text("zycie_policy_company.html"), text("zycie_installments_single.html"))
    assert policy.product == "Warta Emerytura & Kapitał"
    assert policy.premium_gr == 1234567
    assert policy.holder == Client(
        kind="company", name=TRICKY, nip="6340662335", regon=None, street="ul. O'Connora 5",
        postal_code="80-827", city="Gdańsk", phone=None, email="biuro@lipa.pl",
    )
    assert policy.holder.id == "NIP:6340662335"
    assert policy.insured == Client(kind="person", name="Jan Nowak", pesel=None, carried=INSURED_FIELDS)
    assert policy.insured.id.startswith("HASH:") and policy.insured.id != policy.holder.id
    assert policy.coverages[1] == Coverage("OPL", "Opłata administracyjna", None, 34567)
    assert policy.installments == (Installment(1, date(2026, 12, 1), 1234567, True),)


def test_zycie_insured_without_pesel_with_the_holders_name_is_the_holder():
    policy = parse_zycie_policy(text("zycie_policy_insured_is_holder.html"), text("zycie_installments_single.html"))
    assert policy.holder.pesel is None and policy.holder.id.startswith("HASH:")
    assert policy.insured is policy.holder
    assert policy.premium_gr == 60000


def test_zycie_same_name_but_company_holder_is_not_the_holder():
    page = text("zycie_policy_company.html").replace("<dd>Jan Nowak</dd>", f"<dd>{TRICKY.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}</dd>")
    policy = parse_zycie_policy(page, text("zycie_installments_single.html"))
    assert policy.insured.kind == "person" and policy.insured.id != policy.holder.id


def test_zycie_policy_number_for_lookup():
    assert parse_zycie_number(text("zycie_policy_person.html")) == "8012345678"


def test_zycie_truncated_page_is_a_parse_error():
    with pytest.raises(ParseError, match="Składka roczna|policyholder"):
        parse_zycie_policy(text("zycie_policy_truncated.html"), text("zycie_installments_monthly.html"))


def test_zycie_bad_installments():
    with pytest.raises(ParseError, match="without a single installment"):
        parse_zycie_installments(text("zycie_installments_single.html").replace(
            "<tr><td>1</td><td>01.12.2026</td><td>12&nbsp;345,67 zł</td><td>Opłacona</td></tr>", ""))
    with pytest.raises(ParseError, match="Zapłacona"):
        parse_zycie_installments(text("zycie_installments_single.html").replace(">Opłacona<", ">Zapłacona<"))
    with pytest.raises(ParseError):
        parse_zycie_installments(text("zycie_start.html"))


def test_zycie_unknown_holder_kind():
    with pytest.raises(ParseError, match="Spółka"):
        parse_zycie_policy(text("zycie_policy_person.html").replace("Osoba fizyczna", "Spółka"), text("zycie_installments_monthly.html"))


def test_zycie_error_shapes():
    assert zycie_error(200, "/polisa", text("zycie_policy_person.html"), number="8012345678") is None
    expired = zycie_error(200, "/login", text("zycie_login.html"), number="8012345678")
    assert isinstance(expired, NotLoggedIn) and "Log in to Warta ePlatforma" in expired.message
    assert isinstance(zycie_error(200, "/polisa", text("zycie_no_rights.html"), number="8012345678"), NoRights)
    failure = zycie_error(503, "/polisa", text("zycie_backend_error.html"), number="8012345678")
    assert type(failure) is PolicyError
    assert "8012345678" in failure.reason and "Usługa chwilowo niedostępna. Spróbuj ponownie później." in failure.reason
    missing = zycie_error(200, "/polisa", text("zycie_policy_not_found.html"), number="8000000000")
    assert isinstance(missing, PolicyNotFound) and "8000000000" in missing.reason
    assert isinstance(zycie_error(503, "/polisy/lista", text("zycie_backend_error.html")), EnvironmentProblem)


# == numbers ==================================================================================


def test_numbers_of_each_section():
    assert check_warta_number(" 908012345111 ", "majatek") == "908012345111"
    assert check_warta_number("8012345678", "zycie") == "8012345678"


def test_a_life_number_on_majatek_points_to_zycie():
    with pytest.raises(WrongIdentity) as caught:
        check_warta_number("8012345678", "majatek")
    assert "--source zycie" in caught.value.message and "eplatforma.warta.pl" in caught.value.message
    assert caught.value.exit_code == 3


def test_a_property_number_on_zycie_points_to_majatek():
    with pytest.raises(WrongIdentity) as caught:
        check_warta_number("908012345111", "zycie")
    assert "--source majatek" in caught.value.message and "eagent.warta.pl" in caught.value.message


@pytest.mark.parametrize("number", ["", "9080123451", "90801234511X", "801234567", "80123456789", "KOS1234567", "908 012 345 111"])
def test_neither_format_is_bad_input(number):
    for section in ("majatek", "zycie"):
        with pytest.raises(BadInput, match="908 followed by 9 digits"):
            check_warta_number(number, section)


# == the reader against the fixture portal, in-process =====================================


async def collect(adapter, first=date(2026, 11, 1), last=date(2026, 11, 16)):
    return [item async for item in adapter.list_policies(first, last)]


def test_reader_majatek_against_the_portal():
    portal = WartaPortal(count=57)
    tab = login(portal, host="eagent.warta.pl", page="/view360/")
    adapter = WartaAdapter(tab, "majatek")
    context = asyncio.run(adapter.context())
    assert (context.identity, context.identity_label, context.user) == ("MAJATEK", "Majątek (eAgent)", "Anna Nowak")
    assert "A00005152001" in context.description
    items = asyncio.run(collect(adapter))
    assert [i.number for i in items] == [p.number for p in portal.majatek_policies]
    lists = [path for _, host, path in portal.log if "/policies?" in path]
    assert [p.split("offset=")[1] for p in lists] == ["0&limit=50", "50&limit=50"]
    for item, fake in zip(items[:8], portal.majatek_policies):
        policy = asyncio.run(adapter.read_policy(item))
        assert policy.premium_gr == fake.premium_gr and policy.holder.name == fake.holder.name
        assert [i.amount_gr for i in policy.installments] == [i.amount_gr for i in fake.installments]
    found = asyncio.run(adapter.lookup(portal.majatek_policies[5].number))
    assert asyncio.run(adapter.read_policy(found[0])).number == portal.majatek_policies[5].number
    with pytest.raises(PolicyNotFound):
        asyncio.run(adapter.lookup("908000000000"))


def test_reader_zycie_against_the_portal():
    portal = WartaPortal(count=45)
    tab = login(portal, host="eplatforma.warta.pl", page="/start")
    adapter = WartaAdapter(tab, "zycie")
    context = asyncio.run(adapter.context())
    assert (context.identity, context.identity_label) == ("ZYCIE", "Życie (ePlatforma)")
    items = asyncio.run(collect(adapter))
    assert [i.number for i in items] == [p.number for p in portal.zycie_policies]
    assert len([1 for _, _, path in portal.log if path.startswith("/polisy/lista")]) == 3
    for item, fake in zip(items, portal.zycie_policies):
        policy = asyncio.run(adapter.read_policy(item))
        assert policy.premium_gr == fake.premium_gr
        assert sum(i.amount_gr for i in policy.installments) == fake.premium_gr
        insured = fake.extra["insured"]
        if insured.pesel is None and fake.holder.kind == "person" and insured.name == fake.holder.name:
            assert policy.insured is policy.holder and policy.holder.pesel == fake.holder.pesel
        else:
            assert (policy.insured.name, policy.insured.pesel) == (insured.name, insured.pesel)
    with pytest.raises(PolicyNotFound):
        asyncio.run(adapter.lookup("8000000000"))


def test_reader_zycie_without_rights():
    portal = WartaPortal(count=5, no_rights=True)
    adapter = WartaAdapter(login(portal, host="eplatforma.warta.pl", page="/start"), "zycie")
    with pytest.raises(NoRights, match="no access to TUnŻ"):
        asyncio.run(adapter.context())
    with pytest.raises(NoRights):
        asyncio.run(collect(adapter))


def test_reader_refuses_the_other_sections_tab():
    portal = WartaPortal(count=5)
    adapter = WartaAdapter(login(portal, host="eagent.warta.pl", page="/view360/"), "zycie")
    with pytest.raises(WrongIdentity, match="eplatforma.warta.pl"):
        asyncio.run(adapter.context())


def test_portal_hosts_have_separate_sessions():
    portal = WartaPortal(count=5)
    eagent = login(portal, host="eagent.warta.pl", page="/view360/")
    # The eAgent cookie is not an ePlatforma session, even under the other cookie name.
    eplatforma = PortalTab(portal, host="eplatforma.warta.pl", logged_in=False)
    eplatforma.client.set_cookie("EPLSESSIONID", eagent.cookie("JSESSIONID"), domain="eplatforma.warta.pl")
    answer = asyncio.run(eplatforma.fetch("/start"))
    assert urlsplit(answer.url).path == "/login"
    assert urlsplit(portal.section("zycie").login_url).hostname == "eplatforma.warta.pl"
