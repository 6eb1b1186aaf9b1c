// Caller identity, transport-free: the agency id comes from the verified
// client certificate's URI SAN "urn:samplan:agency:<id>" (each transport
// reads the certificate: server/auth.h for gRPC), its role and sector from
// the agency registry, and the staff member from the x-samplan-actor
// metadata or header.

#ifndef SAMPLAN_APP_AUTHORIZE_H_
#define SAMPLAN_APP_AUTHORIZE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "app/caller.h"
#include "storage/store.h"

namespace samplan::app {

inline constexpr char kActorMetadataKey[] = "x-samplan-actor";
inline constexpr char kAgencyUriPrefix[] = "urn:samplan:agency:";

// The agency id in exactly one "urn:samplan:agency:<id>" URI among `uris`.
// UNAUTHENTICATED (reason UNKNOWN_AGENCY) when there is none, more than one,
// or the id is malformed.
absl::StatusOr<std::string> AgencyIdFromUris(
    const std::vector<std::string>& uris);

// 1-64 characters of [A-Za-z0-9._@-]. INVALID_ARGUMENT, reason
// MISSING_ACTOR, otherwise.
absl::Status CheckActor(absl::string_view actor);

// The verified peer's agency id and certificate fingerprint (SHA-256 of the
// DER, lower-case hex), as a transport reads them from the connection.
struct PeerIdentity {
  std::string agency_id;
  std::string certificate;
};

// What a method requires of its caller.
struct Requirement {
  Role role;
  bool also_administrator = false;  // administrators may call it too
  bool needs_actor = true;
};

// PERMISSION_DENIED, reason WRONG_ROLE, naming the role(s) `need` accepts
// in the message and in metadata "required_role" (comma-separated
// AgencyRole names).
absl::Status WrongRole(const Requirement& need);

// The caller, from `peer` and `actor`, checked against the registry in
// `store`: UNAUTHENTICATED (reason UNKNOWN_AGENCY) if the agency is not
// registered, UNAUTHENTICATED (reason AGENCY_DISABLED) if it is disabled,
// PERMISSION_DENIED (reason WRONG_ROLE) if its role is not `need.role`
// (or administrator, when `need.also_administrator`),
// INVALID_ARGUMENT (reason MISSING_ACTOR) for a missing or malformed actor.
absl::StatusOr<Caller> Authorize(storage::Store& store,
                                 const PeerIdentity& peer,
                                 absl::string_view actor,
                                 const Requirement& need);

}  // namespace samplan::app

#endif  // SAMPLAN_APP_AUTHORIZE_H_
