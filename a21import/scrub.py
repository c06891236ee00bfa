"""Personal data out of a capture bundle before it touches the disk.

Two passes over every text of a bundle (answers, request paths, the reason, the listed row):
1. find what is personal: by structure (table columns, `th`/`td` and `dt`/`dd` pairs, form fields and JSON keys
   whose label or key names a person's data, read from the decoded page, so entities and `\\u` escapes do not
   hide it; `"key": "value"` pairs of JSON cut short or inside a script too), by shape with a checksum (PESEL,
   NIP, REGON, IBAN/NRB, e-mail, phone, VIN, postal code, JWT), and the values the parse made (`add_known`: the
   holder's and insured's name, address, identifiers, phone and e-mail, the vehicle's plate and VIN, the listed
   holder's name), which no label or shape needs to point at;
2. replace each found value, wherever and however it is written (raw, HTML entities, JSON escapes, URL
   encoding, any case), by a fake of the same shape, the same fake for the same value in the whole bundle, with
   valid check digits, so that the adapter's parse takes the same path on the scrubbed answers.

Policy numbers and amounts stay: they are not found as personal, and a number the caller keeps is never
replaced. The fakes come from small invented lists (never real people); the randomness is per bundle.
"""

from __future__ import annotations

import functools
import html
import json
import random
import re
from collections.abc import Iterable
from datetime import date, timedelta
from html.entities import html5
from typing import Any
from urllib.parse import quote, quote_plus, unquote, unquote_plus

from selectolax.lexbor import LexborHTMLParser
from stdnum import iban as std_iban
from stdnum.pl import nip as std_nip
from stdnum.pl import pesel as std_pesel
from stdnum.pl import regon as std_regon

FIRST_NAMES = ("Adam", "Anna", "Bogna", "Cezary", "Dorota", "Emil", "Fabiola", "Gerwazy", "Halina", "Ignacy")
LAST_NAMES = ("Przykładowy", "Testowy", "Wzorcowy", "Zmyślony", "Próbny", "Fikcyjny", "Umowny", "Modelowy")
COMPANIES = ("Przykładowa Firma", "Testowe Usługi", "Wzorcowy Handel", "Fikcyjna Spółka", "Modelowy Zakład")
STREETS = ("Przykładowa", "Testowa", "Wzorcowa", "Zmyślona", "Próbna", "Fikcyjna")
CITIES = ("Przykładowo", "Testów", "Wzorcowo", "Zmyślin", "Próbnik", "Fikcyjne")
VIN_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
STREET_PREFIXES = ("ul.", "al.", "pl.", "os.", "ul", "al", "aleja", "plac", "osiedle")

# What a label or key says its value is. Labels are matched lowercased without `:`; keys by their words
# (camelCase and snake_case split), so `holderPesel`, `pesel_nr` and `PESEL` all count.
LABELS = {
    "pesel": "pesel", "nip": "nip", "regon": "regon", "imię i nazwisko": "person", "imię": "token",
    "nazwisko": "token", "imiona": "token", "ubezpieczający": "party", "ubezpieczony": "party", "klient": "party",
    "właściciel": "party", "kontrahent": "party", "płatnik": "party", "adres": "address", "ulica": "street",
    "miejscowość": "city", "miasto": "city", "kod pocztowy": "postal", "telefon": "phone", "tel.": "phone",
    "nr telefonu": "phone", "e-mail": "email", "email": "email", "adres e-mail": "email", "vin": "vin",
    "numer rejestracyjny": "registration", "nr rejestracyjny": "registration", "data urodzenia": "birth",
    "numer rachunku": "iban", "nr rachunku": "iban", "rachunek": "iban", "iban": "iban", "numer konta": "iban",
}
KEY_WORDS = {
    "pesel": "pesel", "nip": "nip", "regon": "regon", "firstname": "token", "lastname": "token",
    "imie": "token", "nazwisko": "token", "fullname": "person", "phone": "phone", "telefon": "phone",
    "mobile": "phone", "tel": "phone", "email": "email", "mail": "email", "vin": "vin",
    "registration": "registration", "plate": "registration", "rejestracyjny": "registration",
    "rejestracja": "registration",
    "birthdate": "birth", "dateofbirth": "birth", "dataurodzenia": "birth", "dob": "birth", "iban": "iban",
    "nrb": "iban", "account": "iban", "rachunek": "iban", "street": "street", "ulica": "street",
    "city": "city", "miasto": "city", "miejscowosc": "city", "postalcode": "postal", "zipcode": "postal",
    "kodpocztowy": "postal", "address": "address", "adres": "address", "holdername": "party",
    "insuredname": "party", "clientname": "party", "ownername": "party", "companyname": "company",
    "token": "secret", "csrf": "secret", "xsrf": "secret", "session": "secret", "sessionid": "secret",
    "jsessionid": "secret", "auth": "secret", "authorization": "secret", "jwt": "secret", "cookie": "secret",
    "secret": "secret", "password": "secret", "apikey": "secret", "accesstoken": "secret",
    "refreshtoken": "secret", "bearer": "secret", "agent": "party", "agentname": "party", "username": "party",
}
# In a block (a JSON object, a labelled table) that also holds one of these, "name"/"nazwa" is a party's name.
PARTY_MARKERS = {"pesel", "nip", "regon", "address", "street", "phone", "email", "token", "person", "birth"}
NAME_KEYS = {"name", "nazwa", "nazwafirmy", "fullname"}
COMPANY_MARKERS = re.compile(r"(?i)\b(sp\.|spółka|s\.a\.|s\.c\.|sp\.j\.|sp\. z o\.o\.|zakład|przedsiębiorstwo|"
                             r"firma|grupa|fundacja|stowarzyszenie|spółdzielnia)|[<>\"&;\[\]]")
NAME_WORD = re.compile(r"[^\W\d_][^\W\d_'\-]*", re.UNICODE)

EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
DIGIT_RUN = re.compile(r"(?<![\d\w])(?:\+48[ \-]?)?\d[\d \-]{7,30}\d(?![\d\w])")
PL_IBAN = re.compile(r"(?<![A-Za-z0-9])PL ?\d{2}(?: ?\d{4}){6}(?![0-9])")
VIN = re.compile(r"(?<![A-Za-z0-9])[A-HJ-NPR-Z0-9]{17}(?![A-Za-z0-9])")
POSTAL = re.compile(r"(?<![\d\-])\d{2}-\d{3}(?![\d\-])")
JWT = re.compile(r"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*")
JSON_PAIR = re.compile(r'"([A-Za-z_][\w\-]{0,60})"\s*:\s*"((?:[^"\\]|\\.){1,200})"')
# The fields of a model's Client and the kind of each (its name is a person's or a company's).
CLIENT_KINDS = {"pesel": "pesel", "nip": "nip", "regon": "regon", "street": "street", "postal_code": "postal",
                "city": "city", "phone": "phone", "email": "email"}
# Identifiers written with or without separators (`GD 4F218` is `GD4F218`, `601 234 567` is `601234567`): a
# value of these kinds is also found with any separator between its characters.
LOOSE_KINDS = {"pesel", "nip", "regon", "phone", "registration", "vin", "iban"}
HIDDEN_SECRET = re.compile(r"(?i)(?:csrf|xsrf|token|session|auth)")


def _key_words(key: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", key)
    words = [w for w in re.split(r"[\s_\-.:]+", spaced.lower()) if w]
    return [*words, "".join(words)]


def classify_key(key: str) -> str | None:
    """What a JSON key or form field name says its value is (None: nothing personal)."""
    words = _key_words(key)
    for word in reversed(words):  # the whole key first: `holderName` is a party before it is a name
        if word in KEY_WORDS and (KEY_WORDS[word] != "party" or word == words[-1]):
            return KEY_WORDS[word]  # a party only by the whole key: `agentOuid` is an id, not a name
    return None


def classify_label(label: str) -> str | None:
    text = " ".join(label.lower().replace(":", " ").split())
    return LABELS.get(text)


class Scrubber:
    """Finds personal values (`find`, `add`) in the texts of one bundle, then replaces them (`scrub`)."""

    def __init__(self, *, keep: Iterable[str] = (), seed: int | None = None):
        self.rng = random.Random(seed)
        self.keep = {k for k in keep if k}
        self.found: dict[str, str] = {}  # value → kind
        self.fakes: dict[str, str] = {}  # value (casefolded for words) → fake
        self._fake_values: set[str] = set()  # the fakes given so far: a new one is never one of them
        self._pattern: re.Pattern[str] | None = None
        self._order: list[str] = []

    # -- finding ------------------------------------------------------------------------------------
    def add(self, value: Any, kind: str) -> None:
        if value is None or isinstance(value, bool):
            return
        text = " ".join(str(value).split())
        if len(text) < (6 if kind == "secret" else 2) or text in self.keep or kind is None:
            return  # a secret that short (`lang=pl`) is a setting, and replacing it everywhere would break pages
        if kind == "party":
            kind = "company" if COMPANY_MARKERS.search(text) or len(text.split()) > 3 else "person"
        if kind in ("person", "token") and re.search(r"\d", text):
            return  # no name of a person has digits: an id (`A00005152001`) the requests need
        if kind == "person":
            for word in NAME_WORD.findall(text):
                if len(word) >= 3:
                    self._add(word, "token")
        if kind == "address":
            match = re.fullmatch(r"(.+?),? (\d{2}-\d{3}) (.+)", text)
            if match:
                self._add(match.group(1), "street")
                self._add(match.group(2), "postal")
                self._add(match.group(3), "city")
        self._add(text, kind)

    def add_known(self, value: Any, depth: int = 0) -> None:
        """Personal values the parse made (a Policy, a Client, a Vehicle, a listed row and its `ref`): each is
        replaced wherever it stands, however written, even where no label, key or shape tells what it is."""
        from a21import.model import Client, ListedPolicy, Policy, Vehicle

        if depth > 4 or value is None:
            return
        if isinstance(value, Policy):
            for part in (value.holder, value.insured, value.vehicle):
                self.add_known(part, depth + 1)
        elif isinstance(value, Client):
            self.add(value.name, "company" if value.kind == "company" else "person")
            for name, kind in CLIENT_KINDS.items():
                self.add(getattr(value, name), kind)
        elif isinstance(value, Vehicle):
            self.add(value.registration, "registration")
            self.add(value.vin, "vin")
        elif isinstance(value, ListedPolicy):
            self.add(value.holder_name, "party")
            self.add_known(value.ref, depth + 1)
        elif isinstance(value, (list, tuple)):
            for part in value[:10_000]:
                self.add_known(part, depth + 1)
        elif isinstance(value, dict):
            self.find_data(value)

    def find_data(self, value: Any) -> None:
        """Personal values in data (a record an adapter kept from the list): by its keys."""
        if isinstance(value, (dict, list)):
            self._find_json(value, None)

    def _add(self, text: str, kind: str) -> None:
        if text not in self.found and text not in self.keep:
            self.found[text] = kind
            self._pattern = None

    def find(self, text: str, content_type: str = "") -> None:
        """Finds personal values in one text: JSON by keys, HTML by labels, every form by shape."""
        stripped, parsed = text.lstrip(), False
        if stripped[:1] in "{[" or "json" in content_type:
            try:
                self._find_json(json.loads(text), None)
                parsed = True
            except (ValueError, RecursionError):
                pass
        if not parsed and ('":' in text or "&quot;:" in text):  # JSON cut short, or inside a page's script
            for variant in {text, html.unescape(text)}:
                for match in JSON_PAIR.finditer(_json_unescape(variant)):
                    self.add(match.group(2), classify_key(match.group(1)))
        if "<" in text:
            self._find_html(text)
        for variant in {text, html.unescape(text), unquote(text), unquote_plus(text), _json_unescape(text)}:
            self._find_shapes(variant)

    def _find_json(self, value: Any, key: str | None) -> None:
        if isinstance(value, dict):
            kinds = {classify_key(k) for k in value if isinstance(k, str)}
            party = bool(kinds & PARTY_MARKERS)
            for k, v in value.items():
                kind = classify_key(k) if isinstance(k, str) else None
                if party and isinstance(k, str) and "".join(_key_words(k)[:-1]) in NAME_KEYS:
                    kind = "party"
                if isinstance(v, str) and v.lstrip()[:1] in "{[" and _is_json(v):
                    self._find_json(json.loads(v), k)  # a JSON document in a value: its keys say what is secret
                elif kind is not None and isinstance(v, (str, int)):
                    self.add(v, kind)
                else:
                    self._find_json(v, k)
        elif isinstance(value, list):
            for item in value:
                self._find_json(item, key)
        elif isinstance(value, str) and value[:1] in "{[":
            try:  # a JSON document inside a string (some APIs wrap their data that way)
                self._find_json(json.loads(value), key)
            except (ValueError, RecursionError):
                pass

    def _find_html(self, text: str) -> None:
        tree = LexborHTMLParser(text)
        for block in tree.css("table, dl"):
            pairs: list[tuple[str, str]] = []
            for row in block.css("tr"):
                th, td = row.css_first("th"), row.css_first("td")
                if th is not None and td is not None:
                    pairs.append((_text(th), _text(td)))
            dts = block.css("dt")
            for dt in dts:
                dd = dt.next
                while dd is not None and dd.tag not in ("dd", "dt"):
                    dd = dd.next
                if dd is not None and dd.tag == "dd":
                    pairs.append((_text(dt), _text(dd)))
            kinds = {classify_label(label) for label, _v in pairs}
            party = bool(kinds & PARTY_MARKERS)
            for label, value in pairs:
                kind = classify_label(label)
                if kind is None and party and label.lower() in NAME_KEYS:
                    kind = "party"
                self.add(value, kind)
            if block.tag == "table":
                self._find_columns(block)
        for node in tree.css("input[value], meta[content]"):
            name = node.attributes.get("name") or node.attributes.get("id") or ""
            kind = classify_key(name) or classify_label(name)
            if node.tag == "meta" and HIDDEN_SECRET.search(name):
                kind = "secret"
            self.add(node.attributes.get("value") or node.attributes.get("content"), kind)
        for node in tree.css("label"):
            field = node.css_first("input[value]")
            if field is not None:
                self.add(field.attributes.get("value"), classify_label(_text(node)))

    def add_script_result(self, value: Any) -> None:
        """A value a script read from the tab (`evaluate`): a bare string is a cookie string, a token or a
        config value, so its values are secrets; an object is read by its keys."""
        if isinstance(value, str) and not (value.lstrip()[:1] in "{[" and _is_json(value)):
            pairs = [part.partition("=") for part in value.split(";")]
            if len(pairs) > 1 or pairs[0][1]:  # document.cookie: each value, never the names the parse needs
                for _name, _sep, cookie in pairs:
                    self.add(cookie.strip(), "secret")
            else:
                self.add(value, "secret")
        elif isinstance(value, str):
            self._find_json(json.loads(value), None)
        else:
            self._find_json(value, None)

    def _find_columns(self, table: Any) -> None:
        """A table with a header row (only `th`): each column whose label names personal data."""
        rows = table.css("tr")
        header = next((row for row in rows if row.css_first("th") is not None and row.css_first("td") is None), None)
        if header is None:
            return
        labels = [classify_label(_text(cell)) for cell in header.css("th")]
        if any(labels):
            for row in rows:
                if row is not header:
                    for kind, cell in zip(labels, row.css("td")):
                        self.add(_text(cell), kind)

    def _find_shapes(self, text: str) -> None:
        for match in EMAIL.finditer(text):
            self._add(match.group(), "email")
        for match in JWT.finditer(text):
            self._add(match.group(), "secret")
        for match in PL_IBAN.finditer(text):
            if std_iban.is_valid(match.group()):
                self._add(match.group(), "iban")
        for match in VIN.finditer(text):
            value = match.group()
            if sum(c.isdigit() for c in value) >= 3 and sum(c.isalpha() for c in value) >= 3:
                self._add(value, "vin")
        for match in POSTAL.finditer(text):
            self._add(match.group(), "postal")
        for match in DIGIT_RUN.finditer(text):
            self._digits(match.group())

    def _digits(self, text: str) -> None:
        digits = re.sub(r"\D", "", text)
        if text.startswith("+48") or re.fullmatch(r"\d{3}[ \-]\d{3}[ \-]\d{3}|\d{2}[ \-]\d{3}[ \-]\d{2}[ \-]\d{2}",
                                                   text):
            self._add(text, "phone")
        elif any(k and re.sub(r"\D", "", k) == digits for k in self.keep):
            return
        elif len(digits) == 11 and std_pesel.is_valid(digits) and text == digits:
            self._add(text, "pesel")
        elif len(digits) == 10 and std_nip.is_valid(digits):
            self._add(text, "nip")
        elif len(digits) in (9, 14) and std_regon.is_valid(digits):
            self._add(text, "regon")
        elif len(digits) == 26 and std_iban.is_valid("PL" + digits):
            self._add(text, "iban")

    # -- replacing ----------------------------------------------------------------------------------
    def fake(self, value: str) -> str:
        kind = self.found.get(value, "other")
        key = value.casefold() if kind in ("token", "person", "company", "street", "city", "email") else value
        if kind in LOOSE_KINDS:  # `GD 4F218` and `GD4F218` are one registration: one fake
            key = "\x00" + re.sub(r"[\s\-]", "", value).upper()
        if key not in self.fakes:
            maker = _FAKERS.get(kind, _shape)
            fake = maker(self, value)
            for _attempt in range(50):  # never a real value of the bundle (a postal code has few shapes to pick)
                if fake not in self.found and fake not in self._fake_values:
                    break
                fake = maker(self, value)
            self.fakes[key] = fake
            self._fake_values.add(fake)
        return self.fakes[key]

    def _compiled(self) -> re.Pattern[str] | None:
        if self._pattern is None and self.found:
            self._order = sorted(self.found, key=len, reverse=True)
            # One boundary test for each group of values with the same ends (a smaller pattern, compiled faster).
            groups: dict[tuple[str, str], list[str]] = {}
            for i, value in enumerate(self._order):
                before, body, after = _encoded_parts(value, self.found[value] in LOOSE_KINDS)
                groups.setdefault((before, after), []).append(f"(?P<v{i}>{body})")
            self._pattern = re.compile("|".join(f"{before}(?:{'|'.join(bodies)}){after}"
                                                for (before, after), bodies in groups.items()), re.IGNORECASE)
        return self._pattern

    def scrub(self, text: str) -> str:
        """`text` with every found value replaced by its fake, in whatever encoding it stands."""
        pattern = self._compiled()
        if pattern is None or not text:
            return text

        def replace(match: re.Match[str]) -> str:
            value = self._order[int(match.lastgroup[1:])]
            written, fake = match.group(), self.fake(value)
            if self.found[value] in LOOSE_KINDS and not re.search(r"[&%\\]", written):
                fake = _reshaped(written, fake)
            if written.isupper() and not value.isupper():
                fake = fake.upper()
            if "+" in written and "+" not in value:
                return quote_plus(fake)
            if "%" in written and "%" not in value:
                return quote(fake, safe="")
            return html.escape(fake, quote=False) if "&" in written else fake

        return pattern.sub(replace, text)

    def scrub_tree(self, value: Any) -> Any:
        """Every string (and dict key) of a JSON-like tree scrubbed."""
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, dict):
            return {self.scrub(k) if isinstance(k, str) else k: self.scrub_tree(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.scrub_tree(v) for v in value]
        return value


def _reshaped(written: str, fake: str) -> str:
    """An identifier's fake with the separators it is written with here (`GD 4F218` → `XY 1Z234`)."""
    chars = [c for c in fake if c.isalnum()]
    if len(chars) != sum(c.isalnum() for c in written):
        return fake
    it = iter(chars)
    return "".join(next(it) if c.isalnum() else c for c in written)


def _text(node: Any) -> str:
    return " ".join(node.text(deep=True).split())


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


def _json_unescape(text: str) -> str:
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text).replace("\\/", "/")


_ENTITY_NAMES: dict[str, list[str]] = {}
for _name, _char in html5.items():
    if len(_char) == 1:
        _ENTITY_NAMES.setdefault(_char, []).append(_name if _name.endswith(";") else _name + ";")


@functools.lru_cache(maxsize=4096)
def _char_pattern(char: str) -> str:
    if char.isascii() and char.isalnum():
        return char  # pages escape what is not plain ASCII: a letter or digit as an entity is not seen
    if char == " ":
        return r"(?:[\s\u00a0]+|&nbsp;|&#0*160;|&#x0*a0;|\\u00a0|%20|%C2%A0|\+)+"
    options = []
    for variant in dict.fromkeys((char, char.lower(), char.upper())):  # a code or name matches one case only
        if len(variant) != 1:
            continue
        code = ord(variant)
        options += [re.escape(variant), f"&#0*{code};", f"&#x0*{code:x};"]
        options += ["&" + re.escape(name) for name in _ENTITY_NAMES.get(variant, ())]
        if code < 0x10000:
            options.append(rf"\\u{code:04x}")
        if not variant.isalnum() or code > 127:
            options.append("".join(f"%{b:02x}" for b in variant.encode()))
    if char in '"\\/':
        options.append(re.escape("\\" + char))
    return "(?:" + "|".join(options) + ")"


_SEPARATOR = r"(?:[\s\u00a0\-+]|&nbsp;|%20)?"


@functools.lru_cache(maxsize=8192)
def _encoded_parts(value: str, loose: bool = False) -> tuple[str, str, str]:
    """A pattern for `value` written raw or with any of its characters as an HTML entity, a JSON escape or
    URL-encoded, not inside a longer word or number (an encoded neighbour counts as a boundary), in three parts:
    (the boundary before, the value, the boundary after). `loose`: an identifier, found also with or without a
    separator between any two of its characters."""
    if loose and re.sub(r"[\s\-]", "", value):
        body = _SEPARATOR.join(_char_pattern(c) for c in re.sub(r"[\s\-]", "", value))
    else:
        body = "".join(_char_pattern(c) for c in " ".join(value.split()))
    before = r"(?:(?<![\w@.+\-])|(?<=%\w\w)|(?<=;)|(?<=\\u\w{4}))" if value[:1].isalnum() else ""
    after = r"(?:(?![\w@])|(?=%\w\w)|(?=&)|(?=\\u))" if value[-1:].isalnum() else ""
    return before, body, after


# -- fakes of the same shape --------------------------------------------------------------------------
def _shape(s: Scrubber, value: str) -> str:
    """Each digit a random digit, each letter a random letter of the same case; the rest kept."""
    out = []
    for c in value:
        if c.isdigit():
            out.append(s.rng.choice("0123456789"))
        elif c.isalpha():
            letter = s.rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ")
            out.append(letter if c.isupper() else letter.lower())
        else:
            out.append(c)
    return "".join(out)


def _digits_like(value: str, digits: str) -> str:
    """`digits` written with the separators of `value` (`526-104-08-28` stays in groups 3-3-2-2)."""
    it = iter(digits)
    return "".join(next(it) if c.isdigit() else c for c in value)


def _fake_pesel(s: Scrubber, value: str) -> str:
    born = date(1950, 1, 1) + timedelta(days=s.rng.randint(0, 18000))
    month = born.month + (20 if born.year >= 2000 else 0)
    front = f"{born.year % 100:02d}{month:02d}{born.day:02d}{s.rng.randint(0, 9999):04d}"
    return front + std_pesel.calc_check_digit(front)


def _fake_nip(s: Scrubber, value: str) -> str:
    while True:
        front = str(s.rng.randint(1, 9)) + "".join(s.rng.choice("0123456789") for _ in range(8))
        check = _nip_check(front)  # stdnum checks a NIP but does not compute its check digit
        if check is not None:
            return _digits_like(value, front + check)


def _nip_check(front: str) -> str | None:
    weights = (6, 5, 7, 2, 3, 4, 5, 6, 7)
    check = sum(w * int(d) for w, d in zip(weights, front)) % 11
    return None if check == 10 else str(check)


def _fake_regon(s: Scrubber, value: str) -> str:
    length = sum(c.isdigit() for c in value)
    front = "".join(s.rng.choice("0123456789") for _ in range(length - 1))
    return _digits_like(value, front + std_regon.calc_check_digit(front))


def _fake_iban(s: Scrubber, value: str) -> str:
    bban = "".join(s.rng.choice("0123456789") for _ in range(24))
    check = std_iban.calc_check_digits("PL00" + bban)
    digits = check + bban
    return _digits_like(value, digits) if not value.upper().startswith("PL") else value[:2] + _digits_like(
        value[2:], digits)


def _fake_phone(s: Scrubber, value: str) -> str:
    prefix = "+48" if value.startswith("+48") else ""
    rest = value[len(prefix):]
    digits = str(s.rng.randint(5, 8)) + "".join(s.rng.choice("0123456789") for _ in range(sum(map(str.isdigit, rest))))
    return prefix + _digits_like(rest, digits)


def _fake_email(s: Scrubber, value: str) -> str:
    return f"{s.rng.choice(FIRST_NAMES).lower()}.{len(s.fakes) + 1}@example.com"


def _fake_token(s: Scrubber, value: str) -> str:
    pick = s.rng.choice(FIRST_NAMES if len(value) <= 5 else LAST_NAMES)
    return pick.upper() if value.isupper() else pick


def _fake_person(s: Scrubber, value: str) -> str:
    words = value.split()
    if len(words) == 1:  # one word (`Li`): a name of its own, never its own words again
        return _fake_token(s, value)
    return " ".join(s.fake(w) if w in s.found else w for w in words)


def _fake_company(s: Scrubber, value: str) -> str:
    suffix = " Sp. z o.o." if re.search(r"(?i)sp\. z o\.o\.", value) else ""
    return f"{s.rng.choice(COMPANIES)} {len(s.fakes) + 1}{suffix}"


def _fake_street(s: Scrubber, value: str) -> str:
    first = value.split()[0] if value.split() else ""
    prefix = first + " " if first.lower() in STREET_PREFIXES else ""
    number = re.search(r"\s(\d+\w?(?:/\d+\w?)?)$", value)
    return prefix + s.rng.choice(STREETS) + (" " + _shape(s, number.group(1)) if number else "")


def _fake_address(s: Scrubber, value: str) -> str:
    match = re.fullmatch(r"(.+?)(,?) (\d{2}-\d{3}) (.+)", value)
    if not match:
        return _fake_street(s, value)
    return f"{s.fake(match.group(1))}{match.group(2)} {s.fake(match.group(3))} {s.fake(match.group(4))}"


def _fake_birth(s: Scrubber, value: str) -> str:
    day = date(1950, 1, 1) + timedelta(days=s.rng.randint(0, 18000))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", value):
        return day.isoformat() + value[10:]
    if re.fullmatch(r"\d{2}\.\d{2}\.\d{4}", value):
        return day.strftime("%d.%m.%Y")
    return _shape(s, value)


def _fake_vin(s: Scrubber, value: str) -> str:
    return "".join(s.rng.choice(VIN_ALPHABET) for _ in value)


_FAKERS = {
    "pesel": _fake_pesel, "nip": _fake_nip, "regon": _fake_regon, "iban": _fake_iban, "phone": _fake_phone,
    "email": _fake_email, "token": _fake_token, "person": _fake_person, "company": _fake_company,
    "street": _fake_street, "address": _fake_address, "city": lambda s, v: s.rng.choice(CITIES),
    "postal": lambda s, v: _shape(s, v), "birth": _fake_birth, "vin": _fake_vin, "registration": _shape,
    "secret": _shape,
}
