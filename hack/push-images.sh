#!/usr/bin/env bash
# Pushes the archives `make images` wrote (hack/build-images.sh) to their registry as they are:
# skopeo copies each archive's image, keeping its manifest, so the registry serves the digests
# `make images` printed (--preserve-digests fails the copy rather than let one change). Nothing
# is rebuilt.
#
#   hack/push-images.sh [--release GIT_TAG] [--dry-run] [TAG…]
#
# Each image goes to its repository under every TAG given (e.g. the commit, "main"). With
# --release, also under the reference its archive is named with (operator/src/images.ts): the
# rdev image as rdev's version, the workspace images as their agent CLI's version. These are the
# references the operator and the chart default to; GIT_TAG must be v<rdev's version> (or the
# version itself), so a release never publishes another version's tags. --dry-run prints the
# copies instead of making them.
#
# Credentials: REGISTRY_USERNAME and REGISTRY_PASSWORD, when set, log skopeo in to the registry
# (the password from standard input); otherwise skopeo uses the logins it has.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
dir=${RDEV_IMAGES_DIR:-$root/.cluster/images}
log_prefix=push-images
# shellcheck source=lib.sh
. "$here/lib.sh"

release='' dry_run=false tags=()
while [ $# -gt 0 ]; do
  case $1 in
    --release) release=${2:?--release needs the git tag}; shift 2 ;;
    --dry-run) dry_run=true; shift ;;
    -*) die "unknown option $1" ;;
    *) tags+=("$1"); shift ;;
  esac
done
[ -n "$release" ] || [ ${#tags[@]} -gt 0 ] || die "nothing to push: give --release GIT_TAG and/or tags"
for t in "${tags[@]}"; do
  [[ $t =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || die "\"$t\" is not a valid tag"
done
command -v skopeo >/dev/null || die "skopeo is required (apt-get install skopeo)"
PATH="$("$here/ensure-node.sh"):$PATH"

if [ -n "$release" ]; then
  version=$(node -p 'require(process.argv[1]).version' "$root/package.json")
  [ "$release" = "v$version" ] || [ "$release" = "$version" ] ||
    die "git tag $release is not rdev's version $version (package.json): bump the version first"
fi

# The reference an archive's image is named with (build-images.sh writes it into index.json).
ref_of() {
  tar -xOf "$1" ./index.json | node -e 'const i = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const refs = i.manifests.map((m) => m.annotations?.["org.opencontainers.image.ref.name"]);
    if (refs.length !== 1 || !refs[0]?.includes("/")) process.exit(1);
    console.log(refs[0]);'
}

names=(rdev workspace-claude-code workspace-opencode)
for n in "${names[@]}"; do
  [ -s "$dir/$n.tar" ] || die "$dir/$n.tar is missing: run make images first"
done

if [ -n "${REGISTRY_USERNAME:-}" ] && ! $dry_run; then
  registries=()
  for n in "${names[@]}"; do
    ref=$(ref_of "$dir/$n.tar") || die "$n.tar names no image: build it again with make images"
    registries+=("${ref%%/*}")
  done
  for r in $(printf '%s\n' "${registries[@]}" | sort -u); do
    printf '%s' "${REGISTRY_PASSWORD:?REGISTRY_PASSWORD is not set}" |
      skopeo login --username "$REGISTRY_USERNAME" --password-stdin "$r" >/dev/null
  done
fi

for n in "${names[@]}"; do
  archive=$dir/$n.tar
  ref=$(ref_of "$archive") || die "$n.tar names no image: build it again with make images"
  repository=${ref%:*}
  destinations=()
  [ -z "$release" ] || destinations+=("$ref")
  for t in "${tags[@]}"; do destinations+=("$repository:$t"); done
  for d in "${destinations[@]}"; do
    if $dry_run; then
      echo "skopeo copy --preserve-digests oci-archive:$archive:$ref docker://$d"
    else
      log "pushing $n as $d"
      skopeo copy --quiet --preserve-digests "oci-archive:$archive:$ref" "docker://$d"
    fi
  done
  if [ -s "$dir/$n.digest" ]; then echo "$ref@$(cat "$dir/$n.digest")"; fi
done
