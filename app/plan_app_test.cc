#include "app/plan_app.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "app/app_support.h"
#include "app/caller.h"
#include "app/commit_queue.h"
#include "app/consent_app.h"
#include "app/read_cache.h"
#include "common/clock.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "common/status_matchers.h"
#include "consent/engine.h"
#include "consent/identity_number.h"
#include "gmock/gmock.h"
#include "google/protobuf/field_mask.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/type/date.pb.h"
#include "gtest/gtest.h"
#include "samplan/v1/admin.pb.h"
#include "samplan/v1/audit.pb.h"
#include "samplan/v1/common.pb.h"
#include "samplan/v1/consent.pb.h"
#include "samplan/v1/plan.pb.h"
#include "storage/sqlite_store.h"
#include "storage/store.h"

namespace samplan::app {
namespace {

// `s` without its "resource" metadata: a NOT_FOUND for a hidden plan must
// equal the one for a missing plan but for the name it echoes.
absl::Status WithoutResource(absl::Status s) {
  s.ErasePayload(absl::StrCat(kMetadataPayloadPrefix, "resource"));
  return s;
}

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAre;

// A valid identity number born on `yyyymmdd` with serial `nnn`.
std::string Pnr(absl::string_view yyyymmdd, absl::string_view nnn) {
  const std::string nine = absl::StrCat(yyyymmdd.substr(2), nnn);
  return absl::StrCat(yyyymmdd, nnn, consent::LuhnCheckDigit(nine));
}

// `pnr` with a wrong check digit.
std::string WrongCheckDigit(const std::string& pnr) {
  const int last = pnr.back() - '0';
  return pnr.substr(0, pnr.size() - 1) + std::to_string((last + 1) % 10);
}

absl::Time Utc(int y, int m, int d, int hh = 0, int mm = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, 0),
                         absl::UTCTimeZone());
}

google::type::Date Day(int y, int m, int d) {
  google::type::Date out;
  out.set_year(y);
  out.set_month(m);
  out.set_day(d);
  return out;
}

Caller MakeCaller(const std::string& agency, consent::Sector sector) {
  Caller c;
  c.agency_id = agency;
  c.sector = sector;
  c.role = Role::kAgencySystem;
  c.actor = "staff-1";
  return c;
}

v1::Agency MakeAgency(const std::string& id, v1::Sector sector) {
  v1::Agency a;
  a.set_name("agencies/" + id);
  a.set_display_name("Agency " + id);
  a.set_sector(sector);
  a.set_role(v1::AGENCY_ROLE_AGENCY_SYSTEM);
  a.set_state(v1::AGENCY_STATE_ACTIVE);
  a.set_certificate_identity("urn:samplan:agency:" + id);
  return a;
}

class PlanAppTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto policy = consent::DefaultPolicy();
    ASSERT_THAT(policy, IsOk());
    auto store = storage::OpenSqliteStore(storage::SqliteOptions{});
    ASSERT_THAT(store, IsOk());
    store_ = *std::move(store);
    queue_ = std::make_unique<CommitQueue>(*store_);
    AppContext ctx;
    ctx.store = store_.get();
    ctx.queue = queue_.get();
    ctx.clock = &clock_;
    ctx.ids = ids_.get();
    ctx.policy = *policy;
    // Every test reads through the cache, as the server does.
    ctx.read_cache = &cache_;
    ctx_ = ctx;
    app_ = std::make_unique<PlanApp>(ctx);

    ASSERT_THAT(store_->Write([&](storage::Transaction& tx) -> absl::Status {
      for (auto [id, sector] : {std::pair{"school-1", v1::SECTOR_SCHOOL},
                                std::pair{"soc-1", v1::SECTOR_SOCIAL_SERVICES},
                                std::pair{"bup-1", v1::SECTOR_HEALTHCARE}}) {
        RETURN_IF_ERROR(tx.agencies().Create(MakeAgency(id, sector)));
      }
      // Joint custody of the child since birth.
      for (auto [id, guardian] :
           {std::pair{"c1", &g1_}, std::pair{"c2", &g2_}}) {
        v1::CustodyFact f;
        f.set_name(absl::StrCat("custodyFacts/", id));
        f.set_subject(child_);
        f.set_guardian_identity_number(*guardian);
        SetTimestamp(Utc(2016, 5, 10), f.mutable_valid_from());
        f.mutable_evidence()->set_kind(v1::EVIDENCE_KIND_REGISTER_EXTRACT);
        f.mutable_evidence()->set_reference("extract 1");
        f.set_recorded_by_agency("agencies/soc-1");
        f.set_recorded_by_actor("staff-9");
        SetTimestamp(Utc(2026, 1, 1), f.mutable_create_time());
        RETURN_IF_ERROR(tx.custody().AddCustody(f));
      }
      return absl::OkStatus();
    }),
                IsOk());
  }

  // Calls an asynchronous PlanApp method and waits for `done`.
  template <class Req, class Resp>
  absl::Status Call(void (PlanApp::*method)(const Caller&, const Req&, Resp*,
                                            Done),
                    const Caller& caller, const Req& req, Resp* out) {
    absl::Notification finished;
    absl::Status result;
    out->Clear();  // as the transport does: every call gets a fresh response
    (app_.get()->*method)(caller, req, out, [&](absl::Status s) {
      result = std::move(s);
      finished.Notify();
    });
    finished.WaitForNotification();
    return result;
  }

  // Calls another app's asynchronous method and waits for `done`.
  template <class App, class Req, class Resp>
  absl::Status CallApp(App& app,
                       void (App::*method)(const Caller&, const Req&, Resp*,
                                           Done),
                       const Caller& caller, const Req& req, Resp* out) {
    absl::Notification finished;
    absl::Status result;
    out->Clear();
    (app.*method)(caller, req, out, [&](absl::Status s) {
      result = std::move(s);
      finished.Notify();
    });
    finished.WaitForNotification();
    return result;
  }

  // Calls as school-1 and expects INVALID_ARGUMENT about `field`.
  template <class Req, class Resp>
  void ExpectInvalid(void (PlanApp::*method)(const Caller&, const Req&, Resp*,
                                             Done),
                     const Req& req, const std::string& field) {
    Resp resp;
    const absl::Status s = Call(method, school_, req, &resp);
    EXPECT_THAT(s,
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(field)))
        << "expected a complaint about " << field;
    EXPECT_EQ(FieldOf(s), field);
  }

  // A plan about `subject` with coordinator, two review dates, the agencies
  // `agencies` and guardian 1 invited.
  v1::CreatePlanRequest PlanRequest(const std::string& request_id,
                                    const std::string& subject,
                                    const std::vector<std::string>& agencies) {
    v1::CreatePlanRequest req;
    req.set_request_id(request_id);
    v1::Plan* plan = req.mutable_plan();
    plan->set_subject(subject);
    v1::Coordinator* co = plan->mutable_coordinator();
    co->set_display_name("Anna Samordnare");
    co->set_phone("+46 70-123 45 67");
    co->set_email("anna@skola.example.se");
    co->set_agency("agencies/school-1");
    v1::ReviewDate* follow_up = plan->add_review_dates();
    follow_up->set_kind(v1::REVIEW_KIND_FOLLOW_UP);
    *follow_up->mutable_date() = Day(2026, 9, 15);
    follow_up->set_description("first follow-up");
    v1::ReviewDate* evaluation = plan->add_review_dates();
    evaluation->set_kind(v1::REVIEW_KIND_EVALUATION);
    *evaluation->mutable_date() = Day(2027, 1, 20);
    evaluation->set_description("evaluation");
    for (const std::string& agency : agencies) {
      v1::Participant* p = req.add_participants();
      p->set_kind(v1::PARTICIPANT_KIND_AGENCY);
      p->set_agency("agencies/" + agency);
      p->set_role_note("case worker");
    }
    v1::Participant* g = req.add_participants();
    g->set_kind(v1::PARTICIPANT_KIND_GUARDIAN);
    g->set_identity_number(g1_);
    g->set_display_name("Guardian One");
    return req;
  }

  // Creates a draft plan about the child (or `subject`); returns its name.
  std::string NewPlan(const Caller& lead, const std::string& request_id,
                      const std::vector<std::string>& agencies = {"bup-1"},
                      const std::string& subject = "") {
    v1::CreatePlanResponse resp;
    EXPECT_THAT(Call(&PlanApp::CreatePlan, lead,
                     PlanRequest(request_id, subject.empty() ? child_ : subject,
                                 agencies),
                     &resp),
                IsOk());
    return resp.plan().name();
  }

  v1::ApprovePlanRequest ApproveRequest(
      const std::string& plan, int64_t revision,
      const std::vector<std::string>& guardians,
      const std::string& request_id) {
    v1::ApprovePlanRequest req;
    req.set_name(plan);
    req.set_revision(revision);
    req.set_request_id(request_id);
    for (const std::string& g : guardians) {
      v1::Approval* a = req.add_approvals();
      a->set_approver_role(v1::APPROVER_ROLE_GUARDIAN);
      a->set_approver_identity_number(g);
      a->mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
      a->mutable_evidence()->set_reference("form 7");
    }
    return req;
  }

  absl::Status Approve(const std::string& plan, int64_t revision,
                       const std::vector<std::string>& guardians,
                       const std::string& request_id,
                       v1::ApprovePlanResponse* out = nullptr) {
    v1::ApprovePlanResponse ignored;
    return Call(&PlanApp::ApprovePlan, school_,
                ApproveRequest(plan, revision, guardians, request_id),
                out != nullptr ? out : &ignored);
  }

  // A plan led by school-1 with bup-1 invited, approved by both guardians
  // (revision 1 effective, state ACTIVE).
  std::string ActivePlan(const std::string& request_id) {
    const std::string plan = NewPlan(school_, request_id + "-create");
    EXPECT_THAT(Approve(plan, 1, {g1_, g2_}, request_id + "-approve"), IsOk());
    return plan;
  }

  v1::CreateEntryRequest EntryRequest(const Caller& author,
                                      const std::string& plan,
                                      v1::InformationCategory category,
                                      v1::EntryKind kind,
                                      const std::string& text,
                                      const std::string& request_id) {
    v1::CreateEntryRequest req;
    req.set_parent(plan);
    req.set_request_id(request_id);
    v1::Entry* e = req.mutable_entry();
    e->set_category(category);
    e->set_kind(kind);
    e->set_text(text);
    if (kind == v1::ENTRY_KIND_INTERVENTION) {
      v1::Intervention* iv = e->mutable_intervention();
      iv->set_responsible_agency(author.agency_name());
      iv->set_order(1);
      *iv->mutable_start_date() = Day(2026, 8, 20);
    }
    return req;
  }

  // Writes an entry; returns its name.
  std::string AddEntry(const Caller& author, const std::string& plan,
                       v1::InformationCategory category, v1::EntryKind kind,
                       const std::string& text, const std::string& request_id) {
    v1::CreateEntryResponse resp;
    EXPECT_THAT(
        Call(&PlanApp::CreateEntry, author,
             EntryRequest(author, plan, category, kind, text, request_id),
             &resp),
        IsOk());
    return resp.entry().name();
  }

  absl::Status Read(const Caller& reader, const std::string& plan,
                    v1::GetPlanResponse* out,
                    v1::PlanView view = v1::PLAN_VIEW_UNSPECIFIED) {
    v1::GetPlanRequest req;
    req.set_name(plan);
    req.set_view(view);
    return Call(&PlanApp::GetPlan, reader, req, out);
  }

  // A guardian's grant HEALTHCARE -> SCHOOL for needs and interventions,
  // all of 2026.
  void InsertGrant(const std::string& id, const std::string& guardian) {
    InsertGrantFor(id, child_, guardian);
  }
  void InsertGrantFor(const std::string& id, const std::string& subject,
                      const std::string& guardian = "") {
    v1::Grant g;
    g.set_name("grants/" + id);
    g.set_subject(subject);
    g.set_grantor_role(v1::GRANTOR_ROLE_GUARDIAN);
    g.set_grantor_identity_number(guardian.empty() ? g1_ : guardian);
    g.mutable_scope()->add_disclosing_sectors(v1::SECTOR_HEALTHCARE);
    g.mutable_scope()->add_receiving_sectors(v1::SECTOR_SCHOOL);
    g.mutable_scope()->add_categories(v1::INFORMATION_CATEGORY_NEEDS);
    g.mutable_scope()->add_categories(v1::INFORMATION_CATEGORY_INTERVENTIONS);
    SetTimestamp(Utc(2026, 1, 1), g.mutable_valid_from());
    SetTimestamp(Utc(2026, 12, 31), g.mutable_valid_until());
    g.mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
    g.mutable_evidence()->set_reference("form 12");
    g.set_recorded_by_agency("agencies/school-1");
    g.set_recorded_by_actor("staff-1");
    SetTimestamp(Utc(2026, 1, 1), g.mutable_create_time());
    g.set_state(v1::GRANT_STATE_ACTIVE);
    ASSERT_THAT(store_->Write([&](storage::Transaction& tx) {
      return tx.grants().Insert(g);
    }),
                IsOk());
  }

  void Withdraw(const std::string& id, const std::string& guardian) {
    storage::GrantEnding ending;
    ending.state = v1::GRANT_STATE_WITHDRAWN;
    ending.time = clock_.Now();
    ending.reason = "withdrawn by the guardian";
    ending.agency = "school-1";
    ending.actor = "staff-1";
    ending.withdrawer = guardian;
    ending.evidence_kind = v1::EVIDENCE_KIND_SIGNED_FORM;
    ending.evidence_reference = "form 13";
    ASSERT_THAT(store_->Write([&](storage::Transaction& tx) {
      return tx.grants().End(id, ending);
    }),
                IsOk());
  }

  // The newest stored header of a plan, read directly from the store.
  v1::Plan Stored(const std::string& plan_name) {
    v1::Plan out;
    EXPECT_THAT(store_->Read([&](storage::Transaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(out, tx.plans().Get(plan_name.substr(6)));
      return absl::OkStatus();
    }),
                IsOk());
    return out;
  }

  int64_t AuditSize() {
    int64_t size = -1;
    EXPECT_THAT(store_->Read([&](storage::Transaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(size, tx.audit().Size());
      return absl::OkStatus();
    }),
                IsOk());
    return size;
  }

  std::vector<v1::AuditEvent> Audit(const std::string& agency, int action) {
    storage::AuditQuery query;
    query.agency = agency;
    query.action = action;
    query.limit = 1000;
    std::vector<v1::AuditEvent> out;
    EXPECT_THAT(store_->Read([&](storage::Transaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(out, tx.audit().Query(query));
      return absl::OkStatus();
    }),
                IsOk());
    return out;
  }

  // The decision about `entry` in the newest of the plan-read `events`.
  static const v1::EntryDecision* EntryEvent(
      const std::vector<v1::AuditEvent>& events, const std::string& entry) {
    const v1::EntryDecision* found = nullptr;
    for (const v1::AuditEvent& e : events) {
      for (const v1::EntryDecision& d : e.entry_decisions()) {
        if (d.entry() == entry) found = &d;
      }
    }
    return found;
  }

  // Plans led by `agency` or shared with it, drafts included for the lead.
  size_t PlanCount(const std::string& agency) {
    size_t count = 0;
    EXPECT_THAT(store_->Read([&](storage::Transaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(auto plans,
                       tx.plans().ListForAgency(agency, "", 0, "", 1000));
      count = plans.size();
      return absl::OkStatus();
    }),
                IsOk());
    return count;
  }

  const std::string child_ = Pnr("20160510", "238");
  const std::string other_child_ = Pnr("20150301", "444");
  const std::string g1_ = Pnr("19850301", "111");
  const std::string g2_ = Pnr("19870712", "222");
  const std::string stranger_ = Pnr("19700101", "333");
  const Caller school_ = MakeCaller("school-1", consent::Sector::kSchool);
  const Caller soc_ = MakeCaller("soc-1", consent::Sector::kSocialServices);
  const Caller bup_ = MakeCaller("bup-1", consent::Sector::kHealthcare);

  FakeClock clock_{Utc(2026, 6, 1, 10)};
  std::unique_ptr<IdGenerator> ids_ = NewSequentialIdGenerator();
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<CommitQueue> queue_;
  ReadCache cache_;
  AppContext ctx_;
  std::unique_ptr<PlanApp> app_;
};

// ------------------------------------------------------------ CreatePlan

TEST_F(PlanAppTest, CreatePlanMakesADraftLedByTheCaller) {
  v1::CreatePlanResponse resp;
  ASSERT_THAT(Call(&PlanApp::CreatePlan, school_,
                   PlanRequest("r1", child_, {"bup-1"}), &resp),
              IsOk());
  const v1::Plan& plan = resp.plan();
  EXPECT_THAT(plan.name(), StartsWith("plans/"));
  EXPECT_EQ(plan.subject(), child_);
  EXPECT_EQ(plan.subject_birth_date().year(), 2016);
  EXPECT_EQ(plan.subject_birth_date().month(), 5);
  EXPECT_EQ(plan.subject_birth_date().day(), 10);
  EXPECT_EQ(plan.lead_agency(), "agencies/school-1");
  EXPECT_EQ(plan.state(), v1::PLAN_STATE_DRAFT);
  EXPECT_EQ(plan.revision(), 1);
  EXPECT_EQ(plan.effective_revision(), 0);
  EXPECT_EQ(plan.etag(), "1");
  EXPECT_EQ(plan.coordinator().display_name(), "Anna Samordnare");
  EXPECT_THAT(plan.review_dates(), SizeIs(2));
  EXPECT_EQ(plan.create_time().seconds(),
            absl::ToUnixSeconds(Utc(2026, 6, 1, 10)));

  // The lead agency and the subject take part automatically.
  ASSERT_THAT(resp.participants(), SizeIs(4));
  EXPECT_EQ(resp.participants(0).agency(), "agencies/school-1");
  EXPECT_EQ(resp.participants(1).kind(), v1::PARTICIPANT_KIND_SUBJECT);
  EXPECT_EQ(resp.participants(1).identity_number(), child_);
  EXPECT_EQ(resp.participants(2).agency(), "agencies/bup-1");
  EXPECT_EQ(resp.participants(2).display_name(), "Agency bup-1");
  EXPECT_EQ(resp.participants(3).identity_number(), g1_);
  for (const v1::Participant& p : resp.participants()) {
    EXPECT_THAT(p.name(), StartsWith(plan.name() + "/participants/"));
    EXPECT_TRUE(p.has_invite_time());
  }

  // The lead reads its draft; the effective view falls back to the newest.
  v1::GetPlanResponse read;
  ASSERT_THAT(Read(school_, plan.name(), &read), IsOk());
  EXPECT_EQ(read.plan().state(), v1::PLAN_STATE_DRAFT);
  EXPECT_EQ(read.shown_revision(), 1);
  EXPECT_THAT(read.participants(), SizeIs(4));

  const auto created = Audit("school-1", v1::AUDIT_ACTION_PLAN_CREATED);
  ASSERT_THAT(created, SizeIs(1));
  EXPECT_EQ(created[0].resource(), plan.name());
  EXPECT_EQ(created[0].subject(), child_);
  EXPECT_EQ(created[0].agency(), "agencies/school-1");
  EXPECT_EQ(created[0].actor(), "staff-1");
  EXPECT_EQ(created[0].request_id(), "r1");
}

// RunInTransaction runs calls to their end in a transaction its caller
// holds, as the writer does: a write with its record and saved answer, its
// retry answered from the request log without a second record, a refused
// read with its record, and an invalid request with nothing.
TEST_F(PlanAppTest, RunInTransactionRunsCallsInTheCallersTransaction) {
  AppContext ctx = ctx_;
  ctx.read_cache = nullptr;  // not told of changes before they commit
  const int64_t before = AuditSize();
  const v1::CreatePlanRequest req = PlanRequest("in-tx", child_, {"bup-1"});
  v1::CreatePlanRequest invalid = req;
  invalid.set_request_id("");
  v1::CreatePlanResponse first;
  v1::CreatePlanResponse retry;
  v1::CreatePlanResponse none;
  v1::GetPlanResponse hidden;
  absl::Status refused;
  absl::Status rejected;
  ASSERT_THAT(store_->Write([&](storage::Transaction& tx) -> absl::Status {
    RETURN_IF_ERROR(RunInTransaction(ctx, PlanMethods::kCreatePlan, tx, school_,
                                     req, &first));
    RETURN_IF_ERROR(RunInTransaction(ctx, PlanMethods::kCreatePlan, tx, school_,
                                     req, &retry));
    v1::GetPlanRequest get;
    get.set_name(first.plan().name());
    // A draft: hidden from the invited agency.
    refused =
        RunInTransaction(ctx, PlanMethods::kGetPlan, tx, bup_, get, &hidden);
    rejected = RunInTransaction(ctx, PlanMethods::kCreatePlan, tx, school_,
                                invalid, &none);
    return absl::OkStatus();
  }),
              IsOk());
  EXPECT_EQ(retry.plan().name(), first.plan().name());
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(rejected, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(AuditSize(), before + 2);
  const std::vector<v1::AuditEvent> reads =
      Audit("bup-1", v1::AUDIT_ACTION_PLAN_READ);
  ASSERT_THAT(reads, SizeIs(1));
  EXPECT_EQ(reads[0].decision(), v1::DECISION_DENY);
  EXPECT_EQ(PlanCount("school-1"), 1u);
}

TEST_F(PlanAppTest, CreatePlanIsIdempotent) {
  const v1::CreatePlanRequest req = PlanRequest("same-id", child_, {"bup-1"});
  v1::CreatePlanResponse first;
  ASSERT_THAT(Call(&PlanApp::CreatePlan, school_, req, &first), IsOk());
  const int64_t audited = AuditSize();

  v1::CreatePlanResponse second;
  ASSERT_THAT(Call(&PlanApp::CreatePlan, school_, req, &second), IsOk());
  EXPECT_EQ(second.plan().name(), first.plan().name());
  EXPECT_THAT(second.participants(), SizeIs(4));
  EXPECT_EQ(AuditSize(), audited);
  EXPECT_EQ(PlanCount("school-1"), 1u);

  // The same id with another body is refused, and nothing changes.
  v1::CreatePlanRequest other = req;
  other.mutable_plan()->mutable_coordinator()->set_display_name("Someone");
  v1::CreatePlanResponse third;
  const absl::Status reused =
      Call(&PlanApp::CreatePlan, school_, other, &third);
  EXPECT_THAT(reused, StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(ReasonOf(reused), "REQUEST_ID_REUSED");
  EXPECT_EQ(PlanCount("school-1"), 1u);
  EXPECT_EQ(AuditSize(), audited);

  // Request ids are scoped to the agency.
  v1::CreatePlanResponse by_bup;
  ASSERT_THAT(Call(&PlanApp::CreatePlan, bup_,
                   PlanRequest("same-id", child_, {"school-1"}), &by_bup),
              IsOk());
  EXPECT_NE(by_bup.plan().name(), first.plan().name());
}

// ---------------------------------------------------------- visibility

TEST_F(PlanAppTest, DraftIsHiddenFromEveryoneButTheLead) {
  const std::string plan = NewPlan(school_, "r1");
  v1::GetPlanResponse resp;
  const absl::Status for_bup = Read(bup_, plan, &resp);
  const absl::Status for_soc = Read(soc_, plan, &resp);
  const absl::Status for_unknown = Read(school_, "plans/nope", &resp);
  EXPECT_THAT(for_bup, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(for_bup, for_soc);
  // The same answer but for the name echoed back as metadata "resource".
  EXPECT_EQ(MetadataOf(for_bup, "resource"), plan);
  EXPECT_EQ(MetadataOf(for_unknown, "resource"), "plans/nope");
  EXPECT_EQ(WithoutResource(for_bup), WithoutResource(for_unknown));
  EXPECT_EQ(for_bup.message(), for_unknown.message());
  EXPECT_EQ(ReasonOf(for_bup), ReasonOf(for_unknown));
  EXPECT_FALSE(resp.has_plan());
  EXPECT_THAT(resp.entries(), IsEmpty());

  // Writing is refused with the same answer.
  v1::CreateEntryResponse entry;
  const absl::Status write =
      Call(&PlanApp::CreateEntry, bup_,
           EntryRequest(bup_, plan, v1::INFORMATION_CATEGORY_HEALTH,
                        v1::ENTRY_KIND_NOTE, "note", "e1"),
           &entry);
  EXPECT_EQ(write, for_bup);

  // The audit log holds the real reason.
  const auto denied = Audit("bup-1", v1::AUDIT_ACTION_PLAN_READ);
  ASSERT_THAT(denied, SizeIs(1));
  EXPECT_EQ(denied[0].decision(), v1::DECISION_DENY);
  EXPECT_THAT(denied[0].reasons(),
              ElementsAre(v1::DECISION_REASON_NOT_PARTICIPANT));
  EXPECT_EQ(denied[0].detail(), "draft: lead agency only");
  EXPECT_EQ(denied[0].subject(), child_);
  EXPECT_EQ(denied[0].resource(), plan);
  const auto unknown = Audit("school-1", v1::AUDIT_ACTION_PLAN_READ);
  ASSERT_THAT(unknown, SizeIs(1));
  EXPECT_EQ(unknown[0].decision(), v1::DECISION_DENY);
  EXPECT_EQ(unknown[0].subject(), "");

  // Nor does the draft show in the participant's listing.
  v1::ListPlansResponse listed;
  ASSERT_THAT(Call(&PlanApp::ListPlans, bup_, v1::ListPlansRequest(), &listed),
              IsOk());
  EXPECT_THAT(listed.plans(), IsEmpty());
}

// Worked example 7.
TEST_F(PlanAppTest, Example7NonParticipantGetsNotFoundAndTheDenialIsLogged) {
  const std::string plan = ActivePlan("p");
  v1::GetPlanResponse resp;
  const absl::Status hidden = Read(soc_, plan, &resp);
  const absl::Status missing = Read(soc_, "plans/doesnotexist", &resp);
  EXPECT_THAT(hidden, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(MetadataOf(hidden, "resource"), plan);
  EXPECT_EQ(MetadataOf(missing, "resource"), "plans/doesnotexist");
  EXPECT_EQ(WithoutResource(hidden), WithoutResource(missing));
  EXPECT_FALSE(resp.has_plan());

  const auto events = Audit("soc-1", v1::AUDIT_ACTION_PLAN_READ);
  ASSERT_THAT(events, SizeIs(2));
  EXPECT_EQ(events[0].resource(), plan);
  EXPECT_EQ(events[0].subject(), child_);
  EXPECT_EQ(events[0].decision(), v1::DECISION_DENY);
  EXPECT_THAT(events[0].reasons(),
              ElementsAre(v1::DECISION_REASON_NOT_PARTICIPANT));
  EXPECT_EQ(events[1].decision(), v1::DECISION_DENY);
}

// One visibility rule (PlanGround) for every method that shows, lists,
// checks, writes or audits a plan: a draft is its lead agency's only, an
// active plan its participants' (not those removed). Every method must give
// the same answer for each (agency, plan) pair.
TEST_F(PlanAppTest, EveryMethodAgreesWhoSeesAPlan) {
  // A draft led by school-1 with bup-1 invited; an active plan with bup-1
  // taking part and soc-1 invited, then removed.
  const std::string draft = NewPlan(school_, "d");
  const std::string active = NewPlan(school_, "a", {"bup-1", "soc-1"});
  ASSERT_THAT(Approve(active, 1, {g1_, g2_}, "a-approve"), IsOk());
  v1::GetPlanResponse lead_view;
  ASSERT_THAT(Read(school_, active, &lead_view), IsOk());
  v1::RemoveParticipantRequest remove;
  remove.set_request_id("a-remove");
  remove.set_reason("no longer involved");
  for (const v1::Participant& p : lead_view.participants()) {
    if (p.agency() == "agencies/soc-1") remove.set_name(p.name());
  }
  v1::RemoveParticipantResponse removed;
  ASSERT_THAT(Call(&PlanApp::RemoveParticipant, school_, remove, &removed),
              IsOk());
  ConsentApp consent_app(ctx_);

  struct Case {
    const Caller* caller;
    std::string plan;
    bool sees;
  };
  const std::vector<Case> cases = {
      {&school_, draft, true},   // lead of a draft
      {&bup_, draft, false},     // invited to a draft
      {&soc_, draft, false},     // not a participant
      {&school_, active, true},  // lead
      {&bup_, active, true},     // participant
      {&soc_, active, false},    // removed participant
  };
  int n = 0;
  for (const Case& c : cases) {
    const std::string label =
        absl::StrCat(c.caller->agency_id, " on ",
                     c.plan == draft ? "the draft" : "the active plan");
    SCOPED_TRACE(label);
    const std::string id = absl::StrCat("v", ++n);
    auto expect = [&](const absl::Status& s, absl::string_view method) {
      if (c.sees) {
        EXPECT_THAT(s, IsOk()) << method;
      } else {
        EXPECT_THAT(s, StatusIs(absl::StatusCode::kNotFound)) << method;
      }
    };
    auto lists = [&](const auto& plans) {
      for (const v1::Plan& p : plans) {
        if (p.name() == c.plan) return true;
      }
      return false;
    };

    // GetPlan, and its audit record's ground.
    v1::GetPlanResponse read;
    expect(Read(*c.caller, c.plan, &read), "GetPlan");
    const auto reads = Audit(c.caller->agency_id, v1::AUDIT_ACTION_PLAN_READ);
    ASSERT_FALSE(reads.empty());
    EXPECT_EQ(reads.back().resource(), c.plan);
    EXPECT_EQ(reads.back().decision(),
              c.sees ? v1::DECISION_ALLOW : v1::DECISION_DENY);
    EXPECT_THAT(reads.back().reasons(),
                ElementsAre(!c.sees ? v1::DECISION_REASON_NOT_PARTICIPANT
                            : c.caller == &school_
                                ? v1::DECISION_REASON_LEAD_AGENCY
                                : v1::DECISION_REASON_PLAN_PARTICIPANT));

    // RenderPlan answers the same.
    v1::RenderPlanRequest render;
    render.set_name(c.plan);
    v1::RenderPlanResponse rendered;
    expect(Call(&PlanApp::RenderPlan, *c.caller, render, &rendered),
           "RenderPlan");

    // ListPlans and SearchPlans.
    v1::ListPlansResponse listed;
    ASSERT_THAT(
        Call(&PlanApp::ListPlans, *c.caller, v1::ListPlansRequest(), &listed),
        IsOk());
    EXPECT_EQ(lists(listed.plans()), c.sees) << "ListPlans";
    v1::SearchPlansRequest search;
    search.set_subject(child_);
    v1::SearchPlansResponse found;
    ASSERT_THAT(Call(&PlanApp::SearchPlans, *c.caller, search, &found), IsOk());
    EXPECT_EQ(lists(found.plans()), c.sees) << "SearchPlans";

    // A write on the plan.
    v1::CreateEntryResponse entry;
    expect(Call(&PlanApp::CreateEntry, *c.caller,
                EntryRequest(*c.caller, c.plan, v1::INFORMATION_CATEGORY_NEEDS,
                             v1::ENTRY_KIND_NOTE, "note", id + "-entry"),
                &entry),
           "CreateEntry");

    // CheckAccess about the plan, as its receiving agency.
    v1::CheckAccessRequest check;
    check.set_plan(c.plan);
    check.set_owner_agency("agencies/bup-1");
    check.set_category(v1::INFORMATION_CATEGORY_NEEDS);
    v1::CheckAccessResponse checked;
    expect(CallApp(consent_app, &ConsentApp::CheckAccess, *c.caller, check,
                   &checked),
           "CheckAccess");

    // ListGrants limited to the plan.
    v1::ListGrantsRequest grants;
    grants.set_plan(c.plan);
    v1::ListGrantsResponse listed_grants;
    expect(CallApp(consent_app, &ConsentApp::ListGrants, *c.caller, grants,
                   &listed_grants),
           "ListGrants");

    // A grant limited to the plan: a plan the caller may not see is no
    // plan at all, the same answer as for a name that does not exist.
    v1::CreateGrantRequest grant;
    grant.set_request_id(id + "-grant");
    v1::Grant* g = grant.mutable_grant();
    g->set_subject(child_);
    g->set_grantor_role(v1::GRANTOR_ROLE_GUARDIAN);
    g->set_grantor_identity_number(g1_);
    g->mutable_scope()->set_plan(c.plan);
    g->mutable_scope()->add_disclosing_sectors(v1::SECTOR_HEALTHCARE);
    g->mutable_scope()->add_receiving_sectors(v1::SECTOR_SCHOOL);
    g->mutable_scope()->add_categories(v1::INFORMATION_CATEGORY_NEEDS);
    SetTimestamp(clock_.Now(), g->mutable_valid_from());
    SetTimestamp(clock_.Now() + absl::Hours(24 * 30), g->mutable_valid_until());
    g->mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
    g->mutable_evidence()->set_reference("form 1");
    v1::CreateGrantResponse granted;
    const absl::Status created = CallApp(consent_app, &ConsentApp::CreateGrant,
                                         *c.caller, grant, &granted);
    if (c.sees) {
      EXPECT_THAT(created, IsOk()) << "CreateGrant";
    } else {
      EXPECT_THAT(created, StatusIs(absl::StatusCode::kInvalidArgument))
          << "CreateGrant";
      EXPECT_EQ(FieldOf(created), "grant.scope.plan");
      v1::CreateGrantRequest missing = grant;
      missing.set_request_id(id + "-missing");
      missing.mutable_grant()->mutable_scope()->set_plan("plans/doesnotexist");
      const absl::Status none = CallApp(consent_app, &ConsentApp::CreateGrant,
                                        *c.caller, missing, &granted);
      EXPECT_EQ(created.code(), none.code());
      EXPECT_EQ(created.message(), none.message());
    }
  }
}

// ----------------------------------------------------------- approvals

TEST_F(PlanAppTest, ApprovalByBothGuardiansMakesThePlanActive) {
  const std::string plan = NewPlan(school_, "r1");
  v1::ApprovePlanResponse resp;
  ASSERT_THAT(Approve(plan, 1, {g1_, g2_}, "a1", &resp), IsOk());
  EXPECT_EQ(resp.plan().state(), v1::PLAN_STATE_ACTIVE);
  EXPECT_EQ(resp.plan().effective_revision(), 1);
  ASSERT_THAT(resp.approvals(), SizeIs(2));
  EXPECT_EQ(resp.approvals(0).revision(), 1);
  EXPECT_EQ(resp.approvals(0).approver_identity_number(), g1_);
  EXPECT_EQ(resp.approvals(0).recorded_by_agency(), "agencies/school-1");
  EXPECT_EQ(resp.approvals(0).recorded_by_actor(), "staff-1");
  EXPECT_EQ(resp.approvals(0).approve_time().seconds(),
            absl::ToUnixSeconds(clock_.Now()));
  EXPECT_EQ(Stored(plan).state(), v1::PLAN_STATE_ACTIVE);

  // Now the invited agency sees it.
  v1::GetPlanResponse read;
  ASSERT_THAT(Read(bup_, plan, &read), IsOk());
  EXPECT_EQ(read.shown_revision(), 1);
  EXPECT_EQ(read.plan().state(), v1::PLAN_STATE_ACTIVE);
  EXPECT_THAT(read.approvals(), SizeIs(2));
  EXPECT_THAT(Audit("school-1", v1::AUDIT_ACTION_PLAN_APPROVED), SizeIs(1));
}

TEST_F(PlanAppTest, ApprovalNeedsEveryGuardianWithCustodyAndOnlyThem) {
  const std::string plan = NewPlan(school_, "r1");

  const absl::Status one = Approve(plan, 1, {g1_}, "a1");
  EXPECT_THAT(one, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ReasonOf(one), "GUARDIAN_APPROVAL_MISSING");

  const absl::Status stranger = Approve(plan, 1, {stranger_}, "a2");
  EXPECT_THAT(stranger, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ReasonOf(stranger), "APPROVER_NOT_COMPETENT");
  EXPECT_EQ(FieldOf(stranger), "approvals[0].approver_identity_number");

  const absl::Status mixed = Approve(plan, 1, {g1_, g2_, stranger_}, "a3");
  EXPECT_EQ(ReasonOf(mixed), "APPROVER_NOT_COMPETENT");
  EXPECT_EQ(FieldOf(mixed), "approvals[2].approver_identity_number");

  // A child of 10 does not approve personally.
  v1::ApprovePlanRequest by_child = ApproveRequest(plan, 1, {child_}, "a4");
  by_child.mutable_approvals(0)->set_approver_role(v1::APPROVER_ROLE_SUBJECT);
  v1::ApprovePlanResponse ignored;
  const absl::Status child =
      Call(&PlanApp::ApprovePlan, school_, by_child, &ignored);
  EXPECT_EQ(ReasonOf(child), "APPROVER_NOT_COMPETENT");

  // A revision the plan does not have.
  const absl::Status future = Approve(plan, 2, {g1_, g2_}, "a5");
  EXPECT_THAT(future, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(FieldOf(future), "revision");

  // Nothing was recorded.
  EXPECT_EQ(Stored(plan).state(), v1::PLAN_STATE_DRAFT);
  EXPECT_EQ(Stored(plan).effective_revision(), 0);
  EXPECT_THAT(Audit("school-1", v1::AUDIT_ACTION_PLAN_APPROVED), IsEmpty());

  // Once approved, a later change must be shown to the family again: an
  // approval of an older revision is refused.
  ASSERT_THAT(Approve(plan, 1, {g1_, g2_}, "a6"), IsOk());
  AddEntry(school_, plan, v1::INFORMATION_CATEGORY_NEEDS, v1::ENTRY_KIND_NEED,
           "Needs a quiet place", "e1");
  const absl::Status stale = Approve(plan, 1, {g1_, g2_}, "a7");
  EXPECT_THAT(stale, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ReasonOf(stale), "REVISION_NOT_LATEST");
  EXPECT_EQ(Stored(plan).effective_revision(), 1);

  // Without custody on file there is nobody to approve for a child.
  const std::string other = NewPlan(school_, "r2", {"bup-1"}, other_child_);
  const absl::Status no_custody = Approve(other, 1, {g1_}, "a8");
  EXPECT_EQ(ReasonOf(no_custody), "GUARDIAN_APPROVAL_MISSING");
  EXPECT_THAT(no_custody.message(),
              HasSubstr("custody must be registered first"));
}

// -------------------------------------------- reading with consent (GetPlan)

// Worked example 2, plus example 1 (own entries) and the audit trail.
TEST_F(PlanAppTest, Example2SchoolSeesBupInterventionsButNotItsHealthEntry) {
  const std::string plan = ActivePlan("p");
  const std::string interventions =
      AddEntry(bup_, plan, v1::INFORMATION_CATEGORY_INTERVENTIONS,
               v1::ENTRY_KIND_INTERVENTION, "Weekly sessions at BUP", "b1");
  const std::string health =
      AddEntry(bup_, plan, v1::INFORMATION_CATEGORY_HEALTH, v1::ENTRY_KIND_NOTE,
               "Diagnosis: confidential", "b2");
  const std::string own =
      AddEntry(school_, plan, v1::INFORMATION_CATEGORY_NEEDS,
               v1::ENTRY_KIND_NEED, "Needs a quiet place", "s1");
  ASSERT_THAT(Approve(plan, 4, {g1_, g2_}, "approve-4"), IsOk());
  InsertGrant("g1", g1_);
  InsertGrant("g2", g2_);

  const int64_t before = AuditSize();
  v1::GetPlanResponse resp;
  ASSERT_THAT(Read(school_, plan, &resp), IsOk());
  // One record for the whole read.
  EXPECT_EQ(AuditSize() - before, 1);

  EXPECT_EQ(resp.shown_revision(), 4);
  EXPECT_EQ(resp.plan().etag(), "4");
  ASSERT_THAT(resp.entries(), SizeIs(2));
  EXPECT_EQ(resp.entries(0).name(), interventions);
  EXPECT_EQ(resp.entries(0).text(), "Weekly sessions at BUP");
  EXPECT_EQ(resp.entries(0).owner_agency(), "agencies/bup-1");
  EXPECT_EQ(resp.entries(1).name(), own);
  ASSERT_THAT(resp.withheld_entries(), SizeIs(1));
  const v1::WithheldEntry& withheld = resp.withheld_entries(0);
  EXPECT_EQ(withheld.owner_agency(), "agencies/bup-1");
  EXPECT_EQ(withheld.category(), v1::INFORMATION_CATEGORY_HEALTH);
  EXPECT_EQ(withheld.reason(), v1::DECISION_REASON_CATEGORY_OUT_OF_SCOPE);
  // Nothing of the withheld entry leaks: no id, no text.
  EXPECT_THAT(resp.DebugString(), Not(HasSubstr("Diagnosis")));
  EXPECT_THAT(resp.DebugString(), Not(HasSubstr(health)));

  // One record for the read, with every entry's decision inside.
  EXPECT_THAT(Audit("school-1", v1::AUDIT_ACTION_ENTRY_READ), IsEmpty());
  const auto reads = Audit("school-1", v1::AUDIT_ACTION_PLAN_READ);
  ASSERT_THAT(reads, SizeIs(1));
  EXPECT_EQ(reads[0].decision(), v1::DECISION_ALLOW);
  EXPECT_EQ(reads[0].resource(), plan);
  EXPECT_EQ(reads[0].subject(), child_);
  EXPECT_THAT(reads[0].reasons(), ElementsAre(v1::DECISION_REASON_LEAD_AGENCY));
  EXPECT_THAT(reads[0].entry_decisions(), SizeIs(3));
  const v1::EntryDecision* allowed = EntryEvent(reads, interventions);
  ASSERT_NE(allowed, nullptr);
  EXPECT_EQ(allowed->decision(), v1::DECISION_ALLOW);
  EXPECT_EQ(allowed->reason(), v1::DECISION_REASON_CONSENT_COVERS);
  EXPECT_THAT(allowed->grants(), ElementsAre("grants/g1", "grants/g2"));
  EXPECT_EQ(allowed->owner_agency(), "agencies/bup-1");
  EXPECT_EQ(allowed->category(), v1::INFORMATION_CATEGORY_INTERVENTIONS);
  const v1::EntryDecision* denied = EntryEvent(reads, health);
  ASSERT_NE(denied, nullptr);
  EXPECT_EQ(denied->decision(), v1::DECISION_DENY);
  EXPECT_EQ(denied->reason(), v1::DECISION_REASON_CATEGORY_OUT_OF_SCOPE);
  EXPECT_THAT(denied->grants(), IsEmpty());
  EXPECT_EQ(denied->category(), v1::INFORMATION_CATEGORY_HEALTH);
  const v1::EntryDecision* mine = EntryEvent(reads, own);
  ASSERT_NE(mine, nullptr);
  EXPECT_EQ(mine->reason(), v1::DECISION_REASON_OWN_AGENCY);

  // A second read logs again: one record.
  ASSERT_THAT(Read(school_, plan, &resp), IsOk());
  EXPECT_EQ(AuditSize() - before, 2);
}

// The family's copy is the read GetPlan makes: the same decisions in one
// record of its own, the withheld entry as one sentence, no identity
// number anywhere.
TEST_F(PlanAppTest, RenderPlanShowsWhatGetPlanShowsInPlainWords) {
  const std::string plan = ActivePlan("p");
  AddEntry(bup_, plan, v1::INFORMATION_CATEGORY_INTERVENTIONS,
           v1::ENTRY_KIND_INTERVENTION, "Weekly sessions at BUP", "b1");
  AddEntry(bup_, plan, v1::INFORMATION_CATEGORY_HEALTH, v1::ENTRY_KIND_NOTE,
           "Diagnosis: confidential", "b2");
  AddEntry(school_, plan, v1::INFORMATION_CATEGORY_NEEDS, v1::ENTRY_KIND_NEED,
           "Needs a quiet place", "s1");
  ASSERT_THAT(Approve(plan, 4, {g1_, g2_}, "approve-4"), IsOk());
  InsertGrant("g1", g1_);
  InsertGrant("g2", g2_);

  v1::GetPlanResponse read;
  ASSERT_THAT(Read(school_, plan, &read), IsOk());
  const int64_t before = AuditSize();
  v1::RenderPlanRequest req;
  req.set_name(plan);
  v1::RenderPlanResponse resp;
  ASSERT_THAT(Call(&PlanApp::RenderPlan, school_, req, &resp), IsOk());
  EXPECT_EQ(AuditSize() - before, 1);
  EXPECT_EQ(resp.content_type(), "text/html; charset=utf-8");
  EXPECT_EQ(resp.language_code(), "sv");
  EXPECT_EQ(resp.shown_revision(), 4);
  EXPECT_EQ(resp.file_name(), absl::StrCat("sip-", plan.substr(6), "-v4.html"));
  const std::string& html = resp.content();
  EXPECT_THAT(html, HasSubstr("<html lang=\"sv\">"));
  EXPECT_THAT(html, HasSubstr("Weekly sessions at BUP"));
  EXPECT_THAT(html, HasSubstr("Needs a quiet place"));
  EXPECT_THAT(html, Not(HasSubstr("Diagnosis")));
  EXPECT_THAT(html, HasSubstr("Agency bup-1 har information om hälsa som ni "
                              "inte har sagt ja till att dela med Agency "
                              "school-1."));
  // Both guardians' grants are in force, in words.
  EXPECT_THAT(html, HasSubstr("Hälso- och sjukvården får berätta för skolan "
                              "om behov, styrkor och önskemål och vilken "
                              "hjälp som ges."));
  for (const std::string& number : {child_, g1_, g2_}) {
    EXPECT_THAT(html, Not(HasSubstr(number)));
  }

  // The record is GetPlan's, saying what was made.
  const auto reads = Audit("school-1", v1::AUDIT_ACTION_PLAN_READ);
  ASSERT_THAT(reads, SizeIs(2));
  EXPECT_EQ(reads[1].decision(), v1::DECISION_ALLOW);
  EXPECT_EQ(reads[1].detail(),
            "effective view, revision 4, rendered as HTML (sv)");
  ASSERT_EQ(reads[1].entry_decisions_size(), reads[0].entry_decisions_size());
  for (int i = 0; i < reads[0].entry_decisions_size(); ++i) {
    EXPECT_EQ(reads[1].entry_decisions(i).SerializeAsString(),
              reads[0].entry_decisions(i).SerializeAsString());
  }

  // English on request.
  req.set_language_code("en-GB");
  ASSERT_THAT(Call(&PlanApp::RenderPlan, school_, req, &resp), IsOk());
  EXPECT_EQ(resp.language_code(), "en");
  EXPECT_THAT(resp.content(),
              HasSubstr("Agency bup-1 has information about health that you "
                        "have not agreed to share with Agency school-1."));

  // Bad input names the field and records nothing.
  const int64_t audited = AuditSize();
  req.set_language_code("de");
  ExpectInvalid(&PlanApp::RenderPlan, req, "language_code");
  req.set_language_code("");
  req.set_format(static_cast<v1::DocumentFormat>(99));
  ExpectInvalid(&PlanApp::RenderPlan, req, "format");
  req.set_format(v1::DOCUMENT_FORMAT_HTML);
  req.set_view(static_cast<v1::PlanView>(7));
  ExpectInvalid(&PlanApp::RenderPlan, req, "view");
  req.set_view(v1::PLAN_VIEW_UNSPECIFIED);
  req.set_name("plans/");
  ExpectInvalid(&PlanApp::RenderPlan, req, "name");
  EXPECT_EQ(AuditSize(), audited);
}

// The copy lists only consents that count now: a guardian's grant about a
// child of 15 is on file, active and in its period, but no longer counts.
TEST_F(PlanAppTest, RenderPlanListsOnlyConsentsThatCountNow) {
  const std::string teen = Pnr("20110301", "555");  // 15 since 2026-03-01
  v1::CreatePlanResponse created;
  ASSERT_THAT(Call(&PlanApp::CreatePlan, school_,
                   PlanRequest("teen", teen, {"bup-1"}), &created),
              IsOk());
  InsertGrantFor("gt", teen, g1_);
  v1::RenderPlanRequest req;
  req.set_name(created.plan().name());
  v1::RenderPlanResponse resp;
  ASSERT_THAT(Call(&PlanApp::RenderPlan, school_, req, &resp), IsOk());
  EXPECT_THAT(resp.content(), HasSubstr("Inga samtycken gäller just nu."));
  EXPECT_THAT(resp.content(), Not(HasSubstr("får berätta för")));

  // The same grant about a child of 10 counts.
  const std::string plan = ActivePlan("young");
  InsertGrant("g1", g1_);
  req.set_name(plan);
  ASSERT_THAT(Call(&PlanApp::RenderPlan, school_, req, &resp), IsOk());
  EXPECT_THAT(resp.content(), HasSubstr("Hälso- och sjukvården får berätta "
                                        "för skolan"));
}

// The race the runner must win: a read decides on a snapshot, a guardian
// withdraws before the read's record commits; the read must not rely on
// the withdrawn grant. The hook runs exactly between the two phases.
TEST_F(PlanAppTest, AGrantEndedBeforeTheReadCommitsDeniesTheRead) {
  const std::string plan = ActivePlan("p");
  const std::string interventions =
      AddEntry(bup_, plan, v1::INFORMATION_CATEGORY_INTERVENTIONS,
               v1::ENTRY_KIND_INTERVENTION, "Weekly sessions at BUP", "b1");
  ASSERT_THAT(Approve(plan, 2, {g1_, g2_}, "approve-2"), IsOk());
  InsertGrant("g1", g1_);
  InsertGrant("g2", g2_);
  v1::GetPlanResponse before;
  ASSERT_THAT(Read(school_, plan, &before), IsOk());
  ASSERT_THAT(before.entries(), SizeIs(1)) << "allowed before the race";

  int hooks = 0;
  AppContext racing = ctx_;
  racing.between_phases_for_testing = [&]() {
    ++hooks;
    storage::GrantEnding ending;
    ending.state = v1::GRANT_STATE_WITHDRAWN;
    ending.time = clock_.Now();
    ending.reason = "withdrawn during the read";
    ending.agency = "school-1";
    ending.withdrawer = g2_;
    ASSERT_THAT(store_->Write([&](storage::Transaction& tx) {
      return tx.grants().End("g2", ending);
    }),
                IsOk());
  };
  PlanApp app(racing);
  v1::GetPlanRequest req;
  req.set_name(plan);
  v1::GetPlanResponse resp;
  absl::Notification done;
  absl::Status status;
  app.GetPlan(school_, req, &resp, [&](absl::Status s) {
    status = s;
    done.Notify();
  });
  done.WaitForNotification();
  ASSERT_THAT(status, IsOk());
  EXPECT_EQ(hooks, 1);
  EXPECT_THAT(resp.entries(), IsEmpty());
  ASSERT_THAT(resp.withheld_entries(), SizeIs(1));
  EXPECT_EQ(resp.withheld_entries(0).reason(),
            v1::DECISION_REASON_CONSENT_REVOKED);
  // The record that committed says the same.
  const auto reads = Audit("school-1", v1::AUDIT_ACTION_PLAN_READ);
  const v1::EntryDecision* d = EntryEvent(reads, interventions);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->decision(), v1::DECISION_DENY);
  EXPECT_EQ(d->reason(), v1::DECISION_REASON_CONSENT_REVOKED);
}

// The transaction functions, called directly without threads: a decision
// made on a snapshot records the versions it read, and an ending committed
// after the snapshot makes them stale.
TEST_F(PlanAppTest, ADecisionOnASnapshotKnowsWhatItReadAsTransactionFunctions) {
  const std::string plan = ActivePlan("p");
  AddEntry(bup_, plan, v1::INFORMATION_CATEGORY_INTERVENTIONS,
           v1::ENTRY_KIND_INTERVENTION, "Weekly sessions at BUP", "b1");
  ASSERT_THAT(Approve(plan, 2, {g1_, g2_}, "approve-2"), IsOk());
  InsertGrant("g1", g1_);
  InsertGrant("g2", g2_);
  v1::GetPlanRequest req;
  req.set_name(plan);
  ASSERT_THAT(PlanMethods::kGetPlan.validate(ctx_, school_, req), IsOk());
  v1::GetPlanResponse resp;
  Effects effects;
  ASSERT_THAT(store_->Read([&](storage::Transaction& tx) {
    return PlanMethods::kGetPlan.decide(ctx_, tx, school_, req, clock_.Now(),
                                        &resp, &effects);
  }),
              IsOk());
  EXPECT_THAT(resp.entries(), SizeIs(1));
  ASSERT_TRUE(effects.has_record());
  EXPECT_THAT(effects.record().entry_decisions(), SizeIs(1));
  auto holds = [&]() {
    bool out = false;
    EXPECT_THAT(store_->Read([&](storage::Transaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(out, effects.VersionsHold(tx));
      return absl::OkStatus();
    }),
                IsOk());
    return out;
  };
  EXPECT_TRUE(holds());
  // Consent data of another subject changes nothing for this decision.
  InsertGrantFor("x1", other_child_);
  EXPECT_TRUE(holds());
  storage::GrantEnding ending;
  ending.state = v1::GRANT_STATE_REVOKED;
  ending.time = clock_.Now();
  ASSERT_THAT(store_->Write([&](storage::Transaction& tx) {
    return tx.grants().End("g1", ending);
  }),
              IsOk());
  EXPECT_FALSE(holds());
}

// Worked example 3.
TEST_F(PlanAppTest, Example3OneGuardianOnlyIsGuardianConsentMissing) {
  const std::string plan = ActivePlan("p");
  AddEntry(bup_, plan, v1::INFORMATION_CATEGORY_INTERVENTIONS,
           v1::ENTRY_KIND_INTERVENTION, "Weekly sessions at BUP", "b1");
  InsertGrant("g1", g1_);
  v1::GetPlanResponse resp;
  ASSERT_THAT(Read(school_, plan, &resp, v1::PLAN_VIEW_LATEST), IsOk());
  EXPECT_THAT(resp.entries(), IsEmpty());
  ASSERT_THAT(resp.withheld_entries(), SizeIs(1));
  EXPECT_EQ(resp.withheld_entries(0).reason(),
            v1::DECISION_REASON_GUARDIAN_CONSENT_MISSING);
}

// Worked example 4.
TEST_F(PlanAppTest, Example4WithdrawalDeniesTheNextRead) {
  const std::string plan = ActivePlan("p");
  AddEntry(bup_, plan, v1::INFORMATION_CATEGORY_INTERVENTIONS,
           v1::ENTRY_KIND_INTERVENTION, "Weekly sessions at BUP", "b1");
  InsertGrant("g1", g1_);
  InsertGrant("g2", g2_);
  v1::GetPlanResponse before;
  ASSERT_THAT(Read(school_, plan, &before, v1::PLAN_VIEW_LATEST), IsOk());
  EXPECT_THAT(before.entries(), SizeIs(1));

  Withdraw("g2", g2_);
  clock_.Advance(absl::Minutes(1));
  v1::GetPlanResponse after;
  ASSERT_THAT(Read(school_, plan, &after, v1::PLAN_VIEW_LATEST), IsOk());
  EXPECT_THAT(after.entries(), IsEmpty());
  ASSERT_THAT(after.withheld_entries(), SizeIs(1));
  EXPECT_EQ(after.withheld_entries(0).reason(),
            v1::DECISION_REASON_CONSENT_REVOKED);
}

// Reads parse a plan and a subject's consent once per version: a read
// after any change, by the application or straight to the store, sees it.
TEST_F(PlanAppTest, CachedReadsSeeEveryChangeCommittedSince) {
  const std::string plan = ActivePlan("p");
  AddEntry(bup_, plan, v1::INFORMATION_CATEGORY_INTERVENTIONS,
           v1::ENTRY_KIND_INTERVENTION, "Weekly sessions at BUP", "b1");
  InsertGrant("g1", g1_);
  InsertGrant("g2", g2_);
  v1::GetPlanResponse first;
  ASSERT_THAT(Read(school_, plan, &first, v1::PLAN_VIEW_LATEST), IsOk());
  EXPECT_THAT(first.entries(), SizeIs(1));
  const int64_t hits = cache_.stats().hits;
  v1::GetPlanResponse again;
  ASSERT_THAT(Read(school_, plan, &again, v1::PLAN_VIEW_LATEST), IsOk());
  EXPECT_EQ(again.SerializeAsString(), first.SerializeAsString());
  EXPECT_EQ(cache_.stats().hits, hits + 2);  // the plan and the subject

  // A new entry.
  AddEntry(bup_, plan, v1::INFORMATION_CATEGORY_NEEDS, v1::ENTRY_KIND_NEED,
           "Needs quiet surroundings", "b2");
  v1::GetPlanResponse more;
  ASSERT_THAT(Read(school_, plan, &more, v1::PLAN_VIEW_LATEST), IsOk());
  EXPECT_THAT(more.entries(), SizeIs(2));
  // The effective view is cached apart and still shows revision 1's.
  v1::GetPlanResponse effective;
  ASSERT_THAT(Read(school_, plan, &effective), IsOk());
  EXPECT_EQ(effective.shown_revision(), 1);

  // A grant ended straight in the store.
  Withdraw("g1", g1_);
  v1::GetPlanResponse after;
  ASSERT_THAT(Read(school_, plan, &after, v1::PLAN_VIEW_LATEST), IsOk());
  EXPECT_THAT(after.entries(), IsEmpty());
  EXPECT_THAT(after.withheld_entries(), SizeIs(2));

  // What the cache holds is accounted for.
  const ReadCache::Stats stats = cache_.stats();
  EXPECT_GT(stats.values, 0u);
  EXPECT_GT(stats.bytes, 0u);
}

// Worked example 1: own entries need no consent.
TEST_F(PlanAppTest, OwnEntriesAreAlwaysVisible) {
  const std::string plan = ActivePlan("p");
  const std::string health =
      AddEntry(bup_, plan, v1::INFORMATION_CATEGORY_HEALTH, v1::ENTRY_KIND_NOTE,
               "Diagnosis", "b1");
  v1::GetPlanResponse by_owner;
  ASSERT_THAT(Read(bup_, plan, &by_owner, v1::PLAN_VIEW_LATEST), IsOk());
  ASSERT_THAT(by_owner.entries(), SizeIs(1));
  EXPECT_EQ(by_owner.entries(0).name(), health);
  EXPECT_EQ(by_owner.entries(0).etag(), "2");
  const auto events = Audit("bup-1", v1::AUDIT_ACTION_PLAN_READ);
  ASSERT_THAT(events, SizeIs(1));
  ASSERT_THAT(events[0].entry_decisions(), SizeIs(1));
  EXPECT_EQ(events[0].entry_decisions(0).reason(),
            v1::DECISION_REASON_OWN_AGENCY);

  // Without any grant, another agency gets nothing but the withheld stub.
  v1::GetPlanResponse by_school;
  ASSERT_THAT(Read(school_, plan, &by_school, v1::PLAN_VIEW_LATEST), IsOk());
  EXPECT_THAT(by_school.entries(), IsEmpty());
  ASSERT_THAT(by_school.withheld_entries(), SizeIs(1));
  EXPECT_EQ(by_school.withheld_entries(0).reason(),
            v1::DECISION_REASON_NO_CONSENT);
}

TEST_F(PlanAppTest, EffectiveViewShowsTheApprovedRevisionLatestShowsMore) {
  const std::string plan = ActivePlan("p");
  const std::string entry =
      AddEntry(school_, plan, v1::INFORMATION_CATEGORY_NEEDS,
               v1::ENTRY_KIND_NEED, "Needs a quiet place", "s1");

  v1::GetPlanResponse effective;
  ASSERT_THAT(Read(school_, plan, &effective), IsOk());
  EXPECT_EQ(effective.shown_revision(), 1);
  EXPECT_EQ(effective.plan().revision(), 2);
  EXPECT_EQ(effective.plan().effective_revision(), 1);
  EXPECT_THAT(effective.entries(), IsEmpty());
  EXPECT_THAT(effective.approvals(), SizeIs(2));

  v1::GetPlanResponse latest;
  ASSERT_THAT(Read(school_, plan, &latest, v1::PLAN_VIEW_LATEST), IsOk());
  EXPECT_EQ(latest.shown_revision(), 2);
  ASSERT_THAT(latest.entries(), SizeIs(1));
  EXPECT_EQ(latest.entries(0).name(), entry);

  ASSERT_THAT(Approve(plan, 2, {g1_, g2_}, "a2"), IsOk());
  ASSERT_THAT(Read(school_, plan, &effective), IsOk());
  EXPECT_EQ(effective.shown_revision(), 2);
  EXPECT_THAT(effective.entries(), SizeIs(1));
  // Only the approvals of the effective revision.
  EXPECT_THAT(effective.approvals(), SizeIs(2));
  for (const v1::Approval& a : effective.approvals()) {
    EXPECT_EQ(a.revision(), 2);
  }
}

// ------------------------------------------------------------- bad input

TEST_F(PlanAppTest, BadInputOnEveryMethodNamesTheFieldAndStoresNothing) {
  const std::string plan = ActivePlan("p");
  const std::string entry =
      AddEntry(school_, plan, v1::INFORMATION_CATEGORY_NEEDS,
               v1::ENTRY_KIND_NEED, "Needs a quiet place", "s1");
  const int64_t audited = AuditSize();
  const size_t plans = PlanCount("school-1");
  const int64_t revision = Stored(plan).revision();

  // CreatePlan.
  const v1::CreatePlanRequest create = PlanRequest("bad-1", child_, {"bup-1"});
  {
    v1::CreatePlanRequest r = create;
    r.clear_request_id();
    ExpectInvalid(&PlanApp::CreatePlan, r, "request_id");
  }
  {
    v1::CreatePlanRequest r = create;
    r.mutable_plan()->set_subject(WrongCheckDigit(child_));
    ExpectInvalid(&PlanApp::CreatePlan, r, "plan.subject");
  }
  {
    v1::CreatePlanRequest r = create;
    r.mutable_plan()->set_subject(Pnr("20300101", "123"));  // not yet born
    ExpectInvalid(&PlanApp::CreatePlan, r, "plan.subject");
  }
  {
    v1::CreatePlanRequest r = create;
    r.mutable_plan()->mutable_review_dates(0)->set_kind(
        v1::REVIEW_KIND_UNSPECIFIED);
    ExpectInvalid(&PlanApp::CreatePlan, r, "plan.review_dates[0].kind");
  }
  {
    v1::CreatePlanRequest r = create;
    *r.mutable_plan()->mutable_review_dates(1)->mutable_date() =
        Day(2027, 2, 30);
    ExpectInvalid(&PlanApp::CreatePlan, r, "plan.review_dates[1].date");
  }
  {
    v1::CreatePlanRequest r = create;
    r.mutable_plan()->mutable_coordinator()->set_email("no-at-sign");
    ExpectInvalid(&PlanApp::CreatePlan, r, "plan.coordinator.email");
  }
  {
    v1::CreatePlanRequest r = create;
    r.mutable_participants(0)->set_agency("agencies/BUP");
    ExpectInvalid(&PlanApp::CreatePlan, r, "participants[0].agency");
  }
  {
    v1::CreatePlanRequest r = create;
    r.mutable_participants(0)->set_agency("agencies/school-1");
    ExpectInvalid(&PlanApp::CreatePlan, r, "participants[0].agency");
  }
  {
    v1::CreatePlanRequest r = create;
    r.mutable_participants(1)->clear_display_name();
    ExpectInvalid(&PlanApp::CreatePlan, r, "participants[1].display_name");
  }
  {
    v1::CreatePlanRequest r = create;
    r.mutable_participants(1)->set_kind(v1::PARTICIPANT_KIND_UNSPECIFIED);
    ExpectInvalid(&PlanApp::CreatePlan, r, "participants[1].kind");
  }

  // GetPlan, ListPlans, SearchPlans.
  {
    v1::GetPlanRequest r;
    r.set_name("plan/x");
    ExpectInvalid(&PlanApp::GetPlan, r, "name");
  }
  {
    v1::ListPlansRequest r;
    r.set_page_size(-1);
    ExpectInvalid(&PlanApp::ListPlans, r, "page_size");
  }
  {
    v1::ListPlansRequest r;
    r.set_state(static_cast<v1::PlanState>(99));
    ExpectInvalid(&PlanApp::ListPlans, r, "state");
  }
  {
    v1::ListPlansRequest r;
    r.set_page_token("garbage");
    ExpectInvalid(&PlanApp::ListPlans, r, "page_token");
  }
  {
    v1::SearchPlansRequest r;
    r.set_subject(WrongCheckDigit(child_));
    ExpectInvalid(&PlanApp::SearchPlans, r, "subject");
  }

  // UpdatePlan.
  v1::UpdatePlanRequest update;
  update.set_request_id("bad-2");
  update.mutable_plan()->set_name(plan);
  *update.mutable_plan()->mutable_review_dates() = create.plan().review_dates();
  update.mutable_update_mask()->add_paths("review_dates");
  {
    v1::UpdatePlanRequest r = update;
    r.mutable_plan()->clear_name();
    ExpectInvalid(&PlanApp::UpdatePlan, r, "plan.name");
  }
  {
    v1::UpdatePlanRequest r = update;
    r.clear_update_mask();
    ExpectInvalid(&PlanApp::UpdatePlan, r, "update_mask");
  }
  {
    v1::UpdatePlanRequest r = update;
    r.mutable_update_mask()->add_paths("subject");
    ExpectInvalid(&PlanApp::UpdatePlan, r, "update_mask");
  }
  {
    v1::UpdatePlanRequest r = update;
    r.mutable_plan()->mutable_review_dates(0)->set_kind(
        v1::REVIEW_KIND_UNSPECIFIED);
    ExpectInvalid(&PlanApp::UpdatePlan, r, "plan.review_dates[0].kind");
  }

  // ApprovePlan.
  const v1::ApprovePlanRequest approve =
      ApproveRequest(plan, 2, {g1_, g2_}, "bad-3");
  {
    v1::ApprovePlanRequest r = approve;
    r.set_revision(0);
    ExpectInvalid(&PlanApp::ApprovePlan, r, "revision");
  }
  {
    v1::ApprovePlanRequest r = approve;
    r.clear_approvals();
    ExpectInvalid(&PlanApp::ApprovePlan, r, "approvals");
  }
  {
    v1::ApprovePlanRequest r = approve;
    r.mutable_approvals(0)->clear_evidence();
    ExpectInvalid(&PlanApp::ApprovePlan, r, "approvals[0].evidence.kind");
  }
  {
    v1::ApprovePlanRequest r = approve;
    r.mutable_approvals(1)->set_approver_identity_number("12345");
    ExpectInvalid(&PlanApp::ApprovePlan, r,
                  "approvals[1].approver_identity_number");
  }

  // ClosePlan.
  v1::ClosePlanRequest close;
  close.set_request_id("bad-4");
  close.set_name(plan);
  close.set_closed_by(v1::PLAN_CLOSED_BY_GUARDIAN);
  close.set_closer_identity_number(g1_);
  close.set_reason("The family ends the plan");
  close.mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
  {
    v1::ClosePlanRequest r = close;
    r.set_closed_by(v1::PLAN_CLOSED_BY_UNSPECIFIED);
    ExpectInvalid(&PlanApp::ClosePlan, r, "closed_by");
  }
  {
    v1::ClosePlanRequest r = close;
    r.clear_reason();
    ExpectInvalid(&PlanApp::ClosePlan, r, "reason");
  }
  {
    v1::ClosePlanRequest r = close;
    r.clear_closer_identity_number();
    ExpectInvalid(&PlanApp::ClosePlan, r, "closer_identity_number");
  }
  {
    v1::ClosePlanRequest r = close;
    r.clear_evidence();
    ExpectInvalid(&PlanApp::ClosePlan, r, "evidence.kind");
  }

  // CreateEntry.
  const v1::CreateEntryRequest write =
      EntryRequest(school_, plan, v1::INFORMATION_CATEGORY_INTERVENTIONS,
                   v1::ENTRY_KIND_INTERVENTION, "Reading support", "bad-5");
  {
    v1::CreateEntryRequest r = write;
    r.set_parent("plans/");
    ExpectInvalid(&PlanApp::CreateEntry, r, "parent");
  }
  {
    v1::CreateEntryRequest r = write;
    r.mutable_entry()->set_category(v1::INFORMATION_CATEGORY_UNSPECIFIED);
    ExpectInvalid(&PlanApp::CreateEntry, r, "entry.category");
  }
  {
    v1::CreateEntryRequest r = write;
    r.mutable_entry()->clear_text();
    ExpectInvalid(&PlanApp::CreateEntry, r, "entry.text");
  }
  {
    v1::CreateEntryRequest r = write;
    r.mutable_entry()->clear_intervention();
    ExpectInvalid(&PlanApp::CreateEntry, r, "entry.intervention");
  }
  {
    v1::CreateEntryRequest r = write;
    *r.mutable_entry()->mutable_intervention()->mutable_end_date() =
        Day(2026, 8, 1);
    ExpectInvalid(&PlanApp::CreateEntry, r, "entry.intervention.end_date");
  }

  // UpdateEntry and DeleteEntry.
  v1::UpdateEntryRequest change;
  change.set_request_id("bad-6");
  change.mutable_entry()->set_name(entry);
  change.mutable_entry()->set_text("Needs a quiet place to read");
  change.mutable_update_mask()->add_paths("text");
  {
    v1::UpdateEntryRequest r = change;
    r.mutable_entry()->set_name(plan);
    ExpectInvalid(&PlanApp::UpdateEntry, r, "entry.name");
  }
  {
    v1::UpdateEntryRequest r = change;
    r.mutable_update_mask()->add_paths("owner_agency");
    ExpectInvalid(&PlanApp::UpdateEntry, r, "update_mask");
  }
  {
    v1::UpdateEntryRequest r = change;
    r.mutable_entry()->clear_text();
    ExpectInvalid(&PlanApp::UpdateEntry, r, "entry.text");
  }
  {
    v1::DeleteEntryRequest r;
    r.set_name(entry);
    ExpectInvalid(&PlanApp::DeleteEntry, r, "request_id");
    r.set_request_id("bad-7");
    r.set_name(plan + "/entries/");
    ExpectInvalid(&PlanApp::DeleteEntry, r, "name");
  }

  // AddParticipant and RemoveParticipant.
  {
    v1::AddParticipantRequest r;
    r.set_request_id("bad-8");
    r.set_parent(plan);
    r.mutable_participant()->set_agency("agencies/soc-1");
    ExpectInvalid(&PlanApp::AddParticipant, r, "participant.kind");
    r.mutable_participant()->set_kind(v1::PARTICIPANT_KIND_AGENCY);
    r.set_parent("soc-1");
    ExpectInvalid(&PlanApp::AddParticipant, r, "parent");
  }
  {
    v1::RemoveParticipantRequest r;
    r.set_request_id("bad-9");
    r.set_name(entry);  // an entry, not a participant
    ExpectInvalid(&PlanApp::RemoveParticipant, r, "name");
  }

  // ListUpcomingReviews.
  {
    v1::ListUpcomingReviewsRequest r;
    ExpectInvalid(&PlanApp::ListUpcomingReviews, r, "start_date");
    *r.mutable_start_date() = Day(2026, 6, 1);
    *r.mutable_end_date() = Day(2026, 5, 1);
    ExpectInvalid(&PlanApp::ListUpcomingReviews, r, "end_date");
    *r.mutable_end_date() = Day(2027, 6, 30);
    ExpectInvalid(&PlanApp::ListUpcomingReviews, r, "end_date");
  }

  EXPECT_EQ(AuditSize(), audited);
  EXPECT_EQ(PlanCount("school-1"), plans);
  EXPECT_EQ(Stored(plan).revision(), revision);
}

// --------------------------------------------------------- writes, rules

TEST_F(PlanAppTest, OnlyTheOwnerAgencyChangesAnEntry) {
  const std::string plan = ActivePlan("p");
  const std::string entry =
      AddEntry(school_, plan, v1::INFORMATION_CATEGORY_NEEDS,
               v1::ENTRY_KIND_NEED, "Needs a quiet place", "s1");  // rev 2

  v1::UpdateEntryRequest update;
  update.set_request_id("u1");
  update.mutable_entry()->set_name(entry);
  update.mutable_entry()->set_text("Needs a quiet place to read");
  update.mutable_update_mask()->add_paths("text");
  v1::UpdateEntryResponse updated;
  const absl::Status by_bup =
      Call(&PlanApp::UpdateEntry, bup_, update, &updated);
  EXPECT_THAT(by_bup, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ReasonOf(by_bup), "NOT_OWNER");

  v1::DeleteEntryRequest del;
  del.set_request_id("d1");
  del.set_name(entry);
  v1::DeleteEntryResponse deleted;
  const absl::Status delete_by_bup =
      Call(&PlanApp::DeleteEntry, bup_, del, &deleted);
  EXPECT_EQ(ReasonOf(delete_by_bup), "NOT_OWNER");
  EXPECT_EQ(Stored(plan).revision(), 2);

  // A stale etag.
  update.set_request_id("u2");
  update.mutable_entry()->set_etag("1");
  const absl::Status stale =
      Call(&PlanApp::UpdateEntry, school_, update, &updated);
  EXPECT_THAT(stale, StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(ReasonOf(stale), "ETAG_MISMATCH");

  // The owner with the current etag.
  update.set_request_id("u3");
  update.mutable_entry()->set_etag("2");
  ASSERT_THAT(Call(&PlanApp::UpdateEntry, school_, update, &updated), IsOk());
  EXPECT_EQ(updated.entry().name(), entry);
  EXPECT_EQ(updated.entry().text(), "Needs a quiet place to read");
  EXPECT_EQ(updated.entry().category(), v1::INFORMATION_CATEGORY_NEEDS);
  EXPECT_EQ(updated.entry().revision(), 3);
  EXPECT_EQ(updated.entry().etag(), "3");
  EXPECT_EQ(updated.entry().owner_agency(), "agencies/school-1");
  EXPECT_EQ(Stored(plan).revision(), 3);

  del.set_request_id("d2");
  ASSERT_THAT(Call(&PlanApp::DeleteEntry, school_, del, &deleted), IsOk());
  EXPECT_TRUE(deleted.entry().deleted());
  EXPECT_EQ(deleted.entry().revision(), 4);
  EXPECT_THAT(Audit("school-1", v1::AUDIT_ACTION_ENTRY_DELETED), SizeIs(1));
  EXPECT_THAT(Audit("school-1", v1::AUDIT_ACTION_ENTRY_WRITTEN), SizeIs(2));

  update.set_request_id("u4");
  update.mutable_entry()->clear_etag();
  const absl::Status gone =
      Call(&PlanApp::UpdateEntry, school_, update, &updated);
  EXPECT_THAT(gone, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ReasonOf(gone), "ENTRY_DELETED");

  // The deletion hides the entry from revision 4 on; revision 3 keeps it.
  v1::GetPlanResponse read;
  ASSERT_THAT(Read(school_, plan, &read, v1::PLAN_VIEW_LATEST), IsOk());
  EXPECT_THAT(read.entries(), IsEmpty());
}

TEST_F(PlanAppTest, OnlyTheLeadAgencyChangesThePlan) {
  const std::string plan = ActivePlan("p");

  v1::UpdatePlanRequest update;
  update.set_request_id("x1");
  update.mutable_plan()->set_name(plan);
  update.mutable_update_mask()->add_paths("review_dates");
  v1::UpdatePlanResponse updated;
  const absl::Status s1 = Call(&PlanApp::UpdatePlan, bup_, update, &updated);
  EXPECT_THAT(s1, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ReasonOf(s1), "NOT_LEAD_AGENCY");

  v1::ApprovePlanResponse approved;
  const absl::Status s2 =
      Call(&PlanApp::ApprovePlan, bup_,
           ApproveRequest(plan, 1, {g1_, g2_}, "x2"), &approved);
  EXPECT_EQ(ReasonOf(s2), "NOT_LEAD_AGENCY");

  v1::ClosePlanRequest close;
  close.set_request_id("x3");
  close.set_name(plan);
  close.set_closed_by(v1::PLAN_CLOSED_BY_AGENCIES);
  close.set_reason("No longer needed");
  v1::ClosePlanResponse closed;
  const absl::Status s3 = Call(&PlanApp::ClosePlan, bup_, close, &closed);
  EXPECT_EQ(ReasonOf(s3), "NOT_LEAD_AGENCY");

  v1::AddParticipantRequest add;
  add.set_request_id("x4");
  add.set_parent(plan);
  add.mutable_participant()->set_kind(v1::PARTICIPANT_KIND_AGENCY);
  add.mutable_participant()->set_agency("agencies/soc-1");
  v1::AddParticipantResponse added;
  const absl::Status s4 = Call(&PlanApp::AddParticipant, bup_, add, &added);
  EXPECT_THAT(s4, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ReasonOf(s4), "NOT_LEAD_AGENCY");

  EXPECT_EQ(Stored(plan).revision(), 1);
  EXPECT_EQ(Stored(plan).state(), v1::PLAN_STATE_ACTIVE);
}

TEST_F(PlanAppTest, UpdatePlanMakesARevisionThatAwaitsApproval) {
  const std::string plan = ActivePlan("p");
  v1::UpdatePlanRequest update;
  update.set_request_id("up1");
  update.mutable_plan()->set_name(plan);
  update.mutable_plan()->set_etag("1");
  v1::ReviewDate* moved = update.mutable_plan()->add_review_dates();
  moved->set_kind(v1::REVIEW_KIND_FOLLOW_UP);
  *moved->mutable_date() = Day(2026, 10, 1);
  moved->set_description("moved follow-up");
  update.mutable_update_mask()->add_paths("review_dates");
  v1::UpdatePlanResponse updated;
  ASSERT_THAT(Call(&PlanApp::UpdatePlan, school_, update, &updated), IsOk());
  EXPECT_EQ(updated.plan().revision(), 2);
  EXPECT_EQ(updated.plan().etag(), "2");
  EXPECT_EQ(updated.plan().effective_revision(), 1);
  EXPECT_EQ(updated.plan().state(), v1::PLAN_STATE_ACTIVE);
  ASSERT_THAT(updated.plan().review_dates(), SizeIs(1));
  EXPECT_EQ(updated.plan().coordinator().display_name(), "Anna Samordnare");

  update.set_request_id("up2");
  const absl::Status stale =
      Call(&PlanApp::UpdatePlan, school_, update, &updated);
  EXPECT_THAT(stale, StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(ReasonOf(stale), "ETAG_MISMATCH");

  v1::GetPlanResponse effective;
  ASSERT_THAT(Read(school_, plan, &effective), IsOk());
  EXPECT_EQ(effective.shown_revision(), 1);
  EXPECT_EQ(effective.plan().revision(), 2);
  EXPECT_THAT(effective.plan().review_dates(), SizeIs(2));
  v1::GetPlanResponse latest;
  ASSERT_THAT(Read(school_, plan, &latest, v1::PLAN_VIEW_LATEST), IsOk());
  EXPECT_THAT(latest.plan().review_dates(), SizeIs(1));

  // A coordinator field on its own.
  v1::UpdatePlanRequest phone;
  phone.set_request_id("up3");
  phone.mutable_plan()->set_name(plan);
  phone.mutable_plan()->mutable_coordinator()->set_phone("08-123 456");
  phone.mutable_update_mask()->add_paths("coordinator.phone");
  ASSERT_THAT(Call(&PlanApp::UpdatePlan, school_, phone, &updated), IsOk());
  EXPECT_EQ(updated.plan().revision(), 3);
  EXPECT_EQ(updated.plan().coordinator().phone(), "08-123 456");
  EXPECT_EQ(updated.plan().coordinator().display_name(), "Anna Samordnare");
  EXPECT_THAT(Audit("school-1", v1::AUDIT_ACTION_PLAN_UPDATED), SizeIs(2));

  ASSERT_THAT(Approve(plan, 3, {g1_, g2_}, "a3"), IsOk());
  EXPECT_EQ(Stored(plan).effective_revision(), 3);
}

TEST_F(PlanAppTest, ClosedPlanIsReadableButNotChangeable) {
  const std::string plan = ActivePlan("p");
  AddEntry(school_, plan, v1::INFORMATION_CATEGORY_NEEDS, v1::ENTRY_KIND_NEED,
           "Needs a quiet place", "s1");

  v1::ClosePlanRequest close;
  close.set_request_id("c1");
  close.set_name(plan);
  close.set_closed_by(v1::PLAN_CLOSED_BY_GUARDIAN);
  close.set_closer_identity_number(g1_);
  close.set_reason("The family ends the plan");
  close.mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
  close.mutable_evidence()->set_reference("form 20");
  v1::ClosePlanResponse closed;
  ASSERT_THAT(Call(&PlanApp::ClosePlan, school_, close, &closed), IsOk());
  EXPECT_EQ(closed.plan().state(), v1::PLAN_STATE_CLOSED);
  EXPECT_EQ(closed.plan().revision(), 3);
  EXPECT_TRUE(closed.plan().has_close_time());
  EXPECT_EQ(closed.plan().closed_by(), v1::PLAN_CLOSED_BY_GUARDIAN);
  EXPECT_EQ(closed.plan().closer_identity_number(), g1_);
  EXPECT_THAT(Audit("school-1", v1::AUDIT_ACTION_PLAN_CLOSED), SizeIs(1));

  auto expect_closed = [](const absl::Status& s) {
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_EQ(ReasonOf(s), "PLAN_CLOSED");
  };
  v1::CreateEntryResponse entry;
  expect_closed(Call(&PlanApp::CreateEntry, school_,
                     EntryRequest(school_, plan, v1::INFORMATION_CATEGORY_NEEDS,
                                  v1::ENTRY_KIND_NOTE, "late note", "s2"),
                     &entry));
  v1::UpdatePlanRequest update;
  update.set_request_id("u1");
  update.mutable_plan()->set_name(plan);
  update.mutable_update_mask()->add_paths("review_dates");
  v1::UpdatePlanResponse updated;
  expect_closed(Call(&PlanApp::UpdatePlan, school_, update, &updated));
  close.set_request_id("c2");
  expect_closed(Call(&PlanApp::ClosePlan, school_, close, &closed));
  expect_closed(Approve(plan, 3, {g1_, g2_}, "a3"));
  v1::AddParticipantRequest add;
  add.set_request_id("x1");
  add.set_parent(plan);
  add.mutable_participant()->set_kind(v1::PARTICIPANT_KIND_AGENCY);
  add.mutable_participant()->set_agency("agencies/soc-1");
  v1::AddParticipantResponse added;
  expect_closed(Call(&PlanApp::AddParticipant, school_, add, &added));
  EXPECT_EQ(Stored(plan).revision(), 3);

  // Still readable by its participants, with the close recorded.
  v1::GetPlanResponse read;
  ASSERT_THAT(Read(bup_, plan, &read), IsOk());
  EXPECT_EQ(read.plan().state(), v1::PLAN_STATE_CLOSED);
  EXPECT_EQ(read.plan().close_reason(), "The family ends the plan");
  EXPECT_EQ(read.shown_revision(), 1);
}

TEST_F(PlanAppTest, ParticipantsAreAddedAndRemovedByTheLead) {
  const std::string plan = ActivePlan("p");
  v1::AddParticipantRequest add;
  add.set_request_id("ap1");
  add.set_parent(plan);
  add.mutable_participant()->set_kind(v1::PARTICIPANT_KIND_AGENCY);
  add.mutable_participant()->set_agency("agencies/soc-1");
  add.mutable_participant()->set_role_note("social worker");
  v1::AddParticipantResponse added;
  ASSERT_THAT(Call(&PlanApp::AddParticipant, school_, add, &added), IsOk());
  EXPECT_THAT(added.participant().name(), StartsWith(plan + "/participants/"));
  EXPECT_EQ(added.participant().display_name(), "Agency soc-1");
  EXPECT_TRUE(added.participant().has_invite_time());
  EXPECT_THAT(Audit("school-1", v1::AUDIT_ACTION_PARTICIPANT_ADDED), SizeIs(1));

  v1::GetPlanResponse read;
  ASSERT_THAT(Read(soc_, plan, &read), IsOk());

  add.set_request_id("ap2");
  const absl::Status again =
      Call(&PlanApp::AddParticipant, school_, add, &added);
  EXPECT_THAT(again, StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(ReasonOf(again), "ALREADY_EXISTS");
  add.set_request_id("ap3");
  add.mutable_participant()->set_agency("agencies/school-1");
  EXPECT_THAT(Call(&PlanApp::AddParticipant, school_, add, &added),
              StatusIs(absl::StatusCode::kAlreadyExists));
  add.set_request_id("ap4");
  add.mutable_participant()->set_agency("agencies/ghost");
  const absl::Status ghost =
      Call(&PlanApp::AddParticipant, school_, add, &added);
  EXPECT_EQ(ReasonOf(ghost), "UNKNOWN_REFERENCED_AGENCY");
  EXPECT_EQ(FieldOf(ghost), "participant.agency");

  // Remove social services: it loses sight of the plan.
  ASSERT_THAT(Read(school_, plan, &read), IsOk());
  std::string soc_participant;
  std::string lead_participant;
  for (const v1::Participant& p : read.participants()) {
    if (p.agency() == "agencies/soc-1") soc_participant = p.name();
    if (p.agency() == "agencies/school-1") lead_participant = p.name();
  }
  ASSERT_FALSE(soc_participant.empty());
  ASSERT_FALSE(lead_participant.empty());
  v1::RemoveParticipantRequest remove;
  remove.set_request_id("rp1");
  remove.set_name(soc_participant);
  remove.set_reason("no longer involved");
  v1::RemoveParticipantResponse removed;
  ASSERT_THAT(Call(&PlanApp::RemoveParticipant, school_, remove, &removed),
              IsOk());
  EXPECT_TRUE(removed.participant().has_remove_time());
  EXPECT_THAT(Read(soc_, plan, &read), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(Audit("school-1", v1::AUDIT_ACTION_PARTICIPANT_REMOVED),
              SizeIs(1));

  remove.set_request_id("rp2");
  const absl::Status twice =
      Call(&PlanApp::RemoveParticipant, school_, remove, &removed);
  EXPECT_THAT(twice, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ReasonOf(twice), "PARTICIPANT_REMOVED");

  remove.set_request_id("rp3");
  remove.set_name(lead_participant);
  const absl::Status lead =
      Call(&PlanApp::RemoveParticipant, school_, remove, &removed);
  EXPECT_EQ(ReasonOf(lead), "PARTICIPANT_REQUIRED");

  remove.set_request_id("rp4");
  remove.set_name(plan + "/participants/nope");
  const absl::Status unknown =
      Call(&PlanApp::RemoveParticipant, school_, remove, &removed);
  EXPECT_THAT(unknown, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(ReasonOf(unknown), "NOT_FOUND");
}

// --------------------------------------------------------------- listing

TEST_F(PlanAppTest, ListPlansPagesAndNeverShowsAnotherAgencysDraft) {
  const std::string p1 = NewPlan(school_, "r1");
  const std::string p2 = NewPlan(school_, "r2");
  const std::string p3 = NewPlan(school_, "r3");
  // A draft of bup-1 that school-1 is invited to.
  const std::string theirs = NewPlan(bup_, "b1", {"school-1"});

  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    v1::ListPlansRequest req;
    req.set_page_size(1);
    req.set_page_token(token);
    v1::ListPlansResponse resp;
    ASSERT_THAT(Call(&PlanApp::ListPlans, school_, req, &resp), IsOk());
    ASSERT_THAT(resp.plans(), SizeIs(1));
    EXPECT_EQ(resp.plans(0).etag(), "1");
    seen.push_back(resp.plans(0).name());
    token = resp.next_page_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_THAT(seen, UnorderedElementsAre(p1, p2, p3));
  EXPECT_THAT(Audit("school-1", v1::AUDIT_ACTION_PLANS_LISTED), SizeIs(3));

  // A token only works for the agency and filter it was made for.
  v1::ListPlansRequest first;
  first.set_page_size(1);
  v1::ListPlansResponse page;
  ASSERT_THAT(Call(&PlanApp::ListPlans, school_, first, &page), IsOk());
  v1::ListPlansRequest other_filter = first;
  other_filter.set_page_token(page.next_page_token());
  other_filter.set_state(v1::PLAN_STATE_ACTIVE);
  const absl::Status bad =
      Call(&PlanApp::ListPlans, school_, other_filter, &page);
  EXPECT_THAT(bad, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(ReasonOf(bad), "INVALID_PAGE_TOKEN");

  // bup-1 sees its own draft only, not the three drafts it is invited to.
  v1::ListPlansResponse by_bup;
  ASSERT_THAT(Call(&PlanApp::ListPlans, bup_, v1::ListPlansRequest(), &by_bup),
              IsOk());
  ASSERT_THAT(by_bup.plans(), SizeIs(1));
  EXPECT_EQ(by_bup.plans(0).name(), theirs);
  EXPECT_TRUE(by_bup.next_page_token().empty());

  // Once approved, a plan shows to its participants.
  ASSERT_THAT(Approve(p2, 1, {g1_, g2_}, "a2"), IsOk());
  ASSERT_THAT(Call(&PlanApp::ListPlans, bup_, v1::ListPlansRequest(), &by_bup),
              IsOk());
  EXPECT_THAT(by_bup.plans(), SizeIs(2));
  v1::ListPlansRequest active;
  active.set_state(v1::PLAN_STATE_ACTIVE);
  v1::ListPlansResponse active_plans;
  ASSERT_THAT(Call(&PlanApp::ListPlans, bup_, active, &active_plans), IsOk());
  ASSERT_THAT(active_plans.plans(), SizeIs(1));
  EXPECT_EQ(active_plans.plans(0).name(), p2);
}

TEST_F(PlanAppTest, SearchPlansBySubjectWithTokensFreeOfIdentityNumbers) {
  const std::string p1 = NewPlan(school_, "r1");
  const std::string p2 = NewPlan(school_, "r2");
  NewPlan(school_, "r3", {"bup-1"}, other_child_);

  v1::SearchPlansRequest req;
  req.set_subject(child_);
  req.set_page_size(1);
  v1::SearchPlansResponse first;
  ASSERT_THAT(Call(&PlanApp::SearchPlans, school_, req, &first), IsOk());
  ASSERT_THAT(first.plans(), SizeIs(1));
  const std::string token = first.next_page_token();
  ASSERT_FALSE(token.empty());
  std::string raw;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(token, &raw));
  for (const std::string& text : {token, raw}) {
    EXPECT_THAT(text, Not(HasSubstr(child_)));
    EXPECT_THAT(text, Not(HasSubstr(child_.substr(2))));
  }

  req.set_page_token(token);
  v1::SearchPlansResponse second;
  ASSERT_THAT(Call(&PlanApp::SearchPlans, school_, req, &second), IsOk());
  ASSERT_THAT(second.plans(), SizeIs(1));
  EXPECT_TRUE(second.next_page_token().empty());
  EXPECT_THAT(
      (std::vector<std::string>{first.plans(0).name(), second.plans(0).name()}),
      UnorderedElementsAre(p1, p2));
  EXPECT_EQ(first.plans(0).subject(), child_);
  EXPECT_EQ(second.plans(0).subject(), child_);

  // The token does not carry over to another subject.
  req.set_subject(other_child_);
  const absl::Status other = Call(&PlanApp::SearchPlans, school_, req, &second);
  EXPECT_EQ(ReasonOf(other), "INVALID_PAGE_TOKEN");

  // Each search is logged with the subject searched for.
  storage::AuditQuery query;
  query.subject = child_;
  query.action = v1::AUDIT_ACTION_PLANS_LISTED;
  std::vector<v1::AuditEvent> searches;
  ASSERT_THAT(store_->Read([&](storage::Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(searches, tx.audit().Query(query));
    return absl::OkStatus();
  }),
              IsOk());
  EXPECT_THAT(searches, SizeIs(2));

  // Drafts of school-1 are not found by bup-1.
  v1::SearchPlansRequest by_bup;
  by_bup.set_subject(child_);
  v1::SearchPlansResponse none;
  ASSERT_THAT(Call(&PlanApp::SearchPlans, bup_, by_bup, &none), IsOk());
  EXPECT_THAT(none.plans(), IsEmpty());
}

TEST_F(PlanAppTest, ListUpcomingReviewsWithinTheRange) {
  const std::string p1 = ActivePlan("a");
  const std::string p2 = ActivePlan("b");
  NewPlan(school_, "c");  // a draft: its dates are not agreed yet

  v1::ListUpcomingReviewsRequest req;
  *req.mutable_start_date() = Day(2026, 6, 1);
  *req.mutable_end_date() = Day(2026, 12, 31);
  v1::ListUpcomingReviewsResponse resp;
  ASSERT_THAT(Call(&PlanApp::ListUpcomingReviews, school_, req, &resp), IsOk());
  ASSERT_THAT(resp.reviews(), SizeIs(2));
  EXPECT_EQ(resp.reviews(0).plan(), p1);
  EXPECT_EQ(resp.reviews(1).plan(), p2);
  EXPECT_EQ(resp.reviews(0).subject(), child_);
  EXPECT_EQ(resp.reviews(0).lead_agency(), "agencies/school-1");
  EXPECT_EQ(resp.reviews(0).review().kind(), v1::REVIEW_KIND_FOLLOW_UP);
  EXPECT_EQ(resp.reviews(0).review().date().month(), 9);
  EXPECT_TRUE(resp.next_page_token().empty());

  // By kind.
  v1::ListUpcomingReviewsRequest evaluations = req;
  *evaluations.mutable_end_date() = Day(2027, 5, 31);
  evaluations.set_kind(v1::REVIEW_KIND_EVALUATION);
  ASSERT_THAT(Call(&PlanApp::ListUpcomingReviews, school_, evaluations, &resp),
              IsOk());
  ASSERT_THAT(resp.reviews(), SizeIs(2));
  for (const v1::UpcomingReview& r : resp.reviews()) {
    EXPECT_EQ(r.review().kind(), v1::REVIEW_KIND_EVALUATION);
  }

  // Paged, ordered by date, then plan.
  v1::ListUpcomingReviewsRequest paged = req;
  *paged.mutable_end_date() = Day(2027, 5, 31);
  paged.set_page_size(1);
  std::vector<std::pair<int, std::string>> order;
  int pages = 0;
  do {
    v1::ListUpcomingReviewsResponse page;
    ASSERT_THAT(Call(&PlanApp::ListUpcomingReviews, school_, paged, &page),
                IsOk());
    ASSERT_THAT(page.reviews(), SizeIs(1));
    order.emplace_back(page.reviews(0).review().date().year(),
                       page.reviews(0).plan());
    paged.set_page_token(page.next_page_token());
    ++pages;
  } while (!paged.page_token().empty() && pages < 10);
  EXPECT_THAT(order, ElementsAre(std::pair{2026, p1}, std::pair{2026, p2},
                                 std::pair{2027, p1}, std::pair{2027, p2}));

  // Participants see the reviews of the plans they take part in; others none.
  v1::ListUpcomingReviewsResponse by_bup;
  ASSERT_THAT(Call(&PlanApp::ListUpcomingReviews, bup_, req, &by_bup), IsOk());
  EXPECT_THAT(by_bup.reviews(), SizeIs(2));
  v1::ListUpcomingReviewsResponse by_soc;
  ASSERT_THAT(Call(&PlanApp::ListUpcomingReviews, soc_, req, &by_soc), IsOk());
  EXPECT_THAT(by_soc.reviews(), IsEmpty());
  EXPECT_THAT(Audit("soc-1", v1::AUDIT_ACTION_PLANS_LISTED), SizeIs(1));
}

}  // namespace
}  // namespace samplan::app
