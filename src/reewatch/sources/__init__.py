"""Source layouts: each module knows one layout — `detect(head, name) -> bool` and `parse(bytes, name)`, or
`parse_path(path, name)` for layouts too large to hold in memory.

Layouts are recognised by content, never by file name: the first module whose `detect` says yes parses the file.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from reewatch.sources import comtrade, detailed, headline, press, surveys, usgs
from reewatch.sources.base import ParsedRelease, UnreadableRelease

LAYOUTS: tuple[ModuleType, ...] = (headline, comtrade, detailed, surveys, usgs, press)
HEAD_BYTES = 65536
# Workbooks are zip (xlsx) or OLE2 (xls) containers: detection needs the whole (small) file, not its head.
_CONTAINER_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")
# Layouts without `parse_path` read the whole file into memory (and then hold its cells as Python strings, several
# times its size). Their real files are kilobytes to a few megabytes; a larger one is refused before it is read.
MAX_IN_MEMORY_BYTES = 64 * 1024 * 1024
_NO_LAYOUT = "no known layout matches this file (the README's \"What it reads\" lists the layouts reewatch reads)"


def parse_release_file(path: Path, name: str, scratch: Path | None = None) -> ParsedRelease:
    """Detect the layout from the content and parse; `UnreadableRelease` when nothing fits or the file is broken.
    `scratch` is a folder for this release's working files that outlives the parse (its owner removes it): a later
    parse of the same bytes with the same folder reuses them."""
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    if not head.strip():
        raise UnreadableRelease("the file is empty")
    size = path.stat().st_size
    if head.startswith(_CONTAINER_MAGIC) and size > MAX_IN_MEMORY_BYTES:
        raise UnreadableRelease(f"a {size:,}-byte workbook: over the {MAX_IN_MEMORY_BYTES:,} bytes reewatch reads")
    sample = path.read_bytes() if head.startswith(_CONTAINER_MAGIC) else head
    for layout in LAYOUTS:
        if layout.detect(sample, name):
            if hasattr(layout, "parse_path"):
                parsed: ParsedRelease = layout.parse_path(path, name, scratch)
            else:
                if size > MAX_IN_MEMORY_BYTES:
                    raise UnreadableRelease(
                        f"{size:,} bytes is over the {MAX_IN_MEMORY_BYTES:,} reewatch reads for a "
                        f"{layout.__name__.rsplit('.', 1)[-1]} file (read whole into memory; such files are a few KB "
                        "to a few MB): is it the right file?"
                    )
                parsed = layout.parse(sample if sample is not head else path.read_bytes(), name)
            return parsed
    raise UnreadableRelease(_unknown(head))


def parse_release(data: bytes, name: str) -> ParsedRelease:
    """The same for bytes in memory (tests, small files)."""
    if not data.strip():
        raise UnreadableRelease("the file is empty")
    for layout in LAYOUTS:
        if layout.detect(data if data.startswith(_CONTAINER_MAGIC) else data[:HEAD_BYTES], name):
            parsed: ParsedRelease = layout.parse(data, name)
            return parsed
    raise UnreadableRelease(_unknown(data[:HEAD_BYTES]))


def _unknown(head: bytes) -> str:
    """Why no layout took the file, as precisely as its first bytes tell."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16 text: reewatch reads CSV in UTF-8 or GB18030 (save the file as UTF-8)"
    if head.startswith(_CONTAINER_MAGIC):
        return "a zip or OLE2 file that holds no Excel workbook reewatch reads (a Word file, a plain .zip?)"
    if b"\x00" in head:  # anywhere in it: a layout may have refused the file for a NUL past its first 4 KB
        return "binary content (NUL bytes), neither CSV/JSON text nor an Excel workbook: " + _NO_LAYOUT
    return _NO_LAYOUT


__all__ = ["LAYOUTS", "ParsedRelease", "UnreadableRelease", "parse_release", "parse_release_file"]
