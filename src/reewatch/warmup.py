"""Warm up, in a background thread, what the end of a run that loads data needs: Great Expectations for the quality
gate and vl-convert's JavaScript engine for the report's charts.

Importing GX costs about 5 s (scipy, every expectation class) and vl-convert's first chart about 0.3 s (its engine
starts); at the end of a run they sit on the critical path. A run that has releases to load starts this before
loading them: staging and committing run inside DuckDB, which releases the GIL, so the warm-up overlaps that work
instead of following it. On 2 cores the overlap is partial, since DuckDB wants both: a 1M-row ingest's staging
takes ~3 s longer while the gate and report take ~4.3 s less, ~1.2 s saved (medians of 4, back to back). Running
the thread at a lower OS priority was slower still. A run with nothing new never starts it: it would only compete
for the CPU.

Nothing has to wait for the thread explicitly: the gate's `import great_expectations` blocks on Python's import lock
until the background import has finished (it never sees a half-imported module), and a chart drawn while the
engine is still starting waits for it. A failure here is only logged at debug level: the gate and the report import
and render as they always did, and report their own errors there.
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)

# A chart as small as Vega-Lite allows: drawing it starts vl-convert's engine, which later charts reuse.
_TINY_CHART = {
    "data": {"values": [{"x": 0}]},
    "mark": "point",
    "encoding": {"x": {"field": "x", "type": "quantitative"}},
}


def start() -> threading.Thread:
    """Start the warm-up (a daemon thread: a run that fails early does not wait for it) and return its thread."""
    thread = threading.Thread(target=_warm_up, name="reewatch-warm-up", daemon=True)
    thread.start()
    return thread


def _warm_up() -> None:
    try:
        import vl_convert

        vl_convert.vegalite_to_svg(_TINY_CHART)
        # First what staging imports (pandas, polars, Pandera, the parsers), so both threads take those packages'
        # import locks in the same order and can never wait on each other crosswise (a deadlock Python breaks by
        # handing one thread a half-initialised module); the main thread needs them at once and waits either way.
        import reewatch.sources  # noqa: F401, I001 - in stage_release's order: the parsers, then the contracts
        import reewatch.contracts  # noqa: F401

        from reewatch.quality import load_gx

        load_gx()
    except Exception:  # the gate and the report do the same work again and report their own errors
        log.debug("warm-up failed; the gate and the report will import and start what they need", exc_info=True)
