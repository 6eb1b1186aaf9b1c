// Integration tests of samplan-server: authentication, the admin listener,
// and the story of one plan end to end (fixtures in fixture.h).

#include <algorithm>
#include <atomic>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/fixture.h"

namespace samplan::server {
namespace {

// ------------------------------------------------------ authentication

TEST_F(ServerTest, NoClientCertificateIsRefused) {
  auto stub = v1::PlanService::NewStub(Channel("school-1", "main", false));
  v1::ListPlansResponse resp;
  absl::Status s = Call(*stub, &v1::PlanService::Stub::ListPlans,
                        v1::ListPlansRequest(), &resp);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(ServerTest, CertificateFromAnotherCaIsRefused) {
  auto stub = v1::PlanService::NewStub(Channel("school-1", "other"));
  v1::ListPlansResponse resp;
  absl::Status s = Call(*stub, &v1::PlanService::Stub::ListPlans,
                        v1::ListPlansRequest(), &resp);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(ServerTest, UnknownAgencyIsUnauthenticated) {
  auto stub = Plans("stranger-1");
  v1::ListPlansResponse resp;
  absl::Status s = Call(*stub, &v1::PlanService::Stub::ListPlans,
                        v1::ListPlansRequest(), &resp);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_EQ(ReasonOf(s), "UNKNOWN_AGENCY");
}

TEST_F(ServerTest, DisabledAgencyIsUnauthenticated) {
  auto stub = Plans("disabled-1");
  v1::ListPlansResponse resp;
  absl::Status s = Call(*stub, &v1::PlanService::Stub::ListPlans,
                        v1::ListPlansRequest(), &resp);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_EQ(ReasonOf(s), "AGENCY_DISABLED");
}

// Callers' certificates and agencies are cached, but a disabled agency is
// refused from the call after DisableAgency returns, on a connection that
// was already authenticated.
TEST_F(ServerTest, ADisabledAgencyIsRefusedFromTheNextCall) {
  auto school = Plans("school-1");
  v1::ListPlansResponse resp;
  ASSERT_THAT(Call(*school, &v1::PlanService::Stub::ListPlans,
                   v1::ListPlansRequest(), &resp),
              IsOk());
  ASSERT_THAT(Call(*school, &v1::PlanService::Stub::ListPlans,
                   v1::ListPlansRequest(), &resp),
              IsOk());
  v1::DisableAgencyRequest disable;
  disable.set_name("agencies/school-1");
  disable.set_reason("the school closed");
  disable.set_request_id("disable-school");
  v1::DisableAgencyResponse disabled;
  ASSERT_THAT(Call(*Admins(), &v1::AdminService::Stub::DisableAgency, disable,
                   &disabled),
              IsOk());
  absl::Status s = Call(*school, &v1::PlanService::Stub::ListPlans,
                        v1::ListPlansRequest(), &resp);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_EQ(ReasonOf(s), "AGENCY_DISABLED");
}

TEST_F(ServerTest, MissingActorIsRefused) {
  auto stub = Plans("school-1");
  v1::ListPlansResponse resp;
  for (const std::string& actor :
       std::vector<std::string>{"", "has space", std::string(65, 'a')}) {
    absl::Status s = Call(*stub, &v1::PlanService::Stub::ListPlans,
                          v1::ListPlansRequest(), &resp, actor);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument,
                            HasSubstr("x-samplan-actor")))
        << actor;
    EXPECT_EQ(ReasonOf(s), "MISSING_ACTOR");
  }
}

TEST_F(ServerTest, AuditorCannotCallPlanOrConsentMethods) {
  v1::GetPlanResponse plan;
  v1::GetPlanRequest get;
  get.set_name("plans/p1");
  absl::Status s =
      Call(*Plans("auditor-1"), &v1::PlanService::Stub::GetPlan, get, &plan);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ReasonOf(s), "WRONG_ROLE");
  v1::SearchGrantsRequest search;
  search.set_subject(child_);
  v1::SearchGrantsResponse grants;
  EXPECT_THAT(Call(*Consents("auditor-1"),
                   &v1::ConsentService::Stub::SearchGrants, search, &grants),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(ServerTest, AdministratorCannotReadPlanContentButMayFindGrants) {
  v1::GetPlanRequest get;
  get.set_name("plans/p1");
  v1::GetPlanResponse plan;
  EXPECT_THAT(
      Call(*Plans("admin-1"), &v1::PlanService::Stub::GetPlan, get, &plan),
      StatusIs(absl::StatusCode::kPermissionDenied));
  v1::CreateEntryRequest entry;
  v1::CreateEntryResponse created;
  EXPECT_THAT(Call(*Plans("admin-1"), &v1::PlanService::Stub::CreateEntry,
                   entry, &created),
              StatusIs(absl::StatusCode::kPermissionDenied));
  v1::SearchGrantsRequest search;
  search.set_subject(child_);
  v1::SearchGrantsResponse grants;
  EXPECT_THAT(Call(*Consents("admin-1"),
                   &v1::ConsentService::Stub::SearchGrants, search, &grants),
              IsOk());
}

// ---------------------------------------------- health and the admin listener

class AdminListenerTest : public ServerTest {
 protected:
  void Configure(config::v1::ServerConfig& cfg) override {
    cfg.mutable_admin()->set_address("127.0.0.1:0");
  }
  absl::Status Health(const std::string& agency, int port,
                      grpc::health::v1::HealthCheckResponse* out) {
    auto stub =
        grpc::health::v1::Health::NewStub(Channel(agency, "main", true, port));
    grpc::health::v1::HealthCheckRequest req;
    auto ctx = Ctx("");
    return FromGrpcStatus(stub->Check(ctx.get(), req, out));
  }
};

TEST_F(AdminListenerTest, HealthOnBothListenersAdminOnlyForAdministrators) {
  ASSERT_NE(server_->admin_port(), 0);
  grpc::health::v1::HealthCheckResponse out;
  ASSERT_THAT(Health("school-1", server_->api_port(), &out), IsOk());
  EXPECT_EQ(out.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  ASSERT_THAT(Health("admin-1", server_->admin_port(), &out), IsOk());
  EXPECT_EQ(out.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  absl::Status school = Health("school-1", server_->admin_port(), &out);
  EXPECT_THAT(school, StatusIs(absl::StatusCode::kPermissionDenied));
  absl::Status stranger = Health("stranger-1", server_->admin_port(), &out);
  EXPECT_THAT(stranger, StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(AdminListenerTest, ReflectionOnlyOnTheAdminListener) {
  auto call = [&](int port) {
    grpc::GenericStub stub(Channel("admin-1", "main", true, port));
    auto ctx = Ctx("");
    grpc::Slice empty("");
    grpc::ByteBuffer request(&empty, 1);
    grpc::ByteBuffer response;
    grpc::Status status;
    absl::Notification done;
    stub.UnaryCall(ctx.get(),
                   "/grpc.reflection.v1alpha.ServerReflection/"
                   "ServerReflectionInfo",
                   grpc::StubOptions(), &request, &response,
                   [&](grpc::Status s) {
                     status = std::move(s);
                     done.Notify();
                   });
    done.WaitForNotification();
    return status.error_code();
  };
  EXPECT_EQ(call(server_->api_port()), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_NE(call(server_->admin_port()), grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(StoryTest, Example2BothGuardiansGrantInterventionsNotHealth) {
  const std::string g1 = Grant(g1_, "grant-g1");
  const std::string g2 = Grant(g2_, "grant-g2");
  v1::GetPlanResponse read = SchoolReads();
  ASSERT_THAT(read.entries(), SizeIs(1));
  EXPECT_EQ(read.entries(0).name(), interventions_);
  EXPECT_EQ(read.entries(0).text(), "BUP: weekly sessions");
  ASSERT_THAT(read.withheld_entries(), SizeIs(1));
  EXPECT_EQ(read.withheld_entries(0).owner_agency(), "agencies/bup-1");
  EXPECT_EQ(read.withheld_entries(0).category(),
            v1::INFORMATION_CATEGORY_HEALTH);
  EXPECT_EQ(read.withheld_entries(0).reason(),
            v1::DECISION_REASON_CATEGORY_OUT_OF_SCOPE);
  // The allow names both grants in the audit log.
  bool found = false;
  for (const auto& e : AuditEvents()) {
    if (e.action() != v1::AUDIT_ACTION_PLAN_READ) continue;
    for (const v1::EntryDecision& d : e.entry_decisions()) {
      if (d.entry() == interventions_ && d.decision() == v1::DECISION_ALLOW) {
        EXPECT_THAT(d.grants(), ::testing::UnorderedElementsAre(g1, g2));
        EXPECT_EQ(e.subject(), child_);
        EXPECT_EQ(e.actor(), "staff-1");
        found = true;
      }
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(StoryTest, SearchGrantsPagesWithoutTheIdentityNumberInTokens) {
  const std::string g1 = Grant(g1_, "grant-g1");
  const std::string g2 = Grant(g2_, "grant-g2");
  v1::SearchGrantsRequest search;
  search.set_subject(child_);
  search.set_page_size(1);
  v1::SearchGrantsResponse first;
  ASSERT_THAT(
      Call(*consents_, &v1::ConsentService::Stub::SearchGrants, search, &first),
      IsOk());
  ASSERT_THAT(first.grants(), SizeIs(1));
  ASSERT_FALSE(first.next_page_token().empty());
  std::string raw;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(first.next_page_token(), &raw));
  EXPECT_THAT(raw, ::testing::Not(HasSubstr(child_)));
  EXPECT_THAT(raw, ::testing::Not(HasSubstr(child_.substr(2))));
  search.set_page_token(first.next_page_token());
  v1::SearchGrantsResponse second;
  ASSERT_THAT(Call(*consents_, &v1::ConsentService::Stub::SearchGrants, search,
                   &second),
              IsOk());
  ASSERT_THAT(second.grants(), SizeIs(1));
  EXPECT_TRUE(second.next_page_token().empty());
  EXPECT_THAT(std::vector<std::string>(
                  {first.grants(0).name(), second.grants(0).name()}),
              ::testing::UnorderedElementsAre(g1, g2));
}

// Consent data is seen by the agency that recorded it, by the agencies of
// a plan about the same subject, and (grants) by administrators; anyone
// else learns nothing, not even whether it exists.
TEST_F(StoryTest, ConsentDataIsSeenByItsRecorderAndThePlansAgenciesOnly) {
  const std::string grant = Grant(g1_, "grant-g1");
  auto social = Consents("social-1");
  auto bup = Consents("bup-1");

  // BUP takes part in the plan about the child: it sees the school's data.
  v1::SearchGrantsRequest search;
  search.set_subject(child_);
  v1::SearchGrantsResponse grants;
  ASSERT_THAT(
      Call(*bup, &v1::ConsentService::Stub::SearchGrants, search, &grants),
      IsOk());
  EXPECT_THAT(grants.grants(), SizeIs(1));
  v1::SearchCustodyFactsRequest custody;
  custody.set_subject(child_);
  v1::SearchCustodyFactsResponse facts;
  ASSERT_THAT(Call(*bup, &v1::ConsentService::Stub::SearchCustodyFacts, custody,
                   &facts),
              IsOk());
  ASSERT_THAT(facts.custody_facts(), SizeIs(2));
  const std::string fact = facts.custody_facts(0).name();

  // Social services takes part in no plan about the child.
  ASSERT_THAT(
      Call(*social, &v1::ConsentService::Stub::SearchGrants, search, &grants),
      IsOk());
  EXPECT_THAT(grants.grants(), IsEmpty());
  ASSERT_THAT(Call(*social, &v1::ConsentService::Stub::SearchCustodyFacts,
                   custody, &facts),
              IsOk());
  EXPECT_THAT(facts.custody_facts(), IsEmpty());
  v1::GetGrantRequest get;
  get.set_name(grant);
  v1::GetGrantResponse got;
  const absl::Status hidden =
      Call(*social, &v1::ConsentService::Stub::GetGrant, get, &got);
  get.set_name("grants/nosuchgrant");
  const absl::Status missing =
      Call(*social, &v1::ConsentService::Stub::GetGrant, get, &got);
  EXPECT_THAT(hidden, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(hidden.message(), missing.message());
  EXPECT_EQ(ReasonOf(hidden), ReasonOf(missing));
  v1::GetCustodyFactRequest get_fact;
  get_fact.set_name(fact);
  v1::GetCustodyFactResponse got_fact;
  EXPECT_THAT(Call(*social, &v1::ConsentService::Stub::GetCustodyFact, get_fact,
                   &got_fact),
              StatusIs(absl::StatusCode::kNotFound));
  v1::WithdrawGrantRequest withdraw;
  withdraw.set_request_id("w-social");
  withdraw.set_name(grant);
  withdraw.set_withdrawer_role(v1::GRANTOR_ROLE_GUARDIAN);
  withdraw.set_withdrawer_identity_number(g1_);
  withdraw.mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
  v1::WithdrawGrantResponse withdrawn;
  EXPECT_THAT(Call(*social, &v1::ConsentService::Stub::WithdrawGrant, withdraw,
                   &withdrawn),
              StatusIs(absl::StatusCode::kNotFound));
  // A check about the subject tells it nothing either: the same refusal as
  // for a subject without any consent.
  v1::CheckAccessRequest check;
  check.set_subject(child_);
  check.set_owner_agency("agencies/bup-1");
  check.set_category(v1::INFORMATION_CATEGORY_NEEDS);
  v1::CheckAccessResponse checked;
  ASSERT_THAT(
      Call(*social, &v1::ConsentService::Stub::CheckAccess, check, &checked),
      IsOk());
  v1::CheckAccessResponse other;
  check.set_subject(Pnr("20170202", "222"));
  ASSERT_THAT(
      Call(*social, &v1::ConsentService::Stub::CheckAccess, check, &other),
      IsOk());
  EXPECT_EQ(checked.decision(), v1::DECISION_DENY);
  EXPECT_THAT(checked.reasons(),
              ::testing::ElementsAre(v1::DECISION_REASON_NOT_PARTICIPANT));
  EXPECT_THAT(checked.grants(), IsEmpty());
  EXPECT_EQ(checked.explanation(), other.explanation());

  // What social services records itself, it sees (and only that).
  v1::CreateCustodyFactRequest own;
  own.set_request_id("custody-social");
  own.mutable_custody_fact()->set_subject(child_);
  own.mutable_custody_fact()->set_guardian_identity_number(
      Pnr("19600101", "333"));
  Ts(Utc(2016, 5, 10), own.mutable_custody_fact()->mutable_valid_from());
  Ts(Utc(2017, 1, 1), own.mutable_custody_fact()->mutable_valid_until());
  own.mutable_custody_fact()->mutable_evidence()->set_kind(
      v1::EVIDENCE_KIND_REGISTER_EXTRACT);
  v1::CreateCustodyFactResponse recorded;
  ASSERT_THAT(Call(*social, &v1::ConsentService::Stub::CreateCustodyFact, own,
                   &recorded),
              IsOk());
  custody.set_subject(child_);
  ASSERT_THAT(Call(*social, &v1::ConsentService::Stub::SearchCustodyFacts,
                   custody, &facts),
              IsOk());
  ASSERT_THAT(facts.custody_facts(), SizeIs(1));
  EXPECT_EQ(facts.custody_facts(0).name(), recorded.custody_fact().name());

  // An administrator finds every grant, to revoke one.
  ASSERT_THAT(Call(*Consents("admin-1"),
                   &v1::ConsentService::Stub::SearchGrants, search, &grants),
              IsOk());
  EXPECT_THAT(grants.grants(), SizeIs(1));

  // The log tells each read's ground, and the real subject of the refused
  // ones.
  int denied = 0;
  for (const v1::AuditEvent& e : AuditEvents()) {
    if (e.action() != v1::AUDIT_ACTION_CONSENT_READ) continue;
    ASSERT_THAT(e.reasons(), SizeIs(1)) << e.ShortDebugString();
    if (e.agency() == "agencies/bup-1") {
      EXPECT_EQ(e.reasons(0), v1::DECISION_REASON_PLAN_PARTICIPANT);
    } else if (e.agency() == "agencies/admin-1") {
      EXPECT_EQ(e.reasons(0), v1::DECISION_REASON_ADMINISTRATOR_ROLE);
    } else if (e.decision() == v1::DECISION_DENY) {
      EXPECT_EQ(e.reasons(0), v1::DECISION_REASON_NOT_PARTICIPANT);
      if (e.resource() == grant) {
        EXPECT_EQ(e.subject(), child_);
      }
      ++denied;
    } else {
      EXPECT_EQ(e.reasons(0), v1::DECISION_REASON_RECORDING_AGENCY)
          << e.ShortDebugString();
    }
  }
  EXPECT_EQ(denied, 3);  // the hidden grant, the missing one, the fact
}

// Every audited decision, allow or deny, names its ground.
TEST_F(StoryTest, EveryAuditedDecisionNamesItsGround) {
  const std::string grant = Grant(g1_, "grant-g1");
  Grant(g2_, "grant-g2");
  SchoolReads();
  v1::ListPlansResponse listed;
  ASSERT_THAT(Call(*bup_, &v1::PlanService::Stub::ListPlans,
                   v1::ListPlansRequest(), &listed),
              IsOk());
  v1::GetGrantRequest get;
  get.set_name(grant);
  v1::GetGrantResponse got;
  ASSERT_THAT(Call(*consents_, &v1::ConsentService::Stub::GetGrant, get, &got),
              IsOk());
  v1::RevokeGrantRequest revoke;
  revoke.set_request_id("revoke-1");
  revoke.set_name(grant);
  revoke.set_reason("at the guardian's request");
  revoke.mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
  v1::RevokeGrantResponse revoked;
  ASSERT_THAT(
      Call(*Admins(), &v1::AdminService::Stub::RevokeGrant, revoke, &revoked),
      IsOk());
  v1::SearchAuditEventsRequest query;
  query.mutable_filter()->set_subject(child_);
  v1::SearchAuditEventsResponse found;
  ASSERT_THAT(Call(*Audits(), &v1::AuditService::Stub::SearchAuditEvents, query,
                   &found),
              IsOk());

  std::map<v1::AuditAction, std::set<int>> grounds;
  for (const v1::AuditEvent& e : AuditEvents()) {
    if (e.decision() == v1::DECISION_UNSPECIFIED) {
      ADD_FAILURE() << "an event of a caller without a decision: "
                    << e.ShortDebugString();
      continue;
    }
    EXPECT_FALSE(e.reasons().empty()) << e.ShortDebugString();
    for (int r : e.reasons()) grounds[e.action()].insert(r);
  }
  using R = v1::DecisionReason;
  auto only = [](std::initializer_list<R> rs) {
    std::set<int> out;
    for (R r : rs) out.insert(r);
    return out;
  };
  EXPECT_EQ(grounds[v1::AUDIT_ACTION_PLAN_CREATED],
            only({v1::DECISION_REASON_LEAD_AGENCY}));
  EXPECT_EQ(grounds[v1::AUDIT_ACTION_PLAN_APPROVED],
            only({v1::DECISION_REASON_LEAD_AGENCY}));
  EXPECT_EQ(grounds[v1::AUDIT_ACTION_ENTRY_WRITTEN],
            only({v1::DECISION_REASON_OWN_AGENCY}));
  EXPECT_EQ(grounds[v1::AUDIT_ACTION_CUSTODY_RECORDED],
            only({v1::DECISION_REASON_AGENCY_SYSTEM_ROLE}));
  EXPECT_EQ(grounds[v1::AUDIT_ACTION_GRANT_RECORDED],
            only({v1::DECISION_REASON_AGENCY_SYSTEM_ROLE}));
  EXPECT_EQ(grounds[v1::AUDIT_ACTION_GRANT_REVOKED],
            only({v1::DECISION_REASON_ADMINISTRATOR_ROLE}));
  EXPECT_EQ(grounds[v1::AUDIT_ACTION_PLANS_LISTED],
            only({v1::DECISION_REASON_PLAN_PARTICIPANT}));
  EXPECT_EQ(grounds[v1::AUDIT_ACTION_CONSENT_READ],
            only({v1::DECISION_REASON_RECORDING_AGENCY}));
  EXPECT_EQ(grounds[v1::AUDIT_ACTION_AUDIT_QUERIED],
            only({v1::DECISION_REASON_AUDITOR_ROLE}));
  // The school reads as lead agency; the setup's reads were the school's.
  EXPECT_EQ(grounds[v1::AUDIT_ACTION_PLAN_READ],
            only({v1::DECISION_REASON_LEAD_AGENCY}));
  // Entry decisions inside the reads carry the consent engine's reasons.
  std::set<int> entry_reasons;
  for (const v1::AuditEvent& e : AuditEvents()) {
    for (const v1::EntryDecision& d : e.entry_decisions()) {
      entry_reasons.insert(d.reason());
    }
  }
  EXPECT_TRUE(entry_reasons.count(v1::DECISION_REASON_CONSENT_COVERS));
  EXPECT_FALSE(entry_reasons.count(v1::DECISION_REASON_UNSPECIFIED));

  // The access extract names them too.
  v1::GetAccessExtractRequest extract;
  extract.set_subject(child_);
  v1::GetAccessExtractResponse records;
  ASSERT_THAT(Call(*Audits(), &v1::AuditService::Stub::GetAccessExtract,
                   extract, &records),
              IsOk());
  ASSERT_FALSE(records.records().empty());
  for (const v1::AccessRecord& r : records.records()) {
    EXPECT_FALSE(r.reasons().empty()) << r.ShortDebugString();
  }
}

TEST_F(StoryTest, Example1OwnEntriesNeedNoConsent) {
  // No grant at all: BUP still reads its own entries, and each read is logged.
  v1::GetPlanRequest get;
  get.set_name(plan_);
  v1::GetPlanResponse read;
  ASSERT_THAT(Call(*bup_, &v1::PlanService::Stub::GetPlan, get, &read), IsOk());
  EXPECT_THAT(read.entries(), SizeIs(2));
  EXPECT_THAT(read.withheld_entries(), IsEmpty());
  int own = 0;
  for (const auto& e : AuditEvents()) {
    if (e.action() != v1::AUDIT_ACTION_PLAN_READ ||
        e.agency() != "agencies/bup-1") {
      continue;
    }
    for (const v1::EntryDecision& d : e.entry_decisions()) {
      EXPECT_EQ(d.reason(), v1::DECISION_REASON_OWN_AGENCY);
      EXPECT_THAT(d.grants(), IsEmpty());
      ++own;
    }
  }
  EXPECT_EQ(own, 2);
}

TEST_F(StoryTest, Example3OneGuardianOnly) {
  Grant(g1_, "grant-g1");
  v1::GetPlanResponse read = SchoolReads();
  EXPECT_THAT(read.entries(), IsEmpty());
  ASSERT_THAT(read.withheld_entries(), SizeIs(2));
  for (const auto& w : read.withheld_entries()) {
    if (w.category() == v1::INFORMATION_CATEGORY_INTERVENTIONS) {
      EXPECT_EQ(w.reason(), v1::DECISION_REASON_GUARDIAN_CONSENT_MISSING);
    }
  }
}

TEST_F(StoryTest, Example4WithdrawalDeniesTheNextRead) {
  Grant(g1_, "grant-g1");
  const std::string g2 = Grant(g2_, "grant-g2");
  ASSERT_THAT(SchoolReads().entries(), SizeIs(1));
  v1::WithdrawGrantRequest w;
  w.set_request_id("withdraw-g2");
  w.set_name(g2);
  w.set_withdrawer_role(v1::GRANTOR_ROLE_GUARDIAN);
  w.set_withdrawer_identity_number(g2_);
  w.mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
  v1::WithdrawGrantResponse withdrawn;
  ASSERT_THAT(
      Call(*consents_, &v1::ConsentService::Stub::WithdrawGrant, w, &withdrawn),
      IsOk());
  EXPECT_EQ(withdrawn.grant().state(), v1::GRANT_STATE_WITHDRAWN);
  v1::GetPlanResponse read = SchoolReads();
  EXPECT_THAT(read.entries(), IsEmpty());
  for (const auto& wh : read.withheld_entries()) {
    if (wh.category() == v1::INFORMATION_CATEGORY_INTERVENTIONS) {
      EXPECT_EQ(wh.reason(), v1::DECISION_REASON_CONSENT_REVOKED);
    }
  }
}

TEST_F(StoryTest, Example6GrantExpiresAtValidUntil) {
  Grant(g1_, "grant-g1");
  Grant(g2_, "grant-g2");
  clock_.Set(Utc(2027, 3, 1) - absl::Seconds(1));
  EXPECT_THAT(SchoolReads().entries(), SizeIs(1));
  clock_.Set(Utc(2027, 3, 1));
  v1::GetPlanResponse read = SchoolReads();
  EXPECT_THAT(read.entries(), IsEmpty());
  for (const auto& wh : read.withheld_entries()) {
    if (wh.category() == v1::INFORMATION_CATEGORY_INTERVENTIONS) {
      EXPECT_EQ(wh.reason(), v1::DECISION_REASON_CONSENT_EXPIRED);
    }
  }
}

TEST_F(StoryTest, Example7NonParticipantCannotTellThePlanExists) {
  v1::GetPlanRequest get;
  get.set_name(plan_);
  v1::GetPlanResponse out;
  absl::Status hidden =
      Call(*social_, &v1::PlanService::Stub::GetPlan, get, &out);
  get.set_name("plans/doesnotexist");
  absl::Status missing =
      Call(*social_, &v1::PlanService::Stub::GetPlan, get, &out);
  EXPECT_THAT(hidden, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(hidden.code(), missing.code());
  EXPECT_EQ(hidden.message(), missing.message());
  EXPECT_EQ(ReasonOf(hidden), ReasonOf(missing));
  bool logged = false;
  for (const auto& e : AuditEvents()) {
    if (e.agency() == "agencies/social-1" && e.resource() == plan_ &&
        e.decision() == v1::DECISION_DENY) {
      ASSERT_THAT(e.reasons(), SizeIs(1));
      EXPECT_EQ(e.reasons(0), v1::DECISION_REASON_NOT_PARTICIPANT);
      logged = true;
    }
  }
  EXPECT_TRUE(logged);
}

TEST_F(StoryTest, Example8AndCheckAccessExplainWithoutReading) {
  Grant(g1_, "grant-g1");
  Grant(g2_, "grant-g2");
  // BUP, the owner, checks a disclosure to social services: about a subject,
  // only consent is evaluated.
  auto bup = Consents("bup-1");
  v1::CheckAccessRequest check;
  check.set_subject(child_);
  check.set_owner_agency("agencies/bup-1");
  check.set_receiving_agency("agencies/social-1");
  check.set_category(v1::INFORMATION_CATEGORY_NEEDS);
  v1::CheckAccessResponse out;
  ASSERT_THAT(Call(*bup, &v1::ConsentService::Stub::CheckAccess, check, &out),
              IsOk());
  EXPECT_EQ(out.decision(), v1::DECISION_DENY);
  ASSERT_THAT(out.reasons(), SizeIs(1));
  EXPECT_EQ(out.reasons(0), v1::DECISION_REASON_AGENCY_OUT_OF_SCOPE);
  // The school checks what it would receive; the reader defaults to it.
  check.clear_receiving_agency();
  ASSERT_THAT(
      Call(*consents_, &v1::ConsentService::Stub::CheckAccess, check, &out),
      IsOk());
  EXPECT_EQ(out.decision(), v1::DECISION_ALLOW);
  EXPECT_THAT(out.grants(), SizeIs(2));
  EXPECT_THAT(out.explanation(), ::testing::Not(HasSubstr(child_)));

  // A disclosure between two other agencies is not the caller's to check;
  // nor is a moment more than 10 years away.
  check.set_receiving_agency("agencies/social-1");
  absl::Status s =
      Call(*consents_, &v1::ConsentService::Stub::CheckAccess, check, &out);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(FieldOf(s), "receiving_agency");
  check.clear_receiving_agency();
  Ts(Utc(2037, 1, 1), check.mutable_time());
  s = Call(*consents_, &v1::ConsentService::Stub::CheckAccess, check, &out);
  EXPECT_EQ(FieldOf(s), "time");
}

TEST_F(StoryTest, Example5ChildTurns15AndGrantsItself) {
  // A second child, born 2011-06-15: 15 on 2026-06-15 in Stockholm.
  const std::string teen = Pnr("20110615", "456");
  v1::CreatePlanRequest create;
  create.set_request_id("create-teen");
  create.mutable_plan()->set_subject(teen);
  auto* p = create.add_participants();
  p->set_kind(v1::PARTICIPANT_KIND_AGENCY);
  p->set_agency("agencies/bup-1");
  v1::CreatePlanResponse created;
  ASSERT_THAT(
      Call(*school_, &v1::PlanService::Stub::CreatePlan, create, &created),
      IsOk());
  for (const std::string* g : {&g1_, &g2_}) {
    v1::CreateCustodyFactRequest custody;
    custody.set_request_id("custody-teen-" + *g);
    custody.mutable_custody_fact()->set_subject(teen);
    custody.mutable_custody_fact()->set_guardian_identity_number(*g);
    Ts(Utc(2011, 6, 15), custody.mutable_custody_fact()->mutable_valid_from());
    custody.mutable_custody_fact()->mutable_evidence()->set_kind(
        v1::EVIDENCE_KIND_REGISTER_EXTRACT);
    v1::CreateCustodyFactResponse out;
    ASSERT_THAT(Call(*consents_, &v1::ConsentService::Stub::CreateCustodyFact,
                     custody, &out),
                IsOk());
  }
  auto grant = [&](const std::string& grantor, v1::GrantorRole role,
                   const std::string& id) {
    v1::CreateGrantRequest req;
    req.set_request_id(id);
    v1::Grant* g = req.mutable_grant();
    g->set_subject(teen);
    g->set_grantor_role(role);
    g->set_grantor_identity_number(grantor);
    g->mutable_scope()->add_disclosing_sectors(v1::SECTOR_HEALTHCARE);
    g->mutable_scope()->add_receiving_sectors(v1::SECTOR_SCHOOL);
    g->mutable_scope()->add_categories(v1::INFORMATION_CATEGORY_NEEDS);
    Ts(Utc(2026, 6, 1), g->mutable_valid_from());
    Ts(Utc(2027, 5, 1), g->mutable_valid_until());
    g->mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
    v1::CreateGrantResponse out;
    return Call(*consents_, &v1::ConsentService::Stub::CreateGrant, req, &out);
  };
  ASSERT_THAT(grant(g1_, v1::GRANTOR_ROLE_GUARDIAN, "t-g1"), IsOk());
  ASSERT_THAT(grant(g2_, v1::GRANTOR_ROLE_GUARDIAN, "t-g2"), IsOk());
  // Too young to grant personally before the birthday.
  EXPECT_THAT(grant(teen, v1::GRANTOR_ROLE_SUBJECT, "t-self-early"),
              StatusIs(absl::StatusCode::kFailedPrecondition));

  v1::CheckAccessRequest check;
  check.set_plan(created.plan().name());
  check.set_owner_agency("agencies/bup-1");
  check.set_receiving_agency("agencies/school-1");
  check.set_category(v1::INFORMATION_CATEGORY_NEEDS);
  v1::CheckAccessResponse out;
  clock_.Set(Utc(2026, 6, 14, 12));  // the day before: 14
  ASSERT_THAT(
      Call(*consents_, &v1::ConsentService::Stub::CheckAccess, check, &out),
      IsOk());
  EXPECT_EQ(out.decision(), v1::DECISION_ALLOW);
  clock_.Set(Utc(2026, 6, 15, 8));  // the birthday
  ASSERT_THAT(
      Call(*consents_, &v1::ConsentService::Stub::CheckAccess, check, &out),
      IsOk());
  EXPECT_EQ(out.decision(), v1::DECISION_DENY);
  EXPECT_EQ(out.reasons(0), v1::DECISION_REASON_GRANTOR_NOT_COMPETENT);
  // Guardians cannot record new grants for a 15-year-old.
  EXPECT_THAT(grant(g1_, v1::GRANTOR_ROLE_GUARDIAN, "t-g1-late"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_THAT(grant(teen, v1::GRANTOR_ROLE_SUBJECT, "t-self"), IsOk());
  ASSERT_THAT(
      Call(*consents_, &v1::ConsentService::Stub::CheckAccess, check, &out),
      IsOk());
  EXPECT_EQ(out.decision(), v1::DECISION_ALLOW);
}

TEST_F(StoryTest, RetriedWritesReturnTheFirstResult) {
  v1::CreateGrantRequest req;
  req.set_request_id("grant-retry");
  v1::Grant* g = req.mutable_grant();
  g->set_subject(child_);
  g->set_grantor_role(v1::GRANTOR_ROLE_GUARDIAN);
  g->set_grantor_identity_number(g1_);
  g->mutable_scope()->add_disclosing_sectors(v1::SECTOR_HEALTHCARE);
  g->mutable_scope()->add_receiving_sectors(v1::SECTOR_SCHOOL);
  g->mutable_scope()->add_categories(v1::INFORMATION_CATEGORY_NEEDS);
  Ts(Utc(2026, 6, 1), g->mutable_valid_from());
  Ts(Utc(2026, 12, 1), g->mutable_valid_until());
  g->mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
  v1::CreateGrantResponse first, second;
  ASSERT_THAT(
      Call(*consents_, &v1::ConsentService::Stub::CreateGrant, req, &first),
      IsOk());
  const int64_t events = AuditSize();
  ASSERT_THAT(
      Call(*consents_, &v1::ConsentService::Stub::CreateGrant, req, &second),
      IsOk());
  EXPECT_EQ(first.grant().name(), second.grant().name());
  EXPECT_EQ(AuditSize(), events);
  v1::SearchGrantsRequest search;
  search.set_subject(child_);
  v1::SearchGrantsResponse found;
  ASSERT_THAT(
      Call(*consents_, &v1::ConsentService::Stub::SearchGrants, search, &found),
      IsOk());
  EXPECT_THAT(found.grants(), SizeIs(1));
  // The same id for another request is refused.
  g->set_grantor_identity_number(g2_);
  absl::Status reused =
      Call(*consents_, &v1::ConsentService::Stub::CreateGrant, req, &second);
  EXPECT_THAT(reused, StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(ReasonOf(reused), "REQUEST_ID_REUSED");
}

// ---------------------------------------------- bad input on every method

TEST_F(ServerTest, BadInputOnEveryMethodNamesTheFieldAndStoresNothing) {
  // Every unary method of the four services; the audit streams are in
  // AuditStreamsValidateBeforeSendingOrStoring.
  auto plans = Plans("school-1");
  auto consents = Consents("school-1");
  const int64_t before = AuditSize();
  auto P = [&](auto method, auto req, auto resp) {
    return Call(*plans, method, req, &resp);
  };
  auto C = [&](auto method, auto req, auto resp) {
    return Call(*consents, method, req, &resp);
  };
  auto audits = Audits();
  auto admins = Admins();
  auto A = [&](auto method, auto req, auto resp) {
    return Call(*audits, method, req, &resp);
  };
  auto D = [&](auto method, auto req, auto resp) {
    return Call(*admins, method, req, &resp);
  };
  using PS = v1::PlanService::Stub;
  using CS = v1::ConsentService::Stub;
  using AS = v1::AuditService::Stub;
  using DS = v1::AdminService::Stub;
  v1::SearchAuditEventsRequest search_audit;
  search_audit.mutable_filter()->set_subject("1234");
  v1::ListAgenciesRequest list_agencies;
  list_agencies.set_state(static_cast<v1::AgencyState>(99));
  struct Case {
    const char* method;
    absl::Status status;
    const char* field;
  };
  v1::CreatePlanRequest create;
  create.set_request_id("r1");
  create.mutable_plan()->set_subject("201605102382");  // bad check digit
  v1::CreateGrantRequest grant;
  grant.set_request_id("r2");
  grant.mutable_grant()->set_subject(child_);
  grant.mutable_grant()->set_grantor_role(v1::GRANTOR_ROLE_GUARDIAN);
  grant.mutable_grant()->set_grantor_identity_number(g1_);
  Ts(Utc(2026, 1, 1), grant.mutable_grant()->mutable_valid_from());
  Ts(Utc(2026, 2, 1), grant.mutable_grant()->mutable_valid_until());
  grant.mutable_grant()->mutable_evidence()->set_kind(
      v1::EVIDENCE_KIND_SIGNED_FORM);
  v1::SearchPlansRequest search_plans;
  v1::CheckAccessRequest check;
  check.set_subject(child_);
  const std::vector<Case> cases = {
      {"CreatePlan",
       P(&PS::CreatePlan, v1::CreatePlanRequest(), v1::CreatePlanResponse()),
       "request_id"},
      {"CreatePlan", P(&PS::CreatePlan, create, v1::CreatePlanResponse()),
       "plan.subject"},
      {"GetPlan", P(&PS::GetPlan, v1::GetPlanRequest(), v1::GetPlanResponse()),
       "name"},
      {"SearchPlans",
       P(&PS::SearchPlans, search_plans, v1::SearchPlansResponse()), "subject"},
      {"UpdatePlan",
       P(&PS::UpdatePlan, v1::UpdatePlanRequest(), v1::UpdatePlanResponse()),
       "request_id"},
      {"ApprovePlan",
       P(&PS::ApprovePlan, v1::ApprovePlanRequest(), v1::ApprovePlanResponse()),
       "request_id"},
      {"ClosePlan",
       P(&PS::ClosePlan, v1::ClosePlanRequest(), v1::ClosePlanResponse()),
       "request_id"},
      {"CreateEntry",
       P(&PS::CreateEntry, v1::CreateEntryRequest(), v1::CreateEntryResponse()),
       "request_id"},
      {"UpdateEntry",
       P(&PS::UpdateEntry, v1::UpdateEntryRequest(), v1::UpdateEntryResponse()),
       "request_id"},
      {"DeleteEntry",
       P(&PS::DeleteEntry, v1::DeleteEntryRequest(), v1::DeleteEntryResponse()),
       "request_id"},
      {"AddParticipant",
       P(&PS::AddParticipant, v1::AddParticipantRequest(),
         v1::AddParticipantResponse()),
       "request_id"},
      {"RemoveParticipant",
       P(&PS::RemoveParticipant, v1::RemoveParticipantRequest(),
         v1::RemoveParticipantResponse()),
       "request_id"},
      {"ListUpcomingReviews",
       P(&PS::ListUpcomingReviews, v1::ListUpcomingReviewsRequest(),
         v1::ListUpcomingReviewsResponse()),
       "start_date"},
      {"CreateCustodyFact",
       C(&CS::CreateCustodyFact, v1::CreateCustodyFactRequest(),
         v1::CreateCustodyFactResponse()),
       "request_id"},
      {"GetCustodyFact",
       C(&CS::GetCustodyFact, v1::GetCustodyFactRequest(),
         v1::GetCustodyFactResponse()),
       "name"},
      {"SearchCustodyFacts",
       C(&CS::SearchCustodyFacts, v1::SearchCustodyFactsRequest(),
         v1::SearchCustodyFactsResponse()),
       "subject"},
      {"EndCustodyFact",
       C(&CS::EndCustodyFact, v1::EndCustodyFactRequest(),
         v1::EndCustodyFactResponse()),
       "request_id"},
      {"CreateRepresentation",
       C(&CS::CreateRepresentation, v1::CreateRepresentationRequest(),
         v1::CreateRepresentationResponse()),
       "request_id"},
      {"GetRepresentation",
       C(&CS::GetRepresentation, v1::GetRepresentationRequest(),
         v1::GetRepresentationResponse()),
       "name"},
      {"SearchRepresentations",
       C(&CS::SearchRepresentations, v1::SearchRepresentationsRequest(),
         v1::SearchRepresentationsResponse()),
       "subject"},
      {"EndRepresentation",
       C(&CS::EndRepresentation, v1::EndRepresentationRequest(),
         v1::EndRepresentationResponse()),
       "request_id"},
      {"CreateGrant",
       C(&CS::CreateGrant, v1::CreateGrantRequest(), v1::CreateGrantResponse()),
       "request_id"},
      {"CreateGrant", C(&CS::CreateGrant, grant, v1::CreateGrantResponse()),
       "grant.scope.disclosing_agencies"},
      {"GetGrant",
       C(&CS::GetGrant, v1::GetGrantRequest(), v1::GetGrantResponse()), "name"},
      {"ListGrants",
       C(&CS::ListGrants, v1::ListGrantsRequest(), v1::ListGrantsResponse()),
       "plan"},
      {"SearchGrants",
       C(&CS::SearchGrants, v1::SearchGrantsRequest(),
         v1::SearchGrantsResponse()),
       "subject"},
      {"WithdrawGrant",
       C(&CS::WithdrawGrant, v1::WithdrawGrantRequest(),
         v1::WithdrawGrantResponse()),
       "request_id"},
      {"CheckAccess", C(&CS::CheckAccess, check, v1::CheckAccessResponse()),
       "owner_agency"},
      {"SearchAuditEvents",
       A(&AS::SearchAuditEvents, search_audit, v1::SearchAuditEventsResponse()),
       "filter.subject"},
      {"GetInclusionProof",
       A(&AS::GetInclusionProof, v1::GetInclusionProofRequest(),
         v1::GetInclusionProofResponse()),
       "tree_size"},
      {"GetConsistencyProof",
       A(&AS::GetConsistencyProof, v1::GetConsistencyProofRequest(),
         v1::GetConsistencyProofResponse()),
       "first_size"},
      {"GetAccessExtract",
       A(&AS::GetAccessExtract, v1::GetAccessExtractRequest(),
         v1::GetAccessExtractResponse()),
       "subject"},
      {"CreateAgency",
       D(&DS::CreateAgency, v1::CreateAgencyRequest(),
         v1::CreateAgencyResponse()),
       "request_id"},
      {"GetAgency",
       D(&DS::GetAgency, v1::GetAgencyRequest(), v1::GetAgencyResponse()),
       "name"},
      {"ListAgencies",
       D(&DS::ListAgencies, list_agencies, v1::ListAgenciesResponse()),
       "state"},
      {"DisableAgency",
       D(&DS::DisableAgency, v1::DisableAgencyRequest(),
         v1::DisableAgencyResponse()),
       "request_id"},
      {"RevokeGrant",
       D(&DS::RevokeGrant, v1::RevokeGrantRequest(), v1::RevokeGrantResponse()),
       "request_id"},
      {"VoidGrant",
       D(&DS::VoidGrant, v1::VoidGrantRequest(), v1::VoidGrantResponse()),
       "request_id"},
      {"ExpireGrants",
       D(&DS::ExpireGrants, v1::ExpireGrantsRequest(),
         v1::ExpireGrantsResponse()),
       "request_id"},
      {"ListExpiringGrants",
       D(&DS::ListExpiringGrants, v1::ListExpiringGrantsRequest(),
         v1::ListExpiringGrantsResponse()),
       "within_days"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(c.status, StatusIs(absl::StatusCode::kInvalidArgument,
                                   HasSubstr(c.field)))
        << c.method;
    EXPECT_EQ(FieldOf(c.status), c.field) << c.method;
    EXPECT_EQ(ReasonOf(c.status), "INVALID_FIELD") << c.method;
  }
  EXPECT_EQ(AuditSize(), before);
}

}  // namespace
}  // namespace samplan::server

namespace samplan::server {
namespace {

// ------------------------------------------------- audit and administration

TEST_F(ServerTest, AgenciesCannotCallAuditOrAdminMethodsNorAuditorsAdmin) {
  v1::SearchAuditEventsRequest search;
  v1::SearchAuditEventsResponse found;
  for (const char* agency : {"school-1", "admin-1"}) {
    auto audits = Audits(agency);
    absl::Status s = Call(*audits, &v1::AuditService::Stub::SearchAuditEvents,
                          search, &found);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied)) << agency;
    EXPECT_EQ(ReasonOf(s), "WRONG_ROLE") << agency;
  }
  // Not even the stream, which fails before sending anything.
  auto school = Audits("school-1");
  auto ctx = Ctx();
  v1::ExportAuditEventsRequest export_req;
  auto reader = school->ExportAuditEvents(ctx.get(), export_req);
  v1::ExportAuditEventsResponse chunk;
  EXPECT_FALSE(reader->Read(&chunk));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
  for (const char* agency : {"school-1", "auditor-1"}) {
    auto admins = Admins(agency);
    v1::ListAgenciesRequest list;
    v1::ListAgenciesResponse listed;
    absl::Status s =
        Call(*admins, &v1::AdminService::Stub::ListAgencies, list, &listed);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied)) << agency;
    EXPECT_EQ(ReasonOf(s), "WRONG_ROLE") << agency;
  }
}

TEST_F(StoryTest, RevocationByAnAdministratorDeniesTheVeryNextRead) {
  Grant(g1_, "grant-g1");
  const std::string g2 = Grant(g2_, "grant-g2");
  ASSERT_THAT(SchoolReads().entries(), SizeIs(1));
  auto admins = Admins();
  v1::RevokeGrantRequest revoke;
  revoke.set_request_id("revoke-g2");
  revoke.set_name(g2);
  revoke.set_reason("the guardian asked the administration by phone");
  v1::RevokeGrantResponse revoked;
  ASSERT_THAT(Call(*admins, &v1::AdminService::Stub::RevokeGrant, revoke,
                   &revoked, "admin-anna"),
              IsOk());
  EXPECT_EQ(revoked.grant().state(), v1::GRANT_STATE_REVOKED);
  v1::GetPlanResponse read = SchoolReads();
  EXPECT_THAT(read.entries(), IsEmpty());
  bool saw = false;
  for (const auto& wh : read.withheld_entries()) {
    if (wh.category() == v1::INFORMATION_CATEGORY_INTERVENTIONS) {
      EXPECT_EQ(wh.reason(), v1::DECISION_REASON_CONSENT_REVOKED);
      saw = true;
    }
  }
  EXPECT_TRUE(saw);
  // The revocation is in the audit log with its reason and the administrator.
  bool logged = false;
  for (const auto& e : AuditEvents()) {
    if (e.action() == v1::AUDIT_ACTION_GRANT_REVOKED) {
      EXPECT_EQ(e.agency(), "agencies/admin-1");
      EXPECT_EQ(e.actor(), "admin-anna");
      EXPECT_EQ(e.resource(), g2);
      EXPECT_EQ(e.subject(), child_);
      logged = true;
    }
  }
  EXPECT_TRUE(logged);
}

TEST_F(StoryTest, TheSweeperMarksLapsedGrantsExpiredOnce) {
  const std::string g1 = Grant(g1_, "grant-g1");
  clock_.Set(Utc(2027, 3, 2));
  ASSERT_THAT(server_->RunMaintenance(), IsOk());
  ASSERT_THAT(server_->RunMaintenance(), IsOk());
  v1::GetGrantRequest get;
  get.set_name(g1);
  v1::GetGrantResponse got;
  ASSERT_THAT(Call(*consents_, &v1::ConsentService::Stub::GetGrant, get, &got),
              IsOk());
  EXPECT_EQ(got.grant().state(), v1::GRANT_STATE_EXPIRED);
  int expired = 0;
  for (const auto& e : AuditEvents()) {
    if (e.action() == v1::AUDIT_ACTION_GRANT_EXPIRED) {
      ++expired;
      EXPECT_EQ(e.agency(), "");  // the server's own event
      EXPECT_EQ(e.resource(), g1);
    }
  }
  EXPECT_EQ(expired, 1);
}

// The auditor's whole path: a signed checkpoint, a proof for every event,
// an export that verifies offline, and the child's access extract.
TEST_F(StoryTest, AnAuditorProvesEveryEventAndTheExportVerifies) {
  Grant(g1_, "grant-g1");
  Grant(g2_, "grant-g2");
  SchoolReads();
  auto audits = Audits();
  v1::GetLatestCheckpointRequest cp_req;
  cp_req.set_refresh(true);
  v1::GetLatestCheckpointResponse cp;
  ASSERT_THAT(
      Call(*audits, &v1::AuditService::Stub::GetLatestCheckpoint, cp_req, &cp),
      IsOk());
  auto body = audit::OpenCheckpoint(*verifier_, cp.checkpoint().signed_note());
  ASSERT_THAT(body, IsOk());
  EXPECT_EQ(body->origin, kOrigin);
  const std::vector<v1::AuditEvent> events = AuditEvents();
  ASSERT_GE(static_cast<int64_t>(events.size()), body->tree_size);
  ASSERT_GT(body->tree_size, 10);
  for (int64_t i = 0; i < body->tree_size; ++i) {
    v1::GetInclusionProofRequest req;
    req.set_leaf_index(i);
    req.set_tree_size(body->tree_size);
    v1::GetInclusionProofResponse proof;
    ASSERT_THAT(
        Call(*audits, &v1::AuditService::Stub::GetInclusionProof, req, &proof),
        IsOk());
    EXPECT_EQ(proof.leaf_hash(),
              audit::ToBytes(audit::EventLeafHash(events[i])))
        << "leaf " << i;
    std::vector<audit::Hash> path;
    for (const auto& h : proof.hashes())
      path.push_back(*audit::HashFromBytes(h));
    EXPECT_THAT(audit::VerifyInclusion(i, body->tree_size,
                                       audit::EventLeafHash(events[i]), path,
                                       body->root),
                IsOk())
        << "leaf " << i;
  }

  const Export exported = ExportAll(*audits);
  std::istringstream in(exported.lines);
  audit::VerifyResult r = audit::VerifyExport(
      in, exported.checkpoint_note, *verifier_, cp.checkpoint().signed_note());
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_GT(r.events, body->tree_size);  // the export's own record too

  v1::GetAccessExtractRequest extract;
  extract.set_subject(child_);
  v1::GetAccessExtractResponse records;
  ASSERT_THAT(Call(*audits, &v1::AuditService::Stub::GetAccessExtract, extract,
                   &records, "revisor"),
              IsOk());
  int school_reads_on_both_grants = 0;
  for (const auto& rec : records.records()) {
    if (rec.agency() != "agencies/school-1" ||
        rec.action() != v1::AUDIT_ACTION_PLAN_READ) {
      continue;
    }
    for (const v1::EntryDecision& d : rec.entry_decisions()) {
      if (d.decision() == v1::DECISION_ALLOW && d.grants_size() == 2) {
        ++school_reads_on_both_grants;
      }
    }
  }
  EXPECT_EQ(school_reads_on_both_grants, 1);
  // Whoever exported and extracted is on record.
  int queries = 0;
  for (const auto& e : AuditEvents()) {
    if (e.action() == v1::AUDIT_ACTION_AUDIT_QUERIED) {
      EXPECT_EQ(e.agency(), "agencies/auditor-1");
      ++queries;
    }
  }
  EXPECT_EQ(queries, 2);
}

TEST_F(ServerTest, AuditStreamsValidateBeforeSendingOrStoring) {
  auto audits = Audits();
  const int64_t before = AuditSize();
  {
    v1::StreamAuditEventsRequest req;
    req.set_start_leaf_index(-1);
    auto ctx = Ctx();
    auto reader = audits->StreamAuditEvents(ctx.get(), req);
    v1::StreamAuditEventsResponse batch;
    EXPECT_FALSE(reader->Read(&batch));
    absl::Status s = FromGrpcStatus(reader->Finish());
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_EQ(FieldOf(s), "start_leaf_index");
  }
  {
    v1::ExportAuditEventsRequest req;
    req.mutable_filter()->set_agency("school-1");  // not agencies/school-1
    auto ctx = Ctx();
    auto reader = audits->ExportAuditEvents(ctx.get(), req);
    v1::ExportAuditEventsResponse chunk;
    EXPECT_FALSE(reader->Read(&chunk));
    absl::Status s = FromGrpcStatus(reader->Finish());
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_EQ(FieldOf(s), "filter.agency");
  }
  EXPECT_EQ(AuditSize(), before);
  // A valid stream sends the events in order, and is itself audited. Three
  // searches first, so that there are events (each search is one).
  for (int i = 0; i < 3; ++i) {
    v1::SearchAuditEventsResponse found;
    ASSERT_THAT(Call(*audits, &v1::AuditService::Stub::SearchAuditEvents,
                     v1::SearchAuditEventsRequest(), &found),
                IsOk());
  }
  ASSERT_EQ(AuditSize(), before + 3);
  v1::StreamAuditEventsRequest all;
  auto ctx = Ctx();
  auto reader = audits->StreamAuditEvents(ctx.get(), all);
  v1::StreamAuditEventsResponse batch;
  int64_t next = 0;
  while (reader->Read(&batch)) {
    for (const auto& e : batch.audit_events())
      EXPECT_EQ(e.leaf_index(), next++);
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(next, before + 3);  // up to, not including, its own record
  EXPECT_EQ(AuditSize(), before + 4);
}

TEST_F(ServerTest, ACheckpointSignedByAnotherKeyIsRejected) {
  auto audits = Audits();
  v1::GetLatestCheckpointRequest req;
  req.set_refresh(true);
  v1::GetLatestCheckpointResponse cp;
  ASSERT_THAT(
      Call(*audits, &v1::AuditService::Stub::GetLatestCheckpoint, req, &cp),
      IsOk());
  auto pem = audit::GenerateSigningKeyPem();
  auto other = audit::NoteSigner::FromPrivateKeyPem(*pem, kOrigin);
  ASSERT_THAT(other, IsOk());
  auto other_verifier =
      audit::NoteVerifier::FromVerifierKey((*other)->VerifierKey());
  ASSERT_THAT(other_verifier, IsOk());
  EXPECT_THAT(
      audit::OpenCheckpoint(*other_verifier, cp.checkpoint().signed_note()),
      StatusIs(absl::StatusCode::kPermissionDenied));
  // And a note the other key signed does not pass as the server's.
  auto forged = (*other)->Sign(audit::FormatCheckpointBody(
      audit::CheckpointBody{kOrigin, 1000, audit::Hash{}}));
  ASSERT_THAT(forged, IsOk());
  EXPECT_THAT(audit::OpenCheckpoint(*verifier_, *forged),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

// Races: readers read the plan without pause while a writer grants,
// then withdraws or revokes (in turn) the second guardian's consent. A read
// that starts after a withdrawal or revocation has returned, and before the
// next grant is asked for, must never be allowed by the ended grant: zero
// false permits in at least 10,000 such reads.
TEST_F(StoryTest, NoReadStartedAfterAnEndingReturnedIsAllowedByTheEndedGrant) {
  Grant(g1_, "grant-g1");  // stays; the second guardian's comes and goes
  constexpr int kTrials = 10000;
  constexpr int kReaders = 4;
  constexpr int kTrialsPerRound = 250;
  std::atomic<int> epoch{0};   // moved on before each grant is asked for
  std::atomic<int> ended{-1};  // the epoch whose grant's ending returned
  std::atomic<int> trials{0}, false_permits{0}, allowed{0}, errors{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  for (int t = 0; t < kReaders; ++t) {
    readers.emplace_back([&] {
      auto plans = Plans("school-1");
      v1::GetPlanRequest get;
      get.set_name(plan_);
      while (!stop.load()) {
        const int e0 = epoch.load();
        const bool ended_before = ended.load() == e0;
        v1::GetPlanResponse out;
        const absl::Status s =
            Call(*plans, &v1::PlanService::Stub::GetPlan, get, &out);
        if (!s.ok()) {
          ++errors;
          continue;
        }
        const bool permitted = !out.entries().empty();
        if (permitted) ++allowed;
        // No new grant was asked for while this read ran.
        if (ended_before && epoch.load() == e0) {
          ++trials;
          if (permitted) ++false_permits;
        }
      }
    });
  }
  auto admins = Admins();
  int round = 0;
  while (trials.load() < kTrials && round < 400) {
    epoch.store(round);
    const std::string grant = Grant(g2_, absl::StrCat("race-grant-", round));
    // While the grant is in force, a read is allowed: the check has teeth.
    const bool in_force = !SchoolReads().entries().empty();
    EXPECT_TRUE(in_force) << "round " << round;
    if (grant.empty() || !in_force) break;
    absl::Status ending;
    if (round % 2 == 0) {
      v1::WithdrawGrantRequest w;
      w.set_request_id(absl::StrCat("race-withdraw-", round));
      w.set_name(grant);
      w.set_withdrawer_role(v1::GRANTOR_ROLE_GUARDIAN);
      w.set_withdrawer_identity_number(g2_);
      w.mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
      v1::WithdrawGrantResponse out;
      ending =
          Call(*consents_, &v1::ConsentService::Stub::WithdrawGrant, w, &out);
    } else {
      v1::RevokeGrantRequest r;
      r.set_request_id(absl::StrCat("race-revoke-", round));
      r.set_name(grant);
      r.set_reason("at the guardian's request");
      r.mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
      v1::RevokeGrantResponse out;
      ending = Call(*admins, &v1::AdminService::Stub::RevokeGrant, r, &out);
    }
    EXPECT_THAT(ending, IsOk());
    if (!ending.ok()) break;  // (no ASSERT: the readers must be joined)
    ended.store(round);
    // Let the readers make this round's trials before the next grant.
    const int target = std::min(kTrials, (round + 1) * kTrialsPerRound);
    while (trials.load() < target && !HasFailure()) std::this_thread::yield();
    ++round;
  }
  stop.store(true);
  for (auto& t : readers) t.join();
  std::cout << "[ race ] " << round << " endings, " << trials.load()
            << " reads after an ending, " << allowed.load()
            << " reads allowed in all, " << errors.load() << " errors\n";
  EXPECT_GE(trials.load(), kTrials);
  EXPECT_EQ(false_permits.load(), 0);
  EXPECT_EQ(errors.load(), 0);
}

}  // namespace
}  // namespace samplan::server
