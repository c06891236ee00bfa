"""The tab as adapters see it: the `Tab` protocol and what its in-page `fetch` gives back.

Its own module so that browser.py (which implements it over Playwright) and the adapters (which read
through it) both depend on it, and neither on the other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from a21import.errors import PageChanged
from a21import.i18n import _


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
            raise PageChanged(_("The app answered {path} with text that is not valid JSON.").format(
                path=self.path), block="JSON", missing="JSON", path=self.path) from exc


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
