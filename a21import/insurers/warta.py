"""Warta: eAgent (Majątek, TUiR Warta) and ePlatforma (Życie, TUnŻ Warta) — docs/portals/warta.md.

One app id, two sections on two hosts. `--source` picks the section and so the host; the
adapter reads only from a tab of that host and never moves between them.

- MAJATEK (eagent.warta.pl): an AngularJS page whose `window.__APP_CONFIG__` names the agent
  (`agentOuid`); the data comes from the JSON API under /view360/api, paged by offset/limit.
- ZYCIE (eplatforma.warta.pl): server-rendered HTML, values in `dl` label/value lists, 20 rows
  a list page with `a.nastepna`, the insured person in `dl#ubezpieczony`.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from a21import.errors import (
    BadInput,
    EnvironmentProblem,
    NoRights,
    NotLoggedIn,
    PageChanged,
    ParseError,
    PolicyError,
    PolicyNotFound,
    WrongIdentity,
)
from a21import.formats import (
    clean_registration,
    clean_vin,
    decimal_to_gr,
    digits_or_none,
    empty_to_none,
    fmt_pl_date,
    iso_date,
    optional_decimal_to_gr,
    optional_pl_amount_to_gr,
    pl_amount_to_gr,
    pl_date,
)
from a21import.i18n import N_, _
from a21import.insurers.base import Adapter, FetchResponse, Tab, normal_host
from a21import.insurers.html import dl_values, table_rows
from a21import.model import (
    AppContext,
    Client,
    Coverage,
    Installment,
    ListedPolicy,
    Policy,
    Vehicle,
)

APP_ID = "warta"

# -- the two sections ------------------------------------------------------------------------
MAJATEK = "majatek"
ZYCIE = "zycie"
HOST_MAJATEK = "eagent.warta.pl"
HOST_ZYCIE = "eplatforma.warta.pl"
HOSTS = {HOST_MAJATEK: MAJATEK, HOST_ZYCIE: ZYCIE}
SOURCE_HOSTS = {MAJATEK: HOST_MAJATEK, ZYCIE: HOST_ZYCIE}
IDENTITY = {MAJATEK: "MAJATEK", ZYCIE: "ZYCIE"}
IDENTITY_LABEL = {MAJATEK: "Majątek (eAgent)", ZYCIE: "Życie (ePlatforma)"}
APP_NAME = {MAJATEK: "Warta eAgent", ZYCIE: "Warta ePlatforma"}
SECTION_NAME = {MAJATEK: "Majątek", ZYCIE: "Życie"}
SECTION_DESCRIPTION = {
    MAJATEK: N_("Majątek (TUiR Warta motor, property, travel and accident policies)"),
    ZYCIE: N_("Życie (TUnŻ Warta life policies)"),
}
INSURER = {MAJATEK: "WARTA", ZYCIE: "WARTA_ZYCIE"}
SOURCE_SYSTEM = {MAJATEK: "MAJATEK", ZYCIE: "ZYCIE"}
NUMBER_FORMAT = {MAJATEK: re.compile(r"^908\d{9}$"), ZYCIE: re.compile(r"^80\d{8}$")}
NUMBER_DESCRIPTION = {MAJATEK: N_("908 followed by 9 digits"), ZYCIE: N_("80 followed by 8 digits")}
CURRENCY = "PLN"

# -- MAJATEK: eAgent (JSON API) ----------------------------------------------------------------
API_BASE = "/view360/api"
LIST_PATH = API_BASE + "/agents/{agent}/policies"
DETAIL_PATH = API_BASE + "/agents/{agent}/policies/{number}"
INSTALLMENTS_PATH = API_BASE + "/agents/{agent}/policies/{number}/installments"
PAGE_LIMIT = 50
API_HEADERS = {"Accept": "application/json"}
AGENT_OUID = re.compile(r"^A\d{11}$")
CONFIG_SCRIPT = re.compile(r"window\.__APP_CONFIG__\s*=\s*(\{.*?\})\s*;?\s*$", re.MULTILINE)
# Read-only: copies the three keys of the page's config, or null when the page has none.
READ_CONFIG_JS = """() => {
  const c = window.__APP_CONFIG__;
  if (!c || typeof c !== 'object') return null;
  return {agentOuid: c.agentOuid ?? null, agentName: c.agentName ?? null, apiBase: c.apiBase ?? null};
}"""
MAJATEK_LOGIN_FORM = "form#eagent-login"

ERROR_SESSION_EXPIRED = "SESSION_EXPIRED"
ERROR_ACCESS_DENIED = "ACCESS_DENIED"
ERROR_NOT_FOUND = "POLICY_NOT_FOUND"
ERROR_BACKEND = "BACKEND_ERROR"

PRODUCT_LINES = {"KOMUNIKACJA": "motor", "MAJATEK": "property", "PODROZE": "travel", "NNW": "other"}
PARTY_PERSON = "OSOBA_FIZYCZNA"
PARTY_COMPANY = "FIRMA"

# -- ZYCIE: ePlatforma (server HTML) -----------------------------------------------------------
ZYCIE_TITLE = "Warta ePlatforma"
ZYCIE_LIST_PATH = "/polisy/lista"
ZYCIE_POLICY_PATH = "/polisa"
ZYCIE_INSTALLMENTS_PATH = "/polisa/raty"
ZYCIE_LOGIN_PATH = "/login"
ZYCIE_LOGIN_FORM = "form#eplatforma-login"
ZYCIE_USER = "#uzytkownik"
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
LBL_PRODUCT = "Produkt"
LBL_STATUS = "Status"
LBL_ISSUED = "Data wystawienia"
LBL_START = "Początek ochrony"
LBL_END = "Koniec ochrony"
LBL_ANNUAL = "Składka roczna"
LBL_KIND = "Rodzaj"
LBL_PERSON_NAME = "Imię i nazwisko"
LBL_COMPANY_NAME = "Nazwa"
LBL_PESEL = "PESEL"
LBL_NIP = "NIP"
LBL_REGON = "REGON"
LBL_STREET = "Ulica"
LBL_POSTAL = "Kod pocztowy"
LBL_CITY = "Miejscowość"
LBL_PHONE = "Telefon"
LBL_EMAIL = "E-mail"
KIND_PERSON = "Osoba fizyczna"
KIND_COMPANY = "Firma"

RISKS_TABLE = "table#ryzyka"
RISK_CODE, RISK_NAME, RISK_SUM, RISK_PREMIUM = "Kod", "Ryzyko", "Suma ubezpieczenia", "Składka"
INSTALLMENTS_TABLE = "table#raty"
INST_SEQ, INST_DUE, INST_AMOUNT, INST_STATUS = "Lp.", "Termin", "Kwota", "Status"
PAID = {"Opłacona": True, "Nieopłacona": False}

# The insured of a life policy is carried with these fields only, so writing them never blanks
# the address, phone and e-mail stored for the same person as a holder (DATABASE.md).
INSURED_FIELDS = frozenset({"kind", "name", "pesel"})

NO_RIGHTS_MESSAGE = N_(
    "This agent has no access to TUnŻ (life) in ePlatforma, so there is nothing to import. "
    "Ask Warta for TUnŻ rights, or import property and motor policies with --source majatek from an eAgent tab."
)


def _not_logged_in(section: str) -> NotLoggedIn:
    host = SOURCE_HOSTS[section]
    name = APP_NAME[section]
    return NotLoggedIn(_(
        "The {app} tab ({host}) is not logged in or its session has expired. Log in to {app} in that tab "
        "and run the command again; the policies imported so far are kept."
    ).format(app=name, host=host))


def _app_said(message: str | None) -> str:
    """The app's own message as a sentence to append (with its leading space), or nothing."""
    text = (message or "").strip()
    if not text:
        return ""
    return " " + _("The app said: {message}").format(message=text if text[-1] in ".!?" else text + ".")


# == pure parse functions: MAJATEK ==============================================================


def parse_app_config(config: Any) -> tuple[str, str | None]:
    """The `window.__APP_CONFIG__` object of an eAgent page → (agentOuid, agentName).
    Raises NotLoggedIn when the page has no config (the login page)."""
    if not isinstance(config, dict) or not config.get("agentOuid"):
        raise _not_logged_in(MAJATEK)
    agent = config["agentOuid"]
    if not isinstance(agent, str) or not AGENT_OUID.match(agent):
        raise EnvironmentProblem(_(
            "The Warta eAgent page names the agent {agent!r}, which is not an agent id such as A00005152001. "
            "Reload the eAgent tab and run the command again."
        ).format(agent=agent))
    name = config.get("agentName")
    return agent, empty_to_none(name) if isinstance(name, str) else None


def parse_app_config_html(html: str) -> dict[str, Any] | None:
    """The config object written in the page's own `<script>` (one line of JSON), or None."""
    for script in HTMLParser(html or "").css("script"):
        match = CONFIG_SCRIPT.search(script.text(deep=True) or "")
        if match:
            try:
                value = json.loads(match.group(1))
            except ValueError:
                return None
            return value if isinstance(value, dict) else None
    return None


def majatek_error(status: int, path: str, text: str, *, number: str | None = None) -> Exception | None:
    """The exception an eAgent API answer stands for, or None for a 200 answer.

    Session expiry and access denial stop the import; the rest concern one policy."""
    if path.rstrip("/") == "/login":
        return _not_logged_in(MAJATEK)
    if status == 200:
        return None
    code, message = None, None
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        code = body.get("errorCode") if isinstance(body.get("errorCode"), str) else None
        message = body.get("message") if isinstance(body.get("message"), str) else None
    said = _app_said(message)
    if status == 401 or code == ERROR_SESSION_EXPIRED:
        return _not_logged_in(MAJATEK)
    if status == 403 or code == ERROR_ACCESS_DENIED:
        return WrongIdentity(
            _("Warta eAgent refused the data of the agent shown in the tab.{said} Another agent may have logged "
              "in since the tab was loaded: reload the eAgent tab, check the agent, and run the command again.").format(
                said=said),
            expected="MAJATEK",
        )
    if number and (status == 404 or code == ERROR_NOT_FOUND):
        return PolicyNotFound(_("Warta eAgent has no policy number {number}.{said}").format(number=number, said=said))
    if number and (status >= 500 or code == ERROR_BACKEND):
        return PolicyError(_("Warta eAgent could not give policy {number} (HTTP {status}).{said}").format(
            number=number, status=status, said=said))
    if number:
        return PolicyError(_("Warta eAgent answered HTTP {status} for policy {number}.{said}").format(
            status=status, number=number, said=said))
    return EnvironmentProblem(_(
        "Warta eAgent answered HTTP {status} for the policy list.{said} Check that eAgent works in the browser "
        "and run the command again."
    ).format(status=status, said=said))


def _field(obj: Any, key: str, what: str) -> Any:
    if not isinstance(obj, dict):
        raise ParseError(_("Warta eAgent sent {what} that is not a JSON object.").format(what=what))
    return obj.get(key)


def _text(obj: Any, key: str, what: str, *, required: bool = True) -> str | None:
    value = _field(obj, key, what)
    if value is None and not required:
        return None
    if value is None and key not in obj:
        raise PageChanged(_("Warta eAgent sent {what} without the key {key!r}.").format(what=what, key=key),
                          app="Warta eAgent", block=what, missing=key)
    if not isinstance(value, str) or (required and not value.strip()):
        raise ParseError(_("Warta eAgent sent {what} without a usable {key!r}.").format(what=what, key=key))
    return empty_to_none(value)


def _required_text(obj: Any, key: str, what: str) -> str:
    value = _text(obj, key, what)
    assert value is not None
    return value


def parse_majatek_list(data: Any) -> tuple[list[ListedPolicy], int]:
    """One page of `/view360/api/agents/{agent}/policies` → (rows, total)."""
    items = _field(data, "items", _("a policy list"))
    total = _field(data, "total", _("a policy list"))
    if not isinstance(items, list) or isinstance(total, bool) or not isinstance(total, int):
        raise ParseError(_("Warta eAgent sent a policy list without its 'items' and 'total'."))
    rows = []
    what = _("a policy list row")
    for item in items:
        number = _required_text(item, "policyNumber", what)
        shown = dict(
            number=number,
            insurer=INSURER[MAJATEK],
            product=_shown(lambda: _text(item, "productName", what, required=False)),
            holder_name=_shown(lambda: _text(item, "policyholderName", what, required=False)),
            ref=number,
        )
        try:
            rows.append(
                ListedPolicy(
                    **shown,
                    issue_date=iso_date(_field(item, "issueDate", what)),
                    premium_gr=decimal_to_gr(_field(item, "premium", what)),
                )
            )
        except ParseError as exc:
            # Red on its own: the detail is not read, the other rows go on.
            error = _("Policy {number} in the list: {reason}").format(number=number, reason=exc.reason)
            rows.append(ListedPolicy(**shown, error=error))
    return rows, total


def _shown(read: Any) -> str | None:
    """A list value shown to the user only: unreadable → not shown, never an error."""
    try:
        return read()
    except ParseError:
        return None


def parse_majatek_holder(party: Any) -> Client:
    what = _("a policyholder")
    kind = _field(party, "partyType", what)
    address = _field(party, "address", what)
    if address is not None and not isinstance(address, dict):
        raise ParseError(_("Warta eAgent sent a policyholder address that is not a JSON object."))
    address = address or {}
    common = dict(
        street=_text(address, "street", _("an address"), required=False),
        postal_code=_text(address, "postalCode", _("an address"), required=False),
        city=_text(address, "city", _("an address"), required=False),
        phone=_text(party, "phone", what, required=False),
        email=_text(party, "email", what, required=False),
    )
    if kind == PARTY_PERSON:
        name = f"{_required_text(party, 'firstName', what)} {_required_text(party, 'lastName', what)}"
        return Client(kind="person", name=name, pesel=digits_or_none(_text(party, "pesel", what, required=False)), **common)
    if kind == PARTY_COMPANY:
        return Client(
            kind="company",
            name=_required_text(party, "companyName", what),
            nip=digits_or_none(_text(party, "nip", what, required=False)),
            regon=digits_or_none(_text(party, "regon", what, required=False)),
            **common,
        )
    raise ParseError(
        _("Warta eAgent sent the policyholder type {kind!r}, which is neither {person} nor {company}.").format(
            kind=kind, person=PARTY_PERSON, company=PARTY_COMPANY))


def parse_majatek_vehicle(vehicle: Any) -> Vehicle | None:
    """The `vehicle` object, or None when there is none or it has neither VIN nor registration."""
    if vehicle is None:
        return None
    what = _("a vehicle")
    year = _field(vehicle, "productionYear", what)
    if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
        raise ParseError(
            _("Warta eAgent sent the production year {year!r}, which is not a whole number.").format(year=year))
    result = Vehicle(
        registration=clean_registration(_text(vehicle, "registrationNumber", what, required=False)),
        vin=clean_vin(_text(vehicle, "vin", what, required=False)),
        make=_text(vehicle, "make", what, required=False),
        model=_text(vehicle, "model", what, required=False),
        production_year=year,
    )
    return result if result.id else None


def parse_majatek_risks(risks: Any) -> tuple[Coverage, ...]:
    if not isinstance(risks, list):
        raise ParseError(_("Warta eAgent sent a policy without its list of risks."))
    return tuple(
        Coverage(
            code=_required_text(risk, "code", _("a risk")),
            name=_text(risk, "name", _("a risk"), required=False),
            sum_insured_gr=optional_decimal_to_gr(_field(risk, "sumInsured", _("a risk"))),
            premium_gr=optional_decimal_to_gr(_field(risk, "premium", _("a risk"))),
        )
        for risk in risks
    )


def parse_majatek_installments(data: Any) -> tuple[Installment, ...]:
    """`/installments` → the payment schedule."""
    items = _field(data, "items", _("an installment list"))
    if not isinstance(items, list):
        raise ParseError(_("Warta eAgent sent an installment list without its 'items'."))
    result = []
    for item in items:
        seq = _field(item, "number", _("an installment"))
        paid = _field(item, "paid", _("an installment"))
        if isinstance(seq, bool) or not isinstance(seq, int):
            raise ParseError(_("Warta eAgent sent the installment number {seq!r}, which is not a whole number.").format(
                seq=seq))
        if not isinstance(paid, bool):
            raise ParseError(_("Warta eAgent sent installment {seq} without a true/false 'paid'.").format(seq=seq))
        result.append(
            Installment(
                seq=seq,
                due_date=iso_date(_field(item, "dueDate", _("an installment"))),
                amount_gr=decimal_to_gr(_field(item, "amount", _("an installment"))),
                paid=paid,
            )
        )
    return tuple(result)


def parse_majatek_policy(detail: Any, installments: Any) -> Policy:
    """The detail and the installments of one eAgent policy → Policy."""
    what = _("a policy")
    number = _required_text(detail, "policyNumber", what)
    line = _field(detail, "lineOfBusiness", what)
    if line not in PRODUCT_LINES:
        raise PolicyError(_(
            "Policy {number} has the line of business {line!r}, which is not one Warta eAgent is known to use "
            "({lines}), so it is not imported."
        ).format(number=number, line=line, lines=", ".join(PRODUCT_LINES)))
    currency = _field(detail, "currency", what)
    if currency != CURRENCY:
        raise PolicyError(
            _("Policy {number} is in the currency {currency!r}; only policies in PLN are imported.").format(
                number=number, currency=currency))
    return Policy(
        number=number,
        insurer=INSURER[MAJATEK],
        source_app=APP_ID,
        source_system=SOURCE_SYSTEM[MAJATEK],
        product_line=PRODUCT_LINES[line],
        product=_required_text(detail, "productName", what),
        status=_text(detail, "status", what, required=False),
        issue_date=iso_date(_field(detail, "issueDate", what)),
        start_date=iso_date(_field(detail, "coverageStart", what)),
        end_date=iso_date(_field(detail, "coverageEnd", what)),
        premium_gr=decimal_to_gr(_field(detail, "premium", what)),
        currency=CURRENCY,
        holder=parse_majatek_holder(_field(detail, "policyholder", what)),
        vehicle=parse_majatek_vehicle(_field(detail, "vehicle", what)),
        installments=parse_majatek_installments(installments),
        coverages=parse_majatek_risks(_field(detail, "risks", what)),
    )


# == pure parse functions: ZYCIE ================================================================


def _tree(html: str) -> HTMLParser:
    return HTMLParser(html or "")


_WHITESPACE = re.compile(r"[ \t\r\n\f\v]+")  # not U+00A0: it groups the thousands of amounts


def _node_text(node: Node | None) -> str:
    return _WHITESPACE.sub(" ", node.text(deep=True) if node is not None else "").strip(" ")


def zycie_error(status: int, path: str, html: str, *, number: str | None = None) -> Exception | None:
    """The exception an ePlatforma page stands for (expired session, no rights, back-end failure,
    unknown policy), or None for a usable page."""
    tree = _tree(html)
    if path.rstrip("/") == ZYCIE_LOGIN_PATH or tree.css_first(ZYCIE_LOGIN_FORM) is not None:
        return _not_logged_in(ZYCIE)
    if tree.css_first(NO_RIGHTS) is not None:
        return NoRights(_(NO_RIGHTS_MESSAGE))
    failure = tree.css_first(BACKEND_MESSAGE)
    if status >= 500 or failure is not None:
        said = _app_said(_node_text(failure) if failure is not None else None)
        if number:
            return PolicyError(_("Warta ePlatforma could not give policy {number} (HTTP {status}).{said}").format(
                number=number, status=status, said=said))
        return EnvironmentProblem(_(
            "Warta ePlatforma failed to give the policy list (HTTP {status}).{said} Try again later."
        ).format(status=status, said=said))
    message = tree.css_first(MESSAGE)
    if number and message is not None and NOT_FOUND_TEXT in _node_text(message):
        return PolicyNotFound(_("Warta ePlatforma has no policy number {number}.{said}").format(
            number=number, said=_app_said(_node_text(message))))
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
    user = tree.css_first(ZYCIE_USER)
    if user is None:
        raise _not_logged_in(ZYCIE)
    return _node_text(user)


def _table_rows(table: Node, columns: tuple[str, ...], what: str) -> list[dict[str, Node]]:
    """The body rows of a table as {header label: cell}, keyed on the header's labels."""
    return table_rows(table, columns, app=ZYCIE_TITLE, what=what)


def parse_zycie_list(html: str, status: int = 200, path: str = ZYCIE_LIST_PATH) -> tuple[list[ListedPolicy], bool]:
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
                said=_app_said(_node_text(message))))
        raise ParseError(
            _("Warta ePlatforma sent a policy list page with neither a table of policies nor 'Brak polis.'."))
    rows = []
    for row in _table_rows(table, LIST_COLUMNS, _("a policy list")):
        number = _node_text(row[COL_NUMBER])
        if not number:
            raise ParseError(_("Warta ePlatforma sent a policy list row without a policy number."))
        shown = dict(
            number=number,
            insurer=INSURER[ZYCIE],
            product=_node_text(row[COL_PRODUCT]) or None,
            holder_name=_node_text(row[COL_HOLDER]) or None,
            ref=number,
        )
        try:
            rows.append(
                ListedPolicy(
                    **shown,
                    issue_date=pl_date(_node_text(row[COL_ISSUED])),
                    premium_gr=pl_amount_to_gr(_node_text(row[COL_ANNUAL])),
                )
            )
        except ParseError as exc:
            error = _("Policy {number} in the list: {reason}").format(number=number, reason=exc.reason)
            rows.append(ListedPolicy(**shown, error=error))
    return rows, tree.css_first(NEXT_PAGE) is not None


def _dl_values(tree: HTMLParser, selector: str, what: str) -> dict[str, str | None]:
    """A `dl` label/value list → {dt label: dd text or None when empty}."""
    dl = tree.css_first(selector)
    if dl is None:
        raise PageChanged(_("Warta ePlatforma sent a policy page without {what} ({selector}).").format(
            what=what, selector=selector), app="Warta ePlatforma", block=what, missing=selector)
    return dl_values(dl, _node_text)


def _required(values: dict[str, str | None], label: str, what: str) -> str:
    value = values.get(label)
    if label not in values:
        raise PageChanged(_("Warta ePlatforma sent {what} without the label {label!r}.").format(what=what, label=label),
                          app="Warta ePlatforma", block=what, missing=label)
    if not value:
        raise ParseError(
            _("Warta ePlatforma sent {what} without a value for '{label}'.").format(what=what, label=label))
    return value


def parse_zycie_holder(values: dict[str, str | None]) -> Client:
    what = _("a policyholder")
    kind = _required(values, LBL_KIND, what)
    common = dict(
        street=values.get(LBL_STREET),
        postal_code=values.get(LBL_POSTAL),
        city=values.get(LBL_CITY),
        phone=values.get(LBL_PHONE),
        email=values.get(LBL_EMAIL),
    )
    if kind == KIND_PERSON:
        return Client(
            kind="person", name=_required(values, LBL_PERSON_NAME, what), pesel=digits_or_none(values.get(LBL_PESEL)), **common
        )
    if kind == KIND_COMPANY:
        return Client(
            kind="company",
            name=_required(values, LBL_COMPANY_NAME, what),
            nip=digits_or_none(values.get(LBL_NIP)),
            regon=digits_or_none(values.get(LBL_REGON)),
            **common,
        )
    raise ParseError(_(
        "Warta ePlatforma sent the policyholder kind {kind!r}, which is neither '{person}' nor '{company}'."
    ).format(kind=kind, person=KIND_PERSON, company=KIND_COMPANY))


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def parse_zycie_insured(values: dict[str, str | None], holder: Client) -> Client:
    """`dl#ubezpieczony` → the insured person. Without a PESEL and with the person holder's name,
    the insured is the holder (warta.md): same id, no second client row."""
    name = _required(values, LBL_PERSON_NAME, _("an insured person"))
    pesel = digits_or_none(values.get(LBL_PESEL))
    if pesel is None and holder.kind == "person" and _same_name(name, holder.name):
        return holder
    return Client(kind="person", name=name, pesel=pesel, carried=INSURED_FIELDS)


def parse_zycie_risks(tree: HTMLParser) -> tuple[Coverage, ...]:
    table = tree.css_first(RISKS_TABLE)
    if table is None:
        raise ParseError(_("Warta ePlatforma sent a policy page without its table of risks ({selector}).").format(
            selector=RISKS_TABLE))
    columns = (RISK_CODE, RISK_NAME, RISK_SUM, RISK_PREMIUM)
    result = []
    for row in _table_rows(table, columns, _("a table of risks")):
        code = _node_text(row[RISK_CODE])
        if not code:
            raise ParseError(_("Warta ePlatforma sent a risk without its code."))
        result.append(
            Coverage(
                code=code,
                name=_node_text(row[RISK_NAME]) or None,
                sum_insured_gr=optional_pl_amount_to_gr(_node_text(row[RISK_SUM])),
                premium_gr=optional_pl_amount_to_gr(_node_text(row[RISK_PREMIUM])),
            )
        )
    return tuple(result)


def parse_zycie_installments(html: str) -> tuple[Installment, ...]:
    """`/polisa/raty` (already checked with `zycie_error`) → the installments of the policy year."""
    table = _tree(html).css_first(INSTALLMENTS_TABLE)
    if table is None:
        raise ParseError(_("Warta ePlatforma sent an installments page without its table ({selector}).").format(
            selector=INSTALLMENTS_TABLE))
    result = []
    for row in _table_rows(table, (INST_SEQ, INST_DUE, INST_AMOUNT, INST_STATUS), _("a table of installments")):
        seq_text, status = _node_text(row[INST_SEQ]), _node_text(row[INST_STATUS])
        if not seq_text.isdigit():
            raise ParseError(
                _("Warta ePlatforma sent the installment number {seq!r}, which is not a whole number.").format(
                    seq=seq_text))
        if status not in PAID:
            raise ParseError(_(
                "Warta ePlatforma sent the installment status {status!r}, which is neither Opłacona nor Nieopłacona."
            ).format(status=status))
        result.append(
            Installment(
                seq=int(seq_text),
                due_date=pl_date(_node_text(row[INST_DUE])),
                amount_gr=pl_amount_to_gr(_node_text(row[INST_AMOUNT])),
                paid=PAID[status],
            )
        )
    if not result:
        raise ParseError(_("Warta ePlatforma sent an installments table without a single installment."))
    return tuple(result)


def parse_zycie_number(html: str) -> str:
    """The `Numer polisy` of a policy page (for a look-up by number)."""
    return _required(_dl_values(_tree(html), DL_POLICY, _("its policy data")), LBL_NUMBER, _("a policy"))


def parse_zycie_policy(detail_html: str, installments_html: str) -> Policy:
    """The policy page and the installments page of one life policy (both already checked with
    `zycie_error`) → Policy."""
    tree = _tree(detail_html)
    policy = _dl_values(tree, DL_POLICY, _("its policy data"))
    what = _("a policy")
    holder = parse_zycie_holder(_dl_values(tree, DL_HOLDER, _("its policyholder")))
    insured = parse_zycie_insured(_dl_values(tree, DL_INSURED, _("its insured person")), holder)
    return Policy(
        number=_required(policy, LBL_NUMBER, what),
        insurer=INSURER[ZYCIE],
        source_app=APP_ID,
        source_system=SOURCE_SYSTEM[ZYCIE],
        product_line="life",
        product=_required(policy, LBL_PRODUCT, what),
        status=policy.get(LBL_STATUS),
        issue_date=pl_date(_required(policy, LBL_ISSUED, what)),
        start_date=pl_date(_required(policy, LBL_START, what)),
        end_date=pl_date(_required(policy, LBL_END, what)),
        # The yearly premium, not the per-installment `Składka` (warta.md).
        premium_gr=pl_amount_to_gr(_required(policy, LBL_ANNUAL, what)),
        currency=CURRENCY,
        holder=holder,
        insured=insured,
        installments=parse_zycie_installments(installments_html),
        coverages=parse_zycie_risks(tree),
    )


# == number check ==============================================================================


def check_warta_number(number: str, section: str) -> str:
    """A number typed for `section` → the number; another section's format → WrongIdentity."""
    value = (number or "").strip()
    if NUMBER_FORMAT[section].match(value):
        return value
    other = ZYCIE if section == MAJATEK else MAJATEK
    if NUMBER_FORMAT[other].match(value):
        raise WrongIdentity(
            _("The number {number} is a {other_app} ({other_section}) policy number, not a {app} ({section}) one. "
              "Run the command again with --source {source} and a logged-in {other_app} tab ({host}).").format(
                number=value, other_app=APP_NAME[other], other_section=SECTION_NAME[other], app=APP_NAME[section],
                section=SECTION_NAME[section], source=other, host=SOURCE_HOSTS[other]),
            expected=IDENTITY[other],
            actual=IDENTITY[section],
        )
    raise BadInput(_(
        "The number {number!r} is not a Warta policy number: eAgent (Majątek) numbers are "
        "{majatek}, ePlatforma (Życie) numbers are {zycie}."
    ).format(number=number, majatek=_(NUMBER_DESCRIPTION[MAJATEK]), zycie=_(NUMBER_DESCRIPTION[ZYCIE])))


# == the reader ================================================================================


class WartaAdapter(Adapter):
    app_id = APP_ID
    title = "Warta eAgent / ePlatforma"
    hosts = tuple(HOSTS)
    # Labels marked for translation: whoever shows them passes them through _().
    sources = {
        MAJATEK: N_(
            "Warta eAgent (eagent.warta.pl): Majątek, TUiR Warta motor, property, travel and accident policies"
        ),
        ZYCIE: N_("Warta ePlatforma (eplatforma.warta.pl): Życie, TUnŻ Warta life policies"),
    }
    identities = (IDENTITY[MAJATEK], IDENTITY[ZYCIE])

    def __init__(self, tab: Tab, source: str | None = None):
        super().__init__(tab, source)
        self._agent: str | None = None

    @classmethod
    def source_of_host(cls, host: str) -> str | None:
        return HOSTS.get(normal_host(host))

    @classmethod
    def tab_label(cls, host: str) -> str:
        section = HOSTS.get(host)
        return f"{APP_NAME[section]} ({host})" if section else super().tab_label(host)

    @classmethod
    def source_for_identity(cls, identity: str | None) -> str | None:
        return next((source for source, code in IDENTITY.items() if code == identity), None)

    def switch_instruction(self, expected: str, actual: str | None) -> str:
        # A section is a host of its own: the user switches tabs and --source, never inside the app.
        wanted = next((s for s, code in IDENTITY.items() if code == expected), None)
        if wanted is None:
            return _("Warta has no section {section}; the sections are {sections}.").format(
                section=expected, sections=", ".join(self.identities))
        if actual:
            return _("The Warta tab shows {actual}, but {needed} is needed. Use --source {source} with a logged-in "
                     "{app} tab ({host}).").format(actual=actual, needed=IDENTITY_LABEL[wanted], source=wanted,
                                                   app=APP_NAME[wanted], host=SOURCE_HOSTS[wanted])
        return _("The Warta tab shows another section, but {needed} is needed. Use --source {source} with a logged-in "
                 "{app} tab ({host}).").format(needed=IDENTITY_LABEL[wanted], source=wanted, app=APP_NAME[wanted],
                                               host=SOURCE_HOSTS[wanted])

    @property
    def section(self) -> str:
        """The section the command reads: `--source`, else the one of the tab's host."""
        section = self.source or HOSTS.get(self.tab.host)
        if section not in SOURCE_HOSTS:
            raise BadInput(
                _("The Warta source {source!r} is not known. Use --source majatek or --source zycie.").format(
                    source=self.source))
        return section

    def _check_tab(self) -> str:
        section = self.section
        if self.tab.host != SOURCE_HOSTS[section]:
            raise WrongIdentity(
                _("The section {section} is read from a {app} tab ({host}), but the tab found is on {found}. "
                  "Open and log in to {app} in a tab, or choose the other --source, and run the command again.").format(
                    section=IDENTITY_LABEL[section], app=APP_NAME[section], host=SOURCE_HOSTS[section],
                    found=self.tab.host),
                expected=IDENTITY[section],
                actual=IDENTITY.get(HOSTS.get(self.tab.host, ""), None),
            )
        return section

    # -- context ------------------------------------------------------------------------------
    async def context(self) -> AppContext:
        section = self._check_tab()
        app, described = APP_NAME[section], _(SECTION_DESCRIPTION[section])
        if section == MAJATEK:
            agent, name = await self._read_config()
            user = name or agent
            if name:
                description = _("Logged in to {app} as {name} (agent {agent}), section {section}.").format(
                    app=app, name=name, agent=agent, section=described)
            else:
                description = _("Logged in to {app} as agent {agent}, section {section}.").format(
                    app=app, agent=agent, section=described)
        else:
            user = parse_zycie_context(await self.tab.html())
            description = _("Logged in to {app} as {user}, section {section}.").format(
                app=app, user=user, section=described)
        return AppContext(
            app_id=APP_ID,
            user=user,
            description=description,
            identity=IDENTITY[section],
            identity_label=IDENTITY_LABEL[section],
        )

    def check_number(self, number: str) -> str:
        return check_warta_number(number, self.section)

    # -- MAJATEK requests ---------------------------------------------------------------------
    async def _read_config(self) -> tuple[str, str | None]:
        config = await self.tab.evaluate(READ_CONFIG_JS)
        if not isinstance(config, dict) or not config.get("agentOuid"):
            # The page's own script text says the same when the global is out of reach.
            config = parse_app_config_html(await self.tab.html()) or config
        agent, name = parse_app_config(config)
        self._agent = agent
        return agent, name

    async def _agent_ouid(self) -> str:
        if self._agent is None:
            await self._read_config()
        assert self._agent is not None
        return self._agent

    async def _api(self, path: str, *, number: str | None = None) -> Any:
        response = await self.fetch(path, headers=API_HEADERS)
        error = majatek_error(response.status, response.path, response.text, number=number)
        if error is not None:
            raise error
        return response.json()

    async def _majatek_list_page(self, agent: str, date_from: date, date_to: date, offset: int) -> Any:
        return await self._api(self.query(self.path(LIST_PATH, agent=agent), {
            "issueDateFrom": date_from.isoformat(), "issueDateTo": date_to.isoformat(), "offset": offset,
            "limit": PAGE_LIMIT}))

    async def _majatek_detail(self, agent: str, number: str) -> Any:
        return await self._api(self.path(DETAIL_PATH, agent=agent, number=number), number=number)

    async def _majatek_installments(self, agent: str, number: str) -> Any:
        return await self._api(self.path(INSTALLMENTS_PATH, agent=agent, number=number), number=number)

    # -- ZYCIE requests -----------------------------------------------------------------------
    async def _page(self, path: str, *, number: str | None = None) -> FetchResponse:
        # ePlatforma's 503 is its documented failure of one policy, not a request to slow down.
        response = await self.fetch(path, throttle_503=False)
        error = zycie_error(response.status, response.path, response.text, number=number)
        if error is not None:
            raise error
        return response

    async def _zycie_list_page(self, date_from: date, date_to: date, page: int) -> FetchResponse:
        return await self._page(self.query(ZYCIE_LIST_PATH, {
            "dataOd": fmt_pl_date(date_from), "dataDo": fmt_pl_date(date_to), "strona": page}))

    async def _zycie_detail(self, number: str) -> str:
        return (await self._page(self.query(ZYCIE_POLICY_PATH, {"nr": number}), number=number)).text

    async def _zycie_installments(self, number: str) -> str:
        return (await self._page(self.query(ZYCIE_INSTALLMENTS_PATH, {"nr": number}), number=number)).text

    # -- the interface ------------------------------------------------------------------------
    async def list_policies(self, date_from: date, date_to: date) -> AsyncIterator[ListedPolicy]:
        guard = self.pages()
        if self._check_tab() == MAJATEK:
            agent = await self._agent_ouid()
            offset = 0
            while True:
                rows, total = parse_majatek_list(await self._majatek_list_page(agent, date_from, date_to, offset))
                for row in rows:
                    yield row
                offset += PAGE_LIMIT
                if offset >= total or not rows:
                    return
                guard.more(rows)
        else:
            page = 1
            while True:
                response = await self._zycie_list_page(date_from, date_to, page)
                rows, has_next = parse_zycie_list(response.text, response.status, response.path)
                for row in rows:
                    yield row
                if not has_next or not rows:
                    return
                guard.more(rows)
                page += 1

    async def lookup(self, number: str) -> list[ListedPolicy]:
        section = self._check_tab()
        number = check_warta_number(number, section)
        if section == MAJATEK:
            detail = await self._majatek_detail(await self._agent_ouid(), number)
            found = _text(detail, "policyNumber", _("a policy"), required=False) or number
            return [ListedPolicy(number=found, insurer=INSURER[MAJATEK], ref={"number": found, "detail": detail})]
        html = await self._zycie_detail(number)
        found = parse_zycie_number(html)
        return [ListedPolicy(number=found, insurer=INSURER[ZYCIE], ref={"number": found, "detail": html})]

    async def read_policy(self, item: ListedPolicy) -> Policy:
        section = self._check_tab()
        # A look-up already holds the detail; a list row holds only the number.
        detail = item.ref.get("detail") if isinstance(item.ref, dict) else None
        number = self.listed_number(item.number, NUMBER_FORMAT[section])
        if section == MAJATEK:
            agent = await self._agent_ouid()
            if detail is None:
                detail = await self._majatek_detail(agent, number)
            policy = parse_majatek_policy(detail, await self._majatek_installments(agent, number))
        else:
            if detail is None:
                detail = await self._zycie_detail(number)
            policy = parse_zycie_policy(detail, await self._zycie_installments(number))
        if policy.number != number:
            raise ParseError(_("{app} answered the request for policy {number} with policy {found}.").format(
                app=APP_NAME[section], number=number, found=policy.number))
        return policy
