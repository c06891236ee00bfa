"""What an app answered for one policy, kept so that a red policy can be looked at and replayed offline.

While a policy is read (and while a list is read) the importer opens a `recording()`: `Adapter.fetch` and the
tab's `html()`/`evaluate()` add every answer to it (a context variable, so concurrent policies never mix).
It is dropped with the policy, unless the policy turns red and `--capture DIR` (or A21IMPORT_CAPTURE) is set:
then one bundle is written into DIR, scrubbed of personal data first (a21import/scrub.py), private to the
user (folder 0700, file 0600, never through a symbolic link). `a21import capture show` tells what a bundle
holds; `a21import capture replay` runs the same adapter on its answers, offline (capture_replay.py).

A row the list itself marks red (`ListedPolicy.error`) gets a bundle too (`listed`): the list's answers up to
it. What the parse had made when a policy turned red (the policy, its clients and vehicle in the traceback's
frames, the listed rows) tells the scrubber which values are personal wherever they stand.

A bundle is a zip: `bundle.json` (app, versions, what was read with the adapter's `ref` as tagged JSON
(`ref_data`), the reason, where in a21import it was raised, and each request: kind, method, path with query,
status, content type, body file) and the bodies under `answers/`. A folder of the same layout is read too, so a field report can be unpacked into a test.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import math
import os
import re
import sys
import traceback
import weakref
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from a21import import __version__
from a21import.i18n import _, ngettext

FORMAT = 1
MANIFEST = "bundle.json"
MAX_BUNDLE_BYTES = 50 * 1024 * 1024  # a bundle read back is refused above this (a zip bomb, a wrong file)
_PACKAGE = Path(__file__).resolve().parent


@dataclass
class Exchange:
    """One answer: `kind` fetch (an in-page request), html (the tab's DOM) or evaluate (a script's result)."""

    kind: str
    method: str
    path: str  # path and query as requested (for evaluate: the script)
    status: int
    content_type: str
    body: str
    final: str = ""  # path and query after redirects


class Recording:
    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []
        self.listed: list[Any] = []  # the rows a list read gave so far (with --capture): their personal values

    @property
    def last_path(self) -> str | None:
        fetched = [e for e in self.exchanges if e.kind == "fetch"]
        return (fetched[-1].final or fetched[-1].path) if fetched else None


_current: ContextVar[Recording | None] = ContextVar("a21import_recording", default=None)
_target: ContextVar[Path | None] = ContextVar("a21import_capture_dir", default=None)
_written: ContextVar[list[Path] | None] = ContextVar("a21import_captures_written", default=None)
_sessions: weakref.WeakKeyDictionary[Any, list[Exchange]] = weakref.WeakKeyDictionary()


@contextmanager
def recording() -> Iterator[Recording]:
    """Every answer read inside (in this task and the tasks it starts) is kept in the Recording yielded."""
    taken = Recording()
    token = _current.set(taken)
    try:
        yield taken
    finally:
        _current.reset(token)


def use(folder: Path | str | None) -> None:
    """Bundles of red policies go into `folder` from now on, in this task (None: none are written)."""
    _target.set(Path(folder).expanduser() if folder else None)
    if _written.get() is None:
        _written.set([])  # shared by the tasks this one starts: their bundles are told at the end


def tell(say: Callable[[str], None]) -> None:
    """Tells (once) how many bundles this import wrote and where."""
    written, folder = _written.get(), _target.get()
    if written and folder is not None:
        say(ngettext("{n} scrubbed capture of a red policy was written to {folder}; look at it with a21import "
                     "capture show.", "{n} scrubbed captures of red policies were written to {folder}; look at "
                     "them with a21import capture show.", len(written)).format(n=len(written), folder=folder))
        written.clear()


def keep_session(adapter: Any, taken: Recording) -> None:
    """The answers the adapter's context() read (the tab's header, config): each bundle of it starts with them."""
    _sessions[adapter] = list(taken.exchanges)


def _relative(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def note_fetch(method: str, url: str, response: Any) -> None:
    taken = _current.get()
    if taken is not None:  # without --capture only the path is kept (for the reason), never the body
        body = response.text if _target.get() is not None else ""
        taken.exchanges.append(Exchange("fetch", method.upper(), _relative(url), response.status,
                                        response.content_type or "", body, _relative(response.url)))


def note_dom(kind: str, script: str, value: Any, arg: Any = None) -> None:
    """The tab's DOM (`html`) or a script's result (`evaluate`, kept as JSON) read by the adapter."""
    taken = _current.get()
    if taken is None or _target.get() is None:
        return
    if kind == "html":
        taken.exchanges.append(Exchange("html", "DOM", "", 200, "text/html", str(value)))
    else:
        try:
            body = json.dumps(value, ensure_ascii=False)
        except (TypeError, ValueError):
            body = json.dumps(None)
        taken.exchanges.append(Exchange("evaluate", "JS", script_key(script, arg), 200, "application/json", body))


def script_key(script: str, arg: Any) -> str:
    """How an evaluate() call is found again on replay: its script and argument (not shown in full)."""
    text = json.dumps([script, arg], sort_keys=True, ensure_ascii=False, default=str)
    return "js:" + hashlib.sha256(text.encode()).hexdigest()[:16]


# -- the reason of a changed page ------------------------------------------------------------------------
def shown_path(path: str | None) -> str | None:
    """A request path as a reason shows it: the query's names, never its values (they may be a PESEL or a
    name), and identifiers in the path masked."""
    if not path:
        return None
    from a21import.formats import mask_personal_ids

    parts = urlsplit(path)
    names = list(dict.fromkeys(name for name, _value in parse_qsl(parts.query, keep_blank_values=True)))
    return mask_personal_ids(parts.path) + ("?" + "&".join(f"{name}=…" for name in names) if names else "")


def drift_reason(detail: str, *, app: str | None, path: str | None) -> tuple[str, str | None]:
    """(reason, path) of a PageChanged: what is missing, that the app's page changed, and the request."""
    taken = _current.get()
    path = path or (taken.last_path if taken is not None else None)
    if app:
        changed = _("The page of {app} has changed or is not supported.").format(app=app)
    else:
        changed = _("The app's page has changed or is not supported.")
    parts = [detail.rstrip(), changed]
    shown = shown_path(path)
    if shown:
        parts.append(_("It was the answer to {path}.").format(path=shown))
    return " ".join(parts), path


# -- the adapter's handle of a listed policy (`ref`), kept as data ---------------------------------------
_TAGS = ("$date", "$datetime", "$tuple", "$set", "$decimal", "$dict", "$dataclass")
MAX_REF_DEPTH = 40


def ref_data(value: Any, depth: int = 0) -> Any:
    """An adapter's `ref` as JSON data that `ref_value` turns back into the same value: plain JSON as it is,
    dates, tuples, sets, decimals, dicts with other keys and a21import's dataclasses (a Policy) tagged.
    Raises TypeError for anything else (the bundle then keeps no ref)."""
    if depth > MAX_REF_DEPTH:
        raise TypeError("nested too deep")
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError("not a finite number")
        return value
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, list):
        return [ref_data(v, depth + 1) for v in value]
    if isinstance(value, tuple):
        return {"$tuple": [ref_data(v, depth + 1) for v in value]}
    if isinstance(value, (set, frozenset)):
        return {"$set": sorted((ref_data(v, depth + 1) for v in value), key=repr)}
    if isinstance(value, dict):
        if all(isinstance(k, str) and k not in _TAGS for k in value):
            return {k: ref_data(v, depth + 1) for k, v in value.items()}
        return {"$dict": [[ref_data(k, depth + 1), ref_data(v, depth + 1)] for k, v in value.items()]}
    if is_dataclass(value) and not isinstance(value, type) and type(value).__module__.startswith("a21import."):
        kind = type(value)
        return {"$dataclass": f"{kind.__module__}:{kind.__qualname__}",
                "fields": {f.name: ref_data(getattr(value, f.name), depth + 1) for f in fields(value) if f.init}}
    raise TypeError(f"a ref of type {type(value).__name__} is not kept")


def ref_value(data: Any, depth: int = 0) -> Any:
    """The `ref` of `ref_data` again. A bundle is untrusted: only a21import's own dataclasses are made."""
    if depth > MAX_REF_DEPTH:
        raise ValueError("nested too deep")
    if isinstance(data, list):
        return [ref_value(v, depth + 1) for v in data]
    if not isinstance(data, dict):
        return data
    if len(data) == 1 and next(iter(data)) in _TAGS:
        tag, inner = next(iter(data.items()))
        if tag == "$date":
            return date.fromisoformat(inner)
        if tag == "$datetime":
            return datetime.fromisoformat(inner)
        if tag == "$decimal":
            return Decimal(inner)
        if tag == "$tuple":
            return tuple(ref_value(v, depth + 1) for v in inner)
        if tag == "$set":
            return frozenset(ref_value(v, depth + 1) for v in inner)
        if tag == "$dict":
            return {ref_value(k, depth + 1): ref_value(v, depth + 1) for k, v in inner}
    if set(data) == {"$dataclass", "fields"}:
        module, _sep, name = str(data["$dataclass"]).partition(":")
        kind = getattr(importlib.import_module(module), name, None) if module.startswith("a21import.") else None
        if not (isinstance(kind, type) and is_dataclass(kind)):
            raise ValueError(f"no dataclass {data['$dataclass']} in a21import")
        return kind(**{k: ref_value(v, depth + 1) for k, v in dict(data["fields"]).items()})
    return {k: ref_value(v, depth + 1) for k, v in data.items()}


# -- writing a bundle --------------------------------------------------------------------------------
def item_data(item: Any) -> dict[str, Any] | None:
    """A listed policy as the bundle keeps it, its `ref` as `ref_data` (None when it cannot be kept)."""
    if item is None:
        return None
    data = {name: getattr(item, name) for name in ("number", "insurer", "product", "holder_name", "issue_date",
                                                     "premium_gr", "skip_reason", "error")}
    data["issue_date"] = data["issue_date"].isoformat() if isinstance(data["issue_date"], date) else None
    try:
        data["ref"] = ref_data(item.ref)
        json.dumps(data["ref"])
    except (TypeError, ValueError):
        data["ref"] = None
    return data


def listed(adapter: Any, item: Any, taken: Recording, *, mode: str,
           window: tuple[date, date] | None = None) -> Path | None:
    """One row of a list (or a look-up) as it is read, with --capture: its personal values are remembered for
    the bundles of this list, and a row the list itself marks red (`error`) gets a bundle of its own, holding
    the answers read up to it (the one that carried it last)."""
    if _target.get() is None:
        return None
    taken.listed.append(item)
    if not item.error:
        return None
    upto = Recording()
    upto.exchanges, upto.listed = list(taken.exchanges), list(taken.listed)
    return failed(adapter, item, None, upto, mode=mode, reason=item.error, window=window)


def known_values(exc: BaseException | None) -> list[Any]:
    """What the parse had made when `exc` was raised: the policies, clients, vehicles and listed rows in the
    local variables of a21import's frames of its traceback (and of the exceptions it came from)."""
    from a21import.model import Client, ListedPolicy, Policy, Vehicle

    kinds = (Policy, Client, Vehicle, ListedPolicy)
    found: list[Any] = []
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        tb = exc.__traceback__
        while tb is not None:
            if Path(tb.tb_frame.f_code.co_filename).resolve().is_relative_to(_PACKAGE):
                for value in tb.tb_frame.f_locals.values():
                    values = value if isinstance(value, (list, tuple)) and len(value) < 10_000 else [value]
                    found += [v for v in values if isinstance(v, kinds)]
            tb = tb.tb_next
        exc = exc.__cause__ or exc.__context__
    return found


def where(exc: BaseException) -> list[str]:
    """The frames of the traceback inside a21import, innermost last, as `a21import/x.py:12 in f`."""
    frames = []
    for frame in traceback.extract_tb(exc.__traceback__):
        try:
            relative = Path(frame.filename).resolve().relative_to(_PACKAGE)
        except ValueError:  # outside a21import: never a path of the user's computer
            continue
        frames.append(f"a21import/{relative.as_posix()}:{frame.lineno} in {frame.name}")
    return frames


def adapter_version(adapter: Any) -> str:
    """The adapter's module as shipped: the first digits of its source's hash (any change to it shows)."""
    module = sys.modules.get(type(adapter).__module__)
    try:
        return hashlib.sha256(Path(module.__file__).read_bytes()).hexdigest()[:12]
    except (AttributeError, OSError, TypeError):
        return "unknown"


def failed(adapter: Any, item: Any, exc: BaseException | None, taken: Recording, *, mode: str,
           reason: str | None = None, window: tuple[date, date] | None = None) -> Path | None:
    """Writes the bundle of a red policy (or an unreadable list) when --capture is set; returns its path.
    `exc` None: the list itself marked the row red (`reason`). A bundle that cannot be written is told in the
    log: the import goes on."""
    folder = _target.get()
    if folder is None:
        return None
    from a21import.logs import log

    inner = getattr(adapter, "adapter", adapter)  # refresh wraps the adapter
    try:
        bundle = build(inner, item, exc, taken, mode=mode, reason=reason, window=window)
        path = write(folder, bundle, name=f"{inner.app_id}-{item.number if item is not None else 'list'}")
    except Exception as error:  # noqa: BLE001 - a capture that fails never stops the import
        log.warning("The capture of %s could not be written into %s: %s: %s", getattr(item, "key", "the list"),
                    folder, type(error).__name__, error)
        return None
    log.info("%s: capture written: %s", inner.app_id, path)
    if _written.get() is not None:
        _written.get().append(path)
    return path


def build(adapter: Any, item: Any, exc: BaseException | None, taken: Recording, *, mode: str,
          reason: str | None = None, window: tuple[date, date] | None = None) -> dict[str, Any]:
    """The bundle, scrubbed: nothing in it is written before the scrubber has seen all of it."""
    from a21import.scrub import Scrubber

    tab = getattr(adapter, "tab", None)
    tab_url = urlsplit(getattr(tab, "url", "") or "")
    bundle = {
        "format": FORMAT,
        "a21import": __version__,
        "app": adapter.app_id,
        "adapter_version": adapter_version(adapter),
        "source": adapter.source,
        "tab": f"{tab_url.scheme}://{tab_url.netloc}{tab_url.path}" if tab_url.netloc else "",
        "mode": mode,
        "item": item_data(item),
        "window": [window[0].isoformat(), window[1].isoformat()] if window else None,
        "reason": reason or getattr(exc, "reason", None) or str(exc),
        "error": type(exc).__name__ if exc is not None else "ListedRed",
        "where": where(exc) if exc is not None else [],
        "created": datetime.now().astimezone().isoformat(timespec="seconds"),
        "session": [asdict(e) for e in _sessions.get(adapter, [])],
        "requests": [asdict(e) for e in taken.exchanges],
    }
    # The fakes follow from what the bundle holds: the same answers always scrub to the same bundle.
    content = hashlib.sha256("\x00".join(e["body"] for e in bundle["session"] + bundle["requests"]).encode())
    scrubber = Scrubber(keep=[item.number] if item is not None else (),
                        seed=int.from_bytes(content.digest()[:8], "big"))
    # What the parse made is personal wherever it stands, even where no label, key or shape tells.
    for known in [item, *taken.listed, *known_values(exc)]:
        scrubber.add_known(known)
    if bundle["item"] is not None:
        scrubber.find_data(bundle["item"]["ref"])  # a record the list gave: read by its keys
    for exchange in bundle["session"] + bundle["requests"]:
        if exchange["kind"] == "evaluate":
            scrubber.add_script_result(json.loads(exchange["body"]))
        scrubber.find(exchange["body"], exchange["content_type"])
        scrubber.find(exchange["path"])
        scrubber.find(exchange["final"])
    scrubber.find(bundle["reason"])
    scrubber.find(bundle["tab"])
    scrubbed = scrubber.scrub_tree({key: value for key, value in bundle.items() if key not in ("where", "created")})
    return {**scrubbed, "where": bundle["where"], "created": bundle["created"]}


_EXTENSIONS = {"html": ".html", "json": ".json", "xml": ".xml", "javascript": ".js", "plain": ".txt"}


def _extension(content_type: str) -> str:
    return next((ext for key, ext in _EXTENSIONS.items() if key in content_type), ".txt")


def pack(bundle: dict[str, Any]) -> bytes:
    """The bundle as zip bytes: `bundle.json` and each body under `answers/`."""
    manifest = {key: value for key, value in bundle.items() if key not in ("session", "requests")}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for group in ("session", "requests"):
            listed = []
            for number, exchange in enumerate(bundle[group], 1):
                name = f"answers/{group}-{number:03d}{_extension(exchange['content_type'])}"
                archive.writestr(name, exchange["body"])
                listed.append({**{k: v for k, v in exchange.items() if k != "body"}, "file": name,
                               "size": len(exchange["body"].encode())})
            manifest[group] = listed
        archive.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
    return buffer.getvalue()


def write(folder: Path, bundle: dict[str, Any], *, name: str) -> Path:
    """Writes the bundle as a new file 0600 in `folder` (created 0700); never through a symbolic link."""
    from a21import.files import LinkRefused, make_folders

    folder = Path(folder)
    if folder.is_symlink():
        raise LinkRefused(folder)
    make_folders(folder)
    if os.name == "posix" and folder.stat().st_uid == os.geteuid():
        os.chmod(folder, 0o700)
    data = pack(bundle)
    stem = re.sub(r"[^A-Za-z0-9_-]", "_", name)[:80]
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    for attempt in range(1000):
        path = folder / f"{stem}-{stamp}{f'-{attempt}' if attempt else ''}.zip"
        try:
            handle = os.open(path, flags, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        return path
    raise FileExistsError(str(folder))


# -- reading a bundle --------------------------------------------------------------------------------
def load(path: Path) -> dict[str, Any]:
    """A bundle (zip or unpacked folder) with its bodies in place. Raises BadInput when it is not one."""
    from a21import.errors import BadInput

    path = Path(path)
    try:
        if path.is_dir():
            def read(name: str) -> bytes:
                return (path / name).read_bytes()
        else:
            archive = zipfile.ZipFile(path)
            if sum(info.file_size for info in archive.infolist()) > MAX_BUNDLE_BYTES:
                raise BadInput(_("{path} is larger than a capture bundle can be.").format(path=path))

            def read(name: str) -> bytes:
                return archive.read(name)
        bundle = json.loads(read(MANIFEST))
        for group in ("session", "requests"):
            for exchange in bundle.get(group) or []:
                exchange["body"] = read(exchange["file"]).decode("utf-8", "replace")
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, TypeError) as exc:
        raise BadInput(_("{path} is not a capture bundle of a21import ({error}).").format(
            path=path, error=type(exc).__name__)) from exc
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT or "app" not in bundle:
        raise BadInput(_("{path} is not a capture bundle of a21import this version can read.").format(path=path))
    return bundle
