#!/usr/bin/env bash
# Tears down the node hack/node/up.sh brought up and leaves the machine as
# up.sh found it: pods and their sandboxes stopped, every process up.sh
# started stopped by its PID, mounts under the state directory unmounted, the
# bridges, the iptables chains (KUBE-*, CNI-*, IDA-NODE-*) and the kernel
# settings restored, and the paths kubelet and containerd created outside the
# state directory removed (only those that did not exist before). Safe to run
# any time, also when nothing is up or up.sh stopped half-way.
set -uo pipefail
# shellcheck source=hack/node/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ "$(id -u)" == 0 ]] || die "needs root"
if [[ ! -d "${STATE}" ]]; then
  log "nothing to tear down"
  exit 0
fi
t0=${SECONDS}
before="${STATE}/before"

stop_pid() { # stop_pid NAME [SECONDS]: SIGTERM, then SIGKILL
  local f="${STATE}/pids/$1" secs="${2:-10}" pid
  [[ -f "${f}" ]] || return 0
  pid="$(cat "${f}")"
  if kill -0 "${pid}" 2>/dev/null; then
    kill -TERM "${pid}" 2>/dev/null
    local deadline=$((SECONDS + secs))
    while kill -0 "${pid}" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    if kill -0 "${pid}" 2>/dev/null; then
      log "$1 (pid ${pid}) ignored SIGTERM: SIGKILL"
      kill -KILL "${pid}" 2>/dev/null
      while kill -0 "${pid}" 2>/dev/null; do sleep 0.1; done
    fi
  fi
  rm -f "${f}"
}

containerd_up() { pid_alive "${STATE}/pids/containerd" && ctr --address "${SOCK}" version >/dev/null 2>&1; }
tasks() { CTR tasks ls -q 2>/dev/null; }

# 1. No new pods: stop the controllers and the scheduler, then have kubelet
#    tear down every pod (containers, sandboxes, their CNI networks).
stop_pid kube-controller-manager
stop_pid kube-scheduler
if pid_alive "${STATE}/pids/kubelet" && pid_alive "${STATE}/pids/kube-apiserver"; then
  KUBECTL delete pods --all --all-namespaces --grace-period=0 --force --wait=false >/dev/null 2>&1
  deadline=$((SECONDS + 30))
  while containerd_up && [[ -n "$(tasks)" ]] && ((SECONDS < deadline)); do sleep 0.3; done
fi
stop_pid kubelet
stop_pid kube-proxy

# 2. Whatever is left in containerd: kill the tasks, then remove sandboxes
#    through the CRI plugin's own containers.
if containerd_up; then
  for id in $(tasks); do CTR tasks kill -s SIGKILL "${id}" >/dev/null 2>&1; done
  deadline=$((SECONDS + 10))
  while [[ -n "$(CTR tasks ls 2>/dev/null | awk 'NR>1 && $3!="STOPPED"')" ]] && ((SECONDS < deadline)); do sleep 0.2; done
  for id in $(tasks); do CTR tasks delete -f "${id}" >/dev/null 2>&1; done
fi
stop_pid containerd 15
# The runc shims outlive containerd: they are ours when started with our
# socket as their -address.
for p in /proc/[0-9]*; do
  pid="${p#/proc/}"
  [[ "$(readlink "${p}/exe" 2>/dev/null)" == */containerd-shim-runc-v2 ]] || continue
  cmdline="$(tr '\0' ' ' <"${p}/cmdline" 2>/dev/null || true)"
  if [[ "${cmdline}" == *"-address ${SOCK}"* ]]; then
    kill -KILL "${pid}" 2>/dev/null
  fi
done
# Container processes still in the kubepods cgroups up.sh's kubelet created.
if [[ -f "${before}/cgroups" && ! -s "${before}/cgroups" ]]; then
  for h in "${CGROUP_ROOT}"/*/kubepods; do
    [[ -d "${h}" ]] || continue
    find "${h}" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u | while read -r pid; do
      kill -KILL "${pid}" 2>/dev/null
    done
  done
fi
stop_pid kube-apiserver
stop_pid etcd
for f in "${STATE}"/pids/*; do [[ -e "${f}" ]] && stop_pid "$(basename "${f}")"; done

# 3. Mounts under the state directory (netns, overlay, pod volumes), deepest
#    first; also container mounts in the fixed paths up.sh recorded as new.
unmount_under() {
  local dir="$1" m
  for _ in 1 2 3; do
    mapfile -t mounts < <(awk -v d="${dir}/" '{ gsub(/\\040/, " ", $5); if (index($5, d) == 1) print $5 }' /proc/self/mountinfo | sort -r)
    ((${#mounts[@]})) || return 0
    for m in "${mounts[@]}"; do umount "${m}" 2>/dev/null || umount -l "${m}" 2>/dev/null; done
  done
}
unmount_under "${STATE}"
for p in "${FIXED_PATHS[@]}"; do
  grep -qx "${p}" "${before}/paths" 2>/dev/null || unmount_under "${p}"
done

# 4. Network: bridges (their veths and routes go with them), iptables.
for dev in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
  if [[ "$(basename "$(readlink "/sys/class/net/${dev}/master" 2>/dev/null)")" == "${CNI_BRIDGE}" ]]; then
    ip link del "${dev}" 2>/dev/null
  fi
done
ip link del "${CNI_BRIDGE}" 2>/dev/null
ip link del "${NODE_BRIDGE}" 2>/dev/null
clean_iptables() { # clean_iptables iptables|ip6tables
  local v="$1" table
  command -v "${v}-save" >/dev/null || return 0
  for table in filter nat mangle raw security; do
    local dump rules chains
    dump="$("${v}-save" -t "${table}" 2>/dev/null)" || continue
    chains="$(sed -n 's/^:\([A-Za-z0-9_-]*\) .*/\1/p' <<<"${dump}" | grep -E '^(KUBE-|CNI-|IDA-NODE-)')" || true
    [[ -n "${chains}" ]] || continue
    # Rules of other chains that jump to ours, then ours: flushed, deleted.
    rules="$(grep -E '^-A ' <<<"${dump}" | grep -E -- '-j (KUBE-|CNI-|IDA-NODE-)' | grep -Ev '^-A (KUBE-|CNI-|IDA-NODE-)' | sed 's/^-A /-D /')" || true
    {
      echo "*${table}"
      [[ -n "${rules}" ]] && echo "${rules}"
      sed 's/^/-F /' <<<"${chains}"
      sed 's/^/-X /' <<<"${chains}"
      echo COMMIT
    } | "${v}-restore" --noflush || log "could not remove the ${v} ${table} chains: $(tr '\n' ' ' <<<"${chains}")"
  done
}
clean_iptables iptables
clean_iptables ip6tables
# Connections tracked to the node's, pods' and Services' addresses.
if command -v conntrack >/dev/null; then
  for net in "${NODE_IP}/32" "${POD_CIDR}" "${SERVICE_CIDR}"; do
    conntrack -D -s "${net}" >/dev/null 2>&1
    conntrack -D -d "${net}" >/dev/null 2>&1
  done
fi

# 5. Kernel settings back to what they were.
if [[ -f "${before}/sysctls" ]]; then
  while IFS='=' read -r key value; do
    [[ -n "${key}" ]] || continue
    if [[ "$(sysctl -n "${key}" 2>/dev/null)" != "${value}" ]]; then
      sysctl -q -w "${key}=${value}" >/dev/null 2>&1 || log "could not restore ${key}=${value}"
    fi
  done <"${before}/sysctls"
fi

# 6. cgroups kubelet created (empty now), deepest first.
if [[ -f "${before}/cgroups" && ! -s "${before}/cgroups" ]]; then
  for h in "${CGROUP_ROOT}"/*/kubepods; do
    [[ -d "${h}" ]] || continue
    for _ in 1 2 3 4 5; do
      find "${h}" -depth -type d -exec rmdir {} \; 2>/dev/null
      [[ -d "${h}" ]] || break
      sleep 0.5
    done
    [[ -d "${h}" ]] && log "could not remove ${h}"
  done
fi

# 7. Paths outside the state directory that did not exist before.
if [[ -f "${before}/paths" ]]; then
  for p in "${FIXED_PATHS[@]}"; do
    grep -qx "${p}" "${before}/paths" || rm -rf --one-file-system "${p}" 2>/dev/null || log "could not remove ${p}"
  done
fi

# 8. The state directory; its logs are kept for a post-mortem.
rm -rf "${NODE_DIR}/last-logs"
mv "${STATE}/logs" "${NODE_DIR}/last-logs" 2>/dev/null
if awk -v d="${STATE}/" 'index($5, d) == 1 {found=1} END {exit !found}' /proc/self/mountinfo; then
  log "mounts are left under ${STATE}; not removing it"
else
  rm -rf --one-file-system "${STATE}"
fi
log "down in $((SECONDS - t0))s (logs of the last run: ${NODE_DIR}/last-logs)"
