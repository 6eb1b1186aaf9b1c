// Builders for the statuses samplan returns, carrying a stable machine
// reason (an ErrorReason name without its prefix, e.g. "INVALID_FIELD") and
// the metadata that docs/api.md lists for that reason (for bad input the
// offending "field"; for NOT_FOUND the "resource" asked for; ...). The
// transport layers turn these payloads into google.rpc.ErrorInfo (gRPC) and
// the REST error body.
//
// Messages must never contain personal data (identity numbers, plan text):
// they can reach service logs.

#ifndef SAMPLAN_COMMON_ERRORS_H_
#define SAMPLAN_COMMON_ERRORS_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace samplan {

inline constexpr absl::string_view kReasonPayload = "samplan.se/reason";
// Each ErrorInfo.metadata key travels as a payload named with this prefix.
inline constexpr absl::string_view kMetadataPayloadPrefix =
    "samplan.se/metadata/";
inline constexpr absl::string_view kFieldPayload = "samplan.se/metadata/field";

// Returns `status` with the machine reason attached.
inline absl::Status WithReason(absl::Status status, absl::string_view reason) {
  status.SetPayload(kReasonPayload, absl::Cord(reason));
  return status;
}

// Returns `status` with ErrorInfo.metadata[`key`] = `value`.
inline absl::Status WithMetadata(absl::Status status, absl::string_view key,
                                 absl::string_view value) {
  status.SetPayload(absl::StrCat(kMetadataPayloadPrefix, key),
                    absl::Cord(value));
  return status;
}

// NOT_FOUND, reason NOT_FOUND, metadata "resource" = `resource` (the name
// the request gave: echoing it tells the caller nothing new). `what` is the
// message ("plan not found").
inline absl::Status NotFound(absl::string_view resource,
                             absl::string_view what) {
  return WithMetadata(
      WithReason(absl::Status(absl::StatusCode::kNotFound, what), "NOT_FOUND"),
      "resource", resource);
}

// INVALID_ARGUMENT, reason INVALID_FIELD, message "<field>: <problem>".
inline absl::Status InvalidField(absl::string_view field,
                                 absl::string_view problem) {
  absl::Status s(absl::StatusCode::kInvalidArgument,
                 absl::StrCat(field, ": ", problem));
  s.SetPayload(kFieldPayload, absl::Cord(field));
  return WithReason(std::move(s), "INVALID_FIELD");
}

// A status with the given code, reason and message (about `field` if not
// empty).
inline absl::Status Error(absl::StatusCode code, absl::string_view reason,
                          absl::string_view field, absl::string_view message) {
  absl::Status s(code, field.empty() ? std::string(message)
                                     : absl::StrCat(field, ": ", message));
  if (!field.empty()) s.SetPayload(kFieldPayload, absl::Cord(field));
  return WithReason(std::move(s), reason);
}

// The machine reason of `status`, if one is attached.
inline std::optional<std::string> ReasonOf(const absl::Status& status) {
  auto p = status.GetPayload(kReasonPayload);
  if (!p.has_value()) return std::nullopt;
  return std::string(*p);
}

// The field `status` is about, if one is attached.
inline std::optional<std::string> FieldOf(const absl::Status& status) {
  auto p = status.GetPayload(kFieldPayload);
  if (!p.has_value()) return std::nullopt;
  return std::string(*p);
}

// ErrorInfo.metadata[`key`] of `status`, if attached.
inline std::optional<std::string> MetadataOf(const absl::Status& status,
                                             absl::string_view key) {
  auto p = status.GetPayload(absl::StrCat(kMetadataPayloadPrefix, key));
  if (!p.has_value()) return std::nullopt;
  return std::string(*p);
}

}  // namespace samplan

#endif  // SAMPLAN_COMMON_ERRORS_H_
