#!/usr/bin/env bash
# Register reewatch on a running Prefect server (PREFECT_API_URL): the process work pool, the warehouse slot,
# the deployments of infra/prefect.yaml and the automations of infra/automations.yaml. Safe to run again.
#
#   PREFECT_API_URL=http://127.0.0.1:4200/api REEWATCH_LAKE=s3://reewatch/lake \
#     [REEWATCH_NOTIFY=slack-webhook/reewatch-alerts] infra/deploy.sh
#
# PREFECT_API_URL  the Prefect server to register on (required)
# REEWATCH_LAKE    the lake the deployments run on (required): recorded as their `lake` parameter
# REEWATCH_NOTIFY  a notification block for the automations (optional)
# PREFECT, PYTHON  the prefect and python to use; default: those of the repository's .venv (make setup) when it
#                  exists, else whatever is on PATH (the worker image puts its environment there)
#
# Used by scripts/serve.sh (make serve) and by the `deploy` service of infra/docker-compose.yml.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${PREFECT_API_URL:?PREFECT_API_URL must name the Prefect server, e.g. http://127.0.0.1:4200/api}"
: "${REEWATCH_LAKE:?REEWATCH_LAKE must name the lake the deployments run on, e.g. s3://reewatch/lake}"
export DO_NOT_TRACK=1 PREFECT_SERVER_ANALYTICS_ENABLED=false
# The repository's own environment need not be on PATH (docs/deploy.md runs this script from a plain shell).
VENV_BIN=""
if [[ -x .venv/bin/prefect && -x .venv/bin/python ]]; then
  VENV_BIN="$PWD/.venv/bin/"
fi
PREFECT="${PREFECT:-${VENV_BIN}prefect}"
PYTHON="${PYTHON:-${VENV_BIN}python}"

# A process pool: the worker runs each flow run as a subprocess of itself, with the worker's environment.
if ! "$PREFECT" work-pool inspect reewatch >/dev/null 2>&1; then
  "$PREFECT" work-pool create reewatch --type process
fi
# One slot: the flow holds it while it writes the warehouse, so a second run waits (flows/deployments.py).
if ! "$PREFECT" gcl inspect reewatch-warehouse >/dev/null 2>&1; then
  "$PREFECT" gcl create reewatch-warehouse --limit 1
fi
"$PREFECT" --no-prompt deploy --all --prefect-file infra/prefect.yaml
if [[ -n "${REEWATCH_NOTIFY:-}" ]]; then
  "$PYTHON" -m flows.deployments automations --notify "$REEWATCH_NOTIFY"
else
  "$PYTHON" -m flows.deployments automations
fi
