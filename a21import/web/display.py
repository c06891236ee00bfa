"""How values look on the page: amounts in zł, dates dd.mm.rrrr, labels instead of codes, and the
import's rows as JSON documents for the page's script (which shows them as text, never as HTML)."""

from __future__ import annotations

from datetime import date

from a21import import insurers
from a21import.formats import fmt_pl_date, money
from a21import.i18n import _
from a21import.importer import Row
from a21import.model import insurer_name
from a21import.statuses import label as status_label
from a21import.ui import STYLES


def pl_date(value: date | str | None) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    return fmt_pl_date(value)


def state_label(state) -> str:
    return _(STYLES[state][0])


def row_document(row: Row) -> dict:
    item = row.item
    return {
        "index": row.index, "key": item.key, "number": item.number, "insurer": insurer_name(item.insurer),
        "product": item.product or "", "holder": item.holder_name or "",
        "issued": pl_date(item.issue_date), "issued_iso": item.issue_date.isoformat() if item.issue_date else "",
        "premium": money(item.premium_gr), "premium_gr": item.premium_gr,
        "state": row.state.value, "state_label": state_label(row.state), "reason": row.reason or "",
    }


FILTERS = {"money": money, "pl_date": pl_date, "insurer": insurer_name, "app_title": insurers.title,
           "status": status_label}
