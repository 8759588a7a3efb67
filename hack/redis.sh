#!/usr/bin/env bash
# Installs Debian's redis-server when it is missing and prints the path of the
# binary. The Redis tests of runtime/store start their own redis-server on a
# free loopback port, so only the binary is needed: no service is configured
# or started here. Idempotent: a second run only prints the path.
#
#   hack/redis.sh        install (if needed) and print the redis-server path
set -euo pipefail

log() { echo "redis.sh: $*" >&2; }

if bin="$(command -v redis-server)"; then
  echo "${bin}"
  exit 0
fi

if ! command -v apt-get >/dev/null; then
  log "redis-server is missing and this is not a Debian-like system: install Redis 7 and put redis-server on PATH"
  exit 1
fi

sudo=()
if [[ "$(id -u)" != 0 ]]; then
  if ! command -v sudo >/dev/null; then
    log "redis-server is missing; run this script as root (or install sudo) to apt-get install it"
    exit 1
  fi
  sudo=(sudo)
fi

install() {
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends redis-server >&2
}

# Refresh the package lists first when they do not know redis-server, and
# again when stale lists point at a version the mirror no longer has.
policy="$(apt-cache policy redis-server 2>/dev/null || true)"
if ! grep -q 'Candidate: [0-9]' <<<"${policy}"; then
  log "apt-get update"
  "${sudo[@]}" apt-get update -qq >&2
fi

# Without systemd (containers, CI) a policy-rc.d usually stops the package
# from starting its service; with systemd the service starts on port 6379,
# which the tests never use.
log "apt-get install redis-server"
if ! install; then
  log "install failed; apt-get update and retry"
  "${sudo[@]}" apt-get update -qq >&2
  install
fi

bin="$(command -v redis-server)" || { log "redis-server not on PATH after install"; exit 1; }
log "installed $(dpkg-query -W -f='${Version}' redis-server 2>/dev/null || echo '?')"
echo "${bin}"
