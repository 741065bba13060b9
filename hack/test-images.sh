#!/usr/bin/env bash
# Smoke test of the images hack/build-images.sh writes (make images first; make test-images does).
# For each image: the reference it is named with (operator/src/images.ts); its config as skopeo
# reads the archive (user, entrypoint, working directory, labels, the digest build-images
# printed); then its root file system, unpacked by umoci, runs
# commands in a chroot, in mount and PID namespaces of their own (unshare), as the user and with
# the environment and working directory of the runtime config umoci derives from the image:
# `id`, `node --version`, and per image `rdev --help` or git, ssh, npm and the agent's CLI.
#
#   hack/test-images.sh [NAME…]     (default: all three)
#
# Prints one line per check and ends with "N passed, N failed". Needs root (chroot, mounts);
# skopeo and umoci are installed with apt when missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=versions.env
. "$here/versions.env"
dir=${RDEV_IMAGES_DIR:-$root/.cluster/images}
log_prefix=test-images
# shellcheck source=lib.sh
. "$here/lib.sh"

all=(rdev workspace-claude-code workspace-opencode)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=("${all[@]}")

[ "$(uname -s)" = Linux ] || die "the image tests need Linux (chroot, namespaces)"
[ "$(id -u)" = 0 ] || die "the image tests need root: they unpack the images with their files' owners and run commands in a chroot within new mount and PID namespaces"
{ command -v unshare && command -v chroot; } >/dev/null || die "unshare and chroot (util-linux, coreutils) are required"
need=()
command -v skopeo >/dev/null || need+=(skopeo)
command -v umoci >/dev/null || need+=(umoci)
[ ${#need[@]} -eq 0 ] || apt_install "${need[@]}"
unshare --mount --pid --fork true 2>/dev/null ||
  die "cannot create mount and PID namespaces here (unshare --mount --pid --fork failed): a container without CAP_SYS_ADMIN cannot run the image tests"
PATH="$("$here/ensure-node.sh"):$PATH"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rdev-test-images.XXXXXX")
# The namespaces' mounts end with them, so nothing below $tmp is mounted any more.
trap 'rm -rf "$tmp"' EXIT

# js <expression of o>: evaluates it on the JSON read from stdin; strings print as they are
js() {
  node -e 'const o = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const v = eval(process.argv[1]);
    console.log(typeof v === "string" ? v : JSON.stringify(v));' "$1"
}

passed=0 failed=0
# check <image> <what> <regex> <actual>
check() {
  if [[ $4 =~ $3 ]]; then
    passed=$((passed + 1))
    echo "ok    $1: $2: $(head -n 1 <<<"$4")"
  else
    failed=$((failed + 1))
    echo "FAIL  $1: $2: expected /$3/, got: $4"
  fi
}

# in_image <rootfs> <user> <cwd> <command…>: runs it chrooted into <rootfs> with /proc, /dev and a
# fresh /tmp, as <user> (uid:gid) in <cwd>, with the image's environment only ($image_env).
in_image() {
  local rootfs=$1 user=$2 cwd=$3
  shift 3
  # shellcheck disable=SC2016 # expanded by the inner shells
  timeout 120 unshare --mount --pid --fork --kill-child -- bash -c '
    set -e
    r=$1 user=$2 cwd=$3; shift 3
    mount -t proc proc "$r/proc"
    mount --bind /dev "$r/dev"
    mount -t tmpfs -o mode=1777 tmpfs "$r/tmp"
    exec chroot --userspec="$user" --groups="${user#*:}" "$r" /bin/sh -c "cd \"\$0\" && exec \"\$@\"" "$cwd" "$@"
  ' _ "$rootfs" "$user" "$cwd" env -i "${image_env[@]}" "$@" 2>&1
}

revision=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)

# shellcheck disable=SC2016 # commands in single quotes are expanded by the images' shells
for name in "${names[@]}"; do
  archive=$dir/$name.tar
  [ -s "$archive" ] || die "$archive is missing: run make images first"
  log "$name"

  # The archive names its one image with the reference the operator and the chart default to.
  ref=$(node --input-type=module -e 'const { IMAGES } = await import(process.argv[1]);
    console.log(IMAGES[process.argv[2]] ?? "");' "$root/operator/src/images.ts" "$name")
  check "$name" "named $ref (OCI and containerd annotations)" "^${ref//./\\.} ${ref//./\\.}\$" \
    "$(tar -xOf "$archive" ./index.json | js 'o.manifests.map((m) => m.annotations["org.opencontainers.image.ref.name"] + " " + m.annotations["io.containerd.image.name"]).join(", ")')"

  # The image config, as a registry client reads it.
  config=$(skopeo inspect --config "oci-archive:$archive:$ref")
  check "$name" "config User" '^10001:10001$' "$(js o.config.User <<<"$config")"
  case $name in
    rdev)
      check "$name" "config Entrypoint, Cmd" '^\["node","bin/rdev.js"\] \["--help"\]$' \
        "$(js o.config.Entrypoint <<<"$config") $(js o.config.Cmd <<<"$config")"
      check "$name" "config WorkingDir" '^/app$' "$(js o.config.WorkingDir <<<"$config")" ;;
    *)
      check "$name" "config Entrypoint" '^\["sleep","infinity"\]$' "$(js o.config.Entrypoint <<<"$config")"
      check "$name" "config WorkingDir" '^/workspace$' "$(js o.config.WorkingDir <<<"$config")"
      check "$name" "config Env HOME" '"HOME=/home/agent"' "$(js o.config.Env <<<"$config")" ;;
  esac
  check "$name" "label org.opencontainers.image.revision" "^$revision(-dirty)?$" \
    "$(js 'o.config.Labels["org.opencontainers.image.revision"]' <<<"$config")"
  if [ -s "$dir/$name.digest" ]; then
    check "$name" "manifest digest as printed by make images" "^$(cat "$dir/$name.digest")$" \
      "$(skopeo inspect "oci-archive:$archive:$ref" | js o.Digest)"
  fi

  # The root file system, and the runtime config (user, env, cwd, args) umoci derives from it.
  mkdir -p "$tmp/$name/oci"
  tar -xf "$archive" -C "$tmp/$name/oci"
  umoci unpack --image "$tmp/$name/oci:$ref" "$tmp/$name/bundle" >/dev/null
  rootfs=$tmp/$name/bundle/rootfs
  runtime=$(cat "$tmp/$name/bundle/config.json")
  user="$(js o.process.user.uid <<<"$runtime"):$(js o.process.user.gid <<<"$runtime")"
  cwd=$(js o.process.cwd <<<"$runtime")
  mapfile -t image_env < <(js 'o.process.env.join("\n")' <<<"$runtime")
  mapfile -t args < <(js 'o.process.args.join("\n")' <<<"$runtime")
  check "$name" "runtime user" '^10001:10001$' "$user"

  check "$name" "id -u" '^10001$' "$(in_image "$rootfs" "$user" "$cwd" id -u)"
  check "$name" "id -g" '^10001$' "$(in_image "$rootfs" "$user" "$cwd" id -g)"
  check "$name" "node --version" "^v$NODE_VERSION\$" "$(in_image "$rootfs" "$user" "$cwd" node --version)"
  check "$name" "CA certificates" '^ok$' \
    "$(in_image "$rootfs" "$user" "$cwd" sh -c 'test -s /etc/ssl/certs/ca-certificates.crt && echo ok')"
  case $name in
    rdev)
      help=$(in_image "$rootfs" "$user" "$cwd" rdev --help || true)
      for cmd in operator shim worker; do
        check "$name" "rdev --help lists $cmd" "(^|[[:space:]])$cmd([[:space:]]|$)" "$(grep -E "^[[:space:]]+$cmd([[:space:]]|$)" <<<"$help" || echo "$help")"
      done
      # The image's own entrypoint and command (node bin/rdev.js --help, in /app).
      check "$name" "entrypoint ${args[*]}" 'operator' "$(in_image "$rootfs" "$user" "$cwd" "${args[@]}" | grep -E '^[[:space:]]+operator' || true)"
      ;;
    *)
      case $name in
        workspace-claude-code) cli=claude version=$CLAUDE_CODE_VERSION ;;
        workspace-opencode) cli=opencode version=$OPENCODE_VERSION ;;
      esac
      check "$name" "git --version" '^git version ' "$(in_image "$rootfs" "$user" "$cwd" git --version)"
      check "$name" "ssh -V" '^OpenSSH_' "$(in_image "$rootfs" "$user" "$cwd" ssh -V)"
      check "$name" "npm --version" "^$NPM_VERSION\$" "$(in_image "$rootfs" "$user" "$cwd" npm --version)"
      check "$name" "$cli --version" "(^|[^0-9.])${version//./\\.}([^0-9.]|\$)" \
        "$(in_image "$rootfs" "$user" "$cwd" "$cli" --version | tail -n 1)"
      check "$name" "HOME and the working directory are the user's" '^/home/agent /workspace ok$' \
        "$(in_image "$rootfs" "$user" "$cwd" sh -c 'touch "$HOME/.probe" .probe && echo "$HOME $PWD ok"')"
      # The entrypoint keeps the container up: still running when timeout stops it.
      status=0
      in_image "$rootfs" "$user" "$cwd" timeout 2 "${args[@]}" >/dev/null || status=$?
      check "$name" "entrypoint ${args[*]} keeps running" '^124$' "$status"
      ;;
  esac
  rm -rf "${tmp:?}/$name"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
