"""The live import table as plain text, for the README: `python scripts/table_capture.py [WIDTH] [LANG]`
(default 100 columns, English). Realistic rows: Polish names, a red row with its reason, a row left out."""

from __future__ import annotations

import io
import sys
from datetime import date

from rich.console import Console

from a21import import i18n

i18n.setup(sys.argv[2] if len(sys.argv) > 2 else "en")

from a21import.importer import Row, State, Summary  # noqa: E402  (after the language is set)
from a21import.model import ListedPolicy  # noqa: E402
from a21import.ui import RichUI  # noqa: E402

ROWS = [
    ("909123456789", "Auto Pakiet OC/AC", "Łukasz Wójcik", date(2026, 11, 3), 123456, State.DONE, None),
    ("909123456790", "Mój Dom Plus", "Przedsiębiorstwo Handlowo-Usługowe „Żółty Ślimak” Grzegorz Brzęczyszczykiewicz",
     date(2026, 11, 4), 1234567, State.FAILED,
     "The app answered with an error: Polisa w trakcie aktualizacji, spróbuj ponownie później."),
    ("909123456791", "OC Komunikacyjne", "Anna Maria Kowalska-Szczepańska", date(2026, 11, 5), 99000, State.DONE, None),
    ("909123456792", "Podróże Plus", "Zofia Nowak", date(2026, 11, 6), 8900, State.SKIPPED, "a travel policy"),
    ("909123456793", "Auto Pakiet OC", "Grzegorz Zieliński", date(2026, 11, 9), 87650, State.DONE, None),
]


def capture(width: int) -> str:
    rows = [Row(n, ListedPolicy(number=number, insurer="ERGO_HESTIA", product=product, holder_name=name,
                                issue_date=issued, premium_gr=premium), State.MARKED)
            for n, (number, product, name, issued, premium, _state, _reason) in enumerate(ROWS, 1)]
    out = io.StringIO()
    ui = RichUI(interactive=False, console=Console(file=out, width=width, color_system=None))
    ui.import_started(rows)
    for row, (*_values, state, reason) in zip(rows, ROWS):
        row.state, row.reason = state, reason
        ui.row_changed(row)
    ui.import_finished(Summary(rows, retry=("policy", "--app", "hestia")))
    return "\n".join(line.rstrip() for line in out.getvalue().replace("\u00a0", " ").splitlines())


if __name__ == "__main__":
    print(capture(int(sys.argv[1]) if len(sys.argv) > 1 else 100))
