# Shared helpers for the hack/ scripts (sourced, not run). Callers set $dir (their state
# directory, holding pids/ and logs/) and $log_prefix before use.

log() { echo "${log_prefix:-hack}: $*" >&2; }
die() { log "$*"; exit 1; }

# apt_install <package…>: as root, installs Debian packages (log: $dir/apt.log); otherwise names them.
apt_install() {
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

pid_of() { cat "$dir/pids/$1.pid" 2>/dev/null || true; }
running() { local p; p=$(pid_of "$1"); [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

# start <name> <command…>: detached in its own session, output appended to logs/<name>.log
start() {
  local name=$1; shift
  mkdir -p "$dir/pids" "$dir/logs"
  log "starting $name"
  setsid "$@" >>"$dir/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$dir/pids/$name.pid"
}

# stop <name>: SIGTERM, up to 10 s of grace, then SIGKILL; only ever a pid this script started
stop() {
  local p; p=$(pid_of "$1")
  if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
    log "stopping $1"
    kill "$p" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  fi
  rm -f "$dir/pids/$1.pid"
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port <file>: a free loopback port not already recorded in <file>, from a range unlikely
# to clash with well-known services (fixed ports would collide with a developer's own plane)
free_port() {
  local p tries=0
  while :; do
    p=$((20000 + RANDOM % 20000))
    if port_free "$p" && ! grep -q "=$p\$" "$1" 2>/dev/null; then echo "$p"; return; fi
    tries=$((tries + 1)); [ "$tries" -lt 200 ] || die "no free port found"
  done
}

# wait_for <what> <seconds> <command…>
wait_for() {
  local what=$1 secs=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || die "$what not ready after ${secs}s (logs: $dir/logs/)"
    sleep 0.3
  done
}
