"""The terminal side of `a21import browser` and `a21import apps` (Rich), and their JSON documents.
Everything read from an app is shown as plain text (`Text`), never as markup."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

from a21import.console import SafeConsole
from a21import.text import json_dumps
from a21import.i18n import N_, _
from a21import.launcher import DEFAULT_PORT, Launch
from a21import.overview import Overview, TabState

STATES = {
    TabState.LOGGED_IN: ("✓", N_("Logged in."), "green"),
    TabState.NOT_LOGGED_IN: ("✗", N_("Not logged in."), "yellow"),
    TabState.NO_RIGHTS: ("✗", N_("No rights to import here."), "red"),
    TabState.PROBLEM: ("✗", N_("Could not be read."), "red"),
}
CHROME_144 = N_(
    "With Chrome 144 or later you can use your everyday browser instead: open "
    "chrome://inspect/#remote-debugging in it, allow remote debugging, and add --cdp chrome (or --cdp msedge "
    "for Edge) to the commands."
)


def _console() -> Console:
    return SafeConsole()


# -- a21import browser ------------------------------------------------------------------------------
def launch_lines(launch: Launch) -> list[str]:
    """What was done and what to do next, one whole sentence (or two) per line."""
    if launch.already_running:
        lines = [_("A browser with the profile {profile} is already running with remote debugging at {address}, so "
                   "no second one was started.").format(profile=launch.profile, address=launch.cdp_url)]
    else:
        lines = [_("Started {program} with the profile {profile} and remote debugging at {address}, on this computer "
                   "only. It keeps running after this command ends.").format(
            program=launch.executable, profile=launch.profile, address=launch.cdp_url)]
    apps = "a21import apps"
    if launch.port != DEFAULT_PORT:
        apps = f"a21import apps --cdp {launch.cdp_url}"
        lines.append(_("The port is not the usual {port}, so add --cdp {address} to every a21import command, or set "
                       "the environment variable A21IMPORT_CDP={address}.").format(port=DEFAULT_PORT,
                                                                                   address=launch.cdp_url))
    lines += [
        _("Next, log in to the sales app in that browser window and choose the identity (Hestia) or open the "
          "section (Warta) you want to import."),
        _("Then run `{command}` to see the open apps and the command that imports from each, or run "
          "`a21import period --from … --to …` directly.").format(command=apps),
        _(CHROME_144),
    ]
    return lines


def show_launch(launch: Launch) -> None:
    console = _console()
    lines = launch_lines(launch)
    console.print(Text(lines[0], style="bold green"))
    for line in lines[1:]:
        console.print(Text(line))


def launch_document(launch: Launch) -> dict[str, Any]:
    return {
        "cdp": launch.cdp_url,
        "port": launch.port,
        "profile": str(launch.profile),
        "already_running": launch.already_running,
        "executable": launch.executable,
        "pid": launch.pid,
        "next": launch_lines(launch)[1:],
    }


# -- a21import apps ---------------------------------------------------------------------------------
def _indented(console: Console, text: Text, indent: int) -> None:
    """`text` under its heading, `indent` blanks in: a long sentence wraps under itself, not at the margin."""
    for line in text.wrap(console, max(20, console.width - indent)):
        line.rstrip()
        console.print(Text(" " * indent) + line, soft_wrap=True)


def _command(console: Console, command: str) -> None:
    """The command that imports, whole on one line (to copy): beside its label when it fits, else under it."""
    label = Text.assemble("    ", _("Import with:"))
    if label.cell_len + 1 + len(command) <= console.width:
        console.print(Text.assemble(label, " ", (command, "cyan")), soft_wrap=True)
    else:
        console.print(label)
        console.print(Text.assemble("      ", (command, "cyan")), soft_wrap=True)


def show_overview(overview: Overview, console: Console | None = None) -> None:
    console = console or _console()
    if not overview.apps:
        console.print(Text(no_app_sentence(overview), style="yellow"))
        return
    console.print(Text(_("Supported apps open in the browser at {address}:").format(address=overview.cdp)))
    for entry in overview.apps:
        console.print()
        console.print(Text.assemble(entry.title, " (", entry.host, ")", style="bold"))
        several = len(entry.tabs) > 1
        for number, status in enumerate(entry.tabs, 1):
            mark, state, style = STATES[status.state]
            state = _("Tab {number}: {state}").format(number=number, state=_(state)) if several else _(state)
            line = Text.assemble(mark, " ", state, style=style)
            line.append(" ")
            line.append(status.message)
            _indented(console, line, 2)
            context = status.context
            if context is not None and context.identity is not None:
                if entry.label_kind == "section":
                    what = _("Section: {label} ({code}).")
                else:
                    what = _("Identity: {label} ({code}).")
                label = context.identity_label or context.identity
                _indented(console, Text(what.format(label=label, code=context.identity)), 4)
            if status.command is not None:
                _command(console, status.command)
                for value, label in entry.other_sources.items():
                    _indented(console, Text(_("To read {label} instead, use --source {value}.").format(
                        label=_(label), value=value)), 4)
    console.print()
    if any(status.command for entry in overview.apps for status in entry.tabs):
        console.print(Text(_("The commands import this month so far; change --from and --to as you need.")))


def no_app_sentence(overview: Overview) -> str:
    titles = ", ".join(title for _app_id, title in overview.supported)
    return _("No tab of a supported app is open in the browser at {address}. The supported apps are: {titles}. Open "
             "one of them in that browser, log in, and run `a21import apps` again.").format(address=overview.cdp,
                                                                                            titles=titles)


def overview_document(overview: Overview) -> dict[str, Any]:
    return {
        "cdp": overview.cdp,
        "apps": [
            {
                "app": entry.app_id,
                "title": entry.title,
                "host": entry.host,
                "source": entry.source,
                "tabs": [
                    {
                        "state": status.state.value,
                        "message": status.message,
                        "user": status.context.user if status.context else None,
                        "identity": status.context.identity if status.context else None,
                        "identity_label": status.context.identity_label if status.context else None,
                        "command": status.command,
                    }
                    for status in entry.tabs
                ],
            }
            for entry in overview.apps
        ],
        "message": None if overview.apps else no_app_sentence(overview),
        "supported": [{"app": app_id, "title": title} for app_id, title in overview.supported],
    }


def print_json(document: dict[str, Any]) -> None:
    print(json_dumps(document, indent=2))
