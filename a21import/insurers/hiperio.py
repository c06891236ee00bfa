"""ASF Premium Hiperio: a motor-only, multi-insurer sales app with a JSON API (docs/portals/hiperio.md).

The list answer carries whole records, so a period import needs no detail call: each listed item's
`ref` is its record and `read_policy` only parses it. The list is capped at 100 records
(`"obcieto": true`); a truncated window is split in halves until no answer is truncated.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

from selectolax.lexbor import LexborHTMLParser as HTMLParser

from a21import.errors import NotLoggedIn, ParseError, PolicyError, PolicyNotFound
from a21import.formats import decimal_to_gr, empty_to_none, iso_date
from a21import.i18n import N_, _
from a21import.insurers import fields
from a21import.insurers.base import Adapter, FetchResponse
from a21import.model import AppContext, Client, ListedPolicy, Policy, agent_id

APP_ID = "hiperio"
TITLE = "ASF Premium Hiperio"
HOST = "hiperio.asfpremium.pl"

# -- the tab -------------------------------------------------------------------------------------
USER_SELECTOR = "#zalogowany"
OFFICE_SELECTOR = "#kancelaria"
LOGIN_FORM_SELECTOR = "form#hiperio-login"

# -- the API -------------------------------------------------------------------------------------
LIST_PATH = "/api/sprzedaz/polisy"
POLICY_PATH = "/api/sprzedaz/polisy/{numer}"
API_HEADERS = {"Accept": "application/json"}
LIST_CAP = 100
NUMBER_FORMAT = re.compile(r"[A-Za-z0-9-]{1,30}")

KEY_POLICIES = "polisy"
KEY_TRUNCATED = "obcieto"
KEY_POLICY = "polisa"
KEY_ERROR = "blad"
# The paths of an error body's code and message, `{"blad": {"kod": …, "komunikat": …}}`.
ERROR_CODE, ERROR_MESSAGE = (KEY_ERROR, "kod"), (KEY_ERROR, "komunikat")

SESSION_EXPIRED = "SESJA_WYGASLA"
NOT_FOUND = "NIE_ZNALEZIONO"
INSURER_FAILURE = "BLAD_TOWARZYSTWA"
BAD_PARAMETERS = "NIEPRAWIDLOWE_PARAMETRY"

MOTOR_KIND = "KOMUNIKACJA"
CURRENCY = "PLN"
PERSON = "OSOBA"
COMPANY = "FIRMA"

# The mapping of docs/portals/hiperio.md as data (a21import/insurers/data/hiperio.toml); its `insurers`:
# `towarzystwo` exactly as the app writes it → canonical insurer code (the app has only motor insurers).
DATA = fields.app_data(APP_ID)
INSURERS = DATA["insurers"]

MSG_NOT_LOGGED_IN = N_(
    "The ASF Premium Hiperio tab is not logged in. Log in to Hiperio in that tab and run the command again."
)
MSG_SESSION_EXPIRED = N_(
    "The Hiperio session has expired; the app answered: {message} Log in to Hiperio again in its tab and run "
    "the command again; the policies imported so far are kept."
)
MSG_BAD_NUMBER = N_(
    "The policy number {number!r} is not a Hiperio number: Hiperio numbers are 1 to 30 letters, digits or "
    "hyphens, such as 908012399871."
)
MSG_UNKNOWN_INSURER = N_(
    "The insurer name {name!r} is not known to a21import, so policy {number} was not imported; "
    "the Hiperio insurer table needs this name."
)
MSG_APP_FAILED = N_("Hiperio could not read policy {number} ({code}): {message}")
MSG_INCOMPLETE_DAY = N_(
    "Hiperio returned only the first {cap} policies issued on {day}; the rest of that day could not be read."
)
MSG_LIST_FAILED = N_("Hiperio did not list the policies issued from {date_from} to {date_to}: {reason}")
MSG_NOT_FOUND = N_("Hiperio has no policy numbered {number}; the app answered: {message}")
MSG_NOT_MOTOR = N_(
    "Policy {number} has rodzaj {kind!r} instead of KOMUNIKACJA, which breaks Hiperio's motor-only "
    "contract, so it was not imported."
)
MSG_CURRENCY = N_("Policy {number} is in currency {currency!r}; only PLN policies are imported.")


# -- pure parse functions --------------------------------------------------------------------------
def parse_context(html: str) -> AppContext:
    """The logged-in user and office from the header every logged-in page has."""
    tree = HTMLParser(html)
    user_node = tree.css_first(USER_SELECTOR)
    if user_node is None:
        raise NotLoggedIn(_(MSG_NOT_LOGGED_IN))
    user = empty_to_none(user_node.text())
    office_node = tree.css_first(OFFICE_SELECTOR)
    office = empty_to_none(office_node.text()) if office_node is not None else None
    if office:
        description = (
            _("Logged in to {app} as {user} of {office}.").format(app=TITLE, user=user, office=office) if user
            else _("Logged in to {app} as an unnamed user of {office}.").format(app=TITLE, office=office)
        )
    else:
        description = (
            _("Logged in to {app} as {user}.").format(app=TITLE, user=user) if user
            else _("Logged in to {app} as an unnamed user.").format(app=TITLE)
        )
    # Hiperio shows no agent number: the agent is the user's name in `#zalogowany`.
    return AppContext(app_id=APP_ID, user=user, description=description, agent=agent_id(APP_ID, user))


def insurer_code(name: object, number: str) -> str:
    """`towarzystwo` → canonical code; a name not in the table is a policy error, never a guess."""
    code = fields.insurer_code(INSURERS, name)
    if code is None:
        raise PolicyError(_(MSG_UNKNOWN_INSURER).format(name=name, number=number))
    return code


def parse_error(text: str) -> tuple[str, str] | None:
    """`{"blad":{"kod":…,"komunikat":…}}` → (kod, komunikat); None when the text is no such body."""
    return _error_of(text)


def parse_list(text: str) -> tuple[list[ListedPolicy], bool]:
    """The list answer → (items in the app's order, whether it was truncated at 100)."""
    data = _load_json(text, _("the list of policies"))
    records = data.get(KEY_POLICIES)
    truncated = data.get(KEY_TRUNCATED)
    if not isinstance(records, list):
        raise ParseError(_("The list of policies has no '{key}' array.").format(key=KEY_POLICIES))
    if not isinstance(truncated, bool):
        raise ParseError(_("The list of policies has no true or false '{key}'.").format(key=KEY_TRUNCATED))
    return [parse_list_record(record, position) for position, record in enumerate(records, 1)], truncated


def parse_list_record(record: object, position: int = 1) -> ListedPolicy:
    """One record of the list (or of a look-up). A short record with `blad`, or an insurer name not in the
    table, becomes an item carrying its error; anything else wrong shows when `parse_policy` reads it."""
    number = record.get("numer") if isinstance(record, dict) else None
    if not isinstance(number, str) or not number.strip():
        return ListedPolicy(
            number=_("(record {position})").format(position=position), insurer=None,
            error=_("Hiperio listed a record without a policy number at position {position} of its answer.").format(
                position=position),
        )
    name = record.get("towarzystwo")
    code = fields.insurer_code(INSURERS, name)
    failure = _error_of(record)
    if failure is None and record.get(KEY_ERROR) is not None:
        failure = ("?", _("the record's 'blad' has no kod and komunikat."))
    if failure is not None:
        kod, message = failure
        return ListedPolicy(
            number=number, insurer=code, issue_date=fields.lenient(lambda: iso_date(record.get("dataWystawienia"))),
            error=_(MSG_APP_FAILED).format(number=number, message=message, code=kod),
        )
    if code is None:
        return ListedPolicy(number=number, insurer=None, error=_(MSG_UNKNOWN_INSURER).format(name=name, number=number))
    # The list's display columns only: the full check happens in parse_policy.
    r = HIPERIO.read(_("the record of policy {number}").format(number=number), record)
    return ListedPolicy(
        number=number,
        insurer=code,
        product=fields.lenient(lambda: r.optional_text("produkt")),
        holder_name=fields.lenient(lambda: _holder_name(r.obj("ubezpieczajacy"))),
        issue_date=fields.lenient(lambda: r.date("dataWystawienia")),
        premium_gr=fields.lenient(lambda: r.amount("skladka")),
        ref=record,
    )


def parse_single(text: str) -> dict[str, Any]:
    """The look-up answer `{"polisa": {…}}` → the record."""
    data = _load_json(text, _("the policy"))
    record = data.get(KEY_POLICY)
    if not isinstance(record, dict):
        raise ParseError(_("The answer for one policy has no '{key}' object.").format(key=KEY_POLICY))
    return record


HIPERIO = fields.App("Hiperio", amount=decimal_to_gr, date=iso_date)


def parse_policy(record: dict[str, Any]) -> Policy:
    """One complete record → Policy. Raises PolicyError (app failure, unknown insurer, not motor, not PLN)
    or ParseError (anything not in the documented shape)."""
    number = HIPERIO.read(_("the policy record"), record).text("numer")
    r = HIPERIO.read(_("the record of policy {number}").format(number=number), record)
    failure = _error_of(record)
    if failure is not None:
        raise PolicyError(_(MSG_APP_FAILED).format(number=number, message=failure[1], code=failure[0]))
    insurer = insurer_code(record.get("towarzystwo"), number)
    kind = r.value("rodzaj")
    if kind != MOTOR_KIND:
        raise PolicyError(_(MSG_NOT_MOTOR).format(number=number, kind=kind))
    currency = r.text("waluta")
    if currency != CURRENCY:
        raise PolicyError(_(MSG_CURRENCY).format(number=number, currency=currency))
    return fields.build_policy(
        r, DATA["policy"], number=number, insurer=insurer, source_app=APP_ID, source_system=None, product_line="motor",
        currency=currency,
        holder=lambda: parse_holder(
            r.obj("ubezpieczajacy", _("the policyholder of policy {number}").format(number=number))),
        vehicle=lambda: fields.vehicle_at(r, "pojazd", DATA["vehicle"], number, required=True),
        coverages=lambda: fields.coverages_at(r, "ryzyka", DATA["coverage"], number,
                                              entry=N_("risk {position} of policy {number}")),
        installments=lambda: fields.installments_at(r, "raty", DATA["installment"], number),
    )


def parse_holder(r: fields.Reader) -> Client:
    kind = r.get("typ")
    if kind not in (PERSON, COMPANY):
        raise ParseError(_("In {where}, 'typ' is {kind!r} instead of OSOBA or FIRMA.").format(where=r.block, kind=kind))
    return fields.build_client(r, DATA["holder"], kind="person" if kind == PERSON else "company", name=_holder_name(r))


def _holder_name(r: fields.Reader) -> str:
    if r.get("typ") == COMPANY:
        return r.text("nazwa")
    return f"{r.text('imie')} {r.text('nazwisko')}"


def incomplete_day_item(day: date) -> ListedPolicy:
    """The error row of a single day still truncated at 100: its records are imported, the rest is not
    readable through this app, and the run must say so (exit 1) rather than pass silently."""
    return ListedPolicy(
        number=f"({day.isoformat()})", insurer=None, issue_date=day,
        error=_(MSG_INCOMPLETE_DAY).format(cap=LIST_CAP, day=day.isoformat()),
    )


def halves(date_from: date, date_to: date) -> tuple[tuple[date, date], tuple[date, date]]:
    """`[od, m]` and `[m+1, do]` with m = od + ⌊(do − od) / 2⌋ days."""
    middle = date_from + timedelta(days=(date_to - date_from).days // 2)
    return (date_from, middle), (middle + timedelta(days=1), date_to)


# -- small guarded readers (never a KeyError or TypeError out of a parse function) -------------------
def _load_json(text: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise ParseError(_("Hiperio answered {what} with text that is not valid JSON.").format(what=what)) from exc
    if not isinstance(data, dict):
        raise ParseError(_("Hiperio answered {what} with JSON that is not an object.").format(what=what))
    return data


def _error_of(answer: str | dict[str, Any]) -> tuple[str, str] | None:
    """(kod, komunikat) of the answer's (or record's) `blad`; None unless both are text."""
    code, message = fields.error_values(answer, ERROR_CODE, ERROR_MESSAGE)
    return None if code is None or message is None else (code, fields.sentence(message))


# -- the reader ------------------------------------------------------------------------------------
class HiperioAdapter(Adapter):
    app_id = APP_ID
    title = TITLE
    hosts = (HOST,)

    async def context(self) -> AppContext:
        return parse_context(await self.tab.html())

    def check_number(self, number: str) -> str:
        return self.typed_number(number, NUMBER_FORMAT, MSG_BAD_NUMBER)

    async def list_policies(self, date_from: date, date_to: date) -> AsyncIterator[ListedPolicy]:
        async for item in self._list_window(date_from, date_to):
            yield item

    async def _list_window(self, date_from: date, date_to: date) -> AsyncIterator[ListedPolicy]:
        try:
            items, truncated = await self._fetch_list(date_from, date_to)
        except ParseError as exc:
            # The whole window is unreadable: one red row naming it, so the run cannot end green.
            yield ListedPolicy(
                number=f"({date_from.isoformat()}..{date_to.isoformat()})", insurer=None,
                error=_(MSG_LIST_FAILED).format(date_from=date_from, date_to=date_to, reason=exc.reason),
            )
            return
        if truncated and date_from < date_to:
            # The truncated answer is dropped whole: its records come again from the halves.
            for half_from, half_to in halves(date_from, date_to):
                async for item in self._list_window(half_from, half_to):
                    yield item
            return
        for item in items:
            yield item
        if truncated:
            yield incomplete_day_item(date_from)

    async def lookup(self, number: str) -> list[ListedPolicy]:
        # A 404 raises PolicyNotFound and a 502 or a broken answer PolicyError: the core reports either under
        # the number asked (an error item would carry no insurer, so `refresh` could not match it).
        record = await self._fetch_record(self.check_number(number))
        return [parse_list_record(record)]

    async def read_policy(self, item: ListedPolicy) -> Policy:
        record = (item.ref if isinstance(item.ref, dict)
                  else await self._fetch_record(self.listed_number(item.number, NUMBER_FORMAT)))
        return parse_policy(record)

    # -- requests ----------------------------------------------------------------------------------
    async def _get(self, url: str) -> FetchResponse:
        response = await self.fetch(url, headers=API_HEADERS)
        error = parse_error(response.text)
        if response.status == 401 or (error is not None and error[0] == SESSION_EXPIRED):
            message = error[1] if error else f"HTTP {response.status}."
            raise NotLoggedIn(_(MSG_SESSION_EXPIRED).format(message=message))
        return response

    async def _fetch_list(self, date_from: date, date_to: date) -> tuple[list[ListedPolicy], bool]:
        response = await self._get(self.query(LIST_PATH, {"od": date_from.isoformat(), "do": date_to.isoformat()}))
        if response.status != 200:
            raise ParseError(_status_sentence(response))
        return parse_list(response.text)

    async def _fetch_record(self, number: str) -> dict[str, Any]:
        response = await self._get(self.path(POLICY_PATH, numer=number))
        error = parse_error(response.text)
        if response.status == 404:
            message = error[1] if error else f"HTTP {response.status}."
            raise PolicyNotFound(_(MSG_NOT_FOUND).format(number=number, message=message))
        if response.status != 200:
            if error is not None:
                raise PolicyError(_(MSG_APP_FAILED).format(number=number, message=error[1], code=error[0]))
            raise PolicyError(_("Hiperio could not read policy {number}: {reason}").format(
                number=number, reason=_status_sentence(response)))
        return parse_single(response.text)


def _status_sentence(response: FetchResponse) -> str:
    error = parse_error(response.text)
    if error is not None:
        return _("the app answered HTTP {status} ({code}): {message}").format(
            status=response.status, code=error[0], message=error[1])
    return _("the app answered HTTP {status} without its documented error body.").format(status=response.status)
