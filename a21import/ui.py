"""The terminal side of an import: prompts and the live table (Rich). Everything read from an
app is shown as plain text, never as markup."""

from __future__ import annotations

import re
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.live import Live
from rich.prompt import Confirm
from rich.table import Table
from rich.text import Text

from a21import.errors import BadInput
from a21import.i18n import N_, _, ngettext
from a21import.importer import Row, State, Summary
from a21import.model import AppContext

STYLES = {
    State.MARKED: (N_("marked"), "cyan"),
    State.STORED: (N_("already stored"), "dim"),
    State.SKIPPED: (N_("left out"), "yellow"),
    State.EXCLUDED: (N_("deselected"), "dim"),
    State.READING: (N_("reading…"), "blue"),
    State.DONE: (N_("✓ imported"), "green"),
    State.FAILED: (N_("✗ failed"), "red"),
    State.NOT_READ: (N_("not read"), "magenta"),
}
# The table's columns: header, right-aligned, kept on one line.
COLUMNS = (
    ("#", True, True), (N_("Number"), False, True), (N_("Insurer"), False, True), (N_("Issued"), False, True),
    (N_("Premium"), True, True), (N_("Product"), False, False), (N_("Policyholder"), False, False),
    (N_("Status"), False, False),
)
NO_ANSWER = N_("No answer was given at the prompt; nothing more was done.")


def money(grosze: int | None) -> str:
    if grosze is None:
        return ""
    whole, cents = divmod(abs(grosze), 100)
    return ("-" if grosze < 0 else "") + f"{whole:,}".replace(",", "\u00a0") + f",{cents:02d} zł"


def parse_ranges(text: str, highest: int) -> set[int]:
    """`2, 5-7` → {2, 5, 6, 7}. Raises BadInput on anything else."""
    chosen: set[int] = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = re.fullmatch(r"(\d+)(?:\s*-\s*(\d+))?", part)
        if not match:
            raise BadInput(_("{part!r} is not a row number or a range such as 5-7.").format(part=part))
        first = int(match.group(1))
        last = int(match.group(2) or first)
        if not 1 <= first <= last <= highest:
            raise BadInput(_("The rows {rows} are not between 1 and {highest}.").format(rows=part, highest=highest))
        chosen.update(range(first, last + 1))
    return chosen


@contextmanager
def _interruptible() -> Iterator[None]:
    """Ctrl-C at a prompt stops the command at once. (While the import runs, asyncio turns Ctrl-C into
    a cancellation that a blocking prompt would not see until Enter.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class RichUI:
    def __init__(self, *, interactive: bool, console: Console | None = None):
        self.interactive = interactive
        self.console = console or Console(highlight=False)
        self._live: Live | None = None
        self._rows: list[Row] = []

    def note(self, message: str) -> None:
        self.console.print(Text(message))

    def _input(self, prompt: str) -> str:
        with _interruptible():
            try:
                return self.console.input(prompt)
            except EOFError as exc:
                raise BadInput(_(NO_ANSWER)) from exc

    def choose(self, question: str, options: list[tuple[str, str]]) -> str:
        self.console.print(Text(question))
        for number, (_value, label) in enumerate(options, 1):
            self.console.print(Text.assemble(f"  {number}. ", label))
        while True:
            answer = self._input(_("Type a number from 1 to {highest}: ").format(highest=len(options))).strip()
            if answer.isdigit() and 1 <= int(answer) <= len(options):
                return options[int(answer) - 1][0]

    def confirm_context(self, context: AppContext) -> bool:
        self.console.print(Text(context.description))
        try:
            with _interruptible():
                return Confirm.ask(_("Is this the right identity and app?"), console=self.console, default=True)
        except EOFError as exc:
            raise BadInput(_(NO_ANSWER)) from exc

    def wait_for_switch(self, message: str) -> None:
        self.console.print(Text(message, style="yellow"))
        self._input(_("Press Enter when you have switched it; a21import will read the tab again. "))

    def table(self, rows: list[Row]) -> Table:
        table = Table(show_lines=False, expand=False)
        for header, right, one_line in COLUMNS:
            table.add_column(_(header), justify="right" if right else "left",
                             no_wrap=one_line, overflow="ellipsis" if one_line else "fold")
        for row in rows:
            label, style = STYLES[row.state]
            status = Text(_(label), style=style)
            if row.reason:
                status.append(f" {row.reason}", style=style)
            item = row.item
            table.add_row(
                str(row.index), Text(item.number), Text(item.insurer or ""),
                item.issue_date.isoformat() if item.issue_date else "", money(item.premium_gr),
                Text(item.product or ""), Text(item.holder_name or ""), status,
            )
        return table

    def select(self, rows: list[Row]) -> None:
        marked = [row for row in rows if row.state is State.MARKED]
        if not rows:
            self.note(_("The app lists no policy issued in this period."))
            return
        if not self.interactive:
            return
        self.console.print(self.table(rows))
        # English says "policies" whatever the total; Polish needs the total's plural form.
        self.note(ngettext("{marked} of {total} policies are marked for import.",
                           "{marked} of {total} policies are marked for import.", len(rows)).format(
            marked=len(marked), total=len(rows)))
        while marked:
            answer = self._input(_("Rows to leave out (for example 2,5-7), or Enter to import all marked: "))
            try:
                chosen = parse_ranges(answer, len(rows))
            except BadInput as exc:
                self.note(exc.message)
                continue
            for row in rows:
                if row.index in chosen and row.state is State.MARKED:
                    row.state, row.reason = State.EXCLUDED, _("Deselected by you.")
            return

    def import_started(self, rows: list[Row]) -> None:
        self._rows = rows
        self._live = Live(self.table(rows), console=self.console, auto_refresh=False, transient=False)
        self._live.start()

    def row_changed(self, row: Row) -> None:
        # Off a terminal nothing is redrawn: import_finished prints the final table once.
        if self._live is not None and self.console.is_terminal:
            self._live.update(self.table(self._rows), refresh=True)

    def import_finished(self, summary: Summary) -> None:
        if self._live is not None:
            self._live.update(self.table(self._rows), refresh=True)
            self._live.stop()
            self._live = None
            if not self.console.is_terminal:
                self.console.print()
        done = summary.count(State.DONE)
        self.console.print(Text(ngettext("Imported {n} policy.", "Imported {n} policies.", done).format(n=done),
                                style="green"))
        failed = summary.failed
        if failed:
            self.console.print(Text(ngettext("{n} policy failed:", "{n} policies failed:", len(failed)).format(
                n=len(failed)), style="red"))
            for row in failed:
                self.console.print(Text.assemble("  ", row.item.key, ": ", str(row.reason), style="red"))
        for state, sentence in (
            (State.STORED, _("Policies already in the database, left out: {n}.")),
            (State.SKIPPED, _("Policies outside what is imported, left out: {n}.")),
            (State.EXCLUDED, _("Policies you deselected: {n}.")),
            (State.NOT_READ, _("Policies not read because the import stopped: {n}.")),
        ):
            n = summary.count(state)
            if n:
                self.console.print(Text(sentence.format(n=n)))
        for row in summary.rows:
            if row.state is State.SKIPPED:
                self.console.print(Text("  " + _("{policy}: left out, {reason}").format(
                    policy=row.item.key, reason=row.reason), style="yellow"))


class JsonUI:
    """For scripts: asks nothing, shows nothing while importing, prints one JSON document at the end."""

    interactive = False

    def note(self, message: str) -> None:
        self.notes.append(message)

    def __init__(self) -> None:
        self.notes: list[str] = []

    def choose(self, question: str, options: list[tuple[str, str]]) -> str:  # pragma: no cover - never asked
        raise BadInput(question)

    def confirm_context(self, context: AppContext) -> bool:
        return True

    def wait_for_switch(self, message: str) -> None:  # pragma: no cover - never asked
        raise BadInput(message)

    def select(self, rows: list[Row]) -> None:
        pass

    def import_started(self, rows: list[Row]) -> None:
        pass

    def row_changed(self, row: Row) -> None:
        pass

    def import_finished(self, summary: Summary) -> None:
        pass

    def print_document(self, summary: Summary | None, problem: Exception | None, exit_code: int) -> None:
        import json

        rows = summary.rows if summary is not None else []
        document = {
            "exit_code": exit_code,
            "error": getattr(problem, "message", None),
            "counts": {state.value: sum(1 for r in rows if r.state is state) for state in State},
            "policies": [
                {"row": r.index, "number": r.item.number, "insurer": r.item.insurer,
                 "id": r.item.key if r.item.insurer else None, "status": r.state.value, "reason": r.reason}
                for r in rows
            ],
            "notes": self.notes,
        }
        sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
