"""A capture bundle read back: what it holds (`show`) and the adapter run again on its answers (`replay`).

The replay tab answers each request by its method and path with query from the bundle, in the order they
were captured (the last answer to a request repeats); a request the bundle has no answer to is a red
reason of its own, so a fixed adapter that asks for something new says so instead of guessing.
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from a21import import capture, insurers
from a21import.errors import A21Error, EXIT_FAILED, EXIT_OK, PolicyError
from a21import.i18n import _
from a21import.model import ListedPolicy


class NoCapturedAnswer(PolicyError):
    """The adapter asked for something the app was not asked for when the bundle was made."""


class ReplayTab:
    """The `Tab` of a bundle: answers from its requests, never from the network."""

    def __init__(self, bundle: dict[str, Any]):
        parts = urlsplit(bundle.get("tab") or "")
        self.url = bundle.get("tab") or ""
        self.host = parts.hostname or ""
        self._answers: dict[tuple[str, str], deque[dict[str, Any]]] = defaultdict(deque)
        for exchange in (bundle.get("session") or []) + (bundle.get("requests") or []):
            self._answers[(exchange["method"], exchange["path"])].append(exchange)

    def _next(self, method: str, path: str) -> dict[str, Any]:
        queue = self._answers.get((method, path))
        if not queue:
            shown = capture.shown_path(path) if method not in ("DOM", "JS") else method
            raise NoCapturedAnswer(_("The capture holds no answer to {method} {path}: the adapter now asks for "
                                     "something the app was not asked for when the capture was made.").format(
                method=method, path=shown))
        return queue.popleft() if len(queue) > 1 else queue[0]

    async def fetch(self, url: str, *, method: str = "GET", headers: dict[str, str] | None = None,
                    body: str | None = None):
        from a21import.tab import FetchResponse

        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        answer = self._next(method.upper(), path)
        final = answer.get("final") or answer["path"]
        base = f"{urlsplit(self.url).scheme or 'https'}://{self.host}"
        return FetchResponse(status=answer["status"], url=base + final, text=answer["body"],
                             content_type=answer["content_type"])

    async def evaluate(self, expression: str, arg: Any = None) -> Any:
        return json.loads(self._next("JS", capture.script_key(expression, arg))["body"])

    async def html(self) -> str:
        return self._next("DOM", "")["body"]


def listed(data: dict[str, Any] | None) -> ListedPolicy | None:
    if data is None:
        return None
    issued = data.get("issue_date")
    try:
        ref = capture.ref_value(data.get("ref"))
    except (ValueError, TypeError, KeyError, AttributeError, ImportError):  # a ref this version cannot make
        ref = None
    return ListedPolicy(number=data["number"], insurer=data.get("insurer"), product=data.get("product"),
                        holder_name=data.get("holder_name"), premium_gr=data.get("premium_gr"),
                        issue_date=date.fromisoformat(issued) if issued else None,
                        ref=ref)


@dataclass
class Outcome:
    code: int  # 0: the adapter now reads it; 1: red (reason); else the exit code of what stopped it
    reason: str | None = None
    result: dict[str, Any] | None = None


def policy_summary(policy: Any) -> dict[str, Any]:
    """What a replay prints of a policy it reads (and what tests/captures/*/expected.json compares)."""
    return {
        "number": policy.number, "insurer": policy.insurer, "product": policy.product,
        "product_line": policy.product_line, "premium_gr": policy.premium_gr,
        "issue_date": policy.issue_date.isoformat() if policy.issue_date else None,
        "holder_kind": policy.holder.kind if policy.holder else None,
        "coverages": len(policy.coverages), "installments": len(policy.installments),
    }


def listed_summary(item: ListedPolicy) -> dict[str, Any]:
    """A policy a look-up (or a list) finds, as a replay prints it."""
    return {"number": item.number, "insurer": item.insurer, "product": item.product, "premium_gr": item.premium_gr,
            "issue_date": item.issue_date.isoformat() if item.issue_date else None}


async def replay(bundle: dict[str, Any]) -> Outcome:
    """Runs the bundle's adapter on its answers: context (when captured), then what was being read."""
    adapter = insurers.get(bundle["app"])(ReplayTab(bundle), bundle.get("source"))
    item = listed(bundle.get("item"))
    mode = bundle.get("mode")
    with capture.recording():
        try:
            if bundle.get("session"):
                await adapter.context()
            if mode == "list" and item is not None:  # a row the list itself marked red: read up to it
                first, last = (date.fromisoformat(day) for day in bundle["window"])
                async for found in adapter.list_policies(first, last):
                    if found.key == item.key:
                        if found.error:
                            return Outcome(EXIT_FAILED, found.error)
                        return Outcome(EXIT_OK, result={"found": [listed_summary(found)]})
                return Outcome(EXIT_FAILED, _("{app} no longer finds the policy {policy}.").format(
                    app=adapter.title, policy=item.number))
            if mode == "list":
                first, last = (date.fromisoformat(day) for day in bundle["window"])
                items = [found async for found in adapter.list_policies(first, last)]
                return Outcome(EXIT_OK, result={"listed": len(items)})
            if mode == "lookup":
                found = await adapter.lookup(item.number)
                red = [hit for hit in found if hit.error and hit.number == item.number]
                if red:  # the look-up itself marks it red, as the policy command shows it
                    return Outcome(EXIT_FAILED, red[0].error)
                return Outcome(EXIT_OK, result={"found": [listed_summary(hit) for hit in found]})
            if mode == "refresh":
                hits = [hit for hit in await adapter.lookup(item.number) if hit.key == item.key]
                if not hits:
                    return Outcome(EXIT_FAILED, _("{app} no longer finds the policy {policy}.").format(
                        app=adapter.title, policy=item.number))
                item = hits[0]
            return Outcome(EXIT_OK, result=policy_summary(await adapter.read_policy(item)))
        except PolicyError as exc:
            return Outcome(EXIT_FAILED, exc.reason)
        except A21Error as exc:
            return Outcome(exc.exit_code, exc.message)


def show_lines(bundle: dict[str, Any], path: str) -> list[str]:
    """What `capture show` prints: the bundle's facts, then one line per request."""
    item = bundle.get("item") or {}
    lines = [
        _("Capture bundle: {path}").format(path=path),
        _("App: {app} (adapter version {version}), a21import {a21import}, made {created}.").format(
            app=insurers.title(bundle.get("app")), version=bundle.get("adapter_version"),
            a21import=bundle.get("a21import"), created=bundle.get("created")),
        _("What was read: {mode} {number}").format(mode=bundle.get("mode"), number=item.get("number") or "").strip(),
        _("Reason: {reason}").format(reason=bundle.get("reason")),
        _("Raised at: {where}").format(where=" ← ".join(reversed((bundle.get("where") or ["?"])[-3:]))),
    ]
    exchanges = (bundle.get("session") or []) + (bundle.get("requests") or [])
    lines.append(_("Answers kept ({count}, scrubbed of personal data):").format(count=len(exchanges)))
    for exchange in exchanges:
        size = len(exchange.get("body", "").encode())
        target = exchange["path"] if exchange["kind"] == "fetch" else exchange["kind"]
        lines.append(f"  {exchange['method']:6} {exchange['status']:>3}  {size:>8} B  "
                     f"{exchange['content_type'][:30]:30}  {target}")
    return lines
