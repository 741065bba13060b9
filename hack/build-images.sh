#!/usr/bin/env bash
# Builds the project's images as OCI image archives, without Docker:
#
#   rdev                   the `rdev` CLI (operator, shim, worker): Node, the sources and their
#                          production dependencies; runs as 10001:10001
#   workspace-claude-code  the workspace and runner image of the claude-code agent: git,
#                          openssh-client, ca-certificates, Node, npm and `claude`; runs as
#                          10001:10001 with HOME=/home/agent in /workspace, `sleep infinity`
#   workspace-opencode     the same with `opencode`
#
# The root file systems come from Debian's packages (mmdebstrap, minbase), Node from the npm
# registry package node-linux-<arch> (as hack/ensure-node.sh installs it), npm and the agents'
# CLIs from the npm registry, all at the versions of hack/versions.env; umoci assembles the
# layers and the image config. The Dockerfile describes the same images for Docker users.
#
#   hack/build-images.sh [NAME…]     (default: all three)
#
# Writes $RDEV_IMAGES_DIR (default .cluster/images)/NAME.tar, an OCI archive: an OCI image layout
# whose one image is named with its reference (operator/src/images.ts: the workspace images tagged
# with their agent CLI's version, the rdev image with rdev's), in org.opencontainers.image.ref.name
# and, for containerd's import, io.containerd.image.name. Prints one line per image: NAME, its
# manifest digest, the archive's path; then each reference pinned by its digest and the chart's
# values that pin them (`--set image.digest=sha256:…`). The release pipeline pushes the archives
# as they are (hack/push-images.sh), so the registry serves the same digests.
#
# Layers are cached under ${XDG_CACHE_HOME:-~/.cache}/rdev/images by a hash of their inputs, the
# images' layers and config likewise: an unchanged image is not rebuilt, and a new commit that
# leaves an image's inputs alone only relabels it (org.opencontainers.image.revision). Debian's
# packages are those of the day a layer was built; delete the cache to take newer ones.
# Needs root: mmdebstrap's root mode, and layers that keep their files' owners. mmdebstrap and
# umoci are installed with apt when missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=versions.env
. "$here/versions.env"
dir=${RDEV_IMAGES_DIR:-$root/.cluster/images}
log_prefix=images
# shellcheck source=lib.sh
. "$here/lib.sh"

all=(rdev workspace-claude-code workspace-opencode)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=("${all[@]}")
for n in "${names[@]}"; do
  case " ${all[*]} " in *" $n "*) ;; *) die "unknown image $n (known: ${all[*]})" ;; esac
done

[ "$(uname -s)" = Linux ] || die "building images needs Linux (mmdebstrap); with Docker, use the Dockerfile"
[ "$(id -u)" = 0 ] || die "building images needs root: mmdebstrap builds the Debian root file systems in its root mode (chroot, mounts) and the layers keep their files' owners; run as root (a VM, a CI container), or use the Dockerfile with Docker"
case "$(uname -m)" in
  x86_64 | amd64) node_arch=x64 ;;
  aarch64 | arm64) node_arch=arm64 ;;
  *) die "unsupported CPU $(uname -m)" ;;
esac
need=()
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v umoci >/dev/null || need+=(umoci)
[ -s /usr/share/keyrings/debian-archive-keyring.gpg ] || need+=(debian-archive-keyring)
[ ${#need[@]} -eq 0 ] || apt_install "${need[@]}"
command -v npm >/dev/null || die "npm is required: Node, npm and the agents' CLIs come from the npm registry"
node_bin=$("$here/ensure-node.sh" --pinned) || die "fetching Node $NODE_VERSION failed"
node_dir=${node_bin%/bin}
export PATH="$node_bin:$PATH" # npm runs on the pinned Node too

# Debian's archive; set these to use a mirror of it. They are also the images' apt sources.
mirror=${RDEV_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${RDEV_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

cache=${RDEV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rdev}/images
mkdir -p "$cache/layers" "$cache/oci" "$dir"
exec 9>"$cache/.build.lock"
flock 9
tmp=$(mktemp -d "$cache/tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

hash() { sha256sum | cut -c1-20; }
# tree_hash <path…>: names, modes, link targets and contents of the files under <path…> (in $root)
tree_hash() {
  (
    cd "$root"
    find "$@" \( -type f -o -type l \) -printf '%m %p %l\n' | LC_ALL=C sort
    find "$@" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
  ) | hash
}

# prune <dir> <name> <kept>: the cache keeps one version of each layer and image, the newest
prune() {
  find "$1" -mindepth 1 -maxdepth 1 -regextype posix-extended -regex ".*/$2-[0-9a-f]{20}(\.tar)?" \
    ! -name "$3" -exec rm -rf {} +
}

# layer <name> <key> <builder> [args…]: the cached layer (an uncompressed tar); built when missing
# by `<builder> <staging dir> [args…]`, which fills the staging dir with the layer's files.
layer() {
  local name=$1 key=$2 builder=$3
  shift 3
  local file="$cache/layers/$name-$key.tar" stage="$tmp/$name"
  if [ ! -s "$file" ]; then
    log "building layer $name"
    rm -rf "$stage"
    "$builder" "$stage" "$@"
    tar -C "$stage" --sort=name --numeric-owner -cf "$file.tmp" . && mv "$file.tmp" "$file"
    rm -rf "$stage"
    prune "$cache/layers" "$name" "${file##*/}"
  fi
  echo "$file"
}

# A minimal Debian (minbase: dpkg, apt and the essential packages) with <packages>, without
# documentation, manual pages and translations (as Debian's slim images), and the image's user
# 10001:10001 with its home directory.
# build_debian <stage> <packages> <user> <home> <shell> [workdir]
# shellcheck disable=SC2016 # the hooks' "$1" is expanded by mmdebstrap's hook shell
build_debian() {
  local stage=$1 packages=$2 user=$3 home=$4 shell=$5 workdir=${6:-}
  local hooks=(
    --customize-hook="chroot \"\$1\" groupadd --gid 10001 $user"
    --customize-hook="chroot \"\$1\" useradd --uid 10001 --gid 10001 --home-dir $home --create-home --shell $shell $user"
    # The runtime provides these; an image's own would only hold the build host's.
    --customize-hook=': >"$1/etc/resolv.conf"; : >"$1/etc/hostname"'
  )
  [ -z "$workdir" ] || hooks+=(--customize-hook="install -d -o 10001 -g 10001 \"\$1$workdir\"")
  mmdebstrap --mode=root --variant=minbase --include="${packages// /,}" \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/lintian/*' \
    "${hooks[@]}" "$DEBIAN_SUITE" "$stage" \
    "deb $mirror $DEBIAN_SUITE main" "deb $mirror $DEBIAN_SUITE-updates main" \
    "deb $security_mirror $DEBIAN_SUITE-security main" >"$tmp/mmdebstrap.log" 2>&1 || {
    tail -n 20 "$tmp/mmdebstrap.log" >&2
    die "mmdebstrap failed: is $mirror reachable? (set RDEV_DEBIAN_MIRROR and RDEV_DEBIAN_SECURITY_MIRROR to a Debian mirror that is)"
  }
  # Device nodes stay out of the layer: the container runtime provides /dev.
  ! mountpoint -q "$stage/dev" || die "$stage/dev is still mounted after mmdebstrap"
  find "$stage/dev" -mindepth 1 -delete
}

# Node (the binary and its headers, for native addons) from the npm registry package, as
# hack/ensure-node.sh installs it; with npm when asked.
# build_node <stage> <with npm: yes|no>
build_node() {
  install -D -m 755 "$node_dir/bin/node" "$1/usr/local/bin/node"
  mkdir -p "$1/usr/local/include" && cp -a "$node_dir/include/node" "$1/usr/local/include/"
  [ "$2" = no ] || npm_global "$1" "npm@$NPM_VERSION"
}

# npm_global <stage> <package@version…>: installed as `npm install -g` would in the image
npm_global() {
  local stage=$1
  shift
  npm install --global --prefix "$stage/usr/local" --no-audit --no-fund --no-update-notifier \
    --loglevel=error "$@" >&2 || die "npm install -g $* failed"
  chown -R 0:0 "$stage/usr/local"
}

# rdev's sources, templates and production dependencies in /app (the Dockerfile's allow-list,
# .dockerignore), and `rdev` on PATH.
app_paths=(package.json package-lock.json bin operator/src api-shim/src templates)
build_app() {
  local stage=$1 p
  mkdir -p "$stage/app" "$stage/usr/local/bin"
  for p in "${app_paths[@]}"; do
    mkdir -p "$stage/app/$(dirname "$p")" && cp -a "$root/$p" "$stage/app/$p"
  done
  (cd "$stage/app" && npm ci --omit=dev --no-audit --no-fund --no-update-notifier --loglevel=error >&2) ||
    die "npm ci --omit=dev failed"
  chown -R 0:0 "$stage/app"
  ln -s /app/bin/rdev.js "$stage/usr/local/bin/rdev"
}

# The source revision the images are labelled with, and their creation time (its commit's).
revision=unknown created_epoch=${SOURCE_DATE_EPOCH:-}
if git -C "$root" rev-parse --verify -q HEAD >/dev/null 2>&1; then
  revision=$(git -C "$root" rev-parse HEAD)
  git -C "$root" diff --quiet HEAD -- 2>/dev/null || revision="$revision-dirty"
  [ -n "$created_epoch" ] || created_epoch=$(git -C "$root" log -1 --format=%ct HEAD)
fi
[ -n "$created_epoch" ] || created_epoch=$(date +%s)
created=$(date -u -d "@$created_epoch" +%Y-%m-%dT%H:%M:%SZ)

path_env=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# The references the images go by, "NAME REFERENCE" per line, from operator/src/images.ts (the
# operator's defaults): their tags must be the versions this script installs.
declare -A refs
while read -r n ref; do refs[$n]=$ref; done < <(node --input-type=module -e '
  const { IMAGES } = await import(process.argv[1]);
  for (const [name, ref] of Object.entries(IMAGES)) console.log(name, ref);' "$root/operator/src/images.ts")
rdev_version=$(node -p 'require(process.argv[1]).version' "$root/package.json")
for n in "${all[@]}"; do
  case $n in
    rdev) want=$rdev_version from=package.json ;;
    workspace-claude-code) want=$CLAUDE_CODE_VERSION from=hack/versions.env ;;
    workspace-opencode) want=$OPENCODE_VERSION from=hack/versions.env ;;
  esac
  [ "${refs[$n]:-}" != "" ] || die "operator/src/images.ts names no image $n"
  [ "${refs[$n]##*:}" = "$want" ] ||
    die "operator/src/images.ts tags $n ${refs[$n]##*:}, but $from says $want: bump both together"
done
script_hash=$(hash <"$0")

# assemble <name> <labels (k=v, comma-less, one per line)> <layer…> -- <umoci config args…>
# Writes $dir/<name>.tar, its image named ${refs[<name>]}, and prints "<name> <digest> <path>".
assemble() {
  local name=$1 labels=$2 ref=${refs[$1]}
  shift 2
  local layers=()
  while [ "$1" != -- ]; do layers+=("$1"); shift; done
  shift
  local base_key final_key base oci="$tmp/oci-$name" out="$dir/$name.tar"
  base_key=$(printf '%s\n' "$script_hash" "${layers[@]##*/}" "$@" | hash)
  final_key=$(printf '%s\n' "$base_key" "$labels" "$created" "$ref" | hash)
  if [ -s "$out" ] && [ "$(cat "$dir/$name.key" 2>/dev/null)" = "$final_key" ]; then
    echo "$name $(cat "$dir/$name.digest") $out"
    return
  fi
  base="$cache/oci/$name-$base_key"
  if [ ! -s "$base/index.json" ]; then
    log "assembling $name"
    rm -rf "$base.tmp"
    umoci init --layout "$base.tmp"
    umoci new --image "$base.tmp:latest"
    local l
    for l in "${layers[@]}"; do
      umoci raw add-layer --image "$base.tmp:latest" --history.created_by="rdev hack/build-images.sh: ${l##*/}" "$l"
    done
    umoci config --image "$base.tmp:latest" --no-history "$@"
    umoci gc --layout "$base.tmp"
    mv "$base.tmp" "$base"
    prune "$cache/oci" "$name" "${base##*/}"
  fi
  # The labels go on a copy: blobs are immutable and shared by hard links; index.json is not.
  rm -rf "$oci"
  cp -al "$base" "$oci"
  rm "$oci/index.json" && cp "$base/index.json" "$oci/index.json"
  local label_args=() kv
  while IFS= read -r kv; do [ -z "$kv" ] || label_args+=(--config.label "$kv"); done <<<"$labels"
  umoci config --image "$oci:latest" --no-history --created "$created" "${label_args[@]}"
  umoci gc --layout "$oci"
  # The only manifest the index holds after gc, named with the image's reference (the OCI
  # annotation, which skopeo and umoci read, and containerd's); its digest.
  local digest
  digest=$(node -e 'const fs = require("fs"), [file, ref] = process.argv.slice(1);
    const i = JSON.parse(fs.readFileSync(file, "utf8"));
    const m = i.manifests.filter((d) => d.annotations?.["org.opencontainers.image.ref.name"] === "latest");
    if (m.length !== 1 || i.manifests.length !== 1) process.exit(1);
    m[0].annotations = { "org.opencontainers.image.ref.name": ref, "io.containerd.image.name": ref };
    fs.writeFileSync(file, JSON.stringify(i));
    console.log(m[0].digest);' "$oci/index.json" "$ref") || die "$name: not one manifest tagged latest in $oci"
  tar -C "$oci" --sort=name --owner=0 --group=0 --numeric-owner -cf "$out.tmp" . && mv "$out.tmp" "$out"
  rm -rf "$oci"
  echo "$digest" >"$dir/$name.digest"
  echo "$final_key" >"$dir/$name.key"
  echo "$name $digest $out"
}

common_labels="org.opencontainers.image.revision=$revision
dev.rdev.node-version=$NODE_VERSION
dev.rdev.debian-suite=$DEBIAN_SUITE"

image_rdev() {
  local debian node app version
  debian=$(layer debian-rdev "$(printf '%s\n' "$DEBIAN_SUITE" "$mirror" "$security_mirror" "$(declare -f build_debian)" ca-certificates rdev | hash)" \
    build_debian "ca-certificates" rdev /home/rdev /usr/sbin/nologin)
  node=$(layer node "$(printf '%s\n' "$NODE_VERSION" "$node_arch" "$(declare -f build_node)" | hash)" build_node no)
  app=$(layer app "$(printf '%s\n' "$(tree_hash "${app_paths[@]}")" "$(declare -f build_app)" | hash)" build_app)
  version=$(node -p 'require(process.argv[1]).version' "$root/package.json")
  assemble rdev "$common_labels
org.opencontainers.image.title=rdev
org.opencontainers.image.description=rdev: the operator, the REST shim and the worker (rdev operator|shim|worker)
org.opencontainers.image.version=$version
org.opencontainers.image.licenses=Apache-2.0" \
    "$debian" "$node" "$app" -- \
    --config.user 10001:10001 --config.workingdir /app \
    --config.env "$path_env" --config.env HOME=/home/rdev --config.env NODE_ENV=production \
    --config.entrypoint node --config.entrypoint bin/rdev.js --config.cmd=--help
}

# image_workspace <name> <npm package> <version> <command>
image_workspace() {
  local name=$1 package=$2 version=$3 command=$4 debian node agent
  debian=$(layer debian-workspace "$(printf '%s\n' "$DEBIAN_SUITE" "$mirror" "$security_mirror" "$(declare -f build_debian)" "ca-certificates git openssh-client" agent /workspace | hash)" \
    build_debian "ca-certificates git openssh-client" agent /home/agent /bin/bash /workspace)
  node=$(layer node-npm "$(printf '%s\n' "$NODE_VERSION" "$NPM_VERSION" "$node_arch" "$(declare -f build_node npm_global)" | hash)" build_node yes)
  agent=$(layer "$name-cli" "$(printf '%s\n' "$package@$version" "$node_arch" "$(declare -f npm_global)" | hash)" npm_global "$package@$version")
  assemble "$name" "$common_labels
org.opencontainers.image.title=$name
org.opencontainers.image.description=rdev workspace and runner image of the $command agent ($package)
org.opencontainers.image.version=$version
dev.rdev.agent=$package@$version" \
    "$debian" "$node" "$agent" -- \
    --config.user 10001:10001 --config.workingdir /workspace \
    --config.env "$path_env" --config.env HOME=/home/agent \
    --config.entrypoint sleep --config.entrypoint infinity
}

built=()
for n in "${names[@]}"; do
  case $n in
    rdev) line=$(image_rdev) ;;
    workspace-claude-code) line=$(image_workspace "$n" @anthropic-ai/claude-code "$CLAUDE_CODE_VERSION" claude) ;;
    workspace-opencode) line=$(image_workspace "$n" opencode-ai "$OPENCODE_VERSION" opencode) ;;
  esac
  echo "$line"
  built+=("$line")
done

# Each reference pinned by its digest, and the chart's values that pin it. The digests are those
# the registry serves once the release pipeline pushed the archives (skopeo --preserve-digests).
echo
echo "pinned references:"
for line in "${built[@]}"; do
  read -r n digest _ <<<"$line"
  echo "  ${refs[$n]}@$digest"
done
echo "helm values (charts/rdev) pinning them:"
sets=()
for line in "${built[@]}"; do
  read -r n digest _ <<<"$line"
  case $n in
    rdev) sets+=("--set image.digest=$digest" "--set worker.image.digest=$digest") ;;
    workspace-claude-code) sets+=("--set providers.agentImages.claudeCode.digest=$digest") ;;
    workspace-opencode) sets+=("--set providers.agentImages.opencode.digest=$digest") ;;
  esac
done
for i in "${!sets[@]}"; do
  if [ "$i" -lt $((${#sets[@]} - 1)) ]; then echo "  ${sets[$i]} \\"; else echo "  ${sets[$i]}"; fi
done
