#include "server/grpc_status.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/strip.h"
#include "common/errors.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace samplan::server {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  const std::string message(status.message());
  google::rpc::Status details;
  details.set_code(static_cast<int>(status.code()));
  details.set_message(message);
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
  if (!info.reason().empty()) details.add_details()->PackFrom(info);
  return grpc::Status(code, message, details.SerializeAsString());
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()),
                   status.error_message());
  google::rpc::Status details;
  if (!status.error_details().empty() &&
      details.ParseFromString(status.error_details())) {
    for (const auto& any : details.details()) {
      google::rpc::ErrorInfo info;
      if (!any.UnpackTo(&info)) continue;
      if (!info.reason().empty())
        out = WithReason(std::move(out), info.reason());
      for (const auto& [key, value] : info.metadata()) {
        out = WithMetadata(std::move(out), key, value);
      }
    }
  }
  return out;
}

}  // namespace samplan::server
