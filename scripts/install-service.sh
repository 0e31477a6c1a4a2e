#!/bin/bash
# Installs and starts the systemd unit of the orchestrator service, so that the fleet comes back after a
# reboot (make service-install). Safe to run again: the unit is rewritten and restarted only when it changed.
set -euo pipefail
cd "$(dirname "$0")/.."

unit_name=agent-fleet.service
unit_path=/etc/systemd/system/$unit_name
home=${AGENT_FLEET_HOME:-$HOME/.agent-fleet}
env_file=/etc/agent-fleet/env

if [ "$(id -u)" -ne 0 ]; then
  echo "make service-install writes $unit_path: run it as root" >&2
  exit 1
fi
if [ ! -d /run/systemd/system ]; then
  echo "this host does not run systemd (PID 1 is $(ps -p 1 -o comm=)); start the service with any fleet command instead" >&2
  exit 1
fi

mkdir -p "$home" && chmod 700 "$home"
home=$(realpath "$home")
unit=$(node_modules/.bin/node scripts/systemd-unit.ts --home "$home" --environment-file "$env_file")
if [ -f "$unit_path" ] && [ "$(cat "$unit_path")" == "$unit" ]; then
  echo "$unit_name is up to date"
else
  printf '%s\n' "$unit" > "$unit_path.tmp"
  systemd-analyze verify "$unit_path.tmp" 2>/dev/null || true
  mv "$unit_path.tmp" "$unit_path"
  systemctl daemon-reload
  echo "wrote $unit_path (fleet home $home; other settings, if any, in $env_file)"
fi
# A service a fleet command started holds the home: stop it so that systemd's takes over.
pidfile="$home/orchestrator.pid"
if [ -f "$pidfile" ] && ! systemctl is-active --quiet "$unit_name"; then
  kill "$(cat "$pidfile")" 2>/dev/null || true
  for _ in $(seq 1 60); do [ -f "$pidfile" ] || break; sleep 0.5; done
fi
systemctl enable --now "$unit_name"
systemctl restart "$unit_name"
echo "$unit_name enabled: the orchestrator service starts at boot and its first reconcile starts the active agents"
