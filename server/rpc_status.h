// An absl::Status as the google.rpc.Status that clients receive, over any
// transport: code, message, and one google.rpc.ErrorInfo (domain
// "samplan.se") carrying the machine reason and metadata attached to the
// status (common/errors.h). gRPC sends it as the status details
// (grpc_status.h); REST as the JSON body of the error response.

#ifndef SAMPLAN_SERVER_RPC_STATUS_H_
#define SAMPLAN_SERVER_RPC_STATUS_H_

#include "absl/status/status.h"
#include "google/rpc/status.pb.h"

namespace samplan::server {

inline constexpr char kErrorDomain[] = "samplan.se";

// `status` must not be OK.
google::rpc::Status ToRpcStatus(const absl::Status& status);

// The inverse: code and message, and the ErrorInfo reason and metadata as
// payloads (see common/errors.h).
absl::Status FromRpcStatus(const google::rpc::Status& status);

// The HTTP status for a gRPC code, as google/rpc/code.proto documents it
// (OK 200, INVALID_ARGUMENT 400, NOT_FOUND 404, ABORTED 409, ...).
int HttpStatusOf(absl::StatusCode code);

}  // namespace samplan::server

#endif  // SAMPLAN_SERVER_RPC_STATUS_H_
