"""--cdp is read in one plain form only, and the address a21import finally connects to (the
`webSocketDebuggerUrl` that `/json/version` gives) is checked as strictly (issue #11, point 7)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from a21import.browser import check_cdp, debugger_url, keep_driver_compiled
from a21import.errors import BadInput, EnvironmentProblem, NoBrowser


@pytest.mark.parametrize("address", [
    "http://127.0.0.1:9222", "http://127.0.0.1:9222/", "http://localhost:9222", "http://[::1]:9222",
    "https://127.0.0.1", "ws://127.0.0.1:9222/devtools/browser/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
    "chrome", "msedge",
])
def test_plain_loopback_addresses_are_accepted(address):
    assert check_cdp(address) == address


@pytest.mark.parametrize("address", [
    "http://127.0.0.1:9222\\@evil.example",  # WHATWG reads the backslash as a slash, urllib does not
    "http://evil.example\\@127.0.0.1:9222",
    "http://user@127.0.0.1:9222",
    "http://evil.example@127.0.0.1:9222",
    "http://127.0.0.1:9222@evil.example",
    "http://127.1:9222",  # a browser reads these as 127.0.0.1, Python's ipaddress as host names
    "http://0x7f.0.0.1:9222",
    "http://2130706433:9222",
    "http://0177.0.0.1:9222",
    "http://localhost.:9222",
    "http://127.0.0.1.:9222",
    "http://127.0.0.1%2e:9222",
    "http://[::1%25lo]:9222",
    "http://xn--lcalhost-9wg:9222",
    "http://127.0.0.1:9222/json/version",
    "http://127.0.0.1:9222/?x=1",
    "http://127.0.0.1:9222#x",
    "http://127.0.0.1:99999",
    "http://127.0.0.1:09222",
    "http://127.0.0.1:",
    "ws://127.0.0.1:9222/devtools/../browser/x",
    "ws://127.0.0.1:9222/devtools/browser/a%2fb",
])
def test_forms_two_parsers_could_read_differently_are_refused(address):
    with pytest.raises(BadInput) as refused:
        check_cdp(address, allow_remote=True)
    assert "not written plainly" in refused.value.message


@pytest.mark.parametrize("address", [
    " http://127.0.0.1:9222", "http://127.0.0.1:9222 ", "http://127.0.0.1:9222\n", "http://127.0.0.1\t:9222",
    "http://127.0.0.1:9222\x00", "http://127.0.0.1:9222\u202e", "http://l\u043ecalhost:9222",  # Cyrillic o
])
def test_whitespace_control_characters_and_non_ascii_are_refused(address):
    with pytest.raises(BadInput) as refused:
        check_cdp(address)
    assert "spaces, control characters" in refused.value.message


@pytest.mark.parametrize("address", ["http:/127.0.0.1:9222", "http:127.0.0.1:9222", "file:///tmp/x", "foo", ""])
def test_what_is_not_an_address_says_so(address):
    with pytest.raises(BadInput) as refused:
        check_cdp(address)
    assert "is neither a URL" in refused.value.message


def test_remote_needs_the_option():
    with pytest.raises(BadInput) as refused:
        check_cdp("http://10.1.2.3:9222")
    assert "--allow-remote-cdp" in refused.value.message
    assert check_cdp("http://10.1.2.3:9222", allow_remote=True) == "http://10.1.2.3:9222"


# -- /json/version, answered by a program listening on loopback ----------------------------------------
@contextmanager
def devtools(answer) -> Iterator[tuple[str, list[str]]]:
    """A tiny HTTP server on 127.0.0.1; `answer(port)` gives (status, headers, body) for every request."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            seen.append(self.path)
            status, headers, body = answer(self.server.server_port)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", seen
    finally:
        server.shutdown()
        server.server_close()


def version(url: str) -> tuple[int, dict, bytes]:
    return 200, {"Content-Type": "application/json"}, json.dumps(
        {"Browser": "Chrome/140.0", "webSocketDebuggerUrl": url}).encode()


def test_the_browsers_own_loopback_address_is_used():
    with devtools(lambda port: version(f"ws://127.0.0.1:{port}/devtools/browser/0a1b-2c3d")) as (cdp, seen):
        assert debugger_url(cdp) == f"ws://127.0.0.1:{cdp.rsplit(':', 1)[1]}/devtools/browser/0a1b-2c3d"
        assert seen == ["/json/version"]


@pytest.mark.parametrize("remote", ["ws://10.1.2.3:9222/devtools/browser/x", "ws://evil.example/devtools/browser/x",
                                    "wss://192.0.2.7/devtools/browser/x"])
def test_a_loopback_program_pointing_elsewhere_is_refused(remote):
    with devtools(lambda port: version(remote)) as (cdp, _seen):
        with pytest.raises(EnvironmentProblem) as refused:
            debugger_url(cdp)
    assert refused.value.exit_code == 3
    assert refused.value.message == (
        f"The program at {cdp} gives {remote} as the browser's remote debugging address, which is not on this "
        f"computer, so a21import did not connect to it. Check which program listens at {cdp}.")


@pytest.mark.parametrize("answer", [
    lambda port: version(f"ws://127.0.0.1:{port}\\@10.1.2.3/devtools/browser/x"),
    lambda port: version(f"ws://user@127.0.0.1:{port}/devtools/browser/x"),
    lambda port: version(f"ws://127.1:{port}/devtools/browser/x"),
    lambda port: version(f"http://127.0.0.1:{port}/devtools/browser/x"),
    lambda port: version(["ws://127.0.0.1/"]),
    lambda port: (200, {}, b"not json"),
    lambda port: (200, {}, b"[" * 100_000),
    lambda port: (200, {}, json.dumps({"webSocketDebuggerUrl": "ws://127.0.0.1/x", "pad": "x" * 100_000}).encode()),
    lambda port: (302, {"Location": "http://10.1.2.3:9222/json/version"}, b""),
    lambda port: (404, {}, b"Not found"),
])
def test_a_program_that_does_not_answer_as_a_browser_is_not_connected_to(answer):
    with devtools(answer) as (cdp, seen):
        with pytest.raises(NoBrowser) as refused:
            debugger_url(cdp)
    assert refused.value.message.startswith(f"The program answering at {cdp} does not answer as a browser's remote "
                                            "debugging does")
    assert seen == ["/json/version"]  # a redirect is not followed


def test_nobody_listening_is_no_browser():
    with pytest.raises(NoBrowser) as refused:
        debugger_url("http://127.0.0.1:1")
    assert refused.value.message.startswith("No browser answers at http://127.0.0.1:1.")


@pytest.mark.parametrize("typed", ["9222", "localhost:9222", "127.0.0.1:9222"])
def test_the_short_forms_mean_the_loopback_http_address(typed):
    assert check_cdp(typed) == "http://127.0.0.1:9222"


@pytest.mark.parametrize("typed", ["0", "70000", "localhost:", "example.com:9222", "localhost:9222x"])
def test_short_forms_that_are_not_a_port_are_refused(typed):
    with pytest.raises(BadInput):
        check_cdp(typed)


def test_the_driver_keeps_its_compiled_code_in_the_users_cache_folder(tmp_path):
    """Node's compile cache for Playwright's driver: a folder of the user's own (0700), one already set kept, and
    no cache at all (rather than an error) where the folder cannot be made."""
    environ: dict[str, str] = {}
    keep_driver_compiled(environ, str(tmp_path / "cache"))
    folder = tmp_path / "cache" / "node-compile-cache"
    assert environ == {"NODE_COMPILE_CACHE": str(folder)}
    assert folder.is_dir() and folder.stat().st_mode & 0o777 == 0o700

    chosen = {"NODE_COMPILE_CACHE": "/elsewhere"}
    keep_driver_compiled(chosen, str(tmp_path / "other"))
    assert chosen == {"NODE_COMPILE_CACHE": "/elsewhere"} and not (tmp_path / "other").exists()

    (tmp_path / "file").write_text("")
    unusable: dict[str, str] = {}
    keep_driver_compiled(unusable, str(tmp_path / "file"))
    assert unusable == {}
