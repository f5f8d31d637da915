"""One typed settings object for reewatch, read from the command line, `REEWATCH_*` and the standard AWS variables.

Every option is documented where it is declared; secrets are `SecretStr` so they never print or log.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigError(ValueError):
    """A usage or configuration problem, said in one line (exit code 2)."""


@dataclass(frozen=True)
class S3Settings:
    """Where S3 is and who we are there: shared by boto3 (the lake) and DuckDB (httpfs), so both see one store."""

    endpoint_url: str | None
    """`AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL` (MinIO, moto); None means AWS itself."""
    region: str
    """`AWS_REGION` or `AWS_DEFAULT_REGION`; us-east-1 when neither is set."""
    timeout_seconds: float = 60.0
    """Seconds a request may wait for an answer (or a body for its next byte) before it is abandoned and retried:
    boto3's read timeout and DuckDB's `http_timeout`. Set by `Settings.s3_timeout` (`REEWATCH_S3_TIMEOUT`)."""

    @classmethod
    def from_environment(cls, timeout_seconds: float = 60.0) -> S3Settings:
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        return cls(endpoint_url=endpoint, region=region, timeout_seconds=timeout_seconds)


@dataclass(frozen=True, repr=False)
class S3Credentials:
    """Resolved credentials (env, profile, instance role) for DuckDB's secret. Never printed: repr hides them."""

    key_id: str
    secret: SecretStr
    session_token: SecretStr | None

    def __repr__(self) -> str:
        return "S3Credentials(key_id='***', secret='***')"


def resolve_s3_credentials() -> S3Credentials | None:
    """Ask boto3's credential chain once, so DuckDB uses exactly the credentials boto3 uses."""
    import boto3  # imported here: `reewatch --help` must stay fast

    creds = boto3.session.Session().get_credentials()
    if creds is None:
        return None
    frozen = creds.get_frozen_credentials()
    if not frozen.access_key or not frozen.secret_key:
        return None
    token = SecretStr(frozen.token) if frozen.token else None
    return S3Credentials(key_id=frozen.access_key, secret=SecretStr(frozen.secret_key), session_token=token)


# The user (and password) of a URL: `//user@` or `//user:password@`. The password runs to the last `@` before a space
# or quote, as AWS secret keys hold `/` and `+`; a host with a port and an `@` in its path is masked too, never leaked.
_USERINFO = re.compile(r"//([^/\s:@'\"]*:[^\s'\"]*|[^/\s:@'\"]*)@")


def mask_userinfo(text: str) -> str:
    """`text` with the credentials of every URL in it replaced by `***`: for messages that echo a URL as given."""
    return _USERINFO.sub("//***@", text)


_MEMORY_SIZE = re.compile(r"\d+(\.\d+)?\s*(b|bytes?|[kmgt]i?b|kilobytes?|megabytes?|gigabytes?|terabytes?)", re.I)
_SCHEDULER_ADDRESS = re.compile(r"((tcp|tls|ucx|ws|wss)://)?(\[[0-9a-f:.]+\]|[\w.-]+):\d{1,5}/?", re.I)


class Settings(BaseSettings):
    """reewatch settings. Precedence: command-line option > `REEWATCH_*` variable > default."""

    model_config = SettingsConfigDict(env_prefix="REEWATCH_", extra="ignore")

    lake: str = Field(default="./lake")
    """Where the lake lives: a local folder or `s3://bucket/prefix` (`--lake`, `REEWATCH_LAKE`)."""

    state_dir: Path = Field(default_factory=lambda: Path.home() / ".local" / "state" / "reewatch")
    """Local working folder for an `s3://` lake's warehouse copy and locks (`REEWATCH_STATE_DIR`)."""

    log_level: str = "INFO"
    """Python log level name for reewatch's own messages (`REEWATCH_LOG_LEVEL`)."""

    duckdb_memory_limit: str = "1GB"
    """DuckDB's buffer limit for the writer (`REEWATCH_DUCKDB_MEMORY_LIMIT`); larger work spills to disk."""

    keep_versions: int = Field(default=12, ge=1)
    """How many published versions stay in `published/` for time travel (`REEWATCH_KEEP_VERSIONS`)."""

    s3_timeout: float = Field(default=60.0, gt=0)
    """Seconds an S3 request may stall (no answer, or no next byte of a body) before it is abandoned and retried,
    by boto3 and by DuckDB alike (`REEWATCH_S3_TIMEOUT`)."""

    lock_lease_seconds: int = Field(default=120, ge=5)
    """How long the writer lock of an `s3://` lake outlives a run that stops renewing it
    (`REEWATCH_LOCK_LEASE_SECONDS`). A run renews its lease every quarter of this; after a run is killed, the next
    one takes the lock over once the lease has run out. Shorter means quicker recovery after a crash, but a run
    that stalls that long loses the lock (and its work is not saved)."""

    workers: int = Field(default=1, ge=1)
    """Releases parsed and checked at once (`--workers`, `REEWATCH_WORKERS`). 1 stages them one by one in the
    run's own process; more starts a local Dask cluster of that many worker processes for the run."""

    dask_address: str | None = None
    """An existing Dask scheduler, e.g. `tcp://10.0.0.5:8786` (`REEWATCH_DASK_ADDRESS`): releases are staged on its
    workers instead of a local cluster. Its workers need reewatch installed and the same lake credentials."""

    expectations_dir: str | None = None
    """A folder of the quality gate's suites, `<table>.json` (`REEWATCH_EXPECTATIONS_DIR`; unset or empty: the
    bundled ones). Read by `reewatch.quality.suites_dir`; checked here so that a bad folder stops a run before it
    lands or stages anything, not at its gate."""

    @property
    def scale_out(self) -> bool:
        """True when releases are staged on Dask rather than in the run's own process."""
        return self.workers > 1 or bool(self.dask_address)

    @field_validator("lake")
    @classmethod
    def _lake_is_folder_or_s3(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("the lake location is empty")
        parsed = urlparse(value)
        shown = mask_userinfo(value)  # the location is echoed in errors, logs, status and the report
        if parsed.scheme == "s3":
            if not parsed.netloc:
                raise ValueError(f"'{shown}' names no bucket: use s3://bucket/prefix")
            if shown != value:
                raise ValueError(
                    f"'{shown}' holds credentials: S3 takes them from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                    "(or AWS_PROFILE), never from the lake URL"
                )
        elif parsed.scheme and len(parsed.scheme) > 1:  # one letter is a Windows drive, not a scheme
            raise ValueError(f"'{shown}' is neither a local folder nor an s3:// URL")
        return value

    @field_validator("duckdb_memory_limit")
    @classmethod
    def _memory_size(cls, value: str) -> str:
        # The sizes DuckDB's `memory_limit` reads (its error would come only once the writer opens, as a traceback).
        if not _MEMORY_SIZE.fullmatch(value.strip()):
            raise ValueError(f"'{value}' is not a memory size: use a number and a unit, e.g. 1GB, 512MB or 2GiB")
        return value.strip()

    @field_validator("dask_address")
    @classmethod
    def _scheduler_address(cls, value: str | None) -> str | None:
        if value is not None and not _SCHEDULER_ADDRESS.fullmatch(value.strip()):
            raise ValueError(f"'{mask_userinfo(value)}' is not a Dask scheduler address: use tcp://host:8786")
        return value.strip() if value is not None else None

    @field_validator("expectations_dir")
    @classmethod
    def _readable_suites(cls, value: str | None) -> str | None:
        if not value:
            return value
        from reewatch.quality import QualityConfigError, load_suites  # DuckDB comes with it: not for `--help`

        try:
            load_suites(Path(value))
        except QualityConfigError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"unknown log level '{value}'")
        return level

    @property
    def is_s3(self) -> bool:
        return self.lake.startswith("s3://")

    def s3(self) -> S3Settings:
        return S3Settings.from_environment(self.s3_timeout)


def load_settings(lake: str | None = None, **overrides: object) -> Settings:
    """Build the settings, turning validation errors into one-line `ConfigError`s."""
    from pydantic import ValidationError

    values: dict[str, object] = {k: v for k, v in overrides.items() if v is not None}
    if lake is not None:  # an empty --lake is a mistake to say, not a reason to fall back on REEWATCH_LAKE
        values["lake"] = lake
    try:
        return Settings(**values)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        # Named as the user sets it: the option where there is one, else the variable.
        where = {"lake": "--lake / REEWATCH_LAKE", "workers": "--workers / REEWATCH_WORKERS"}.get(
            field, f"REEWATCH_{field.upper()}" if field else "settings"
        )
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"invalid {where}: {message}") from None
