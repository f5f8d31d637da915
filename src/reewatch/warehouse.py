"""DuckDB for reewatch: connections with the pinned extensions (never the network), the S3 secret, schema
migrations, and the single-writer lock that lets one run at a time own the warehouse.

Where the warehouse lives: in the lake itself, at `_state/warehouse.duckdb`. A local lake uses that file in
place. An `s3://` lake keeps a working copy in the state folder, fetched from the lake when the writer lock is
taken and put back (one PUT) when the run ends, so losing the machine that ran a flow loses nothing.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import importlib.util
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import duckdb

from reewatch.config import S3Credentials, S3Settings, Settings, resolve_s3_credentials
from reewatch.lake import Lake, LakeError

if TYPE_CHECKING:
    from reewatch.lake_s3 import S3Lake

log = logging.getLogger(__name__)

EXTENSIONS = ("httpfs", "excel", "ducklake")
WAREHOUSE_KEY = "_state/warehouse.duckdb"
LOCK_KEY = "_state/writer.lock"


class LakeBusy(RuntimeError):
    """Another run holds the writer lock."""


class WarehouseBusy(LakeBusy):
    """A local lake's warehouse is open for writing by another process: DuckDB lets no one else open it meanwhile."""

    def __init__(self, holder: str) -> None:
        super().__init__(f"the warehouse is being written by {holder}")
        self.holder = holder


def extension_file(name: str) -> Path:
    """The extension binary shipped by the `duckdb-extension-<name>` wheel for the installed DuckDB."""
    spec = importlib.util.find_spec(f"duckdb_extension_{name}")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the duckdb-extension-{name} package is not installed (run `make setup`)")
    path = Path(spec.submodule_search_locations[0]) / "extensions" / f"v{duckdb.__version__}"
    path = path / f"{name}.duckdb_extension"
    if not path.exists():
        raise RuntimeError(
            f"duckdb-extension-{name} has no build for DuckDB {duckdb.__version__}: pin both to one version"
        )
    return path


def connect(
    database: str | Path = ":memory:",
    *,
    read_only: bool = False,
    extensions: tuple[str, ...] = ("httpfs",),
    s3: S3Settings | None = None,
    credentials: S3Credentials | None = None,
    memory_limit: str | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open DuckDB with extensions loaded from the pinned wheels; with `s3`, an S3 secret for httpfs."""
    config: dict[str, str | bool | int | float | list[str]] = {"memory_limit": memory_limit} if memory_limit else {}
    con = duckdb.connect(str(database), read_only=read_only, config=config)
    # Nothing may reach for the network: extensions come from the wheels, not from extensions.duckdb.org.
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    for name in extensions:
        con.execute(f"LOAD '{extension_file(name)}'")
    if s3 is not None:
        create_s3_secret(con, s3, credentials)
    return con


def create_s3_secret(con: duckdb.DuckDBPyConnection, s3: S3Settings, credentials: S3Credentials | None = None) -> None:
    """One S3 secret from the same settings boto3 uses; values are bound, never logged."""
    creds = credentials if credentials is not None else resolve_s3_credentials()
    options: dict[str, str | bool] = {"REGION": s3.region}
    if creds is not None:
        options["KEY_ID"] = creds.key_id
        options["SECRET"] = creds.secret.get_secret_value()
        if creds.session_token is not None:
            options["SESSION_TOKEN"] = creds.session_token.get_secret_value()
    if s3.endpoint_url:
        endpoint = urlparse(s3.endpoint_url)
        options["ENDPOINT"] = endpoint.netloc or endpoint.path
        options["URL_STYLE"] = "path"  # MinIO and moto serve buckets by path
        options["USE_SSL"] = endpoint.scheme == "https"
    # CREATE SECRET takes no bound parameters, so quote each literal (doubling quotes) rather than interpolate raw.
    body = ", ".join(f"{key} {sql_literal(value)}" for key, value in options.items())
    con.execute(f"CREATE OR REPLACE SECRET reewatch_s3 (TYPE s3, {body})")
    # The same patience as boto3's: a stalled request is abandoned (and retried by httpfs) after this long.
    con.execute(f"SET http_timeout = {max(1, round(s3.timeout_seconds))}")


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """BEGIN … COMMIT, rolled back if anything inside fails."""
    con.execute("BEGIN")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def inline(sql: str, params: Sequence[object]) -> str:
    """`sql` with each `?` replaced by the SQL literal of the matching value, for queries on the path of every run.

    Why not bound parameters: DuckDB's Python client imports pandas (and numpy), about 1.2 s, the first time it binds
    any value other than None (it compares each value with `pandas.NaT`). A run with nothing new needs no pandas at
    all, so the few queries every run makes carry their values inline. For our own SQL only: every `?` must be a
    placeholder (none inside a string literal). Strings are quoted the SQL way (quotes doubled; DuckDB gives
    backslashes no meaning in '…'), so a value can never end its literal.
    """
    parts = sql.split("?")
    if len(parts) != len(params) + 1:
        raise ValueError(f"{len(parts) - 1} placeholder(s) for {len(params)} value(s) in {sql!r}")
    out = [parts[0]]
    for value, part in zip(params, parts[1:], strict=True):
        out += [sql_literal(value), part]
    return "".join(out)


def sql_literal(value: object) -> str:
    """A DuckDB literal of a None, bool, int, float, str, datetime, date or list of those: for the statements that
    take no bound parameters (COPY … TO, CREATE SECRET, COMMENT ON) and for `inline`."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):  # a bare 1.5 would be a DECIMAL; repr round-trips, and 'nan'/'inf' parse too
        return f"'{value!r}'::DOUBLE"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, datetime):  # naive UTC everywhere in the warehouse
        if value.tzinfo is not None:
            raise ValueError(f"timestamps are stored as naive UTC, not {value!r}")
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(sql_literal(v) for v in value) + "]"
    raise TypeError(f"no SQL literal for {type(value).__name__}")


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the numbered files of `reewatch/migrations/` not yet applied; return their names."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMP NOT NULL)"
    )
    done = {row[0] for row in con.execute("SELECT name FROM schema_migrations").fetchall()}
    applied = []
    folder = resources.files("reewatch") / "migrations"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql") or entry.name in done:
            continue
        with transaction(con):
            con.execute(entry.read_text(encoding="utf-8"))
            con.execute(inline("INSERT INTO schema_migrations VALUES (?, now())", [entry.name]))  # no pandas
        applied.append(entry.name)
    return applied


class WriterLock:
    """One writer per lake: a lock object in the lake, leased and renewed while the run lives.

    Local lakes use an OS file lock (released by the kernel even on SIGKILL). S3 lakes create
    `_state/writer.lock` only if absent (a conditional PUT); the holder renews the lease every
    `lease_seconds / 4`, and a lock whose lease ran out (its holder died) is taken over. Every change to an
    existing lock object is conditional on the ETag last seen, so two runs taking over the same dead lease, or a
    stalled holder renewing a lease someone else has taken, cannot both end up holding it. Each acquisition
    carries its own token: a lock whose creation succeeded but whose answer was lost is still recognised as ours.
    """

    def __init__(self, lake: Lake, local_lock_dir: Path, lease_seconds: int = 120) -> None:
        self.lake = lake
        self.local_lock_dir = local_lock_dir
        self.lease_seconds = lease_seconds
        self._fd: int | None = None
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self._etag: str | None = None
        self.token = uuid.uuid4().hex
        self.owner = f"{getpass.getuser()}@{socket.gethostname()} pid {os.getpid()}"
        self.lost = False
        """Set when another run took the lock over while this one held it (this run stalled past its lease)."""

    def acquire(self, wait_seconds: float = 0.0) -> None:
        deadline = time.monotonic() + wait_seconds
        while True:
            holder = self._try_acquire()
            if holder is None:
                return
            if time.monotonic() >= deadline:
                raise LakeBusy(
                    f"lake busy: {self.lake.url} is being written by {holder}; "
                    "try again when that run ends (or pass --wait SECONDS)"
                )
            time.sleep(min(2.0, max(0.1, deadline - time.monotonic())))

    def _try_acquire(self) -> str | None:
        """None when acquired, else a description of the holder."""
        if not self.lake.is_s3:
            import fcntl

            self.local_lock_dir.mkdir(parents=True, exist_ok=True)
            path = self.local_lock_dir / "writer.lock"
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return self.last_taken_by()
            os.ftruncate(fd, 0)
            os.write(fd, f"{self.owner} since {datetime.now(UTC):%Y-%m-%d %H:%M:%SZ}".encode())
            self._fd = fd
            return None

        lake = self._s3_lake()
        lake.create_exclusive(LOCK_KEY, self._lease_record())
        current = lake.read_tagged(LOCK_KEY)
        if current is None:  # released between our two requests: try again on the next round
            return "another run (just finishing)"
        data, etag = current
        try:
            record = json.loads(data)
        except ValueError:
            record = {}
        if record.get("token") == self.token:  # created now, or by an earlier attempt whose answer was lost
            self._hold(etag)
            return None
        expires = datetime.fromisoformat(record.get("expires_at", "1970-01-01T00:00:00+00:00"))
        if expires < datetime.now(UTC):
            taken = lake.replace_if_unchanged(LOCK_KEY, self._lease_record(), etag)
            if taken is not None:
                log.warning("took over the writer lock of %s: its lease ran out at %s", record.get("owner"), expires)
                self._hold(taken)
                return None
            return "another run (taking over an expired lock at the same moment)"
        return _lease_holder(record)

    def last_taken_by(self) -> str:
        """Who took a local lake's lock last, as its file names them: while it is held, the run holding it."""
        try:
            return (self.local_lock_dir / "writer.lock").read_text(encoding="utf-8").strip() or "another run"
        except OSError:
            return "another run"

    def _s3_lake(self) -> S3Lake:
        from reewatch.lake_s3 import S3Lake

        if not isinstance(self.lake, S3Lake):
            raise TypeError(f"a leased writer lock needs an S3 lake, not {self.lake!r}")
        return self.lake

    def holder(self) -> str | None:
        """Who holds an S3 lake's lock now, from its lease (None when no lease is live). A local lake's lock is a
        file lock, which no one can look at without taking it: None."""
        if not self.lake.is_s3:
            return None
        current = self._s3_lake().read_tagged(LOCK_KEY)
        if current is None:
            return None
        try:
            record = json.loads(current[0])
            expires = datetime.fromisoformat(record["expires_at"])
        except (ValueError, KeyError, TypeError):
            return "another run (an unreadable lease)"
        if expires < datetime.now(UTC):
            return None  # its holder died: the next run takes it over
        return _lease_holder(record)

    def _lease_record(self) -> bytes:
        now = datetime.now(UTC)
        return json.dumps(
            {
                "owner": self.owner,
                "token": self.token,
                "acquired_at": now.isoformat(timespec="seconds"),
                "expires_at": (now + timedelta(seconds=self.lease_seconds)).isoformat(timespec="seconds"),
            }
        ).encode()

    def _hold(self, etag: str) -> None:
        self._etag = etag
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew_until_released, name="reewatch-lock-lease", daemon=True)
        self._renewer.start()

    def _renew_until_released(self) -> None:
        lake = self._s3_lake()
        while not self._stop.wait(self.lease_seconds / 4):
            try:
                renewed = lake.replace_if_unchanged(LOCK_KEY, self._lease_record(), self._etag or "")
                if renewed is None:
                    renewed = self._still_ours()
                if renewed is None:
                    self.lost = True
                    log.error(
                        "the writer lock of %s was taken over by another run: this run stalled past its lease",
                        self.lake.url,
                    )
                    return
                self._etag = renewed
            except LakeError as exc:  # the next renewal may succeed; the lease has slack for it
                log.warning("could not renew the writer lock: %s", exc)

    def _still_ours(self) -> str | None:
        """The lock's ETag if it still carries our token (a renewal applied whose answer was lost), else None."""
        current = self._s3_lake().read_tagged(LOCK_KEY)
        if current is None:
            return None
        try:
            token = json.loads(current[0]).get("token")
        except ValueError:
            return None
        return current[1] if token == self.token else None

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None
        if self._renewer is not None:
            self._stop.set()
            self._renewer.join(timeout=10)
            self._renewer = None
            try:
                # Only our own lock: one taken over by another run stays where it is.
                etag = self._still_ours()
                if etag is not None and not self._s3_lake().delete_if_unchanged(LOCK_KEY, etag):
                    log.warning("the writer lock changed hands while this run released it; left in place")
            except LakeError as exc:
                # Raising here would hide the error that ended the run, if any; the lease runs out on its own.
                log.warning("could not remove the writer lock (it expires on its own): %s", exc)


def _lease_holder(record: dict[str, object]) -> str:
    """An S3 writer lock's holder, as its lease names them."""
    return f"{record.get('owner', 'another run')} since {record.get('acquired_at', '?')}"


def _close_abandoned_runs(con: duckdb.DuckDBPyConnection) -> None:
    """Runs still marked running while we hold the writer lock ended without finishing (killed, or their machine
    stopped): say so, rather than show them running forever. Their work is picked up by this run."""
    sql = inline(
        "UPDATE runs SET status = 'failed', finished_at = ?, "
        "message = 'stopped without finishing (killed, or its machine stopped); a later run picked up its work' "
        "WHERE status = 'running' RETURNING run_id",
        [datetime.now(UTC).replace(tzinfo=None)],  # naive UTC, like every timestamp reewatch writes
    )  # inline, not bound: every run passes here, and a bound value imports pandas
    for (run_id,) in con.execute(sql).fetchall():
        log.warning("run %s stopped without finishing; picking up its work", run_id)


class Warehouse:
    """The writer's warehouse for one lake: where its DuckDB file is, and how it is kept in the lake."""

    def __init__(self, settings: Settings, lake: Lake) -> None:
        self.settings = settings
        self.lake = lake
        if lake.is_s3:
            slug = hashlib.sha256(lake.url.encode()).hexdigest()[:16]
            self.work_dir = settings.state_dir / slug
        else:
            self.work_dir = Path(lake.uri("_state"))
        self.path = self.work_dir / "warehouse.duckdb"
        self.lock = WriterLock(lake, self.work_dir, lease_seconds=settings.lock_lease_seconds)

    @contextlib.contextmanager
    def writer(self, wait_seconds: float = 0.0) -> Iterator[duckdb.DuckDBPyConnection]:
        """Hold the writer lock, open the migrated warehouse, and (S3) put it back into the lake when done."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.lock.acquire(wait_seconds)
        try:
            if self.lake.is_s3:
                self._fetch()
            con = connect(
                self.path,
                s3=self.settings.s3() if self.lake.is_s3 else None,
                memory_limit=self.settings.duckdb_memory_limit,
            )
            try:
                migrate(con)
                _close_abandoned_runs(con)
                yield con
                con.execute("CHECKPOINT")
            finally:
                con.close()
            # Putting our copy back would overwrite the warehouse of the run that took the lock over.
            self.ensure_still_writer("its warehouse is not saved")
            if self.lake.is_s3:
                self.lake.write_file(WAREHOUSE_KEY, self.path)
        finally:
            self.lock.release()

    def _fetch(self) -> None:
        """The lake's copy is the truth; a leftover local copy may be stale (another machine ran since)."""
        for leftover in (self.path, self.path.with_name(self.path.name + ".wal")):
            leftover.unlink(missing_ok=True)
        if self.lake.exists(WAREHOUSE_KEY):
            self.lake.download(WAREHOUSE_KEY, self.path)

    def ensure_still_writer(self, consequence: str) -> None:
        """Raise LakeError if another run took the writer lock over while this one stalled past its lease."""
        if self.lock.lost:
            raise LakeError(
                f"the writer lock of {self.lake.url} was taken over by another run while this one held it (it "
                f"stalled past its {self.lock.lease_seconds} s lease): {consequence}; run again"
            )

    @contextlib.contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only look at the warehouse (for `status`), without taking the writer lock. WarehouseBusy while a
        run writes a local lake's (an S3 lake's is read from the copy in the lake, which a run replaces whole)."""
        if self.lake.is_s3:
            self.work_dir.mkdir(parents=True, exist_ok=True)
            snapshot = self.work_dir / "warehouse.readonly.duckdb"
            if not self.lake.exists(WAREHOUSE_KEY):
                con = connect(":memory:")
                migrate(con)
                yield con
                con.close()
                return
            self.lake.download(WAREHOUSE_KEY, snapshot)
            path = snapshot
        else:
            if not self.path.exists():
                con = connect(":memory:")
                migrate(con)
                yield con
                con.close()
                return
            path = self.path
        try:
            con = connect(path, read_only=True)
        except duckdb.IOException as exc:  # "Could not set lock on file …": a run holds it open for writing
            if self.lake.is_s3 or "lock" not in str(exc).lower():
                raise
            raise WarehouseBusy(self.lock.last_taken_by()) from None
        try:
            yield con
        finally:
            con.close()
