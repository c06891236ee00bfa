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
from urllib.parse import quote, urlencode

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

NOT_LOGGED_IN = (
    "The Proama ProAgent tab is not logged in (it holds no access token). "
    "Log in to ProAgent in that tab and run the command again."
)
SESSION_EXPIRED = (
    "The Proama ProAgent session has expired (the app said: {komunikat!r}). "
    "Log in to ProAgent in the same tab and run the command again; the policies imported so far are kept."
)


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
        raise NotLoggedIn(NOT_LOGGED_IN)
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


def _field(data: dict, key: str, what: str) -> Any:
    if not isinstance(data, dict) or key not in data:
        raise ParseError(f"The {what} has no {key!r}.")
    return data[key]


def _text(data: dict, key: str, what: str) -> str:
    value = _field(data, key, what)
    if not isinstance(value, str) or not value.strip():
        raise ParseError(f"The {what} has no text in {key!r} (it has {value!r}).")
    return value.strip()


def _optional_text(data: dict, key: str, what: str) -> str | None:
    value = data.get(key) if isinstance(data, dict) else None
    if value is not None and not isinstance(value, str):
        raise ParseError(f"The {what} has {value!r} in {key!r}, which is not text.")
    return empty_to_none(value)


def _number(data: dict, what: str) -> str:
    numer = _text(data, "numer", what)
    if not NUMBER_FORMAT.match(numer):
        raise ParseError(f"The {what} has the number {numer!r}, which is not of the form 56 and 8 digits.")
    return numer


def _flag(data: dict, what: str) -> bool:
    value = _field(data, "klientIndywidualny", what)
    if not isinstance(value, bool):
        raise ParseError(f"The {what} has {value!r} in 'klientIndywidualny', which is neither true nor false.")
    return value


def parse_list_page(data: Any) -> tuple[list[ListedPolicy], str | None]:
    """One page of `GET /agent-api/v1/polisy` (decoded JSON) → (items, nastepnyKursor or None).

    Items of non-individual clients carry `skip_reason`; an item whose other fields are unusable
    carries `error` (it is red), while a page without the documented shape raises ParseError.
    """
    if not isinstance(data, dict) or not isinstance(data.get("pozycje"), list) or "nastepnyKursor" not in data:
        raise ParseError("The ProAgent policy list does not have the documented shape (pozycje, nastepnyKursor).")
    cursor = data["nastepnyKursor"]
    if cursor is not None and (not isinstance(cursor, str) or not cursor):
        raise ParseError(f"The ProAgent policy list has the cursor {cursor!r}, which is not text.")
    items = []
    for index, raw in enumerate(data["pozycje"], start=1):
        if not isinstance(raw, dict):
            raise ParseError(f"The item {index} of the ProAgent policy list is not an object.")
        numer = _number(raw, f"item {index} of the ProAgent policy list")
        items.append(parse_list_item(numer, raw))
    return items, cursor


def parse_list_item(numer: str, raw: dict) -> ListedPolicy:
    what = f"list item of the policy {numer}"
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
    if not isinstance(data, dict):
        raise ParseError(f"The detail of the policy {numer} is not a JSON object.")
    what = f"detail of the policy {numer}"
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
    what = "policyholder (ubezpieczajacy)"
    if not isinstance(data, dict):
        raise ParseError(f"The {what} is not an object.")
    kind = _field(data, "typ", what)
    if kind == PERSON:
        name = f"{_text(data, 'imie', what)} {_text(data, 'nazwisko', what)}"
    elif kind == COMPANY:
        name = _text(data, "nazwa", what)
    else:
        raise ParseError(f"The {what} has the type {kind!r}, which is neither {PERSON} nor {COMPANY}.")
    address = _field(data, "adres", what)
    if address is not None and not isinstance(address, dict):
        raise ParseError(f"The address of the {what} is not an object.")
    address = address or {}
    return Client(
        kind="person" if kind == PERSON else "company",
        name=name,
        pesel=_optional_text(data, "pesel", what),
        nip=_optional_text(data, "nip", what),
        regon=_optional_text(data, "regon", what),
        street=_optional_text(address, "ulica", f"address of the {what}"),
        postal_code=_optional_text(address, "kodPocztowy", f"address of the {what}"),
        city=_optional_text(address, "miejscowosc", f"address of the {what}"),
        phone=_optional_text(data, "telefon", what),
        email=_optional_text(data, "email", what),
    )


def parse_vehicle(data: Any) -> Vehicle | None:
    """`pojazd` → Vehicle; None when `pojazd` is null or has neither VIN nor registration."""
    what = "vehicle (pojazd)"
    if data is None:
        return None
    if not isinstance(data, dict):
        raise ParseError(f"The {what} is not an object.")
    year = data.get("rokProdukcji")
    if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
        raise ParseError(f"The {what} has the production year {year!r}, which is not a whole number.")
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
        raise ParseError("The policy has no list of risks (ryzyka).")
    coverages = []
    for index, raw in enumerate(data, start=1):
        what = f"risk {index} (ryzyka)"
        if not isinstance(raw, dict):
            raise ParseError(f"The {what} is not an object.")
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
    what = f"payment schedule (harmonogram) of the policy {numer}"
    if not isinstance(data, dict):
        raise ParseError(f"The {what} is not a JSON object.")
    if data.get("numer") != numer:
        raise ParseError(f"The {what} belongs to the policy {data.get('numer')!r}.")
    raty = data.get("raty")
    if not isinstance(raty, list) or not raty:
        raise ParseError(f"The {what} has no installments (raty).")
    installments = []
    for index, raw in enumerate(raty, start=1):
        if not isinstance(raw, dict):
            raise ParseError(f"The installment {index} of the {what} is not an object.")
        seq = raw.get("nr")
        if isinstance(seq, bool) or not isinstance(seq, int):
            raise ParseError(
                f"The installment {index} of the {what} has the number {seq!r}, which is not a whole number."
            )
        status = raw.get("status")
        if status not in PAID:
            raise PolicyError(
                f"The installment {seq} of the policy {numer} has the payment status {status!r}, "
                "which is neither OPLACONA nor NIEOPLACONA."
            )
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
    what = f"detail of the policy {numer}"
    if not isinstance(detail, dict):
        raise ParseError(f"The {what} is not a JSON object.")
    if _number(detail, what) != numer:
        raise ParseError(f"The {what} is about the policy {detail.get('numer')!r}.")
    line = _text(detail, "linia", what)
    if line not in PRODUCT_LINES:
        raise PolicyError(
            f"The policy {numer} has the line {line!r}, which is not one of {', '.join(PRODUCT_LINES)}."
        )
    currency = _field(detail, "waluta", what)
    if currency != CURRENCY:
        raise PolicyError(f"The policy {numer} is in the currency {currency!r}; only PLN policies are imported.")
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
            description = f"Logged in to {TITLE} as {name} (agent {number})."
        elif name:
            description = f"Logged in to {TITLE} as {name}."
        else:
            description = f"Logged in to {TITLE}."
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
            raise NotLoggedIn(SESSION_EXPIRED.format(komunikat=komunikat or f"HTTP 401 {KOD_UNAUTHORISED}"))
        return response

    def check_number(self, number: str) -> str:
        value = (number or "").strip()
        if not NUMBER_FORMAT.match(value):
            raise BadInput(
                f"The number {number!r} is not a Proama policy number: those are 10 digits starting with 56, "
                "for example 5600123456."
            )
        return value

    async def list_policies(self, date_from: date, date_to: date) -> AsyncIterator[ListedPolicy]:
        query = urlencode({"dataOd": date_from.isoformat(), "dataDo": date_to.isoformat(), "limit": PAGE_LIMIT})
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            # The cursor is opaque and may hold "+", "/" and "=": encoded like encodeURIComponent.
            url = f"{LIST_PATH}?{query}" + (f"&kursor={quote(cursor, safe='')}" if cursor else "")
            response = await self._get(url)
            if response.status != 200:
                raise EnvironmentProblem(_list_failure(response))
            try:
                items, cursor = parse_list_page(response.json())
            except ParseError as exc:
                # Without the list no policy can be read: the whole import stops, not one policy.
                message = f"{exc.reason} Nothing more can be listed; run the command again later."
                raise EnvironmentProblem(message) from exc
            for item in items:
                yield item
            if cursor is None:
                return
            if cursor in seen:
                raise EnvironmentProblem(
                    "The ProAgent policy list gave the same cursor twice, so its pages never end. "
                    "Run the command again later."
                )
            seen.add(cursor)

    async def _detail(self, numer: str) -> FetchResponse:
        return await self._get(DETAIL_PATH.format(numer=numer))

    async def _schedule(self, numer: str) -> FetchResponse:
        return await self._get(SCHEDULE_PATH.format(numer=numer))

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
        numer = item.number
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
    """A non-200 answer about one policy → PolicyNotFound (404) or PolicyError (502, anything else)."""
    kod, komunikat = parse_error(response.text)
    said = f" (the app said: {komunikat!r})" if komunikat else ""
    if response.status == 404:
        raise PolicyNotFound(f"Proama ProAgent does not find the policy {numer}{said}.")
    if response.status == 502 or kod == KOD_BACKEND:
        raise PolicyError(f"Proama's policy system failed on the {what} of the policy {numer}{said}.")
    raise PolicyError(
        f"Proama ProAgent answered the {what} of the policy {numer} with HTTP {response.status}{said}."
    )


def _list_failure(response: FetchResponse) -> str:
    kod, komunikat = parse_error(response.text)
    said = f" (the app said: {komunikat!r})" if komunikat else ""
    if kod == KOD_BAD_CURSOR:
        return f"Proama ProAgent refused the paging cursor of its own policy list{said}. Run the command again."
    if kod == KOD_BAD_PARAMETERS:
        return f"Proama ProAgent refused the dates of the policy list{said}."
    return f"Proama ProAgent answered its policy list with HTTP {response.status}{said}. Run the command again later."
