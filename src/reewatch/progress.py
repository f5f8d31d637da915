"""Progress of long work for whoever watches a run: an updating line on a terminal, a log line every few seconds in
a log. Short work stays silent."""

from __future__ import annotations

import logging
import sys
import threading
import time
from pathlib import Path
from types import TracebackType

log = logging.getLogger(__name__)
QUIET_SECONDS = 2.0  # work that finishes sooner shows nothing


class ReadProgress:
    """How far a native reader (polars' streaming engine) has got through a file, polled from a thread while it
    runs. polars reports no progress; what this process's native threads have read (`/proc/self/task/*/io`,
    Linux) over the file's size is a fair estimate, and on other systems the line shows the time alone.

        with ReadProgress(path, "exports.csv (typing)"):
            frame.sink_parquet(target)
    """

    def __init__(self, path: Path, label: str, every: float = 5.0) -> None:
        self.size, self.label = max(path.stat().st_size, 1), label
        self.every = 0.5 if sys.stderr.isatty() else every
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, name=f"progress {label}", daemon=True)
        self.shown = False

    def __enter__(self) -> ReadProgress:
        self.started, self.read_before = time.monotonic(), _read_by_native_threads()
        self.thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop.set()
        self.thread.join()
        if self.shown and sys.stderr.isatty():
            sys.stderr.write("\n")

    def _poll(self) -> None:
        while not self.stop.wait(self.every):
            elapsed = time.monotonic() - self.started
            if elapsed < QUIET_SECONDS:
                continue
            read = _read_by_native_threads()
            text = f"{self.label}: working for {elapsed:.0f} s"
            if read is not None and self.read_before is not None:
                # Capped: another native reader in this process (a DuckDB statement) would inflate the count.
                text += f", about {min(99, 100 * (read - self.read_before) // self.size)}% of the file read"
            if sys.stderr.isatty():
                sys.stderr.write("\r" + text)
                sys.stderr.flush()
            else:
                log.info("%s", text)
            self.shown = True


def _read_by_native_threads() -> int | None:
    """Bytes read so far by this process's threads that Python did not start (Linux), None elsewhere. The process's
    count less its Python threads' own: the archive copy, for one, runs in a Python thread beside the typing."""
    try:
        total = _bytes_read(Path("/proc/self/io"))
        python = sum(_bytes_read(Path(f"/proc/self/task/{t.native_id}/io")) for t in threading.enumerate())
    except OSError:  # not Linux, or a Python thread ended between the listing and its read (next poll)
        return None
    return total - python


def _bytes_read(io_file: Path) -> int:
    for line in io_file.read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise OSError(f"no rchar in {io_file}")
