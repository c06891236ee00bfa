"""Tables that fit (issue 12, point 13): every table rendered at 80, 120 and 160 columns on a fixed Console.
No line is longer than the width; policy numbers, dates and amounts ("1 234,56 zł") appear whole on one
line; a cut is marked with "…"; a long name takes at most two lines; lower-priority columns give way first."""

from __future__ import annotations

import dataclasses
import io
from datetime import date, timedelta

import pytest
from rich.console import Console

from a21import import overview_view, views
from a21import.fit import TWO, WHOLE, Column, layout
from a21import.importer import Row, State, Summary
from a21import.model import AppContext, ListedPolicy
from a21import.overview import OpenApp, Overview, TabState, TabStatus
from a21import.queries import CoverageRow, DueRow, InstallmentRow, PolicyDetail, PolicyRow
from a21import.ui import RichUI, money

WIDTHS = (80, 120, 160)
TODAY = date(2026, 11, 28)
LONG_NAME = ("Przedsiębiorstwo Handlowo-Usługowe „Żółty Ślimak” Grzegorz Brzęczyszczykiewicz i Wspólnicy "
             "Spółka Komandytowa")
LONG_PRODUCT = "Mój Dom Plus — mieszkanie z OC w życiu prywatnym i assistance"
LONG_EMAIL = "grzegorz.brzeczyszczykiewicz@przedsiebiorstwo-handlowe.example.pl"
LONG_REASON = ("The app answered with an error: Polisa jest w trakcie aktualizacji przez centralę, spróbuj ponownie "
               "później lub skontaktuj się z opiekunem.")


def policy_row(number: str, insurer: str, name: str, *, premium: int, ends: date, product: str = "Auto Pakiet",
               email: str | None = "anna.nowak@example.pl", registration: str | None = "GD4F218",
               status: str = "Aktywna") -> PolicyRow:
    return PolicyRow(id=f"{insurer}:{number}", number=number, insurer=insurer, source_app="hestia",
                     product_line="motor", product=product, status=status, issue_date=ends - timedelta(days=380),
                     start_date=ends - timedelta(days=364), end_date=ends, premium_gr=premium, currency="PLN",
                     holder_name=name, holder_phone="+48 601 234 567", holder_email=email, registration=registration)


def policy_rows(*, insurers: tuple[str, ...] = ("ERGO_HESTIA", "WARTA", "TUZ")) -> list[PolicyRow]:
    names = ["Łukasz Wójcik", LONG_NAME, "Anna Maria Kowalska-Szczepańska", "Zofia Nowak"]
    products = ["Auto Pakiet OC/AC", LONG_PRODUCT, "OC", "Auto Pakiet"]
    emails = ["lukasz.wojcik@example.pl", LONG_EMAIL, None, "z.nowak@example.pl"]
    return [policy_row(f"90912345678{i}", insurers[i % len(insurers)], names[i], premium=[123456, 12345678, 9900,
                       250000][i], ends=TODAY + timedelta(days=7 * i), product=products[i], email=emails[i])
            for i in range(4)]


def rendered(renderable, width: int) -> str:
    out = io.StringIO()
    Console(file=out, width=width, color_system=None, highlight=False).print(renderable)
    return out.getvalue()


def check_fits(text: str, width: int, whole: list[str]) -> list[str]:
    lines = text.splitlines()
    assert all(len(line) <= width for line in lines), "\n" + "\n".join(line for line in lines if len(line) > width)
    for value in whole:  # on one line, never cut or wrapped
        assert any(value in line for line in lines), f"{value!r} is not whole at {width}:\n{text}"
    return lines


def name_lines(lines: list[str], name: str) -> int:
    """How many lines the cell that starts with `name`'s first word takes (a row's next lines start blank)."""
    start = name.split()[0][:8]
    first = next(n for n, line in enumerate(lines) if start in line)
    column = lines[first].index(start)
    taken = 1
    for line in lines[first + 1:]:
        if not line.strip() or not line.startswith(" "):
            break  # the next row, or the end of the table
        taken += len(line) > column and line[column] != " "
    return taken


# -- the import table -------------------------------------------------------------------------------
def import_rows(insurer: str | None = "ERGO_HESTIA") -> list[Row]:
    specs = [("909123456789", "Auto Pakiet OC/AC Plus", "Łukasz Wójcik", 123456),
             ("909123456790", LONG_PRODUCT, LONG_NAME, 1234567),
             ("909123456791", "OC", "Anna Maria Kowalska-Szczepańska", 9900),
             ("909123456792", "Podróże Plus", "Zofia Nowak", None)]
    return [Row(i + 1, ListedPolicy(number=number, insurer=insurer, product=product, holder_name=name,
                                    issue_date=date(2026, 11, 3 + i), premium_gr=premium), State.MARKED)
            for i, (number, product, name, premium) in enumerate(specs)]


def run_import(width: int, rows: list[Row]) -> str:
    out = io.StringIO()
    ui = RichUI(interactive=False, console=Console(file=out, width=width, color_system=None))
    ui.import_started(rows)
    outcomes = [(State.DONE, None), (State.FAILED, LONG_REASON), (State.DONE, None), (State.SKIPPED, "a travel policy")]
    for row, (state, reason) in zip(rows, outcomes):
        row.state, row.reason = state, reason
        ui.row_changed(row)
    text = out.getvalue()
    ui.import_finished(Summary(rows))
    return text  # the table alone: the summary under it is sentences, wrapped by Rich


@pytest.mark.parametrize("width", WIDTHS)
def test_the_import_table_fits(width):
    text = run_import(width, import_rows())
    lines = check_fits(text, width, ["909123456789", "909123456790", "03.11.2026", "06.11.2026",
                                     "1\u00a0234,56 zł", "12\u00a0345,67 zł", "99,00 zł"])
    assert name_lines(lines, LONG_NAME) <= 2 and "…" in text  # the long name cut, and marked
    reason_words = LONG_REASON.split()
    assert " ".join(" ".join(lines).split()).count(" ".join(reason_words[-4:])) == 1  # the reason folds, whole
    header = lines[0] if "Insurer of every row" not in lines[0] else lines[1]
    if width == 80:  # one insurer for every row: said once above the table, its column gives way first
        assert lines[0] == "Insurer of every row: ERGO Hestia." and "Insurer" not in header
        assert "Product" not in header
    if width == 160:  # room for every column, the product whole
        assert "Insurer" in header and "Product" in header and "Auto Pakiet OC/AC Plus" in text


@pytest.mark.parametrize("width", WIDTHS)
def test_the_import_table_keeps_the_insurer_when_rows_differ(width):
    rows = import_rows()
    rows[1].item = ListedPolicy(number="909123456790", insurer="MTU", product="Auto", holder_name="Jan Kos",
                                issue_date=date(2026, 11, 4), premium_gr=5000)
    text = run_import(width, rows)
    check_fits(text, width, ["909123456790", "50,00 zł"])
    assert "Insurer of every row" not in text and "MTU" in text


@pytest.mark.parametrize("width", WIDTHS)
def test_a_look_up_by_number_keeps_room_for_what_the_detail_brings(width):
    """A look-up lists only the number; the green row shows the stored date, amount and name."""
    rows = [Row(1, ListedPolicy(number="908241586834", insurer=None), State.MARKED)]
    out = io.StringIO()
    ui = RichUI(interactive=False, console=Console(file=out, width=width, color_system=None))
    ui.import_started(rows)
    rows[0].item = ListedPolicy(number="908241586834", insurer="WARTA", product="Warta Dom Komfort",
                                holder_name="Katarzyna Grzybowska-Wiśniewska", issue_date=date(2026, 11, 2),
                                premium_gr=123456789)
    rows[0].state = State.DONE
    ui.row_changed(rows[0])
    lines = check_fits(out.getvalue(), width, ["908241586834", "02.11.2026", "1\u00a0234\u00a0567,89 zł"])
    assert name_lines(lines, "Katarzyna") <= 2


def test_the_selection_list_and_the_footer_fit_at_80():
    rows = import_rows()
    out = io.StringIO()
    ui = RichUI(interactive=False, console=Console(file=out, width=80, color_system=None, force_terminal=True))
    ui.import_started(rows)
    for row in rows:
        row.state = State.READING
        ui.row_changed(row)
    footer = ui._footer()
    footer_lines = rendered(footer, 80).splitlines()
    check_fits("\n".join(footer_lines), 80, [row.item.number for row in rows])


# -- the stored policies ----------------------------------------------------------------------------
@pytest.mark.parametrize("width", WIDTHS)
def test_policies_fit(width):
    rows = policy_rows()
    text = rendered(views.policies_view(rows), width)
    lines = check_fits(text, width, [row.number for row in rows] + [money(row.premium_gr) for row in rows]
                       + [views._day(row.issue_date) for row in rows] + [views._day(row.end_date) for row in rows])
    assert name_lines(lines, LONG_NAME) <= 2 and "Łukasz Wójcik" in text
    assert "Policyholder" in lines[0]
    if width == 80:
        assert "Product" not in lines[0] and "Registration" not in lines[0]
    if width == 160:
        assert all(header in text for header in ("Insurer", "Product", "Registration", "Auto Pakiet OC/AC"))
        assert "…" in text  # the long product or name is cut, and marked


@pytest.mark.parametrize("width", WIDTHS)
def test_renewals_fit(width):
    rows = policy_rows()
    text = rendered(views.renewals_view(rows, days=30, today=TODAY), width)
    lines = check_fits(text, width, [row.number for row in rows] + [money(row.premium_gr) for row in rows]
                       + [views._day(row.end_date) for row in rows] + ["in 21 days"])
    assert name_lines(lines, LONG_NAME) <= 2
    if width >= 120:
        assert "+48 601 234 567" in text  # the phone is back when there is room
    if width == 160:
        assert "lukasz.wojcik@example.pl" in text


@pytest.mark.parametrize("width", WIDTHS)
def test_due_fits(width):
    rows = [DueRow(policy, 2, TODAY + timedelta(days=days), amount, days)
            for policy, days, amount in zip(policy_rows(), (-3, 0, 14, 15), (31111, 250000, 1234567, 100))]
    text = rendered(views.due_view(rows, days=14, today=TODAY), width)
    lines = check_fits(text, width, [row.policy.number for row in rows] + [money(row.amount_gr) for row in rows]
                       + [views._day(row.due_date) for row in rows])
    assert name_lines(lines, LONG_NAME) <= 2
    assert "overdue by" in text and ("overdue by 3 days" in text or width == 80)  # words wrap, never cut


@pytest.mark.parametrize("width", WIDTHS)
def test_one_insurer_for_every_row_is_said_once_instead_of_a_column(width):
    rows = policy_rows(insurers=("ERGO_HESTIA",))
    text = rendered(views.policies_view(rows), width)
    header = text.splitlines()[0]
    if width == 80:
        assert "Insurer" not in header and "Insurer of every row: ERGO Hestia." in text
    assert ("Insurer" in header) != ("Insurer of every row: ERGO Hestia." in text)  # the column or the sentence
    wide = rendered(views.policies_view([dataclasses.replace(row, product="OC") for row in rows]), 160)
    assert "Insurer" in wide.splitlines()[0] and "Insurer of every row" not in wide  # when it fits, the column


@pytest.mark.parametrize("width", WIDTHS)
def test_show_fits(width):
    policy = policy_row("909123456789", "ERGO_HESTIA", LONG_NAME, premium=123456, ends=TODAY)
    detail = PolicyDetail(
        policy=policy, source_system="IHESTIA", imported_at="2026-11-28T10:11:00+00:00",
        holder={"name": LONG_NAME, "pesel": "84031233138", "street": "ul. Długa 5/12", "postal_code": "80-827",
                "city": "Gdańsk", "phone": "+48 601 234 567", "email": LONG_EMAIL},
        insured=None, vehicle={"registration": "GD4F218", "vin": "WVWZZZAUZLP512347", "make": "Volkswagen",
                               "model": "Golf", "production_year": 2019},
        coverages=[CoverageRow("OC", "OC posiadaczy pojazdów mechanicznych z rozszerzeniem na Unię Europejską",
                               5_210_000_00, 80000),
                   CoverageRow("ASSISTANCE_PLUS_EU", "Assistance", None, 43456)],
        installments=[InstallmentRow(1, TODAY - timedelta(days=30), 30000, True),
                      InstallmentRow(2, TODAY - timedelta(days=3), 31111, False)])
    text = rendered(views.details_view([detail], today=TODAY), width)
    check_fits(text, width, ["909123456789", "5\u00a0210\u00a0000,00 zł", "800,00 zł", "434,56 zł", "300,00 zł",
                             "311,11 zł", views._day(TODAY - timedelta(days=3)), "+48 601 234 567"])
    assert "Unię Europejską" in text  # a risk's name folds, never cut


# -- the open apps ----------------------------------------------------------------------------------
@pytest.mark.parametrize("width", WIDTHS)
def test_apps_fit_and_each_command_stays_whole_on_its_line(width):
    entry = OpenApp("hestia", "Ergo Hestia iHestia", "ihestia.ergohestia.pl", "ihestia", "identity",
                    other_sources={"ipegaz": "iPegaz"})
    context = AppContext("hestia", "0412345", "iHestia is logged in as agent 0412345 with the identity MTU, "
                         "Przedsiębiorstwo Handlowo-Usługowe „Żółty Ślimak” Grzegorz Brzęczyszczykiewicz.",
                         identity="MTU", identity_label="MTU Moje Towarzystwo Ubezpieczeń S.A.")
    command = ("a21import period --from 2026-11-01 --to 2026-11-28 --app hestia --source ihestia --identity MTU "
               "--cdp http://127.0.0.1:9333")
    entry.tabs = [TabStatus(TabState.LOGGED_IN, context.description, context, command),
                  TabStatus(TabState.NOT_LOGGED_IN, "The iHestia tab is not logged in.")]
    out = io.StringIO()
    overview_view.show_overview(Overview("http://127.0.0.1:9333", [entry], [("hestia", "Ergo Hestia iHestia")]),
                                console=Console(file=out, width=width, color_system=None, highlight=False))
    lines = out.getvalue().splitlines()
    assert any(line.strip().endswith(command) for line in lines)  # whole, on one line, to copy
    assert all(len(line) <= width for line in lines if command not in line)
    wrapped = [line for line in lines if line and not line.startswith(" ") and "Ergo Hestia" not in line
               and "Supported apps" not in line and "The commands import" not in line]
    assert not wrapped, wrapped  # a wrapped sentence keeps its indent


# -- the layout itself ------------------------------------------------------------------------------
def test_whole_columns_are_never_narrowed_even_when_the_line_is_too_short():
    columns = [Column("Number", WHOLE), Column("Name", TWO, least=12)]
    widths = layout(columns, [["9" * 30, "Anna Nowak"]], 32)
    assert widths[0] == 30 and widths[1] >= 4


def test_an_empty_droppable_column_is_left_out():
    columns = [Column("Number", WHOLE), Column("Phone", WHOLE, drop=4)]
    assert layout(columns, [["123", ""]], 80) == [6, 0]


def test_the_width_given_is_the_views_width():
    assert views.console(100).width == 100
