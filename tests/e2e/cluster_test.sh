#!/usr/bin/env bash
# End to end: deploy/cluster.sh as an operator uses it. `up` starts
# PostgreSQL and three replicas on a free range of ports and prints the
# target; a plan created through replica 1 is read through replica 2 over
# gRPC and replica 3 over REST; a page token from one replica works on
# another; /metrics answers administrators only and counts the calls; a
# replica stopped is brought back by `up` alone; the audit log verifies
# offline; `down` stops everything and may be repeated.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
ctl_bin=$root/build/default/client/samplanctl
work=$(mktemp -d)
chmod 711 "$work"  # PostgreSQL runs as user postgres when we are root
c=$work/c
cleanup() {
  "$root/deploy/cluster.sh" down "$c" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "cluster e2e: $*" >&2; exit 1; }

target=$("$root/deploy/cluster.sh" up "$c" --base-port 0 --no-fsync 2>"$work/up.log") ||
  { cat "$work/up.log" >&2; fail "up failed"; }
[[ $target =~ ^ipv4:127\.0\.0\.1:[0-9]+,127\.0\.0\.1:[0-9]+,127\.0\.0\.1:[0-9]+$ ]] ||
  fail "up printed '$target', not a target of three replicas"
IFS=, read -r r1 r2 r3 <<<"${target#ipv4:}"
port() { echo "${1##*:}"; }
status=$("$root/deploy/cluster.sh" status "$c")
[[ $(grep -c ' answers ' <<<"$status") -eq 3 ]] ||
  { echo "$status" >&2; fail "status does not show three answering replicas"; }

ctl() {  # ctl REPLICA AGENCY args...
  local replica=$1 agency=$2; shift 2
  "$ctl_bin" --server "localhost:$(port "$replica")" --pki "$c/pki" \
    --agency "$agency" --actor e2e.staff "$@"
}
# shellcheck source=tests/e2e/lib.sh
source "$root/tests/e2e/lib.sh"
child=$(pnr 20160510 238)

plan=$(ctl "$r1" school-1 plan create --subject "$child" \
  --coordinator-name "Anna Lind" --invite-agency bup-1 | grep -o 'plans/[a-z0-9]*' | head -1)
[[ -n $plan ]] || fail "no plan created on replica 1"
ctl "$r2" school-1 plan get --plan "$plan" | grep -q "Anna Lind" ||
  fail "replica 2 does not show the plan created on replica 1"
rest3=$(($(port "$r3") + 2))
curl() { command curl -sS --cacert "$c/pki/ca.pem" --cert "$c/pki/$1.pem" \
  --key "$c/pki/$1.key" "${@:2}"; }
code=$(curl school-1 -o "$work/plan.json" -w '%{http_code}' \
  -H 'x-samplan-actor: e2e.staff' "https://localhost:$rest3/v1/$plan")
[[ $code == 200 ]] || { cat "$work/plan.json" >&2; fail "REST read on replica 3: HTTP $code"; }

# A page of the subject's audit events from replica 1, the next from 2.
search() {  # search REPLICA BODY
  curl auditor-1 -H 'x-samplan-actor: e2e.revisor' -H 'content-type: application/json' \
    -d "$2" "https://localhost:$(($(port "$1") + 2))/v1/auditEvents:search" "${@:3}"
}
page=$(search "$r1" "{\"filter\":{\"subject\":\"$child\"},\"pageSize\":1}")
token=$(echo "$page" | grep -o '"nextPageToken":"[^"]*"' | cut -d'"' -f4)
[[ -n $token ]] || { echo "$page" >&2; fail "no next page token"; }
code=$(search "$r2" "{\"filter\":{\"subject\":\"$child\"},\"pageSize\":1,\"pageToken\":\"$token\"}" \
  -o "$work/page2.json" -w '%{http_code}')
[[ $code == 200 ]] || { cat "$work/page2.json" >&2; fail "replica 2 refused replica 1's page token: HTTP $code"; }

# Metrics: administrators only; the create counted where it ran.
metrics1=$(($(port "$r1") + 3))
curl admin-1 "https://localhost:$metrics1/metrics" >"$work/metrics.txt"
grep -q '^samplan_calls_total{method="samplan.v1.PlanService.CreatePlan",code="OK"} 1$' \
  "$work/metrics.txt" || { cat "$work/metrics.txt" >&2; fail "replica 1 did not count its CreatePlan"; }
grep -q '^samplan_storage_up 1$' "$work/metrics.txt" || fail "samplan_storage_up is not 1"
code=$(curl school-1 -o /dev/null -w '%{http_code}' "https://localhost:$metrics1/metrics")
[[ $code == 403 ]] || fail "an agency system scraped /metrics: HTTP $code"

# A replica that stops is started again by up, the others left running.
pid2=$(<"$c/replica-2/pid")
kill -TERM "$pid2"
tail --pid="$pid2" -f /dev/null  # waits for it to exit
"$root/deploy/cluster.sh" up "$c" --no-fsync >/dev/null 2>"$work/up2.log" ||
  { cat "$work/up2.log" >&2; fail "the second up failed"; }
grep -q "replica 1 already runs" "$work/up2.log" || fail "the second up restarted replica 1"
ctl "$r2" school-1 plan get --plan "$plan" >/dev/null || fail "replica 2 did not come back"

ctl "$r3" auditor-1 audit export --out "$work/export.jsonl" >/dev/null
out=$("$ctl_bin" audit verify --public-key "$c/audit-key.pem.vkey" \
  --export "$work/export.jsonl")
echo "$out" | grep -q "^verified: " || { echo "$out" >&2; fail "the export does not verify"; }
if grep -q "$child" "$c"/replica-*/log; then
  fail "a service log contains an identity number"
fi

"$root/deploy/cluster.sh" down "$c" 2>/dev/null || fail "down failed"
"$root/deploy/cluster.sh" down "$c" 2>/dev/null || fail "a second down failed"
after=$("$root/deploy/cluster.sh" status "$c")
[[ $after == *"postgresql  stopped"* && $after != *" answers "* ]] ||
  { echo "$after" >&2; fail "something still runs after down"; }
echo "cluster e2e: ok ($out)"
