#!/usr/bin/env bash
# make serve: reewatch on a local Prefect server, scheduled on the GACC calendar, until Ctrl-C.
#
# Starts `prefect server start` (SQLite under $PREFECT_HOME, default ./.prefect), registers the `reewatch` process
# work pool, the `reewatch-warehouse` concurrency limit, the deployments of infra/prefect.yaml and the automations
# (infra/deploy.sh), then a process worker; prints how to trigger a run. Ctrl-C (or SIGTERM) stops the worker and
# the server, each as a whole process group, and waits for them.
#
# Settings (environment):
#   REEWATCH_LAKE         the lake the deployments run on (default ./lake); s3:// lakes take the AWS_* variables
#   REEWATCH_SERVE_PORT   the server's port on 127.0.0.1 (default 4200)
#   PREFECT_HOME          the server's database and logs (default ./.prefect)
#   REEWATCH_NOTIFY       a notification block for the automations, e.g. slack-webhook/reewatch-alerts
#   PREFECT_API_DATABASE_CONNECTION_URL  PostgreSQL instead of SQLite (docs/deploy.md)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
BIN="${REEWATCH_VENV_BIN:-$ROOT/.venv/bin}"
PORT="${REEWATCH_SERVE_PORT:-4200}"
export PREFECT_HOME="${PREFECT_HOME:-$ROOT/.prefect}"
export REEWATCH_LAKE="${REEWATCH_LAKE:-$ROOT/lake}"
export DO_NOT_TRACK=1 PREFECT_SERVER_ANALYTICS_ENABLED=false
API="http://127.0.0.1:${PORT}/api"
mkdir -p "$PREFECT_HOME"

# Job control: every background job below runs in its own process group (its pid is the group id), so the
# cleanup reaches the flow runs a worker started, and a backgrounded worker still receives SIGTERM.
set -m
server_pid="" worker_pid=""

stop_group() {  # stop_group PID NAME: SIGTERM the group, SIGKILL what is left after 20 s
  local pid="$1" name="$2" waited=0
  [[ -n "$pid" ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  echo "stopping the $name (process group $pid)..." >&2
  kill -TERM -- "-$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && ((waited < 40)); do
    sleep 0.5
    waited=$((waited + 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "the $name did not stop within 20 s: killing it" >&2
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  trap - EXIT INT TERM
  # Stop everything even when the terminal or a `| tee` is gone: no SIGPIPE, no exit on a failed echo.
  trap '' PIPE
  set +e
  stop_group "$worker_pid" worker
  stop_group "$server_pid" "Prefect server"
  echo "stopped." >&2
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if "$BIN/python" -c "import urllib.request as u; u.urlopen('$API/health', timeout=2)" 2>/dev/null; then
  echo "error: something already answers on $API; stop it or choose another REEWATCH_SERVE_PORT" >&2
  exit 2
fi

echo "starting the Prefect server on http://127.0.0.1:${PORT} (PREFECT_HOME=$PREFECT_HOME, log: $PREFECT_HOME/server.log)"
env -u PREFECT_API_URL "$BIN/prefect" server start --host 127.0.0.1 --port "$PORT" >"$PREFECT_HOME/server.log" 2>&1 &
server_pid=$!
"$BIN/python" - "$API" "$server_pid" <<'PY' || { tail -n 40 "$PREFECT_HOME/server.log" >&2; exit 1; }
import os, sys, time, urllib.request

api, pid = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(f"{api}/health", timeout=2) as response:
            if response.status == 200:
                sys.exit(0)
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit("the Prefect server exited while starting")
    time.sleep(0.5)
sys.exit("the Prefect server did not become healthy within 120 s")
PY

export PREFECT_API_URL="$API"
echo "registering the work pool, the warehouse slot, the deployments and the automations (lake: $REEWATCH_LAKE)"
PREFECT="$BIN/prefect" PYTHON="$BIN/python" infra/deploy.sh >"$PREFECT_HOME/deploy.log" 2>&1 \
  || { tail -n 40 "$PREFECT_HOME/deploy.log" >&2; exit 1; }

"$BIN/prefect" worker start --pool reewatch --type process --name "serve-$(hostname)" &
worker_pid=$!

cat <<EOF

reewatch is served (server pid $server_pid, worker pid $worker_pid)
  Prefect UI and API   http://127.0.0.1:${PORT}   (API: $API)
  lake                 $REEWATCH_LAKE
  deployments          reewatch-run/preliminary, bulletin, detailed (GACC calendar, Asia/Shanghai) and sweep (daily)

Land files into the lake's landing/ (e.g. .venv/bin/reewatch ingest FILE... --lake $REEWATCH_LAKE runs at once;
or copy them into landing/), then trigger a run from another terminal:
  PREFECT_API_URL=$API .venv/bin/prefect deployment run reewatch-run/sweep
  PREFECT_API_URL=$API .venv/bin/prefect deployment run reewatch-run/sweep --param lake=s3://bucket/prefix --watch

Ctrl-C stops the worker and the server.
EOF

# Stay up until Ctrl-C, or until the server or the worker dies on its own.
set +e
wait -n "$server_pid" "$worker_pid"
status=$?
set -e
echo "the Prefect server or the worker exited (status $status)" >&2
exit 1
