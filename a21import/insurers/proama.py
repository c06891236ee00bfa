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

from a21import.errors import (
    BadInput,
    EnvironmentProblem,
    NotLoggedIn,
    OutOfScope,
    ParseError,
    PolicyError,
    PolicyNotFound,
)
from a21import.formats import (
    clean_registration,
    clean_vin,
    empty_to_none,
    grosze_int,
    iso_date,
    optional_grosze_int,
)
from a21import.i18n import N_, _
from a21import.insurers.base import Adapter, FetchResponse, Tab
from a21import.model import (
    AppContext,
    Client,
    Coverage,
    Installment,
    ListedPolicy,
    Policy,
    Vehicle,
)

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
    try:
        data = json.loads(text)
    except ValueError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    kod, komunikat = data.get("kod"), data.get("komunikat")
    return (kod if isinstance(kod, str) else None), (komunikat if isinstance(komunikat, str) else None)


# `what` (translated) names the part of the answer being read: "vehicle (pojazd)", "risk 2 (ryzyka)".
def _field(data: dict, key: str, what: str) -> Any:
    if not isinstance(data, dict) or key not in data:
        raise ParseError(_("The {what} has no {key!r}.").format(what=what, key=key))
    return data[key]


def _text(data: dict, key: str, what: str) -> str:
    value = _field(data, key, what)
    if not isinstance(value, str) or not value.strip():
        raise ParseError(_("The {what} has no text in {key!r} (it has {value!r}).").format(
            what=what, key=key, value=value))
    return value.strip()


def _optional_text(data: dict, key: str, what: str) -> str | None:
    value = data.get(key) if isinstance(data, dict) else None
    if value is not None and not isinstance(value, str):
        raise ParseError(_("The {what} has {value!r} in {key!r}, which is not text.").format(
            what=what, value=value, key=key))
    return empty_to_none(value)


def _number(data: dict, what: str) -> str:
    numer = _text(data, "numer", what)
    if not NUMBER_FORMAT.match(numer):
        raise ParseError(_("The {what} has the number {numer!r}, which is not of the form 56 and 8 digits.").format(
            what=what, numer=numer))
    return numer


def _flag(data: dict, what: str) -> bool:
    value = _field(data, "klientIndywidualny", what)
    if not isinstance(value, bool):
        raise ParseError(_("The {what} has {value!r} in 'klientIndywidualny', which is neither true nor false.").format(
            what=what, value=value))
    return value


def _not_an_object(what: str) -> ParseError:
    return ParseError(_("The {what} is not an object.").format(what=what))


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
    items = []
    for index, raw in enumerate(data["pozycje"], start=1):
        what = _("item {index} of the ProAgent policy list").format(index=index)
        if not isinstance(raw, dict):
            raise _not_an_object(what)
        numer = _number(raw, what)
        items.append(parse_list_item(numer, raw))
    return items, cursor


def parse_list_item(numer: str, raw: dict) -> ListedPolicy:
    what = _("list item of the policy {numer}").format(numer=numer)
    try:
        individual = _flag(raw, what)
        product = _optional_text(raw, "produkt", what)
        holder = _optional_text(raw, "ubezpieczajacy", what)
        issued = iso_date(raw.get("dataWystawienia"))
        premium = grosze_int(raw.get("skladkaGr"))
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
    what = _detail_of(numer)
    if not isinstance(data, dict):
        raise _not_a_json_object(what)
    holder = data.get("ubezpieczajacy")
    try:
        holder_name = parse_client(holder).name if isinstance(holder, dict) else None
    except ParseError:
        holder_name = None
    # Only the flag matters here; the other fields are checked when the policy is read.
    try:
        issued = iso_date(data.get("dataWystawienia"))
    except ParseError:
        issued = None
    premium = data.get("skladkaGr")
    return ListedPolicy(
        number=numer,
        insurer=INSURER,
        product=data.get("produkt") if isinstance(data.get("produkt"), str) else None,
        holder_name=holder_name,
        issue_date=issued,
        premium_gr=premium if isinstance(premium, int) and not isinstance(premium, bool) else None,
        skip_reason=None if _flag(data, what) else SKIP_NOT_INDIVIDUAL,
        ref={"numer": numer, "detail": data},
    )


def parse_client(data: Any) -> Client:
    """`ubezpieczajacy` → Client: OSOBA a person named `imie nazwisko`, FIRMA a company named `nazwa`."""
    what = _("policyholder (ubezpieczajacy)")
    if not isinstance(data, dict):
        raise _not_an_object(what)
    kind = _field(data, "typ", what)
    if kind == PERSON:
        name = f"{_text(data, 'imie', what)} {_text(data, 'nazwisko', what)}"
    elif kind == COMPANY:
        name = _text(data, "nazwa", what)
    else:
        raise ParseError(_("The {what} has the type {kind!r}, which is neither {person} nor {company}.").format(
            what=what, kind=kind, person=PERSON, company=COMPANY))
    address = _field(data, "adres", what)
    if address is not None and not isinstance(address, dict):
        raise ParseError(_("The address of the policyholder (ubezpieczajacy) is not an object."))
    address = address or {}
    address_what = _("address of the policyholder (ubezpieczajacy)")
    return Client(
        kind="person" if kind == PERSON else "company",
        name=name,
        pesel=_optional_text(data, "pesel", what),
        nip=_optional_text(data, "nip", what),
        regon=_optional_text(data, "regon", what),
        street=_optional_text(address, "ulica", address_what),
        postal_code=_optional_text(address, "kodPocztowy", address_what),
        city=_optional_text(address, "miejscowosc", address_what),
        phone=_optional_text(data, "telefon", what),
        email=_optional_text(data, "email", what),
    )


def parse_vehicle(data: Any) -> Vehicle | None:
    """`pojazd` → Vehicle; None when `pojazd` is null or has neither VIN nor registration."""
    what = _("vehicle (pojazd)")
    if data is None:
        return None
    if not isinstance(data, dict):
        raise _not_an_object(what)
    year = data.get("rokProdukcji")
    if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
        raise ParseError(_("The {what} has the production year {year!r}, which is not a whole number.").format(
            what=what, year=year))
    vehicle = Vehicle(
        registration=clean_registration(_optional_text(data, "nrRejestracyjny", what)),
        vin=clean_vin(_optional_text(data, "vin", what)),
        make=_optional_text(data, "marka", what),
        model=_optional_text(data, "model", what),
        production_year=year,
    )
    return vehicle if vehicle.id else None


def parse_coverages(data: Any) -> tuple[Coverage, ...]:
    """`ryzyka` (at least one) → coverages; `sumaGr`/`skladkaGr` are grosze or null, as given."""
    if not isinstance(data, list) or not data:
        raise ParseError(_("The policy has no list of risks (ryzyka)."))
    coverages = []
    for index, raw in enumerate(data, start=1):
        what = _("risk {index} (ryzyka)").format(index=index)
        if not isinstance(raw, dict):
            raise _not_an_object(what)
        coverages.append(
            Coverage(
                code=_text(raw, "kod", what),
                name=_optional_text(raw, "nazwa", what),
                sum_insured_gr=optional_grosze_int(raw.get("sumaGr")),
                premium_gr=optional_grosze_int(raw.get("skladkaGr")),
            )
        )
    return tuple(coverages)


def parse_installments(numer: str, data: Any) -> tuple[Installment, ...]:
    """`GET …/harmonogram` (decoded JSON) → installments; a status other than OPLACONA or
    NIEOPLACONA is a policy error."""
    what = _("payment schedule (harmonogram) of the policy {numer}").format(numer=numer)
    if not isinstance(data, dict):
        raise _not_a_json_object(what)
    if data.get("numer") != numer:
        raise ParseError(_("The {what} belongs to the policy {other!r}.").format(what=what, other=data.get("numer")))
    raty = data.get("raty")
    if not isinstance(raty, list) or not raty:
        raise ParseError(_("The {what} has no installments (raty).").format(what=what))
    installments = []
    for index, raw in enumerate(raty, start=1):
        if not isinstance(raw, dict):
            raise ParseError(_("The installment {index} of the {what} is not an object.").format(
                index=index, what=what))
        seq = raw.get("nr")
        if isinstance(seq, bool) or not isinstance(seq, int):
            raise ParseError(_(
                "The installment {index} of the {what} has the number {seq!r}, which is not a whole number."
            ).format(index=index, what=what, seq=seq))
        status = raw.get("status")
        if status not in PAID:
            raise PolicyError(_(
                "The installment {seq} of the policy {numer} has the payment status {status!r}, "
                "which is neither OPLACONA nor NIEOPLACONA."
            ).format(seq=seq, numer=numer, status=status))
        installments.append(
            Installment(
                seq=seq,
                due_date=iso_date(raw.get("termin")),
                amount_gr=grosze_int(raw.get("kwotaGr")),
                paid=PAID[status],
            )
        )
    return tuple(installments)


def parse_policy(numer: str, detail: Any, schedule: Any) -> Policy:
    """Detail and harmonogram (decoded JSON) of one policy → Policy."""
    what = _detail_of(numer)
    if not isinstance(detail, dict):
        raise _not_a_json_object(what)
    if _number(detail, what) != numer:
        raise ParseError(_("The {what} is about the policy {other!r}.").format(what=what, other=detail.get("numer")))
    line = _text(detail, "linia", what)
    if line not in PRODUCT_LINES:
        raise PolicyError(_("The policy {numer} has the line {line!r}, which is not one of {lines}.").format(
            numer=numer, line=line, lines=", ".join(PRODUCT_LINES)))
    currency = _field(detail, "waluta", what)
    if currency != CURRENCY:
        raise PolicyError(_("The policy {numer} is in the currency {currency!r}; only PLN policies are "
                            "imported.").format(numer=numer, currency=currency))
    return Policy(
        number=numer,
        insurer=INSURER,
        source_app=APP_ID,
        source_system=SOURCE_SYSTEM,
        product_line=PRODUCT_LINES[line],
        product=_text(detail, "produkt", what),
        status=_optional_text(detail, "status", what),
        issue_date=iso_date(_field(detail, "dataWystawienia", what)),
        start_date=iso_date(_field(detail, "okresOd", what)),
        end_date=iso_date(_field(detail, "okresDo", what)),
        premium_gr=grosze_int(_field(detail, "skladkaGr", what)),
        currency=currency,
        holder=parse_client(_field(detail, "ubezpieczajacy", what)),
        vehicle=parse_vehicle(detail.get("pojazd")),
        installments=parse_installments(numer, schedule),
        coverages=parse_coverages(_field(detail, "ryzyka", what)),
    )


# -- the reader ----------------------------------------------------------------------------------
class ProamaAdapter(Adapter):
    app_id = APP_ID
    title = TITLE

    def __init__(self, tab: Tab, source: str | None = None):
        super().__init__(tab, source)
        self._headers: dict[str, str] | None = None

    @classmethod
    def matches_host(cls, host: str) -> bool:
        return (host or "").lower().rstrip(".") == HOST

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
        return AppContext(app_id=APP_ID, user=name, description=description)

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
        value = (number or "").strip()
        if not NUMBER_FORMAT.match(value):
            raise BadInput(_(
                "The number {number!r} is not a Proama policy number: those are 10 digits starting with 56, "
                "for example 5600123456."
            ).format(number=number))
        return value

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


def _not_a_json_object(what: str) -> ParseError:
    return ParseError(_("The {what} is not a JSON object.").format(what=what))


def _quoting(komunikat: str | None, with_message: str, without_message: str, **values: object) -> str:
    """One of two whole sentences: the one quoting the app's message `komunikat`, or the one without it."""
    if komunikat:
        return _(with_message).format(komunikat=komunikat, **values)
    return _(without_message).format(**values)


def _raise_for_policy(numer: str, what: str, response: FetchResponse) -> NoReturn:
    """A non-200 answer about one policy → PolicyNotFound (404) or PolicyError (502, anything else).
    `what` is "detail" or "payment schedule"."""
    kod, komunikat = parse_error(response.text)
    if response.status == 404:
        raise PolicyNotFound(_quoting(
            komunikat, N_("Proama ProAgent does not find the policy {numer} (the app said: {komunikat!r})."),
            N_("Proama ProAgent does not find the policy {numer}."), numer=numer))
    if response.status == 502 or kod == KOD_BACKEND:
        raise PolicyError(_quoting(komunikat, *POLICY_SYSTEM_FAILED[what], numer=numer))
    raise PolicyError(_quoting(komunikat, *POLICY_ANSWERED[what], numer=numer, status=response.status))


def _list_failure(response: FetchResponse) -> str:
    kod, komunikat = parse_error(response.text)
    if kod == KOD_BAD_CURSOR:
        return _quoting(
            komunikat, N_("Proama ProAgent refused the paging cursor of its own policy list "
                          "(the app said: {komunikat!r}). Run the command again."),
            N_("Proama ProAgent refused the paging cursor of its own policy list. Run the command again."))
    if kod == KOD_BAD_PARAMETERS:
        return _quoting(
            komunikat, N_("Proama ProAgent refused the dates of the policy list (the app said: {komunikat!r})."),
            N_("Proama ProAgent refused the dates of the policy list."))
    return _quoting(
        komunikat, N_("Proama ProAgent answered its policy list with HTTP {status} (the app said: {komunikat!r}). "
                      "Run the command again later."),
        N_("Proama ProAgent answered its policy list with HTTP {status}. Run the command again later."),
        status=response.status)
