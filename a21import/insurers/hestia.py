"""Ergo Hestia iHestia / iPegaz (docs/portals/hestia.md): server-rendered HTML, no JavaScript.

The identity (ERGO Hestia, MTU, YCD) belongs to the session and is shown in the page header;
it is read from the tab, re-checked on every fetched page, and never switched by us.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date
from typing import Any

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from a21import.errors import (BadInput, EnvironmentProblem, NotLoggedIn, PageChanged, ParseError, PolicyError,
                              PolicyNotFound, WrongIdentity)
from a21import.formats import (empty_to_none, fmt_pl_date, optional_pl_amount_to_gr, pl_amount_to_gr,
                               pl_date, split_address)
from a21import.i18n import N_, _
from a21import.insurers import fields
from a21import.insurers.base import Adapter, FetchResponse
from a21import.insurers.html import row_readers, row_values
from a21import.model import AppContext, Client, Coverage, Installment, ListedPolicy, Policy, Vehicle, agent_id

HOST = "ihestia.ergohestia.pl"
SEARCH_PATH = "/polisy/szukaj"
POLICY_PATH = "/polisa/{number}"
INSTALLMENTS_PATH = "/polisa/{number}/raty"
LOGIN_PATH = "/login"

IDENTITIES = {"ERGO Hestia": "ERGO_HESTIA", "MTU": "MTU", "YCD": "YCD"}
IDENTITY_LABELS = {code: label for label, code in IDENTITIES.items()}
SYSTEMS = {"iHestia": "IHESTIA", "Jupiter": "JUPITER", "HestiaBiznes": "HESTIABIZNES", "iPegaz": "IPEGAZ"}
SEARCH_SYSTEMS = {"ihestia": "IHESTIA", "ipegaz": "IPEGAZ"}
NUMBER_FORMATS = {
    "ERGO_HESTIA": re.compile(r"^(909|911|460)\d{9}$"),
    "MTU": re.compile(r"^71\d{8}$"),
    "YCD": re.compile(r"^YCD\d{8}$"),
}
PRODUCT_LINES = {
    "Auto Pakiet": "motor", "OC Komunikacyjne": "motor", "MTU Auto": "motor", "YCD Auto": "motor",
    "ERGO 4": "property", "Dom i Mieszkanie": "property", "MTU Dom": "property", "Biznes Pakiet": "property",
    "Rolnik Pakiet": "property", "Bezpieczne Podróże": "travel", "MTU Podróże": "travel",
    "NNW Szkolne": "other", "OC w Życiu Prywatnym": "other",
}
LIST_COLUMNS = ("Numer polisy", "System", "Produkt", "Ubezpieczający", "Data wystawienia", "Składka łączna", "Status")
INSTALLMENT_COLUMNS = ("Nr raty", "Termin płatności", "Kwota", "Zapłacono")
TITLE = "Ergo Hestia iHestia"
PAGE_COUNT = re.compile(r"^Strona (\d+) z (\d+)$")
PERSON, COMPANY = "Osoba fizyczna", "Firma"


# A label the spec names that is absent means the page changed (PageChanged); an empty value is data.
HESTIA = fields.App(TITLE, amount=pl_amount_to_gr, optional_amount=optional_pl_amount_to_gr, date=pl_date,
                    absent=N_("The {block} has no value for {field!r}."))
CLIENT_LABELS = {"phone": "Telefon", "email": "E-mail"}
PERSON_LABELS = {**CLIENT_LABELS, "pesel": fields.digits_at("PESEL")}
COMPANY_LABELS = {**CLIENT_LABELS, "nip": fields.digits_at("NIP"), "regon": fields.digits_at("REGON")}
VEHICLE_LABELS = {"registration": "Numer rejestracyjny", "vin": "VIN", "make": "Marka", "model": "Model",
                  "production_year": lambda r: _year(r.optional_text("Rok produkcji"))}
RISK_LABELS = {"code": "Kod", "name": "Nazwa", "sum_insured_gr": "Suma ubezpieczenia", "premium_gr": "Składka"}
PAID = {"tak": True, "nie": False}
INSTALLMENT_LABELS = {"seq": lambda r: r.convert("Nr raty", fields.whole_text), "due_date": "Termin płatności",
                      "amount_gr": "Kwota", "paid": lambda r: r.choice("Zapłacono", PAID)}
POLICY_LABELS = {"status": "Status", "issue_date": "Data wystawienia", "premium_gr": "Składka łączna"}


# -- pure parse functions ---------------------------------------------------------------------------
def _text(node: Node | None) -> str | None:
    """A cell's text (entities decoded, U+00A0 kept inside), None for an empty cell."""
    if node is None:
        return None
    return empty_to_none(node.text(deep=True))


def _year(text: str | None) -> int | None:
    if text is None:
        return None
    if not re.fullmatch(r"\d{4}", text):
        raise ParseError(_("The production year {year!r} is not a year.").format(year=text))
    return int(text)


def page_identity(tree: HTMLParser) -> str | None:
    """The identity label in the header, or None when the page is not a logged-in page."""
    node = tree.css_first("#naglowek #tozsamosc")
    return None if node is None else node.text(deep=True).strip()


def parse_header(html: str) -> tuple[str | None, str | None]:
    """(identity label, agent number) of a page; identity None when not logged in."""
    tree = HTMLParser(html)
    return page_identity(tree), _text(tree.css_first("#nrAgenta"))


def labelled(table: Node | None) -> dict[str, str | None]:
    """Rows `<tr><th>label</th><td>value</td></tr>` of a `table.dane`, by label."""
    return {} if table is None else row_values(table, _text)


def parse_search_page(html: str, insurer: str) -> tuple[list[ListedPolicy], int, int]:
    """A result page → (rows, current page, last page). No results → ([], 1, 0).
    A validation message of the app raises EnvironmentProblem (our request was refused)."""
    tree = HTMLParser(html)
    refused = tree.css_first("div.komunikat.walidacja")
    if refused is not None:
        raise EnvironmentProblem(_("iHestia refused the search: {message}").format(
            message=refused.text(deep=True).strip()))
    table = tree.css_first("table#wyniki")
    if table is None:
        if tree.css_first("#brakWynikow") is not None:
            return [], 1, 0
        raise PageChanged(_("The iHestia search page has neither a result table nor a no-results message."),
                          app=TITLE, block="table#wyniki", missing="table#wyniki")
    rows = row_readers(HESTIA, table, LIST_COLUMNS, what=_("its result table"), block=N_("result row {position}"),
                       text=_text)
    counter = tree.css_first("div.pager span.strony")
    match = PAGE_COUNT.match(counter.text(deep=True).strip()) if counter is not None else None
    current, last = (int(match.group(1)), int(match.group(2))) if match else (1, 1)
    items = []
    for r in rows:
        items.append(ListedPolicy(
            number=r.text("Numer polisy"),
            insurer=insurer,
            product=r.optional_text("Produkt"),
            holder_name=r.optional_text("Ubezpieczający"),
            issue_date=r.date("Data wystawienia"),
            premium_gr=r.amount("Składka łączna"),
        ))
    return items, current, last


def page_error(tree: HTMLParser, number: str) -> None:
    """Raises for the app's per-policy messages: not found, or the back end failed."""
    if tree.css_first("#brakPolisy") is not None:
        raise PolicyNotFound(_("iHestia does not find the policy {number} under the current identity.").format(
            number=number))
    failure = tree.css_first("#bladSystemu")
    if failure is not None:
        raise PolicyError(_("iHestia reported a system error for this policy: {message}").format(
            message=failure.text(deep=True).strip()))


def parse_client(values: dict[str, str | None]) -> Client:
    r = HESTIA.read(_("policyholder table"), values)
    kind = r.text("Rodzaj")
    street, postal_code, city = split_address(r.optional_text("Adres"))
    address = {"street": street, "postal_code": postal_code, "city": city}
    if kind == PERSON:
        return fields.build_client(r, PERSON_LABELS, kind="person", name=r.text("Imię i nazwisko"), **address)
    if kind == COMPANY:
        return fields.build_client(r, COMPANY_LABELS, kind="company", name=r.text("Nazwa"), **address)
    raise ParseError(_("The policyholder kind {kind!r} is neither {person!r} nor {company!r}.").format(
        kind=kind, person=PERSON, company=COMPANY))


def parse_vehicle(values: dict[str, str | None]) -> Vehicle | None:
    return fields.build_vehicle(HESTIA.read(_("vehicle table"), values), VEHICLE_LABELS)


def parse_coverages(table: Node | None) -> tuple[Coverage, ...]:
    if table is None:
        raise ParseError(_("The policy page has no table of risks."))
    rows = row_readers(HESTIA, table, tuple(RISK_LABELS.values()), what=_("its table of risks"), block=N_("risk {position}"),
                       text=_text)
    coverages = fields.build_coverages(rows, RISK_LABELS)
    if not coverages:
        raise ParseError(_("The table of risks is empty."))
    return coverages


def parse_policy_page(html: str, number: str, insurer: str) -> Policy:
    """The policy page → Policy without installments (they come from their own page)."""
    tree = HTMLParser(html)
    page_error(tree, number)
    data = labelled(tree.css_first("table#danePolisy"))
    if not data:
        raise PageChanged(_("The policy page has no policy data table (it may be cut short)."),
                          app=TITLE, block="table#danePolisy", missing="table#danePolisy")
    r = HESTIA.read(_("policy data table"), data)
    shown = r.text("Numer polisy")
    if shown != number:
        raise ParseError(_("The policy page shows the number {shown}, not {number}.").format(
            shown=shown, number=number))
    system_label = r.text("System")
    if system_label not in SYSTEMS:
        raise ParseError(_("The system {system!r} of the policy is not one iHestia is known to have.").format(
            system=system_label))
    product = r.text("Produkt")
    if product not in PRODUCT_LINES:
        raise ParseError(_("The product {product!r} is not in the list of Ergo Hestia products.").format(
            product=product))
    period = r.text("Okres ubezpieczenia")
    start_text, sep, end_text = period.partition(" - ")
    if not sep:
        raise ParseError(_("The period of cover {period!r} is not in the form dd.mm.yyyy - dd.mm.yyyy.").format(
            period=period))
    holder_values = labelled(tree.css_first("table#ubezpieczajacy"))
    if not holder_values:
        raise PageChanged(_("The policy page has no policyholder table."), app=TITLE, block="table#ubezpieczajacy",
                          missing="table#ubezpieczajacy")
    vehicle_table = tree.css_first("table#pojazd")
    return fields.build_policy(
        r, POLICY_LABELS, number=number, insurer=insurer, source_app="hestia", source_system=SYSTEMS[system_label],
        product_line=PRODUCT_LINES[product], product=product,
        start_date=lambda: pl_date(start_text), end_date=lambda: pl_date(end_text),
        holder=lambda: parse_client(holder_values),
        vehicle=lambda: parse_vehicle(labelled(vehicle_table)) if vehicle_table is not None else None,
        coverages=lambda: parse_coverages(tree.css_first("table#ryzyka")),
    )


def parse_installments_page(html: str, number: str) -> tuple[Installment, ...]:
    tree = HTMLParser(html)
    page_error(tree, number)
    table = tree.css_first("table#raty")
    if table is None:
        raise PageChanged(_("The installments page has no installments table."), app=TITLE, block="table#raty",
                          missing="table#raty")
    rows = row_readers(HESTIA, table, INSTALLMENT_COLUMNS, what=_("its installments table"),
                       block=N_("installment {position}"), text=_text)
    installments = fields.build_installments(rows, INSTALLMENT_LABELS, first=None)
    if not installments:
        raise ParseError(_("The installments table is empty."))
    return installments


# -- the reader -------------------------------------------------------------------------------------
class HestiaAdapter(Adapter):
    app_id = "hestia"
    title = TITLE
    hosts = (HOST,)
    sources = {"ihestia": N_("iHestia (with Jupiter and HestiaBiznes)"), "ipegaz": "iPegaz"}
    period_needs_source = True
    identities = tuple(NUMBER_FORMATS)

    def __init__(self, tab: Any, source: str | None = None):
        super().__init__(tab, source)
        self.identity: str | None = None

    @classmethod
    def refresh_target(cls, source_system: str | None, insurer: str) -> tuple[str | None, str | None]:
        # A look-up by number finds the policy whatever its system; only the identity matters.
        return None, insurer if insurer in NUMBER_FORMATS else None

    def switch_instruction(self, expected: str, actual: str | None) -> str:
        if actual is None:
            message = _("The iHestia tab shows the identity unknown, but this needs {expected}. "
                        "In iHestia, choose {expected} in the identity list at the top of the page "
                        "(next to your agent number) and confirm it.")
        else:
            message = _("The iHestia tab shows the identity {actual}, but this needs {expected}. "
                        "In iHestia, choose {expected} in the identity list at the top of the page "
                        "(next to your agent number) and confirm it.")
        return message.format(actual=actual, expected=IDENTITY_LABELS[expected])

    async def context(self) -> AppContext:
        label, agent = parse_header(await self.tab.html())
        if label is None:
            raise NotLoggedIn(_("The iHestia tab is not logged in. Log in to iHestia in that tab and run the command "
                                "again."))
        if label not in IDENTITIES:
            raise EnvironmentProblem(_("The iHestia header shows the identity {identity!r}, which a21import does not "
                                       "know.").format(identity=label))
        self.identity = IDENTITIES[label]
        system = _(self.sources[self.source]) if self.source in self.sources else None
        if agent and system:
            description = _("iHestia is logged in as agent {agent} with the identity {identity}, system {system}.")
        elif agent:
            description = _("iHestia is logged in as agent {agent} with the identity {identity}.")
        elif system:
            description = _("iHestia is logged in as agent unknown with the identity {identity}, system {system}.")
        else:
            description = _("iHestia is logged in as agent unknown with the identity {identity}.")
        return AppContext(
            app_id=self.app_id,
            user=agent,
            description=description.format(agent=agent, identity=label, system=system),
            identity=self.identity,
            identity_label=label,
            agent=agent_id(self.app_id, agent),  # `#nrAgenta`
        )

    def check_number(self, number: str) -> str:
        owner = next((code for code, pattern in NUMBER_FORMATS.items() if pattern.match(number)), None)
        if owner is None:
            raise BadInput(_(
                "{number!r} is not an Ergo Hestia policy number. ERGO Hestia numbers are 909, 911 or 460 and 9 "
                "digits, MTU numbers 71 and 8 digits, YCD numbers YCD and 8 digits."
            ).format(number=number))
        if self.identity is not None and owner != self.identity:
            raise WrongIdentity(
                _("The policy {number} belongs to {identity}.").format(number=number, identity=IDENTITY_LABELS[owner])
                + " " + self.switch_instruction(owner, IDENTITY_LABELS[self.identity]),
                expected=owner, actual=self.identity,
            )
        return number

    async def _get(self, path: str) -> str:
        """Fetches a page in the tab and checks session and identity; returns its HTML."""
        response: FetchResponse = await self.fetch(path)
        tree = HTMLParser(response.text)
        label = page_identity(tree)
        if response.path == LOGIN_PATH or label is None:
            if response.path == LOGIN_PATH or tree.css_first("form#loginForm") is not None:
                raise NotLoggedIn(_("The iHestia session has expired. Log in to iHestia again in the same tab and "
                                    "run the command again; the policies imported so far are kept."))
            raise PageChanged(_("iHestia answered {path} with a page that is not an iHestia page "
                                "(it may be cut short).").format(path=response.path), app=TITLE, block="#naglowek",
                              missing="#tozsamosc", path=response.path)
        if IDENTITIES.get(label) != self.identity:
            raise WrongIdentity(
                _("The identity in iHestia changed from {before} to {after} during the import. Switch back in the "
                  "iHestia header and run the command again; the policies imported so far are kept.").format(
                    before=IDENTITY_LABELS.get(self.identity or "", "?"), after=label),
                expected=self.identity, actual=IDENTITIES.get(label),
            )
        return response.text

    async def list_policies(self, date_from: date, date_to: date) -> AsyncIterator[ListedPolicy]:
        if self.source not in SEARCH_SYSTEMS:
            raise BadInput(_("Listing iHestia policies needs the system: --source ihestia or --source ipegaz."))
        guard = self.pages()
        page, last = 1, 1
        while page <= last:
            html = await self._get(self.query(SEARCH_PATH, {
                "system": SEARCH_SYSTEMS[self.source], "dataOd": fmt_pl_date(date_from),
                "dataDo": fmt_pl_date(date_to), "strona": page}))
            items, _current, last = parse_search_page(html, self.identity or "")
            for item in items:
                yield item
            if page < last:
                guard.more(items)
            page += 1

    async def lookup(self, number: str) -> list[ListedPolicy]:
        # Also reached with a stored number (refresh), which came from an answer: checked, not trusted.
        number = self.listed_number(number, NUMBER_FORMATS.values())
        page = await self._get(self.path(POLICY_PATH, number=number))
        policy = parse_policy_page(page, number, self.identity or "")
        return [ListedPolicy(number=number, insurer=policy.insurer, product=policy.product,
                             holder_name=policy.holder.name, issue_date=policy.issue_date,
                             premium_gr=policy.premium_gr, ref=policy)]

    async def read_policy(self, item: ListedPolicy) -> Policy:
        number = self.listed_number(item.number, NUMBER_FORMATS.values())
        policy = item.ref
        if not isinstance(policy, Policy):
            page = await self._get(self.path(POLICY_PATH, number=number))
            policy = parse_policy_page(page, number, self.identity or "")
        page = await self._get(self.path(INSTALLMENTS_PATH, number=number))
        return replace(policy, installments=parse_installments_page(page, item.number))
