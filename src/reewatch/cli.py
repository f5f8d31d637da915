"""The `reewatch` command line (CONTRACT.md §1).

Exit codes: 0 published (or nothing new), 3 blocked by the quality gate, 1 run failed, 2 usage or configuration.
Heavy imports (Prefect, DuckDB, GX) happen inside the commands, so `--help` stays well under a second.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from reewatch.runtime import skip_gc_at_exit, tune_gc_for_a_run

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from reewatch.config import Settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BLOCKED = 0, 1, 2, 3
# Seconds the temporary Prefect server of a run without PREFECT_API_URL may take to start (Prefect's default: 20).
EPHEMERAL_SERVER_STARTUP_SECONDS = 90
FAILED_FILES_SHOWN = 10  # a backfill's summary names this many unreadable files; the report lists them all
TRY_QUERY = (
    "SELECT period, quantity_t, mom_pct, yoy_pct, is_record FROM ree.exports_monthly "
    "WHERE series_id = 'gacc_rare_earths' AND partner = 'WORLD' ORDER BY period DESC LIMIT 12"
)

app = typer.Typer(
    help="reewatch: China's rare-earth trade releases → checked, versioned tables for BI.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

LakeOption = Annotated[
    str | None,
    typer.Option("--lake", help="Local folder or s3://bucket/prefix. Default: $REEWATCH_LAKE, else ./lake."),
]
WaitOption = Annotated[
    float, typer.Option("--wait", min=0, help="Seconds to wait for another run's writer lock before giving up.")
]
WorkersOption = Annotated[
    int | None,
    typer.Option(
        "--workers", min=1,
        help="Releases to parse and check at once; above 1 on a local Dask cluster (backfills). "
        "Default: $REEWATCH_WORKERS, else 1.",
    ),
]  # fmt: skip


def _fail(code: int, message: str) -> typer.Exit:
    typer.echo(f"reewatch: {message}", err=True)
    return typer.Exit(code)


def _settings(lake: str | None) -> Settings:
    from reewatch.config import ConfigError, load_settings

    try:
        settings = load_settings(lake)
    except ConfigError as exc:
        raise _fail(EXIT_USAGE, str(exc)) from None
    folder = Path(settings.lake).expanduser()
    if not settings.is_s3 and folder.exists() and not folder.is_dir():
        raise _fail(EXIT_USAGE, f"the lake {settings.lake} is a file, not a folder")
    return settings


def _check_bucket(settings: Settings) -> None:
    """An S3 lake's bucket exists (LakeNotFound otherwise) and takes our credentials (LakeCredentialsError): a
    mistyped name or a missing key is a configuration error, not an empty lake or a storage failure to retry. (A
    local lake is made where it is missing: nothing to check.)"""
    if settings.is_s3:
        from reewatch.lake import open_lake

        open_lake(settings.lake, settings.s3()).check_exists()


def _setup_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%H:%M:%S"))
    root = logging.getLogger("reewatch")
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    root.propagate = False


def _prefect_environment() -> None:
    # Quiet, offline Prefect: no telemetry (else an ERROR line offline), no update checks.
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


@contextlib.contextmanager
def _command_line_prefect_settings() -> Iterator[None]:
    """Two of Prefect's defaults differ for a run started from the command line, each only where it was not set
    (environment, profile or prefect.toml); runs of a deployment (which do not come through here) keep Prefect's.

    No flow-run heartbeats: Prefect sends them by default, and its flow then waits at the end for the heartbeat
    thread, which sleeps in whole seconds: up to 1 s of every run (a run with nothing new: 2.2 s with them, 1.4 s
    without). They only serve an automation that marks silent runs crashed; a command-line run ends with its exit
    code.

    More time for the temporary Prefect server a run starts without PREFECT_API_URL: Prefect gives it 20 s, which a
    loaded machine (a test suite in parallel, a busy CI runner) runs out of, and the run then dies before it began.
    """
    from prefect.settings import (
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        get_current_settings,
        temporary_settings,
    )

    current = get_current_settings()
    updates: dict[Any, Any] = {}
    if "heartbeat_frequency" not in current.flows.model_fields_set:
        updates[PREFECT_FLOWS_HEARTBEAT_FREQUENCY] = None
    if "startup_timeout_seconds" not in current.server.ephemeral.model_fields_set:
        updates[PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS] = EPHEMERAL_SERVER_STARTUP_SECONDS
    with temporary_settings(updates):
        yield


def _prefect_out_of_reach(exc: RuntimeError) -> str | None:
    """One line for a Prefect API the run could not reach, else None (a bug keeps its traceback). Prefect says it
    only in the text of a RuntimeError: "Failed to reach API at …", or, for the temporary server it starts, "Timed
    out while attempting to connect to ephemeral Prefect API server"."""
    from prefect.settings import get_current_settings

    from reewatch.config import mask_userinfo

    settings = get_current_settings()
    if str(exc).startswith("Failed to reach API"):
        why = "no answer"
        if exc.__cause__ is not None:  # what httpx said, e.g. "ConnectError: [Errno 111] Connection refused"
            detail = str(exc.__cause__).strip().splitlines()
            why = type(exc.__cause__).__name__ + (f": {detail[0]}" if detail else "")
        # The URL as set, its credentials masked (httpx's messages carry it too).
        api = mask_userinfo(str(settings.api.url))
        return f"cannot reach the Prefect API at {api} (PREFECT_API_URL): {mask_userinfo(why)}"
    if str(exc).startswith("Timed out while attempting to connect to ephemeral Prefect API server"):
        seconds = settings.server.ephemeral.startup_timeout_seconds
        return (
            f"the temporary Prefect server this run starts did not answer within {seconds} s "
            "(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS): allow it longer, or set PREFECT_API_URL to a running "
            "Prefect server"
        )
    return None


def _run_pipeline(
    settings: Settings, command: str, wait: float, *, land: Callable[[Executor], str] | None = None, **options: Any
) -> dict[str, Any]:
    """Run the Prefect flow and turn its outcome into an exit code. `land` puts the command's files into landing/
    and says what it landed: it runs in a thread while Prefect imports (landing a detailed export copies a
    gigabyte: 0.9 s), and the flow starts once it is done. It is given that thread, to hash what it landed there
    next (a gigabyte: 1.0 s), for the flow to find (lake.hash_in_background)."""
    _setup_logging(settings)
    _prefect_environment()
    from concurrent.futures import ThreadPoolExecutor

    from reewatch import warmup

    with warmup.until_the_run_ends(), ThreadPoolExecutor(1, thread_name_prefix="landing") as pool:
        # GX's import starts first, then the landing, then Prefect's import. Also when this run may find nothing
        # new: the worker is then stopped as soon as the flow knows (warmup.py says what that costs and saves).
        warmup.start()

        def prepare() -> str | None:
            _check_bucket(settings)  # on this thread too, while Prefect imports: boto3 and a request, ~0.3 s
            return land(pool) if land is not None else None

        landing = pool.submit(prepare)
        from flows.pipeline import reewatch_run

        from reewatch.ingest import UnknownRelease
        from reewatch.lake import LakeCredentialsError, LakeError, LakeNotFound
        from reewatch.warehouse import LakeBusy

        _no_tracebacks_for(LakeError, LakeBusy, UnknownRelease)
        try:
            landed = landing.result()
            if landed is not None:
                typer.echo(landed)
            with _command_line_prefect_settings():
                try:
                    result: dict[str, Any] = reewatch_run(
                        lake=settings.lake, command=command, wait_seconds=wait, **options
                    )
                except RuntimeError as exc:
                    # Infrastructure, like storage: exit 1, in one line.
                    said = _prefect_out_of_reach(exc)
                    if said is None:
                        raise
                    raise _fail(EXIT_FAILED, said) from None
        except (UnknownRelease, LakeNotFound, LakeCredentialsError) as exc:
            raise _fail(EXIT_USAGE, str(exc)) from None
        except LakeBusy as exc:
            raise _fail(EXIT_FAILED, str(exc)) from None
        except LakeError as exc:
            # The error may come before the catalog swap or after it (the report, the warehouse's upload): either
            # way readers see one complete publication, and the next run finishes what this one started.
            raise _fail(
                EXIT_FAILED,
                f"storage error, the run stopped: {exc}; nothing half-written is visible to readers, "
                "and running again finishes the work",
            ) from None
        finally:  # a run that stopped before staging does not wait for the digests it would have used
            pool.shutdown(wait=False, cancel_futures=True)
    return result


class _NoTraceback(logging.Filter):
    """Drops the traceback from Prefect's log records of expected errors: their message (and our last line) say
    what happened; pages of botocore frames would only bury it. Bugs keep their tracebacks."""

    def __init__(self, expected: tuple[type[BaseException], ...]) -> None:
        super().__init__()
        self.expected = expected

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], self.expected):
            record.exc_info, record.exc_text = None, None
        return True


def _no_tracebacks_for(*expected: type[BaseException]) -> None:
    for name in ("prefect.flow_runs", "prefect.task_runs"):
        logger = logging.getLogger(name)
        logger.filters = [f for f in logger.filters if not isinstance(f, _NoTraceback)]
        logger.addFilter(_NoTraceback(expected))


def _print_outcome(result: dict[str, Any]) -> None:
    typer.echo(f"{result['status']}: {result['message']}")
    typer.echo(
        f"files in: {result['files_in']}, rows loaded: {result['rows_loaded']}, "
        f"rows quarantined: {result['rows_quarantined']}"
    )
    # A file no layout could read still lets the run publish (exit 0): say which, here as well as in the report.
    failed = [r for r in result.get("releases", []) if r["status"] == "failed"]
    if failed:
        typer.echo(f"files not loaded: {len(failed)} (their bytes are kept in raw/)")
        for release in failed[:FAILED_FILES_SHOWN]:
            typer.echo(f"  {release['message']}")  # it starts with the file's name
        if len(failed) > FAILED_FILES_SHOWN:
            typer.echo(f"  … and {len(failed) - FAILED_FILES_SHOWN} more in the report")
    if result.get("report"):
        typer.echo(f"report: {result['report']}")


def _exit_for(result: dict[str, Any]) -> None:
    if result["status"] == "blocked":
        raise typer.Exit(EXIT_BLOCKED)
    if result["status"] == "failed":
        raise typer.Exit(EXIT_FAILED)


@app.command()
def run(lake: LakeOption = None, wait: WaitOption = 0.0, workers: WorkersOption = None) -> None:
    """Process everything new in landing/, run the quality gate, publish, write the report."""
    result = _run_pipeline(_settings(lake), "run", wait, workers=workers)
    _print_outcome(result)
    _exit_for(result)


@app.command()
def ingest(
    files: Annotated[list[Path], typer.Argument(help="Files to land (any layout reewatch reads).")],
    lake: LakeOption = None,
    wait: WaitOption = 0.0,
    workers: WorkersOption = None,
) -> None:
    """Copy FILES into landing/, then do what `run` does."""
    settings = _settings(lake)
    folders = [str(f) for f in files if f.is_dir()]
    if folders:
        hint = f"give the files in it, e.g. {folders[0]}/*"
        raise _fail(EXIT_USAGE, f"a folder, not a file: {', '.join(folders)} ({hint})")
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise _fail(EXIT_USAGE, f"no such file: {', '.join(missing)}")
    from reewatch.landing import land_files

    def land(hashing: Executor) -> str:
        return "\n".join(f"landed {key}" for key in land_files(settings, files, hashing))

    result = _run_pipeline(settings, "ingest", wait, land=land, workers=workers)
    _print_outcome(result)
    _exit_for(result)


@app.command()
def replay(
    release_ids: Annotated[
        list[str] | None, typer.Argument(help="Release ids (SHA-256, or a unique prefix) to re-parse from raw/.")
    ] = None,
    all_releases: Annotated[bool, typer.Option("--all", help="Replay every archived release.")] = False,
    lake: LakeOption = None,
    wait: WaitOption = 0.0,
    workers: WorkersOption = None,
) -> None:
    """Re-parse archived releases from raw/ after a parser or rule fix, replacing their rows and quarantine."""
    if bool(release_ids) == all_releases:
        raise _fail(EXIT_USAGE, "give release ids or --all (not both)")
    result = _run_pipeline(
        _settings(lake), "replay", wait, replay_ids=release_ids or None, replay_all=all_releases, workers=workers
    )
    _print_outcome(result)
    _exit_for(result)


@app.command()
def demo(
    lake: Annotated[str, typer.Option("--lake", help="Local folder for the demo lake.")] = "./lake",
) -> None:
    """Make a fresh local lake, land the bundled sample releases, run the whole pipeline."""
    if lake.startswith("s3://"):
        raise _fail(EXIT_USAGE, "the demo makes a local lake; give --lake a folder")
    if not lake.strip():  # it would resolve to the current folder
        raise _fail(EXIT_USAGE, "invalid --lake: the lake location is empty")
    from reewatch.landing import DEMO_MARKER, land_samples

    root = Path(lake).resolve()
    if root.exists() and not root.is_dir():
        raise _fail(EXIT_USAGE, f"{root} is a file: give --lake an empty or new folder")
    if root.exists() and any(root.iterdir()):
        if not (root / DEMO_MARKER).exists():
            raise _fail(EXIT_USAGE, f"{root} exists and is not a demo lake; give --lake an empty or new folder")
        shutil.rmtree(root)
    root.mkdir(parents=True)
    (root / DEMO_MARKER).write_text("made by `reewatch demo`; the next demo replaces this folder\n")
    settings = _settings(str(root))

    def land(hashing: Executor) -> str:
        return f"landed {len(land_samples(settings, hashing))} sample releases into {root / 'landing'}"

    result = _run_pipeline(settings, "demo", 0.0, land=land)
    _print_outcome(result)
    if result.get("catalog"):
        typer.echo("\nTry a query:")
        typer.echo(f"  {_try_query_command(result['catalog'])}")
    _exit_for(result)


def _try_query_command(catalog: str) -> str:
    """A shell command that runs TRY_QUERY on the catalog, as printed: `duckdb` is seldom on PATH. The DuckDB shell
    this environment installs (package duckdb-cli, a dev dependency) sits beside its Python, e.g. in .venv/bin;
    without it, that Python with the duckdb library reewatch itself runs on."""
    attach = f"ATTACH '{catalog}' AS ree (READ_ONLY)"
    shell = Path(sys.executable).with_name("duckdb")  # not resolved: a venv's python links to the base one
    if shell.is_file():
        return f"{shlex.quote(str(shell))} -c \"{attach}; {TRY_QUERY}\""
    program = f"import duckdb; duckdb.sql('''{attach}'''); duckdb.sql('''{TRY_QUERY}''').show()"
    return f"{shlex.quote(sys.executable)} -c \"{program}\""


@app.command()
def status(lake: LakeOption = None) -> None:
    """Releases, last runs, what is quarantined, what is published."""
    settings = _settings(lake)
    if not settings.is_s3 and not Path(settings.lake).expanduser().is_dir():  # a mistyped path, not an empty lake
        raise _fail(EXIT_USAGE, f"no lake at {settings.lake}: no such folder (`reewatch ingest` or `run` makes one)")
    from reewatch.lake import LakeCredentialsError, LakeError, LakeNotFound, open_lake
    from reewatch.status import describe

    try:
        store = open_lake(settings.lake, settings.s3() if settings.is_s3 else None)
        store.check_exists()
        typer.echo(describe(settings, store))
    except (LakeNotFound, LakeCredentialsError) as exc:
        raise _fail(EXIT_USAGE, str(exc)) from None
    except LakeError as exc:
        raise _fail(EXIT_FAILED, f"storage error: {exc}") from None


def main() -> None:
    tune_gc_for_a_run()
    try:
        app()
    finally:
        skip_gc_at_exit()


if __name__ == "__main__":
    main()
