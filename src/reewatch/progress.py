"""Progress of long work for whoever watches a run: an updating line on a terminal, a log line every few seconds in
a log. Short work stays silent."""

from __future__ import annotations

import logging
import sys
import threading
import time
from types import TracebackType

import duckdb

log = logging.getLogger(__name__)
QUIET_SECONDS = 2.0  # work that finishes sooner shows nothing


class QueryProgress:
    """How far one DuckDB statement has got (DuckDB's own estimate), polled from a thread while it runs.

        with QueryProgress(con, "exports.csv"):
            con.execute("COPY ...")
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, label: str, every: float = 5.0) -> None:
        self.con, self.label = con, label
        self.every = 0.5 if sys.stderr.isatty() else every
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, name=f"progress {label}", daemon=True)
        self.shown = False

    def __enter__(self) -> QueryProgress:
        self.con.execute("SET enable_progress_bar = true")  # DuckDB tracks progress only with its bar enabled
        self.con.execute("SET enable_progress_bar_print = false")  # ... and we print it ourselves
        self.started = time.monotonic()
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
            percent = self.con.query_progress()
            if elapsed < QUIET_SECONDS or percent < 0:
                continue
            text = f"{self.label}: working for {elapsed:.0f} s, about {percent:.0f}% done by DuckDB's estimate"
            if sys.stderr.isatty():
                sys.stderr.write("\r" + text)
                sys.stderr.flush()
            else:
                log.info("%s", text)
            self.shown = True
