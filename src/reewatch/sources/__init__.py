"""Source layouts: each module knows one layout — `detect(bytes, name) -> bool` and `parse(bytes, name)`.

Layouts are recognised by content, never by file name: the first module whose `detect` says yes parses the file.
"""

from __future__ import annotations

from types import ModuleType

from reewatch.sources import headline
from reewatch.sources.base import ParsedRelease, UnreadableRelease

LAYOUTS: tuple[ModuleType, ...] = (headline,)


def parse_release(data: bytes, name: str) -> ParsedRelease:
    """Detect the layout and parse; `UnreadableRelease` when no layout fits or the file is broken."""
    if not data.strip():
        raise UnreadableRelease("the file is empty")
    for layout in LAYOUTS:
        if layout.detect(data, name):
            parsed: ParsedRelease = layout.parse(data, name)
            return parsed
    raise UnreadableRelease("no known layout matches this file (see DOMAIN.md §3 for the layouts reewatch reads)")


__all__ = ["LAYOUTS", "ParsedRelease", "UnreadableRelease", "parse_release"]
