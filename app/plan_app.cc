#include "app/plan_app.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "app/consent_bridge.h"
#include "app/documents.h"
#include "app/method.h"
#include "app/read_cache.h"
#include "common/errors.h"
#include "common/proto_time.h"
#include "common/resource_names.h"
#include "common/status_macros.h"
#include "consent/engine.h"
#include "consent/identity_number.h"
#include "google/protobuf/field_mask.pb.h"
#include "google/protobuf/repeated_field.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/type/date.pb.h"
#include "render/document.h"
#include "render/plan_document.h"
#include "samplan/v1/admin.pb.h"
#include "samplan/v1/audit.pb.h"
#include "samplan/v1/common.pb.h"
#include "samplan/v1/plan.pb.h"

namespace samplan::app {
namespace {

using ::google::protobuf::RepeatedPtrField;

constexpr int kMaxReviewDates = 50;
constexpr int kMaxParticipants = 50;
constexpr int kMaxApprovals = 4;
constexpr size_t kMaxDisplayName = 200;
constexpr size_t kMaxRoleNote = 500;
constexpr size_t kMaxDescription = 2000;
constexpr size_t kMaxReason = 2000;
constexpr size_t kMaxEmail = 254;
constexpr size_t kMaxPhone = 32;
constexpr size_t kMaxEntryText = 20000;
constexpr int kMaxReviewRangeDays = 366;
// Plans read per storage call when ListUpcomingReviews walks them all.
constexpr int kPlanBatch = 500;

// --- Names and small conversions. ---

std::string PlanName(absl::string_view plan_id) {
  return absl::StrCat("plans/", plan_id);
}

// "plans/p1" -> "p1".
std::string PlanIdOf(absl::string_view plan_name) {
  return std::string(absl::StripPrefix(plan_name, "plans/"));
}

// "agencies/bup-1" -> "bup-1"; a bare id is returned as it is.
// The etag of a plan or an entry: its revision, which every change bumps.
std::string Etag(int64_t revision) { return std::to_string(revision); }

absl::CivilDay ToDay(const google::type::Date& d) {
  return absl::CivilDay(d.year(), d.month(), d.day());
}

// A field mask path quoted for an error message, or a neutral word when it
// could carry anything else (messages must stay free of personal data).
std::string QuotedPath(absl::string_view path) {
  if (path.empty() || path.size() > 64) return "this path";
  for (char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (!(absl::ascii_islower(u) || absl::ascii_isdigit(u) || c == '_' ||
          c == '.')) {
      return "this path";
    }
  }
  return absl::StrCat("\"", path, "\"");
}

// --- Validation of request values. Each returns INVALID_ARGUMENT naming
// the field, or OK. ---

// Text limits count Unicode code points (UTF-8 lead bytes).
size_t CodePoints(absl::string_view text) {
  size_t n = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

absl::Status CheckChars(absl::string_view text, size_t max, bool required,
                        absl::string_view field) {
  if (required && text.empty()) return InvalidField(field, "is required");
  if (CodePoints(text) > max) {
    return InvalidField(field,
                        absl::StrCat("may be at most ", max, " characters"));
  }
  return absl::OkStatus();
}

absl::Status CheckPhone(absl::string_view phone, absl::string_view field) {
  if (phone.size() > kMaxPhone) {
    return InvalidField(
        field, absl::StrCat("may be at most ", kMaxPhone, " characters"));
  }
  for (char c : phone) {
    if (!(absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == ' ' ||
          c == '+' || c == '-' || c == '(' || c == ')')) {
      return InvalidField(field,
                          "may contain only digits, spaces, + - ( and )");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckEmail(absl::string_view email, absl::string_view field) {
  if (email.empty()) return absl::OkStatus();
  RETURN_IF_ERROR(CheckChars(email, kMaxEmail, false, field));
  if (std::count(email.begin(), email.end(), '@') != 1) {
    return InvalidField(field, "must contain exactly one @");
  }
  return absl::OkStatus();
}

absl::Status CheckOptionalAgency(absl::string_view agency,
                                 absl::string_view field) {
  if (agency.empty()) return absl::OkStatus();
  return ParseAgencyName(agency, field).status();
}

absl::Status ValidateCoordinator(const v1::Coordinator& c,
                                 absl::string_view field) {
  RETURN_IF_ERROR(CheckChars(c.display_name(), kMaxDisplayName, true,
                             absl::StrCat(field, ".display_name")));
  RETURN_IF_ERROR(CheckPhone(c.phone(), absl::StrCat(field, ".phone")));
  RETURN_IF_ERROR(CheckEmail(c.email(), absl::StrCat(field, ".email")));
  return CheckOptionalAgency(c.agency(), absl::StrCat(field, ".agency"));
}

absl::Status ValidateReviewDates(const RepeatedPtrField<v1::ReviewDate>& dates,
                                 absl::string_view field) {
  if (dates.size() > kMaxReviewDates) {
    return InvalidField(
        field, absl::StrCat("may hold at most ", kMaxReviewDates, " dates"));
  }
  for (int i = 0; i < dates.size(); ++i) {
    const v1::ReviewDate& r = dates.Get(i);
    const std::string at = absl::StrCat(field, "[", i, "]");
    if (r.kind() != v1::REVIEW_KIND_FOLLOW_UP &&
        r.kind() != v1::REVIEW_KIND_EVALUATION) {
      return InvalidField(
          absl::StrCat(at, ".kind"),
          "must be REVIEW_KIND_FOLLOW_UP or REVIEW_KIND_EVALUATION");
    }
    if (!r.has_date()) {
      return InvalidField(absl::StrCat(at, ".date"), "is required");
    }
    RETURN_IF_ERROR(CheckDate(r.date(), absl::StrCat(at, ".date")));
    RETURN_IF_ERROR(CheckChars(r.description(), kMaxDescription, false,
                               absl::StrCat(at, ".description")));
  }
  return absl::OkStatus();
}

// Checks a participant to invite and returns it with only the fields a
// request may set, in canonical form. `lead_agency` (a bare id, or empty
// for no check) must not be listed: the lead agency takes part anyway.
absl::StatusOr<v1::Participant> ValidateParticipant(
    const v1::Participant& p, absl::string_view field,
    absl::string_view lead_agency) {
  const std::string kind_field = absl::StrCat(field, ".kind");
  if (p.kind() == v1::PARTICIPANT_KIND_UNSPECIFIED ||
      !v1::ParticipantKind_IsValid(p.kind())) {
    return InvalidField(kind_field, "is required: a known participant kind");
  }
  if (p.kind() == v1::PARTICIPANT_KIND_SUBJECT) {
    return InvalidField(kind_field,
                        "cannot be PARTICIPANT_KIND_SUBJECT: the subject "
                        "takes part automatically");
  }
  v1::Participant out;
  out.set_kind(p.kind());
  const std::string agency_field = absl::StrCat(field, ".agency");
  const std::string identity_field = absl::StrCat(field, ".identity_number");
  if (p.kind() == v1::PARTICIPANT_KIND_AGENCY) {
    ASSIGN_OR_RETURN(std::string agency,
                     ParseAgencyName(p.agency(), agency_field));
    if (!lead_agency.empty() && agency == lead_agency) {
      return InvalidField(agency_field,
                          "is the lead agency, which takes part "
                          "automatically");
    }
    if (!p.identity_number().empty()) {
      return InvalidField(identity_field, "must be empty for an agency");
    }
    out.set_agency(absl::StrCat("agencies/", agency));
  } else {
    if (!p.agency().empty()) {
      return InvalidField(agency_field, "must be empty for a person");
    }
    if (!p.identity_number().empty()) {
      ASSIGN_OR_RETURN(std::string identity,
                       ParseIdentity(p.identity_number(), identity_field));
      out.set_identity_number(identity);
    }
    RETURN_IF_ERROR(CheckChars(p.display_name(), kMaxDisplayName, true,
                               absl::StrCat(field, ".display_name")));
    out.set_display_name(p.display_name());
  }
  RETURN_IF_ERROR(CheckChars(p.role_note(), kMaxRoleNote, false,
                             absl::StrCat(field, ".role_note")));
  out.set_role_note(p.role_note());
  return out;
}

absl::Status CheckInterventionOrder(int32_t order, absl::string_view field) {
  if (order < 1 || order > 1000) {
    return InvalidField(field, "must be between 1 and 1000");
  }
  return absl::OkStatus();
}

absl::Status ValidateIntervention(const v1::Intervention& iv,
                                  absl::string_view field) {
  RETURN_IF_ERROR(ParseAgencyName(iv.responsible_agency(),
                                  absl::StrCat(field, ".responsible_agency"))
                      .status());
  RETURN_IF_ERROR(
      CheckInterventionOrder(iv.order(), absl::StrCat(field, ".order")));
  if (iv.has_start_date()) {
    RETURN_IF_ERROR(
        CheckDate(iv.start_date(), absl::StrCat(field, ".start_date")));
  }
  if (iv.has_end_date()) {
    RETURN_IF_ERROR(CheckDate(iv.end_date(), absl::StrCat(field, ".end_date")));
  }
  if (iv.has_start_date() && iv.has_end_date() &&
      ToDay(iv.end_date()) < ToDay(iv.start_date())) {
    return InvalidField(absl::StrCat(field, ".end_date"),
                        "may not be before start_date");
  }
  return absl::OkStatus();
}

absl::Status CheckCategory(v1::InformationCategory category,
                           absl::string_view field) {
  if (category == v1::INFORMATION_CATEGORY_UNSPECIFIED ||
      !v1::InformationCategory_IsValid(category)) {
    return InvalidField(field, "is required: a known information category");
  }
  return absl::OkStatus();
}

absl::Status CheckEntryKind(v1::EntryKind kind, absl::string_view field) {
  if (kind == v1::ENTRY_KIND_UNSPECIFIED || !v1::EntryKind_IsValid(kind)) {
    return InvalidField(field, "is required: a known entry kind");
  }
  return absl::OkStatus();
}

// The content of an entry: category, kind, text and intervention.
absl::Status ValidateEntryContent(const v1::Entry& e, absl::string_view field) {
  RETURN_IF_ERROR(
      CheckCategory(e.category(), absl::StrCat(field, ".category")));
  RETURN_IF_ERROR(CheckEntryKind(e.kind(), absl::StrCat(field, ".kind")));
  RETURN_IF_ERROR(
      CheckChars(e.text(), kMaxEntryText, true, absl::StrCat(field, ".text")));
  const std::string iv_field = absl::StrCat(field, ".intervention");
  if (e.kind() == v1::ENTRY_KIND_INTERVENTION) {
    if (!e.has_intervention()) {
      return InvalidField(iv_field, "is required for ENTRY_KIND_INTERVENTION");
    }
    return ValidateIntervention(e.intervention(), iv_field);
  }
  if (e.has_intervention()) {
    return InvalidField(iv_field,
                        "must be unset unless kind is "
                        "ENTRY_KIND_INTERVENTION");
  }
  return absl::OkStatus();
}

// --- Checks and records, on the decision's transaction. ---

// The newest header of a plan the caller may see, its version recorded as
// one the decision depends on; PlanNotFound() otherwise, the same answer as
// for a plan that does not exist.
absl::StatusOr<v1::Plan> SeenPlan(storage::Transaction& tx,
                                  const Caller& caller,
                                  absl::string_view plan_id, Effects* fx) {
  ASSIGN_OR_RETURN(storage::PlanRepository::ReadView view,
                   tx.plans().ReadForAgency(plan_id, caller.agency_id, false));
  if (view.newest == nullptr) return PlanNotFound(plan_id);
  std::string denial;
  if (PlanGround(view.newest.get(), caller.agency_id, view.takes_part,
                 &denial) == v1::DECISION_REASON_UNSPECIFIED) {
    return PlanNotFound(plan_id);
  }
  fx->DependOnPlan(plan_id, view.version);
  return std::move(*view.newest);
}

absl::Status RequireLead(const v1::Plan& plan, const Caller& caller) {
  if (plan.lead_agency() != caller.agency_name()) {
    return Error(absl::StatusCode::kPermissionDenied, "NOT_LEAD_AGENCY", "",
                 "only the plan's lead agency may do this");
  }
  return absl::OkStatus();
}

absl::Status RequireOpen(const v1::Plan& plan) {
  if (plan.state() == v1::PLAN_STATE_CLOSED) {
    return Error(absl::StatusCode::kFailedPrecondition, "PLAN_CLOSED", "",
                 "the plan is closed; it can be read but not changed");
  }
  return absl::OkStatus();
}

// The registered agency `id`; FAILED_PRECONDITION, reason
// UNKNOWN_REFERENCED_AGENCY, about `field` if it is not registered (or not
// active, when `must_be_active`), as ConsentApp answers.
absl::StatusOr<v1::Agency> ReferencedAgency(storage::Transaction& tx,
                                            absl::string_view id,
                                            bool must_be_active,
                                            absl::string_view field) {
  absl::StatusOr<v1::Agency> agency = tx.agencies().Get(id);
  if (!agency.ok()) {
    if (agency.status().code() == absl::StatusCode::kNotFound) {
      return Error(absl::StatusCode::kFailedPrecondition,
                   "UNKNOWN_REFERENCED_AGENCY", field,
                   "is not a registered agency");
    }
    return agency.status();
  }
  if (must_be_active && agency->state() != v1::AGENCY_STATE_ACTIVE) {
    return Error(absl::StatusCode::kFailedPrecondition,
                 "UNKNOWN_REFERENCED_AGENCY", field, "is not an active agency");
  }
  return agency;
}

// A copy of `current` as the next revision, made at `now`.
v1::Plan NextRevision(const v1::Plan& current, absl::Time now) {
  v1::Plan next = current;
  next.set_revision(current.revision() + 1);
  SetTimestamp(now, next.mutable_update_time());
  next.clear_etag();
  return next;
}

// The record of a completed change, allowed on its ground: an agency writes
// its own entries; every other change to a plan is its lead agency's.
void ChangeRecord(Effects* fx, const Caller& caller, v1::AuditAction action,
                  absl::string_view subject, absl::string_view resource,
                  absl::Time now, std::string detail) {
  v1::AuditEvent* e = fx->mutable_record();
  *e = NewEvent(caller, action, subject, resource, now);
  e->set_decision(v1::DECISION_ALLOW);
  e->add_reasons(action == v1::AUDIT_ACTION_ENTRY_WRITTEN ||
                         action == v1::AUDIT_ACTION_ENTRY_DELETED
                     ? v1::DECISION_REASON_OWN_AGENCY
                     : v1::DECISION_REASON_LEAD_AGENCY);
  e->set_detail(std::move(detail));
}

// Writes a new revision of the plan (its header `next`), as the caller.
void AddRevision(Effects* fx, const Caller& caller, v1::Plan next,
                 std::string change, absl::Time now) {
  fx->AddWrite([next = std::move(next), agency = caller.agency_id,
                actor = caller.actor, change = std::move(change),
                now](storage::Transaction& tx) {
    return tx.plans().AddRevision(next, agency, actor, change, now);
  });
}

// Writes a version of an entry.
void PutEntry(Effects* fx, std::string plan_id, v1::Entry entry) {
  fx->AddWrite([plan_id = std::move(plan_id),
                entry = std::move(entry)](storage::Transaction& tx) {
    return tx.plans().PutEntry(plan_id, entry);
  });
}

absl::Status EntryNotFound(absl::string_view plan_id,
                           absl::string_view entry_id) {
  return NotFound(absl::StrCat("plans/", plan_id, "/entries/", entry_id),
                  "entry not found");
}

// The newest version of an entry that the caller's agency may change.
absl::StatusOr<v1::Entry> OwnEntry(storage::Transaction& tx,
                                   const Caller& caller,
                                   absl::string_view plan_id,
                                   absl::string_view entry_id,
                                   absl::string_view etag,
                                   absl::string_view etag_field) {
  absl::StatusOr<v1::Entry> entry = tx.plans().GetEntry(plan_id, entry_id);
  if (!entry.ok()) {
    if (entry.status().code() == absl::StatusCode::kNotFound) {
      return EntryNotFound(plan_id, entry_id);
    }
    return entry.status();
  }
  if (entry->deleted()) {
    return Error(absl::StatusCode::kFailedPrecondition, "ENTRY_DELETED", "",
                 "the entry is deleted; it cannot be changed");
  }
  if (entry->owner_agency() != caller.agency_name()) {
    return Error(absl::StatusCode::kPermissionDenied, "NOT_OWNER", "",
                 "the entry belongs to another agency; only its owner "
                 "agency may change or delete it");
  }
  if (!etag.empty() && etag != Etag(entry->revision())) {
    return WithMetadata(
        Error(absl::StatusCode::kAborted, "ETAG_MISMATCH", etag_field,
              "does not match the entry's current etag; read it again"),
        "resource", entry->name());
  }
  return entry;
}

// Whether the approvers in `approvals` (canonical identity numbers in
// `approvers`) may approve for the subject at `now`, and are complete.
absl::Status CheckApprovers(absl::string_view subject, absl::CivilDay birth,
                            const RepeatedPtrField<v1::Approval>& approvals,
                            const std::vector<std::string>& approvers,
                            const SubjectFacts& facts,
                            const consent::Policy& policy, absl::Time now) {
  auto within = [now](absl::Time from, absl::Time until) {
    return from <= now && now < until;
  };
  std::vector<std::string> guardians;
  for (const consent::CustodyFact& f : facts.custody) {
    if (f.subject != subject || f.guardian.empty() ||
        !within(f.valid_from, f.valid_until)) {
      continue;
    }
    if (std::find(guardians.begin(), guardians.end(), f.guardian) ==
        guardians.end()) {
      guardians.push_back(f.guardian);
    }
  }
  auto is_guardian = [&guardians](const std::string& person) {
    return std::find(guardians.begin(), guardians.end(), person) !=
           guardians.end();
  };
  auto is_representative = [&](const std::string& person) {
    for (const consent::Representation& r : facts.representations) {
      if (r.subject == subject && r.representative == person &&
          r.covers_consent && within(r.valid_from, r.valid_until)) {
        return true;
      }
    }
    return false;
  };
  auto is_subject = [&](int i) {
    return approvals.Get(i).approver_role() == v1::APPROVER_ROLE_SUBJECT &&
           approvers[static_cast<size_t>(i)] == subject;
  };
  auto is_guardian_approval = [&](int i) {
    return approvals.Get(i).approver_role() == v1::APPROVER_ROLE_GUARDIAN &&
           is_guardian(approvers[static_cast<size_t>(i)]);
  };
  auto not_competent = [](int i, absl::string_view why) {
    return Error(
        absl::StatusCode::kFailedPrecondition, "APPROVER_NOT_COMPETENT",
        absl::StrCat("approvals[", i, "].approver_identity_number"), why);
  };
  // Every guardian with custody approves (or, with the policy's
  // joint_custody_requires_all off, at least one; every approver must be
  // one of them).
  auto guardians_approve = [&]() -> absl::Status {
    if (guardians.empty()) {
      return Error(absl::StatusCode::kFailedPrecondition,
                   "GUARDIAN_APPROVAL_MISSING", "approvals",
                   "no guardian with custody of the subject is on file; "
                   "custody must be registered first");
    }
    for (int i = 0; i < approvals.size(); ++i) {
      if (!is_guardian_approval(i)) {
        return not_competent(i,
                             "is not a guardian with custody of the subject "
                             "at this time, approving as GUARDIAN");
      }
    }
    if (policy.joint_custody_requires_all) {
      for (const std::string& g : guardians) {
        if (std::find(approvers.begin(), approvers.end(), g) ==
            approvers.end()) {
          return Error(absl::StatusCode::kFailedPrecondition,
                       "GUARDIAN_APPROVAL_MISSING", "approvals",
                       "every guardian with custody must approve; at least "
                       "one approval is missing");
        }
      }
    }
    return absl::OkStatus();
  };

  const int age = consent::SubjectAge(birth, policy, now);
  if (age < policy.consent_age) return guardians_approve();
  if (age < policy.adult_age) {
    bool subject_approves = false;
    for (int i = 0; i < approvals.size(); ++i) {
      if (is_subject(i)) subject_approves = true;
    }
    const bool guardians_may =
        policy.teen_rule == consent::TeenRule::kSubjectOrGuardians;
    if (guardians_may && !subject_approves) return guardians_approve();
    for (int i = 0; i < approvals.size(); ++i) {
      if (is_subject(i)) continue;
      if (guardians_may && is_guardian_approval(i)) continue;
      return not_competent(
          i, absl::StrCat("from ", policy.consent_age,
                          " the subject approves personally, as SUBJECT"));
    }
    return absl::OkStatus();
  }
  for (int i = 0; i < approvals.size(); ++i) {
    if (is_subject(i)) continue;
    if (approvals.Get(i).approver_role() ==
            v1::APPROVER_ROLE_LEGAL_REPRESENTATIVE &&
        is_representative(approvers[static_cast<size_t>(i)])) {
      continue;
    }
    return not_competent(i,
                         "is neither the subject (as SUBJECT) nor a legal "
                         "representative whose remit covers consent (as "
                         "LEGAL_REPRESENTATIVE)");
  }
  return absl::OkStatus();
}

// The record of a listing (a read that was allowed: a listing shows only
// plans the caller takes part in).
void ListingRecord(Effects* fx, const Caller& caller, absl::string_view subject,
                   absl::Time now, std::string detail) {
  v1::AuditEvent* e = fx->mutable_record();
  *e = NewEvent(caller, v1::AUDIT_ACTION_PLANS_LISTED, subject, "", now);
  e->set_decision(v1::DECISION_ALLOW);
  e->add_reasons(v1::DECISION_REASON_PLAN_PARTICIPANT);
  e->set_detail(std::move(detail));
}

// One page of the plans the caller may see (about `subject` if not empty,
// in `state` if not 0), continuing after plan id `after`.
absl::Status ListPlansPage(storage::Transaction& tx, const Caller& caller,
                           absl::string_view subject, int state,
                           absl::string_view after, int limit,
                           absl::string_view scope,
                           RepeatedPtrField<v1::Plan>* plans,
                           std::string* next_page_token, absl::Time now,
                           Effects* fx) {
  ASSIGN_OR_RETURN(std::vector<v1::Plan> found,
                   tx.plans().ListForAgency(caller.agency_id, subject, state,
                                            after, limit + 1));
  const bool more = found.size() > static_cast<size_t>(limit);
  if (more) found.resize(static_cast<size_t>(limit));
  for (v1::Plan& plan : found) {
    plan.set_etag(Etag(plan.revision()));
    *plans->Add() = std::move(plan);
  }
  if (more && !plans->empty()) {
    *next_page_token =
        EncodePageToken(scope, PlanIdOf(plans->Get(plans->size() - 1).name()));
  }
  ListingRecord(fx, caller, subject, now,
                absl::StrCat(plans->size(), " plans listed"));
  return absl::OkStatus();
}

// --- CreatePlan ---

struct CreatePlanInput {
  std::string subject;
  absl::CivilDay birth;
  std::vector<v1::Participant> invited;
};

absl::StatusOr<CreatePlanInput> ParseCreatePlan(
    const AppContext& ctx, const Caller& caller,
    const v1::CreatePlanRequest& req) {
  CreatePlanInput in;
  RETURN_IF_ERROR(CheckRequestId(req.request_id()));
  const v1::Plan& plan = req.plan();
  ASSIGN_OR_RETURN(in.subject, ParseIdentity(plan.subject(), "plan.subject"));
  absl::StatusOr<consent::IdentityNumber> id =
      consent::IdentityNumber::Parse(in.subject);
  if (!id.ok()) return InvalidField("plan.subject", id.status().message());
  in.birth = id->birth_date();
  if (consent::SubjectAge(in.birth, ctx.policy, ctx.clock->Now()) < 0) {
    return InvalidField("plan.subject", "the birth date is in the future");
  }
  if (plan.has_coordinator()) {
    RETURN_IF_ERROR(
        ValidateCoordinator(plan.coordinator(), "plan.coordinator"));
  }
  RETURN_IF_ERROR(
      ValidateReviewDates(plan.review_dates(), "plan.review_dates"));
  if (req.participants_size() > kMaxParticipants) {
    return InvalidField(
        "participants",
        absl::StrCat("may hold at most ", kMaxParticipants, " participants"));
  }
  std::vector<std::string> seen;
  for (int i = 0; i < req.participants_size(); ++i) {
    const std::string field = absl::StrCat("participants[", i, "]");
    ASSIGN_OR_RETURN(
        v1::Participant p,
        ValidateParticipant(req.participants(i), field, caller.agency_id));
    const std::string key = p.kind() == v1::PARTICIPANT_KIND_AGENCY
                                ? p.agency()
                                : p.identity_number();
    if (!key.empty()) {
      if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
        return InvalidField(
            absl::StrCat(field, p.kind() == v1::PARTICIPANT_KIND_AGENCY
                                    ? ".agency"
                                    : ".identity_number"),
            "is listed twice");
      }
      seen.push_back(key);
    }
    in.invited.push_back(std::move(p));
  }
  return in;
}

absl::Status DecideCreatePlan(const AppContext& ctx, storage::Transaction& tx,
                              const Caller& c, const v1::CreatePlanRequest& req,
                              absl::Time now, v1::CreatePlanResponse* resp,
                              Effects* fx) {
  ASSIGN_OR_RETURN(CreatePlanInput input, ParseCreatePlan(ctx, c, req));
  const v1::Plan& in = req.plan();
  if (in.has_coordinator() && !in.coordinator().agency().empty()) {
    RETURN_IF_ERROR(ReferencedAgency(tx, BareId(in.coordinator().agency()),
                                     false, "plan.coordinator.agency")
                        .status());
  }
  // The lead agency and the subject take part automatically.
  std::vector<v1::Participant> participants;
  ASSIGN_OR_RETURN(v1::Agency lead, tx.agencies().Get(c.agency_id));
  v1::Participant lead_participant;
  lead_participant.set_kind(v1::PARTICIPANT_KIND_AGENCY);
  lead_participant.set_agency(c.agency_name());
  lead_participant.set_display_name(lead.display_name());
  participants.push_back(std::move(lead_participant));
  v1::Participant subject_participant;
  subject_participant.set_kind(v1::PARTICIPANT_KIND_SUBJECT);
  subject_participant.set_identity_number(input.subject);
  participants.push_back(std::move(subject_participant));
  for (size_t i = 0; i < input.invited.size(); ++i) {
    v1::Participant p = input.invited[i];
    if (p.kind() == v1::PARTICIPANT_KIND_AGENCY) {
      ASSIGN_OR_RETURN(
          v1::Agency agency,
          ReferencedAgency(tx, BareId(p.agency()), true,
                           absl::StrCat("participants[", i, "].agency")));
      p.set_display_name(agency.display_name());
    }
    participants.push_back(std::move(p));
  }

  const std::string plan_id = ctx.ids->NewId();
  const std::string plan_name = PlanName(plan_id);
  v1::Plan plan;
  plan.set_name(plan_name);
  plan.set_subject(input.subject);
  SetDate(input.birth, plan.mutable_subject_birth_date());
  plan.set_lead_agency(c.agency_name());
  if (in.has_coordinator()) *plan.mutable_coordinator() = in.coordinator();
  *plan.mutable_review_dates() = in.review_dates();
  plan.set_state(v1::PLAN_STATE_DRAFT);
  plan.set_revision(1);
  plan.set_effective_revision(0);
  SetTimestamp(now, plan.mutable_create_time());
  SetTimestamp(now, plan.mutable_update_time());
  for (v1::Participant& p : participants) {
    p.set_name(absl::StrCat(plan_name, "/participants/", ctx.ids->NewId()));
    SetTimestamp(now, p.mutable_invite_time());
    *resp->add_participants() = p;
  }
  fx->AddWrite([plan, participants = std::move(participants), actor = c.actor,
                now](storage::Transaction& t) -> absl::Status {
    RETURN_IF_ERROR(t.plans().Create(plan, actor, now));
    const std::string id = BareId(plan.name());
    for (const v1::Participant& p : participants) {
      RETURN_IF_ERROR(t.plans().AddParticipant(id, p));
    }
    return absl::OkStatus();
  });
  ChangeRecord(fx, c, v1::AUDIT_ACTION_PLAN_CREATED, input.subject, plan_name,
               now,
               absl::StrCat("plan created as a draft with ",
                            resp->participants_size(), " participants"));
  *resp->mutable_plan() = std::move(plan);
  resp->mutable_plan()->set_etag(Etag(resp->plan().revision()));
  return absl::OkStatus();
}

// --- GetPlan ---

struct GetPlanInput {
  std::string plan_id;
  bool latest = false;
};

absl::StatusOr<GetPlanInput> ParseGetPlan(const AppContext&, const Caller&,
                                          const v1::GetPlanRequest& req) {
  GetPlanInput in;
  ASSIGN_OR_RETURN(in.plan_id, ParseName(req.name(), "plans", "name"));
  if (!v1::PlanView_IsValid(req.view())) {
    return InvalidField("view", "is not a known view");
  }
  in.latest = req.view() == v1::PLAN_VIEW_LATEST;
  return in;
}

absl::Status DecideGetPlan(const AppContext& ctx, storage::Transaction& tx,
                           const Caller& caller, const v1::GetPlanRequest& req,
                           absl::Time now, v1::GetPlanResponse* resp,
                           Effects* fx) {
  ASSIGN_OR_RETURN(GetPlanInput in, ParseGetPlan(ctx, caller, req));
  const std::string& plan_id = in.plan_id;
  const std::string plan_name = PlanName(plan_id);

  // The plan, how the caller stands to it, and its version: one query.
  ASSIGN_OR_RETURN(
      storage::PlanRepository::ReadView view,
      tx.plans().ReadForAgency(plan_id, caller.agency_id, !in.latest));
  std::string denial;
  const auto ground = static_cast<v1::DecisionReason>(PlanGround(
      (view.newest != nullptr) ? view.newest.get() : nullptr, caller.agency_id,
      (view.newest != nullptr) && view.takes_part, &denial));
  fx->DependOnPlan(plan_id, (view.newest != nullptr) ? view.version : 0);
  if (ground == v1::DECISION_REASON_UNSPECIFIED) {
    // A refusal is audited with its real reason.
    v1::AuditEvent* e = fx->mutable_record();
    *e = NewEvent(caller, v1::AUDIT_ACTION_PLAN_READ,
                  (view.newest != nullptr) ? view.newest->subject() : "",
                  plan_name, now);
    e->set_decision(v1::DECISION_DENY);
    e->add_reasons(v1::DECISION_REASON_NOT_PARTICIPANT);
    e->set_detail(std::move(denial));
    fx->Refuse(PlanNotFound(plan_id));
    return absl::OkStatus();
  }
  const v1::Plan& current = *view.newest;
  const std::string& subject = current.subject();
  const int64_t shown = view.shown_revision;

  // The revision shown, with the plan's current state: EFFECTIVE shows the
  // last approved revision; a plan never approved (a draft, seen only by
  // its lead agency) shows its newest.
  v1::Plan* header = resp->mutable_plan();
  *header = std::move(*view.shown);
  header->set_revision(current.revision());
  header->set_state(current.state());
  header->set_effective_revision(current.effective_revision());
  if (current.state() == v1::PLAN_STATE_CLOSED) {
    *header->mutable_close_time() = current.close_time();
    header->set_close_reason(current.close_reason());
    header->set_closed_by(current.closed_by());
    header->set_closer_identity_number(current.closer_identity_number());
  }
  header->set_etag(Etag(current.revision()));

  // One record for the read, every entry's decision inside.
  v1::AuditEvent* record = fx->mutable_record();
  *record =
      NewEvent(caller, v1::AUDIT_ACTION_PLAN_READ, subject, plan_name, now);
  record->set_decision(v1::DECISION_ALLOW);
  record->add_reasons(ground);
  record->set_detail(absl::StrCat(in.latest ? "latest" : "effective",
                                  " view, revision ", shown));

  // The entries, participants and approvals shown, parsed once per plan
  // version (read_cache.h); the subject's consent, read once for every
  // entry. The decision depends on both versions.
  ASSIGN_OR_RETURN(std::shared_ptr<const PlanContent> content,
                   ReadPlanContent(ctx.read_cache, tx, plan_id, view.version,
                                   shown, current.effective_revision()));
  ASSIGN_OR_RETURN(const int64_t consent_version,
                   tx.grants().ConsentVersion(subject));
  fx->DependOnConsent(subject, consent_version);
  ASSIGN_OR_RETURN(
      std::shared_ptr<const SubjectFacts> facts,
      ReadSubjectFacts(ctx.read_cache, tx, subject, consent_version));
  const consent::Facts facts_view = facts->view();
  const consent::SubjectContext about(subject, facts_view, ctx.policy, now);
  const consent::Agency reader{caller.agency_id, caller.sector};
  // Entries of one owner and category are decided alike: once each.
  absl::flat_hash_map<std::pair<std::string, int>, consent::Decision> decided;
  for (size_t i = 0; i < content->entries.size(); ++i) {
    const v1::Entry& entry = content->entries[i];
    const std::optional<consent::Agency>& owner = content->owners[i];
    auto [it, inserted] = decided.try_emplace(std::pair(
        owner.has_value() ? owner->id : std::string(), entry.category()));
    consent::Decision& decision = it->second;
    if (inserted) {
      if (!owner.has_value()) {
        // The owner is not registered: fail closed.
        decision.allowed = false;
        decision.reason = consent::Reason::kInvalidInput;
      } else {
        consent::Access access;
        access.subject = subject;
        access.plan = plan_id;
        access.owner = *owner;
        access.reader = reader;
        access.category = static_cast<consent::Category>(entry.category());
        access.reader_participates = true;
        // The reply carries reasons only: no explanation to build.
        decision = about.Decide(access, /*explain=*/false);
      }
    }
    const auto reason = static_cast<v1::DecisionReason>(decision.reason);
    v1::EntryDecision* d = record->add_entry_decisions();
    d->set_entry(entry.name());
    d->set_owner_agency(entry.owner_agency());
    d->set_category(entry.category());
    d->set_decision(decision.allowed ? v1::DECISION_ALLOW : v1::DECISION_DENY);
    d->set_reason(reason);
    for (const std::string& grant : decision.grants_relied_on) {
      d->add_grants(absl::StrCat("grants/", grant));
    }
    if (decision.allowed) {
      v1::Entry* shown_entry = resp->add_entries();
      *shown_entry = entry;
      shown_entry->set_etag(Etag(entry.revision()));
    } else {
      // No id, text or dates: only owner, category and reason.
      v1::WithheldEntry* withheld = resp->add_withheld_entries();
      withheld->set_owner_agency(entry.owner_agency());
      withheld->set_category(entry.category());
      withheld->set_reason(reason);
    }
  }
  for (const v1::Participant& p : content->participants) {
    *resp->add_participants() = p;
  }
  for (const v1::Approval& a : content->approvals) {
    *resp->add_approvals() = a;
  }
  resp->set_shown_revision(shown);
  return absl::OkStatus();
}

// --- RenderPlan ---

struct RenderPlanInput {
  v1::GetPlanRequest get;  // the read GetPlan makes
  GetPlanInput plan;
  DocumentOptions options;
};

absl::StatusOr<RenderPlanInput> ParseRenderPlan(
    const AppContext& ctx, const Caller& caller,
    const v1::RenderPlanRequest& req) {
  RenderPlanInput in;
  in.get.set_name(req.name());
  in.get.set_view(req.view());
  ASSIGN_OR_RETURN(in.plan, ParseGetPlan(ctx, caller, in.get));
  ASSIGN_OR_RETURN(in.options,
                   ParseDocumentOptions(req.language_code(), req.format()));
  return in;
}

// The plan read exactly as GetPlan reads it (the same decisions and the same
// audit record, its detail saying what was made), then composed for the
// family with the names of the agencies it mentions and the consents in
// force.
absl::Status DecideRenderPlan(const AppContext& ctx, storage::Transaction& tx,
                              const Caller& caller,
                              const v1::RenderPlanRequest& req, absl::Time now,
                              v1::RenderPlanResponse* resp, Effects* fx) {
  ASSIGN_OR_RETURN(RenderPlanInput in, ParseRenderPlan(ctx, caller, req));
  render::PlanCopy copy;
  RETURN_IF_ERROR(DecideGetPlan(ctx, tx, caller, in.get, now, &copy.read, fx));
  if (!fx->refusal().ok()) return absl::OkStatus();
  const v1::Plan& plan = copy.read.plan();
  copy.reader = absl::StrCat("agencies/", caller.agency_id);
  copy.now = now;
  copy.zone = ctx.policy.zone;

  // Consents in force now that may cover this plan: active, in their
  // period, given by someone who may consent for the subject now (not a
  // guardian once the child is 15). The decisions above read the same
  // consent version (fx depends on it).
  ASSIGN_OR_RETURN(const int64_t consent_version,
                   tx.grants().ConsentVersion(plan.subject()));
  ASSIGN_OR_RETURN(
      std::shared_ptr<const SubjectFacts> facts,
      ReadSubjectFacts(ctx.read_cache, tx, plan.subject(), consent_version));
  ASSIGN_OR_RETURN(std::vector<v1::Grant> grants,
                   tx.grants().ListForSubject(plan.subject()));
  for (v1::Grant& g : grants) {
    if (g.state() != v1::GRANT_STATE_ACTIVE) continue;
    if (ToTime(g.valid_from()) > now || ToTime(g.valid_until()) <= now) {
      continue;
    }
    if (!g.scope().plan().empty() && g.scope().plan() != plan.name()) continue;
    const absl::Status competent =
        consent::ValidateNewGrant(ToEngine(g), facts->view(), ctx.policy, now);
    if (ReasonOf(competent) == "GRANTOR_NOT_COMPETENT") continue;
    copy.consents.push_back(std::move(g));
  }

  // The names of every agency the document mentions.
  std::vector<std::string> named = {copy.reader, plan.lead_agency(),
                                    plan.coordinator().agency()};
  for (const v1::Entry& e : copy.read.entries()) {
    named.push_back(e.owner_agency());
    named.push_back(e.intervention().responsible_agency());
  }
  for (const v1::WithheldEntry& e : copy.read.withheld_entries()) {
    named.push_back(e.owner_agency());
  }
  for (const v1::Participant& p : copy.read.participants()) {
    named.push_back(p.agency());
  }
  for (const v1::Grant& g : copy.consents) {
    named.push_back(g.recorded_by_agency());
    for (const std::string& a : g.scope().disclosing_agencies()) {
      named.push_back(a);
    }
    for (const std::string& a : g.scope().receiving_agencies()) {
      named.push_back(a);
    }
  }
  ASSIGN_OR_RETURN(copy.agencies, ReadAgencies(tx, named));

  ASSIGN_OR_RETURN(
      RenderedDocument rendered,
      RenderDocument(render::ComposePlanDocument(copy, in.options.language),
                     in.options.pdf));
  resp->set_content(std::move(rendered.content));
  resp->set_content_type(rendered.content_type);
  resp->set_language_code(
      std::string(render::LanguageCode(in.options.language)));
  resp->set_shown_revision(copy.read.shown_revision());
  resp->set_file_name(absl::StrCat("sip-", in.plan.plan_id, "-v",
                                   copy.read.shown_revision(),
                                   rendered.extension));
  v1::AuditEvent* record = fx->mutable_record();
  record->set_detail(absl::StrCat(record->detail(), RenderedAs(in.options)));
  return absl::OkStatus();
}

// --- ListPlans and SearchPlans ---

struct ListInput {
  std::string subject;
  int state = 0;
  int limit = 0;
  std::string after;
  std::string scope;
};

absl::StatusOr<ListInput> ParseListPlans(const AppContext& ctx,
                                         const Caller& caller,
                                         const v1::ListPlansRequest& req) {
  ListInput in;
  if (!v1::PlanState_IsValid(req.state())) {
    return InvalidField("state", "is not a known plan state");
  }
  in.state = static_cast<int>(req.state());
  ASSIGN_OR_RETURN(in.limit, PageSize(req.page_size(), ctx.max_page_size));
  in.scope = absl::StrCat("ListPlans:", caller.agency_id, ":", in.state);
  ASSIGN_OR_RETURN(in.after, DecodePageToken(req.page_token(), in.scope));
  return in;
}

absl::Status DecideListPlans(const AppContext& ctx, storage::Transaction& tx,
                             const Caller& caller,
                             const v1::ListPlansRequest& req, absl::Time now,
                             v1::ListPlansResponse* resp, Effects* fx) {
  ASSIGN_OR_RETURN(ListInput in, ParseListPlans(ctx, caller, req));
  return ListPlansPage(tx, caller, "", in.state, in.after, in.limit, in.scope,
                       resp->mutable_plans(), resp->mutable_next_page_token(),
                       now, fx);
}

absl::StatusOr<ListInput> ParseSearchPlans(const AppContext& ctx,
                                           const Caller& caller,
                                           const v1::SearchPlansRequest& req) {
  ListInput in;
  ASSIGN_OR_RETURN(in.subject, ParseIdentity(req.subject(), "subject"));
  if (!v1::PlanState_IsValid(req.state())) {
    return InvalidField("state", "is not a known plan state");
  }
  in.state = static_cast<int>(req.state());
  ASSIGN_OR_RETURN(in.limit, PageSize(req.page_size(), ctx.max_page_size));
  // The token is bound to the subject without carrying it.
  in.scope = absl::StrCat("SearchPlans:", caller.agency_id, ":", in.state, ":",
                          KeyedTag(ctx.page_token_key, in.subject));
  ASSIGN_OR_RETURN(in.after, DecodePageToken(req.page_token(), in.scope));
  return in;
}

absl::Status DecideSearchPlans(const AppContext& ctx, storage::Transaction& tx,
                               const Caller& caller,
                               const v1::SearchPlansRequest& req,
                               absl::Time now, v1::SearchPlansResponse* resp,
                               Effects* fx) {
  ASSIGN_OR_RETURN(ListInput in, ParseSearchPlans(ctx, caller, req));
  return ListPlansPage(tx, caller, in.subject, in.state, in.after, in.limit,
                       in.scope, resp->mutable_plans(),
                       resp->mutable_next_page_token(), now, fx);
}

// --- UpdatePlan ---

absl::StatusOr<std::string> ParseUpdatePlan(const AppContext&, const Caller&,
                                            const v1::UpdatePlanRequest& req) {
  RETURN_IF_ERROR(CheckRequestId(req.request_id()));
  const v1::Plan& plan = req.plan();
  ASSIGN_OR_RETURN(std::string plan_id,
                   ParseName(plan.name(), "plans", "plan.name"));
  if (!req.has_update_mask() || req.update_mask().paths().empty()) {
    return InvalidField("update_mask",
                        "is required: name the fields to change "
                        "(coordinator, review_dates)");
  }
  const v1::Coordinator& co = plan.coordinator();
  for (const std::string& path : req.update_mask().paths()) {
    if (path == "coordinator") {
      if (plan.has_coordinator()) {
        RETURN_IF_ERROR(ValidateCoordinator(co, "plan.coordinator"));
      }
    } else if (path == "coordinator.display_name") {
      RETURN_IF_ERROR(CheckChars(co.display_name(), kMaxDisplayName, true,
                                 "plan.coordinator.display_name"));
    } else if (path == "coordinator.phone") {
      RETURN_IF_ERROR(CheckPhone(co.phone(), "plan.coordinator.phone"));
    } else if (path == "coordinator.email") {
      RETURN_IF_ERROR(CheckEmail(co.email(), "plan.coordinator.email"));
    } else if (path == "coordinator.agency") {
      RETURN_IF_ERROR(
          CheckOptionalAgency(co.agency(), "plan.coordinator.agency"));
    } else if (path == "review_dates") {
      RETURN_IF_ERROR(
          ValidateReviewDates(plan.review_dates(), "plan.review_dates"));
    } else {
      return InvalidField(
          "update_mask",
          absl::StrCat("cannot change ", QuotedPath(path),
                       "; the paths allowed are coordinator (or its "
                       "fields) and review_dates"));
    }
  }
  return plan_id;
}

absl::Status DecideUpdatePlan(const AppContext& ctx, storage::Transaction& tx,
                              const Caller& c,
                              const v1::UpdatePlanRequest& request,
                              absl::Time now, v1::UpdatePlanResponse* resp,
                              Effects* fx) {
  ASSIGN_OR_RETURN(const std::string plan_id, ParseUpdatePlan(ctx, c, request));
  ASSIGN_OR_RETURN(v1::Plan current, SeenPlan(tx, c, plan_id, fx));
  RETURN_IF_ERROR(RequireLead(current, c));
  RETURN_IF_ERROR(RequireOpen(current));
  const v1::Plan& in = request.plan();
  if (!in.etag().empty() && in.etag() != Etag(current.revision())) {
    return WithMetadata(
        Error(absl::StatusCode::kAborted, "ETAG_MISMATCH", "plan.etag",
              "does not match the plan's current etag; read the "
              "plan again"),
        "resource", current.name());
  }
  v1::Plan next = NextRevision(current, now);
  bool coordinator_changed = false;
  bool dates_changed = false;
  for (const std::string& path : request.update_mask().paths()) {
    if (path == "review_dates") {
      *next.mutable_review_dates() = in.review_dates();
      dates_changed = true;
      continue;
    }
    coordinator_changed = true;
    if (path == "coordinator") {
      if (in.has_coordinator()) {
        *next.mutable_coordinator() = in.coordinator();
      } else {
        next.clear_coordinator();
      }
    } else if (path == "coordinator.display_name") {
      next.mutable_coordinator()->set_display_name(
          in.coordinator().display_name());
    } else if (path == "coordinator.phone") {
      next.mutable_coordinator()->set_phone(in.coordinator().phone());
    } else if (path == "coordinator.email") {
      next.mutable_coordinator()->set_email(in.coordinator().email());
    } else if (path == "coordinator.agency") {
      next.mutable_coordinator()->set_agency(in.coordinator().agency());
    }
  }
  if (coordinator_changed && next.has_coordinator()) {
    RETURN_IF_ERROR(
        ValidateCoordinator(next.coordinator(), "plan.coordinator"));
    if (!next.coordinator().agency().empty()) {
      RETURN_IF_ERROR(ReferencedAgency(tx, BareId(next.coordinator().agency()),
                                       false, "plan.coordinator.agency")
                          .status());
    }
  }
  std::vector<std::string> changed;
  if (coordinator_changed) changed.push_back("coordinator");
  if (dates_changed) changed.push_back("review_dates");
  const std::string what = absl::StrJoin(changed, ", ");
  AddRevision(fx, c, next, absl::StrCat("plan changed: ", what), now);
  ChangeRecord(fx, c, v1::AUDIT_ACTION_PLAN_UPDATED, current.subject(),
               next.name(), now,
               absl::StrCat("revision ", next.revision(), " changed ", what));
  *resp->mutable_plan() = std::move(next);
  resp->mutable_plan()->set_etag(Etag(resp->plan().revision()));
  return absl::OkStatus();
}

// --- ApprovePlan ---

struct ApproveInput {
  std::string plan_id;
  std::vector<std::string> approvers;
};

absl::StatusOr<ApproveInput> ParseApprovePlan(
    const AppContext&, const Caller&, const v1::ApprovePlanRequest& req) {
  ApproveInput in;
  RETURN_IF_ERROR(CheckRequestId(req.request_id()));
  ASSIGN_OR_RETURN(in.plan_id, ParseName(req.name(), "plans", "name"));
  if (req.revision() < 1) {
    return InvalidField("revision", "is required: the revision approved");
  }
  if (req.approvals().empty()) {
    return InvalidField("approvals", "at least one approval is required");
  }
  if (req.approvals_size() > kMaxApprovals) {
    return InvalidField("approvals", absl::StrCat("may hold at most ",
                                                  kMaxApprovals, " approvals"));
  }
  for (int i = 0; i < req.approvals_size(); ++i) {
    const v1::Approval& a = req.approvals(i);
    const std::string field = absl::StrCat("approvals[", i, "]");
    if (a.approver_role() == v1::APPROVER_ROLE_UNSPECIFIED ||
        !v1::ApproverRole_IsValid(a.approver_role())) {
      return InvalidField(absl::StrCat(field, ".approver_role"),
                          "is required: SUBJECT, GUARDIAN or "
                          "LEGAL_REPRESENTATIVE");
    }
    const std::string identity_field =
        absl::StrCat(field, ".approver_identity_number");
    ASSIGN_OR_RETURN(
        std::string approver,
        ParseIdentity(a.approver_identity_number(), identity_field));
    if (std::find(in.approvers.begin(), in.approvers.end(), approver) !=
        in.approvers.end()) {
      return InvalidField(identity_field, "is listed twice");
    }
    RETURN_IF_ERROR(CheckEvidence(a.evidence(), a.has_evidence(),
                                  absl::StrCat(field, ".evidence")));
    in.approvers.push_back(std::move(approver));
  }
  return in;
}

absl::Status DecideApprovePlan(const AppContext& ctx, storage::Transaction& tx,
                               const Caller& c,
                               const v1::ApprovePlanRequest& request,
                               absl::Time now, v1::ApprovePlanResponse* resp,
                               Effects* fx) {
  ASSIGN_OR_RETURN(ApproveInput in, ParseApprovePlan(ctx, c, request));
  ASSIGN_OR_RETURN(v1::Plan current, SeenPlan(tx, c, in.plan_id, fx));
  RETURN_IF_ERROR(RequireLead(current, c));
  RETURN_IF_ERROR(RequireOpen(current));
  if (request.revision() > current.revision()) {
    return InvalidField("revision", "names a revision the plan does not have");
  }
  if (request.revision() < current.revision()) {
    return WithMetadata(
        Error(absl::StatusCode::kFailedPrecondition, "REVISION_NOT_LATEST",
              "revision",
              absl::StrCat("is not the plan's latest revision (",
                           current.revision(),
                           "); show the latest revision to the person "
                           "again")),
        "latest_revision", absl::StrCat(current.revision()));
  }
  absl::StatusOr<consent::IdentityNumber> subject =
      consent::IdentityNumber::Parse(current.subject());
  if (!subject.ok()) {
    return absl::InternalError("a stored plan has an invalid subject");
  }
  // Who may approve follows from custody and representation: the decision
  // depends on the subject's consent data.
  RETURN_IF_ERROR(fx->DependOnConsent(tx, current.subject()));
  ASSIGN_OR_RETURN(SubjectFacts facts, LoadSubjectFacts(tx, current.subject()));
  RETURN_IF_ERROR(CheckApprovers(subject->digits(), subject->birth_date(),
                                 request.approvals(), in.approvers, facts,
                                 ctx.policy, now));
  std::vector<v1::Approval> approvals;
  for (int i = 0; i < request.approvals_size(); ++i) {
    v1::Approval a;
    a.set_revision(request.revision());
    a.set_approver_role(request.approvals(i).approver_role());
    a.set_approver_identity_number(in.approvers[static_cast<size_t>(i)]);
    *a.mutable_evidence() = request.approvals(i).evidence();
    SetTimestamp(now, a.mutable_approve_time());
    a.set_recorded_by_agency(c.agency_name());
    a.set_recorded_by_actor(c.actor);
    *resp->add_approvals() = a;
    approvals.push_back(std::move(a));
  }
  fx->AddWrite([plan_id = in.plan_id, approvals = std::move(approvals)](
                   storage::Transaction& t) -> absl::Status {
    for (const v1::Approval& a : approvals) {
      RETURN_IF_ERROR(t.plans().AddApproval(plan_id, a));
    }
    return absl::OkStatus();
  });
  ChangeRecord(fx, c, v1::AUDIT_ACTION_PLAN_APPROVED, current.subject(),
               current.name(), now,
               absl::StrCat("revision ", request.revision(), " approved by ",
                            request.approvals_size(), " approver(s)"));
  // The plan as the approval leaves it (AddApproval's effect).
  v1::Plan approved = std::move(current);
  approved.set_effective_revision(
      std::max<int64_t>(approved.effective_revision(), request.revision()));
  if (approved.state() == v1::PLAN_STATE_DRAFT) {
    approved.set_state(v1::PLAN_STATE_ACTIVE);
  }
  approved.set_etag(Etag(approved.revision()));
  *resp->mutable_plan() = std::move(approved);
  return absl::OkStatus();
}

// --- ClosePlan ---

struct CloseInput {
  std::string plan_id;
  std::string closer;
};

absl::StatusOr<CloseInput> ParseClosePlan(const AppContext&, const Caller&,
                                          const v1::ClosePlanRequest& req) {
  CloseInput in;
  RETURN_IF_ERROR(CheckRequestId(req.request_id()));
  ASSIGN_OR_RETURN(in.plan_id, ParseName(req.name(), "plans", "name"));
  if (req.closed_by() == v1::PLAN_CLOSED_BY_UNSPECIFIED ||
      !v1::PlanClosedBy_IsValid(req.closed_by())) {
    return InvalidField("closed_by", "is required: who ended the plan");
  }
  const bool by_agencies = req.closed_by() == v1::PLAN_CLOSED_BY_AGENCIES;
  if (by_agencies) {
    if (!req.closer_identity_number().empty()) {
      return InvalidField("closer_identity_number",
                          "must be empty when the agencies close the plan");
    }
  } else {
    ASSIGN_OR_RETURN(in.closer, ParseIdentity(req.closer_identity_number(),
                                              "closer_identity_number"));
  }
  RETURN_IF_ERROR(CheckChars(req.reason(), kMaxReason, true, "reason"));
  if (!by_agencies || req.has_evidence()) {
    RETURN_IF_ERROR(
        CheckEvidence(req.evidence(), req.has_evidence(), "evidence"));
  }
  return in;
}

absl::Status DecideClosePlan(const AppContext& ctx, storage::Transaction& tx,
                             const Caller& c,
                             const v1::ClosePlanRequest& request,
                             absl::Time now, v1::ClosePlanResponse* resp,
                             Effects* fx) {
  ASSIGN_OR_RETURN(CloseInput in, ParseClosePlan(ctx, c, request));
  ASSIGN_OR_RETURN(v1::Plan current, SeenPlan(tx, c, in.plan_id, fx));
  RETURN_IF_ERROR(RequireLead(current, c));
  RETURN_IF_ERROR(RequireOpen(current));
  v1::Plan next = NextRevision(current, now);
  next.set_state(v1::PLAN_STATE_CLOSED);
  SetTimestamp(now, next.mutable_close_time());
  next.set_close_reason(request.reason());
  next.set_closed_by(request.closed_by());
  next.set_closer_identity_number(in.closer);
  AddRevision(fx, c, next, "plan closed", now);
  ChangeRecord(fx, c, v1::AUDIT_ACTION_PLAN_CLOSED, current.subject(),
               next.name(), now,
               absl::StrCat("closed in revision ", next.revision(), " by ",
                            v1::PlanClosedBy_Name(request.closed_by())));
  *resp->mutable_plan() = std::move(next);
  resp->mutable_plan()->set_etag(Etag(resp->plan().revision()));
  return absl::OkStatus();
}

// --- CreateEntry ---

absl::StatusOr<std::string> ParseCreateEntry(
    const AppContext&, const Caller&, const v1::CreateEntryRequest& req) {
  RETURN_IF_ERROR(CheckRequestId(req.request_id()));
  ASSIGN_OR_RETURN(std::string plan_id,
                   ParseName(req.parent(), "plans", "parent"));
  RETURN_IF_ERROR(ValidateEntryContent(req.entry(), "entry"));
  return plan_id;
}

absl::Status DecideCreateEntry(const AppContext& ctx, storage::Transaction& tx,
                               const Caller& c,
                               const v1::CreateEntryRequest& request,
                               absl::Time now, v1::CreateEntryResponse* resp,
                               Effects* fx) {
  ASSIGN_OR_RETURN(const std::string plan_id,
                   ParseCreateEntry(ctx, c, request));
  ASSIGN_OR_RETURN(v1::Plan current, SeenPlan(tx, c, plan_id, fx));
  RETURN_IF_ERROR(RequireOpen(current));
  const v1::Entry& in = request.entry();
  if (in.has_intervention()) {
    RETURN_IF_ERROR(
        ReferencedAgency(tx, BareId(in.intervention().responsible_agency()),
                         false, "entry.intervention.responsible_agency")
            .status());
  }
  v1::Plan next = NextRevision(current, now);
  v1::Entry entry;
  entry.set_name(absl::StrCat(current.name(), "/entries/", ctx.ids->NewId()));
  entry.set_owner_agency(c.agency_name());
  entry.set_author(c.actor);
  entry.set_category(in.category());
  entry.set_kind(in.kind());
  entry.set_text(in.text());
  if (in.has_intervention()) *entry.mutable_intervention() = in.intervention();
  entry.set_revision(next.revision());
  SetTimestamp(now, entry.mutable_create_time());
  SetTimestamp(now, entry.mutable_update_time());
  AddRevision(fx, c, next, "entry written", now);
  PutEntry(fx, plan_id, entry);
  ChangeRecord(
      fx, c, v1::AUDIT_ACTION_ENTRY_WRITTEN, current.subject(), entry.name(),
      now,
      absl::StrCat("created in revision ", next.revision(), ", category ",
                   consent::CategoryName(
                       static_cast<consent::Category>(entry.category()))));
  *resp->mutable_entry() = std::move(entry);
  resp->mutable_entry()->set_etag(Etag(resp->entry().revision()));
  return absl::OkStatus();
}

// --- UpdateEntry ---

absl::StatusOr<std::pair<std::string, std::string>> ParseUpdateEntry(
    const AppContext&, const Caller&, const v1::UpdateEntryRequest& req) {
  RETURN_IF_ERROR(CheckRequestId(req.request_id()));
  const v1::Entry& in = req.entry();
  ASSIGN_OR_RETURN(auto ids,
                   ParseChildName(in.name(), "entries", "entry.name"));
  if (!req.has_update_mask() || req.update_mask().paths().empty()) {
    return InvalidField("update_mask",
                        "is required: name the fields to change "
                        "(category, kind, text, intervention)");
  }
  const v1::Intervention& iv = in.intervention();
  for (const std::string& path : req.update_mask().paths()) {
    if (path == "category") {
      RETURN_IF_ERROR(CheckCategory(in.category(), "entry.category"));
    } else if (path == "kind") {
      RETURN_IF_ERROR(CheckEntryKind(in.kind(), "entry.kind"));
    } else if (path == "text") {
      RETURN_IF_ERROR(CheckChars(in.text(), kMaxEntryText, true, "entry.text"));
    } else if (path == "intervention") {
      if (in.has_intervention()) {
        RETURN_IF_ERROR(ValidateIntervention(iv, "entry.intervention"));
      }
    } else if (path == "intervention.responsible_agency") {
      RETURN_IF_ERROR(ParseAgencyName(iv.responsible_agency(),
                                      "entry.intervention.responsible_agency")
                          .status());
    } else if (path == "intervention.order") {
      RETURN_IF_ERROR(
          CheckInterventionOrder(iv.order(), "entry.intervention.order"));
    } else if (path == "intervention.start_date") {
      if (iv.has_start_date()) {
        RETURN_IF_ERROR(
            CheckDate(iv.start_date(), "entry.intervention.start_date"));
      }
    } else if (path == "intervention.end_date") {
      if (iv.has_end_date()) {
        RETURN_IF_ERROR(
            CheckDate(iv.end_date(), "entry.intervention.end_date"));
      }
    } else {
      return InvalidField(
          "update_mask",
          absl::StrCat("cannot change ", QuotedPath(path),
                       "; the paths allowed are category, kind, text and "
                       "intervention (or its fields)"));
    }
  }
  return ids;
}

absl::Status DecideUpdateEntry(const AppContext& ctx, storage::Transaction& tx,
                               const Caller& c,
                               const v1::UpdateEntryRequest& request,
                               absl::Time now, v1::UpdateEntryResponse* resp,
                               Effects* fx) {
  ASSIGN_OR_RETURN(auto ids, ParseUpdateEntry(ctx, c, request));
  const std::string& plan_id = ids.first;
  ASSIGN_OR_RETURN(v1::Plan current, SeenPlan(tx, c, plan_id, fx));
  RETURN_IF_ERROR(RequireOpen(current));
  const v1::Entry& in = request.entry();
  ASSIGN_OR_RETURN(v1::Entry entry, OwnEntry(tx, c, plan_id, ids.second,
                                             in.etag(), "entry.etag"));
  bool intervention_changed = false;
  for (const std::string& path : request.update_mask().paths()) {
    if (path == "category") {
      entry.set_category(in.category());
    } else if (path == "kind") {
      entry.set_kind(in.kind());
    } else if (path == "text") {
      entry.set_text(in.text());
    } else if (path == "intervention") {
      intervention_changed = true;
      if (in.has_intervention()) {
        *entry.mutable_intervention() = in.intervention();
      } else {
        entry.clear_intervention();
      }
    } else if (path == "intervention.responsible_agency") {
      intervention_changed = true;
      entry.mutable_intervention()->set_responsible_agency(
          in.intervention().responsible_agency());
    } else if (path == "intervention.order") {
      intervention_changed = true;
      entry.mutable_intervention()->set_order(in.intervention().order());
    } else if (path == "intervention.start_date") {
      intervention_changed = true;
      if (in.intervention().has_start_date()) {
        *entry.mutable_intervention()->mutable_start_date() =
            in.intervention().start_date();
      } else {
        entry.mutable_intervention()->clear_start_date();
      }
    } else if (path == "intervention.end_date") {
      intervention_changed = true;
      if (in.intervention().has_end_date()) {
        *entry.mutable_intervention()->mutable_end_date() =
            in.intervention().end_date();
      } else {
        entry.mutable_intervention()->clear_end_date();
      }
    }
  }
  RETURN_IF_ERROR(ValidateEntryContent(entry, "entry"));
  if (intervention_changed && entry.has_intervention()) {
    RETURN_IF_ERROR(
        ReferencedAgency(tx, BareId(entry.intervention().responsible_agency()),
                         false, "entry.intervention.responsible_agency")
            .status());
  }
  v1::Plan next = NextRevision(current, now);
  entry.set_revision(next.revision());
  entry.set_author(c.actor);
  SetTimestamp(now, entry.mutable_update_time());
  entry.clear_etag();
  AddRevision(fx, c, next, "entry changed", now);
  PutEntry(fx, plan_id, entry);
  ChangeRecord(
      fx, c, v1::AUDIT_ACTION_ENTRY_WRITTEN, current.subject(), entry.name(),
      now,
      absl::StrCat("changed in revision ", next.revision(), ": ",
                   absl::StrJoin(request.update_mask().paths(), ", ")));
  *resp->mutable_entry() = std::move(entry);
  resp->mutable_entry()->set_etag(Etag(resp->entry().revision()));
  return absl::OkStatus();
}

// --- DeleteEntry ---

absl::StatusOr<std::pair<std::string, std::string>> ParseDeleteEntry(
    const AppContext&, const Caller&, const v1::DeleteEntryRequest& req) {
  RETURN_IF_ERROR(CheckRequestId(req.request_id()));
  return ParseChildName(req.name(), "entries", "name");
}

absl::Status DecideDeleteEntry(const AppContext& ctx, storage::Transaction& tx,
                               const Caller& c,
                               const v1::DeleteEntryRequest& request,
                               absl::Time now, v1::DeleteEntryResponse* resp,
                               Effects* fx) {
  ASSIGN_OR_RETURN(auto ids, ParseDeleteEntry(ctx, c, request));
  const std::string& plan_id = ids.first;
  ASSIGN_OR_RETURN(v1::Plan current, SeenPlan(tx, c, plan_id, fx));
  RETURN_IF_ERROR(RequireOpen(current));
  ASSIGN_OR_RETURN(v1::Entry entry, OwnEntry(tx, c, plan_id, ids.second,
                                             request.etag(), "etag"));
  v1::Plan next = NextRevision(current, now);
  entry.set_deleted(true);
  entry.set_revision(next.revision());
  entry.set_author(c.actor);
  SetTimestamp(now, entry.mutable_update_time());
  entry.clear_etag();
  AddRevision(fx, c, next, "entry deleted", now);
  PutEntry(fx, plan_id, entry);
  ChangeRecord(fx, c, v1::AUDIT_ACTION_ENTRY_DELETED, current.subject(),
               entry.name(), now,
               absl::StrCat("deleted in revision ", next.revision()));
  *resp->mutable_entry() = std::move(entry);
  resp->mutable_entry()->set_etag(Etag(resp->entry().revision()));
  return absl::OkStatus();
}

// --- AddParticipant ---

struct AddParticipantInput {
  std::string plan_id;
  v1::Participant invited;
};

absl::StatusOr<AddParticipantInput> ParseAddParticipant(
    const AppContext&, const Caller&, const v1::AddParticipantRequest& req) {
  AddParticipantInput in;
  RETURN_IF_ERROR(CheckRequestId(req.request_id()));
  ASSIGN_OR_RETURN(in.plan_id, ParseName(req.parent(), "plans", "parent"));
  // Whether the agency already takes part is checked against the plan.
  ASSIGN_OR_RETURN(in.invited,
                   ValidateParticipant(req.participant(), "participant", ""));
  return in;
}

absl::Status DecideAddParticipant(const AppContext& ctx,
                                  storage::Transaction& tx, const Caller& c,
                                  const v1::AddParticipantRequest& request,
                                  absl::Time now,
                                  v1::AddParticipantResponse* resp,
                                  Effects* fx) {
  ASSIGN_OR_RETURN(AddParticipantInput in,
                   ParseAddParticipant(ctx, c, request));
  const std::string& plan_id = in.plan_id;
  ASSIGN_OR_RETURN(v1::Plan current, SeenPlan(tx, c, plan_id, fx));
  RETURN_IF_ERROR(RequireLead(current, c));
  RETURN_IF_ERROR(RequireOpen(current));
  v1::Participant p = std::move(in.invited);
  const bool is_agency = p.kind() == v1::PARTICIPANT_KIND_AGENCY;
  if (is_agency) {
    ASSIGN_OR_RETURN(
        v1::Agency agency,
        ReferencedAgency(tx, BareId(p.agency()), true, "participant.agency"));
    p.set_display_name(agency.display_name());
  }
  ASSIGN_OR_RETURN(std::vector<v1::Participant> active,
                   tx.plans().ListParticipants(plan_id, false));
  bool taken = is_agency && p.agency() == current.lead_agency();
  for (const v1::Participant& other : active) {
    if (is_agency && other.kind() == v1::PARTICIPANT_KIND_AGENCY &&
        other.agency() == p.agency()) {
      taken = true;
    }
    if (!is_agency && !p.identity_number().empty() &&
        other.identity_number() == p.identity_number()) {
      taken = true;
    }
  }
  if (taken) {
    return Error(
        absl::StatusCode::kAlreadyExists, "ALREADY_EXISTS",
        is_agency ? "participant.agency" : "participant.identity_number",
        "already takes part in the plan");
  }
  p.set_name(absl::StrCat(current.name(), "/participants/", ctx.ids->NewId()));
  SetTimestamp(now, p.mutable_invite_time());
  v1::Plan next = NextRevision(current, now);
  fx->AddWrite([plan_id, p](storage::Transaction& t) {
    return t.plans().AddParticipant(plan_id, p);
  });
  AddRevision(fx, c, next, "participant added", now);
  ChangeRecord(fx, c, v1::AUDIT_ACTION_PARTICIPANT_ADDED, current.subject(),
               p.name(), now,
               absl::StrCat("added in revision ", next.revision(), ": ",
                            v1::ParticipantKind_Name(p.kind())));
  *resp->mutable_participant() = std::move(p);
  return absl::OkStatus();
}

// --- RemoveParticipant ---

absl::StatusOr<std::string> ParseRemoveParticipant(
    const AppContext&, const Caller&, const v1::RemoveParticipantRequest& req) {
  RETURN_IF_ERROR(CheckRequestId(req.request_id()));
  ASSIGN_OR_RETURN(auto ids,
                   ParseChildName(req.name(), "participants", "name"));
  RETURN_IF_ERROR(CheckChars(req.reason(), kMaxReason, false, "reason"));
  return ids.first;
}

absl::Status DecideRemoveParticipant(
    const AppContext& ctx, storage::Transaction& tx, const Caller& c,
    const v1::RemoveParticipantRequest& request, absl::Time now,
    v1::RemoveParticipantResponse* resp, Effects* fx) {
  ASSIGN_OR_RETURN(const std::string plan_id,
                   ParseRemoveParticipant(ctx, c, request));
  ASSIGN_OR_RETURN(v1::Plan current, SeenPlan(tx, c, plan_id, fx));
  RETURN_IF_ERROR(RequireLead(current, c));
  RETURN_IF_ERROR(RequireOpen(current));
  ASSIGN_OR_RETURN(std::vector<v1::Participant> all,
                   tx.plans().ListParticipants(plan_id, true));
  std::optional<v1::Participant> found;
  for (v1::Participant& p : all) {
    if (p.name() == request.name()) found = std::move(p);
  }
  if (!found.has_value()) {
    return NotFound(request.name(), "participant not found");
  }
  if (found->has_remove_time()) {
    return Error(absl::StatusCode::kFailedPrecondition, "PARTICIPANT_REMOVED",
                 "name", "the participant was already removed");
  }
  if (found->kind() == v1::PARTICIPANT_KIND_SUBJECT ||
      (found->kind() == v1::PARTICIPANT_KIND_AGENCY &&
       found->agency() == current.lead_agency())) {
    return Error(absl::StatusCode::kFailedPrecondition, "PARTICIPANT_REQUIRED",
                 "name",
                 "the lead agency and the subject always take part in their "
                 "plan");
  }
  const std::string participant_id = BareId(found->name());
  fx->AddWrite([plan_id, participant_id, now](storage::Transaction& t) {
    return t.plans().RemoveParticipant(plan_id, participant_id, now);
  });
  SetTimestamp(now, found->mutable_remove_time());
  v1::Plan next = NextRevision(current, now);
  AddRevision(fx, c, next, "participant removed", now);
  ChangeRecord(fx, c, v1::AUDIT_ACTION_PARTICIPANT_REMOVED, current.subject(),
               found->name(), now,
               absl::StrCat("removed in revision ", next.revision(), ": ",
                            v1::ParticipantKind_Name(found->kind())));
  *resp->mutable_participant() = std::move(*found);
  return absl::OkStatus();
}

// --- ListUpcomingReviews ---

struct ReviewsInput {
  absl::CivilDay start;
  absl::CivilDay end;
  int limit = 0;
  int64_t offset = 0;
  std::string scope;
};

absl::StatusOr<ReviewsInput> ParseListUpcomingReviews(
    const AppContext& ctx, const Caller& caller,
    const v1::ListUpcomingReviewsRequest& req) {
  ReviewsInput in;
  if (!req.has_start_date()) return InvalidField("start_date", "is required");
  RETURN_IF_ERROR(CheckDate(req.start_date(), "start_date"));
  if (!req.has_end_date()) return InvalidField("end_date", "is required");
  RETURN_IF_ERROR(CheckDate(req.end_date(), "end_date"));
  in.start = ToDay(req.start_date());
  in.end = ToDay(req.end_date());
  if (in.end < in.start) {
    return InvalidField("end_date", "may not be before start_date");
  }
  if (in.end - in.start > kMaxReviewRangeDays) {
    return InvalidField("end_date",
                        absl::StrCat("may be at most ", kMaxReviewRangeDays,
                                     " days after start_date"));
  }
  if (!v1::ReviewKind_IsValid(req.kind())) {
    return InvalidField("kind", "is not a known review kind");
  }
  ASSIGN_OR_RETURN(in.limit, PageSize(req.page_size(), ctx.max_page_size));
  in.scope = absl::StrCat("ListUpcomingReviews:", caller.agency_id, ":",
                          absl::FormatCivilTime(in.start), ":",
                          absl::FormatCivilTime(in.end), ":",
                          static_cast<int>(req.kind()));
  ASSIGN_OR_RETURN(std::string after,
                   DecodePageToken(req.page_token(), in.scope));
  if (!after.empty() &&
      (!absl::SimpleAtoi(after, &in.offset) || in.offset < 0)) {
    return Error(absl::StatusCode::kInvalidArgument, "INVALID_PAGE_TOKEN",
                 "page_token",
                 "is not a token this method returned for these filters");
  }
  return in;
}

absl::Status DecideListUpcomingReviews(
    const AppContext& ctx, storage::Transaction& tx, const Caller& caller,
    const v1::ListUpcomingReviewsRequest& req, absl::Time now,
    v1::ListUpcomingReviewsResponse* resp, Effects* fx) {
  ASSIGN_OR_RETURN(ReviewsInput in, ParseListUpcomingReviews(ctx, caller, req));
  const v1::ReviewKind kind = req.kind();
  // Review dates of the active plans the caller takes part in, as agreed in
  // each plan's effective (approved) revision.
  std::vector<v1::UpcomingReview> reviews;
  std::string after;
  for (;;) {
    ASSIGN_OR_RETURN(
        std::vector<v1::Plan> page,
        tx.plans().ListForAgency(caller.agency_id, "", v1::PLAN_STATE_ACTIVE,
                                 after, kPlanBatch));
    for (const v1::Plan& newest : page) {
      if (newest.effective_revision() <= 0) continue;
      ASSIGN_OR_RETURN(
          v1::Plan effective,
          tx.plans().Get(PlanIdOf(newest.name()), newest.effective_revision()));
      for (const v1::ReviewDate& r : effective.review_dates()) {
        if (kind != v1::REVIEW_KIND_UNSPECIFIED && r.kind() != kind) continue;
        const absl::CivilDay day = ToDay(r.date());
        if (day < in.start || day > in.end) continue;
        v1::UpcomingReview u;
        u.set_plan(newest.name());
        u.set_subject(newest.subject());
        u.set_lead_agency(newest.lead_agency());
        *u.mutable_review() = r;
        reviews.push_back(std::move(u));
      }
    }
    if (page.size() < static_cast<size_t>(kPlanBatch)) break;
    after = PlanIdOf(page.back().name());
  }
  std::sort(reviews.begin(), reviews.end(),
            [](const v1::UpcomingReview& a, const v1::UpcomingReview& b) {
              const absl::CivilDay da = ToDay(a.review().date());
              const absl::CivilDay db = ToDay(b.review().date());
              if (da != db) return da < db;
              if (a.plan() != b.plan()) return a.plan() < b.plan();
              if (a.review().kind() != b.review().kind()) {
                return a.review().kind() < b.review().kind();
              }
              return a.review().description() < b.review().description();
            });
  const size_t first = static_cast<size_t>(in.offset);
  const size_t stop =
      std::min(reviews.size(), first + static_cast<size_t>(in.limit));
  for (size_t i = first; i < stop; ++i) {
    *resp->add_reviews() = std::move(reviews[i]);
  }
  if (stop < reviews.size()) {
    resp->set_next_page_token(EncodePageToken(in.scope, std::to_string(stop)));
  }
  ListingRecord(fx, caller, "", now,
                absl::StrCat(resp->reviews_size(), " review dates listed"));
  return absl::OkStatus();
}

}  // namespace

// --- The methods ---

#define SAMPLAN_PLAN_METHOD(Name, Write) \
  SAMPLAN_DEFINE_METHOD(PlanApp, PlanMethods, Name, Write, false)

SAMPLAN_PLAN_METHOD(CreatePlan, true)
SAMPLAN_PLAN_METHOD(GetPlan, false)
SAMPLAN_PLAN_METHOD(RenderPlan, false)
SAMPLAN_PLAN_METHOD(ListPlans, false)
SAMPLAN_PLAN_METHOD(SearchPlans, false)
SAMPLAN_PLAN_METHOD(UpdatePlan, true)
SAMPLAN_PLAN_METHOD(ApprovePlan, true)
SAMPLAN_PLAN_METHOD(ClosePlan, true)
SAMPLAN_PLAN_METHOD(CreateEntry, true)
SAMPLAN_PLAN_METHOD(UpdateEntry, true)
SAMPLAN_PLAN_METHOD(DeleteEntry, true)
SAMPLAN_PLAN_METHOD(AddParticipant, true)
SAMPLAN_PLAN_METHOD(RemoveParticipant, true)
SAMPLAN_PLAN_METHOD(ListUpcomingReviews, false)

#undef SAMPLAN_PLAN_METHOD

}  // namespace samplan::app
