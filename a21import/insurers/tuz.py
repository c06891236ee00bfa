"""TUZ SOBOL (docs/portals/tuz.md): classic server-rendered HTML with jQuery UI tabs.

The list `/insured/contracts` is read page by page while `li.next` is present (newest first, so
dates never end the walk); one policy's page `/insured/contracts/{data-id}` holds all four tab
panels, hidden ones included, and is the only request per policy.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date
from typing import ClassVar

from selectolax.lexbor import LexborHTMLParser, LexborNode

from a21import.errors import BadInput, EnvironmentProblem, NotLoggedIn, PageChanged, ParseError, PolicyError, PolicyNotFound
from a21import.formats import iso_date, optional_pl_amount_to_gr, pl_amount_to_gr
from a21import.i18n import N_, _
from a21import.insurers import fields
from a21import.insurers.base import Adapter, FetchResponse
from a21import.insurers.html import Table, row_readers
from a21import.model import AppContext, Client, Coverage, Installment, ListedPolicy, Policy, agent_id

APP_ID = "tuz"
TITLE = "TUZ SOBOL"
HOST = "sobol-agencyjny.tuz.pl"
INSURER = "TUZ"
SOURCE_SYSTEM = None

LOGIN_PATH = "/login"
LIST_PATH = "/insured/contracts"
DETAIL_PATH = "/insured/contracts/{id}"

# The series is the product line (tuz.md, "Series"): the app has no others.
SERIES_LINES = {"KOS": "motor", "ROL": "property", "MIE": "property", "OCR": "other", "NNW": "other", "TUR": "travel"}
MOTOR_SERIES = "KOS"
NUMBER_FORMAT = re.compile(r"^[A-Z]{3}\d{7}$")
NUMER_FORMAT = re.compile(r"^\d{7}$")

# Page landmarks.
USER_PANEL = "#user-panel"
USER_NAME = "#user-panel .user-name"
LOGIN_FORM = "form#login-form"
ERROR_PAGE = "#error-page"
ERROR_MESSAGE = "#error-page .error-message"
LIST_TABLE = "table#contracts"
NO_RESULTS_ROW = "no-results"
DATE_ALERT = "div.alert.alert-danger"
NEXT_PAGE = "ul.pagination li.next"
PANEL = 'div.ui-tabs-panel[aria-labelledby="ui-id-{n}"]'
RISKS_TABLE = "table.risks"
INSTALLMENTS_TABLE = "table.installments"

# The four jQuery UI panels, by the number N of `ui-id-N`.
PANEL_POLICY, PANEL_HOLDER, PANEL_SUBJECT, PANEL_INSTALLMENTS = 1, 2, 3, 4
PANEL_NAMES = {1: "Dane polisy", 2: "Ubezpieczający", 3: "Przedmiot ubezpieczenia", 4: "Raty"}

# List columns.
COL_SERIES, COL_NUMER, COL_PRODUCT, COL_HOLDER = "Seria", "Numer", "Produkt", "Ubezpieczający"
COL_ISSUED, COL_PREMIUM, COL_STATUS = "Data wystawienia", "Składka", "Status"
LIST_COLUMNS = (COL_SERIES, COL_NUMER, COL_PRODUCT, COL_HOLDER, COL_ISSUED, COL_PREMIUM, COL_STATUS)

# Tab 1 labels.
F_SERIES, F_NUMER, F_PRODUCT, F_STATUS = "Seria", "Numer", "Produkt", "Status"
F_ISSUED, F_START, F_END, F_PREMIUM = "Data wystawienia", "Początek ochrony", "Koniec ochrony", "Składka łączna"
RISK_CODE, RISK_NAME, RISK_SUM, RISK_PREMIUM = "Kod", "Ryzyko", "Suma ubezpieczenia", "Składka"

# Tab 2 labels.
F_TYPE = "Typ"
TYPE_PERSON, TYPE_COMPANY = "Osoba fizyczna", "Podmiot"
F_PERSON_NAME, F_PESEL = "Imię i nazwisko", "PESEL"
F_COMPANY_NAME, F_NIP, F_REGON = "Nazwa", "NIP", "REGON"
F_STREET, F_POSTAL, F_CITY, F_PHONE, F_EMAIL = "Ulica", "Kod pocztowy", "Miejscowość", "Telefon", "E-mail"

# Tab 3 labels (series KOS only).
F_REGISTRATION, F_VIN, F_MAKE, F_MODEL, F_YEAR = "Nr rejestracyjny", "VIN", "Marka", "Model", "Rok produkcji"

# Tab 4 columns.
INST_SEQ, INST_DUE, INST_AMOUNT, INST_STATUS = "Lp.", "Termin płatności", "Kwota", "Status"
PAID, UNPAID = "Zapłacona", "Niezapłacona"

NOT_LOGGED_IN = N_("The TUZ SOBOL tab is not logged in. Log in to SOBOL in that tab and run the command again.")
ERROR_IN_TAB = N_(
    "The TUZ SOBOL tab shows an error page, not a page of the logged-in app. Open the contracts list in that "
    "tab, log in again if SOBOL asks, and run the command again."
)
SESSION_EXPIRED = N_(
    "The TUZ SOBOL session has expired: SOBOL answered with its login page. Log in to SOBOL in that tab and "
    "run the command again; the policies imported so far are kept."
)


# A panel's fields by label: a label the spec names that is absent means the page changed.
SOBOL = fields.App(TITLE, amount=pl_amount_to_gr, optional_amount=optional_pl_amount_to_gr, date=iso_date,
                   absent=N_("The panel {block!r} of the policy page has no field {field!r}."),
                   empty=N_("The field {field!r} in the panel {block!r} of the policy page is empty."))
# The rows of the risks and installments tables, by column label.
SOBOL_ROWS = fields.App(TITLE, amount=pl_amount_to_gr, optional_amount=optional_pl_amount_to_gr, date=iso_date)
ADDRESS_LABELS = {"street": F_STREET, "postal_code": F_POSTAL, "city": F_CITY, "phone": F_PHONE, "email": F_EMAIL}
PERSON_LABELS = {**ADDRESS_LABELS, "pesel": fields.digits_at(F_PESEL)}
COMPANY_LABELS = {**ADDRESS_LABELS, "nip": fields.digits_at(F_NIP), "regon": fields.digits_at(F_REGON)}
VEHICLE_LABELS = {"registration": F_REGISTRATION, "vin": F_VIN, "make": F_MAKE, "model": F_MODEL,
                  "production_year": lambda r: _year(r.optional_text(F_YEAR))}
RISK_LABELS = {"code": RISK_CODE, "name": RISK_NAME, "sum_insured_gr": RISK_SUM, "premium_gr": RISK_PREMIUM}
INSTALLMENT_LABELS = {"seq": lambda r: r.convert(INST_SEQ, fields.whole_text), "due_date": INST_DUE,
                      "amount_gr": INST_AMOUNT, "paid": lambda r: _paid(r.text(INST_STATUS))}
POLICY_LABELS = {"product": F_PRODUCT, "status": F_STATUS, "issue_date": lambda r: r.parsed(F_ISSUED, iso_date),
                 "start_date": lambda r: r.parsed(F_START, iso_date), "end_date": lambda r: r.parsed(F_END, iso_date),
                 "premium_gr": lambda r: r.parsed(F_PREMIUM, pl_amount_to_gr)}


# -- pure parse functions --------------------------------------------------------------------------


def _text(node: LexborNode | None) -> str:
    """The node's text as the user reads it (entities decoded, outer whitespace trimmed)."""
    return "" if node is None else node.text(deep=True).strip()


def _series_list() -> str:
    return ", ".join(SERIES_LINES)


def _unknown_series(number: str, series: str) -> str:
    return _(
        "The policy {number} has the series {series}, which is not in TUZ SOBOL's series table "
        "({series_list}), so its product line is unknown."
    ).format(number=number, series=series, series_list=_series_list())


def is_login_page(response: FetchResponse) -> bool:
    """The app's answer to an expired session: a redirect that ends on its login page."""
    if response.path.rstrip("/") == LOGIN_PATH:
        return True
    tree = LexborHTMLParser(response.text or "")
    return tree.css_first(LOGIN_FORM) is not None and tree.css_first(USER_PANEL) is None


def parse_context(html: str) -> AppContext:
    """The tab's own page: logged in when it has `#user-panel`, whose `.user-name` is the user."""
    tree = LexborHTMLParser(html or "")
    if tree.css_first(USER_PANEL) is None:
        if tree.css_first(ERROR_PAGE) is not None and tree.css_first(LOGIN_FORM) is None:
            raise NotLoggedIn(_(ERROR_IN_TAB))
        raise NotLoggedIn(_(NOT_LOGGED_IN))
    user = _text(tree.css_first(USER_NAME)) or None
    if user:
        description = _("Logged in to {app} as {user}.").format(app=TITLE, user=user)
    else:
        description = _("Logged in to {app}.").format(app=TITLE)
    # SOBOL shows no agent number: the agent is the user's name in `#user-panel .user-name`.
    return AppContext(app_id=APP_ID, user=user, description=description, agent=agent_id(APP_ID, user))


def parse_error_page(html: str) -> str | None:
    """The message of the app's error page (`Błąd 500`, `Błąd 404`), or None for any other page."""
    tree = LexborHTMLParser(html or "")
    if tree.css_first(ERROR_PAGE) is None:
        return None
    return _text(tree.css_first(ERROR_MESSAGE)) or _text(tree.css_first(f"{ERROR_PAGE} h1")) or None


def _listed_row(row: LexborNode, table: Table) -> ListedPolicy:
    cells = {column: _text(cell) for column, cell in table.values(row).items()}
    series, numer = cells[COL_SERIES], cells[COL_NUMER]
    number = series + numer
    data_id = (row.attributes.get("data-id") or "").strip()
    error = None
    if not NUMBER_FORMAT.match(number):
        error = _("The contracts list shows the number {number!r}, which is not a series of three letters and "
                  "seven digits.").format(number=number)
    elif series not in SERIES_LINES:
        error = _unknown_series(number, series)
    elif not data_id:
        error = _("The contracts list shows the policy {number} without its contract id (data-id), so it cannot "
                  "be opened.").format(number=number)
    # Shown only: the detail page gives the date and premium that are stored.
    issued = fields.lenient(lambda: iso_date(cells[COL_ISSUED]))
    premium = fields.lenient(lambda: pl_amount_to_gr(cells[COL_PREMIUM]))
    return ListedPolicy(
        number=number,
        insurer=INSURER,
        product=cells[COL_PRODUCT] or None,
        holder_name=cells[COL_HOLDER] or None,
        issue_date=issued,
        premium_gr=premium,
        error=error,
        ref=data_id or None,
    )


def _is_no_results_row(row: LexborNode) -> bool:
    """`tr.no-results`, or any row without data-id that is one wide cell (the same message)."""
    if NO_RESULTS_ROW in (row.attributes.get("class") or "").split():
        return True
    return row.attributes.get("data-id") is None and len(row.css("td")) == 1


def parse_list_page(html: str) -> tuple[list[ListedPolicy], bool]:
    """One page of `/insured/contracts` → its rows and whether `li.next` offers another page."""
    tree = LexborHTMLParser(html or "")
    table = tree.css_first(LIST_TABLE)
    if table is None:
        alert = _text(tree.css_first(DATE_ALERT))
        if alert:
            raise ParseError(_("TUZ SOBOL refused the contracts search with the message: {alert}").format(alert=alert))
        raise PageChanged(_("The contracts page of TUZ SOBOL has no table#contracts; it may be cut short."),
                          app=TITLE, block=LIST_TABLE)
    columns = Table(table, LIST_COLUMNS, app=TITLE, what=_("its contracts list"))
    items = []
    for row in columns.rows:
        if _is_no_results_row(row):
            continue
        items.append(_listed_row(row, columns))
    return items, tree.css_first(NEXT_PAGE) is not None


def _panel(tree: LexborHTMLParser, n: int) -> LexborNode:
    panel = tree.css_first(PANEL.format(n=n))
    if panel is None:
        raise PageChanged(_("The policy page has no panel {panel!r} (ui-id-{n}); the page may be cut short.").format(
            panel=PANEL_NAMES[n], n=n), app=TITLE, block=PANEL.format(n=n))
    return panel


class _Fields(fields.Reader):
    """The fields of one panel by label, with the panel's name in every error: `label` text → `span` text of
    every `div.field` (an empty span is None)."""

    def __init__(self, tree: LexborHTMLParser, n: int):
        self.name = PANEL_NAMES[n]
        self.values: dict[str, str | None] = {}
        for node in _panel(tree, n).css("div.field"):
            label = _text(node.css_first("label"))
            if label and label not in self.values:
                self.values[label] = _text(node.css_first("span")) or None

    app = SOBOL
    block = property(lambda self: self.name)
    data = property(lambda self: self.values)
    required = fields.Reader.text
    optional = fields.Reader.optional_text


def _table_rows(panel: LexborNode, selector: str, columns: tuple[str, ...], what: str,
                block: str) -> list[fields.Reader]:
    """The rows of the panel's table `selector`; `what` (translated) names its content: "risks", "installments"."""
    table = panel.css_first(selector)
    if table is None:
        raise PageChanged(_("The policy page has no {what} table ({selector}).").format(what=what, selector=selector),
                          app=TITLE, block=selector)
    rows = list(row_readers(SOBOL_ROWS, table, columns, what=_("its {what} table").format(what=what), block=block,
                            text=_text))
    if not rows:
        raise ParseError(_("The {what} table of the policy page has no rows.").format(what=what))
    return rows


def _coverages(panel: LexborNode) -> tuple[Coverage, ...]:
    rows = _table_rows(panel, RISKS_TABLE, tuple(RISK_LABELS.values()), _("risks"), N_("risk {position}"))
    return fields.build_coverages(iter(rows), RISK_LABELS)


def _paid(status: str) -> bool:
    if status not in (PAID, UNPAID):
        raise ParseError(_("The installment status {status!r} is neither {paid!r} nor {unpaid!r}.").format(
            status=status, paid=PAID, unpaid=UNPAID))
    return status == PAID


def _installments(panel: LexborNode) -> tuple[Installment, ...]:
    columns = (INST_SEQ, INST_DUE, INST_AMOUNT, INST_STATUS)
    rows = _table_rows(panel, INSTALLMENTS_TABLE, columns, _("installments"), N_("installment {position}"))
    return fields.build_installments(iter(rows), INSTALLMENT_LABELS, first=None)


def _holder(r: _Fields) -> Client:
    kind_text = r.text(F_TYPE)
    if kind_text == TYPE_PERSON:
        return fields.build_client(r, PERSON_LABELS, kind="person", name=r.text(F_PERSON_NAME))
    if kind_text == TYPE_COMPANY:
        return fields.build_client(r, COMPANY_LABELS, kind="company", name=r.text(F_COMPANY_NAME))
    raise ParseError(_("The holder type {kind!r} is neither {person!r} nor {company!r}.").format(
        kind=kind_text, person=TYPE_PERSON, company=TYPE_COMPANY))


def _year(text: str | None) -> int | None:
    if text is not None and not text.isdigit():
        raise ParseError(_("The production year {year!r} is not a whole number.").format(year=text))
    return int(text) if text else None


def parse_policy(html: str) -> Policy:
    """The policy page `/insured/contracts/{id}` (all four panels) → Policy."""
    tree = LexborHTMLParser(html or "")
    # A page cut short lacks the blocks tuz.md names: all four panels are always in the HTML.
    for n in PANEL_NAMES:
        _panel(tree, n)
    policy = _Fields(tree, PANEL_POLICY)
    series, numer = policy.required(F_SERIES), policy.required(F_NUMER)
    number = series + numer
    if not NUMER_FORMAT.match(numer) or not NUMBER_FORMAT.match(number):
        raise ParseError(_("The policy page shows the number {number!r}, which is not a series and seven digits.")
                         .format(number=number))
    line = SERIES_LINES.get(series)
    if line is None:
        raise PolicyError(_unknown_series(number, series))
    holder = _holder(_Fields(tree, PANEL_HOLDER))
    subject = _Fields(tree, PANEL_SUBJECT) if series == MOTOR_SERIES else None
    vehicle = None if subject is None else fields.build_vehicle(subject, VEHICLE_LABELS)
    return fields.build_policy(
        policy, POLICY_LABELS, number=number, insurer=INSURER, source_app=APP_ID, source_system=SOURCE_SYSTEM,
        product_line=line, holder=holder, vehicle=vehicle,
        installments=lambda: _installments(_panel(tree, PANEL_INSTALLMENTS)),
        coverages=lambda: _coverages(_panel(tree, PANEL_POLICY)),
    )


def check_number(number: str) -> str:
    """A typed number → the number as SOBOL writes it (series and seven digits), or BadInput."""
    value = (number or "").strip()
    if not NUMBER_FORMAT.match(value):
        raise BadInput(_(
            "The number {number!r} is not a TUZ SOBOL policy number. Type the series of three capital letters "
            "({series_list}) followed by seven digits, for example KOS1234567."
        ).format(number=number, series_list=_series_list()))
    if value[:3] not in SERIES_LINES:
        raise BadInput(_(
            "The number {number!r} has the series {series}, which TUZ SOBOL does not have. "
            "Its series are {series_list}."
        ).format(number=number, series=value[:3], series_list=_series_list()))
    return value


# -- the reader ------------------------------------------------------------------------------------


class TuzAdapter(Adapter):
    app_id: ClassVar[str] = APP_ID
    title: ClassVar[str] = TITLE
    hosts = (HOST,)

    async def context(self) -> AppContext:
        return parse_context(await self.tab.html())

    def check_number(self, number: str) -> str:
        return check_number(number)

    async def _get(self, url: str) -> FetchResponse:
        """GET from inside the tab; the login page at the end of the redirects means the session is gone."""
        response = await self.fetch(url)
        if is_login_page(response):
            raise NotLoggedIn(_(SESSION_EXPIRED))
        return response

    async def _list_page(self, query: dict[str, str | int]) -> tuple[list[ListedPolicy], bool]:
        response = await self._get(self.query(LIST_PATH, query))
        if response.status != 200:
            raise ParseError(fields.quoting(
                N_("TUZ SOBOL answered the contracts list with HTTP {status} with the message: {message}"),
                N_("TUZ SOBOL answered the contracts list with HTTP {status}."),
                message=parse_error_page(response.text), status=response.status,
            ))
        return parse_list_page(response.text)

    async def list_policies(self, date_from: date, date_to: date) -> AsyncIterator[ListedPolicy]:
        guard = self.pages()
        page = 1
        while True:
            query = {"date_from": date_from.isoformat(), "date_to": date_to.isoformat(), "page": page}
            try:
                items, has_next = await self._list_page(query)
            except ParseError as exc:
                # Without the list the window cannot be imported at all.
                raise EnvironmentProblem(_(
                    "Page {page} of the TUZ SOBOL contracts list for {start} to {end} cannot be read: {reason} "
                    "Run the command again later."
                ).format(page=page, start=date_from.isoformat(), end=date_to.isoformat(), reason=exc.reason)) from exc
            for item in items:
                yield item
            if not has_next:
                return
            guard.more(items)
            page += 1

    async def lookup(self, number: str) -> list[ListedPolicy]:
        items, _has_next = await self._list_page({"number": number})
        found = [item for item in items if item.number == number]
        if not found:
            raise PolicyNotFound(_("TUZ SOBOL has no policy with the number {number}.").format(number=number))
        return found

    async def read_policy(self, item: ListedPolicy) -> Policy:
        if not item.ref:
            raise ParseError(_(
                "The policy {number} has no contract id (data-id) in the list, so it cannot be opened."
            ).format(number=item.number))
        response = await self._get(self.path(DETAIL_PATH, id=item.ref))
        if response.status == 404:
            raise PolicyNotFound(fields.quoting(
                N_("TUZ SOBOL does not find the contract of policy {number} (HTTP 404) with the message: {message}"),
                N_("TUZ SOBOL does not find the contract of policy {number} (HTTP 404)."),
                message=parse_error_page(response.text), number=item.number,
            ))
        if response.status != 200:
            raise PolicyError(fields.quoting(
                N_("TUZ SOBOL failed to show policy {number} (HTTP {status}) with the message: {message}"),
                N_("TUZ SOBOL failed to show policy {number} (HTTP {status})."),
                message=parse_error_page(response.text), number=item.number, status=response.status,
            ))
        policy = parse_policy(response.text)
        if policy.number != item.number:
            raise ParseError(_(
                "The contract page opened for policy {number} shows the policy {shown} instead."
            ).format(number=item.number, shown=policy.number))
        return policy
