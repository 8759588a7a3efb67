#!/usr/bin/env bash
# Builds Helm's command from the Go module proxy into bin/ (once) and prints
# its path; test/deploy renders charts/ida-operator with it.
#
#   hack/helm.sh     build (if needed) and print the helm path
set -euo pipefail

version="v4.3.2"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${root}/bin/helm-${version}"
if [[ ! -x "${out}/helm" ]]; then
  echo "helm.sh: building helm ${version} from the module proxy" >&2
  mkdir -p "${out}"
  (cd / && GOFLAGS= GOWORK=off GOBIN="${out}" go install "helm.sh/helm/v4/cmd/helm@${version}") >&2
fi
echo "${out}/helm"
