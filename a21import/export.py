"""Exporting the stored policies, with their policyholder's and vehicle's columns, to CSV or xlsx.

CSV is written for Polish Excel: UTF-8 with a BOM (Excel otherwise reads it as cp1250), `;` between
fields (the list separator of the Polish locale), ISO dates (Excel reads them as dates) and amounts
with a decimal comma and no thousands separator (`1234,56`, read as a number). Text that Excel would
run as a formula (`=`, `+`, `-`, `@`, a tab or a carriage return first, also after leading blanks and
as their full-width look-alikes) gets a leading `'`, except plain numbers such as phone numbers. xlsx
keeps every value exactly: text cells are always text, amounts are numeric cells in zł, dates are date
cells.

A file is written next to its final name and moved into place when complete, private to the user
(0600) as the database is: it holds PESEL numbers, addresses and phone numbers.
"""

from __future__ import annotations

import csv
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlite_utils

from a21import.errors import BadInput, EnvironmentProblem
from a21import.i18n import N_, _
from a21import.queries import (
    NO_FILTERS,
    POLICY_JOINS,
    Filters,
    fetch_rows,
    filter_clause,
)

FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class Column:
    key: str  # the alias of `sql` in the query, and the row's key
    header: str  # English, translated when written
    sql: str  # over policies p, holder clients h, insured clients i, vehicles v
    kind: str = "text"  # text, date, money, int


COLUMNS = (
    Column("number", N_("Policy number"), "p.number"),
    Column("insurer", N_("Insurer"), "p.insurer"),
    Column("source_app", N_("App"), "p.source_app"),
    Column("product_line", N_("Product line"), "p.product_line"),
    Column("product", N_("Product"), "p.product"),
    Column("status", N_("Status"), "p.status"),
    Column("issue_date", N_("Issue date"), "p.issue_date", "date"),
    Column("start_date", N_("Start date"), "p.start_date", "date"),
    Column("end_date", N_("End date"), "p.end_date", "date"),
    Column("premium_gr", N_("Premium (zł)"), "p.premium_gr", "money"),
    Column("currency", N_("Currency"), "p.currency"),
    Column("holder_name", N_("Policyholder"), "h.name"),
    Column("holder_kind", N_("Policyholder kind"), "h.kind"),
    Column("holder_pesel", N_("PESEL"), "h.pesel"),
    Column("holder_nip", N_("NIP"), "h.nip"),
    Column("holder_regon", N_("REGON"), "h.regon"),
    Column("holder_street", N_("Street"), "h.street"),
    Column("holder_postal_code", N_("Postal code"), "h.postal_code"),
    Column("holder_city", N_("City"), "h.city"),
    Column("holder_phone", N_("Phone"), "h.phone"),
    Column("holder_email", N_("E-mail"), "h.email"),
    Column("insured_name", N_("Insured person"), "CASE WHEN p.insured_id = p.holder_id THEN NULL ELSE i.name END"),
    Column("registration", N_("Registration"), "v.registration"),
    Column("vin", N_("VIN"), "v.vin"),
    Column("make", N_("Make"), "v.make"),
    Column("model", N_("Model"), "v.model"),
    Column("production_year", N_("Production year"), "v.production_year", "int"),
)
# `--what installments`: one row an installment, with its policy and the policyholder to call.
INSTALLMENT_COLUMNS = (
    Column("number", N_("Policy number"), "p.number"),
    Column("insurer", N_("Insurer"), "p.insurer"),
    Column("seq", N_("Installment"), "n.seq", "int"),
    Column("due_date", N_("Due date"), "n.due_date", "date"),
    Column("amount_gr", N_("Amount (zł)"), "n.amount_gr", "money"),
    Column("paid", N_("Paid"), "n.paid", "flag"),
    Column("status", N_("Status"), "p.status"),
    Column("holder_name", N_("Policyholder"), "h.name"),
    Column("holder_phone", N_("Phone"), "h.phone"),
    Column("holder_email", N_("E-mail"), "h.email"),
)
WHAT = {"policies": (COLUMNS, N_("Policies")), "installments": (INSTALLMENT_COLUMNS, N_("Installments"))}
# Spreadsheet formats a21import does not write: a file named so would hold CSV text Excel refuses.
OTHER_SPREADSHEETS = ("xls", "xlsm", "xlsb", "ods")


def _select(columns: tuple[Column, ...]) -> str:
    return ", ".join(f"{column.sql} AS {column.key}" for column in columns)


def export_rows(db: sqlite_utils.Database, filters: Filters = NO_FILTERS,
                what: str = "policies") -> list[dict[str, Any]]:
    """One dict a policy (or installment), keyed by `Column.key`, dates as `date`, the latest issued first."""
    columns = WHAT[what][0]
    where, params = filter_clause(filters)
    if what == "installments":
        sql = (f"SELECT {_select(columns)} {POLICY_JOINS} JOIN installments n ON n.policy_id = p.id{where} "
               "ORDER BY n.due_date, p.number, n.seq")
    else:
        sql = f"SELECT {_select(columns)} {POLICY_JOINS}{where} ORDER BY p.issue_date DESC, p.number, p.insurer"
    rows = fetch_rows(db, sql, params)
    for row in rows:
        for column in columns:
            if column.kind == "date" and row[column.key]:
                row[column.key] = date.fromisoformat(row[column.key])
    return rows


def check_what(what: str) -> str:
    value = (what or "").strip().lower()
    if value not in WHAT:
        raise BadInput(_("--what {value!r} is not known. Use policies or installments.").format(value=what))
    return value


def default_name(fmt: str, today: date, what: str = "policies") -> Path:
    return Path(f"{'installments' if what == 'installments' else 'policies'}-{today.isoformat()}.{fmt}")


def choose_format(fmt: str | None, output: Path | None) -> str:
    """The format given, else the output file's suffix, else CSV. Raises BadInput on a conflict."""
    suffix = output.suffix.lower().lstrip(".") if output is not None else ""
    if suffix in OTHER_SPREADSHEETS:
        raise BadInput(_("The file {path} ends in .{suffix}, a format a21import does not write. Give a name ending "
                         "in .xlsx (Excel opens it) or .csv.").format(path=output, suffix=suffix))
    if fmt is not None:
        fmt = fmt.strip().lower()
        if fmt not in FORMATS:
            raise BadInput(_("--format {value!r} is not known. Use csv or xlsx.").format(value=fmt))
        if suffix in FORMATS and suffix != fmt:
            raise BadInput(_("The file {path} ends in .{suffix}, but --format is {format}. Make them agree.").format(
                path=output, suffix=suffix, format=fmt))
        return fmt
    return suffix if suffix in FORMATS else "csv"


def export(db: sqlite_utils.Database, output: Path, fmt: str, *, filters: Filters = NO_FILTERS,
           force: bool = False, what: str = "policies") -> int:
    """Writes the policies (or installments) to `output`; returns how many rows. Refuses to overwrite a
    file unless `force`."""
    output = check_output(output, force=force)
    columns, title = WHAT[what]
    rows = export_rows(db, filters, what)
    writer = _write_csv if fmt == "csv" else _write_xlsx
    write_atomically(output, lambda path: writer(rows, path, columns, _(title)))
    return len(rows)


def check_output(output: Path, *, force: bool, replaceable: Callable[[Path], bool] = lambda path: False) -> Path:
    """The output file, checked: its folder exists, and an existing file is replaced only with `force`
    (or when `replaceable` says it may be)."""
    output = Path(output).expanduser()
    if output.is_symlink():  # someone else's link would make a21import replace or create a file of their choosing
        raise BadInput(_("The output path {path} is a symbolic link. a21import does not write through a link; give "
                         "the file's real path with --output.").format(path=output))
    if output.is_dir():
        raise BadInput(_("The output path {path} is a folder. Give a file name with --output.").format(path=output))
    if not output.parent.is_dir():
        raise BadInput(_("The folder {folder} does not exist. Create it or give another --output.").format(
            folder=output.parent))
    if output.exists() and not force and not replaceable(output):
        raise BadInput(_("The file {path} already exists. Give another --output, or add --force to overwrite it.")
                       .format(path=output))
    return output


def cannot_write(output: Path, exc: OSError) -> EnvironmentProblem:
    return EnvironmentProblem(_("The file {path} cannot be written: {reason}.").format(
        path=output, reason=exc.strerror or exc))


def write_atomically(output: Path, write: Callable[[Path], None]) -> None:
    folder = output.parent if str(output.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{output.name}.", dir=folder)  # created 0600
    except OSError as exc:
        raise cannot_write(output, exc) from exc
    os.close(handle)
    try:
        write(Path(temporary))
        os.replace(temporary, output)
    except OSError as exc:
        raise cannot_write(output, exc) from exc
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


# -- CSV ------------------------------------------------------------------------------------------------
# Excel and LibreOffice skip leading blanks (also no-break, ideographic and zero-width spaces) and read
# the full-width signs as the ASCII ones, so `  =cmd`, `\u00a0+1` and `＝cmd` run as formulas too.
_FORMULA_START = re.compile("^[ \t\r\n\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000\ufeff]*"
                            "[=+\\-@\t\r\uff1d\uff0b\uff0d\uff20\ufe62\ufe63\u2212]")
_PLAIN_NUMBER = re.compile(r"^[+-]?[\d\s()./-]*\d[\d\s()./-]*$")  # +48 601 234 567, -12


def csv_amount(grosze: int | None) -> str:
    """Grosze → `1234,56` (decimal comma, no thousands separator): a number to Polish Excel."""
    if grosze is None:
        return ""
    whole, cents = divmod(abs(grosze), 100)
    return f"{'-' if grosze < 0 else ''}{whole},{cents:02d}"


def csv_text(value: Any) -> str:
    text = "" if value is None else str(value)
    if _FORMULA_START.match(text) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def _csv_cell(column: Column, value: Any) -> str:
    if value is None:
        return ""
    if column.kind == "money":
        return csv_amount(value)
    if column.kind == "date":
        return value.isoformat()
    if column.kind == "int":
        return str(value)
    if column.kind == "flag":
        return _("yes") if value else _("no")
    return csv_text(value)


def _write_csv(rows: list[dict[str, Any]], path: Path, columns: tuple[Column, ...] = COLUMNS,
               _title: str = "") -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow([_(column.header) for column in columns])
        for row in rows:
            writer.writerow([_csv_cell(column, row[column.key]) for column in columns])


# -- xlsx -----------------------------------------------------------------------------------------------
MONEY_FORMAT = '#,##0.00 "zł"'
DATE_FORMAT = "yyyy-mm-dd"
MAX_WIDTH = 40


def _write_xlsx(rows: list[dict[str, Any]], path: Path, columns: tuple[Column, ...] = COLUMNS,
                title: str = "") -> None:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = title or _("Policies")
    bold = Font(bold=True)
    headers = [_(column.header) for column in columns]
    widths = [len(header) for header in headers]
    for index, header in enumerate(headers, 1):
        sheet.cell(row=1, column=index, value=header).font = bold
    for row_number, row in enumerate(rows, 2):
        for index, column in enumerate(columns, 1):
            value = row[column.key]
            cell = sheet.cell(row=row_number, column=index)
            if value is None:
                continue
            if column.kind == "money":
                cell.value = Decimal(value) / 100
                cell.number_format = MONEY_FORMAT
                shown = len(f"{value / 100:,.2f} zł")
            elif column.kind == "date":
                cell.value = value
                cell.number_format = DATE_FORMAT
                shown = 10
            elif column.kind == "int":
                cell.value = int(value)
                shown = len(str(value))
            elif column.kind == "flag":
                cell.value = _("yes") if value else _("no")
                shown = len(cell.value)
            else:
                # Always a text cell: a value from an app that begins with "=" stays text, never a formula.
                cell.value = ILLEGAL_CHARACTERS_RE.sub("", str(value))
                cell.data_type = "s"
                shown = len(str(value))
            widths[index - 1] = max(widths[index - 1], shown)
    for index, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(index)].width = min(width + 2, MAX_WIDTH)
    sheet.freeze_panes = "A2"
    if rows:
        sheet.auto_filter.ref = sheet.dimensions
    book.save(path)
