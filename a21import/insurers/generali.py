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
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date
from typing import Any
from urllib.parse import unquote

from selectolax.lexbor import LexborHTMLParser

from a21import.errors import (EnvironmentProblem, NotLoggedIn, OutOfScope, ParseError, PolicyError,
                              PolicyNotFound)
from a21import.formats import iso_date, json_number_to_gr
from a21import.i18n import N_, _
from a21import.insurers import fields
from a21import.insurers.base import Adapter, FetchResponse
from a21import.model import AppContext, Client, ListedPolicy, Policy, agent_id

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
    message = fields.error_values(text, "message")[0]
    return message if message and message.strip() else None


# The mapping of docs/portals/generali.md as data (a21import/insurers/data/generali.toml); the street
# line is built by `street_line`. `block` names (translated) say which part of the answer is read:
# "policy …", "the vehicle of policy …".
DATA = fields.app_data(APP_ID)
MERKURY = fields.App(APP_NAME, amount=json_number_to_gr, date=iso_date)


def parse_list_item(item: Any) -> ListedPolicy:
    """One element of `content`. Raises ParseError only when the item has no usable number."""
    number = MERKURY.read(_("a list item"), item).text("policyNumber")
    r = MERKURY.read(_("the list item of policy {number}").format(number=number), item)
    try:
        segment = r.text("segment")
        listed = ListedPolicy(
            number=number,
            insurer=INSURER,
            product=r.optional_text("productName"),
            holder_name=r.optional_text("holderName"),
            issue_date=r.date("issueDate"),
            premium_gr=r.amount("totalPremium"),
            ref=r.text("id"),
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
    r = MERKURY.read(_("a policy list"), data)
    content = r.list("content", allow_empty=True)
    total_pages = r.obj("page", _("the paging of a policy list")).integer("totalPages", minimum=0)
    return [parse_list_item(item) for item in content], total_pages


def street_line(address: fields.Reader) -> str:
    """`{street} {houseNumber}` plus `/{flatNumber}` when there is one: `ul. Długa 5/12`."""
    street = address.text("street")
    house, flat = address.optional_text("houseNumber"), address.optional_text("flatNumber")
    line = f"{street} {house}" if house else street
    return f"{line}/{flat}" if flat else line


def parse_holder(r: fields.Reader, number: str) -> Client:
    # Identifiers are kept exactly as given (digits); the model flags a bad checksum, nothing is dropped.
    kind = r.text("type")
    address = r.optional_obj("address", _("the policyholder's address on policy {number}").format(number=number))
    street = street_line(address) if address is not None else None
    if kind == HOLDER_PERSON:
        name = f"{r.text('firstName')} {r.text('lastName')}"
        keys = {key: value for key, value in DATA["holder"].items() if key not in ("nip", "regon")}
        return fields.build_client(r, keys, kind="person", name=name, street=street)
    if kind == HOLDER_COMPANY:
        keys = {key: value for key, value in DATA["holder"].items() if key != "pesel"}
        return fields.build_client(r, keys, kind="company", name=r.text("companyName"), street=street)
    raise ParseError(_("Merkury+ sent {where} with the type {kind!r} instead of PERSON or COMPANY.").format(
        where=r.block, kind=kind))


def parse_policy(data: Any) -> Policy:
    """The detail `GET /api/v2/policies/{id}` → Policy.

    Raises ParseError (malformed), OutOfScope (CORPORATE) or PolicyError (unknown segment or product
    line, a currency other than PLN)."""
    number = MERKURY.read(_("a policy"), data).text("policyNumber")
    r = MERKURY.read(_("policy {number}").format(number=number), data)
    segment = r.text("segment")
    if segment == SEGMENT_SKIPPED:
        raise OutOfScope(_("Policy {number} is not imported: {reason}.").format(number=number, reason=SKIP_REASON))
    if segment != SEGMENT_IMPORTED:
        raise PolicyError(_unknown_segment(number, segment))
    line_code = r.text("productLine")
    if line_code not in PRODUCT_LINES:
        raise PolicyError(_("Merkury+ gives policy {number} the product line {line!r}, which is not known.").format(
            number=number, line=line_code))
    currency = r.text("currency")
    if currency != CURRENCY:
        raise PolicyError(_("Policy {number} is in {currency}, but only policies in PLN are imported.").format(
            number=number, currency=currency))
    r.obj("period", _("the period of policy {number}").format(number=number))
    return fields.build_policy(
        r, DATA["policy"], number=number, insurer=INSURER, source_app=APP_ID, source_system=SOURCE_SYSTEM,
        product_line=PRODUCT_LINES[line_code], currency=currency,
        holder=lambda: parse_holder(
            r.obj("policyholder", _("the policyholder of policy {number}").format(number=number)), number),
        vehicle=lambda: fields.vehicle_at(r, "vehicle", DATA["vehicle"], number),
        installments=lambda: fields.installments_at(r, "paymentSchedule", DATA["installment"], number,
                                                    allow_empty=True),
        coverages=lambda: fields.coverages_at(r, "coverages", DATA["coverage"], number, allow_empty=True),
    )


# -- the reader -------------------------------------------------------------------------------
class GeneraliAdapter(Adapter):
    app_id = APP_ID
    title = TITLE
    hosts = (HOST,)
    # Per adapter, made by its first API request.
    _api_lock: asyncio.Lock | None = None
    # Once the session or the token is gone, reads queued behind the failed one must not go on
    # asking the server: they meet the same stop.
    _stopped: EnvironmentProblem | None = None

    async def context(self) -> AppContext:
        user, agent = parse_shell(await self.tab.html())
        if agent:
            description = _("Logged in to {app} as {user} (agent {agent}).").format(app=TITLE, user=user, agent=agent)
        else:
            description = _("Logged in to {app} as {user}.").format(app=TITLE, user=user)
        return AppContext(app_id=APP_ID, user=user, description=description, agent=agent_id(APP_ID, agent))

    def check_number(self, number: str) -> str:
        return self.typed_number(number, NUMBER_FORMAT, N_(
            "The policy number {number!r} is not a Merkury+ policy number, which has exactly 10 digits."))

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
