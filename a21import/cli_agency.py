"""`a21import agency …`: set up the agency's shared PostgreSQL store (`init`), add and list its logins
(`add-user`, `users`), and copy a sub-agent's SQLite file into it (`push`). The work is agency.py's; this
module parses, prompts and prints. Registered on the one `a21import` app of cli.py, which imports it."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from a21import.cli import WidthOption, _show, app
from a21import.i18n import _

agency_app = typer.Typer(
    help=_("Agency mode: one shared PostgreSQL database for an agency's owner and its sub-agents, each sub-agent "
           "seeing only the policies of their own agents."),
    no_args_is_help=True, rich_markup_mode=None)
app.add_typer(agency_app, name="agency")

DbOption = Annotated[str | None, typer.Option(
    "--db", envvar="A21IMPORT_DB", help=_("The agency's PostgreSQL address: postgresql://LOGIN@HOST:PORT/DATABASE. The "
                                          "password comes from PGPASSWORD or ~/.pgpass."))]
AgencyJsonOption = Annotated[bool, typer.Option("--json", help=_("Print one JSON document instead of the table."))]
AgentsOption = Annotated[list[str] | None, typer.Option(
    "--agent", help=_("An agent of this login as APP:ID, e.g. hestia:0412345 (the number the app shows in its "
                      "header); repeat the option for more."), metavar=_("APP:ID"))]


def _console(width: int | None = None):
    from a21import.console import SafeConsole

    return SafeConsole(width=width)


def _json(document) -> None:
    from a21import.text import json_dumps

    typer.echo(json_dumps(document, indent=2))


@agency_app.command("init", help=_("Create or update the agency's database: its tables, the owner's and the "
                                   "sub-agents' group roles and the row-level security. Run it as the database's "
                                   "administrator; running it again changes nothing."))
def init_command(db: DbOption = None) -> None:
    def job() -> None:
        from rich.text import Text

        from a21import import agency

        result = agency.init(db or "")
        if result.applied:
            message = _("The agency's database {address} is ready (schema version {version}; applied now: "
                        "{applied}).").format(address=result.address, version=result.version,
                                              applied=", ".join(map(str, result.applied)))
        else:
            message = _("The agency's database {address} was already up to date (schema version {version}); "
                        "nothing was changed.").format(address=result.address, version=result.version)
        _console().print(Text(message, style="green"))

    _show(job)


def _read_password(login: str) -> str:
    """Asked twice, hidden, at a terminal; otherwise one line of the standard input (scripts, tests)."""
    from a21import.errors import BadInput

    if sys.stdin is not None and sys.stdin.isatty():
        return typer.prompt(_("Password for {login}").format(login=login), hide_input=True,
                            confirmation_prompt=_("Repeat the password"))
    line = sys.stdin.readline() if sys.stdin is not None else ""
    if not line.strip("\r\n"):
        raise BadInput(_("No password was given on the standard input. Give it as one line, or use --no-password."))
    return line.rstrip("\r\n")


@agency_app.command("add-user", help=_(
    "Create a login for the agency's owner (--owner: sees every policy) or for a sub-agent (sees and imports only "
    "the policies of the agents given with --agent), or give an existing login more agents or a new password. "
    "The password is asked twice; when the input is not a terminal, it is read as one line."))
def add_user_command(
    login: Annotated[str, typer.Argument(help=_("The login's name: lower-case letters, digits, _ . -"))],
    agents: AgentsOption = None,
    owner: Annotated[bool, typer.Option("--owner", help=_("The login of the agency's owner: sees every "
                                                          "policy."))] = False,
    no_password: Annotated[bool, typer.Option(
        "--no-password", help=_("Set no password: for a login that signs in with a certificate or as the same "
                                "system user (peer), set up in the server's pg_hba.conf; an existing login keeps "
                                "its password."))] = False,
    db: DbOption = None,
) -> None:
    def job() -> None:
        from rich.text import Text

        from a21import import agency

        # Checked before the password is asked for: a typo costs no typing.
        agency.check_login(login)
        for agent in agents or ():
            agency.parse_agent(agent)
        agency.check_address(db or "")
        password = None if no_password else agency.check_password(_read_password(login))
        result = agency.add_user(db or "", login, list(agents or ()), owner, password)
        role = _("owner") if result.owner else _("sub-agent")
        if result.created:
            message = _("Created the login {login} ({role}); agents: {agents}.")
        else:
            message = _("Updated the login {login} ({role}); agents: {agents}.")
        lines = [message.format(login=result.login, role=role, agents=", ".join(result.agents) or "—")]
        if result.added and not result.created:
            lines.append(_("Agents added now: {agents}.").format(agents=", ".join(result.added)))
        if result.password_set:
            lines.append(_("The password was set."))
        elif result.created:
            lines.append(_("No password was set: the login signs in with a certificate or as the same system user "
                           "(peer), as the server's pg_hba.conf allows."))
        _console().print(Text("\n".join(lines), style="green"))

    _show(job)


@agency_app.command("users", help=_("List the agency's logins with their role and their agents."))
def users_command(db: DbOption = None, json_output: AgencyJsonOption = False, width: WidthOption = None) -> None:
    def job() -> None:
        import dataclasses

        from rich.text import Text

        from a21import import agency
        from a21import.fit import CUT, FOLD, WHOLE, WORDS, Column, FittedTable
        from a21import.views import local_time

        logins = agency.users(db or "")
        if json_output:
            _json([dataclasses.asdict(login) for login in logins])
            return
        out = _console(width)
        if not logins:
            out.print(Text(_("The agency's database has no logins yet; add them with a21import agency add-user."),
                           style="yellow"))
            return
        table = FittedTable(
            [Column(_("Login"), CUT, least=10, fair=16, most=40), Column(_("Role"), WORDS, least=8, fair=10),
             Column(_("Agents"), FOLD, least=16, fair=30, most=60), Column(_("Added on"), WHOLE)],
            [[login.login, (_("owner") if login.owner else _("sub-agent"))
              + ("" if login.can_log_in else " " + _("(cannot log in)")),
              ", ".join(login.agents) or "—", local_time(login.added_at)] for login in logins])
        out.print(table)

    _show(job)


@agency_app.command("push", help=_(
    "Copy the policies of your SQLite file, with their clients, vehicles, installments and coverages, into the "
    "agency's database: only those of your own agents (the owner's login: every agent's). A policy already there "
    "is updated; running it again adds nothing. Exit 0: all pushed; 1: some refused."))
def push_command(
    source: Annotated[str | None, typer.Option(
        "--from", help=_("The SQLite file to copy from. Default: agent21.db in your user data folder."))] = None,
    agent: Annotated[str | None, typer.Option(
        "--agent", help=_("The agent (APP:ID, one of your login's) to store the policies under that the file keeps "
                          "without one (imported before agency mode)."), metavar=_("APP:ID"))] = None,
    db: DbOption = None,
    json_output: AgencyJsonOption = False,
    width: WidthOption = None,
) -> None:
    def job() -> None:
        import dataclasses

        from rich.text import Text

        from a21import import agency
        from a21import.db import default_path
        from a21import.errors import EXIT_FAILED, EXIT_OK
        from a21import.fit import CUT, FOLD, WHOLE, Column, FittedTable

        summary = agency.push(source or default_path(), db or "", agent=agent)
        added, updated, refused = (summary.count(outcome) for outcome in (agency.ADDED, agency.UPDATED,
                                                                           agency.REFUSED))
        code = EXIT_FAILED if refused else EXIT_OK
        if json_output:
            _json({"from": summary.source, "to": summary.address, "login": summary.login, "added": added,
                   "updated": updated, "refused": refused, "exit_code": code,
                   "policies": [dataclasses.asdict(row) for row in summary.rows]})
            raise typer.Exit(code)
        out = _console(width)
        out.print(Text(_("From {source} to {address} as {login}").format(
            source=summary.source, address=summary.address, login=summary.login), style="dim"))
        out.print(FittedTable([Column(_("Added"), WHOLE, right=True), Column(_("Updated"), WHOLE, right=True),
                               Column(_("Refused"), WHOLE, right=True)], [[str(added), str(updated), str(refused)]]))
        rows = [row for row in summary.rows if row.outcome == agency.REFUSED]
        if rows:
            out.print(Text(_("Not pushed:"), style="bold red"))
            out.print(FittedTable(
                [Column(_("Number"), WHOLE), Column(_("Agent"), CUT, least=8, fair=14, most=30),
                 Column(_("Reason"), FOLD, least=20, fair=40, most=200)],
                [[row.number, row.agent or "—", Text(row.reason or "", style="red")] for row in rows]))
        raise typer.Exit(code)

    _show(job)
