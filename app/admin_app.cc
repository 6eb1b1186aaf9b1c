#include "app/admin_app.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "app/authorize.h"
#include "common/errors.h"
#include "common/proto_time.h"
#include "common/resource_names.h"
#include "common/status_macros.h"
#include "consent/engine.h"
#include "consent/identity_number.h"
#include "samplan/v1/admin.pb.h"
#include "samplan/v1/audit.pb.h"
#include "samplan/v1/common.pb.h"
#include "samplan/v1/consent.pb.h"

namespace samplan::app {
namespace {

using Outcome = absl::Status;

// Agencies read per storage round trip while filling a ListAgencies page.
constexpr int kAgencyBatch = 200;

absl::Status Append(storage::Transaction& tx, const v1::AuditEvent& e) {
  return tx.audit().Append(e).status();
}

absl::Status CheckAdministrator(const Caller& caller) {
  if (caller.role == Role::kAdministrator) return absl::OkStatus();
  return WrongRole(Requirement{Role::kAdministrator});
}

// A required free-text reason, 1-2000 characters, without identity numbers.
absl::Status CheckReason(absl::string_view reason, absl::string_view field) {
  RETURN_IF_ERROR(CheckText(reason, 2000, true, field));
  if (ContainsIdentityNumber(reason)) {
    return InvalidField(field, "must not contain an identity number");
  }
  return absl::OkStatus();
}

// The audit event of an administrator ending a grant.
v1::AuditEvent GrantEndingEvent(const Caller& c, v1::AuditAction action,
                                const v1::Grant& grant,
                                absl::string_view reason, absl::Time t) {
  v1::AuditEvent e = NewEvent(c, action, grant.subject(), grant.name(), t);
  e.set_decision(v1::DECISION_ALLOW);
  e.add_reasons(v1::DECISION_REASON_ADMINISTRATOR_ROLE);
  e.add_grants(grant.name());
  e.set_detail(std::string(reason));
  return e;
}

bool IsDigitAt(absl::string_view text, size_t i) {
  return i < text.size() &&
         absl::ascii_isdigit(static_cast<unsigned char>(text[i]));
}

// `digits` (10 or 12 ASCII digits) parses as an identity number; the 10-digit
// form with any century that IdentityNumber accepts.
bool ParsesAsIdentityNumber(absl::string_view digits) {
  if (digits.size() == 12) {
    return consent::IdentityNumber::Parse(digits).ok();
  }
  for (const char* century : {"18", "19", "20"}) {
    if (consent::IdentityNumber::Parse(absl::StrCat(century, digits)).ok()) {
      return true;
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<v1::Agency> NewAgency(absl::string_view agency_id,
                                     const v1::Agency& in, absl::Time now) {
  if (agency_id.empty()) return InvalidField("agency_id", "is required");
  if (!consent::IsValidAgencyId(agency_id)) {
    return InvalidField("agency_id",
                        "must be 2-63 characters of a-z 0-9 -, not starting "
                        "or ending with -");
  }
  RETURN_IF_ERROR(
      CheckText(in.display_name(), 200, true, "agency.display_name"));
  if (in.role() == v1::AGENCY_ROLE_UNSPECIFIED ||
      !v1::AgencyRole_IsValid(in.role())) {
    return InvalidField("agency.role",
                        "must be AGENCY_SYSTEM, AUDITOR or ADMINISTRATOR");
  }
  if (!v1::Sector_IsValid(in.sector())) {
    return InvalidField("agency.sector", "is not a known sector");
  }
  if (in.role() == v1::AGENCY_ROLE_AGENCY_SYSTEM &&
      in.sector() == v1::SECTOR_UNSPECIFIED) {
    return InvalidField("agency.sector",
                        "is required for an agency system: SCHOOL, "
                        "SOCIAL_SERVICES or HEALTHCARE");
  }
  v1::Agency out;
  out.set_name(absl::StrCat("agencies/", agency_id));
  out.set_display_name(in.display_name());
  out.set_sector(in.sector());
  out.set_role(in.role());
  out.set_certificate_identity(absl::StrCat(kAgencyUriPrefix, agency_id));
  out.set_state(v1::AGENCY_STATE_ACTIVE);
  SetTimestamp(now, out.mutable_create_time());
  return out;
}

bool ContainsIdentityNumber(absl::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    if (!IsDigitAt(text, i)) {
      ++i;
      continue;
    }
    // [i, end) is a maximal run of digits.
    size_t end = i;
    while (IsDigitAt(text, end)) ++end;
    const size_t length = end - i;
    if ((length == 10 || length == 12) &&
        ParsesAsIdentityNumber(text.substr(i, length))) {
      return true;
    }
    // YYMMDD-NNNN, YYMMDD+NNNN, YYYYMMDD-NNNN, YYYYMMDD+NNNN.
    if ((length == 6 || length == 8) && end < text.size() &&
        (text[end] == '-' || text[end] == '+')) {
      size_t tail = end + 1;
      while (IsDigitAt(text, tail)) ++tail;
      if (tail - (end + 1) == 4 &&
          ParsesAsIdentityNumber(
              absl::StrCat(text.substr(i, length), text.substr(end + 1, 4)))) {
        return true;
      }
    }
    i = end;
  }
  return false;
}

absl::StatusOr<int64_t> ExpireLapsedGrants(storage::Transaction& tx,
                                           const Caller* by, absl::Time now,
                                           int limit) {
  if (limit < 1) {
    return absl::InvalidArgumentError(
        "ExpireLapsedGrants: limit must be at least 1");
  }
  int64_t count = 0;
  for (;;) {
    // Each grant ended below has an ending and so leaves the lapsed set:
    // every round trip makes progress, and an empty or short batch means
    // none are left.
    ASSIGN_OR_RETURN(std::vector<v1::Grant> lapsed,
                     tx.grants().ListLapsed(now, limit));
    for (const v1::Grant& grant : lapsed) {
      storage::GrantEnding ending;
      ending.state = v1::GRANT_STATE_EXPIRED;
      ending.time = now;
      ending.reason = kExpiredReason;
      if (by != nullptr) {
        ending.agency = by->agency_id;
        ending.actor = by->actor;
      }
      RETURN_IF_ERROR(tx.grants().End(BareId(grant.name()), ending));
      v1::AuditEvent e;
      if (by != nullptr) {
        e = NewEvent(*by, v1::AUDIT_ACTION_GRANT_EXPIRED, grant.subject(),
                     grant.name(), now);
      } else {
        // An event of the server itself: no agency, actor, certificate or
        // request id.
        SetTimestamp(now, e.mutable_time());
        e.set_action(v1::AUDIT_ACTION_GRANT_EXPIRED);
        e.set_subject(grant.subject());
        e.set_resource(grant.name());
      }
      // The sweeper's expiry decides nothing: its decision stays
      // DECISION_UNSPECIFIED. An administrator's is allowed on its role.
      if (by != nullptr) {
        e.set_decision(v1::DECISION_ALLOW);
        e.add_reasons(v1::DECISION_REASON_ADMINISTRATOR_ROLE);
      }
      e.add_grants(grant.name());
      RETURN_IF_ERROR(Append(tx, e));
      ++count;
    }
    if (static_cast<int>(lapsed.size()) < limit) return count;
  }
}

// ---------------------------------------------------------------- agencies

absl::Status RegisterAgency(storage::Transaction& tx, const Caller& by,
                            const v1::Agency& agency, absl::Time now) {
  // Taken ids stay taken, also by disabled agencies: a certificate issued
  // for the old agency must never name a new one.
  auto existing = tx.agencies().Get(BareId(agency.name()));
  if (existing.ok()) {
    return Error(absl::StatusCode::kAlreadyExists, "ALREADY_EXISTS",
                 "agency_id", "is taken by a registered agency");
  }
  if (!absl::IsNotFound(existing.status())) return existing.status();
  RETURN_IF_ERROR(tx.agencies().Create(agency));
  v1::AuditEvent e =
      NewEvent(by, v1::AUDIT_ACTION_AGENCY_REGISTERED, "", agency.name(), now);
  e.set_decision(v1::DECISION_ALLOW);
  e.add_reasons(v1::DECISION_REASON_ADMINISTRATOR_ROLE);
  e.set_detail(absl::StrCat("role ", v1::AgencyRole_Name(agency.role()),
                            ", sector ", v1::Sector_Name(agency.sector())));
  return Append(tx, e);
}

void AdminApp::CreateAgency(const Caller& caller,
                            const v1::CreateAgencyRequest& req,
                            v1::CreateAgencyResponse* resp, Done done) {
  absl::Status s = CheckAdministrator(caller);
  if (s.ok()) s = CheckRequestId(req.request_id());
  if (!s.ok()) return done(s);
  auto agency = NewAgency(req.agency_id(), req.agency(), ctx_.clock->Now());
  if (!agency.ok()) return done(agency.status());
  SubmitWrite(
      ctx_, caller, "CreateAgency", req, resp,
      [agency = *std::move(agency), resp](
          storage::Transaction& tx, const Caller& c,
          const v1::CreateAgencyRequest& /*req*/,
          absl::Time t) mutable -> absl::Status {
        SetTimestamp(t, agency.mutable_create_time());
        RETURN_IF_ERROR(RegisterAgency(tx, c, agency, t));
        *resp->mutable_agency() = agency;
        return absl::OkStatus();
      },
      std::move(done));
}

void AdminApp::GetAgency(const Caller& caller, const v1::GetAgencyRequest& req,
                         v1::GetAgencyResponse* resp, Done done) {
  absl::Status s = CheckAdministrator(caller);
  auto id = s.ok() ? ParseAgencyName(req.name(), "name")
                   : absl::StatusOr<std::string>(s);
  if (!id.ok()) return done(id.status());
  // Not audited (agency data is not personal data), but read through the
  // queue like every other AdminService call.
  SubmitWithOutcome(
      *ctx_.queue,
      [id = *id, resp](storage::Transaction& tx, Outcome&) -> absl::Status {
        ASSIGN_OR_RETURN(*resp->mutable_agency(), tx.agencies().Get(id));
        return absl::OkStatus();
      },
      std::move(done));
}

void AdminApp::ListAgencies(const Caller& caller,
                            const v1::ListAgenciesRequest& req,
                            v1::ListAgenciesResponse* resp, Done done) {
  absl::Status s = CheckAdministrator(caller);
  if (s.ok() && !v1::AgencyState_IsValid(req.state())) {
    s = InvalidField("state", "is not a known agency state");
  }
  if (s.ok() && !v1::Sector_IsValid(req.sector())) {
    s = InvalidField("sector", "is not a known sector");
  }
  if (!s.ok()) return done(s);
  auto size = PageSize(req.page_size(), ctx_.max_page_size);
  if (!size.ok()) return done(size.status());
  const std::string scope =
      absl::StrCat("ListAgencies:", static_cast<int>(req.state()), ":",
                   static_cast<int>(req.sector()));
  auto after = DecodePageToken(req.page_token(), scope);
  if (!after.ok()) return done(after.status());
  SubmitWithOutcome(
      *ctx_.queue,
      [size = std::max(1, *size), after = *after, scope, state = req.state(),
       sector = req.sector(),
       resp](storage::Transaction& tx, Outcome&) -> absl::Status {
        // The registry pages by id only, so the filters are applied here:
        // read on until the page and one more match are found, or the
        // registry ends. A token thus never skips a matching agency.
        std::vector<v1::Agency> matches;
        std::string cursor = after;
        for (;;) {
          ASSIGN_OR_RETURN(std::vector<v1::Agency> batch,
                           tx.agencies().List(cursor, kAgencyBatch));
          for (v1::Agency& a : batch) {
            cursor = BareId(a.name());
            if (state != v1::AGENCY_STATE_UNSPECIFIED && a.state() != state) {
              continue;
            }
            if (sector != v1::SECTOR_UNSPECIFIED && a.sector() != sector) {
              continue;
            }
            matches.push_back(std::move(a));
            if (static_cast<int>(matches.size()) > size) break;
          }
          if (static_cast<int>(matches.size()) > size ||
              static_cast<int>(batch.size()) < kAgencyBatch) {
            break;
          }
        }
        const bool more = static_cast<int>(matches.size()) > size;
        if (more) matches.pop_back();
        for (v1::Agency& a : matches) *resp->add_agencies() = std::move(a);
        if (more) {
          *resp->mutable_next_page_token() = EncodePageToken(
              scope, BareId(resp->agencies(resp->agencies_size() - 1).name()));
        }
        return absl::OkStatus();
      },
      std::move(done));
}

void AdminApp::DisableAgency(const Caller& caller,
                             const v1::DisableAgencyRequest& req,
                             v1::DisableAgencyResponse* resp, Done done) {
  absl::Status s = CheckAdministrator(caller);
  if (s.ok()) s = CheckRequestId(req.request_id());
  auto id = s.ok() ? ParseAgencyName(req.name(), "name")
                   : absl::StatusOr<std::string>(s);
  if (!id.ok()) return done(id.status());
  // The reason is kept with the agency, whose reads are not audited: no
  // identity numbers in it either.
  s = CheckReason(req.reason(), "reason");
  if (!s.ok()) return done(s);
  // Nobody locks themselves out: another administrator must do it.
  if (*id == caller.agency_id) {
    return done(Error(absl::StatusCode::kFailedPrecondition,
                      "CANNOT_DISABLE_SELF", "name",
                      "an administrator may not disable its own agency"));
  }
  SubmitWrite(
      ctx_, caller, "DisableAgency", req, resp,
      [id = *id, resp](storage::Transaction& tx, const Caller& c,
                       const v1::DisableAgencyRequest& request,
                       absl::Time t) -> absl::Status {
        ASSIGN_OR_RETURN(v1::Agency agency, tx.agencies().Get(id));
        if (agency.state() == v1::AGENCY_STATE_DISABLED) {
          return Error(absl::StatusCode::kFailedPrecondition, "AGENCY_DISABLED",
                       "", "name: the agency is already disabled");
        }
        agency.set_state(v1::AGENCY_STATE_DISABLED);
        SetTimestamp(t, agency.mutable_disable_time());
        agency.set_disable_reason(request.reason());
        RETURN_IF_ERROR(tx.agencies().Update(agency));
        v1::AuditEvent e =
            NewEvent(c, v1::AUDIT_ACTION_AGENCY_DISABLED, "", agency.name(), t);
        e.set_decision(v1::DECISION_ALLOW);
        e.add_reasons(v1::DECISION_REASON_ADMINISTRATOR_ROLE);
        e.set_detail(request.reason());
        RETURN_IF_ERROR(Append(tx, e));
        *resp->mutable_agency() = std::move(agency);
        return absl::OkStatus();
      },
      std::move(done));
}

// ------------------------------------------------------------------ grants

void AdminApp::RevokeGrant(const Caller& caller,
                           const v1::RevokeGrantRequest& req,
                           v1::RevokeGrantResponse* resp, Done done) {
  absl::Status s = CheckAdministrator(caller);
  if (s.ok()) s = CheckRequestId(req.request_id());
  auto id = s.ok() ? ParseName(req.name(), "grants", "name")
                   : absl::StatusOr<std::string>(s);
  if (!id.ok()) return done(id.status());
  s = CheckReason(req.reason(), "reason");
  if (s.ok() && req.has_evidence()) {
    s = CheckEvidence(req.evidence(), true, "evidence");
  }
  if (!s.ok()) return done(s);
  SubmitWrite(
      ctx_, caller, "RevokeGrant", req, resp,
      [id = *id, resp](storage::Transaction& tx, const Caller& c,
                       const v1::RevokeGrantRequest& request,
                       absl::Time t) -> absl::Status {
        ASSIGN_OR_RETURN(v1::Grant grant, tx.grants().Get(id));
        storage::GrantEnding ending;
        ending.state = v1::GRANT_STATE_REVOKED;
        ending.time = t;
        ending.reason = request.reason();
        ending.agency = c.agency_id;
        ending.actor = c.actor;
        ending.evidence_kind = request.evidence().kind();
        ending.evidence_reference = request.evidence().reference();
        // FAILED_PRECONDITION (GRANT_NOT_ACTIVE) unless active.
        RETURN_IF_ERROR(tx.grants().End(id, ending));
        RETURN_IF_ERROR(
            Append(tx, GrantEndingEvent(c, v1::AUDIT_ACTION_GRANT_REVOKED,
                                        grant, request.reason(), t)));
        ASSIGN_OR_RETURN(*resp->mutable_grant(), tx.grants().Get(id));
        return absl::OkStatus();
      },
      std::move(done));
}

void AdminApp::VoidGrant(const Caller& caller, const v1::VoidGrantRequest& req,
                         v1::VoidGrantResponse* resp, Done done) {
  absl::Status s = CheckAdministrator(caller);
  if (s.ok()) s = CheckRequestId(req.request_id());
  auto id = s.ok() ? ParseName(req.name(), "grants", "name")
                   : absl::StatusOr<std::string>(s);
  if (!id.ok()) return done(id.status());
  s = CheckReason(req.reason(), "reason");
  if (!s.ok()) return done(s);
  SubmitWrite(
      ctx_, caller, "VoidGrant", req, resp,
      [id = *id, resp](storage::Transaction& tx, const Caller& c,
                       const v1::VoidGrantRequest& request,
                       absl::Time t) -> absl::Status {
        ASSIGN_OR_RETURN(v1::Grant grant, tx.grants().Get(id));
        // The store would void anything not yet void; the API allows only
        // active and expired grants (a withdrawal or revocation stands).
        if (grant.state() != v1::GRANT_STATE_ACTIVE &&
            grant.state() != v1::GRANT_STATE_EXPIRED) {
          return WithMetadata(
              Error(absl::StatusCode::kFailedPrecondition, "GRANT_NOT_ACTIVE",
                    "",
                    absl::StrCat("the grant is already ",
                                 v1::GrantState_Name(grant.state()),
                                 "; only an active or expired grant can be "
                                 "voided")),
              "state", v1::GrantState_Name(grant.state()));
        }
        storage::GrantEnding ending;
        ending.state = v1::GRANT_STATE_VOID;
        ending.time = t;
        ending.reason = request.reason();
        ending.agency = c.agency_id;
        ending.actor = c.actor;
        RETURN_IF_ERROR(tx.grants().End(id, ending));
        RETURN_IF_ERROR(
            Append(tx, GrantEndingEvent(c, v1::AUDIT_ACTION_GRANT_VOIDED, grant,
                                        request.reason(), t)));
        ASSIGN_OR_RETURN(*resp->mutable_grant(), tx.grants().Get(id));
        return absl::OkStatus();
      },
      std::move(done));
}

void AdminApp::ExpireGrants(const Caller& caller,
                            const v1::ExpireGrantsRequest& req,
                            v1::ExpireGrantsResponse* resp, Done done) {
  absl::Status s = CheckAdministrator(caller);
  if (s.ok()) s = CheckRequestId(req.request_id());
  if (!s.ok()) return done(s);
  SubmitWrite(
      ctx_, caller, "ExpireGrants", req, resp,
      [resp](storage::Transaction& tx, const Caller& c,
             const v1::ExpireGrantsRequest& /*req*/,
             absl::Time t) -> absl::Status {
        ASSIGN_OR_RETURN(int64_t expired,
                         ExpireLapsedGrants(tx, &c, t, kExpireBatch));
        resp->set_expired_count(expired);
        return absl::OkStatus();
      },
      std::move(done));
}

void AdminApp::ListExpiringGrants(const Caller& caller,
                                  const v1::ListExpiringGrantsRequest& req,
                                  v1::ListExpiringGrantsResponse* resp,
                                  Done done) {
  absl::Status s = CheckAdministrator(caller);
  if (s.ok() && (req.within_days() < 1 || req.within_days() > 366)) {
    s = InvalidField("within_days", "must be 1-366");
  }
  if (!s.ok()) return done(s);
  auto size = PageSize(req.page_size(), ctx_.max_page_size);
  if (!size.ok()) return done(size.status());
  const std::string scope =
      absl::StrCat("ListExpiringGrants:", req.within_days());
  auto after = DecodePageToken(req.page_token(), scope);
  if (!after.ok()) return done(after.status());
  SubmitWithOutcome(
      *ctx_.queue,
      [clock = ctx_.clock, caller, days = req.within_days(),
       size = std::max(1, *size), after = *after, scope,
       resp](storage::Transaction& tx, Outcome&) -> absl::Status {
        const absl::Time t = clock->Now();
        // GrantStore::List pages by grant id, so the page is in id order,
        // not soonest valid_until first: sorting one page by time would
        // not order the listing across pages.
        storage::GrantQuery q;
        q.ends_after = t;
        q.ends_before = t + absl::Hours(24) * days;
        q.state = v1::GRANT_STATE_ACTIVE;
        q.after = after;
        q.limit = size + 1;
        ASSIGN_OR_RETURN(std::vector<v1::Grant> grants, tx.grants().List(q));
        for (v1::Grant& g : grants) {
          if (resp->grants_size() == size) {
            *resp->mutable_next_page_token() = EncodePageToken(
                scope, BareId(resp->grants(resp->grants_size() - 1).name()));
            break;
          }
          *resp->add_grants() = std::move(g);
        }
        // One CONSENT_READ event for the listing, with resource "grants" and
        // no subject: the listing selects by end date, not by person (as a
        // search by subject does), and a page may span many subjects. The
        // detail says what was listed.
        v1::AuditEvent e =
            NewEvent(caller, v1::AUDIT_ACTION_CONSENT_READ, "", "grants", t);
        e.set_decision(v1::DECISION_ALLOW);
        e.add_reasons(v1::DECISION_REASON_ADMINISTRATOR_ROLE);
        e.set_detail(absl::StrCat("grants expiring within ", days,
                                  " days: ", resp->grants_size(), " listed"));
        return Append(tx, e);
      },
      std::move(done));
}

}  // namespace samplan::app
