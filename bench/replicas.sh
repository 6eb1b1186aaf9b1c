#!/usr/bin/env bash
# GetPlan (allowed) and CreateGrant throughput on PostgreSQL with 1, 2 and 3
# samplan-server replicas, beside one server on SQLite, with the same load
# generator on the same machine, and samplan-echo (bare gRPC over the same
# TLS) in every round as the baseline. bench/README.md explains the figures.
#
#   bench/replicas.sh [--runs N] [--duration S] [--out DIR] [--quick]
#
# Each round runs, in turn: SQLite, then PostgreSQL with 1, 2, 3 replicas
# (one database per replica count, made afresh), each with plan-read and
# grant-write, then echo. With N replicas, N samplan-load processes run at
# once, one per replica, and their throughputs add up; the calls in flight
# in all stay about the same (2 channels x 16 on one server, 2 x 8 on each
# of two, 2 x 5 on each of three). PostgreSQL runs from Debian's binaries
# on loopback with fsync on (deploy/pg-local.sh), as SQLite's commits are
# durable too. The binaries must be built (build/default).
#
# Options:
#   --runs N       rounds; the table shows medians (default 3)
#   --duration S   measured seconds per run (default 10; warm-up 2)
#   --out DIR      results, logs, databases (default var/bench-replicas)
#   --quick        one round of 2 seconds, for a smoke check
#   -h, --help     this text
#
# Results: DIR/results.md (also printed) and DIR/*.json.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
runs=3 duration=10 warmup=2 out=var/bench-replicas
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs=${2:?--runs needs a number}; shift ;;
    --duration) duration=${2:?--duration needs a number}; shift ;;
    --out) out=${2:?--out needs a directory}; shift ;;
    --quick) runs=1 duration=2 warmup=1 ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/replicas.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "bench/replicas.sh: --runs must be a positive number" >&2; exit 2; }
[[ $duration =~ ^[1-9][0-9]*$ ]] || { echo "bench/replicas.sh: --duration must be a positive number" >&2; exit 2; }

BIN=$ROOT/build/default
SERVER=$BIN/server/samplan-server LOAD=$BIN/bench/samplan-load ECHO=$BIN/bench/samplan-echo
for b in "$SERVER" "$LOAD" "$ECHO"; do
  [[ -x $b ]] || { echo "bench/replicas.sh: $b is missing: build first (cmake --build --preset default)" >&2; exit 1; }
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
if [[ $(id -u) -eq 0 ]]; then chmod 711 "$out"; fi  # PostgreSQL runs as postgres
rm -rf "$out"/*.json "$out"/*.log "$out"/sqlite.db* "$out/pg"
step() { printf '\n==> %s\n' "$*" >&2; }
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  "$ROOT/deploy/pg-local.sh" stop "$out/pg" >/dev/null 2>&1 || true
}
trap cleanup EXIT

step "PKI, signing key, PostgreSQL ($out)"
./deploy/dev-pki.sh "$out/pki" school-1 social-1 bup-1 other-1 auditor-1 admin-1 >/dev/null
"$SERVER" keygen --out "$out/audit-key.pem" --origin samplan.bench/audit >/dev/null 2>&1 || true
pg_admin=$("$ROOT/deploy/pg-local.sh" start "$out/pg")
config() {  # config STORAGE: a server configuration
  cat <<CONF
api { address: "127.0.0.1:0" }
tls { ca_file: "$out/pki/ca.pem" cert_file: "$out/pki/server.pem" key_file: "$out/pki/server.key" }
storage { $1 }
audit { origin: "samplan.bench/audit" signing_key_file: "$out/audit-key.pem" }
CONF
}
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
stop_all() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}

# run_config NAME RUN SCENARIO PORT...: one samplan-load per port, at once;
# writes NAME-SCENARIO-RUN-K.json.
run_config() {
  local name=$1 run=$2 scenario=$3; shift 3
  local n=$# inflight k=0 lp=() p check=()
  inflight=$((16 / n))
  if ((n == 3)); then inflight=5; fi
  # With several replicas each generator shares the audit log with others.
  if ((n > 1)); then check=(--no-audit-check); fi
  for p in "$@"; do
    k=$((k + 1))
    "$LOAD" --target "127.0.0.1:$p" --pki "$out/pki" --scenario "$scenario" \
      --channels 2 --inflight "$inflight" --warmup "$warmup" --duration "$duration" \
      "${check[@]}" --json "$out/$name-$scenario-$run-$k.json" \
      >"$out/$name-$scenario-$run-$k.log" 2>&1 &
    lp+=("$!")
  done
  for p in "${lp[@]}"; do
    wait "$p" || { echo "bench/replicas.sh: a load run failed ($name $scenario):" >&2; cat "$out/$name-$scenario-$run"-*.log >&2; exit 1; }
  done
}

step "SQLite: one server"
config "sqlite_path: \"$out/sqlite.db\"" >"$out/sqlite.textproto"
register --db "$out/sqlite.db"
for n in 1 2 3; do
  psql "$pg_admin" -qAtX -c "CREATE DATABASE samplan_$n" >/dev/null
  register --postgres "$pg_admin dbname=samplan_$n"
  config "postgres { conninfo: \"$pg_admin dbname=samplan_$n\" }" >"$out/pg-$n.textproto"
done

for run in $(seq 1 "$runs"); do
  step "round $run of $runs"
  start sqlite "$SERVER" --config "$out/sqlite.textproto"
  run_config sqlite "$run" plan-read "$port"
  run_config sqlite "$run" grant-write "$port"
  if [[ $run -eq 1 ]]; then
    "$LOAD" --target "127.0.0.1:$port" --pki "$out/pki" --scenario plan-read \
      --channels 1 --inflight 1 --warmup 0 --duration 1 \
      --save-response "$out/getplan.bin" >/dev/null 2>&1
  fi
  stop_all
  for n in 1 2 3; do
    ports=()
    for k in $(seq 1 "$n"); do
      start "pg-$n-$k" "$SERVER" --config "$out/pg-$n.textproto"
      ports+=("$port")
    done
    run_config "pg$n" "$run" plan-read "${ports[@]}"
    run_config "pg$n" "$run" grant-write "${ports[@]}"
    stop_all
  done
  start echo "$ECHO" --config "$out/sqlite.textproto" --response "$out/getplan.bin"
  run_config echo "$run" echo "$port"
  stop_all
done

python3 - "$out" "$runs" <<'PY' | tee "$out/results.md"
import glob, json, re, statistics, sys
out, runs = sys.argv[1], int(sys.argv[2])
def total(name, scenario, run):
    files = glob.glob(f"{out}/{name}-{scenario}-{run}-*.json")
    data = [json.load(open(f)) for f in files]
    return sum(d["throughput"] for d in data), max(d["p99_ms"] for d in data)
rows = [("SQLite, 1 server", "sqlite"), ("PostgreSQL, 1 replica", "pg1"),
        ("PostgreSQL, 2 replicas", "pg2"), ("PostgreSQL, 3 replicas", "pg3")]
echo = [total("echo", "echo", r)[0] for r in range(1, runs + 1)]
print(f"| setup | GetPlan calls/s (rounds) | median | / echo | CreateGrant calls/s (rounds) | median | p99 ms (worst round) |")
print("|---|---|---|---|---|---|---|")
for label, name in rows:
    reads = [total(name, "plan-read", r)[0] for r in range(1, runs + 1)]
    writes = [total(name, "grant-write", r) for r in range(1, runs + 1)]
    ratio = statistics.median(a / b for a, b in zip(reads, echo))
    print(f"| {label} | {' / '.join(f'{x:,.0f}' for x in reads)} | {statistics.median(reads):,.0f} | "
          f"{ratio:.2f} | {' / '.join(f'{w[0]:,.0f}' for w in writes)} | "
          f"{statistics.median(w[0] for w in writes):,.0f} | {max(w[1] for w in writes):.1f} |")
print(f"| echo (baseline) | {' / '.join(f'{x:,.0f}' for x in echo)} | {statistics.median(echo):,.0f} | 1.00 | | | |")
PY
