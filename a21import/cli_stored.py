"""The commands over the stored policies (`policies`, `show`, `renewals`, `due`, `export`,
`datasette-metadata`): they read only the database, read-only, and never touch the browser. Registered
on the one `a21import` app of cli.py, which imports this module where these commands belong in --help."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from a21import.cli import ADAPTERS, DbOption, WidthOption, _show, app
from a21import.i18n import _

SearchArgument = Annotated[str | None, typer.Argument(
    help=_("Text to look for in the policy number, the client's name, PESEL, NIP or REGON, the registration or "
           "the VIN; in any case, with or without Polish letters (lukasz finds Łukasz)."), show_default=False,
    metavar=_("SEARCH"))]
InsurerFilter = Annotated[str | None, typer.Option(
    "--insurer", help=_("Only this insurer's policies: its code, e.g. ERGO_HESTIA, WARTA, TUZ."))]
AppFilter = Annotated[str | None, typer.Option(
    "--app", help=_("Only the policies imported from this app: {apps}.").format(apps=", ".join(ADAPTERS)))]
FromFilter = Annotated[str | None, typer.Option("--from", help=_("Issued on or after: 2026-11-01 or 01.11.2026."))]
ToFilter = Annotated[str | None, typer.Option("--to", help=_("Issued on or before: 2026-11-30 or 30.11.2026."))]
ListJsonOption = Annotated[bool, typer.Option(
    "--json", help=_("Print one JSON document (amounts in grosze) instead of the table."))]
ForceOption = Annotated[bool, typer.Option("--force", help=_("Overwrite the output file if it exists."))]
DaysHelp = _("How many days ahead to look, from 1 to 366.")
OutputHelp = _("The file to write. Default: {default}.")


def _stored_db(db: str | None):
    from a21import.db import target
    from a21import.queries import open_existing

    return open_existing(target(db))


def _print_stored(view, db, json_text: str | None = None, width: int | None = None) -> None:
    from a21import.views import console, database_note

    if json_text is not None:
        typer.echo(json_text)
    else:
        out = console(width)
        out.print(database_note(db))
        out.print(view)


@app.command("policies", help=_("List the stored policies, the latest issued first; SEARCH and the options narrow "
                                "the list."))
def policies_command(
    search: SearchArgument = None,
    insurer: InsurerFilter = None,
    app_id: AppFilter = None,
    date_from: FromFilter = None,
    date_to: ToFilter = None,
    db: DbOption = None,
    json_output: ListJsonOption = False,
    width: WidthOption = None,
) -> None:
    def job() -> None:
        from a21import import queries, views

        filters = queries.parse_filters(search, insurer, app_id, date_from, date_to)
        database = _stored_db(db)
        rows = queries.search_policies(database, filters)
        _print_stored(views.policies_view(rows), database, views.as_json(rows) if json_output else None, width)

    _show(job)


@app.command("show", help=_("Show one stored policy with its client, vehicle, coverages and installments (exit 1 "
                            "if it is not stored)."))
def show_command(
    number: Annotated[str, typer.Argument(help=_("The policy number as the app shows it."))],
    insurer: Annotated[str | None, typer.Option(
        "--insurer", help=_("The insurer's code, when several insurers use the same number."))] = None,
    db: DbOption = None,
    json_output: ListJsonOption = False,
    width: WidthOption = None,
) -> None:
    def job() -> None:
        from a21import import queries, views
        from a21import.periods import today_in_poland

        database = _stored_db(db)
        details = queries.policy_details(database, number, insurer)
        view = views.details_view(details, today=today_in_poland())
        _print_stored(view, database, views.as_json(details) if json_output else None, width)

    _show(job)


AllOption = Annotated[bool, typer.Option(
    "--all", help=_("Show cancelled, terminated and expired policies too (marked); by default they are left out."))]


def _coming(list_name: str, days: int, insurer: str | None, app_id: str | None, db: str | None,
            json_output: bool, show_all: bool = False, width: int | None = None) -> None:
    """`renewals` and `due`: the rows `queries.<list_name>` finds within `days`, shown by `views.<list_name>_view`."""
    def job() -> None:
        from a21import import queries, views
        from a21import.periods import today_in_poland

        today = today_in_poland()
        queries.check_days(days)
        filters = queries.parse_filters(insurer=insurer, app=app_id)
        database = _stored_db(db)
        rows = getattr(queries, list_name)(database, days, today=today, filters=filters)
        rows, left_out = queries.leave_out_ended(rows, include_ended=show_all)
        view = getattr(views, f"{list_name}_view")(rows, days=days, today=today, left_out=left_out)
        _print_stored(view, database, views.as_json(rows) if json_output else None, width)

    _show(job)


def _coming_command(list_name: str, default_days: int, help_text: str) -> None:
    """Registers the command `list_name` (`renewals` or `due`): the same options, its own --days default."""
    def command(
        days: Annotated[int, typer.Option("--days", help=DaysHelp)] = default_days,
        insurer: InsurerFilter = None,
        app_id: AppFilter = None,
        db: DbOption = None,
        show_all: AllOption = False,
        json_output: ListJsonOption = False,
        width: WidthOption = None,
    ) -> None:
        _coming(list_name, days, insurer, app_id, db, json_output, show_all, width)

    command.__name__ = f"{list_name}_command"
    app.command(list_name, help=help_text)(command)


_coming_command("renewals", 30, _("List the policies whose cover ends from today to --days ahead, the soonest first, "
                                  "with the client's phone and e-mail."))
_coming_command("due", 14, _("List the unpaid installments due within --days; overdue ones (due before today, still "
                             "unpaid) come first, marked overdue. Paid means what the app showed at the last import; "
                             "refresh a policy to update it."))


@app.command("export", help=_("Export the stored policies with their client's and vehicle's columns to CSV (for "
                              "Polish Excel: UTF-8, semicolons, decimal commas) or xlsx. An existing file is "
                              "overwritten only with --force."))
def export_command(
    search: SearchArgument = None,
    fmt: Annotated[str | None, typer.Option(
        "--format", help=_("csv or xlsx. Default: the --output file's suffix, else csv."))] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help=OutputHelp.format(
        default="policies-YYYY-MM-DD.csv (.xlsx)"))] = None,
    force: ForceOption = False,
    what: Annotated[str, typer.Option(
        "--what", help=_("policies (one row a policy) or installments (one row an installment)."))] = "policies",
    insurer: InsurerFilter = None,
    app_id: AppFilter = None,
    date_from: FromFilter = None,
    date_to: ToFilter = None,
    db: DbOption = None,
) -> None:
    def job() -> None:
        from a21import import export, queries
        from a21import.periods import today_in_poland
        from a21import.views import console, export_note

        chosen = export.choose_format(fmt, output)
        kind = export.check_what(what)
        filters = queries.parse_filters(search, insurer, app_id, date_from, date_to)
        target = output or export.default_name(chosen, today_in_poland(), kind)
        database = _stored_db(db)
        count = export.export(database, target, chosen, filters=filters, force=force, what=kind)
        console().print(export_note(count, target, kind))

    _show(job)


@app.command("datasette-metadata", help=_("Write the Datasette metadata for the database: Polish titles and "
                                          "descriptions of the tables and columns, and the client's name and the "
                                          "vehicle's registration shown in place of their ids."))
def datasette_metadata_command(
    db: DbOption = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help=OutputHelp.format(
        default="NAME.metadata.json beside NAME.db"))] = None,
    force: ForceOption = False,
) -> None:
    def job() -> None:
        from a21import.datasette import write_metadata
        from a21import.db import is_postgres, target
        from a21import.errors import BadInput
        from a21import.views import console, datasette_note

        database_path = target(db)
        if is_postgres(database_path):
            raise BadInput(_("Datasette reads SQLite files; the agency's PostgreSQL database is read with its own "
                             "tools (for example psql or a report tool that speaks PostgreSQL)."))
        written = write_metadata(database_path, output, force=force)
        console().print(datasette_note(database_path, written))

    _show(job)
