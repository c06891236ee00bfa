"""Polish messages: the language choice, the catalogue's completeness, and the CLI speaking Polish."""

from __future__ import annotations

import ast
import gettext
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from a21import import errors, i18n

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "a21import"


def _script():
    spec = importlib.util.spec_from_file_location("i18n_script", ROOT / "scripts" / "i18n.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("argv, environ, expected", [
    (["period", "--lang", "pl"], {}, "pl"),
    (["--lang=pl", "period"], {"LANG": "en_US.UTF-8"}, "pl"),
    (["--lang", "en"], {"LANG": "pl_PL.UTF-8"}, "en"),
    ([], {"A21IMPORT_LANG": "pl", "LANG": "en_US.UTF-8"}, "pl"),
    ([], {"LC_ALL": "pl_PL.UTF-8"}, "pl"),
    ([], {"LANG": "pl_PL.UTF-8"}, "pl"),
    ([], {"LC_ALL": "C", "LANG": "pl_PL.UTF-8"}, "en"),
    ([], {"LANGUAGE": "pl:en"}, "pl"),
    ([], {"LANG": "de_DE.UTF-8"}, "en"),
])
def test_the_language_comes_from_lang_then_the_environment(argv, environ, expected):
    assert i18n.language_from(argv, environ) == expected


def test_lang_is_taken_out_of_the_arguments():
    assert i18n.strip_lang(["--lang", "pl", "period", "--from", "x", "--lang=en"]) == ["period", "--from", "x"]
    assert i18n.strip_lang(["policy", "--", "--lang"]) == ["policy", "--", "--lang"]
    with pytest.raises(errors.BadInput):
        i18n.strip_lang(["--lang", "de"])


def test_every_message_is_in_the_catalogue_translated_with_its_placeholders():
    script = _script()
    template = script.template(with_click=False)
    catalogue = script.read(script.PO)
    translated = {script._key(m): m for m in catalogue if m.id}
    missing = [script._key(m) for m in template if m.id and script._key(m) not in translated]
    assert not missing, f"messages missing from the catalogue (run python scripts/i18n.py build): {missing[:20]}"
    assert script.problems(catalogue) == []


def test_the_compiled_catalogue_matches_the_po_file():
    script = _script()
    with open(script.MO, "rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for message in script.read(script.PO):
        if not message.id or "fuzzy" in message.flags:
            continue
        if isinstance(message.id, (tuple, list)):
            for n, string in zip((1, 2, 5), message.string):
                assert compiled.ngettext(message.id[0], message.id[1], n) == string
        elif message.string:
            assert compiled.gettext(message.id) == message.string, "run python scripts/i18n.py build"


# The calls whose first argument the user reads: domain errors, notes and help texts.
_MESSAGE_CALLS = {cls.__name__ for cls in vars(errors).values() if isinstance(cls, type)
                  and issubclass(cls, (errors.A21Error, errors.PolicyError))} | {"note", "_error", "Text"}


def _literal(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str) and any(c.isalpha() for c in node.value))


def test_user_facing_sentences_go_through_the_catalogue():
    """A sentence written straight into an error, a note or a help text would stay English in Polish."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            candidates = []
            if name in _MESSAGE_CALLS and node.args:
                candidates.append(node.args[0])
            candidates += [kw.value for kw in node.keywords if kw.arg == "help"]
            for arg in candidates:
                if _literal(arg):
                    found.append(f"{path.relative_to(ROOT)}:{arg.lineno}")
    assert not found, f"wrap these in _(): {found}"


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in ("LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE",
                                                                 "A21IMPORT_LANG")}
    full_env.update({"A21IMPORT_LOG": "off", "PYTHONIOENCODING": "utf-8", "COLUMNS": "200", **env})
    return subprocess.run([sys.executable, "-m", "a21import", *args], capture_output=True, text=True, env=full_env,
                          cwd=ROOT, timeout=60)


def test_the_cli_speaks_polish_when_asked(tmp_path):
    db = str(tmp_path / "a.db")
    later = ("period", "--from", "2999-01-01", "--to", "2999-01-02", "--db", db)
    english = _cli(*later)
    assert english.returncode == 2 and "is later than today" in english.stderr
    polish = _cli(*later, "--lang", "pl")
    assert polish.returncode == 2 and "jest późniejsza niż dziś" in polish.stderr
    by_locale = _cli(*later, LANG="pl_PL.UTF-8")
    assert "jest późniejsza niż dziś" in by_locale.stderr
    overridden = _cli(*later, "--lang", "en", LANG="pl_PL.UTF-8")
    assert "is later than today" in overridden.stderr
    help_text = _cli("--lang", "pl", "period", "--help")
    assert help_text.returncode == 0
    assert "Opcje" in help_text.stdout and "[wymagane]" in help_text.stdout
    assert "Pierwsza data wystawienia" in help_text.stdout
    unknown = _cli("--lang", "de", "--help")
    assert unknown.returncode == 2 and "--lang must be one of: en, pl." in unknown.stderr


def test_the_browser_started_by_a21import_keeps_the_users_language(monkeypatch):
    monkeypatch.setenv("LANGUAGE", "de:en")
    monkeypatch.setattr(i18n, "_ORIGINAL", {})
    try:
        i18n.setup("pl")
        assert os.environ["LANGUAGE"] == "pl"  # for Click's own gettext
        assert i18n.child_environ()["LANGUAGE"] == "de:en"
    finally:
        i18n.setup("en")
    monkeypatch.delenv("LANGUAGE")
    monkeypatch.setattr(i18n, "_ORIGINAL", {})
    i18n.setup("en")
    assert "LANGUAGE" not in i18n.child_environ()
