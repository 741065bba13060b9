#!/usr/bin/env bash
# Prints the path of a helm binary, building it once (cached) from its Go module through the module
# proxy, like hack/build-plane.sh builds the control plane: no download site is needed.
#
#   hack/helm.sh                       the binary's path on stdout (build progress on stderr)
#   "$(hack/helm.sh)" lint charts/rdev
#
# HELM_VERSION in hack/versions.env pins the release; the binary lives in
# ${RDEV_CACHE:-~/.cache/rdev}/helm-<version>/helm. Safe to run concurrently (flock).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"
version=$HELM_VERSION
major=${version%%.*} # v4 → module helm.sh/helm/v4

cache=${RDEV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rdev}
out="$cache/helm-$version"
bin="$out/helm"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi

mkdir -p "$out"
exec 9>"$out/.build.lock"
flock 9
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi

command -v go >/dev/null || { echo "helm.sh: Go is required (https://go.dev/dl); none found on PATH" >&2; exit 1; }
echo "helm.sh: building helm $version from helm.sh/helm/$major (once; a few minutes)" >&2
work=$(mktemp -d "$out/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Without the version ldflags helm reports v4.x-unreleased; with them `helm version` is the release's.
ld="-s -w -X helm.sh/helm/$major/internal/version.version=$version -X helm.sh/helm/$major/internal/version.metadata="
CGO_ENABLED=0 GOFLAGS=-mod=mod GOBIN="$work" \
  go install -trimpath -ldflags "$ld" "helm.sh/helm/$major/cmd/helm@$version" >&2
mv "$work/helm" "$bin"
"$bin" version >&2
echo "$bin"
