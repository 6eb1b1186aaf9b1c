#!/usr/bin/env bash
# End to end, with the built binaries: the audit log survives a SIGKILL in
# the middle of a load (the tree continues and the checkpoint saved before
# the crash is still a prefix of the log), and `samplanctl audit verify`
# detects, offline, an altered byte, a removed event, two swapped events, a
# truncated export, and a checkpoint signed by another key, naming the leaf.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$root/build/default
server_bin=$bin/server/samplan-server
ctl_bin=$bin/client/samplanctl
work=$(mktemp -d)
server_pid=""
cleanup() {
  [[ -n $server_pid ]] && kill -9 "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "audit e2e: $*" >&2; exit 1; }

"$root/deploy/dev-pki.sh" "$work/pki" school-1 auditor-1 >/dev/null
"$server_bin" keygen --out "$work/key.pem" --origin e2e.localhost/audit >/dev/null
"$server_bin" keygen --out "$work/other.pem" --origin e2e.localhost/audit >/dev/null
for a in "school-1 SCHOOL AGENCY_SYSTEM" "auditor-1 HEALTHCARE AUDITOR"; do
  set -- $a
  "$server_bin" register-agency --db "$work/samplan.db" --id "$1" --sector "$2" \
    --role "$3" >/dev/null
done
cat >"$work/samplan.textproto" <<CONF
api { address: "127.0.0.1:0" }
tls {
  ca_file: "$work/pki/ca.pem"
  cert_file: "$work/pki/server.pem"
  key_file: "$work/pki/server.key"
}
storage { sqlite_path: "$work/samplan.db" }
audit {
  origin: "e2e.localhost/audit"
  signing_key_file: "$work/key.pem"
  checkpoint_every_events: 7
}
CONF

start_server() {  # starts the server in the background and sets $port
  : >"$work/server.log"
  "$server_bin" --config "$work/samplan.textproto" 2>>"$work/server.log" &
  server_pid=$!
  port=""
  for _ in $(seq 1 200); do
    port=$(grep -o 'port [0-9]*)' "$work/server.log" | head -1 | tr -dc 0-9 || true)
    [[ -n $port ]] && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
  done
  cat "$work/server.log" >&2
  fail "the server did not start"
}
ctl() {  # ctl AGENCY args...
  local agency=$1; shift
  "$ctl_bin" --server "localhost:$port" --pki "$work/pki" --agency "$agency" \
    --actor e2e.staff "$@"
}

# shellcheck source=tests/e2e/lib.sh
source "$root/tests/e2e/lib.sh"
child=$(pnr 20160510 238)
guardian=$(pnr 19850301 111)

start_server
# Load: two writers record custody facts (each audited) until stopped.
load() {
  local i=0
  while :; do
    ctl school-1 custody create --subject "$child" --guardian "$guardian" \
      --from 2016-05-10 --evidence register-extract:e2e-$1-$i >/dev/null 2>&1 || true
    i=$((i + 1))
  done
}
load a & load_a=$!
load b & load_b=$!
# Let the load run, save a checkpoint while it does, then crash the server.
for _ in $(seq 1 100); do
  size=$(ctl auditor-1 audit checkpoint --refresh --json 2>/dev/null |
    grep -o '"treeSize": *[0-9][0-9]*' | tr -dc 0-9 || true)
  [[ -n $size && $size -ge 20 ]] && break
  sleep 0.05
done
[[ -n ${size:-} && $size -ge 20 ]] || fail "the load did not reach 20 events"
ctl auditor-1 audit checkpoint --refresh --out "$work/saved.checkpoint" >/dev/null
kill -9 "$server_pid"
wait "$server_pid" 2>/dev/null || true
kill "$load_a" "$load_b" 2>/dev/null || true
wait "$load_a" "$load_b" 2>/dev/null || true
saved_size=$(sed -n 2p "$work/saved.checkpoint")

# Restart on the same database: the log continues the same tree.
start_server
ctl school-1 custody create --subject "$child" --guardian "$guardian" \
  --from 2016-05-10 --evidence register-extract:after-restart >/dev/null
ctl auditor-1 audit consistency --saved-checkpoint "$work/saved.checkpoint" \
  --public-key "$work/key.pem.vkey" >"$work/consistency.out" ||
  { cat "$work/consistency.out"; fail "no consistency after SIGKILL"; }
# The proof must span the restart: the log grew past the saved checkpoint.
grep -qE "proof of [1-9][0-9]* hash" "$work/consistency.out" ||
  { cat "$work/consistency.out"; fail "the consistency proof spans nothing"; }
ctl auditor-1 audit export --out "$work/export.jsonl" >/dev/null 2>&1
kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""

verify() {  # verify EXPORT [KEY] [more flags]: prints the output, returns the exit code
  local export=$1 key=${2:-$work/key.pem.vkey}
  shift 2 || shift $#
  set +e
  "$ctl_bin" audit verify --public-key "$key" --export "$export" \
    --checkpoint "$work/export.jsonl.checkpoint" "$@" >"$work/verify.out" 2>&1
  local rc=$?
  set -e
  return $rc
}
verify "$work/export.jsonl" "$work/key.pem.vkey" \
  --saved-checkpoint "$work/saved.checkpoint" ||
  { cat "$work/verify.out"; fail "the untouched export does not verify"; }
grep -q "consistent with saved checkpoint of size $saved_size" "$work/verify.out" ||
  { cat "$work/verify.out"; fail "the saved checkpoint was not checked"; }
events=$(wc -l <"$work/export.jsonl")
(( events > saved_size )) || fail "the log did not grow after the restart"

expect_failure() {  # expect_failure NAME EXPECTED-TEXT EXPORT [KEY]
  local name=$1 want=$2 export=$3 key=${4:-$work/key.pem.vkey} rc=0
  verify "$export" "$key" || rc=$?
  [[ $rc -eq 5 ]] || { cat "$work/verify.out"; fail "$name: exit $rc, want 5"; }
  grep -qF -- "$want" "$work/verify.out" ||
    { cat "$work/verify.out"; fail "$name: output lacks '$want'"; }
  echo "detected: $name: $(grep -o 'FAILED: .*' "$work/verify.out")"
}
t=$work/tampered.jsonl
# One byte of event 5's content (a digit of its time) changed.
awk 'NR == 6 { sub(/"time":"20/, "\"time\":\"21") } { print }' "$work/export.jsonl" >"$t"
expect_failure "altered byte" "leaf 5 was altered" "$t"
# Event 5 removed.
sed '6d' "$work/export.jsonl" >"$t"
expect_failure "removed event" "leaf 5 is missing: line 6 holds leaf 6" "$t"
# Events 3 and 4 swapped.
awk 'NR == 4 { held = $0; next } NR == 5 { print; print held; next } { print }' \
  "$work/export.jsonl" >"$t"
expect_failure "swapped events" "leaf 3 is missing: line 4 holds leaf 4" "$t"
# The last three events cut off.
head -n $((events - 3)) "$work/export.jsonl" >"$t"
expect_failure "truncated log" "leaf $((events - 3)) is missing: the export ends" "$t"
# The right export, checked with another key.
expect_failure "another key" "signature" "$work/export.jsonl" "$work/other.pem.vkey"
# docs/audit.md's "By hand" recipe, as written there: it verifies the export
# and rejects a tampered one. install-deps.sh installs python3 and openssl.
sed -n '/^```python/,/^```$/p' "$root/docs/audit.md" | sed '1d;$d' >"$work/verify_export.py"
python3 "$work/verify_export.py" "$work/export.jsonl" "$work/export.jsonl.checkpoint" >/dev/null ||
  fail "the by-hand script of docs/audit.md does not verify the export"
awk 'NR == 6 { sub(/"time":"20/, "\"time\":\"21") } { print }' "$work/export.jsonl" >"$t"
if python3 "$work/verify_export.py" "$t" "$work/export.jsonl.checkpoint" >/dev/null 2>&1; then
  fail "the by-hand script of docs/audit.md accepts an altered export"
fi
head -n 3 "$work/export.jsonl.checkpoint" >"$work/body.txt"
tail -n 1 "$work/export.jsonl.checkpoint" | awk '{print $3}' | base64 -d | tail -c 64 >"$work/sig.bin"
openssl pkeyutl -verify -pubin -inkey "$work/key.pem.pub" -rawin -in "$work/body.txt" \
  -sigfile "$work/sig.bin" >/dev/null || fail "openssl rejects the checkpoint signature"
echo "audit e2e: ok ($events events; saved checkpoint of $saved_size survived SIGKILL)"
