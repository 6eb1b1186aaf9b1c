#!/usr/bin/env bash
# Lints the public API protos (proto/samplan/v1) with buf, using the rules in the
# repository's buf.yaml.
#
# buf comes from the npm registry (@bufbuild/buf) and is installed on first use
# into a cache directory outside the repository. When it cannot be installed (no
# npm, or the registry is not reachable) the lint is skipped with a note and the
# script exits 0. Any lint finding makes it exit non-zero.
#
# Environment:
#   SAMPLAN_GOOGLEAPIS_DIR  include root of google/api, google/rpc, google/type
#                           (default: the Debian golang-github-gogo-googleapis-dev path)
#   SAMPLAN_BUF_DIR         where buf is installed (default: $XDG_CACHE_HOME/samplan/buf)
set -euo pipefail

readonly BUF_VERSION=1.75.0
readonly THIRD_PARTY_PROTOS=(
  google/api/annotations.proto
  google/api/http.proto
  google/rpc/code.proto
  google/rpc/error_details.proto
  google/rpc/status.proto
  google/type/date.proto
)

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
googleapis=${SAMPLAN_GOOGLEAPIS_DIR:-/usr/share/gocode/src/github.com/gogo/googleapis}
buf_dir=${SAMPLAN_BUF_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/samplan/buf}
buf=$buf_dir/node_modules/.bin/buf

if [[ ! -f $googleapis/google/api/annotations.proto ]]; then
  echo "lint: $googleapis/google/api/annotations.proto not found;" \
    "install the Debian package golang-github-gogo-googleapis-dev" \
    "or set SAMPLAN_GOOGLEAPIS_DIR" >&2
  exit 1
fi

if [[ ! -x $buf ]] || [[ $("$buf" --version 2>/dev/null) != "$BUF_VERSION" ]]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "lint: skipped, npm not installed"
    exit 0
  fi
  mkdir -p "$buf_dir"
  if ! npm install --prefix "$buf_dir" --no-audit --no-fund --loglevel=error \
      --fetch-retries=1 --fetch-timeout=60000 \
      "@bufbuild/buf@$BUF_VERSION" >"$buf_dir/npm-install.log" 2>&1 \
      || [[ ! -x $buf ]]; then
    echo "lint: skipped, npm registry not reachable (see $buf_dir/npm-install.log)"
    exit 0
  fi
fi

# A throw-away workspace: the repository's buf.yaml, our protos, and copies of the
# third-party protos they import, placed in the same module so that imports
# resolve without remote modules. Only proto/samplan is linted.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$repo/buf.yaml" "$work/buf.yaml"
mkdir -p "$work/proto"
cp -R "$repo/proto/samplan" "$work/proto/samplan"
for f in "${THIRD_PARTY_PROTOS[@]}"; do
  mkdir -p "$work/proto/$(dirname "$f")"
  cp "$googleapis/$f" "$work/proto/$f"
done

cd "$work"
if "$buf" lint --path proto/samplan; then
  echo "lint: ok (buf $BUF_VERSION, $(find proto/samplan -name '*.proto' | wc -l) files)"
else
  status=$?
  echo "lint: buf lint reported findings (exit $status)" >&2
  exit "$status"
fi
