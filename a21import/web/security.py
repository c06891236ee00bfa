"""The page runs beside logged-in insurance sessions, so every request is checked before the app sees it.

One ASGI middleware (pure ASGI, so that the server-sent events stream through it unbuffered):

- the `Host` header must name the address served (a DNS-rebinding page on another name gets 400);
- the per-run secret of the opening URL (`/?k=SECRET`) is exchanged once for a session cookie
  (HttpOnly, SameSite=Strict, Path=/), then the browser is sent to the same path without the secret;
- every other request without a valid session cookie gets 403;
- only GET, HEAD and POST exist; a POST must come from the page's own origin (`Origin`, see `_same_origin`)
  and carry the session's CSRF token (header `X-CSRF-Token` or form field `csrf`);
- every answer carries a strict Content-Security-Policy (no inline script, no eval), frame and sniffing
  protection, no referrer and no caching; no CORS header is ever sent.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlencode

from a21import.i18n import _

COOKIE = "a21session"
SECRET_PARAMETER = "k"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf"
MAX_FORM_BYTES = 64 * 1024  # the page's forms are a few fields; anything bigger is not one of them
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
)


@dataclass
class Keys:
    """The secrets of one run: the opening secret, and the sessions it was exchanged for."""

    port: int = 0
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    _csrf_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    sessions: set[str] = field(default_factory=set)

    @property
    def hosts(self) -> tuple[str, ...]:
        return (f"127.0.0.1:{self.port}", f"localhost:{self.port}")

    @property
    def opening_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/?{urlencode({SECRET_PARAMETER: self.secret})}"

    def new_session(self) -> str:
        session = secrets.token_urlsafe(32)
        self.sessions.add(session)
        return session

    def csrf_token(self, session: str) -> str:
        return hmac.new(self._csrf_key, session.encode(), "sha256").hexdigest()

    def valid_session(self, value: str | None) -> bool:
        # Compared one by one in constant time: the set's own lookup would answer faster for a near miss.
        return bool(value) and any(hmac.compare_digest(value, known) for known in list(self.sessions))


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def session_of(scope) -> str | None:
    raw = _header(scope, b"cookie")
    if not raw:
        return None
    cookie = SimpleCookie()
    try:
        cookie.load(raw)
    except Exception:  # a malformed Cookie header is no session
        return None
    morsel = cookie.get(COOKIE)
    return morsel.value if morsel is not None else None


class Guard:
    def __init__(self, app, keys: Keys):
        self.app = app
        self.keys = keys

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self.app(scope, receive, send)
            return  # websockets: none are served

        async def secured_send(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if not k.lower().startswith(b"access-control-")]
                message = {**message, "headers": headers + list(HEADERS)}
            await send(message)

        host = _header(scope, b"host")
        if host not in self.keys.hosts:
            return await _plain(secured_send, 400, _("This address is not served here."))
        method = scope["method"]
        if method not in ("GET", "HEAD", "POST"):
            return await _plain(secured_send, 405, _("Method not allowed."))
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        offered = query.get(SECRET_PARAMETER, [None])[0]
        if offered is not None and method == "GET":
            rest = urlencode([(k, v) for k, values in query.items() if k != SECRET_PARAMETER for v in values])
            path = "/" + scope["path"].lstrip("/")  # never `//host`: the browser would read that as another site
            return await self._exchange(scope, secured_send, offered, path + (f"?{rest}" if rest else ""))
        session = session_of(scope)
        if not self.keys.valid_session(session):
            return await _plain(secured_send, 403, _("Open a21import's page with the address it printed."))
        scope.setdefault("state", {})["csrf"] = self.keys.csrf_token(session)
        if method == "POST":
            if not _same_origin(scope, host):
                return await _plain(secured_send, 403, _("Refused: the request does not come from this page."))
            receive, ok = await self._check_csrf(scope, receive, self.keys.csrf_token(session))
            if ok is None:
                return await _plain(secured_send, 413, _("The request is too large."))
            if not ok:
                return await _plain(secured_send, 403, _("Refused: the page's token is missing or wrong."))
        await self.app(scope, receive, secured_send)

    async def _exchange(self, scope, send, offered: str, clean_url: str) -> None:
        if not hmac.compare_digest(offered.encode(), self.keys.secret.encode()):
            return await _plain(send, 403, _("Open a21import's page with the address it printed."))
        session = self.keys.new_session()
        cookie = f"{COOKIE}={session}; HttpOnly; SameSite=Strict; Path=/"
        await send({"type": "http.response.start", "status": 303,
                    "headers": [(b"location", clean_url.encode("latin-1", "replace")),
                                (b"set-cookie", cookie.encode()),
                                (b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    async def _check_csrf(self, scope, receive, expected: str):
        """(a receive that replays the body, True/False; None when the body is too large)."""
        token = _header(scope, CSRF_HEADER.encode())
        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_FORM_BYTES:
                return receive, None
        if token is None and (_header(scope, b"content-type") or "").startswith("application/x-www-form-urlencoded"):
            token = parse_qs(body.decode("utf-8", "replace")).get(CSRF_FIELD, [None])[0]
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return replay, token is not None and hmac.compare_digest(token.encode(), expected.encode())


def _same_origin(scope, host: str) -> bool:
    """The POST comes from the page itself. Under `Referrer-Policy: no-referrer` Chromium sends `Origin: null`
    for the page's own form posts; then the browser's own `Sec-Fetch-Site` (which no page can set) must say
    same-origin. Any other Origin, or none, is refused."""
    origin = _header(scope, b"origin")
    if origin == f"http://{host}":
        return True
    return origin == "null" and _header(scope, b"sec-fetch-site") == "same-origin"


async def _plain(send, status: int, text: str) -> None:
    body = text.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
