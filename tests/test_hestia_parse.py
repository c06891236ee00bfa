"""The Hestia parse functions on saved pages (tests/data/hestia)."""

from __future__ import annotations

from datetime import date

import pytest

from a21import.errors import EnvironmentProblem, ParseError, PolicyError, PolicyNotFound
from a21import.insurers.hestia import (
    parse_header,
    parse_installments_page,
    parse_policy_page,
    parse_search_page,
)
from a21import.model import Client, Coverage, Installment, Vehicle
from tests.conftest import DATA

PAGES = DATA / "hestia"


def page(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def test_person_motor_policy():
    policy = parse_policy_page(page("policy_person_motor.html"), "909123456789", "ERGO_HESTIA")
    assert policy.id == "ERGO_HESTIA:909123456789"
    assert (policy.source_app, policy.source_system, policy.product_line) == ("hestia", "IHESTIA", "motor")
    assert (policy.product, policy.status) == ("Auto Pakiet", "Aktywna")
    assert (policy.issue_date, policy.start_date, policy.end_date) == (date(2026, 11, 3), date(2026, 11, 5), date(2027, 11, 4))
    assert policy.premium_gr == 123456
    assert policy.holder == Client(kind="person", name="Łukasz Wójcik", pesel="84031233138", street="ul. Długa 5/12",
                                   postal_code="80-827", city="Gdańsk", phone="+48 601 234 567",
                                   email="lukasz.wojcik@example.pl")
    assert policy.holder.id == "PESEL:84031233138"
    assert policy.vehicle == Vehicle(registration="GD4F218", vin="WVWZZZAUZLP512347", make="Volkswagen", model="Golf",
                                     production_year=2019)
    assert policy.coverages == (Coverage("OC", "OC posiadaczy pojazdów", None, 81200),
                                Coverage("AC", "Autocasco", 4850000, 42256))


def test_company_property_policy_with_markup_in_its_name_and_missing_fields():
    policy = parse_policy_page(page("policy_company_property.html"), "460000000123", "ERGO_HESTIA")
    assert policy.source_system == "IPEGAZ" and policy.product_line == "property"
    assert policy.status is None
    assert policy.premium_gr == 1234567890
    assert policy.vehicle is None
    holder = policy.holder
    assert holder.kind == "company"
    assert holder.name == 'Przedsiębiorstwo Handlowe "Łąka" [bold red]&[/bold red] <Syn> Sp. z o.o.'
    assert (holder.nip, holder.regon, holder.phone, holder.email) == ("5274682865", None, None, None)
    assert holder.id == "NIP:5274682865"
    # Split at the last ", ": a street part may itself hold a comma.
    assert (holder.street, holder.postal_code, holder.city) == ("Zalesie 14, Brzozowa 3", "05-077", "Warszawa-Wesoła")
    assert policy.coverages == (Coverage("MUR", None, 100000000, 1234567890),)


def test_installments_page():
    assert parse_installments_page(page("installments.html"), "909123456789") == (
        Installment(1, date(2026, 11, 5), 61728, True),
        Installment(2, date(2027, 5, 5), 61728, False),
    )


def test_search_pages():
    items, current, last = parse_search_page(page("search_page1.html"), "ERGO_HESTIA")
    assert (current, last) == (1, 3)
    assert [(i.number, i.key, i.holder_name, i.issue_date, i.premium_gr) for i in items] == [
        ("909123456789", "ERGO_HESTIA:909123456789", "Łukasz Wójcik", date(2026, 11, 3), 123456),
        ("911123456789", "ERGO_HESTIA:911123456789", 'Kowalski & Syn "Łąka" s.c.', date(2026, 11, 4), 61728),
    ]
    assert parse_search_page(page("search_empty.html"), "ERGO_HESTIA") == ([], 1, 0)
    with pytest.raises(EnvironmentProblem, match="31 dni"):
        parse_search_page(page("search_refused.html"), "ERGO_HESTIA")


def test_error_pages():
    with pytest.raises(PolicyNotFound):
        parse_policy_page(page("not_found.html"), "909123456789", "ERGO_HESTIA")
    with pytest.raises(PolicyError, match="Wystąpił błąd systemu"):
        parse_policy_page(page("system_error.html"), "909123456789", "ERGO_HESTIA")
    with pytest.raises(PolicyError, match="Wystąpił błąd systemu"):
        parse_installments_page(page("system_error.html"), "909123456789")


def test_truncated_or_wrong_pages_are_parse_errors():
    text = page("policy_person_motor.html")
    with pytest.raises(ParseError):
        parse_policy_page(text[: text.index("Okres ubezpieczenia")], "909123456789", "ERGO_HESTIA")
    with pytest.raises(ParseError, match="shows the number"):
        parse_policy_page(text, "909000000000", "ERGO_HESTIA")
    with pytest.raises(ParseError, match="not in the list of Ergo Hestia products"):
        parse_policy_page(text.replace("Auto Pakiet", "Auto Ekstra"), "909123456789", "ERGO_HESTIA")
    with pytest.raises(ParseError):
        parse_policy_page(text.replace("1&nbsp;234,56 zł", "1234.56 PLN"), "909123456789", "ERGO_HESTIA")


def test_header():
    assert parse_header(page("policy_person_motor.html")) == ("ERGO Hestia", "0412345")
    assert parse_header(page("login.html")) == (None, None)
