#!/usr/bin/env bash
# Copies the fleet's alert rules (deploy/prometheus/rules/agents.yml, the single source) into the
# fleet-orchestrator chart, whose PrometheusRule embeds them: Helm's .Files cannot read outside a chart,
# and a symlink would break whenever the chart directory is copied on its own (images, packaging).
# tests/integration/charts/ fails whenever the copy differs from the source. `--check` only compares.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source_file="${repo_root}/deploy/prometheus/rules/agents.yml"
copy_file="${repo_root}/charts/fleet-orchestrator/files/agents-rules.yml"

if [[ ! -f "${source_file}" ]]; then
  echo "sync-rules: ${source_file} not found" >&2
  exit 1
fi

if [[ "${1:-}" == "--check" ]]; then
  if cmp -s "${source_file}" "${copy_file}"; then
    echo "sync-rules: ${copy_file} matches ${source_file}"
    exit 0
  fi
  echo "sync-rules: ${copy_file} differs from ${source_file}; run charts/sync-rules.sh" >&2
  exit 1
fi

cp "${source_file}" "${copy_file}"
echo "sync-rules: copied ${source_file} -> ${copy_file}"
