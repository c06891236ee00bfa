"""Starting the user's Chrome, Edge or Chromium with a dedicated profile and remote debugging on
127.0.0.1, for `a21import browser`.

Finding the program is a pure function of (platform, environment, `exists`, `which`, registry
look-up), so every operating system's search is tested on any machine. Starting it is detached:
the browser outlives the command. Since Chrome 136 remote debugging needs a non-default profile,
so a21import keeps its own one (logins and identities persist between runs).

Chromium writes DevToolsActivePort only when it chose the port itself (`--port 0`); with a fixed port
the endpoint is found by asking that port, and the port is recorded in the profile so that the next
run finds the browser again. Remote debugging over TCP has no password, so the command also tells the
user when other people are logged in to the same computer (docs/pipe-investigation.md says why a
pipe cannot replace the port today).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from ntpath import join as win_join
from pathlib import Path
from posixpath import join as posix_join

from a21import.errors import BadInput, EnvironmentProblem, NoBrowser
from a21import.i18n import N_, _, ngettext

DEFAULT_PORT = 9222
START_TIMEOUT_S = 30.0
PROBE_TIMEOUT_S = 2.0
WAIT_PROBE_TIMEOUT_S = 0.5  # each probe while waiting: a browser still starting must not hold the loop
ACTIVE_PORT_FILE = "DevToolsActivePort"
RECORDED_PORT_FILE = "a21import-port"  # a fixed port, which Chromium does not write down itself

KINDS = ("chrome", "msedge", "chromium")
KIND_NAMES = {"chrome": "Google Chrome", "msedge": "Microsoft Edge", "chromium": "Chromium"}

# Windows: (App Paths registry key, folders under %PROGRAMFILES% / %PROGRAMFILES(X86)% / %LOCALAPPDATA%).
WINDOWS = {
    "chrome": ("chrome.exe", ("Google", "Chrome", "Application", "chrome.exe")),
    "msedge": ("msedge.exe", ("Microsoft", "Edge", "Application", "msedge.exe")),
    "chromium": (None, ("Chromium", "Application", "chrome.exe")),  # Chromium registers no App Path of its own
}
WINDOWS_ROOTS = ("PROGRAMFILES", "PROGRAMFILES(X86)", "LOCALAPPDATA")
MACOS = {
    "chrome": "Google Chrome.app/Contents/MacOS/Google Chrome",
    "msedge": "Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
    "chromium": "Chromium.app/Contents/MacOS/Chromium",
}
LINUX = {
    "chrome": ("google-chrome", "google-chrome-stable"),
    "chromium": ("chromium", "chromium-browser"),
    "msedge": ("microsoft-edge", "microsoft-edge-stable"),
}


# -- finding the program (pure) ---------------------------------------------------------------------
def platform_name(platform: str = sys.platform) -> str:
    """`windows`, `macos` or `linux` (every other POSIX system is searched like Linux)."""
    if platform.startswith("win"):
        return "windows"
    if platform == "darwin":
        return "macos"
    return "linux"


def search_places(system: str, env: Mapping[str, str], kinds: Sequence[str] = KINDS) -> list[tuple[str, str]]:
    """Where each kind of browser is looked for, in order: (how, place) pairs, `how` being
    `registry` (a Windows App Paths key), `file` (a path) or `command` (a name on PATH)."""
    places: list[tuple[str, str]] = []
    if system == "windows":
        for kind in kinds:
            key, parts = WINDOWS[kind]
            if key:
                places.append(("registry", key))
            for root in WINDOWS_ROOTS:
                if env.get(root):
                    places.append(("file", win_join(env[root], *parts)))
    elif system == "macos":
        homes = ["/Applications"] + ([posix_join(env["HOME"], "Applications")] if env.get("HOME") else [])
        for kind in kinds:
            places.extend(("file", posix_join(home, MACOS[kind])) for home in homes)
    else:
        for kind in [k for k in LINUX if k in kinds]:
            places.extend(("command", name) for name in LINUX[kind])
    return places


def find_browser(
    choice: str | None,
    *,
    system: str,
    env: Mapping[str, str],
    exists: Callable[[str], bool],
    which: Callable[[str], str | None],
    app_path: Callable[[str], str | None] = lambda key: None,
) -> str:
    """The browser program to start: `choice` is chrome, msedge, chromium, a path or None (the
    first found of Chrome, Edge and Chromium). Raises BadInput or NoBrowser with the places searched."""
    if choice and choice not in KINDS:
        if exists(choice):
            return choice
        found = which(choice)
        if found:
            return found
        raise BadInput(_("The browser program {choice!r} was not found. Give the full path of Chrome, Edge or "
                         "Chromium with --browser, or one of: chrome, msedge, chromium.").format(choice=choice))
    kinds = (choice,) if choice else KINDS
    places = search_places(system, env, kinds)
    for how, place in places:
        if how == "registry":
            found = app_path(place)
            if found and exists(found):
                return found
        elif how == "file":
            if exists(place):
                return place
        else:
            found = which(place)
            if found:
                return found
    raise NoBrowser(no_browser_message(system, kinds, places))


# The sentence for each kind of place searched: (registry keys, files, commands on PATH) present.
NOT_FOUND = {
    (True, True, False): N_("No {names} was found: a21import looked at the Windows App Paths entries {registry} and "
                            "the files {files}. Install {names}, or give the browser's program file with --browser "
                            "PATH."),
    (True, False, False): N_("No {names} was found: a21import looked at the Windows App Paths entries {registry}. "
                             "Install {names}, or give the browser's program file with --browser PATH."),
    (False, True, False): N_("No {names} was found: a21import looked at the files {files}. Install {names}, or give "
                             "the browser's program file with --browser PATH."),
    (False, False, True): N_("No {names} was found: a21import looked at the commands {commands} on PATH. Install "
                             "{names}, or give the browser's program file with --browser PATH."),
    (False, False, False): N_("No {names} was found: a21import looked at no place known for this system. Install "
                              "{names}, or give the browser's program file with --browser PATH."),
}
NOT_FOUND_ANYWHERE = N_("No {names} was found: a21import looked at {places}. Install {names}, or give the browser's "
                        "program file with --browser PATH.")


def no_browser_message(system: str, kinds: Sequence[str], places: Sequence[tuple[str, str]]) -> str:
    names = KIND_NAMES[kinds[0]]
    for kind in kinds[1:]:
        names = _("{names} or {name}").format(names=names, name=KIND_NAMES[kind])
    found = {how: ", ".join(place for kind, place in places if kind == how) for how in ("registry", "file", "command")}
    sentence = NOT_FOUND.get((bool(found["registry"]), bool(found["file"]), bool(found["command"])))
    if sentence is None:  # a mix that no system's search produces
        return _(NOT_FOUND_ANYWHERE).format(names=names, places=", ".join(place for _how, place in places))
    return _(sentence).format(names=names, registry=found["registry"], files=found["file"], commands=found["command"])


def windows_app_path(key: str) -> str | None:
    """The program an App Paths registry key names (current user first), or None without winreg."""
    try:
        import winreg
    except ImportError:
        return None
    for hive in (winreg.HKEY_CURRENT_USER, winreg.HKEY_LOCAL_MACHINE):
        try:
            with winreg.OpenKey(hive, rf"SOFTWARE\Microsoft\Windows\CurrentVersion\App Paths\{key}") as handle:
                value, _kind = winreg.QueryValueEx(handle, None)
        except OSError:
            continue
        if value:
            return str(value).strip('"')
    return None


def find_installed_browser(choice: str | None) -> str:
    """`find_browser` on this computer."""
    return find_browser(choice, system=platform_name(), env=os.environ, exists=os.path.isfile, which=shutil.which,
                        app_path=windows_app_path)


# -- the command line (pure) ------------------------------------------------------------------------
def default_profile() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("a21import", appauthor=False)) / "browser-profile"


def command_line(executable: str, profile: Path, port: int, *, as_root: bool = False,
                 extra: Sequence[str] = ()) -> list[str]:
    args = [
        executable,
        f"--user-data-dir={profile}",
        f"--remote-debugging-port={port}",
        "--remote-debugging-address=127.0.0.1",
        "--no-first-run",
        "--no-default-browser-check",
    ]
    if as_root:
        args.append("--no-sandbox")  # Chromium refuses to start as root with its sandbox
    return args + list(extra)


def running_as_root(system: str) -> bool:
    return system == "linux" and hasattr(os, "geteuid") and os.geteuid() == 0


# -- the running browser ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Launch:
    """The browser with the profile: started now, or found already running."""

    port: int
    profile: Path
    already_running: bool
    executable: str | None = None
    pid: int | None = None

    @property
    def cdp_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _port_in(path: Path) -> int | None:
    try:
        lines = path.read_text(encoding="ascii", errors="replace").splitlines()
    except OSError:
        return None
    return int(lines[0]) if lines and lines[0].strip().isdigit() else None


def active_port(profile: Path) -> int | None:
    """The port Chromium wrote into the profile's DevToolsActivePort, if any."""
    return _port_in(profile / ACTIVE_PORT_FILE)


def recorded_port(profile: Path) -> int | None:
    """The fixed port a21import started the profile's browser with, if any."""
    return _port_in(profile / RECORDED_PORT_FILE)


def devtools_answers(port: int, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """Whether a DevTools endpoint answers on 127.0.0.1:port."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/version", timeout=timeout) as answer:
            return answer.status == 200 and b"webSocketDebuggerUrl" in answer.read()
    except (OSError, ValueError):
        return False


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def check_port(port: int) -> None:
    if not 0 <= port <= 65535:
        raise BadInput(_("The port {port} is not between 0 and 65535.").format(port=port))
    if port == 0 or port_is_free(port):
        return
    if devtools_answers(port):
        raise EnvironmentProblem(_(
            "Another browser already answers for remote debugging on port {port}. Use it as it is (run "
            "`a21import apps --cdp http://127.0.0.1:{port}`), close it, or choose another port with --port."
        ).format(port=port))
    raise EnvironmentProblem(_("The port {port} on 127.0.0.1 is already used by another program. Choose another "
                               "port with --port, or close that program, and run the command again.").format(port=port))


def start_browser(choice: str | None = None, *, profile: Path | None = None, port: int = DEFAULT_PORT,
                  extra: Sequence[str] = (), timeout: float = START_TIMEOUT_S) -> Launch:
    """Starts the browser detached with the profile and remote debugging on 127.0.0.1, and waits
    until its DevTools endpoint answers. A browser already running with the profile is reused."""
    profile = Path(profile or default_profile()).expanduser().resolve()
    for running in (active_port(profile), recorded_port(profile)):
        if running is not None and devtools_answers(running):
            return Launch(port=running, profile=profile, already_running=True)
    check_port(port)
    executable = find_installed_browser(choice)
    profile.mkdir(parents=True, exist_ok=True, mode=0o700)
    for stale in (ACTIVE_PORT_FILE, RECORDED_PORT_FILE):  # from a browser that is gone
        (profile / stale).unlink(missing_ok=True)
    args = command_line(executable, profile, port, as_root=running_as_root(platform_name()), extra=extra)
    process = _spawn_detached(args)
    found = _wait_for_endpoint(process, profile, port, timeout)
    if port:
        (profile / RECORDED_PORT_FILE).write_text(f"{found}\n", encoding="ascii")
    return Launch(port=found, profile=profile, already_running=False, executable=executable, pid=process.pid)


def _spawn_detached(args: list[str]) -> subprocess.Popen:
    from a21import.i18n import child_environ

    options: dict = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL,
                     "env": child_environ()}  # the browser keeps the user's own language
    if platform_name() == "windows":
        options["creationflags"] = (getattr(subprocess, "DETACHED_PROCESS", 0)
                                    | getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0))
    else:
        options["start_new_session"] = True
    try:
        return subprocess.Popen(args, **options)
    except OSError as exc:
        raise NoBrowser(_("The browser {program} could not be started: {reason}.").format(
            program=args[0], reason=exc.strerror or exc)) from exc


def _wait_for_endpoint(process: subprocess.Popen, profile: Path, port: int, timeout: float) -> int:
    """The port the started browser answers on: the one it wrote into DevToolsActivePort (which
    Chromium does only for port 0) or, for a fixed port, that port once it answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        written = active_port(profile)
        candidate = written if written is not None else (port or None)
        if candidate is not None and devtools_answers(candidate, WAIT_PROBE_TIMEOUT_S):
            return candidate
        code = process.poll()
        if code is not None and written is None:
            if code == 0:
                raise EnvironmentProblem(_(
                    "The browser handed over to a window already open with the profile {profile}, which runs "
                    "without remote debugging. Close every window of that browser and run the command again."
                ).format(profile=profile))
            raise NoBrowser(_("The browser {program} stopped at start with exit code {code}. Start it by hand to see "
                              "why, or choose another one with --browser.").format(program=process.args[0], code=code))
        time.sleep(0.1)
    _stop(process)
    seconds = round(timeout)
    raise NoBrowser(ngettext(
        "The browser did not open its DevTools endpoint within {seconds} second, so it was closed again. Run the "
        "command again, or start the browser by hand as the README describes.",
        "The browser did not open its DevTools endpoint within {seconds} seconds, so it was closed again. Run the "
        "command again, or start the browser by hand as the README describes.", seconds).format(seconds=seconds))


def _stop(process: subprocess.Popen) -> None:
    """Ends a browser this command started and that never became usable (its helpers too)."""
    if platform_name() != "windows":
        import signal

        try:
            os.killpg(process.pid, signal.SIGKILL)
        except OSError:
            pass
    else:
        process.kill()
    process.wait()


# -- other people on this computer ------------------------------------------------------------------
def logged_in_users(system: str | None = None,
                    run: Callable[..., subprocess.CompletedProcess] = subprocess.run) -> list[str] | None:
    """The user names of this computer's login sessions, as `who` lists them (utmp, or systemd's
    sessions where `who` reads those), or None where the system does not tell (Windows, no `who`)."""
    if (system or platform_name()) == "windows":
        return None
    who = shutil.which("who")
    if who is None:
        return None
    try:
        listed = run([who], capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if listed.returncode != 0:
        return None
    return [line.split()[0] for line in listed.stdout.splitlines() if line.strip()]


def own_names() -> set[str]:
    """This user's names: the effective user's, and the login name of the terminal (so a user who
    ran the command through sudo is not taken for somebody else)."""
    names: set[str] = set()
    try:
        import pwd

        names.add(pwd.getpwuid(os.geteuid()).pw_name)
    except (ImportError, KeyError, AttributeError):
        pass
    try:
        names.add(os.getlogin())
    except OSError:
        pass
    return names


def other_users(users: Sequence[str], me: set[str]) -> list[str]:
    """The names of the users other than `me`, once each, sorted."""
    return sorted(set(users) - me)


def shared_computer_warning(port: int, *, users: Sequence[str] | None = None,
                            me: set[str] | None = None) -> str | None:
    """The warning that other people logged in to this computer could use the debugging port, or
    None when nobody else is logged in or the system does not tell."""
    if users is None:
        users = logged_in_users()
    if users is None:
        return None
    others = other_users(users, own_names() if me is None else me)
    if not others:
        return None
    return ngettext(
        "{count} other user is logged in to this computer: {names}. Remote debugging has no password, so any "
        "program that user runs can connect to port {port} and act in your logged-in sales apps. Use a21import "
        "only on a computer whose other users you trust, and close this browser when you have finished importing: "
        "the port closes with it.",
        "{count} other users are logged in to this computer: {names}. Remote debugging has no password, so any "
        "program those users run can connect to port {port} and act in your logged-in sales apps. Use a21import "
        "only on a computer whose other users you trust, and close this browser when you have finished importing: "
        "the port closes with it.", len(others)).format(count=len(others), names=", ".join(others), port=port)
