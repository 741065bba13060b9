#!/usr/bin/env bash
# The local control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok
# (one fake Node whose pods become Running and whose exec/logs run locally), on loopback only, and
# kwok-env (hack/kwok-env.ts), which does a kubelet's part kwok skips: it resolves each Pod's env
# from its Secrets and ConfigMaps for the commands exec'd in it, and holds the Pod Pending until
# every reference resolves.
#
#   hack/cluster.sh up       build once (cached), start what is not running, print `export KUBECONFIG=…`
#   hack/cluster.sh down     stop what `up` started (the state in .cluster/ stays for the next `up`)
#   hack/cluster.sh status   exit 0 when every component runs and the API server is ready
#   hack/cluster.sh reset    down, then remove .cluster/ (a fresh etcd on the next `up`)
#
# State lives in $RDEV_CLUSTER_DIR (default: .cluster/ in the checkout): kubeconfig, pki/, bin/
# (links to the cached binaries), logs/, pids/, ports.env, etcd/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
dir=${RDEV_CLUSTER_DIR:-$root/.cluster}
components=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok kwok-env)
# Set on Pods by kwok-env once their env resolved; kwok's pod-ready stage waits for it.
env_annotation=kwok.rdev.dev/env

log_prefix=cluster
# shellcheck source=lib.sh
. "$here/lib.sh"

kubectl_() { "$dir/bin/kubectl" --kubeconfig "$dir/kubeconfig" "$@"; }
apiserver_ready() { kubectl_ get --raw /readyz >/dev/null 2>&1; }

ensure_ports() {
  [ -s "$dir/ports.env" ] && return
  : > "$dir/ports.env"
  for name in ETCD_CLIENT ETCD_PEER APISERVER KWOK; do echo "${name}_PORT=$(free_port "$dir/ports.env")" >> "$dir/ports.env"; done
}

ensure_pki() {
  local pki=$dir/pki
  [ -s "$pki/admin.crt" ] && return
  command -v openssl >/dev/null || die "openssl is required to make the plane's certificates"
  mkdir -p "$pki"
  # One CA and one certificate (kwokctl's approach): it serves the API server and kwok, it is the
  # admin client certificate (O=system:masters), and its key signs service-account tokens.
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=rdev-local-ca" \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
  cat > "$pki/admin.ext" <<EOF
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.0.0.1
EOF
  openssl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=admin" \
    -keyout "$pki/admin.key" -out "$pki/admin.csr" 2>/dev/null
  openssl x509 -req -in "$pki/admin.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 3650 -extfile "$pki/admin.ext" -out "$pki/admin.crt" 2>/dev/null
  rm -f "$pki/admin.csr"
  chmod 600 "$pki"/*.key
}

write_kubeconfig() {
  # shellcheck disable=SC1091
  . "$dir/ports.env"
  cat > "$dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: rdev-local
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority: $dir/pki/ca.crt
users:
- name: admin
  user:
    client-certificate: $dir/pki/admin.crt
    client-key: $dir/pki/admin.key
contexts:
- name: rdev-local
  context: {cluster: rdev-local, user: admin}
current-context: rdev-local
EOF
  chmod 600 "$dir/kubeconfig"
}

# kwok's stages with one change: pod-ready also requires the annotation kwok-env sets, so that a Pod
# whose env references a missing Secret or key stays Pending (a kubelet's CreateContainerConfigError).
# Made per plane from the cached stages, which other checkouts sharing the cache use unchanged.
write_kwok_stages() {
  awk -v key=".metadata.annotations[\"$env_annotation\"]" '
    /^---/ { in_ready = 0 }
    /^  name: pod-ready$/ { in_ready = 1 }
    { print }
    in_ready && !done && /^ *matchExpressions:$/ {
      indent = substr($0, 1, match($0, /[^ ]/) - 1)
      print indent "- key: '"'"'" key "'"'"'"
      print indent "  operator: '"'"'Exists'"'"'"
      done = 1
    }
    END { exit done ? 0 : 1 }
  ' "$dir/bin/kwok-stages.yaml" > "$dir/kwok-stages.yaml.tmp" ||
    die "no pod-ready stage with matchExpressions in $dir/bin/kwok-stages.yaml"
  mv "$dir/kwok-stages.yaml.tmp" "$dir/kwok-stages.yaml"
}

write_kwok_config() {
  mkdir -p "$dir/kwok-home" "$dir/pod-logs"
  # Exec runs the requested command on this machine; logs stream one shared file (tests append to
  # it) in the CRI log format that kwok parses: "<RFC 3339 time> stdout F <line>".
  [ -s "$dir/pod-logs/pods.log" ] ||
    echo "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ) stdout F rdev local plane: pod logs start here" > "$dir/pod-logs/pods.log"
  cat > "$dir/kwok.yaml" <<EOF
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterExec
metadata: {name: local}
spec:
  execs:
  - local: {workDir: /tmp}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata: {name: local}
spec:
  logs:
  - logsFile: $dir/pod-logs/pods.log
    follow: true
EOF
}

start_component() {
  # shellcheck disable=SC1091
  . "$dir/ports.env"
  local b=$dir/bin pki=$dir/pki
  case $1 in
    etcd)
      start etcd "$b/etcd" --name=node0 --data-dir="$dir/etcd" \
        --listen-client-urls="http://127.0.0.1:$ETCD_CLIENT_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_CLIENT_PORT" \
        --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
        --initial-cluster="node0=http://127.0.0.1:$ETCD_PEER_PORT" --listen-metrics-urls="" \
        --unsafe-no-fsync=true --auto-compaction-retention=1 --quota-backend-bytes=4294967296
      wait_for etcd 30 curl -sf "http://127.0.0.1:$ETCD_CLIENT_PORT/health" -o /dev/null ;;
    kube-apiserver)
      start kube-apiserver "$b/kube-apiserver" --etcd-servers="http://127.0.0.1:$ETCD_CLIENT_PORT" \
        --bind-address=127.0.0.1 --secure-port="$APISERVER_PORT" --advertise-address=127.0.0.1 \
        --endpoint-reconciler-type=none \
        --tls-cert-file="$pki/admin.crt" --tls-private-key-file="$pki/admin.key" --client-ca-file="$pki/ca.crt" \
        --kubelet-client-certificate="$pki/admin.crt" --kubelet-client-key="$pki/admin.key" \
        --kubelet-preferred-address-types=InternalIP,Hostname \
        --service-account-issuer=https://kubernetes.default.svc.cluster.local \
        --service-account-key-file="$pki/admin.key" --service-account-signing-key-file="$pki/admin.key" \
        --service-cluster-ip-range=10.0.0.0/16 --authorization-mode=Node,RBAC --allow-privileged=true \
        --disable-admission-plugins=ResourceQuota,StorageObjectInUseProtection
      wait_for kube-apiserver 90 apiserver_ready ;;
    kube-controller-manager)
      start kube-controller-manager "$b/kube-controller-manager" --kubeconfig="$dir/kubeconfig" \
        --leader-elect=false --secure-port=0 --use-service-account-credentials=false \
        --controllers=garbage-collector-controller,namespace-controller,serviceaccount-controller,serviceaccount-token-controller,deployment-controller,replicaset-controller,job-controller,node-lifecycle-controller,persistentvolume-binder-controller \
        --service-account-private-key-file="$pki/admin.key" --root-ca-file="$pki/ca.crt" \
        --enable-hostpath-provisioner=true --concurrent-gc-syncs=5 \
        --kube-api-qps=200 --kube-api-burst=400 ;;
    kube-scheduler)
      start kube-scheduler "$b/kube-scheduler" --kubeconfig="$dir/kubeconfig" --leader-elect=false \
        --secure-port=0 --kube-api-qps=200 --kube-api-burst=400 ;;
    kwok)
      # kwok reads per-Pod Exec objects (written by kwok-env) from the API server: the kind first.
      kubectl_ apply --server-side -f "$b/kwok-crd-execs.yaml" >/dev/null
      kubectl_ wait --for=condition=Established crd/execs.kwok.x-k8s.io --timeout=60s >/dev/null
      HOME="$dir/kwok-home" start kwok "$b/kwok" --kubeconfig="$dir/kubeconfig" \
        --config="$dir/kwok-stages.yaml" --config="$dir/kwok.yaml" --enable-crds=Exec \
        --manage-all-nodes=true --node-name=localhost --node-ip=127.0.0.1 --node-port="$KWOK_PORT" \
        --server-address="127.0.0.1:$KWOK_PORT" \
        --tls-cert-file="$pki/admin.crt" --tls-private-key-file="$pki/admin.key" \
        --node-lease-duration-seconds=40 ;;
    kwok-env)
      [ -d "$root/node_modules/@kubernetes/client-node" ] || die "kwok-env needs the npm dependencies: make deps"
      local node; node=$("$here/ensure-node.sh")/node
      rm -f "$dir/pids/kwok-env.ready"
      start kwok-env "$node" "$here/kwok-env.ts" --kubeconfig="$dir/kubeconfig" \
        --annotation="$env_annotation" --ready-file="$dir/pids/kwok-env.ready"
      wait_for kwok-env 60 kwok_env_ready ;;
  esac
}

ensure_node() {
  # kwok does not create Nodes; it takes over the ones that exist and keeps them Ready.
  kubectl_ get node rdev-node >/dev/null 2>&1 || kubectl_ apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: rdev-node
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels: {kubernetes.io/hostname: rdev-node, kubernetes.io/os: linux, kubernetes.io/arch: amd64, type: kwok}
spec: {}
EOF
  wait_for "node rdev-node" 60 node_ready
  # kwok's default capacity has no ephemeral-storage: Pods that ask for some (a limit on scratch
  # space, as examples/project-complete.yaml does) could never be scheduled. Give it a disk.
  if [ -z "$(kubectl_ get node rdev-node -o jsonpath='{.status.allocatable.ephemeral-storage}')" ]; then
    local r='{"cpu":"1k","memory":"1Ti","pods":"1M","ephemeral-storage":"10Ti"}'
    kubectl_ patch node rdev-node --subresource=status --type=merge \
      -p "{\"status\":{\"capacity\":$r,\"allocatable\":$r}}" >/dev/null
  fi
}
node_ready() { # Ready, and the node lifecycle controller has lifted the not-ready taint
  [ "$(kubectl_ get node rdev-node -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}/{.spec.taints[*].key}' 2>/dev/null)" = True/ ]
}

ensure_storage_class() {
  # The controller manager's hostPath provisioner makes a PersistentVolume for each claim, so
  # PVCs bind as on a real cluster (kwok's pods mount nothing; the directories stay empty).
  [ "$(kubectl_ get storageclass standard -o jsonpath='{.provisioner}' 2>/dev/null)" = kubernetes.io/host-path ] && return
  kubectl_ delete storageclass standard --ignore-not-found >/dev/null
  kubectl_ apply -f - >/dev/null <<EOF
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: kubernetes.io/host-path
reclaimPolicy: Delete
volumeBindingMode: Immediate
EOF
}

kwok_env_ready() { # its caches are filled; a start that fails is reported at once, not after the timeout
  running kwok-env || die "kwok-env exited (log: $dir/logs/kwok-env.log)"
  [ -e "$dir/pids/kwok-env.ready" ]
}

# A kwok started by an older cluster.sh reads no Exec objects and does not wait for kwok-env.
kwok_current() { ps -o args= -p "$(pid_of kwok)" 2>/dev/null | grep -q -- '--enable-crds=Exec'; }

default_service_account() { kubectl_ get serviceaccount default -n default >/dev/null 2>&1; }

all_running() { for c in "${components[@]}"; do running "$c" || return 1; done; }

cmd_status() {
  local ok=0
  for c in "${components[@]}"; do
    if running "$c"; then echo "$c: running (pid $(pid_of "$c"))"; else echo "$c: stopped"; ok=1; fi
  done
  if [ -s "$dir/kubeconfig" ] && [ -x "$dir/bin/kubectl" ] && apiserver_ready; then
    echo "api server: ready at $(sed -n 's/^ *server: //p' "$dir/kubeconfig")"
  else
    echo "api server: not ready"; ok=1
  fi
  return $ok
}

print_access() {
  echo "export KUBECONFIG=$dir/kubeconfig PATH=$dir/bin:\$PATH"
}

cmd_up() {
  mkdir -p "$dir"/{logs,pids}
  if all_running && [ -s "$dir/kubeconfig" ] && apiserver_ready && node_ready; then
    log "already up"
    print_access; return
  fi
  bins=$("$here/build-plane.sh")
  mkdir -p "$dir/bin"
  for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok kwok-stages.yaml kwok-crd-execs.yaml; do
    ln -sfn "$bins/$b" "$dir/bin/$b"
  done
  ensure_ports; ensure_pki; write_kubeconfig; write_kwok_config; write_kwok_stages
  if running kwok && ! kwok_current; then log "restarting kwok with the Exec kind and gated stages"; stop kwok; fi
  for c in "${components[@]}"; do running "$c" || start_component "$c"; done
  ensure_node
  ensure_storage_class
  # The default ServiceAccount must exist before pods can be created in a namespace.
  wait_for "default service account" 60 default_service_account
  log "up"
  print_access
}

cmd_down() {
  for ((i = ${#components[@]} - 1; i >= 0; i--)); do stop "${components[$i]}"; done
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  reset) cmd_down; rm -rf "$dir" ;;
  start-component) # start one stopped component (the integration tests restart the API server)
    running "$2" || start_component "$2" ;;
  stop-component) stop "$2" ;;
  *) echo "usage: $0 up|down|status|reset" >&2; exit 2 ;;
esac
