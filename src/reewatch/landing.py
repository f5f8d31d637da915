"""Putting files into landing/: user files (`reewatch ingest`) and the bundled samples (`reewatch demo`)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import Executor
from pathlib import Path

from reewatch.config import Settings
from reewatch.lake import Lake, hash_in_background, open_lake, sha256_file

DEMO_MARKER = ".reewatch-demo"
SAMPLE_SUFFIXES = {".csv", ".xlsx", ".xls", ".json"}


def samples_dir() -> Path:
    """The bundled demo releases: `$REEWATCH_SAMPLES`, else the repository's samples/ folder."""
    configured = os.environ.get("REEWATCH_SAMPLES")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "samples"


def land_file(lake: Lake, path: Path, work_dir: Path, folder: str = "", hashing: Executor | None = None) -> str:
    """Put one file into landing/ under its own name, streaming (a detailed export can be gigabytes); a different
    file already there under that name keeps its place and this one gets a content suffix. With `hashing`, a file
    landed in a local lake is hashed there next, for the run of this process that takes it (hash_in_background)."""
    key = f"landing/{folder}{path.name}"  # only the file's own name: no '..' or folders from the user's side
    if lake.exists(key):
        digest = sha256_file(path)
        with lake.local_copy(key, work_dir) as existing:
            if sha256_file(existing) != digest:
                stem, dot, suffix = path.name.rpartition(".")
                key = f"landing/{folder}{stem or suffix}-{digest[:8]}{dot}{suffix if stem else ''}"
    lake.write_file(key, path)
    if hashing is not None and not lake.is_s3:  # a local lake's uri is the landed file's path, which the run reads
        hash_in_background(Path(lake.uri(key)), hashing)
    return key


def land_files(settings: Settings, files: Iterable[Path], hashing: Executor | None = None) -> list[str]:
    lake = open_lake(settings.lake, settings.s3() if settings.is_s3 else None)
    return [land_file(lake, path, settings.state_dir, hashing=hashing) for path in files]


def land_samples(settings: Settings, hashing: Executor | None = None) -> list[str]:
    """Every sample release, keeping its subfolder under landing/."""
    lake = open_lake(settings.lake, settings.s3() if settings.is_s3 else None)
    root = samples_dir()
    keys = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix.lower() in SAMPLE_SUFFIXES:
            folder = "/".join(path.relative_to(root).parts[:-1])
            keys.append(land_file(lake, path, settings.state_dir, f"{folder}/" if folder else "", hashing))
    return keys
