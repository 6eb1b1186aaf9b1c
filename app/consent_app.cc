#include "app/consent_app.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "app/consent_bridge.h"
#include "common/errors.h"
#include "common/resource_names.h"
#include "common/status_macros.h"
#include "consent/identity_number.h"
#include "samplan/v1/audit.pb.h"
#include "samplan/v1/consent.pb.h"
#include "samplan/v1/plan.pb.h"

namespace samplan::app {
namespace {

using Outcome = absl::Status;

// How far from now CheckAccess evaluates, either way (about 10 years).
constexpr absl::Duration kMaxCheckDistance = absl::Hours(24 * 3653);

// The subject's identity number in `field`, also checking the subject is
// born (a number with a future birth date is a typing error).
absl::StatusOr<std::string> ParseSubject(absl::string_view text,
                                         absl::string_view field,
                                         const consent::Policy& policy,
                                         absl::Time now) {
  ASSIGN_OR_RETURN(std::string digits, ParseIdentity(text, field));
  auto id = consent::IdentityNumber::Parse(digits);
  if (consent::SubjectAge(id->birth_date(), policy, now) < 0) {
    return InvalidField(field, "has a birth date in the future");
  }
  return digits;
}

absl::Status CheckPeriod(const google::protobuf::Timestamp& from, bool has_from,
                         const google::protobuf::Timestamp& until,
                         bool has_until, absl::string_view prefix) {
  auto f = ParseTime(from, has_from, absl::StrCat(prefix, ".valid_from"));
  RETURN_IF_ERROR(f.status());
  if (has_until) {
    ASSIGN_OR_RETURN(
        absl::Time u,
        ParseTime(until, true, absl::StrCat(prefix, ".valid_until")));
    if (!(*f < u)) {
      return InvalidField(absl::StrCat(prefix, ".valid_until"),
                          "must be after valid_from");
    }
  }
  return absl::OkStatus();
}

absl::Status Append(storage::Transaction& tx, const v1::AuditEvent& e) {
  return tx.audit().Append(e).status();
}

// The audit event of a read of consent data: allowed on `ground`, or, when
// `ground` is DECISION_REASON_UNSPECIFIED, denied as NOT_PARTICIPANT.
absl::Status AuditRead(storage::Transaction& tx, const Caller& caller,
                       absl::string_view subject, absl::string_view resource,
                       absl::Time now, v1::DecisionReason ground) {
  v1::AuditEvent e =
      NewEvent(caller, v1::AUDIT_ACTION_CONSENT_READ, subject, resource, now);
  if (ground == v1::DECISION_REASON_UNSPECIFIED) {
    e.set_decision(v1::DECISION_DENY);
    e.add_reasons(v1::DECISION_REASON_NOT_PARTICIPANT);
    e.set_detail(
        "neither recorded by the agency nor about a subject of a plan "
        "it takes part in");
  } else {
    e.set_decision(v1::DECISION_ALLOW);
    e.add_reasons(ground);
  }
  return Append(tx, e);
}

// The audit event of a change to consent data, allowed on `ground`.
v1::AuditEvent ChangeEvent(const Caller& caller, v1::AuditAction action,
                           absl::string_view subject,
                           absl::string_view resource, absl::Time now,
                           v1::DecisionReason ground) {
  v1::AuditEvent e = NewEvent(caller, action, subject, resource, now);
  e.set_decision(v1::DECISION_ALLOW);
  e.add_reasons(ground);
  return e;
}

// Who sees consent data (custody facts, representations, grants): the
// agency that recorded it, an agency that sees a plan about the same
// subject, and, where `administrators` (grants), an administrator. Returns
// the ground, or DECISION_REASON_UNSPECIFIED for anyone else.
absl::StatusOr<v1::DecisionReason> ConsentDataGround(
    storage::Transaction& tx, const Caller& caller, absl::string_view subject,
    absl::string_view recorded_by, bool administrators) {
  if (administrators && caller.role == Role::kAdministrator) {
    return v1::DECISION_REASON_ADMINISTRATOR_ROLE;
  }
  if (recorded_by == caller.agency_name()) {
    return v1::DECISION_REASON_RECORDING_AGENCY;
  }
  ASSIGN_OR_RETURN(const bool sees,
                   SeesPlanAbout(tx, caller.agency_id, subject));
  return sees ? v1::DECISION_REASON_PLAN_PARTICIPANT
              : v1::DECISION_REASON_UNSPECIFIED;
}

// Reads one consent record (`found`, NOT_FOUND when missing) for `caller`:
// audits the read (denied for a record it may not see, as for a missing
// one) and fills `*out`, or sets `outcome` to the same NOT_FOUND for a
// record that is missing and one that is hidden.
template <typename T>
absl::Status ReadOne(storage::Transaction& tx, const Caller& caller,
                     absl::StatusOr<T> found, absl::string_view name,
                     absl::string_view what, bool administrators,
                     absl::Time now, Outcome& outcome, T* out) {
  if (!found.ok() && !absl::IsNotFound(found.status())) return found.status();
  v1::DecisionReason ground = v1::DECISION_REASON_UNSPECIFIED;
  std::string subject;
  if (found.ok()) {
    subject = found->subject();
    ASSIGN_OR_RETURN(
        ground, ConsentDataGround(tx, caller, subject,
                                  found->recorded_by_agency(), administrators));
  }
  RETURN_IF_ERROR(AuditRead(tx, caller, subject, name, now, ground));
  if (ground == v1::DECISION_REASON_UNSPECIFIED) {
    outcome = NotFound(name, absl::StrCat(what, " not found"));
    return absl::OkStatus();
  }
  *out = *std::move(found);
  return absl::OkStatus();
}

// A consent record that `caller` may change: found, and visible to it
// (ConsentDataGround, administrators excluded); the same NOT_FOUND
// otherwise.
template <typename T>
absl::StatusOr<T> ChangeableRecord(storage::Transaction& tx,
                                   const Caller& caller,
                                   absl::StatusOr<T> found,
                                   absl::string_view name,
                                   absl::string_view what) {
  const absl::Status hidden = NotFound(name, absl::StrCat(what, " not found"));
  if (absl::IsNotFound(found.status())) return hidden;
  RETURN_IF_ERROR(found.status());
  ASSIGN_OR_RETURN(const v1::DecisionReason ground,
                   ConsentDataGround(tx, caller, found->subject(),
                                     found->recorded_by_agency(), false));
  if (ground == v1::DECISION_REASON_UNSPECIFIED) return hidden;
  return found;
}

// How a search by subject selects: everything about the subject for an
// agency that sees a plan about it (or an administrator, where allowed),
// else only what the caller's agency recorded. Returns the ground.
struct SearchScope {
  v1::DecisionReason ground = v1::DECISION_REASON_RECORDING_AGENCY;
  bool all = false;
  std::string agency;  // "agencies/<caller>"
  template <typename T>
  bool Keeps(const T& record) const {
    return all || record.recorded_by_agency() == agency;
  }
};
absl::StatusOr<SearchScope> ScopeOfSearch(storage::Transaction& tx,
                                          const Caller& caller,
                                          absl::string_view subject,
                                          bool administrators) {
  SearchScope scope;
  scope.agency = caller.agency_name();
  if (administrators && caller.role == Role::kAdministrator) {
    scope.ground = v1::DECISION_REASON_ADMINISTRATOR_ROLE;
    scope.all = true;
    return scope;
  }
  ASSIGN_OR_RETURN(scope.all, SeesPlanAbout(tx, caller.agency_id, subject));
  if (scope.all) scope.ground = v1::DECISION_REASON_PLAN_PARTICIPANT;
  return scope;
}

// The scope's agencies as bare ids, each registered.
absl::Status CheckScopeAgencies(storage::Transaction& tx,
                                const v1::GrantScope& scope) {
  AgencyCache agencies(tx);
  auto check = [&agencies](absl::string_view name,
                           std::string field) -> absl::Status {
    absl::StatusOr<consent::Agency> agency = agencies.Get(BareId(name));
    if (absl::IsNotFound(agency.status())) {
      return Error(absl::StatusCode::kFailedPrecondition,
                   "UNKNOWN_REFERENCED_AGENCY", field,
                   "is not a registered agency");
    }
    return agency.status();
  };
  for (int i = 0; i < scope.disclosing_agencies_size(); ++i) {
    RETURN_IF_ERROR(
        check(scope.disclosing_agencies(i),
              absl::StrCat("grant.scope.disclosing_agencies[", i, "]")));
  }
  for (int i = 0; i < scope.receiving_agencies_size(); ++i) {
    RETURN_IF_ERROR(
        check(scope.receiving_agencies(i),
              absl::StrCat("grant.scope.receiving_agencies[", i, "]")));
  }
  return absl::OkStatus();
}

// Appends to `out` the items after the id `after` that `keep` accepts, at
// most `size` of them, and sets `*next` to a token for `scope` when more
// follow.
template <typename T, typename Keep>
void FillPage(std::vector<T> items, absl::string_view after, int size,
              absl::string_view scope,
              google::protobuf::RepeatedPtrField<T>* out, std::string* next,
              Keep keep) {
  for (T& item : items) {
    if (BareId(item.name()) <= after || !keep(item)) continue;
    if (out->size() == size) {
      *next = EncodePageToken(scope, BareId(out->rbegin()->name()));
      return;
    }
    *out->Add() = std::move(item);
  }
}

auto AnyItem = [](const auto&) { return true; };

}  // namespace

// ---------------------------------------------------------------- custody

void ConsentApp::CreateCustodyFact(const Caller& caller,
                                   const v1::CreateCustodyFactRequest& req,
                                   v1::CreateCustodyFactResponse* resp,
                                   Done done) {
  const absl::Time now = ctx_.clock->Now();
  const v1::CustodyFact& in = req.custody_fact();
  absl::Status s = CheckRequestId(req.request_id());
  auto subject = s.ok() ? ParseSubject(in.subject(), "custody_fact.subject",
                                       ctx_.policy, now)
                        : absl::StatusOr<std::string>(s);
  auto guardian = subject.ok()
                      ? ParseIdentity(in.guardian_identity_number(),
                                      "custody_fact.guardian_identity_number")
                      : absl::StatusOr<std::string>(subject.status());
  if (guardian.ok() && *guardian == *subject) {
    guardian = InvalidField("custody_fact.guardian_identity_number",
                            "must not be the subject");
  }
  if (guardian.ok()) {
    s = CheckPeriod(in.valid_from(), in.has_valid_from(), in.valid_until(),
                    in.has_valid_until(), "custody_fact");
    if (s.ok()) {
      s = CheckEvidence(in.evidence(), in.has_evidence(),
                        "custody_fact.evidence");
    }
  } else {
    s = guardian.status();
  }
  if (!s.ok()) return done(s);

  v1::CustodyFact fact = in;
  fact.set_subject(*subject);
  fact.set_guardian_identity_number(*guardian);
  fact.clear_recorded_by_agency();
  fact.clear_recorded_by_actor();
  fact.clear_create_time();
  SubmitWrite(
      ctx_, caller, "CreateCustodyFact", req, resp,
      [this, fact, resp](storage::Transaction& tx, const Caller& c,
                         const v1::CreateCustodyFactRequest& /*req*/,
                         absl::Time t) mutable -> absl::Status {
        fact.set_name("custodyFacts/" + ctx_.ids->NewId());
        fact.set_recorded_by_agency(c.agency_name());
        fact.set_recorded_by_actor(c.actor);
        SetTimestamp(t, fact.mutable_create_time());
        RETURN_IF_ERROR(tx.custody().AddCustody(fact));
        RETURN_IF_ERROR(
            Append(tx, ChangeEvent(c, v1::AUDIT_ACTION_CUSTODY_RECORDED,
                                   fact.subject(), fact.name(), t,
                                   v1::DECISION_REASON_AGENCY_SYSTEM_ROLE)));
        *resp->mutable_custody_fact() = fact;
        return absl::OkStatus();
      },
      std::move(done));
}

void ConsentApp::GetCustodyFact(const Caller& caller,
                                const v1::GetCustodyFactRequest& req,
                                v1::GetCustodyFactResponse* resp, Done done) {
  auto id = ParseName(req.name(), "custodyFacts", "name");
  if (!id.ok()) return done(id.status());
  SubmitWithOutcome(
      *ctx_.queue,
      [this, caller, id = *id, resp](storage::Transaction& tx,
                                     Outcome& outcome) -> absl::Status {
        return ReadOne(tx, caller, tx.custody().GetCustody(id),
                       absl::StrCat("custodyFacts/", id), "custody fact", false,
                       ctx_.clock->Now(), outcome,
                       resp->mutable_custody_fact());
      },
      std::move(done));
}

void ConsentApp::SearchCustodyFacts(const Caller& caller,
                                    const v1::SearchCustodyFactsRequest& req,
                                    v1::SearchCustodyFactsResponse* resp,
                                    Done done) {
  auto subject = ParseIdentity(req.subject(), "subject");
  if (!subject.ok()) return done(subject.status());
  auto size = PageSize(req.page_size(), ctx_.max_page_size);
  if (!size.ok()) return done(size.status());
  auto after = DecodePageToken(req.page_token(), "SearchCustodyFacts");
  if (!after.ok()) return done(after.status());
  SubmitWithOutcome(
      *ctx_.queue,
      [this, caller, subject = *subject, size = *size, after = *after, resp](
          storage::Transaction& tx, Outcome&) -> absl::Status {
        const absl::Time t = ctx_.clock->Now();
        ASSIGN_OR_RETURN(const SearchScope scope,
                         ScopeOfSearch(tx, caller, subject, false));
        ASSIGN_OR_RETURN(auto facts, tx.custody().ListCustody(subject));
        FillPage(std::move(facts), after, size, "SearchCustodyFacts",
                 resp->mutable_custody_facts(), resp->mutable_next_page_token(),
                 [&scope](const auto& f) { return scope.Keeps(f); });
        return AuditRead(tx, caller, subject, "custodyFacts", t, scope.ground);
      },
      std::move(done));
}

void ConsentApp::EndCustodyFact(const Caller& caller,
                                const v1::EndCustodyFactRequest& req,
                                v1::EndCustodyFactResponse* resp, Done done) {
  absl::Status s = CheckRequestId(req.request_id());
  auto id = s.ok() ? ParseName(req.name(), "custodyFacts", "name")
                   : absl::StatusOr<std::string>(s);
  if (!id.ok()) return done(id.status());
  auto end = ParseTime(req.end_time(), req.has_end_time(), "end_time");
  if (!end.ok()) return done(end.status());
  s = CheckEvidence(req.evidence(), req.has_evidence(), "evidence");
  if (!s.ok()) return done(s);
  SubmitWrite(
      ctx_, caller, "EndCustodyFact", req, resp,
      [this, id = *id, end = *end, resp](
          storage::Transaction& tx, const Caller& c,
          const v1::EndCustodyFactRequest& /*req*/,
          absl::Time t) -> absl::Status {
        ASSIGN_OR_RETURN(auto fact,
                         ChangeableRecord(tx, c, tx.custody().GetCustody(id),
                                          absl::StrCat("custodyFacts/", id),
                                          "custody fact"));
        if (end < ToTime(fact.valid_from())) {
          return InvalidField("end_time", "must not be before valid_from");
        }
        RETURN_IF_ERROR(
            tx.custody().EndCustody(id, end, c.agency_id, c.actor, t));
        RETURN_IF_ERROR(
            Append(tx, ChangeEvent(c, v1::AUDIT_ACTION_CUSTODY_ENDED,
                                   fact.subject(), fact.name(), t,
                                   v1::DECISION_REASON_AGENCY_SYSTEM_ROLE)));
        ASSIGN_OR_RETURN(*resp->mutable_custody_fact(),
                         tx.custody().GetCustody(id));
        return absl::OkStatus();
      },
      std::move(done));
}

// --------------------------------------------------------- representations

void ConsentApp::CreateRepresentation(
    const Caller& caller, const v1::CreateRepresentationRequest& req,
    v1::CreateRepresentationResponse* resp, Done done) {
  const absl::Time now = ctx_.clock->Now();
  const v1::Representation& in = req.representation();
  absl::Status s = CheckRequestId(req.request_id());
  auto subject = s.ok() ? ParseSubject(in.subject(), "representation.subject",
                                       ctx_.policy, now)
                        : absl::StatusOr<std::string>(s);
  auto rep = subject.ok()
                 ? ParseIdentity(in.representative_identity_number(),
                                 "representation.representative_identity_"
                                 "number")
                 : absl::StatusOr<std::string>(subject.status());
  if (rep.ok() && *rep == *subject) {
    rep = InvalidField("representation.representative_identity_number",
                       "must not be the subject");
  }
  s = rep.status();
  if (s.ok() && (in.kind() == v1::REPRESENTATION_KIND_UNSPECIFIED ||
                 !v1::RepresentationKind_IsValid(in.kind()))) {
    s = InvalidField("representation.kind",
                     "must be GOD_MAN, FORVALTARE or OTHER");
  }
  if (s.ok()) {
    s = CheckPeriod(in.valid_from(), in.has_valid_from(), in.valid_until(),
                    in.has_valid_until(), "representation");
  }
  if (s.ok()) {
    s = CheckEvidence(in.evidence(), in.has_evidence(),
                      "representation.evidence");
  }
  if (!s.ok()) return done(s);
  v1::Representation r = in;
  r.set_subject(*subject);
  r.set_representative_identity_number(*rep);
  SubmitWrite(
      ctx_, caller, "CreateRepresentation", req, resp,
      [this, r, resp](storage::Transaction& tx, const Caller& c,
                      const v1::CreateRepresentationRequest& /*req*/,
                      absl::Time t) mutable -> absl::Status {
        r.set_name("representations/" + ctx_.ids->NewId());
        r.set_recorded_by_agency(c.agency_name());
        r.set_recorded_by_actor(c.actor);
        SetTimestamp(t, r.mutable_create_time());
        RETURN_IF_ERROR(tx.custody().AddRepresentation(r));
        RETURN_IF_ERROR(
            Append(tx, ChangeEvent(c, v1::AUDIT_ACTION_REPRESENTATION_RECORDED,
                                   r.subject(), r.name(), t,
                                   v1::DECISION_REASON_AGENCY_SYSTEM_ROLE)));
        *resp->mutable_representation() = r;
        return absl::OkStatus();
      },
      std::move(done));
}

void ConsentApp::GetRepresentation(const Caller& caller,
                                   const v1::GetRepresentationRequest& req,
                                   v1::GetRepresentationResponse* resp,
                                   Done done) {
  auto id = ParseName(req.name(), "representations", "name");
  if (!id.ok()) return done(id.status());
  SubmitWithOutcome(
      *ctx_.queue,
      [this, caller, id = *id, resp](storage::Transaction& tx,
                                     Outcome& outcome) -> absl::Status {
        return ReadOne(tx, caller, tx.custody().GetRepresentation(id),
                       absl::StrCat("representations/", id), "representation",
                       false, ctx_.clock->Now(), outcome,
                       resp->mutable_representation());
      },
      std::move(done));
}

void ConsentApp::SearchRepresentations(
    const Caller& caller, const v1::SearchRepresentationsRequest& req,
    v1::SearchRepresentationsResponse* resp, Done done) {
  auto subject = ParseIdentity(req.subject(), "subject");
  if (!subject.ok()) return done(subject.status());
  auto size = PageSize(req.page_size(), ctx_.max_page_size);
  if (!size.ok()) return done(size.status());
  auto after = DecodePageToken(req.page_token(), "SearchRepresentations");
  if (!after.ok()) return done(after.status());
  SubmitWithOutcome(
      *ctx_.queue,
      [this, caller, subject = *subject, size = *size, after = *after, resp](
          storage::Transaction& tx, Outcome&) -> absl::Status {
        const absl::Time t = ctx_.clock->Now();
        ASSIGN_OR_RETURN(const SearchScope scope,
                         ScopeOfSearch(tx, caller, subject, false));
        ASSIGN_OR_RETURN(auto reps, tx.custody().ListRepresentations(subject));
        FillPage(std::move(reps), after, size, "SearchRepresentations",
                 resp->mutable_representations(),
                 resp->mutable_next_page_token(),
                 [&scope](const auto& r) { return scope.Keeps(r); });
        return AuditRead(tx, caller, subject, "representations", t,
                         scope.ground);
      },
      std::move(done));
}

void ConsentApp::EndRepresentation(const Caller& caller,
                                   const v1::EndRepresentationRequest& req,
                                   v1::EndRepresentationResponse* resp,
                                   Done done) {
  absl::Status s = CheckRequestId(req.request_id());
  auto id = s.ok() ? ParseName(req.name(), "representations", "name")
                   : absl::StatusOr<std::string>(s);
  if (!id.ok()) return done(id.status());
  auto end = ParseTime(req.end_time(), req.has_end_time(), "end_time");
  if (!end.ok()) return done(end.status());
  s = CheckEvidence(req.evidence(), req.has_evidence(), "evidence");
  if (!s.ok()) return done(s);
  SubmitWrite(
      ctx_, caller, "EndRepresentation", req, resp,
      [this, id = *id, end = *end, resp](
          storage::Transaction& tx, const Caller& c,
          const v1::EndRepresentationRequest& /*req*/,
          absl::Time t) -> absl::Status {
        ASSIGN_OR_RETURN(
            auto r, ChangeableRecord(tx, c, tx.custody().GetRepresentation(id),
                                     absl::StrCat("representations/", id),
                                     "representation"));
        if (r.has_valid_until() && ToTime(r.valid_until()) <= end) {
          return Error(absl::StatusCode::kFailedPrecondition, "ALREADY_ENDED",
                       "", "the representation already ends by then");
        }
        if (end < ToTime(r.valid_from())) {
          return InvalidField("end_time", "must not be before valid_from");
        }
        SetTimestamp(end, r.mutable_valid_until());
        RETURN_IF_ERROR(tx.custody().UpdateRepresentation(r));
        RETURN_IF_ERROR(Append(
            tx,
            ChangeEvent(c, v1::AUDIT_ACTION_REPRESENTATION_ENDED, r.subject(),
                        r.name(), t, v1::DECISION_REASON_AGENCY_SYSTEM_ROLE)));
        *resp->mutable_representation() = std::move(r);
        return absl::OkStatus();
      },
      std::move(done));
}

// ------------------------------------------------------------------ grants

void ConsentApp::CreateGrant(const Caller& caller,
                             const v1::CreateGrantRequest& req,
                             v1::CreateGrantResponse* resp, Done done) {
  const v1::Grant& in = req.grant();
  absl::Status s = CheckRequestId(req.request_id());
  // Shape checks that the engine cannot make: resource name formats.
  for (int i = 0; s.ok() && i < in.scope().disclosing_agencies_size(); ++i) {
    s = ParseAgencyName(
            in.scope().disclosing_agencies(i),
            absl::StrCat("grant.scope.disclosing_agencies[", i, "]"))
            .status();
  }
  for (int i = 0; s.ok() && i < in.scope().receiving_agencies_size(); ++i) {
    s = ParseAgencyName(in.scope().receiving_agencies(i),
                        absl::StrCat("grant.scope.receiving_agencies[", i, "]"))
            .status();
  }
  if (s.ok() && !in.scope().plan().empty()) {
    s = ParseName(in.scope().plan(), "plans", "grant.scope.plan").status();
  }
  if (s.ok()) {
    s = ParseTime(in.valid_from(), in.has_valid_from(), "grant.valid_from")
            .status();
  }
  if (s.ok()) {
    s = ParseTime(in.valid_until(), in.has_valid_until(), "grant.valid_until")
            .status();
  }
  if (s.ok())
    s = CheckEvidence(in.evidence(), in.has_evidence(), "grant.evidence");
  auto subject = s.ok() ? ParseIdentity(in.subject(), "grant.subject")
                        : absl::StatusOr<std::string>(s);
  auto grantor = subject.ok() ? ParseIdentity(in.grantor_identity_number(),
                                              "grant.grantor_identity_number")
                              : absl::StatusOr<std::string>(subject.status());
  if (!grantor.ok()) return done(grantor.status());

  v1::Grant grant;
  grant.set_subject(*subject);
  grant.set_grantor_role(in.grantor_role());
  grant.set_grantor_identity_number(*grantor);
  *grant.mutable_scope() = in.scope();
  *grant.mutable_valid_from() = in.valid_from();
  *grant.mutable_valid_until() = in.valid_until();
  *grant.mutable_evidence() = in.evidence();
  SubmitWrite(
      ctx_, caller, "CreateGrant", req, resp,
      [this, grant, resp](storage::Transaction& tx, const Caller& c,
                          const v1::CreateGrantRequest& /*req*/,
                          absl::Time t) mutable -> absl::Status {
        ASSIGN_OR_RETURN(SubjectFacts facts,
                         LoadSubjectFacts(tx, grant.subject()));
        grant.set_name("grants/" + ctx_.ids->NewId());
        consent::Grant engine = ToEngine(grant);
        absl::Status valid =
            consent::ValidateNewGrant(engine, facts.view(), ctx_.policy, t);
        if (!valid.ok()) {
          // The engine names fields by its own names; map the two
          // that differ from the API.
          if (FieldOf(valid) == "grant.grantor") {
            std::string message(valid.message());
            message.replace(0, sizeof("grant.grantor") - 1,
                            "grant.grantor_identity_number");
            absl::Status renamed =
                Error(valid.code(), ReasonOf(valid).value_or("INVALID_FIELD"),
                      "", message);
            renamed.SetPayload(kFieldPayload,
                               absl::Cord("grant.grantor_identity_number"));
            return renamed;
          }
          return valid;
        }
        RETURN_IF_ERROR(CheckScopeAgencies(tx, grant.scope()));
        if (!grant.scope().plan().empty()) {
          // A plan the caller may not see answers as one about another
          // subject: nothing is learnt of it.
          absl::StatusOr<VisiblePlan> plan =
              FindVisiblePlan(tx, c.agency_id, BareId(grant.scope().plan()));
          if (!plan.ok() && !absl::IsNotFound(plan.status())) {
            return plan.status();
          }
          if (!plan.ok() || plan->plan->subject() != grant.subject()) {
            return InvalidField("grant.scope.plan",
                                "is not a plan about this subject");
          }
        }
        grant.set_recorded_by_agency(c.agency_name());
        grant.set_recorded_by_actor(c.actor);
        SetTimestamp(t, grant.mutable_create_time());
        grant.set_state(v1::GRANT_STATE_ACTIVE);
        RETURN_IF_ERROR(tx.grants().Insert(grant));
        v1::AuditEvent e = ChangeEvent(c, v1::AUDIT_ACTION_GRANT_RECORDED,
                                       grant.subject(), grant.name(), t,
                                       v1::DECISION_REASON_AGENCY_SYSTEM_ROLE);
        e.add_grants(grant.name());
        RETURN_IF_ERROR(Append(tx, e));
        *resp->mutable_grant() = grant;
        return absl::OkStatus();
      },
      std::move(done));
}

void ConsentApp::GetGrant(const Caller& caller, const v1::GetGrantRequest& req,
                          v1::GetGrantResponse* resp, Done done) {
  auto id = ParseName(req.name(), "grants", "name");
  if (!id.ok()) return done(id.status());
  SubmitWithOutcome(
      *ctx_.queue,
      [this, caller, id = *id, resp](storage::Transaction& tx,
                                     Outcome& outcome) -> absl::Status {
        return ReadOne(tx, caller, tx.grants().Get(id),
                       absl::StrCat("grants/", id), "grant", true,
                       ctx_.clock->Now(), outcome, resp->mutable_grant());
      },
      std::move(done));
}

void ConsentApp::ListGrants(const Caller& caller,
                            const v1::ListGrantsRequest& req,
                            v1::ListGrantsResponse* resp, Done done) {
  auto plan = ParseName(req.plan(), "plans", "plan");
  if (!plan.ok()) return done(plan.status());
  if (!v1::GrantState_IsValid(req.state())) {
    return done(InvalidField("state", "is not a known grant state"));
  }
  auto size = PageSize(req.page_size(), ctx_.max_page_size);
  if (!size.ok()) return done(size.status());
  const std::string scope =
      absl::StrCat("ListGrants:", *plan, ":", static_cast<int>(req.state()));
  auto after = DecodePageToken(req.page_token(), scope);
  if (!after.ok()) return done(after.status());
  SubmitWithOutcome(
      *ctx_.queue,
      [this, caller, plan = *plan, size = *size, after = *after, scope,
       state = static_cast<int>(req.state()),
       resp](storage::Transaction& tx, Outcome&) -> absl::Status {
        const absl::Time t = ctx_.clock->Now();
        // Only an agency that sees the plan learns anything about it.
        ASSIGN_OR_RETURN(const VisiblePlan visible,
                         FindVisiblePlan(tx, caller.agency_id, plan));
        // The grants about the plan's subject whose scope names this plan
        // or no plan; a subject's grants are few, so they are filtered here,
        // before the page is cut.
        const std::string plan_name = absl::StrCat("plans/", plan);
        ASSIGN_OR_RETURN(auto grants,
                         tx.grants().ListForSubject(visible.plan->subject()));
        FillPage(std::move(grants), after, size, scope, resp->mutable_grants(),
                 resp->mutable_next_page_token(),
                 [&plan_name, state](const v1::Grant& g) {
                   return (g.scope().plan().empty() ||
                           g.scope().plan() == plan_name) &&
                          (state == 0 || static_cast<int>(g.state()) == state);
                 });
        return AuditRead(tx, caller, visible.plan->subject(), plan_name, t,
                         static_cast<v1::DecisionReason>(visible.ground));
      },
      std::move(done));
}

void ConsentApp::SearchGrants(const Caller& caller,
                              const v1::SearchGrantsRequest& req,
                              v1::SearchGrantsResponse* resp, Done done) {
  auto subject = ParseIdentity(req.subject(), "subject");
  if (!subject.ok()) return done(subject.status());
  if (!v1::GrantState_IsValid(req.state())) {
    return done(InvalidField("state", "is not a known grant state"));
  }
  auto size = PageSize(req.page_size(), ctx_.max_page_size);
  if (!size.ok()) return done(size.status());
  // The token must not carry the identity number: the scope is only the
  // state, and the token holds a grant id.
  const std::string scope =
      absl::StrCat("SearchGrants:", static_cast<int>(req.state()));
  auto after = DecodePageToken(req.page_token(), scope);
  if (!after.ok()) return done(after.status());
  SubmitWithOutcome(
      *ctx_.queue,
      [this, caller, subject = *subject, size = *size, after = *after, scope,
       state = static_cast<int>(req.state()),
       resp](storage::Transaction& tx, Outcome&) -> absl::Status {
        const absl::Time t = ctx_.clock->Now();
        ASSIGN_OR_RETURN(const SearchScope visible,
                         ScopeOfSearch(tx, caller, subject, true));
        // A subject's grants are few: filter them here, by who may see
        // them and by state, before the page is cut.
        ASSIGN_OR_RETURN(auto grants, tx.grants().ListForSubject(subject));
        FillPage(std::move(grants), after, size, scope, resp->mutable_grants(),
                 resp->mutable_next_page_token(),
                 [&visible, state](const v1::Grant& g) {
                   return visible.Keeps(g) &&
                          (state == 0 || static_cast<int>(g.state()) == state);
                 });
        return AuditRead(tx, caller, subject, "grants", t, visible.ground);
      },
      std::move(done));
}

void ConsentApp::WithdrawGrant(const Caller& caller,
                               const v1::WithdrawGrantRequest& req,
                               v1::WithdrawGrantResponse* resp, Done done) {
  absl::Status s = CheckRequestId(req.request_id());
  auto id = s.ok() ? ParseName(req.name(), "grants", "name")
                   : absl::StatusOr<std::string>(s);
  if (!id.ok()) return done(id.status());
  if (req.withdrawer_role() == v1::GRANTOR_ROLE_UNSPECIFIED ||
      !v1::GrantorRole_IsValid(req.withdrawer_role())) {
    return done(InvalidField("withdrawer_role",
                             "must be SUBJECT, GUARDIAN or "
                             "LEGAL_REPRESENTATIVE"));
  }
  auto who = ParseIdentity(req.withdrawer_identity_number(),
                           "withdrawer_identity_number");
  if (!who.ok()) return done(who.status());
  s = CheckEvidence(req.evidence(), req.has_evidence(), "evidence");
  if (s.ok()) s = CheckText(req.reason(), 1000, false, "reason");
  if (!s.ok()) return done(s);
  SubmitWrite(
      ctx_, caller, "WithdrawGrant", req, resp,
      [this, id = *id, who = *who, resp](
          storage::Transaction& tx, const Caller& c,
          const v1::WithdrawGrantRequest& request,
          absl::Time t) -> absl::Status {
        ASSIGN_OR_RETURN(
            auto grant, ChangeableRecord(tx, c, tx.grants().Get(id),
                                         absl::StrCat("grants/", id), "grant"));
        ASSIGN_OR_RETURN(SubjectFacts facts,
                         LoadSubjectFacts(tx, grant.subject()));
        // Who may withdraw: the grantor; under a child's custody any
        // guardian with custody now (one guardian withdrawing stops a
        // joint consent); the subject itself from the consent age.
        const auto role = request.withdrawer_role();
        bool may = who == grant.grantor_identity_number();
        if (!may && role == v1::GRANTOR_ROLE_GUARDIAN) {
          for (const auto& f : facts.custody) {
            if (f.guardian == who && f.valid_from <= t && t < f.valid_until) {
              may = true;
            }
          }
        }
        if (!may && role == v1::GRANTOR_ROLE_SUBJECT &&
            who == grant.subject()) {
          auto number = consent::IdentityNumber::Parse(grant.subject());
          may = number.ok() &&
                consent::SubjectAge(number->birth_date(), ctx_.policy, t) >=
                    ctx_.policy.consent_age;
        }
        if (!may) {
          return Error(absl::StatusCode::kFailedPrecondition,
                       "GRANTOR_NOT_COMPETENT", "withdrawer_identity_number",
                       "may not withdraw this grant: only its grantor, "
                       "a guardian with custody, or the subject from "
                       "the consent age may");
        }
        storage::GrantEnding ending;
        ending.state = v1::GRANT_STATE_WITHDRAWN;
        ending.time = t;
        ending.reason =
            request.reason().empty() ? "withdrawn" : request.reason();
        ending.agency = c.agency_id;
        ending.actor = c.actor;
        ending.withdrawer = who;
        ending.evidence_kind = request.evidence().kind();
        ending.evidence_reference = request.evidence().reference();
        RETURN_IF_ERROR(tx.grants().End(id, ending));
        v1::AuditEvent e = ChangeEvent(
            c, v1::AUDIT_ACTION_GRANT_WITHDRAWN, grant.subject(), grant.name(),
            t, v1::DECISION_REASON_WITHDRAWER_COMPETENT);
        e.add_grants(grant.name());
        RETURN_IF_ERROR(Append(tx, e));
        ASSIGN_OR_RETURN(*resp->mutable_grant(), tx.grants().Get(id));
        return absl::OkStatus();
      },
      std::move(done));
}

void ConsentApp::CheckAccess(const Caller& caller,
                             const v1::CheckAccessRequest& req,
                             v1::CheckAccessResponse* resp, Done done) {
  std::string plan;
  std::string subject;
  absl::Status s;
  if (req.target_case() == v1::CheckAccessRequest::kPlan) {
    auto p = ParseName(req.plan(), "plans", "plan");
    s = p.status();
    if (p.ok()) plan = *p;
  } else if (req.target_case() == v1::CheckAccessRequest::kSubject) {
    auto p = ParseIdentity(req.subject(), "subject");
    s = p.status();
    if (p.ok()) subject = *p;
  } else {
    s = InvalidField("plan", "name a plan or a subject");
  }
  auto owner = s.ok() ? ParseAgencyName(req.owner_agency(), "owner_agency")
                      : absl::StatusOr<std::string>(s);
  // The reader defaults to the caller; the caller checks only disclosures
  // from or to its own agency.
  auto reader =
      !owner.ok() ? absl::StatusOr<std::string>(owner.status())
      : req.receiving_agency().empty()
          ? absl::StatusOr<std::string>(caller.agency_id)
          : ParseAgencyName(req.receiving_agency(), "receiving_agency");
  if (!reader.ok()) return done(reader.status());
  if (*owner != caller.agency_id && *reader != caller.agency_id) {
    return done(InvalidField("receiving_agency",
                             "the calling agency must be the owner or the "
                             "receiving agency of the disclosure it checks"));
  }
  if (req.category() == v1::INFORMATION_CATEGORY_UNSPECIFIED ||
      !v1::InformationCategory_IsValid(req.category())) {
    return done(InvalidField("category", "is required and must be known"));
  }
  std::optional<absl::Time> at;
  if (req.has_time()) {
    auto t = ParseTime(req.time(), true, "time");
    if (!t.ok()) return done(t.status());
    const absl::Time now = ctx_.clock->Now();
    if (*t < now - kMaxCheckDistance || *t > now + kMaxCheckDistance) {
      return done(
          InvalidField("time", "may be at most 10 years from now either way"));
    }
    at = *t;
  }
  SubmitWithOutcome(
      *ctx_.queue,
      [this, caller, plan, subject, owner = *owner, reader = *reader,
       category = static_cast<consent::Category>(req.category()), at, resp](
          storage::Transaction& tx, Outcome& outcome) mutable -> absl::Status {
        const absl::Time now = ctx_.clock->Now();
        const absl::Time t = at.value_or(now);
        bool participates = false;
        if (!plan.empty()) {
          // The caller must see the plan; the reader takes part by the same
          // rule (a draft is its lead agency's only).
          absl::StatusOr<v1::Plan> header = tx.plans().Get(plan);
          if (!header.ok() && !absl::IsNotFound(header.status())) {
            return header.status();
          }
          const v1::Plan* newest = header.ok() ? &*header : nullptr;
          bool caller_in = false;
          bool reader_in = false;
          if (newest != nullptr) {
            ASSIGN_OR_RETURN(caller_in,
                             tx.plans().TakesPart(plan, caller.agency_id));
            ASSIGN_OR_RETURN(reader_in, tx.plans().TakesPart(plan, reader));
          }
          std::string denial;
          if (PlanGround(newest, caller.agency_id, caller_in, &denial) ==
              v1::DECISION_REASON_UNSPECIFIED) {
            v1::AuditEvent e =
                NewEvent(caller, v1::AUDIT_ACTION_ACCESS_CHECKED,
                         newest ? newest->subject() : "", "plans/" + plan, now);
            e.set_decision(v1::DECISION_DENY);
            e.add_reasons(v1::DECISION_REASON_NOT_PARTICIPANT);
            e.set_detail(denial);
            RETURN_IF_ERROR(Append(tx, e));
            outcome = PlanNotFound(plan);
            return absl::OkStatus();
          }
          subject = newest->subject();
          participates = PlanGround(newest, reader, reader_in, &denial) !=
                         v1::DECISION_REASON_UNSPECIFIED;
        } else {
          // About a subject: only an agency that sees a plan about the
          // subject learns anything; anyone else gets the same refusal
          // whatever the subject's consents are.
          ASSIGN_OR_RETURN(const bool caller_sees,
                           SeesPlanAbout(tx, caller.agency_id, subject));
          if (!caller_sees) {
            resp->set_decision(v1::DECISION_DENY);
            resp->add_reasons(v1::DECISION_REASON_NOT_PARTICIPANT);
            resp->set_explanation(
                "the calling agency takes part in no plan about this "
                "subject, so it may not check its consents");
            SetTimestamp(t, resp->mutable_time());
            v1::AuditEvent e = NewEvent(caller, v1::AUDIT_ACTION_ACCESS_CHECKED,
                                        subject, "", now);
            e.set_decision(v1::DECISION_DENY);
            e.add_reasons(v1::DECISION_REASON_NOT_PARTICIPANT);
            e.set_detail("the caller sees no plan about the subject");
            return Append(tx, e);
          }
          // As documented: about a subject only consent is evaluated, as for
          // a plan the receiver takes part in.
          participates = true;
        }
        AgencyCache agencies(tx);
        auto owner_agency = agencies.Get(owner);
        if (!owner_agency.ok() && !absl::IsNotFound(owner_agency.status())) {
          return owner_agency.status();
        }
        if (!owner_agency.ok()) {
          outcome = Error(absl::StatusCode::kFailedPrecondition,
                          "UNKNOWN_REFERENCED_AGENCY", "owner_agency",
                          "is not a registered agency");
          return absl::OkStatus();
        }
        auto reader_agency = agencies.Get(reader);
        if (!reader_agency.ok() && !absl::IsNotFound(reader_agency.status())) {
          return reader_agency.status();
        }
        if (!reader_agency.ok()) {
          outcome = Error(absl::StatusCode::kFailedPrecondition,
                          "UNKNOWN_REFERENCED_AGENCY", "receiving_agency",
                          "is not a registered agency");
          return absl::OkStatus();
        }
        ASSIGN_OR_RETURN(SubjectFacts facts, LoadSubjectFacts(tx, subject));
        consent::Access access;
        access.subject = subject;
        access.plan = plan;
        access.owner = *owner_agency;
        access.reader = *reader_agency;
        access.category = category;
        access.reader_participates = participates;
        const consent::Decision d =
            consent::Decide(access, facts.view(), ctx_.policy, t);
        resp->set_decision(d.allowed ? v1::DECISION_ALLOW : v1::DECISION_DENY);
        resp->add_reasons(static_cast<v1::DecisionReason>(d.reason));
        for (const std::string& g : d.grants_relied_on) {
          resp->add_grants("grants/" + g);
        }
        resp->set_explanation(d.explanation);
        SetTimestamp(t, resp->mutable_time());
        v1::AuditEvent e =
            NewEvent(caller, v1::AUDIT_ACTION_ACCESS_CHECKED, subject,
                     plan.empty() ? "" : "plans/" + plan, now);
        e.set_decision(resp->decision());
        *e.mutable_reasons() = resp->reasons();
        *e.mutable_grants() = resp->grants();
        e.set_detail(absl::StrCat("check only: ", owner, " -> ", reader, " ",
                                  consent::CategoryName(category)));
        return Append(tx, e);
      },
      std::move(done));
}

}  // namespace samplan::app
