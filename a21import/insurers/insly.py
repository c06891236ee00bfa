"""INSLY (app id `insly`): a multi-insurer SaaS, one tenant per host `<tenant>.insly.com`.

Reads as docs/portals/insly.md tells it: the tab's DOM gives the user and the CSRF token
(`meta[name="csrf-token"]`), `POST /api/policy/list` lists (JSON filter, dd.mm.yyyy dates,
page/per_page) and looks up by number, `GET /api/policy/{policy_id}` gives one policy with its
coverages and installments. Only `product_group` `motor` is imported; the insurer comes from a
display-name table. The parse functions below are pure; the adapter only fetches.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from selectolax.lexbor import LexborHTMLParser

from a21import.errors import (EnvironmentProblem, NotLoggedIn, OutOfScope, ParseError, PolicyError,
                              PolicyNotFound)
from a21import.formats import decimal_to_gr, empty_to_none, fmt_pl_date, pl_date
from a21import.i18n import N_, _
from a21import.insurers import fields
from a21import.insurers.base import Adapter, FetchResponse, normal_host
from a21import.model import AppContext, Client, ListedPolicy, Policy, agent_id

APP_ID = "insly"
TITLE = "INSLY"
SOURCE_SYSTEM = None

# Any one-label subdomain of insly.com is a tenant; www is the vendor's own site.
TENANT_SUFFIX = ".insly.com"
NOT_TENANTS = ("www",)
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")  # one DNS label

LIST_PATH = "/api/policy/list"
DETAIL_PATH = "/api/policy/{policy_id}"
PER_PAGE = 50

CSRF_META = 'meta[name="csrf-token"]'
CSRF_HEADER = "X-CSRF-Token"
USER_SELECTOR = "#topbar .user-name"
TENANT_SELECTOR = "#topbar .tenant-name"
LOGIN_FORM_SELECTOR = "form#login-form"
READ_CSRF_JS = """() => {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : null;
}"""

JSON_TYPE = "application/json"
STATUS_CSRF_MISMATCH = 419
STATUS_UNAUTHENTICATED = 401
STATUS_NOT_FOUND = 404

MOTOR = "motor"
PRODUCT_GROUPS = ("motor", "property", "travel", "life", "other")
CUSTOMER_KINDS = {"individual": "person", "company": "company"}
CURRENCY = "PLN"

# The mapping of docs/portals/insly.md as data (a21import/insurers/data/insly.toml); its `insurers`:
# the `insurer` display names, exact and case-sensitive (nothing else is guessed) → canonical code.
DATA = fields.app_data(APP_ID)
INSURER_CODES = DATA["insurers"]

POLICY_NO_PATTERN = re.compile(r"^[A-Za-z0-9/-]{1,40}$")
YEAR_PATTERN = re.compile(r"^\d{4}$")

# -- messages ---------------------------------------------------------------------------------
MSG_BAD_NUMBER = N_(
    "The policy number {number!r} is not an Insly policy number: it must be 1 to 40 letters, digits, "
    "slashes and hyphens, for example 908012345678 or ZD/2026/118833."
)
MSG_TAB_NOT_LOGGED_IN = N_(
    "The INSLY tab at {host} is not logged in. Log in to Insly in that tab and run the command again."
)
MSG_NO_CSRF = N_(
    "The INSLY tab at {host} has no CSRF token in its page. Reload the Insly tab, log in if asked, "
    "and run the command again."
)
MSG_CSRF_MISMATCH = N_(
    "Insly at {host} refused the request with \"{message}\": the session has expired or the tab's page is "
    "older than the last login. Log in to Insly, reload the Insly tab, and run the command again; the "
    "policies imported so far are kept."
)
MSG_UNAUTHENTICATED = N_(
    "Insly at {host} answered \"{message}\": the session has expired. Log in to Insly, reload the Insly tab, "
    "and run the command again; the policies imported so far are kept."
)
MSG_LIST_FAILED = N_(
    "Insly at {host} answered the policy list with {answer}. Check that Insly works in the browser and run "
    "the command again."
)
MSG_LIST_UNREADABLE = N_("The Insly policy list at {host} could not be read: {reason}")
MSG_NOT_FOUND = N_("Insly has no policy number {number}.")
MSG_DETAIL_NOT_FOUND = N_("Insly answered \"{message}\" for policy {number}.")
MSG_DETAIL_FAILED = N_("Insly failed to read policy {number}: the app answered {answer}.")
MSG_UNKNOWN_INSURER = N_(
    "The insurer name '{name}' of policy {number} is not known to a21import's Insly table, so the policy "
    "is not imported; the name must be added to the table first."
)
MSG_BAD_GROUP = N_(
    "The product group '{group}' of policy {number} is not one of motor, property, travel, life and other, "
    "so the policy is not imported."
)
MSG_CURRENCY = N_("Policy {number} is in the currency '{currency}'; only PLN policies are imported.")
SKIP_REASON = "product_group {group}"

INSLY = fields.App("Insly", amount=decimal_to_gr, date=pl_date)


# -- pure parse functions ---------------------------------------------------------------------
@dataclass(frozen=True)
class TabPage:
    """What the Insly tab's DOM tells: who is logged in (None on the login page) and the CSRF token."""

    user: str | None
    tenant: str | None
    csrf_token: str | None
    login_form: bool


def parse_tab_page(html: str) -> TabPage:
    tree = LexborHTMLParser(html or "")
    user = tree.css_first(USER_SELECTOR)
    tenant = tree.css_first(TENANT_SELECTOR)
    meta = tree.css_first(CSRF_META)
    return TabPage(
        user=empty_to_none(user.text()) if user is not None else None,
        tenant=empty_to_none(tenant.text()) if tenant is not None else None,
        csrf_token=empty_to_none(meta.attributes.get("content")) if meta is not None else None,
        login_form=tree.css_first(LOGIN_FORM_SELECTOR) is not None,
    )


def parse_message(text: str) -> str | None:
    """The `message` of an Insly error body (`{"message":"Server Error"}`), None if there is none."""
    return fields.error_values(text, "message")[0]


def describe_answer(response: FetchResponse) -> str:
    """`HTTP 500 "Server Error"`, or `HTTP 502 without a message`, for the sentences that quote the app."""
    message = parse_message(response.text)
    if message:
        return f'HTTP {response.status} "{message}"'
    return _("HTTP {status} without a message").format(status=response.status)


def insurer_code(name: Any) -> str | None:
    """The canonical code of an Insly insurer display name; None when the table does not know it."""
    return fields.insurer_code(INSURER_CODES, name)


def parse_list_page(text: str) -> tuple[list[ListedPolicy], int]:
    """One answer of POST /api/policy/list → its items and `meta.pages`."""
    body = _json(text, _("The Insly policy list"))
    data = body.get("data") if isinstance(body, dict) else None
    meta = body.get("meta") if isinstance(body, dict) else None
    if not isinstance(data, list) or not isinstance(meta, dict):
        raise ParseError(_("The Insly policy list has no 'data' list or no 'meta' object."))
    pages = INSLY.read(_("the policy list"), meta).integer("pages", minimum=0)
    return [parse_list_item(raw) for raw in data], pages


def parse_list_item(raw: Any) -> ListedPolicy:
    """One item of the list. Raises ParseError only when it has no usable policy number; every other
    problem makes the item red (`error`) or skipped (`skip_reason`), as insly.md says."""
    r = INSLY.read(_("an item of the policy list"), raw)
    number = r.get("policy_no")
    if not isinstance(number, str) or not number.strip():
        policy_id = raw.get("policy_id")
        raise ParseError(_("The Insly policy list has an item without a policy number: policy_id {policy_id!r}.")
                         .format(policy_id=policy_id))
    group = raw.get("product_group")
    name = raw.get("insurer")
    code = insurer_code(name)
    problems: list[str] = []
    policy_id = fields.lenient(lambda: r.integer("policy_id"), problems)
    listed = {
        "number": number,
        "insurer": code,
        "product": fields.lenient(lambda: r.optional_text("product")),
        "holder_name": fields.lenient(lambda: r.optional_text("customer_name")),
        "issue_date": fields.lenient(lambda: r.date("issue_date"), problems),
        "premium_gr": fields.lenient(lambda: r.amount("premium"), problems),
        "ref": raw.get("policy_id"),
    }
    if group not in PRODUCT_GROUPS:
        return ListedPolicy(**listed, error=_(MSG_BAD_GROUP).format(group=group, number=number))
    if group != MOTOR:
        return ListedPolicy(**listed, skip_reason=SKIP_REASON.format(group=group))
    if code is None:
        return ListedPolicy(**listed, error=_(MSG_UNKNOWN_INSURER).format(name=name, number=number))
    if problems:
        return ListedPolicy(**listed, error=_("Policy {number} in the Insly list: {problem}").format(
            number=number, problem=problems[0]))
    return ListedPolicy(**listed)


def parse_policy(text: str) -> Policy:
    """GET /api/policy/{policy_id} → the normalised Policy (coverages and installments inside).

    Raises OutOfScope for another product group, PolicyError for an unknown insurer or a foreign
    currency, ParseError for anything malformed."""
    body = _json(text, _("The Insly policy detail"))
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise ParseError(_("The Insly policy detail has no 'data' object."))
    number = INSLY.read(_("the policy detail"), data).text("policy_no")
    r = INSLY.read(_("the detail of policy {number}").format(number=number), data)
    group = data.get("product_group")
    if group not in PRODUCT_GROUPS:
        raise PolicyError(_(MSG_BAD_GROUP).format(group=group, number=number))
    if group != MOTOR:
        raise OutOfScope(SKIP_REASON.format(group=group))
    name = r.text("insurer")
    code = insurer_code(name)
    if code is None:
        raise PolicyError(_(MSG_UNKNOWN_INSURER).format(name=name, number=number))
    currency = r.text("currency")
    if currency != CURRENCY:
        raise PolicyError(_(MSG_CURRENCY).format(number=number, currency=currency))
    return fields.build_policy(
        r, DATA["policy"], number=number, insurer=code, source_app=APP_ID, source_system=SOURCE_SYSTEM,
        product_line=MOTOR, currency=currency,
        holder=lambda: parse_customer(r.obj("customer", _("the customer of policy {number}").format(number=number))),
        vehicle=lambda: fields.vehicle_at(r, "vehicle", VEHICLE_KEYS, number),
        coverages=lambda: fields.coverages_at(r, "coverages", DATA["coverage"], number),
        installments=lambda: fields.installments_at(r, "installments", DATA["installment"], number),
    )


def parse_customer(r: fields.Reader) -> Client:
    kind = CUSTOMER_KINDS.get(r.get("type")) if isinstance(r.get("type"), str) else None
    if kind is None:
        raise ParseError(_("{where} gives the customer type {type!r}, not individual or company.").format(
            where=r.block, type=r.get("type")))
    r.optional_obj("address")
    return fields.build_client(r, DATA["holder"], kind=kind, name=r.text("name"))


def _year(r: fields.Reader) -> int | None:
    value = r.get("year")
    if value is None:
        return None
    if isinstance(value, str) and YEAR_PATTERN.match(value):
        return int(value)
    raise ParseError(_("{what} gives the year {value!r}, not four digits.").format(what=r.block, value=value))


VEHICLE_KEYS = {**DATA["vehicle"], "production_year": _year}


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, TypeError) as exc:
        raise ParseError(_("{what} is not valid JSON.").format(what=what)) from exc


# -- the adapter ------------------------------------------------------------------------------
class InslyAdapter(Adapter):
    app_id: ClassVar[str] = APP_ID
    title: ClassVar[str] = TITLE
    # No fixed host: each agency is a tenant of its own (see TENANT_SUFFIX).
    hosts: ClassVar[tuple[str, ...]] = ()
    tenant_suffix: ClassVar[str] = TENANT_SUFFIX

    def __init__(self, tab, source: str | None = None):
        super().__init__(tab, source)
        self._csrf_token: str | None = None

    @classmethod
    def matches_host(cls, host: str) -> bool:
        name = normal_host(host)
        tenant = name.removesuffix(cls.tenant_suffix) if name.endswith(cls.tenant_suffix) else ""
        return bool(_LABEL.fullmatch(tenant)) and tenant not in NOT_TENANTS

    async def context(self) -> AppContext:
        page = parse_tab_page(await self.tab.html())
        if page.user is None:
            raise NotLoggedIn(_(MSG_TAB_NOT_LOGGED_IN).format(host=self.tab.host))
        if page.csrf_token is None:
            raise EnvironmentProblem(_(MSG_NO_CSRF).format(host=self.tab.host))
        self._csrf_token = page.csrf_token
        where = f"{page.tenant} ({self.tab.host})" if page.tenant else self.tab.host
        return AppContext(
            app_id=APP_ID,
            user=page.user,
            description=_("Logged in to INSLY at {where} as {user}.").format(where=where, user=page.user),
            agent=agent_id(APP_ID, page.user),  # INSLY shows no agent number: the user's name in `#topbar`
        )

    def check_number(self, number: str) -> str:
        return self.typed_number(number, POLICY_NO_PATTERN, MSG_BAD_NUMBER)

    async def list_policies(self, date_from: date, date_to: date) -> AsyncIterator[ListedPolicy]:
        window = {"issue_date_from": fmt_pl_date(date_from), "issue_date_to": fmt_pl_date(date_to)}
        try:
            async for item in self._all_pages(window):
                yield item
        except ParseError as exc:
            raise EnvironmentProblem(_(MSG_LIST_UNREADABLE).format(host=self.tab.host, reason=exc.reason)) from exc

    async def lookup(self, number: str) -> list[ListedPolicy]:
        # The app matches exactly; several insurers may share one number, each a policy of its own.
        items = [item async for item in self._all_pages({"policy_no": number}) if item.number == number]
        if not items:
            raise PolicyNotFound(_(MSG_NOT_FOUND).format(number=number))
        return items

    async def read_policy(self, item: ListedPolicy) -> Policy:
        if item.skip_reason:
            raise OutOfScope(item.skip_reason)
        if item.error:
            raise PolicyError(item.error)
        if isinstance(item.ref, bool) or not isinstance(item.ref, int):
            raise ParseError(_("The Insly list gives policy {number} no usable policy_id ({policy_id!r}).").format(
                number=item.number, policy_id=item.ref))
        response = await self._get(self.path(DETAIL_PATH, policy_id=item.ref))
        if response.status == STATUS_NOT_FOUND:
            message = parse_message(response.text) or "Policy not found."
            raise PolicyNotFound(_(MSG_DETAIL_NOT_FOUND).format(message=message, number=item.number))
        if response.status != 200:
            raise PolicyError(_(MSG_DETAIL_FAILED).format(number=item.number, answer=describe_answer(response)))
        policy = parse_policy(response.text)
        if policy.number != item.number:
            raise ParseError(_("Insly answered the detail of policy {number} with policy {shown}.").format(
                number=item.number, shown=policy.number))
        return policy

    # -- requests -----------------------------------------------------------------------------
    async def _all_pages(self, filter_: dict[str, str]) -> AsyncIterator[ListedPolicy]:
        guard = self.pages()
        page, pages = 1, 1
        while page <= pages:
            response = await self._post(LIST_PATH, {"filter": filter_, "page": page, "per_page": PER_PAGE})
            if response.status != 200:
                raise EnvironmentProblem(_(MSG_LIST_FAILED).format(host=self.tab.host,
                                                                   answer=describe_answer(response)))
            items, pages = parse_list_page(response.text)
            for item in items:
                yield item
            if page < pages:
                guard.more(items)
            page += 1

    async def _post(self, path: str, body: dict) -> FetchResponse:
        headers = {**await self._headers(), "Content-Type": JSON_TYPE}
        response = await self.fetch(path, method="POST", headers=headers, body=json.dumps(body))
        self._check_session(response)
        return response

    async def _get(self, path: str) -> FetchResponse:
        response = await self.fetch(path, method="GET", headers=await self._headers())
        self._check_session(response)
        return response

    async def _headers(self) -> dict[str, str]:
        if self._csrf_token is None:
            # The app's own front end reads the token from the page, never from a cookie.
            token = await self.tab.evaluate(READ_CSRF_JS)
            if not isinstance(token, str) or not token:
                raise EnvironmentProblem(_(MSG_NO_CSRF).format(host=self.tab.host))
            self._csrf_token = token
        return {"Accept": JSON_TYPE, CSRF_HEADER: self._csrf_token}

    def _check_session(self, response: FetchResponse) -> None:
        # 419 and 401 may come on either method (a stale token or an expired session): both stop the import.
        if response.status == STATUS_CSRF_MISMATCH:
            message = parse_message(response.text) or "CSRF token mismatch."
            raise NotLoggedIn(_(MSG_CSRF_MISMATCH).format(host=self.tab.host, message=message))
        if response.status == STATUS_UNAUTHENTICATED:
            message = parse_message(response.text) or "Unauthenticated."
            raise NotLoggedIn(_(MSG_UNAUTHENTICATED).format(host=self.tab.host, message=message))
