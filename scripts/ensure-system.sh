#!/usr/bin/env bash
# Makes sure the system services a command needs are installed and running. Safe to run again.
# Usage: ensure-system.sh docker [postgres] [monitoring] [chromium]
# As root on Debian it installs what is missing from apt; elsewhere it says, in one line, what to install.
set -euo pipefail

want_docker=0 want_postgres=0 want_monitoring=0 want_chromium=0
for part in "$@"; do
  case "$part" in
    docker) want_docker=1 ;;
    postgres) want_postgres=1 ;;
    monitoring) want_monitoring=1 ;;
    chromium) want_chromium=1 ;;
    *) echo "ensure-system.sh: unknown part '$part'" >&2; exit 2 ;;
  esac
done

missing=()
((want_docker)) && ! command -v dockerd >/dev/null 2>&1 && missing+=(docker.io)
((want_postgres)) && ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 && missing+=(postgresql)
((want_monitoring)) && ! command -v promtool >/dev/null 2>&1 && missing+=(prometheus)
((want_monitoring)) && ! command -v prometheus-alertmanager >/dev/null 2>&1 && missing+=(prometheus-alertmanager)
# systemd-analyze: the tests verify the orchestrator's systemd unit as systemd reads it.
((want_monitoring)) && ! command -v systemd-analyze >/dev/null 2>&1 && missing+=(systemd)
((want_chromium)) && ! command -v chromium >/dev/null 2>&1 && missing+=(chromium)
# certutil: the portal's browser tests trust the fleet CA through a throw-away NSS database.
((want_chromium)) && ! command -v certutil >/dev/null 2>&1 && missing+=(libnss3-tools)

if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ] || [ ! -f /etc/debian_version ]; then
    echo "agent-fleet needs: ${missing[*]} (Debian package names); install them, then run this again." >&2
    exit 1
  fi
  echo "installing ${missing[*]} from apt…"
  apt-get update -qq
  # Debian's prometheus packages try to start services at install; without an init system that is a no-op.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ((want_docker)) && ! docker info >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "the Docker engine is not running and only root can start it here: start dockerd, then run this again." >&2
    exit 1
  fi
  echo "starting dockerd…"
  mkdir -p /var/log/agent-fleet
  nohup dockerd >/var/log/agent-fleet/dockerd.log 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { echo "dockerd did not start; see /var/log/agent-fleet/dockerd.log" >&2; exit 1; }
fi

if ((want_postgres)); then
  cluster=$(pg_lsclusters --no-header 2>/dev/null | awk 'NR==1{print $1" "$2}')
  if [ -z "$cluster" ]; then
    echo "no PostgreSQL cluster found (pg_lsclusters); create one with pg_createcluster." >&2
    exit 1
  fi
  # shellcheck disable=SC2086
  pg_lsclusters --no-header | awk 'NR==1{print $4}' | grep -q online || pg_ctlcluster $cluster start
  user=$(id -un)
  # Peer authentication over the unix socket: no password exists anywhere.
  su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='$user'\"" | grep -q 1 ||
    su postgres -c "createuser --createdb '$user'" >/dev/null
  psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='fleet_test'" | grep -q 1 || createdb fleet_test
fi
exit 0
