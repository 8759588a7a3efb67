# Shared settings of hack/node/{up,down}.sh; sourced, not run.
# shellcheck shell=bash

K8S_VERSION="${K8S_VERSION:-1.37.2}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
NODE_DIR="${NODE_DIR:-${ROOT}/bin/node}"
# Everything a running node owns; down.sh removes it (logs are kept in
# ${NODE_DIR}/last-logs).
STATE="${NODE_DIR}/state"
IMAGES="${NODE_DIR}/images"
K8S_BIN="${ROOT}/bin/k8s/${K8S_VERSION}-linux-$(go env GOARCH 2>/dev/null || echo amd64)"

NODE_NAME="ida-node"
# The node's address: on an empty bridge of our own (there is no dummy
# driver here). Every component listens on it, never on 0.0.0.0, so nothing
# is reachable from outside and nothing collides with loopback test servers.
NODE_IP="10.200.0.1"
NODE_BRIDGE="idanode0"
# Pods: one /24 on a CNI bridge.
POD_CIDR="10.244.0.0/24"
CNI_BRIDGE="idacni0"
SERVICE_CIDR="10.96.0.0/24"
SERVICE_IP="10.96.0.1"
APISERVER_PORT=6443
GUARD_CHAIN="IDA-NODE-GUARD"

PAUSE_IMAGE="idaop.dev/node/pause:1"
IMG="${IMG:-ghcr.io/idaop/ida-operator:dev}"

SOCK="${STATE}/containerd/containerd.sock"
KUBECONFIG_ADMIN="${STATE}/admin.kubeconfig"

# Paths kubelet and containerd create outside ${STATE} whatever they are
# told; up.sh records which existed before, down.sh removes the others.
FIXED_PATHS=(/var/log/containers /var/log/pods /var/lib/kubelet /var/lib/cni /run/containerd
  /var/run/netns /run/netns /etc/cni /opt/cni /opt/containerd /var/lib/containerd /etc/kubernetes /run/mount)
# Kernel settings kubelet, kube-proxy and the bridge plugin may change.
SYSCTLS=(net.ipv4.ip_forward net.ipv4.conf.all.forwarding net.ipv4.conf.default.forwarding
  net.ipv4.conf.all.route_localnet net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables
  net.ipv6.conf.all.forwarding vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes net.netfilter.nf_conntrack_max
  net.netfilter.nf_conntrack_tcp_timeout_established net.netfilter.nf_conntrack_tcp_timeout_close_wait
  net.netfilter.nf_conntrack_tcp_be_liberal)
# cgroup v1 hierarchies kubelet creates "kubepods" in.
CGROUP_ROOT=/sys/fs/cgroup

log() { printf '%s node: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

KUBECTL() { "${K8S_BIN}/kubectl" --kubeconfig "${KUBECONFIG_ADMIN}" "$@"; }
CTR() { ctr --address "${SOCK}" -n k8s.io "$@"; }
