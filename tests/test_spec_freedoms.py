"""What an app may change without notice (docs/portals/README.md): every adapter reads saved pages and
answers changed that way (derived here from tests/data) exactly as it reads them unchanged."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from selectolax.lexbor import LexborHTMLParser

from a21import.errors import ParseError
from a21import.insurers import generali, hestia, hiperio, insly, proama, skaner2, tuz, unimarket, warta
from a21import.insurers.html import MissingColumn, dl_values, label_text, row_values, table_rows
from tests.conftest import DATA

# The optional end tags README names, and those of the other elements the portal files show.
OPTIONAL_END_TAGS = ("</td>", "</th>", "</tr>", "</thead>", "</tbody>", "</li>", "</dt>", "</dd>", "</body>", "</html>")


def saved(app: str, name: str) -> str:
    return (DATA / app / name).read_text(encoding="utf-8")


def load(app: str, name: str) -> Any:
    return json.loads(saved(app, name))


def shuffled(html: str, selector: str, order: tuple[int, ...], extra: str | None = "Agent") -> str:
    """`html` with the columns of every `selector` table in `order` (old positions) and, when `extra` is
    given, a column of that header put first (cells `x`), re-serialised by the HTML parser."""
    tree = LexborHTMLParser(html)
    tables = tree.css(selector)
    assert tables, selector
    for table in tables:
        for tr in table.css("tr"):
            cells = [c for c in tr.iter() if c.tag in ("td", "th")]
            assert len(cells) == len(order), tr.html
            head = cells[0].tag == "th"
            added = "" if extra is None else (f"<th>{extra}</th>" if head else "<td>x</td>")
            tr.inner_html = added + "".join(cells[i].html for i in order)
    return tree.html


def without_column(html: str, selector: str, label: str) -> str:
    """`html` with the column headed `label` of the `selector` table(s) removed, cells and all."""
    tree = LexborHTMLParser(html)
    for table in tree.css(selector):
        headers = [label_text(th) for th in table.css("thead th")]
        position = headers.index(label)
        for tr in table.css("tr"):
            [c for c in tr.iter() if c.tag in ("td", "th")][position].decompose()
    return tree.html


def without_optional_end_tags(html: str) -> str:
    for tag in OPTIONAL_END_TAGS:
        html = html.replace(tag, "").replace(tag.upper(), "")
    assert "</html>" not in html.lower()
    return html


def with_unknown_keys(value: Any) -> Any:
    """`value` with a key no portal file names added to every JSON object in it, at every depth."""
    if isinstance(value, dict):
        return {"nowePoleWydania": {"wersja": 2, "lista": [1]}, **{k: with_unknown_keys(v) for k, v in value.items()},
                "zzDodatkowe": None}
    if isinstance(value, list):
        return [with_unknown_keys(v) for v in value]
    return value


def without_refs(items):
    return [replace(item, ref=None) for item in items]


# -- the shared readers ---------------------------------------------------------------------------
def test_table_by_headers_ignores_nested_tables_and_needs_each_row_whole():
    tree = LexborHTMLParser(
        "<table id=t><tr><th>B<th>Extra<th>A<tr><td>2<td><table><tr><th>A<tr><td>nested</table><td>1</table>")
    rows = table_rows(tree.css_first("#t"), ("A", "B"), app="App", what="a table")
    assert [{k: v.text(deep=False) for k, v in row.items()} for row in rows] == [{"A": "1", "B": "2"}]
    with pytest.raises(MissingColumn, match="App sent a table without the column 'C'"):
        table_rows(tree.css_first("#t"), ("A", "C"), app="App", what="a table")
    short = LexborHTMLParser("<table id=t><tr><th>A<th>B<tr><td>1</table>")
    with pytest.raises(ParseError, match="a row of 1 cells under 2 column headers"):
        table_rows(short.css_first("#t"), ("A", "B"), app="App", what="a table")


def test_label_blocks_wherever_the_pairs_sit():
    dl = LexborHTMLParser("<dl><div><dt>A<dd>1</div><section><div><dt> B </dt></div><dd>2</dd></section><dt>C<dd></dl>")
    assert dl_values(dl.css_first("dl"), label_text) == {"A": "1", "B": "2", "C": None}
    table = LexborHTMLParser("<table><tbody class=s><tr><th>A<td>1</tbody><tbody><tr><th>B<td>2</table>")
    assert row_values(table.css_first("table"), lambda n: n.text()) == {"A": "1", "B": "2"}


# -- Hestia ---------------------------------------------------------------------------------------
def test_hestia_list_in_any_column_order_with_an_extra_column():
    page = saved("hestia", "search_page1.html")
    changed = shuffled(page, "table#wyniki", (6, 5, 4, 3, 2, 1, 0))
    assert hestia.parse_search_page(changed, "ERGO_HESTIA") == hestia.parse_search_page(page, "ERGO_HESTIA")


def test_hestia_list_without_a_named_column_stops_naming_it():
    page = without_column(saved("hestia", "search_page1.html"), "table#wyniki", "Status")
    with pytest.raises(MissingColumn, match="Ergo Hestia iHestia sent its result table without the column 'Status'"):
        hestia.parse_search_page(page, "ERGO_HESTIA")


def test_hestia_policy_page_with_every_freedom():
    page = saved("hestia", "policy_person_motor.html")
    # Label rows in sections of their own, with a label the file does not name, and no optional end tags.
    changed = page.replace('id="danePolisy">', 'id="danePolisy"><tbody class="sekcja"><tr><th>Uwagi</th>'
                           '<td>brak</td></tr></tbody><tbody class="sekcja">')
    assert 'class="sekcja"' in changed
    changed = without_optional_end_tags(shuffled(changed, "table#ryzyka", (1, 3, 0, 2)))
    number = "909123456789"
    assert hestia.parse_policy_page(changed, number, "ERGO_HESTIA") == hestia.parse_policy_page(page, number, "ERGO_HESTIA")


def test_hestia_installments_by_header():
    page = saved("hestia", "installments.html")
    changed = without_optional_end_tags(shuffled(page, "table#raty", (3, 2, 1, 0)))
    assert hestia.parse_installments_page(changed, "909123456789") == hestia.parse_installments_page(page, "909123456789")


@pytest.mark.parametrize("selector, label", [("table#ryzyka", "Suma ubezpieczenia"), ("table#raty", "Zapłacono")])
def test_hestia_policy_without_a_named_column_is_red(selector, label):
    if selector == "table#raty":
        page = without_column(saved("hestia", "installments.html"), selector, label)
        call = lambda: hestia.parse_installments_page(page, "909123456789")  # noqa: E731
    else:
        page = without_column(saved("hestia", "policy_person_motor.html"), selector, label)
        call = lambda: hestia.parse_policy_page(page, "909123456789", "ERGO_HESTIA")  # noqa: E731
    with pytest.raises(MissingColumn, match=f"Ergo Hestia iHestia sent .* without the column '{label}'"):
        call()


# -- TUZ ------------------------------------------------------------------------------------------
def test_tuz_list_in_any_column_order_with_an_extra_column():
    page = saved("tuz", "list_spec.html")
    changed = without_optional_end_tags(shuffled(page, "table#contracts", (1, 6, 0, 3, 5, 2, 4)))
    assert without_refs(tuz.parse_list_page(changed)[0]) == without_refs(tuz.parse_list_page(page)[0])
    assert [i.ref for i in tuz.parse_list_page(changed)[0]] == [i.ref for i in tuz.parse_list_page(page)[0]]


def test_tuz_list_without_a_named_column_stops_naming_it():
    page = without_column(saved("tuz", "list_spec.html"), "table#contracts", "Numer")
    with pytest.raises(MissingColumn, match="TUZ SOBOL sent its contracts list without the column 'Numer'"):
        tuz.parse_list_page(page)


def test_tuz_policy_page_with_every_freedom():
    page = saved("tuz", "detail_kos_person.html")
    changed = shuffled(page, "table.risks", (3, 2, 1, 0))
    changed = shuffled(changed, "table.installments", (2, 0, 3, 1), extra="Forma płatności")
    # Fields in wrappers, with a field the file does not name.
    changed = changed.replace('<div class="field"><label>Produkt', '<div class="grupa"><div class="field">'
                              '<label>Kanał</label><span>agent</span></div><div class="field"><label>Produkt', 1)
    changed = changed.replace("<label>Status</label><span>Aktywna</span></div>",
                              "<label>Status</label><span>Aktywna</span></div></div>")
    assert changed.count('class="grupa"') == 1 and "Aktywna</span></div></div>" in changed
    changed = without_optional_end_tags(changed)
    assert tuz.parse_policy(changed) == tuz.parse_policy(page)


def test_tuz_policy_page_cut_short_is_red_by_its_panels():
    page = saved("tuz", "detail_kos_person.html")
    cut = page[: page.index('<div id="tabs-4"')]
    with pytest.raises(ParseError, match="no panel 'Raty'"):
        tuz.parse_policy(cut)


@pytest.mark.parametrize("selector, label", [("table.risks", "Ryzyko"), ("table.installments", "Kwota")])
def test_tuz_policy_without_a_named_column_is_red(selector, label):
    page = without_column(saved("tuz", "detail_kos_person.html"), selector, label)
    with pytest.raises(MissingColumn, match=f"TUZ SOBOL sent its .* table without the column '{label}'"):
        tuz.parse_policy(page)


# -- Warta ePlatforma (Życie) ---------------------------------------------------------------------
def test_warta_zycie_list_in_any_column_order_with_an_extra_column():
    page = saved("warta", "zycie_list_page1.html")
    changed = without_optional_end_tags(shuffled(page, "table#listaPolis", (4, 0, 6, 1, 5, 3, 2)))
    assert warta.parse_zycie_list(changed) == warta.parse_zycie_list(page)


def test_warta_zycie_list_without_a_named_column_stops_naming_it():
    page = without_column(saved("warta", "zycie_list_page1.html"), "table#listaPolis", "Ubezpieczony")
    with pytest.raises(MissingColumn, match="Warta ePlatforma sent a policy list without the column 'Ubezpieczony'"):
        warta.parse_zycie_list(page)


def test_warta_zycie_policy_with_wrapped_pairs_and_shuffled_tables():
    detail, installments = saved("warta", "zycie_policy_person.html"), saved("warta", "zycie_installments_monthly.html")
    expected = warta.parse_zycie_policy(detail, installments)
    # Each dt/dd pair in a <div> (as HTML allows inside dl), and a pair the file does not name.
    changed = detail.replace("<dt>", "<div><dt>").replace("</dd>", "</dd></div>")
    changed = changed.replace('<dl id="polisa">', '<dl id="polisa"><div><dt>Kanał</dt><dd>agent</dd></div>')
    changed = without_optional_end_tags(shuffled(changed, "table#ryzyka", (2, 0, 3, 1)))
    other = without_optional_end_tags(shuffled(installments, "table#raty", (3, 1, 2, 0)))
    assert warta.parse_zycie_policy(changed, other) == expected
    assert warta.parse_zycie_number(changed) == expected.number


def test_warta_zycie_policy_without_a_named_column_is_red():
    installments = without_column(saved("warta", "zycie_installments_monthly.html"), "table#raty", "Termin")
    with pytest.raises(MissingColumn, match="Warta ePlatforma sent .* without the column 'Termin'"):
        warta.parse_zycie_installments(installments)


# -- JSON: unknown keys anywhere are ignored -------------------------------------------------------
def test_generali_ignores_unknown_keys():
    for name in ("detail_person_motor.json", "detail_company_home.json"):
        assert generali.parse_policy(with_unknown_keys(load("generali", name))) == generali.parse_policy(
            load("generali", name))
    page = load("generali", "list_page0.json")
    changed, total = generali.parse_list_page(with_unknown_keys(page))
    assert (without_refs(changed), total) == (lambda r: (without_refs(r[0]), r[1]))(generali.parse_list_page(page))


def test_hiperio_ignores_unknown_keys():
    for name in ("policy_person.json", "policy_company.json"):
        text = saved("hiperio", name)
        assert hiperio.parse_policy(hiperio.parse_single(json.dumps(with_unknown_keys(json.loads(text))))) == \
            hiperio.parse_policy(hiperio.parse_single(text))
    text = saved("hiperio", "list_mixed.json")
    items, truncated = hiperio.parse_list(json.dumps(with_unknown_keys(json.loads(text))))
    expected, expected_truncated = hiperio.parse_list(text)
    assert (without_refs(items), truncated) == (without_refs(expected), expected_truncated)
    assert [hiperio.parse_policy(i.ref) for i in items if i.error is None] == [
        hiperio.parse_policy(i.ref) for i in expected if i.error is None]


def test_insly_ignores_unknown_keys():
    for name in ("detail_spec_person.json", "detail_spec_company.json"):
        text = saved("insly", name)
        assert insly.parse_policy(json.dumps(with_unknown_keys(json.loads(text)))) == insly.parse_policy(text)
    text = saved("insly", "list_mixed.json")
    items, pages = insly.parse_list_page(json.dumps(with_unknown_keys(json.loads(text))))
    expected, expected_pages = insly.parse_list_page(text)
    assert (without_refs(items), pages) == (without_refs(expected), expected_pages)


def test_proama_ignores_unknown_keys():
    detail, schedule = load("proama", "detail_person.json"), load("proama", "harmonogram_person.json")
    assert proama.parse_policy("5600123456", with_unknown_keys(detail), with_unknown_keys(schedule)) == \
        proama.parse_policy("5600123456", detail, schedule)
    page = load("proama", "list_first_page.json")
    items, cursor = proama.parse_list_page(with_unknown_keys(page))
    expected, expected_cursor = proama.parse_list_page(page)
    assert (without_refs(items), cursor) == (without_refs(expected), expected_cursor)


def test_skaner2_ignores_unknown_keys():
    state = skaner2.page_state(saved("skaner2", "detail_person_motor.html"))
    assert skaner2.parse_policy_state(with_unknown_keys(state), "ARRANT", number="PL/2026/0012345") == \
        skaner2.parse_policy_state(state, "ARRANT", number="PL/2026/0012345")
    listing = skaner2.page_state(saved("skaner2", "list_spec.html"))
    changed, expected = skaner2.parse_list_state(with_unknown_keys(listing)), skaner2.parse_list_state(listing)
    assert without_refs(changed.items) == without_refs(expected.items)
    assert replace(changed, items=[]) == replace(expected, items=[])


def test_unimarket_ignores_unknown_keys():
    answer, number = load("unimarket", "policy_person_motor.json"), "1032/2026/000451"
    changed = unimarket.parse_policy(unimarket.parse_policy_answer(with_unknown_keys(answer), number), number)
    assert changed == unimarket.parse_policy(unimarket.parse_policy_answer(answer, number), number)
    page = load("unimarket", "policies_page1.json")
    items, cursor = unimarket.parse_policies_page(with_unknown_keys(page))
    expected, expected_cursor = unimarket.parse_policies_page(page)
    assert (without_refs(items), cursor) == (without_refs(expected), expected_cursor)


def test_warta_majatek_ignores_unknown_keys():
    detail, installments = load("warta", "majatek_detail_person_motor.json"), load("warta", "majatek_installments.json")
    assert warta.parse_majatek_policy(with_unknown_keys(detail), with_unknown_keys(installments)) == \
        warta.parse_majatek_policy(detail, installments)
    page = load("warta", "majatek_list_page1.json")
    items, total = warta.parse_majatek_list(with_unknown_keys(page))
    expected, expected_total = warta.parse_majatek_list(page)
    assert (without_refs(items), total) == (without_refs(expected), expected_total)
    config = {"agentOuid": "A00005152001", "agentName": "Jan", "build": {"wersja": 7}}
    assert warta.parse_app_config(config) == ("A00005152001", "Jan")
