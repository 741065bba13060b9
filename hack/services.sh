#!/usr/bin/env bash
# Throwaway PostgreSQL, Redis and Gitea for development and the integration tests: loopback only,
# random non-default ports, data in a temp dir, admin passwords generated per start.
#
#   hack/services.sh up      start what is not running; write $dir/services.env
#   hack/services.sh down    stop them and delete their data
#   hack/services.sh status
#   hack/services.sh stop-component|start-component postgres|redis|gitea   (outage tests; data kept)
#
# services.env holds DATABASE_ADMIN_URL, REDIS_ADMIN_URL, GITEA_URL, GITEA_ADMIN_USER,
# GITEA_ADMIN_PASSWORD and GITEA_ADMIN_TOKEN (credentials: mode 600).
# Missing server packages are installed with apt when running as root; otherwise the
# script names what to install. Gitea is built from source once (hack/build-gitea.sh) and uses
# the PostgreSQL above as its database.
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

ensure_packages() {
  local need=()
  pg_bindir >/dev/null || need+=(postgresql)
  command -v redis-server >/dev/null || need+=(redis-server)
  command -v git >/dev/null || need+=(git) # Gitea runs git for every repository operation
  command -v curl >/dev/null || need+=(curl)
  [ ${#need[@]} -eq 0 ] || apt_install "${need[@]}"
}

secret() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# PostgreSQL refuses to run as root: as root, its files belong to and it runs as `postgres`
# (setpriv execs in place, so the recorded pid is the server's own).
as_pg=()
[ "$(id -u)" != 0 ] || as_pg=(setpriv --reuid=postgres --regid=postgres --init-groups --)

# Gitea refuses to run as root too: as root it runs as a system user of its own, created on first
# use, and owns its part of the data dir. Otherwise it runs as the invoking user.
gitea_user=$(id -un)
as_gitea=()
if [ "$(id -u)" = 0 ]; then
  gitea_user=rdev-gitea
  as_gitea=(setpriv --reuid="$gitea_user" --regid="$gitea_user" --init-groups --)
fi
gitea_admin=rdev-admin

pg_ready() { "$(pg_bindir)/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; }
redis_ready() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --no-auth-warning -a "$REDIS_PASSWORD" ping 2>/dev/null | grep -q PONG; }
gitea_ready() {
  running gitea || die "gitea exited (logs: $dir/logs/gitea.log, $SERVICES_DATA/gitea/log/gitea.log)"
  curl -fs -o /dev/null "http://127.0.0.1:$GITEA_PORT/api/v1/version"
}

# pg_admin <psql args…>: psql as the admin role; the password goes through the environment (never
# argv) and statements through stdin.
pg_admin() {
  PGPASSWORD=$(sed -E 's#^postgres://[^:]+:([^@]+)@.*#\1#' <<<"$DATABASE_ADMIN_URL") \
    "$(pg_bindir)/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U rdev_admin -d postgres "$@"
}

# gitea_cmd <gitea args…>: the linked binary as the Gitea user, with the services' config and work path
gitea_cmd() {
  local g=$SERVICES_DATA/gitea
  (cd "$g" && env HOME="$g/home" USER="$gitea_user" GITEA_WORK_DIR="$g" "${as_gitea[@]}" \
    "$g/app/gitea" --config "$g/app.ini" --work-path "$g" "$@")
}

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
start_gitea() {
  local g=$SERVICES_DATA/gitea
  # env and setpriv exec in place, so the recorded pid is Gitea's own.
  (cd "$g" && start gitea env HOME="$g/home" USER="$gitea_user" GITEA_WORK_DIR="$g" "${as_gitea[@]}" \
    "$g/app/gitea" --config "$g/app.ini" --work-path "$g" web)
  # The first start creates Gitea's schema, which takes a while on two cores.
  wait_for gitea 180 gitea_ready
}

ensure_gitea_user() {
  [ "$(id -u)" = 0 ] || return 0
  id -u "$gitea_user" >/dev/null 2>&1 && return
  command -v useradd >/dev/null || die "Gitea refuses to run as root: create a user $gitea_user and run again"
  log "creating the system user $gitea_user to run Gitea"
  useradd --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin "$gitea_user"
}

# setup_gitea <env file>: a fresh Gitea in $SERVICES_DATA/gitea (its role and database in the
# services' PostgreSQL, an admin user and token), started; appends its settings to <env file>.
setup_gitea() {
  local env=$1 g=$SERVICES_DATA/gitea build db_password
  build=$("$here/build-gitea.sh") || die "building Gitea failed"
  ensure_gitea_user
  stop gitea
  rm -rf "$g"
  mkdir -p "$g"/{data,log,home,repositories}
  # Gitea reads templates/, options/ and public/ next to its binary. The cache may sit in a home
  # directory the Gitea user cannot enter, and a rebuilt cache must not change a running server:
  # hard links (a copy across file systems) give the data dir its own tree at no cost.
  cp -al "$build" "$g/app" 2>/dev/null || { rm -rf "$g/app"; cp -a "$build" "$g/app"; }

  GITEA_PORT=$(free_port "$env")
  db_password=$(secret)
  # From scratch: a role or database left by an earlier, interrupted setup is dropped.
  pg_admin >/dev/null <<SQL || die "creating Gitea's database failed"
SET client_min_messages = warning;
DROP DATABASE IF EXISTS gitea WITH (FORCE);
DROP ROLE IF EXISTS gitea;
CREATE ROLE gitea LOGIN PASSWORD '$db_password';
CREATE DATABASE gitea OWNER gitea ENCODING 'UTF8' TEMPLATE template0;
SQL

  # Cheap and self-contained: no SSH, mail, Actions, packages, LFS, OAuth2 provider, search
  # indexes or update checks; sessions and cache in memory. Webhooks may target loopback and
  # private addresses, where the tests' receivers listen.
  (umask 077 && cat >"$g/app.ini") <<EOF
APP_NAME = rdev services
RUN_USER = $gitea_user
RUN_MODE = prod
WORK_PATH = $g

[server]
PROTOCOL = http
HTTP_ADDR = 127.0.0.1
HTTP_PORT = $GITEA_PORT
DOMAIN = 127.0.0.1
ROOT_URL = http://127.0.0.1:$GITEA_PORT/
APP_DATA_PATH = $g/data
STATIC_ROOT_PATH = $g/app
DISABLE_SSH = true
START_SSH_SERVER = false
LFS_START_SERVER = false
OFFLINE_MODE = true
GRACEFUL_HAMMER_TIME = 3s

[database]
DB_TYPE = postgres
HOST = 127.0.0.1:$PG_PORT
NAME = gitea
USER = gitea
PASSWD = $db_password
SSL_MODE = disable
LOG_SQL = false
MAX_OPEN_CONNS = 20

[repository]
ROOT = $g/repositories
DEFAULT_BRANCH = main

[security]
INSTALL_LOCK = true
SECRET_KEY = $(secret)
INTERNAL_TOKEN = $(secret)$(secret)

[service]
DISABLE_REGISTRATION = true
ENABLE_NOTIFY_MAIL = false

[webhook]
ALLOWED_HOST_LIST = loopback,private

[mailer]
ENABLED = false

[oauth2]
ENABLED = false

[actions]
ENABLED = false

[packages]
ENABLED = false

[indexer]
ISSUE_INDEXER_TYPE = db
REPO_INDEXER_ENABLED = false

[cache]
ADAPTER = memory

[session]
PROVIDER = memory

[picture]
DISABLE_GRAVATAR = true

[cron.update_checker]
ENABLED = false

[log]
MODE = file
LEVEL = Info
ROOT_PATH = $g/log
; request lines would repeat every URL; errors and warnings are enough here
logger.router.MODE =
EOF
  # app/ stays the invoker's: its files are hard links into the cache, and Gitea has no business
  # rewriting its own binary.
  if [ "$(id -u)" = 0 ]; then chown -R "$gitea_user:" "$g"/{data,log,home,repositories,app.ini} && chown "$gitea_user:" "$g"; fi

  echo "GITEA_PORT=$GITEA_PORT" >>"$env"
  start_gitea
  GITEA_ADMIN_PASSWORD=$(secret)
  # The CLI writes straight to the database; its output is kept off the terminal, and the token
  # (printed once, alone, by --raw) goes to the env file only.
  gitea_cmd admin user create --admin --username "$gitea_admin" --password "$GITEA_ADMIN_PASSWORD" \
    --email "$gitea_admin@example.com" --must-change-password=false >>"$dir/logs/gitea-admin.log" 2>&1 ||
    die "creating Gitea's admin user failed (log: $dir/logs/gitea-admin.log)"
  GITEA_ADMIN_TOKEN=$(gitea_cmd admin user generate-access-token --username "$gitea_admin" \
    --token-name rdev-admin --scopes all --raw 2>>"$dir/logs/gitea-admin.log") ||
    die "creating Gitea's admin token failed (log: $dir/logs/gitea-admin.log)"
  cat >>"$env" <<EOF
GITEA_URL=http://127.0.0.1:$GITEA_PORT
GITEA_ADMIN_USER=$gitea_admin
GITEA_ADMIN_PASSWORD=$GITEA_ADMIN_PASSWORD
GITEA_ADMIN_TOKEN=$GITEA_ADMIN_TOKEN
EOF
}

# ensure_gitea: with PostgreSQL up, start the Gitea that services.env describes, or set one up.
ensure_gitea() {
  running gitea && return
  if [ -n "${GITEA_ADMIN_TOKEN:-}" ] && [ -s "$SERVICES_DATA/gitea/app.ini" ]; then
    start_gitea
    return
  fi
  # Written aside and moved into place, so readers never see services.env without Gitea's lines.
  grep -v '^GITEA_' "$env_file" >"$env_file.tmp"; chmod 600 "$env_file.tmp"
  setup_gitea "$env_file.tmp"
  mv "$env_file.tmp" "$env_file"
}

cmd_up() {
  mkdir -p "$dir"
  if [ -s "$env_file" ] && running postgres && running redis; then
    # shellcheck disable=SC1090
    . "$env_file"
    if running gitea; then log "already up"; echo "$env_file"; return; fi
    # PostgreSQL and Redis stay (tests may be using them): only Gitea is added or restarted.
    ensure_gitea
    log "up: Gitea on 127.0.0.1:$(sed -n 's/^GITEA_PORT=//p' "$env_file") (credentials in $env_file)"
    echo "$env_file"; return
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
  setup_gitea "$env_file.tmp"
  mv "$env_file.tmp" "$env_file"
  log "up: PostgreSQL on 127.0.0.1:$PG_PORT, Redis on 127.0.0.1:$REDIS_PORT, Gitea on 127.0.0.1:$GITEA_PORT (credentials in $env_file)"
  echo "$env_file"
}

cmd_down() {
  stop gitea
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
  for s in postgres redis gitea; do
    if running "$s"; then echo "$s: running (pid $(pid_of "$s"))"; else echo "$s: stopped"; ok=1; fi
  done
  return $ok
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  stop-component) stop "$2" ;; # the fault tests stop PostgreSQL, Redis or Gitea, then start it again
  start-component)
    # shellcheck disable=SC1090
    . "$env_file"
    running "$2" || "start_$2" ;;
  *) echo "usage: $0 up|down|status|stop-component NAME|start-component NAME" >&2; exit 2 ;;
esac
