#!/usr/bin/env bash
# Prints a directory holding a `node` new enough for rdev (>= 22.19), for the caller to put
# first on PATH. A system Node that is new enough wins; otherwise the pinned Node from the
# npm registry package node-<os>-<arch> is installed once into the cache.
#
#   hack/ensure-node.sh            the system's Node when new enough, else the pinned one
#   hack/ensure-node.sh --pinned   always the pinned NODE_VERSION (the images ship it)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"

new_enough() { # major.minor >= 22.19
  local v; v=$("$1" -p 'process.versions.node' 2>/dev/null) || return 1
  local major=${v%%.*} rest=${v#*.}; local minor=${rest%%.*}
  [ "$major" -gt 22 ] || { [ "$major" -eq 22 ] && [ "$minor" -ge 19 ]; }
}

if [ "${1:-}" != --pinned ] && command -v node >/dev/null && new_enough "$(command -v node)"; then
  dirname "$(command -v node)"; exit 0
fi

case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) echo "ensure-node: unsupported OS $(uname -s)" >&2; exit 1 ;; esac
case "$(uname -m)" in x86_64|amd64) arch=x64 ;; aarch64|arm64) arch=arm64 ;; *) echo "ensure-node: unsupported CPU $(uname -m)" >&2; exit 1 ;; esac
cache=${RDEV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rdev}
dir="$cache/node/$NODE_VERSION-$os-$arch"
if [ ! -x "$dir/bin/node" ]; then
  command -v npm >/dev/null || { echo "ensure-node: Node >= 22.19 is required; install it, or install npm so that it can be fetched" >&2; exit 1; }
  mkdir -p "$cache/node"
  tmp=$(mktemp -d "$cache/node/dl.XXXXXX"); trap 'rm -rf "$tmp"' EXIT
  echo "ensure-node: fetching node-$os-$arch@$NODE_VERSION from the npm registry" >&2
  (cd "$tmp" && npm pack --silent "node-$os-$arch@$NODE_VERSION" >/dev/null)
  tar -xzf "$tmp"/node-*.tgz -C "$tmp"
  rm -rf "$dir" && mv "$tmp/package" "$dir"
fi
new_enough "$dir/bin/node" || { echo "ensure-node: $dir/bin/node does not run" >&2; exit 1; }
echo "$dir/bin"
