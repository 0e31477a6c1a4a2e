#!/usr/bin/env bash
# Runs Prometheus and Alertmanager for a single-host fleet from the Debian binaries, on loopback only,
# with configs rendered from deploy/ by render-config.ts. Idempotent: a second run re-renders the
# configs, reloads the running processes (SIGHUP) and starts only what is not running.
#
# Environment (all optional):
#   AGENT_FLEET_HOME       fleet state dir (default ~/.agent-fleet); data, logs, pids in $AGENT_FLEET_HOME/monitoring
#   PROMETHEUS_PORT        default 9490 (not 9090, which Debian's own prometheus service may hold)
#   ALERTMANAGER_PORT      default 9493 (not 9093, for the same reason)
#   ORCHESTRATOR_ADDRESS   orchestrator metrics endpoint, default 127.0.0.1:7400
#   SCRAPE_INTERVAL        default 30s
#   EVALUATION_INTERVAL    default 30s
#   PAGER_WEBHOOK_URL      critical alerts, default http://127.0.0.1:9099/page
#   OPS_WEBHOOK_URL        warning and info alerts, default http://127.0.0.1:9099/ops
#   WATCHDOG_WEBHOOK_URL   the always-firing Watchdog's heartbeat, an external dead man's switch (optional)
#   PROMETHEUS_BIN, ALERTMANAGER_BIN, PROMTOOL_BIN, AMTOOL_BIN, NODE_BIN   binaries to use
#   READY_TIMEOUT_SECONDS  how long to wait for each to become ready, default 30
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
FLEET_HOME="${AGENT_FLEET_HOME:-$HOME/.agent-fleet}"
PROMETHEUS_PORT="${PROMETHEUS_PORT:-9490}"
ALERTMANAGER_PORT="${ALERTMANAGER_PORT:-9493}"
ORCHESTRATOR_ADDRESS="${ORCHESTRATOR_ADDRESS:-127.0.0.1:7400}"
SCRAPE_INTERVAL="${SCRAPE_INTERVAL:-30s}"
EVALUATION_INTERVAL="${EVALUATION_INTERVAL:-30s}"
PAGER_WEBHOOK_URL="${PAGER_WEBHOOK_URL:-http://127.0.0.1:9099/page}"
OPS_WEBHOOK_URL="${OPS_WEBHOOK_URL:-http://127.0.0.1:9099/ops}"
READY_TIMEOUT_SECONDS="${READY_TIMEOUT_SECONDS:-30}"
PROMETHEUS_BIN="${PROMETHEUS_BIN:-prometheus}"
PROMTOOL_BIN="${PROMTOOL_BIN:-promtool}"
AMTOOL_BIN="${AMTOOL_BIN:-amtool}"
if [[ -z "${ALERTMANAGER_BIN:-}" ]]; then
  # Debian names it prometheus-alertmanager; upstream tarballs name it alertmanager.
  ALERTMANAGER_BIN="$(command -v prometheus-alertmanager || command -v alertmanager || echo prometheus-alertmanager)"
fi
if [[ -z "${NODE_BIN:-}" ]]; then
  NODE_BIN="$ROOT/node_modules/.bin/node"
  [[ -x "$NODE_BIN" ]] || NODE_BIN=node
fi

for port in "$PROMETHEUS_PORT" "$ALERTMANAGER_PORT"; do
  [[ "$port" =~ ^[0-9]{1,5}$ ]] && ((port > 0 && port <= 65535)) || { echo "monitoring-up: invalid port '$port'" >&2; exit 2; }
done
for bin in "$PROMETHEUS_BIN" "$ALERTMANAGER_BIN" "$PROMTOOL_BIN" "$AMTOOL_BIN" curl; do
  command -v "$bin" >/dev/null || { echo "monitoring-up: '$bin' not found (apt-get install prometheus prometheus-alertmanager curl)" >&2; exit 1; }
done

MONITORING_DIR="$FLEET_HOME/monitoring"
CONFIG_DIR="$MONITORING_DIR/config"
TARGETS_FILE="$FLEET_HOME/targets/agents.json"
mkdir -p "$CONFIG_DIR" "$MONITORING_DIR/prometheus/data" "$MONITORING_DIR/alertmanager/data" "$(dirname "$TARGETS_FILE")"
# Prometheus logs an error for every refresh of a missing file_sd file; an empty list is the same fleet.
if [[ ! -e "$TARGETS_FILE" ]]; then
  printf '[]\n' >"$TARGETS_FILE.$$" && mv -n "$TARGETS_FILE.$$" "$TARGETS_FILE" && rm -f "$TARGETS_FILE.$$"
fi

"$NODE_BIN" "$ROOT/deploy/monitoring/render-config.ts" \
  --out-dir "$CONFIG_DIR" \
  --targets-file "$TARGETS_FILE" \
  --alertmanager-address "127.0.0.1:$ALERTMANAGER_PORT" \
  --orchestrator-address "$ORCHESTRATOR_ADDRESS" \
  --scrape-interval "$SCRAPE_INTERVAL" \
  --evaluation-interval "$EVALUATION_INTERVAL" \
  --pager-url "$PAGER_WEBHOOK_URL" \
  --ops-url "$OPS_WEBHOOK_URL" \
  ${WATCHDOG_WEBHOOK_URL:+--watchdog-url "$WATCHDOG_WEBHOOK_URL"} >/dev/null
"$PROMTOOL_BIN" check config "$CONFIG_DIR/prometheus.yml" >/dev/null
"$AMTOOL_BIN" check-config "$CONFIG_DIR/alertmanager.yml" >/dev/null

# Ours if the pid is alive and its command line names our config file (pids get reused).
running_pid() {
  local pid_file="$1" config_file="$2" pid
  [[ -f "$pid_file" ]] || return 1
  pid="$(<"$pid_file")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--config.file=$config_file" || return 1
  echo "$pid"
}

wait_ready() {
  local name="$1" pid="$2" url="$3" log="$4" deadline=$((SECONDS + READY_TIMEOUT_SECONDS))
  until curl -fsS -o /dev/null --max-time 2 "$url"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "monitoring-up: $name exited during startup; last log lines:" >&2
      tail -n 20 "$log" >&2 || true
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      echo "monitoring-up: $name not ready after ${READY_TIMEOUT_SECONDS}s (see $log)" >&2
      exit 1
    fi
    sleep 0.5
  done
}

# start NAME PORT CONFIG_FILE COMMAND...
start() {
  local name="$1" port="$2" config_file="$3"
  shift 3
  local dir="$MONITORING_DIR/$name" pid
  if pid="$(running_pid "$dir/$name.pid" "$config_file")"; then
    kill -HUP "$pid"
    echo "$name already running (pid $pid), config reloaded"
  else
    rm -f "$dir/$name.pid"
    # setsid: the service outlives this script and the terminal that ran make.
    setsid "$@" >>"$dir/$name.log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$dir/$name.pid"
    echo "$name started (pid $pid, log $dir/$name.log)"
  fi
  wait_ready "$name" "$pid" "http://127.0.0.1:$port/-/ready" "$dir/$name.log"
}

start alertmanager "$ALERTMANAGER_PORT" "$CONFIG_DIR/alertmanager.yml" \
  "$ALERTMANAGER_BIN" \
  "--config.file=$CONFIG_DIR/alertmanager.yml" \
  "--storage.path=$MONITORING_DIR/alertmanager/data" \
  "--web.listen-address=127.0.0.1:$ALERTMANAGER_PORT" \
  "--web.external-url=http://127.0.0.1:$ALERTMANAGER_PORT/" \
  "--cluster.listen-address="

start prometheus "$PROMETHEUS_PORT" "$CONFIG_DIR/prometheus.yml" \
  "$PROMETHEUS_BIN" \
  "--config.file=$CONFIG_DIR/prometheus.yml" \
  "--storage.tsdb.path=$MONITORING_DIR/prometheus/data" \
  "--storage.tsdb.retention.time=15d" \
  "--web.listen-address=127.0.0.1:$PROMETHEUS_PORT" \
  "--web.external-url=http://127.0.0.1:$PROMETHEUS_PORT/" \
  "--web.enable-lifecycle" \
  "--web.enable-admin-api"

echo "Prometheus:   http://127.0.0.1:$PROMETHEUS_PORT/alerts"
echo "Alertmanager: http://127.0.0.1:$ALERTMANAGER_PORT/#/alerts"
echo "Targets file: $TARGETS_FILE"
