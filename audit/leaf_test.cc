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
  EXPECT_EQ(std::string(kLeafDataHeader), "samplan-audit-event/v1");
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
