# The orchestrator service. BASE_IMAGE defaults to the official Node 24 image; `make images` passes a
# locally built base when no registry is reachable. The bundle is built on the host by scripts/build-images.sh.
ARG BASE_IMAGE=node:24-bookworm-slim
FROM ${BASE_IMAGE}
ARG VERSION=0.0.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="agent-fleet orchestrator" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="agent-fleet" \
      io.agentfleet.component="orchestrator"
COPY --chown=0:0 app/ /app/
# UV_THREADPOOL_SIZE: the egress proxies' name lookups share libuv's pool with file and crypto work (default 4).
# Its value is SERVICE_THREADPOOL_SIZE (orchestrator/src/cli/orchestrator-client.ts); a unit test holds them equal.
ENV AGENT_FLEET_HOME=/var/lib/agent-fleet \
    UV_THREADPOOL_SIZE=16 \
    FLEET_HELM_PATH=/app/bin/helm \
    FLEET_KUBECTL_PATH=/app/bin/kubectl \
    FLEET_AGENT_CHART=/app/charts/fleet-agent
USER 10001:10001
EXPOSE 7400
ENTRYPOINT ["/usr/local/bin/node", "/app/orchestrator.mjs"]
