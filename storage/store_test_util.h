// Records and helpers for the storage tests: the conformance suite every
// backend runs (store_conformance_test.cc) and each backend's own tests.

#ifndef SAMPLAN_STORAGE_STORE_TEST_UTIL_H_
#define SAMPLAN_STORAGE_STORE_TEST_UTIL_H_

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "absl/strings/str_replace.h"
#include "audit/leaf.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "samplan/v1/admin.pb.h"
#include "samplan/v1/audit.pb.h"
#include "samplan/v1/consent.pb.h"
#include "samplan/v1/plan.pb.h"

namespace samplan::storage {

inline constexpr char kChild[] = "201605102383";
inline constexpr char kGuardian[] = "198503011116";

MATCHER_P(EqualsProto, expected, "") {
  std::string diff;
  ::google::protobuf::util::MessageDifferencer d;
  d.ReportDifferencesToString(&diff);
  if (d.Compare(arg, expected)) return true;
  *result_listener << diff;
  return false;
}

inline google::protobuf::Timestamp Ts(int64_t seconds) {
  google::protobuf::Timestamp t;
  t.set_seconds(seconds);
  return t;
}

inline v1::Agency MakeAgency(const std::string& id, v1::Sector sector) {
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

inline v1::Plan MakePlan(const std::string& id) {
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

inline v1::Entry MakeEntry(const std::string& plan, const std::string& id,
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

inline v1::Grant MakeGrant(const std::string& id, int64_t from, int64_t until) {
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

inline v1::AuditEvent MakeEvent(int64_t time, const std::string& subject,
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

// A directory of the test's own, removed with it.
class TempDir {
 public:
  TempDir() {
    path_ =
        std::filesystem::path(::testing::TempDir()) /
        ("samplan-" + std::to_string(::getpid()) + "-" +
         absl::StrReplaceAll(
             ::testing::UnitTest::GetInstance()->current_test_info()->name(),
             {{"/", "-"}}));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace samplan::storage

#endif  // SAMPLAN_STORAGE_STORE_TEST_UTIL_H_
