#!/usr/bin/env bash
# Builds the agent and orchestrator images. Without BASE_IMAGE, first builds a local distroless-style
# Node base from the Node binary that the pinned `node` npm package installed (no registry needed).
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(node_modules/.bin/node -p "require('./package.json').version")
revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
node_bin=$(readlink -f node_modules/.bin/node)
node_version=$("$node_bin" -p 'process.versions.node')
# AGENT_FLEET_IMAGE_TAG: build under another tag (experiments, benchmarks) without touching the version's
# and `latest`, in a build directory of its own; unset, the images are tagged with the version and `latest`.
build_dir=.build${AGENT_FLEET_IMAGE_TAG:+/tag-$AGENT_FLEET_IMAGE_TAG}
image_tag=${AGENT_FLEET_IMAGE_TAG:-$version}
extra_tags=()
[ -z "${AGENT_FLEET_IMAGE_TAG:-}" ] && extra_tags=(latest)
tag_args() { local args=(-t "agent-fleet/$1:$image_tag"); for tag in "${extra_tags[@]}"; do args+=(-t "agent-fleet/$1:$tag"); done; echo "${args[@]}"; }

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

# The agent's bundle lands in $build_dir/agent/app (agent.mjs and its chunks/).
node_modules/.bin/node scripts/bundle.ts agent --outdir "$build_dir/agent/app" >/dev/null
rm -f "$build_dir/agent/agent.mjs"
mkdir -p "$build_dir/agent/data"
cp agent-image/Dockerfile "$build_dir/agent/Dockerfile"
# shellcheck disable=SC2046 # tag_args prints separate words on purpose
docker build -q --build-arg BASE_IMAGE="$base_image" --build-arg VERSION="$version" --build-arg REVISION="$revision" \
  $(tag_args agent) "$build_dir/agent" >/dev/null
echo "built agent-fleet/agent:$image_tag"

node_modules/.bin/node scripts/bundle.ts orchestrator --outdir "$build_dir/orchestrator" >/dev/null
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
  $(tag_args orchestrator) "$build_dir/orchestrator" >/dev/null
echo "built agent-fleet/orchestrator:$image_tag"
