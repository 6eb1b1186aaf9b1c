// The storage conformance suite: every behaviour of storage::Store that the
// application relies on, run against every backend. A behaviour exists on
// each backend or this suite fails. Backend-specific behaviour (files,
// connections, migrations) is tested beside each backend.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "audit/leaf.h"
#include "audit/merkle.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "common/status_matchers.h"
#include "storage/postgres_store.h"
#include "storage/postgres_test_server.h"
#include "storage/sqlite_store.h"
#include "storage/store.h"
#include "storage/store_test_util.h"

namespace samplan::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// PostgreSQL, started on first use by this test process (each test runs in
// a process of its own under ctest) and stopped when the tests end.
class PostgresEnvironment : public ::testing::Environment {
 public:
  static PostgresTestServer& Server() {
    if (server_ == nullptr) server_ = new PostgresTestServer();
    return *server_;
  }
  void TearDown() override {
    delete server_;
    server_ = nullptr;
  }

 private:
  static PostgresTestServer* server_;
};
PostgresTestServer* PostgresEnvironment::server_ = nullptr;
[[maybe_unused]] ::testing::Environment* const kPostgresEnvironment =
    ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

// A database of the current test's own on that server.
absl::StatusOr<std::unique_ptr<Store>> OpenTestPostgres() {
  PostgresTestServer& server = PostgresEnvironment::Server();
  if (!server.ok()) return absl::UnavailableError("PostgreSQL did not start");
  return OpenPostgresStore(
      PostgresOptions{server.CreateDatabaseForCurrentTest()});
}

// One backend: how to open a fresh, empty store in `dir`.
struct Backend {
  std::string name;
  std::function<absl::StatusOr<std::unique_ptr<Store>>(
      const std::filesystem::path& dir)>
      open;
};

// Test names and messages show the backend by name.
void PrintTo(const Backend& backend, std::ostream* os) { *os << backend.name; }

class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    auto store = GetParam().open(dir_.path());
    ASSERT_THAT(store, IsOk());
    store_ = *std::move(store);
    ASSERT_THAT(store_->Write([](Transaction& tx) -> absl::Status {
      for (auto [id, sector] :
           {std::pair{"school-1", v1::SECTOR_SCHOOL},
            std::pair{"bup-1", v1::SECTOR_HEALTHCARE},
            std::pair{"soc-1", v1::SECTOR_SOCIAL_SERVICES}}) {
        absl::Status s = tx.agencies().Create(MakeAgency(id, sector));
        if (!s.ok()) return s;
      }
      return absl::OkStatus();
    }),
                IsOk());
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  absl::Time t0_ = absl::FromUnixSeconds(5000);
};

TEST_P(StoreTest, AgencyRoundTrip) {
  ASSERT_THAT(store_->Read([](Transaction& tx) -> absl::Status {
    auto a = tx.agencies().Get("bup-1");
    EXPECT_THAT(a, IsOk());
    EXPECT_THAT(*a, EqualsProto(MakeAgency("bup-1", v1::SECTOR_HEALTHCARE)));
    EXPECT_THAT(tx.agencies().Get("nope"),
                StatusIs(absl::StatusCode::kNotFound));
    auto all = tx.agencies().List("", 10);
    EXPECT_THAT(all, IsOk());
    EXPECT_THAT(*all, SizeIs(3));
    auto page = tx.agencies().List("bup-1", 1);
    EXPECT_THAT(*page, SizeIs(1));
    EXPECT_EQ(page->front().name(), "agencies/school-1");
    return absl::OkStatus();
  }),
              IsOk());
}

TEST_P(StoreTest, AgencyDuplicateAndUpdate) {
  EXPECT_THAT(store_->Write([](Transaction& tx) {
    return tx.agencies().Create(MakeAgency("bup-1", v1::SECTOR_HEALTHCARE));
  }),
              StatusIs(absl::StatusCode::kAlreadyExists));
  v1::Agency disabled = MakeAgency("bup-1", v1::SECTOR_HEALTHCARE);
  disabled.set_state(v1::AGENCY_STATE_DISABLED);
  disabled.set_disable_reason("closed");
  ASSERT_THAT(store_->Write([&](Transaction& tx) {
    return tx.agencies().Update(disabled);
  }),
              IsOk());
  ASSERT_THAT(store_->Read([&](Transaction& tx) -> absl::Status {
    EXPECT_THAT(*tx.agencies().Get("bup-1"), EqualsProto(disabled));
    return absl::OkStatus();
  }),
              IsOk());
  EXPECT_THAT(store_->Write([](Transaction& tx) {
    return tx.agencies().Update(MakeAgency("ghost", v1::SECTOR_SCHOOL));
  }),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(StoreTest, PlanRevisionsEntriesAndApprovals) {
  v1::Plan plan = MakePlan("p1");
  ASSERT_THAT(store_->Write([&](Transaction& tx) -> absl::Status {
    absl::Status s = tx.plans().Create(plan, "staff-1", t0_);
    if (!s.ok()) return s;
    s = tx.plans().PutEntry("p1", MakeEntry("p1", "e1", 1, "first"));
    if (!s.ok()) return s;
    v1::Plan r2 = plan;
    r2.set_revision(2);
    s = tx.plans().AddRevision(r2, "bup-1", "staff-2", "entry written", t0_);
    if (!s.ok()) return s;
    s = tx.plans().PutEntry("p1", MakeEntry("p1", "e1", 2, "second"));
    if (!s.ok()) return s;
    return tx.plans().PutEntry("p1", MakeEntry("p1", "e2", 2, "other"));
  }),
              IsOk());

  ASSERT_THAT(store_->Read([&](Transaction& tx) -> absl::Status {
    auto latest = tx.plans().Get("p1");
    EXPECT_THAT(latest, IsOk());
    EXPECT_EQ(latest->revision(), 2);
    EXPECT_EQ(latest->state(), v1::PLAN_STATE_DRAFT);
    auto first = tx.plans().Get("p1", 1);
    EXPECT_THAT(*first, EqualsProto(plan));

    auto at1 = tx.plans().ListEntries("p1", 1);
    EXPECT_THAT(*at1, SizeIs(1));
    EXPECT_EQ(at1->front().text(), "first");
    auto now = tx.plans().ListEntries("p1");
    EXPECT_THAT(*now, SizeIs(2));
    EXPECT_EQ(now->at(0).text(), "second");
    EXPECT_THAT(now->at(0), EqualsProto(MakeEntry("p1", "e1", 2, "second")));
    EXPECT_EQ(tx.plans().GetEntry("p1", "e2")->text(), "other");
    EXPECT_THAT(tx.plans().Get("p1", 7), StatusIs(absl::StatusCode::kNotFound));
    EXPECT_THAT(tx.plans().Get("nope"), StatusIs(absl::StatusCode::kNotFound));
    return absl::OkStatus();
  }),
              IsOk());

  // An entry may only be written in a revision that exists.
  EXPECT_THAT(store_->Write([&](Transaction& tx) {
    return tx.plans().PutEntry("p1", MakeEntry("p1", "e3", 9, "x"));
  }),
              StatusIs(absl::StatusCode::kFailedPrecondition));

  // A stale revision is a conflict.
  EXPECT_THAT(store_->Write([&](Transaction& tx) {
    v1::Plan stale = plan;
    stale.set_revision(2);
    return tx.plans().AddRevision(stale, "bup-1", "staff-2", "x", t0_);
  }),
              StatusIs(absl::StatusCode::kAborted));

  // Deleting in revision 3 hides the entry from revision 3 on.
  ASSERT_THAT(store_->Write([&](Transaction& tx) -> absl::Status {
    v1::Plan r3 = plan;
    r3.set_revision(3);
    absl::Status s = tx.plans().AddRevision(r3, "bup-1", "s", "deleted", t0_);
    if (!s.ok()) return s;
    v1::Entry gone = MakeEntry("p1", "e2", 3, "other");
    gone.set_deleted(true);
    return tx.plans().PutEntry("p1", gone);
  }),
              IsOk());

  v1::Approval approval;
  approval.set_revision(2);
  approval.set_approver_role(v1::APPROVER_ROLE_GUARDIAN);
  approval.set_approver_identity_number(kGuardian);
  approval.mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
  ASSERT_THAT(store_->Write([&](Transaction& tx) {
    return tx.plans().AddApproval("p1", approval);
  }),
              IsOk());
  ASSERT_THAT(store_->Read([&](Transaction& tx) -> absl::Status {
    auto p = tx.plans().Get("p1");
    EXPECT_EQ(p->state(), v1::PLAN_STATE_ACTIVE);
    EXPECT_EQ(p->effective_revision(), 2);
    EXPECT_THAT(*tx.plans().ListEntries("p1", 2), SizeIs(2));
    EXPECT_THAT(*tx.plans().ListEntries("p1", 3), SizeIs(1));
    auto approvals = tx.plans().ListApprovals("p1");
    EXPECT_THAT(*approvals, ElementsAre(EqualsProto(approval)));
    return absl::OkStatus();
  }),
              IsOk());
  EXPECT_THAT(store_->Write([&](Transaction& tx) {
    v1::Approval bad = approval;
    bad.set_revision(42);
    return tx.plans().AddApproval("p1", bad);
  }),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

// An agency's plans are the ones it leads merged in id order with the ones
// it takes part in; pages follow that order, and a removed participation
// or another agency's draft is left out before the limit.
TEST_P(StoreTest, ListingMergesLedAndJoinedPlansInIdOrder) {
  ASSERT_THAT(store_->Write([&](Transaction& tx) -> absl::Status {
    for (int i = 1; i <= 8; ++i) {
      const std::string id = "p" + std::to_string(i);
      v1::Plan plan = MakePlan(id);
      // Odd plans are school-1's; even ones bup-1's, with school-1 invited.
      if (i % 2 == 0) plan.set_lead_agency("agencies/bup-1");
      RETURN_IF_ERROR(tx.plans().Create(plan, "staff-1", t0_));
      if (i % 2 == 0) {
        v1::Participant school;
        school.set_name("plans/" + id + "/participants/s");
        school.set_kind(v1::PARTICIPANT_KIND_AGENCY);
        school.set_agency("agencies/school-1");
        RETURN_IF_ERROR(tx.plans().AddParticipant(id, school));
      }
      if (i != 8) {  // p8 stays a draft of bup-1
        v1::Approval approval;
        approval.set_revision(1);
        approval.set_approver_role(v1::APPROVER_ROLE_GUARDIAN);
        approval.set_approver_identity_number(kGuardian);
        approval.mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
        RETURN_IF_ERROR(tx.plans().AddApproval(id, approval));
      }
    }
    return tx.plans().RemoveParticipant("p4", "s", t0_);
  }),
              IsOk());
  ASSERT_THAT(store_->Read([&](Transaction& tx) -> absl::Status {
    std::vector<std::string> seen;
    std::string after;
    for (;;) {
      ASSIGN_OR_RETURN(auto page,
                       tx.plans().ListForAgency("school-1", "", 0, after, 2));
      for (const v1::Plan& p : page) seen.push_back(p.name());
      if (page.size() < 2) break;
      after = page.back().name().substr(6);
    }
    EXPECT_THAT(seen, ElementsAre("plans/p1", "plans/p2", "plans/p3",
                                  "plans/p5", "plans/p6", "plans/p7"));
    EXPECT_THAT(*tx.plans().ListForAgency("school-1", kChild, 0, "p2", 3),
                SizeIs(3));
    EXPECT_THAT(
        *tx.plans().ListForAgency("bup-1", "", v1::PLAN_STATE_DRAFT, "", 10),
        SizeIs(1));
    return absl::OkStatus();
  }),
              IsOk());
}

TEST_P(StoreTest, ParticipantsAndListing) {
  ASSERT_THAT(store_->Write([&](Transaction& tx) -> absl::Status {
    absl::Status s = tx.plans().Create(MakePlan("p1"), "staff-1", t0_);
    if (!s.ok()) return s;
    s = tx.plans().Create(MakePlan("p2"), "staff-1", t0_);
    if (!s.ok()) return s;
    v1::Participant bup;
    bup.set_name("plans/p1/participants/x1");
    bup.set_kind(v1::PARTICIPANT_KIND_AGENCY);
    bup.set_agency("agencies/bup-1");
    s = tx.plans().AddParticipant("p1", bup);
    if (!s.ok()) return s;
    v1::Participant guardian;
    guardian.set_name("plans/p1/participants/x2");
    guardian.set_kind(v1::PARTICIPANT_KIND_GUARDIAN);
    guardian.set_identity_number(kGuardian);
    return tx.plans().AddParticipant("p1", guardian);
  }),
              IsOk());
  ASSERT_THAT(store_->Read([&](Transaction& tx) -> absl::Status {
    EXPECT_TRUE(*tx.plans().TakesPart("p1", "school-1"));
    EXPECT_TRUE(*tx.plans().TakesPart("p1", "bup-1"));
    EXPECT_FALSE(*tx.plans().TakesPart("p1", "soc-1"));
    EXPECT_FALSE(*tx.plans().TakesPart("p2", "bup-1"));
    EXPECT_FALSE(*tx.plans().TakesPart("ghost", "school-1"));
    EXPECT_THAT(*tx.plans().ListParticipants("p1", false), SizeIs(2));
    EXPECT_THAT(*tx.plans().ListForAgency("school-1", "", 0, "", 10),
                SizeIs(2));
    EXPECT_THAT(*tx.plans().ListForAgency("school-1", "", 0, "p1", 10),
                SizeIs(1));
    // Both plans are drafts of school-1: hidden from the participant bup-1.
    EXPECT_THAT(*tx.plans().ListForAgency("bup-1", "", 0, "", 10), IsEmpty());
    EXPECT_THAT(*tx.plans().ListForAgency("bup-1", "199001011234", 0, "", 10),
                IsEmpty());
    return absl::OkStatus();
  }),
              IsOk());
  // Once approved, p1 is ACTIVE and bup-1 sees it; filters apply before the
  // limit.
  v1::Approval approval;
  approval.set_revision(1);
  approval.set_approver_role(v1::APPROVER_ROLE_GUARDIAN);
  approval.set_approver_identity_number(kGuardian);
  approval.mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
  ASSERT_THAT(store_->Write([&](Transaction& tx) {
    return tx.plans().AddApproval("p1", approval);
  }),
              IsOk());
  ASSERT_THAT(store_->Read([&](Transaction& tx) -> absl::Status {
    auto bup = tx.plans().ListForAgency("bup-1", "", 0, "", 10);
    EXPECT_THAT(*bup, SizeIs(1));
    EXPECT_EQ(bup->front().name(), "plans/p1");
    EXPECT_THAT(*tx.plans().ListForAgency("bup-1", kChild, 0, "", 10),
                SizeIs(1));
    EXPECT_THAT(
        *tx.plans().ListForAgency("bup-1", "", v1::PLAN_STATE_DRAFT, "", 10),
        IsEmpty());
    auto drafts =
        tx.plans().ListForAgency("school-1", "", v1::PLAN_STATE_DRAFT, "", 1);
    EXPECT_THAT(*drafts, SizeIs(1));
    EXPECT_EQ(drafts->front().name(), "plans/p2");
    EXPECT_THAT(*tx.plans().ListForAgency("school-1", "", v1::PLAN_STATE_ACTIVE,
                                          "", 10),
                SizeIs(1));
    return absl::OkStatus();
  }),
              IsOk());
  ASSERT_THAT(store_->Write([&](Transaction& tx) {
    return tx.plans().RemoveParticipant("p1", "x1", t0_);
  }),
              IsOk());
  ASSERT_THAT(store_->Read([&](Transaction& tx) -> absl::Status {
    EXPECT_FALSE(*tx.plans().TakesPart("p1", "bup-1"));
    auto all = tx.plans().ListParticipants("p1", true);
    EXPECT_THAT(*all, SizeIs(2));
    EXPECT_TRUE(all->front().has_remove_time());
    EXPECT_THAT(*tx.plans().ListParticipants("p1", false), SizeIs(1));
    return absl::OkStatus();
  }),
              IsOk());
  EXPECT_THAT(store_->Write([&](Transaction& tx) {
    return tx.plans().RemoveParticipant("p1", "x1", t0_);
  }),
              StatusIs(absl::StatusCode::kNotFound));
}

// Every change to a plan or what belongs to it moves its version; the read
// view gives the header, participation and version in one query.
TEST_P(StoreTest, PlanVersionsAndTheReadView) {
  std::vector<int64_t> versions;
  auto version = [&]() {
    EXPECT_THAT(store_->Read([&](Transaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(const int64_t v, tx.plans().Version("p1"));
      versions.push_back(v);
      return absl::OkStatus();
    }),
                IsOk());
  };
  auto write = [&](const std::function<absl::Status(Transaction&)>& f) {
    ASSERT_THAT(store_->Write(f), IsOk());
    version();
  };
  version();  // no plan: 0
  write([&](Transaction& tx) {
    return tx.plans().Create(MakePlan("p1"), "staff-1", t0_);
  });
  v1::Participant bup;
  bup.set_name("plans/p1/participants/x1");
  bup.set_kind(v1::PARTICIPANT_KIND_AGENCY);
  bup.set_agency("agencies/bup-1");
  write([&](Transaction& tx) { return tx.plans().AddParticipant("p1", bup); });
  v1::Plan r2 = MakePlan("p1");
  r2.set_revision(2);
  write([&](Transaction& tx) {
    return tx.plans().AddRevision(r2, "school-1", "staff-1", "x", t0_);
  });
  write([&](Transaction& tx) {
    return tx.plans().PutEntry("p1", MakeEntry("p1", "e1", 2, "text"));
  });
  v1::Approval approval;
  approval.set_revision(1);
  write(
      [&](Transaction& tx) { return tx.plans().AddApproval("p1", approval); });
  write([&](Transaction& tx) {
    return tx.plans().RemoveParticipant("p1", "x1", t0_);
  });
  for (size_t i = 1; i < versions.size(); ++i) {
    EXPECT_GT(versions[i], versions[i - 1]) << "change " << i;
  }
  EXPECT_EQ(versions[0], 0);

  ASSERT_THAT(store_->Read([&](Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(auto lead,
                     tx.plans().ReadForAgency("p1", "school-1",
                                              /*effective_view=*/true));
    EXPECT_NE(lead.newest, nullptr);
    if (lead.newest == nullptr) return absl::OkStatus();
    EXPECT_TRUE(lead.takes_part);
    EXPECT_EQ(lead.version, versions.back());
    EXPECT_EQ(lead.newest->revision(), 2);
    EXPECT_EQ(lead.newest->effective_revision(), 1);
    EXPECT_EQ(lead.newest->state(), v1::PLAN_STATE_ACTIVE);
    EXPECT_EQ(lead.shown_revision, 1);
    EXPECT_EQ(lead.shown->revision(), 1);
    ASSIGN_OR_RETURN(auto latest,
                     tx.plans().ReadForAgency("p1", "school-1", false));
    EXPECT_EQ(latest.shown_revision, 2);
    // The removed participant no longer takes part; the plan still exists.
    ASSIGN_OR_RETURN(auto removed,
                     tx.plans().ReadForAgency("p1", "bup-1", true));
    EXPECT_FALSE(removed.takes_part);
    ASSIGN_OR_RETURN(auto ghost,
                     tx.plans().ReadForAgency("ghost", "school-1", true));
    EXPECT_EQ(ghost.newest, nullptr);
    return absl::OkStatus();
  }),
              IsOk());
}

// A subject's consent version moves with every grant, custody fact and
// representation recorded or ended about it, and only with those.
TEST_P(StoreTest, ConsentVersionsMoveWithTheSubjectsConsentData) {
  int64_t last = -1;
  auto moved = [&](const std::string& subject) {
    int64_t now = -1;
    EXPECT_THAT(store_->Read([&](Transaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(now, tx.grants().ConsentVersion(subject));
      return absl::OkStatus();
    }),
                IsOk());
    const bool changed = now != last;
    last = now;
    return changed;
  };
  EXPECT_TRUE(moved(kChild));
  EXPECT_EQ(last, 0);
  ASSERT_THAT(store_->Write([&](Transaction& tx) {
    return tx.grants().Insert(MakeGrant("g1", 100, 200));
  }),
              IsOk());
  EXPECT_TRUE(moved(kChild));
  GrantEnding ending;
  ending.state = v1::GRANT_STATE_WITHDRAWN;
  ending.time = absl::FromUnixSeconds(150);
  ASSERT_THAT(store_->Write([&](Transaction& tx) {
    return tx.grants().End("g1", ending);
  }),
              IsOk());
  EXPECT_TRUE(moved(kChild));
  v1::CustodyFact fact;
  fact.set_name("custodyFacts/c1");
  fact.set_subject(kChild);
  fact.set_guardian_identity_number(kGuardian);
  *fact.mutable_valid_from() = Ts(100);
  ASSERT_THAT(store_->Write([&](Transaction& tx) {
    return tx.custody().AddCustody(fact);
  }),
              IsOk());
  EXPECT_TRUE(moved(kChild));
  ASSERT_THAT(store_->Write([&](Transaction& tx) {
    return tx.custody().EndCustody("c1", absl::FromUnixSeconds(300), "school-1",
                                   "staff-1", absl::FromUnixSeconds(300));
  }),
              IsOk());
  EXPECT_TRUE(moved(kChild));
  v1::Representation rep;
  rep.set_name("representations/r1");
  rep.set_subject(kChild);
  rep.set_representative_identity_number(kGuardian);
  *rep.mutable_valid_from() = Ts(100);
  ASSERT_THAT(store_->Write([&](Transaction& tx) {
    return tx.custody().AddRepresentation(rep);
  }),
              IsOk());
  EXPECT_TRUE(moved(kChild));
  *rep.mutable_valid_until() = Ts(400);
  ASSERT_THAT(store_->Write([&](Transaction& tx) {
    return tx.custody().UpdateRepresentation(rep);
  }),
              IsOk());
  EXPECT_TRUE(moved(kChild));
  // A plan change is not a consent change.
  ASSERT_THAT(store_->Write([&](Transaction& tx) {
    return tx.plans().Create(MakePlan("p1"), "staff-1", t0_);
  }),
              IsOk());
  EXPECT_FALSE(moved(kChild));
}

TEST_P(StoreTest, PlanNeedsARegisteredLeadAgency) {
  v1::Plan p = MakePlan("p1");
  p.set_lead_agency("agencies/ghost");
  EXPECT_THAT(store_->Write([&](Transaction& tx) {
    return tx.plans().Create(p, "staff-1", t0_);
  }),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_P(StoreTest, GrantsAreEndedNeverEdited) {
  v1::Grant g = MakeGrant("g1", 1000, 9000);
  ASSERT_THAT(
      store_->Write([&](Transaction& tx) { return tx.grants().Insert(g); }),
      IsOk());
  GrantEnding ending;
  ending.state = v1::GRANT_STATE_WITHDRAWN;
  ending.time = absl::FromUnixSeconds(3000);
  ending.reason = "guardian withdrew";
  ending.agency = "agencies/school-1";
  ending.actor = "staff-1";
  ending.withdrawer = kGuardian;
  ending.evidence_kind = v1::EVIDENCE_KIND_SIGNED_FORM;
  ending.evidence_reference = "form 13";
  ASSERT_THAT(store_->Write([&](Transaction& tx) {
    return tx.grants().End("g1", ending);
  }),
              IsOk());
  absl::Status again = store_->Write(
      [&](Transaction& tx) { return tx.grants().End("g1", ending); });
  EXPECT_THAT(again, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ReasonOf(again), "GRANT_NOT_ACTIVE");

  v1::Grant expected = g;
  expected.set_state(v1::GRANT_STATE_WITHDRAWN);
  *expected.mutable_end_time() = Ts(3000);
  expected.set_end_reason("guardian withdrew");
  expected.set_withdrawer_identity_number(kGuardian);
  expected.mutable_withdrawal_evidence()->set_kind(
      v1::EVIDENCE_KIND_SIGNED_FORM);
  expected.mutable_withdrawal_evidence()->set_reference("form 13");
  ASSERT_THAT(store_->Read([&](Transaction& tx) -> absl::Status {
    EXPECT_THAT(*tx.grants().Get("g1"), EqualsProto(expected));
    EXPECT_THAT(*tx.grants().ListForSubject(kChild),
                ElementsAre(EqualsProto(expected)));
    return absl::OkStatus();
  }),
              IsOk());

  // Voiding after a withdrawal keeps the first end time.
  ending.state = v1::GRANT_STATE_VOID;
  ending.time = absl::FromUnixSeconds(4000);
  ending.reason = "registered for the wrong child";
  ASSERT_THAT(store_->Write([&](Transaction& tx) {
    return tx.grants().End("g1", ending);
  }),
              IsOk());
  ASSERT_THAT(store_->Read([&](Transaction& tx) -> absl::Status {
    auto got = tx.grants().Get("g1");
    EXPECT_EQ(got->state(), v1::GRANT_STATE_VOID);
    EXPECT_EQ(got->end_time().seconds(), 3000);
    EXPECT_EQ(got->end_reason(), "registered for the wrong child");
    return absl::OkStatus();
  }),
              IsOk());
}

TEST_P(StoreTest, GrantQueriesAndLapsed) {
  ASSERT_THAT(store_->Write([&](Transaction& tx) -> absl::Status {
    for (int i = 0; i < 5; ++i) {
      v1::Grant g = MakeGrant("g" + std::to_string(i), 1000, 2000 + i * 1000);
      if (i == 4) g.mutable_scope()->set_plan("plans/p9");
      absl::Status s = tx.grants().Insert(g);
      if (!s.ok()) return s;
    }
    GrantEnding e;
    e.state = v1::GRANT_STATE_REVOKED;
    e.time = absl::FromUnixSeconds(1500);
    e.reason = "on request";
    e.agency = "admin-1";
    e.actor = "a";
    return tx.grants().End("g0", e);
  }),
              IsOk());
  ASSERT_THAT(store_->Read([&](Transaction& tx) -> absl::Status {
    GrantQuery all;
    all.subject = kChild;
    EXPECT_THAT(*tx.grants().List(all), SizeIs(5));
    all.limit = 2;
    all.after = "g1";
    auto page = tx.grants().List(all);
    EXPECT_THAT(*page, SizeIs(2));
    EXPECT_EQ(page->front().name(), "grants/g2");
    GrantQuery by_plan;
    by_plan.plan = "p9";
    EXPECT_THAT(*tx.grants().List(by_plan), SizeIs(1));
    GrantQuery expiring;
    expiring.ends_after = absl::FromUnixSeconds(2000);
    expiring.ends_before = absl::FromUnixSeconds(4000);
    auto soon = tx.grants().List(expiring);
    // g0 (ends 2000) is revoked; g1 (3000) is the only active one in range.
    EXPECT_THAT(*soon, SizeIs(1));
    EXPECT_EQ(soon->front().name(), "grants/g1");
    GrantQuery revoked;
    revoked.subject = kChild;
    revoked.state = v1::GRANT_STATE_REVOKED;
    revoked.limit = 1;  // the state filter runs before the limit
    auto only = tx.grants().List(revoked);
    EXPECT_THAT(*only, SizeIs(1));
    EXPECT_EQ(only->front().name(), "grants/g0");
    GrantQuery active;
    active.subject = kChild;
    active.state = v1::GRANT_STATE_ACTIVE;
    active.limit = 10;
    EXPECT_THAT(*tx.grants().List(active), SizeIs(4));
    active.limit = 1;  // g0, first by id, is revoked and must not use it up
    EXPECT_EQ(tx.grants().List(active)->front().name(), "grants/g1");
    auto lapsed = tx.grants().ListLapsed(absl::FromUnixSeconds(4000), 10);
    EXPECT_THAT(*lapsed, SizeIs(2));  // g1 and g2; g0 is already ended
    // Active ones ending before 5000: g1 (3000) and g2 (4000), not g0.
    EXPECT_EQ(*tx.grants().CountActiveEndingBefore(absl::FromUnixSeconds(5000)),
              2);
    EXPECT_EQ(*tx.grants().CountActiveEndingBefore(absl::FromUnixSeconds(3000)),
              0);
    return absl::OkStatus();
  }),
              IsOk());
}

TEST_P(StoreTest, CustodyAndRepresentationRoundTrip) {
  v1::CustodyFact f;
  f.set_name("custodyFacts/c1");
  f.set_subject(kChild);
  f.set_guardian_identity_number(kGuardian);
  *f.mutable_valid_from() = Ts(100);
  f.mutable_evidence()->set_kind(v1::EVIDENCE_KIND_REGISTER_EXTRACT);
  v1::Representation r;
  r.set_name("representations/r1");
  r.set_subject("195002013334");
  r.set_representative_identity_number(kGuardian);
  r.set_remit_covers_consent(true);
  *r.mutable_valid_from() = Ts(100);
  *r.mutable_valid_until() = Ts(900);
  ASSERT_THAT(store_->Write([&](Transaction& tx) -> absl::Status {
    absl::Status s = tx.custody().AddCustody(f);
    if (!s.ok()) return s;
    return tx.custody().AddRepresentation(r);
  }),
              IsOk());
  ASSERT_THAT(store_->Read([&](Transaction& tx) -> absl::Status {
    EXPECT_THAT(*tx.custody().ListCustody(kChild), ElementsAre(EqualsProto(f)));
    EXPECT_THAT(*tx.custody().ListRepresentations("195002013334"),
                ElementsAre(EqualsProto(r)));
    EXPECT_THAT(*tx.custody().ListCustody("195002013334"), IsEmpty());
    return absl::OkStatus();
  }),
              IsOk());
}

TEST_P(StoreTest, AuditAppendAndQuery) {
  ASSERT_THAT(store_->Write([&](Transaction& tx) -> absl::Status {
    for (int i = 0; i < 6; ++i) {
      auto index = tx.audit().Append(
          MakeEvent(100 + i, i % 2 ? kChild : "195002013334",
                    i % 3 ? v1::DECISION_ALLOW : v1::DECISION_DENY));
      if (!index.ok()) return index.status();
      EXPECT_EQ(*index, i);
    }
    return absl::OkStatus();
  }),
              IsOk());
  ASSERT_THAT(store_->Read([&](Transaction& tx) -> absl::Status {
    EXPECT_EQ(*tx.audit().Size(), 6);
    v1::AuditEvent expected = MakeEvent(103, kChild, v1::DECISION_DENY);
    expected.set_leaf_index(3);
    expected.set_leaf_hash(audit::ToBytes(audit::EventLeafHash(expected)));
    EXPECT_THAT(*tx.audit().Get(3), EqualsProto(expected));
    EXPECT_THAT(tx.audit().Get(6), StatusIs(absl::StatusCode::kNotFound));
    AuditQuery q;
    q.subject = kChild;
    auto child = tx.audit().Query(q);
    EXPECT_THAT(*child, SizeIs(3));
    AuditQuery under;
    under.resource = "plans/p";
    EXPECT_THAT(*tx.audit().Query(under), SizeIs(0));  // not a prefix match
    under.resource = "plans/p1";                       // the exact name
    EXPECT_THAT(*tx.audit().Query(under), SizeIs(6));
    AuditQuery actions;
    actions.any_action = {v1::AUDIT_ACTION_PLAN_READ};
    actions.before_index = 2;
    EXPECT_THAT(*tx.audit().Query(actions), SizeIs(2));
    q.decision = v1::DECISION_DENY;
    EXPECT_THAT(*tx.audit().Query(q), SizeIs(1));
    AuditQuery window;
    window.start_time = absl::FromUnixSeconds(101);
    window.end_time = absl::FromUnixSeconds(104);
    window.agency = "school-1";
    EXPECT_THAT(*tx.audit().Query(window), SizeIs(3));
    AuditQuery page;
    page.after_index = 3;
    page.limit = 1;
    auto next = tx.audit().Query(page);
    EXPECT_THAT(*next, SizeIs(1));
    EXPECT_EQ(next->front().leaf_index(), 4);
    return absl::OkStatus();
  }),
              IsOk());
}

TEST_P(StoreTest, RequestLogKeepsTheFirstAnswer) {
  RequestRecord r{"CreatePlan", "fp", std::string("\0resp", 5)};
  ASSERT_THAT(store_->Write([&](Transaction& tx) {
    return tx.requests().Save("school-1", "req-1", r, t0_);
  }),
              IsOk());
  EXPECT_THAT(store_->Write([&](Transaction& tx) {
    return tx.requests().Save("school-1", "req-1", r, t0_);
  }),
              StatusIs(absl::StatusCode::kAlreadyExists));
  ASSERT_THAT(store_->Read([&](Transaction& tx) -> absl::Status {
    auto found = tx.requests().Find("school-1", "req-1");
    EXPECT_TRUE(found->has_value());
    EXPECT_EQ((*found)->response, r.response);
    EXPECT_EQ((*found)->method, "CreatePlan");
    EXPECT_FALSE(tx.requests().Find("bup-1", "req-1")->has_value());
    return absl::OkStatus();
  }),
              IsOk());
}

TEST_P(StoreTest, FailedTransactionLeavesNothing) {
  absl::Status s = store_->Write([&](Transaction& tx) -> absl::Status {
    EXPECT_THAT(tx.grants().Insert(MakeGrant("g1", 1, 2)), IsOk());
    return absl::InvalidArgumentError("grant.scope: rejected later");
  });
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_THAT(store_->Read([&](Transaction& tx) -> absl::Status {
    EXPECT_THAT(tx.grants().Get("g1"), StatusIs(absl::StatusCode::kNotFound));
    return absl::OkStatus();
  }),
              IsOk());
}

TEST_P(StoreTest, ReadTransactionsCannotWrite) {
  absl::Status s = store_->Read([&](Transaction& tx) {
    return tx.grants().Insert(MakeGrant("g1", 1, 2));
  });
  EXPECT_FALSE(s.ok());
  ASSERT_THAT(store_->Write([&](Transaction& tx) {
    return tx.grants().Insert(MakeGrant("g1", 1, 2));
  }),
              IsOk());
}

TEST_P(StoreTest, ExceptionsInsideATransactionBecomeStatus) {
  absl::Status s = store_->Write(
      [&](Transaction&) -> absl::Status { throw std::runtime_error("boom"); });
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInternal, HasSubstr("boom")));
  EXPECT_THAT(store_->Write([&](Transaction& tx) {
    return tx.grants().Insert(MakeGrant("g1", 1, 2));
  }),
              IsOk());
}

TEST_P(StoreTest, WriteBatchKeepsTheJobsThatSucceed) {
  auto ok1 = [](Transaction& tx) {
    return tx.grants().Insert(MakeGrant("g1", 1, 2));
  };
  auto fails = [](Transaction& tx) -> absl::Status {
    EXPECT_THAT(tx.grants().Insert(MakeGrant("g2", 1, 2)), IsOk());
    return absl::PermissionDeniedError("no");
  };
  auto ok3 = [](Transaction& tx) -> absl::Status {
    // Sees the first job's write: the batch is one serial transaction.
    EXPECT_THAT(tx.grants().Get("g1"), IsOk());
    EXPECT_THAT(tx.grants().Get("g2"), StatusIs(absl::StatusCode::kNotFound));
    return tx.grants().Insert(MakeGrant("g3", 1, 2));
  };
  auto duplicate = [](Transaction& tx) {
    return tx.grants().Insert(MakeGrant("g1", 1, 2));
  };
  const absl::FunctionRef<absl::Status(Transaction&)> jobs[] = {ok1, fails, ok3,
                                                                duplicate};
  std::vector<absl::Status> out = store_->WriteBatch(jobs);
  ASSERT_THAT(out, SizeIs(4));
  EXPECT_THAT(out[0], IsOk());
  EXPECT_THAT(out[1], StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(out[2], IsOk());
  EXPECT_THAT(out[3], StatusIs(absl::StatusCode::kAlreadyExists));
  ASSERT_THAT(store_->Read([&](Transaction& tx) -> absl::Status {
    EXPECT_THAT(tx.grants().Get("g1"), IsOk());
    EXPECT_THAT(tx.grants().Get("g2"), StatusIs(absl::StatusCode::kNotFound));
    EXPECT_THAT(tx.grants().Get("g3"), IsOk());
    return absl::OkStatus();
  }),
              IsOk());
}

TEST_P(StoreTest, AuditAppendsInABatchStayDenseAcrossARolledBackJob) {
  // One append committed before; in the batch: two appends, a job that
  // appends twice and fails, one more append, and a tail that reads the
  // size and the root, as the checkpointer does.
  ASSERT_THAT(store_->Write([&](Transaction& tx) {
    return tx.audit()
        .Append(MakeEvent(100, kChild, v1::DECISION_ALLOW))
        .status();
  }),
              IsOk());
  auto append = [](int64_t time) {
    return [time](Transaction& tx) -> absl::Status {
      return tx.audit()
          .Append(MakeEvent(time, kChild, v1::DECISION_ALLOW))
          .status();
    };
  };
  auto two = append(101);
  auto three = append(102);
  auto fails = [](Transaction& tx) -> absl::Status {
    EXPECT_THAT(tx.audit().Append(MakeEvent(900, kChild, v1::DECISION_DENY)),
                IsOk());
    EXPECT_THAT(tx.audit().Append(MakeEvent(901, kChild, v1::DECISION_DENY)),
                IsOk());
    return absl::AbortedError("no");
  };
  auto four = append(103);
  int64_t size_in_tail = -1;
  audit::Hash root_in_tail{};
  auto tail = [&](Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(size_in_tail, tx.audit().Size());
    ASSIGN_OR_RETURN(root_in_tail, tx.audit().RootAt(size_in_tail));
    return absl::OkStatus();
  };
  const absl::FunctionRef<absl::Status(Transaction&)> jobs[] = {
      two, three, fails, four, tail};
  std::vector<absl::Status> out = store_->WriteBatch(jobs);
  ASSERT_THAT(out, SizeIs(5));
  EXPECT_THAT(out[2], StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(out[3], IsOk());
  EXPECT_THAT(out[4], IsOk());
  EXPECT_EQ(size_in_tail, 4);
  ASSERT_THAT(store_->Read([&](Transaction& tx) -> absl::Status {
    EXPECT_EQ(*tx.audit().Size(), 4);
    audit::CompactRange leaves;
    for (int64_t i = 0; i < 4; ++i) {
      ASSIGN_OR_RETURN(v1::AuditEvent e, tx.audit().Get(i));
      EXPECT_EQ(e.time().seconds(), 100 + i) << "leaf " << i;
      leaves.Append(audit::EventLeafHash(e));
    }
    EXPECT_EQ(*tx.audit().RootAt(4), leaves.Root());
    EXPECT_EQ(root_in_tail, leaves.Root());
    EXPECT_THAT(tx.audit().Get(4), StatusIs(absl::StatusCode::kNotFound));
    return absl::OkStatus();
  }),
              IsOk());
  // The next write appends at 4.
  ASSERT_THAT(store_->Write([&](Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(int64_t index, tx.audit().Append(MakeEvent(
                                        104, kChild, v1::DECISION_ALLOW)));
    EXPECT_EQ(index, 4);
    return absl::OkStatus();
  }),
              IsOk());
}

TEST_P(StoreTest, CustodyEndsOnceAndRepresentationsUpdate) {
  v1::CustodyFact f;
  f.set_name("custodyFacts/c1");
  f.set_subject(kChild);
  f.set_guardian_identity_number(kGuardian);
  *f.mutable_valid_from() = Ts(100);
  v1::Representation r;
  r.set_name("representations/r1");
  r.set_subject("195002013334");
  r.set_representative_identity_number(kGuardian);
  *r.mutable_valid_from() = Ts(100);
  ASSERT_THAT(store_->Write([&](Transaction& tx) -> absl::Status {
    absl::Status s = tx.custody().AddCustody(f);
    if (!s.ok()) return s;
    s = tx.custody().AddRepresentation(r);
    if (!s.ok()) return s;
    return tx.custody().EndCustody("c1", absl::FromUnixSeconds(500), "soc-1",
                                   "staff-1", absl::FromUnixSeconds(600));
  }),
              IsOk());
  absl::Status again = store_->Write([&](Transaction& tx) {
    return tx.custody().EndCustody("c1", absl::FromUnixSeconds(400), "soc-1",
                                   "staff-1", absl::FromUnixSeconds(600));
  });
  EXPECT_THAT(again, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ReasonOf(again), "ALREADY_ENDED");
  EXPECT_THAT(store_->Write([&](Transaction& tx) {
    return tx.custody().EndCustody("nope", absl::FromUnixSeconds(1), "soc-1",
                                   "s", absl::FromUnixSeconds(1));
  }),
              StatusIs(absl::StatusCode::kNotFound));
  *r.mutable_valid_until() = Ts(700);
  ASSERT_THAT(store_->Write([&](Transaction& tx) {
    return tx.custody().UpdateRepresentation(r);
  }),
              IsOk());
  ASSERT_THAT(store_->Read([&](Transaction& tx) -> absl::Status {
    auto c = tx.custody().GetCustody("c1");
    EXPECT_EQ(c->valid_until().seconds(), 500);
    EXPECT_EQ(tx.custody().ListCustody(kChild)->front().valid_until().seconds(),
              500);
    EXPECT_THAT(*tx.custody().GetRepresentation("r1"), EqualsProto(r));
    return absl::OkStatus();
  }),
              IsOk());
}

// A scratch directory, removed at the end of the test.

TEST_P(StoreTest, AuditSearchByEntryFindsThePlanReadsThatDecided) {
  auto read = [](int64_t time, std::vector<std::string> entries) {
    v1::AuditEvent e = MakeEvent(time, kChild, v1::DECISION_ALLOW);
    for (const std::string& entry : entries) {
      v1::EntryDecision* d = e.add_entry_decisions();
      d->set_entry("plans/p1/entries/" + entry);
      d->set_decision(v1::DECISION_ALLOW);
    }
    return e;
  };
  ASSERT_THAT(store_->Write([&](Transaction& tx) -> absl::Status {
    RETURN_IF_ERROR(tx.audit().Append(read(100, {"e1", "e2"})).status());
    RETURN_IF_ERROR(tx.audit().Append(read(101, {"e2"})).status());
    v1::AuditEvent written = MakeEvent(102, kChild, v1::DECISION_ALLOW);
    written.set_action(v1::AUDIT_ACTION_ENTRY_WRITTEN);
    written.set_resource("plans/p1/entries/e1");
    RETURN_IF_ERROR(tx.audit().Append(written).status());
    RETURN_IF_ERROR(tx.audit().Append(read(103, {})).status());
    RETURN_IF_ERROR(tx.audit().Append(read(104, {"e1"})).status());
    v1::AuditEvent other = read(105, {"e1"});
    other.set_resource("plans/p2");  // another plan's entry e1
    return tx.audit().Append(other).status();
  }),
              IsOk());
  ASSERT_THAT(store_->Read([&](Transaction& tx) -> absl::Status {
    AuditQuery q;
    q.resource = "plans/p1/entries/e1";
    ASSIGN_OR_RETURN(auto all, tx.audit().Query(q));
    std::vector<int64_t> indexes;
    for (const auto& e : all) indexes.push_back(e.leaf_index());
    EXPECT_THAT(indexes, ::testing::ElementsAre(0, 2, 4));
    q.limit = 2;
    ASSIGN_OR_RETURN(auto page, tx.audit().Query(q));
    EXPECT_THAT(page, SizeIs(2));
    if (page.size() != 2) return absl::OkStatus();
    q.after_index = page.back().leaf_index();
    ASSIGN_OR_RETURN(auto rest, tx.audit().Query(q));
    EXPECT_THAT(rest, SizeIs(1));
    if (!rest.empty()) {
      EXPECT_EQ(rest[0].leaf_index(), 4);
    }
    // The whole plan still matches every event about it.
    q = AuditQuery();
    q.resource = "plans/p1";
    ASSIGN_OR_RETURN(auto plan, tx.audit().Query(q));
    EXPECT_THAT(plan, SizeIs(5));
    // Exactly one resource: the plan's own events, not its entries'; an
    // entry's own events, not the plan reads that decided about it.
    q.resource_exact = true;
    ASSIGN_OR_RETURN(auto own, tx.audit().Query(q));
    indexes.clear();
    for (const auto& e : own) indexes.push_back(e.leaf_index());
    EXPECT_THAT(indexes, ::testing::ElementsAre(0, 1, 3, 4));
    q.resource = "plans/p1/entries/e1";
    ASSIGN_OR_RETURN(auto entry, tx.audit().Query(q));
    indexes.clear();
    for (const auto& e : entry) indexes.push_back(e.leaf_index());
    EXPECT_THAT(indexes, ::testing::ElementsAre(2));
    return absl::OkStatus();
  }),
              IsOk());
}

INSTANTIATE_TEST_SUITE_P(
    Backends, StoreTest,
    ::testing::Values(
        // One connection, in memory.
        Backend{"sqlite_memory",
                [](const std::filesystem::path&) {
                  return OpenSqliteStore(SqliteOptions{});
                }},
        // A file: WAL, the writer's connection and a reader's beside it.
        Backend{"sqlite_file",
                [](const std::filesystem::path& dir) {
                  return OpenSqliteStore(
                      SqliteOptions{(dir / "samplan.db").string()});
                }},
        // PostgreSQL: a database of the test's own.
        Backend{
            "postgres",
            [](const std::filesystem::path&) { return OpenTestPostgres(); }}),
    [](const ::testing::TestParamInfo<Backend>& backend) {
      return backend.param.name;
    });

}  // namespace
}  // namespace samplan::storage
