// Caller identity, transport-free: the agency id comes from the verified
// client certificate's URI SAN "urn:samplan:agency:<id>" (each transport
// reads the certificate: server/auth.h for gRPC), its role and sector from
// the agency registry, and the staff member from the x-samplan-actor
// metadata or header.

#ifndef SAMPLAN_APP_AUTHORIZE_H_
#define SAMPLAN_APP_AUTHORIZE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
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

// The agency registry as callers are authorized against it: the agencies'
// state, role and sector, read from storage once and kept until a change
// to the registry commits (Invalidate()). A read that began before an
// invalidation never refills the cache with what it read, so once
// Invalidate() has returned, every lookup sees the registry as committed.
// Thread-safe.
class AgencyDirectory {
 public:
  struct Entry {
    bool active = false;
    Role role = Role::kAgencySystem;
    consent::Sector sector = consent::Sector::kUnspecified;
  };

  // `store` must outlive the directory.
  explicit AgencyDirectory(storage::Store& store) : store_(store) {}

  // The agency `id`; NOT_FOUND if it is not registered.
  absl::StatusOr<Entry> Get(absl::string_view id);

  // Forgets every agency: call once a change to the registry has
  // committed.
  void Invalidate();

 private:
  static constexpr size_t kMaxEntries = 4096;
  storage::Store& store_;
  absl::Mutex mu_;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

// The caller, from `peer` and `actor`, checked against the registry:
// UNAUTHENTICATED (reason UNKNOWN_AGENCY) if the agency is not
// registered, UNAUTHENTICATED (reason AGENCY_DISABLED) if it is disabled,
// PERMISSION_DENIED (reason WRONG_ROLE) if its role is not `need.role`
// (or administrator, when `need.also_administrator`),
// INVALID_ARGUMENT (reason MISSING_ACTOR) for a missing or malformed actor.
absl::StatusOr<Caller> Authorize(AgencyDirectory& agencies,
                                 const PeerIdentity& peer,
                                 absl::string_view actor,
                                 const Requirement& need);

}  // namespace samplan::app

#endif  // SAMPLAN_APP_AUTHORIZE_H_
