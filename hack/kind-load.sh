#!/usr/bin/env bash
# Loads the images `make images` built into the nodes of a kind cluster (make kind-up runs it,
# make kind-load alone), under the references their archives are named with
# (operator/src/images.ts): what the operator's defaults and the chart's default values name, so
# Pods find them there without a registry (their tags are versions, so imagePullPolicy defaults
# to IfNotPresent).
#
#   hack/kind-load.sh [CLUSTER]     (default: rdev, as hack/kind.yaml names it)
#
# `kind load image-archive` takes what `docker save` writes (a docker-archive), so each OCI archive
# is converted first with `skopeo copy oci-archive:… docker-archive:…:<reference>`, into a
# temporary directory. The images keep their names, not their manifests' digests (containerd
# imports a docker-archive as a manifest of its own): install the chart without *.digest values
# on kind. Needs kind and skopeo.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
dir=${RDEV_IMAGES_DIR:-$root/.cluster/images}
cluster=${1:-rdev}
log_prefix=kind-load
# shellcheck source=lib.sh
. "$here/lib.sh"

names=(rdev workspace-claude-code workspace-opencode)
missing=()
for n in "${names[@]}"; do [ -s "$dir/$n.tar" ] || missing+=("$n"); done
[ ${#missing[@]} -eq 0 ] ||
  die "no image archive of ${missing[*]} in $dir: run \`make images\` first (Linux, as root), then \`make kind-load\`"
command -v kind >/dev/null || die "kind is required (https://kind.sigs.k8s.io)"
command -v skopeo >/dev/null || die "skopeo is required to convert the OCI archives for kind (e.g. apt-get install skopeo)"
PATH="$("$here/ensure-node.sh"):$PATH"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rdev-kind-load.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
for n in "${names[@]}"; do
  ref=$(tar -xOf "$dir/$n.tar" ./index.json | node -e 'const i = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const refs = i.manifests.map((m) => m.annotations?.["org.opencontainers.image.ref.name"]);
    if (refs.length !== 1 || !refs[0]?.includes("/")) process.exit(1);
    console.log(refs[0]);') || die "$n.tar names no image: build it again with make images"
  log "loading $ref into kind cluster $cluster"
  skopeo copy --quiet "oci-archive:$dir/$n.tar:$ref" "docker-archive:$tmp/$n.tar:$ref"
  kind load image-archive "$tmp/$n.tar" --name "$cluster"
  rm -f "$tmp/$n.tar"
done
