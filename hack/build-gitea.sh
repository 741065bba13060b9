#!/usr/bin/env bash
# Builds Gitea from its pinned Go module through the module proxy, once, into a cache outside the
# checkout, together with the templates/, options/ and public/ trees it reads at run time (built
# without the `bindata` tag, Gitea loads them from its static root, so the cache is self-contained
# and does not depend on the module cache staying around).
# Prints the directory that holds `gitea`. Safe to run concurrently (flock); a second run is a no-op.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
log_prefix=build-gitea
# shellcheck source=lib.sh
. "$here/lib.sh"

# The npm client gitea-js follows Gitea's major.minor: bump both together.
GITEA_VERSION=v1.23.8

cache=${RDEV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rdev}
out="$cache/gitea/$GITEA_VERSION"
mkdir -p "$cache/gitea"
exec 9>"$cache/gitea/.build.lock"
flock 9

complete() { [ -x "$out/gitea" ] && [ -d "$out/templates" ] && [ -d "$out/options/locale" ] && [ -d "$out/public" ]; }
if complete; then echo "$out"; exit 0; fi

command -v go >/dev/null || die "Go is required (https://go.dev/dl); none found on PATH"
# CGO off: a static binary without SQLite, which is fine since the services give Gitea PostgreSQL.
export CGO_ENABLED=0 GOFLAGS=-mod=mod
# Holding the lock, any build.* left here is from an interrupted run.
rm -rf "$cache/gitea"/build.*
work=$(mktemp -d "$cache/gitea/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

log "gitea $GITEA_VERSION (a few minutes the first time)"
mkdir -p "$work/mod" "$work/out"
cd "$work/mod"
go mod init local/giteabuild >/dev/null 2>&1
# Gitea's go.mod carries replace, exclude and godebug lines that only apply in the main module:
# without them the dependency graph resolves to forks' upstreams that no longer compile with Gitea,
# and the binary loses its relaxed x509 parsing. Repeat them here, from the go.mod of the pinned
# release (all are one-line directives there).
info=$(go mod download -json "code.gitea.io/gitea@$GITEA_VERSION")
gomod=$(sed -n 's/.*"GoMod": "\(.*\)".*/\1/p' <<<"$info")
src=$(sed -n 's/.*"Dir": "\(.*\)".*/\1/p' <<<"$info")
[ -s "$gomod" ] && [ -d "$src" ] || die "could not download code.gitea.io/gitea@$GITEA_VERSION"
grep -E '^(replace|exclude|godebug)[[:space:]]' "$gomod" | sort -u >>go.mod
# The main module's go line picks the GODEBUG defaults: keep Gitea's own, not the toolchain's.
go mod edit -go="$(sed -n 's/^go //p' "$gomod")" -require="code.gitea.io/gitea@$GITEA_VERSION"

# main.Version is what /api/v1/version reports (Gitea's Makefile sets it from the git tag).
go build -trimpath -ldflags "-s -w -X main.Version=${GITEA_VERSION#v}" -o "$work/out/gitea" code.gitea.io/gitea >&2
for d in templates options public; do
  cp -R "$src/$d" "$work/out/$d"
done
# The module cache's files and directories are read-only: writable copies can be deleted again
# (the cache itself, and the services' links to it) without a chmod first.
chmod -R u+w "$work/out"

# One rename moves the finished tree into place, so an interrupted build never leaves a half cache.
rm -rf "$out"
mv "$work/out" "$out"
complete || die "the build left an incomplete $out"
echo "$out"
