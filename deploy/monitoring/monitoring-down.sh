#!/usr/bin/env bash
# Stops the Prometheus and Alertmanager that monitoring-up.sh started, and nothing else: only the pids
# in its pid files, and only if they still run with its config file. Idempotent.
#
# Environment: AGENT_FLEET_HOME (default ~/.agent-fleet), STOP_TIMEOUT_SECONDS (default 15).
set -euo pipefail

FLEET_HOME="${AGENT_FLEET_HOME:-$HOME/.agent-fleet}"
MONITORING_DIR="$FLEET_HOME/monitoring"
STOP_TIMEOUT_SECONDS="${STOP_TIMEOUT_SECONDS:-15}"

# A zombie (exited, not yet reaped by its new parent) counts as stopped.
alive() {
  kill -0 "$1" 2>/dev/null && [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != "Z" ]]
}

stop() {
  local name="$1" pid_file="$MONITORING_DIR/$1/$1.pid" config_file="$MONITORING_DIR/config/$1.yml" pid
  if [[ ! -f "$pid_file" ]]; then
    echo "$name not running (no pid file)"
    return 0
  fi
  pid="$(<"$pid_file")"
  if ! [[ "$pid" =~ ^[0-9]+$ ]] || ! kill -0 "$pid" 2>/dev/null \
    || ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--config.file=$config_file"; then
    echo "$name not running (stale pid file removed)"
    rm -f "$pid_file"
    return 0
  fi
  kill -TERM "$pid"
  local deadline=$((SECONDS + STOP_TIMEOUT_SECONDS))
  while alive "$pid"; do
    if ((SECONDS >= deadline)); then
      echo "$name (pid $pid) did not stop after ${STOP_TIMEOUT_SECONDS}s, killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  rm -f "$pid_file"
  echo "$name stopped (pid $pid)"
}

# Prometheus first, so it does not log failed notifications to a stopped Alertmanager.
stop prometheus
stop alertmanager
