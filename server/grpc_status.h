// The one place where absl::Status becomes grpc::Status. The machine reason
// and metadata carried by the status (common/errors.h) become a
// google.rpc.ErrorInfo (domain "samplan.se") in the status details.

#ifndef SAMPLAN_SERVER_GRPC_STATUS_H_
#define SAMPLAN_SERVER_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace samplan::server {

inline constexpr char kErrorDomain[] = "samplan.se";

grpc::Status ToGrpcStatus(const absl::Status& status);

// The inverse, for clients: code and message, and the ErrorInfo reason and
// metadata as payloads (see common/errors.h).
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace samplan::server

#endif  // SAMPLAN_SERVER_GRPC_STATUS_H_
