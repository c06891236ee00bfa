"""Skaner2 of the PUNKTA, ARRANT and PROFI networks (docs/portals/skaner2.md).

One server-rendered app on three hosts, one session per host. Every page carries its data as
JSON in `<script id="__SKANER_STATE__" type="application/json">`; the reader fetches the app's
own pages from inside the chosen tab and the pure functions below read that state. A page
without the state script is the app's login page: the session has expired (HTTP 200, no
redirect), so every response is checked for it.

The network (and so `source_system`) is the tab's host; the core picks the tab by `--source`.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from selectolax.lexbor import LexborHTMLParser

from a21import.errors import EnvironmentProblem, NotLoggedIn, ParseError, PolicyError, PolicyNotFound
from a21import.formats import fmt_pl_date, pl_amount_to_gr, pl_date
from a21import.i18n import N_, _
from a21import.insurers import fields
from a21import.insurers.base import Adapter, FetchResponse, normal_host
from a21import.model import AppContext, Client, ListedPolicy, Policy, agent_id

APP_ID = "skaner2"
TITLE = "Skaner2"

# host → --source value → source_system (Overview of the spec).
HOST_SOURCES = {
    "skaner2.punkta.pl": "punkta",
    "skaner2.arrant.pl": "arrant",
    "skaner2.profi.pl": "profi",
}
SOURCE_SYSTEMS = {"punkta": "PUNKTA", "arrant": "ARRANT", "profi": "PROFI"}

LIST_PATH = "/polisy"
DETAIL_PATH = "/polisy/{id}"
PARAM_FROM, PARAM_TO, PARAM_PAGE, PARAM_NUMBER = "od", "do", "strona", "numer"
PAGE_SIZE = 30

STATE_SELECTOR = "script#__SKANER_STATE__"
AGENT_SELECTOR = "nav#skaner-nav span.agent"

# State keys.
K_LIST, K_PAGE, K_PAGES, K_TOTAL = "polisy", "strona", "stron", "razem"
K_POLICY, K_ERROR, K_ERROR_CODE, K_ERROR_MESSAGE = "polisa", "blad", "kod", "komunikat"

ERROR_NOT_FOUND = "NIE_ZNALEZIONO"
ERROR_BACKEND = "BLAD_TU"
ERROR_BAD_PARAMETERS = "NIEPRAWIDLOWE_PARAMETRY"

CURRENCY = "PLN"
HOLDER_PERSON, HOLDER_COMPANY = "osoba", "firma"
HOLDER_KINDS = {HOLDER_PERSON: "person", HOLDER_COMPANY: "company"}

# `rodzaj` → product line; the keys are NFC and compared exactly (spec: Formats and traps).
PRODUCT_LINES = {
    "komunikacyjne": "motor",
    "majątkowe": "property",
    "życiowe": "life",
    "turystyczne": "travel",
    "inne": "other",
}

# The mapping of docs/portals/skaner2.md as data (a21import/insurers/data/skaner2.toml); its `insurers`:
# `towarzystwo` (exact, case-sensitive) → canonical insurer code.
DATA = fields.app_data(APP_ID)
INSURERS = DATA["insurers"]

# 1–40 letters, digits, `/` and `-`, as the insurer writes them.
NUMBER_RE = re.compile(r"(?:[^\W\d_]|[0-9/-]){1,40}")
NUMBER_FORMAT = N_("1 to 40 letters, digits, slashes and hyphens (for example PL/2026/0012345 or KR-558120)")


# -- pure parse functions ------------------------------------------------------------------


@dataclass(frozen=True)
class ListPage:
    items: list[ListedPolicy]
    page: int
    pages: int
    total: int


def page_state(html: str) -> dict[str, Any] | None:
    """The JSON state of a Skaner2 page, or None when the page has no state script (login page).

    The script's text is parsed as JSON as it stands: the server escapes `<` inside it, and
    HTML-unescaping it would corrupt names holding `&amp;`-like text.
    """
    nodes = LexborHTMLParser(html or "").css(STATE_SELECTOR)
    if not nodes:
        return None
    if len(nodes) > 1:
        raise ParseError(_("The Skaner2 page holds more than one data script (__SKANER_STATE__)."))
    text = nodes[0].text(deep=True)
    try:
        state = json.loads(text)
    except ValueError as exc:
        raise ParseError(_("The data script (__SKANER_STATE__) of the Skaner2 page is not valid JSON.")) from exc
    if not isinstance(state, dict):
        raise ParseError(_("The data script (__SKANER_STATE__) of the Skaner2 page does not hold a JSON object."))
    return state


def parse_agent(html: str) -> str | None:
    """The agent's name when the page is a logged-in Skaner2 page, else None.

    Logged in means the DOM has both the agent in `nav#skaner-nav` and the state script; the
    login page has neither. Returns "" for a logged-in page that shows no name.
    """
    tree = LexborHTMLParser(html or "")
    agent = tree.css_first(AGENT_SELECTOR)
    if agent is None or tree.css_first(STATE_SELECTOR) is None:
        return None
    return " ".join(agent.text(deep=True).split())


def state_error(state: dict[str, Any]) -> tuple[str, str] | None:
    """(kod, komunikat) of the state's `blad`, or None when the state reports no error."""
    error = state.get(K_ERROR)
    if error is None:
        return None
    if not isinstance(error, dict):
        raise ParseError(_("The error (blad) in the Skaner2 page is not an object."))
    code = error.get(K_ERROR_CODE)
    message = error.get(K_ERROR_MESSAGE)
    return (str(code) if code is not None else "?", str(message) if message is not None else "")


def insurer_code(name: object) -> str:
    """`towarzystwo` → canonical insurer code. An unknown name is an error for that policy."""
    code = fields.insurer_code(INSURERS, name)
    if code is None:
        raise PolicyError(_(
            "The insurer name {name!r} is not known to a21import, so the policy cannot be stored under an "
            "insurer; add it to the Skaner2 insurer table."
        ).format(name=name))
    return code


def product_line(kind: object) -> str:
    """`rodzaj` → product line, compared exactly (NFC). Any other value is an error for that policy."""
    line = PRODUCT_LINES.get(kind) if isinstance(kind, str) else None
    if line is None:
        raise PolicyError(_(
            "The kind of policy (rodzaj) {kind!r} is not one Skaner2 documents ({kinds}), so its product line is "
            "unknown."
        ).format(kind=kind, kinds=", ".join(PRODUCT_LINES)))
    return line


def parse_list_item(raw: object) -> ListedPolicy:
    """One entry of `polisy`. An entry that names its number but cannot be read becomes an error item."""
    if not isinstance(raw, dict):
        raise ParseError(_("An entry of the Skaner2 policy list is not an object."))
    number = raw.get("numer")
    if not isinstance(number, str) or not number:
        raise ParseError(_("An entry of the Skaner2 policy list has no policy number (numer)."))
    holder = raw.get("ubezpieczajacy")
    common = dict(
        number=number,
        product=raw.get("produkt") if isinstance(raw.get("produkt"), str) else None,
        holder_name=holder if isinstance(holder, str) else None,
        # Shown for information only: unreadable → None (the detail decides).
        issue_date=fields.lenient(lambda: pl_date(raw.get("dataWystawienia"))),
        premium_gr=fields.lenient(lambda: pl_amount_to_gr(raw.get("skladka"))),
    )
    try:
        insurer = insurer_code(raw.get("towarzystwo"))
    except PolicyError as exc:
        return ListedPolicy(insurer=None, error=exc.reason, **common)
    try:
        product_line(raw.get("rodzaj"))
        policy_id = raw.get("id")
        if not isinstance(policy_id, str) or not policy_id:
            raise ParseError(_("The Skaner2 list gives no id (id) for this policy, so its detail cannot be read."))
    except PolicyError as exc:
        return ListedPolicy(insurer=insurer, error=exc.reason, **common)
    return ListedPolicy(insurer=insurer, ref=policy_id, **common)


def parse_list_state(state: dict[str, Any]) -> ListPage:
    """The state of `GET /polisy?...`: this page's policies, in the app's order, and the page count."""
    error = state_error(state)
    if error is not None:
        code, message = error
        raise EnvironmentProblem(_(
            "Skaner2 refused the policy search with the error {code}: {message} "
            "Check the dates and run the command again."
        ).format(code=code, message=fields.sentence(message)))
    rows = state.get(K_LIST)
    if not isinstance(rows, list):
        raise ParseError(_("The Skaner2 list page holds no policy list (polisy)."))
    page, pages, total = (state.get(key) for key in (K_PAGE, K_PAGES, K_TOTAL))
    for key, value in ((K_PAGE, page), (K_PAGES, pages), (K_TOTAL, total)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ParseError(_("The Skaner2 list page gives {key} as {value!r}, not a whole number.").format(
                key=key, value=value))
    return ListPage(items=[parse_list_item(row) for row in rows], page=page, pages=pages, total=total)


# A coverage's sum or premium may be blank text: no amount.
SKANER2 = fields.App("Skaner2", amount=pl_amount_to_gr, date=pl_date,
                     optional_amount=lambda text: None if text == "" else pl_amount_to_gr(text))


def parse_client(r: fields.Reader) -> Client:
    """`ubezpieczajacy` of the detail."""
    kind = HOLDER_KINDS.get(r.get("rodzaj"))
    if kind is None:
        raise ParseError(_("The policyholder's kind (rodzaj) {kind!r} is neither osoba nor firma.").format(
            kind=r.get("rodzaj")))
    r.optional_obj("adres")
    return fields.build_client(r, DATA["holder"], kind=kind, name=r.text("nazwa"))


def parse_policy_state(state: dict[str, Any], source_system: str, number: str | None = None) -> Policy:
    """The state of `GET /polisy/{id}` → Policy. `number`: the listed number, checked against the detail."""
    error = state_error(state)
    if error is not None:
        code, message = error
        if code == ERROR_NOT_FOUND:
            raise PolicyNotFound(_("Skaner2 does not find this policy ({code}): {message}").format(
                code=code, message=fields.sentence(message)))
        if code == ERROR_BACKEND:
            raise PolicyError(
                _("Skaner2 could not read the policy from the insurer's system ({code}): {message}").format(
                    code=code, message=fields.sentence(message)))
        raise PolicyError(_("Skaner2 answered with the error {code}: {message}").format(
            code=code, message=fields.sentence(message)))
    if state.get(K_POLICY) is None:
        raise ParseError(_("The Skaner2 policy page holds no policy (polisa is null) and no error."))
    found = SKANER2.read(_("the policy page"), state).obj(K_POLICY).text("numer")
    if number is not None and found != number:
        raise ParseError(_("Skaner2 showed the policy {found!r} where {number!r} was asked for.").format(
            found=found, number=number))
    r = SKANER2.read(_("policy {number}").format(number=found), state[K_POLICY])
    insurer = insurer_code(r.get("towarzystwo"))
    line = product_line(r.get("rodzaj"))
    currency = r.text("waluta")
    if currency != CURRENCY:
        raise PolicyError(_("The policy's currency is {currency!r}; only {accepted} policies are imported.").format(
            currency=currency, accepted=CURRENCY))
    return fields.build_policy(
        r, DATA["policy"], number=found, insurer=insurer, source_app=APP_ID, source_system=source_system,
        product_line=line, currency=currency,
        holder=lambda: parse_client(
            r.obj("ubezpieczajacy", _("the policyholder of policy {number}").format(number=found))),
        vehicle=lambda: fields.vehicle_at(r, "pojazd", DATA["vehicle"], found),
        installments=lambda: fields.installments_at(r, "raty", DATA["installment"], found),
        coverages=lambda: fields.coverages_at(r, "ryzyka", DATA["coverage"], found,
                                              entry=N_("risk {position} of policy {number}")),
    )


# -- the reader ------------------------------------------------------------------------------


class Skaner2Adapter(Adapter):
    app_id: ClassVar[str] = APP_ID
    title: ClassVar[str] = TITLE
    hosts: ClassVar[tuple[str, ...]] = tuple(HOST_SOURCES)
    # Labels marked for translation: whoever shows them passes them through _().
    sources: ClassVar[dict[str, str]] = {
        "punkta": N_("Skaner2 of the PUNKTA network (skaner2.punkta.pl)"),
        "arrant": N_("Skaner2 of the ARRANT network (skaner2.arrant.pl)"),
        "profi": N_("Skaner2 of the PROFI network (skaner2.profi.pl)"),
    }

    @classmethod
    def source_of_host(cls, host: str) -> str | None:
        return HOST_SOURCES.get(normal_host(host))

    @property
    def source_system(self) -> str:
        source = self.source_of_host(self.tab.host)
        if source is None:
            raise EnvironmentProblem(
                _("The tab at {host} is not a Skaner2 tab of PUNKTA, ARRANT or PROFI.").format(host=self.tab.host))
        return SOURCE_SYSTEMS[source]

    @property
    def _where(self) -> str:
        return _("Skaner2 of {network} ({host})").format(network=self.source_system, host=self.tab.host)

    async def context(self) -> AppContext:
        agent = parse_agent(await self.tab.html())
        if agent is None:
            raise NotLoggedIn(_(
                "The tab of {where} is not logged in. Log in to Skaner2 in that tab and run the command again."
            ).format(where=self._where))
        description = (_("Logged in to {where} as {agent}.").format(where=self._where, agent=agent) if agent
                       else _("Logged in to {where}.").format(where=self._where))
        # Skaner2 shows no agent number: the agent is the name in `nav#skaner-nav .agent`.
        return AppContext(app_id=APP_ID, user=agent or None, description=description, agent=agent_id(APP_ID, agent))

    def check_number(self, number: str) -> str:
        return self.typed_number(number, NUMBER_RE, N_(
            "The policy number {number!r} is not a Skaner2 number: expected {expected}."), expected=_(NUMBER_FORMAT))

    async def list_policies(self, date_from: date, date_to: date) -> AsyncIterator[ListedPolicy]:
        guard = self.pages()
        page, pages = 1, 1
        while page <= pages:
            response = await self.fetch(self.query(LIST_PATH, {
                PARAM_FROM: fmt_pl_date(date_from), PARAM_TO: fmt_pl_date(date_to), PARAM_PAGE: page}))
            try:
                listing = parse_list_state(self._state(response, policy_page=False))
            except ParseError as exc:
                raise EnvironmentProblem(_(
                    "Page {page} of the policy list of {where} could not be read: {reason} "
                    "Run the command again; the policies imported so far are kept."
                ).format(page=page, where=self._where, reason=exc.reason)) from exc
            if page == 1:
                pages = listing.pages
            for item in listing.items:
                yield item
            if page < pages:
                guard.more(listing.items)
            page += 1

    async def lookup(self, number: str) -> list[ListedPolicy]:
        response = await self.fetch(self.query(LIST_PATH, {PARAM_NUMBER: number}))
        listing = parse_list_state(self._state(response, policy_page=False))
        items = [item for item in listing.items if item.number == number]
        if not items:
            raise PolicyNotFound(_("No policy numbered {number} was found in {where}.").format(
                number=number, where=self._where))
        return items

    async def read_policy(self, item: ListedPolicy) -> Policy:
        if not isinstance(item.ref, str) or not item.ref:
            raise PolicyError(_("The policy {number} has no Skaner2 id, so its detail cannot be read.").format(
                number=item.number))
        response = await self.fetch(self.path(DETAIL_PATH, id=item.ref))
        state = self._state(response, policy_page=True)
        return parse_policy_state(state, self.source_system, number=item.number)

    def _state(self, response: FetchResponse, *, policy_page: bool) -> dict[str, Any]:
        """The page's state; a page without it is the login page, i.e. the session has expired."""
        state = page_state(response.text)
        if state is not None:
            return state
        if response.status >= 500:
            raise fields.answer_failure(
                policy_page, N_("{where} answered {path} with HTTP {status} and no data."),
                N_("{where} answered {path} with HTTP {status} and no data. Check that the app works in the browser "
                   "and run the command again."),
                where=self._where, path=response.path, status=response.status)
        raise NotLoggedIn(_(
            "{where} answered with its login page: the session has expired. Log in again in the tab of "
            "{host} and run the command again; the policies imported so far are kept."
        ).format(where=self._where, host=self.tab.host))
