"""Tables that fit the width they are printed at: readable at 80 columns, using the room when there is more.

Each column says how its text gives way when the line is short. WHOLE values (policy numbers, dates,
amounts, phone numbers) are never cut or wrapped; WORDS wrap only between words (a cover period
`01.01.2026 – 31.12.2026`); TWO take at most two lines, the second ending in "…" when cut (names);
FOLD take as many lines as they need (a reason); CUT stay on one line, ending in "…" when cut.
Columns with a `drop` rank give way first, the highest rank first (0: never dropped)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

WHOLE, WORDS, TWO, FOLD, CUT = "whole", "words", "two", "fold", "cut"
GAP = 2  # blanks between two columns
NARROWEST = 4  # a column squeezed further than this would show nothing useful


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = CUT
    right: bool = False
    drop: int = 0  # 0: always shown; else the higher, the sooner it is dropped when the line is short
    least: int = 8  # the narrowest width worth showing (CUT, TWO, FOLD)
    fair: int = 16  # the width it gets before less important columns grow
    most: int = 40  # the width beyond which the rest of the line goes elsewhere
    expect: int = 0  # the width assumed while no row has a value yet (values read later fill it)
    reserve: int = 0  # WHOLE: the width kept for a value a row may get later (a date, an amount)
    note: str | None = None  # printed instead of the column when it is dropped (one insurer for every row)


def _words(text: str) -> int:
    return max((cell_len(word) for word in text.split()), default=0)


def layout(columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int, *,
           rest: int | None = None) -> list[int]:
    """The width of each column for these rows, 0 for a dropped one. `rest`: the column that takes
    what is left of the line (a status whose reasons come later); otherwise the table is as narrow as
    its content lets it be."""
    count = len(columns)
    natural = [max((cell_len(row[i]) for row in rows), default=0) for i in range(count)]
    least, want = [0] * count, [0] * count
    for i, column in enumerate(columns):
        header = _words(column.header)
        if column.kind == WHOLE:
            least[i] = want[i] = max(natural[i], column.reserve, header)
            continue
        content = natural[i] or column.expect
        want[i] = min(max(content, header, column.fair if i == rest else 0), column.most)
        if i == rest:
            least[i] = column.least
        elif column.kind == WORDS:
            least[i] = max(max((_words(row[i]) for row in rows), default=0), min(column.least, want[i]))
        else:
            least[i] = min(column.least, want[i])
    shown = [i for i, column in enumerate(columns) if not (column.drop and not natural[i] and not column.expect)]

    def rank(i: int) -> tuple[int, int]:  # the most important first
        return columns[i].drop, i

    def growth(i: int) -> tuple[int, bool, int]:  # among equals, names and reasons first: they lose lines
        return columns[i].drop, columns[i].kind not in (TWO, FOLD), i

    def used(widths: list[int]) -> int:
        return sum(widths[i] for i in shown) + GAP * (len(shown) - 1)

    def droppable(than: Iterable[int] | None = None) -> list[int]:
        limit = min((rank(i)[0] for i in than), default=None) if than is not None else -1
        return [i for i in shown if columns[i].drop and (limit is None or columns[i].drop > limit)]

    def drop(candidates: list[int]) -> None:
        shown.remove(max(candidates, key=rank))

    def grow(goal: list[int]) -> None:
        """Widens the columns towards `goal` within the line, the more important ones first."""
        for tier in sorted({columns[i].drop for i in shown}):
            growing = sorted((i for i in shown if columns[i].drop == tier), key=growth)
            while growing:  # one cell each in turn: the room is shared evenly
                growing = [i for i in growing if widths[i] < goal[i]][:width - used(widths)]
                for i in growing:
                    widths[i] += 1

    while used(least) > width and droppable():
        drop(droppable())
    widths: list[int] = []
    while True:
        widths[:] = least
        while used(widths) > width:  # a very narrow line: the flexible columns narrower than worth it
            flexible = [i for i in shown if columns[i].kind not in (WHOLE, WORDS) and widths[i] > NARROWEST]
            if not flexible:
                break  # the line stays longer than the width: numbers, dates and amounts are never cut
            widths[max(flexible, key=lambda i: widths[i])] -= 1
        grow([min(want[i], columns[i].fair) for i in range(count)])
        grow(want)
        cut = [i for i in shown if columns[i].note and widths[i] < want[i]]
        if cut:  # what its note says in full is not worth a cut column
            shown.remove(cut[0])
            continue
        short = [i for i in shown if widths[i] < min(want[i], columns[i].fair)]
        if not short or not droppable(short):
            break
        drop(droppable(short))  # a less important column gives its room to one cut short
    if rest is None:
        grow([max(want[i], natural[i]) for i in range(count)])  # when all of it fits, nothing is cut
    elif rest in shown:
        widths[rest] += max(0, width - used(widths))
    return [widths[i] if i in shown else 0 for i in range(count)]


def cell_lines(console: Console, column: Column, text: Text, width: int) -> list[Text]:
    """The lines `text` takes in a column `width` wide, as the column's kind lets it give way."""
    if column.kind == WHOLE:
        return [text]
    if column.kind == CUT:
        line = text.split()[0] if text.plain else text.copy()  # one line: what follows a line break is cut
        cut = line.copy()
        cut.truncate(width, overflow="ellipsis")
        if cut.plain != text.plain and not cut.plain.endswith("…"):
            cut.truncate(width - 1)
            cut.append("…")
        return [cut]
    if column.kind != TWO:
        return list(text.wrap(console, width, overflow="fold")) or [Text()]
    lines = list(text.wrap(console, width, overflow="ellipsis")) or [Text()]  # a word too long is cut, marked
    if len(lines) > 2:
        second = lines[1]
        second.rstrip()
        if not second.plain.endswith("…"):
            if second.cell_len >= width:
                second.truncate(width - 1)
            second.append("…")
        lines = lines[:2]
    return lines


def header_lines(console: Console, header: str, width: int) -> list[Text]:
    """A header folded at its words; a word longer than the column is cut with "…"."""
    return list(Text(header).wrap(console, width, overflow="ellipsis")) or [Text()]


def plain(value: str | Text | None) -> str:
    return value.plain if isinstance(value, Text) else value or ""


def uniform(values: Iterable[str | None]) -> str | None:
    """The one value every row has, if there is one (and it is not blank)."""
    found = set(values)
    return next(iter(found)) if len(found) == 1 and next(iter(found)) else None


def when_uniform(column: Column, value: str | None, note: str) -> Column:
    """`column`, dropped before all the others and replaced by `note` when every row holds `value`."""
    return dataclasses.replace(column, drop=99, note=note) if value else column


class FittedTable:
    """A Rich table laid out for the width it is printed at (see `layout`); the `note` of each
    dropped column follows it."""

    def __init__(self, columns: Sequence[Column], rows: Sequence[Sequence[str | Text | None]]):
        self.columns = list(columns)
        self.rows = [[value if isinstance(value, Text) else Text(value or "") for value in row] for row in rows]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        widths = layout(self.columns, [[cell.plain for cell in row] for row in self.rows], options.max_width)
        kept = [i for i, width in enumerate(widths) if width]
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True,
                      header_style="bold")
        for i in kept:
            column = self.columns[i]
            table.add_column(Text("\n").join(header_lines(console, column.header, widths[i])), width=widths[i],
                             justify="right" if column.right else "left", no_wrap=True, overflow="crop")
        for row in self.rows:
            table.add_row(*(Text("\n").join(cell_lines(console, self.columns[i], row[i], widths[i])) for i in kept))
        yield table
        for i, column in enumerate(self.columns):
            if not widths[i] and column.note:
                yield Text(column.note, style="dim")
