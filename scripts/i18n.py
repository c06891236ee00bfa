"""The Polish catalogue, with Babel: extract the messages, merge translations, check, compile.

    python scripts/i18n.py build            # extract, update pl .po (keeping translations), compile .mo
    python scripts/i18n.py check            # exit 1 listing what is untranslated or inconsistent
    python scripts/i18n.py part OUT.po FILE...   # a .po of just these files' messages (to translate)

`build` merges every `a21import/locale/parts/*.po` into the catalogue first (then the parts can go).
Typer's own translatable texts (Options, Arguments, required, …) are extracted from the installed
Typer too (marked `#. Click`); the tests check only a21import's own messages.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "a21import"
LOCALE = PACKAGE / "locale"
PO = LOCALE / "pl" / "LC_MESSAGES" / "a21import.po"
MO = PO.with_suffix(".mo")
PARTS = LOCALE / "parts"
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")
PERCENT = re.compile(r"%\((\w+)\)[sd]|%[sd]")


def _add(catalog: Catalog, found, where: Path) -> None:
    for filename, lineno, message, _comments, _context in found:
        if not message or (isinstance(message, tuple) and not all(message)):
            continue
        path = Path(filename) if Path(filename).is_absolute() else where / filename
        location = (str(path.resolve().relative_to(ROOT)), lineno)
        existing = catalog.get(message[0] if isinstance(message, tuple) else message)
        if existing is not None:
            existing.locations.append(location)
        else:
            catalog.add(message, locations=[location])


def template(files: list[Path] | None = None, *, with_click: bool = True) -> Catalog:
    catalog = Catalog(locale="pl", project="a21import", domain="a21import", charset="utf-8")
    if files is None:
        found = extract_from_dir(str(PACKAGE), method_map=[("**.py", "python")], keywords=KEYWORDS)
        _add(catalog, found, PACKAGE)
        if with_click:
            for found, origin in _library_messages():
                for filename, lineno, message, _comments, _context in found:
                    if message and (not isinstance(message, tuple) or all(message)):
                        if catalog.get(message[0] if isinstance(message, tuple) else message) is None:
                            catalog.add(message, locations=[(f"{origin}/{filename}", lineno)], auto_comments=["Click"])
    else:
        for file in files:
            found = [(str(file.resolve()), lineno, message, comments, context)
                     for lineno, message, comments, context in extract_from_file("python", str(file),
                                                                                 keywords=KEYWORDS)]
            _add(catalog, found, file)
    return catalog


def _library_messages():
    """Typer's own translatable texts (Options, Arguments, Commands, required, default: …). Typer vendors
    its copy of Click without gettext, so Usage:, --help's text and Click's usage errors stay English."""
    import typer

    keywords = {"_": None, "ngettext": (1, 2)}
    typer_core = Path(typer.__file__).parent / "core.py"
    yield ((str(typer_core.name), *rest) for rest in extract_from_file("python", str(typer_core),
                                                                       keywords=keywords)), "typer"


def read(path: Path) -> Catalog:
    with open(path, "rb") as handle:
        return read_po(handle, locale="pl", domain="a21import")


def write(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        write_po(handle, catalog, width=120, sort_output=False, omit_header=False)


def _key(message) -> str:
    return message.id[0] if isinstance(message.id, (tuple, list)) else message.id


def merge(target: Catalog, sources: list[Catalog]) -> None:
    """Fills untranslated messages of `target` from `sources` (first translation wins)."""
    for source in sources:
        for message in source:
            if not message.id or not _translated(message):
                continue
            mine = target.get(_key(message))
            if mine is not None and not _translated(mine):
                mine.string = message.string
                mine.flags.discard("fuzzy")


def _translated(message) -> bool:
    if isinstance(message.string, (tuple, list)):
        return all(message.string)
    return bool(message.string)


def problems(catalog: Catalog, *, ours_only: bool = True) -> list[str]:
    found = []
    for message in catalog:
        if not message.id:
            continue
        if ours_only and message.auto_comments == ["Click"]:
            continue
        ids = message.id if isinstance(message.id, (tuple, list)) else (message.id,)
        strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
        where = ", ".join(f"{f}:{n}" for f, n in message.locations[:2])
        if not all(strings):
            found.append(f"untranslated ({where}): {ids[0]!r}")
            continue
        if "fuzzy" in message.flags:
            found.append(f"fuzzy ({where}): {ids[0]!r}")
        wanted = sorted(set(PLACEHOLDER.findall(ids[-1])) | set(PLACEHOLDER.findall(ids[0])))
        wanted_pct = sorted(set(PERCENT.findall(ids[0])))
        for string in strings:
            if sorted(set(PLACEHOLDER.findall(string))) != wanted or sorted(set(PERCENT.findall(string))) != wanted_pct:
                found.append(f"placeholders differ ({where}): {ids[0]!r} → {string!r}")
    return found


def build() -> Catalog:
    catalog = template()
    sources = [read(PO)] if PO.exists() else []
    sources += [read(part) for part in sorted(PARTS.glob("*.po"))]
    merge(catalog, sources)
    write(catalog, PO)
    with open(MO, "wb") as handle:
        write_mo(handle, catalog, use_fuzzy=False)
    return catalog


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "build"
    if command == "build":
        catalog = build()
        missing = problems(catalog)
        print(f"{PO.relative_to(ROOT)}: {len(catalog)} messages; {len(missing)} problems.")
        for line in missing[:50]:
            print("  " + line)
        return 0
    if command == "check":
        missing = problems(read(PO)) if PO.exists() else ["no catalogue"]
        current = {_key(m) for m in template(with_click=False) if m.id}
        stored = {_key(m) for m in read(PO) if m.id} if PO.exists() else set()
        missing += [f"not in the catalogue: {m!r}" for m in sorted(current - stored)]
        for line in missing:
            print(line)
        return 1 if missing else 0
    if command == "part":
        out, files = Path(argv[1]), [Path(f) for f in argv[2:]]
        catalog = template(files)
        if out.exists():
            merge(catalog, [read(out)])
        write(catalog, out)
        untranslated = [m for m in catalog if m.id and not _translated(m)]
        print(f"{out}: {len(catalog)} messages, {len(untranslated)} untranslated.")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
