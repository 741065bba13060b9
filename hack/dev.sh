#!/usr/bin/env bash
# `make dev`: the local plane, the CRDs, the operator (in the background, logging to
# .cluster/logs/operator.log) and the example Project, waited on until Ready.
#
#   hack/dev.sh up     each step printed; safe to run again (restarts the operator on new code)
#   hack/dev.sh down   stop the operator (the plane keeps running: make cluster-down)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
dir=${RDEV_CLUSTER_DIR:-$root/.cluster}
log_prefix=dev
# shellcheck source=lib.sh
. "$here/lib.sh"

step() { printf '\n==> %s\n' "$*"; }
kubectl() { "$dir/bin/kubectl" --kubeconfig "$dir/kubeconfig" "$@"; }

cmd_up() {
  step "control plane"
  "$here/cluster.sh" up

  step "CRDs"
  kubectl apply --server-side -f "$root/crds/"
  kubectl wait --for=condition=Established crd -l app.kubernetes.io/part-of=rdev --timeout=60s

  step "operator (log: $dir/logs/operator.log)"
  stop operator
  start operator node "$root/bin/rdev.js" operator --kubeconfig "$dir/kubeconfig" \
    --health-addr=127.0.0.1:18081 --metrics-addr=127.0.0.1:18081
  wait_for operator 60 curl -sf http://127.0.0.1:18081/readyz -o /dev/null

  step "example Project (examples/project-minimal.yaml) in namespace default"
  if ! kubectl get secret anthropic >/dev/null 2>&1; then
    # A placeholder unless ANTHROPIC_API_KEY is set: the workspace runs, the agent needs a real key.
    kubectl create secret generic anthropic --from-literal=ANTHROPIC_API_KEY="${ANTHROPIC_API_KEY:-replace-me}" >/dev/null
    echo "secret/anthropic created"
  fi
  kubectl apply -f "$root/examples/project-minimal.yaml"
  kubectl wait --for=condition=Ready project/shop --timeout=60s
  kubectl get rdev

  printf '\nrdev is running. To look around from this shell:\n'
  printf '  export KUBECONFIG=%s PATH=%s:$PATH\n' "$dir/kubeconfig" "$dir/bin"
  printf '  kubectl get rdev                     # every rdev resource\n'
  printf '  kubectl describe project shop        # conditions and events\n'
  printf '  kubectl get pods,pvc,svc,networkpolicy -l rdev.dev/project=shop\n'
  printf '  tail -f %s                 # the operator log\n' "$dir/logs/operator.log"
  printf '  curl -s http://127.0.0.1:18081/metrics | grep controller_runtime\n'
  printf 'Stop: make dev-down (operator), make cluster-down (plane).\n'
}

case ${1:-} in
  up) cmd_up ;;
  down) stop operator ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
