#include "app/consent_app.h"

#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "app/checkpointer.h"
#include "app/consent_bridge.h"
#include "app/documents.h"
#include "app/method.h"
#include "common/errors.h"
#include "common/proto_time.h"
#include "common/resource_names.h"
#include "common/status_macros.h"
#include "consent/identity_number.h"
#include "render/document.h"
#include "render/receipt_document.h"
#include "samplan/v1/audit.pb.h"
#include "samplan/v1/consent.pb.h"
#include "samplan/v1/plan.pb.h"

namespace samplan::app {
namespace {

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

// The record of a change to consent data, allowed on `ground`.
v1::AuditEvent* ChangeRecord(Effects* fx, const Caller& caller,
                             v1::AuditAction action, absl::string_view subject,
                             absl::string_view resource, absl::Time now,
                             v1::DecisionReason ground) {
  v1::AuditEvent* e = fx->mutable_record();
  *e = NewEvent(caller, action, subject, resource, now);
  e->set_decision(v1::DECISION_ALLOW);
  e->add_reasons(ground);
  return e;
}

// The record of a read of consent data: allowed on `ground`, or, when
// `ground` is DECISION_REASON_UNSPECIFIED, denied as NOT_PARTICIPANT.
void ReadRecord(Effects* fx, const Caller& caller, absl::string_view subject,
                absl::string_view resource, absl::Time now,
                v1::DecisionReason ground) {
  v1::AuditEvent* e = fx->mutable_record();
  *e = NewEvent(caller, v1::AUDIT_ACTION_CONSENT_READ, subject, resource, now);
  if (ground == v1::DECISION_REASON_UNSPECIFIED) {
    e->set_decision(v1::DECISION_DENY);
    e->add_reasons(v1::DECISION_REASON_NOT_PARTICIPANT);
    e->set_detail(
        "neither recorded by the agency nor about a subject of a plan "
        "it takes part in");
  } else {
    e->set_decision(v1::DECISION_ALLOW);
    e->add_reasons(ground);
  }
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
// records the read (denied for a record it may not see, as for a missing
// one) and fills `*out`, or refuses with the same NOT_FOUND for a record
// that is missing and one that is hidden. The decision depends on the
// subject's consent data.
template <typename T>
absl::Status ReadOne(storage::Transaction& tx, const Caller& caller,
                     absl::StatusOr<T> found, absl::string_view name,
                     absl::string_view what, bool administrators,
                     absl::Time now, Effects* fx, T* out) {
  if (!found.ok() && !absl::IsNotFound(found.status())) return found.status();
  v1::DecisionReason ground = v1::DECISION_REASON_UNSPECIFIED;
  std::string subject;
  if (found.ok()) {
    subject = found->subject();
    RETURN_IF_ERROR(fx->DependOnConsent(tx, subject));
    ASSIGN_OR_RETURN(
        ground, ConsentDataGround(tx, caller, subject,
                                  found->recorded_by_agency(), administrators));
  }
  ReadRecord(fx, caller, subject, name, now, ground);
  if (ground == v1::DECISION_REASON_UNSPECIFIED) {
    fx->Refuse(NotFound(name, absl::StrCat(what, " not found")));
    return absl::OkStatus();
  }
  *out = *std::move(found);
  return absl::OkStatus();
}

// A consent record that `caller` may change: found, and visible to it
// (ConsentDataGround, administrators excluded; `administrators` lets them
// change it too); the same NOT_FOUND otherwise. The change depends on the
// subject's consent data.
template <typename T>
absl::StatusOr<T> ChangeableRecord(storage::Transaction& tx,
                                   const Caller& caller,
                                   absl::StatusOr<T> found,
                                   absl::string_view name,
                                   absl::string_view what, Effects* fx,
                                   bool administrators = false) {
  const absl::Status hidden = NotFound(name, absl::StrCat(what, " not found"));
  if (absl::IsNotFound(found.status())) return hidden;
  RETURN_IF_ERROR(found.status());
  RETURN_IF_ERROR(fx->DependOnConsent(tx, found->subject()));
  ASSIGN_OR_RETURN(
      const v1::DecisionReason ground,
      ConsentDataGround(tx, caller, found->subject(),
                        found->recorded_by_agency(), administrators));
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

// ---------------------------------------------------------------- custody

absl::StatusOr<v1::CustodyFact> ParseCreateCustodyFact(
    const AppContext& ctx, const Caller&,
    const v1::CreateCustodyFactRequest& req) {
  const v1::CustodyFact& in = req.custody_fact();
  RETURN_IF_ERROR(CheckRequestId(req.request_id()));
  ASSIGN_OR_RETURN(std::string subject,
                   ParseSubject(in.subject(), "custody_fact.subject",
                                ctx.policy, ctx.clock->Now()));
  ASSIGN_OR_RETURN(std::string guardian,
                   ParseIdentity(in.guardian_identity_number(),
                                 "custody_fact.guardian_identity_number"));
  if (guardian == subject) {
    return InvalidField("custody_fact.guardian_identity_number",
                        "must not be the subject");
  }
  RETURN_IF_ERROR(CheckPeriod(in.valid_from(), in.has_valid_from(),
                              in.valid_until(), in.has_valid_until(),
                              "custody_fact"));
  RETURN_IF_ERROR(
      CheckEvidence(in.evidence(), in.has_evidence(), "custody_fact.evidence"));
  v1::CustodyFact fact = in;
  fact.set_subject(subject);
  fact.set_guardian_identity_number(guardian);
  fact.clear_recorded_by_agency();
  fact.clear_recorded_by_actor();
  fact.clear_create_time();
  return fact;
}

absl::Status DecideCreateCustodyFact(const AppContext& ctx,
                                     storage::Transaction&, const Caller& c,
                                     const v1::CreateCustodyFactRequest& req,
                                     absl::Time t,
                                     v1::CreateCustodyFactResponse* resp,
                                     Effects* fx) {
  ASSIGN_OR_RETURN(v1::CustodyFact fact, ParseCreateCustodyFact(ctx, c, req));
  fact.set_name("custodyFacts/" + ctx.ids->NewId());
  fact.set_recorded_by_agency(c.agency_name());
  fact.set_recorded_by_actor(c.actor);
  SetTimestamp(t, fact.mutable_create_time());
  fx->AddWrite([fact](storage::Transaction& tx) {
    return tx.custody().AddCustody(fact);
  });
  ChangeRecord(fx, c, v1::AUDIT_ACTION_CUSTODY_RECORDED, fact.subject(),
               fact.name(), t, v1::DECISION_REASON_AGENCY_SYSTEM_ROLE);
  *resp->mutable_custody_fact() = std::move(fact);
  return absl::OkStatus();
}

absl::StatusOr<std::string> ParseGetCustodyFact(
    const AppContext&, const Caller&, const v1::GetCustodyFactRequest& req) {
  return ParseName(req.name(), "custodyFacts", "name");
}

absl::Status DecideGetCustodyFact(
    const AppContext& ctx, storage::Transaction& tx, const Caller& caller,
    const v1::GetCustodyFactRequest& req, absl::Time t,
    v1::GetCustodyFactResponse* resp, Effects* fx) {
  ASSIGN_OR_RETURN(const std::string id, ParseGetCustodyFact(ctx, caller, req));
  return ReadOne(tx, caller, tx.custody().GetCustody(id),
                 absl::StrCat("custodyFacts/", id), "custody fact", false, t,
                 fx, resp->mutable_custody_fact());
}

struct SearchInput {
  std::string subject;
  int size = 0;
  std::string after;
  std::string scope;
  int state = 0;
};

absl::StatusOr<SearchInput> ParseSearchCustodyFacts(
    const AppContext& ctx, const Caller&,
    const v1::SearchCustodyFactsRequest& req) {
  SearchInput in;
  ASSIGN_OR_RETURN(in.subject, ParseIdentity(req.subject(), "subject"));
  ASSIGN_OR_RETURN(in.size, PageSize(req.page_size(), ctx.max_page_size));
  in.scope = "SearchCustodyFacts";
  ASSIGN_OR_RETURN(in.after, DecodePageToken(req.page_token(), in.scope));
  return in;
}

absl::Status DecideSearchCustodyFacts(
    const AppContext& ctx, storage::Transaction& tx, const Caller& caller,
    const v1::SearchCustodyFactsRequest& req, absl::Time t,
    v1::SearchCustodyFactsResponse* resp, Effects* fx) {
  ASSIGN_OR_RETURN(SearchInput in, ParseSearchCustodyFacts(ctx, caller, req));
  RETURN_IF_ERROR(fx->DependOnConsent(tx, in.subject));
  ASSIGN_OR_RETURN(const SearchScope scope,
                   ScopeOfSearch(tx, caller, in.subject, false));
  ASSIGN_OR_RETURN(auto facts, tx.custody().ListCustody(in.subject));
  FillPage(std::move(facts), in.after, in.size, in.scope,
           resp->mutable_custody_facts(), resp->mutable_next_page_token(),
           [&scope](const auto& f) { return scope.Keeps(f); });
  ReadRecord(fx, caller, in.subject, "custodyFacts", t, scope.ground);
  return absl::OkStatus();
}

struct EndInput {
  std::string id;
  absl::Time end;
};

absl::StatusOr<EndInput> ParseEndCustodyFact(
    const AppContext&, const Caller&, const v1::EndCustodyFactRequest& req) {
  EndInput in;
  RETURN_IF_ERROR(CheckRequestId(req.request_id()));
  ASSIGN_OR_RETURN(in.id, ParseName(req.name(), "custodyFacts", "name"));
  ASSIGN_OR_RETURN(in.end,
                   ParseTime(req.end_time(), req.has_end_time(), "end_time"));
  RETURN_IF_ERROR(
      CheckEvidence(req.evidence(), req.has_evidence(), "evidence"));
  return in;
}

absl::Status DecideEndCustodyFact(const AppContext& ctx,
                                  storage::Transaction& tx, const Caller& c,
                                  const v1::EndCustodyFactRequest& req,
                                  absl::Time t,
                                  v1::EndCustodyFactResponse* resp,
                                  Effects* fx) {
  ASSIGN_OR_RETURN(EndInput in, ParseEndCustodyFact(ctx, c, req));
  const std::string name = absl::StrCat("custodyFacts/", in.id);
  ASSIGN_OR_RETURN(auto fact,
                   ChangeableRecord(tx, c, tx.custody().GetCustody(in.id), name,
                                    "custody fact", fx));
  if (in.end < ToTime(fact.valid_from())) {
    return InvalidField("end_time", "must not be before valid_from");
  }
  fx->AddWrite([id = in.id, end = in.end, agency = c.agency_id, actor = c.actor,
                t](storage::Transaction& tx2) {
    return tx2.custody().EndCustody(id, end, agency, actor, t);
  });
  ChangeRecord(fx, c, v1::AUDIT_ACTION_CUSTODY_ENDED, fact.subject(),
               fact.name(), t, v1::DECISION_REASON_AGENCY_SYSTEM_ROLE);
  // The answer is the fact as it is stored once ended.
  fx->AddAfterRecord([id = in.id, resp](storage::Transaction& tx2) {
    ASSIGN_OR_RETURN(*resp->mutable_custody_fact(),
                     tx2.custody().GetCustody(id));
    return absl::OkStatus();
  });
  return absl::OkStatus();
}

// --------------------------------------------------------- representations

absl::StatusOr<v1::Representation> ParseCreateRepresentation(
    const AppContext& ctx, const Caller&,
    const v1::CreateRepresentationRequest& req) {
  const v1::Representation& in = req.representation();
  RETURN_IF_ERROR(CheckRequestId(req.request_id()));
  ASSIGN_OR_RETURN(std::string subject,
                   ParseSubject(in.subject(), "representation.subject",
                                ctx.policy, ctx.clock->Now()));
  ASSIGN_OR_RETURN(
      std::string rep,
      ParseIdentity(in.representative_identity_number(),
                    "representation.representative_identity_number"));
  if (rep == subject) {
    return InvalidField("representation.representative_identity_number",
                        "must not be the subject");
  }
  if (in.kind() == v1::REPRESENTATION_KIND_UNSPECIFIED ||
      !v1::RepresentationKind_IsValid(in.kind())) {
    return InvalidField("representation.kind",
                        "must be GOD_MAN, FORVALTARE or OTHER");
  }
  RETURN_IF_ERROR(CheckPeriod(in.valid_from(), in.has_valid_from(),
                              in.valid_until(), in.has_valid_until(),
                              "representation"));
  RETURN_IF_ERROR(CheckEvidence(in.evidence(), in.has_evidence(),
                                "representation.evidence"));
  v1::Representation r = in;
  r.set_subject(subject);
  r.set_representative_identity_number(rep);
  return r;
}

absl::Status DecideCreateRepresentation(
    const AppContext& ctx, storage::Transaction&, const Caller& c,
    const v1::CreateRepresentationRequest& req, absl::Time t,
    v1::CreateRepresentationResponse* resp, Effects* fx) {
  ASSIGN_OR_RETURN(v1::Representation r,
                   ParseCreateRepresentation(ctx, c, req));
  r.set_name("representations/" + ctx.ids->NewId());
  r.set_recorded_by_agency(c.agency_name());
  r.set_recorded_by_actor(c.actor);
  SetTimestamp(t, r.mutable_create_time());
  fx->AddWrite([r](storage::Transaction& tx) {
    return tx.custody().AddRepresentation(r);
  });
  ChangeRecord(fx, c, v1::AUDIT_ACTION_REPRESENTATION_RECORDED, r.subject(),
               r.name(), t, v1::DECISION_REASON_AGENCY_SYSTEM_ROLE);
  *resp->mutable_representation() = std::move(r);
  return absl::OkStatus();
}

absl::StatusOr<std::string> ParseGetRepresentation(
    const AppContext&, const Caller&, const v1::GetRepresentationRequest& req) {
  return ParseName(req.name(), "representations", "name");
}

absl::Status DecideGetRepresentation(
    const AppContext& ctx, storage::Transaction& tx, const Caller& caller,
    const v1::GetRepresentationRequest& req, absl::Time t,
    v1::GetRepresentationResponse* resp, Effects* fx) {
  ASSIGN_OR_RETURN(const std::string id,
                   ParseGetRepresentation(ctx, caller, req));
  return ReadOne(tx, caller, tx.custody().GetRepresentation(id),
                 absl::StrCat("representations/", id), "representation", false,
                 t, fx, resp->mutable_representation());
}

absl::StatusOr<SearchInput> ParseSearchRepresentations(
    const AppContext& ctx, const Caller&,
    const v1::SearchRepresentationsRequest& req) {
  SearchInput in;
  ASSIGN_OR_RETURN(in.subject, ParseIdentity(req.subject(), "subject"));
  ASSIGN_OR_RETURN(in.size, PageSize(req.page_size(), ctx.max_page_size));
  in.scope = "SearchRepresentations";
  ASSIGN_OR_RETURN(in.after, DecodePageToken(req.page_token(), in.scope));
  return in;
}

absl::Status DecideSearchRepresentations(
    const AppContext& ctx, storage::Transaction& tx, const Caller& caller,
    const v1::SearchRepresentationsRequest& req, absl::Time t,
    v1::SearchRepresentationsResponse* resp, Effects* fx) {
  ASSIGN_OR_RETURN(SearchInput in,
                   ParseSearchRepresentations(ctx, caller, req));
  RETURN_IF_ERROR(fx->DependOnConsent(tx, in.subject));
  ASSIGN_OR_RETURN(const SearchScope scope,
                   ScopeOfSearch(tx, caller, in.subject, false));
  ASSIGN_OR_RETURN(auto reps, tx.custody().ListRepresentations(in.subject));
  FillPage(std::move(reps), in.after, in.size, in.scope,
           resp->mutable_representations(), resp->mutable_next_page_token(),
           [&scope](const auto& r) { return scope.Keeps(r); });
  ReadRecord(fx, caller, in.subject, "representations", t, scope.ground);
  return absl::OkStatus();
}

absl::StatusOr<EndInput> ParseEndRepresentation(
    const AppContext&, const Caller&, const v1::EndRepresentationRequest& req) {
  EndInput in;
  RETURN_IF_ERROR(CheckRequestId(req.request_id()));
  ASSIGN_OR_RETURN(in.id, ParseName(req.name(), "representations", "name"));
  ASSIGN_OR_RETURN(in.end,
                   ParseTime(req.end_time(), req.has_end_time(), "end_time"));
  RETURN_IF_ERROR(
      CheckEvidence(req.evidence(), req.has_evidence(), "evidence"));
  return in;
}

absl::Status DecideEndRepresentation(const AppContext& ctx,
                                     storage::Transaction& tx, const Caller& c,
                                     const v1::EndRepresentationRequest& req,
                                     absl::Time t,
                                     v1::EndRepresentationResponse* resp,
                                     Effects* fx) {
  ASSIGN_OR_RETURN(EndInput in, ParseEndRepresentation(ctx, c, req));
  ASSIGN_OR_RETURN(
      auto r, ChangeableRecord(tx, c, tx.custody().GetRepresentation(in.id),
                               absl::StrCat("representations/", in.id),
                               "representation", fx));
  if (r.has_valid_until() && ToTime(r.valid_until()) <= in.end) {
    return Error(absl::StatusCode::kFailedPrecondition, "ALREADY_ENDED", "",
                 "the representation already ends by then");
  }
  if (in.end < ToTime(r.valid_from())) {
    return InvalidField("end_time", "must not be before valid_from");
  }
  SetTimestamp(in.end, r.mutable_valid_until());
  fx->AddWrite([r](storage::Transaction& tx2) {
    return tx2.custody().UpdateRepresentation(r);
  });
  ChangeRecord(fx, c, v1::AUDIT_ACTION_REPRESENTATION_ENDED, r.subject(),
               r.name(), t, v1::DECISION_REASON_AGENCY_SYSTEM_ROLE);
  *resp->mutable_representation() = std::move(r);
  return absl::OkStatus();
}

// ------------------------------------------------------------------ grants

absl::StatusOr<v1::Grant> ParseCreateGrant(const AppContext&, const Caller&,
                                           const v1::CreateGrantRequest& req) {
  const v1::Grant& in = req.grant();
  RETURN_IF_ERROR(CheckRequestId(req.request_id()));
  // Shape checks that the engine cannot make: resource name formats.
  for (int i = 0; i < in.scope().disclosing_agencies_size(); ++i) {
    RETURN_IF_ERROR(
        ParseAgencyName(
            in.scope().disclosing_agencies(i),
            absl::StrCat("grant.scope.disclosing_agencies[", i, "]"))
            .status());
  }
  for (int i = 0; i < in.scope().receiving_agencies_size(); ++i) {
    RETURN_IF_ERROR(
        ParseAgencyName(in.scope().receiving_agencies(i),
                        absl::StrCat("grant.scope.receiving_agencies[", i, "]"))
            .status());
  }
  if (!in.scope().plan().empty()) {
    RETURN_IF_ERROR(
        ParseName(in.scope().plan(), "plans", "grant.scope.plan").status());
  }
  RETURN_IF_ERROR(
      ParseTime(in.valid_from(), in.has_valid_from(), "grant.valid_from")
          .status());
  RETURN_IF_ERROR(
      ParseTime(in.valid_until(), in.has_valid_until(), "grant.valid_until")
          .status());
  RETURN_IF_ERROR(
      CheckEvidence(in.evidence(), in.has_evidence(), "grant.evidence"));
  ASSIGN_OR_RETURN(std::string subject,
                   ParseIdentity(in.subject(), "grant.subject"));
  ASSIGN_OR_RETURN(std::string grantor,
                   ParseIdentity(in.grantor_identity_number(),
                                 "grant.grantor_identity_number"));
  v1::Grant grant;
  grant.set_subject(subject);
  grant.set_grantor_role(in.grantor_role());
  grant.set_grantor_identity_number(grantor);
  *grant.mutable_scope() = in.scope();
  *grant.mutable_valid_from() = in.valid_from();
  *grant.mutable_valid_until() = in.valid_until();
  *grant.mutable_evidence() = in.evidence();
  return grant;
}

absl::Status DecideCreateGrant(const AppContext& ctx, storage::Transaction& tx,
                               const Caller& c,
                               const v1::CreateGrantRequest& req, absl::Time t,
                               v1::CreateGrantResponse* resp, Effects* fx) {
  ASSIGN_OR_RETURN(v1::Grant grant, ParseCreateGrant(ctx, c, req));
  // Competence follows from custody and representation.
  RETURN_IF_ERROR(fx->DependOnConsent(tx, grant.subject()));
  ASSIGN_OR_RETURN(SubjectFacts facts, LoadSubjectFacts(tx, grant.subject()));
  grant.set_name("grants/" + ctx.ids->NewId());
  const consent::Grant engine = ToEngine(grant);
  absl::Status valid =
      consent::ValidateNewGrant(engine, facts.view(), ctx.policy, t);
  if (!valid.ok()) {
    // The engine names fields by its own names; map the one that differs
    // from the API.
    if (FieldOf(valid) == "grant.grantor") {
      std::string message(valid.message());
      message.replace(0, sizeof("grant.grantor") - 1,
                      "grant.grantor_identity_number");
      absl::Status renamed = Error(
          valid.code(), ReasonOf(valid).value_or("INVALID_FIELD"), "", message);
      renamed.SetPayload(kFieldPayload,
                         absl::Cord("grant.grantor_identity_number"));
      return renamed;
    }
    return valid;
  }
  RETURN_IF_ERROR(CheckScopeAgencies(tx, grant.scope()));
  if (!grant.scope().plan().empty()) {
    // A plan the caller may not see answers as one about another subject:
    // nothing is learnt of it.
    const std::string plan_id = BareId(grant.scope().plan());
    absl::StatusOr<VisiblePlan> plan =
        FindVisiblePlan(tx, c.agency_id, plan_id);
    if (!plan.ok() && !absl::IsNotFound(plan.status())) return plan.status();
    if (!plan.ok() || plan->plan->subject() != grant.subject()) {
      return InvalidField("grant.scope.plan",
                          "is not a plan about this subject");
    }
    RETURN_IF_ERROR(fx->DependOnPlan(tx, plan_id));
  }
  grant.set_recorded_by_agency(c.agency_name());
  grant.set_recorded_by_actor(c.actor);
  SetTimestamp(t, grant.mutable_create_time());
  grant.set_state(v1::GRANT_STATE_ACTIVE);
  fx->AddWrite([grant](storage::Transaction& tx2) {
    return tx2.grants().Insert(grant);
  });
  ChangeRecord(fx, c, v1::AUDIT_ACTION_GRANT_RECORDED, grant.subject(),
               grant.name(), t, v1::DECISION_REASON_AGENCY_SYSTEM_ROLE)
      ->add_grants(grant.name());
  // The answer is the grant exactly as inserted, and its receipt.
  *resp->mutable_grant() = std::move(grant);
  AnswerWithReceipt(ctx, fx, v1::RECEIPT_EVENT_GIVEN, t, resp);
  return absl::OkStatus();
}

absl::StatusOr<std::string> ParseGetGrant(const AppContext&, const Caller&,
                                          const v1::GetGrantRequest& req) {
  return ParseName(req.name(), "grants", "name");
}

absl::Status DecideGetGrant(const AppContext& ctx, storage::Transaction& tx,
                            const Caller& caller,
                            const v1::GetGrantRequest& req, absl::Time t,
                            v1::GetGrantResponse* resp, Effects* fx) {
  ASSIGN_OR_RETURN(const std::string id, ParseGetGrant(ctx, caller, req));
  return ReadOne(tx, caller, tx.grants().Get(id), absl::StrCat("grants/", id),
                 "grant", true, t, fx, resp->mutable_grant());
}

// --- GetGrantReceipt ---

struct GetGrantReceiptInput {
  std::string id;
  v1::ReceiptEvent event = v1::RECEIPT_EVENT_UNSPECIFIED;
};

absl::StatusOr<GetGrantReceiptInput> ParseGetGrantReceipt(
    const AppContext&, const Caller&, const v1::GetGrantReceiptRequest& req) {
  GetGrantReceiptInput in;
  ASSIGN_OR_RETURN(in.id, ParseName(req.name(), "grants", "name"));
  if (!v1::ReceiptEvent_IsValid(req.event())) {
    return InvalidField("event", "is not a known receipt event");
  }
  in.event = req.event();
  return in;
}

// A receipt is read like the grant (ReadOne: the same visibility, one read
// record whose detail names the receipt). Fills `*out` but for its proof,
// checkpoint and signature, and `*agencies` with the agencies it names;
// nothing when the read is refused.
absl::Status ReadReceipt(
    const AppContext& ctx, storage::Transaction& tx, const Caller& caller,
    const GetGrantReceiptInput& in, absl::Time t, Effects* fx,
    v1::ConsentReceipt* out,
    absl::flat_hash_map<std::string, v1::Agency>* agencies) {
  v1::Grant grant;
  RETURN_IF_ERROR(ReadOne(tx, caller, tx.grants().Get(in.id),
                          absl::StrCat("grants/", in.id), "grant", true, t, fx,
                          &grant));
  if (!fx->refusal().ok()) return absl::OkStatus();
  if (ctx.checkpointer == nullptr) {
    return absl::UnavailableError("receipts need the audit log's signing key");
  }
  const v1::ReceiptEvent latest =
      grant.state() == v1::GRANT_STATE_WITHDRAWN ? v1::RECEIPT_EVENT_WITHDRAWN
      : grant.state() == v1::GRANT_STATE_REVOKED ? v1::RECEIPT_EVENT_REVOKED
                                                 : v1::RECEIPT_EVENT_GIVEN;
  const v1::ReceiptEvent event =
      in.event == v1::RECEIPT_EVENT_UNSPECIFIED ? latest : in.event;
  if (event != v1::RECEIPT_EVENT_GIVEN && event != latest) {
    return InvalidField("event",
                        absl::StrCat("did not happen to this grant (it is ",
                                     v1::GrantState_Name(grant.state()), ")"));
  }
  RETURN_IF_ERROR(AttachEventRecord(tx, grant.name(), event, out));
  ASSIGN_OR_RETURN(*agencies,
                   ReceiptAgencies(tx, grant, out->audit_event().agency()));
  FillReceipt(ctx, grant, event, *agencies, t, out);
  fx->mutable_record()->set_detail(
      absl::StrCat("receipt of ", v1::ReceiptEvent_Name(event), ", leaf ",
                   out->audit_event().leaf_index()));
  return absl::OkStatus();
}

// After the read record is appended, in the same transaction, a checkpoint
// is signed that covers the event's record, and the receipt gets its proof
// and its signature.
absl::Status DecideGetGrantReceipt(
    const AppContext& ctx, storage::Transaction& tx, const Caller& caller,
    const v1::GetGrantReceiptRequest& req, absl::Time t,
    v1::GetGrantReceiptResponse* resp, Effects* fx) {
  ASSIGN_OR_RETURN(const GetGrantReceiptInput in,
                   ParseGetGrantReceipt(ctx, caller, req));
  absl::flat_hash_map<std::string, v1::Agency> agencies;
  RETURN_IF_ERROR(ReadReceipt(ctx, tx, caller, in, t, fx,
                              resp->mutable_receipt()->mutable_receipt(),
                              &agencies));
  if (!fx->refusal().ok()) return absl::OkStatus();
  fx->AddAfterRecord([&ctx, resp](storage::Transaction& wtx) -> absl::Status {
    return SealReceipt(*ctx.checkpointer, wtx, ctx.clock->Now(),
                       resp->mutable_receipt());
  });
  return absl::OkStatus();
}

// --- RenderGrantReceipt ---

struct RenderGrantReceiptInput {
  GetGrantReceiptInput receipt;
  DocumentOptions options;
};

absl::StatusOr<RenderGrantReceiptInput> ParseRenderGrantReceipt(
    const AppContext& ctx, const Caller& caller,
    const v1::RenderGrantReceiptRequest& req) {
  RenderGrantReceiptInput in;
  v1::GetGrantReceiptRequest get;
  get.set_name(req.name());
  get.set_event(req.event());
  ASSIGN_OR_RETURN(in.receipt, ParseGetGrantReceipt(ctx, caller, get));
  ASSIGN_OR_RETURN(in.options,
                   ParseDocumentOptions(req.language_code(), req.format()));
  return in;
}

// The receipt GetGrantReceipt reads, in words. The words do not depend on
// the proof or the signature, so nothing is signed.
absl::Status DecideRenderGrantReceipt(
    const AppContext& ctx, storage::Transaction& tx, const Caller& caller,
    const v1::RenderGrantReceiptRequest& req, absl::Time t,
    v1::RenderGrantReceiptResponse* resp, Effects* fx) {
  ASSIGN_OR_RETURN(const RenderGrantReceiptInput in,
                   ParseRenderGrantReceipt(ctx, caller, req));
  render::ReceiptCopy copy;
  RETURN_IF_ERROR(ReadReceipt(ctx, tx, caller, in.receipt, t, fx, &copy.receipt,
                              &copy.agencies));
  if (!fx->refusal().ok()) return absl::OkStatus();
  // ReadReceipt refused without a checkpointer (UNAVAILABLE).
  copy.log_origin = ctx.checkpointer->origin();
  copy.zone = ctx.policy.zone;
  ASSIGN_OR_RETURN(
      RenderedDocument rendered,
      RenderDocument(render::ComposeReceiptDocument(copy, in.options.language),
                     in.options.pdf));
  const int64_t leaf = copy.receipt.audit_event().leaf_index();
  resp->set_content(std::move(rendered.content));
  resp->set_content_type(rendered.content_type);
  resp->set_file_name(
      absl::StrCat("receipt-", in.receipt.id, "-", leaf, rendered.extension));
  resp->set_receipt_id(copy.receipt.receipt_id());
  resp->set_language_code(
      std::string(render::LanguageCode(in.options.language)));
  v1::AuditEvent* record = fx->mutable_record();
  record->set_detail(absl::StrCat(record->detail(), RenderedAs(in.options)));
  return absl::OkStatus();
}

struct ListGrantsInput {
  std::string plan;
  int state = 0;
  int size = 0;
  std::string scope;
  std::string after;
};

absl::StatusOr<ListGrantsInput> ParseListGrants(
    const AppContext& ctx, const Caller&, const v1::ListGrantsRequest& req) {
  ListGrantsInput in;
  ASSIGN_OR_RETURN(in.plan, ParseName(req.plan(), "plans", "plan"));
  if (!v1::GrantState_IsValid(req.state())) {
    return InvalidField("state", "is not a known grant state");
  }
  in.state = static_cast<int>(req.state());
  ASSIGN_OR_RETURN(in.size, PageSize(req.page_size(), ctx.max_page_size));
  in.scope = absl::StrCat("ListGrants:", in.plan, ":", in.state);
  ASSIGN_OR_RETURN(in.after, DecodePageToken(req.page_token(), in.scope));
  return in;
}

absl::Status DecideListGrants(const AppContext& ctx, storage::Transaction& tx,
                              const Caller& caller,
                              const v1::ListGrantsRequest& req, absl::Time t,
                              v1::ListGrantsResponse* resp, Effects* fx) {
  ASSIGN_OR_RETURN(ListGrantsInput in, ParseListGrants(ctx, caller, req));
  // Only an agency that sees the plan learns anything about it.
  ASSIGN_OR_RETURN(const VisiblePlan visible,
                   FindVisiblePlan(tx, caller.agency_id, in.plan));
  const std::string& subject = visible.plan->subject();
  RETURN_IF_ERROR(fx->DependOnPlan(tx, in.plan));
  RETURN_IF_ERROR(fx->DependOnConsent(tx, subject));
  // The grants about the plan's subject whose scope names this plan or no
  // plan; a subject's grants are few, so they are filtered here, before the
  // page is cut.
  const std::string plan_name = absl::StrCat("plans/", in.plan);
  ASSIGN_OR_RETURN(auto grants, tx.grants().ListForSubject(subject));
  const int state = in.state;
  FillPage(
      std::move(grants), in.after, in.size, in.scope, resp->mutable_grants(),
      resp->mutable_next_page_token(), [&plan_name, state](const v1::Grant& g) {
        return (g.scope().plan().empty() || g.scope().plan() == plan_name) &&
               (state == 0 || static_cast<int>(g.state()) == state);
      });
  ReadRecord(fx, caller, subject, plan_name, t,
             static_cast<v1::DecisionReason>(visible.ground));
  return absl::OkStatus();
}

absl::StatusOr<SearchInput> ParseSearchGrants(
    const AppContext& ctx, const Caller&, const v1::SearchGrantsRequest& req) {
  SearchInput in;
  ASSIGN_OR_RETURN(in.subject, ParseIdentity(req.subject(), "subject"));
  if (!v1::GrantState_IsValid(req.state())) {
    return InvalidField("state", "is not a known grant state");
  }
  in.state = static_cast<int>(req.state());
  ASSIGN_OR_RETURN(in.size, PageSize(req.page_size(), ctx.max_page_size));
  // The token must not carry the identity number: the scope is only the
  // state, and the token holds a grant id.
  in.scope = absl::StrCat("SearchGrants:", in.state);
  ASSIGN_OR_RETURN(in.after, DecodePageToken(req.page_token(), in.scope));
  return in;
}

absl::Status DecideSearchGrants(const AppContext& ctx, storage::Transaction& tx,
                                const Caller& caller,
                                const v1::SearchGrantsRequest& req,
                                absl::Time t, v1::SearchGrantsResponse* resp,
                                Effects* fx) {
  ASSIGN_OR_RETURN(SearchInput in, ParseSearchGrants(ctx, caller, req));
  RETURN_IF_ERROR(fx->DependOnConsent(tx, in.subject));
  ASSIGN_OR_RETURN(const SearchScope visible,
                   ScopeOfSearch(tx, caller, in.subject, true));
  // A subject's grants are few: filter them here, by who may see them and
  // by state, before the page is cut.
  ASSIGN_OR_RETURN(auto grants, tx.grants().ListForSubject(in.subject));
  const int state = in.state;
  FillPage(std::move(grants), in.after, in.size, in.scope,
           resp->mutable_grants(), resp->mutable_next_page_token(),
           [&visible, state](const v1::Grant& g) {
             return visible.Keeps(g) &&
                    (state == 0 || static_cast<int>(g.state()) == state);
           });
  ReadRecord(fx, caller, in.subject, "grants", t, visible.ground);
  return absl::OkStatus();
}

struct WithdrawInput {
  std::string id;
  std::string who;
};

absl::StatusOr<WithdrawInput> ParseWithdrawGrant(
    const AppContext&, const Caller&, const v1::WithdrawGrantRequest& req) {
  WithdrawInput in;
  RETURN_IF_ERROR(CheckRequestId(req.request_id()));
  ASSIGN_OR_RETURN(in.id, ParseName(req.name(), "grants", "name"));
  if (req.withdrawer_role() == v1::GRANTOR_ROLE_UNSPECIFIED ||
      !v1::GrantorRole_IsValid(req.withdrawer_role())) {
    return InvalidField("withdrawer_role",
                        "must be SUBJECT, GUARDIAN or LEGAL_REPRESENTATIVE");
  }
  ASSIGN_OR_RETURN(in.who, ParseIdentity(req.withdrawer_identity_number(),
                                         "withdrawer_identity_number"));
  RETURN_IF_ERROR(
      CheckEvidence(req.evidence(), req.has_evidence(), "evidence"));
  RETURN_IF_ERROR(CheckText(req.reason(), 1000, false, "reason"));
  return in;
}

absl::Status DecideWithdrawGrant(const AppContext& ctx,
                                 storage::Transaction& tx, const Caller& c,
                                 const v1::WithdrawGrantRequest& request,
                                 absl::Time t, v1::WithdrawGrantResponse* resp,
                                 Effects* fx) {
  ASSIGN_OR_RETURN(WithdrawInput in, ParseWithdrawGrant(ctx, c, request));
  ASSIGN_OR_RETURN(auto grant, ChangeableRecord(tx, c, tx.grants().Get(in.id),
                                                absl::StrCat("grants/", in.id),
                                                "grant", fx));
  ASSIGN_OR_RETURN(SubjectFacts facts, LoadSubjectFacts(tx, grant.subject()));
  // Who may withdraw: the grantor; under a child's custody any guardian
  // with custody now (one guardian withdrawing stops a joint consent); the
  // subject itself from the consent age.
  const auto role = request.withdrawer_role();
  bool may = in.who == grant.grantor_identity_number();
  if (!may && role == v1::GRANTOR_ROLE_GUARDIAN) {
    for (const auto& f : facts.custody) {
      if (f.guardian == in.who && f.valid_from <= t && t < f.valid_until) {
        may = true;
      }
    }
  }
  if (!may && role == v1::GRANTOR_ROLE_SUBJECT && in.who == grant.subject()) {
    auto number = consent::IdentityNumber::Parse(grant.subject());
    may = number.ok() && consent::SubjectAge(number->birth_date(), ctx.policy,
                                             t) >= ctx.policy.consent_age;
  }
  if (!may) {
    return Error(absl::StatusCode::kFailedPrecondition, "GRANTOR_NOT_COMPETENT",
                 "withdrawer_identity_number",
                 "may not withdraw this grant: only its grantor, a guardian "
                 "with custody, or the subject from the consent age may");
  }
  if (grant.state() != v1::GRANT_STATE_ACTIVE) {
    return WithMetadata(
        Error(absl::StatusCode::kFailedPrecondition, "GRANT_NOT_ACTIVE", "",
              absl::StrCat("the grant is already ",
                           v1::GrantState_Name(grant.state()))),
        "state", v1::GrantState_Name(grant.state()));
  }
  storage::GrantEnding ending;
  ending.state = v1::GRANT_STATE_WITHDRAWN;
  ending.time = t;
  ending.reason = request.reason().empty() ? "withdrawn" : request.reason();
  ending.agency = c.agency_id;
  ending.actor = c.actor;
  ending.withdrawer = in.who;
  ending.evidence_kind = request.evidence().kind();
  ending.evidence_reference = request.evidence().reference();
  fx->AddWrite([id = in.id, ending](storage::Transaction& tx2) {
    return tx2.grants().End(id, ending);
  });
  ChangeRecord(fx, c, v1::AUDIT_ACTION_GRANT_WITHDRAWN, grant.subject(),
               grant.name(), t, v1::DECISION_REASON_WITHDRAWER_COMPETENT)
      ->add_grants(grant.name());
  // The answer is the grant as it is stored once withdrawn, with the
  // withdrawal's receipt.
  fx->AddAfterRecord([id = in.id, resp](storage::Transaction& tx2) {
    ASSIGN_OR_RETURN(*resp->mutable_grant(), tx2.grants().Get(id));
    return absl::OkStatus();
  });
  AnswerWithReceipt(ctx, fx, v1::RECEIPT_EVENT_WITHDRAWN, t, resp);
  return absl::OkStatus();
}

struct CheckInput {
  std::string plan;
  std::string subject;
  std::string owner;
  std::string reader;
  std::optional<absl::Time> at;
};

absl::StatusOr<CheckInput> ParseCheckAccess(const AppContext& ctx,
                                            const Caller& caller,
                                            const v1::CheckAccessRequest& req) {
  CheckInput in;
  if (req.target_case() == v1::CheckAccessRequest::kPlan) {
    ASSIGN_OR_RETURN(in.plan, ParseName(req.plan(), "plans", "plan"));
  } else if (req.target_case() == v1::CheckAccessRequest::kSubject) {
    ASSIGN_OR_RETURN(in.subject, ParseIdentity(req.subject(), "subject"));
  } else {
    return InvalidField("plan", "name a plan or a subject");
  }
  ASSIGN_OR_RETURN(in.owner,
                   ParseAgencyName(req.owner_agency(), "owner_agency"));
  // The reader defaults to the caller; the caller checks only disclosures
  // from or to its own agency.
  if (req.receiving_agency().empty()) {
    in.reader = caller.agency_id;
  } else {
    ASSIGN_OR_RETURN(
        in.reader, ParseAgencyName(req.receiving_agency(), "receiving_agency"));
  }
  if (in.owner != caller.agency_id && in.reader != caller.agency_id) {
    return InvalidField("receiving_agency",
                        "the calling agency must be the owner or the "
                        "receiving agency of the disclosure it checks");
  }
  if (req.category() == v1::INFORMATION_CATEGORY_UNSPECIFIED ||
      !v1::InformationCategory_IsValid(req.category())) {
    return InvalidField("category", "is required and must be known");
  }
  if (req.has_time()) {
    ASSIGN_OR_RETURN(absl::Time t, ParseTime(req.time(), true, "time"));
    const absl::Time now = ctx.clock->Now();
    if (t < now - kMaxCheckDistance || t > now + kMaxCheckDistance) {
      return InvalidField("time",
                          "may be at most 10 years from now either way");
    }
    in.at = t;
  }
  return in;
}

absl::Status DecideCheckAccess(const AppContext& ctx, storage::Transaction& tx,
                               const Caller& caller,
                               const v1::CheckAccessRequest& req,
                               absl::Time now, v1::CheckAccessResponse* resp,
                               Effects* fx) {
  ASSIGN_OR_RETURN(CheckInput in, ParseCheckAccess(ctx, caller, req));
  const auto category = static_cast<consent::Category>(req.category());
  const absl::Time t = in.at.value_or(now);
  std::string subject = in.subject;
  const std::string& plan = in.plan;
  bool participates = false;
  if (!plan.empty()) {
    // The caller must see the plan; the reader takes part by the same rule
    // (a draft is its lead agency's only).
    ASSIGN_OR_RETURN(storage::PlanRepository::ReadView view,
                     tx.plans().ReadForAgency(plan, caller.agency_id, false));
    fx->DependOnPlan(plan, (view.newest != nullptr) ? view.version : 0);
    const v1::Plan* newest =
        (view.newest != nullptr) ? view.newest.get() : nullptr;
    bool reader_in = false;
    if (newest != nullptr) {
      ASSIGN_OR_RETURN(reader_in, tx.plans().TakesPart(plan, in.reader));
    }
    std::string denial;
    if (PlanGround(newest, caller.agency_id,
                   (view.newest != nullptr) && view.takes_part,
                   &denial) == v1::DECISION_REASON_UNSPECIFIED) {
      v1::AuditEvent* e = fx->mutable_record();
      *e = NewEvent(caller, v1::AUDIT_ACTION_ACCESS_CHECKED,
                    newest != nullptr ? newest->subject() : "", "plans/" + plan,
                    now);
      e->set_decision(v1::DECISION_DENY);
      e->add_reasons(v1::DECISION_REASON_NOT_PARTICIPANT);
      e->set_detail(denial);
      fx->Refuse(PlanNotFound(plan));
      return absl::OkStatus();
    }
    subject = newest->subject();
    participates = PlanGround(newest, in.reader, reader_in, &denial) !=
                   v1::DECISION_REASON_UNSPECIFIED;
  } else {
    // About a subject: only an agency that sees a plan about the subject
    // learns anything; anyone else gets the same refusal whatever the
    // subject's consents are.
    ASSIGN_OR_RETURN(const bool caller_sees,
                     SeesPlanAbout(tx, caller.agency_id, subject));
    if (!caller_sees) {
      resp->set_decision(v1::DECISION_DENY);
      resp->add_reasons(v1::DECISION_REASON_NOT_PARTICIPANT);
      resp->set_explanation(
          "the calling agency takes part in no plan about this subject, so "
          "it may not check its consents");
      SetTimestamp(t, resp->mutable_time());
      v1::AuditEvent* e = fx->mutable_record();
      *e = NewEvent(caller, v1::AUDIT_ACTION_ACCESS_CHECKED, subject, "", now);
      e->set_decision(v1::DECISION_DENY);
      e->add_reasons(v1::DECISION_REASON_NOT_PARTICIPANT);
      e->set_detail("the caller sees no plan about the subject");
      return absl::OkStatus();
    }
    // As documented: about a subject only consent is evaluated, as for a
    // plan the receiver takes part in.
    participates = true;
  }
  AgencyCache agencies(tx);
  auto owner_agency = agencies.Get(in.owner);
  if (!owner_agency.ok() && !absl::IsNotFound(owner_agency.status())) {
    return owner_agency.status();
  }
  if (!owner_agency.ok()) {
    return Error(absl::StatusCode::kFailedPrecondition,
                 "UNKNOWN_REFERENCED_AGENCY", "owner_agency",
                 "is not a registered agency");
  }
  auto reader_agency = agencies.Get(in.reader);
  if (!reader_agency.ok() && !absl::IsNotFound(reader_agency.status())) {
    return reader_agency.status();
  }
  if (!reader_agency.ok()) {
    return Error(absl::StatusCode::kFailedPrecondition,
                 "UNKNOWN_REFERENCED_AGENCY", "receiving_agency",
                 "is not a registered agency");
  }
  RETURN_IF_ERROR(fx->DependOnConsent(tx, subject));
  ASSIGN_OR_RETURN(SubjectFacts facts, LoadSubjectFacts(tx, subject));
  consent::Access access;
  access.subject = subject;
  access.plan = plan;
  access.owner = *owner_agency;
  access.reader = *reader_agency;
  access.category = category;
  access.reader_participates = participates;
  const consent::Decision d =
      consent::Decide(access, facts.view(), ctx.policy, t);
  resp->set_decision(d.allowed ? v1::DECISION_ALLOW : v1::DECISION_DENY);
  resp->add_reasons(static_cast<v1::DecisionReason>(d.reason));
  for (const std::string& g : d.grants_relied_on) {
    resp->add_grants("grants/" + g);
  }
  resp->set_explanation(d.explanation);
  SetTimestamp(t, resp->mutable_time());
  v1::AuditEvent* e = fx->mutable_record();
  *e = NewEvent(caller, v1::AUDIT_ACTION_ACCESS_CHECKED, subject,
                plan.empty() ? "" : "plans/" + plan, now);
  e->set_decision(resp->decision());
  *e->mutable_reasons() = resp->reasons();
  *e->mutable_grants() = resp->grants();
  e->set_detail(absl::StrCat("check only: ", in.owner, " -> ", in.reader, " ",
                             consent::CategoryName(category)));
  return absl::OkStatus();
}

}  // namespace

// --- The methods ---

#define SAMPLAN_CONSENT_METHOD(Name, Write) \
  SAMPLAN_DEFINE_METHOD(ConsentApp, ConsentMethods, Name, Write, false)

SAMPLAN_CONSENT_METHOD(CreateCustodyFact, true)
SAMPLAN_CONSENT_METHOD(GetCustodyFact, false)
SAMPLAN_CONSENT_METHOD(SearchCustodyFacts, false)
SAMPLAN_CONSENT_METHOD(EndCustodyFact, true)
SAMPLAN_CONSENT_METHOD(CreateRepresentation, true)
SAMPLAN_CONSENT_METHOD(GetRepresentation, false)
SAMPLAN_CONSENT_METHOD(SearchRepresentations, false)
SAMPLAN_CONSENT_METHOD(EndRepresentation, true)
SAMPLAN_CONSENT_METHOD(CreateGrant, true)
SAMPLAN_CONSENT_METHOD(GetGrant, false)
SAMPLAN_CONSENT_METHOD(GetGrantReceipt, false)
SAMPLAN_CONSENT_METHOD(RenderGrantReceipt, false)
SAMPLAN_CONSENT_METHOD(ListGrants, false)
SAMPLAN_CONSENT_METHOD(SearchGrants, false)
SAMPLAN_CONSENT_METHOD(WithdrawGrant, true)
SAMPLAN_CONSENT_METHOD(CheckAccess, false)

#undef SAMPLAN_CONSENT_METHOD

}  // namespace samplan::app
