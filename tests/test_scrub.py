"""The scrubber of capture bundles (a21import/scrub.py): what it finds, how it replaces, what it keeps."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import quote, quote_plus

from stdnum import iban
from stdnum.pl import nip, pesel, regon

from a21import.scrub import Scrubber

PERSON_PAGE = """<table id="ubezpieczajacy">
<tr><th>Rodzaj</th><td>Osoba fizyczna</td></tr><tr><th>Imię i nazwisko</th><td>Jan Ko&#322;odziej</td></tr>
<tr><th>PESEL</th><td>44051401359</td></tr><tr><th>Data urodzenia</th><td>14.05.1944</td></tr>
<tr><th>Adres</th><td>ul. D&lstrok;uga 5/12, 80-827 Gdańsk</td></tr><tr><th>Telefon</th><td>601 234 567</td></tr>
<tr><th>E-mail</th><td>jan.kolodziej@wp.pl</td></tr><tr><th>Numer rachunku</th>
<td>PL61 1090 1014 0000 0712 1981 2874</td></tr></table>
<table id="pojazd"><tr><th>Numer rejestracyjny</th><td>GD 4F218</td></tr><tr><th>VIN</th><td>WVWZZZ1KZ8W123456</td></tr>
<tr><th>Marka</th><td>Volkswagen</td></tr></table>
<table id="danePolisy"><tr><th>Numer polisy</th><td>909123456789</td></tr><tr><th>Składka</th><td>1&nbsp;234,56 zł</td></tr>
</table>"""
COMPANY_JSON = json.dumps({
    "policyNumber": "5600123456", "premium": 1234.56,
    "holder": {"name": "Kowalski & Syn \"Łąka\" s.c.", "nip": "526-104-08-28", "regon": "012100784",
               "address": {"street": "ul. Lipowa 7", "postalCode": "00-950", "city": "Wałbrzych"},
               "phone": "+48 22 123 45 67", "email": "biuro@lakasyn.pl"},
    "insured": {"firstName": "Zofia", "lastName": "Wiśniewska", "birthDate": "1981-03-07", "pesel": "81030712345"},
}, ensure_ascii=True)


def scrubbed(*texts: str, keep=()) -> tuple[Scrubber, list[str]]:
    scrubber = Scrubber(keep=keep, seed=1)
    for text in texts:
        scrubber.find(text)
    return scrubber, [scrubber.scrub(text) for text in texts]


def test_a_persons_data_is_replaced_in_html_whatever_the_entities():
    scrubber, (page,) = scrubbed(PERSON_PAGE, keep=("909123456789",))
    for value in ("Kołodziej", "Ko&#322;odziej", "44051401359", "14.05.1944", "Długa", "D&lstrok;uga", "80-827",
                  "Gdańsk", "601 234 567", "jan.kolodziej@wp.pl", "PL61 1090", "GD 4F218", "WVWZZZ1KZ8W123456"):
        assert value not in page, value
    # What the parse needs keeps its shape: labels, the policy number, amounts, the make.
    assert "909123456789" in page and "1&nbsp;234,56 zł" in page and "Volkswagen" in page
    fake_pesel = re.search(r"<th>PESEL</th><td>(\d+)</td>", page).group(1)
    assert len(fake_pesel) == 11 and pesel.is_valid(fake_pesel)
    fake_account = re.search(r"<th>Numer rachunku</th>\s*<td>([^<]+)</td>", page).group(1)
    assert re.fullmatch(r"PL\d\d( \d{4}){6}", fake_account) and iban.is_valid(fake_account)
    assert re.search(r"<th>Adres</th><td>ul\. \w+ \d/\d\d, \d\d-\d\d\d \w+</td>", page)
    assert re.search(r"<th>Telefon</th><td>\d{3} \d{3} \d{3}</td>", page)
    assert re.search(r"<th>Data urodzenia</th><td>\d\d\.\d\d\.\d{4}</td>", page)


def test_a_companys_data_is_replaced_in_json_with_u_escapes_and_checksums_kept():
    scrubber, (text,) = scrubbed(COMPANY_JSON, keep=("5600123456",))
    data = json.loads(text)  # still JSON
    holder, insured = data["holder"], data["insured"]
    assert data["policyNumber"] == "5600123456" and data["premium"] == 1234.56
    assert "Kowalski" not in holder["name"] and "Łąka" not in text and "\\u0141\\u0105ka" not in text
    assert re.fullmatch(r"\d{3}-\d{3}-\d\d-\d\d", holder["nip"]) and nip.is_valid(holder["nip"])
    assert holder["nip"] != "526-104-08-28"
    assert len(holder["regon"]) == 9 and regon.is_valid(holder["regon"]) and holder["regon"] != "012100784"
    assert holder["address"]["street"] != "ul. Lipowa 7" and holder["address"]["street"].startswith("ul. ")
    assert holder["address"]["city"] != "Wałbrzych" and holder["address"]["postalCode"] != "00-950"
    assert holder["phone"].startswith("+48 ") and holder["phone"] != "+48 22 123 45 67"
    assert holder["email"].endswith("@example.com")
    assert (insured["firstName"], insured["lastName"]) != ("Zofia", "Wiśniewska")
    assert "Wi\\u015bniewska" not in text and insured["birthDate"] != "1981-03-07"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", insured["birthDate"])


def test_the_same_value_gets_the_same_fake_everywhere_in_every_encoding():
    name, number = "Zofia Wiśniewska", "44051401359"
    texts = [
        f"<td>{html.escape(name)}</td><td>{number}</td>",
        json.dumps({"fullName": name, "pesel": number}),
        f"/szukaj?klient={quote_plus(name)}&pesel={number}",
        f"/szukaj/{quote(name)}",
        f"<p>{name.upper()}</p>",
    ]
    scrubber = Scrubber(seed=3)
    scrubber.add(name, "person")
    for text in texts:
        scrubber.find(text)
    out = [scrubber.scrub(text) for text in texts]
    joined = "\n".join(out)
    for form in (name, quote_plus(name), quote(name), name.upper(), "Wi\\u015bniewska", number):
        assert form not in joined, form
    fake_name = json.loads(out[1])["fullName"]
    fake_number = json.loads(out[1])["pesel"]
    assert f"<td>{fake_name}</td><td>{fake_number}</td>" == out[0]
    assert out[2] == f"/szukaj?klient={quote_plus(fake_name)}&pesel={fake_number}"
    assert out[4] == f"<p>{fake_name.upper()}</p>"


def test_identifiers_found_by_shape_alone_with_or_without_separators():
    text = ("Kontakt: 526-104-08-28, 5261040828, REGON 012100784, PESEL 44051401359, tel. +48 601 234 567, "
            "konto 61 1090 1014 0000 0712 1981 2874, mail a.b@c.pl, VIN WVWZZZ1KZ8W123456")
    _scrubber, (out,) = scrubbed(text)
    for value in ("526-104-08-28", "5261040828", "012100784", "44051401359", "601 234 567",
                  "61 1090 1014 0000 0712 1981 2874", "a.b@c.pl", "WVWZZZ1KZ8W123456"):
        assert value not in out, value
    assert out.startswith("Kontakt: ") and "REGON " in out and "PESEL " in out


def test_policy_numbers_amounts_and_dates_stay():
    text = "Polisa 909123456789 z 02.11.2026, składka 1 303,59 zł, raty 2, 5261040828"
    _scrubber, (out,) = scrubbed(text, keep=("5261040828",))
    assert out == text


def test_secrets_are_replaced_by_keys_and_fields():
    text = json.dumps({"token": "abc123DEF456", "data": {"XSRF-TOKEN": "zz99yy88", "sessionId": "S-1234-5678"}})
    page = '<input type="hidden" name="csrf_token" value="q1w2e3r4"><meta name="_csrf" content="m9n8b7v6">'
    _scrubber, (out_json, out_page) = scrubbed(text, page)
    for secret in ("abc123DEF456", "zz99yy88", "S-1234-5678"):
        assert secret not in out_json
    assert "q1w2e3r4" not in out_page and "m9n8b7v6" not in out_page
    assert json.loads(out_json)["token"].isalnum() and len(json.loads(out_json)["token"]) == 12


def test_script_results_lose_their_values_and_keep_their_names():
    """What adapters read with evaluate(): document.cookie (Generali), a session's JSON (Proama), a config."""
    cookies = "XSRF-TOKEN=abc123def456; lang=pl"
    stored = json.dumps({"auth": json.dumps({"accessToken": "tok-999-xyz-000", "expires": 3600}),
                         "agent": "Jan Nowak"})
    scrubber = Scrubber(seed=2)
    scrubber.add_script_result(cookies)
    scrubber.add_script_result(json.loads(stored))
    scrubber.add_script_result("q1w2e3r4t5y6")  # a bare token (Insly's CSRF meta)
    out_cookies, out_stored, out_token = (scrubber.scrub(t) for t in (cookies, stored, "q1w2e3r4t5y6"))
    assert out_cookies.startswith("XSRF-TOKEN=") and out_cookies.endswith("; lang=pl")
    assert "abc123def456" not in out_cookies
    auth = json.loads(json.loads(out_stored)["auth"])
    assert set(auth) == {"accessToken", "expires"} and auth["accessToken"] != "tok-999-xyz-000"
    assert "Nowak" not in out_stored and out_token != "q1w2e3r4t5y6" and len(out_token) == 12
