#!/usr/bin/env bash
# Builds kubernetes-sigs/agent-sandbox's controller from its Go module through the module proxy,
# once, into a cache outside the checkout, beside its CRDs (core and extensions) taken from the
# same module. Used by the peer bench (make bench-peers). Prints the directory holding
#   agent-sandbox-controller   the controller binary
#   crds/*.yaml                its CustomResourceDefinitions, as the module ships them
# Safe to run concurrently (flock). AGENT_SANDBOX_VERSION in hack/versions.env pins the release.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"
version=$AGENT_SANDBOX_VERSION
module=sigs.k8s.io/agent-sandbox

cache=${RDEV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rdev}
out="$cache/agent-sandbox-$version"
complete() { [ -x "$out/agent-sandbox-controller" ] && compgen -G "$out/crds/*.yaml" >/dev/null; }
if complete; then echo "$out"; exit 0; fi

mkdir -p "$out"
exec 9>"$out/.build.lock"
flock 9
if complete; then echo "$out"; exit 0; fi

command -v go >/dev/null || { echo "build-agent-sandbox: Go is required (https://go.dev/dl); none found on PATH" >&2; exit 1; }
log() { echo "build-agent-sandbox: $*" >&2; }
export CGO_ENABLED=0 GOFLAGS=-mod=mod
work=$(mktemp -d "$out/build.XXXXXX")
trap 'rm -rf "$work"' EXIT

if [ ! -x "$out/agent-sandbox-controller" ]; then
  log "building $module/cmd/agent-sandbox-controller@$version (once; a few minutes)"
  # A wrapper module rather than `go install …@version`: the install looks up the module's
  # deprecation through the proxy's version list, which the proxy may refuse (403).
  mkdir -p "$work/build" && cd "$work/build"
  go mod init local/agentsandboxbuild >/dev/null 2>&1
  cat > tools.go <<'GO'
//go:build tools

package tools

import _ "sigs.k8s.io/agent-sandbox/cmd/agent-sandbox-controller"
GO
  go mod edit -require="$module@$version"
  go mod tidy >&2
  go build -tags tools -trimpath -ldflags "-s -w" -o "$out/agent-sandbox-controller.tmp" "$module/cmd/agent-sandbox-controller" >&2
  mv "$out/agent-sandbox-controller.tmp" "$out/agent-sandbox-controller"
  cd "$here"
fi

if ! compgen -G "$out/crds/*.yaml" >/dev/null; then
  src=$(go mod download -json "$module@$version" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  [ -d "$src" ] || { log "no module directory for $module@$version"; exit 1; }
  # Every CRD the module ships (k8s/crds/: Sandbox, and the extensions' SandboxClaim,
  # SandboxTemplate, SandboxWarmPool), found by kind rather than by path.
  mkdir -p "$work/crds"
  grep -rl --include='*.yaml' '^kind: CustomResourceDefinition' "$src/k8s" | while read -r f; do
    cp "$f" "$work/crds/$(basename "$f")"
  done
  compgen -G "$work/crds/*.yaml" >/dev/null || { log "no CRDs found under $src/k8s"; exit 1; }
  rm -rf "$out/crds" && mv "$work/crds" "$out/crds"
fi

complete || { log "something is missing from $out"; exit 1; }
echo "$out"
