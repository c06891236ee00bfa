"""The strict field readers every adapter uses, and the shared builders of a policy's parts.

An app is declared once (`App`: its name in messages and how it writes amounts and dates); a
`Reader` reads one block of an answer (a JSON object, or the label/value pairs or a table row of an
HTML page as a dict) and names the app, the block and the field in every error. Which key holds which
field of a client, vehicle, coverage or installment is data: a JSON app's keys are in its data file
(`app_data`, a21import/insurers/data/<app>.toml), an HTML app's labels in its adapter; the builders below
read those maps, so an adapter keeps only what is particular to its app.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any, NoReturn

from a21import.errors import EnvironmentProblem, NotLoggedIn, PageChanged, ParseError, PolicyError
from a21import.formats import (clean_registration, clean_vin, digits_or_none, empty_to_none, iso_date,
                               json_number_to_gr)
from a21import.i18n import N_, _
from a21import.model import Client, Coverage, Installment, Policy, Vehicle

# {app}: the app as the agent knows it; {block}: the part of the answer read ("the vehicle of policy 1");
# {field}: the key as the app writes it; {value}: what was there instead.
NOT_AN_OBJECT = N_("{app} sent {block} that is not a JSON object.")
MISSING = N_("{app} sent {block} without {field!r}.")
# Absent, not null: the app changed its answer (see App.absent).
MISSING_KEY = N_("{app} sent {block} without the key {field!r}.")
MISSING_LABEL = N_("{app} sent {block} without the label {field!r}.")
NOT_TEXT = N_("{app} sent {block} whose {field!r} is {value!r} instead of text.")
NOT_WHOLE = N_("{app} sent {block} whose {field!r} is {value!r} instead of a whole number.")
TOO_SMALL = N_("{app} sent {block} whose {field!r} is {value!r}, less than {minimum}.")
NOT_ONE_OF = N_("{app} sent {block} whose {field!r} is {value!r}, which is not one of {choices}.")
NOT_FLAG = N_("{app} sent {block} whose {field!r} is {value!r} instead of true or false.")
NOT_NESTED = N_("{app} sent {block} whose {field!r} is not an object.")
NOT_LIST = N_("{app} sent {block} whose {field!r} is not a list.")
EMPTY_LIST = N_("{app} sent {block} whose {field!r} is an empty list; at least one entry is required.")
ENTRY_NOT_AN_OBJECT = N_("{app} sent {block} whose {field!r} has an entry that is not an object.")
UNREADABLE = N_("{app} sent {block} whose {field!r} cannot be read: {reason}")

WHOLE_TEXT = re.compile(r"[0-9]+")

Key = str | tuple[str, ...]  # a key, or the path of keys to it through nested objects


@dataclass(frozen=True)
class App:
    """How one app writes its answers: its name in messages, its amounts and its dates. `optional_amount`
    reads an amount that may be missing (null or absent reads as None before it is called): by default
    the same as `amount`; an app that writes a missing amount as blank text gives its own.
    `absent`: the sentence (MISSING_KEY, the default, or MISSING_LABEL, or the app's own) of the PageChanged
    raised when a required key (or label) is not there at all (not null: absent): the app changed its answer
    (the reason says so, and a capture keeps it); None: absent reads like null. `empty`: the app's own sentence
    for a required value that is there but null or blank (by default MISSING).

    A Reader also reads the label/value pairs of an HTML block (`html.dl_values`, `html.row_values`) or
    a table row by its column labels: the app's `amount` and `date` then read text."""

    name: str
    amount: Callable[[Any], int] = json_number_to_gr
    date: Callable[[Any], date] = iso_date
    optional_amount: Callable[[Any], int | None] | None = None
    absent: str | None = MISSING_KEY  # README "What an app may change": a named key that is not there
    empty: str | None = None

    def read(self, block: str, data: Any) -> Reader:
        """A Reader of the object `data`, named `block` (translated) in messages."""
        return Reader(self, block, data)


class Reader:
    """One JSON object of an answer. Every method raises ParseError naming the app, block and key."""

    def __init__(self, app: App, block: str, data: Any):
        if not isinstance(data, dict):
            raise ParseError(_(NOT_AN_OBJECT).format(app=app.name, block=block))
        self.app, self.block, self.data = app, block, data

    def fail(self, message: str, key: Key, **values: Any) -> NoReturn:
        """Raises ParseError with `message` (an untranslated N_ sentence of this module's shape)."""
        raise ParseError(_(message).format(app=self.app.name, block=self.block, field=_name(key), **values))

    def missing(self, key: Key) -> NoReturn:
        """Raises the error of a required `key` that has no value (see `App.absent_changed`)."""
        *outer, last = _path(key)
        holder = self.get(tuple(outer)) if outer else self.data
        if self.app.absent and not (isinstance(holder, dict) and last in holder):
            raise PageChanged(_(self.app.absent).format(app=self.app.name, block=self.block, field=_name(key)),
                              app=self.app.name, block=self.block, missing=_name(key))
        self.fail(self.app.empty or MISSING, key)

    def has(self, key: Key) -> bool:
        return self.get(key) is not None

    def get(self, key: Key) -> Any:
        """The raw value at `key` (a path goes through nested objects), None when absent."""
        value: Any = self.data
        for part in _path(key):
            if not isinstance(value, dict):
                return None
            value = value.get(part)
        return value

    def present(self, key: Key) -> Any:
        """The raw value at `key`, which must be there (it may be null)."""
        *outer, last = _path(key)
        holder = self.get(tuple(outer)) if outer else self.data
        if not isinstance(holder, dict) or last not in holder:
            self.missing(key)
        return holder[last]

    def value(self, key: Key) -> Any:
        """The raw value at `key`, which must be there and not null."""
        value = self.get(key)
        if value is None:
            self.missing(key)
        return value

    def text(self, key: Key) -> str:
        """Text with something in it, stripped."""
        value = self.value(key)
        if not isinstance(value, str):
            self.fail(NOT_TEXT, key, value=value)
        if not value.strip():
            self.fail(self.app.empty or MISSING, key)
        return value.strip()

    def optional_text(self, key: Key) -> str | None:
        """Text stripped, or None when absent, null or blank."""
        value = self.get(key)
        if value is not None and not isinstance(value, str):
            self.fail(NOT_TEXT, key, value=value)
        return empty_to_none(value)

    def integer(self, key: Key, *, minimum: int | None = None) -> int:
        """A JSON whole number (never true or false)."""
        return self._integer(key, self.value(key), minimum)

    def optional_integer(self, key: Key, *, minimum: int | None = None) -> int | None:
        value = self.get(key)
        return None if value is None else self._integer(key, value, minimum)

    def _integer(self, key: Key, value: Any, minimum: int | None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(NOT_WHOLE, key, value=value)
        if minimum is not None and value < minimum:
            self.fail(TOO_SMALL, key, value=value, minimum=minimum)
        return value

    def choice(self, key: Key, meanings: Mapping[Any, Any]) -> Any:
        """What the value at `key` means in `meanings` (e.g. {"Opłacona": True, "Nieopłacona": False})."""
        value = self.get(key)
        if not isinstance(value, str | int) or value not in meanings:
            self.fail(NOT_ONE_OF, key, value=value, choices=", ".join(map(str, meanings)))
        return meanings[value]

    def flag(self, key: Key) -> bool:
        value = self.present(key)
        if not isinstance(value, bool):
            self.fail(NOT_FLAG, key, value=value)
        return value

    def amount(self, key: Key) -> int:
        """Grosze, converted as the app writes amounts (`App.amount`)."""
        return self.convert(key, self.app.amount, self.present(key))

    def optional_amount(self, key: Key) -> int | None:
        value = self.get(key)
        return None if value is None else self.convert(key, self.app.optional_amount or self.app.amount, value)

    def date(self, key: Key) -> date:
        """A date, as the app writes dates (`App.date`)."""
        return self.convert(key, self.app.date, self.present(key))

    def parsed(self, key: Key, converter: Callable[[str], Any]) -> Any:
        """Required text at `key` read by `converter`: an empty value is named as missing, not as unreadable."""
        return self.convert(key, converter, self.text(key))

    def convert(self, key: Key, converter: Callable[[Any], Any], value: Any = None) -> Any:
        """`converter(value)` (by default the value at `key`), its ParseError naming the block and field."""
        try:
            return converter(self.get(key) if value is None else value)
        except ParseError as exc:
            raise ParseError(_(UNREADABLE).format(
                app=self.app.name, block=self.block, field=_name(key), reason=exc.reason)) from exc

    def obj(self, key: Key, block: str | None = None) -> Reader:
        """The nested object at `key` (required), read as `block` (by default this block)."""
        value = self.value(key)
        if not isinstance(value, dict):
            self.fail(NOT_NESTED, key)
        return Reader(self.app, block or self.block, value)

    def optional_obj(self, key: Key, block: str | None = None) -> Reader | None:
        return self.obj(key, block) if self.has(key) else None

    def list(self, key: Key, *, allow_empty: bool = False) -> list[Any]:
        value = self.value(key)
        if not isinstance(value, list):
            self.fail(NOT_LIST, key)
        if not value and not allow_empty:
            self.fail(EMPTY_LIST, key)
        return value

    def objects(self, key: Key, block: str, *, allow_empty: bool = False, **values: Any) -> Iterator[Reader]:
        """The objects of the list at `key`. `block` (untranslated N_) names each entry, its {position}
        (from 1) and `values` filled in: N_("risk {position} of policy {number}")."""
        for position, entry in enumerate(self.list(key, allow_empty=allow_empty), start=1):
            if not isinstance(entry, dict):
                self.fail(ENTRY_NOT_AN_OBJECT, key)
            yield Reader(self.app, _(block).format(position=position, **values), entry)


def whole_text(text: Any) -> int:
    """A whole number written as text in a page ("12"; a trailing dot, as in "12.", is allowed)."""
    value = text.strip().removesuffix(".") if isinstance(text, str) else ""
    if not WHOLE_TEXT.fullmatch(value):
        raise ParseError(_("The number {text!r} is not a whole number.").format(text=text))
    return int(value)


def _path(key: Key) -> tuple[str, ...]:
    return (key,) if isinstance(key, str) else key


def _name(key: Key) -> str:
    return ".".join(_path(key))


def lenient(read: Callable[[], Any], problems: list[str] | None = None) -> Any:
    """A list column shown for information only: unreadable → None, the reason noted in `problems`."""
    try:
        return read()
    except ParseError as exc:
        if problems is not None:
            problems.append(exc.reason)
        return None


def sentence(text: str) -> str:
    """The app's message as the end of one of our sentences: stripped, with its final stop."""
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def app_said(message: str | None) -> str:
    """The app's own message as a sentence to append after one of ours (with its leading space), or ""."""
    text = (message or "").strip()
    return " " + _("The app said: {message}").format(message=sentence(text)) if text else ""


def error_values(answer: Any, *keys: Key) -> tuple[str | None, ...]:
    """The text at each of `keys` (a key or a path) of an app's JSON error object, as its portal file declares
    them; None for each that is not text, and for all when `answer` (JSON text, or what was parsed from it)
    is not a JSON object."""
    if isinstance(answer, str | bytes):
        try:
            answer = json.loads(answer)
        except ValueError:
            answer = None
    values = []
    for key in keys:
        value = answer
        for part in _path(key):
            value = value.get(part) if isinstance(value, dict) else None
        values.append(value if isinstance(value, str) else None)
    return tuple(values)


def answer_failure(about_policy: bool, policy_sentence: str, list_sentence: str,
                   **values: Any) -> PolicyError | EnvironmentProblem:
    """A failed answer of the app, as one of two whole sentences (untranslated N_): about one policy it makes
    that policy red (PolicyError), about the policy list it stops the import (EnvironmentProblem)."""
    if about_policy:
        return PolicyError(_(policy_sentence).format(**values))
    return EnvironmentProblem(_(list_sentence).format(**values))


def not_logged_in(app: str, host: str) -> NotLoggedIn:
    """The tab of `app` on `host` shows no session (never logged in, or expired)."""
    return NotLoggedIn(_(
        "The {app} tab ({host}) is not logged in or its session has expired. Log in to {app} in that tab "
        "and run the command again; the policies imported so far are kept."
    ).format(app=app, host=host))


def quoting(with_message: str, without_message: str, *, quote: str = "message", **values: Any) -> str:
    """One of two whole sentences (untranslated N_): the one quoting the app's own message (the value
    `values[quote]`), or, when the app said nothing, the one without it."""
    if values.get(quote):
        return _(with_message).format(**values)
    values.pop(quote, None)
    return _(without_message).format(**values)


def insurer_code(table: Mapping[str, str], name: Any) -> str | None:
    """The canonical code of an insurer as the app names it, exactly; None when the table lacks it."""
    return table.get(name) if isinstance(name, str) else None


# -- each app's mapping as data -----------------------------------------------------------------------
# a21import/insurers/data/<app>.toml holds what its spec file's mapping table says: for each part of a
# policy (its own tables: `policy`, `holder`, `vehicle`, `coverage`, `installment`, ...) the key that holds
# each model field (a list is a path through nested objects: ["adres", "ulica"] is adres.ulica), and in
# `insurers` the insurer names as the app writes them (exact) → canonical codes. A field the app writes
# its own way stays a callable in the adapter, added to the part's keys there.
def _as_key(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


@cache
def app_data(app_id: str) -> Mapping[str, Mapping[str, Any]]:
    """The parts of the data file of `app_id`, each read-only; key paths as tuples."""
    text = resources.files(__package__).joinpath("data", f"{app_id}.toml").read_text(encoding="utf-8")
    return MappingProxyType({part: MappingProxyType({field: _as_key(key) for field, key in table.items()})
                             for part, table in tomllib.loads(text).items()})


# -- the shared builders ------------------------------------------------------------------------------
# A field map: model field → the app's key (or path), or a callable(reader) for a field the app
# writes its own way. Fields not in the map are None (a client's address, say, when the app has none).
FieldMap = Mapping[str, Any]


def digits_at(key: Key) -> Callable[[Reader], str | None]:
    """A field map's reader of an identifier (PESEL, NIP, REGON) at `key`: its digits, None when blank."""
    return lambda r: digits_or_none(r.optional_text(key))


def _read(r: Reader, spec: Any, read: Callable[[Key], Any]) -> Any:
    return spec(r) if callable(spec) else read(spec)


def build_client(r: Reader, keys: FieldMap, *, kind: str, name: str, **given: Any) -> Client:
    """A Client of `kind` ("person"/"company") and `name` (the adapter's own rule); every other field is
    optional text at its key in `keys`, unless `given` holds it."""
    fields = {field: _read(r, spec, r.optional_text) for field, spec in keys.items() if field not in given}
    return Client(kind=kind, name=name, **fields, **given)


# A kind of client as an app names it: (the model's kind, "person" or "company"; its field map; its name).
Party = tuple[str, FieldMap, Callable[[Reader], str]]


def build_party(r: Reader, word: Any, parties: Mapping[str, Party], unknown: str) -> Client:
    """The client of the kind the app's `word` names, built by that kind's entry in `parties` (see Party).
    Another word raises ParseError with `unknown` (untranslated N_), its {kind} the word and {person} and
    {company} the app's words for those kinds."""
    party = parties.get(word) if isinstance(word, str) else None
    if party is None:
        words = {kind: name for name, (kind, _keys, _name) in parties.items()}
        raise ParseError(_(unknown).format(kind=word, person=words.get("person"), company=words.get("company")))
    kind, keys, name = party
    return build_client(r, keys, kind=kind, name=name(r))


def build_vehicle(r: Reader | None, keys: FieldMap) -> Vehicle | None:
    """The vehicle, or None when there is none or it has neither VIN nor registration (no vehicle row)."""
    if r is None:
        return None
    year = keys.get("production_year")
    vehicle = Vehicle(
        registration=clean_registration(_read(r, keys["registration"], r.optional_text)),
        vin=clean_vin(_read(r, keys["vin"], r.optional_text)),
        make=_read(r, keys["make"], r.optional_text),
        model=_read(r, keys["model"], r.optional_text),
        production_year=None if year is None else _read(r, year, r.optional_integer),
    )
    return vehicle if vehicle.id is not None else None


def build_coverages(entries: Iterator[Reader], keys: FieldMap) -> tuple[Coverage, ...]:
    """Coverages: `code` required text, `name` optional text, both amounts optional."""
    return tuple(
        Coverage(
            code=_read(r, keys["code"], r.text),
            name=_read(r, keys["name"], r.optional_text),
            sum_insured_gr=_read(r, keys["sum_insured_gr"], r.optional_amount),
            premium_gr=_read(r, keys["premium_gr"], r.optional_amount),
        )
        for r in entries
    )


def build_installments(entries: Iterator[Reader], keys: FieldMap, *, first: int | None = 1) -> tuple[Installment, ...]:
    """Installments: `seq` a whole number (at least `first`), `due_date`, `amount_gr`, `paid` a flag."""
    result = []
    for r in entries:
        seq = _read(r, keys["seq"], lambda key, r=r: r.integer(key, minimum=first))
        result.append(Installment(
            seq=seq,
            due_date=_read(r, keys["due_date"], r.date),
            amount_gr=_read(r, keys["amount_gr"], r.amount),
            paid=_read(r, keys["paid"], r.flag),
        ))
    return tuple(result)


# A policy's parts as most JSON apps nest them: an object or a list at a key of the policy, each named
# in messages by the policy's number ("the vehicle of policy 123", "installment 2 of policy 123").
def vehicle_at(r: Reader, key: Key, keys: FieldMap, number: str, *, required: bool = False) -> Vehicle | None:
    """The vehicle object at `key` (it may be absent unless `required`), read by `keys` (see build_vehicle)."""
    block = _("the vehicle of policy {number}").format(number=number)
    return build_vehicle(r.obj(key, block) if required else r.optional_obj(key, block), keys)


def coverages_at(r: Reader, key: Key, keys: FieldMap, number: str, *,
                 entry: str = N_("coverage {position} of policy {number}"), allow_empty: bool = False,
                 ) -> tuple[Coverage, ...]:
    """The coverages listed at `key`, each named `entry` (untranslated N_), read by `keys`."""
    return build_coverages(r.objects(key, entry, number=number, allow_empty=allow_empty), keys)


def installments_at(r: Reader, key: Key, keys: FieldMap, number: str, *, allow_empty: bool = False,
                    first: int | None = 1) -> tuple[Installment, ...]:
    """The installments listed at `key`, read by `keys` (see build_installments)."""
    entries = r.objects(key, N_("installment {position} of policy {number}"), number=number, allow_empty=allow_empty)
    return build_installments(entries, keys, first=first)


# What a policy's own fields are read as; the adapter gives the rest (number, insurer, parts, ...).
_POLICY_READERS: dict[str, Callable[[Reader, Key], Any]] = {
    "product": Reader.text, "status": Reader.optional_text, "issue_date": Reader.date,
    "start_date": Reader.date, "end_date": Reader.date, "premium_gr": Reader.amount,
}


def build_policy(r: Reader, keys: FieldMap, **given: Any) -> Policy:
    """A Policy whose product, status, dates and premium are read at their keys in `keys`; `given` holds
    every other field. A given callable (a part: holder, vehicle, ...) is read after the policy's own
    fields, in the order given, so the first problem named is the one the app's answer has first."""
    read = {field: _read(r, keys[field], lambda key, f=field: _POLICY_READERS[f](r, key))
            for field in _POLICY_READERS if field not in given}
    parts = {field: value() if callable(value) else value for field, value in given.items()}
    return Policy(**read, **parts)
