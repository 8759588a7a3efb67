#!/usr/bin/env bash
# Installs what the end-to-end tests need when it is missing, and prints what
# it did. Idempotent: a second run only checks and prints versions.
#
#   - Debian's chromium (headless browser for test/runtime, driven by chromedp)
#   - Debian's redis-server (hack/redis.sh when present)
#   - Debian's softhsm2 (a PKCS#11 token for runtime/hsm)
#   - promtool from Debian's prometheus package, at bin/promtool (hack/promtool.sh)
#   - Helm, built from the Go module proxy into bin/ (hack/helm.sh)
#   - Traefik, a Gateway API implementation, built likewise (hack/traefik.sh)
#   - test/oidc-client/node_modules (npm ci: openid-client, oauth4webapi, pinned by the lock)
#
#   hack/test-deps.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { echo "test-deps: $*"; }
now() { date +%s; }

sudo=()
if [[ "$(id -u)" != 0 ]] && command -v sudo >/dev/null; then
  sudo=(sudo)
fi

apt_updated=0
apt_install() {
  if ! command -v apt-get >/dev/null; then
    log "apt-get not found: install $* by hand (Debian package names)"
    return 1
  fi
  if [[ "${apt_updated}" == 0 ]]; then
    log "apt-get update"
    "${sudo[@]}" apt-get update -qq
    apt_updated=1
  fi
  log "apt-get install -y $*"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Chromium: Debian's package, never a browser download.
t0="$(now)"
if [[ -x /usr/bin/chromium ]]; then
  log "chromium present: $(/usr/bin/chromium --version 2>/dev/null || echo '?')"
else
  apt_install chromium
  log "chromium installed in $(( $(now) - t0 ))s: $(/usr/bin/chromium --version 2>/dev/null || echo '?')"
fi

# Redis: hack/redis.sh when present, apt otherwise.
t0="$(now)"
if [[ -x "${root}/hack/redis.sh" ]]; then
  bin="$("${root}/hack/redis.sh")"
  log "redis-server (hack/redis.sh): ${bin} $("${bin}" --version | awk '{print $3}' | sed 's/^v=//')"
elif command -v redis-server >/dev/null; then
  log "redis-server present: $(redis-server --version | awk '{print $3}' | sed 's/^v=//')"
else
  apt_install redis-server
  log "redis-server installed in $(( $(now) - t0 ))s: $(redis-server --version | awk '{print $3}' | sed 's/^v=//')"
fi

# SoftHSM2: a real PKCS#11 token for runtime/hsm's tests (softhsm2-util
# and the module the tests dlopen).
log "softhsm2: $("${root}/hack/softhsm.sh")"

# promtool: the alert rules of config/prometheus are unit-tested with it.
log "promtool: $("${root}/hack/promtool.sh")"

# Helm: test/deploy renders the chart with Helm's own command. Built here,
# not inside the test, so a first build does not count against its timeout.
t0="$(now)"
helm="$("${root}/hack/helm.sh")"
log "helm: ${helm} ($(( $(now) - t0 ))s)"

# Traefik: test/gateway routes a provider's issuer URL through it (the
# first build takes several minutes; then it is cached in bin/).
t0="$(now)"
traefik="$("${root}/hack/traefik.sh")"
log "traefik: ${traefik} ($(( $(now) - t0 ))s)"

# openid-client and oauth4webapi for test/oidc-client, exactly as the lock
# file says (a changed lock file means npm ci again).
t0="$(now)"
client="${root}/test/oidc-client"
command -v node >/dev/null || { log "node not found: install Node.js >= 20"; exit 1; }
command -v npm >/dev/null || { log "npm not found"; exit 1; }
want="$(node -p "require('${client}/package-lock.json').packages['node_modules/openid-client'].version")"
have="$(node -p "try { require('${client}/node_modules/openid-client/package.json').version } catch { '' }" 2>/dev/null || true)"
if [[ "${have}" == "${want}" && "${client}/node_modules/.package-lock.json" -nt "${client}/package-lock.json" ]]; then
  log "test/oidc-client node_modules up to date: openid-client ${have}"
else
  log "npm ci in test/oidc-client"
  (cd "${client}" && npm ci --no-audit --no-fund --loglevel=error)
  log "npm ci done in $(( $(now) - t0 ))s: openid-client $(node -p "require('${client}/node_modules/openid-client/package.json').version"), node $(node --version)"
fi
