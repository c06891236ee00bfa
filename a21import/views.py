"""The terminal side of the stored policies: Rich tables of policies, one policy whole, renewals and
installments due, and their JSON for scripts. Everything read from the database is data: it goes
into `Text` objects, never into markup strings."""

from __future__ import annotations

import dataclasses
import json
import shlex
from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from a21import.queries import DueRow, PolicyDetail, PolicyRow
from a21import.ui import money


def console() -> Console:
    return Console(highlight=False)


def database_note(db: Any) -> Text:
    return Text(f"Database: {getattr(db, 'label', db)}", style="dim")


def export_note(count: int, path: Path) -> Text:
    return Text(f"Exported {_count(count, 'policy', 'policies')} to {path}.", style="green")


def datasette_note(db_path: Path, metadata_path: Path) -> Text:
    command = shlex.join(["datasette", str(db_path), "--metadata", str(metadata_path)])
    return Text(f"Wrote the Datasette metadata to {metadata_path}. Browse the database with:\n    {command}")


def _text(value: Any, style: str = "") -> Text:
    return Text("" if value is None else str(value), style=style)


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def _table(*headers: str, right: tuple[str, ...] = ()) -> Table:
    table = Table(show_lines=False, expand=False)
    for header in headers:
        table.add_column(header, justify="right" if header in right else "left",
                         no_wrap=header in right or header in ("Number", "Issued", "Ends", "Due"), overflow="fold")
    return table


# -- policies -------------------------------------------------------------------------------------------
def policies_table(rows: list[PolicyRow]) -> Table:
    table = _table("Number", "Insurer", "Issued", "Cover", "Premium", "Product", "Policyholder", "Registration",
                   right=("Premium",))
    for row in rows:
        table.add_row(_text(row.number), _text(row.insurer), _day(row.issue_date),
                      f"{_day(row.start_date)} – {_day(row.end_date)}", money(row.premium_gr), _text(row.product),
                      _text(row.holder_name), _text(row.registration))
    return table


def policies_view(rows: list[PolicyRow]) -> Group | Text:
    if not rows:
        return Text("No stored policy matches.")
    return Group(policies_table(rows), Text(_count(len(rows), "policy found.", "policies found.")))


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
    address = ", ".join(part for part in (client.get("street"), " ".join(
        p for p in (client.get("postal_code"), client.get("city")) if p)) if part)
    invalid = client.get("ids_invalid")
    return _fields([
        ("Name", client.get("name")), ("PESEL", client.get("pesel")), ("NIP", client.get("nip")),
        ("REGON", client.get("regon")), ("Address", address), ("Phone", client.get("phone")),
        ("E-mail", client.get("email")),
        ("Check", Text(f"The checksum of {invalid} fails; it is stored as the app gave it.", style="yellow")
         if invalid else None),
    ])


def detail_view(detail: PolicyDetail, *, today: date) -> Group:
    policy = detail.policy
    parts: list[Any] = [
        Text(f"Policy {policy.number}", style="bold"),
        _fields([
            ("Insurer", policy.insurer),
            ("App", policy.source_app + (f" ({detail.source_system})" if detail.source_system else "")),
            ("Product", f"{policy.product or ''} ({policy.product_line})" if policy.product_line else policy.product),
            ("Status", policy.status), ("Issued", _day(policy.issue_date)),
            ("Cover", f"{_day(policy.start_date)} – {_day(policy.end_date)}"),
            ("Premium", money(policy.premium_gr)), ("Imported", detail.imported_at),
        ]),
        Text("\nPolicyholder", style="bold"),
        _client_fields(detail.holder),
    ]
    if detail.insured:
        parts += [Text("\nInsured person", style="bold"), _client_fields(detail.insured)]
    if detail.vehicle:
        vehicle = detail.vehicle
        parts += [Text("\nVehicle", style="bold"), _fields([
            ("Registration", vehicle.get("registration")), ("VIN", vehicle.get("vin")),
            ("Make and model", " ".join(p for p in (vehicle.get("make"), vehicle.get("model")) if p)),
            ("Production year", vehicle.get("production_year")),
        ])]
    parts.append(Text("\nCoverages", style="bold"))
    if detail.coverages:
        table = _table("Code", "Risk", "Sum insured", "Premium", right=("Sum insured", "Premium"))
        for coverage in detail.coverages:
            table.add_row(_text(coverage.code), _text(coverage.name), money(coverage.sum_insured_gr),
                          money(coverage.premium_gr))
        parts.append(table)
    else:
        parts.append(Text("The app listed no coverages for this policy."))
    parts.append(Text("\nInstallments", style="bold"))
    if detail.installments:
        table = _table("#", "Due", "Amount", "Paid", right=("#", "Amount"))
        for installment in detail.installments:
            if installment.paid:
                state = Text("paid", style="green")
            elif installment.due_date < today:
                state = Text(f"unpaid, overdue by {_count((today - installment.due_date).days, 'day', 'days')}",
                             style="bold red")
            else:
                state = Text("unpaid")
            table.add_row(str(installment.seq), _day(installment.due_date), money(installment.amount_gr), state)
        parts.append(table)
    else:
        parts.append(Text("The app listed no installments for this policy."))
    return Group(*parts)


def details_view(details: list[PolicyDetail], *, today: date) -> Group:
    parts: list[Any] = []
    if len(details) > 1:
        insurers = ", ".join(d.policy.insurer for d in details)
        parts.append(Text(f"{len(details)} insurers use the number {details[0].policy.number} ({insurers}); all are "
                          "shown. Choose one with --insurer.", style="yellow"))
    for index, detail in enumerate(details):
        if index:
            parts.append(Text(""))
        parts.append(detail_view(detail, today=today))
    return Group(*parts)


# -- renewals and installments due ----------------------------------------------------------------------
def _in_days(days: int) -> str:
    return "today" if days == 0 else f"in {_count(days, 'day', 'days')}"


def renewals_view(rows: list[PolicyRow], *, days: int, today: date) -> Group | Text:
    if not rows:
        return Text(f"No stored policy ends within {_count(days, 'day', 'days')}.")
    table = _table("Ends", "When", "Number", "Insurer", "Product", "Policyholder", "Phone", "E-mail", "Registration",
                   "Premium", right=("Premium",))
    for row in rows:
        table.add_row(_day(row.end_date), _in_days((row.end_date - today).days), _text(row.number), _text(row.insurer),
                      _text(row.product), _text(row.holder_name), _text(row.holder_phone), _text(row.holder_email),
                      _text(row.registration), money(row.premium_gr))
    return Group(table, Text(f"{_count(len(rows), 'policy ends', 'policies end')} within "
                             f"{_count(days, 'day', 'days')}, the soonest first."))


def due_view(rows: list[DueRow], *, days: int) -> Group | Text:
    if not rows:
        return Text(f"No unpaid installment is overdue or due within {_count(days, 'day', 'days')}.")
    table = _table("Due", "When", "Amount", "#", "Number", "Insurer", "Policyholder", "Phone", "E-mail",
                   right=("Amount", "#"))
    for row in rows:
        when = (Text(f"overdue by {_count(-row.days_left, 'day', 'days')}", style="bold red") if row.overdue
                else Text(_in_days(row.days_left)))
        policy = row.policy
        table.add_row(_day(row.due_date), when, money(row.amount_gr), str(row.seq), _text(policy.number),
                      _text(policy.insurer), _text(policy.holder_name), _text(policy.holder_phone),
                      _text(policy.holder_email))
    overdue = sum(1 for row in rows if row.overdue)
    total = money(sum(row.amount_gr for row in rows))
    return Group(table, Text(f"{_count(len(rows), 'unpaid installment', 'unpaid installments')} ({total}), "
                             f"{overdue} of them overdue."))


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
    return json.dumps(documents, ensure_ascii=False, indent=2, default=_plain)
