#!/usr/bin/env bash
# make e2e: a single-node cluster from parts (hack/node/up.sh), the operator
# installed with config/default (test/node/overlay adds imagePullPolicy:
# Never), then the Go test in test/node against the pods it runs. The node is
# always torn down (hack/node/down.sh), also when a step fails or on Ctrl-C.
# Prints the time of each phase.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "${root}"
# shellcheck source=hack/node/lib.sh
source hack/node/lib.sh

timings=()
phase_start=0
phase() { phase_start=${SECONDS}; log "=== $1"; current="$1"; }
phase_end() { timings+=("$(printf '%-44s %5ss' "${current}" $((SECONDS - phase_start)))"); }
report() {
  local rc=$?
  phase "tear down (hack/node/down.sh)"
  hack/node/down.sh || rc=1
  phase_end
  echo "make e2e phases:"
  printf '  %s\n' "${timings[@]}"
  echo "  total                                        $((SECONDS))s, exit ${rc}"
  exit "${rc}"
}
trap report EXIT
trap 'exit 130' INT TERM

phase "build node binaries (hack/node/build.sh)"
hack/node/build.sh >/dev/null
phase_end

phase "node up (hack/node/up.sh)"
kubeconfig="$(hack/node/up.sh)"
phase_end
export KUBECONFIG="${kubeconfig}"
kubectl="${K8S_BIN}/kubectl"

phase "install CRDs and the operator (config/default)"
"${kubectl}" kustomize test/node/overlay | "${kubectl}" apply --server-side -f - >/dev/null
phase_end

phase "go test ./test/node"
IDA_NODE_KUBECONFIG="${kubeconfig}" IDA_NODE_KUBECTL="${kubectl}" IDA_NODE_IP="${NODE_IP}" \
  IDA_NODE_CONTAINERD="${SOCK}" IDA_NODE_KUBELET_ROOT="${STATE}/kubelet/root" \
  go test -tags nodee2e -count=1 -timeout 20m -v ${GOTESTFLAGS:-} ./test/node/
phase_end
