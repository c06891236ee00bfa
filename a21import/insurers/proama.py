"""Proama ProAgent (docs/portals/proama.md): a React SPA over a JSON API that answers by the
Bearer token the SPA keeps in the tab's sessionStorage, never by cookies.

The reader takes that token from the tab it uses, right before the first API request, and
sends it with `Accept: application/json` on every request. The list pages by an opaque cursor;
detail and installments are one request each. Amounts are already integer grosze.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import date
from typing import Any, NoReturn

from a21import.errors import (EnvironmentProblem, NotLoggedIn, OutOfScope, ParseError, PolicyError,
                              PolicyNotFound)
from a21import.formats import empty_to_none, grosze_int, iso_date
from a21import.i18n import N_, _
from a21import.insurers import fields
from a21import.insurers.base import Adapter, FetchResponse
from a21import.model import AppContext, Client, Coverage, Installment, ListedPolicy, Policy, Vehicle, agent_id

APP_ID = "proama"
TITLE = "Proama ProAgent"
HOST = "proagent.proama.pl"
INSURER = "PROAMA"
SOURCE_SYSTEM = None

AUTH_KEY = "proagent.auth"  # sessionStorage key holding the login answer (JSON with accessToken)
LIST_PATH = "/agent-api/v1/polisy"
DETAIL_PATH = "/agent-api/v1/polisy/{numer}"
SCHEDULE_PATH = "/agent-api/v1/polisy/{numer}/harmonogram"
PAGE_LIMIT = 25  # what the app's own front end sends
ACCEPT = "application/json"

NUMBER_FORMAT = re.compile(r"^56\d{8}$")
SKIP_NOT_INDIVIDUAL = "klientIndywidualny false"

PRODUCT_LINES = {"KOMUNIKACJA": "motor", "MIESZKANIE": "property", "PODROZ": "travel", "NNW": "other"}
PAID = {"OPLACONA": True, "NIEOPLACONA": False}
CURRENCY = "PLN"
PERSON, COMPANY = "OSOBA", "FIRMA"

# Error codes of the API (`{"kod": ..., "komunikat": ...}`).
KOD_UNAUTHORISED = "BRAK_AUTORYZACJI"
KOD_NOT_FOUND = "NIE_ZNALEZIONO"
KOD_BACKEND = "BLAD_SYSTEMU_POLISOWEGO"
KOD_BAD_CURSOR = "NIEPRAWIDLOWY_KURSOR"
KOD_BAD_PARAMETERS = "NIEPRAWIDLOWE_PARAMETRY"

# Reads the tab's token and what the shell shows; never writes anything.
_READ_TAB_JS = """(key) => {
  let auth = null;
  try { auth = window.sessionStorage.getItem(key); } catch (e) { auth = null; }
  const agent = document.querySelector("#root .pa-agent");
  return {auth: auth, agent: agent ? agent.textContent : null};
}"""

NOT_LOGGED_IN = N_(
    "The Proama ProAgent tab is not logged in (it holds no access token). "
    "Log in to ProAgent in that tab and run the command again."
)
SESSION_EXPIRED = N_(
    "The Proama ProAgent session has expired (the app said: {komunikat!r}). "
    "Log in to ProAgent in the same tab and run the command again; the policies imported so far are kept."
)

# What the app answered about one policy, read as `what` ("detail" or "payment schedule"): each a pair
# of whole sentences, the first quoting the app's own message, the second for an answer without one.
POLICY_SYSTEM_FAILED = {
    "detail": (
        N_("Proama's policy system failed on the detail of the policy {numer} (the app said: {komunikat!r})."),
        N_("Proama's policy system failed on the detail of the policy {numer}."),
    ),
    "payment schedule": (
        N_("Proama's policy system failed on the payment schedule of the policy {numer} "
           "(the app said: {komunikat!r})."),
        N_("Proama's policy system failed on the payment schedule of the policy {numer}."),
    ),
}
POLICY_ANSWERED = {
    "detail": (
        N_("Proama ProAgent answered the detail of the policy {numer} with HTTP {status} "
           "(the app said: {komunikat!r})."),
        N_("Proama ProAgent answered the detail of the policy {numer} with HTTP {status}."),
    ),
    "payment schedule": (
        N_("Proama ProAgent answered the payment schedule of the policy {numer} with HTTP {status} "
           "(the app said: {komunikat!r})."),
        N_("Proama ProAgent answered the payment schedule of the policy {numer} with HTTP {status}."),
    ),
}


# -- pure parse functions ------------------------------------------------------------------------
def parse_auth(text: str | None) -> tuple[str, dict]:
    """The sessionStorage value under `proagent.auth` → (accessToken, agent object).

    Raises NotLoggedIn when the value is missing, not JSON or holds no non-empty `accessToken`.
    """
    try:
        auth = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        auth = None
    token = auth.get("accessToken") if isinstance(auth, dict) else None
    if not isinstance(token, str) or not token.strip():
        raise NotLoggedIn(_(NOT_LOGGED_IN))
    agent = auth.get("agent")
    return token.strip(), agent if isinstance(agent, dict) else {}


def parse_error(text: str) -> tuple[str | None, str | None]:
    """An error body `{"kod": ..., "komunikat": ...}` → (kod, komunikat); (None, None) if it is not one."""
    kod, komunikat = fields.error_values(text, "kod", "komunikat")
    return kod, komunikat


# `block` names (translated) say which part of the answer is read: "vehicle (pojazd)", "risk 2 (ryzyka)".
PROAGENT = fields.App("Proama ProAgent", amount=grosze_int, date=iso_date)
# The mapping of docs/portals/proama.md as data (a21import/insurers/data/proama.toml).
DATA = fields.app_data(APP_ID)
INDIVIDUAL = "klientIndywidualny"


def _number(r: fields.Reader) -> str:
    numer = r.text("numer")
    if not NUMBER_FORMAT.match(numer):
        raise ParseError(_("The {what} has the number {numer!r}, which is not of the form 56 and 8 digits.").format(
            what=r.block, numer=numer))
    return numer


def _detail_of(numer: str) -> str:
    return _("detail of the policy {numer}").format(numer=numer)


def parse_list_page(data: Any) -> tuple[list[ListedPolicy], str | None]:
    """One page of `GET /agent-api/v1/polisy` (decoded JSON) → (items, nastepnyKursor or None).

    Items of non-individual clients carry `skip_reason`; an item whose other fields are unusable
    carries `error` (it is red), while a page without the documented shape raises ParseError.
    """
    if not isinstance(data, dict) or not isinstance(data.get("pozycje"), list) or "nastepnyKursor" not in data:
        raise ParseError(_("The ProAgent policy list does not have the documented shape (pozycje, "
                           "nastepnyKursor)."))
    cursor = data["nastepnyKursor"]
    if cursor is not None and (not isinstance(cursor, str) or not cursor):
        raise ParseError(_("The ProAgent policy list has the cursor {cursor!r}, which is not text.").format(
            cursor=cursor))
    page = PROAGENT.read(_("policy list"), data)
    items = []
    for r in page.objects("pozycje", N_("item {position} of the ProAgent policy list"), allow_empty=True):
        items.append(parse_list_item(_number(r), r.data))
    return items, cursor


def parse_list_item(numer: str, raw: dict) -> ListedPolicy:
    r = PROAGENT.read(_("list item of the policy {numer}").format(numer=numer), raw)
    try:
        individual = r.flag(INDIVIDUAL)
        product = r.optional_text("produkt")
        holder = r.optional_text("ubezpieczajacy")
        issued = r.date("dataWystawienia")
        premium = r.amount("skladkaGr")
    except ParseError as exc:
        return ListedPolicy(number=numer, insurer=INSURER, error=exc.reason, ref={"numer": numer})
    return ListedPolicy(
        number=numer,
        insurer=INSURER,
        product=product,
        holder_name=holder,
        issue_date=issued,
        premium_gr=premium,
        skip_reason=None if individual else SKIP_NOT_INDIVIDUAL,
        ref={"numer": numer},
    )


def parse_lookup(numer: str, data: Any) -> ListedPolicy:
    """The detail fetched for a look-up by number → the item (the detail's flag decides the skip).

    The detail travels in `ref`, so reading the policy does not ask for it again.
    """
    r = PROAGENT.read(_detail_of(numer), data)
    # Only the flag matters here; the other fields are checked when the policy is read.
    return ListedPolicy(
        number=numer,
        insurer=INSURER,
        product=fields.lenient(lambda: r.optional_text("produkt")),
        holder_name=fields.lenient(lambda: parse_client(r.get("ubezpieczajacy")).name),
        issue_date=fields.lenient(lambda: r.date("dataWystawienia")),
        premium_gr=fields.lenient(lambda: r.amount("skladkaGr")),
        skip_reason=None if r.flag(INDIVIDUAL) else SKIP_NOT_INDIVIDUAL,
        ref={"numer": numer, "detail": data},
    )


def parse_client(data: Any) -> Client:
    """`ubezpieczajacy` → Client: OSOBA a person named `imie nazwisko`, FIRMA a company named `nazwa`."""
    r = PROAGENT.read(_("policyholder (ubezpieczajacy)"), data)
    kind = r.present("typ")
    if kind == PERSON:
        name = f"{r.text('imie')} {r.text('nazwisko')}"
    elif kind == COMPANY:
        name = r.text("nazwa")
    else:
        raise ParseError(_("The {what} has the type {kind!r}, which is neither {person} nor {company}.").format(
            what=r.block, kind=kind, person=PERSON, company=COMPANY))
    if r.present("adres") is not None:
        r.obj("adres")
    return fields.build_client(r, DATA["holder"], kind="person" if kind == PERSON else "company", name=name)


def parse_vehicle(data: Any) -> Vehicle | None:
    """`pojazd` → Vehicle; None when `pojazd` is null or has neither VIN nor registration."""
    if data is None:
        return None
    return fields.build_vehicle(PROAGENT.read(_("vehicle (pojazd)"), data), DATA["vehicle"])


def parse_coverages(data: Any) -> tuple[Coverage, ...]:
    """`ryzyka` (at least one) → coverages; `sumaGr`/`skladkaGr` are grosze or null, as given."""
    policy = PROAGENT.read(_("policy"), {"ryzyka": data})
    return fields.build_coverages(
        policy.objects("ryzyka", N_("risk {position} (ryzyka)")), DATA["coverage"])


def _paid(r: fields.Reader, numer: str) -> bool:
    status = r.get("status")
    if status not in PAID:
        raise PolicyError(_(
            "The installment {seq} of the policy {numer} has the payment status {status!r}, "
            "which is neither OPLACONA nor NIEOPLACONA."
        ).format(seq=r.get("nr"), numer=numer, status=status))
    return PAID[status]


def parse_installments(numer: str, data: Any) -> tuple[Installment, ...]:
    """`GET …/harmonogram` (decoded JSON) → installments; a status other than OPLACONA or
    NIEOPLACONA is a policy error."""
    r = PROAGENT.read(_("payment schedule (harmonogram) of the policy {numer}").format(numer=numer), data)
    if r.get("numer") != numer:
        raise ParseError(_("The {what} belongs to the policy {other!r}.").format(what=r.block, other=r.get("numer")))
    entries = r.objects("raty", N_("installment {position} of policy {number}"), number=numer)
    keys = {**DATA["installment"], "paid": lambda entry: _paid(entry, numer)}
    return fields.build_installments(entries, keys, first=None)


def parse_policy(numer: str, detail: Any, schedule: Any) -> Policy:
    """Detail and harmonogram (decoded JSON) of one policy → Policy."""
    r = PROAGENT.read(_detail_of(numer), detail)
    if _number(r) != numer:
        raise ParseError(_("The {what} is about the policy {other!r}.").format(what=r.block, other=r.get("numer")))
    line = r.text("linia")
    if line not in PRODUCT_LINES:
        raise PolicyError(_("The policy {numer} has the line {line!r}, which is not one of {lines}.").format(
            numer=numer, line=line, lines=", ".join(PRODUCT_LINES)))
    currency = r.present("waluta")
    if currency != CURRENCY:
        raise PolicyError(_("The policy {numer} is in the currency {currency!r}; only PLN policies are "
                            "imported.").format(numer=numer, currency=currency))
    return fields.build_policy(
        r, DATA["policy"], number=numer, insurer=INSURER, source_app=APP_ID, source_system=SOURCE_SYSTEM,
        product_line=PRODUCT_LINES[line], currency=currency,
        holder=lambda: parse_client(r.present("ubezpieczajacy")),
        vehicle=lambda: parse_vehicle(r.get("pojazd")),
        installments=lambda: parse_installments(numer, schedule),
        coverages=lambda: parse_coverages(r.present("ryzyka")),
    )


# -- the reader ----------------------------------------------------------------------------------
class ProamaAdapter(Adapter):
    app_id = APP_ID
    title = TITLE
    hosts = (HOST,)
    _headers: dict[str, str] | None = None  # per adapter, made at its first API request

    async def _read_tab(self) -> tuple[str, dict, str | None]:
        state = await self.tab.evaluate(_READ_TAB_JS, AUTH_KEY)
        state = state if isinstance(state, dict) else {}
        token, agent = parse_auth(state.get("auth"))
        return token, agent, empty_to_none(state.get("agent"))

    async def context(self) -> AppContext:
        _token, agent, shown = await self._read_tab()
        name = agent.get("imieNazwisko") if isinstance(agent.get("imieNazwisko"), str) else shown
        number = agent.get("numer") if isinstance(agent.get("numer"), str) else None
        if name and number:
            description = _("Logged in to {app} as {user} (agent {agent}).").format(app=TITLE, user=name, agent=number)
        elif name:
            description = _("Logged in to {app} as {user}.").format(app=TITLE, user=name)
        else:
            description = _("Logged in to {app}.").format(app=TITLE)
        # The agent's number of the login answer kept in sessionStorage (`agent.numer`).
        return AppContext(app_id=APP_ID, user=name, description=description, agent=agent_id(APP_ID, number))

    async def _auth_headers(self) -> dict[str, str]:
        # The token is the tab's own and may change when the user logs in again, so it is read
        # once, at the first API request of this import, not when the adapter is made.
        if self._headers is None:
            token, _agent, _shown = await self._read_tab()
            self._headers = {"Authorization": f"Bearer {token}", "Accept": ACCEPT}
        return self._headers

    async def _get(self, url: str) -> FetchResponse:
        response = await self.fetch(url, headers=await self._auth_headers())
        if response.status == 401:
            _kod, komunikat = parse_error(response.text)
            raise NotLoggedIn(_(SESSION_EXPIRED).format(komunikat=komunikat or f"HTTP 401 {KOD_UNAUTHORISED}"))
        return response

    def check_number(self, number: str) -> str:
        return self.typed_number(number, NUMBER_FORMAT, N_(
            "The number {number!r} is not a Proama policy number: those are 10 digits starting with 56, "
            "for example 5600123456."))

    async def list_policies(self, date_from: date, date_to: date) -> AsyncIterator[ListedPolicy]:
        guard = self.pages()
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            # The cursor is opaque and may hold "+", "/" and "=": urlencode encodes each (a raw "+" is a space).
            response = await self._get(self.query(LIST_PATH, {
                "dataOd": date_from.isoformat(), "dataDo": date_to.isoformat(), "limit": PAGE_LIMIT,
                "kursor": cursor}))
            if response.status != 200:
                raise EnvironmentProblem(_list_failure(response))
            try:
                items, cursor = parse_list_page(response.json())
            except ParseError as exc:
                # Without the list no policy can be read: the whole import stops, not one policy.
                message = _("{reason} Nothing more can be listed; run the command again later.").format(
                    reason=exc.reason)
                raise EnvironmentProblem(message) from exc
            for item in items:
                yield item
            if cursor is None:
                return
            if cursor in seen:
                raise EnvironmentProblem(_(
                    "The ProAgent policy list gave the same cursor twice, so its pages never end. "
                    "Run the command again later."
                ))
            seen.add(cursor)
            guard.more(items)

    async def _detail(self, numer: str) -> FetchResponse:
        return await self._get(self.path(DETAIL_PATH, numer=numer))

    async def _schedule(self, numer: str) -> FetchResponse:
        return await self._get(self.path(SCHEDULE_PATH, numer=numer))

    async def lookup(self, number: str) -> list[ListedPolicy]:
        numer = self.check_number(number)
        response = await self._detail(numer)
        try:
            if response.status != 200:
                _raise_for_policy(numer, "detail", response)
            return [parse_lookup(numer, response.json())]
        except PolicyNotFound:
            raise
        except PolicyError as exc:
            # Found or not, this number cannot be read now: it is red, like a failing listed policy.
            return [ListedPolicy(number=numer, insurer=INSURER, error=exc.reason, ref={"numer": numer})]

    async def read_policy(self, item: ListedPolicy) -> Policy:
        numer = self.listed_number(item.number, NUMBER_FORMAT)
        ref = item.ref if isinstance(item.ref, dict) else {}
        detail = ref.get("detail")
        if detail is None:
            response = await self._detail(numer)
            if response.status != 200:
                _raise_for_policy(numer, "detail", response)
            detail = response.json()
        if isinstance(detail, dict) and detail.get("klientIndywidualny") is False:
            raise OutOfScope(SKIP_NOT_INDIVIDUAL)
        response = await self._schedule(numer)
        if response.status != 200:
            _raise_for_policy(numer, "payment schedule", response)
        return parse_policy(numer, detail, response.json())


def _raise_for_policy(numer: str, what: str, response: FetchResponse) -> NoReturn:
    """A non-200 answer about one policy → PolicyNotFound (404) or PolicyError (502, anything else).
    `what` is "detail" or "payment schedule"."""
    kod, komunikat = parse_error(response.text)
    if response.status == 404:
        raise PolicyNotFound(fields.quoting(
            N_("Proama ProAgent does not find the policy {numer} (the app said: {komunikat!r})."),
            N_("Proama ProAgent does not find the policy {numer}."), quote="komunikat", komunikat=komunikat,
            numer=numer))
    if response.status == 502 or kod == KOD_BACKEND:
        raise PolicyError(fields.quoting(*POLICY_SYSTEM_FAILED[what], quote="komunikat", komunikat=komunikat,
                                         numer=numer))
    raise PolicyError(fields.quoting(*POLICY_ANSWERED[what], quote="komunikat", komunikat=komunikat, numer=numer,
                                     status=response.status))


def _list_failure(response: FetchResponse) -> str:
    kod, komunikat = parse_error(response.text)
    if kod == KOD_BAD_CURSOR:
        return fields.quoting(
            N_("Proama ProAgent refused the paging cursor of its own policy list "
               "(the app said: {komunikat!r}). Run the command again."),
            N_("Proama ProAgent refused the paging cursor of its own policy list. Run the command again."),
            quote="komunikat", komunikat=komunikat)
    if kod == KOD_BAD_PARAMETERS:
        return fields.quoting(
            N_("Proama ProAgent refused the dates of the policy list (the app said: {komunikat!r})."),
            N_("Proama ProAgent refused the dates of the policy list."), quote="komunikat", komunikat=komunikat)
    return fields.quoting(
        N_("Proama ProAgent answered its policy list with HTTP {status} (the app said: {komunikat!r}). "
           "Run the command again later."),
        N_("Proama ProAgent answered its policy list with HTTP {status}. Run the command again later."),
        quote="komunikat", komunikat=komunikat, status=response.status)
