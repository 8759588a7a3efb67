#!/usr/bin/env bash
# Builds Traefik, a Gateway API implementation, from the Go module proxy
# into bin/ (once) and prints its path; test/gateway routes a provider's
# issuer URL through it. Traefik's go.mod has replace directives, so it is
# built inside a copy of its module rather than with `go install`.
#
#   hack/traefik.sh     build (if needed) and print the traefik path
set -euo pipefail

version="v3.6.2"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${root}/bin/traefik-${version}/traefik"
if [[ -x "${out}" ]]; then
  echo "${out}"
  exit 0
fi
echo "traefik.sh: building traefik ${version} from the module proxy (a few minutes, once)" >&2
mod="github.com/traefik/traefik/v3@${version}"
dir="$(cd / && GOFLAGS= GOWORK=off go mod download -json "${mod}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[[ -n "${dir}" ]] || { echo "traefik.sh: go mod download ${mod} failed" >&2; exit 1; }
# A writable copy at a fixed place, so a second build finds its packages
# in the Go build cache.
src="$(dirname "${out}")/src"
rm -rf "${src}"
mkdir -p "${src}"
cp -r "${dir}/." "${src}/"
chmod -R u+w "${src}"
(cd "${src}" && GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=0 go build -o "${out}.tmp" ./cmd/traefik) >&2
mv "${out}.tmp" "${out}"
rm -rf "${src}"
echo "${out}"
