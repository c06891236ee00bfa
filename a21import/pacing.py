"""Being gentle with the app: one adaptive limit on the in-page requests of an import.

Every adapter sends its requests through one `Pacer`. At most `limit` requests are in flight at
once; the limit starts at the import's concurrency. When the app answers 429 (or 503, unless the
adapter documents 503 as its own per-policy failure), the pacer halves the limit, pauses every
new request for the `Retry-After` seconds (or an exponential backoff), and sends the same request
again, a few times at most; after that the request raises `Throttled`. After enough answers in a
row that were not throttled, the limit grows back by one, up to where it started.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from a21import.errors import Throttled
from a21import.i18n import _

if TYPE_CHECKING:
    from a21import.tab import FetchResponse

STATUS_TOO_MANY = 429
STATUS_UNAVAILABLE = 503
THROTTLE_RETRIES = 3  # sends after the first one, before Throttled
THROTTLE_BACKOFF_S = 1.0  # the first wait without Retry-After; doubled at each retry
MAX_WAIT_S = 60.0  # a longer Retry-After is cut to this


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """The wait a `Retry-After` header asks for: seconds, or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class Pacer:
    """The adaptive limit shared by all requests of one adapter."""

    def __init__(self, limit: int = 1, *, retries: int = THROTTLE_RETRIES, backoff: float = THROTTLE_BACKOFF_S,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
                 clock: Callable[[], float] = time.monotonic):
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep
        self.clock = clock
        self.in_flight = 0
        self.throttled = 0  # how many answers asked to slow down (for tests and the benchmark)
        self._resume_at = 0.0  # monotonic time before which no request starts
        self._successes = 0
        self._changed: asyncio.Condition | None = None
        self.reset(limit)

    def reset(self, limit: int) -> None:
        """Starts over at `limit` requests in flight (the import's concurrency)."""
        self.ceiling = self.limit = max(1, limit)
        self._successes = 0

    async def send(self, request: Callable[[], Awaitable[FetchResponse]], *, throttle_503: bool = True,
                   what: str = "a request") -> FetchResponse:
        """Sends `request()` within the limit; on a throttling answer slows down and sends it again."""
        for attempt in range(self.retries + 1):
            await self._acquire()
            try:
                response = await request()
            finally:
                await self._release()
            if not self._is_throttle(response, throttle_503):
                self._succeeded()
                return response
            self.throttled += 1
            if attempt == self.retries:
                break
            wait = retry_after_seconds(response.retry_after)
            if wait is None:
                wait = self.backoff * 2 ** attempt
            self._slow_down(min(wait, MAX_WAIT_S))  # the next _acquire waits it out, with every other request
        raise Throttled(_(
            "The app kept asking to slow down (HTTP {status}) for {what}, so it was not read after {tries} tries. "
            "Run the command again later; the policies imported so far are kept."
        ).format(status=response.status, what=what, tries=self.retries + 1))

    @staticmethod
    def _is_throttle(response: FetchResponse, throttle_503: bool) -> bool:
        return response.status == STATUS_TOO_MANY or (throttle_503 and response.status == STATUS_UNAVAILABLE)

    def _slow_down(self, wait: float) -> None:
        self.limit = max(1, self.limit // 2)
        self._successes = 0
        self._resume_at = max(self._resume_at, self.clock() + wait)

    def _succeeded(self) -> None:
        if self.limit >= self.ceiling:
            return
        self._successes += 1
        if self._successes >= 2 * self.limit:  # slowly: a few rounds at this limit before one more
            self.limit += 1
            self._successes = 0

    async def _acquire(self) -> None:
        changed = self._condition()
        async with changed:
            waited_for = None
            while True:
                pause = self._resume_at - self.clock()
                if pause > 0 and self._resume_at != waited_for:  # a pause asked for: every request waits it out
                    waited_for = self._resume_at
                    changed.release()
                    try:
                        await self.sleep(pause)
                    finally:
                        await changed.acquire()
                    continue
                if self.in_flight < self.limit:
                    self.in_flight += 1
                    return
                await changed.wait()

    async def _release(self) -> None:
        changed = self._condition()
        async with changed:
            self.in_flight -= 1
            changed.notify_all()

    def _condition(self) -> asyncio.Condition:
        # Made on first use, inside the running loop.
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed
