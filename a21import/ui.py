"""The terminal side of an import: prompts and the live table (Rich). Everything read from an
app is shown as plain text, never as markup."""

from __future__ import annotations

import dataclasses
import shlex
import signal
import sys
import textwrap
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from rich.cells import cell_len
from rich.console import Console
from rich.live import Live
from rich.text import Text

from a21import.choice import describe_rows, parse_choice, parse_yes_no, yes_no_hint
from a21import.console import SafeConsole
from a21import.errors import BadInput
from a21import.fit import (CUT, FOLD, NARROWEST, TWO, WHOLE, Column, cell_lines, header_lines, layout, uniform,
                           when_uniform)
from a21import.formats import ONE_INSURER, fmt_pl_date, money
from a21import.i18n import N_, _, ngettext
from a21import.importer import Row, State, Summary
from a21import.model import AppContext, insurer_name, policy_name

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
# The table's columns. A row read later may bring a date, an amount, a product and a name its list row
# lacked (a look-up by number lists blanks): room is kept for them from the start.
COLUMNS = (
    Column("#", WHOLE, right=True), Column(N_("Number"), WHOLE),
    Column(N_("Insurer"), CUT, least=6, fair=10, most=24),
    Column(N_("Issued"), WHOLE, reserve=len("01.11.2026")),
    Column(N_("Premium"), WHOLE, right=True, reserve=len("12 345,67 zł")),
    Column(N_("Product"), CUT, drop=7, least=12, fair=14, most=24, expect=16),
    Column(N_("Policyholder"), TWO, least=12, fair=20, most=36, expect=24),
    Column(N_("Status"), FOLD, least=14, fair=24, most=60),
)
INSURER, STATUS = 2, len(COLUMNS) - 1
SEPARATOR = "  "
NO_ANSWER = N_("No answer was given at the prompt; nothing more was done.")


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


def retry_command(summary: Summary, rows: list[Row]) -> str:
    """The command line that reads these failed rows again."""
    numbers = [row.item.number for row in rows]
    if summary.retry[:1] != ("policy",):
        numbers = numbers[:1]  # refresh reads one number at a time
    return shlex.join(["a21import", summary.retry[0], *numbers, *summary.retry[1:]])


def _new_first(rows: list[Row]) -> None:
    """New policies first, then the ones that cannot be chosen, the stored ones last; numbered again."""
    rows.sort(key=lambda row: (row.state is not State.MARKED, row.state is State.STORED))
    for number, row in enumerate(rows, 1):
        row.index = number


def _why_not(row: Row) -> str:
    """Why a row that is not marked cannot be chosen, as the end of a sentence."""
    if row.state is State.STORED:
        return _("the policy is already stored; --include-stored reads stored policies again.")
    return row.reason or _(STYLES[row.state][0])


class RichUI:
    def __init__(self, *, interactive: bool, console: Console | None = None):
        self.interactive = interactive
        self.console = console or SafeConsole()
        self._live: Live | None = None
        self._listing: Live | None = None
        self._rows: list[Row] = []
        self._noted: set[str] = set()

    def note(self, message: str) -> None:
        self._stop_listing()
        self.console.print(Text(message))

    def listing(self, window: int, windows: int, start: date, end: date, page: int, found: int) -> None:
        """While the list is read: which window of the period and which page (terminals only: one line
        rewritten in place; piped output and --json stay clean)."""
        if not self.console.is_terminal:
            return
        line = Text(ngettext(
            "Reading the list: period {window} of {windows} ({start}–{end}), page {page}; {found} policy so far.",
            "Reading the list: period {window} of {windows} ({start}–{end}), page {page}; {found} policies so far.",
            found).format(window=window, windows=windows, start=fmt_pl_date(start), end=fmt_pl_date(end), page=page,
                          found=found), style="blue")
        if self._listing is None:
            self._listing = Live(line, console=self.console, auto_refresh=False, transient=True)
            self._listing.start()
        self._listing.update(line, refresh=True)

    def _stop_listing(self) -> None:
        if self._listing is not None:
            self._listing.stop()
            self._listing = None

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

    def ask_yes_no(self, question: str, *, default: bool = True) -> bool:
        """A yes/no question in the user's language: [T/n] and tak/nie in Polish, [Y/n] in English."""
        while True:
            answer = self._input(f"{question} {yes_no_hint(default)} ")
            try:
                return parse_yes_no(answer, default)
            except BadInput as exc:
                self.note(exc.message)

    def confirm_context(self, context: AppContext) -> bool:
        self.console.print(Text(context.description))
        return self.ask_yes_no(_("Is this the right identity and app?"))

    def wait_for_switch(self, message: str) -> bool:
        self.console.print(Text(message, style="yellow"))
        try:
            answer = self._input(_("Press Enter when it is done, and a21import will look at the browser again "
                                   "(q stops): "))
        except BadInput:  # no answer can come (stdin closed)
            return False
        return answer.strip().casefold() != "q"

    def _layout(self, rows: list[Row]) -> None:
        """Fixes the columns and their widths once for the whole list, so that rows printed one at a time
        line up as one table (rendering a whole table again at every change would cost O(n²)). The status
        takes what is left of the line: the reasons of red rows come later."""
        columns = [dataclasses.replace(column, header=_(column.header)) for column in COLUMNS]
        insurer = uniform(row.item.insurer for row in rows)
        columns[INSURER] = when_uniform(columns[INSURER], insurer,
                                        _(ONE_INSURER).format(insurer=insurer_name(insurer)))
        self._columns = columns
        self._widths = layout(columns, [self._cells(row)[0] for row in rows], self.console.width, rest=STATUS)

    def _line(self, cells: list[str], status_style: str | None = None, *, header: bool = False) -> Text:
        """One row as lines of text under the fixed widths (see a21import.fit for how each column gives
        way). Plain text: a row never holds markup."""
        widths = list(self._widths)
        kept = [i for i, width in enumerate(widths) if width]
        # A number or an amount wider than its column is never cut: the status makes room for it.
        wider = sum(max(0, cell_len(cells[i]) - widths[i]) for i in kept if self._columns[i].kind == WHOLE)
        widths[STATUS] = max(NARROWEST, widths[STATUS] - wider)
        columns: list[list[str]] = []
        for i in kept:
            column = self._columns[i]
            lines = [line.plain for line in (header_lines(self.console, cells[i], widths[i]) if header else
                                             cell_lines(self.console, column, Text(cells[i]), widths[i]))]
            width = max(widths[i], *(cell_len(line) for line in lines))
            widths[i] = width
            columns.append([" " * (width - cell_len(line)) + line if column.right else
                            line + " " * (width - cell_len(line)) for line in lines])
        line = Text(style="bold" if header else "")
        for n in range(max(len(column) for column in columns)):
            pieces = [column[n] if n < len(column) else " " * widths[i] for column, i in zip(columns, kept)]
            while len(pieces) > 1 and not pieces[-1].strip():  # no trailing blanks on a folded line
                pieces.pop()
            if n:
                line.append("\n")
            for k, piece in enumerate(pieces):
                line.append(SEPARATOR if k else "")
                line.append(piece.rstrip() if k == len(pieces) - 1 else piece,
                            style=status_style if kept[k] == STATUS else None)
        return line

    @staticmethod
    def _cells(row: Row) -> tuple[list[str], str]:
        label, style = STYLES[row.state]
        status = _(label) + (f" {row.reason}" if row.reason else "")
        item = row.item
        return [
            str(row.index), item.number, insurer_name(item.insurer), fmt_pl_date(item.issue_date) if item.issue_date else "",
            money(item.premium_gr), item.product or "", item.holder_name or "", status,
        ], style

    def _print_rows(self, rows: list[Row], *, header: bool) -> None:
        if header:
            for i, column in enumerate(self._columns):
                if not self._widths[i] and column.note and column.note not in self._noted:
                    self._noted.add(column.note)  # once, not again over the live table
                    self.note(column.note)
            self.console.print(self._line([column.header for column in self._columns], header=True),
                               overflow="ignore", crop=False)
        for row in rows:
            cells, style = self._cells(row)
            self.console.print(self._line(cells, style), overflow="ignore", crop=False)

    def _footer(self) -> Text:
        """Under the rows printed so far (terminals only): what is being read, and the count."""
        footer = Text(_("Read {done} of {total}.").format(done=len(self._finished), total=self._to_read),
                      style="bold")
        if self._reading:
            footer.append("  ")
            footer.append(_("Reading: {numbers}").format(numbers=", ".join(self._reading.values())), style="blue")
        return footer

    def _flush(self, rows: list[Row] | None = None) -> None:
        """Prints every row (of `rows`, default all) whose outcome is known and that is not printed yet, as
        soon as it is known: one slow policy never holds back the rows that finished after it (the #
        column keeps each row's place in the list)."""
        for row in self._rows if rows is None else rows:
            if id(row) not in self._printed and row.state not in (State.MARKED, State.READING):
                self._print_rows([row], header=False)
                self._printed.add(id(row))

    def select(self, rows: list[Row]) -> None:
        self._stop_listing()
        if not rows:
            self.note(_("The app lists no policy issued in this period."))
            return
        if not self.interactive:
            return
        _new_first(rows)
        self._rows = rows
        self._layout(rows)
        shown = [row for row in rows if row.state is not State.STORED]
        self._print_rows(shown, header=True)
        stored = len(rows) - len(shown)
        if stored:
            self.note(ngettext("{n} policy is already stored and left out; --include-stored reads stored policies "
                               "again.", "{n} policies are already stored and left out; --include-stored reads "
                               "stored policies again.", stored).format(n=stored))
        marked = [row.index for row in rows if row.state is State.MARKED]
        if not marked:
            return
        unmarked = {row.index: _why_not(row) for row in rows if row.state is not State.MARKED}
        # English says "policies" whatever the total; Polish needs the total's plural form.
        self.note(ngettext("{marked} of {total} policies are marked for import.",
                           "{marked} of {total} policies are marked for import.", len(rows)).format(
            marked=len(marked), total=len(rows)))
        while True:
            answer = self._input(_("Rows to import (Enter: all marked; 2,5-7: only these; -2,5-7: all but these; "
                                   "none): "))
            try:
                chosen = parse_choice(answer, marked, len(rows), unmarked)
            except BadInput as exc:
                self.note(exc.message)
                continue
            if chosen:
                self.note(ngettext("Chosen: {n} policy (row {rows}).", "Chosen: {n} policies (rows {rows}).",
                                   len(chosen)).format(n=len(chosen), rows=describe_rows(chosen)))
            else:
                self.note(_("Chosen: no policy; nothing will be read."))
            if self.ask_yes_no(_("Go on with this choice?")):
                break
        for row in rows:
            if row.state is State.MARKED and row.index not in chosen:
                row.state, row.reason = State.EXCLUDED, None

    def import_started(self, rows: list[Row]) -> None:
        self._stop_listing()
        self._rows, self._printed = rows, set()
        self._reading: dict[int, str] = {}
        self._finished: set[int] = set()
        self._to_read = sum(1 for row in rows if row.state is State.MARKED)
        self._layout(rows)
        if rows:
            self._print_rows([], header=True)
        if self.console.is_terminal:
            self._live = Live(self._footer(), console=self.console, auto_refresh=False, transient=True)
            self._live.start()
        self._flush()

    def row_changed(self, row: Row) -> None:
        if row.state is State.READING:
            self._reading[row.index] = row.item.number
        else:
            self._reading.pop(row.index, None)
            if row.state in (State.DONE, State.FAILED):
                self._finished.add(row.index)
        self._flush([row])  # only this row changed: no scan of the whole list per change
        if self._live is not None:
            self._live.update(self._footer(), refresh=True)

    def import_finished(self, summary: Summary) -> None:
        self._flush()
        if self._live is not None:
            self._live.stop()
            self._live = None
        if self._rows:
            self.console.print()
        done = summary.count(State.DONE)
        if summary.retry[:1] == ("refresh",):
            sentence = ngettext("Refreshed {n} policy.", "Refreshed {n} policies.", done)
        else:
            sentence = ngettext("Imported {n} policy.", "Imported {n} policies.", done)
        self.console.print(Text(sentence.format(n=done), style="green"))
        failed = summary.failed
        if failed:
            self.console.print(Text(ngettext("{n} policy failed:", "{n} policies failed:", len(failed)).format(
                n=len(failed)), style="red"))
            for row in failed:
                # Folded under its own indent, so that the next policy's line stands out.
                named = policy_name(row.item.number, row.item.insurer)
                self.console.print(Text(textwrap.fill(f"{named}: {row.reason}", self.console.width - 1,
                                                      initial_indent="  ", subsequent_indent="    ",
                                                      break_on_hyphens=False), style="red"))
                if summary.retry:
                    self.console.print(Text("    " + _("Read it again with: {command}").format(
                        command=retry_command(summary, [row]))), soft_wrap=True)
            if summary.retry[:1] == ("policy",) and len(failed) > 1:
                self.console.print(Text(_("Read all the failed ones again with: {command}").format(
                    command=retry_command(summary, failed))), soft_wrap=True)
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
                    policy=policy_name(row.item.number, row.item.insurer), reason=row.reason), style="yellow"))


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

    def wait_for_switch(self, message: str) -> bool:  # pragma: no cover - never asked
        return False

    def select(self, rows: list[Row]) -> None:
        pass

    def import_started(self, rows: list[Row]) -> None:
        pass

    def row_changed(self, row: Row) -> None:
        pass

    def import_finished(self, summary: Summary) -> None:
        pass

    def print_document(self, summary: Summary | None, problem: Exception | None, exit_code: int) -> None:
        from a21import.text import json_dumps

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
        sys.stdout.write(json_dumps(document, indent=2) + "\n")
