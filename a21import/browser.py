"""Attaching to the user's own browser over CDP, and reading from an app's tab.

One factory (`attach`) builds the connection for every command. Attaching uses
`no_defaults=True` so nothing in the user's browser changes; detaching only drops the CDP
connection, never closing the browser or any tab. Playwright's errors become domain errors
here, so the rest of the core never sees them.
"""

from __future__ import annotations

import asyncio
import http.client
import ipaddress
import json
import math
import os
import re
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from a21import import capture
from a21import.errors import AnswerRefused, BadInput, EnvironmentProblem, NoBrowser, TabGone
from a21import.i18n import _
from a21import.tab import FetchResponse

DEFAULT_CDP = "http://127.0.0.1:9222"
BROWSER_CHANNELS = ("chrome", "msedge")
CONNECT_TIMEOUT_MS = 10_000

REQUEST_TIMEOUT_S = 60.0  # longer than the slowest legitimate answer of any supported app
MAX_RESPONSE_MB = 32.0  # far above the largest legitimate answer (a list page of a few hundred kB)
BACKSTOP_S = 5.0  # Python gives up this much after the page's own deadline, should the page's timers stall
WORLD_NAME = "a21import"

# Runs in an isolated world of the tab (see PageTab): the app's own URL, with the tab's cookies, as its front
# end would, but with this world's pristine fetch/URL/TextDecoder, which the page's scripts cannot replace.
# mode 'same-origin' makes a redirect to another site fail before any request leaves for it; the probe with
# redirect 'manual' then tells that failure from a network one. The body is read through the stream reader so
# that both the deadline and the size cap cut an answer that trickles or never ends.
_FETCH_JS = """async function (url, method, headers, body, timeoutMs, maxBytes) {
  const target = new URL(url, location.href);
  if (target.origin !== location.origin) return {error: 'redirect', origin: target.origin, path: target.pathname};
  const signal = AbortSignal.timeout(timeoutMs);
  const init = {method, headers, body: body === null ? undefined : body, credentials: 'same-origin',
                mode: 'same-origin', cache: 'no-store', signal};
  let r;
  try {
    r = await fetch(target.href, {...init, redirect: 'follow'});
  } catch (e) {
    if (signal.aborted) return {error: 'timeout'};
    try {
      const probe = await fetch(target.href, {...init, redirect: 'manual'});
      if (probe.type === 'opaqueredirect') return {error: 'redirect', origin: '', path: target.pathname};
    } catch (ignored) {}
    return {error: signal.aborted ? 'timeout' : 'network', message: String(e)};
  }
  const final = new URL(r.url || target.href);
  if (final.origin !== location.origin) {
    r.body && r.body.cancel().catch(() => {});
    return {error: 'redirect', origin: final.origin, path: target.pathname};
  }
  if (Number(r.headers.get('content-length')) > maxBytes) {
    r.body && r.body.cancel().catch(() => {});
    return {error: 'tooLarge', path: target.pathname};
  }
  const chunks = [];
  let size = 0;
  try {
    const reader = r.body ? r.body.getReader() : null;
    while (reader) {
      const {done, value} = await reader.read();
      if (done) break;
      size += value.length;
      if (size > maxBytes) {
        reader.cancel().catch(() => {});
        return {error: 'tooLarge', path: target.pathname};
      }
      chunks.push(value);
    }
  } catch (e) {
    return {error: signal.aborted ? 'timeout' : 'network', message: String(e)};
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) { bytes.set(chunk, at); at += chunk.length; }
  return {status: r.status, url: r.url, text: new TextDecoder().decode(bytes),
          contentType: r.headers.get('content-type') || '', retryAfter: r.headers.get('retry-after')};
}"""


def _env_number(name: str, default: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise BadInput(_("The environment variable {name} must be a number greater than 0, not {value!r}.").format(
            name=name, value=text))
    return value


def request_timeout() -> float:
    """Seconds one in-page request may take, headers and body (A21IMPORT_REQUEST_TIMEOUT overrides)."""
    return _env_number("A21IMPORT_REQUEST_TIMEOUT", REQUEST_TIMEOUT_S)


def max_response_mb() -> float:
    """The largest answer read, in MB (A21IMPORT_MAX_RESPONSE_MB overrides)."""
    return _env_number("A21IMPORT_MAX_RESPONSE_MB", MAX_RESPONSE_MB)


# The one written form of a DevTools address a21import accepts: scheme, host, optional port, and a plain
# path (only for ws:). Anything else (user-info, backslashes, %-escapes, queries, IDN, short or octal IPv4,
# trailing dots) is a form on which URL parsers disagree, so it is refused rather than interpreted.
_CDP_FORM = re.compile(r"(?P<scheme>(?i:https?|wss?))://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)"
                       r"(?::(?P<port>[1-9][0-9]{0,4}))?(?P<path>/[A-Za-z0-9._~/-]*)?")
_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_NUMERIC_LABEL = re.compile(r"[0-9]+|0[xX][0-9A-Fa-f]*")
VERSION_TIMEOUT_S = 5.0
VERSION_MAX_BYTES = 64 * 1024


_SHORT_CDP = re.compile(r"(?:(?:localhost|127\.0\.0\.1):)?(?P<port>[1-9][0-9]{0,4})")


def check_cdp(cdp: str, *, allow_remote: bool = False) -> str:
    """Validates --cdp: an http(s):// or ws(s):// URL on loopback, or `chrome` / `msedge`."""
    value = cdp or ""
    if value in BROWSER_CHANNELS:
        return value
    # The short forms people type: `9222`, `localhost:9222`, `127.0.0.1:9222` mean http://127.0.0.1:9222.
    short = _SHORT_CDP.fullmatch(value)
    if short and int(short.group("port")) <= 65535:
        return f"http://127.0.0.1:{short.group('port')}"
    if any(ch.isspace() or not ch.isprintable() or not ch.isascii() for ch in value):
        raise BadInput(_(
            "The CDP address {cdp!r} contains spaces, control characters or letters outside ASCII; give it as "
            "plain text such as http://127.0.0.1:9222."
        ).format(cdp=cdp))
    if "://" not in value or urlsplit(value).scheme.lower() not in ("http", "https", "ws", "wss"):
        raise BadInput(_(
            "The CDP address {cdp!r} is neither a URL such as http://127.0.0.1:9222 nor one of: {channels}."
        ).format(cdp=cdp, channels=", ".join(BROWSER_CHANNELS)))
    host = _plain_host(value)
    if host is None:
        raise BadInput(_(
            "The CDP address {cdp!r} is not written plainly as scheme://host:port (such as http://127.0.0.1:9222, "
            "or ws://127.0.0.1:9222/devtools/browser/ID). User names, backslashes, %-escapes, queries and unusual "
            "host forms are refused, because programs could read them as different addresses."
        ).format(cdp=cdp))
    if not allow_remote and not _is_loopback(host):
        raise BadInput(_(
            "The CDP address {cdp!r} is not on this computer. Remote debugging gives full control of the "
            "browser and its logged-in sessions, so only loopback addresses are used unless you add "
            "--allow-remote-cdp."
        ).format(cdp=cdp))
    return value


def _plain_host(value: str) -> str | None:
    """The host of a DevTools address written in the one accepted form, or None for any other form."""
    match = _CDP_FORM.fullmatch(value)
    if match is None:
        return None
    scheme, host, port, path = match["scheme"].lower(), match["host"].lower(), match["port"], match["path"] or ""
    if port is not None and int(port) > 65535:
        return None
    if scheme in ("http", "https") and path not in ("", "/"):
        return None
    if any(segment in (".", "..") for segment in path.split("/")) or "//" in path:
        return None
    written = host.strip("[]")
    if host.startswith("["):
        try:
            host = str(ipaddress.IPv6Address(written))
        except ValueError:
            return None
    else:
        labels = host.split(".")
        if not all(_LABEL.fullmatch(label) and not label.startswith("xn--") for label in labels):
            return None
        if _NUMERIC_LABEL.fullmatch(labels[-1]):  # a browser reads it as an IPv4 address, however short or octal
            try:
                host = str(ipaddress.IPv4Address(host))
            except ValueError:
                return None
    # The second parser must read the same host and port, with no user-info.
    parts = urlsplit(value)
    try:
        same = (parts.hostname == written and parts.port == (int(port) if port else None)
                and parts.username is None and parts.password is None and not parts.query and not parts.fragment)
    except ValueError:
        return None
    return host if same else None


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
    """A Playwright page as the `Tab` adapters read from.

    `fetch` runs in an isolated world of the tab's main frame: the same document, origin and cookies, but
    its own JavaScript globals, so a page that replaced `window.fetch`, `JSON` or `Response.prototype` cannot
    change what is read. `evaluate` stays in the page's own world: adapters use it to read the page's own
    state (config, storage), which only that world holds."""

    def __init__(self, page: Any):
        self.page = page
        self._cdp: Any = None
        self._world: int | None = None
        self._world_lock = asyncio.Lock()

    @property
    def url(self) -> str:
        return self.page.url

    @property
    def host(self) -> str:
        return urlsplit(self.page.url).hostname or ""

    async def fetch(
        self, url: str, *, method: str = "GET", headers: dict[str, str] | None = None, body: str | None = None
    ) -> FetchResponse:
        seconds, mb = request_timeout(), max_response_mb()
        args = [url, method, headers or {}, body, seconds * 1000, int(mb * 1024 * 1024)]
        try:
            # asyncio.timeout, not wait_for: Python 3.11's wait_for can drop a Ctrl-C cancellation that arrives
            # in the same turn as the answer.
            async with asyncio.timeout(seconds + BACKSTOP_S):
                data = await self._call_isolated(_FETCH_JS, args)
        except TimeoutError:
            data = {"error": "timeout"}
        error = data.get("error")
        path = data.get("path") or urlsplit(url).path
        if error == "timeout":
            raise AnswerRefused(_("The app did not answer within {seconds} s.").format(seconds=f"{seconds:g}"))
        if error == "redirect" and data.get("origin"):
            raise AnswerRefused(_("The app's answer to {path} redirected to another site ({origin}); it was not "
                                  "read.").format(path=path, origin=data["origin"]))
        if error == "redirect":
            raise AnswerRefused(_("The app's answer to {path} redirected to another site; it was not read.").format(
                path=path))
        if error == "tooLarge":
            raise AnswerRefused(_("The app's answer to {path} is larger than {mb} MB; it was not read.").format(
                path=path, mb=f"{mb:g}"))
        if error:
            raise _translate(Exception(data.get("message") or "Failed to fetch"), self.host)
        return FetchResponse(status=data["status"], url=data["url"], text=data["text"],
                             content_type=data["contentType"], retry_after=data.get("retryAfter"))

    async def _call_isolated(self, function: str, args: list[Any]) -> Any:
        """Calls `function(...args)` in the isolated world and returns its awaited result by value."""
        from playwright.async_api import Error as PlaywrightError

        for attempt in (1, 2):
            world = None
            try:
                world = await self._isolated_world()
                reply = await self._cdp.send("Runtime.callFunctionOn", {
                    "functionDeclaration": function, "executionContextId": world,
                    "arguments": [{"value": arg} for arg in args], "awaitPromise": True, "returnByValue": True})
            except PlaywrightError as exc:
                if attempt == 1 and "Cannot find context" in str(exc):
                    # The tab loaded another document since; its isolated world went with the old one.
                    if self._world == world:
                        self._world = None
                    continue
                raise _translate(exc, self.host) from exc
            if "exceptionDetails" in reply:
                details = reply["exceptionDetails"]
                raise _translate(Exception(details.get("exception", {}).get("description") or details.get("text", "")),
                                 self.host)
            return reply["result"].get("value")
        raise _translate(Exception("Execution context was destroyed"), self.host)

    async def _isolated_world(self) -> int:
        async with self._world_lock:
            if self._world is None:
                if self._cdp is None:
                    self._cdp = await self.page.context.new_cdp_session(self.page)
                tree = await self._cdp.send("Page.getFrameTree")
                created = await self._cdp.send("Page.createIsolatedWorld", {
                    "frameId": tree["frameTree"]["frame"]["id"], "worldName": WORLD_NAME})
                self._world = created["executionContextId"]
            return self._world

    async def evaluate(self, expression: str, arg: Any = None) -> Any:
        from playwright.async_api import Error as PlaywrightError

        try:
            value = await self.page.evaluate(expression, arg)
        except PlaywrightError as exc:
            raise _translate(exc, self.host) from exc
        capture.note_dom("evaluate", expression, value, arg)
        return value

    async def html(self) -> str:
        from playwright.async_api import Error as PlaywrightError

        try:
            text = await self.page.content()
        except PlaywrightError as exc:
            raise _translate(exc, self.host) from exc
        capture.note_dom("html", "", text)
        return text


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
    if "Execution context was destroyed" in text or "navigat" in text.lower():
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

    endpoint = await asyncio.to_thread(debugger_url, cdp) if urlsplit(cdp).scheme.lower() in ("http", "https") else cdp
    keep_driver_compiled(os.environ)
    playwright = await async_playwright().start()
    try:
        try:
            browser = await playwright.chromium.connect_over_cdp(endpoint, no_defaults=True,
                                                                 timeout=CONNECT_TIMEOUT_MS)
        except PlaywrightError as exc:
            raise NoBrowser(_no_browser_message(cdp, exc)) from exc
        yield Browser(browser)
    finally:
        # Stopping the driver drops the CDP connection; the user's browser and tabs stay open.
        await playwright.stop()


def keep_driver_compiled(environ: MutableMapping[str, str], cache_root: str | None = None) -> None:
    """Lets Playwright's Node driver keep its compiled code between runs (Node's NODE_COMPILE_CACHE, in the
    user's own cache folder), so that every attach starts the driver faster. Left as it is when
    already set, and skipped when the folder cannot be made."""
    if environ.get("NODE_COMPILE_CACHE"):
        return
    if cache_root is None:
        from platformdirs import user_cache_dir

        cache_root = user_cache_dir("a21import", appauthor=False)
    folder = Path(cache_root) / "node-compile-cache"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return
    environ["NODE_COMPILE_CACHE"] = str(folder)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the redirect itself is the answer, refused below


def debugger_url(cdp: str) -> str:
    """The browser's own WebSocket address, read from `cdp`/json/version by a21import itself (no proxy, no
    redirect, a bounded answer) and checked as --cdp is: on this computer unless `cdp` itself is not (which
    `check_cdp` lets through only with --allow-remote-cdp)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects)
    not_devtools = _(
        "The program answering at {cdp} does not answer as a browser's remote debugging does, so a21import did not "
        "connect to it. Check which program listens there, or give the right address with --cdp."
    ).format(cdp=cdp)
    try:
        with opener.open(cdp.rstrip("/") + "/json/version", timeout=VERSION_TIMEOUT_S) as answer:
            raw = answer.read(VERSION_MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:  # a redirect or an error status: not a browser's endpoint
        raise NoBrowser(not_devtools) from exc
    except (OSError, ValueError, http.client.HTTPException) as exc:
        raise NoBrowser(_no_browser_message(cdp, exc)) from exc
    try:
        address = json.loads(raw)["webSocketDebuggerUrl"] if len(raw) <= VERSION_MAX_BYTES else None
    except (ValueError, TypeError, KeyError, RecursionError):
        address = None
    if not isinstance(address, str) or urlsplit(address).scheme.lower() not in ("ws", "wss"):
        raise NoBrowser(not_devtools)
    remote = not _is_loopback(urlsplit(cdp).hostname or "")
    try:
        return check_cdp(address, allow_remote=remote)
    except BadInput as exc:
        if _plain_host(address) is None:
            raise NoBrowser(not_devtools) from exc
        raise EnvironmentProblem(_(
            "The program at {cdp} gives {address} as the browser's remote debugging address, which is not on this "
            "computer, so a21import did not connect to it. Check which program listens at {cdp}."
        ).format(cdp=cdp, address=address)) from exc


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
