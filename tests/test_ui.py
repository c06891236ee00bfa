"""The import's table: each row printed once, as soon as its outcome is known, with its place in the list."""

from __future__ import annotations

import io
from datetime import date

from rich.console import Console

from a21import.importer import Row, State, Summary
from a21import.model import ListedPolicy
from a21import.ui import RichUI


def _rows(n: int) -> list[Row]:
    return [Row(i, ListedPolicy(number=f"KOS{i:07d}", insurer="TUZ", product="OC", holder_name=f"[bold red]Klient {i}[/]",
                                issue_date=date(2026, 11, 3), premium_gr=12345 * i), State.MARKED) for i in range(1, n + 1)]


def _ui(*, terminal: bool) -> tuple[RichUI, io.StringIO]:
    out = io.StringIO()
    return RichUI(interactive=False, console=Console(file=out, width=160, force_terminal=terminal,
                                                     color_system=None)), out


def test_each_row_is_printed_as_soon_as_it_finishes_without_waiting_for_a_slower_one():
    ui, out = _ui(terminal=False)
    rows = _rows(4)
    rows[2].state = State.STORED
    ui.import_started(rows)
    finish_order = [(rows[1], State.DONE), (rows[3], State.FAILED), (rows[0], State.DONE)]
    for row, state in finish_order:
        row.state = State.READING
        ui.row_changed(row)
        row.state = state
        if state is State.FAILED:
            row.reason = "Odpowiedź aplikacji [link=http://x]nieczytelna[/link]."
        ui.row_changed(row)
        if row is rows[1]:
            assert "KOS0000002" in out.getvalue()  # row 1 is still being read: row 2 does not wait for it
            assert "KOS0000001" not in out.getvalue()
    ui.import_finished(Summary(rows))
    text = out.getvalue()
    positions = [text.index(f"KOS000000{i}") for i in (3, 2, 4, 1)]  # stored at once, then as they finished
    assert positions == sorted(positions)
    assert text[text.index("KOS0000001") - 3:text.index("KOS0000001")].strip() == "1"  # # keeps the list's place
    assert all(text.count(f"KOS000000{i}  ") == 1 for i in range(1, 5))  # each row once in the table
    assert "[bold red]Klient 4[/]" in text and "[link=http://x]nieczytelna[/link]" in text
    assert "123,45 zł" in text and "493,80 zł" in text
    assert "Imported 2 policies." in text and "1 policy failed:" in text
    assert "Policies already in the database, left out: 1." in text


def test_a_terminal_shows_what_is_being_read_under_the_rows():
    ui, out = _ui(terminal=True)
    rows = _rows(3)
    ui.import_started(rows)
    rows[0].state = State.READING
    rows[1].state = State.READING
    ui.row_changed(rows[0])
    ui.row_changed(rows[1])
    assert "Read 0 of 3." in out.getvalue() and "Reading: KOS0000001, KOS0000002" in out.getvalue()
    rows[1].state = State.DONE
    ui.row_changed(rows[1])
    assert "Read 1 of 3." in out.getvalue()
    for row in rows:
        row.state = State.DONE
        ui.row_changed(row)
    ui.import_finished(Summary(rows))
    assert "Imported 3 policies." in out.getvalue()
