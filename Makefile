# The ops interface. Every target installs what it needs first and is safe to run again.
SHELL := /bin/bash
CLIENT ?=
NODE := node_modules/.bin/node
FLEET := $(NODE) orchestrator/src/cli/main.ts

.PHONY: help demo deps system images provision status list deprovision kill reconcile service-stop test test-unit bench lint typecheck check monitoring-up monitoring-down

help:
	@echo "make demo                    see the product: client demo on an emulated Gmail and model; prints the portal and an enrolment link"
	@echo "make provision CLIENT=acme   provision a client's isolated agent (installs and builds what it needs)"
	@echo "make status CLIENT=acme      registry, container and scrape-target state of a client"
	@echo "make list                    every client"
	@echo "make deprovision CLIENT=acme remove a client's agent and network (PURGE=1 also deletes its data)"
	@echo "make kill CLIENT=acme REASON=\"...\"  kill switch: revoke tokens, stop the agent at once"
	@echo "make reconcile               restart crashed agents, remove orphans, report drift"
	@echo "make test                    every test, against real Docker, PostgreSQL, Prometheus and Alertmanager"
	@echo "make bench                   the benchmarks (JSON)"
	@echo "make images                  build the base, agent and orchestrator images locally"
	@echo "make monitoring-up           run Prometheus (127.0.0.1:9490) and Alertmanager (127.0.0.1:9493) for this host"
	@echo "make monitoring-down         stop them"

node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null || { echo "agent-fleet needs npm (Node.js 20 or newer) to bootstrap; the project pins Node 24 itself." >&2; exit 1; }
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.package-lock.json

system:
	@bash scripts/ensure-system.sh docker

images: deps system
	@bash scripts/build-images.sh

define require_client
	@if [ -z "$(CLIENT)" ]; then echo "usage: make $@ CLIENT=<id>   (a DNS-1123 label such as acme)" >&2; exit 2; fi
endef

demo: images
	@$(NODE) scripts/demo.ts

provision: images
	$(require_client)
	@$(FLEET) provision '$(CLIENT)'

status: deps
	$(require_client)
	@$(FLEET) status '$(CLIENT)'

list: deps
	@$(FLEET) list

deprovision: deps system
	$(require_client)
	@$(FLEET) deprovision '$(CLIENT)' $(if $(PURGE),--purge,)

kill: deps system
	$(require_client)
	@if [ -z "$(REASON)" ]; then echo 'usage: make kill CLIENT=<id> REASON="why"' >&2; exit 2; fi
	@$(FLEET) kill '$(CLIENT)' --reason '$(REASON)'

reconcile: deps system
	@$(FLEET) reconcile

service-stop:
	@pidfile="$${AGENT_FLEET_HOME:-$$HOME/.agent-fleet}/orchestrator.pid"; \
	if [ -f "$$pidfile" ]; then kill "$$(cat "$$pidfile")" && echo "orchestrator stopped"; else echo "orchestrator not running"; fi

typecheck: deps
	@npm run --silent typecheck

lint: deps
	@npm run --silent lint

test-unit: deps
	@npm run --silent test:unit

test: deps
	@bash scripts/ensure-system.sh docker postgres monitoring chromium
	@bash scripts/build-images.sh
	@npm run --silent size:check -- --images
	@npm run --silent test

bench: images
	@npm run --silent bench:provision
	@npm run --silent bench:density

check: test lint

monitoring-up: deps
	@bash scripts/ensure-system.sh monitoring
	@bash deploy/monitoring/monitoring-up.sh

monitoring-down:
	@bash deploy/monitoring/monitoring-down.sh
