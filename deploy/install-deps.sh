#!/usr/bin/env bash
# Installs the Debian 12 packages samplan needs to build, test and run.
# Idempotent: when every package is already present it returns at once
# without touching the package index.
set -euo pipefail

PACKAGES=(
  # toolchain
  g++ cmake ninja-build pkg-config ccache git
  # libraries
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libsqlitecpp-dev libsqlite3-dev libspdlog-dev libfmt-dev libssl-dev
  libboost-dev
  # the family's copy as PDF: Cairo, Pango and the DejaVu fonts
  libcairo2-dev libpango1.0-dev fonts-dejavu-core
  # the PostgreSQL backend: libpq, and the server the tests start
  libpq-dev postgresql
  # protos from outside: google/api/*.proto, google/rpc/*.proto; grpc health
  golang-github-gogo-googleapis-dev grpc-proto
  # tests and benchmarks
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  # the fuzzers (tests/fuzz): clang with libFuzzer and its sanitizers
  clang-14 libclang-rt-14-dev
  # tools used by scripts; pdftotext reads the PDFs back in the tests
  openssl sqlite3 tzdata python3 curl poppler-utils
)
# node and npm: the tests fetch the OpenAPI validator and buf from npm. A
# node already installed (with the npm it bundles) is used as it is.
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root, or: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
