# reewatch — two commands do everything on a fresh clone: `make run` and `make test`.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
PY := .venv/bin/python
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
# Installed packages get their bytecode at install, as pip and the worker image (infra/Dockerfile) do: without it
# every process compiles what it imports, each time where PYTHONDONTWRITEBYTECODE is set (importing GX: 6.0 → 3.1 s).
export UV_COMPILE_BYTECODE := 1
# Tests run in one process per core (pytest-xdist; at most 4, as each starts its own Prefect server and moto's S3),
# an idle process taking queued tests from a busy one. TEST_PROCESSES=0 runs them all in one process.
TEST_PROCESSES ?= auto
PYTEST := $(PY) -m pytest --numprocesses=$(TEST_PROCESSES) --maxprocesses=4 --dist=worksteal

.PHONY: setup run test chaos lint bench clean audit

setup: .venv/.synced

# uv comes from PyPI with pip when it is missing; the lock file pins everything else.
# The Makefile too: a change to how the environment is installed re-installs it.
.venv/.synced: pyproject.toml uv.lock Makefile
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet "uv>=0.13,<0.14"
	$(UV) sync --frozen
	@touch $@

run: setup
	.venv/bin/reewatch demo

test: setup
	@# The report's tests render in Debian's chromium; without root they are skipped locally (CI always has it).
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium fonts-liberation) \
		|| echo "chromium could not be installed: the report rendering tests will be skipped"
	$(PYTEST)

# Storage faults, killed runs and concurrent runs through the real command (tests marked chaos; a few minutes).
chaos: setup
	$(PYTEST) -m chaos

lint: setup
	.venv/bin/ruff check src flows tests scripts benchmarks
	.venv/bin/mypy

# Known vulnerabilities of the locked dependencies (pip-audit); exit 2 when no vulnerability service could be reached
# for every package — never a silent pass. Documented exceptions: audit-exceptions.txt.
audit: setup
	$(PY) scripts/audit.py

# Issue 9's benchmark, appended to benchmarks/RESULTS.md; dlt comes from the `bench` dependency group.
# Options go in BENCH_ARGS, e.g. make bench BENCH_ARGS="--rows 10000000 --only a,b,c,d" (benchmarks/run.py --help).
bench: setup
	$(UV) sync --frozen --group bench
	$(PY) benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf .venv lake .pytest_cache .mypy_cache .ruff_cache

# A local Prefect server, the deployments of infra/prefect.yaml and a process worker, until Ctrl-C (docs/deploy.md).
.PHONY: serve
serve: setup
	scripts/serve.sh
