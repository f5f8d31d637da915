"""Great Expectations in a process of its own, so that importing it (~2 s of CPU) never holds up the run.

A run starts this worker first thing (reewatch.warmup). It imports GX on the machine's other core, at a lower
priority so that the staging keeps both cores when it wants them, while the run loads its files; then it waits. The
quality gate hands it a snapshot of the curated tables (a DuckDB file of their copies: thousands of rows) and gets
back the same outcomes and Data Docs that validating in the run's own process gives. In a thread of the
run's process that import competed with everything else for the GIL.

The protocol is one pickled `Request` on the worker's stdin and two pickled replies on its stdout: the outcomes,
sent as soon as every suite is validated, then the Data Docs' index once they are built (0.2–0.3 s, which the run
spends publishing meanwhile). The worker starts validating as soon as the request is whole, so the run can go on
with other work (the report's charts) before it waits for the outcomes. End of input without a request (the run had
nothing to check, or died) makes the worker exit. Anything that goes wrong in the worker reaches the gate as
`GxWorkerError`, and the gate then validates (or builds the Data Docs) in its own process as it always could.
"""

from __future__ import annotations

import importlib
import os
import pickle
import queue
import shutil
import signal
import subprocess
import sys
import threading
import traceback
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reewatch.quality import Validation

# Below the run's own priority: the import takes what the run leaves of the two cores.
NICENESS = 10
# Validating the curated tables takes seconds; a worker silent for this long is stuck, and the gate takes over.
REPLY_TIMEOUT_SECONDS = 600
# What GX imports with itself for one expectation that reewatch's suites never use, the KL divergence (scipy.stats
# for the statistic, altair for its chart): 0.8 s of GX's 2.4 s import, which a run with one small release waits
# for at its gate. The worker leaves them unimported until something uses them.
UNUSED_BY_OUR_SUITES = ("scipy.stats", "altair")


class GxWorkerError(RuntimeError):
    """The worker could not validate (it died, hung or failed): the gate validates in its own process instead."""


@dataclass(frozen=True)
class Request:
    snapshot: Path  # a DuckDB file holding the tables of the validation's schema
    validation: Validation


class GxWorker:
    """The run's side: start the worker, hand it one request, take its two replies, stop it."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(  # stderr is the run's: GX's own warnings show where the run's do
            [sys.executable, "-m", "reewatch.gx_worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        self._replies: queue.Queue[Any] = queue.Queue()

    def submit(self, request: Request) -> None:
        """Hand the worker its one request: it validates at once (or once GX is imported); `answer` waits for it."""
        if self._process.poll() is not None:
            raise GxWorkerError(f"the GX worker had stopped (exit code {self._process.returncode})")
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(pickle.dumps(request))
            self._process.stdin.close()  # its one request: the worker reads no more
        except OSError as exc:  # it died before reading: a broken pipe
            self.stop()
            raise GxWorkerError(f"the GX worker could not take the request: {exc}") from exc
        threading.Thread(target=self._read_replies, name="gx worker replies", daemon=True).start()

    def answer(self) -> Any:
        """The outcomes and timings `quality._validate` gives for the submitted request, computed in the worker."""
        return self._next_reply()

    def docs(self) -> Any:
        """The Data Docs' index (or None), once the worker has built the docs: after its answer."""
        return self._next_reply()

    def _read_replies(self) -> None:
        """Each reply as it arrives, then None once the worker has closed its end of the pipe (its interpreter's
        exit, 0.07 s more, is not waited for: `stop` reaps it)."""
        assert self._process.stdout is not None
        try:
            while True:
                self._replies.put(pickle.load(self._process.stdout))  # noqa: S301 - our own child, over a pipe
        except EOFError:
            self._replies.put(None)
        except Exception as exc:  # a reply cut short, or the pipe closed by `stop`
            self._replies.put(exc)

    def _next_reply(self) -> Any:
        try:
            reply = self._replies.get(timeout=REPLY_TIMEOUT_SECONDS)
        except queue.Empty:
            self.stop()
            raise GxWorkerError(f"no answer from the GX worker after {REPLY_TIMEOUT_SECONDS} s") from None
        if reply is None:  # it died before replying: its exit code says how
            self._process.wait()
            raise GxWorkerError(f"the GX worker exited with code {self._process.returncode}")
        if isinstance(reply, Exception):
            raise GxWorkerError(f"the GX worker's answer could not be read: {reply}")
        done, payload = reply
        if not done:
            raise GxWorkerError(f"the GX worker failed:\n{payload}")
        return payload

    def stop(self) -> None:
        """End the worker if it is still there (a run without a gate, or a run that failed)."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        for pipe in (self._process.stdin, self._process.stdout):
            if pipe is not None:
                pipe.close()


def main() -> None:
    # The reply alone goes to the pipe: whatever else writes to stdout (a library's print) goes to stderr.
    reply_pipe = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    # Ctrl-C in a terminal reaches the whole process group: the run handles it, and this process ends at EOF.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(NICENESS)
    from reewatch.runtime import skip_gc_at_exit, tune_gc_for_a_run

    tune_gc_for_a_run()
    import_on_first_use(UNUSED_BY_OUR_SUITES)
    from reewatch.quality import load_gx

    load_gx()
    # GX's heap lives until this process ends: out of every later collection, and out of the interpreter's final
    # one (without this the run waited ~1.3 s for the worker to exit after its answer).
    skip_gc_at_exit()
    try:  # one pickle, read as soon as it is whole: the run closes the pipe after it
        request: Request = pickle.load(sys.stdin.buffer)  # noqa: S301 - from the run that started this process
    except EOFError:  # nothing to check, or the run died
        return
    # Each reply is (True, what it carries) or (False, the traceback): plain data, as this module runs as __main__
    # here and a class of its own would not unpickle in the run. A failure before the outcomes is the first reply.
    def send(reply: tuple[bool, Any]) -> None:
        reply_pipe.write(pickle.dumps(reply))
        reply_pipe.flush()

    try:
        final: tuple[bool, Any] = (True, _validate(request, reply_pipe.fileno(), lambda answer: send((True, answer))))
    except Exception:
        final = (False, traceback.format_exc())
    with reply_pipe:
        send(final)


def _validate(request: Request, reply_fd: int, answer: Callable[[Any], None]) -> Path | None:
    """Validate the request's suites in two processes: this one and a fork of it, which has GX imported already;
    `answer` (outcomes, seconds) as soon as both have, then build the Data Docs and return their index.

    GX validates one expectation after another on one core (the run's seven suites: ~1.4 s), and the gate is on the
    run's critical path. The fork takes about half the suites (by their number of expectations), sends its outcomes
    back on a pipe, writes their Data Docs pages into a folder of its own and says when they are written; this
    process validates the others, builds their docs, moves the fork's pages in and makes the offline index over
    both. A fork that fails fails the request, and the gate validates in the run's process instead."""
    order = list(request.validation.suites)

    def in_order(reply: tuple[list[Any], dict[str, float]]) -> None:
        outcomes, seconds = reply
        outcomes.sort(key=lambda outcome: order.index(outcome.suite))  # stable: each suite keeps its own order
        answer((outcomes, seconds))

    halves = _halves(request.validation)
    # One suite; or threads, which a fork would not copy; or not Linux (macOS forbids fork once some system
    # libraries are loaded, Windows has no fork): one process validates everything.
    if halves is None or threading.active_count() > 1 or sys.platform != "linux":
        return _validate_snapshot(request.snapshot, request.validation, answer=in_order)[1]
    mine, theirs = halves
    theirs = replace(theirs, docs_dir=mine.docs_dir.with_name(f"{mine.docs_dir.name}.fork"))
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # the fork: its outcomes on the pipe, its pages, then out, never back into the worker's code
        try:
            os.close(read_end)
            os.close(reply_fd)  # the run reads its replies until every copy of that pipe is closed, this one too
            # A worker killed meanwhile (the run's timeout, Ctrl-C, a failed run): a broken pipe, and out all the same.
            with os.fdopen(write_end, "wb") as pipe:

                def tell(reply: tuple[bool, Any]) -> None:
                    pickle.dump(reply, pipe)
                    pipe.flush()

                try:
                    _validate_snapshot(request.snapshot, theirs, offline=False, answer=lambda a: tell((True, a[0])))
                    tell((True, None))  # its pages are written
                except BaseException:
                    tell((False, traceback.format_exc()))
        finally:
            os._exit(0)  # not the worker's exit handlers, nor its stdio buffers flushed twice
    os.close(write_end)
    from_fork = os.fdopen(read_end, "rb")

    def their_reply() -> Any:
        done, payload = pickle.load(from_fork)  # noqa: S301 - our own fork, over a pipe
        if not done:
            raise RuntimeError(f"validating {', '.join(theirs.suites)} in a second process failed:\n{payload}")
        return payload

    def their_pages() -> None:
        try:
            their_reply()  # once the fork has written them
            for section in ("expectations", "validations"):  # its pages; GX's static files are the same in both
                if (theirs.docs_dir / section).is_dir():
                    shutil.copytree(theirs.docs_dir / section, mine.docs_dir / section, dirs_exist_ok=True)
        finally:
            from_fork.close()
            os.waitpid(child, 0)
            shutil.rmtree(theirs.docs_dir, ignore_errors=True)

    return _validate_snapshot(request.snapshot, mine, others=their_reply, other_pages=their_pages, answer=in_order)[1]


def _halves(validation: Validation) -> tuple[Validation, Validation] | None:
    """The suites in two groups of about as many expectations each (GX's time goes per expectation)."""
    if len(validation.suites) < 2:
        return None
    groups: tuple[dict[str, Any], dict[str, Any]] = ({}, {})
    weights = [0, 0]
    by_size = sorted(validation.suites.items(), key=lambda item: -len(item[1]["expectations"]))
    for name, suite in by_size:
        lighter = weights.index(min(weights))
        groups[lighter][name] = suite
        weights[lighter] += len(suite["expectations"])
    if not all(groups):  # suites without expectations: nothing to share
        return None
    return replace(validation, suites=groups[0]), replace(validation, suites=groups[1])


def import_on_first_use(names: Iterable[str]) -> None:
    """Put a stand-in for each module not imported yet in `sys.modules`: importing it then costs nothing, and the
    first use of one of its attributes imports the real module."""
    for name in names:
        if name not in sys.modules:
            sys.modules[name] = _ImportedOnFirstUse(name)


class _ImportedOnFirstUse(types.ModuleType):
    """A module's stand-in: asked for any attribute it lacks, it imports the real module in its place and answers
    from it. Other dunder names than `__path__` (which a submodule's import asks for) are not passed on: the import
    system and `inspect` probe modules for them, and a probe must not import the module."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name != "__path__":
            raise AttributeError(name)
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), name)


def _validate_snapshot(snapshot: Path, validation: Validation, **options: Any) -> Any:
    from reewatch.quality import _validate
    from reewatch.warehouse import connect

    con = connect(snapshot, read_only=True, extensions=())
    try:
        return _validate(con, validation, **options)
    finally:
        con.close()


if __name__ == "__main__":
    main()
