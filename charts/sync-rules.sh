#!/usr/bin/env bash
# Copies the fleet's alert rules (deploy/prometheus/rules/<name>.yml, the single source) into the
# fleet-orchestrator chart as files/<name>-rules.yml, one PrometheusRule each: Helm's .Files cannot read
# outside a chart, and a symlink would break whenever the chart directory is copied on its own (images,
# packaging). tests/integration/charts/ fails whenever a copy differs from its source. `--check` only
# compares (and also refuses a copy whose source is gone).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source_dir="${repo_root}/deploy/prometheus/rules"
copy_dir="${repo_root}/charts/fleet-orchestrator/files"

shopt -s nullglob
sources=("${source_dir}"/*.yml)
if ((${#sources[@]} == 0)); then
  echo "sync-rules: no rules in ${source_dir}" >&2
  exit 1
fi

stale=0
for source_file in "${sources[@]}"; do
  name="$(basename "${source_file}" .yml)"
  copy_file="${copy_dir}/${name}-rules.yml"
  if [[ "${1:-}" == "--check" ]]; then
    if ! cmp -s "${source_file}" "${copy_file}"; then
      echo "sync-rules: ${copy_file} differs from ${source_file}; run charts/sync-rules.sh" >&2
      stale=1
    fi
  else
    cp "${source_file}" "${copy_file}"
    echo "sync-rules: copied ${source_file} -> ${copy_file}"
  fi
done

for copy_file in "${copy_dir}"/*-rules.yml; do
  name="$(basename "${copy_file}" -rules.yml)"
  if [[ ! -f "${source_dir}/${name}.yml" ]]; then
    if [[ "${1:-}" == "--check" ]]; then
      echo "sync-rules: ${copy_file} has no source ${source_dir}/${name}.yml" >&2
      stale=1
    else
      rm -f "${copy_file}"
      echo "sync-rules: removed ${copy_file} (its source is gone)"
    fi
  fi
done

if [[ "${1:-}" == "--check" ]]; then
  ((stale == 0)) && echo "sync-rules: every chart copy matches deploy/prometheus/rules"
  exit "${stale}"
fi
