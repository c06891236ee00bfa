"""Listing shows progress (issue 12, point 9): which window of the period and which page is read, on
terminals only; nothing in piped output."""

from __future__ import annotations

import io
from datetime import date

from a21import.console import SafeConsole
from a21import.insurers.base import PageGuard
from a21import.ui import RichUI


def test_the_page_guard_tells_each_next_page():
    pages: list[int] = []
    guard = PageGuard("Ergo Hestia iHestia", pages.append)
    guard.more(["a"])
    guard.more(["b"])
    assert pages == [2, 3]


def test_a_terminal_shows_the_window_and_page_being_read_and_piped_output_does_not():
    out = io.StringIO()
    ui = RichUI(interactive=False, console=SafeConsole(file=out, width=120, force_terminal=True, color_system=None))
    ui.listing(2, 6, date(2026, 9, 17), date(2026, 10, 2), 3, 41)
    assert "Reading the list: period 2 of 6 (17.09.2026–02.10.2026), page 3; 41 policies so far." in out.getvalue()
    ui.import_started([])  # the line goes away before the table
    piped = io.StringIO()
    ui = RichUI(interactive=False, console=SafeConsole(file=piped, width=120))
    ui.listing(1, 1, date(2026, 11, 1), date(2026, 11, 16), 1, 0)
    assert piped.getvalue() == ""
