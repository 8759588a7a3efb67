# ida-operator Makefile. `make help` lists the targets.

# Versions are pinned; tools are built from the Go module proxy into bin/.
K8S_VERSION        ?= 1.37.2
ETCD_VERSION       ?= 3.7.3
CONTROLLER_TOOLS   ?= v0.23.0
KUSTOMIZE_VERSION  ?= v5.8.1

IMG ?= ghcr.io/idaop/ida-operator:dev
# The image's OCI version and revision labels, and the architecture it is
# built for (the binary is cross-compiled; no container engine is needed).
IMAGE_VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
IMAGE_REVISION ?= $(shell git rev-parse HEAD 2>/dev/null)
IMAGE_ARCH     ?= $(shell $(GO) env GOARCH)
# OLM bundle: version (default: the base CSV's, hack/bundle/) and channels.
BUNDLE_VERSION ?=
CHANNELS        ?= alpha
DEFAULT_CHANNEL ?= alpha

BIN        := $(CURDIR)/bin
CONTROLLER_GEN := $(BIN)/controller-gen-$(CONTROLLER_TOOLS)
KUSTOMIZE  := $(BIN)/kustomize-$(KUSTOMIZE_VERSION)
GO         ?= go
GOTESTFLAGS ?=

export K8S_VERSION ETCD_VERSION

.DEFAULT_GOAL := help

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate deepcopy code.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate CRDs and RBAC from markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd webhook paths="./api/..." paths="./controllers/..." \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac
	@# The Helm chart carries the same CRDs and manager rules (test/deploy compares it with config/default).
	cp config/crd/bases/*.yaml charts/ida-operator/crds/
	cp config/rbac/role.yaml charts/ida-operator/files/manager-role.yaml

.PHONY: fmt
fmt: ## Run gofmt on the tree.
	gofmt -s -w $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './bin/*')

.PHONY: vet
vet: ## Run go vet (the node tests too, which build only with their tag).
	$(GO) vet ./...
	$(GO) vet -tags nodee2e ./test/node/...

.PHONY: envtest
envtest: ## Build the test control plane (kube-apiserver, etcd) into bin/k8s/.
	hack/envtest-assets.sh >/dev/null

.PHONY: test-deps
test-deps: ## Install what the tests use from Debian and npm (Redis, Chromium, openid-client) when missing.
	@if [ -x hack/test-deps.sh ]; then hack/test-deps.sh; else hack/redis.sh >/dev/null; fi

.PHONY: test
test: manifests generate vet envtest test-deps ## Run all tests against a real kube-apiserver, Redis, Chromium and openid-client.
	KUBEBUILDER_ASSETS="$$(hack/envtest-assets.sh)" $(GO) test $(GOTESTFLAGS) ./...

##@ Build and run

.PHONY: build
build: ## Build the one binary (manager, runtime, demo, claims) to bin/ida-operator.
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/ida-operator .

.PHONY: run
run: manifests generate ## Run the manager against the cluster in your kubeconfig.
	$(GO) run . manager

.PHONY: demo
demo: manifests envtest ## Run everything locally on an embedded control plane; Ctrl-C stops it.
	@hack/softhsm.sh >/dev/null || echo "demo: no SoftHSM2; the provider's keys stay in a Secret"
	KUBEBUILDER_ASSETS="$$(hack/envtest-assets.sh)" $(GO) run . demo

.PHONY: image
image: ## Write the container image as a tarball, bin/image/ida-operator.tar (no Docker needed; IMG=... to tag it).
	CGO_ENABLED=0 GOOS=linux GOARCH=$(IMAGE_ARCH) $(GO) build -trimpath -o $(BIN)/image/ida-operator .
	$(GO) run ./hack/imagebuild -binary $(BIN)/image/ida-operator -arch $(IMAGE_ARCH) -tag $(IMG) \
		-version $(IMAGE_VERSION) -revision "$(IMAGE_REVISION)" -out $(BIN)/image/ida-operator.tar

.PHONY: docker-build
docker-build: ## Build the image with Docker from the Dockerfile (for machines that have Docker).
	docker build --build-arg VERSION=$(IMAGE_VERSION) --build-arg REVISION=$(IMAGE_REVISION) -t $(IMG) .

##@ Deployment

$(KUSTOMIZE):
	GOBIN=$(BIN)/.kustomize $(GO) install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)
	mv $(BIN)/.kustomize/kustomize $@ && rmdir $(BIN)/.kustomize

.PHONY: install
install: manifests $(KUSTOMIZE) ## Install the CRDs into the cluster in your kubeconfig.
	$(KUSTOMIZE) build config/crd | kubectl apply --server-side -f -

.PHONY: uninstall
uninstall: manifests $(KUSTOMIZE) ## Remove the CRDs from the cluster in your kubeconfig.
	$(KUSTOMIZE) build config/crd | kubectl delete --ignore-not-found -f -

.PHONY: deploy
deploy: manifests $(KUSTOMIZE) ## Deploy the operator with config/default (IMG=... to pick the image).
	cd config/manager && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(KUSTOMIZE) build config/default | kubectl apply --server-side -f -

.PHONY: undeploy
undeploy: $(KUSTOMIZE) ## Remove the operator deployed with config/default.
	$(KUSTOMIZE) build config/default | kubectl delete --ignore-not-found -f -

.PHONY: deploy-namespaced
deploy-namespaced: manifests $(KUSTOMIZE) ## Deploy the operator limited to the namespaces of config/namespaced (IMG=...).
	cd config/manager && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(KUSTOMIZE) build config/namespaced | kubectl apply --server-side -f -

.PHONY: undeploy-namespaced
undeploy-namespaced: $(KUSTOMIZE) ## Remove the operator deployed with config/namespaced.
	$(KUSTOMIZE) build config/namespaced | kubectl delete --ignore-not-found -f -

.PHONY: bundle
bundle: manifests ## Regenerate the OLM bundle in bundle/ from config/ (BUNDLE_VERSION, CHANNELS, DEFAULT_CHANNEL).
	$(GO) run ./hack/bundlegen -out bundle -version "$(BUNDLE_VERSION)" -channels $(CHANNELS) -default-channel $(DEFAULT_CHANNEL)

.PHONY: test-deploy
test-deploy: manifests envtest ## Test the image, the kustomize configurations, RBAC and the OLM bundle.
	KUBEBUILDER_ASSETS="$$(hack/envtest-assets.sh)" $(GO) test $(GOTESTFLAGS) ./test/deploy/...

.PHONY: e2e
e2e: manifests image test-deps ## The operator and its runtime as pods on a single-node cluster from parts (Linux, root; docs/node.md).
	hack/node/e2e.sh

.PHONY: node-up
node-up: image ## Bring up the single-node test cluster (hack/node/up.sh); prints its kubeconfig.
	hack/node/up.sh

.PHONY: node-down
node-down: ## Tear the single-node test cluster down and leave the machine as it was.
	hack/node/down.sh

##@ Tools

$(CONTROLLER_GEN):
	GOBIN=$(BIN)/.controller-gen $(GO) install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS)
	mv $(BIN)/.controller-gen/controller-gen $@ && rmdir $(BIN)/.controller-gen

##@ Benchmarks

.PHONY: bench-controllers
bench-controllers: manifests build envtest ## 10,000 RelyingParties against the test control plane (see docs/BENCHMARKS.md).
	KUBEBUILDER_ASSETS="$$(hack/envtest-assets.sh)" $(GO) run ./test/controllerbench $(BENCHFLAGS)

.PHONY: bench-runtime
bench-runtime: ## Load the runtime and two peer providers on loopback (see docs/BENCHMARKS.md).
	$(GO) run ./test/loadtool -all $(BENCHFLAGS)
