"""Reading the HTML blocks the portal files name, with the freedoms docs/portals/README.md gives an app
("What an app may change without notice"): tables with header labels are read by those labels (any
order, extra columns ignored), label/value pairs are found by label wherever their wrappers put them,
and nothing depends on optional end tags or the source text (only on the parsed tree).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from selectolax.lexbor import LexborNode as Node

from a21import.errors import PageChanged, ParseError
from a21import.i18n import _
from a21import.insurers.fields import App, Reader

MAX_SPAN = 1000  # the HTML standard's cap on colspan


class MissingColumn(PageChanged):
    """A table lacks a column its portal file names: the page cannot be read."""


def label_text(node: Node | None) -> str:
    """A header or label as the user reads it: entities decoded, runs of whitespace as one space."""
    return "" if node is None else " ".join(node.text(deep=True).split())


def _children(node: Node, *tags: str) -> list[Node]:
    return [child for child in node.iter() if child.tag in tags]


def _own_rows(table: Node) -> list[tuple[str, Node]]:
    """(section, row) of the table itself, never of a table nested in one of its cells."""
    rows = []
    for child in table.iter():
        if child.tag in ("thead", "tbody", "tfoot"):
            rows.extend((child.tag, tr) for tr in _children(child, "tr"))
        elif child.tag == "tr":
            rows.append(("tbody", child))
    return rows


def _span(cell: Node) -> int:
    text = (cell.attributes.get("colspan") or "1").strip()
    return min(max(int(text), 1), MAX_SPAN) if text.isdigit() else 1


def cells(row: Node) -> list[Node]:
    """The row's own cells by column position (a cell spanning n columns stands in each of them)."""
    return [cell for cell in _children(row, "td", "th") for _ in range(_span(cell))]


class Table:
    """A table whose columns are found by their header labels (`thead`, else its first row of `th`).

    `app` is the app's title and `what` (translated) names the table in messages: "the policy list"."""

    def __init__(self, table: Node, columns: Iterable[str], *, app: str, what: str):
        self.app, self.what = app, what
        rows = _own_rows(table)
        header = next((tr for section, tr in rows if section == "thead"), None)
        if header is None:
            header = next((tr for _section, tr in rows if _children(tr, "th") and not _children(tr, "td")), None)
        self.headers = [label_text(cell) for cell in cells(header)] if header is not None else []
        self.index: dict[str, int] = {}
        for column in columns:
            if column not in self.headers:
                raise MissingColumn(_("{app} sent {what} without the column {column!r}, so it cannot be read.").format(
                    app=app, what=what, column=column), app=app, block=what, missing=column)
            if self.headers.count(column) > 1:
                raise ParseError(_("{app} sent {what} with the column {column!r} twice, so it cannot be read.").format(
                    app=app, what=what, column=column))
            self.index[column] = self.headers.index(column)
        self.rows = [tr for section, tr in rows if section == "tbody" and tr is not header]

    def values(self, row: Node) -> dict[str, Node]:
        """One body row as {column label: cell}. A row with more or fewer cells than the header has columns
        cannot be matched to them (a value would land in the wrong field), so it is a ParseError."""
        found = cells(row)
        if len(found) != len(self.headers):
            raise ParseError(_(
                "{app} sent {what} with a row of {cells} cells under {columns} column headers, so it cannot be read."
            ).format(app=self.app, what=self.what, cells=len(found), columns=len(self.headers)))
        return {column: found[i] for column, i in self.index.items()}


def table_rows(table: Node, columns: Iterable[str], *, app: str, what: str) -> list[dict[str, Node]]:
    """Every body row of `table` as {column label: cell}, for the named `columns` (see Table)."""
    reader = Table(table, columns, app=app, what=what)
    return [reader.values(row) for row in reader.rows]


def row_readers(app: App, table: Node, columns: Iterable[str], *, what: str, block: str,
                text: Callable[[Node], str | None]) -> Iterator[Reader]:
    """Every body row of `table` (see Table) as a Reader of {column label: `text(cell)`}, so its values are
    read like an answer's keys. `what` (translated) names the table, `block` (untranslated N_) each row,
    with its {position} from 1: N_("risk {position}")."""
    for position, row in enumerate(table_rows(table, columns, app=app.name, what=what), start=1):
        yield app.read(_(block).format(position=position), {column: text(cell) for column, cell in row.items()})


def dl_values(dl: Node, text: Callable[[Node], str]) -> dict[str, str | None]:
    """`dt`/`dd` pairs anywhere inside `dl` (also inside `<div>` wrappers), in document order, as
    {label: `text(dd)` or None when empty}. The first value of a label counts."""
    values: dict[str, str | None] = {}
    label = None
    for node in dl.css("dt, dd"):
        if node.tag == "dt":
            label = label_text(node)
        elif label is not None:
            values.setdefault(label, text(node) or None)
            label = None
    return values


def row_values(block: Node, text: Callable[[Node], str | None]) -> dict[str, str | None]:
    """`<tr><th>label</th><td>value</td></tr>` rows anywhere inside `block` (also in nested sections),
    as {label: `text(td)`}. The first value of a label counts."""
    values: dict[str, str | None] = {}
    for row in block.css("tr"):
        label, value = _children(row, "th"), _children(row, "td")
        if label and value:
            values.setdefault(label_text(label[0]), text(value[0]))
    return values
