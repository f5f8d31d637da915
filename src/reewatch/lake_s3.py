"""The lake on S3 (or MinIO, or moto's server): `S3Lake`, one boto3 client, errors that name objects, not secrets.

Apart from `reewatch.lake` so that a run on a local folder never imports boto3.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import botocore.config
from boto3.exceptions import Boto3Error
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
    ProfileNotFound,
)

from reewatch.config import S3Settings, mask_userinfo
from reewatch.lake import (
    TMP_PREFIX,
    KeyOutsideLake,
    Lake,
    LakeCredentialsError,
    LakeError,
    LakeNotFound,
    LakeObject,
    _atomic_write,
    _check_key,
    _check_prefix,
    _describe_os_error,
    _refuse_whole_lake,
    _refused,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Codes S3 (and MinIO/moto) use when a conditional create loses against an existing object.
_CREATE_CONFLICT_CODES = {"PreconditionFailed", "412", "ConditionalRequestConflict"}
_NOT_FOUND_CODES = {"NoSuchKey", "NotFound", "404"}
_DEFAULT_MAX_ATTEMPTS = 5
# Answers to a request whose signature S3 refused. HeadBucket's answer has no body: a 403 there is only a status.
_REFUSED_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "ExpiredToken", "InvalidToken", "403"}
_WHERE_CREDENTIALS_COME_FROM = (
    "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones), or AWS_PROFILE "
    "for a profile in ~/.aws/credentials, or run where an instance or task role supplies them"
)


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
        reason = f"{type(exc).__name__}: {mask_userinfo(str(exc))}"
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
    except ProfileNotFound as exc:  # "The config profile (name) could not be found": a name, no secret
        raise LakeCredentialsError(f"no S3 credentials: {exc} (AWS_PROFILE)") from None
    except PartialCredentialsError as exc:  # it names the missing variable, never a value
        raise LakeCredentialsError(f"incomplete S3 credentials ({exc}): {_WHERE_CREDENTIALS_COME_FROM}") from None
    except (BotoCoreError, ValueError) as exc:
        raise LakeError(f"cannot create S3 client: {type(exc).__name__}: {mask_userinfo(str(exc))}") from exc


class S3Lake(Lake):
    is_s3 = True
    # list_objects_v2 page size; tests shrink it to exercise pagination.
    page_size = 1000

    def __init__(self, url: str, settings: S3Settings | None = None) -> None:
        self.url = url
        if not url[:5].lower() == "s3://":
            raise LakeError(f"not an S3 url: {mask_userinfo(url)!r}")
        bucket, _, prefix = url[5:].partition("/")
        prefix = prefix.strip("/")
        if not bucket:
            raise LakeError(f"S3 lake url {mask_userinfo(url)!r} has no bucket")
        if prefix:
            try:
                _check_key(prefix)
            except KeyOutsideLake as exc:
                raise LakeError(f"S3 lake url {mask_userinfo(url)!r} has an invalid prefix: {exc}") from exc
        self.bucket = bucket
        self.prefix = prefix
        self._root = f"{prefix}/" if prefix else ""
        self.client = _make_s3_client(settings or S3Settings.from_environment())

    def check_exists(self) -> None:
        """LakeNotFound when the bucket does not exist: a mistyped name would otherwise read as an empty lake (S3
        answers every object in it 404). LakeCredentialsError when there are no credentials or S3 refuses them
        (403, to a listing too): a run needs s3:ListBucket on its bucket anyway (it lists landing/), so this is no
        storage failure that running again would fix."""
        where = mask_userinfo(str(self.client.meta.endpoint_url))
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ParamValidationError:
            raise LakeNotFound(f"'{self.bucket}' is not a valid S3 bucket name") from None
        except NoCredentialsError:
            raise LakeCredentialsError(f"no S3 credentials found: {_WHERE_CREDENTIALS_COME_FROM}") from None
        except ClientError as exc:
            if _error_code(exc) in {"NoSuchBucket", *_NOT_FOUND_CODES} or _status(exc) == 404:
                raise LakeNotFound(
                    f"there is no bucket '{self.bucket}' at {where}: create it, or check the name and AWS_ENDPOINT_URL"
                ) from None
            if _error_code(exc) in _REFUSED_CODES or _status(exc) == 403:
                # HeadBucket's 403 has no body to say whether the credentials were refused, or HEAD only: moto's
                # IAM checks it apart from s3:ListBucket. A one-key listing, which the run needs, tells.
                code = self._listing_refused()
                if code is None:
                    return
                raise LakeCredentialsError(
                    f"S3 at {where} refused the credentials for bucket '{self.bucket}' ({code}): check "
                    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), and that they may list the bucket "
                    "(s3:ListBucket, infra/iam-policy.json)"
                ) from None
            raise _s3_error("bucket check", f"s3://{self.bucket}", exc) from exc
        except _S3_ERRORS as exc:
            raise _s3_error("bucket check", f"s3://{self.bucket}", exc) from exc

    def _listing_refused(self) -> str | None:
        """The code S3 refuses a one-key listing of the lake with (InvalidAccessKeyId, SignatureDoesNotMatch,
        AccessDenied…), or None when it answers."""
        try:
            self.client.list_objects_v2(Bucket=self.bucket, Prefix=self._root, MaxKeys=1)
        except ClientError as exc:
            if _error_code(exc) in _REFUSED_CODES or _status(exc) == 403:
                return "403 Forbidden" if _error_code(exc) in {"", "403"} else _error_code(exc)
            raise _s3_error("list", self._prefix_uri(""), exc) from exc
        except _S3_ERRORS as exc:
            raise _s3_error("list", self._prefix_uri(""), exc) from exc
        return None

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
