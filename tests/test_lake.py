"""The same lake tests against a temp folder and against moto's S3 server over HTTP."""

from __future__ import annotations

import hashlib
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest

from reewatch import lake as lake_module
from reewatch.lake import (
    DIRECT_CHUNK,
    DIRECT_COPY_MIN_BYTES,
    KeyOutsideLake,
    Lake,
    LakeError,
    LocalLake,
    S3Settings,
    open_lake,
    sha256_file,
    sha256_hex,
)
from reewatch.lake_s3 import S3Lake
from reewatch.landing import land_file

BAD_KEYS = [
    "",
    "..",
    "../x",
    "a/../../x",
    "a/..",
    "/etc/passwd",
    "a\\b",
    "..\\x",
    "a//b",
    "a/",
    "./a",
    "a/./b",
    "a\x00b",
    ".tmp-sneaky",
]


def _new_bucket(endpoint: str) -> str:
    bucket = f"bucket-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
    return bucket


@pytest.fixture(params=["local", "s3"])
def lake(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lake:
    if request.param == "local":
        return open_lake(str(tmp_path / "lake"))
    # Requested lazily so local-only runs (-k local) never start the server.
    endpoint: str = request.getfixturevalue("s3_endpoint")
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    bucket = _new_bucket(endpoint)
    result = open_lake(f"s3://{bucket}/lake")
    assert isinstance(result, S3Lake)
    result.page_size = 2  # so every list()/delete_prefix() below crosses page boundaries
    return result


def _plant_temp_file(lake: Lake, folder: str) -> None:
    """Simulate an in-flight write by another process."""
    if isinstance(lake, LocalLake):
        (lake.root / folder).mkdir(parents=True, exist_ok=True)
        (lake.root / folder / ".tmp-inflight").write_bytes(b"partial")
    else:
        assert isinstance(lake, S3Lake)
        lake.client.put_object(Bucket=lake.bucket, Key=f"{lake.prefix}/{folder}/.tmp-inflight", Body=b"x")


def test_write_read_roundtrip(lake: Lake) -> None:
    lake.write_bytes("a/b/c.bin", b"\x00\x01hello")
    assert lake.read_bytes("a/b/c.bin") == b"\x00\x01hello"
    lake.write_bytes("a/b/c.bin", b"replaced")
    assert lake.read_bytes("a/b/c.bin") == b"replaced"
    lake.write_bytes("empty", b"")
    assert lake.read_bytes("empty") == b""


def test_write_file_roundtrip(lake: Lake, tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    # Above boto3's 8 MiB multipart threshold, so the S3 path uses a multipart upload.
    payload = os.urandom(9 * 1024 * 1024)
    src.write_bytes(payload)
    lake.write_file("files/big.bin", src)
    assert lake.read_bytes("files/big.bin") == payload
    with pytest.raises(LakeError):
        lake.write_file("files/missing.bin", tmp_path / "does-not-exist")
    assert not lake.exists("files/missing.bin")


def test_adopt_file_puts_the_file_in_place_and_a_local_lake_takes_it_without_a_copy(lake: Lake, tmp_path: Path) -> None:
    made = tmp_path / "observations.parquet"
    made.write_bytes(b"pairs " * 1000)
    lake.adopt_file("_state/observations/r1.parquet", made)
    made.unlink()  # the maker removes its own folder afterwards: the lake's file stays
    assert lake.read_bytes("_state/observations/r1.parquet") == b"pairs " * 1000
    again = tmp_path / "again.parquet"
    again.write_bytes(b"replaced")
    lake.adopt_file("_state/observations/r1.parquet", again)  # an existing key is replaced whole
    assert lake.read_bytes("_state/observations/r1.parquet") == b"replaced"
    assert [o.key for o in lake.list("_state/")] == ["_state/observations/r1.parquet"]  # no temp file left
    if isinstance(lake, LocalLake):
        assert os.path.samefile(again, lake.root / "_state/observations/r1.parquet")  # a link, not a copy
    with pytest.raises(LakeError):
        lake.adopt_file("_state/observations/r2.parquet", tmp_path / "does-not-exist")
    assert not lake.exists("_state/observations/r2.parquet")


@pytest.mark.parametrize(
    "size", [DIRECT_COPY_MIN_BYTES, DIRECT_COPY_MIN_BYTES + 4097, 3 * DIRECT_CHUNK - 1], ids=["blocks", "tail", "chunks"]
)
def test_a_large_file_is_archived_into_a_local_lake_with_direct_io_byte_for_byte(tmp_path: Path, size: int) -> None:
    src = tmp_path / "export.csv"
    payload = os.urandom(size)
    src.write_bytes(payload)
    with open(src, "rb") as source, open(tmp_path / "direct", "wb") as out:
        assert lake_module._copy_direct(source, out)  # this file system takes direct writes: the path is exercised
    assert (tmp_path / "direct").read_bytes() == payload  # the last block's padding is cut off
    lake = open_lake(str(tmp_path / "lake"))
    digest, new = lake.archive_file(src)  # raw/ is written direct
    assert new and lake.read_bytes(f"raw/{digest}") == payload
    small = tmp_path / "small.csv"
    small.write_bytes(payload[: DIRECT_COPY_MIN_BYTES - 1])
    with open(small, "rb") as source, open(tmp_path / "not-direct", "wb") as out:
        assert not lake_module._copy_direct(source, out)  # small files go through the page cache, as before


def test_a_file_landed_with_a_hashing_thread_keeps_its_digest_until_it_changes(tmp_path: Path) -> None:
    """`reewatch ingest` hashes what it lands beside Prefect's import; the run takes that digest, unless the file
    has been written since (then it reads it again)."""
    lake = open_lake(str(tmp_path / "lake"))
    source = tmp_path / "export.csv"
    source.write_bytes(b"period,value\n202508,1\n" * 1000)
    with ThreadPoolExecutor(1) as hashing:
        key = land_file(lake, source, tmp_path / "work", hashing=hashing)
        landed = tmp_path / "lake" / key
        assert sha256_file(landed) == hashlib.sha256(source.read_bytes()).hexdigest()
    time.sleep(0.05)  # past the file clock's tick (a few ms): a write within it would keep the file's times
    landed.write_bytes(b"period,value\n202509,2\n" * 1000)  # the same size, in place: the same inode
    assert sha256_file(landed) == hashlib.sha256(landed.read_bytes()).hexdigest()
    assert sha256_file(landed) != hashlib.sha256(source.read_bytes()).hexdigest()


def test_a_landed_file_whose_hashing_was_cancelled_is_hashed_when_asked(tmp_path: Path) -> None:
    """A run that stops early cancels the digests not yet started; asking for one later reads the file."""
    lake = open_lake(str(tmp_path / "lake"))
    source = tmp_path / "export.csv"
    source.write_bytes(b"period,value\n202510,3\n" * 100)
    busy = threading.Event()
    with ThreadPoolExecutor(1) as hashing:
        hashing.submit(busy.wait)  # the thread is taken: the file's hashing waits behind it
        key = land_file(lake, source, tmp_path / "work", hashing=hashing)
        hashing.shutdown(wait=False, cancel_futures=True)
        busy.set()
    assert sha256_file(tmp_path / "lake" / key) == hashlib.sha256(source.read_bytes()).hexdigest()


def test_list_recursive_sorted_and_skips_temp_files(lake: Lake) -> None:
    for key in ["b/2.txt", "a/z.txt", "a/sub/deep/1.txt", "top.txt", "ab.txt"]:
        lake.write_bytes(key, key.encode())
    _plant_temp_file(lake, "a/sub")
    if isinstance(lake, S3Lake):
        # Objects beside the lake prefix must not leak in, even with a shared name start.
        lake.client.put_object(Bucket=lake.bucket, Key="lakehouse/x.txt", Body=b"x")
        lake.client.put_object(Bucket=lake.bucket, Key="outside.txt", Body=b"x")

    objects = lake.list("")
    assert [o.key for o in objects] == ["a/sub/deep/1.txt", "a/z.txt", "ab.txt", "b/2.txt", "top.txt"]
    assert {o.key: o.size for o in objects}["a/z.txt"] == len(b"a/z.txt")
    assert all(o.modified.tzinfo is not None for o in objects)

    assert [o.key for o in lake.list("a/")] == ["a/sub/deep/1.txt", "a/z.txt"]
    # A prefix is a plain string prefix, as on S3: "a" also matches "ab.txt".
    assert [o.key for o in lake.list("a")] == ["a/sub/deep/1.txt", "a/z.txt", "ab.txt"]
    assert [o.key for o in lake.list("a/sub/de")] == ["a/sub/deep/1.txt"]
    assert lake.list("nothing/here/") == []


def test_archive_is_content_addressed_and_never_rewrites(lake: Lake) -> None:
    data = b"official release, 2024-05"
    digest, created = lake.archive(data)
    assert digest == sha256_hex(data)
    assert len(digest) == 64
    assert created is True
    assert lake.read_bytes(f"raw/{digest}") == data

    # Tamper with the stored copy: a second archive must notice it exists and leave it alone.
    lake.write_bytes(f"raw/{digest}", b"tampered")
    again, created_again = lake.archive(data)
    assert (again, created_again) == (digest, False)
    assert lake.read_bytes(f"raw/{digest}") == b"tampered"

    other, created_other = lake.archive(b"something else")
    assert other != digest and created_other is True
    assert [o.key for o in lake.list("raw/")] == sorted([f"raw/{digest}", f"raw/{other}"])


def test_create_exclusive(lake: Lake) -> None:
    assert lake.create_exclusive("locks/run-1", b"first") is True
    assert lake.create_exclusive("locks/run-1", b"second") is False
    assert lake.read_bytes("locks/run-1") == b"first"
    assert lake.create_exclusive("locks/run-2", b"") is True
    assert [o.key for o in lake.list("locks/")] == ["locks/run-1", "locks/run-2"]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_bad_keys_raise(lake: Lake, key: str, tmp_path: Path) -> None:
    calls = [
        lambda: lake.read_bytes(key),
        lambda: lake.write_bytes(key, b"x"),
        lambda: lake.exists(key),
        lambda: lake.delete(key),
        lambda: lake.uri(key),
        lambda: lake.create_exclusive(key, b"x"),
        lambda: lake.download(key, tmp_path / "out"),
    ]
    for call in calls:
        with pytest.raises(KeyOutsideLake):
            call()
    assert lake.list("") == []


@pytest.mark.parametrize("prefix", ["../", "/abs", "a//", "..\\"])
def test_bad_prefixes_raise(lake: Lake, prefix: str) -> None:
    with pytest.raises(KeyOutsideLake):
        lake.list(prefix)
    with pytest.raises(KeyOutsideLake):
        lake.delete_prefix(prefix)


def test_local_symlink_escape_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret")
    lake = open_lake(str(tmp_path / "lake"))
    assert isinstance(lake, LocalLake)
    (lake.root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(KeyOutsideLake):
        lake.read_bytes("link/secret.txt")
    with pytest.raises(KeyOutsideLake):
        lake.write_bytes("link/new.txt", b"x")
    assert not (outside / "new.txt").exists()


def test_a_link_to_nothing_in_landing_is_named_not_skipped_in_silence(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lake = open_lake(str(tmp_path / "lake"))
    assert isinstance(lake, LocalLake)
    (lake.root / "landing").mkdir(parents=True)
    (lake.root / "landing" / "gone.csv").symlink_to(tmp_path / "elsewhere" / "gone.csv")
    (lake.root / "landing" / "here.csv").write_bytes(b"x")
    with caplog.at_level("ERROR", logger="reewatch"):
        assert [o.key for o in lake.list("landing/")] == ["landing/here.csv"]
    assert "'landing/gone.csv' is skipped" in caplog.text and "which does not exist" in caplog.text


def test_exists_delete_delete_prefix(lake: Lake) -> None:
    assert not lake.exists("x/1")
    for key in ["x/1", "x/2", "x/3/4", "xy/5", "y/6"]:
        lake.write_bytes(key, b"v")
    assert lake.exists("x/1")
    assert not lake.exists("x")  # a "folder" is not an object

    lake.delete("x/1")
    assert not lake.exists("x/1")
    lake.delete("x/1")  # deleting a missing key is fine
    lake.delete("never/existed")

    lake.delete_prefix("x/")
    assert [o.key for o in lake.list("")] == ["xy/5", "y/6"]
    lake.delete_prefix("nothing/")  # empty prefix match is fine

    with pytest.raises(LakeError, match="whole lake"):
        lake.delete_prefix("")
    assert [o.key for o in lake.list("")] == ["xy/5", "y/6"]


def test_uri(lake: Lake) -> None:
    if isinstance(lake, LocalLake):
        uri = lake.uri("tables/t.parquet")
        assert os.path.isabs(uri)
        assert uri == str(lake.root / "tables" / "t.parquet")
    else:
        assert isinstance(lake, S3Lake)
        assert lake.uri("tables/t.parquet") == f"s3://{lake.bucket}/lake/tables/t.parquet"
    # Globs pass through untouched, for DuckDB's read_parquet.
    assert lake.uri("tables/*.parquet").endswith("tables/*.parquet")


def test_s3_uri_prefix_shapes() -> None:
    # Creating a client does not touch the network, so no server is needed here.
    assert open_lake("s3://bkt").uri("a/b.parquet") == "s3://bkt/a/b.parquet"
    assert open_lake("s3://bkt/").uri("a") == "s3://bkt/a"
    assert open_lake("s3://bkt/one/two/").uri("a") == "s3://bkt/one/two/a"
    nested = open_lake("s3://bkt/one/two")
    assert nested.is_s3 and nested.url == "s3://bkt/one/two"
    with pytest.raises(LakeError):
        open_lake("s3://")
    with pytest.raises(LakeError):
        open_lake("s3://bkt/a/../b")


def test_open_lake_local_is_absolute_and_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    lake = open_lake("rel/lake")
    assert isinstance(lake, LocalLake) and not lake.is_s3
    assert lake.url == "rel/lake"
    assert lake.root.is_absolute() and lake.root.is_dir()
    assert lake.root == (tmp_path / "rel" / "lake").resolve()
    with pytest.raises(LakeError, match="unsupported"):
        open_lake("gs://bucket/lake")


def test_download_is_atomic(lake: Lake, tmp_path: Path) -> None:
    lake.write_bytes("d/data.bin", b"new content")
    out_dir = tmp_path / "out"
    dest = out_dir / "nested" / "data.bin"
    lake.download("d/data.bin", dest)
    assert dest.read_bytes() == b"new content"

    # A failed download must leave the existing file untouched and no temp file behind.
    dest.write_bytes(b"previous")
    with pytest.raises(LakeError):
        lake.download("d/missing.bin", dest)
    assert dest.read_bytes() == b"previous"
    assert sorted(p.name for p in dest.parent.iterdir()) == ["data.bin"]

    lake.download("d/data.bin", dest)
    assert dest.read_bytes() == b"new content"
    assert sorted(p.name for p in dest.parent.iterdir()) == ["data.bin"]


def test_missing_key_error_names_the_key(lake: Lake) -> None:
    with pytest.raises(LakeError) as info:
        lake.read_bytes("dir/missing.bin")
    assert "dir/missing.bin" in str(info.value)
    assert not isinstance(info.value, KeyOutsideLake)


def test_unreachable_endpoint_fails_fast_without_leaking_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "SECRET-should-not-leak"
    access_key = "AKIA-ACCESS-should-not-leak"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    lake = open_lake("s3://bucket/lake", S3Settings(endpoint_url="http://127.0.0.1:1", region="us-east-1"))

    start = time.monotonic()
    operations = [
        lambda: lake.read_bytes("k"),
        lambda: lake.write_bytes("k", b"x"),
        lambda: lake.list(""),
        lambda: lake.exists("k"),
        lambda: lake.create_exclusive("k", b"x"),
        lambda: lake.archive(b"x"),
    ]
    for operation in operations:
        with pytest.raises(LakeError) as info:
            operation()
        message = str(info.value)
        assert "s3://bucket/lake" in message
        assert secret not in message and access_key not in message
        assert secret not in repr(info.value)
    assert time.monotonic() - start < 10
