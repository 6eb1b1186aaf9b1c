#include "app/admin_app.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "app/authorize.h"
#include "app/documents.h"
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

namespace {

absl::StatusOr<v1::Agency> ParseCreateAgency(
    const AppContext& ctx, const Caller& caller,
    const v1::CreateAgencyRequest& req) {
  RETURN_IF_ERROR(CheckAdministrator(caller));
  RETURN_IF_ERROR(CheckRequestId(req.request_id()));
  return NewAgency(req.agency_id(), req.agency(), ctx.clock->Now());
}

absl::Status DecideCreateAgency(const AppContext& ctx, storage::Transaction&,
                                const Caller& c,
                                const v1::CreateAgencyRequest& req,
                                absl::Time t, v1::CreateAgencyResponse* resp,
                                Effects* fx) {
  ASSIGN_OR_RETURN(v1::Agency agency, ParseCreateAgency(ctx, c, req));
  SetTimestamp(t, agency.mutable_create_time());
  // Decided in the writer: the id must be free there.
  fx->AddWrite([agency, c, t](storage::Transaction& tx2) {
    return RegisterAgency(tx2, c, agency, t);
  });
  fx->OnCommitted([agencies = ctx.agencies]() {
    if (agencies != nullptr) agencies->Invalidate();
  });
  *resp->mutable_agency() = std::move(agency);
  return absl::OkStatus();
}

absl::StatusOr<std::string> ParseGetAgency(const AppContext&,
                                           const Caller& caller,
                                           const v1::GetAgencyRequest& req) {
  RETURN_IF_ERROR(CheckAdministrator(caller));
  return ParseAgencyName(req.name(), "name");
}

// Not audited: agency data is not personal data.
absl::Status DecideGetAgency(const AppContext& ctx, storage::Transaction& tx,
                             const Caller& caller,
                             const v1::GetAgencyRequest& req, absl::Time,
                             v1::GetAgencyResponse* resp, Effects*) {
  ASSIGN_OR_RETURN(const std::string id, ParseGetAgency(ctx, caller, req));
  ASSIGN_OR_RETURN(*resp->mutable_agency(), tx.agencies().Get(id));
  return absl::OkStatus();
}

struct ListAgenciesInput {
  int size = 0;
  std::string after;
  std::string scope;
};

absl::StatusOr<ListAgenciesInput> ParseListAgencies(
    const AppContext& ctx, const Caller& caller,
    const v1::ListAgenciesRequest& req) {
  ListAgenciesInput in;
  RETURN_IF_ERROR(CheckAdministrator(caller));
  if (!v1::AgencyState_IsValid(req.state())) {
    return InvalidField("state", "is not a known agency state");
  }
  if (!v1::Sector_IsValid(req.sector())) {
    return InvalidField("sector", "is not a known sector");
  }
  ASSIGN_OR_RETURN(in.size, PageSize(req.page_size(), ctx.max_page_size));
  in.size = std::max(1, in.size);
  in.scope = absl::StrCat("ListAgencies:", static_cast<int>(req.state()), ":",
                          static_cast<int>(req.sector()));
  ASSIGN_OR_RETURN(in.after, DecodePageToken(req.page_token(), in.scope));
  return in;
}

// Not audited.
absl::Status DecideListAgencies(const AppContext& ctx, storage::Transaction& tx,
                                const Caller& caller,
                                const v1::ListAgenciesRequest& req, absl::Time,
                                v1::ListAgenciesResponse* resp, Effects*) {
  ASSIGN_OR_RETURN(ListAgenciesInput in, ParseListAgencies(ctx, caller, req));
  const int size = in.size;
  // The registry pages by id only, so the filters are applied here: read on
  // until the page and one more match are found, or the registry ends. A
  // token thus never skips a matching agency.
  std::vector<v1::Agency> matches;
  std::string cursor = in.after;
  for (;;) {
    ASSIGN_OR_RETURN(std::vector<v1::Agency> batch,
                     tx.agencies().List(cursor, kAgencyBatch));
    for (v1::Agency& a : batch) {
      cursor = BareId(a.name());
      if (req.state() != v1::AGENCY_STATE_UNSPECIFIED &&
          a.state() != req.state()) {
        continue;
      }
      if (req.sector() != v1::SECTOR_UNSPECIFIED &&
          a.sector() != req.sector()) {
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
        in.scope, BareId(resp->agencies(resp->agencies_size() - 1).name()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ParseDisableAgency(
    const AppContext&, const Caller& caller,
    const v1::DisableAgencyRequest& req) {
  RETURN_IF_ERROR(CheckAdministrator(caller));
  RETURN_IF_ERROR(CheckRequestId(req.request_id()));
  ASSIGN_OR_RETURN(std::string id, ParseAgencyName(req.name(), "name"));
  // The reason is kept with the agency, whose reads are not audited: no
  // identity numbers in it either.
  RETURN_IF_ERROR(CheckReason(req.reason(), "reason"));
  // Nobody locks themselves out: another administrator must do it.
  if (id == caller.agency_id) {
    return Error(absl::StatusCode::kFailedPrecondition, "CANNOT_DISABLE_SELF",
                 "name", "an administrator may not disable its own agency");
  }
  return id;
}

// Decided in the writer: the agency's state is read where it is changed.
absl::Status DecideDisableAgency(const AppContext& ctx,
                                 storage::Transaction& tx, const Caller& c,
                                 const v1::DisableAgencyRequest& request,
                                 absl::Time t, v1::DisableAgencyResponse* resp,
                                 Effects* fx) {
  ASSIGN_OR_RETURN(const std::string id, ParseDisableAgency(ctx, c, request));
  ASSIGN_OR_RETURN(v1::Agency agency, tx.agencies().Get(id));
  if (agency.state() == v1::AGENCY_STATE_DISABLED) {
    return Error(absl::StatusCode::kFailedPrecondition, "AGENCY_DISABLED", "",
                 "name: the agency is already disabled");
  }
  agency.set_state(v1::AGENCY_STATE_DISABLED);
  SetTimestamp(t, agency.mutable_disable_time());
  agency.set_disable_reason(request.reason());
  fx->AddWrite([agency](storage::Transaction& tx2) {
    return tx2.agencies().Update(agency);
  });
  // From the next call on, the agency is refused.
  fx->OnCommitted([agencies = ctx.agencies]() {
    if (agencies != nullptr) agencies->Invalidate();
  });
  v1::AuditEvent* e = fx->mutable_record();
  *e = NewEvent(c, v1::AUDIT_ACTION_AGENCY_DISABLED, "", agency.name(), t);
  e->set_decision(v1::DECISION_ALLOW);
  e->add_reasons(v1::DECISION_REASON_ADMINISTRATOR_ROLE);
  e->set_detail(request.reason());
  *resp->mutable_agency() = std::move(agency);
  return absl::OkStatus();
}

// ------------------------------------------------------------------ grants

absl::StatusOr<std::string> ParseRevokeGrant(
    const AppContext&, const Caller& caller,
    const v1::RevokeGrantRequest& req) {
  RETURN_IF_ERROR(CheckAdministrator(caller));
  RETURN_IF_ERROR(CheckRequestId(req.request_id()));
  ASSIGN_OR_RETURN(std::string id, ParseName(req.name(), "grants", "name"));
  RETURN_IF_ERROR(CheckReason(req.reason(), "reason"));
  if (req.has_evidence()) {
    RETURN_IF_ERROR(CheckEvidence(req.evidence(), true, "evidence"));
  }
  return id;
}

// Ends grant `id` with `ending` as `c`, recording `action`; the answer is
// the grant as stored once ended. The decision depends on the subject's
// consent data (the grant's state among it).
absl::Status EndGrant(storage::Transaction& tx, const Caller& c,
                      const std::string& id, v1::AuditAction action,
                      const storage::GrantEnding& ending,
                      const v1::Grant& grant, absl::string_view reason,
                      absl::Time t, v1::Grant* answer, Effects* fx) {
  RETURN_IF_ERROR(fx->DependOnConsent(tx, grant.subject()));
  fx->AddWrite([id, ending](storage::Transaction& tx2) {
    return tx2.grants().End(id, ending);
  });
  *fx->mutable_record() = GrantEndingEvent(c, action, grant, reason, t);
  fx->AddAfterRecord([id, answer](storage::Transaction& tx2) {
    ASSIGN_OR_RETURN(*answer, tx2.grants().Get(id));
    return absl::OkStatus();
  });
  return absl::OkStatus();
}

absl::Status DecideRevokeGrant(const AppContext& ctx, storage::Transaction& tx,
                               const Caller& c,
                               const v1::RevokeGrantRequest& request,
                               absl::Time t, v1::RevokeGrantResponse* resp,
                               Effects* fx) {
  ASSIGN_OR_RETURN(const std::string id, ParseRevokeGrant(ctx, c, request));
  ASSIGN_OR_RETURN(v1::Grant grant, tx.grants().Get(id));
  if (grant.state() != v1::GRANT_STATE_ACTIVE) {
    return WithMetadata(
        Error(absl::StatusCode::kFailedPrecondition, "GRANT_NOT_ACTIVE", "",
              absl::StrCat("the grant is already ",
                           v1::GrantState_Name(grant.state()))),
        "state", v1::GrantState_Name(grant.state()));
  }
  storage::GrantEnding ending;
  ending.state = v1::GRANT_STATE_REVOKED;
  ending.time = t;
  ending.reason = request.reason();
  ending.agency = c.agency_id;
  ending.actor = c.actor;
  ending.evidence_kind = request.evidence().kind();
  ending.evidence_reference = request.evidence().reference();
  RETURN_IF_ERROR(EndGrant(tx, c, id, v1::AUDIT_ACTION_GRANT_REVOKED, ending,
                           grant, request.reason(), t, resp->mutable_grant(),
                           fx));
  // The family's receipt of the revocation, from the grant EndGrant reads
  // back into the answer.
  AnswerWithReceipt(ctx, fx, v1::RECEIPT_EVENT_REVOKED, t, resp);
  return absl::OkStatus();
}

absl::StatusOr<std::string> ParseVoidGrant(const AppContext&,
                                           const Caller& caller,
                                           const v1::VoidGrantRequest& req) {
  RETURN_IF_ERROR(CheckAdministrator(caller));
  RETURN_IF_ERROR(CheckRequestId(req.request_id()));
  ASSIGN_OR_RETURN(std::string id, ParseName(req.name(), "grants", "name"));
  RETURN_IF_ERROR(CheckReason(req.reason(), "reason"));
  return id;
}

absl::Status DecideVoidGrant(const AppContext& ctx, storage::Transaction& tx,
                             const Caller& c,
                             const v1::VoidGrantRequest& request, absl::Time t,
                             v1::VoidGrantResponse* resp, Effects* fx) {
  ASSIGN_OR_RETURN(const std::string id, ParseVoidGrant(ctx, c, request));
  ASSIGN_OR_RETURN(v1::Grant grant, tx.grants().Get(id));
  // The store would void anything not yet void; the API allows only active
  // and expired grants (a withdrawal or revocation stands).
  if (grant.state() != v1::GRANT_STATE_ACTIVE &&
      grant.state() != v1::GRANT_STATE_EXPIRED) {
    return WithMetadata(
        Error(absl::StatusCode::kFailedPrecondition, "GRANT_NOT_ACTIVE", "",
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
  return EndGrant(tx, c, id, v1::AUDIT_ACTION_GRANT_VOIDED, ending, grant,
                  request.reason(), t, resp->mutable_grant(), fx);
}

absl::StatusOr<bool> ParseExpireGrants(const AppContext&, const Caller& caller,
                                       const v1::ExpireGrantsRequest& req) {
  RETURN_IF_ERROR(CheckAdministrator(caller));
  RETURN_IF_ERROR(CheckRequestId(req.request_id()));
  return true;
}

// Decided in the writer: it ends every lapsed grant, one event each.
absl::Status DecideExpireGrants(const AppContext& ctx, storage::Transaction&,
                                const Caller& c,
                                const v1::ExpireGrantsRequest& req,
                                absl::Time t, v1::ExpireGrantsResponse* resp,
                                Effects* fx) {
  RETURN_IF_ERROR(ParseExpireGrants(ctx, c, req).status());
  fx->AddWrite([c, t, resp](storage::Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(const int64_t expired,
                     ExpireLapsedGrants(tx, &c, t, kExpireBatch));
    resp->set_expired_count(expired);
    return absl::OkStatus();
  });
  return absl::OkStatus();
}

struct ExpiringInput {
  int size = 0;
  std::string after;
  std::string scope;
};

absl::StatusOr<ExpiringInput> ParseListExpiringGrants(
    const AppContext& ctx, const Caller& caller,
    const v1::ListExpiringGrantsRequest& req) {
  ExpiringInput in;
  RETURN_IF_ERROR(CheckAdministrator(caller));
  if (req.within_days() < 1 || req.within_days() > 366) {
    return InvalidField("within_days", "must be 1-366");
  }
  ASSIGN_OR_RETURN(in.size, PageSize(req.page_size(), ctx.max_page_size));
  in.size = std::max(1, in.size);
  in.scope = absl::StrCat("ListExpiringGrants:", req.within_days());
  ASSIGN_OR_RETURN(in.after, DecodePageToken(req.page_token(), in.scope));
  return in;
}

absl::Status DecideListExpiringGrants(
    const AppContext& ctx, storage::Transaction& tx, const Caller& caller,
    const v1::ListExpiringGrantsRequest& req, absl::Time t,
    v1::ListExpiringGrantsResponse* resp, Effects* fx) {
  ASSIGN_OR_RETURN(ExpiringInput in, ParseListExpiringGrants(ctx, caller, req));
  const int days = req.within_days();
  // GrantStore::List pages by grant id, so the page is in id order, not
  // soonest valid_until first: sorting one page by time would not order the
  // listing across pages.
  storage::GrantQuery q;
  q.ends_after = t;
  q.ends_before = t + absl::Hours(24) * days;
  q.state = v1::GRANT_STATE_ACTIVE;
  q.after = in.after;
  q.limit = in.size + 1;
  ASSIGN_OR_RETURN(std::vector<v1::Grant> grants, tx.grants().List(q));
  for (v1::Grant& g : grants) {
    if (resp->grants_size() == in.size) {
      *resp->mutable_next_page_token() = EncodePageToken(
          in.scope, BareId(resp->grants(resp->grants_size() - 1).name()));
      break;
    }
    *resp->add_grants() = std::move(g);
  }
  // One CONSENT_READ event for the listing, with resource "grants" and no
  // subject: the listing selects by end date, not by person (as a search by
  // subject does), and a page may span many subjects. The detail says what
  // was listed.
  v1::AuditEvent* e = fx->mutable_record();
  *e = NewEvent(caller, v1::AUDIT_ACTION_CONSENT_READ, "", "grants", t);
  e->set_decision(v1::DECISION_ALLOW);
  e->add_reasons(v1::DECISION_REASON_ADMINISTRATOR_ROLE);
  e->set_detail(absl::StrCat("grants expiring within ", days,
                             " days: ", resp->grants_size(), " listed"));
  return absl::OkStatus();
}

}  // namespace

// --- The methods ---

#define SAMPLAN_ADMIN_METHOD(Name, Write, InWriter) \
  SAMPLAN_DEFINE_METHOD(AdminApp, AdminMethods, Name, Write, InWriter)

SAMPLAN_ADMIN_METHOD(CreateAgency, true, true)
SAMPLAN_ADMIN_METHOD(GetAgency, false, false)
SAMPLAN_ADMIN_METHOD(ListAgencies, false, false)
SAMPLAN_ADMIN_METHOD(DisableAgency, true, true)
SAMPLAN_ADMIN_METHOD(RevokeGrant, true, false)
SAMPLAN_ADMIN_METHOD(VoidGrant, true, false)
SAMPLAN_ADMIN_METHOD(ExpireGrants, true, true)
SAMPLAN_ADMIN_METHOD(ListExpiringGrants, false, false)

#undef SAMPLAN_ADMIN_METHOD

}  // namespace samplan::app
