#!/usr/bin/env bash
# Builds the node components a single-node test cluster needs beyond the test
# control plane: kube-controller-manager, kube-scheduler, kubelet, kube-proxy
# and kubectl, all Kubernetes ${K8S_VERSION}, from the Go module proxy with the
# same wrapper-module recipe and version stamps as hack/envtest-assets.sh (which
# it runs first for kube-apiserver and etcd). Everything lands in
# bin/k8s/<version>-linux-<arch>/ and the directory is printed.
# Idempotent: binaries already there (same stamp) are not rebuilt.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.37.2}"
STAGING_VERSION="v0.${K8S_VERSION#1.}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
log() { echo "node-build: $*" >&2; }

dest="$("${root}/hack/envtest-assets.sh")"
cmds=(kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
stamp="k8s=${K8S_VERSION}"
stampfile="${dest}/.node-stamp"

missing=()
if [[ "$(cat "${stampfile}" 2>/dev/null)" != "${stamp}" ]]; then
  missing=("${cmds[@]}")
else
  for c in "${cmds[@]}"; do [[ -x "${dest}/${c}" ]] || missing+=("${c}"); done
fi
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "${dest}"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
export GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0

dir="${work}/kubernetes"
mkdir -p "${dir}"
cat >"${dir}/go.mod" <<MOD
module idaop.dev/envtest-build

go $(go env GOVERSION | sed -E 's/^go([0-9]+\.[0-9]+).*/\1/')

require k8s.io/kubernetes v${K8S_VERSION}
MOD
gomod="$(cd "${dir}" && go mod download -json "k8s.io/kubernetes@v${K8S_VERSION}" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')"
[[ -f "${gomod}" ]] || { log "cannot read the go.mod of k8s.io/kubernetes v${K8S_VERSION}"; exit 1; }
required="$(awk '/^require[[:space:]]*\(/{r=1;next} r&&/^\)/{r=0} r{print $1} /^require [^(]/{print $2}' "${gomod}" | sort -u)"
sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) => \./staging/.*#\1#p' "${gomod}" | sort -u |
  while read -r m; do
    if grep -qx "${m}" <<<"${required}"; then
      echo "replace ${m} => ${m} ${STAGING_VERSION}" >>"${dir}/go.mod"
    fi
  done
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=v${K8S_VERSION} -X k8s.io/client-go/pkg/version.gitVersion=v${K8S_VERSION}"
for c in "${missing[@]}"; do
  log "building ${c} v${K8S_VERSION} (minutes when cold)"
  (cd "${dir}" && go build -trimpath -ldflags "${ldflags}" -o "${dest}/${c}.tmp" "k8s.io/kubernetes/cmd/${c}")
  mv "${dest}/${c}.tmp" "${dest}/${c}"
done
echo "${stamp}" >"${stampfile}"
echo "${dest}"
