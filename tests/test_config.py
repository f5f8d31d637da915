"""Settings precedence, one-line configuration errors, and secrets that never print."""

from __future__ import annotations

import duckdb
import pytest

from conftest import PLANTED_SECRET
from reewatch.config import ConfigError, S3Settings, load_settings, resolve_s3_credentials


def test_lake_precedence_option_over_env_over_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().lake == "./lake"
    monkeypatch.setenv("REEWATCH_LAKE", "s3://from-env/prefix")
    assert load_settings().lake == "s3://from-env/prefix"
    assert load_settings("/from/option").lake == "/from/option"


def test_bad_settings_are_one_line_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="names no bucket"):
        load_settings("s3://")
    with pytest.raises(ConfigError, match="neither a local folder nor an s3"):
        load_settings("gs://bucket/x")
    with pytest.raises(ConfigError, match=r"^invalid --lake / REEWATCH_LAKE: 'gs://bucket/x' is neither"):
        load_settings("gs://bucket/x")
    monkeypatch.setenv("REEWATCH_KEEP_VERSIONS", "0")
    with pytest.raises(ConfigError, match="^invalid REEWATCH_KEEP_VERSIONS: "):
        load_settings()
    monkeypatch.delenv("REEWATCH_KEEP_VERSIONS")
    # Values DuckDB or Dask would refuse only once the run is under way, with a traceback.
    for value in ("lots", "80%", "1000"):
        monkeypatch.setenv("REEWATCH_DUCKDB_MEMORY_LIMIT", value)
        with pytest.raises(ConfigError, match=f"^invalid REEWATCH_DUCKDB_MEMORY_LIMIT: '{value}' is not a memory size"):
            load_settings()
    for value in ("1GB", "512 MB", "2GiB"):
        monkeypatch.setenv("REEWATCH_DUCKDB_MEMORY_LIMIT", value)
        assert load_settings().duckdb_memory_limit == value
        duckdb.connect(config={"memory_limit": value}).close()  # DuckDB reads what we let through
    monkeypatch.delenv("REEWATCH_DUCKDB_MEMORY_LIMIT")
    for value in ("nonsense", "tcp://host", "host:port"):
        monkeypatch.setenv("REEWATCH_DASK_ADDRESS", value)
        with pytest.raises(ConfigError, match="^invalid REEWATCH_DASK_ADDRESS: .* use tcp://host:8786"):
            load_settings()
    for value in ("tcp://10.0.0.5:8786", "scheduler:8786", "tls://[::1]:8786"):
        monkeypatch.setenv("REEWATCH_DASK_ADDRESS", value)
        assert load_settings().dask_address == value


def test_s3_settings_follow_the_standard_aws_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000")
    assert S3Settings.from_environment().endpoint_url == "http://127.0.0.1:9000"
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9001")  # the S3-specific one wins
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    assert S3Settings.from_environment() == S3Settings("http://127.0.0.1:9001", "eu-central-1")


def test_credentials_never_show_in_repr_or_str(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", PLANTED_SECRET)
    creds = resolve_s3_credentials()
    assert creds is not None and creds.secret.get_secret_value() == PLANTED_SECRET
    for text in (repr(creds), str(creds), repr(creds.secret), f"{creds}"):
        assert PLANTED_SECRET not in text
