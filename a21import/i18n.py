"""Messages in the user's language: Polish where the locale (or --lang pl) says so, English otherwise.

Every user-facing sentence is written in English in the code and wrapped in `_()` (or `ngettext()`
for counts), with named `{placeholders}` filled by `.format()` after translation:

    _("The policy {number} is not in the database.").format(number=number)

The Polish catalogue is `a21import/locale/pl/LC_MESSAGES/a21import.po` (compiled to `.mo` next to it);
`python scripts/i18n.py` extracts the messages with Babel, checks and compiles the catalogue.
The language is chosen once, before the CLI builds its help texts: `--lang` on the command line,
then `A21IMPORT_LANG`, then the locale (`LC_ALL`, `LC_MESSAGES`, `LANG`, `LANGUAGE`, as gettext reads them).
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

DOMAIN = "a21import"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("en", "pl")
DEFAULT = "en"

_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = DEFAULT
_ORIGINAL: dict[str, str | None] = {}  # the environment's values before setup() changed them


def _(message: str) -> str:
    """The message in the chosen language."""
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The message for `n` things (Polish has three forms: 1 polisa, 2 polisy, 5 polis)."""
    return _translation.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a message for extraction where it is translated later (module-level tables)."""
    return message


def language() -> str:
    return _language


def language_from(argv: Sequence[str], environ: Mapping[str, str]) -> str:
    """The language asked for: `--lang X` / `--lang=X` in argv, then A21IMPORT_LANG, then the locale.
    An unknown value in argv is left for the CLI to refuse; here it falls back to the environment."""
    for i, arg in enumerate(argv):
        value = None
        if arg == "--lang" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--lang="):
            value = arg.split("=", 1)[1]
        if value is not None and value.strip().lower() in LANGUAGES:
            return value.strip().lower()
    explicit = environ.get("A21IMPORT_LANG", "").strip().lower()
    if explicit in LANGUAGES:
        return explicit
    for name in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = environ.get(name, "")
        if value:
            first = value.split(":")[0].lower()
            return "pl" if first.startswith("pl") else DEFAULT
    return _system_language()


def strip_lang(argv: Sequence[str]) -> list[str]:
    """argv without `--lang X` / `--lang=X` (read by `setup` already); an unknown language is bad input."""
    from a21import.errors import BadInput

    rest: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg == "--":
            rest += [arg, *args]
            break
        if arg == "--lang" or arg.startswith("--lang="):
            value = arg.split("=", 1)[1] if "=" in arg else next(args, "")
            if value.strip().lower() not in LANGUAGES:
                raise BadInput(_("--lang must be one of: {languages}.").format(languages=", ".join(LANGUAGES)))
            continue
        rest.append(arg)
    return rest


def _system_language() -> str:
    """Windows and macOS keep the language outside the environment."""
    import locale

    try:
        name = locale.getlocale()[0] or ""
    except ValueError:
        name = ""
    return "pl" if name.lower().startswith(("pl", "polish")) else DEFAULT


def setup(lang: str | None = None, *, argv: Sequence[str] = (), environ: Mapping[str, str] | None = None) -> str:
    """Chooses the language (explicitly, or from argv and the environment) and loads its catalogue.
    Click's own texts (Usage:, Options:, its error messages) are translated from the same catalogue."""
    global _translation, _language
    environ = os.environ if environ is None else environ
    _language = lang if lang in LANGUAGES else language_from(argv, environ)
    if _language == DEFAULT:
        _translation = gettext.NullTranslations()
    else:
        _translation = gettext.translation(DOMAIN, LOCALE_DIR, languages=[_language], fallback=True)
    # Click calls gettext.gettext(), which reads the global domain and the LANGUAGE variable.
    gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))
    gettext.textdomain(DOMAIN)
    _ORIGINAL.setdefault("LANGUAGE", os.environ.get("LANGUAGE"))
    os.environ["LANGUAGE"] = _language
    return _language


def child_environ() -> dict[str, str]:
    """The environment for programs a21import starts (the browser): LANGUAGE as the user had it."""
    environ = dict(os.environ)
    original = _ORIGINAL.get("LANGUAGE", environ.get("LANGUAGE"))
    if original is None:
        environ.pop("LANGUAGE", None)
    else:
        environ["LANGUAGE"] = original
    return environ
