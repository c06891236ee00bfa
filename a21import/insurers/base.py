"""The one small interface every app adapter implements.

An adapter = a thin reader (in-page fetches from the app's tab, DOM reads for identity and
config) plus pure parse functions (module level, no I/O) that turn the app's raw HTML/JSON
into the normalised model. The reader never logs in, clicks, navigates or reloads.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar
from urllib.parse import quote, urlencode, urlsplit

from a21import import capture, ctrl_c
from a21import.errors import BadInput, ParseError, PolicyError
from a21import.i18n import _
from a21import.model import AppContext, ListedPolicy, Policy
from a21import.pacing import Pacer
from a21import.tab import FetchResponse, Tab  # noqa: F401 (re-exported for the adapters)
from a21import.text import clean, shorten

# The list pages one window (at most 16 days) may take. The apps' real windows take a few dozen;
# an app that says "there is a next page" forever is stopped here.
MAX_LIST_PAGES = 500
# The longest value from an answer put into a URL (the longest real id is a 36-character UUID).
MAX_SEGMENT = 100
SHOWN_VALUE = 40  # how much of a refused value a message quotes


class UnsafeValue(ParseError):
    """A value from an app's answer that cannot be put into a request: this policy is red, nothing is sent."""


class EndlessList(PolicyError):
    """A policy list whose pages do not end; the listing stops (run_period reports the window as unreadable)."""


def segment(value: object) -> str | None:
    """`value` percent-encoded as exactly one path segment (`/`, `?`, `#`, `%` and `\\` encoded), or None
    when it cannot be one: empty, `.` or `..` (which a URL parser resolves), longer than MAX_SEGMENT,
    or holding control, format (bidi) or non-ASCII space characters."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or value in ("", ".", "..") or len(value) > MAX_SEGMENT:
        return None
    if not value.isprintable():
        return None
    return quote(value, safe="")


def normal_host(host: str | None) -> str:
    """A host as apps are matched by it: lower case, without a trailing dot, never with a port
    (`IHestia.ErgoHestia.pl.:443` → `ihestia.ergohestia.pl`); "" for what is not a host."""
    try:
        name = urlsplit("//" + (host or "").strip()).hostname or ""
    except ValueError:  # an unclosed `[`, a port that is not a number
        return ""
    return name.rstrip(".")


def _shown(value: object) -> str:
    return shorten(clean(str(value)), SHOWN_VALUE)


class Adapter(ABC):
    """One sales app. Subclasses set the class attributes and implement the five methods."""

    app_id: ClassVar[str]
    title: ClassVar[str]  # e.g. "Ergo Hestia iHestia": the app as the user knows it
    # The host names of the app's tabs (from its spec), lower case: what `matches_host` looks for.
    hosts: ClassVar[tuple[str, ...]] = ()
    # --source values → what each means (empty: the app has no --source).
    sources: ClassVar[dict[str, str]] = {}
    # True when listing needs --source (Hestia's system); the CLI asks or refuses with the choices.
    period_needs_source: ClassVar[bool] = False
    # The identity/section codes --identity accepts; empty when the app has none.
    identities: ClassVar[tuple[str, ...]] = ()
    # Who sold what is read (`APP:ID`), as the tab showed it when connecting: stored in policies.agent.
    agent: str | None = None
    # False when the app documents 503 as its own failure of one request (then only 429 slows down).
    throttle_503: ClassVar[bool] = True

    def __init__(self, tab: Tab, source: str | None = None):
        self.tab = tab
        self.source = source
        # Every request of this adapter shares it; the import sets its limit to --concurrency.
        self.pacer = Pacer()
        # Set by the import while it lists: told each page number read (see PageGuard).
        self.listing_progress: Callable[[int], None] | None = None

    async def fetch(
        self, url: str, *, method: str = "GET", headers: dict[str, str] | None = None, body: str | None = None,
        throttle_503: bool | None = None,
    ) -> FetchResponse:
        """`self.tab.fetch` within the pacer's limit: 429 (and 503 unless `throttle_503` is False) slows
        down and sends the request again; after a few tries it raises Throttled."""
        def send() -> Awaitable[FetchResponse]:
            ctrl_c.check()  # after Ctrl-C no request leaves, not even one that waited for the pacer
            return self.tab.fetch(url, method=method, headers=headers, body=body)

        response = await self.pacer.send(
            send,
            throttle_503=self.throttle_503 if throttle_503 is None else throttle_503,
            what=f"{urlsplit(url).path} ({self.title})",
        )
        capture.note_fetch(method, url, response)  # kept while a policy is read: its capture if it turns red
        return response

    # -- URLs: every value from an answer goes through these, never into an f-string -------------
    def path(self, template: str, /, **values: object) -> str:
        """`template` with each `{name}` replaced by its value as one encoded path segment. A value that
        cannot be one raises UnsafeValue (the policy is red and nothing is requested)."""
        encoded = {}
        for name, value in values.items():
            part = segment(value)
            if part is None:
                raise UnsafeValue(_("{app} sent the value {value!r}, which cannot be put into a request to the app, "
                                    "so this policy was not read.").format(app=self.title, value=_shown(value)))
            encoded[name] = part
        return template.format(**encoded)

    @staticmethod
    def query(path: str, params: Mapping[str, Any] | Sequence[tuple[str, Any]]) -> str:
        """`path?` and the parameters, each value encoded (`urlencode`), None values left out."""
        items = params.items() if isinstance(params, Mapping) else params
        return f"{path}?{urlencode([(key, value) for key, value in items if value is not None])}"

    @staticmethod
    def typed_number(number: str, pattern: re.Pattern[str], refusal: str, **values: Any) -> str:
        """A policy number the user typed, stripped, when `pattern` matches all of it (for `check_number`);
        else BadInput with `refusal`, an untranslated (N_) sentence with {number} and `values` filled in."""
        value = (number or "").strip()
        if not pattern.fullmatch(value):
            raise BadInput(_(refusal).format(number=number, **values))
        return value

    def listed_number(self, number: object, pattern: re.Pattern[str] | Sequence[re.Pattern[str]]) -> str:
        """A policy number from an answer, about to be put into a request: returned when it has the app's form
        (`pattern`, or one of several), else UnsafeValue naming the app and the value."""
        patterns = (pattern,) if isinstance(pattern, re.Pattern) else tuple(pattern)
        if isinstance(number, str) and any(p.fullmatch(number) for p in patterns):
            return number
        raise UnsafeValue(_("{app} sent the policy number {number!r}, which is not in the form of its policy "
                            "numbers, so this policy was not read.").format(app=self.title, number=_shown(number)))

    def pages(self) -> PageGuard:
        """A guard for the pages of one list (one window, one look-up): see PageGuard."""
        return PageGuard(self.title, self.listing_progress)

    @classmethod
    def matches_host(cls, host: str) -> bool:
        """Whether a tab on this host is this app (by host name alone, never by port)."""
        return normal_host(host) in cls.hosts

    @classmethod
    def source_of_host(cls, host: str) -> str | None:
        """The --source value a host stands for, for apps whose source is the host (Skaner2, Warta)."""
        return None

    @classmethod
    def source_for_identity(cls, identity: str | None) -> str | None:
        """The --source whose tab shows `identity`, for apps where a section is a host of its own (Warta)."""
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


class PageGuard:
    """Stops a list whose pager never ends: more than MAX_LIST_PAGES pages for one window, or a page
    with the same policies as the page before it (an app repeating itself would be read forever)."""

    def __init__(self, title: str, on_page: Callable[[int], None] | None = None):
        self.title = title
        self.on_page = on_page  # told the number of each next page read (the import shows it)
        self.count = 0
        self._previous: tuple[Any, ...] | None = None

    def more(self, items: Sequence[Any]) -> None:
        """Call when the app offers a page after the one just read (which held `items`), before reading it."""
        self.count += 1
        # Compared by what identifies a row (the pages are parsed afresh, so never the same objects).
        content = tuple((getattr(i, "number", i), getattr(i, "insurer", None)) for i in items)
        if content == self._previous:
            raise EndlessList(_(
                "{app} answered page {page} of its policy list with the same policies as the page before it, so "
                "its pages would never end; a21import stopped reading the list."
            ).format(app=self.title, page=self.count))
        self._previous = content
        if self.count >= MAX_LIST_PAGES:
            raise EndlessList(_(
                "{app} still offers another page of its policy list after {pages} pages, so a21import stopped "
                "reading the list."
            ).format(app=self.title, pages=MAX_LIST_PAGES))
        if self.on_page is not None:
            self.on_page(self.count + 1)


@dataclass(frozen=True)
class Section:
    """One section of an app whose sections are hosts of their own (Warta): what its adapter and messages
    say of it. `description`, `source_label` and `number_description` are untranslated (N_)."""

    code: str  # the --source value
    host: str
    app_name: str
    name: str
    identity: str
    identity_label: str
    insurer: str
    number_format: re.Pattern[str]
    number_description: str
    description: str
    source_label: str


class SectionReader(ABC):
    """Reads one Section for its adapter, which picks it by --source or host and hands it every request;
    the reader sends its requests through the adapter (paced, captured)."""

    section: ClassVar[Section]
    agent: str | None = None  # the agent's number (or name) the tab shows, as context() last read it

    def __init__(self, adapter: Adapter):
        self.adapter = adapter

    @abstractmethod
    async def context(self) -> tuple[str | None, str]:
        """(user, description) of the section's logged-in tab."""

    @abstractmethod
    def list_policies(self, date_from: date, date_to: date) -> AsyncIterator[ListedPolicy]:
        """As Adapter.list_policies."""

    @abstractmethod
    async def lookup(self, number: str) -> list[ListedPolicy]:
        """As Adapter.lookup, for a number already checked."""

    @abstractmethod
    async def read_policy(self, number: str, detail: Any) -> Policy:
        """The policy `number`; `detail` is what a look-up already read, else None (it is read now)."""
