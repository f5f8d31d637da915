"""Warm up, while a run loads its files, what the end of the run needs: Great Expectations for the quality gate, in
a worker process (reewatch.gx_worker).

Importing GX costs ~2 s of CPU in the worker (more where its bytecode was not compiled at install); at the gate it
would sit on the critical path. GX imports in a process of its own, at a lower priority: in a thread of the run it
competed for the GIL with everything the run does in Python (and such a thread at a lower OS priority was slower
still). Every command-line run starts the worker before it even imports Prefect, also one that may find nothing
new: such a run stops it as soon as its flow has listed landing/, having spent ~1 s of the other core on GX (its own
wall time 1.40 → 1.47 s), while a `reewatch run` that does find a new file reaches its gate with GX imported (one
small release 4.74 → 4.06 s; benchmarks/RESULTS.md, stop 18). Runs of a deployment start it once their flow has
found new files.

The report's chart engine is not warmed up here any more: its first chart holds the GIL for ~0.3 s (vl-convert
starting its JavaScript engine), which stopped the run's own thread while it staged a small release. The report's
charts are drawn while the worker validates, when the run's thread only waits (reewatch.report.figures_in_background),
so the engine starts there for free (benchmarks/RESULTS.md, stop 18).

Nothing waits for the worker explicitly: the gate hands it its request and it answers once GX is imported. A worker
that cannot start is only logged at debug level: the gate then validates in the run's process.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from reewatch.gx_worker import GxWorker

log = logging.getLogger(__name__)

_worker: GxWorker | None = None  # this run's (a process runs one run at a time), once started


def start() -> None:
    """Start the GX worker, unless this run has started it already."""
    global _worker
    if _worker is not None:
        return
    try:
        _worker = GxWorker()
    except OSError:
        log.debug("could not start the GX worker; the gate will import GX itself", exc_info=True)


def gx_worker() -> GxWorker | None:
    """This run's GX worker, if it started one."""
    return _worker


def stop() -> None:
    """At the end of a run: stop the GX worker if the gate did not use it (nothing new, or the run failed)."""
    global _worker
    if _worker is not None:
        _worker.stop()
    _worker = None


@contextlib.contextmanager
def until_the_run_ends() -> Iterator[None]:
    """Whatever is started inside is stopped when the run ends, however it ends."""
    try:
        yield
    finally:
        stop()
