"""The `a21import` command line: parses options, calls the core, turns domain errors into clean
messages and exit codes (0 all imported, 1 some failed, 2 bad input, 3 environment, 130 Ctrl-C)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated, Optional

import typer

app = typer.Typer(
    help="Import insurance policies from the sales apps open in your own logged-in browser into a local "
    "SQLite database.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

CdpOption = Annotated[
    str,
    typer.Option("--cdp", envvar="A21IMPORT_CDP",
                 help="The browser's DevTools address (http://127.0.0.1:9222, ws://…), or chrome / msedge."),
]
DbOption = Annotated[
    Optional[Path],
    typer.Option("--db", envvar="A21IMPORT_DB", help="The SQLite database file. Default: agent21.db in your user data folder."),
]
AppOption = Annotated[Optional[str], typer.Option("--app", help="The app to read: hestia, generali, proama, tuz, warta, insly, unimarket, hiperio, skaner2.")]
SourceOption = Annotated[Optional[str], typer.Option("--source", help="The app's system or section, e.g. ihestia, ipegaz, majatek, zycie, punkta.")]
IdentityOption = Annotated[Optional[str], typer.Option("--identity", help="The identity the tab must show, e.g. ERGO_HESTIA, MTU, YCD.")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Ask nothing: take the defaults (for scripts and tests).")]
AllowRemoteOption = Annotated[bool, typer.Option("--allow-remote-cdp", help="Allow a --cdp address that is not on this computer.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document (per-policy status and reason, counts) instead of the table; asks nothing.")]
ConcurrencyOption = Annotated[int, typer.Option("--concurrency", help="How many policies are read at once (1 to 8).")]


def _options(cdp: str, db: Path | None, app_id: str | None, source: str | None, identity: str | None, yes: bool,
             allow_remote: bool, **extra):
    from a21import.browser import check_cdp
    from a21import.db import default_path
    from a21import.importer import Options

    return Options(cdp=check_cdp(cdp, allow_remote=allow_remote), db_path=db or default_path(), app=app_id,
                   source=source, identity=identity, yes=yes, **extra)


def _run(build, job, *, json_output: bool = False) -> None:
    """Runs one command: builds options, runs the job, prints and exits with the right code."""
    from a21import.errors import EXIT_FAILED, EXIT_OK, A21Error
    from a21import.importer import State
    from a21import.ui import JsonUI, RichUI

    ui = JsonUI() if json_output else None
    summary = None
    try:
        options = build()
        if json_output:
            options.yes = True  # a script reads the answer: nobody is there to answer prompts
        else:
            ui = RichUI(interactive=not options.yes)
            ui.note(f"Database: {options.db_path}")
        summary = asyncio.run(job(options, ui))
        problem = summary.stopped
    except A21Error as exc:
        problem = exc
    except KeyboardInterrupt:
        from a21import.errors import Interrupted

        problem = Interrupted("Interrupted. Every policy shown as imported is stored; the others were not written.")
    if problem is not None:
        code = problem.exit_code
    else:
        code = EXIT_FAILED if any(row.state is State.FAILED for row in summary.rows) else EXIT_OK
    if json_output:
        ui.print_document(summary, problem, code)
    elif problem is not None:
        _error(problem.message)
    raise typer.Exit(code)


def _error(message: str) -> None:
    from rich.console import Console
    from rich.text import Text

    Console(stderr=True, highlight=False).print(Text(message, style="bold red"))


@app.command()
def period(
    date_from: Annotated[str, typer.Option("--from", help="First issue date: 2026-11-01 or 01.11.2026.")],
    date_to: Annotated[str, typer.Option("--to", help="Last issue date (inclusive); a date after today means today.")],
    app_id: AppOption = None,
    source: SourceOption = None,
    identity: IdentityOption = None,
    cdp: CdpOption = "http://127.0.0.1:9222",
    db: DbOption = None,
    yes: YesOption = False,
    include_stored: Annotated[bool, typer.Option("--include-stored", help="Import again the policies already in the database.")] = False,
    exclude: Annotated[Optional[list[str]], typer.Option("--exclude", help="A policy number to leave out (repeat the option for more).")] = None,
    concurrency: ConcurrencyOption = 2,
    allow_remote_cdp: AllowRemoteOption = False,
    json_output: JsonOption = False,
) -> None:
    """Import the policies issued in a period (cut into windows of at most 16 days)."""
    from a21import.importer import run_period
    from a21import.periods import parse_period

    state = {}

    def build():
        start, end, note = parse_period(date_from, date_to)
        state["period"] = (start, end, note)
        return _options(cdp, db, app_id, source, identity, yes, allow_remote_cdp, include_stored=include_stored,
                        exclude=tuple(exclude or ()), concurrency=concurrency)

    async def job(options, ui):
        start, end, note = state["period"]
        if note:
            ui.note(note)
        return await run_period(options, ui, start, end)

    _run(build, job, json_output=json_output)


@app.command()
def policy(
    number: Annotated[str, typer.Argument(help="The policy number as the app shows it.")],
    app_id: AppOption = None,
    source: SourceOption = None,
    identity: IdentityOption = None,
    cdp: CdpOption = "http://127.0.0.1:9222",
    db: DbOption = None,
    yes: YesOption = False,
    allow_remote_cdp: AllowRemoteOption = False,
    json_output: JsonOption = False,
) -> None:
    """Import one policy by its number (a stored one is overwritten)."""
    from a21import.importer import run_policy

    _run(lambda: _options(cdp, db, app_id, source, identity, yes, allow_remote_cdp),
         lambda options, ui: run_policy(options, ui, number), json_output=json_output)


@app.command()
def refresh(
    number: Annotated[str, typer.Argument(help="The number of a stored policy.")],
    app_id: AppOption = None,
    source: SourceOption = None,
    identity: IdentityOption = None,
    cdp: CdpOption = "http://127.0.0.1:9222",
    db: DbOption = None,
    yes: YesOption = False,
    concurrency: ConcurrencyOption = 2,
    allow_remote_cdp: AllowRemoteOption = False,
    json_output: JsonOption = False,
) -> None:
    """Read a stored policy again, installments included, from the app it came from."""
    from a21import.importer import run_refresh

    _run(lambda: _options(cdp, db, app_id, source, identity, yes, allow_remote_cdp, concurrency=concurrency),
         lambda options, ui: run_refresh(options, ui, number), json_output=json_output)


def main() -> None:
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    app(prog_name="a21import")


if __name__ == "__main__":
    main()
