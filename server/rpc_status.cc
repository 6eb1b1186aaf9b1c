#include "server/rpc_status.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/strip.h"
#include "common/errors.h"
#include "google/rpc/error_details.pb.h"

namespace samplan::server {

google::rpc::Status ToRpcStatus(const absl::Status& status) {
  google::rpc::Status out;
  out.set_code(static_cast<int>(status.code()));
  out.set_message(std::string(status.message()));
  google::rpc::ErrorInfo info;
  info.set_domain(kErrorDomain);
  auto reason = ReasonOf(status);
  if (reason.has_value()) {
    info.set_reason(*reason);
  } else if (status.code() == absl::StatusCode::kInternal ||
             status.code() == absl::StatusCode::kUnknown) {
    info.set_reason("INTERNAL");
  } else if (status.code() == absl::StatusCode::kUnavailable) {
    info.set_reason("STORAGE_UNAVAILABLE");
  }
  status.ForEachPayload([&info](absl::string_view type_url,
                                const absl::Cord& value) {
    if (absl::ConsumePrefix(&type_url, kMetadataPayloadPrefix)) {
      (*info.mutable_metadata())[std::string(type_url)] = std::string(value);
    }
  });
  if (!info.reason().empty()) out.add_details()->PackFrom(info);
  return out;
}

absl::Status FromRpcStatus(const google::rpc::Status& status) {
  if (status.code() == 0) return absl::OkStatus();
  absl::Status out(static_cast<absl::StatusCode>(status.code()),
                   status.message());
  for (const auto& any : status.details()) {
    google::rpc::ErrorInfo info;
    if (!any.UnpackTo(&info)) continue;
    if (!info.reason().empty()) out = WithReason(std::move(out), info.reason());
    for (const auto& [key, value] : info.metadata()) {
      out = WithMetadata(std::move(out), key, value);
    }
  }
  return out;
}

int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kCancelled:
      return 499;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kDataLoss:
    default:
      return 500;
  }
}

}  // namespace samplan::server
