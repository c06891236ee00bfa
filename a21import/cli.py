"""The `a21import` command line: parses options, calls the core, turns domain errors into clean
messages and exit codes (0 all imported, 1 some failed, 2 bad input, 3 environment, 130 Ctrl-C)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Annotated

from a21import import i18n

i18n.setup(argv=sys.argv[1:])  # before Typer and Click build any text: help texts are translated too
import typer

from a21import.i18n import N_, _
from a21import.insurers import ADAPTERS  # the registry alone: no adapter is imported for --help

# Typer writes each parameter's type in --help as <str>, <path>, <int range>: in the user's language.
_TYPE_LABELS = {"<str>": N_("<text>"), "<list[str]>": N_("<text>…"), "<path>": N_("<path>"), "<int>": N_("<number>"),
                "<int range>": N_("<number>")}


def _translate_type_labels() -> None:
    import typer.core

    parameter = getattr(typer.core, "_TyperParameter", None)
    original = getattr(parameter, "display_type", None)
    if original is None:  # another Typer: its own labels stay
        return

    def display_type(self, ctx):
        shown = original(self, ctx)
        return _(_TYPE_LABELS[shown]) if shown in _TYPE_LABELS else shown

    parameter.display_type = display_type


_translate_type_labels()


def _lazy(name: str):
    """`name` imported on first use (importlib's LazyLoader recipe), so `--help` never pays for it."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


asyncio = _lazy("asyncio")  # 30–60 ms of imports, needed only when a command runs

app = typer.Typer(
    help=_("Import insurance policies from the sales apps open in your own logged-in browser into a local "
           "SQLite database. Add --lang pl or --lang en anywhere to choose the language of messages."),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help and usage errors: Typer's Rich formatting would import Rich (about 0.1 s) for every --help.
    rich_markup_mode=None,
)

CdpOption = Annotated[
    str,
    typer.Option("--cdp", envvar="A21IMPORT_CDP",
                 help=_("The browser's DevTools address (http://127.0.0.1:9222, ws://…), or chrome / msedge.")),
]
DbOption = Annotated[
    str | None,
    typer.Option("--db", envvar="A21IMPORT_DB",
                 help=_("The SQLite database file, or the agency's PostgreSQL address (postgresql://LOGIN@HOST/"
                        "DATABASE). Default: agent21.db in your user data folder.")),
]
AppOption = Annotated[str | None, typer.Option(
    "--app", help=_("The app to read: {apps}.").format(apps=", ".join(ADAPTERS)))]
SourceOption = Annotated[str | None, typer.Option(
    "--source", help=_("The app's system or section, e.g. ihestia, ipegaz, majatek, zycie, punkta."))]
IdentityOption = Annotated[str | None, typer.Option(
    "--identity", help=_("The identity the tab must show, e.g. ERGO_HESTIA, MTU, YCD."))]
YesOption = Annotated[bool, typer.Option(
    "--yes", "-y", help=_("Ask nothing: take the defaults (for scripts and tests)."))]
AllowRemoteOption = Annotated[bool, typer.Option(
    "--allow-remote-cdp", help=_("Allow a --cdp address that is not on this computer."))]
JsonOption = Annotated[bool, typer.Option(
    "--json", help=_("Print one JSON document (per-policy status and reason, counts) instead of the table; asks "
                     "nothing."))]
ConcurrencyOption = Annotated[int, typer.Option(
    "--concurrency", help=_("How many policies are read at once (1 to 8)."))]
CaptureOption = Annotated[Path | None, typer.Option(
    "--capture", envvar="A21IMPORT_CAPTURE",
    help=_("A folder for a scrubbed capture of each policy that stays red (and of a list that cannot be read): "
           "what the app answered, without personal data, to look at with `a21import capture show`."))]
WidthOption = Annotated[int | None, typer.Option(
    "--width", min=40, max=1000, help=_("The width of the output in columns. Default: the terminal's width; 80 "
                                        "when the output is not a terminal, unless COLUMNS is set."))]


def _options(cdp: str, db: str | None, app_id: str | None, source: str | None, identity: str | None, yes: bool,
             allow_remote: bool, **extra):
    from a21import.browser import check_cdp
    from a21import.db import target
    from a21import.importer import Options

    address = check_cdp(cdp, allow_remote=allow_remote)
    _warn_if_remote(address)
    return Options(cdp=address, db_path=target(db), app=app_id,
                   source=source, identity=identity, yes=yes, **extra)


def _run(build, job, *, json_output: bool = False, keep: tuple[str, ...] = (), width: int | None = None) -> None:
    """Runs one command: builds options, runs the job, prints and exits with the right code."""
    from a21import import logs
    from a21import.console import SafeConsole
    from a21import.db import shown
    from a21import.errors import EXIT_FAILED, EXIT_OK, A21Error, EnvironmentProblem, Interrupted
    from a21import.ctrl_c import INTERRUPTED_MESSAGE, stoppable
    from a21import.formats import mask_personal_ids
    from a21import.importer import State
    from a21import.text import clean
    from a21import.ui import JsonUI, RichUI

    ui = JsonUI() if json_output else None
    summary = None
    try:
        options = build()
        logs.setup()
        if json_output:
            options.yes = True  # a script reads the answer: nobody is there to answer prompts
        else:
            ui = RichUI(interactive=not options.yes, console=SafeConsole(width=width))
            ui.note(_("Database: {path}").format(path=shown(options.db_path)))
        summary = asyncio.run(stoppable(job(options, ui)))  # Ctrl-C from here on: exit 130 with the summary
        problem = summary.stopped
    except A21Error as exc:
        problem = exc
        summary = getattr(exc, "summary", None)
    except KeyboardInterrupt:
        problem = Interrupted(_(INTERRUPTED_MESSAGE))
    except Exception as exc:  # RecursionError, MemoryError, a bug: a clean sentence and the log, never a traceback
        logs.log.exception("Unexpected error")
        problem = EnvironmentProblem(_(
            "a21import stopped on something it could not handle ({error_type}). What was imported before is kept. "
            "The details are in the log file {path}.").format(error_type=type(exc).__name__, path=logs.log_path()))
        summary = None
    if isinstance(problem, Interrupted) and not (summary and any(row.state is State.DONE for row in summary.rows)):
        problem.message = _("Interrupted before any policy was stored; nothing was written to the database.")
    if problem is not None:
        code = problem.exit_code
        # Cleaned first, so that no control character hides an identifier; `keep`: what the user typed.
        problem.message = mask_personal_ids(clean(problem.message, lines=True), keep=keep)
        logs.log.error("Stopped (exit code %d): %s", code, problem.message, extra={"keep": keep})
    else:
        code = EXIT_FAILED if any(row.state is State.FAILED for row in summary.rows) else EXIT_OK
    if json_output:
        ui.print_document(summary, problem, code)
    elif problem is not None:
        _error(problem.message)
    raise typer.Exit(code)


def _warn_if_remote(address: str) -> None:
    from rich.text import Text

    from a21import.browser import remote_warning
    from a21import.console import SafeConsole

    warning = remote_warning(address)
    if warning:
        SafeConsole(stderr=True).print(Text(warning, style="yellow"))


def _error(message: str) -> None:
    from rich.text import Text

    from a21import.console import SafeConsole

    SafeConsole(stderr=True).print(Text(message, style="bold red"))


@app.command("period", help=_("Import the policies issued in a period (cut into windows of at most 16 days)."))
def period(
    date_from: Annotated[str, typer.Option("--from", help=_("First issue date: 2026-11-01 or 01.11.2026."))],
    date_to: Annotated[str, typer.Option(
        "--to", help=_("Last issue date (inclusive); a date after today means today."))],
    app_id: AppOption = None,
    source: SourceOption = None,
    identity: IdentityOption = None,
    cdp: CdpOption = "http://127.0.0.1:9222",
    db: DbOption = None,
    yes: YesOption = False,
    include_stored: Annotated[bool, typer.Option(
        "--include-stored", help=_("Import again the policies already in the database."))] = False,
    exclude: Annotated[list[str] | None, typer.Option(
        "--exclude", help=_("A policy number to leave out (repeat the option for more)."))] = None,
    concurrency: ConcurrencyOption = 2,
    capture: CaptureOption = None,
    allow_remote_cdp: AllowRemoteOption = False,
    json_output: JsonOption = False,
    width: WidthOption = None,
) -> None:
    from a21import.importer import run_period
    from a21import.periods import parse_period

    state = {}

    def build():
        start, end, note = parse_period(date_from, date_to)
        state["period"] = (start, end, note)
        return _options(cdp, db, app_id, source, identity, yes, allow_remote_cdp, include_stored=include_stored,
                        exclude=tuple(exclude or ()), concurrency=concurrency, capture=capture)

    async def job(options, ui):
        start, end, note = state["period"]
        if note:
            ui.note(note)
        return await run_period(options, ui, start, end)

    _run(build, job, json_output=json_output, width=width)


@app.command("policy", help=_("Import policies by their numbers, from one app (a stored one is overwritten)."))
def policy(
    numbers: Annotated[list[str], typer.Argument(
        help=_("The policy number as the app shows it; several numbers may follow."), metavar=_("NUMBER…"))],
    capture: CaptureOption = None,
    app_id: AppOption = None,
    source: SourceOption = None,
    identity: IdentityOption = None,
    cdp: CdpOption = "http://127.0.0.1:9222",
    db: DbOption = None,
    yes: YesOption = False,
    allow_remote_cdp: AllowRemoteOption = False,
    json_output: JsonOption = False,
    width: WidthOption = None,
) -> None:
    from a21import.importer import run_policy

    _run(lambda: _options(cdp, db, app_id, source, identity, yes, allow_remote_cdp, capture=capture),
         lambda options, ui: run_policy(options, ui, numbers), json_output=json_output, keep=tuple(numbers),
         width=width)


@app.command("refresh", help=_("Read a stored policy again, installments included, from the app it came from; or, "
                               "with --due, every policy with an unpaid installment due soon."))
def refresh(
    number: Annotated[str | None, typer.Argument(help=_("The number of a stored policy."))] = None,
    due: Annotated[bool, typer.Option(
        "--due", help=_("Instead of one number: every stored policy with an unpaid installment due within --days "
                        "days (overdue ones included)."))] = False,
    days: Annotated[int, typer.Option("--days", help=_("With --due: how many days ahead to look."))] = 14,
    capture: CaptureOption = None,
    app_id: AppOption = None,
    source: SourceOption = None,
    identity: IdentityOption = None,
    cdp: CdpOption = "http://127.0.0.1:9222",
    db: DbOption = None,
    yes: YesOption = False,
    concurrency: ConcurrencyOption = 2,
    allow_remote_cdp: AllowRemoteOption = False,
    json_output: JsonOption = False,
    width: WidthOption = None,
) -> None:
    from a21import.errors import BadInput
    from a21import.importer import run_refresh, run_refresh_due

    def build():
        if due == (number is not None):
            raise BadInput(_("Give either a policy number or --due, not both and not neither."))
        return _options(cdp, db, app_id, source, identity, yes, allow_remote_cdp, concurrency=concurrency,
                        capture=capture)

    def job(options, ui):
        return run_refresh_due(options, ui, days) if due else run_refresh(options, ui, number)

    _run(build, job, json_output=json_output, keep=(number,) if number else (), width=width)


# -- the browser and the open apps (issue 7) --
def _show(job) -> None:
    """Runs a view command: a domain error becomes its sentence and exit code, Ctrl-C exits 130."""
    from a21import.errors import EXIT_INTERRUPTED, A21Error

    try:
        job()
    except A21Error as exc:
        _error(exc.message)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        raise typer.Exit(EXIT_INTERRUPTED) from None


BROWSER_HELP = _(
    "Start Chrome, Edge or Chromium with a dedicated profile and remote debugging on this computer only.\n\n"
    "Chrome 136 and later allow remote debugging only on a profile other than your everyday one, so a21import "
    "keeps its own. If a browser with that profile is already running, no second one is started.\n\n"
    "With Chrome 144 or later you can use your everyday browser instead: open chrome://inspect/#remote-debugging "
    "in it, allow remote debugging, and give --cdp chrome (or --cdp msedge) to the other commands."
)
APPS_HELP = _(
    "Show which supported apps are open in the browser, whether each tab is logged in, its identity or section, "
    "and the command that imports from it.\n\n"
    "Nothing in the browser is changed. When no supported app is open, it says so and exits with 0; when no "
    "browser answers, it exits with 3."
)


@app.command("browser", help=BROWSER_HELP)
def browser_command(
    extra: Annotated[list[str] | None, typer.Argument(
        help=_("Further browser arguments, after --, passed as they are."), show_default=False)] = None,
    choice: Annotated[str | None, typer.Option(
        "--browser", envvar="A21IMPORT_BROWSER",
        help=_("chrome, msedge, chromium, or the path of the browser's program. Default: the first found of "
               "Chrome, Edge and Chromium."))] = None,
    profile: Annotated[Path | None, typer.Option(
        "--profile", help=_("The browser profile folder. Default: browser-profile in your user data folder, kept "
                            "between runs so logins and identities persist."))] = None,
    port: Annotated[int, typer.Option("--port", min=0, max=65535,
                                      help=_("The remote debugging port; 0 lets the browser choose one."))] = 9222,
    json_output: Annotated[bool, typer.Option(
        "--json", help=_("Print one JSON document instead of sentences."))] = False,
) -> None:
    def job() -> None:
        from rich.text import Text

        from a21import import overview_view
        from a21import.console import SafeConsole
        from a21import.launcher import shared_computer_warning, start_browser

        launch = start_browser(choice, profile=profile, port=port, extra=extra or ())
        if json_output:
            overview_view.print_json(overview_view.launch_document(launch))
        else:
            overview_view.show_launch(launch)
        warning = shared_computer_warning(launch.port)  # after the launch lines, so it is the last thing read
        if warning:
            SafeConsole(stderr=True).print(Text(warning, style="yellow"))

    _show(job)


@app.command("apps", help=APPS_HELP)
def apps_command(
    cdp: CdpOption = "http://127.0.0.1:9222",
    allow_remote_cdp: AllowRemoteOption = False,
    json_output: Annotated[bool, typer.Option("--json", help=_("Print one JSON document instead of the list."))] = False,
    width: WidthOption = None,
) -> None:
    def job() -> None:
        from a21import import overview_view
        from a21import.browser import check_cdp
        from a21import.console import SafeConsole
        from a21import.overview import read_overview

        address = check_cdp(cdp, allow_remote=allow_remote_cdp)
        _warn_if_remote(address)
        overview = asyncio.run(read_overview(address, allow_remote=allow_remote_cdp))
        if json_output:
            overview_view.print_json(overview_view.overview_document(overview))
        else:
            overview_view.show_overview(overview, SafeConsole(width=width))

    _show(job)


# -- the stored policies: cli_stored.py registers them here, so --help lists them in this order --
from a21import import cli_stored  # noqa: E402, F401


@app.command("ui", help=_("Serve the importer as a page on 127.0.0.1 and open it as a new tab in the browser: the "
                          "apps, imports followed live, and the stored policies. The first line printed is the "
                          "page's address with its secret; Ctrl-C stops it."))
def ui_command(
    port: Annotated[int, typer.Option("--port", min=0, max=65535,
                                      help=_("The port on 127.0.0.1; 0 lets a21import choose a free one."))] = 0,
    no_open: Annotated[bool, typer.Option(
        "--no-open", help=_("Only print the address; open no browser tab."))] = False,
    cdp: CdpOption = "http://127.0.0.1:9222",
    db: DbOption = None,
    concurrency: ConcurrencyOption = 2,
    allow_remote_cdp: AllowRemoteOption = False,
) -> None:
    def job() -> None:
        from a21import import logs
        from a21import.browser import check_cdp
        from a21import.db import target
        from a21import.errors import BadInput
        from a21import.importer import MAX_CONCURRENCY
        from a21import.web.app import Settings
        from a21import.web.server import serve

        if not 1 <= concurrency <= MAX_CONCURRENCY:
            raise BadInput(_("--concurrency must be between 1 and {maximum}.").format(maximum=MAX_CONCURRENCY))
        address = check_cdp(cdp, allow_remote=allow_remote_cdp)
        _warn_if_remote(address)
        logs.setup()
        settings = Settings(cdp=address, db_path=target(db), allow_remote_cdp=allow_remote_cdp,
                            concurrency=concurrency)
        serve(settings, port=port, open_browser=not no_open, say=lambda line: typer.echo(line))

    _show(job)


# -- captures of red policies (issue 14) --
capture_app = typer.Typer(help=_("Look at a capture bundle of a red policy, or run the adapter on it again offline."),
                          no_args_is_help=True, rich_markup_mode=None)
app.add_typer(capture_app, name="capture")
BundleArgument = Annotated[Path, typer.Argument(help=_("The bundle: a .zip written by --capture, or its unpacked "
                                                       "folder."))]


@capture_app.command("show", help=_("Print what a capture bundle holds: the app, the reason, and each answer kept "
                                    "with its size. Nothing is sent anywhere."))
def capture_show_command(bundle: BundleArgument) -> None:
    def job() -> None:
        from a21import.capture import load
        from a21import.capture_replay import show_lines
        from a21import.text import clean

        for line in show_lines(load(bundle), str(bundle)):
            typer.echo(clean(line))

    _show(job)


@capture_app.command("replay", help=_("Run the bundle's adapter on the answers it holds, offline: prints the red reason "
                                      "and exits with 1, or prints the policy it now reads and exits with 0."))
def capture_replay_command(bundle: BundleArgument) -> None:
    def job() -> None:
        import json

        from a21import.capture import load
        from a21import.capture_replay import replay
        from a21import.text import clean

        outcome = asyncio.run(replay(load(bundle)))
        if outcome.result is not None:
            typer.echo(json.dumps(outcome.result, ensure_ascii=False, indent=1))
        else:
            _error(clean(outcome.reason or ""))
        raise typer.Exit(outcome.code)

    _show(job)


# -- agency mode (issue 16): cli_agency.py registers the `agency` commands here --
from a21import import cli_agency  # noqa: E402, F401


def main() -> None:
    from a21import.errors import EXIT_BAD_INPUT, BadInput

    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    try:
        args = i18n.strip_lang(sys.argv[1:])  # --lang is read before anything else (see i18n.setup)
    except BadInput as exc:
        _error(exc.message)
        raise SystemExit(EXIT_BAD_INPUT) from None
    app(args=args, prog_name="a21import")


if __name__ == "__main__":
    main()
