"""The one small interface every app adapter implements.

An adapter = a thin reader (in-page fetches from the app's tab, DOM reads for identity and
config) plus pure parse functions (module level, no I/O) that turn the app's raw HTML/JSON
into the normalised model. The reader never logs in, clicks, navigates or reloads.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar, Protocol
from urllib.parse import urlsplit

from a21import.errors import ParseError
from a21import.i18n import _
from a21import.model import AppContext, ListedPolicy, Policy
from a21import.pacing import Pacer


@dataclass(frozen=True)
class FetchResponse:
    """What an in-page `fetch` gave back: the final URL after redirects, status and body text."""

    status: int
    url: str
    text: str
    content_type: str = ""
    retry_after: str | None = None  # the Retry-After header, when the app sent one

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except (ValueError, RecursionError) as exc:  # RecursionError: JSON nested deeper than Python's stack
            raise ParseError(_("The app answered {path} with text that is not valid JSON.").format(
                path=self.path)) from exc


class Tab(Protocol):
    """The user's tab of the app, as adapters see it (implemented over Playwright in browser.py)."""

    url: str
    host: str

    async def fetch(
        self, url: str, *, method: str = "GET", headers: dict[str, str] | None = None, body: str | None = None
    ) -> FetchResponse:
        """`fetch(url)` run inside the tab: same origin, the tab's cookies, redirects followed."""

    async def evaluate(self, expression: str, arg: Any = None) -> Any:
        """Runs a JavaScript function expression in the tab (read-only uses: storage, cookies, config)."""

    async def html(self) -> str:
        """The tab's current DOM as HTML."""


class Adapter(ABC):
    """One sales app. Subclasses set the class attributes and implement the five methods."""

    app_id: ClassVar[str]
    title: ClassVar[str]  # e.g. "Ergo Hestia iHestia": the app as the user knows it
    # --source values → what each means (empty: the app has no --source).
    sources: ClassVar[dict[str, str]] = {}
    # True when listing needs --source (Hestia's system); the CLI asks or refuses with the choices.
    period_needs_source: ClassVar[bool] = False
    # The identity/section codes --identity accepts; empty when the app has none.
    identities: ClassVar[tuple[str, ...]] = ()
    # False when the app documents 503 as its own failure of one request (then only 429 slows down).
    throttle_503: ClassVar[bool] = True

    def __init__(self, tab: Tab, source: str | None = None):
        self.tab = tab
        self.source = source
        # Every request of this adapter shares it; the import sets its limit to --concurrency.
        self.pacer = Pacer()

    async def fetch(
        self, url: str, *, method: str = "GET", headers: dict[str, str] | None = None, body: str | None = None,
        throttle_503: bool | None = None,
    ) -> FetchResponse:
        """`self.tab.fetch` within the pacer's limit: 429 (and 503 unless `throttle_503` is False) slows
        down and sends the request again; after a few tries it raises Throttled."""
        return await self.pacer.send(
            lambda: self.tab.fetch(url, method=method, headers=headers, body=body),
            throttle_503=self.throttle_503 if throttle_503 is None else throttle_503,
            what=f"{urlsplit(url).path} ({self.title})",
        )

    @classmethod
    @abstractmethod
    def matches_host(cls, host: str) -> bool:
        """Whether a tab on this host is this app (by host name alone, never by port)."""

    @classmethod
    def source_of_host(cls, host: str) -> str | None:
        """The --source value a host stands for, for apps whose source is the host (Skaner2, Warta)."""
        return None

    @classmethod
    def tab_label(cls, host: str) -> str:
        """How a tab of this app is named when several are open (e.g. to say which to keep)."""
        return f"{cls.title} ({host})"

    @classmethod
    def refresh_target(cls, source_system: str | None, insurer: str) -> tuple[str | None, str | None]:
        """For a stored policy: the --source to read it with and the identity/section the tab must show."""
        source = source_system.lower() if source_system and source_system.lower() in cls.sources else None
        identity = next((code for code in (insurer, source_system) if code in cls.identities), None)
        return source, identity

    def switch_instruction(self, expected: str, actual: str | None) -> str:
        """A whole sentence telling the user what to switch in the app to get `expected`."""
        if actual is None:
            return _("The {app} tab shows another identity, but {expected} is needed. Switch to {expected} in "
                     "{app}.").format(app=self.title, expected=expected)
        return _("The {app} tab shows {actual}, but {expected} is needed. Switch to {expected} in {app}.").format(
            app=self.title, actual=actual, expected=expected)

    @abstractmethod
    async def context(self) -> AppContext:
        """Reads the tab's DOM: logged in? which identity/section? Raises NotLoggedIn / NoRights."""

    @abstractmethod
    def check_number(self, number: str) -> str:
        """Validates a policy number typed by the user before anything is fetched; returns it as the
        app writes it. Raises BadInput (no app format) or WrongIdentity (another identity's or
        section's format, saying what to switch)."""

    @abstractmethod
    def list_policies(self, date_from: date, date_to: date) -> AsyncIterator[ListedPolicy]:
        """Every policy issued in [date_from, date_to] (at most 16 days), all pages, in the app's order."""

    @abstractmethod
    async def lookup(self, number: str) -> list[ListedPolicy]:
        """The policies with this number (several only on multi-insurer apps). Raises PolicyNotFound."""

    @abstractmethod
    async def read_policy(self, item: ListedPolicy) -> Policy:
        """Detail, coverages and installments of one listed policy. Raises PolicyError (this one is
        red, the others go on) or an EnvironmentProblem (the whole import stops)."""
