#!/usr/bin/env bash
# Validates an OpenAPI 3.1 document (YAML or JSON; docs/openapi.yaml in the
# project) against the official OpenAPI 3.1 JSON Schemas, using two validators
# from the npm registry driven by openapi_validate.mjs beside this script:
#   - @seriousme/openapi-schema-validator: the OAS 3.1 schema, with ajv's
#     messages, and a check that every "$ref" resolves;
#   - @hyperjump/json-schema: the OAS 3.1 "schema-base" schema, which also checks
#     every Schema Object against the OAS 3.1 dialect of JSON Schema 2020-12.
# Each finding is printed as "FILE: [check] /json/pointer: message".
#
# Both packages are installed at pinned versions on first use into a cache
# directory outside the repository; later runs need no network. When they cannot
# be installed (no node or npm, or the registry is not reachable) the script
# prints "openapi_validate: SKIPPED (<reason>)" and exits 77, which CTest reports
# as skipped when the test sets SKIP_RETURN_CODE 77.
#
# Usage: openapi_validate.sh FILE
#        openapi_validate.sh --help
# Exit status: 0 valid; 1 invalid or unreadable; 2 usage or internal error;
#              77 skipped.
#
# Environment:
#   SAMPLAN_OPENAPI_VALIDATOR_DIR  where the validators are installed
#                                  (default: $XDG_CACHE_HOME/samplan/openapi-validator,
#                                  i.e. ~/.cache/samplan/openapi-validator)
set -euo pipefail

readonly SERIOUSME_VERSION=2.11.0  # @seriousme/openapi-schema-validator
readonly HYPERJUMP_VERSION=1.18.0  # @hyperjump/json-schema
readonly SKIP=77

usage() {
  sed -n '2,/^set -euo pipefail$/{/^set /d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

skip() {
  echo "openapi_validate: SKIPPED ($1)"
  exit "$SKIP"
}

case ${1:-} in
  -h|--help) usage; exit 0 ;;
  '') usage >&2; exit 2 ;;
esac
if [[ $# -ne 1 ]]; then
  usage >&2
  exit 2
fi
file=$1
if [[ ! -r $file ]]; then
  echo "openapi_validate: $file: cannot read" >&2
  exit 1
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
validator_dir=${SAMPLAN_OPENAPI_VALIDATOR_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/samplan/openapi-validator}

command -v node >/dev/null 2>&1 || skip "node not installed"

# Version of an installed package, or nothing.
installed_version() {
  local manifest=$validator_dir/node_modules/$1/package.json
  [[ -f $manifest ]] || return 0
  node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).version)' \
    "$manifest" 2>/dev/null || true
}

if [[ $(installed_version @seriousme/openapi-schema-validator) != "$SERIOUSME_VERSION" ]] \
    || [[ $(installed_version @hyperjump/json-schema) != "$HYPERJUMP_VERSION" ]]; then
  command -v npm >/dev/null 2>&1 || skip "npm not installed"
  mkdir -p "$validator_dir"
  if ! npm install --prefix "$validator_dir" --no-audit --no-fund --loglevel=error \
      --ignore-scripts --fetch-retries=1 --fetch-timeout=60000 \
      "@seriousme/openapi-schema-validator@$SERIOUSME_VERSION" \
      "@hyperjump/json-schema@$HYPERJUMP_VERSION" >"$validator_dir/npm-install.log" 2>&1; then
    skip "npm registry not reachable, see $validator_dir/npm-install.log"
  fi
  if [[ $(installed_version @seriousme/openapi-schema-validator) != "$SERIOUSME_VERSION" ]] \
      || [[ $(installed_version @hyperjump/json-schema) != "$HYPERJUMP_VERSION" ]]; then
    skip "npm install left no usable validator, see $validator_dir/npm-install.log"
  fi
fi

# Exit status of the driver: 0 valid, 1 invalid, 2 usage or internal error.
exec node "$here/openapi_validate.mjs" "$validator_dir" "$file"
