"""The TUZ SOBOL parse functions on saved pages (tests/data/tuz), and the adapter's reader on a fake tab."""

from __future__ import annotations

import asyncio
from datetime import date

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
from a21import.insurers import tuz
from a21import.insurers.base import FetchResponse
from a21import.model import Client, Coverage, Installment, ListedPolicy, Vehicle
from tests.conftest import DATA
from tests.fixtures.inprocess import PortalTab
from tests.fixtures.tuz_portal import TuzPortal

FILES = DATA / "tuz"


PERSON = "detail_kos_person.html"
# Pages that differ from a saved one in a few places: derived here rather than stored as near-copies.
DERIVED = {
    "detail_bad_amount.html": (PERSON, [("<span>1&nbsp;234,56 zł</span>", "<span>1234.56 PLN</span>")]),
    "detail_kos_no_vehicle_ids.html": (PERSON, [("<span>KNS 12AB</span>", "<span></span>"),
                                                ("<span>VF1RJA00567431885</span>", "<span></span>")]),
    "detail_kos_registration_only.html": (PERSON, [("<span>KNS 12AB</span>", "<span>kns 12ab</span>"),
                                                   ("<span>VF1RJA00567431885</span>", "<span></span>"),
                                                   ("<span>2021</span>", "<span></span>")]),
    "detail_missing_holder_name.html": (PERSON, [(
        '<div class="field"><label>Imię i nazwisko</label><span>Kacper Szymański</span></div>', "")]),
    "detail_unknown_series.html": (PERSON, [("Umowa KOS1234567 –", "Umowa XYZ1234567 –"),
                                            (">Umowa KOS1234567<", ">Umowa XYZ1234567<"),
                                            ("<span>KOS</span>", "<span>XYZ</span>")]),
    "list_no_results.html": ("list_lookup.html", [(
        '<tr data-id="48177"><td>MIE</td><td>0004521</td><td>Dom &amp; Ogród</td><td>Kowalski &amp; Syn '
        '&quot;Łąka&quot; s.c.</td><td>2026-11-12</td><td>1\u00a0389,00 zł</td><td>Aktywna</td></tr>',
        '<tr class="no-results"><td colspan="7">Brak umów spełniających kryteria.</td></tr>')]),
}


def page(name: str) -> str:
    if name in DERIVED:
        saved, changes = DERIVED[name]
        text = page(saved)
        for old, new in changes:
            assert text.count(old) == 1, (saved, old)
            text = text.replace(old, new)
        return text
    return (FILES / name).read_text(encoding="utf-8")


# -- context ---------------------------------------------------------------------------------------


def test_context_of_a_logged_in_page():
    context = tuz.parse_context(page("list_spec.html"))
    assert context.app_id == "tuz"
    assert context.user == "Jan Kowalski"
    assert context.description == "Logged in to TUZ SOBOL as Jan Kowalski."
    assert context.identity is None


def test_context_of_the_login_page_is_not_logged_in():
    with pytest.raises(NotLoggedIn, match="not logged in. Log in to SOBOL"):
        tuz.parse_context(page("login.html"))


def test_context_of_an_error_page_says_so():
    with pytest.raises(NotLoggedIn, match="error page"):
        tuz.parse_context(page("error_500.html"))


def test_login_page_detection():
    login = page("login.html")
    assert tuz.is_login_page(FetchResponse(200, "http://sobol-agencyjny.tuz.pl:1234/login", login))
    # Detected by its form even where the final URL would not tell.
    assert tuz.is_login_page(FetchResponse(200, "http://sobol-agencyjny.tuz.pl/insured/contracts", login))
    assert not tuz.is_login_page(FetchResponse(200, "http://sobol-agencyjny.tuz.pl/insured/contracts", page("list_spec.html")))
    assert not tuz.is_login_page(FetchResponse(500, "http://sobol-agencyjny.tuz.pl/insured/contracts/1", page("error_500.html")))


def test_host():
    assert tuz.TuzAdapter.matches_host("sobol-agencyjny.tuz.pl")
    assert tuz.TuzAdapter.matches_host("SOBOL-AGENCYJNY.TUZ.PL")
    assert not tuz.TuzAdapter.matches_host("tuz.pl")
    assert not tuz.TuzAdapter.matches_host("sobol-agencyjny.tuz.pl.example.com")


# -- numbers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["KOS1234567", "MIE0004521", "ROL0000001", "OCR9999999", "NNW1000000", "TUR0000012"])
def test_good_numbers(number):
    assert tuz.check_number(number) == number
    assert tuz.check_number(f" {number} ") == number


@pytest.mark.parametrize("number", ["KOS123456", "KOS12345678", "kos1234567", "KO1234567", "KOS 1234567", "1234567", "", "KOS123456A"])
def test_malformed_numbers(number):
    with pytest.raises(BadInput, match="three capital letters .* seven digits"):
        tuz.check_number(number)


def test_unknown_series_is_bad_input():
    with pytest.raises(BadInput, match="series XYZ, which TUZ SOBOL does not have"):
        tuz.check_number("XYZ1234567")


# -- the list --------------------------------------------------------------------------------------


def test_list_page_of_the_spec():
    items, has_next = tuz.parse_list_page(page("list_spec.html"))
    assert has_next is True
    assert items == [
        ListedPolicy(number="KOS1234567", insurer="TUZ", product="OC/AC Komfort", holder_name="Kacper Szymański",
                     issue_date=date(2026, 11, 14), premium_gr=123456),
        ListedPolicy(number="MIE0004521", insurer="TUZ", product="Mój Dom", holder_name="Kowalski & Syn s.c.",
                     issue_date=date(2026, 11, 12), premium_gr=38900),
    ]
    assert [item.ref for item in items] == ["48213", "48177"]
    assert all(item.error is None and item.skip_reason is None for item in items)


def test_last_page_has_no_next_even_with_a_pagination():
    items, has_next = tuz.parse_list_page(page("list_last_page.html"))
    assert has_next is False
    (item,) = items
    assert item.number == "TUR0000012"
    assert item.ref == "a-77"
    assert item.holder_name == "Sklep [bold red]Pod Lipą[/bold red] Sp. z o.o."
    assert item.product == "Podróże <Zagraniczne>"
    assert item.premium_gr == 1234567  # raw U+00A0


def test_no_results():
    assert tuz.parse_list_page(page("list_no_results.html")) == ([], False)


def test_refused_date_range_is_a_parse_error_with_the_message():
    with pytest.raises(ParseError, match="Nieprawidłowy zakres dat."):
        tuz.parse_list_page(page("list_bad_range.html"))


def test_page_without_table():
    with pytest.raises(ParseError, match="no table#contracts"):
        tuz.parse_list_page("<html><body><div id='user-panel'></div></body></html>")


def test_columns_are_read_by_their_headers():
    html = page("list_spec.html").replace("<th>Produkt</th>", "<th>Produkt ubezpieczenia</th>")
    with pytest.raises(ParseError, match="TUZ SOBOL sent its contracts list without the column 'Produkt'"):
        tuz.parse_list_page(html)


def test_odd_rows_are_red_but_listed():
    items, has_next = tuz.parse_list_page(page("list_odd_rows.html"))
    assert has_next is False
    assert [item.number for item in items] == ["XYZ1234567", "ROL7654321", "NNW12345", "OCR0100200"]
    unknown, no_id, short, odd = items
    assert "series XYZ" in unknown.error and "not in TUZ SOBOL's series table" in unknown.error
    assert "without its contract id" in no_id.error and no_id.ref is None
    assert no_id.premium_gr == 200000
    assert "not a series of three letters and seven digits" in short.error
    # Unreadable preview values are left out; the detail page gives what is stored.
    assert odd.error is None
    assert odd.holder_name == "O'Reilly & Żurawski; DROP TABLE policies;-- Sp. z o.o."
    assert odd.issue_date is None and odd.premium_gr is None


def test_lookup_page():
    items, has_next = tuz.parse_list_page(page("list_lookup.html"))
    assert has_next is False
    assert items == [ListedPolicy(number="MIE0004521", insurer="TUZ", product="Dom & Ogród",
                                  holder_name='Kowalski & Syn "Łąka" s.c.', issue_date=date(2026, 11, 12),
                                  premium_gr=138900)]
    assert items[0].ref == "48177"


def test_generated_list_page_is_newest_first_with_ids():
    items, has_next = tuz.parse_list_page(page("list_generated_page1.html"))
    assert has_next is True
    assert len(items) == 25
    assert all(item.ref and item.error is None for item in items)
    keys = [(-item.issue_date.toordinal(), item.number) for item in items]
    assert keys == sorted(keys)
    items, has_next = tuz.parse_list_page(page("list_generated_page3.html"))
    assert has_next is False
    assert 0 < len(items) < 25


# -- one policy ------------------------------------------------------------------------------------


def test_motor_policy_of_a_person():
    policy = tuz.parse_policy(page("detail_kos_person.html"))
    assert policy.id == "TUZ:KOS1234567"
    assert (policy.number, policy.insurer, policy.source_app, policy.source_system) == ("KOS1234567", "TUZ", "tuz", None)
    assert (policy.product_line, policy.product, policy.status) == ("motor", "OC/AC Komfort", "Aktywna")
    assert (policy.issue_date, policy.start_date, policy.end_date) == (date(2026, 11, 14), date(2026, 11, 15), date(2027, 11, 14))
    assert policy.premium_gr == 123456
    assert policy.currency == "PLN"
    assert policy.holder == Client(kind="person", name="Kacper Szymański", pesel="01251459610", street="ul. Ogrodowa 7",
                                   postal_code="33-300", city="Nowy Sącz", phone="18 443 21 09", email=None)
    assert policy.holder.id == "PESEL:01251459610"
    assert policy.vehicle == Vehicle(registration="KNS12AB", vin="VF1RJA00567431885", make="Renault", model="Clio",
                                     production_year=2021)
    assert policy.vehicle.id == "VIN:VF1RJA00567431885"
    assert policy.coverages == (
        Coverage(code="OC", name="OC posiadaczy pojazdów", sum_insured_gr=None, premium_gr=79056),
        Coverage(code="AC", name="Autocasco", sum_insured_gr=3800000, premium_gr=44400),
    )
    assert policy.installments == (
        Installment(seq=1, due_date=date(2026, 11, 15), amount_gr=61728, paid=True),
        Installment(seq=2, due_date=date(2027, 5, 15), amount_gr=61728, paid=False),
    )
    assert sum(i.amount_gr for i in policy.installments) == policy.premium_gr
    assert sum(c.premium_gr for c in policy.coverages) == policy.premium_gr


def test_property_policy_of_a_company():
    policy = tuz.parse_policy(page("detail_mie_company.html"))
    assert policy.id == "TUZ:MIE0004521"  # leading zeros kept
    assert (policy.product_line, policy.product, policy.status) == ("property", "Dom & Ogród", "Rozwiązana")
    assert policy.premium_gr == 138900
    assert policy.holder == Client(kind="company", name='Kowalski & Syn "Łąka" s.c.', nip="7121991269",
                                   regon="347846917", street="Zalesie 14", postal_code="21-040", city="Zalesie",
                                   phone="+48 81 111 22 33", email="biuro@kowalski-syn.pl")
    assert policy.holder.id == "NIP:7121991269"
    assert policy.vehicle is None  # tab 3 holds Przedmiot and Lokalizacja, which are not stored
    assert policy.coverages == (
        Coverage(code="MUR", name="Mury i stałe elementy", sum_insured_gr=125000000, premium_gr=100000),
        Coverage(code="OCP", name=None, sum_insured_gr=5000000, premium_gr=38900),
    )
    assert policy.installments == (Installment(seq=1, due_date=date(2026, 11, 20), amount_gr=138900, paid=False),)


def test_travel_policy_of_a_company_without_identifiers():
    policy = tuz.parse_policy(page("detail_tur_company_no_ids.html"))
    assert (policy.number, policy.product_line, policy.product) == ("TUR0000012", "travel", "Podróże <Zagraniczne>")
    assert policy.status is None
    holder = policy.holder
    assert holder.name == "Sklep [bold red]Pod Lipą[/bold red] <Sokół> Sp. z o.o."
    assert (holder.nip, holder.regon, holder.pesel, holder.phone, holder.email) == (None, None, None, None, None)
    assert holder.id.startswith("HASH:")
    assert policy.coverages == (Coverage(code="KL", name="Koszty leczenia", sum_insured_gr=20000000, premium_gr=None),)


def test_vehicle_known_only_by_registration():
    policy = tuz.parse_policy(page("detail_kos_registration_only.html"))
    assert policy.vehicle == Vehicle(registration="KNS12AB", vin=None, make="Renault", model="Clio", production_year=None)
    assert policy.vehicle.id == "REG:KNS12AB"


def test_vehicle_without_vin_and_registration_is_not_stored():
    assert tuz.parse_policy(page("detail_kos_no_vehicle_ids.html")).vehicle is None


def test_unknown_series_is_a_policy_error():
    with pytest.raises(PolicyError, match="series XYZ, which is not in TUZ SOBOL's series table"):
        tuz.parse_policy(page("detail_unknown_series.html"))


@pytest.mark.parametrize(
    "name, message",
    [
        ("detail_truncated.html", "cut short"),
        ("detail_bad_amount.html", "not in the form 1 234,56 zł"),
        ("detail_missing_holder_name.html", "no field 'Imię i nazwisko'"),
        ("list_spec.html", "no panel 'Dane polisy'"),
        ("error_500.html", "no panel"),
    ],
)
def test_malformed_policy_pages(name, message):
    with pytest.raises(ParseError, match=message):
        tuz.parse_policy(page(name))


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("<span>Osoba fizyczna</span>", "<span>Rolnik</span>", "holder type 'Rolnik'"),
        ("<td>Zapłacona</td>", "<td>Częściowo</td>", "installment status 'Częściowo'"),
        ("<span>2026-11-15</span>", "<span>15.11.2026</span>", "not in the form YYYY-MM-DD"),
        ("<span>2021</span>", "<span>b.d.</span>", "production year 'b.d.'"),
        ('aria-labelledby="ui-id-4"', 'aria-labelledby="ui-id-9"', "no panel 'Raty'"),
        ('<tbody><tr><td>1</td><td>2026-11-15</td><td>617,28 zł</td><td>Zapłacona</td></tr><tr><td>2</td><td>2027-05-15</td>'
         '<td>617,28 zł</td><td>Niezapłacona</td></tr></tbody>', "<tbody></tbody>", "installments table .* no rows"),
        ('<table class="risks">', '<table class="ryzyka">', "no risks table"),
        ("<span>1234567</span>", "<span>12345</span>", "not a series and seven digits"),
        ("<label>Składka łączna</label><span>1&nbsp;234,56 zł</span>", "<label>Składka łączna</label><span></span>",
         "'Składka łączna' .* is empty"),
    ],
)
def test_broken_fields_are_parse_errors(old, new, message):
    html = page("detail_kos_person.html")
    assert old in html
    with pytest.raises(ParseError, match=message):
        tuz.parse_policy(html.replace(old, new))


def test_error_page_message():
    assert tuz.parse_error_page(page("error_500.html")) == "Wystąpił nieoczekiwany błąd. Spróbuj ponownie później."
    assert tuz.parse_error_page(page("error_404.html")) == "Nie znaleziono umowy."
    assert tuz.parse_error_page(page("list_spec.html")) is None


# -- the reader over the fixture portal, in-process -----------------------------------------------


def run(coro):
    return asyncio.run(coro)


async def collect(adapter, first, last):
    return [item async for item in adapter.list_policies(first, last)]


LIST = "/insured/contracts?date_from=2026-11-01&date_to=2026-11-16&page={}"
NOV1, NOV16 = date(2026, 11, 1), date(2026, 11, 16)


def test_list_policies_follows_next_until_it_is_gone():
    portal = TuzPortal(count=60)
    tab = PortalTab(portal)
    items = run(collect(tuz.TuzAdapter(tab), NOV1, NOV16))
    assert [item.number for item in items] == [p.number for p in portal.policies]
    assert tab.fetched == [LIST.format(1), LIST.format(2), LIST.format(3)]


def test_list_policies_stops_on_the_login_page():
    tab = PortalTab(TuzPortal(count=60, expire_after=1))
    with pytest.raises(NotLoggedIn, match="session has expired"):
        run(collect(tuz.TuzAdapter(tab), NOV1, NOV16))
    assert len(tab.fetched) == 2


class ReversedRange(PortalTab):
    """Sends the window's ends swapped, so the app refuses the range."""

    async def fetch(self, url, **options):
        return await super().fetch(url.replace("date_from=2026-11-01", "date_from=2026-11-17"), **options)


def test_list_policies_refused_range_stops_the_import():
    with pytest.raises(EnvironmentProblem, match="Nieprawidłowy zakres dat."):
        run(collect(tuz.TuzAdapter(ReversedRange(TuzPortal(count=5))), NOV1, NOV16))


def test_lookup_and_read():
    portal = TuzPortal(count=10)
    fake = portal.policies[4]
    adapter = tuz.TuzAdapter(PortalTab(portal))
    (item,) = run(adapter.lookup(fake.number))
    assert item.ref == fake.extra["tuz"].data_id
    policy = run(adapter.read_policy(item))
    assert policy.id == f"TUZ:{fake.number}"


def test_lookup_not_found():
    portal = TuzPortal(count=10)
    assert "KOS7654321" not in portal.by_number
    with pytest.raises(PolicyNotFound, match="no policy with the number KOS7654321"):
        run(tuz.TuzAdapter(PortalTab(portal)).lookup("KOS7654321"))


def item_with(ref: str, number: str = "KOS1234567") -> ListedPolicy:
    return ListedPolicy(number=number, insurer="TUZ", ref=ref)


@pytest.mark.parametrize(
    "fault, error, message",
    [
        ("fail", PolicyError, r"failed to show policy \S+ \(HTTP 500\) with the message: Wystąpił nieoczekiwany błąd"),
        ("missing", PolicyNotFound, "Nie znaleziono umowy."),
        ("expired", NotLoggedIn, "session has expired"),
        ("garbage", ParseError, "cut short"),
        ("other", ParseError, r"shows the policy \S+ instead"),
    ],
)
def test_read_policy_answers(fault, error, message):
    portal = TuzPortal(count=5)
    fake, other = portal.policies[:2]
    tab = PortalTab(portal)
    item = item_with(fake.extra["tuz"].data_id, fake.number)
    if fault in ("fail", "garbage"):
        setattr(portal, fault, {fake.number})
    elif fault == "missing":
        item = item_with("1", fake.number)
    elif fault == "expired":
        portal.expire_all()
    else:
        item = item_with(other.extra["tuz"].data_id, fake.number)
    with pytest.raises(error, match=message):
        run(tuz.TuzAdapter(tab).read_policy(item))


def test_detail_id_is_quoted():
    tab = PortalTab(TuzPortal(count=5))
    with pytest.raises(PolicyNotFound):
        run(tuz.TuzAdapter(tab).read_policy(item_with("a/b?1")))
    assert tab.fetched == ["/insured/contracts/a%2Fb%3F1"]


def test_context_reads_the_tab():
    assert run(tuz.TuzAdapter(PortalTab(TuzPortal(count=1))).context()).user == "Jan Kowalski"


# -- the portal and the parse functions agree on every generated policy ---------------------------


def test_every_generated_policy_round_trips():
    portal = TuzPortal(seed=1)
    client = WsgiClient(portal._wsgi)
    client.post("/login", data={"user_login": "a", "user_password": "b"})
    listed = []
    for number in range(1, 10):
        items, has_next = tuz.parse_list_page(client.get(LIST.format(number)).get_data(as_text=True))
        listed += items
        if not has_next:
            break
    assert [item.number for item in listed] == [p.number for p in portal.policies]
    for item, fake in zip(listed, portal.policies):
        policy = tuz.parse_policy(client.get(f"/insured/contracts/{item.ref}").get_data(as_text=True))
        assert policy.number == fake.number
        assert policy.product == fake.product and policy.status == fake.status
        assert policy.product_line == fake.line
        assert (policy.issue_date, policy.start_date, policy.end_date) == (fake.issue_date, fake.start_date, fake.end_date)
        assert policy.premium_gr == fake.premium_gr == item.premium_gr
        assert policy.holder.name == fake.holder.name and policy.holder.kind == fake.holder.kind
        assert (policy.holder.pesel, policy.holder.nip, policy.holder.regon) == (fake.holder.pesel, fake.holder.nip, fake.holder.regon)
        assert (policy.holder.street, policy.holder.city, policy.holder.email) == (fake.holder.street, fake.holder.city, fake.holder.email)
        assert [(i.seq, i.due_date, i.amount_gr, i.paid) for i in policy.installments] == [
            (i.seq, i.due_date, i.amount_gr, i.paid) for i in fake.installments
        ]
        assert [(c.code, c.sum_insured_gr, c.premium_gr) for c in policy.coverages] == [
            (c.code, c.sum_insured_gr, c.premium_gr) for c in fake.coverages
        ]
        if fake.vehicle is None:
            assert policy.vehicle is None
        else:
            assert policy.vehicle.vin == fake.vehicle.vin
            assert policy.vehicle.registration == fake.vehicle.registration.replace(" ", "").upper()
            assert policy.vehicle.production_year == fake.vehicle.year


# -- the fixture portal keeps to tuz.md (it also checks other implementations of the adapter) -----


def portal_client(**options) -> tuple[TuzPortal, WsgiClient]:
    portal = TuzPortal(**options)
    client = WsgiClient(portal._wsgi)
    response = client.post("/login", data={"user_login": "agent", "user_password": "x"})
    assert (response.status_code, response.headers["Location"]) == (302, "/insured/contracts")
    return portal, client


def test_portal_login_form_and_refusals():
    portal = TuzPortal(count=3)
    client = WsgiClient(portal._wsgi)
    login_page = client.get("/login").get_data(as_text=True)
    assert '<form id="login-form" method="post" action="/login">' in login_page
    assert 'name="user_login"' in login_page and 'name="user_password"' in login_page
    assert client.post("/login", data={"user_login": "agent", "user_password": ""}).status_code == 200
    for path in ("/insured/contracts", LIST.format(1), "/insured/contracts/1", "/anything"):
        response = client.get(path)
        assert (response.status_code, response.headers["Location"]) == (302, "/login")


def test_portal_pages_and_order():
    portal, client = portal_client()
    landing = client.get("/insured/contracts").get_data(as_text=True)
    assert 'id="user-panel"' in landing and "alert-danger" not in landing
    pages = [client.get(LIST.format(n)).get_data(as_text=True) for n in (1, 2, 3, 4)]
    assert [p.count("data-id=") for p in pages] == [25, 25, 10, 0]
    assert ['class="next"' in p for p in pages] == [True, True, False, False]
    assert ['class="pagination"' in p for p in pages] == [True, True, True, False]
    assert '<tr class="no-results"><td colspan="7">Brak umów spełniających kryteria.</td></tr>' in pages[3]
    assert "&nbsp;" in pages[0] and "\u00a0" in pages[0]  # both spellings of U+00A0
    keys = [(-p.issue_date.toordinal(), p.number) for p in portal.policies]
    assert keys == sorted(keys)


def test_portal_refuses_bad_ranges():
    _, client = portal_client(count=3)
    for query in ("date_from=2026-11-01", "date_from=2026-11-16&date_to=2026-11-01", "date_from=1.11.2026&date_to=2026-11-16",
                  "page=1", "date_from=2026-02-30&date_to=2026-11-16"):
        text = client.get(f"/insured/contracts?{query}").get_data(as_text=True)
        assert '<div class="alert alert-danger">Nieprawidłowy zakres dat.</div>' in text
        assert 'id="contracts"' not in text


def test_portal_lookup_detail_and_errors():
    portal, client = portal_client(count=10)
    fake = portal.policies[4]
    data_id = fake.extra["tuz"].data_id
    text = client.get(f"/insured/contracts?number={fake.number}").get_data(as_text=True)
    assert text.count("data-id=") == 1 and f'data-id="{data_id}"' in text
    assert "data-id=" not in client.get(f"/insured/contracts?number={fake.number.lower()}").get_data(as_text=True)
    missing = client.get("/insured/contracts/1")
    assert missing.status_code == 404
    assert "<h1>Błąd 404</h1>" in missing.get_data(as_text=True) and "Nie znaleziono umowy." in missing.get_data(as_text=True)
    portal.fail, portal.garbage = {fake.number}, {portal.policies[5].number}
    failed = client.get(f"/insured/contracts/{data_id}")
    assert failed.status_code == 500 and 'id="user-panel"' not in failed.get_data(as_text=True)
    assert tuz.parse_error_page(failed.get_data(as_text=True)) == "Wystąpił nieoczekiwany błąd. Spróbuj ponownie później."
    cut = client.get(f"/insured/contracts/{portal.policies[5].extra['tuz'].data_id}").get_data(as_text=True)
    assert "</html>" not in cut
    with pytest.raises(ParseError):
        tuz.parse_policy(cut)


def test_portal_session_expires_after_data_requests():
    portal, client = portal_client(count=30, expire_after=2)
    assert client.get("/insured/contracts").status_code == 200  # the landing page is not a data request
    assert client.get(LIST.format(1)).status_code == 200
    assert client.get(LIST.format(2)).status_code == 200
    response = client.get(LIST.format(1))
    assert (response.status_code, response.headers["Location"]) == (302, "/login")
    assert client.get("/insured/contracts").headers["Location"] == "/login"


def test_portal_unknown_series_option():
    portal = TuzPortal(count=5, unknown_series=("XYZ",))
    assert len(portal.policies) == 6
    assert sum(p.number.startswith("XYZ") for p in portal.policies) == 1
