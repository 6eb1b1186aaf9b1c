#!/usr/bin/env bash
# Runs every test of samplan: installs missing Debian packages, builds,
# runs the test suite (ctest), then the unit and integration tests again under
# AddressSanitizer + UndefinedBehaviorSanitizer and under ThreadSanitizer,
# then the fuzz targets (clang, libFuzzer) briefly on their
# corpora, then the API lint.
# Fails on the first failure.
#
#   ./tests/run.sh            everything
#   ./tests/run.sh --fast     the default build and its tests only
set -euo pipefail
cd "$(dirname "$0")/.."

fast=0
for arg in "$@"; do
  case "$arg" in
    --fast) fast=1 ;;
    -h|--help)
      sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
      exit 0 ;;
    *) echo "run.sh: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

step() { printf '\n==> %s\n' "$*"; }

step "dependencies"
./deploy/install-deps.sh

export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"

step "build (default preset)"
cmake --preset default >/dev/null
cmake --build --preset default

step "tests (default preset)"
ctest --preset default

if [[ $fast -eq 0 ]]; then
  step "build (asan preset: AddressSanitizer + UndefinedBehaviorSanitizer)"
  cmake --preset asan >/dev/null
  cmake --build --preset asan

  step "unit and integration tests under ASan + UBSan"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0" \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --preset asan

  step "build (tsan preset: ThreadSanitizer)"
  cmake --preset tsan >/dev/null
  cmake --build --preset tsan

  # Debian's gRPC, Abseil and protobuf are not built for TSan: the
  # interceptors called from them report nothing, and tests/tsan/tsan.supp
  # names the synchronizations they hide (docs/security.md). A test that
  # fails is run once more: gRPC's reuse of its call arenas can still give a
  # rare report the suppressions do not name; the output keeps the first.
  step "unit and integration tests under ThreadSanitizer"
  TSAN_OPTIONS="suppressions=$PWD/tests/tsan/tsan.supp:ignore_noninstrumented_modules=1:history_size=7:second_deadlock_stack=1" \
    ctest --preset tsan --repeat until-pass:2

  step "fuzz targets (clang, libFuzzer + ASan + UBSan), 20 s each"
  ./tests/fuzz/run.sh 20

  step "API lint (buf)"
  ./tests/lint.sh
fi

step "all tests passed"
