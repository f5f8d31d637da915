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


def test_credentials_in_a_lake_url_are_refused_and_never_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    """S3 credentials come from the AWS variables; pasted into the URL they would be printed wherever the lake is.
    AWS secret keys hold `/` and `+`, so the whole user part is masked, not just up to the first `/`."""
    for lake in (
        "s3://AKIAHOSTILEKEY99:supersecret123@bucket/p", f"s3://AKIAHOSTILEKEY99:{PLANTED_SECRET}/K7+x@bucket/p",
        "s3://AKIAHOSTILEKEY99@bucket/p",
    ):  # fmt: skip
        with pytest.raises(ConfigError) as given:
            load_settings(lake)
        monkeypatch.setenv("REEWATCH_LAKE", lake)
        with pytest.raises(ConfigError) as from_env:
            load_settings()
        monkeypatch.delenv("REEWATCH_LAKE")
        for said in (str(given.value), str(from_env.value)):
            assert said.startswith("invalid --lake / REEWATCH_LAKE: 's3://***@bucket/p' holds credentials:"), said
            assert "AKIAHOSTILEKEY99" not in said and "supersecret123" not in said and PLANTED_SECRET not in said
    with pytest.raises(ConfigError, match=r"'https://\*\*\*@host/x' is neither a local folder"):
        load_settings("https://admin:supersecret123@host/x")
    assert load_settings("s3://bucket/landing@home").lake == "s3://bucket/landing@home"  # an @ in a prefix is fine


def test_an_empty_lake_option_is_an_error_not_a_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REEWATCH_LAKE", "s3://from-env/prefix")
    for empty in ("", "  "):
        with pytest.raises(ConfigError, match="^invalid --lake / REEWATCH_LAKE: the lake location is empty$"):
            load_settings(empty)
