#!/usr/bin/env bash
# Installs Debian's softhsm2 when missing: a real PKCS#11 token (its module
# and softhsm2-util) for the tests and the demo's keys in an HSM. Prints the
# version. Idempotent.
#
#   hack/softhsm.sh
set -euo pipefail

log() { echo "softhsm.sh: $*" >&2; }

if command -v softhsm2-util >/dev/null; then
  softhsm2-util --version
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  log "softhsm2 is missing and this is not a Debian-like system: install SoftHSM 2 by hand"
  exit 1
fi
sudo=()
if [[ "$(id -u)" != 0 ]] && command -v sudo >/dev/null; then sudo=(sudo); fi
log "apt-get install softhsm2"
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq softhsm2 >/dev/null
softhsm2-util --version
