SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Node >= 22.19 first on PATH: the system's when new enough, else the pinned one from the cache.
NODE_BIN := $(shell hack/ensure-node.sh)
ifeq ($(NODE_BIN),)
$(error could not find or install Node >= 22.19; see the message above)
endif
export PATH := $(CURDIR)/node_modules/.bin:$(NODE_BIN):$(PATH)

# `make test-integration KUBECONFIG=…` runs the integration tier against that cluster instead of the
# local plane. A KUBECONFIG merely inherited from the shell is ignored, so a developer's own
# cluster is never used by accident.
ifeq ($(origin KUBECONFIG),command line)
export RDEV_TEST_KUBECONFIG := $(KUBECONFIG)
endif

RESULTS := .vitest-results

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

# `npm install`, not `npm ci`: some registry mirrors lack the optional per-platform packages of
# other systems (e.g. @biomejs/cli-win32-x64), which `npm ci` treats as a stale lock file.
node_modules/.installed: package.json package-lock.json
	npm install --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: deps
deps: node_modules/.installed ## install the npm dependencies

.PHONY: lint
lint: deps ## type-check, lint, and check the layers (.dependency-cruiser.cjs)
	tsc --noEmit
	biome check .
	depcruise operator/src api-shim/src --config .dependency-cruiser.cjs

.PHONY: format
format: deps ## apply the formatter and safe lint fixes
	biome check --write .

.PHONY: crds
crds: deps ## regenerate crds/ (and the chart's copies) from the zod schemas in operator/src/api
	node hack/gen-crds.ts
	$(MAKE) --no-print-directory chart-crds

.PHONY: docs
docs: deps ## regenerate the configuration, CRD and REST API references in docs/
	node hack/gen-docs.ts

.PHONY: test
test: ## lint, then the unit and integration tiers; ends with "N passed, N failed"
	@rm -rf $(RESULTS)
	@status=0; \
	$(MAKE) --no-print-directory lint || status=1; \
	if [ $$status -eq 0 ]; then \
	  $(MAKE) --no-print-directory test-unit || status=1; \
	  $(MAKE) --no-print-directory test-integration || status=1; \
	fi; \
	node hack/test-summary.ts $(RESULTS) || status=1; \
	exit $$status

.PHONY: test-unit
test-unit: deps ## unit tier (no cluster)
	vitest run --project unit --reporter=default --reporter=json --outputFile.json=$(RESULTS)/unit.json

.PHONY: test-integration
test-integration: deps ## integration tier (brings the local plane and services up if needed)
	vitest run --project integration --reporter=default --reporter=json --outputFile.json=$(RESULTS)/integration.json

.PHONY: cluster-up
# deps: the plane's kwok-env (hack/kwok-env.ts) runs on the npm dependencies.
cluster-up: deps ## build (once, cached) and start the local control plane
	hack/cluster.sh up

.PHONY: cluster-down
cluster-down: ## stop the local control plane (state in .cluster/ is kept)
	hack/cluster.sh down

.PHONY: cluster-status
cluster-status: ## show the local control plane's components
	hack/cluster.sh status

.PHONY: cluster-reset
cluster-reset: ## stop the local control plane and delete its state
	hack/cluster.sh reset

.PHONY: services-up
services-up: ## start throwaway PostgreSQL, Redis and Gitea on loopback
	hack/services.sh up

.PHONY: services-down
services-down: ## stop them and delete their data
	hack/services.sh down

.PHONY: gitea
gitea: ## build Gitea once (cached) ahead of services-up, which otherwise builds it when missing
	hack/build-gitea.sh

.PHONY: images
images: ## build rdev, workspace-claude-code and workspace-opencode as OCI archives in .cluster/images/ (no Docker; root); prints their digests and the helm values pinning them
	hack/build-images.sh

.PHONY: test-images
test-images: images ## smoke-test the images: their config, and node, git, the agent CLIs, rdev --help as uid 10001 in a chroot
	hack/test-images.sh

.PHONY: kind-up
kind-up: ## (with Docker) a kind cluster as the integration tier's cluster, with the images of `make images` loaded
	mkdir -p .cluster
	kind create cluster --name rdev --config hack/kind.yaml --kubeconfig .cluster/kind-kubeconfig
	hack/kind-load.sh rdev
	@echo "make test-integration KUBECONFIG=$(CURDIR)/.cluster/kind-kubeconfig"

.PHONY: kind-load
kind-load: ## (with Docker) load the images of `make images` into the kind cluster of kind-up
	hack/kind-load.sh rdev

.PHONY: dev
dev: deps ## the whole product locally: plane, services, operator, worker, shim, a Project and a pull request
	hack/dev.sh up

.PHONY: dev-down
dev-down: ## stop everything make dev started, and nothing else
	hack/dev.sh down

.PHONY: bench
bench: deps ## run the benchmarks and print their figures (not bench-peers)
	@for b in $(filter-out bench/peers.bench.ts,$(wildcard bench/*.bench.ts)); do node --expose-gc "$$b" || exit 1; echo; done

# The peer bench builds kubernetes-sigs/agent-sandbox with Go (once, cached): kept out of `make bench`.
.PHONY: bench-peers
bench-peers: deps ## rdev beside kubernetes-sigs/agent-sandbox and plain-client floors on the local plane; prints a markdown table (BENCH_PEERS_N=100, BENCH_PEERS_REPS=3, BENCH_PEERS_WARM=50)
	hack/build-agent-sandbox.sh >/dev/null
	node bench/peers.bench.ts

.PHONY: clean
clean: ## remove build and test outputs (not the caches, not .cluster/)
	rm -rf $(RESULTS) dist coverage

# The Helm chart (charts/rdev). helm is built once from its Go module, like the control plane.
.PHONY: helm
helm: ## build helm once (cached under ~/.cache/rdev) and print its path
	@hack/helm.sh

.PHONY: chart-crds
chart-crds: ## copy crds/ into the chart's crds/ (after `make crds`)
	rm -f charts/rdev/crds/*.yaml
	cp crds/*.yaml charts/rdev/crds/

.PHONY: chart-lint
chart-lint: ## helm lint and render the chart; its CRDs must equal crds/
	helm=$$(hack/helm.sh); \
	"$$helm" lint --strict charts/rdev; \
	"$$helm" template rdev charts/rdev --namespace rdev-system >/dev/null
	diff -r --exclude=.gitkeep crds charts/rdev/crds
