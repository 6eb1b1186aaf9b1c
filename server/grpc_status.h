// The one place where absl::Status becomes grpc::Status: the
// google.rpc.Status of rpc_status.h, sent as the status details.

#ifndef SAMPLAN_SERVER_GRPC_STATUS_H_
#define SAMPLAN_SERVER_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace samplan::server {

grpc::Status ToGrpcStatus(const absl::Status& status);

// The inverse, for clients: code and message, and the ErrorInfo reason and
// metadata as payloads (see common/errors.h).
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace samplan::server

#endif  // SAMPLAN_SERVER_GRPC_STATUS_H_
