"""Warm up, while a run loads its files, what the end of the run needs: Great Expectations for the quality gate (in
a worker process: reewatch.gx_worker), and vl-convert's JavaScript engine and the chart library for the report (in
a thread).

Importing GX costs ~2 s of CPU in the worker (more where its bytecode was not compiled at install), vl-convert's
first chart ~0.3 s (its engine starts) and altair's import ~0.4 s; at the end of a run they would sit on the critical
path.
GX imports in a process of its own, at a lower priority: in a thread of the run it competed for the GIL with
everything the run does in Python (and such a thread at a lower OS priority was slower still). `reewatch ingest`
and `demo` start the warm-up before they even import Prefect; `reewatch run` once it has found new files (a run
with nothing new never starts it: it would only spend CPU).

Nothing waits for the warm-up explicitly: the gate hands the worker its request and the worker answers once GX is
imported, and a chart drawn while the engine is still starting waits for it. A failure here is only logged at
debug level: the gate validates in the run's process if the worker cannot, and the report starts the engine itself.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from reewatch.gx_worker import GxWorker

log = logging.getLogger(__name__)

# A chart as small as Vega-Lite allows: drawing it starts vl-convert's engine, which later charts reuse.
_TINY_CHART = {
    "data": {"values": [{"x": 0}]},
    "mark": "point",
    "encoding": {"x": {"field": "x", "type": "quantitative"}},
}


@dataclass
class Warmup:
    gx: GxWorker | None  # None if the worker could not be started: the gate then validates in the run's process
    charts: threading.Thread | None = None


_current: Warmup | None = None  # one per run, and a process runs one run at a time


def start(charts: bool = True) -> None:
    """Start what is not started yet: the GX worker, and (unless `charts` is False) the chart thread. The command
    line starts only the worker before Prefect's import: the thread's imports would compete with it for the GIL."""
    global _current
    if _current is None:
        try:
            worker: GxWorker | None = GxWorker()
        except OSError:
            log.debug("could not start the GX worker; the gate will import GX itself", exc_info=True)
            worker = None
        _current = Warmup(worker)
    if charts and _current.charts is None:
        _current.charts = threading.Thread(target=_start_chart_engine, name="reewatch-warm-up", daemon=True)
        _current.charts.start()


def gx_worker() -> GxWorker | None:
    """This run's GX worker, if it started one."""
    return _current.gx if _current is not None else None


def stop() -> None:
    """At the end of a run: stop the GX worker if the gate did not use it (nothing new, or the run failed)."""
    global _current
    if _current is not None and _current.gx is not None:
        _current.gx.stop()
    _current = None


@contextlib.contextmanager
def until_the_run_ends() -> Iterator[None]:
    """Whatever is started inside is stopped when the run ends, however it ends."""
    try:
        yield
    finally:
        stop()


def _start_chart_engine() -> None:
    try:
        import vl_convert

        vl_convert.vegalite_to_svg(_TINY_CHART)
        # Then the chart library (~0.4 s), after what staging imports (pandas, polars, Pandera, the parsers) so that
        # both threads take those packages' import locks in the same order and can never wait on each other
        # crosswise (a deadlock Python breaks by handing one thread a half-initialised module).
        import reewatch.sources  # noqa: F401, I001 - in stage_release's order: the parsers, then the contracts
        import reewatch.contracts  # noqa: F401
        import altair  # noqa: F401
    except Exception:  # the report starts the engine itself and reports its own errors
        log.debug("chart engine warm-up failed; the report will start it", exc_info=True)
