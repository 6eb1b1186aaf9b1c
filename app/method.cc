#include "app/method.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "google/protobuf/message.h"

namespace samplan::app {

void Effects::DependOnPlan(absl::string_view plan_id, int64_t version) {
  versions_.push_back(Version{true, std::string(plan_id), version});
}

void Effects::DependOnConsent(absl::string_view subject, int64_t version) {
  versions_.push_back(Version{false, std::string(subject), version});
}

absl::Status Effects::DependOnPlan(storage::Transaction& tx,
                                   absl::string_view plan_id) {
  ASSIGN_OR_RETURN(const int64_t version, tx.plans().Version(plan_id));
  DependOnPlan(plan_id, version);
  return absl::OkStatus();
}

absl::Status Effects::DependOnConsent(storage::Transaction& tx,
                                      absl::string_view subject) {
  ASSIGN_OR_RETURN(const int64_t version, tx.grants().ConsentVersion(subject));
  DependOnConsent(subject, version);
  return absl::OkStatus();
}

absl::StatusOr<bool> Effects::VersionsHold(storage::Transaction& tx) const {
  for (const Version& v : versions_) {
    int64_t now = 0;
    if (v.plan) {
      ASSIGN_OR_RETURN(now, tx.plans().Version(v.key));
    } else {
      ASSIGN_OR_RETURN(now, tx.grants().ConsentVersion(v.key));
    }
    if (now != v.value) return false;
  }
  return true;
}

absl::Status Effects::Apply(storage::Transaction& tx) {
  for (const Write& write : writes_) RETURN_IF_ERROR(write(tx));
  if (has_record_) {
    RETURN_IF_ERROR(tx.audit().Append(std::move(record_)).status());
    record_.Clear();
  }
  for (const Write& write : after_) RETURN_IF_ERROR(write(tx));
  return absl::OkStatus();
}

namespace internal {

absl::StatusOr<bool> Replay(storage::Transaction& tx, const Caller& caller,
                            absl::string_view method,
                            absl::string_view fingerprint,
                            google::protobuf::Message* response) {
  ASSIGN_OR_RETURN(auto earlier,
                   tx.requests().Find(caller.agency_id, caller.request_id));
  if (!earlier.has_value()) return false;
  if (earlier->method != method || earlier->fingerprint != fingerprint) {
    return WithMetadata(
        Error(absl::StatusCode::kAlreadyExists, "REQUEST_ID_REUSED",
              "request_id",
              "was already used by this agency for a different request"),
        "request_id", caller.request_id);
  }
  if (!response->ParseFromString(earlier->response)) {
    return absl::DataLossError("a saved response does not parse");
  }
  return true;
}

absl::Status SaveAnswer(storage::Transaction& tx, const Caller& caller,
                        absl::string_view method, absl::string_view fingerprint,
                        const google::protobuf::Message& response,
                        absl::Time now) {
  storage::RequestRecord record;
  record.method = std::string(method);
  record.fingerprint = std::string(fingerprint);
  record.response = response.SerializeAsString();
  return tx.requests().Save(caller.agency_id, caller.request_id, record, now);
}

}  // namespace internal
}  // namespace samplan::app
