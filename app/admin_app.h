// AdminService's behaviour, free of any transport: the agency registry and
// the administrative endings of grants (revoke, void, expire).
//
// Same conventions as ConsentApp: validation on the calling thread
// (INVALID_ARGUMENT naming the field, nothing stored), storage work through
// the commit queue (writes idempotent by request id), `done` after the
// durable commit. Every change is audited; so is ListExpiringGrants, a read
// of consent data. Reads of the agency registry are not: agency data is not
// personal data, and AuditAction has no value for them. Administrators never
// see plan content: AdminApp does not touch the plan repository.
//
// Every method refuses a caller whose role is not administrator
// (PERMISSION_DENIED, reason WRONG_ROLE), in case the transport forgets to.
// Thread-safe.

#ifndef SAMPLAN_APP_ADMIN_APP_H_
#define SAMPLAN_APP_ADMIN_APP_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "app/app_support.h"
#include "app/caller.h"
#include "app/method.h"
#include "storage/store.h"

namespace samplan::v1 {
class Agency;
class CreateAgencyRequest;
class CreateAgencyResponse;
class DisableAgencyRequest;
class DisableAgencyResponse;
class ExpireGrantsRequest;
class ExpireGrantsResponse;
class GetAgencyRequest;
class GetAgencyResponse;
class ListAgenciesRequest;
class ListAgenciesResponse;
class ListExpiringGrantsRequest;
class ListExpiringGrantsResponse;
class RevokeGrantRequest;
class RevokeGrantResponse;
class VoidGrantRequest;
class VoidGrantResponse;
}  // namespace samplan::v1

namespace samplan::app {

// Grant.end_reason of a grant marked expired (consent.proto: "expired" for
// expiry).
inline constexpr char kExpiredReason[] = "expired";

// How many lapsed grants ExpireGrants ends per storage round trip.
inline constexpr int kExpireBatch = 200;

// Validates a new agency and returns it as it is stored: name
// "agencies/<agency_id>", certificate_identity
// "urn:samplan:agency:<agency_id>", state ACTIVE, create_time `now`, and
// display_name, sector and role from `in` (its other fields are ignored).
// INVALID_ARGUMENT (reason INVALID_FIELD) naming the field as in
// CreateAgencyRequest: "agency_id" (2-63 characters of a-z 0-9 -, not
// starting or ending with '-'), "agency.display_name" (1-200),
// "agency.role" (known, not UNSPECIFIED), "agency.sector" (known; required
// for AGENCY_ROLE_AGENCY_SYSTEM). Does not check that the id is free.
absl::StatusOr<v1::Agency> NewAgency(absl::string_view agency_id,
                                     const v1::Agency& in, absl::Time now);

// Stores a new agency (made by NewAgency) with its AGENCY_REGISTERED audit
// event by `by`. ALREADY_EXISTS (field agency_id) if the id is taken, even
// by a disabled agency. CreateAgency and `samplan-server register-agency`.
absl::Status RegisterAgency(storage::Transaction& tx, const Caller& by,
                            const v1::Agency& agency, absl::Time now);

// True when `text` holds something that parses as a Swedish identity number
// (consent::IdentityNumber): a run of 12 or 10 digits standing alone
// (not part of a longer run of digits), or 8 or 6 digits, '-' or '+', and 4
// digits. A 10-digit form counts if it parses with any century from 1800 to
// 2000. Used to keep identity numbers out of free-text reasons, which reach
// places (grant end reasons, audit details) meant to be free of them.
bool ContainsIdentityNumber(absl::string_view text);

// Ends, as of `now`, every active grant whose valid_until <= now: state
// EXPIRED, reason kExpiredReason, recorded by `by`'s agency and actor, or by
// nobody (empty) when `by` is null (the server's own expiry sweeper). Appends
// one AUDIT_ACTION_GRANT_EXPIRED event per grant (subject, resource and
// grants naming the grant, decision DECISION_UNSPECIFIED), carrying `by`'s
// agency, actor, certificate and request id, or none of them when `by` is
// null. Works through the lapsed grants `limit` at a time until none are
// left, all inside `tx`. Returns how many grants it ended; INVALID_ARGUMENT
// if `limit` < 1.
absl::StatusOr<int64_t> ExpireLapsedGrants(storage::Transaction& tx,
                                           const Caller* by, absl::Time now,
                                           int limit);

// AdminService's transaction functions (method.h).
struct AdminMethods {
  static const MethodSpec<v1::CreateAgencyRequest, v1::CreateAgencyResponse>
      kCreateAgency;
  static const MethodSpec<v1::GetAgencyRequest, v1::GetAgencyResponse>
      kGetAgency;
  static const MethodSpec<v1::ListAgenciesRequest, v1::ListAgenciesResponse>
      kListAgencies;
  static const MethodSpec<v1::DisableAgencyRequest, v1::DisableAgencyResponse>
      kDisableAgency;
  static const MethodSpec<v1::RevokeGrantRequest, v1::RevokeGrantResponse>
      kRevokeGrant;
  static const MethodSpec<v1::VoidGrantRequest, v1::VoidGrantResponse>
      kVoidGrant;
  static const MethodSpec<v1::ExpireGrantsRequest, v1::ExpireGrantsResponse>
      kExpireGrants;
  static const MethodSpec<v1::ListExpiringGrantsRequest,
                          v1::ListExpiringGrantsResponse>
      kListExpiringGrants;
};

class AdminApp {
 public:
  explicit AdminApp(const AppContext& ctx) : ctx_(ctx), runner_(ctx_) {}

  // Registers an agency (NewAgency). ALREADY_EXISTS (reason ALREADY_EXISTS)
  // if the id is taken, even by a disabled agency. Audited as
  // AGENCY_REGISTERED.
  void CreateAgency(const Caller& caller, const v1::CreateAgencyRequest& req,
                    v1::CreateAgencyResponse* resp, Done done);
  // NOT_FOUND (reason NOT_FOUND) if unknown. Not audited.
  void GetAgency(const Caller& caller, const v1::GetAgencyRequest& req,
                 v1::GetAgencyResponse* resp, Done done);
  // By id, filtered by state and sector; full pages. Not audited.
  void ListAgencies(const Caller& caller, const v1::ListAgenciesRequest& req,
                    v1::ListAgenciesResponse* resp, Done done);
  // Disables an agency. The reason (1-2000 characters) must not contain an
  // identity number. FAILED_PRECONDITION with reason CANNOT_DISABLE_SELF
  // (field "name") for the caller's own agency, with reason AGENCY_DISABLED
  // if already disabled; NOT_FOUND if unknown. Audited as AGENCY_DISABLED.
  void DisableAgency(const Caller& caller, const v1::DisableAgencyRequest& req,
                     v1::DisableAgencyResponse* resp, Done done);
  // Revokes an active grant. FAILED_PRECONDITION (reason GRANT_NOT_ACTIVE)
  // unless active; NOT_FOUND if unknown. Audited as GRANT_REVOKED with the
  // reason as detail.
  void RevokeGrant(const Caller& caller, const v1::RevokeGrantRequest& req,
                   v1::RevokeGrantResponse* resp, Done done);
  // Voids an active or expired grant. FAILED_PRECONDITION (reason
  // GRANT_NOT_ACTIVE) otherwise; NOT_FOUND if unknown. Audited as
  // GRANT_VOIDED with the reason as detail.
  void VoidGrant(const Caller& caller, const v1::VoidGrantRequest& req,
                 v1::VoidGrantResponse* resp, Done done);
  // ExpireLapsedGrants with the caller as `by`.
  void ExpireGrants(const Caller& caller, const v1::ExpireGrantsRequest& req,
                    v1::ExpireGrantsResponse* resp, Done done);
  // Active grants with now <= valid_until < now + within_days days, in grant
  // id order (GrantStore::List pages by id; see the .cc). Audited as one
  // CONSENT_READ.
  void ListExpiringGrants(const Caller& caller,
                          const v1::ListExpiringGrantsRequest& req,
                          v1::ListExpiringGrantsResponse* resp, Done done);

 private:
  const AppContext ctx_;
  const Runner runner_;
};

}  // namespace samplan::app

#endif  // SAMPLAN_APP_ADMIN_APP_H_
