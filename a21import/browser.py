"""Attaching to the user's own browser over CDP, and reading from an app's tab.

One factory (`attach`) builds the connection for every command. Attaching uses
`no_defaults=True` so nothing in the user's browser changes; detaching only drops the CDP
connection, never closing the browser or any tab. Playwright's errors become domain errors
here, so the rest of the core never sees them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

from a21import.errors import BadInput, NoBrowser, TabGone
from a21import.i18n import _
from a21import.insurers.base import FetchResponse

DEFAULT_CDP = "http://127.0.0.1:9222"
BROWSER_CHANNELS = ("chrome", "msedge")
CONNECT_TIMEOUT_MS = 10_000

# Runs inside the tab: the app's own URL, with the tab's cookies, as its front end would.
_FETCH_JS = """async ({url, method, headers, body}) => {
  const r = await fetch(url, {method, headers, body, credentials: 'same-origin', redirect: 'follow', cache: 'no-store'});
  return {status: r.status, url: r.url, text: await r.text(), contentType: r.headers.get('content-type') || '',
          retryAfter: r.headers.get('retry-after')};
}"""


def check_cdp(cdp: str, *, allow_remote: bool = False) -> str:
    """Validates --cdp: an http(s):// or ws(s):// URL on loopback, or `chrome` / `msedge`."""
    value = (cdp or "").strip()
    if value in BROWSER_CHANNELS:
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https", "ws", "wss") or not parts.hostname:
        raise BadInput(_(
            "The CDP address {cdp!r} is neither a URL such as http://127.0.0.1:9222 nor one of: {channels}."
        ).format(cdp=cdp, channels=", ".join(BROWSER_CHANNELS)))
    try:
        parts.port
    except ValueError as exc:
        raise BadInput(_("The CDP address {cdp!r} has an invalid port.").format(cdp=cdp)) from exc
    if not allow_remote and not _is_loopback(parts.hostname):
        raise BadInput(_(
            "The CDP address {cdp!r} is not on this computer. Remote debugging gives full control of the "
            "browser and its logged-in sessions, so only loopback addresses are used unless you add "
            "--allow-remote-cdp."
        ).format(cdp=cdp))
    return value


def remote_warning(cdp: str) -> str | None:
    """The warning to show when --allow-remote-cdp let through an address that is not on this computer."""
    if cdp in BROWSER_CHANNELS or _is_loopback(urlsplit(cdp).hostname or ""):
        return None
    return _("Warning: the browser at {address} is not on this computer. Whoever can reach that address has full "
             "control of the browser and of every app logged in there; use it only over a network you trust.").format(
        address=cdp)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class PageTab:
    """A Playwright page as the `Tab` adapters read from."""

    def __init__(self, page: Any):
        self.page = page

    @property
    def url(self) -> str:
        return self.page.url

    @property
    def host(self) -> str:
        return urlsplit(self.page.url).hostname or ""

    async def fetch(
        self, url: str, *, method: str = "GET", headers: dict[str, str] | None = None, body: str | None = None
    ) -> FetchResponse:
        data = await self.evaluate(_FETCH_JS, {"url": url, "method": method, "headers": headers or {}, "body": body})
        return FetchResponse(status=data["status"], url=data["url"], text=data["text"], content_type=data["contentType"],
                             retry_after=data.get("retryAfter"))

    async def evaluate(self, expression: str, arg: Any = None) -> Any:
        from playwright.async_api import Error as PlaywrightError

        try:
            return await self.page.evaluate(expression, arg)
        except PlaywrightError as exc:
            raise _translate(exc, self.host) from exc

    async def html(self) -> str:
        from playwright.async_api import Error as PlaywrightError

        try:
            return await self.page.content()
        except PlaywrightError as exc:
            raise _translate(exc, self.host) from exc


def _translate(exc: Exception, host: str) -> Exception:
    text = str(exc)
    if "closed" in text.lower() or "Target" in text and "destroyed" in text:
        return TabGone(_(
            "The tab of {host} or the browser was closed while a21import was reading it. Open the app again, "
            "log in if needed, and run the command again; the policies imported so far are kept."
        ).format(host=host))
    if "Failed to fetch" in text or "NetworkError" in text:
        return TabGone(_(
            "The app at {host} did not answer a request made from its tab. Check that the app works in the "
            "browser and run the command again; the policies imported so far are kept."
        ).format(host=host))
    if "Execution context was destroyed" in text or "navigation" in text.lower():
        return TabGone(_(
            "The tab of {host} moved to another page while a21import was reading it. Leave the tab alone "
            "during the import and run the command again; the policies imported so far are kept."
        ).format(host=host))
    return TabGone(_("The browser reported an error while reading the tab of {host}: {error}").format(
        host=host, error=text.splitlines()[0]))


class Browser:
    """The attached browser: its open tabs, and nothing it could change."""

    def __init__(self, browser: Any):
        self.browser = browser

    def tabs(self) -> list[PageTab]:
        return [PageTab(page) for context in self.browser.contexts for page in context.pages]


@asynccontextmanager
async def attach(cdp: str) -> AsyncIterator[Browser]:
    """Attaches to the running browser at `cdp` (already checked by `check_cdp`)."""
    from playwright.async_api import Error as PlaywrightError
    from playwright.async_api import async_playwright

    playwright = await async_playwright().start()
    try:
        try:
            browser = await playwright.chromium.connect_over_cdp(cdp, no_defaults=True, timeout=CONNECT_TIMEOUT_MS)
        except PlaywrightError as exc:
            raise NoBrowser(_no_browser_message(cdp, exc)) from exc
        yield Browser(browser)
    finally:
        # Stopping the driver drops the CDP connection; the user's browser and tabs stay open.
        await playwright.stop()


def _no_browser_message(cdp: str, exc: Exception) -> str:
    if cdp in BROWSER_CHANNELS:
        return _(
            "No running {browser} with remote debugging was found. In {browser}, open "
            "chrome://inspect/#remote-debugging, allow remote debugging, and run the command again."
        ).format(browser=cdp)
    return _(
        "No browser answers at {cdp}. Start Chrome, Edge or Chromium with --remote-debugging-port "
        "(for example with `a21import browser`), log in to the app, and run the command again, "
        "or give the right address with --cdp."
    ).format(cdp=cdp)
