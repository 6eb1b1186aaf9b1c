#!/usr/bin/env bash
# The application layer is transport-free: nothing in app/ (or render/, the
# documents it makes) includes a gRPC or HTTP header, and its library
# references no gRPC symbol. Run by ctest with the build tree's
# libsamplan_app.a as the first argument.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
lib=${1:?usage: layers_test.sh LIBSAMPLAN_APP}
fail=0
if grep -nE '#include *[<"](grpc|grpcpp|httplib|boost/beast)' "$root"/app/*.h "$root"/app/*.cc \
    "$root"/render/*.h "$root"/render/*.cc; then
  echo "app/ or render/ includes a transport header (above)"; fail=1
fi
if grep -n 'grpc.pb.h' "$root"/app/*.h "$root"/app/*.cc; then
  echo "app/ includes generated gRPC service code (above)"; fail=1
fi
grpc_symbols=$(nm -C "$lib" | grep -E ' U .*grpc(pp)?::' || true)
if [[ -n $grpc_symbols ]]; then
  echo "$grpc_symbols" | head -5
  echo "$lib references gRPC symbols (above)"; fail=1
fi
[[ $fail -eq 0 ]] && echo "layers: app/ is transport-free"
exit $fail
