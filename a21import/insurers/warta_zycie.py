"""Warta ePlatforma, section Życie (TUnŻ Warta) — docs/portals/warta.md, "ZYCIE".

Server-rendered HTML: values in `dl` label/value lists, 20 rows a list page with `a.nastepna`,
the insured person in `dl#ubezpieczony`. Amounts are Polish text ("1 234,56 zł"), dates dd.mm.yyyy.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import TYPE_CHECKING, Any

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from a21import.errors import EnvironmentProblem, NoRights, PageChanged, ParseError, PolicyError, PolicyNotFound
from a21import.formats import digits_or_none, fmt_pl_date, optional_pl_amount_to_gr, pl_amount_to_gr, pl_date
from a21import.i18n import N_, _
from a21import.insurers import fields
from a21import.insurers.base import SectionReader
from a21import.insurers.html import dl_values, row_readers
from a21import.insurers.warta_sections import APP_ID, CURRENCY
from a21import.insurers.warta_sections import ZYCIE as SECTION_INFO
from a21import.model import Client, Coverage, Installment, ListedPolicy, Policy

if TYPE_CHECKING:
    from a21import.insurers.base import FetchResponse

# The section (warta_sections.py) as its messages and rows name it.
APP_NAME, SECTION_DESCRIPTION, INSURER = SECTION_INFO.app_name, SECTION_INFO.description, SECTION_INFO.insurer

LIST_PATH = "/polisy/lista"
POLICY_PATH = "/polisa"
INSTALLMENTS_PATH = "/polisa/raty"
LOGIN_PATH = "/login"
LOGIN_FORM = "form#eplatforma-login"
USER = "#uzytkownik"
NO_RIGHTS = "h1.brak-uprawnien"
BACKEND_MESSAGE = "#komunikatBledu"
MESSAGE = "p.komunikat"
NO_POLICIES = "p.brak"
NEXT_PAGE = "a.nastepna"
NOT_FOUND_TEXT = "Nie znaleziono polisy"

LIST_TABLE = "table#listaPolis"
COL_NUMBER = "Numer polisy"
COL_PRODUCT = "Produkt"
COL_HOLDER = "Ubezpieczający"
COL_INSURED = "Ubezpieczony"
COL_ISSUED = "Data wystawienia"
COL_ANNUAL = "Składka roczna"
COL_STATUS = "Status"
LIST_COLUMNS = (COL_NUMBER, COL_PRODUCT, COL_HOLDER, COL_INSURED, COL_ISSUED, COL_ANNUAL, COL_STATUS)

DL_POLICY = "dl#polisa"
DL_HOLDER = "dl#ubezpieczajacy"
DL_INSURED = "dl#ubezpieczony"
LBL_NUMBER = "Numer polisy"
LBL_KIND = "Rodzaj"
LBL_PERSON_NAME = "Imię i nazwisko"
LBL_PESEL = "PESEL"

RISKS_TABLE = "table#ryzyka"
RISK_KEYS = {"code": "Kod", "name": "Ryzyko", "sum_insured_gr": "Suma ubezpieczenia", "premium_gr": "Składka"}
INSTALLMENTS_TABLE = "table#raty"
INST_SEQ, INST_DUE, INST_AMOUNT, INST_STATUS = "Lp.", "Termin", "Kwota", "Status"
PAID = {"Opłacona": True, "Nieopłacona": False}
INSTALLMENT_KEYS = {"seq": lambda r: r.convert(INST_SEQ, fields.whole_text), "due_date": INST_DUE,
                    "amount_gr": INST_AMOUNT, "paid": lambda r: r.choice(INST_STATUS, PAID)}


ADDRESS_LABELS = {"street": "Ulica", "postal_code": "Kod pocztowy", "city": "Miejscowość", "phone": "Telefon",
                  "email": "E-mail"}
PERSON_LABELS = {**ADDRESS_LABELS, "pesel": fields.digits_at(LBL_PESEL)}
COMPANY_LABELS = {**ADDRESS_LABELS, "nip": fields.digits_at("NIP"), "regon": fields.digits_at("REGON")}
# `Rodzaj` → who the policyholder is (a person named `Imię i nazwisko`, a company `Nazwa`).
PARTIES: dict[str, fields.Party] = {
    "Osoba fizyczna": ("person", PERSON_LABELS, lambda r: r.text(LBL_PERSON_NAME)),
    "Firma": ("company", COMPANY_LABELS, lambda r: r.text("Nazwa")),
}
# The yearly premium, not the per-installment `Składka` (warta.md).
POLICY_LABELS = {"product": "Produkt", "status": "Status", "issue_date": lambda r: r.parsed("Data wystawienia", pl_date),
                 "start_date": lambda r: r.parsed("Początek ochrony", pl_date),
                 "end_date": lambda r: r.parsed("Koniec ochrony", pl_date),
                 "premium_gr": lambda r: r.parsed("Składka roczna", pl_amount_to_gr)}

# The insured of a life policy is carried with these fields only, so writing them never blanks
# the address, phone and e-mail stored for the same person as a holder (DATABASE.md).
INSURED_FIELDS = frozenset({"kind", "name", "pesel"})

# A label the spec names that is absent means the page changed (PageChanged); an empty value is data.
EPLATFORMA = fields.App(APP_NAME, amount=pl_amount_to_gr, optional_amount=optional_pl_amount_to_gr, date=pl_date,
                        absent=fields.MISSING_LABEL)

NO_RIGHTS_MESSAGE = N_(
    "This agent has no access to TUnŻ (life) in ePlatforma, so there is nothing to import. "
    "Ask Warta for TUnŻ rights, or import property and motor policies with --source majatek from an eAgent tab."
)


def not_logged_in() -> Exception:
    return fields.not_logged_in(APP_NAME, SECTION_INFO.host)


# -- pure parse functions ----------------------------------------------------------------------------
def _tree(html: str) -> HTMLParser:
    return HTMLParser(html or "")


_WHITESPACE = re.compile(r"[ \t\r\n\f\v]+")  # not U+00A0: it groups the thousands of amounts


def _node_text(node: Node | None) -> str:
    return _WHITESPACE.sub(" ", node.text(deep=True) if node is not None else "").strip(" ")


def zycie_error(status: int, path: str, html: str, *, number: str | None = None) -> Exception | None:
    """The exception an ePlatforma page stands for (expired session, no rights, back-end failure,
    unknown policy), or None for a usable page."""
    tree = _tree(html)
    if path.rstrip("/") == LOGIN_PATH or tree.css_first(LOGIN_FORM) is not None:
        return not_logged_in()
    if tree.css_first(NO_RIGHTS) is not None:
        return NoRights(_(NO_RIGHTS_MESSAGE))
    failure = tree.css_first(BACKEND_MESSAGE)
    if status >= 500 or failure is not None:
        said = fields.app_said(_node_text(failure) if failure is not None else None)
        if number:
            return PolicyError(_("Warta ePlatforma could not give policy {number} (HTTP {status}).{said}").format(
                number=number, status=status, said=said))
        return EnvironmentProblem(_(
            "Warta ePlatforma failed to give the policy list (HTTP {status}).{said} Try again later."
        ).format(status=status, said=said))
    message = tree.css_first(MESSAGE)
    if number and message is not None and NOT_FOUND_TEXT in _node_text(message):
        return PolicyNotFound(_("Warta ePlatforma has no policy number {number}.{said}").format(
            number=number, said=fields.app_said(_node_text(message))))
    if status != 200:
        if number:
            return PolicyError(_("Warta ePlatforma answered HTTP {status} for policy {number}.").format(
                status=status, number=number))
        return EnvironmentProblem(
            _("Warta ePlatforma answered HTTP {status} for the policy list. Try again later.").format(status=status))
    return None


def parse_zycie_context(html: str) -> str:
    """An ePlatforma tab's DOM → the user's name. Raises NoRights or NotLoggedIn."""
    tree = _tree(html)
    if tree.css_first(NO_RIGHTS) is not None:
        raise NoRights(_(NO_RIGHTS_MESSAGE))
    user = tree.css_first(USER)
    if user is None:
        raise not_logged_in()
    return _node_text(user)


def _rows(table: Node, columns: tuple[str, ...], what: str, block: str) -> Iterator[fields.Reader]:
    return row_readers(EPLATFORMA, table, columns, what=what, block=block, text=_node_text)


def parse_zycie_list(html: str, status: int = 200, path: str = LIST_PATH) -> tuple[list[ListedPolicy], bool]:
    """One page of `/polisy/lista` → (rows, whether a next page exists)."""
    error = zycie_error(status, path, html)
    if error is not None:
        raise error
    tree = _tree(html)
    table = tree.css_first(LIST_TABLE)
    if table is None:
        if tree.css_first(NO_POLICIES) is not None:
            return [], False
        message = tree.css_first(MESSAGE)
        if message is not None:
            raise EnvironmentProblem(_("Warta ePlatforma refused the policy list.{said}").format(
                said=fields.app_said(_node_text(message))))
        raise ParseError(
            _("Warta ePlatforma sent a policy list page with neither a table of policies nor 'Brak polis.'."))
    rows = []
    for r in _rows(table, LIST_COLUMNS, _("a policy list"), N_("a policy list row")):
        number = r.text(COL_NUMBER)
        shown = {"number": number, "insurer": INSURER, "product": r.optional_text(COL_PRODUCT),
                 "holder_name": r.optional_text(COL_HOLDER), "ref": number}
        try:
            rows.append(ListedPolicy(**shown, issue_date=r.date(COL_ISSUED), premium_gr=r.amount(COL_ANNUAL)))
        except ParseError as exc:
            error = _("Policy {number} in the list: {reason}").format(number=number, reason=exc.reason)
            rows.append(ListedPolicy(**shown, error=error))
    return rows, tree.css_first(NEXT_PAGE) is not None


def labels(tree: HTMLParser, selector: str, what: str) -> dict[str, str | None]:
    """A `dl` label/value list → {dt label: dd text or None when empty}; `what` names it in messages."""
    dl = tree.css_first(selector)
    if dl is None:
        raise PageChanged(_("Warta ePlatforma sent a policy page without {what} ({selector}).").format(
            what=what, selector=selector), app=APP_NAME, block=what, missing=selector)
    return dl_values(dl, _node_text)


def parse_zycie_holder(values: dict[str, str | None]) -> Client:
    r = EPLATFORMA.read(_("a policyholder"), values)
    return fields.build_party(r, r.text(LBL_KIND), PARTIES, N_(
        "Warta ePlatforma sent the policyholder kind {kind!r}, which is neither '{person}' nor '{company}'."))


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def parse_zycie_insured(values: dict[str, str | None], holder: Client) -> Client:
    """`dl#ubezpieczony` → the insured person. Without a PESEL and with the person holder's name,
    the insured is the holder (warta.md): same id, no second client row."""
    r = EPLATFORMA.read(_("an insured person"), values)
    name, pesel = r.text(LBL_PERSON_NAME), digits_or_none(r.optional_text(LBL_PESEL))
    if pesel is None and holder.kind == "person" and _same_name(name, holder.name):
        return holder
    return Client(kind="person", name=name, pesel=pesel, carried=INSURED_FIELDS)


def _table(tree: HTMLParser, selector: str, what: str) -> Node:
    table = tree.css_first(selector)
    if table is None:
        raise ParseError(_("Warta ePlatforma sent a page without {what} ({selector}).").format(
            what=what, selector=selector))
    return table


def parse_zycie_risks(tree: HTMLParser) -> tuple[Coverage, ...]:
    what = _("a table of risks")
    rows = _rows(_table(tree, RISKS_TABLE, what), tuple(RISK_KEYS.values()), what, N_("risk {position}"))
    return fields.build_coverages(rows, RISK_KEYS)


def parse_zycie_installments(html: str) -> tuple[Installment, ...]:
    """`/polisa/raty` (already checked with `zycie_error`) → the installments of the policy year."""
    what = _("a table of installments")
    table = _table(_tree(html), INSTALLMENTS_TABLE, what)
    columns = (INST_SEQ, INST_DUE, INST_AMOUNT, INST_STATUS)
    result = fields.build_installments(_rows(table, columns, what, N_("installment {position}")), INSTALLMENT_KEYS,
                                       first=None)
    if not result:
        raise ParseError(_("Warta ePlatforma sent an installments table without a single installment."))
    return result


def parse_zycie_number(html: str) -> str:
    """The `Numer polisy` of a policy page (for a look-up by number)."""
    return EPLATFORMA.read(_("a policy"), labels(_tree(html), DL_POLICY, _("its policy data"))).text(LBL_NUMBER)


def parse_zycie_policy(detail_html: str, installments_html: str) -> Policy:
    """The policy page and the installments page of one life policy (both already checked with
    `zycie_error`) → Policy."""
    tree = _tree(detail_html)
    r = EPLATFORMA.read(_("a policy"), labels(tree, DL_POLICY, _("its policy data")))
    holder = parse_zycie_holder(labels(tree, DL_HOLDER, _("its policyholder")))
    insured = parse_zycie_insured(labels(tree, DL_INSURED, _("its insured person")), holder)
    return fields.build_policy(
        r, POLICY_LABELS, number=r.text(LBL_NUMBER), insurer=INSURER, source_app=APP_ID, source_system=SECTION_INFO.identity,
        product_line="life", currency=CURRENCY, holder=holder, insured=insured,
        installments=lambda: parse_zycie_installments(installments_html),
        coverages=lambda: parse_zycie_risks(tree),
    )


# -- the section's reader ----------------------------------------------------------------------------
class ZycieReader(SectionReader):
    """Reads the Życie section for the Warta adapter, whose fetches (paced, captured) it uses."""

    section = SECTION_INFO

    async def context(self) -> tuple[str, str]:
        """(user, description) of the logged-in tab."""
        user = parse_zycie_context(await self.adapter.tab.html())
        self.agent = user  # ePlatforma shows no agent number: the user's name in `#uzytkownik`
        return user, _("Logged in to {app} as {user}, section {section}.").format(
            app=APP_NAME, user=user, section=_(SECTION_DESCRIPTION))

    async def _page(self, path: str, *, number: str | None = None) -> FetchResponse:
        # ePlatforma's 503 is its documented failure of one policy, not a request to slow down.
        response = await self.adapter.fetch(path, throttle_503=False)
        error = zycie_error(response.status, response.path, response.text, number=number)
        if error is not None:
            raise error
        return response

    async def _list_page(self, date_from: date, date_to: date, page: int) -> FetchResponse:
        return await self._page(self.adapter.query(LIST_PATH, {
            "dataOd": fmt_pl_date(date_from), "dataDo": fmt_pl_date(date_to), "strona": page}))

    async def _detail(self, number: str) -> str:
        return (await self._page(self.adapter.query(POLICY_PATH, {"nr": number}), number=number)).text

    async def _installments(self, number: str) -> str:
        return (await self._page(self.adapter.query(INSTALLMENTS_PATH, {"nr": number}), number=number)).text

    async def list_policies(self, date_from: date, date_to: date) -> AsyncIterator[ListedPolicy]:
        guard = self.adapter.pages()
        page = 1
        while True:
            response = await self._list_page(date_from, date_to, page)
            rows, has_next = parse_zycie_list(response.text, response.status, response.path)
            for row in rows:
                yield row
            if not has_next or not rows:
                return
            guard.more(rows)
            page += 1

    async def lookup(self, number: str) -> list[ListedPolicy]:
        html = await self._detail(number)
        found = parse_zycie_number(html)
        return [ListedPolicy(number=found, insurer=INSURER, ref={"number": found, "detail": html})]

    async def read_policy(self, number: str, detail: Any) -> Policy:
        """`detail`: the page a look-up already read, else None (it is read now)."""
        if detail is None:
            detail = await self._detail(number)
        return parse_zycie_policy(detail, await self._installments(number))
