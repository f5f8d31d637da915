"""The command line's promises that need no pipeline: fast help without heavy imports, usage errors."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from typer.testing import CliRunner
from reewatch.cli import app
result = CliRunner().invoke(app, sys.argv[1:])
assert result.exit_code == 0, result.output
heavy = sorted(m for m in ("prefect", "great_expectations", "duckdb", "pandas", "polars") if m in sys.modules)
print(",".join(heavy))
"""


def test_help_imports_neither_prefect_nor_gx_nor_duckdb() -> None:
    for args in (["--help"], ["run", "--help"], ["ingest", "--help"], ["replay", "--help"], ["demo", "--help"]):
        done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "", (args, done.stdout)
