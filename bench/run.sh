#!/usr/bin/env bash
# Runs samplan's benchmarks and writes a results table (bench/README.md
# explains every figure and the targets).
#
#   bench/run.sh              every part: load against samplan-server and
#                             samplan-echo (runs interleaved; GetPlan over
#                             gRPC, over REST and on echo in every round),
#                             latency at half load, micro-benchmarks, and
#                             the data set
#                             (at --scale 1: 1M subjects, 10M audit events,
#                             about 80 minutes in all on 2 cores; --scale 0.1
#                             about 10 minutes)
#   bench/run.sh --quick      a smoke run of every part, under 3 minutes
#
# Options:
#   --quick          short runs, one of each, a tiny data set
#   --runs N         runs per load figure; the table shows medians (default 3)
#   --scale X        data set scale (default 1.0; --quick: 0.0005)
#   --parts LIST     which parts, comma-separated: load, micro, data (default
#                    all); results of parts not run are kept from before
#   --no-datagen     the same as --parts load,micro
#   --no-build       use the binaries already in build/default
#   --out DIR        where results, logs and databases go (default var/bench)
#   -h, --help       this text
#
# Results: DIR/results.md (the table, also printed) and DIR/*.json.
# Exit status: 0 when every part ran and every audit count matched.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

quick=0 runs=3 scale="" parts=load,micro,data build=1 out=var/bench
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=1 ;;
    --runs) runs=${2:?--runs needs a number}; shift ;;
    --scale) scale=${2:?--scale needs a number}; shift ;;
    --parts) parts=${2:?--parts needs a list}; shift ;;
    --no-datagen) parts=load,micro ;;
    --no-build) build=0 ;;
    --out) out=${2:?--out needs a directory}; shift ;;
    -h|--help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/run.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "bench/run.sh: --runs must be a positive number" >&2; exit 2; }
has() { [[ ",$parts," == *",$1,"* ]]; }
for p in ${parts//,/ }; do
  case "$p" in load|micro|data) ;; *) echo "bench/run.sh: --parts: unknown part '$p' (load, micro, data)" >&2; exit 2 ;; esac
done
if [[ $quick -eq 1 ]]; then
  runs=1 warmup=0.5 duration=1.5 scale=${scale:-0.0005}
  micro_args=(--benchmark_min_time=0.01 --benchmark_filter=-BM_AuditSubjectHistory)
else
  warmup=2 duration=10 scale=${scale:-1.0}
  micro_args=(--benchmark_repetitions=3 --benchmark_report_aggregates_only=true)
fi
channels=4 inflight=16

BIN=$ROOT/build/default
if [[ $build -eq 1 ]]; then
  ./deploy/install-deps.sh
  cmake --preset default >/dev/null
  cmake --build --preset default --target samplan-server samplanctl \
    samplan-load samplan-echo samplan-datagen samplan-micro
fi
SERVER=$BIN/server/samplan-server CTL=$BIN/client/samplanctl
LOAD=$BIN/bench/samplan-load ECHO=$BIN/bench/samplan-echo
DATAGEN=$BIN/bench/samplan-datagen MICRO=$BIN/bench/samplan-micro
for b in "$SERVER" "$CTL" "$LOAD" "$ECHO" "$DATAGEN" "$MICRO"; do
  [[ -x $b ]] || { echo "bench/run.sh: $b is missing; run without --no-build" >&2; exit 1; }
done

mkdir -p "$out"
out=$(cd "$out" && pwd)
has load && rm -f "$out"/load.db* "$out"/{plan,grant,mix,echo}-*.json "$out/load-rss.txt"
has micro && rm -f "$out/micro.json"
has data && rm -f "$out"/data.db* "$out"/{audit-history,data-plan-read}-*.json "$out/data.json"
step() { printf '\n==> %s\n' "$*" >&2; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

step "PKI, signing key, configuration ($out)"
./deploy/dev-pki.sh "$out/pki" school-1 social-1 bup-1 other-1 auditor-1 admin-1 >/dev/null
"$SERVER" keygen --out "$out/audit-key.pem" --origin samplan.bench/audit >/dev/null 2>&1 || true
config() {  # config DB [rest]: a server configuration for database DB,
            # with a REST listener when the second argument is "rest"
  local rest_listener=""
  if [[ ${2:-} == rest ]]; then rest_listener='rest { address: "127.0.0.1:0" }'; fi
  cat <<CONF
api { address: "127.0.0.1:0" }
$rest_listener
tls { ca_file: "$out/pki/ca.pem" cert_file: "$out/pki/server.pem" key_file: "$out/pki/server.key" }
storage { sqlite_path: "$1" }
audit { origin: "samplan.bench/audit" signing_key_file: "$out/audit-key.pem" }
CONF
}
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
stop() { kill -TERM "$1"; wait "$1" || true; }
rss_kib() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
# rest_port_of NAME: the REST port samplan-server logged ("rest port N").
rest_port_of() {
  grep -o 'rest port [0-9]*' "$out/$1.log" | head -1 | tr -dc 0-9 || true
}
# load NAME RUN ARGS...: one samplan-load run, JSON in $out/NAME-RUN.json.
load() {
  local name=$1 run=$2; shift 2
  "$LOAD" --target "127.0.0.1:$port" --pki "$out/pki" --warmup "$warmup" \
    --duration "$duration" --json "$out/$name-$run.json" "$@" >&2
}

if has load; then
step "load: samplan-server and samplan-echo side by side ($runs run(s) each, $channels channels x $inflight in flight)"
# The echo baseline varies between runs on a shared machine by as much as a
# fifth, so each plan-read run is followed at once by an echo run and by a
# plan-read over REST (GetPlan as GET /v1/plans/ID on the server's REST
# listener, $channels x $inflight keep-alive connections), and the table's
# ratios are the medians of those rounds' ratios.
db=$out/load.db
config "$db" rest >"$out/load.textproto"
register --db "$db"
start server "$SERVER" --config "$out/load.textproto"
server_pid=$pid server_port=$port
rest_port=$(rest_port_of server)
if [[ -z $rest_port ]]; then
  echo "bench/run.sh: samplan-server logged no REST port:" >&2
  cat "$out/server.log" >&2
  exit 1
fi
closed=(--channels "$channels" --inflight "$inflight")
rest=(--transport rest --rest-target "127.0.0.1:$rest_port")
serial=(--channels 1 --inflight 1)
echo_pid="" echo_port=""
echo_run() {  # echo_run NAME RUN ARGS...: one run against samplan-echo
  local saved=$port
  port=$echo_port
  load "$@"
  port=$saved
}
for run in $(seq 1 "$runs"); do
  load plan-read "$run" --scenario plan-read "${closed[@]}" --save-response "$out/getplan.bin"
  if [[ -z $echo_pid ]]; then
    start echo "$ECHO" --config "$out/load.textproto" --response "$out/getplan.bin"
    echo_pid=$pid echo_port=$port port=$server_port
  fi
  echo_run echo "$run" --scenario echo "${closed[@]}"
  load plan-read-rest "$run" --scenario plan-read "${closed[@]}" "${rest[@]}"
  load plan-read-serial "$run" --scenario plan-read "${serial[@]}"
  echo_run echo-serial "$run" --scenario echo "${serial[@]}"
  load plan-withheld "$run" --scenario plan-withheld "${closed[@]}"
  load plan-denied "$run" --scenario plan-denied "${closed[@]}"
  load grant-write "$run" --scenario grant-write "${closed[@]}"
  load mix "$run" --scenario mix "${closed[@]}"
done
# Latency at half of the maximum plan-read throughput (open loop).
half=$(python3 - "$out" <<'PY'
import json, glob, statistics, sys
t = [json.load(open(f))["throughput"] for f in glob.glob(sys.argv[1] + "/plan-read-[0-9]*.json")]
print(max(1, int(statistics.median(t) / 2)))
PY
)
for run in $(seq 1 "$runs"); do
  load plan-read-half "$run" --scenario plan-read --rate "$half" --channels "$channels" --inflight 256
done
rss_kib "$server_pid" >"$out/load-rss.txt"
stop "$server_pid"
stop "$echo_pid"
fi

if has micro; then
  step "micro-benchmarks"
  "$MICRO" "${micro_args[@]}" --benchmark_out="$out/micro.json" \
    --benchmark_out_format=json >&2
fi

data_json=$out/data.json
if has data; then
  step "data set at scale $scale"
  big=$out/data.db
  start_s=$(date +%s.%N)
  "$DATAGEN" --db "$big" --scale "$scale" --manifest "$out/manifest.json" >&2
  gen_s=$(python3 -c "import sys; print(round($(date +%s.%N) - $start_s, 1))")
  python3 - "$out/manifest.json" "$out/subjects.txt" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
with open(sys.argv[2], "w") as f:
    for s in m["history_subjects"]:
        f.write(s["subject"] + "\n")
PY
  config "$big" >"$out/data.textproto"
  start data-server "$SERVER" --config "$out/data.textproto"
  data_pid=$pid
  export SAMPLAN_SERVER=127.0.0.1:$port SAMPLAN_PKI=$out/pki
  # Grants the data set left to lapse are expired now, by an administrator,
  # so the sweeper adds no events while the audit counts are checked.
  "$CTL" --agency admin-1 --actor bench.admin admin grant expire >&2
  for run in $(seq 1 "$runs"); do
    load audit-history "$run" --scenario audit-history --subjects "$out/subjects.txt" \
      --channels 1 --inflight 1
  done
  load data-plan-read 1 --scenario plan-read "${closed[@]}"
  step "export and offline verification of the whole audit log"
  t0=$(date +%s.%N)
  "$CTL" --agency auditor-1 --actor bench.auditor audit export --out "$out/export.jsonl" >&2
  t1=$(date +%s.%N)
  data_rss=$(rss_kib "$data_pid")
  stop "$data_pid"
  verified=$("$CTL" audit verify --public-key "$out/audit-key.pem.vkey" --export "$out/export.jsonl")
  t2=$(date +%s.%N)
  echo "$verified" >&2
  events=$(echo "$verified" | grep -o '^verified: [0-9]*' | tr -dc 0-9)
  python3 - "$data_json" "$scale" "$gen_s" "$t0" "$t1" "$t2" "$events" "$data_rss" \
    "$(stat -c %s "$big")" <<'PY'
import json, sys
path, scale, gen, t0, t1, t2, events, rss, size = sys.argv[1:]
json.dump({"scale": float(scale), "generate_s": float(gen),
           "export_s": float(t1) - float(t0), "verify_s": float(t2) - float(t1),
           "events": int(events), "rss_kib": int(rss), "db_bytes": int(size)},
          open(path, "w"))
PY
  rm -f "$out/export.jsonl"
fi

step "results"
status=0
python3 "$ROOT/bench/report.py" "$out" "$(cat "$out/load-rss.txt" 2>/dev/null || echo 0)" "$quick" \
  >"$out/results.md" || status=$?
cat "$out/results.md"
exit "$status"
