#!/usr/bin/env bash
# Runs a local samplan cluster: several samplan-server replicas on one
# PostgreSQL (Debian's binaries, started by deploy/pg-local.sh), all on
# 127.0.0.1, for trying replication, client-side load balancing and
# failover on one machine. Not for production: the PKI is the development
# one and PostgreSQL trusts every loopback client. Run with --help.
set -euo pipefail
export LC_ALL=C

readonly PROG=cluster
ROOT=$(cd "$(dirname "$0")/.." && pwd)
readonly ROOT

usage() {
  cat <<'EOF'
Usage: deploy/cluster.sh up|down|status DIR [options]

  up      creates DIR and everything in it that is missing, starts PostgreSQL
          and the replicas, waits until every replica answers, and prints the
          gRPC target that reaches all of them (on stdout; progress goes to
          stderr). Running it again starts only what is not running.
  down    stops the replicas (SIGTERM: in-flight calls finish, the queue
          commits; SIGKILL after 30 s) and then PostgreSQL. Safe to repeat.
  status  shows what runs: each replica's pid and ports, whether it answers,
          and PostgreSQL.

Options (up; status and down read what up recorded in DIR):
  --replicas N    how many samplan-server processes (1-20, default 3)
  --base-port P   replica K listens on 127.0.0.1: API (gRPC) P+10(K-1),
                  admin P+10(K-1)+1, REST/JSON P+10(K-1)+2, metrics
                  P+10(K-1)+3 (default 7543, so 7543-7546, 7553-7556,
                  7563-7566); 0 picks a free range below the kernel's
                  ephemeral ports. up again on the same DIR keeps the
                  range of the first up (DIR/base-port)
  --pg-port N     PostgreSQL's port (default: a free one, kept in DIR/pg/port)
  --bin DIR       where samplan-server is (default: build/default/server in
                  this checkout); samplanctl is looked for in DIR/../client
  --origin O      the audit log's origin, the same on every replica
                  (default samplan.localhost/audit)
  --wait SECONDS  how long up waits for each replica to answer (default 60)
  --no-fsync      PostgreSQL without fsync (faster; loses data if the
                  machine, not just the process, crashes)
  -h, --help      this text

What up makes in DIR:
  DIR/pki/                 development CA, server and agency certificates
                           (deploy/dev-pki.sh): school-1 social-1 bup-1
                           auditor-1 admin-1, the agencies the quickstart uses
  DIR/audit-key.pem        the audit log's signing key, shared by every replica
                           (.pub, and .vkey for auditors: samplanctl audit
                           verify --public-key DIR/audit-key.pem.vkey)
  DIR/pg/                  PostgreSQL (deploy/pg-local.sh): data, log, port;
                           database "samplan"; the schema's owner is the
                           superuser samplan_owner, the replicas log in as
                           samplan_server, a member of samplan_app with
                           CREATE on schema public (docs/operations.md)
  DIR/replica-K/samplan.textproto   replica K's configuration
  DIR/replica-K/log        its service log
  DIR/replica-K/pid        its process id while it runs

Every replica gets the same TLS files, the same database, the same audit
signing key and the same origin (every replica signs checkpoints of the one
log), and its own three ports. The five agencies are registered once, with
`samplan-server register-agency --postgres`.

Calling the cluster:
  deploy/cluster.sh up var/cluster
    # prints e.g. ipv4:127.0.0.1:7543,127.0.0.1:7553,127.0.0.1:7563
  A gRPC client that balances over every replica uses that target with the
  service config {"loadBalancingConfig":[{"round_robin":{}}]} and, since the
  target names no host, the TLS name of the server certificate as its
  authority ("localhost" for the development PKI). docs/operations.md shows
  how. samplanctl talks to one replica:
    build/default/client/samplanctl --server 127.0.0.1:7553 \
        --pki var/cluster/pki --agency school-1 --actor anna.lind plan list
  Stop one replica (kill -TERM "$(cat var/cluster/replica-2/pid)") to see
  the others carry on; `up` again starts it again.

Cleaning up:
  deploy/cluster.sh down var/cluster && rm -rf var/cluster

As root, PostgreSQL runs as the user postgres: DIR is made mode 0711 and
its parent directories must let that user through (o+x).

Exit status: 0 success, 2 usage error, 1 failure (the message says which
step; for a replica that does not start, the end of its log follows).
EOF
}

say() { echo "${PROG}: $*" >&2; }
die() { echo "${PROG}: error: $*" >&2; exit 1; }
usage_error() { echo "${PROG}: $*" >&2; echo "Try 'deploy/cluster.sh --help'." >&2; exit 2; }

# --- arguments ---------------------------------------------------------------

cmd=""
dir=""
replicas=3
base_port=""  # default: what up chose before in DIR, else 7543
pg_port=0
bin_dir=$ROOT/build/default/server
origin=samplan.localhost/audit
wait_seconds=60
fsync_flag=()
while (($# > 0)); do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --replicas) (($# >= 2)) || usage_error "--replicas needs a value"; replicas=$2; shift ;;
    --base-port) (($# >= 2)) || usage_error "--base-port needs a value"; base_port=$2; shift ;;
    --pg-port) (($# >= 2)) || usage_error "--pg-port needs a value"; pg_port=$2; shift ;;
    --bin) (($# >= 2)) || usage_error "--bin needs a directory"; bin_dir=$2; shift ;;
    --origin) (($# >= 2)) || usage_error "--origin needs a value"; origin=$2; shift ;;
    --wait) (($# >= 2)) || usage_error "--wait needs a number"; wait_seconds=$2; shift ;;
    --no-fsync) fsync_flag=(--no-fsync) ;;
    -*) usage_error "unknown option '$1'" ;;
    *)
      if [[ -z $cmd ]]; then
        cmd=$1
      elif [[ -z $dir ]]; then
        dir=$1
      else
        usage_error "unexpected argument '$1'"
      fi
      ;;
  esac
  shift
done

case $cmd in
  up | down | status) ;;
  '') usage >&2; exit 2 ;;
  *) usage_error "unknown command '$cmd'" ;;
esac
[[ -n $dir ]] || usage_error "$cmd needs a DIR"
# number NAME VALUE MIN MAX: VALUE as a decimal number, or a usage error.
number() {
  if [[ ! $2 =~ ^[0-9]{1,6}$ ]] || ((10#$2 < $3 || 10#$2 > $4)); then
    usage_error "$1 must be a whole number from $3 to $4"
  fi
  echo $((10#$2))
}
replicas=$(number --replicas "$replicas" 1 20)
if [[ -n $base_port && $base_port != 0 ]]; then
  base_port=$(number --base-port "$base_port" 1024 $((65535 - 3 - 10 * (replicas - 1))))
fi
pg_port=$(number --pg-port "$pg_port" 0 65535)
wait_seconds=$(number --wait "$wait_seconds" 1 3600)
[[ $origin =~ ^[!-~]{1,100}$ && $origin != *+* ]] ||
  usage_error "--origin must be 1-100 printable ASCII characters without spaces or '+'"

# --- helpers -----------------------------------------------------------------

server_bin=$bin_dir/samplan-server
ctl_bin=$(cd "$bin_dir/.." 2>/dev/null && pwd)/client/samplanctl

# True if something accepts connections on 127.0.0.1:$1.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# replica_alive K: true if DIR/replica-K/pid names a running samplan-server
# started with that replica's configuration (not a reused pid).
replica_alive() {
  local rdir=$dir/replica-$1 pid
  [[ -f $rdir/pid ]] || return 1
  pid=$(<"$rdir/pid")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$rdir/samplan.textproto"
}

# The replica directories that exist, in order: 1 2 3 ...
replica_numbers() {
  local d
  for d in "$dir"/replica-*; do
    [[ -d $d ]] || continue
    echo "${d##*/replica-}"
  done | grep -E '^[0-9]+$' | sort -n
}

# ports K: "API ADMIN REST" of replica K, as recorded by up.
ports_of() { cat "$dir/replica-$1/ports" 2>/dev/null || echo "? ? ? ?"; }

# answers PORT: true if the replica on PORT answers an administrator's
# read through mutual TLS and the database (GetAgency, which is not audited).
answers() {
  [[ -x $ctl_bin ]] || return 0
  "$ctl_bin" --server "127.0.0.1:$1" --pki "$dir/pki" --agency admin-1 \
    --actor cluster.sh --timeout 3 admin agency get --id admin-1 >/dev/null 2>&1
}

pg_running() {
  [[ -f $dir/pg/data/postmaster.pid ]] || return 1
  local pid
  pid=$(head -1 "$dir/pg/data/postmaster.pid")
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null
}

# --- up ----------------------------------------------------------------------

up() {
  [[ -x $server_bin ]] || die "$server_bin not found (build it, or give --bin DIR)"
  [[ -x $ctl_bin ]] || say "note: $ctl_bin not found; replicas are checked by their log only"
  command -v psql >/dev/null 2>&1 || die "psql not found (Debian: the postgresql package; deploy/install-deps.sh)"

  mkdir -p -- "$dir"
  dir=$(cd "$dir" && pwd)
  if [[ $(id -u) -eq 0 ]]; then
    # PostgreSQL runs as postgres and must reach DIR/pg: let it through
    # DIR without listing it.
    chmod 711 "$dir"
  fi
  local k api p

  # No --base-port: the range up chose before in DIR, else 7543. 0: the
  # range chosen before, or a free one.
  if [[ ( -z $base_port || $base_port == 0 ) && -f $dir/base-port ]]; then
    base_port=$(<"$dir/base-port")
  elif [[ -z $base_port ]]; then
    base_port=7543
  elif [[ $base_port == 0 ]]; then
    # Below the kernel's ephemeral range, where other programs' port-0
    # listeners and outgoing connections cannot take a port between this
    # check and the replicas' start.
    local try free low=32768 span
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
    span=$((low - 20000 - 10 * replicas))
    ((span > 1000)) || span=30000
    for ((try = 0; try < 50; try++)); do
      base_port=$((20000 + RANDOM % span))
      free=1
      for ((k = 1; k <= replicas && free; k++)); do
        api=$((base_port + 10 * (k - 1)))
        for p in "$api" $((api + 1)) $((api + 2)) $((api + 3)); do
          if port_busy "$p"; then free=0; break; fi
        done
      done
      ((free)) && break
    done
    ((free)) || die "found no free range of ports; give --base-port"
  fi
  echo "$base_port" >"$dir/base-port"

  # The ports, before anything starts.
  for ((k = 1; k <= replicas; k++)); do
    replica_alive "$k" && continue
    api=$((base_port + 10 * (k - 1)))
    for p in "$api" $((api + 1)) $((api + 2)) $((api + 3)); do
      ! port_busy "$p" || die "port $p (replica $k) is in use; choose another --base-port"
    done
  done

  if [[ ! -f $dir/pki/ca.pem ]]; then
    say "development PKI in $dir/pki"
  fi
  "$ROOT/deploy/dev-pki.sh" "$dir/pki" school-1 social-1 bup-1 auditor-1 admin-1 >/dev/null

  local key=$dir/audit-key.pem
  if [[ ! -f $key ]]; then
    say "audit signing key $key (origin $origin)"
    "$server_bin" keygen --out "$key" --origin "$origin" >/dev/null
  elif [[ -f $key.vkey ]] && ! grep -q "^${origin}+" "$key.vkey"; then
    die "$key was made for another origin ($(cut -d+ -f1 "$key.vkey")); give that --origin"
  fi

  local admin_conn
  if pg_running; then
    say "PostgreSQL already runs in $dir/pg"
    admin_conn="host=127.0.0.1 port=$(<"$dir/pg/port") user=samplan_owner dbname=postgres"
  else
    say "starting PostgreSQL in $dir/pg"
    local port_args=()
    ((pg_port == 0)) || port_args=(--port "$pg_port")
    admin_conn=$("$ROOT/deploy/pg-local.sh" start "$dir/pg" "${port_args[@]}" "${fsync_flag[@]}")
  fi
  local db_port
  db_port=$(<"$dir/pg/port")
  if [[ -z $(psql "$admin_conn" -qAtX -c "SELECT 1 FROM pg_database WHERE datname = 'samplan'") ]]; then
    say "creating database samplan"
    psql "$admin_conn" -qAtX -c "CREATE DATABASE samplan" >/dev/null
  fi
  local owner_conn="host=127.0.0.1 port=$db_port dbname=samplan user=samplan_owner"
  local server_conn="host=127.0.0.1 port=$db_port dbname=samplan user=samplan_server"

  # Registering the first agency migrates the schema (as its owner); then
  # the replicas' login role joins samplan_app, which the schema made: it
  # may not create tables, nor change the append-only ones (samplan_app has
  # no UPDATE or DELETE on them, and their triggers refuse it for every
  # role).
  say "registering agencies (once; already registered ones are left as they are)"
  local id sector role name
  while read -r id sector role name; do
    "$server_bin" register-agency --postgres "$owner_conn" --id "$id" \
      --sector "$sector" --role "$role" --name "$name" </dev/null >/dev/null
  done <<'AGENCIES'
school-1 SCHOOL AGENCY_SYSTEM Ekbackens skola
social-1 SOCIAL_SERVICES AGENCY_SYSTEM Socialtjansten Norr
bup-1 HEALTHCARE AGENCY_SYSTEM BUP Centrum
auditor-1 HEALTHCARE AUDITOR Regionens logguppfoljning
admin-1 SOCIAL_SERVICES ADMINISTRATOR Samplan-forvaltning
AGENCIES
  psql "$owner_conn" -qAtX -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'samplan_server') THEN
    CREATE ROLE samplan_server LOGIN IN ROLE samplan_app;
  END IF;
END
$$;
SQL

  local targets=() rdir config rest admin metrics pid started=()
  for ((k = 1; k <= replicas; k++)); do
    rdir=$dir/replica-$k
    api=$((base_port + 10 * (k - 1)))
    admin=$((api + 1))
    rest=$((api + 2))
    metrics=$((api + 3))
    targets+=("127.0.0.1:$api")
    if replica_alive "$k"; then
      say "replica $k already runs (pid $(<"$rdir/pid"))"
      continue
    fi
    mkdir -p -- "$rdir"
    config=$rdir/samplan.textproto
    cat >"$config" <<CONF
# Replica $k of the cluster in $dir, written by deploy/cluster.sh.
# deploy/samplan.textproto explains every field.
api { address: "127.0.0.1:$api" }
admin { address: "127.0.0.1:$admin" }
rest { address: "127.0.0.1:$rest" }
metrics { address: "127.0.0.1:$metrics" }
tls {
  ca_file: "$dir/pki/ca.pem"
  cert_file: "$dir/pki/server.pem"
  key_file: "$dir/pki/server.key"
}
storage { postgres { conninfo: "$server_conn" } }
# The same origin and key on every replica: each of them signs checkpoints.
audit {
  origin: "$origin"
  signing_key_file: "$key"
}
CONF
    echo "$api $admin $rest $metrics" >"$rdir/ports"
    "$server_bin" check-config --config "$config" >/dev/null ||
      die "replica $k: $config is not valid"
    say "starting replica $k: API 127.0.0.1:$api, admin :$admin, REST :$rest, metrics :$metrics (log $rdir/log)"
    {
      echo "--- $(date -u +%FT%TZ) deploy/cluster.sh up"
    } >>"$rdir/log"
    nohup "$server_bin" --config "$config" </dev/null >>"$rdir/log" 2>&1 &
    pid=$!
    echo "$pid" >"$rdir/pid"
    started+=("$k")
  done

  # Wait for each replica started now: its log says it listens, and it
  # answers a call that needs the database.
  local deadline ok
  for k in "${started[@]}"; do
    rdir=$dir/replica-$k
    api=$(ports_of "$k" | cut -d' ' -f1)
    deadline=$((SECONDS + wait_seconds))
    ok=0
    while ((SECONDS < deadline)); do
      if ! replica_alive "$k"; then
        break
      fi
      if tail -n 20 "$rdir/log" | grep -q "samplan-server listening" && answers "$api"; then
        ok=1
        break
      fi
      sleep 0.2
    done
    if ((ok == 0)); then
      echo "${PROG}: the end of $rdir/log:" >&2
      tail -n 20 "$rdir/log" | sed 's/^/  | /' >&2
      if replica_alive "$k"; then
        die "replica $k did not answer on 127.0.0.1:$api within ${wait_seconds}s (still running; 'deploy/cluster.sh down $dir' stops everything)"
      fi
      rm -f "$rdir/pid"
      die "replica $k exited during start ('deploy/cluster.sh down $dir' stops the rest)"
    fi
    say "replica $k answers (pid $(<"$rdir/pid"))"
  done

  local joined
  joined=$(IFS=,; echo "${targets[*]}")
  say "$replicas replicas on PostgreSQL 127.0.0.1:$db_port (database samplan). gRPC target for all"
  say "of them (with round_robin and authority localhost; docs/operations.md):"
  echo "ipv4:$joined"
  say "one replica: $ctl_bin --server ${targets[0]} --pki $dir/pki --agency school-1 --actor anna.lind plan list"
  say "auditors verify with: --public-key $key.vkey"
}

# --- down --------------------------------------------------------------------

down() {
  if [[ ! -d $dir ]]; then
    say "$dir does not exist: nothing runs"
    return 0
  fi
  dir=$(cd "$dir" && pwd)
  local k pid waiting=()
  for k in $(replica_numbers); do
    if replica_alive "$k"; then
      pid=$(<"$dir/replica-$k/pid")
      say "stopping replica $k (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      waiting+=("$k")
    else
      rm -f "$dir/replica-$k/pid"
    fi
  done
  local deadline=$((SECONDS + 30))
  for k in "${waiting[@]}"; do
    while replica_alive "$k" && ((SECONDS < deadline)); do sleep 0.2; done
    if replica_alive "$k"; then
      pid=$(<"$dir/replica-$k/pid")
      say "replica $k (pid $pid) still runs after 30 s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      while replica_alive "$k"; do sleep 0.1; done
    fi
    rm -f "$dir/replica-$k/pid"
  done
  if pg_running; then
    say "stopping PostgreSQL"
    "$ROOT/deploy/pg-local.sh" stop "$dir/pg"
  fi
  say "stopped (the data stays in $dir)"
}

# --- status ------------------------------------------------------------------

status() {
  if [[ ! -d $dir ]]; then
    echo "$dir does not exist"
    return 0
  fi
  dir=$(cd "$dir" && pwd)
  if pg_running; then
    echo "postgresql  running  pid $(head -1 "$dir/pg/data/postmaster.pid")  127.0.0.1:$(<"$dir/pg/port")  log $dir/pg/log"
  else
    echo "postgresql  stopped"
  fi
  local k api admin rest metrics state targets=()
  for k in $(replica_numbers); do
    read -r api admin rest metrics < <(ports_of "$k")
    if replica_alive "$k"; then
      if [[ ! -x $ctl_bin ]]; then
        state="running"
      elif answers "$api"; then
        state="answers"
      else
        state="running, not answering"
      fi
      targets+=("127.0.0.1:$api")
      echo "replica-$k   $state  pid $(<"$dir/replica-$k/pid")  api 127.0.0.1:$api  admin :$admin  rest :$rest  metrics :${metrics:-?}"
    else
      echo "replica-$k   stopped  api 127.0.0.1:$api  admin :$admin  rest :$rest  (log $dir/replica-$k/log)"
    fi
  done
  if ((${#targets[@]} > 0)); then
    echo "target      ipv4:$(IFS=,; echo "${targets[*]}")"
  fi
}

case $cmd in
  up) up ;;
  down) down ;;
  status) status ;;
esac
