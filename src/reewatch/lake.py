"""The lake: one small storage interface over a local folder or ``s3://bucket/prefix``.

Keys are forward-slash paths relative to the lake root; writes are atomic on both backends.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import fcntl
import hashlib
import logging
import mmap
import os
import re
import shutil
import stat
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

from reewatch.config import S3Settings

if TYPE_CHECKING:
    from concurrent.futures import Executor

log = logging.getLogger(__name__)

# Temp files share the target's directory so os.replace stays a same-filesystem rename;
# the prefix lets list() hide half-written files.
TMP_PREFIX = ".tmp-"
# Archives (raw/) from this size up go into a local lake with direct I/O (_copy_direct), in chunks of whole blocks.
DIRECT_COPY_MIN_BYTES = 32 << 20
DIRECT_CHUNK = 16 << 20
DIRECT_BLOCK = 4096
RAW_PREFIX = "raw/"


class LakeError(Exception):
    """A storage problem. Messages name the object but never credentials."""


class KeyOutsideLake(LakeError):
    """A key that is malformed or would escape the lake root."""


class LakeNotFound(LakeError):
    """The lake's location names nothing there (an S3 bucket that does not exist): a configuration error."""


class LakeCredentialsError(LakeError):
    """S3 found no credentials, or refused them: a configuration error, which running again would not fix."""


@dataclass(frozen=True)
class LakeObject:
    key: str
    size: int
    modified: datetime


# Digests of files this process has written, being computed or computed on a thread of its own
# (`hash_in_background`), by the file's identity: device, inode, size, modification and change times (a write to
# the file changes the last two). `reewatch ingest` hashes each file it lands while Prefect imports, and the run it
# starts in this process takes the digest from here instead of reading the file again before it can stage it (a
# 1 GB export: 1.0–1.6 s).
_HASHED: dict[tuple[int, ...], Future[str]] = {}


def sha256_file(path: Path) -> str:
    identity = _identity(path)
    hashed = _HASHED.get(identity)
    if hashed is not None and not hashed.cancel():  # being hashed, or hashed: its digest is coming
        return hashed.result()
    if hashed is None:  # not a file this process wrote
        return _sha256(path)
    # Still queued (cancelled now: it may wait behind this very caller, as when `reewatch ingest` lands a second file
    # of the same name on the one thread that hashes the first), or a run that stopped early cancelled it: hashed
    # here, and kept for the run.
    digest = _sha256(path)
    done: Future[str] = Future()
    done.set_result(digest)
    _HASHED[identity] = done
    return digest


def hash_in_background(path: Path, pool: Executor) -> None:
    """Hash a file this process has just written on `pool`: `sha256_file` of the same file then waits for that."""
    _HASHED[_identity(path)] = pool.submit(_sha256, path)


def _identity(path: Path) -> tuple[int, ...]:
    status = path.stat()
    return status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns


def _sha256(path: Path) -> str:
    # 16 MB reads: hashing releases the GIL, but each read and update takes it again, and while another thread
    # imports (reewatch.warmup) every take can wait 5 ms — with 1 MB reads, a 1 GB file waited ~4 s.
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 24), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check_key(key: str) -> str:
    """Return key unchanged if it is a safe relative key, else raise KeyOutsideLake.

    The same rules apply to both backends so a key that works locally also works on S3.
    """
    if not isinstance(key, str) or not key:
        raise KeyOutsideLake(f"invalid lake key {key!r}: empty")
    if "\x00" in key:
        raise KeyOutsideLake(f"invalid lake key {key!r}: contains NUL")
    if "\\" in key:
        raise KeyOutsideLake(f"invalid lake key {key!r}: backslashes are not allowed, use '/'")
    if key.startswith("/"):
        raise KeyOutsideLake(f"invalid lake key {key!r}: must be relative to the lake root")
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise KeyOutsideLake(f"invalid lake key {key!r}: empty, '.' or '..' segment")
        if segment.startswith(TMP_PREFIX):
            raise KeyOutsideLake(f"invalid lake key {key!r}: names starting with {TMP_PREFIX!r} are reserved")
    return key


def _refused(key: str, why: str) -> None:
    """An object that list() leaves out because using its key would reach outside the lake: said loudly, every run,
    until it is renamed or removed."""
    log.error("lake object %r is skipped, its key is unsafe (%s): rename or remove it", key, why)


def _check_prefix(prefix: str) -> str:
    """A list/delete prefix: empty (whole lake) or a key, optionally ending in '/'."""
    if prefix:
        _check_key(prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix


class Lake(ABC):
    url: str
    is_s3: bool

    @abstractmethod
    def list(self, prefix: str = "") -> builtins.list[LakeObject]:
        """Objects under prefix (a plain string prefix of the key), recursive, sorted by key."""

    @abstractmethod
    def read_bytes(self, key: str) -> bytes: ...

    @abstractmethod
    def write_bytes(self, key: str, data: bytes) -> None: ...

    @abstractmethod
    def write_file(self, key: str, path: Path) -> None: ...

    def adopt_file(self, key: str, path: Path) -> None:
        """Like `write_file`, for a file this run made and will not change again: a lake may take the file itself
        instead of a copy of its bytes (a local lake on the same file system hard-links it)."""
        self.write_file(key, path)

    @abstractmethod
    def download(self, key: str, path: Path) -> None: ...

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def delete(self, key: str) -> None: ...

    @abstractmethod
    def delete_prefix(self, prefix: str) -> None: ...

    @abstractmethod
    def create_exclusive(self, key: str, data: bytes) -> bool: ...

    @abstractmethod
    def check_exists(self) -> None:
        """LakeNotFound when the lake's location names nothing: a configuration error, not an empty lake."""

    @abstractmethod
    def uri(self, key: str) -> str: ...

    @contextlib.contextmanager
    def local_copy(self, key: str, work_dir: Path) -> Iterator[Path]:
        """A local file with the object's bytes: the file itself on a local lake, a temp download on S3."""
        if isinstance(self, LocalLake):
            yield self._path(key)
            return
        work_dir.mkdir(parents=True, exist_ok=True)
        target = work_dir / f"download-{uuid.uuid4().hex}"
        try:
            self.download(key, target)
            yield target
        finally:
            target.unlink(missing_ok=True)

    def archive_file(self, path: Path, digest: str | None = None) -> tuple[str, bool]:
        """Like `archive`, streaming from a local file (a large export never sits in memory whole); `digest` is
        the file's SHA-256 when the caller has computed it already."""
        digest = digest or sha256_file(path)
        key = f"{RAW_PREFIX}{digest}"
        if self.exists(key):  # content-addressed: the same key always holds the same bytes
            return digest, False
        self.write_file(key, path)
        return digest, True

    def archive(self, data: bytes) -> tuple[str, bool]:
        """Store data under raw/<sha256>; an existing raw object is never overwritten."""
        digest = sha256_hex(data)
        return digest, self.create_exclusive(RAW_PREFIX + digest, data)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"


def _refuse_whole_lake(prefix: str, url: str) -> None:
    # An empty prefix would wipe the entire lake (or bucket); that is never what a caller means.
    if not prefix:
        raise LakeError(f"refusing to delete the whole lake at {url}; pass a non-empty prefix")


# ---------------------------------------------------------------------------------------------- local


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; not possible on every platform/filesystem, so best effort.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_temp(directory: Path, fill: Callable[[IO[bytes]], None]) -> Path:
    """Write a fsynced temp file in directory and return its path (caller renames or links it)."""
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f"{TMP_PREFIX}{uuid.uuid4().hex}"
    # os.open with 0o666 lets the umask decide permissions, unlike mkstemp's fixed 0o600.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fill(fh)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _atomic_write(dest: Path, fill: Callable[[IO[bytes]], None]) -> None:
    _put_in_place(_write_temp(dest.parent, fill), dest)


def _put_in_place(tmp: Path, dest: Path) -> None:
    """Rename a durable temp file over `dest` and make the rename durable too."""
    try:
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(dest.parent)


def fsync_file(path: Path) -> None:
    """Write a file's bytes to the disk (its name is its directory's to make durable)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_data(data: bytes) -> Callable[[IO[bytes]], None]:
    def fill(out: IO[bytes]) -> None:
        out.write(data)

    return fill


def _copy_from(path: Path, direct: bool = False) -> Callable[[IO[bytes]], None]:
    """A whole file's copy; `direct` for bytes no one reads again soon (_copy_direct)."""

    def fill(out: IO[bytes]) -> None:
        with open(path, "rb") as src:
            if direct and _copy_direct(src, out):
                return
            try:
                _copy_in_kernel(src, out)
            except OSError:  # sendfile refused (an unusual file system): copy through Python from the start
                src.seek(0)
                out.seek(0)
                out.truncate()
                shutil.copyfileobj(src, out, 1024 * 1024)

    return fill


def _copy_direct(src: IO[bytes], out: IO[bytes]) -> bool:
    """Copy a large file with O_DIRECT writes, past the page cache; False where the file system (or the platform)
    has no direct I/O, and nothing is written then. Every copy into the lake is fsynced, and here a gigabyte through
    the page cache took ~3 s to reach the disk, while the copy's new pages made the kernel reclaim others beside
    the stage (typing 10M lines: 7.4 s beside it, 5.9 s alone); written direct: 0.8 s, and typing 6.2 s beside it.
    Only for bytes no one reads again soon: the next read of a file written so goes to the disk (the archive in
    raw/ is read by a replay; a landing copy written so made the hash that follows it 0.6 -> 2.3 s)."""
    size = os.fstat(src.fileno()).st_size
    if size < DIRECT_COPY_MIN_BYTES or not hasattr(os, "O_DIRECT"):
        return False
    fd = out.fileno()
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    try:
        fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_DIRECT)
    except OSError:  # refused by this file system
        return False
    buffer = mmap.mmap(-1, DIRECT_CHUNK)  # page-aligned memory, as direct I/O needs
    written = 0
    try:
        while filled := src.readinto(buffer):  # type: ignore[attr-defined]
            aligned = -(-filled // DIRECT_BLOCK) * DIRECT_BLOCK  # a whole number of blocks: the tail is cut below
            buffer[filled:aligned] = bytes(aligned - filled)
            if os.write(fd, memoryview(buffer)[:aligned]) != aligned:
                raise OSError(errno.EIO, "a direct write came back short")
            written += filled
            if filled < DIRECT_CHUNK:
                break
    except OSError as exc:
        if written or exc.errno != errno.EINVAL:
            raise
        fcntl.fcntl(fd, fcntl.F_SETFL, flags)  # direct writes refused after all: the caller copies as before
        src.seek(0)
        return False
    finally:
        buffer.close()
    fcntl.fcntl(fd, fcntl.F_SETFL, flags)
    os.ftruncate(fd, written)  # the last block's padding
    out.seek(written)
    return True


def _copy_in_kernel(src: IO[bytes], out: IO[bytes]) -> None:
    """Copy a whole file with sendfile(2): the bytes never pass through Python (a 1 GB export: ~0.6 s instead of
    up to 2.5 s through a 1 MB buffer under memory pressure)."""
    out.flush()
    size, offset = os.fstat(src.fileno()).st_size, 0
    while offset < size:
        sent = os.sendfile(out.fileno(), src.fileno(), offset, min(size - offset, 1 << 30))
        if sent == 0:  # the file shrank while we copied: what is there is what we keep
            break
        offset += sent
    out.seek(offset)


def _describe_os_error(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


class LocalLake(Lake):
    is_s3 = False

    def __init__(self, url: str) -> None:
        self.url = url
        root = Path(url).expanduser().absolute()
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LakeError(f"cannot create lake folder {root}: {_describe_os_error(exc)}") from exc
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / _check_key(key)).resolve()
        # resolve() follows symlinks, so this also catches links pointing outside the lake.
        if path == self.root or not path.is_relative_to(self.root):
            raise KeyOutsideLake(f"invalid lake key {key!r}: resolves outside the lake root {self.root}")
        return path

    def check_exists(self) -> None:
        """Nothing to check: the folder is made when the lake is opened."""

    def list(self, prefix: str = "") -> builtins.list[LakeObject]:
        _check_prefix(prefix)
        # Only walk the deepest folder the prefix pins down, then filter by plain string prefix
        # so the semantics match S3's Prefix exactly.
        folder = prefix.rpartition("/")[0]
        start = self._path(folder) if folder else self.root
        if not start.is_dir():
            return []
        found: builtins.list[LakeObject] = []
        for dirpath, _dirnames, filenames in os.walk(start):
            for name in filenames:
                if name.startswith(TMP_PREFIX):
                    continue
                full = Path(dirpath) / name
                key = full.relative_to(self.root).as_posix()
                if not key.startswith(prefix):
                    continue
                try:
                    st = full.stat()
                except FileNotFoundError:  # deleted while we walked, or a link to nothing
                    if full.is_symlink():
                        _refused(key, f"a link to {os.readlink(full)}, which does not exist")
                    continue
                if not stat.S_ISREG(st.st_mode):
                    continue
                if not full.resolve().is_relative_to(self.root):
                    # A symlink dropped into landing/ that points outside the lake (~/.aws/credentials …): never
                    # read it, or its bytes would be archived into raw/ and shown in reports.
                    _refused(key, f"a link to {full.resolve()}, outside the lake")
                    continue
                found.append(LakeObject(key, st.st_size, datetime.fromtimestamp(st.st_mtime, tz=UTC)))
        found.sort(key=lambda obj: obj.key)
        return found

    def read_bytes(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except OSError as exc:
            raise LakeError(f"local read failed for {path}: {_describe_os_error(exc)}") from exc

    def write_bytes(self, key: str, data: bytes) -> None:
        path = self._path(key)
        try:
            _atomic_write(path, _write_data(data))
        except OSError as exc:
            raise LakeError(f"local write failed for {path}: {_describe_os_error(exc)}") from exc

    def write_file(self, key: str, path: Path) -> None:
        dest = self._path(key)
        # raw/ is written once and read again only by a replay: past the page cache (_copy_direct).
        direct = key.startswith(RAW_PREFIX)
        try:
            _atomic_write(dest, _copy_from(path, direct=direct))
        except OSError as exc:
            raise LakeError(f"local write of {path} to {dest} failed: {_describe_os_error(exc)}") from exc

    def adopt_file(self, key: str, path: Path) -> None:
        """A hard link, made durable and renamed into place: a 10M-line export's kept detail is 266 MB, which a copy
        and its fsync would write to disk a second time (0.8 s here)."""
        dest = self._path(key)
        tmp = dest.parent / f"{TMP_PREFIX}{uuid.uuid4().hex}"
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, tmp)
        except OSError:  # another file system, or one without hard links
            self.write_file(key, path)
            return
        try:
            fsync_file(tmp)
            _put_in_place(tmp, dest)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise LakeError(f"local write of {path} to {dest} failed: {_describe_os_error(exc)}") from exc

    def download(self, key: str, path: Path) -> None:
        src = self._path(key)
        try:
            _atomic_write(Path(path), _copy_from(src))
        except OSError as exc:
            raise LakeError(f"local download of {src} to {path} failed: {_describe_os_error(exc)}") from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise LakeError(f"local delete failed for {path}: {_describe_os_error(exc)}") from exc

    def delete_prefix(self, prefix: str) -> None:
        _refuse_whole_lake(_check_prefix(prefix), self.url)
        # Empty folders are left behind on purpose: removing them could race a concurrent writer
        # that has just created the folder and is about to put its temp file in it.
        for obj in self.list(prefix):
            self.delete(obj.key)

    def create_exclusive(self, key: str, data: bytes) -> bool:
        path = self._path(key)
        try:
            # Write the full content first, then hard-link it into place: link() fails if the name
            # exists, and unlike O_EXCL on the final name a crash can never leave a partial object.
            tmp = _write_temp(path.parent, _write_data(data))
            try:
                os.link(tmp, path)
            except FileExistsError:
                return False
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS):
                    raise
                return self._create_exclusive_no_links(path, data)
            finally:
                tmp.unlink(missing_ok=True)
            _fsync_dir(path.parent)
            return True
        except OSError as exc:
            raise LakeError(f"local create failed for {path}: {_describe_os_error(exc)}") from exc

    @staticmethod
    def _create_exclusive_no_links(path: Path, data: bytes) -> bool:
        # Fallback for filesystems without hard links (some network/FUSE mounts).
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            return False
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        _fsync_dir(path.parent)
        return True

    def uri(self, key: str) -> str:
        return str(self._path(key))


# ---------------------------------------------------------------------------------------------- factory

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def open_lake(url: str, s3: S3Settings | None = None) -> Lake:
    """s3://bucket[/prefix] opens an S3Lake; a plain path opens (and creates) a LocalLake."""
    if url[:5].lower() == "s3://":
        from reewatch.lake_s3 import S3Lake  # boto3 (~0.3 s to import) only for an S3 lake

        return S3Lake(url, s3)
    if _SCHEME.match(url):
        # e.g. gs:// or https:// would otherwise silently become a local folder named "gs:".
        raise LakeError(f"unsupported lake url {url!r}: use a local path or s3://bucket/prefix")
    return LocalLake(url)
