#!/usr/bin/env bash
# The benchmark programs refuse bad command lines with exit 2 and a message
# that names the flag, and bench/run.sh refuses unknown options and parts.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=build/default/bench
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

# expect CODE TEXT CMD...: CMD exits CODE and its stderr holds TEXT.
expect() {
  local code=$1 text=$2
  shift 2
  local rc=0
  "$@" >/dev/null 2>"$tmp/err" || rc=$?
  if [[ $rc -ne $code ]] || ! grep -qF -- "$text" "$tmp/err"; then
    echo "FAIL: $* -> exit $rc (want $code), stderr:" >&2
    cat "$tmp/err" >&2
    fails=$((fails + 1))
  fi
}

expect 2 "--config is required" "$B/samplan-echo" --response x
expect 2 "--response is required" "$B/samplan-echo" --config x
expect 2 "unknown argument '--port'" "$B/samplan-echo" --port 1
expect 1 "cannot read the configuration file $tmp/none" \
  "$B/samplan-echo" --config "$tmp/none" --response x

expect 2 "--target is required" "$B/samplan-load" --pki p --scenario echo
expect 2 "--pki is required" "$B/samplan-load" --target t --scenario echo
expect 2 "--scenario: unknown scenario 'nope'" \
  "$B/samplan-load" --target t --pki p --scenario nope
expect 2 "--channels must be 1-256" \
  "$B/samplan-load" --target t --pki p --scenario echo --channels 0
expect 2 "--rate must be 1-10000000" \
  "$B/samplan-load" --target t --pki p --scenario echo --rate x
expect 2 "--scenario audit-history needs --subjects FILE" \
  "$B/samplan-load" --target t --pki p --scenario audit-history
expect 2 "--save-response needs a plan scenario" \
  "$B/samplan-load" --target t --pki p --scenario echo --save-response f
expect 2 "--transport must be grpc or rest, not 'http'" \
  "$B/samplan-load" --target t --pki p --scenario plan-read --transport http
expect 2 "--transport rest needs --rest-target HOST:PORT" \
  "$B/samplan-load" --target t --pki p --scenario plan-read --transport rest
expect 2 "--rest-target must be HOST:PORT, not 'localhost'" \
  "$B/samplan-load" --target t --pki p --scenario plan-read --transport rest \
  --rest-target localhost
expect 2 "--transport rest takes --scenario plan-read, plan-withheld or plan-denied (GetPlan), not grant-write" \
  "$B/samplan-load" --target t --pki p --scenario grant-write --transport rest \
  --rest-target t:1
expect 2 "--transport rest takes --scenario plan-read, plan-withheld or plan-denied (GetPlan), not echo" \
  "$B/samplan-load" --target t --pki p --scenario echo --transport rest \
  --rest-target t:1
expect 2 "--rest-target and --rest-threads need --transport rest" \
  "$B/samplan-load" --target t --pki p --scenario plan-read --rest-target t:1
expect 2 "--rest-threads must be 1-64" \
  "$B/samplan-load" --target t --pki p --scenario plan-read --transport rest \
  --rest-target t:1 --rest-threads 0

expect 2 "--db FILE is required" "$B/samplan-datagen" --scale 0.001
"$B/samplan-datagen" --db "$tmp/d.db" --scale 0.0001 >/dev/null 2>&1
expect 2 "already holds data" "$B/samplan-datagen" --db "$tmp/d.db" --scale 0.0001

# The data depends on the seed only: two runs write the same audit log (the
# same root hash) and the same manifest, apart from the time they took.
for run in a b; do
  "$B/samplan-datagen" --db "$tmp/$run.db" --scale 0.0003 --seed 7 \
    --now 2026-01-01 --manifest "$tmp/$run.json" >/dev/null 2>&1
done
if ! diff <(grep -v elapsed_seconds "$tmp/a.json") \
    <(grep -v elapsed_seconds "$tmp/b.json") >"$tmp/diff" ||
    ! grep -q '"audit_root_hash": "[0-9a-f]\{64\}"' "$tmp/a.json"; then
  echo "FAIL: two samplan-datagen runs with the same seed differ:" >&2
  cat "$tmp/diff" >&2
  fails=$((fails + 1))
fi

expect 2 "unknown option '--fast'" bench/run.sh --fast
expect 2 "--parts: unknown part 'foo'" bench/run.sh --parts foo
expect 2 "--runs must be a positive number" bench/run.sh --runs 0
expect 2 "unknown option '--nope'" bench/replicas.sh --nope
expect 2 "--runs must be a positive number" bench/replicas.sh --runs 0

if [[ $fails -ne 0 ]]; then
  echo "bench_usage: $fails check(s) failed" >&2
  exit 1
fi
echo "bench_usage: ok"
