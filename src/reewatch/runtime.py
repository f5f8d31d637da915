"""What a run asks of the Python process it runs in: a garbage collector sized for a big, long-lived heap.

A run imports Prefect, Pandera and GX: ~360,000 objects that live until the process ends. At Python's default the
collector runs every 700 new container objects and keeps rescanning that heap (importing GX, Prefect and
Pandera: ~1,000 collections, 0.7 s), and at exit the interpreter collects all of it once more (~1 s). A one-file
`reewatch ingest` spent ~2 s of its ~11 s there (benchmarks/RESULTS.md, stop 15).
"""

from __future__ import annotations

import gc

# A collection every 10,000 new objects instead of 700 (the older generations keep their defaults): still often
# enough for the cyclic garbage a run makes, with a tenth of the rescans.
GEN0_THRESHOLD = 10_000


def tune_gc_for_a_run() -> None:
    """Call before the run's imports: they are the bulk of the heap."""
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)


def skip_gc_at_exit() -> None:
    """Move everything alive into the permanent generation, which later collections and the interpreter's final
    ones skip. The command line calls it when the run is over: only cyclic garbage stays uncollected, and by then
    what must outlive the run is closed and committed; Prefect's log and event workers still drain, and logging
    still flushes, at exit. The GX worker calls it once GX is imported: that heap lives until the worker exits."""
    gc.freeze()
