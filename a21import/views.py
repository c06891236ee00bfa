"""The terminal side of the stored policies: Rich tables of policies, one policy whole, renewals and
installments due, and their JSON for scripts. Everything read from the database is data: it goes
into `Text` objects, never into markup strings. Every sentence goes through the catalogue (i18n)."""

from __future__ import annotations

import dataclasses
import shlex
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from a21import import insurers
from a21import.console import SafeConsole
from a21import.fit import (
    CUT,
    FOLD,
    TWO,
    WHOLE,
    WORDS,
    Column,
    FittedTable,
    uniform,
    when_uniform,
)
from a21import.formats import ONE_INSURER, WARSAW, money
from a21import.i18n import N_, _, ngettext
from a21import.model import insurer_name
from a21import.queries import DueRow, PolicyDetail, PolicyRow
from a21import.statuses import is_ended
from a21import.statuses import label as status_label
from a21import.text import json_dumps


def console(width: int | None = None) -> Console:
    """The console the views print to; `width` (--width) in place of the terminal's."""
    return SafeConsole(width=width)


def database_note(db: Any) -> Text:
    return Text(_("Database: {path}").format(path=getattr(db, "label", db)), style="dim")


def export_note(count: int, path: Path, what: str = "policies") -> Text:
    if what == "installments":
        return Text(ngettext("Exported {count} installment to {path}.", "Exported {count} installments to {path}.",
                             count).format(count=count, path=path), style="green")
    return Text(ngettext("Exported {count} policy to {path}.", "Exported {count} policies to {path}.", count).format(
        count=count, path=path), style="green")


def datasette_note(db_path: Path, metadata_path: Path) -> Text:
    command = shlex.join(["datasette", str(db_path), "--metadata", str(metadata_path)])
    return Text(_("Wrote the Datasette metadata to {path}. Browse the database with:\n    {command}").format(
        path=metadata_path, command=command))


def _text(value: Any, style: str = "") -> Text:
    return Text("" if value is None else str(value), style=style)


def _day(value: date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else ""  # as Poles write dates


def _cover(start: date | None, end: date | None) -> str:
    return f"{_day(start)} – {_day(end)}"


# The columns the tables share, by how they give way on a narrow line (see a21import.fit): numbers, dates and
# amounts never; the product, the e-mail, the registration and the phone are dropped first, in that order.
def _number() -> Column:
    return Column(_("Number"), WHOLE)


def _date(header: str) -> Column:
    return Column(header, WHOLE)


def _amount(header: str) -> Column:
    return Column(header, WHOLE, right=True)


def _holder() -> Column:
    return Column(_("Policyholder"), TWO, least=12, fair=20, most=36)


def _product() -> Column:
    return Column(_("Product"), CUT, drop=7, least=12, fair=16, most=30)


def _email() -> Column:
    return Column(_("E-mail"), CUT, drop=6, least=16, fair=24, most=36)  # a shorter one would be of no use


def _registration() -> Column:
    return Column(_("Registration"), WHOLE, drop=5)


def _phone() -> Column:
    return Column(_("Phone"), WHOLE, drop=4)


def _when_column() -> Column:
    return Column(_("When"), WORDS, least=8, fair=12, most=24)


def _insurer(codes: list[str | None]) -> Column:
    """The insurer: dropped before any other column when every row has the same one (then said below)."""
    one = uniform(codes)
    return when_uniform(Column(_("Insurer"), CUT, least=6, fair=10, most=24), one,
                        _(ONE_INSURER).format(insurer=insurer_name(one)))


def _days(days: int) -> str:
    return ngettext("{count} day", "{count} days", days).format(count=days)


def _when(days_left: int) -> Text:
    if days_left < 0:
        return Text(ngettext("overdue by {count} day", "overdue by {count} days", -days_left).format(
            count=-days_left), style="bold red")
    if days_left == 0:
        return Text(_("today"))
    return Text(ngettext("in {count} day", "in {count} days", days_left).format(count=days_left))


PRODUCT_LINE_LABELS = {"motor": N_("motor"), "property": N_("property"), "life": N_("life"), "travel": N_("travel"),
                       "other": N_("other")}


def local_time(stamp: str | None) -> str:
    """An ISO time stamp (UTC) as Warsaw's clock shows it: `28.11.2026 11:11`."""
    if not stamp:
        return ""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(WARSAW).strftime("%d.%m.%Y %H:%M")


# -- policies -------------------------------------------------------------------------------------------
def policies_table(rows: list[PolicyRow]) -> FittedTable:
    columns = [_number(), _insurer([row.insurer for row in rows]), _date(_("Issued")),
               Column(_("Cover"), WORDS, least=len("01.01.2026 –"), fair=12, most=23), _amount(_("Premium")), _product(),
               _holder(), _registration()]
    return FittedTable(columns, [
        [_text(row.number), _text(insurer_name(row.insurer)), _day(row.issue_date),
         _cover(row.start_date, row.end_date), money(row.premium_gr), _text(row.product), _text(row.holder_name),
         _text(row.registration)]
        for row in rows])


def policies_view(rows: list[PolicyRow]) -> Group | Text:
    if not rows:
        return Text(_("No stored policy matches."))
    found = ngettext("{count} policy found.", "{count} policies found.", len(rows)).format(count=len(rows))
    return Group(policies_table(rows), Text(found))


# -- one policy -----------------------------------------------------------------------------------------
def _fields(pairs: list[tuple[str, Any]]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in pairs:
        if value not in (None, ""):
            grid.add_row(label, value if isinstance(value, Text) else _text(value))
    return grid


def _client_fields(client: dict[str, Any]) -> Table:
    town = " ".join(part for part in (client.get("postal_code"), client.get("city")) if part)
    address = ", ".join(part for part in (client.get("street"), town) if part)
    invalid = client.get("ids_invalid")
    check = None
    if invalid:
        check = Text(_("The checksum of {ids} fails; it is stored as the app gave it.").format(ids=invalid),
                     style="yellow")
    return _fields([
        (_("Name"), client.get("name")), ("PESEL", client.get("pesel")), ("NIP", client.get("nip")),
        ("REGON", client.get("regon")), (_("Address"), address), (_("Phone"), client.get("phone")),
        (_("E-mail"), client.get("email")), (_("Check"), check),
    ])


def _heading(title: str) -> Text:
    return Text("\n" + title, style="bold")


def _installment_state(paid: bool, days_left: int) -> Text:
    if paid:
        return Text(_("paid"), style="green")
    if days_left < 0:
        return Text(ngettext("unpaid, overdue by {count} day", "unpaid, overdue by {count} days", -days_left).format(
            count=-days_left), style="bold red")
    return Text(_("unpaid"))


def detail_view(detail: PolicyDetail, *, today: date) -> Group:
    policy = detail.policy
    app = insurers.title(policy.source_app) + (f" ({detail.source_system})" if detail.source_system else "")
    line = _(PRODUCT_LINE_LABELS[policy.product_line]) if policy.product_line in PRODUCT_LINE_LABELS else None
    product = f"{policy.product or ''} ({line})" if line else policy.product
    parts: list[Any] = [
        Text(_("Policy {number}").format(number=policy.number), style="bold"),
        _fields([
            (_("Insurer"), insurer_name(policy.insurer)), (_("App"), app), (_("Product"), product),
            (_("Status"), status_label(policy.status)),
            (_("Issued"), _day(policy.issue_date)), (_("Cover"), _cover(policy.start_date, policy.end_date)),
            (_("Premium"), money(policy.premium_gr)), (_("Imported"), local_time(detail.imported_at)),
            (_("Agent"), detail.agent), (_("Imported by"), detail.imported_by),
        ]),
        _heading(_("Policyholder")),
        _client_fields(detail.holder),
    ]
    if detail.insured:
        parts += [_heading(_("Insured person")), _client_fields(detail.insured)]
    if detail.vehicle:
        vehicle = detail.vehicle
        parts += [_heading(_("Vehicle")), _fields([
            (_("Registration"), vehicle.get("registration")), ("VIN", vehicle.get("vin")),
            (_("Make and model"), " ".join(p for p in (vehicle.get("make"), vehicle.get("model")) if p)),
            (_("Production year"), vehicle.get("production_year")),
        ])]
    parts.append(_heading(_("Coverages")))
    if detail.coverages:
        parts.append(FittedTable(
            [Column(_("Code"), CUT, drop=5, least=4, fair=8, most=16),
             Column(_("Risk"), FOLD, least=12, fair=24, most=50), _amount(_("Sum insured")), _amount(_("Premium"))],
            [[_text(coverage.code), _text(coverage.name), money(coverage.sum_insured_gr), money(coverage.premium_gr)]
             for coverage in detail.coverages]))
    else:
        parts.append(Text(_("The app listed no coverages for this policy.")))
    parts.append(_heading(_("Installments")))
    if detail.installments:
        parts.append(FittedTable(
            [_amount("#"), _date(_("Due")), _amount(_("Amount")), Column(_("Paid"), WORDS, fair=20, most=40)],
            [[str(installment.seq), _day(installment.due_date), money(installment.amount_gr),
              _installment_state(installment.paid, (installment.due_date - today).days)]
             for installment in detail.installments]))
    else:
        parts.append(Text(_("The app listed no installments for this policy.")))
    return Group(*parts)


def details_view(details: list[PolicyDetail], *, today: date) -> Group:
    parts: list[Any] = []
    if len(details) > 1:
        parts.append(Text(_("{count} insurers use the number {number} ({insurers}); all are shown. Choose one with "
                            "--insurer.").format(count=len(details), number=details[0].policy.number,
                                                 insurers=", ".join(insurer_name(d.policy.insurer)
                                                                    for d in details)),
                          style="yellow"))
    for index, detail in enumerate(details):
        if index:
            parts.append(Text(""))
        parts.append(detail_view(detail, today=today))
    return Group(*parts)


# -- renewals and installments due ----------------------------------------------------------------------
def _left_out(count: int) -> list[Text]:
    if not count:
        return []
    return [Text(ngettext("{count} cancelled or ended policy was left out; --all shows it.",
                          "{count} cancelled or ended policies were left out; --all shows them.", count).format(
        count=count))]


def _when_or_ended(status: str | None, days_left: int) -> Text:
    """How far off a date is; for a cancelled or ended policy (shown with --all), its status instead."""
    if is_ended(status):
        return Text(status_label(status), style="dim")
    return _when(days_left)


def renewals_view(rows: list[PolicyRow], *, days: int, today: date, left_out: int = 0) -> Group | Text:
    if not rows:
        return Group(Text(ngettext("No stored policy ends within {count} day.",
                                   "No stored policy ends within {count} days.", days).format(count=days)),
                     *_left_out(left_out))
    table = FittedTable(
        [_date(_("Ends")), _when_column(), _number(), _insurer([row.insurer for row in rows]), _product(), _holder(),
         _phone(), _email(), _registration(), _amount(_("Premium"))],
        [[_day(row.end_date), _when_or_ended(row.status, (row.end_date - today).days), _text(row.number),
          _text(insurer_name(row.insurer)), _text(row.product), _text(row.holder_name), _text(row.holder_phone),
          _text(row.holder_email), _text(row.registration), money(row.premium_gr)] for row in rows])
    summary = ngettext("{count} policy ends within {period}, the soonest first.",
                       "{count} policies end within {period}, the soonest first.", len(rows))
    return Group(table, Text(summary.format(count=len(rows), period=_days(days))), *_left_out(left_out))


def due_view(rows: list[DueRow], *, days: int, today: date, left_out: int = 0) -> Group | Text:
    if not rows:
        return Group(Text(ngettext("No unpaid installment is overdue or due within {count} day.",
                                   "No unpaid installment is overdue or due within {count} days.", days).format(
            count=days)), *_left_out(left_out))
    table = FittedTable(
        [_date(_("Due")), _when_column(), _amount(_("Amount")), _amount("#"), _number(),
         _insurer([row.policy.insurer for row in rows]), _holder(), _phone(), _email()],
        [[_day(row.due_date), _when_or_ended(row.policy.status, row.days_left), money(row.amount_gr), str(row.seq),
          _text(row.policy.number), _text(insurer_name(row.policy.insurer)), _text(row.policy.holder_name),
          _text(row.policy.holder_phone), _text(row.policy.holder_email)] for row in rows])
    overdue = sum(1 for row in rows if row.overdue)
    summary = ngettext("{count} unpaid installment ({total}), {overdue} of them overdue.",
                       "{count} unpaid installments ({total}), {overdue} of them overdue.", len(rows))
    return Group(table, Text(summary.format(count=len(rows), total=money(sum(r.amount_gr for r in rows)),
                                            overdue=overdue)), *_left_out(left_out))


# -- JSON for scripts -------------------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def as_json(items: list[Any]) -> str:
    """The rows as one JSON document: dates ISO, amounts in grosze (as stored)."""
    documents = []
    for item in items:
        document = dataclasses.asdict(item)
        if isinstance(item, DueRow):
            document["overdue"] = item.overdue
        documents.append(document)
    return json_dumps(documents, indent=2, default=_plain)
