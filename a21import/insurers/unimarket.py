"""UNILINK UniMarket (docs/portals/unimarket.md): a multi-insurer SPA over GraphQL.

Two operations, sent verbatim as the app's front end sends them: `Policies` (relay-cursor
pages of a window of Warsaw issue dates) and `Policy` (look-up and detail in one). Every
answer is HTTP 200 JSON; what went wrong is in `errors[].extensions.code`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

from selectolax.lexbor import LexborHTMLParser

from a21import.errors import BadInput, EnvironmentProblem, NotLoggedIn, ParseError, PolicyError, PolicyNotFound
from a21import.formats import decimal_to_gr, iso_date, warsaw_date
from a21import.i18n import N_, _
from a21import.insurers import fields
from a21import.insurers.base import Adapter, FetchResponse
from a21import.model import PRODUCT_LINES, AppContext, Client, ListedPolicy, Policy, agent_id

APP_ID = "unimarket"
TITLE = "UNILINK UniMarket"
HOST = "unimarket.unilink.pl"
SOURCE_SYSTEM = None

GRAPHQL_PATH = "/graphql"
GRAPHQL_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}
PAGE_SIZE = 50  # what the front end sends as `first`

# The tab is logged in when the shell carries the user; the login page has the form instead.
SHELL_APP = "#um-app[data-user]"
USER_ATTRIBUTE = "data-user"
LOGIN_FORM = "form#um-login"

POLICIES_OPERATION = "Policies"
POLICY_OPERATION = "Policy"

# The front end's two documents, character for character (the spec fixes them).
POLICIES_QUERY = """query Policies($from: Date!, $to: Date!, $first: Int!, $after: String) {
  policies(issuedFrom: $from, issuedTo: $to, first: $first, after: $after) {
    edges { cursor node { id number insurer { name } productLine productName issuedAt premium { amount currency } holder { name } } }
    pageInfo { hasNextPage endCursor }
  }
}"""

POLICY_QUERY = """query Policy($number: String!) {
  policy(number: $number) {
    id number insurer { name } productLine productName status issuedAt startDate endDate premium { amount currency }
    holder { kind name pesel nip regon address { street postalCode city } phone email }
    vehicle { registration vin make model productionYear }
    coverages { code name sumInsured { amount currency } premium { amount currency } }
    installments { seq dueDate amount { amount currency } paid }
  }
}"""

# errors[].extensions.code
CODE_UNAUTHENTICATED = "UNAUTHENTICATED"
CODE_NOT_FOUND = "NOT_FOUND"
CODE_INTERNAL = "INTERNAL"
CODE_BAD_USER_INPUT = "BAD_USER_INPUT"

CURRENCY = "PLN"
PARTY_KINDS = {"PERSON": "person", "COMPANY": "company"}
NUMBER_MAX_LENGTH = 40

UNIMARKET = fields.App("UniMarket", amount=decimal_to_gr, date=iso_date)
# The mapping of docs/portals/unimarket.md as data (a21import/insurers/data/unimarket.toml); amounts are
# Money objects and `issuedAt` an instant, read by the code below.
DATA = fields.app_data(APP_ID)
POLICY_KEYS = {**DATA["policy"], "issue_date": lambda r: r.convert("issuedAt", warsaw_date)}

# insurer.name exactly as UniMarket writes it → canonical code: the `insurers` of its data file.
INSURER_CODES = DATA["insurers"]

NOT_LOGGED_IN = N_(
    "The UNILINK UniMarket tab is not logged in. Log in to UniMarket in that tab and run the command again."
)
SESSION_EXPIRED = N_(
    "The UniMarket session has expired (the app answered: {message}). Log in to UniMarket in its tab and "
    "run the command again; the policies imported so far are kept."
)


class UnimarketAdapter(Adapter):
    app_id = APP_ID
    title = TITLE
    hosts = (HOST,)

    async def context(self) -> AppContext:
        user = parse_shell(await self.tab.html())
        if user:
            description = _("Logged in to {app} as {user}.").format(app=TITLE, user=user)
        else:
            description = _("Logged in to {app}.").format(app=TITLE)
        # UniMarket shows no agent number: the agent is the login in `#um-app[data-user]`.
        return AppContext(app_id=APP_ID, user=user or None, description=description, agent=agent_id(APP_ID, user))

    def check_number(self, number: str) -> str:
        return check_policy_number(number)

    async def list_policies(self, date_from: date, date_to: date) -> AsyncIterator[ListedPolicy]:
        guard = self.pages()
        after: str | None = None
        seen_cursors: set[str] = set()
        while True:
            answer = await self._policies_page(date_from, date_to, after)
            items, after = parse_policies_page(answer)
            for item in items:
                yield item
            if after is None:
                return
            if after in seen_cursors:
                raise EnvironmentProblem(_(
                    "UniMarket gave the same page cursor {cursor!r} twice while listing policies, so the list "
                    "cannot be read to its end. Run the command again; if it happens again, report it."
                ).format(cursor=after))
            seen_cursors.add(after)
            guard.more(items)

    async def lookup(self, number: str) -> list[ListedPolicy]:
        number = check_policy_number(number)
        node = parse_policy_answer(await self._policy(number), number)
        return [listed_from_detail(node, number)]

    async def read_policy(self, item: ListedPolicy) -> Policy:
        if isinstance(item.ref, dict):  # a look-up already holds the whole detail
            return parse_policy(item.ref, item.number)
        node = parse_policy_answer(await self._policy(item.number), item.number)
        return parse_policy(node, item.number)

    # -- requests: one method per operation -----------------------------------------------------
    async def _policies_page(self, date_from: date, date_to: date, after: str | None) -> Any:
        variables = {"from": date_from.isoformat(), "to": date_to.isoformat(), "first": PAGE_SIZE, "after": after}
        response = await self._graphql(POLICIES_OPERATION, POLICIES_QUERY, variables)
        try:
            return response_json(response)
        except ParseError as exc:
            raise _list_problem(exc.reason) from exc

    async def _policy(self, number: str) -> Any:
        response = await self._graphql(POLICY_OPERATION, POLICY_QUERY, {"number": number})
        return response_json(response)

    async def _graphql(self, operation: str, query: str, variables: dict[str, Any]) -> FetchResponse:
        body = json.dumps({"operationName": operation, "query": query, "variables": variables})
        return await self.fetch(GRAPHQL_PATH, method="POST", headers=dict(GRAPHQL_HEADERS), body=body)


def _list_problem(reason: str) -> EnvironmentProblem:
    # Without a readable page the rest of the window is unknown, so the whole listing stops.
    return EnvironmentProblem(_(
        "UniMarket's policy list could not be read: {reason} Run the command again; if it happens again, "
        "report it."
    ).format(reason=reason))


# -- pure parse functions ------------------------------------------------------------------------
def parse_shell(html: str) -> str:
    """The logged-in user of the tab (`#um-app[data-user]`; may be ""), or NotLoggedIn."""
    tree = LexborHTMLParser(html or "")
    app = tree.css_first(SHELL_APP)
    if app is None:
        raise NotLoggedIn(_(NOT_LOGGED_IN))
    return (app.attributes.get(USER_ATTRIBUTE) or "").strip()


def check_policy_number(number: str) -> str:
    """UniMarket numbers: 1–40 characters, `/` allowed; no spaces or control characters."""
    value = (number or "").strip()
    if not value or len(value) > NUMBER_MAX_LENGTH or any(ch.isspace() or not ch.isprintable() for ch in value):
        raise BadInput(_(
            "The policy number {number!r} is not a UniMarket number: it must be 1 to {max_length} "
            "characters without spaces, for example 1032/2026/000451."
        ).format(number=number, max_length=NUMBER_MAX_LENGTH))
    return value


def response_json(response: FetchResponse) -> Any:
    """The GraphQL answer of one fetch. A redirect to the login page means the session is gone."""
    if response.path.rstrip("/") == "/login":
        raise NotLoggedIn(_(NOT_LOGGED_IN))
    if response.status != 200:
        raise ParseError(_("UniMarket answered {path} with HTTP status {status} instead of 200.").format(
            path=GRAPHQL_PATH, status=response.status))
    answer = response.json()
    if not isinstance(answer, dict):
        raise ParseError(_("UniMarket answered {path} with JSON that is not a GraphQL answer object.").format(
            path=GRAPHQL_PATH))
    return answer


def error_codes(answer: Any) -> list[tuple[str | None, str]]:
    """(extensions.code, message) of every entry of `errors`; [] when there are none."""
    errors = answer.get("errors") if isinstance(answer, dict) else None
    if not errors:
        return []
    if not isinstance(errors, list):
        raise ParseError(_("UniMarket's answer has an `errors` value that is not a list."))
    result = []
    for error in errors:
        error = error if isinstance(error, dict) else {}
        extensions = error.get("extensions")
        code = extensions.get("code") if isinstance(extensions, dict) else None
        message = error.get("message")
        result.append((code if isinstance(code, str) else None, message if isinstance(message, str) else "?"))
    return result


def _raise_for_session(errors: list[tuple[str | None, str]]) -> None:
    for code, message in errors:
        if code == CODE_UNAUTHENTICATED:
            raise NotLoggedIn(_(SESSION_EXPIRED).format(message=message))


def parse_policies_page(answer: Any) -> tuple[list[ListedPolicy], str | None]:
    """One `Policies` answer → its items, and the cursor of the next page (None on the last)."""
    errors = error_codes(answer)
    _raise_for_session(errors)
    if errors:
        code, message = errors[0]
        if code == CODE_BAD_USER_INPUT:
            raise _list_problem(_("the app rejected the list's arguments ({message}).").format(message=message))
        if code:
            raise _list_problem(_("the app answered with the error {code} ({message}).").format(
                code=code, message=message))
        raise _list_problem(_("the app answered with the error without a code ({message}).").format(message=message))
    data = answer.get("data") if isinstance(answer, dict) else None
    connection = data.get("policies") if isinstance(data, dict) else None
    if not isinstance(connection, dict):
        raise _list_problem(_("the answer has no `data.policies`."))
    edges, page_info = connection.get("edges"), connection.get("pageInfo")
    if not isinstance(edges, list) or not isinstance(page_info, dict):
        raise _list_problem(_("the answer has no `edges` list or no `pageInfo`."))
    items = []
    for edge in edges:
        node = edge.get("node") if isinstance(edge, dict) else None
        number = node.get("number") if isinstance(node, dict) else None
        if not isinstance(number, str) or not number:
            raise _list_problem(_("an entry of the list has no policy number."))
        items.append(parse_listed_node(node))
    has_next = page_info.get("hasNextPage")
    end_cursor = page_info.get("endCursor")
    if not isinstance(has_next, bool):
        raise _list_problem(_("`pageInfo.hasNextPage` is not true or false."))
    if not has_next:
        return items, None
    if not isinstance(end_cursor, str) or not end_cursor:
        raise _list_problem(_("the answer says there is a next page but gives no `endCursor`."))
    return items, end_cursor


def parse_listed_node(node: dict[str, Any]) -> ListedPolicy:
    """One `node` of the list. A node the importer cannot use comes back with its `error` set (the
    first problem, the insurer's first) and whatever else of it could be read, for the table."""
    number = node["number"]
    r = UNIMARKET.read(_("policy {number}").format(number=number), node)
    readers = {
        "insurer": lambda: insurer_code(r.get(("insurer", "name")), number),
        "product": lambda: r.optional_text("productName"),
        "holder_name": lambda: r.optional_text(("holder", "name")),
        "issue_date": lambda: r.convert("issuedAt", warsaw_date),
        "premium_gr": lambda: money_to_gr(node.get("premium"), _("premium"), number),
    }
    fields_read: dict[str, Any] = {}
    problems: list[str] = []
    for name, read in readers.items():
        try:
            fields_read[name] = read()
        except PolicyError as exc:
            fields_read[name] = None
            problems.append(exc.reason)
    return ListedPolicy(number=number, **fields_read, error=problems[0] if problems else None, ref=number)


def parse_policy_answer(answer: Any, number: str) -> dict[str, Any]:
    """One `Policy` answer → its `data.policy` node, or the exception its error code means."""
    errors = error_codes(answer)
    _raise_for_session(errors)
    for code, message in errors:
        if code == CODE_NOT_FOUND:
            raise PolicyNotFound(_("UniMarket does not find policy {number} (the app answered: {message}).").format(
                number=number, message=message))
    for code, message in errors:
        if code == CODE_INTERNAL:
            raise PolicyError(_(
                "UniMarket could not read policy {number} because of an error in the insurer's system "
                "(the app answered: {message})."
            ).format(number=number, message=message))
    if errors:
        code, message = errors[0]
        raise PolicyError(fields.quoting(
            N_("UniMarket answered the request for policy {number} with the error {code} "
               "(the app answered: {message})."),
            N_("UniMarket answered the request for policy {number} with the error without a code "
               "(the app answered: {message})."),
            quote="code", number=number, code=code, message=message))
    data = answer.get("data")
    node = data.get("policy") if isinstance(data, dict) else None
    if node is None and isinstance(data, dict) and "policy" in data:
        raise PolicyNotFound(_("UniMarket does not find policy {number}.").format(number=number))
    if not isinstance(node, dict):
        raise ParseError(_("UniMarket's answer for policy {number} has no `data.policy` object.").format(
            number=number))
    return node


def listed_from_detail(node: dict[str, Any], number: str) -> ListedPolicy:
    """A look-up's item, carrying the whole detail so that reading it needs no second request."""
    got = UNIMARKET.read(_("the answer for policy {number}").format(number=number), node).text("number")
    listed = parse_listed_node({**node, "number": got})
    return ListedPolicy(
        number=listed.number,
        insurer=listed.insurer,
        product=listed.product,
        holder_name=listed.holder_name,
        issue_date=listed.issue_date,
        premium_gr=listed.premium_gr,
        error=listed.error,
        ref=node,
    )


def parse_policy(node: dict[str, Any], number: str) -> Policy:
    """`data.policy` → Policy. Raises PolicyError (unknown insurer, foreign currency) or ParseError."""
    r = UNIMARKET.read(_("the answer for policy {number}").format(number=number), node)
    got = r.text("number")
    if got != number:
        raise ParseError(_("UniMarket answered the request for policy {number} with policy {got}.").format(
            number=number, got=got))
    line = r.text("productLine").lower()
    if line not in PRODUCT_LINES:
        raise ParseError(_(
            "Policy {number} has the product line {line!r}, which UniMarket does not define."
        ).format(number=number, line=node.get("productLine")))
    coverage_keys = {
        **DATA["coverage"],
        "sum_insured_gr": lambda c: optional_money_to_gr(
            c.get("sumInsured"), _("sum insured of coverage {code}").format(code=c.get("code")), number),
        "premium_gr": lambda c: optional_money_to_gr(
            c.get("premium"), _("premium of coverage {code}").format(code=c.get("code")), number),
    }
    installment_keys = {
        **DATA["installment"],
        "amount_gr": lambda i: money_to_gr(i.get("amount"), _("amount of installment {seq}").format(
            seq=i.get("seq")), number),
    }
    return fields.build_policy(
        r, POLICY_KEYS, number=number, insurer=insurer_code(r.get(("insurer", "name")), number), source_app=APP_ID,
        source_system=SOURCE_SYSTEM, product_line=line, currency=CURRENCY,
        premium_gr=lambda: money_to_gr(node.get("premium"), _("premium"), number),
        holder=lambda: parse_party(r.obj("holder", _("the holder of policy {number}").format(number=number))),
        vehicle=lambda: fields.vehicle_at(r, "vehicle", DATA["vehicle"], number),
        coverages=lambda: fields.coverages_at(r, "coverages", coverage_keys, number),
        installments=lambda: fields.installments_at(r, "installments", installment_keys, number, first=None),
    )


def insurer_code(name: Any, number: str) -> str:
    """`insurer.name` → canonical code through INSURER_CODES; an unknown name is an error, never a guess."""
    if not isinstance(name, str):
        raise ParseError(_("Policy {number} has no insurer name.").format(number=number))
    code = fields.insurer_code(INSURER_CODES, name)
    if code is None:
        raise PolicyError(_(
            "The insurer name {name!r} of policy {number} is not known to a21import's UniMarket table, so the "
            "policy is not imported."
        ).format(name=name, number=number))
    return code


def money_to_gr(money: Any, what: str, number: str) -> int:
    """A `Money` → grosze; any currency but PLN is an error for the whole policy. `what` is translated."""
    if not isinstance(money, dict):
        raise ParseError(_("The {what} of policy {number} is missing or not a Money object.").format(
            what=what, number=number))
    currency = money.get("currency")
    if not isinstance(currency, str) or not currency:
        raise ParseError(_("The {what} of policy {number} has no currency.").format(what=what, number=number))
    if currency != CURRENCY:
        raise PolicyError(_(
            "The {what} of policy {number} is in {currency!r}, not PLN; a21import stores PLN amounts only, "
            "so the policy is not imported."
        ).format(what=what, number=number, currency=currency))
    try:
        return decimal_to_gr(money.get("amount"))
    except ParseError as exc:
        raise ParseError(_("The {what} of policy {number} is unusable: {reason}").format(
            what=what, number=number, reason=exc.reason)) from exc


def optional_money_to_gr(money: Any, what: str, number: str) -> int | None:
    return None if money is None else money_to_gr(money, what, number)


def parse_party(r: fields.Reader) -> Client:
    kind = PARTY_KINDS.get(r.get("kind"))
    if kind is None:
        raise ParseError(_(
            "UniMarket sent {block} with the kind {kind!r}, neither PERSON nor COMPANY."
        ).format(block=r.block, kind=r.get("kind")))
    r.optional_obj("address")
    return fields.build_client(r, DATA["holder"], kind=kind, name=r.text("name"))


