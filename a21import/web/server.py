"""`a21import ui`: serves the page on 127.0.0.1, prints its address (with the run's secret) first, and
opens it as a new tab in the agent's debugging browser (never navigating a tab of theirs), or in the
system's default browser when no debugging browser answers."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
import threading
import time
import webbrowser

from a21import.errors import A21Error, EnvironmentProblem
from a21import.i18n import _
from a21import.logs import log
from a21import.web.app import Settings, create_app
from a21import.web.security import Keys

OPEN_TIMEOUT_S = 15.0


def bind(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1 only (port 0: a free one)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if os.name != "nt":  # a port just left by a stopped run (TIME_WAIT) is usable again; on Windows this would
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # let another program share a live port
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        raise EnvironmentProblem(_("The port {port} on 127.0.0.1 cannot be used ({reason}). Give another one with "
                                   "--port, or --port 0 for any free one.").format(port=port, reason=exc.strerror))
    sock.listen(64)
    return sock


async def _new_tab(cdp: str, url: str) -> None:
    from a21import.browser import attach

    async with attach(cdp) as browser:
        contexts = browser.browser.contexts
        if not contexts:
            raise EnvironmentProblem(_("The browser has no window to open a tab in."))
        page = await contexts[0].new_page()  # a tab of our own: the agent's tabs are never navigated
        await page.goto(url, wait_until="commit")
    # Leaving `attach` drops the connection only: the browser and the new tab stay open.


def open_page(url: str, cdp: str) -> str:
    """Opens `url`; returns where: "cdp" (a new tab of the debugging browser), "system" or "" (nowhere)."""
    try:
        asyncio.run(asyncio.wait_for(_new_tab(cdp, url), OPEN_TIMEOUT_S))
        return "cdp"
    except (A21Error, TimeoutError, OSError) as exc:
        log.info("The page was not opened in the debugging browser: %s", getattr(exc, "message", exc))
    except Exception as exc:  # Playwright's own errors: the default browser is the way left
        log.info("The page was not opened in the debugging browser: %s", type(exc).__name__)
    try:
        return "system" if webbrowser.open(url, new=2) else ""
    except webbrowser.Error:
        return ""


def _server_log_to_file() -> None:
    """The server's own messages (a request that failed, a shutdown that waited) go to a21import's log file,
    masked as the importer's are: the terminal shows sentences, never a traceback."""
    for name in ("uvicorn", "uvicorn.error", "uvicorn.asgi"):
        logger = logging.getLogger(name)
        logger.handlers = list(log.handlers) or [logging.NullHandler()]
        logger.propagate = False
        logger.setLevel(logging.WARNING)


def serve(settings: Settings, *, port: int = 0, open_browser: bool = True, say=print) -> None:
    """Runs until Ctrl-C (KeyboardInterrupt reaches the caller after a clean shutdown)."""
    import uvicorn

    keys = Keys()
    sock = bind(port)
    keys.port = sock.getsockname()[1]
    app = create_app(settings, keys)
    config = uvicorn.Config(app, log_config=None, access_log=False, loop="asyncio", lifespan="off",
                            timeout_graceful_shutdown=5, server_header=False, date_header=False)
    _server_log_to_file()

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame) -> None:
            app.site.closing.set()  # the event streams end, so that the shutdown waits for nothing
            app.site.jobs.stop_all(timeout=0)
            super().handle_exit(sig, frame)

    server = Server(config)
    say(keys.opening_url)
    sys.stdout.flush()

    def opener() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.05)
        if server.should_exit:
            return
        where = open_page(keys.opening_url, settings.cdp)
        if where == "cdp":
            say(_("The page is open in a new tab of the browser at {cdp}.").format(cdp=settings.cdp))
        elif where == "system":
            say(_("No debugging browser answers at {cdp}, so the page was opened in your default browser.").format(
                cdp=settings.cdp))
        else:
            say(_("Open the address above in your browser."))
        sys.stdout.flush()

    if open_browser:
        threading.Thread(target=opener, name="a21import-open", daemon=True).start()
    else:
        say(_("Open the address above in the browser where the sales app is logged in. Ctrl-C stops a21import."))
        sys.stdout.flush()
    try:
        server.run(sockets=[sock])
    finally:
        app.site.jobs.stop_all()
        sock.close()
