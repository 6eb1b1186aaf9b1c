#include "audit/leaf.h"

#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "samplan/v1/audit.pb.h"
#include "samplan/v1/common.pb.h"

namespace samplan::audit {
namespace {

v1::AuditEvent FullEvent() {
  v1::AuditEvent e;
  e.set_leaf_index(41);
  e.mutable_time()->set_seconds(1718000000);
  e.mutable_time()->set_nanos(123456789);  // 789 ns are dropped
  e.set_agency("agencies/bup-1");
  e.set_actor("anna.lind");
  e.set_certificate(
      "abababababababababababababababababababababababababababababababab");
  e.set_action(v1::AUDIT_ACTION_ENTRY_READ);
  e.set_subject("201001012386");
  e.set_resource("plans/p1/entries/e1");
  e.set_decision(v1::DECISION_DENY);
  e.add_reasons(v1::DECISION_REASON_CONSENT_REVOKED);
  e.add_reasons(v1::DECISION_REASON_CATEGORY_OUT_OF_SCOPE);
  e.add_grants("grants/g1");
  e.add_grants("grants/g2");
  e.set_request_id("req-1");
  e.set_detail("withheld: health\nBj\xC3\xB6rk");
  e.set_leaf_hash(std::string(32, '\x07'));
  return e;
}

TEST(LeafTest, GoldenFullEvent) {
  const std::string want =
      "samplan-audit-event/v1\n"
      "time 16 1718000000123456\n"
      "agency 14 agencies/bup-1\n"
      "actor 9 anna.lind\n"
      "certificate 64 "
      "abababababababababababababababababababababababababababababababab\n"
      "action 23 AUDIT_ACTION_ENTRY_READ\n"
      "subject 12 201001012386\n"
      "resource 19 plans/p1/entries/e1\n"
      "decision 13 DECISION_DENY\n"
      "reason 31 DECISION_REASON_CONSENT_REVOKED\n"
      "reason 37 DECISION_REASON_CATEGORY_OUT_OF_SCOPE\n"
      "grant 9 grants/g1\n"
      "grant 9 grants/g2\n"
      "request_id 5 req-1\n"
      "detail 23 withheld: health\nBj\xC3\xB6rk\n";
  EXPECT_EQ(LeafData(FullEvent()), want);
  // SHA-256(0x00 || want), computed independently (Python hashlib).
  EXPECT_EQ(ToHex(EventLeafHash(FullEvent())),
            "0ec07c71fbecad38022035fda025409955cb94bdc3e150cc3a61889bed9def47");
  EXPECT_EQ(EventLeafHash(FullEvent()), HashLeaf(want));
}

TEST(LeafTest, EmptyEvent) {
  EXPECT_EQ(LeafData(v1::AuditEvent()),
            "samplan-audit-event/v1\n"
            "time 1 0\n"
            "agency 0 \n"
            "actor 0 \n"
            "certificate 0 \n"
            "action 24 AUDIT_ACTION_UNSPECIFIED\n"
            "subject 0 \n"
            "resource 0 \n"
            "decision 20 DECISION_UNSPECIFIED\n"
            "request_id 0 \n"
            "detail 0 \n");
  EXPECT_EQ(std::string(kLeafDataHeaderV1), "samplan-audit-event/v1");
}

// A plan read as this server writes it: one event, every entry's decision
// inside (leaf format 2).
v1::AuditEvent PlanRead() {
  v1::AuditEvent e;
  e.mutable_time()->set_seconds(1718000000);
  e.mutable_time()->set_nanos(123456789);
  e.set_agency("agencies/school-1");
  e.set_actor("anna.lind");
  e.set_action(v1::AUDIT_ACTION_PLAN_READ);
  e.set_subject("201001012386");
  e.set_resource("plans/p1");
  e.set_decision(v1::DECISION_ALLOW);
  e.add_reasons(v1::DECISION_REASON_LEAD_AGENCY);
  e.set_detail("effective view, revision 3");
  e.set_leaf_format(2);
  v1::EntryDecision* shown = e.add_entry_decisions();
  shown->set_entry("plans/p1/entries/e1");
  shown->set_owner_agency("agencies/bup-1");
  shown->set_category(v1::INFORMATION_CATEGORY_INTERVENTIONS);
  shown->set_decision(v1::DECISION_ALLOW);
  shown->set_reason(v1::DECISION_REASON_CONSENT_COVERS);
  shown->add_grants("grants/g1");
  shown->add_grants("grants/g2");
  v1::EntryDecision* withheld = e.add_entry_decisions();
  withheld->set_entry("plans/p1/entries/e2");
  withheld->set_owner_agency("agencies/bup-1");
  withheld->set_category(v1::INFORMATION_CATEGORY_HEALTH);
  withheld->set_decision(v1::DECISION_DENY);
  withheld->set_reason(v1::DECISION_REASON_CATEGORY_OUT_OF_SCOPE);
  return e;
}

TEST(LeafTest, GoldenPlanReadFormat2) {
  const std::string want =
      "samplan-audit-event/v2\n"
      "time 16 1718000000123456\n"
      "agency 17 agencies/school-1\n"
      "actor 9 anna.lind\n"
      "certificate 0 \n"
      "action 22 AUDIT_ACTION_PLAN_READ\n"
      "subject 12 201001012386\n"
      "resource 8 plans/p1\n"
      "decision 14 DECISION_ALLOW\n"
      "reason 27 DECISION_REASON_LEAD_AGENCY\n"
      "request_id 0 \n"
      "detail 26 effective view, revision 3\n"
      "entry 19 plans/p1/entries/e1\n"
      "entry_owner 14 agencies/bup-1\n"
      "entry_category 34 INFORMATION_CATEGORY_INTERVENTIONS\n"
      "entry_decision 14 DECISION_ALLOW\n"
      "entry_reason 30 DECISION_REASON_CONSENT_COVERS\n"
      "entry_grant 9 grants/g1\n"
      "entry_grant 9 grants/g2\n"
      "entry 19 plans/p1/entries/e2\n"
      "entry_owner 14 agencies/bup-1\n"
      "entry_category 27 INFORMATION_CATEGORY_HEALTH\n"
      "entry_decision 13 DECISION_DENY\n"
      "entry_reason 37 DECISION_REASON_CATEGORY_OUT_OF_SCOPE\n";
  EXPECT_EQ(LeafData(PlanRead()), want);
  // SHA-256(0x00 || want), computed independently (Python hashlib).
  EXPECT_EQ(ToHex(EventLeafHash(PlanRead())),
            "51428e06f77cc52376d92ec8d577ba5c5afdb810aa72ac92e3b1aafe02be6760");
  EXPECT_TRUE(KnownLeafFormat(2));
  EXPECT_TRUE(KnownLeafFormat(0));
  EXPECT_FALSE(KnownLeafFormat(1));
  EXPECT_FALSE(KnownLeafFormat(3));
}

TEST(LeafTest, Format1LeavesOutEntryDecisions) {
  // A format-1 event hashes as before, whatever else it holds: old logs
  // verify unchanged.
  v1::AuditEvent e = PlanRead();
  e.clear_leaf_format();
  const std::string v1 = LeafData(e);
  EXPECT_TRUE(v1.rfind("samplan-audit-event/v1\n", 0) == 0);
  EXPECT_THAT(v1, ::testing::Not(::testing::HasSubstr("entry")));
  EXPECT_NE(EventLeafHash(e), EventLeafHash(PlanRead()));
}

TEST(LeafTest, EveryEntryDecisionChangesTheHash) {
  using Mutation = std::pair<const char*, std::function<void(v1::AuditEvent*)>>;
  const std::vector<Mutation> mutations = {
      {"entry", [](v1::AuditEvent* e) {
         e->mutable_entry_decisions(0)->set_entry("plans/p1/entries/e3");
       }},
      {"owner", [](v1::AuditEvent* e) {
         e->mutable_entry_decisions(0)->set_owner_agency("agencies/bup-2");
       }},
      {"category", [](v1::AuditEvent* e) {
         e->mutable_entry_decisions(1)->set_category(
             v1::INFORMATION_CATEGORY_NEEDS);
       }},
      {"decision", [](v1::AuditEvent* e) {
         e->mutable_entry_decisions(1)->set_decision(v1::DECISION_ALLOW);
       }},
      {"reason", [](v1::AuditEvent* e) {
         e->mutable_entry_decisions(1)->set_reason(
             v1::DECISION_REASON_NO_CONSENT);
       }},
      {"grant", [](v1::AuditEvent* e) {
         e->mutable_entry_decisions(0)->set_grants(1, "grants/g3");
       }},
      {"grant moved to the next entry", [](v1::AuditEvent* e) {
         e->mutable_entry_decisions(0)->mutable_grants()->RemoveLast();
         e->mutable_entry_decisions(1)->add_grants("grants/g2");
       }},
      {"order", [](v1::AuditEvent* e) {
         e->mutable_entry_decisions()->SwapElements(0, 1);
       }},
      {"removed", [](v1::AuditEvent* e) {
         e->mutable_entry_decisions()->RemoveLast();
       }},
  };
  std::set<std::string> hashes = {ToHex(EventLeafHash(PlanRead()))};
  for (const auto& [name, mutate] : mutations) {
    v1::AuditEvent e = PlanRead();
    mutate(&e);
    EXPECT_TRUE(hashes.insert(ToHex(EventLeafHash(e))).second)
        << name << " did not change the hash";
  }
}

TEST(LeafTest, UnnamedEnumValuesAreDecimal) {
  v1::AuditEvent e;
  e.set_action(static_cast<v1::AuditAction>(99));
  e.set_decision(static_cast<v1::Decision>(-3));
  e.add_reasons(static_cast<v1::DecisionReason>(1000));
  EXPECT_EQ(LeafData(e),
            "samplan-audit-event/v1\n"
            "time 1 0\n"
            "agency 0 \n"
            "actor 0 \n"
            "certificate 0 \n"
            "action 2 99\n"
            "subject 0 \n"
            "resource 0 \n"
            "decision 2 -3\n"
            "reason 4 1000\n"
            "request_id 0 \n"
            "detail 0 \n");
}

TEST(LeafTest, TimeIsMicrosecondsTruncated) {
  v1::AuditEvent e;
  e.mutable_time()->set_seconds(-1);
  e.mutable_time()->set_nanos(500999);
  EXPECT_THAT(LeafData(e), ::testing::HasSubstr("\ntime 7 -999500\n"));
  v1::AuditEvent f;
  f.mutable_time()->set_seconds(0);
  f.mutable_time()->set_nanos(999);
  EXPECT_EQ(LeafData(f), LeafData(v1::AuditEvent()));
  f.mutable_time()->set_nanos(1000);
  EXPECT_THAT(LeafData(f), ::testing::HasSubstr("\ntime 1 1\n"));
}

TEST(LeafTest, PositionAndClaimedHashAreNotPartOfTheLeaf) {
  v1::AuditEvent e = FullEvent();
  const Hash h = EventLeafHash(e);
  e.set_leaf_index(7);
  e.clear_leaf_hash();
  EXPECT_EQ(EventLeafHash(e), h);
}

TEST(LeafTest, EveryFieldChangesTheHash) {
  using Mutation = std::pair<const char*, std::function<void(v1::AuditEvent*)>>;
  const std::vector<Mutation> mutations = {
      {"seconds", [](v1::AuditEvent* e) { e->mutable_time()->set_seconds(1); }},
      {"micros",
       [](v1::AuditEvent* e) { e->mutable_time()->set_nanos(123457000); }},
      {"clear time", [](v1::AuditEvent* e) { e->clear_time(); }},
      {"agency", [](v1::AuditEvent* e) { e->set_agency("agencies/bup-2"); }},
      {"actor", [](v1::AuditEvent* e) { e->set_actor("anna.lindh"); }},
      {"certificate",
       [](v1::AuditEvent* e) { e->mutable_certificate()->back() = 'c'; }},
      {"action",
       [](v1::AuditEvent* e) { e->set_action(v1::AUDIT_ACTION_PLAN_READ); }},
      {"subject", [](v1::AuditEvent* e) { e->set_subject("201001012394"); }},
      {"resource", [](v1::AuditEvent* e) { e->set_resource("plans/p1"); }},
      {"decision",
       [](v1::AuditEvent* e) { e->set_decision(v1::DECISION_ALLOW); }},
      {"reason value",
       [](v1::AuditEvent* e) {
         e->set_reasons(0, v1::DECISION_REASON_NO_CONSENT);
       }},
      {"reason order",
       [](v1::AuditEvent* e) { e->mutable_reasons()->SwapElements(0, 1); }},
      {"reason removed",
       [](v1::AuditEvent* e) { e->mutable_reasons()->RemoveLast(); }},
      {"grant value", [](v1::AuditEvent* e) { e->set_grants(1, "grants/g3"); }},
      {"grant order",
       [](v1::AuditEvent* e) { e->mutable_grants()->SwapElements(0, 1); }},
      {"grant added", [](v1::AuditEvent* e) { e->add_grants(""); }},
      {"request_id", [](v1::AuditEvent* e) { e->set_request_id("req-2"); }},
      {"detail", [](v1::AuditEvent* e) { e->mutable_detail()->append(" "); }},
      // Bytes moved from one field to the next must not collide.
      {"agency/actor boundary",
       [](v1::AuditEvent* e) {
         e->set_agency("agencies/bup-1a");
         e->set_actor("nna.lind");
       }},
      {"grants merged",
       [](v1::AuditEvent* e) {
         e->clear_grants();
         e->add_grants("grants/g1grants/g2");
       }},
  };
  std::set<std::string> hashes = {ToHex(EventLeafHash(FullEvent()))};
  for (const auto& [name, mutate] : mutations) {
    v1::AuditEvent e = FullEvent();
    mutate(&e);
    EXPECT_TRUE(hashes.insert(ToHex(EventLeafHash(e))).second)
        << name << " did not change the hash";
  }
}

}  // namespace
}  // namespace samplan::audit
