#!/usr/bin/env bash
# Runs a private PostgreSQL from Debian's binaries (the postgresql package)
# in a directory of its own, listening on 127.0.0.1 only, for the tests and
# for running samplan on PostgreSQL without a container runtime.
#
#   deploy/pg-local.sh start DIR [--port N] [--no-fsync]
#       initialises DIR/data on first use, starts the server and prints its
#       connection string (libpq keyword form) on standard output
#   deploy/pg-local.sh stop DIR      stops it (fast shutdown)
#   deploy/pg-local.sh restart DIR   stops and starts it on the same port
#   deploy/pg-local.sh -h | --help   this text
#
# The server runs as the user `postgres` when started by root (PostgreSQL
# refuses to run as root; DIR is handed to that user), as the caller
# otherwise. Its superuser is `samplan_owner`; local and loopback clients are
# trusted, so keep DIR private and the port on loopback. --port 0 or no
# --port picks a free port. --no-fsync trades crash safety of the machine
# (not of the server process) for speed, for tests. The log is DIR/log.
set -euo pipefail

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "pg-local: $*" >&2; exit 1; }

cmd=${1:-}
case "$cmd" in
  -h|--help) usage; exit 0 ;;
  start|stop|restart) ;;
  '') usage >&2; exit 2 ;;
  *) echo "pg-local: unknown command '$cmd' (try --help)" >&2; exit 2 ;;
esac
dir=${2:?pg-local: $cmd needs a DIR (try --help)}
shift 2
port=0
fsync=on
while [[ $# -gt 0 ]]; do
  case "$1" in
    --port) port=${2:?--port needs a number}; shift ;;
    --no-fsync) fsync=off ;;
    *) echo "pg-local: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
if ! [[ $port =~ ^[0-9]+$ ]] || (( port > 65535 )); then
  echo "pg-local: --port must be 0-65535" >&2; exit 2
fi

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
[[ -n $bin && -x $bin/pg_ctl ]] ||
  die "PostgreSQL is not installed (deploy/install-deps.sh installs it)"

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
data=$dir/data

# as_owner CMD...: runs CMD as the user the server runs as.
if [[ $(id -u) -eq 0 ]]; then
  id postgres >/dev/null 2>&1 || die "no user postgres (the postgresql package makes it)"
  chown postgres: "$dir"
  chmod 700 "$dir"
  runuser -u postgres -- test -x "$dir" ||
    die "user postgres cannot reach $dir: its parent directories need o+x (mktemp -d makes them 700)"
  as_owner() { runuser -u postgres -- "$@"; }
else
  as_owner() { "$@"; }
fi

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  if [[ ! -f $data/PG_VERSION ]]; then
    as_owner "$bin/initdb" -D "$data" -U samplan_owner --auth=trust \
      --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  fi
  if [[ $port -eq 0 ]]; then
    if [[ -f $dir/port ]]; then port=$(cat "$dir/port"); else port=$(free_port); fi
  fi
  echo "$port" >"$dir/port"
  # A free port can be taken between the check and the start: try others.
  local tries=0
  until as_owner "$bin/pg_ctl" -D "$data" -l "$dir/log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='$dir' -c fsync=$fsync -c max_connections=200" \
      start >/dev/null; do
    tries=$((tries + 1))
    if [[ $tries -ge 3 ]] || ! grep -q "could not bind" "$dir/log"; then
      tail -20 "$dir/log" >&2
      die "the server did not start (log: $dir/log)"
    fi
    port=$(free_port)
    echo "$port" >"$dir/port"
  done
  echo "host=127.0.0.1 port=$port user=samplan_owner dbname=postgres"
}

stop() {
  if [[ -f $data/postmaster.pid ]]; then
    as_owner "$bin/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
  fi
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
esac
