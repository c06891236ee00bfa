"""Warta eAgent, section Majątek (TUiR Warta) — docs/portals/warta.md, "MAJATEK".

An AngularJS page whose `window.__APP_CONFIG__` names the agent (`agentOuid`); the data comes from
the JSON API under /view360/api, paged by offset/limit. Amounts are decimal strings ("1234.56").
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import date
from typing import TYPE_CHECKING, Any

from selectolax.lexbor import LexborHTMLParser as HTMLParser

from a21import.errors import EnvironmentProblem, ParseError, PolicyError, PolicyNotFound, WrongIdentity
from a21import.formats import decimal_to_gr, empty_to_none, optional_decimal_to_gr
from a21import.i18n import N_, _
from a21import.insurers import fields
from a21import.insurers.base import SectionReader
from a21import.insurers.warta_sections import APP_ID, CURRENCY
from a21import.insurers.warta_sections import MAJATEK as SECTION_INFO
from a21import.model import Client, Coverage, Installment, ListedPolicy, Policy, Vehicle

if TYPE_CHECKING:
    from a21import.insurers.base import Adapter

# The section (warta_sections.py) as its messages and rows name it.
APP_NAME, SECTION_DESCRIPTION, INSURER = SECTION_INFO.app_name, SECTION_INFO.description, SECTION_INFO.insurer

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
ERROR_SESSION_EXPIRED = "SESSION_EXPIRED"
ERROR_ACCESS_DENIED = "ACCESS_DENIED"
ERROR_NOT_FOUND = "POLICY_NOT_FOUND"
ERROR_BACKEND = "BACKEND_ERROR"

PRODUCT_LINES = {"KOMUNIKACJA": "motor", "MAJATEK": "property", "PODROZE": "travel", "NNW": "other"}

# -- the answers' keys -----------------------------------------------------------------------------
# A key the spec names that is absent means eAgent changed its answer (PageChanged); null is data.
EAGENT = fields.App(APP_NAME, amount=decimal_to_gr, optional_amount=optional_decimal_to_gr,
                    absent=fields.MISSING_KEY)
NUMBER = "policyNumber"
# The mapping of the section as data (a21import/insurers/data/warta_majatek.toml); identifiers are kept as digits.
DATA = fields.app_data("warta_majatek")
PERSON_KEYS = {**DATA["address"], "pesel": fields.digits_at("pesel")}
COMPANY_KEYS = {**DATA["address"], "nip": fields.digits_at("nip"), "regon": fields.digits_at("regon")}
# `partyType` → who the policyholder is (a person named `firstName lastName`, a company `companyName`).
PARTIES: dict[str, fields.Party] = {
    "OSOBA_FIZYCZNA": ("person", PERSON_KEYS, lambda r: f"{r.text('firstName')} {r.text('lastName')}"),
    "FIRMA": ("company", COMPANY_KEYS, lambda r: r.text("companyName")),
}


def not_logged_in() -> Exception:
    return fields.not_logged_in(APP_NAME, SECTION_INFO.host)


# -- pure parse functions ----------------------------------------------------------------------------
def parse_app_config(config: Any) -> tuple[str, str | None]:
    """The `window.__APP_CONFIG__` object of an eAgent page → (agentOuid, agentName).
    Raises NotLoggedIn when the page has no config (the login page)."""
    if not isinstance(config, dict) or not config.get("agentOuid"):
        raise not_logged_in()
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
        return not_logged_in()
    if status == 200:
        return None
    code, message = fields.error_values(text, "errorCode", "message")
    said = fields.app_said(message)
    if status == 401 or code == ERROR_SESSION_EXPIRED:
        return not_logged_in()
    if status == 403 or code == ERROR_ACCESS_DENIED:
        return WrongIdentity(
            _("Warta eAgent refused the data of the agent shown in the tab.{said} Another agent may have logged "
              "in since the tab was loaded: reload the eAgent tab, check the agent, and run the command again.").format(
                said=said),
            expected=SECTION_INFO.identity,
        )
    if number and (status == 404 or code == ERROR_NOT_FOUND):
        return PolicyNotFound(_("Warta eAgent has no policy number {number}.{said}").format(number=number, said=said))
    if number and (status >= 500 or code == ERROR_BACKEND):
        return PolicyError(_("Warta eAgent could not give policy {number} (HTTP {status}).{said}").format(
            number=number, status=status, said=said))
    return fields.answer_failure(
        bool(number), N_("Warta eAgent answered HTTP {status} for policy {number}.{said}"),
        N_("Warta eAgent answered HTTP {status} for the policy list.{said} Check that eAgent works in the browser "
           "and run the command again."),
        status=status, number=number, said=said)


def parse_majatek_list(data: Any) -> tuple[list[ListedPolicy], int]:
    """One page of `/view360/api/agents/{agent}/policies` → (rows, total)."""
    page = EAGENT.read(_("a policy list"), data)
    total = page.integer("total")
    rows = []
    for r in page.objects("items", N_("a policy list row"), allow_empty=True):
        number = r.text(NUMBER)
        shown = {"number": number, "insurer": INSURER, "ref": number,
                 "product": fields.lenient(lambda r=r: r.optional_text("productName")),
                 "holder_name": fields.lenient(lambda r=r: r.optional_text("policyholderName"))}
        try:
            rows.append(ListedPolicy(**shown, issue_date=r.date("issueDate"), premium_gr=r.amount("premium")))
        except ParseError as exc:
            # Red on its own: the detail is not read, the other rows go on.
            error = _("Policy {number} in the list: {reason}").format(number=number, reason=exc.reason)
            rows.append(ListedPolicy(**shown, error=error))
    return rows, total


def parse_majatek_holder(data: Any) -> Client:
    """`policyholder`, a person or a company by its `partyType` (see PARTIES)."""
    r = EAGENT.read(_("a policyholder"), data)
    kind = r.get("partyType")
    r.optional_obj("address", _("an address"))
    return fields.build_party(r, kind, PARTIES, N_(
        "Warta eAgent sent the policyholder type {kind!r}, which is neither {person} nor {company}."))


def parse_majatek_vehicle(data: Any) -> Vehicle | None:
    """The `vehicle` object, or None when there is none or it has neither VIN nor registration."""
    return None if data is None else fields.build_vehicle(EAGENT.read(_("a vehicle"), data), DATA["vehicle"])


def parse_majatek_risks(policy: fields.Reader) -> tuple[Coverage, ...]:
    return fields.build_coverages(policy.objects("risks", N_("a risk"), allow_empty=True), DATA["coverage"])


def parse_majatek_installments(data: Any) -> tuple[Installment, ...]:
    """`/installments` → the payment schedule."""
    r = EAGENT.read(_("an installment list"), data)
    return fields.build_installments(r.objects("items", N_("an installment"), allow_empty=True), DATA["installment"],
                                     first=None)


def parse_majatek_policy(detail: Any, installments: Any) -> Policy:
    """The detail and the installments of one eAgent policy → Policy."""
    r = EAGENT.read(_("a policy"), detail)
    number = r.text(NUMBER)
    line = r.get("lineOfBusiness")
    if line not in PRODUCT_LINES:
        raise PolicyError(_(
            "Policy {number} has the line of business {line!r}, which is not one Warta eAgent is known to use "
            "({lines}), so it is not imported."
        ).format(number=number, line=line, lines=", ".join(PRODUCT_LINES)))
    currency = r.get("currency")
    if currency != CURRENCY:
        raise PolicyError(
            _("Policy {number} is in the currency {currency!r}; only policies in PLN are imported.").format(
                number=number, currency=currency))
    return fields.build_policy(
        r, DATA["policy"], number=number, insurer=INSURER, source_app=APP_ID, source_system=SECTION_INFO.identity,
        product_line=PRODUCT_LINES[line], currency=CURRENCY,
        holder=lambda: parse_majatek_holder(r.value("policyholder")),
        vehicle=lambda: parse_majatek_vehicle(r.get("vehicle")),
        installments=lambda: parse_majatek_installments(installments),
        coverages=lambda: parse_majatek_risks(r),
    )


# -- the section's reader ----------------------------------------------------------------------------
class MajatekReader(SectionReader):
    """Reads the Majątek section for the Warta adapter, whose fetches (paced, captured) it uses."""

    section = SECTION_INFO

    def __init__(self, adapter: Adapter):
        super().__init__(adapter)
        self._agent: str | None = None

    async def _read_config(self) -> tuple[str, str | None]:
        tab = self.adapter.tab
        config = await tab.evaluate(READ_CONFIG_JS)
        if not isinstance(config, dict) or not config.get("agentOuid"):
            # The page's own script text says the same when the global is out of reach.
            config = parse_app_config_html(await tab.html()) or config
        agent, name = parse_app_config(config)
        self._agent = agent
        return agent, name

    async def _agent_ouid(self) -> str:
        if self._agent is None:
            await self._read_config()
        assert self._agent is not None
        return self._agent

    async def context(self) -> tuple[str, str]:
        """(user, description) of the logged-in tab."""
        agent, name = await self._read_config()
        self.agent = agent  # the config's `agentOuid`
        described = _(SECTION_DESCRIPTION)
        if name:
            return name, _("Logged in to {app} as {name} (agent {agent}), section {section}.").format(
                app=APP_NAME, name=name, agent=agent, section=described)
        return agent, _("Logged in to {app} as agent {agent}, section {section}.").format(
            app=APP_NAME, agent=agent, section=described)

    async def _api(self, path: str, *, number: str | None = None) -> Any:
        response = await self.adapter.fetch(path, headers=API_HEADERS)
        error = majatek_error(response.status, response.path, response.text, number=number)
        if error is not None:
            raise error
        return response.json()

    async def _list_page(self, agent: str, date_from: date, date_to: date, offset: int) -> Any:
        a = self.adapter
        return await self._api(a.query(a.path(LIST_PATH, agent=agent), {
            "issueDateFrom": date_from.isoformat(), "issueDateTo": date_to.isoformat(), "offset": offset,
            "limit": PAGE_LIMIT}))

    async def _detail(self, agent: str, number: str) -> Any:
        return await self._api(self.adapter.path(DETAIL_PATH, agent=agent, number=number), number=number)

    async def _installments(self, agent: str, number: str) -> Any:
        return await self._api(self.adapter.path(INSTALLMENTS_PATH, agent=agent, number=number), number=number)

    async def list_policies(self, date_from: date, date_to: date) -> AsyncIterator[ListedPolicy]:
        guard = self.adapter.pages()
        agent = await self._agent_ouid()
        offset = 0
        while True:
            rows, total = parse_majatek_list(await self._list_page(agent, date_from, date_to, offset))
            for row in rows:
                yield row
            offset += PAGE_LIMIT
            if offset >= total or not rows:
                return
            guard.more(rows)

    async def lookup(self, number: str) -> list[ListedPolicy]:
        detail = await self._detail(await self._agent_ouid(), number)
        found = EAGENT.read(_("a policy"), detail).optional_text(NUMBER) or number
        return [ListedPolicy(number=found, insurer=INSURER, ref={"number": found, "detail": detail})]

    async def read_policy(self, number: str, detail: Any) -> Policy:
        """`detail`: the one a look-up already read, else None (it is read now)."""
        agent = await self._agent_ouid()
        if detail is None:
            detail = await self._detail(agent, number)
        return parse_majatek_policy(detail, await self._installments(agent, number))
