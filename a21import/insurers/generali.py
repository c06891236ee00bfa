"""Generali Merkury+ (docs/portals/generali.md): an Angular shell under /merkury/ over a JSON
API under /api/v2/.

Every API request carries `X-XSRF-TOKEN` with the value of the `XSRF-TOKEN` cookie read from
`document.cookie` just before it, because the server may rotate that cookie on any response and
then accepts only the new value. API requests of one adapter are therefore sent one at a time:
a request sent while another's response is rotating the token would go out stale. A 403 means
the token went stale anyway (the app's own front end may have rotated it): the cookie is read
again and the request retried once; a second 403 stops the import.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date
from typing import Any
from urllib.parse import unquote

from selectolax.lexbor import LexborHTMLParser

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
    iso_date,
    json_number_to_gr,
    optional_json_number_to_gr,
)
from a21import.i18n import _
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

APP_ID = "generali"
TITLE = "Generali Merkury+"
APP_NAME = "Merkury+"
HOST = "merkury.generali.pl"
INSURER = "GENERALI"
SOURCE_SYSTEM = None

LIST_PATH = "/api/v2/policies"
DETAIL_PATH = "/api/v2/policies/{id}"
LOGIN_PATH = "/login"
PAGE_SIZE = 50  # what the app's front end sends; the server accepts 1-100

XSRF_COOKIE = "XSRF-TOKEN"
XSRF_HEADER = "X-XSRF-TOKEN"
ACCEPT_JSON = {"Accept": "application/json"}

USER_SELECTOR = "#mrk-user"
AGENT_SELECTOR = "#mrk-agent"
LOGIN_FORM_SELECTOR = "form#fm1"

NUMBER_FORMAT = re.compile(r"^\d{10}$")

SEGMENT_IMPORTED = "INDIVIDUAL"
SEGMENT_SKIPPED = "CORPORATE"
SKIP_REASON = "segment CORPORATE"

PRODUCT_LINES = {"MOTOR": "motor", "HOME": "property", "TRAVEL": "travel", "ACCIDENT": "other", "LIFE": "life"}
CURRENCY = "PLN"
HOLDER_PERSON = "PERSON"
HOLDER_COMPANY = "COMPANY"

STATUS_SESSION_EXPIRED = 401
STATUS_XSRF = 403
STATUS_NOT_FOUND = 404

# document.cookie, read in the tab: the XSRF cookie is not HttpOnly so the front end can echo it.
READ_COOKIES_JS = "() => document.cookie"


# -- pure parse functions ---------------------------------------------------------------------
def xsrf_from_cookies(cookies: Any) -> str | None:
    """The value of `XSRF-TOKEN` in a `document.cookie` string, or None when it is absent."""
    if not isinstance(cookies, str):
        return None
    for part in cookies.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name == XSRF_COOKIE and value:
            # Angular's cookie reader decodes the value the same way.
            return unquote(value)
    return None


def parse_shell(html: str) -> tuple[str, str | None]:
    """The logged-in user's name and agent number from the started app's header.

    Raises NotLoggedIn when the tab shows the login page or an app that has not started."""
    tree = LexborHTMLParser(html or "")
    user_node = tree.css_first(USER_SELECTOR)
    user = user_node.text(strip=True) if user_node is not None else ""
    if user:
        agent_node = tree.css_first(AGENT_SELECTOR)
        agent = agent_node.text(strip=True) if agent_node is not None else ""
        return user, agent or None
    if tree.css_first(LOGIN_FORM_SELECTOR) is not None:
        raise NotLoggedIn(_(
            "The {title} tab shows the login page. Log in to {app} in that tab and run the command again."
        ).format(title=TITLE, app=APP_NAME))
    raise NotLoggedIn(_(
        "The {title} tab does not show a logged-in {app} (no user name in its header). "
        "Log in to {app} in that tab, wait until it has loaded, and run the command again."
    ).format(title=TITLE, app=APP_NAME))


def parse_error_message(text: str) -> str | None:
    """The `message` of the app's Spring error body, or None when the body is not that shape."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    message = data.get("message") if isinstance(data, dict) else None
    return message if isinstance(message, str) and message.strip() else None


# `where` (translated) names the part of the answer being read: "a policy list", "the vehicle of policy …".
def _not_an_object(where: str) -> ParseError:
    return ParseError(_("Merkury+ sent {where} that is not a JSON object.").format(where=where))


def _not_text(where: str, key: str, value: Any) -> ParseError:
    return ParseError(_("Merkury+ sent {where} whose {key!r} is {value!r} instead of text.").format(
        where=where, key=key, value=value))


def _unreadable(where: str, key: str, exc: ParseError) -> ParseError:
    return ParseError(_("Merkury+ sent {where} whose {key!r} cannot be read: {reason}").format(
        where=where, key=key, reason=exc))


def _get(obj: Any, key: str, where: str) -> Any:
    if not isinstance(obj, dict):
        raise _not_an_object(where)
    if key not in obj:
        raise ParseError(_("Merkury+ sent {where} without the key {key!r}.").format(where=where, key=key))
    return obj[key]


def _text(obj: Any, key: str, where: str) -> str:
    value = _get(obj, key, where)
    if not isinstance(value, str) or not value.strip():
        raise _not_text(where, key, value)
    return value


def _optional_text(obj: Any, key: str, where: str) -> str | None:
    if not isinstance(obj, dict):
        raise _not_an_object(where)
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _not_text(where, key, value)
    return value.strip() or None


def _amount(obj: Any, key: str, where: str) -> int:
    try:
        return json_number_to_gr(_get(obj, key, where))
    except ParseError as exc:
        raise _unreadable(where, key, exc) from exc


def _optional_amount(obj: Any, key: str, where: str) -> int | None:
    try:
        return optional_json_number_to_gr(_get(obj, key, where) if isinstance(obj, dict) and key in obj else None)
    except ParseError as exc:
        raise _unreadable(where, key, exc) from exc


def _date(obj: Any, key: str, where: str) -> date:
    try:
        return iso_date(_get(obj, key, where))
    except ParseError as exc:
        raise _unreadable(where, key, exc) from exc


def parse_list_item(item: Any) -> ListedPolicy:
    """One element of `content`. Raises ParseError only when the item has no usable number."""
    number = _text(item, "policyNumber", _("a list item"))
    where = _("the list item of policy {number}").format(number=number)
    try:
        segment = _text(item, "segment", where)
        listed = ListedPolicy(
            number=number,
            insurer=INSURER,
            product=_optional_text(item, "productName", where),
            holder_name=_optional_text(item, "holderName", where),
            issue_date=_date(item, "issueDate", where),
            premium_gr=_amount(item, "totalPremium", where),
            ref=_text(item, "id", where),
        )
    except ParseError as exc:
        return ListedPolicy(number=number, insurer=INSURER, error=exc.reason)
    if segment == SEGMENT_SKIPPED:
        return replace(listed, skip_reason=SKIP_REASON)
    if segment != SEGMENT_IMPORTED:
        return replace(listed, error=_unknown_segment(number, segment))
    return listed


def _unknown_segment(number: str, segment: str) -> str:
    return _("Merkury+ gives policy {number} the segment {segment!r}, which is not known.").format(
        number=number, segment=segment)


def parse_list_page(data: Any) -> tuple[list[ListedPolicy], int]:
    """A page of `GET /api/v2/policies` → (its items, `page.totalPages`)."""
    content = _get(data, "content", _("a policy list"))
    page = _get(data, "page", _("a policy list"))
    total_pages = _get(page, "totalPages", _("the paging of a policy list"))
    if not isinstance(content, list):
        raise ParseError(_("Merkury+ sent a policy list whose 'content' is not a list."))
    if isinstance(total_pages, bool) or not isinstance(total_pages, int) or total_pages < 0:
        raise ParseError(_("Merkury+ sent a policy list whose 'totalPages' is {total_pages!r}.").format(
            total_pages=total_pages))
    return [parse_list_item(item) for item in content], total_pages


def street_line(address: Any, where: str) -> str:
    """`{street} {houseNumber}` plus `/{flatNumber}` when there is one: `ul. Długa 5/12`."""
    street = _text(address, "street", where)
    house = _optional_text(address, "houseNumber", where)
    flat = _optional_text(address, "flatNumber", where)
    line = f"{street.strip()} {house}" if house else street.strip()
    return f"{line}/{flat}" if flat else line


def _identifier(obj: Any, key: str, where: str) -> str | None:
    # Kept exactly as given (digits); the model flags a bad checksum, nothing is dropped.
    return _optional_text(obj, key, where)


def parse_holder(holder: Any, number: str) -> Client:
    where = _("the policyholder of policy {number}").format(number=number)
    kind = _text(holder, "type", where)
    address = _get(holder, "address", where) if isinstance(holder, dict) and "address" in holder else None
    if address is not None:
        street, postal, city = (street_line(address, _("the policyholder's address on policy {number}").format(
                                    number=number)),
                                _optional_text(address, "postalCode", where), _optional_text(address, "city", where))
    else:
        street = postal = city = None
    common = dict(street=street, postal_code=postal, city=city,
                  phone=_optional_text(holder, "phone", where), email=_optional_text(holder, "email", where))
    if kind == HOLDER_PERSON:
        name = f"{_text(holder, 'firstName', where).strip()} {_text(holder, 'lastName', where).strip()}"
        return Client(kind="person", name=name, pesel=_identifier(holder, "pesel", where), **common)
    if kind == HOLDER_COMPANY:
        return Client(kind="company", name=_text(holder, "companyName", where).strip(),
                      nip=_identifier(holder, "nip", where), regon=_identifier(holder, "regon", where), **common)
    raise ParseError(_("Merkury+ sent {where} with the type {kind!r} instead of PERSON or COMPANY.").format(
        where=where, kind=kind))


def parse_vehicle(vehicle: Any, number: str) -> Vehicle | None:
    """The vehicle, or None when there is none or it has neither VIN nor registration (no row)."""
    if vehicle is None:
        return None
    where = _("the vehicle of policy {number}").format(number=number)
    year = vehicle.get("productionYear") if isinstance(vehicle, dict) else None
    if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
        raise ParseError(_("Merkury+ sent {where} whose 'productionYear' is {year!r} instead of a year.").format(
            where=where, year=year))
    result = Vehicle(
        registration=clean_registration(_optional_text(vehicle, "registrationNumber", where)),
        vin=clean_vin(_optional_text(vehicle, "vin", where)),
        make=_optional_text(vehicle, "make", where),
        model=_optional_text(vehicle, "model", where),
        production_year=year,
    )
    return result if result.id is not None else None


def parse_coverages(coverages: Any, number: str) -> tuple[Coverage, ...]:
    if not isinstance(coverages, list):
        raise ParseError(_("Merkury+ sent policy {number} whose 'coverages' is not a list.").format(number=number))
    result = []
    for coverage in coverages:
        where = _("a coverage of policy {number}").format(number=number)
        result.append(Coverage(
            code=_text(coverage, "code", where).strip(),
            name=_optional_text(coverage, "name", where),
            sum_insured_gr=_optional_amount(coverage, "sumInsured", where),
            premium_gr=_optional_amount(coverage, "premium", where),
        ))
    return tuple(result)


def parse_schedule(schedule: Any, number: str) -> tuple[Installment, ...]:
    if not isinstance(schedule, list):
        raise ParseError(_("Merkury+ sent policy {number} whose 'paymentSchedule' is not a list.").format(
            number=number))
    result = []
    for entry in schedule:
        where = _("an installment of policy {number}").format(number=number)
        seq = _get(entry, "installmentNumber", where)
        paid = _get(entry, "paid", where)
        if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
            raise ParseError(_("Merkury+ sent {where} whose 'installmentNumber' is {seq!r}.").format(
                where=where, seq=seq))
        if not isinstance(paid, bool):
            raise ParseError(_("Merkury+ sent {where} whose 'paid' is {paid!r} instead of true or false.").format(
                where=where, paid=paid))
        result.append(Installment(seq=seq, due_date=_date(entry, "dueDate", where),
                                  amount_gr=_amount(entry, "amount", where), paid=paid))
    return tuple(result)


def parse_policy(data: Any) -> Policy:
    """The detail `GET /api/v2/policies/{id}` → Policy.

    Raises ParseError (malformed), OutOfScope (CORPORATE) or PolicyError (unknown segment or product
    line, a currency other than PLN)."""
    number = _text(data, "policyNumber", _("a policy"))
    where = _("policy {number}").format(number=number)
    segment = _text(data, "segment", where)
    if segment == SEGMENT_SKIPPED:
        raise OutOfScope(_("Policy {number} is not imported: {reason}.").format(number=number, reason=SKIP_REASON))
    if segment != SEGMENT_IMPORTED:
        raise PolicyError(_unknown_segment(number, segment))
    line_code = _text(data, "productLine", where)
    if line_code not in PRODUCT_LINES:
        raise PolicyError(_("Merkury+ gives policy {number} the product line {line!r}, which is not known.").format(
            number=number, line=line_code))
    currency = _text(data, "currency", where)
    if currency != CURRENCY:
        raise PolicyError(_("Policy {number} is in {currency}, but only policies in PLN are imported.").format(
            number=number, currency=currency))
    period = _get(data, "period", where)
    period_where = _("the period of policy {number}").format(number=number)
    return Policy(
        number=number,
        insurer=INSURER,
        source_app=APP_ID,
        source_system=SOURCE_SYSTEM,
        product_line=PRODUCT_LINES[line_code],
        product=_text(data, "productName", where).strip(),
        status=_optional_text(data, "status", where),
        issue_date=_date(data, "issueDate", where),
        start_date=_date(period, "startDate", period_where),
        end_date=_date(period, "endDate", period_where),
        premium_gr=_amount(data, "totalPremium", where),
        currency=currency,
        holder=parse_holder(_get(data, "policyholder", where), number),
        vehicle=parse_vehicle(data.get("vehicle"), number),
        installments=parse_schedule(_get(data, "paymentSchedule", where), number),
        coverages=parse_coverages(_get(data, "coverages", where), number),
    )


# -- the reader -------------------------------------------------------------------------------
class GeneraliAdapter(Adapter):
    app_id = APP_ID
    title = TITLE

    def __init__(self, tab: Tab, source: str | None = None):
        super().__init__(tab, source)
        self._api_lock: asyncio.Lock | None = None
        # Once the session or the token is gone, reads queued behind the failed one must not go on
        # asking the server: they meet the same stop.
        self._stopped: EnvironmentProblem | None = None

    @classmethod
    def matches_host(cls, host: str) -> bool:
        return (host or "").lower().rstrip(".") == HOST

    async def context(self) -> AppContext:
        user, agent = parse_shell(await self.tab.html())
        if agent:
            description = _("Logged in to {app} as {user} (agent {agent}).").format(app=TITLE, user=user, agent=agent)
        else:
            description = _("Logged in to {app} as {user}.").format(app=TITLE, user=user)
        return AppContext(app_id=APP_ID, user=user, description=description)

    def check_number(self, number: str) -> str:
        value = (number or "").strip()
        if not NUMBER_FORMAT.match(value):
            raise BadInput(_("The policy number {number!r} is not a Merkury+ policy number, which has exactly 10 "
                             "digits.").format(number=number))
        return value

    async def list_policies(self, date_from: date, date_to: date) -> AsyncIterator[ListedPolicy]:
        seen: set[str] = set()
        guard = self.pages()
        page, total_pages = 0, 1
        while page < total_pages:
            query = {"issueDateFrom": date_from.isoformat(), "issueDateTo": date_to.isoformat(),
                     "page": page, "size": PAGE_SIZE}
            items, total_pages = await self._list_page(query)
            for item in items:
                # A policy issued while paging shifts later pages by one; the repeat is dropped.
                if item.number not in seen:
                    seen.add(item.number)
                    yield item
            if not items:
                break
            page += 1
            if page < total_pages:
                guard.more(items)

    async def lookup(self, number: str) -> list[ListedPolicy]:
        number = self.check_number(number)
        items, _pages = await self._list_page({"policyNumber": number, "page": 0, "size": PAGE_SIZE})
        found = [item for item in items if item.number == number]
        if not found:
            raise PolicyNotFound(_("Merkury+ has no policy with the number {number}.").format(number=number))
        return found

    async def read_policy(self, item: ListedPolicy) -> Policy:
        ref = item.ref
        if not ref:
            ref = (await self.lookup(item.number))[0].ref
        response = await self._api_get(self.path(DETAIL_PATH, id=ref))
        if response.status == STATUS_NOT_FOUND:
            message = parse_error_message(response.text) or _("no message")
            raise PolicyNotFound(_("Merkury+ does not find policy {number} ({message}).").format(
                number=item.number, message=message))
        if response.status != 200:
            message = parse_error_message(response.text) or _http_status(response.status)
            ending = "" if message.endswith((".", "!", "?")) else "."
            raise PolicyError(_("Merkury+ could not show policy {number}: {message}{ending}").format(
                number=item.number, message=message, ending=ending))
        policy = parse_policy(response.json())
        if policy.number != item.number:
            raise ParseError(_("Merkury+ answered the request for policy {asked} with policy {got}.").format(
                asked=item.number, got=policy.number))
        return policy

    # -- requests ---------------------------------------------------------------------------
    async def _list_page(self, query: dict[str, Any]) -> tuple[list[ListedPolicy], int]:
        response = await self._api_get(self.query(LIST_PATH, query))
        if response.status != 200:
            message = parse_error_message(response.text) or _http_status(response.status)
            raise EnvironmentProblem(_(
                "Merkury+ refused the policy list ({message}). Check that Merkury+ works in the browser "
                "and run the command again."
            ).format(message=message))
        try:
            return parse_list_page(response.json())
        except ParseError as exc:
            raise EnvironmentProblem(_("The policy list of Merkury+ cannot be read: {reason}").format(
                reason=exc.reason)) from exc

    async def _api_get(self, url: str) -> FetchResponse:
        """One API request with the current XSRF token; 401 → NotLoggedIn, a second 403 → stop."""
        if self._api_lock is None:
            self._api_lock = asyncio.Lock()
        async with self._api_lock:
            if self._stopped is not None:
                raise type(self._stopped)(self._stopped.message)
            try:
                return await self._api_get_with_retry(url)
            except EnvironmentProblem as exc:
                self._stopped = exc
                raise

    async def _api_get_with_retry(self, url: str) -> FetchResponse:
        for _attempt in range(2):
            token = xsrf_from_cookies(await self.tab.evaluate(READ_COOKIES_JS))
            headers = dict(ACCEPT_JSON)
            if token:
                headers[XSRF_HEADER] = token
            response = await self.fetch(url, headers=headers)
            if response.status == STATUS_SESSION_EXPIRED or response.path == LOGIN_PATH:
                raise NotLoggedIn(_(
                    "The {app} session has expired. Log in to {app} again in the same tab and "
                    "run the command again; the policies imported so far are kept."
                ).format(app=APP_NAME))
            if response.status != STATUS_XSRF:
                return response
        message = parse_error_message(response.text) or _http_status(STATUS_XSRF)
        raise EnvironmentProblem(_(
            "{app} refused its own security token twice ({message}). Reload the {app} tab "
            "and run the command again; the policies imported so far are kept."
        ).format(app=APP_NAME, message=message))


def _http_status(status: int) -> str:
    """Stands in the message for an error answer that carries no message of the app."""
    return _("HTTP status {status}").format(status=status)
