#!/usr/bin/env bash
# Builds the test control plane (kube-apiserver and etcd) from the Go module
# proxy, caches it under bin/k8s/<version>-linux-<arch>/ and prints that
# directory, ready for KUBEBUILDER_ASSETS. No prebuilt binary can be downloaded
# on the machines this project runs on, so we compile what setup-envtest would
# fetch. Idempotent: a second run only prints the directory.
#
#   hack/envtest-assets.sh            build (if needed) and print the directory
#   KUBECTL=1 hack/envtest-assets.sh  also build a matching kubectl
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-3.7.3}"
# The staging modules (k8s.io/api, k8s.io/client-go, ...) carry 0.x versions.
STAGING_VERSION="v0.${K8S_VERSION#1.}"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
arch="$(go env GOARCH)"
dest="${root}/bin/k8s/${K8S_VERSION}-linux-${arch}"
stamp="k8s=${K8S_VERSION} etcd=${ETCD_VERSION}"

log() { echo "envtest-assets: $*" >&2; }

want_kubectl="${KUBECTL:-0}"
if [[ -x "${dest}/kube-apiserver" && -x "${dest}/etcd" && "$(cat "${dest}/.stamp" 2>/dev/null)" == "${stamp}" ]] &&
   [[ "${want_kubectl}" != 1 || -x "${dest}/kubectl" ]]; then
  echo "${dest}"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
mkdir -p "${dest}"
export GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0

# wrapper_module DIR MODULE VERSION: a throwaway module that requires MODULE.
wrapper_module() {
  mkdir -p "$1"
  cat >"$1/go.mod" <<MOD
module idaop.dev/envtest-build

go $(go env GOVERSION | sed -E 's/^go([0-9]+\.[0-9]+).*/\1/')

require $2 $3
MOD
}

build_kubernetes() {
  local dir="${work}/kubernetes" gomod
  wrapper_module "${dir}" k8s.io/kubernetes "v${K8S_VERSION}"
  gomod="$(cd "${dir}" && go mod download -json "k8s.io/kubernetes@v${K8S_VERSION}" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')"
  [[ -f "${gomod}" ]] || { log "cannot read the go.mod of k8s.io/kubernetes v${K8S_VERSION}"; exit 1; }
  # kubernetes replaces its staging modules with ./staging paths; point every one
  # it actually requires at the published module instead.
  local required
  required="$(awk '/^require[[:space:]]*\(/{r=1;next} r&&/^\)/{r=0} r{print $1} /^require [^(]/{print $2}' "${gomod}" | sort -u)"
  sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) => \./staging/.*#\1#p' "${gomod}" | sort -u |
    while read -r m; do
      if grep -qx "${m}" <<<"${required}"; then
        echo "replace ${m} => ${m} ${STAGING_VERSION}" >>"${dir}/go.mod"
      fi
    done
  local ldflags="-s -w -X k8s.io/component-base/version.gitVersion=v${K8S_VERSION} -X k8s.io/client-go/pkg/version.gitVersion=v${K8S_VERSION}"
  local cmds=(kube-apiserver)
  [[ "${want_kubectl}" == 1 ]] && cmds+=(kubectl)
  for c in "${cmds[@]}"; do
    log "building ${c} v${K8S_VERSION} (minutes when cold)"
    (cd "${dir}" && go build -trimpath -ldflags "${ldflags}" -o "${dest}/${c}.tmp" "k8s.io/kubernetes/cmd/${c}")
    mv "${dest}/${c}.tmp" "${dest}/${c}"
  done
}

build_etcd() {
  local dir="${work}/etcd"
  wrapper_module "${dir}" go.etcd.io/etcd/server/v3 "v${ETCD_VERSION}"
  log "building etcd v${ETCD_VERSION}"
  (cd "${dir}" && go build -trimpath -ldflags "-s -w" -o "${dest}/etcd.tmp" go.etcd.io/etcd/server/v3)
  mv "${dest}/etcd.tmp" "${dest}/etcd"
}

build_kubernetes
build_etcd
echo "${stamp}" >"${dest}/.stamp"
# setup-envtest's layout, so it can find these binaries offline too.
ln -sfn "$(basename "${dest}")" "${root}/bin/k8s/${K8S_VERSION}"
echo "${dest}"
