#include "storage/sqlite_store.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "SQLiteCpp/Database.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "audit/leaf.h"
#include "audit/merkle.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "samplan/v1/admin.pb.h"
#include "samplan/v1/audit.pb.h"
#include "samplan/v1/consent.pb.h"
#include "samplan/v1/plan.pb.h"

namespace samplan::storage {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr char kChild[] = "201605102383";
constexpr char kGuardian[] = "198503011116";

MATCHER_P(EqualsProto, expected, "") {
  std::string diff;
  MessageDifferencer d;
  d.ReportDifferencesToString(&diff);
  if (d.Compare(arg, expected)) return true;
  *result_listener << diff;
  return false;
}

google::protobuf::Timestamp Ts(int64_t seconds) {
  google::protobuf::Timestamp t;
  t.set_seconds(seconds);
  return t;
}

v1::Agency MakeAgency(const std::string& id, v1::Sector sector) {
  v1::Agency a;
  a.set_name("agencies/" + id);
  a.set_display_name("Agency " + id);
  a.set_sector(sector);
  a.set_role(v1::AGENCY_ROLE_AGENCY_SYSTEM);
  a.set_state(v1::AGENCY_STATE_ACTIVE);
  a.set_certificate_identity("urn:samplan:agency:" + id);
  *a.mutable_create_time() = Ts(1000);
  return a;
}

v1::Plan MakePlan(const std::string& id) {
  v1::Plan p;
  p.set_name("plans/" + id);
  p.set_subject(kChild);
  p.set_lead_agency("agencies/school-1");
  p.set_state(v1::PLAN_STATE_DRAFT);
  p.set_revision(1);
  p.mutable_coordinator()->set_display_name("Coordinator");
  auto* review = p.add_review_dates();
  review->set_kind(v1::REVIEW_KIND_FOLLOW_UP);
  review->mutable_date()->set_year(2027);
  review->mutable_date()->set_month(2);
  review->mutable_date()->set_day(1);
  *p.mutable_create_time() = Ts(2000);
  return p;
}

v1::Entry MakeEntry(const std::string& plan, const std::string& id,
                    int64_t revision, const std::string& text) {
  v1::Entry e;
  e.set_name("plans/" + plan + "/entries/" + id);
  e.set_owner_agency("agencies/bup-1");
  e.set_author("staff-7");
  e.set_category(v1::INFORMATION_CATEGORY_INTERVENTIONS);
  e.set_kind(v1::ENTRY_KIND_INTERVENTION);
  e.set_text(text);
  e.set_revision(revision);
  return e;
}

v1::Grant MakeGrant(const std::string& id, int64_t from, int64_t until) {
  v1::Grant g;
  g.set_name("grants/" + id);
  g.set_subject(kChild);
  g.set_grantor_role(v1::GRANTOR_ROLE_GUARDIAN);
  g.set_grantor_identity_number(kGuardian);
  g.mutable_scope()->add_disclosing_sectors(v1::SECTOR_HEALTHCARE);
  g.mutable_scope()->add_receiving_sectors(v1::SECTOR_SCHOOL);
  g.mutable_scope()->add_categories(v1::INFORMATION_CATEGORY_NEEDS);
  *g.mutable_valid_from() = Ts(from);
  *g.mutable_valid_until() = Ts(until);
  g.mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
  g.mutable_evidence()->set_reference("form 12");
  g.set_recorded_by_agency("agencies/school-1");
  g.set_recorded_by_actor("staff-1");
  *g.mutable_create_time() = Ts(from);
  g.set_state(v1::GRANT_STATE_ACTIVE);
  return g;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenSqliteStore(SqliteOptions{});
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

  std::unique_ptr<Store> store_;
  absl::Time t0_ = absl::FromUnixSeconds(5000);
};

TEST_F(SqliteStoreTest, AgencyRoundTrip) {
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

TEST_F(SqliteStoreTest, AgencyDuplicateAndUpdate) {
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

TEST_F(SqliteStoreTest, PlanRevisionsEntriesAndApprovals) {
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
TEST_F(SqliteStoreTest, ListingMergesLedAndJoinedPlansInIdOrder) {
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

TEST_F(SqliteStoreTest, ParticipantsAndListing) {
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
TEST_F(SqliteStoreTest, PlanVersionsAndTheReadView) {
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
TEST_F(SqliteStoreTest, ConsentVersionsMoveWithTheSubjectsConsentData) {
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

TEST_F(SqliteStoreTest, PlanNeedsARegisteredLeadAgency) {
  v1::Plan p = MakePlan("p1");
  p.set_lead_agency("agencies/ghost");
  EXPECT_THAT(store_->Write([&](Transaction& tx) {
    return tx.plans().Create(p, "staff-1", t0_);
  }),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(SqliteStoreTest, GrantsAreEndedNeverEdited) {
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

TEST_F(SqliteStoreTest, GrantQueriesAndLapsed) {
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
    return absl::OkStatus();
  }),
              IsOk());
}

TEST_F(SqliteStoreTest, CustodyAndRepresentationRoundTrip) {
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

v1::AuditEvent MakeEvent(int64_t time, const std::string& subject,
                         v1::Decision decision) {
  v1::AuditEvent e;
  *e.mutable_time() = Ts(time);
  e.set_agency("agencies/school-1");
  e.set_actor("staff-1");
  e.set_action(v1::AUDIT_ACTION_PLAN_READ);
  e.set_subject(subject);
  e.set_resource("plans/p1");
  e.set_decision(decision);
  e.add_reasons(v1::DECISION_REASON_CONSENT_COVERS);
  e.add_grants("grants/g1");
  e.set_request_id("r-1");
  e.set_leaf_format(audit::kCurrentLeafFormat);  // as the store stamps it
  return e;
}

TEST_F(SqliteStoreTest, AuditAppendAndQuery) {
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

TEST_F(SqliteStoreTest, RequestLogKeepsTheFirstAnswer) {
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

TEST_F(SqliteStoreTest, FailedTransactionLeavesNothing) {
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

TEST_F(SqliteStoreTest, ReadTransactionsCannotWrite) {
  absl::Status s = store_->Read([&](Transaction& tx) {
    return tx.grants().Insert(MakeGrant("g1", 1, 2));
  });
  EXPECT_FALSE(s.ok());
  ASSERT_THAT(store_->Write([&](Transaction& tx) {
    return tx.grants().Insert(MakeGrant("g1", 1, 2));
  }),
              IsOk());
}

TEST_F(SqliteStoreTest, ExceptionsInsideATransactionBecomeStatus) {
  absl::Status s = store_->Write(
      [&](Transaction&) -> absl::Status { throw std::runtime_error("boom"); });
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInternal, HasSubstr("boom")));
  EXPECT_THAT(store_->Write([&](Transaction& tx) {
    return tx.grants().Insert(MakeGrant("g1", 1, 2));
  }),
              IsOk());
}

TEST_F(SqliteStoreTest, WriteBatchKeepsTheJobsThatSucceed) {
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

TEST_F(SqliteStoreTest, CustodyEndsOnceAndRepresentationsUpdate) {
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
class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::path(::testing::TempDir()) /
            ("samplan-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

TEST(SqliteFileTest, AppendOnlyTablesRefuseUpdatesAndDeletes) {
  TempDir dir;
  const std::string path = (dir.path() / "samplan.db").string();
  {
    auto store = OpenSqliteStore(SqliteOptions{path});
    ASSERT_THAT(store, IsOk());
    ASSERT_THAT((*store)->Write([&](Transaction& tx) -> absl::Status {
      absl::Status s = tx.grants().Insert(MakeGrant("g1", 1, 2));
      if (!s.ok()) return s;
      s = tx.audit().Append(MakeEvent(1, kChild, v1::DECISION_ALLOW)).status();
      if (!s.ok()) return s;
      StoredCheckpoint c;
      c.tree_size = 1;
      c.signed_note = "note";
      return tx.audit().AddCheckpoint(c);
    }),
                IsOk());
  }
  SQLite::Database raw(path, SQLite::OPEN_READWRITE);
  EXPECT_EQ(raw.execAndGet("SELECT count(*) FROM audit_nodes").getInt(), 1);
  for (const char* sql :
       {"UPDATE grants SET subject = 'x'", "DELETE FROM grants",
        "UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events",
        "UPDATE audit_nodes SET hash = x'00'", "DELETE FROM audit_nodes",
        "UPDATE audit_checkpoints SET signed_note = 'x'",
        "DELETE FROM audit_checkpoints",
        "INSERT INTO grant_endings(grant_id, seq, state, time, reason, "
        "agency, actor) VALUES('g1', 1, 2, 0, '', '', '')"}) {
    if (std::string(sql).rfind("INSERT", 0) == 0) {
      raw.exec(sql);
      EXPECT_THROW(raw.exec("DELETE FROM grant_endings"), SQLite::Exception);
      EXPECT_THROW(raw.exec("UPDATE grant_endings SET reason = 'x'"),
                   SQLite::Exception);
      continue;
    }
    EXPECT_THROW(raw.exec(sql), SQLite::Exception) << sql;
  }
  EXPECT_EQ(raw.execAndGet("PRAGMA journal_mode").getString(), "wal");
  // A tree corrupted behind the triggers' back is DATA_LOSS, not the
  // caller's fault; an event without its leaf is too.
  raw.exec("DROP TRIGGER audit_nodes_no_update");
  raw.exec("UPDATE audit_nodes SET hash = x'00'");
  auto store = OpenSqliteStore(SqliteOptions{path});
  ASSERT_THAT(store, IsOk());
  ASSERT_THAT((*store)->Read([&](Transaction& tx) -> absl::Status {
    EXPECT_THAT(tx.audit().RootAt(1), StatusIs(absl::StatusCode::kDataLoss));
    return absl::OkStatus();
  }),
              IsOk());
  raw.exec("DROP TRIGGER audit_nodes_no_delete");
  raw.exec("DELETE FROM audit_nodes");
  ASSERT_THAT((*store)->Read([&](Transaction& tx) -> absl::Status {
    EXPECT_THAT(tx.audit().Get(0), StatusIs(absl::StatusCode::kDataLoss));
    return absl::OkStatus();
  }),
              IsOk());
}

TEST(SqliteFileTest, DataSurvivesReopen) {
  TempDir dir;
  const std::string path = (dir.path() / "samplan.db").string();
  {
    auto store = OpenSqliteStore(SqliteOptions{path});
    ASSERT_THAT(store, IsOk());
    ASSERT_THAT((*store)->Write([&](Transaction& tx) {
      return tx.grants().Insert(MakeGrant("g1", 1, 2));
    }),
                IsOk());
  }
  auto store = OpenSqliteStore(SqliteOptions{path});
  ASSERT_THAT(store, IsOk());
  ASSERT_THAT((*store)->Read([&](Transaction& tx) -> absl::Status {
    EXPECT_THAT(tx.grants().Get("g1"), IsOk());
    return absl::OkStatus();
  }),
              IsOk());
}

// The Merkle tree is stored with the events: after a reopen the next append
// continues the same tree, and checkpoints are kept.
// A search by an entry's name finds the events about the entry and the
// plan reads whose entry decisions name it, and pages by the limit.
TEST_F(SqliteStoreTest, AuditSearchByEntryFindsThePlanReadsThatDecided) {
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
    return absl::OkStatus();
  }),
              IsOk());
}

TEST(SqliteFileTest, AuditTreeContinuesAfterReopen) {
  TempDir dir;
  const std::string path = (dir.path() / "samplan.db").string();
  audit::CompactRange expected;
  auto append = [&](Store& store, int n) {
    ASSERT_THAT(store.Write([&](Transaction& tx) -> absl::Status {
      for (int i = 0; i < n; ++i) {
        v1::AuditEvent e;
        e.mutable_time()->set_seconds(1700000000 + expected.size());
        e.mutable_time()->set_nanos(123456789);  // kept to the microsecond
        e.set_resource("plans/a/entries/" + std::to_string(expected.size()));
        auto index = tx.audit().Append(e);
        if (!index.ok()) return index.status();
        EXPECT_EQ(*index, expected.size());
        e.mutable_time()->set_nanos(123456000);
        e.set_leaf_format(audit::kCurrentLeafFormat);  // the store stamps it
        expected.Append(audit::EventLeafHash(e));
      }
      return absl::OkStatus();
    }),
                IsOk());
  };
  {
    auto store = OpenSqliteStore(SqliteOptions{path});
    ASSERT_THAT(store, IsOk());
    append(**store, 5);
    ASSERT_THAT((*store)->Write([&](Transaction& tx) -> absl::Status {
      StoredCheckpoint c;
      c.tree_size = 5;
      c.time = absl::FromUnixSeconds(5);
      ASSIGN_OR_RETURN(c.root, tx.audit().RootAt(5));
      c.signed_note = "note";
      RETURN_IF_ERROR(tx.audit().AddCheckpoint(c));
      EXPECT_THAT(tx.audit().AddCheckpoint(c),
                  StatusIs(absl::StatusCode::kAlreadyExists));
      return absl::OkStatus();
    }),
                IsOk());
  }
  const audit::Hash root5 = expected.Root();
  auto store = OpenSqliteStore(SqliteOptions{path});
  ASSERT_THAT(store, IsOk());
  append(**store, 6);
  ASSERT_THAT((*store)->Read([&](Transaction& tx) -> absl::Status {
    EXPECT_EQ(*tx.audit().RootAt(11), expected.Root());
    EXPECT_EQ(*tx.audit().RootAt(5), root5);
    EXPECT_THAT(tx.audit().RootAt(12), StatusIs(absl::StatusCode::kOutOfRange));
    auto latest = tx.audit().LatestCheckpoint();
    EXPECT_THAT(latest, IsOk());
    EXPECT_EQ((*latest)->tree_size, 5);
    EXPECT_EQ((*latest)->root, root5);
    auto proof = tx.audit().ConsistencyProof(5, 11);
    EXPECT_THAT(proof, IsOk());
    EXPECT_THAT(audit::VerifyConsistency(5, 11, root5, expected.Root(), *proof),
                IsOk());
    AuditQuery under;
    under.resource = "plans/a";
    EXPECT_THAT(*tx.audit().Query(under), SizeIs(11));
    return absl::OkStatus();
  }),
              IsOk());
}

// Append() keeps the log's size and the tree's right edge within a
// transaction; a job rolled back to its savepoint must not leave them stale.
TEST(SqliteFileTest, AuditTreeStaysRightAcrossRolledBackJobs) {
  TempDir dir;
  auto store = OpenSqliteStore(SqliteOptions{(dir.path() / "a.db").string()});
  ASSERT_THAT(store, IsOk());
  audit::CompactRange expected;
  int64_t next = 0;
  auto event = [&](int64_t n) {
    v1::AuditEvent e;
    e.mutable_time()->set_seconds(1700000000 + n);
    e.set_resource("plans/a/entries/" + std::to_string(n));
    e.set_leaf_format(audit::kCurrentLeafFormat);  // as the store stamps it
    return e;
  };
  // Appends `n` events; the job fails afterwards when `fail` is set.
  auto job = [&](int n, bool fail) {
    return [&, n, fail](Transaction& tx) -> absl::Status {
      for (int i = 0; i < n; ++i) {
        v1::AuditEvent e = event(next + i);
        ASSIGN_OR_RETURN(const int64_t index, tx.audit().Append(e));
        EXPECT_EQ(index, next + i);
      }
      if (fail) return absl::AbortedError("rolled back");
      for (int i = 0; i < n; ++i) {
        expected.Append(audit::EventLeafHash(event(next + i)));
      }
      next += n;
      return absl::OkStatus();
    };
  };
  // Sizes chosen so that rolled-back appends complete subtrees (3 + 5 = 8)
  // which the kept appends must then build again from other leaves.
  auto a = job(3, false), b = job(5, true), c = job(6, false), d = job(1, true),
       e = job(7, false);
  const absl::FunctionRef<absl::Status(Transaction&)> jobs[] = {a, b, c, d, e};
  std::vector<absl::Status> out = (*store)->WriteBatch(jobs);
  EXPECT_THAT(out[0], IsOk());
  EXPECT_THAT(out[1], StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(out[2], IsOk());
  EXPECT_THAT(out[3], StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(out[4], IsOk());
  ASSERT_EQ(expected.size(), 16);
  ASSERT_THAT((*store)->Read([&](Transaction& tx) -> absl::Status {
    EXPECT_EQ(*tx.audit().Size(), 16);
    EXPECT_EQ(*tx.audit().RootAt(16), expected.Root());
    for (int64_t i = 0; i < 16; ++i) {
      auto proof = tx.audit().InclusionProof(i, 16);
      EXPECT_THAT(proof, IsOk());
      EXPECT_THAT(audit::VerifyInclusion(i, 16, audit::EventLeafHash(event(i)),
                                         *proof, expected.Root()),
                  IsOk())
          << "leaf " << i;
    }
    return absl::OkStatus();
  }),
              IsOk());
}

// Reads of a file database run on connections of their own: they see every
// committed write, and run while a writer holds its transaction open.
TEST(SqliteFileTest, ReadsRunBesideTheWriter) {
  TempDir dir;
  auto store = OpenSqliteStore(SqliteOptions{(dir.path() / "r.db").string()});
  ASSERT_THAT(store, IsOk());
  ASSERT_THAT((*store)->Write([&](Transaction& tx) {
    return tx.grants().Insert(MakeGrant("g1", 1, 2));
  }),
              IsOk());
  ASSERT_THAT((*store)->Write([&](Transaction& tx) -> absl::Status {
    RETURN_IF_ERROR(tx.grants().Insert(MakeGrant("g2", 1, 2)));
    EXPECT_FALSE(tx.committed());  // what it reads may still roll back
    // Inside the open write transaction: a read sees the last commit only.
    EXPECT_THAT((*store)->Read([&](Transaction& r) -> absl::Status {
      EXPECT_TRUE(r.committed());
      EXPECT_THAT(r.grants().Get("g1"), IsOk());
      EXPECT_THAT(r.grants().Get("g2"), StatusIs(absl::StatusCode::kNotFound));
      return absl::OkStatus();
    }),
                IsOk());
    return absl::OkStatus();
  }),
              IsOk());
  EXPECT_THAT((*store)->Read([&](Transaction& r) -> absl::Status {
    EXPECT_THAT(r.grants().Get("g2"), IsOk());
    EXPECT_FALSE(r.grants().Insert(MakeGrant("g3", 1, 2)).ok());
    return absl::OkStatus();
  }),
              IsOk());
}

// Commits leave the write-ahead log to the store's checkpoint thread once it
// passes the limit; what was written stays readable throughout.
TEST(SqliteFileTest, TheLogIsCheckpointedByAThreadOfItsOwn) {
  TempDir dir;
  absl::Notification copied;
  SqliteOptions options{(dir.path() / "c.db").string()};
  options.checkpoint_pages = 4;
  options.after_checkpoint_for_testing = [&](int log_frames,
                                             int copied_frames) {
    // Runs on the one checkpoint thread only.
    if (log_frames > 0 && copied_frames > 0 && !copied.HasBeenNotified()) {
      copied.Notify();
    }
  };
  auto store = OpenSqliteStore(options);
  ASSERT_THAT(store, IsOk());
  for (int i = 0; i < 30; ++i) {
    ASSERT_THAT((*store)->Write([&](Transaction& tx) {
      return tx.grants().Insert(MakeGrant("g" + std::to_string(i), 1, 2));
    }),
                IsOk());
  }
  ASSERT_TRUE(copied.WaitForNotificationWithTimeout(absl::Seconds(60)))
      << "no checkpoint copied anything";
  EXPECT_THAT((*store)->Read([&](Transaction& r) -> absl::Status {
    EXPECT_THAT(r.grants().Get("g0"), IsOk());
    EXPECT_THAT(r.grants().Get("g29"), IsOk());
    return absl::OkStatus();
  }),
              IsOk());
}

// When the checkpoint thread falls behind (here: it stops after its first
// checkpoint), the log stays bounded: the commit that crosses
// wal_limit_pages checkpoints it and the next transaction starts it over.
TEST(SqliteFileTest, TheLogStaysBoundedWhenTheCheckpointThreadFallsBehind) {
  TempDir dir;
  const std::string path = (dir.path() / "w.db").string();
  absl::Notification release;
  SqliteOptions options{path};
  options.checkpoint_pages = 4;
  options.wal_limit_pages = 40;
  options.after_checkpoint_for_testing = [&](int, int) {
    release.WaitForNotification();
  };
  auto store = OpenSqliteStore(options);
  ASSERT_THAT(store, IsOk());
  for (int i = 0; i < 400; ++i) {
    ASSERT_THAT((*store)->Write([&](Transaction& tx) {
      return tx.grants().Insert(MakeGrant("g" + std::to_string(i), 1, 2));
    }),
                IsOk());
  }
  // The log file keeps its largest size; 400 commits of a few pages each
  // would make it more than ten times the limit. A first try may meet the
  // thread's own checkpoint (SQLite runs one at a time) and the next one
  // waits for another 40 pages: so at most three times the limit.
  const auto wal_bytes = std::filesystem::file_size(path + "-wal");
  constexpr uintmax_t kFrameBytes = 4096 + 24;
  EXPECT_LT(wal_bytes, 3 * 40 * kFrameBytes + 32)
      << "frames: " << wal_bytes / kFrameBytes;
  EXPECT_THAT((*store)->Read([&](Transaction& r) -> absl::Status {
    EXPECT_THAT(r.grants().Get("g0"), IsOk());
    EXPECT_THAT(r.grants().Get("g399"), IsOk());
    return absl::OkStatus();
  }),
              IsOk());
  release.Notify();
}

// A read that cannot open its connection fails closed, as UNAVAILABLE.
TEST(SqliteFileTest, ReadWithoutAReadConnectionIsUnavailable) {
  TempDir dir;
  const std::filesystem::path path = dir.path() / "gone.db";
  auto store = OpenSqliteStore(SqliteOptions{path.string()});
  ASSERT_THAT(store, IsOk());
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(path.string() + suffix);
  }
  bool ran = false;
  EXPECT_THAT((*store)->Read([&](Transaction&) {
    ran = true;
    return absl::OkStatus();
  }),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("cannot open a read connection")));
  EXPECT_FALSE(ran);
}

TEST(SqliteFileTest, RefusesADatabaseFromANewerVersion) {
  TempDir dir;
  const std::string path = (dir.path() / "samplan.db").string();
  {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    raw.exec("PRAGMA user_version = 1000");
  }
  auto store = OpenSqliteStore(SqliteOptions{path});
  EXPECT_THAT(store, StatusIs(absl::StatusCode::kFailedPrecondition,
                              HasSubstr("newer samplan")));
}

TEST(SqliteFileTest, UnopenablePathIsUnavailable) {
  TempDir dir;
  auto store = OpenSqliteStore(
      SqliteOptions{(dir.path() / "missing" / "dir" / "x.db").string()});
  EXPECT_THAT(store, StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace samplan::storage
