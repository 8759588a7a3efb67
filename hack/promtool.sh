#!/usr/bin/env bash
# Puts Prometheus's promtool, from Debian's prometheus package, at
# bin/promtool and prints its path. Only the binary is unpacked (apt-get
# download + dpkg -x): no Prometheus service is installed or started.
# Idempotent: a second run only prints the path.
#
#   hack/promtool.sh     install (if needed) and print the promtool path
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${root}/bin/promtool"
log() { echo "promtool.sh: $*" >&2; }

if [[ -x "${out}" ]]; then
  echo "${out}"
  exit 0
fi
if ! command -v apt-get >/dev/null || ! command -v dpkg >/dev/null; then
  log "promtool is missing and this is not a Debian-like system: put Prometheus 2.x's promtool at ${out}"
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
download() { (cd "${work}" && apt-get download prometheus >/dev/null 2>&1); }
if ! download; then
  # Package lists that do not know the package yet: refresh them once.
  sudo=()
  if [[ "$(id -u)" != 0 ]] && command -v sudo >/dev/null; then sudo=(sudo); fi
  log "apt-get update"
  "${sudo[@]}" apt-get update -qq >&2
  download || { log "apt-get download prometheus failed"; exit 1; }
fi
dpkg -x "${work}"/prometheus_*.deb "${work}/x"
mkdir -p "${root}/bin"
install -m 0755 "${work}/x/usr/bin/promtool" "${out}"
log "installed $("${out}" --version 2>&1 | head -1)"
echo "${out}"
