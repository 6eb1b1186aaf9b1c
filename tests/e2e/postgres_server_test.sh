#!/usr/bin/env bash
# End to end on PostgreSQL, with the built binaries: Debian's PostgreSQL
# started on loopback in a temporary directory (deploy/pg-local.sh), the
# first agencies registered with `register-agency --postgres`, and two
# samplan-server processes on the one database. A plan created through one
# is read through the other over gRPC and over REST; a custody fact
# recorded through one is listed by the other; an agency disabled through
# one is refused by the other; the whole audit log, exported through the
# second, verifies offline.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$root/build/default
server_bin=$bin/server/samplan-server
ctl_bin=$bin/client/samplanctl
work=$(mktemp -d)
chmod 755 "$work"  # PostgreSQL runs as user postgres when we are root
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  "$root/deploy/pg-local.sh" stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "postgres e2e: $*" >&2; exit 1; }

admin=$("$root/deploy/pg-local.sh" start "$work/pg" --no-fsync)
psql "$admin" -qAt -c "CREATE DATABASE samplan" >/dev/null
db="$admin dbname=samplan"

"$root/deploy/dev-pki.sh" "$work/pki" school-1 bup-1 auditor-1 admin-1 >/dev/null
"$server_bin" keygen --out "$work/key.pem" --origin e2e.localhost/audit >/dev/null
# register-agency takes one database: neither or both is a usage error (2).
set +e
"$server_bin" register-agency --id x-1 --sector SCHOOL --role AGENCY_SYSTEM \
  2>/dev/null
neither=$?
"$server_bin" register-agency --db "$work/x.db" --postgres "$db" --id x-1 \
  --sector SCHOOL --role AGENCY_SYSTEM 2>/dev/null
both=$?
set -e
[[ $neither -eq 2 && $both -eq 2 ]] ||
  fail "register-agency with neither or both databases: exit $neither and $both, not 2"
for a in "school-1 SCHOOL AGENCY_SYSTEM" "bup-1 HEALTHCARE AGENCY_SYSTEM" \
         "auditor-1 HEALTHCARE AUDITOR" "admin-1 SOCIAL_SERVICES ADMINISTRATOR"; do
  set -- $a
  "$server_bin" register-agency --postgres "$db" --id "$1" --sector "$2" \
    --role "$3" >/dev/null
done
cat >"$work/samplan.textproto" <<CONF
api { address: "127.0.0.1:0" }
rest { address: "127.0.0.1:0" }
tls {
  ca_file: "$work/pki/ca.pem"
  cert_file: "$work/pki/server.pem"
  key_file: "$work/pki/server.key"
}
storage { postgres { conninfo: "$db" } }
audit {
  origin: "e2e.localhost/audit"
  signing_key_file: "$work/key.pem"
  checkpoint_every_events: 5
}
CONF

# start NAME: a server in the background; sets ${NAME}_port, ${NAME}_rest.
start() {
  local log=$work/$1.log
  : >"$log"
  "$server_bin" --config "$work/samplan.textproto" 2>>"$log" &
  local pid=$!
  pids+=("$pid")
  local port=""
  for _ in $(seq 1 200); do
    port=$(grep -o 'port [0-9]*)' "$log" | head -1 | tr -dc 0-9 || true)
    [[ -n $port ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  [[ -n $port ]] || { cat "$log" >&2; fail "server $1 did not start"; }
  printf -v "${1}_port" '%s' "$port"
  printf -v "${1}_rest" '%s' "$(grep -o 'rest port [0-9]*' "$log" | tr -dc 0-9)"
}
start a
start b
ctl() {  # ctl PORT AGENCY args...
  local port=$1 agency=$2; shift 2
  "$ctl_bin" --server "localhost:$port" --pki "$work/pki" --agency "$agency" \
    --actor e2e.staff "$@"
}
# shellcheck source=tests/e2e/lib.sh
source "$root/tests/e2e/lib.sh"
child=$(pnr 20160510 238)

# Created on A, read on B over gRPC and over REST.
plan=$(ctl "$a_port" school-1 plan create --subject "$child" \
  --coordinator-name "Anna Lind" --invite-agency bup-1 | grep -o 'plans/[a-z0-9]*' | head -1)
[[ -n $plan ]] || fail "no plan created"
ctl "$b_port" school-1 plan get --plan "$plan" | grep -q "Anna Lind" ||
  fail "replica B does not show the plan created on A"
code=$(curl -sS -o "$work/plan.json" -w '%{http_code}' \
  --cacert "$work/pki/ca.pem" --cert "$work/pki/school-1.pem" \
  --key "$work/pki/school-1.key" -H 'x-samplan-actor: e2e.staff' \
  "https://localhost:$b_rest/v1/$plan")
[[ $code == 200 ]] || { cat "$work/plan.json" >&2; fail "REST read on B: HTTP $code"; }
grep -q '"displayName":"Anna Lind"' "$work/plan.json" || fail "REST read on B: no coordinator"

# Custody recorded on A is on B's next read of the subject's facts.
ctl "$a_port" school-1 custody create --subject "$child" \
  --guardian "$(pnr 19850301 111)" --from 2016-05-10 \
  --evidence register-extract:folkbokforing >/dev/null
ctl "$b_port" school-1 custody search --subject "$child" | grep -q "custodyFacts/" ||
  fail "replica B does not list the custody fact recorded on A"

# An agency disabled through A is refused by B: B's cache of the registry
# hears of the change (LISTEN/NOTIFY), within moments.
ctl "$b_port" bup-1 plan list >/dev/null || fail "bup-1 refused before it was disabled"
ctl "$a_port" admin-1 admin agency disable --id bup-1 --reason "e2e" >/dev/null
refused=0
for _ in $(seq 1 100); do
  if ctl "$b_port" bup-1 plan list >"$work/refused.txt" 2>&1; then
    sleep 0.05
  else
    refused=1
    break
  fi
done
[[ $refused -eq 1 ]] || fail "replica B still serves an agency disabled through A"
grep -q "AGENCY_DISABLED\|disabled" "$work/refused.txt" ||
  { cat "$work/refused.txt" >&2; fail "B refused bup-1 for another reason"; }

# One audit log: exported through B, verified offline.
ctl "$b_port" auditor-1 audit export --out "$work/export.jsonl" >/dev/null
out=$("$ctl_bin" audit verify --public-key "$work/key.pem.vkey" \
  --export "$work/export.jsonl")
echo "$out" | grep -q "^verified: " || { echo "$out" >&2; fail "the export does not verify"; }

# The service logs hold no identity numbers.
if grep -qE "$child" "$work/a.log" "$work/b.log"; then
  fail "a service log contains an identity number"
fi
for p in "${pids[@]}"; do kill -TERM "$p"; done
for p in "${pids[@]}"; do wait "$p" || fail "a server did not stop cleanly"; done
pids=()
echo "postgres e2e: ok ($out)"
