"""The lake: one small storage interface over a local folder or ``s3://bucket/prefix``.

Keys are forward-slash paths relative to the lake root; writes are atomic on both backends.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import hashlib
import logging
import os
import re
import shutil
import stat
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import boto3
import botocore.config
from boto3.exceptions import Boto3Error
from botocore.exceptions import BotoCoreError, ClientError

from reewatch.config import S3Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = logging.getLogger(__name__)

# Temp files share the target's directory so os.replace stays a same-filesystem rename;
# the prefix lets list() hide half-written files.
TMP_PREFIX = ".tmp-"
RAW_PREFIX = "raw/"

# Codes S3 (and MinIO/moto) use when a conditional create loses against an existing object.
_CREATE_CONFLICT_CODES = {"PreconditionFailed", "412", "ConditionalRequestConflict"}
_NOT_FOUND_CODES = {"NoSuchKey", "NotFound", "404"}
_DEFAULT_MAX_ATTEMPTS = 5


class LakeError(Exception):
    """A storage problem. Messages name the object but never credentials."""


class KeyOutsideLake(LakeError):
    """A key that is malformed or would escape the lake root."""


@dataclass(frozen=True)
class LakeObject:
    key: str
    size: int
    modified: datetime


def sha256_file(path: Path) -> str:
    # 16 MB reads: hashing releases the GIL, but each read and update takes it again, and while the warm-up thread
    # imports GX (reewatch.warmup) every take can wait 5 ms — with 1 MB reads, a 1 GB file waited ~4 s.
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
    tmp = _write_temp(dest.parent, fill)
    try:
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(dest.parent)


def _write_data(data: bytes) -> Callable[[IO[bytes]], None]:
    def fill(out: IO[bytes]) -> None:
        out.write(data)

    return fill


def _copy_from(path: Path) -> Callable[[IO[bytes]], None]:
    def fill(out: IO[bytes]) -> None:
        with open(path, "rb") as src:
            try:
                _copy_in_kernel(src, out)
            except OSError:  # sendfile refused (an unusual file system): copy through Python from the start
                src.seek(0)
                out.seek(0)
                out.truncate()
                shutil.copyfileobj(src, out, 1024 * 1024)

    return fill


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
                except FileNotFoundError:  # deleted while we walked
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
        try:
            _atomic_write(dest, _copy_from(path))
        except OSError as exc:
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


# ---------------------------------------------------------------------------------------------- S3

_USERINFO = re.compile(r"//[^/@\s]*@")


def _s3_error(action: str, uri: str, exc: Exception) -> LakeError:
    """LakeError naming the object and the S3 error code only.

    ClientError messages are server text, so only the code is kept; botocore's own errors are
    scrubbed of URL user-info. Credentials are never part of either.
    """
    # boto3's S3UploadFailedError wraps the real ClientError.
    inner = exc.__cause__ or exc.__context__
    client_error = exc if isinstance(exc, ClientError) else inner if isinstance(inner, ClientError) else None
    if client_error is not None:
        err = client_error.response.get("Error", {})
        code = str(err.get("Code") or "unknown")
        if code == "404":  # HEAD-based calls carry no error body, only the status
            code = "NotFound (404)"
        reason = code
    else:
        reason = f"{type(exc).__name__}: {_USERINFO.sub('//***@', str(exc))}"
    return LakeError(f"S3 {action} failed for {uri}: {reason}")


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int | None:
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return int(status) if status is not None else None


_S3_ERRORS = (ClientError, BotoCoreError, Boto3Error)


def _make_s3_client(settings: S3Settings) -> S3Client:
    endpoint = settings.endpoint_url or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    # total_max_attempts counts the first try (Config's max_attempts would count retries only, one more than meant).
    retries: dict[str, Any] = {"mode": "standard", "total_max_attempts": _DEFAULT_MAX_ATTEMPTS}
    if os.environ.get("AWS_MAX_ATTEMPTS"):
        # An explicit attempt count in Config beats the environment, so only set it when the
        # operator has not chosen one (tests and scripts use AWS_MAX_ATTEMPTS=1 to fail fast).
        del retries["total_max_attempts"]
    config = botocore.config.Config(
        retries=retries,  # type: ignore[arg-type]
        connect_timeout=10,
        read_timeout=settings.timeout_seconds,
        # MinIO and moto serve buckets under the path, not as virtual hosts.
        s3={"addressing_style": "path"} if endpoint else None,
    )
    try:
        return boto3.session.Session().client(
            "s3", endpoint_url=settings.endpoint_url, region_name=settings.region, config=config
        )
    except (BotoCoreError, ValueError) as exc:
        raise LakeError(f"cannot create S3 client: {type(exc).__name__}: {_USERINFO.sub('//***@', str(exc))}") from exc


class S3Lake(Lake):
    is_s3 = True
    # list_objects_v2 page size; tests shrink it to exercise pagination.
    page_size = 1000

    def __init__(self, url: str, settings: S3Settings | None = None) -> None:
        self.url = url
        if not url[:5].lower() == "s3://":
            raise LakeError(f"not an S3 url: {url!r}")
        bucket, _, prefix = url[5:].partition("/")
        prefix = prefix.strip("/")
        if not bucket:
            raise LakeError(f"S3 lake url {url!r} has no bucket")
        if prefix:
            try:
                _check_key(prefix)
            except KeyOutsideLake as exc:
                raise LakeError(f"S3 lake url {url!r} has an invalid prefix: {exc}") from exc
        self.bucket = bucket
        self.prefix = prefix
        self._root = f"{prefix}/" if prefix else ""
        self.client = _make_s3_client(settings or S3Settings.from_environment())

    def _key(self, key: str) -> str:
        return self._root + _check_key(key)

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def _iter_raw(self, full_prefix: str) -> Iterator[dict[str, Any]]:
        paginator = self.client.get_paginator("list_objects_v2")
        pages = paginator.paginate(
            Bucket=self.bucket, Prefix=full_prefix, PaginationConfig={"PageSize": self.page_size}
        )
        for page in pages:
            for obj in page.get("Contents", []):
                yield dict(obj)

    def _prefix_uri(self, prefix: str) -> str:
        return f"s3://{self.bucket}/{self._root}{prefix}"

    def list(self, prefix: str = "") -> builtins.list[LakeObject]:
        _check_prefix(prefix)
        found: builtins.list[LakeObject] = []
        try:
            for obj in self._iter_raw(self._root + prefix):
                key = str(obj["Key"])[len(self._root) :]
                # Skip "folder" marker objects some tools create; the local backend has no such thing.
                if not key or key.endswith("/") or key.rpartition("/")[2].startswith(TMP_PREFIX):
                    continue
                try:
                    _check_key(key)
                except KeyOutsideLake as exc:
                    # 'landing/../../x' is a legal S3 key; anything that normalises it would read outside the lake.
                    _refused(key, str(exc))
                    continue
                found.append(LakeObject(key, int(obj["Size"]), obj["LastModified"]))
        except _S3_ERRORS as exc:
            raise _s3_error("list", self._prefix_uri(prefix), exc) from exc
        found.sort(key=lambda o: o.key)
        return found

    def read_bytes(self, key: str) -> bytes:
        full = self._key(key)
        try:
            return self.client.get_object(Bucket=self.bucket, Key=full)["Body"].read()
        except _S3_ERRORS as exc:
            raise _s3_error("read", self.uri(key), exc) from exc

    def write_bytes(self, key: str, data: bytes) -> None:
        full = self._key(key)
        try:
            # A single PUT is atomic on S3: readers see the old object or the new one, never a mix.
            self.client.put_object(Bucket=self.bucket, Key=full, Body=data)
        except _S3_ERRORS as exc:
            raise _s3_error("write", self.uri(key), exc) from exc

    def write_file(self, key: str, path: Path) -> None:
        full = self._key(key)
        if not Path(path).is_file():
            raise LakeError(f"S3 write failed for {self.uri(key)}: local file {path} not found")
        try:
            # Multipart for big files; the object only becomes visible once the upload completes.
            self.client.upload_file(str(path), self.bucket, full)
        except (*_S3_ERRORS, OSError) as exc:
            raise _s3_error("write", self.uri(key), exc) from exc

    def download(self, key: str, path: Path) -> None:
        full = self._key(key)
        dest = Path(path)
        try:
            _atomic_write(dest, lambda out: self.client.download_fileobj(self.bucket, full, out))
        except _S3_ERRORS as exc:
            raise _s3_error("download", self.uri(key), exc) from exc
        except OSError as exc:
            raise LakeError(f"S3 download of {self.uri(key)} to {dest} failed: {_describe_os_error(exc)}") from exc

    def exists(self, key: str) -> bool:
        full = self._key(key)
        try:
            self.client.head_object(Bucket=self.bucket, Key=full)
        except ClientError as exc:
            if _error_code(exc) in _NOT_FOUND_CODES or _status(exc) == 404:
                return False
            raise _s3_error("exists check", self.uri(key), exc) from exc
        except _S3_ERRORS as exc:
            raise _s3_error("exists check", self.uri(key), exc) from exc
        return True

    def delete(self, key: str) -> None:
        full = self._key(key)
        try:
            # DeleteObject succeeds for missing keys, which is the semantics we want.
            self.client.delete_object(Bucket=self.bucket, Key=full)
        except _S3_ERRORS as exc:
            raise _s3_error("delete", self.uri(key), exc) from exc

    def delete_prefix(self, prefix: str) -> None:
        _refuse_whole_lake(_check_prefix(prefix), self.url)
        uri = self._prefix_uri(prefix)
        try:
            keys = [str(obj["Key"]) for obj in self._iter_raw(self._root + prefix)]
            for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000 keys
                batch = keys[start : start + 1000]
                resp = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
                )
                errors = resp.get("Errors", [])
                if errors:
                    first = errors[0]
                    raise LakeError(
                        f"S3 delete failed for {uri}: {len(errors)} objects not deleted, "
                        f"first s3://{self.bucket}/{first.get('Key')}: {first.get('Code')}"
                    )
        except _S3_ERRORS as exc:
            raise _s3_error("delete", uri, exc) from exc

    def create_exclusive(self, key: str, data: bytes) -> bool:
        full = self._key(key)
        try:
            self.client.put_object(Bucket=self.bucket, Key=full, Body=data, IfNoneMatch="*")
        except ClientError as exc:
            if _error_code(exc) in _CREATE_CONFLICT_CODES or _status(exc) == 412:
                return False
            raise _s3_error("create", self.uri(key), exc) from exc
        except _S3_ERRORS as exc:
            raise _s3_error("create", self.uri(key), exc) from exc
        return True

    # Conditional writes on an object's ETag: what the S3 writer lock needs to take over a dead run's lease, renew
    # its own and remove it without ever overwriting (or deleting) a lock another run took in between.

    def read_tagged(self, key: str) -> tuple[bytes, str] | None:
        """The object's bytes and ETag, or None when it does not exist."""
        full = self._key(key)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=full)
            return response["Body"].read(), str(response["ETag"])
        except ClientError as exc:
            if _error_code(exc) in _NOT_FOUND_CODES or _status(exc) == 404:
                return None
            raise _s3_error("read", self.uri(key), exc) from exc
        except _S3_ERRORS as exc:
            raise _s3_error("read", self.uri(key), exc) from exc

    def replace_if_unchanged(self, key: str, data: bytes, etag: str) -> str | None:
        """Overwrite the object only if it still has this ETag; its new ETag, or None if it changed or went."""
        full = self._key(key)
        try:
            return str(self.client.put_object(Bucket=self.bucket, Key=full, Body=data, IfMatch=etag)["ETag"])
        except ClientError as exc:
            if _lost_condition(exc):
                return None
            raise _s3_error("conditional write", self.uri(key), exc) from exc
        except _S3_ERRORS as exc:
            raise _s3_error("conditional write", self.uri(key), exc) from exc

    def delete_if_unchanged(self, key: str, etag: str) -> bool:
        """Delete the object only if it still has this ETag; False if it changed or went."""
        full = self._key(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=full, IfMatch=etag)
        except ClientError as exc:
            if _lost_condition(exc):
                return False
            raise _s3_error("conditional delete", self.uri(key), exc) from exc
        except _S3_ERRORS as exc:
            raise _s3_error("conditional delete", self.uri(key), exc) from exc
        return True


def _lost_condition(exc: ClientError) -> bool:
    """A conditional request that lost: the object changed (412, or 409 for a concurrent one) or is gone (404)."""
    return _error_code(exc) in _CREATE_CONFLICT_CODES | _NOT_FOUND_CODES or _status(exc) in (404, 409, 412)


# ---------------------------------------------------------------------------------------------- factory

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def open_lake(url: str, s3: S3Settings | None = None) -> Lake:
    """s3://bucket[/prefix] opens an S3Lake; a plain path opens (and creates) a LocalLake."""
    if url[:5].lower() == "s3://":
        return S3Lake(url, s3)
    if _SCHEME.match(url):
        # e.g. gs:// or https:// would otherwise silently become a local folder named "gs:".
        raise LakeError(f"unsupported lake url {url!r}: use a local path or s3://bucket/prefix")
    return LocalLake(url)
