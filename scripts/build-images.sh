#!/usr/bin/env bash
# Builds the agent and orchestrator images. Without BASE_IMAGE, first builds a local distroless-style
# Node base from the Node binary that the pinned `node` npm package installed (no registry needed).
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(node_modules/.bin/node -p "require('./package.json').version")
revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
node_bin=$(readlink -f node_modules/.bin/node)
node_version=$("$node_bin" -p 'process.versions.node')
build_dir=.build

base_image=${BASE_IMAGE:-}
if [ -z "$base_image" ]; then
  base_image="agent-fleet/node-base:${node_version}"
  if ! docker image inspect "$base_image" >/dev/null 2>&1; then
    rootfs="$build_dir/node-base/rootfs"
    rm -rf "$build_dir/node-base" && mkdir -p "$rootfs"/{usr/local/bin,etc/ssl/certs,tmp,app}
    cp "$node_bin" "$rootfs/usr/local/bin/node"
    strip --strip-debug "$rootfs/usr/local/bin/node" 2>/dev/null || true
    # The node binary's shared libraries, resolved the way the loader resolves them.
    ldd "$node_bin" | awk '$3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | while read -r lib; do
      mkdir -p "$rootfs$(dirname "$lib")"
      cp -L "$lib" "$rootfs$lib"
    done
    cp -L /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
    printf 'root:x:0:0:root:/nonexistent:/sbin/nologin\nagent:x:10001:10001:agent:/nonexistent:/sbin/nologin\n' > "$rootfs/etc/passwd"
    printf 'root:x:0:\nagent:x:10001:\n' > "$rootfs/etc/group"
    chmod 1777 "$rootfs/tmp"
    cp images/node-base/Dockerfile "$build_dir/node-base/Dockerfile"
    docker build -q --build-arg NODE_VERSION="$node_version" -t "$base_image" "$build_dir/node-base" >/dev/null
    echo "built local base $base_image"
  fi
fi

node_modules/.bin/node scripts/bundle.ts agent >/dev/null
mkdir -p "$build_dir/agent/data"
cp agent-image/Dockerfile "$build_dir/agent/Dockerfile"
docker build -q --build-arg BASE_IMAGE="$base_image" --build-arg VERSION="$version" --build-arg REVISION="$revision" \
  -t "agent-fleet/agent:$version" -t agent-fleet/agent:latest "$build_dir/agent" >/dev/null
echo "built agent-fleet/agent:$version"

node_modules/.bin/node scripts/bundle.ts orchestrator >/dev/null
rm -rf "$build_dir/orchestrator/app/node_modules" && mkdir -p "$build_dir/orchestrator/app/node_modules/@electric-sql"
cp "$build_dir/orchestrator/orchestrator.mjs" "$build_dir/orchestrator/app/"
cp -r node_modules/@electric-sql/pglite "$build_dir/orchestrator/app/node_modules/@electric-sql/"
# The Kubernetes runtime (FLEET_RUNTIME=kubernetes) drives helm and kubectl with the agent chart, all from
# this checkout and node_modules: nothing is downloaded at build or run time.
eval "$(bash scripts/k8s-tools.sh)"
rm -rf "$build_dir/orchestrator/app/bin" "$build_dir/orchestrator/app/charts" && mkdir -p "$build_dir/orchestrator/app/bin" "$build_dir/orchestrator/app/charts"
cp "$HELM" "$KUBECTL" "$build_dir/orchestrator/app/bin/"
cp -r charts/fleet-agent "$build_dir/orchestrator/app/charts/"
cp Dockerfile "$build_dir/orchestrator/Dockerfile"
docker build -q --build-arg BASE_IMAGE="$base_image" --build-arg VERSION="$version" --build-arg REVISION="$revision" \
  -t "agent-fleet/orchestrator:$version" -t agent-fleet/orchestrator:latest "$build_dir/orchestrator" >/dev/null
echo "built agent-fleet/orchestrator:$version"
