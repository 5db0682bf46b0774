#!/usr/bin/env bash
# A private PostgreSQL cluster for the tests: made with initdb in DIR, reached
# through a Unix socket in DIR only (no TCP port), trust authentication for
# the superuser "postgres", default durability (fsync, synchronous_commit).
#
#   scripts/pg-test-cluster.sh start [--fresh] DIR
#       A running cluster in DIR: made if there is none, started if stopped
#       (its data kept), left as it is if running.  --fresh: stop and remove
#       whatever cluster DIR holds first.  Prints DIR, the socket directory
#       (libpq's host), once the server accepts connections.
#   scripts/pg-test-cluster.sh stop DIR
#       Stops the server (fast, else immediate) and removes DIR.  Succeeds
#       when there is no cluster or no DIR at all.
#   scripts/pg-test-cluster.sh kill DIR
#       Stops the server at once (pg_ctl stop -m immediate, as a crash would)
#       and keeps its data: `start DIR` recovers it.  For outage tests.
#
# PostgreSQL refuses to run as root: run as root, the server runs as
# TAGD_PG_USER (default postgres, the user Debian's package creates) through
# runuser; run as anyone else, as that user.  The binaries are those of
# TAGD_PG_BIN, else of the newest /usr/lib/postgresql/*/bin (Debian keeps them
# off PATH), else pg_ctl on PATH.  DIR must be short enough for a socket path
# (DIR/.s.PGSQL.5432 under 108 bytes) and reachable by the server's user.
# Only a DIR this script made (it holds .tagd-pg-test-cluster) is removed.
set -euo pipefail

usage() {
  echo "usage: scripts/pg-test-cluster.sh start [--fresh] DIR | stop DIR | kill DIR" >&2
  exit 2
}

cmd=${1:-}
shift || usage
fresh=false
if [ "$cmd" = start ] && [ "${1:-}" = --fresh ]; then
  fresh=true
  shift
fi
[ $# -eq 1 ] && [ -n "$1" ] || usage
case $cmd in start | stop | kill) ;; *) usage ;; esac
case $1 in
  /*) dir=$1 ;;
  *) dir=$PWD/$1 ;;
esac
dir=${dir%/}
data=$dir/data
marker=$dir/.tagd-pg-test-cluster

die() {
  echo "pg-test-cluster: $*" >&2
  exit 1
}

# Nothing to stop: done, whether or not PostgreSQL is installed.
if [ "$cmd" = stop ] && [ ! -e "$dir" ]; then
  exit 0
fi

bin=${TAGD_PG_BIN:-}
if [ -z "$bin" ]; then
  bin=$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/pg_ctl' 2>/dev/null |
    sort -V | tail -n 1)
  bin=${bin%/pg_ctl}
fi
if [ -z "$bin" ] && command -v pg_ctl >/dev/null; then
  bin=$(dirname "$(command -v pg_ctl)")
fi
[ -n "$bin" ] && [ -x "$bin/pg_ctl" ] ||
  die "no PostgreSQL server programs:" \
    "install postgresql (scripts/deps.sh --test) or set TAGD_PG_BIN"

# as_server CMD...: CMD as the server's user, from DIR (the caller's working
# directory may be one that user cannot enter, e.g. /root).
user=
if [ "$(id -u)" -eq 0 ]; then
  user=${TAGD_PG_USER:-postgres}
  id -u "$user" >/dev/null 2>&1 ||
    die "as root, the server runs as an unprivileged user: no user '$user'" \
      "(install postgresql or set TAGD_PG_USER)"
fi
as_server() {
  if [ -n "$user" ]; then
    (cd "$dir" && runuser -u "$user" -- "$@")
  else
    (cd "$dir" && "$@")
  fi
}

# status: 0 running, 3 not running, 4 no cluster (as pg_ctl status).
status() {
  [ -f "$data/PG_VERSION" ] || return 4
  local rc=0
  as_server "$bin/pg_ctl" status -D "$data" >/dev/null 2>&1 || rc=$?
  return $rc
}

ours() {
  [ -f "$marker" ]
}

log_tail() {
  [ -f "$dir/server.log" ] && tail -n 30 "$dir/server.log" >&2
  return 0
}

stop_server() { # $1: fast or immediate
  as_server "$bin/pg_ctl" stop -D "$data" -m "$1" -w -t 60 >/dev/null 2>&1
}

do_stop() {
  [ -e "$dir" ] || return 0
  ours || die "$dir was not made by this script: not touching it"
  local rc=0
  status || rc=$?
  if [ $rc -eq 0 ] && ! stop_server fast && ! stop_server immediate; then
    log_tail
    die "cannot stop the server of $data"
  fi
  rm -rf "$dir"
}

do_kill() {
  ours || die "no cluster made by this script in $dir"
  local rc=0
  status || rc=$?
  [ $rc -ne 0 ] && return 0
  stop_server immediate || {
    log_tail
    die "cannot stop the server of $data"
  }
}

make_cluster() {
  local sock="$dir/.s.PGSQL.5432"
  [ ${#sock} -lt 108 ] ||
    die "$dir is too long for a Unix socket path (${#sock} bytes, at most 107)"
  if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
    die "$dir exists and was not made by this script: not touching it"
  fi
  mkdir -p "$dir"
  touch "$marker"
  chmod 755 "$dir"
  [ -z "$user" ] || chown "$user:" "$dir"
  as_server test -w "$dir" ||
    die "the server's user ($(as_server id -un)) cannot write to $dir: choose a folder it can reach"
  # --no-sync: initdb's own files need not reach the disk for a throwaway
  # cluster; the server itself runs with fsync and synchronous_commit on.
  if ! as_server "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C \
    --no-sync >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    die "initdb failed in $data"
  fi
  # The last setting of a name wins: these override initdb's.
  cat >>"$data/postgresql.conf" <<EOF

# scripts/pg-test-cluster.sh: a private test cluster, Unix socket only.
listen_addresses = ''
unix_socket_directories = '$dir'
unix_socket_permissions = 0777
max_connections = 200
shared_buffers = 32MB
fsync = on
synchronous_commit = on
full_page_writes = on
log_min_messages = warning
log_connections = off
log_disconnections = off
EOF
}

do_start() {
  if $fresh; then
    do_stop
  fi
  local rc=0
  if [ -e "$dir" ] && ! ours; then
    # Not ours unless empty: make_cluster refuses a folder with anything in it.
    rc=4
  else
    status || rc=$?
  fi
  if [ $rc -eq 4 ]; then
    if ours; then
      # A cluster we began but that has no data (initdb interrupted): anew.
      rm -rf "$dir"
    fi
    make_cluster
    rc=3
  fi
  if [ $rc -eq 3 ]; then
    # A server that died leaves postmaster.pid; pg_ctl start copes with it.
    if ! as_server "$bin/pg_ctl" start -D "$data" -l "$dir/server.log" -w -t 120 \
      >/dev/null 2>&1; then
      log_tail
      die "the server in $data did not start"
    fi
  elif [ $rc -ne 0 ]; then
    die "cannot tell whether the server in $data runs (pg_ctl status: $rc)"
  fi
  "$bin/pg_isready" -q -h "$dir" -U postgres -d postgres -t 30 || {
    log_tail
    die "the server in $data does not accept connections"
  }
  echo "$dir"
}

case $cmd in
  start) do_start ;;
  stop) do_stop ;;
  kill) do_kill ;;
esac
