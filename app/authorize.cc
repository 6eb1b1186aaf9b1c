#include "app/authorize.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "consent/engine.h"
#include "samplan/v1/admin.pb.h"

namespace samplan::app {
namespace {

absl::Status Unauthenticated(absl::string_view reason,
                             absl::string_view message) {
  return WithReason(absl::UnauthenticatedError(message), reason);
}

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAuditor:
      return "AGENCY_ROLE_AUDITOR";
    case Role::kAdministrator:
      return "AGENCY_ROLE_ADMINISTRATOR";
    default:
      return "AGENCY_ROLE_AGENCY_SYSTEM";
  }
}

Role RoleOf(v1::AgencyRole role) {
  switch (role) {
    case v1::AGENCY_ROLE_AUDITOR:
      return Role::kAuditor;
    case v1::AGENCY_ROLE_ADMINISTRATOR:
      return Role::kAdministrator;
    default:
      return Role::kAgencySystem;
  }
}

}  // namespace

absl::StatusOr<std::string> AgencyIdFromUris(
    const std::vector<std::string>& uris) {
  std::string found;
  int count = 0;
  for (const std::string& uri : uris) {
    if (!absl::StartsWith(uri, kAgencyUriPrefix)) continue;
    found = uri.substr(sizeof(kAgencyUriPrefix) - 1);
    ++count;
  }
  if (count == 0) {
    return Unauthenticated("UNKNOWN_AGENCY",
                           "the client certificate names no agency (URI SAN "
                           "urn:samplan:agency:<id>)");
  }
  if (count > 1) {
    return Unauthenticated("UNKNOWN_AGENCY",
                           "the client certificate names more than one "
                           "agency");
  }
  if (!consent::IsValidAgencyId(found)) {
    return Unauthenticated("UNKNOWN_AGENCY",
                           "the client certificate's agency id is malformed");
  }
  return found;
}

absl::Status CheckActor(absl::string_view actor) {
  bool ok = !actor.empty() && actor.size() <= 64;
  for (char c : actor) {
    const auto u = static_cast<unsigned char>(c);
    ok = ok && (absl::ascii_isalnum(u) || c == '.' || c == '_' || c == '@' ||
                c == '-');
  }
  if (!ok) {
    return Error(absl::StatusCode::kInvalidArgument, "MISSING_ACTOR", "",
                 absl::StrCat(kActorMetadataKey,
                              ": name the staff member in this metadata: "
                              "1-64 characters of A-Z a-z 0-9 . _ @ -"));
  }
  return absl::OkStatus();
}

absl::Status WrongRole(const Requirement& need) {
  std::string roles(RoleName(need.role));
  if (need.also_administrator && need.role != Role::kAdministrator) {
    absl::StrAppend(&roles, ",", RoleName(Role::kAdministrator));
  }
  return WithMetadata(
      Error(absl::StatusCode::kPermissionDenied, "WRONG_ROLE", "",
            absl::StrCat("this method needs an agency with the role ",
                         absl::StrReplaceAll(roles, {{",", " or "}}),
                         "; the caller's agency has another role")),
      "required_role", roles);
}

absl::StatusOr<AgencyDirectory::Entry> AgencyDirectory::Get(
    absl::string_view id) {
  uint64_t generation;
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(id);
    if (it != entries_.end()) return it->second;
    generation = generation_;
  }
  Entry entry;
  absl::Status read = store_.Read([&](storage::Transaction& tx) {
    auto a = tx.agencies().Get(id);
    if (!a.ok()) return a.status();
    entry.active = a->state() == v1::AGENCY_STATE_ACTIVE;
    entry.role = RoleOf(a->role());
    entry.sector = static_cast<consent::Sector>(a->sector());
    return absl::OkStatus();
  });
  RETURN_IF_ERROR(read);
  absl::MutexLock lock(&mu_);
  // Only what was read since the last invalidation may be kept.
  if (generation == generation_) {
    if (entries_.size() >= kMaxEntries) entries_.clear();
    entries_.emplace(std::string(id), entry);
  }
  return entry;
}

void AgencyDirectory::Invalidate() {
  absl::MutexLock lock(&mu_);
  ++generation_;
  entries_.clear();
}

absl::StatusOr<Caller> Authorize(AgencyDirectory& agencies,
                                 const PeerIdentity& peer,
                                 absl::string_view actor,
                                 const Requirement& need) {
  absl::StatusOr<AgencyDirectory::Entry> agency = agencies.Get(peer.agency_id);
  if (absl::IsNotFound(agency.status())) {
    return Unauthenticated("UNKNOWN_AGENCY",
                           "the certificate's agency is not registered");
  }
  RETURN_IF_ERROR(agency.status());
  if (!agency->active) {
    return Unauthenticated("AGENCY_DISABLED", "the agency is disabled");
  }
  Caller caller;
  caller.agency_id = peer.agency_id;
  caller.sector = agency->sector;
  caller.role = agency->role;
  caller.certificate = peer.certificate;
  if (caller.role != need.role &&
      !(need.also_administrator && caller.role == Role::kAdministrator)) {
    return WrongRole(need);
  }
  if (need.needs_actor || !actor.empty()) {
    RETURN_IF_ERROR(CheckActor(actor));
  }
  caller.actor = std::string(actor);
  return caller;
}

}  // namespace samplan::app
