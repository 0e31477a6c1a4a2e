# The ops interface. Every target installs what it needs first and is safe to run again.
SHELL := /bin/bash
CLIENT ?=
NODE := node_modules/.bin/node
FLEET := $(NODE) orchestrator/src/cli/main.ts

.PHONY: help demo deps system images provision status list deprovision kill reconcile service-install service-stop test test-unit bench lint typecheck check monitoring-up monitoring-down

help:
	@echo "make demo                    see the product: client demo on an emulated Gmail and model; prints the portal and an enrolment link"
	@echo "make provision CLIENT=acme   provision a client's isolated agent (installs and builds what it needs; CONFIRM=\"rail ...\" accepts guard rails its config crosses)"
	@echo "make status CLIENT=acme      registry, container and scrape-target state of a client"
	@echo "make list                    every client"
	@echo "make deprovision CLIENT=acme remove a client's agent and network (PURGE=1 also deletes its data; REASON=\"...\" for the ops log)"
	@echo "make kill CLIENT=acme REASON=\"...\"  kill switch: revoke tokens, stop the agent at once"
	@echo "make reconcile               restart crashed agents, remove orphans, report drift"
	@echo "make service-install         start the orchestrator service at boot (systemd; root)"
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

# The operator's values reach the CLI byte for byte, and the CLI refuses a bad one by name. make never expands
# them (`$(value …)`: REASON='costs $5' stays `costs $5`, and a `$(shell …)` in a value runs nothing) and
# does not export them to the recipes' environment (exporting expands them); each is passed as one
# single-quoted bash word, a ' inside written '\'' and a line break $'\n', after `--` so that a value
# starting with - is the argument (refused by the CLI as a client id) and never an option.
unexport CLIENT REASON PURGE CONFIRM
define newline


endef
shell_word = '$(subst $(newline),'$$'\n'',$(subst ','\'',$(1)))'
client_arg = $(call shell_word,$(value CLIENT))
reason_arg = $(call shell_word,$(value REASON))
# CONFIRM is a list of guard-rail ids separated by blanks: each one its own `--confirm=<word>` (the = keeps a
# word starting with - the option's value, for the CLI to refuse by name).
confirm_args = $(foreach rail,$(value CONFIRM),$(call shell_word,--confirm=$(rail)))

define require_client
	@if [ -z $(client_arg) ]; then echo "usage: make $@ CLIENT=<id>   (a DNS-1123 label such as acme)" >&2; exit 2; fi
endef

demo: images
	@$(NODE) scripts/demo.ts

provision: images
	$(require_client)
	@$(FLEET) provision $(confirm_args) -- $(client_arg)

status: deps
	$(require_client)
	@$(FLEET) status -- $(client_arg)

list: deps
	@$(FLEET) list

deprovision: deps system
	$(require_client)
	@case $(call shell_word,$(value PURGE)) in ''|1) ;; *) echo 'usage: make deprovision CLIENT=<id> [PURGE=1] [REASON="why"]   (PURGE=1 deletes the data; any other value is refused)' >&2; exit 2;; esac
	@$(FLEET) deprovision $(if $(value PURGE),--purge,) $(if $(value REASON),--reason $(reason_arg),) -- $(client_arg)

kill: deps system
	$(require_client)
	@if [ -z $(reason_arg) ]; then echo 'usage: make kill CLIENT=<id> REASON="why"' >&2; exit 2; fi
	@$(FLEET) kill --reason $(reason_arg) -- $(client_arg)

reconcile: deps system
	@$(FLEET) reconcile

service-install: deps system
	@bash scripts/install-service.sh

# The pid file outlives a service that crashed, was killed or went down with the host, and by then its number
# may be another process's: only a process whose command is the orchestrator service is signalled. And only
# one: kill reads 0, -1 or -<n> (what a damaged file may hold) as every process of a group, or of the user.
service-stop:
	@pidfile="$${AGENT_FLEET_HOME:-$$HOME/.agent-fleet}/orchestrator.pid"; \
	if [ ! -f "$$pidfile" ]; then echo "orchestrator not running"; exit 0; fi; \
	pid=$$(head -c 32 "$$pidfile" | tr -d '[:space:]'); \
	if ! [[ "$$pid" =~ ^[1-9][0-9]{0,9}$$ ]]; then echo "$$pidfile does not hold a process id: delete it if no orchestrator runs (fleet service status)" >&2; exit 1; fi; \
	command=$$(ps -o args= -p "$$pid" 2>/dev/null || tr '\0' ' ' < "/proc/$$pid/cmdline" 2>/dev/null); \
	if ! grep -Eq '(^|/)node .*orchestrator/src/main\.ts *$$' <<< "$$command"; then echo "orchestrator not running (process $$pid of the stale $$pidfile is not the service; left alone)"; exit 0; fi; \
	kill "$$pid" && echo "orchestrator stopped"

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
