#!/usr/bin/env bash
# Throwaway PostgreSQL and Redis for development and the integration tests: loopback only,
# random non-default ports, data in a temp dir, admin passwords generated per start.
#
#   hack/services.sh up      start what is not running; write $dir/services.env
#   hack/services.sh down    stop them and delete their data
#   hack/services.sh status
#
# services.env holds DATABASE_ADMIN_URL and REDIS_ADMIN_URL (with credentials: mode 600).
# Missing server packages are installed with apt when running as root; otherwise the
# script names what to install.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
dir=${RDEV_SERVICES_DIR:-$root/.cluster/services}
env_file=$dir/services.env
log_prefix=services
# shellcheck source=lib.sh
. "$here/lib.sh"

pg_bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

apt_install() { # apt_install <package…>
  [ "$(id -u)" = 0 ] || die "missing $*: install it (e.g. sudo apt-get install -y $*) and run again"
  command -v apt-get >/dev/null || die "missing $*: install it with your package manager and run again"
  log "installing $* with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  mkdir -p "$dir"
  # policy-rc.d keeps the packages' own init scripts from starting system-wide servers.
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@"; } >"$dir/apt.log" 2>&1 ||
    { rm -f /usr/sbin/policy-rc.d; tail -n 20 "$dir/apt.log" >&2; die "apt-get install $* failed (log: $dir/apt.log)"; }
  rm -f /usr/sbin/policy-rc.d
}

ensure_packages() {
  local need=()
  pg_bindir >/dev/null || need+=(postgresql)
  command -v redis-server >/dev/null || need+=(redis-server)
  [ ${#need[@]} -eq 0 ] || apt_install "${need[@]}"
}

secret() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# PostgreSQL refuses to run as root: as root, its files belong to and it runs as `postgres`
# (setpriv execs in place, so the recorded pid is the server's own).
as_pg=()
[ "$(id -u)" != 0 ] || as_pg=(setpriv --reuid=postgres --regid=postgres --init-groups --)

pg_ready() { "$(pg_bindir)/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; }
redis_ready() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --no-auth-warning -a "$REDIS_PASSWORD" ping 2>/dev/null | grep -q PONG; }

# The servers, started from the settings in services.env (also to restart one that was stopped).
start_postgres() {
  (cd / && start postgres "${as_pg[@]}" "$(pg_bindir)/postgres" -D "$SERVICES_DATA/pg/data" -h 127.0.0.1 \
    -p "$PG_PORT" -k "$SERVICES_DATA/pg" -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
    -c max_connections=200)
  wait_for postgres 60 pg_ready
}
start_redis() {
  start redis redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --protected-mode yes \
    --save '' --appendonly no --dir "$SERVICES_DATA" --requirepass "$REDIS_PASSWORD"
  wait_for redis 30 redis_ready
}

cmd_up() {
  mkdir -p "$dir"
  if [ -s "$env_file" ] && running postgres && running redis; then
    log "already up"; echo "$env_file"; return
  fi
  ensure_packages
  cmd_down 2>/dev/null # a half-up state is simplest to replace: the data is throwaway
  local data; data=$(mktemp -d "${TMPDIR:-/tmp}/rdev-services.XXXXXX")
  chmod 755 "$data"
  : >"$env_file.tmp"; chmod 600 "$env_file.tmp"
  PG_PORT=$(free_port "$env_file.tmp"); echo "PG_PORT=$PG_PORT" >>"$env_file.tmp"
  REDIS_PORT=$(free_port "$env_file.tmp")
  PG_PASSWORD=$(secret); REDIS_PASSWORD=$(secret)

  local bin; bin=$(pg_bindir)
  mkdir -p "$data/pg"
  printf '%s\n' "$PG_PASSWORD" >"$data/pg-password"
  if [ "$(id -u)" = 0 ]; then chown -R postgres: "$data/pg" "$data/pg-password"; fi
  "${as_pg[@]}" "$bin/initdb" -D "$data/pg/data" -U rdev_admin --pwfile="$data/pg-password" \
    --auth=scram-sha-256 --encoding=UTF8 --no-instructions >"$dir/initdb.log" 2>&1 ||
    die "initdb failed: see $dir/initdb.log"
  rm -f "$data/pg-password"
  cat >>"$env_file.tmp" <<EOF
REDIS_PORT=$REDIS_PORT
REDIS_PASSWORD=$REDIS_PASSWORD
SERVICES_DATA=$data
DATABASE_ADMIN_URL=postgres://rdev_admin:$PG_PASSWORD@127.0.0.1:$PG_PORT/postgres
REDIS_ADMIN_URL=redis://default:$REDIS_PASSWORD@127.0.0.1:$REDIS_PORT
EOF
  # shellcheck disable=SC1090
  . "$env_file.tmp"
  start_postgres
  start_redis
  mv "$env_file.tmp" "$env_file"
  log "up: PostgreSQL on 127.0.0.1:$PG_PORT, Redis on 127.0.0.1:$REDIS_PORT (credentials in $env_file)"
  echo "$env_file"
}

cmd_down() {
  stop redis
  stop postgres
  if [ -s "$env_file" ]; then
    local data; data=$(sed -n 's/^SERVICES_DATA=//p' "$env_file")
    case $data in "${TMPDIR:-/tmp}"/rdev-services.*) rm -rf "$data" ;; esac
  fi
  rm -f "$env_file"
}

cmd_status() {
  local ok=0
  for s in postgres redis; do
    if running "$s"; then echo "$s: running (pid $(pid_of "$s"))"; else echo "$s: stopped"; ok=1; fi
  done
  return $ok
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  stop-component) stop "$2" ;; # the fault tests stop PostgreSQL or Redis, then start it again
  start-component)
    # shellcheck disable=SC1090
    . "$env_file"
    running "$2" || "start_$2" ;;
  *) echo "usage: $0 up|down|status|stop-component NAME|start-component NAME" >&2; exit 2 ;;
esac
