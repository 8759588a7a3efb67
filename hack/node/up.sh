#!/usr/bin/env bash
# Brings up a single-node Kubernetes cluster from parts, for tests (make e2e):
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler, containerd
# (Debian), kubelet and kube-proxy, with the node address ${NODE_IP} on an
# empty bridge and pods on a CNI bridge. No registry: a pause image of our own
# and the project's image (bin/image/ida-operator.tar, `make image`) are
# imported into containerd before kubelet starts. All state lives in
# bin/node/state; hack/node/down.sh stops everything and leaves the machine
# as it found it. Prints the admin kubeconfig's path.
#
# Needs Linux and root. Idempotent: a node that is up is left alone.
set -euo pipefail
# shellcheck source=hack/node/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ "$(uname -s)" == Linux ]] || die "needs Linux"
[[ "$(id -u)" == 0 ]] || die "needs root (it runs containerd, kubelet and kube-proxy)"

if [[ -f "${STATE}/up.done" ]] && pid_alive "${STATE}/pids/kube-apiserver" && pid_alive "${STATE}/pids/kubelet"; then
  log "already up"
  echo "${KUBECONFIG_ADMIN}"
  exit 0
fi
if [[ -d "${STATE}" ]]; then
  log "a previous node was not torn down: running down.sh first"
  "$(dirname "${BASH_SOURCE[0]}")/down.sh"
fi
if ip link show "${NODE_BRIDGE}" >/dev/null 2>&1; then
  die "interface ${NODE_BRIDGE} exists but ${STATE} does not: another test node runs on this machine (another checkout?)"
fi

# --- packages --------------------------------------------------------------
need_pkgs=()
command -v containerd >/dev/null || need_pkgs+=(containerd)
command -v runc >/dev/null || need_pkgs+=(runc)
[[ -x /usr/lib/cni/bridge ]] || need_pkgs+=(containernetworking-plugins)
command -v conntrack >/dev/null || need_pkgs+=(conntrack)
command -v iptables >/dev/null || need_pkgs+=(iptables)
command -v openssl >/dev/null || need_pkgs+=(openssl)
if ((${#need_pkgs[@]})); then
  log "installing ${need_pkgs[*]} from Debian"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need_pkgs[@]}" >&2
fi

# --- binaries and images ---------------------------------------------------
"$(dirname "${BASH_SOURCE[0]}")/build.sh" >/dev/null
for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl; do
  [[ -x "${K8S_BIN}/${b}" ]] || die "${K8S_BIN}/${b} is missing (hack/node/build.sh)"
done
[[ -f "${ROOT}/bin/image/ida-operator.tar" ]] || die "bin/image/ida-operator.tar is missing: run make image"
mkdir -p "${IMAGES}"
if [[ ! -f "${IMAGES}/pause.tar" || "${ROOT}/hack/node/pause/main.go" -nt "${IMAGES}/pause.tar" ]]; then
  log "building the pause image"
  (cd "${ROOT}" && CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w" -o "${IMAGES}/pause" ./hack/node/pause &&
    go run ./hack/node/pauseimage -binary "${IMAGES}/pause" -tag "${PAUSE_IMAGE}" -out "${IMAGES}/pause.tar")
fi

# --- what the machine looks like before ------------------------------------
mkdir -p "${STATE}"/{pids,logs,pki,etcd,kubelet,containerd,cni/net.d,cni/ipam,kube-proxy}
before="${STATE}/before"
mkdir -p "${before}"
for p in "${FIXED_PATHS[@]}"; do [[ -e "${p}" ]] && echo "${p}"; done >"${before}/paths"
for s in "${SYSCTLS[@]}"; do
  v="$(sysctl -n "${s}" 2>/dev/null)" && printf '%s=%s\n' "${s}" "${v}"
done >"${before}/sysctls"
for h in "${CGROUP_ROOT}"/*/; do [[ -d "${h}kubepods" ]] && echo "${h}kubepods"; done >"${before}/cgroups" || true
for v in iptables ip6tables; do
  "${v}-save" 2>/dev/null | sed -n 's/^:\([A-Za-z0-9_-]*\) .*/\1/p' | grep -E '^(KUBE-|CNI-|IDA-NODE-)' || true
done >"${before}/chains"
if [[ -s "${before}/chains" ]]; then
  die "iptables already holds KUBE-/CNI- chains ($(tr '\n' ' ' <"${before}/chains")): another cluster runs on this machine"
fi
date +%s >"${STATE}/started"

start() { # start NAME CMD...: a daemon in its own session, logs and PID in ${STATE}
  local name="$1"
  shift
  setsid "$@" >"${STATE}/logs/${name}.log" 2>&1 </dev/null &
  echo $! >"${STATE}/pids/${name}"
}
wait_for() { # wait_for WHAT SECONDS CMD...
  local what="$1" secs="$2"
  shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "${what} not ready within ${secs}s; last log lines:"
      tail -n 30 "${STATE}"/logs/*.log >&2 || true
      exit 1
    fi
    sleep 0.2
  done
}

# --- network ---------------------------------------------------------------
log "node address ${NODE_IP} on bridge ${NODE_BRIDGE}"
ip link add "${NODE_BRIDGE}" type bridge
ip addr add "${NODE_IP}/32" dev "${NODE_BRIDGE}"
ip link set "${NODE_BRIDGE}" up
# Service addresses route to the empty bridge: a packet kube-proxy does not
# translate goes nowhere instead of out of the machine's uplink.
ip route add "${SERVICE_CIDR}" dev "${NODE_BRIDGE}" src "${NODE_IP}"
# Pods may talk to each other, to the node and to Services (translated to
# pods before FORWARD), nothing else: no pod traffic leaves the machine.
iptables -N "${GUARD_CHAIN}"
iptables -A "${GUARD_CHAIN}" -s "${POD_CIDR}" -d "${POD_CIDR}" -j RETURN
iptables -A "${GUARD_CHAIN}" -s "${POD_CIDR}" -j DROP
iptables -A "${GUARD_CHAIN}" -d "${POD_CIDR}" ! -i "${CNI_BRIDGE}" ! -s "${NODE_IP}" -j DROP
iptables -I FORWARD 1 -j "${GUARD_CHAIN}"

# --- certificates ----------------------------------------------------------
pki="${STATE}/pki"
log "certificates (openssl)"
openssl_quiet() { openssl "$@" 2>/dev/null; }
openssl_quiet req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 7 \
  -keyout "${pki}/ca.key" -out "${pki}/ca.crt" -subj "/CN=ida-node-ca" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
cert() { # cert NAME CN ORG USAGE [SANS]
  local n="$1" cn="$2" org="$3" usage="$4" sans="${5:-}" subj="/CN=$2"
  [[ -n "${org}" ]] && subj="/O=${org}/CN=${cn}"
  openssl_quiet req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "${pki}/${n}.key" -out "${pki}/${n}.csr" -subj "${subj}"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=${usage}"
    [[ -n "${sans}" ]] && echo "subjectAltName=${sans}"
  } >"${pki}/${n}.ext"
  openssl_quiet x509 -req -in "${pki}/${n}.csr" -CA "${pki}/ca.crt" -CAkey "${pki}/ca.key" -CAcreateserial \
    -days 7 -extfile "${pki}/${n}.ext" -out "${pki}/${n}.crt"
  rm -f "${pki}/${n}.csr" "${pki}/${n}.ext"
}
cert apiserver kube-apiserver "" serverAuth \
  "IP:${NODE_IP},IP:127.0.0.1,IP:${SERVICE_IP},DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost"
cert admin kubernetes-admin system:masters clientAuth
cert apiserver-kubelet kube-apiserver-kubelet-client system:masters clientAuth
cert node "system:node:${NODE_NAME}" system:nodes clientAuth
cert kubelet-serving "${NODE_NAME}" "" serverAuth "IP:${NODE_IP},DNS:${NODE_NAME}"
cert controller-manager system:kube-controller-manager "" clientAuth
cert scheduler system:kube-scheduler "" clientAuth
cert kube-proxy system:kube-proxy "" clientAuth
openssl_quiet genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "${pki}/sa.key"
openssl_quiet pkey -in "${pki}/sa.key" -pubout -out "${pki}/sa.pub"

kubeconfig() { # kubeconfig NAME CERT
  cat >"${STATE}/$1.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: ${NODE_NAME}
  cluster:
    server: https://${NODE_IP}:${APISERVER_PORT}
    certificate-authority-data: $(base64 -w0 <"${pki}/ca.crt")
users:
- name: $1
  user:
    client-certificate-data: $(base64 -w0 <"${pki}/$2.crt")
    client-key-data: $(base64 -w0 <"${pki}/$2.key")
contexts:
- name: ${NODE_NAME}
  context: {cluster: ${NODE_NAME}, user: $1}
current-context: ${NODE_NAME}
KC
  chmod 600 "${STATE}/$1.kubeconfig"
}
kubeconfig admin admin
kubeconfig kubelet node
kubeconfig controller-manager controller-manager
kubeconfig scheduler scheduler
kubeconfig kube-proxy kube-proxy

# --- control plane ---------------------------------------------------------
log "etcd"
start etcd "${K8S_BIN}/etcd" --name "${NODE_NAME}" --data-dir "${STATE}/etcd" \
  --listen-client-urls "http://${NODE_IP}:2379" --advertise-client-urls "http://${NODE_IP}:2379" \
  --listen-peer-urls "http://${NODE_IP}:2380" --initial-advertise-peer-urls "http://${NODE_IP}:2380" \
  --initial-cluster "${NODE_NAME}=http://${NODE_IP}:2380" --unsafe-no-fsync --log-level warn
wait_for etcd 30 curl -fsS "http://${NODE_IP}:2379/health"

log "kube-apiserver"
start kube-apiserver "${K8S_BIN}/kube-apiserver" \
  --etcd-servers "http://${NODE_IP}:2379" \
  --bind-address "${NODE_IP}" --advertise-address "${NODE_IP}" --secure-port "${APISERVER_PORT}" \
  --cert-dir "${STATE}/pki/apiserver-generated" \
  --tls-cert-file "${pki}/apiserver.crt" --tls-private-key-file "${pki}/apiserver.key" \
  --client-ca-file "${pki}/ca.crt" \
  --service-cluster-ip-range "${SERVICE_CIDR}" \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "${pki}/sa.pub" --service-account-signing-key-file "${pki}/sa.key" \
  --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
  --kubelet-client-certificate "${pki}/apiserver-kubelet.crt" --kubelet-client-key "${pki}/apiserver-kubelet.key" \
  --kubelet-certificate-authority "${pki}/ca.crt" \
  --kubelet-preferred-address-types InternalIP \
  --allow-privileged=true --profiling=false --v=1
wait_for kube-apiserver 60 curl -fsS --cacert "${pki}/ca.crt" --cert "${pki}/admin.crt" --key "${pki}/admin.key" \
  "https://${NODE_IP}:${APISERVER_PORT}/readyz"

log "kube-controller-manager, kube-scheduler"
start kube-controller-manager "${K8S_BIN}/kube-controller-manager" \
  --kubeconfig "${STATE}/controller-manager.kubeconfig" \
  --authentication-kubeconfig "${STATE}/controller-manager.kubeconfig" \
  --authorization-kubeconfig "${STATE}/controller-manager.kubeconfig" \
  --bind-address "${NODE_IP}" --secure-port 10257 --cert-dir "${STATE}/pki/controller-manager-generated" \
  --service-account-private-key-file "${pki}/sa.key" --root-ca-file "${pki}/ca.crt" \
  --cluster-signing-cert-file "${pki}/ca.crt" --cluster-signing-key-file "${pki}/ca.key" \
  --use-service-account-credentials=true --service-cluster-ip-range "${SERVICE_CIDR}" \
  --leader-elect=false --profiling=false --v=1
start kube-scheduler "${K8S_BIN}/kube-scheduler" \
  --kubeconfig "${STATE}/scheduler.kubeconfig" \
  --authentication-kubeconfig "${STATE}/scheduler.kubeconfig" \
  --authorization-kubeconfig "${STATE}/scheduler.kubeconfig" \
  --bind-address "${NODE_IP}" --secure-port 10259 --cert-dir "${STATE}/pki/scheduler-generated" \
  --leader-elect=false --profiling=false --v=1

# --- containerd ------------------------------------------------------------
log "containerd"
cat >"${STATE}/containerd/config.toml" <<TOML
version = 2
root = "${STATE}/containerd/root"
state = "${STATE}/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "${SOCK}"

[plugins."io.containerd.internal.v1.opt"]
  path = "${STATE}/containerd/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "$(command -v runc)"
        Root = "${STATE}/containerd/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${STATE}/cni/net.d"
    max_conf_num = 1
TOML
cat >"${STATE}/cni/net.d/10-ida-node.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "ida-node",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "${CNI_BRIDGE}",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "${STATE}/cni/ipam",
        "ranges": [[{"subnet": "${POD_CIDR}"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON
start containerd containerd --config "${STATE}/containerd/config.toml"
wait_for containerd 30 ctr --address "${SOCK}" version

log "importing ${PAUSE_IMAGE} and ${IMG}"
CTR images import "${IMAGES}/pause.tar" >&2
CTR images import "${ROOT}/bin/image/ida-operator.tar" >&2
# The list is read whole first: with pipefail, grep -q leaving early would
# fail the pipeline when ctr is still writing (SIGPIPE).
imported="$(CTR images ls -q)"
grep -qx "${PAUSE_IMAGE}" <<<"${imported}" || die "the pause image was not imported"
grep -qx "${IMG}" <<<"${imported}" || die "${IMG} was not imported (is IMG the tag of bin/image/ida-operator.tar?)"

# --- kubelet, kube-proxy ---------------------------------------------------
log "kubelet"
echo "nameserver 127.0.0.1" >"${STATE}/kubelet/resolv.conf"
cat >"${STATE}/kubelet/config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://${SOCK}
imageServiceEndpoint: unix://${SOCK}
address: ${NODE_IP}
port: 10250
readOnlyPort: 0
healthzBindAddress: ${NODE_IP}
healthzPort: 10248
tlsCertFile: ${pki}/kubelet-serving.crt
tlsPrivateKeyFile: ${pki}/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: ${pki}/ca.crt}
authorization:
  mode: Webhook
resolvConf: ${STATE}/kubelet/resolv.conf
clusterDomain: cluster.local
podLogsDir: ${STATE}/kubelet/pod-logs
rotateCertificates: false
serverTLSBootstrap: false
failSwapOn: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  imagefs.available: 1%
  nodefs.inodesFree: 1%
registerNode: true
YAML
start kubelet "${K8S_BIN}/kubelet" --config "${STATE}/kubelet/config.yaml" \
  --kubeconfig "${STATE}/kubelet.kubeconfig" --cert-dir "${STATE}/kubelet/pki" \
  --root-dir "${STATE}/kubelet/root" --hostname-override "${NODE_NAME}" --node-ip "${NODE_IP}" --v=1

log "kube-proxy"
start kube-proxy "${K8S_BIN}/kube-proxy" --kubeconfig "${STATE}/kube-proxy.kubeconfig" \
  --proxy-mode iptables --hostname-override "${NODE_NAME}" --cluster-cidr "${POD_CIDR}" \
  --nodeport-addresses "${NODE_IP}/32" --bind-address "${NODE_IP}" \
  --healthz-bind-address "${NODE_IP}:10256" --metrics-bind-address "${NODE_IP}:10249" \
  --conntrack-max-per-core 0 --conntrack-tcp-timeout-established 0 --conntrack-tcp-timeout-close-wait 0 \
  --v=1

node_ready() {
  [[ "$(KUBECTL get node "${NODE_NAME}" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')" == True ]]
}
wait_for "node ${NODE_NAME} Ready" 90 node_ready
wait_for "the default ServiceAccount" 60 KUBECTL -n default get serviceaccount default
touch "${STATE}/up.done"
log "up in $(($(date +%s) - $(cat "${STATE}/started")))s; kubeconfig ${KUBECONFIG_ADMIN}"
echo "${KUBECONFIG_ADMIN}"
