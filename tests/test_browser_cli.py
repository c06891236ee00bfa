"""`a21import browser` for real: it starts the system Chromium detached with its own profile and
remote debugging on 127.0.0.1, says where, finds it again on a second run, and refuses a port
another browser answers on. Every browser it starts is killed in teardown."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
import urllib.request
from pathlib import Path

import pytest

from tests.fixtures.chromium import FLAGS, find_chromium

pytestmark = pytest.mark.integration

# The flags this machine's tests need, minus those `a21import browser` sets itself.
OWN = ("--remote-debugging-port", "--remote-debugging-address", "--no-first-run", "--no-default-browser-check")
EXTRA = [flag for flag in FLAGS if not flag.startswith(OWN)] + ["--headless=new", "about:blank"]


def said(text: str) -> str:
    return " ".join(text.split())


def profile_pid(profile: Path) -> int | None:
    """The browser's pid from the profile's SingletonLock (a symlink to `host-pid`)."""
    try:
        return int(os.readlink(profile / "SingletonLock").rpartition("-")[2])
    except (OSError, ValueError):
        return None


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def kill_group(pid: int) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and alive(pid):
            time.sleep(0.1)
        if not alive(pid):
            return


@pytest.fixture
def profile(tmp_path):
    """A profile folder; whatever browser runs with it is killed, with its helpers, at the end."""
    folder = tmp_path / "browser-profile"
    yield folder
    pid = profile_pid(folder)
    if pid is not None:
        kill_group(pid)  # the browser leads its own session (started detached), so its group is its helpers
        assert not alive(pid), "the browser started by the test survived its teardown"


def version(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/version", timeout=5) as answer:
        return json.load(answer)


def test_browser_starts_detached_says_where_and_is_found_again(run_cli, profile):
    first = run_cli("browser", "--browser", find_chromium(), "--profile", str(profile), "--port", "0", "--", *EXTRA)
    assert first.returncode == 0, first.stdout + first.stderr
    port = int((profile / "DevToolsActivePort").read_text().splitlines()[0])
    address = f"http://127.0.0.1:{port}"
    text = said(first.stdout)
    assert f"with the profile {profile} and remote debugging at {address}, on this computer only." in text
    assert f"add --cdp {address} to every a21import command" in text and f"A21IMPORT_CDP={address}" in text
    assert f"`a21import apps --cdp {address}`" in text
    assert "chrome://inspect/#remote-debugging" in text
    # The command has ended; the browser it started answers at that address, with the flags it was given.
    pid = profile_pid(profile)
    assert pid is not None and alive(pid)
    assert "webSocketDebuggerUrl" in version(port)
    with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
        args = cmdline.read().decode().split("\0")
    assert f"--user-data-dir={profile}" in args and "--remote-debugging-address=127.0.0.1" in args
    assert os.getsid(pid) == pid  # detached: the leader of its own session

    again = run_cli("browser", "--browser", find_chromium(), "--profile", str(profile), "--port", "0", "--json",
                    "--", *EXTRA)
    assert again.returncode == 0, again.stdout + again.stderr
    document = json.loads(again.stdout)
    assert (document["already_running"], document["cdp"], document["pid"]) == (True, address, None)
    assert profile_pid(profile) == pid  # no second browser
    # The browser it started is one a21import attaches to.
    apps = run_cli("apps", "--cdp", address)
    assert apps.returncode == 0, apps.stdout + apps.stderr
    assert said(apps.stdout).startswith(f"No tab of a supported app is open in the browser at {address}.")


def test_a_port_another_browser_answers_on_is_refused(run_cli, chromium, profile):
    result = run_cli("browser", "--browser", find_chromium(), "--profile", str(profile), "--port", str(chromium.port),
                     "--", *EXTRA)
    assert result.returncode == 3
    assert said(result.stderr) == (
        f"Another browser already answers for remote debugging on port {chromium.port}. Use it as it is (run "
        f"`a21import apps --cdp http://127.0.0.1:{chromium.port}`), close it, or choose another port with --port.")
    assert profile_pid(profile) is None and not profile.exists()


def free_port() -> int:
    """A port nobody listens on now: bound by the system's choice, then let go."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_fixed_port_is_found_by_asking_it_and_found_again(run_cli, profile):
    """Issue 12, point 1: with a fixed port Chromium writes no DevToolsActivePort; the command must
    not wait 30 s and close a browser that was working."""
    port = free_port()
    address = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    first = run_cli("browser", "--browser", find_chromium(), "--profile", str(profile), "--port", str(port),
                    "--", *EXTRA)
    assert first.returncode == 0, first.stdout + first.stderr
    assert time.monotonic() - started < 25
    assert not (profile / "DevToolsActivePort").exists()
    text = said(first.stdout)
    assert f"with the profile {profile} and remote debugging at {address}, on this computer only." in text
    assert f"A21IMPORT_CDP={address}" in text
    pid = profile_pid(profile)
    assert pid is not None and alive(pid)
    assert "webSocketDebuggerUrl" in version(port)

    again = run_cli("browser", "--browser", find_chromium(), "--profile", str(profile), "--port", str(port), "--json",
                    "--", *EXTRA)
    assert again.returncode == 0, again.stdout + again.stderr
    document = json.loads(again.stdout)
    assert (document["already_running"], document["cdp"], document["pid"]) == (True, address, None)
    assert profile_pid(profile) == pid


def test_other_users_logged_in_are_warned_about(run_cli, profile, tmp_path):
    """Issue 11, point 14: the debugging port has no password, so other people logged in to this
    computer are named (here a `who` on PATH stands for the system's list of sessions)."""
    import getpass

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    who = bin_dir / "who"
    me = getpass.getuser()
    who.write_text(f"#!/bin/sh\necho '{me} pts/1 2026-11-28 08:00'\necho 'piotr pts/3 2026-11-28 09:12 (10.0.0.2)'\n")
    who.chmod(0o755)
    result = run_cli("browser", "--browser", find_chromium(), "--profile", str(profile), "--port", "0", "--", *EXTRA,
                     env={"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"})
    assert result.returncode == 0, result.stdout + result.stderr
    port = int((profile / "DevToolsActivePort").read_text().splitlines()[0])
    assert said(result.stderr) == (
        f"1 other user is logged in to this computer: piotr. Remote debugging has no password, so any program that "
        f"user runs can connect to port {port} and act in your logged-in sales apps. Use a21import only on a "
        f"computer whose other users you trust, and close this browser when you have finished importing: the port "
        f"closes with it.")
    assert "piotr" not in result.stdout
