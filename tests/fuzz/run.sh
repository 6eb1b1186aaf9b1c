#!/usr/bin/env bash
# Builds the fuzz targets (the fuzz preset: clang, libFuzzer, ASan + UBSan)
# and runs each for SECONDS seconds on its corpus in tests/fuzz/corpus/.
# New inputs that reach new code go to a temporary directory, not into the
# repository; a crash stops the run and leaves its input in build/fuzz/.
#
#   tests/fuzz/run.sh SECONDS           every target, SECONDS each
#   tests/fuzz/run.sh SECONDS NAME...   only these targets
#   tests/fuzz/run.sh --seeds           rewrite the seed inputs of every
#                                       corpus (after a request changes)
#
# Prints, per target, the executions, the corpus size and the outcome.
set -euo pipefail
cd "$(dirname "$0")/../.."

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }
if [[ $# -lt 1 ]]; then usage >&2; exit 2; fi
case "$1" in
  -h|--help) usage; exit 0 ;;
esac

TARGETS=(identity_number_fuzz checkpoint_note_fuzz export_verify_fuzz
         config_fuzz rest_fuzz app_methods_fuzz)

export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz

if [[ "$1" == "--seeds" ]]; then
  for t in "${TARGETS[@]}"; do
    mkdir -p "tests/fuzz/corpus/$t"
    SAMPLAN_FUZZ_WRITE_SEEDS="tests/fuzz/corpus/$t" "build/fuzz/tests/fuzz/$t"
    echo "$t: $(ls "tests/fuzz/corpus/$t" | wc -l) seeds"
  done
  exit 0
fi

seconds="$1"; shift
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [[ "$seconds" -lt 1 ]]; then
  echo "run.sh: SECONDS must be a whole number of seconds, at least 1" >&2
  exit 2
fi
if [[ $# -gt 0 ]]; then TARGETS=("$@"); fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p build/fuzz/crashes
printf '%-22s %12s %8s  %s\n' target executions corpus outcome
status=0
for t in "${TARGETS[@]}"; do
  bin="build/fuzz/tests/fuzz/$t"
  if [[ ! -x "$bin" ]]; then
    echo "run.sh: no fuzz target '$t' (one of: ${TARGETS[*]})" >&2
    exit 2
  fi
  mkdir -p "$work/$t"
  log="$work/$t.log"
  # tests/lsan.supp: what third-party libraries keep for the process's life.
  if LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0" \
     "$bin" "$work/$t" "tests/fuzz/corpus/$t" -max_total_time="$seconds" \
       -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
       -artifact_prefix="build/fuzz/crashes/$t-" >"$log" 2>&1; then
    outcome="no crash"
  else
    outcome="FAILED (input in build/fuzz/crashes/)"
    status=1
  fi
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  corpus="$(( $(ls "$work/$t" | wc -l) + $(ls "tests/fuzz/corpus/$t" | wc -l) ))"
  printf '%-22s %12s %8s  %s\n' "$t" "${runs:-?}" "$corpus" "$outcome"
  if [[ $status -ne 0 ]]; then
    tail -40 "$log" >&2
    exit 1
  fi
done
