#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl and kwok from pinned Go
# modules through the module proxy, once, into a cache outside the checkout.
# Prints the directory that holds the binaries. Safe to run concurrently (flock).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"

cache=${RDEV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rdev}
out="$cache/plane/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION"
mkdir -p "$cache/plane"
exec 9>"$cache/plane/.build.lock"
flock 9

want=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok)
# Besides the binaries: kwok's stages and the CRD of its per-Pod Exec (added later: a cache made
# before it lacks the file, so complete() fails and the build below adds just that).
data=(kwok-stages.yaml kwok-crd-execs.yaml)
complete() {
  for b in "${want[@]}"; do [ -x "$out/$b" ] || return 1; done
  for f in "${data[@]}"; do [ -s "$out/$f" ] || return 1; done
}
if complete; then echo "$out"; exit 0; fi

command -v go >/dev/null || { echo "build-plane: Go is required (https://go.dev/dl); none found on PATH" >&2; exit 1; }
export CGO_ENABLED=0 GOFLAGS=-mod=mod
mkdir -p "$out"
work=$(mktemp -d "$cache/plane/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
log() { echo "build-plane: $*" >&2; }

if [ ! -x "$out/etcd" ]; then
  log "etcd $ETCD_VERSION"
  mkdir -p "$work/etcd" && cd "$work/etcd"
  go mod init local/etcdbuild >/dev/null 2>&1
  cat > main.go <<'GO'
// Wrapper main: etcd's own module carries replace lines that `go install` refuses.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2
  go mod tidy >&2
  go build -trimpath -ldflags "-s -w" -o "$out/etcd.tmp" . && mv "$out/etcd.tmp" "$out/etcd"
fi

if [ ! -x "$out/kwok" ]; then
  log "kwok $KWOK_VERSION"
  GOBIN="$work/kwokbin" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" >&2
  mv "$work/kwokbin/kwok" "$out/kwok"
fi
if [ ! -s "$out/kwok-stages.yaml" ]; then
  # kwok's "fast" stages (node ready + lease heartbeat, pod ready/complete/delete), as one file
  # so the plane does not depend on the module cache staying around.
  stages="$(go env GOMODCACHE)/sigs.k8s.io/kwok@$KWOK_VERSION/kustomize/stage"
  [ -d "$stages" ] || go mod download "sigs.k8s.io/kwok@$KWOK_VERSION" >&2
  for f in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
           pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
    echo "---"; cat "$stages/$f.yaml"
  done > "$out/kwok-stages.yaml.tmp" && mv "$out/kwok-stages.yaml.tmp" "$out/kwok-stages.yaml"
fi
if [ ! -s "$out/kwok-crd-execs.yaml" ]; then
  # The Exec kind (per-Pod exec settings: the Pod's environment, see hack/kwok-env.ts), which kwok
  # reads from the API server with --enable-crds=Exec.
  crds="$(go env GOMODCACHE)/sigs.k8s.io/kwok@$KWOK_VERSION/kustomize/crd/bases"
  [ -d "$crds" ] || go mod download "sigs.k8s.io/kwok@$KWOK_VERSION" >&2
  cp "$crds/kwok.x-k8s.io_execs.yaml" "$out/kwok-crd-execs.yaml.tmp" && mv "$out/kwok-crd-execs.yaml.tmp" "$out/kwok-crd-execs.yaml"
fi

if ! complete; then
  log "kubernetes $K8S_VERSION (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl)"
  mkdir -p "$work/k8s" && cd "$work/k8s"
  go mod init local/kbuild >/dev/null 2>&1
  # k8s.io/kubernetes replaces its staging modules with ./staging paths the module zip lacks:
  # point each at the published module of the matching staging version instead.
  mod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  for m in $(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/.*#\1#p' "$mod"); do
    go mod edit -replace="$m=$m@$K8S_STAGING_VERSION"
  done
  go mod edit -require="k8s.io/kubernetes@$K8S_VERSION"
  cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  go mod tidy -e >&2 || true
  minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  ld="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
  ld="$ld -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
  # One binary at a time: each link needs ~2 GiB and the machine may have little to spare.
  for cmd in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    [ -x "$out/$cmd" ] && continue
    log "  go build $cmd"
    go build -tags tools -trimpath -ldflags "$ld" -o "$out/$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd" >&2
    mv "$out/$cmd.tmp" "$out/$cmd"
  done
fi

complete || { log "some binaries are missing from $out"; exit 1; }
echo "$out"
