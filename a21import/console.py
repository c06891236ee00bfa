"""The one kind of Rich console every command prints through.

Whatever reaches it, a value read from an app or the database, an app's own error message, a
sentence quoting either, is cleaned of escape sequences and control characters segment by segment
(a21import.text.clean), after Rich has laid it out and before it is written: the last guard in front
of the terminal. Rich's own cursor movements (segments marked as control) pass untouched.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.segment import Segment

from a21import.text import clean


class SafeConsole(Console):
    def __init__(self, **options: Any):
        options.setdefault("highlight", False)
        super().__init__(**options)

    def render(self, renderable: Any, options: Any = None) -> Iterable[Segment]:
        for segment in super().render(renderable, options):
            if segment.control or not segment.text:
                yield segment
                continue
            text = clean(segment.text, lines=True)
            yield segment if text == segment.text else Segment(text, segment.style, segment.control)
