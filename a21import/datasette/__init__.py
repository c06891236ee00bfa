"""The Datasette metadata shipped with a21import: Polish titles and descriptions of the tables and
columns, and the label columns that make Datasette show a client's name and a vehicle's registration
in place of their ids (it finds a label by itself only in a column called `name` or `title`).

Datasette keys the metadata by the database's name, which is its file name without the suffix, so
the file written for `agent21.db` is keyed `agent21`, and for `office.db` it is keyed `office`.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from a21import.export import check_output, write_atomically

TEMPLATE_KEY = "agent21"


def metadata(database_name: str = TEMPLATE_KEY) -> dict[str, Any]:
    """The metadata document for a database that Datasette names `database_name`."""
    document = json.loads(resources.files(__package__).joinpath("metadata.json").read_text(encoding="utf-8"))
    document["databases"] = {database_name: document["databases"][TEMPLATE_KEY]}
    return document


def default_output(db_path: Path) -> Path:
    """`agent21.db` → `agent21.metadata.json` beside it."""
    return db_path.with_name(f"{db_path.stem}.metadata.json")


def write_metadata(db_path: Path, output: Path | None = None, *, force: bool = False) -> Path:
    """Writes the metadata for the database file `db_path`; returns where. An existing file is only
    replaced with `force`, except one that this function wrote before (same tables, refreshed)."""
    db_path = Path(db_path).expanduser()
    output = check_output(output if output is not None else default_output(db_path), force=force,
                          replaceable=_is_ours)
    text = json.dumps(metadata(db_path.stem), ensure_ascii=False, indent=2) + "\n"
    # Written beside and moved into place: never through a link planted at `output` after the check.
    write_atomically(output, lambda path: path.write_text(text, encoding="utf-8"))
    return output


def _is_ours(path: Path) -> bool:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    template = metadata()
    return (isinstance(document, dict) and document.get("title") == template["title"]
            and isinstance(document.get("databases"), dict))
