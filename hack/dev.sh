#!/usr/bin/env bash
# `make dev`: the whole product on this machine. The local plane, PostgreSQL, Redis and Gitea, the
# CRDs, the operator (configured with all three), a worker, the REST shim with a generated admin
# key, and the example Project with its repository, database and cache, waited on until Ready;
# then one agent WorkItem posted through the shim, waited on until its pull request exists.
#
#   hack/dev.sh up     each step printed; safe to run again (restarts the processes on new code)
#   hack/dev.sh down   stops what `up` started, and nothing else
#
# State goes to $RDEV_CLUSTER_DIR (default .cluster): processes' pids and logs, and dev.env (mode
# 600) with the shim's URL and key. Ports: $RDEV_DEV_PORT (default 18080) for the shim, the next
# two for the operator's and the worker's health and metrics.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
dir=${RDEV_CLUSTER_DIR:-$root/.cluster}
export RDEV_CLUSTER_DIR=$dir
export RDEV_SERVICES_DIR=${RDEV_SERVICES_DIR:-$dir/services}
log_prefix=dev
# shellcheck source=lib.sh
. "$here/lib.sh"

port=${RDEV_DEV_PORT:-18080}
shim_addr=127.0.0.1:$port operator_addr=127.0.0.1:$((port + 1)) worker_addr=127.0.0.1:$((port + 2))
system=rdev-system
started=$dir/dev-started # what `up` started (plane, services), for `down` to stop
env_file=$dir/dev.env

step() { printf '\n==> %s\n' "$*"; }
kubectl() { "$dir/bin/kubectl" --kubeconfig "$dir/kubeconfig" "$@"; }
rdev() { node "$root/bin/rdev.js" "$@"; }

# A Secret from KEY=VALUE lines on stdin: the values never appear on a command line.
apply_secret() {
  local name=$1 tmp
  tmp=$(mktemp "$dir/secret.XXXXXX")
  chmod 600 "$tmp"
  cat >"$tmp"
  kubectl -n "$system" create secret generic "$name" --from-env-file="$tmp" --dry-run=client -o yaml |
    kubectl apply -f - >/dev/null
  rm -f "$tmp"
  echo "secret/$name in $system"
}

# curl with the admin key from dev.env, passed through a config file (never on a command line).
shim_curl() {
  # shellcheck disable=SC1090
  (. "$env_file"; printf 'header = "Authorization: Bearer %s"\n' "$RDEV_KEY") |
    curl -sS --fail-with-body -K - -H 'content-type: application/json' "$@"
}

cmd_up() {
  mkdir -p "$dir"
  touch "$started"

  step "control plane"
  "$here/cluster.sh" status >/dev/null 2>&1 || { grep -qx cluster "$started" || echo cluster >>"$started"; }
  "$here/cluster.sh" up >/dev/null
  step "PostgreSQL, Redis and Gitea"
  "$here/services.sh" status >/dev/null 2>&1 || { grep -qx services "$started" || echo services >>"$started"; }
  "$here/services.sh" up
  # shellcheck disable=SC1091
  . "$RDEV_SERVICES_DIR/services.env"

  step "CRDs"
  kubectl apply --server-side -f "$root/crds/" >/dev/null
  kubectl wait --for=condition=Established crd -l app.kubernetes.io/part-of=rdev --timeout=60s

  step "provider Secrets in $system, and the Gitea organisation rdev"
  kubectl get namespace "$system" >/dev/null 2>&1 || kubectl create namespace "$system"
  printf 'GITEA_TOKEN=%s\n' "$GITEA_ADMIN_TOKEN" | apply_secret gitea
  printf 'DATABASE_ADMIN_URL=%s\n' "$DATABASE_ADMIN_URL" | apply_secret postgres-admin
  printf 'REDIS_ADMIN_URL=%s\n' "$REDIS_ADMIN_URL" | apply_secret redis-admin
  local code
  code=$(printf 'header = "Authorization: token %s"\n' "$GITEA_ADMIN_TOKEN" |
    curl -s -o /dev/null -w '%{http_code}' -K - -H 'content-type: application/json' \
      -d '{"username":"rdev","visibility":"private"}' "$GITEA_URL/api/v1/orgs")
  case $code in 201) echo "organisation rdev created" ;; 422) echo "organisation rdev exists" ;; *) die "creating the Gitea organisation answered $code" ;; esac

  step "the shim's key and the workers' output token (in $env_file)"
  if [ ! -s "$env_file" ]; then
    (umask 077; printf 'export RDEV_URL=http://%s\nexport RDEV_KEY=rdev_%s\n' "$shim_addr" "$(openssl rand -hex 24)" >"$env_file")
  fi
  sed -i "s|^export RDEV_URL=.*|export RDEV_URL=http://$shim_addr|" "$env_file"
  [ -s "$dir/dev-output-token" ] || (umask 077; openssl rand -hex 24 >"$dir/dev-output-token")

  local agent=()
  if [ -n "${ANTHROPIC_API_KEY:-}" ] && command -v claude >/dev/null; then
    echo "agent: claude (ANTHROPIC_API_KEY is set)"
  else
    agent=(--agent-command="$root/test/agent/rdev-test-agent")
    echo "agent: the test agent (test/agent/rdev-test-agent) stands in for claude: set ANTHROPIC_API_KEY and install claude for the real one"
  fi

  step "operator (log: $dir/logs/operator.log)"
  stop operator
  start operator node "$root/bin/rdev.js" operator --kubeconfig "$dir/kubeconfig" \
    --health-addr="$operator_addr" --metrics-addr="$operator_addr" \
    --gitea-url="$GITEA_URL" --gitea-secret="$system/gitea" --gitea-organization=rdev \
    --postgres-admin-secret="$system/postgres-admin" --redis-admin-secret="$system/redis-admin" \
    --worker-namespace="$system" --shim-namespace="$system"
  wait_for operator 60 curl -sf "http://$operator_addr/readyz" -o /dev/null

  step "worker (log: $dir/logs/worker.log)"
  stop worker
  start worker node "$root/bin/rdev.js" worker --kubeconfig "$dir/kubeconfig" --name=dev-1 \
    --lease-namespace="$system" --health-addr="$worker_addr" --output-host=127.0.0.1 \
    --output-token-file="$dir/dev-output-token" "${agent[@]}"
  wait_for worker 60 curl -sf "http://$worker_addr/readyz" -o /dev/null

  step "shim on http://$shim_addr (log: $dir/logs/shim.log)"
  stop shim
  # shellcheck disable=SC1090
  (. "$env_file"; export RDEV_BOOTSTRAP_KEY=$RDEV_KEY; start shim node "$root/bin/rdev.js" shim \
    --kubeconfig "$dir/kubeconfig" --listen="$shim_addr" --namespace="$system" \
    --default-namespace=default --worker-output-token-file="$dir/dev-output-token")
  wait_for shim 60 curl -sf "http://$shim_addr/ready" -o /dev/null

  step "the Project shop (repository, database, cache) in namespace default"
  if ! kubectl get secret anthropic >/dev/null 2>&1; then
    # A placeholder unless ANTHROPIC_API_KEY is set: the test agent needs none.
    printf 'ANTHROPIC_API_KEY=%s\n' "${ANTHROPIC_API_KEY:-not-a-key}" >"$dir/anthropic.env"
    kubectl create secret generic anthropic --from-env-file="$dir/anthropic.env" >/dev/null
    rm -f "$dir/anthropic.env"
    echo "secret/anthropic created"
  fi
  kubectl apply -f - <<EOF
apiVersion: rdev.dev/v1alpha1
kind: Project
metadata:
  name: shop
  namespace: default
spec:
  agent: {provider: claude-code, credentialsSecretRef: {name: anthropic}}
  database: {enabled: true, deletionPolicy: Delete}
  cache: {enabled: true}
EOF
  kubectl wait --for=condition=Ready project/shop --timeout=180s

  step "an agent WorkItem, posted through the shim"
  local posted item
  posted=$(shim_curl "http://$shim_addr/projects/shop/work" \
    -d '{"spec":{"type":"agent","prompt":"Add a greeting to the docs\nwrite docs/hello.md: Hello from rdev"}}')
  item=$(printf '%s' "$posted" | node -e 'let s="";process.stdin.on("data",c=>s+=c).on("end",()=>console.log(JSON.parse(s).data.name))')
  echo "workitem/$item posted; waiting for its pull request"
  local url=''
  for _ in $(seq 180); do
    url=$(kubectl get workitem "$item" -o jsonpath='{.status.git.pullRequest.url}' 2>/dev/null || true)
    [ -n "$url" ] && break
    [ "$(kubectl get workitem "$item" -o jsonpath='{.status.phase}')" = Failed ] &&
      die "workitem/$item failed: $(kubectl get workitem "$item" -o jsonpath='{.status.message}')"
    sleep 1
  done
  [ -n "$url" ] || die "workitem/$item has no pull request after 180 s (kubectl describe workitem $item)"
  echo "pull request: $url"

  printf '\nrdev is running: the shim on http://%s, Gitea on %s.\n' "$shim_addr" "$GITEA_URL"
  printf 'Load the key (never printed) and talk to the shim:\n'
  printf '  source %s\n' "$env_file"
  printf '  curl -H "Authorization: Bearer $RDEV_KEY" $RDEV_URL/projects\n'
  printf '  curl -H "Authorization: Bearer $RDEV_KEY" -H content-type:application/json $RDEV_URL/projects/shop/work -d %s\n' \
    "'{\"spec\":{\"type\":\"agent\",\"prompt\":\"write docs/more.md: more\"}}'"
  printf '  curl -N -H "Authorization: Bearer $RDEV_KEY" $RDEV_URL/work/%s/logs\n' "$item"
  printf 'The pull request just made: %s\n' "$url"
  printf 'kubectl: export KUBECONFIG=%s PATH=%s:$PATH; kubectl get rdev\n' "$dir/kubeconfig" "$dir/bin"
  printf 'Stop everything this started: make dev-down\n'
}

cmd_down() {
  stop shim
  stop worker
  stop operator
  if grep -qx services "$started" 2>/dev/null; then "$here/services.sh" down; fi
  if grep -qx cluster "$started" 2>/dev/null; then "$here/cluster.sh" down; fi
  rm -f "$started"
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
