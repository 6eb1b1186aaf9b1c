// AdminApp: every refusal with its exact code, reason and field; the agency
// registry with its paging and filters; revoking, voiding and expiring
// grants with their audit events; idempotency; the expiring-grants horizon.

#include "app/admin_app.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/civil_time.h"
#include "common/clock.h"
#include "common/errors.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "common/status_matchers.h"
#include "consent/identity_number.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "samplan/v1/admin.pb.h"
#include "samplan/v1/audit.pb.h"
#include "samplan/v1/common.pb.h"
#include "samplan/v1/consent.pb.h"
#include "storage/sqlite_store.h"

namespace samplan::app {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::string Pnr(const std::string& yyyymmdd, const std::string& nnn) {
  return yyyymmdd + nnn +
         std::to_string(consent::LuhnCheckDigit(yyyymmdd.substr(2) + nnn));
}

absl::Time Utc(int y, int m, int d) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, 0, 0, 0),
                         absl::UTCTimeZone());
}

constexpr absl::Duration kDay = absl::Hours(24);

class AdminAppTest : public ::testing::Test {
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
    app_ = std::make_unique<AdminApp>(ctx);

    admin_.agency_id = "admin-1";
    admin_.role = Role::kAdministrator;
    admin_.actor = "admin.anna";
    admin_.certificate = std::string(64, 'a');
    other_admin_ = admin_;
    other_admin_.agency_id = "admin-2";
    other_admin_.certificate = std::string(64, 'b');
    school_.agency_id = "school-1";
    school_.sector = consent::Sector::kSchool;
    school_.role = Role::kAgencySystem;
    school_.actor = "staff-1";

    struct Seed {
      const char* id;
      v1::AgencyRole role;
      v1::Sector sector;
    };
    const std::vector<Seed> seeds = {
        {"admin-1", v1::AGENCY_ROLE_ADMINISTRATOR, v1::SECTOR_UNSPECIFIED},
        {"admin-2", v1::AGENCY_ROLE_ADMINISTRATOR, v1::SECTOR_UNSPECIFIED},
        {"bup-1", v1::AGENCY_ROLE_AGENCY_SYSTEM, v1::SECTOR_HEALTHCARE},
        {"school-1", v1::AGENCY_ROLE_AGENCY_SYSTEM, v1::SECTOR_SCHOOL},
        {"soc-1", v1::AGENCY_ROLE_AGENCY_SYSTEM, v1::SECTOR_SOCIAL_SERVICES},
    };
    std::vector<v1::Agency> agencies;
    for (const Seed& seed : seeds) {
      v1::Agency in;
      in.set_display_name(seed.id);
      in.set_role(seed.role);
      in.set_sector(seed.sector);
      auto agency = NewAgency(seed.id, in, Utc(2026, 1, 1));
      ASSERT_THAT(agency, IsOk());
      agencies.push_back(*std::move(agency));
    }
    const absl::Status seeded =
        store_->Write([&](storage::Transaction& tx) -> absl::Status {
          for (const v1::Agency& a : agencies) {
            RETURN_IF_ERROR(tx.agencies().Create(a));
          }
          return absl::OkStatus();
        });
    ASSERT_THAT(seeded, IsOk());
  }

  template <class Req, class Resp>
  absl::Status Call(void (AdminApp::*method)(const Caller&, const Req&, Resp*,
                                             Done),
                    const Caller& caller, const Req& req, Resp* out) {
    absl::Notification finished;
    absl::Status result;
    out->Clear();
    (app_.get()->*method)(caller, req, out, [&](absl::Status s) {
      result = std::move(s);
      finished.Notify();
    });
    finished.WaitForNotification();
    return result;
  }

  static v1::CreateAgencyRequest CreateRequest(const std::string& id,
                                               const std::string& request_id) {
    v1::CreateAgencyRequest req;
    req.set_agency_id(id);
    req.set_request_id(request_id);
    req.mutable_agency()->set_display_name("Ekskolan");
    req.mutable_agency()->set_role(v1::AGENCY_ROLE_AGENCY_SYSTEM);
    req.mutable_agency()->set_sector(v1::SECTOR_SCHOOL);
    return req;
  }

  absl::Status Disable(const Caller& caller, const std::string& name,
                       const std::string& request_id,
                       v1::DisableAgencyResponse* out) {
    v1::DisableAgencyRequest req;
    req.set_name(name);
    req.set_reason("the contract has ended");
    req.set_request_id(request_id);
    return Call(&AdminApp::DisableAgency, caller, req, out);
  }

  // Agency names over every page of a listing, checking that every page but
  // the last is full and only the last has no token.
  std::vector<std::string> ListAll(v1::AgencyState state, v1::Sector sector,
                                   int page_size) {
    std::vector<std::string> names;
    v1::ListAgenciesRequest req;
    req.set_state(state);
    req.set_sector(sector);
    req.set_page_size(page_size);
    for (int pages = 0; pages < 20; ++pages) {
      v1::ListAgenciesResponse page;
      const absl::Status s = Call(&AdminApp::ListAgencies, admin_, req, &page);
      EXPECT_THAT(s, IsOk());
      if (!s.ok()) break;
      for (const v1::Agency& a : page.agencies()) names.push_back(a.name());
      if (page.next_page_token().empty()) break;
      EXPECT_EQ(page.agencies_size(), page_size);
      req.set_page_token(page.next_page_token());
    }
    return names;
  }

  // Stores an active grant about child_ directly, ending at `until`.
  std::string InsertGrant(const std::string& id, absl::Time until) {
    v1::Grant g;
    g.set_name("grants/" + id);
    g.set_subject(child_);
    g.set_grantor_role(v1::GRANTOR_ROLE_GUARDIAN);
    g.set_grantor_identity_number(guardian_);
    g.mutable_scope()->add_disclosing_sectors(v1::SECTOR_HEALTHCARE);
    g.mutable_scope()->add_receiving_sectors(v1::SECTOR_SCHOOL);
    g.mutable_scope()->add_categories(v1::INFORMATION_CATEGORY_NEEDS);
    SetTimestamp(until - 100 * kDay, g.mutable_valid_from());
    SetTimestamp(until, g.mutable_valid_until());
    g.mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
    g.set_recorded_by_agency("agencies/school-1");
    g.set_recorded_by_actor("staff-1");
    SetTimestamp(until - 100 * kDay, g.mutable_create_time());
    g.set_state(v1::GRANT_STATE_ACTIVE);
    const absl::Status s = store_->Write(
        [&](storage::Transaction& tx) { return tx.grants().Insert(g); });
    EXPECT_THAT(s, IsOk());
    return g.name();
  }

  // Ends a grant directly in storage.
  void EndInStorage(const std::string& id, v1::GrantState state) {
    storage::GrantEnding ending;
    ending.state = state;
    ending.time = clock_.Now() - absl::Hours(1);
    ending.reason = "test";
    ending.agency = "school-1";
    ending.actor = "staff-1";
    const absl::Status s = store_->Write(
        [&](storage::Transaction& tx) { return tx.grants().End(id, ending); });
    EXPECT_THAT(s, IsOk());
  }

  v1::Grant StoredGrant(const std::string& id) {
    v1::Grant g;
    const absl::Status s =
        store_->Read([&](storage::Transaction& tx) -> absl::Status {
          ASSIGN_OR_RETURN(g, tx.grants().Get(id));
          return absl::OkStatus();
        });
    EXPECT_THAT(s, IsOk());
    return g;
  }

  int64_t AuditSize() {
    int64_t size = -1;
    const absl::Status s =
        store_->Read([&](storage::Transaction& tx) -> absl::Status {
          ASSIGN_OR_RETURN(size, tx.audit().Size());
          return absl::OkStatus();
        });
    EXPECT_THAT(s, IsOk());
    return size;
  }

  v1::AuditEvent LastEvent() {
    v1::AuditEvent e;
    const absl::Status s =
        store_->Read([&](storage::Transaction& tx) -> absl::Status {
          ASSIGN_OR_RETURN(int64_t size, tx.audit().Size());
          if (size == 0) return absl::NotFoundError("the audit log is empty");
          ASSIGN_OR_RETURN(e, tx.audit().Get(size - 1));
          return absl::OkStatus();
        });
    EXPECT_THAT(s, IsOk());
    return e;
  }

  std::vector<v1::AuditEvent> Events(v1::AuditAction action) {
    std::vector<v1::AuditEvent> events;
    const absl::Status s =
        store_->Read([&](storage::Transaction& tx) -> absl::Status {
          storage::AuditQuery q;
          q.action = action;
          q.limit = 1000;
          ASSIGN_OR_RETURN(events, tx.audit().Query(q));
          return absl::OkStatus();
        });
    EXPECT_THAT(s, IsOk());
    return events;
  }

  static void ExpectError(const absl::Status& s, absl::StatusCode code,
                          const std::string& reason,
                          const std::string& field = "") {
    EXPECT_THAT(s, StatusIs(code));
    EXPECT_EQ(ReasonOf(s), reason) << s;
    if (!field.empty()) {
      EXPECT_EQ(FieldOf(s), field) << s;
    }
  }

  static void ExpectInvalid(const absl::Status& s, const std::string& field) {
    ExpectError(s, absl::StatusCode::kInvalidArgument, "INVALID_FIELD", field);
  }

  absl::Time Now() const { return clock_.Now(); }

  const std::string child_ = Pnr("20160510", "238");
  const std::string guardian_ = Pnr("19850301", "111");
  FakeClock clock_{Utc(2026, 6, 1) + absl::Hours(10)};
  std::unique_ptr<IdGenerator> ids_ = NewSequentialIdGenerator();
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<CommitQueue> queue_;
  std::unique_ptr<AdminApp> app_;
  Caller admin_, other_admin_, school_;
};

// ------------------------------------------------------ identity numbers

TEST(ContainsIdentityNumberTest, FindsEveryWrittenForm) {
  const std::string p = Pnr("20160510", "238");
  EXPECT_TRUE(ContainsIdentityNumber(p));
  EXPECT_TRUE(ContainsIdentityNumber("asked by " + p + " on the phone"));
  EXPECT_TRUE(ContainsIdentityNumber(p.substr(0, 8) + "-" + p.substr(8)));
  EXPECT_TRUE(ContainsIdentityNumber(p.substr(0, 8) + "+" + p.substr(8)));
  EXPECT_TRUE(ContainsIdentityNumber("nr:" + p.substr(2)));
  EXPECT_TRUE(ContainsIdentityNumber(p.substr(2, 6) + "-" + p.substr(8)));
  const std::string old = Pnr("19120317", "456");
  EXPECT_TRUE(ContainsIdentityNumber("born " + old.substr(2, 6) + "+" +
                                     old.substr(8) + ", asked by phone"));
  // A coordination number: 60 added to the day.
  EXPECT_TRUE(ContainsIdentityNumber(Pnr("19850361", "123")));
}

TEST(ContainsIdentityNumberTest, LeavesOtherNumbersAlone) {
  const std::string p = Pnr("20160510", "238");
  std::string wrong_check = p;
  wrong_check.back() = wrong_check.back() == '9'
                           ? '0'
                           : static_cast<char>(wrong_check.back() + 1);
  EXPECT_FALSE(ContainsIdentityNumber(wrong_check));
  EXPECT_FALSE(ContainsIdentityNumber("1" + p + "1"));  // part of a longer run
  EXPECT_FALSE(ContainsIdentityNumber(p.substr(0, 8) + "-" + p.substr(8, 3)));
  EXPECT_FALSE(ContainsIdentityNumber("case 2026-0412, meeting 2026-06-01"));
  EXPECT_FALSE(ContainsIdentityNumber("the person asked at the meeting"));
  EXPECT_FALSE(ContainsIdentityNumber(""));
}

// --------------------------------------------------------------- agencies

TEST_F(AdminAppTest, NewAgencyHasTheStoredShape) {
  v1::Agency in;
  in.set_name("agencies/ignored");
  in.set_display_name("Ekskolan");
  in.set_role(v1::AGENCY_ROLE_AGENCY_SYSTEM);
  in.set_sector(v1::SECTOR_SCHOOL);
  in.set_state(v1::AGENCY_STATE_DISABLED);
  in.set_disable_reason("ignored");
  auto agency = NewAgency("school-9", in, Utc(2026, 2, 3));
  ASSERT_THAT(agency, IsOk());
  EXPECT_EQ(agency->name(), "agencies/school-9");
  EXPECT_EQ(agency->display_name(), "Ekskolan");
  EXPECT_EQ(agency->role(), v1::AGENCY_ROLE_AGENCY_SYSTEM);
  EXPECT_EQ(agency->sector(), v1::SECTOR_SCHOOL);
  EXPECT_EQ(agency->certificate_identity(), "urn:samplan:agency:school-9");
  EXPECT_EQ(agency->state(), v1::AGENCY_STATE_ACTIVE);
  EXPECT_EQ(agency->create_time().seconds(),
            absl::ToUnixSeconds(Utc(2026, 2, 3)));
  EXPECT_FALSE(agency->has_disable_time());
  EXPECT_TRUE(agency->disable_reason().empty());
  // Auditors and administrators need no sector.
  in.set_role(v1::AGENCY_ROLE_AUDITOR);
  in.clear_sector();
  EXPECT_THAT(NewAgency("audit-1", in, Utc(2026, 2, 3)), IsOk());
}

TEST_F(AdminAppTest, CreateAgencyRefusalsStoreNothing) {
  const int64_t before = AuditSize();
  v1::CreateAgencyResponse out;
  auto create = [&](const v1::CreateAgencyRequest& r) {
    return Call(&AdminApp::CreateAgency, admin_, r, &out);
  };
  v1::CreateAgencyRequest req = CreateRequest("new-1", "");
  ExpectInvalid(create(req), "request_id");
  for (const char* bad : {"", "x", "New-1", "new_1", "-new", "new-"}) {
    req = CreateRequest(bad, "c-1");
    ExpectInvalid(create(req), "agency_id");
  }
  req = CreateRequest(std::string(64, 'a'), "c-1");
  ExpectInvalid(create(req), "agency_id");
  req = CreateRequest("new-1", "c-1");
  req.mutable_agency()->clear_display_name();
  ExpectInvalid(create(req), "agency.display_name");
  req.mutable_agency()->set_display_name(std::string(201, 'a'));
  ExpectInvalid(create(req), "agency.display_name");
  req = CreateRequest("new-1", "c-1");
  req.mutable_agency()->set_role(v1::AGENCY_ROLE_UNSPECIFIED);
  ExpectInvalid(create(req), "agency.role");
  req.mutable_agency()->set_role(static_cast<v1::AgencyRole>(99));
  ExpectInvalid(create(req), "agency.role");
  req = CreateRequest("new-1", "c-1");
  req.mutable_agency()->set_sector(v1::SECTOR_UNSPECIFIED);
  ExpectInvalid(create(req), "agency.sector");
  req.mutable_agency()->set_role(v1::AGENCY_ROLE_AUDITOR);
  req.mutable_agency()->set_sector(static_cast<v1::Sector>(9));
  ExpectInvalid(create(req), "agency.sector");
  ExpectError(Call(&AdminApp::CreateAgency, school_,
                   CreateRequest("new-1", "c-1"), &out),
              absl::StatusCode::kPermissionDenied, "WRONG_ROLE");
  EXPECT_EQ(AuditSize(), before);
}

TEST_F(AdminAppTest, CreateAgencyRegistersOnceAndIdsStayTaken) {
  const v1::CreateAgencyRequest req = CreateRequest("new-1", "c-1");
  v1::CreateAgencyResponse first;
  ASSERT_THAT(Call(&AdminApp::CreateAgency, admin_, req, &first), IsOk());
  EXPECT_EQ(first.agency().name(), "agencies/new-1");
  EXPECT_EQ(first.agency().display_name(), "Ekskolan");
  EXPECT_EQ(first.agency().role(), v1::AGENCY_ROLE_AGENCY_SYSTEM);
  EXPECT_EQ(first.agency().sector(), v1::SECTOR_SCHOOL);
  EXPECT_EQ(first.agency().certificate_identity(), "urn:samplan:agency:new-1");
  EXPECT_EQ(first.agency().state(), v1::AGENCY_STATE_ACTIVE);
  EXPECT_EQ(first.agency().create_time().seconds(), absl::ToUnixSeconds(Now()));

  const v1::AuditEvent e = LastEvent();
  EXPECT_EQ(e.action(), v1::AUDIT_ACTION_AGENCY_REGISTERED);
  EXPECT_EQ(e.agency(), "agencies/admin-1");
  EXPECT_EQ(e.actor(), "admin.anna");
  EXPECT_EQ(e.certificate(), admin_.certificate);
  EXPECT_EQ(e.request_id(), "c-1");
  EXPECT_EQ(e.resource(), "agencies/new-1");
  EXPECT_TRUE(e.subject().empty());
  EXPECT_EQ(e.decision(), v1::DECISION_ALLOW);

  v1::GetAgencyRequest get;
  get.set_name("agencies/new-1");
  v1::GetAgencyResponse got;
  ASSERT_THAT(Call(&AdminApp::GetAgency, admin_, get, &got), IsOk());
  EXPECT_EQ(got.agency().SerializeAsString(),
            first.agency().SerializeAsString());

  // A retry returns the first answer and changes nothing.
  const int64_t size = AuditSize();
  clock_.Advance(absl::Minutes(5));
  v1::CreateAgencyResponse again;
  ASSERT_THAT(Call(&AdminApp::CreateAgency, admin_, req, &again), IsOk());
  EXPECT_EQ(again.SerializeAsString(), first.SerializeAsString());
  EXPECT_EQ(AuditSize(), size);

  v1::CreateAgencyRequest other = req;
  other.mutable_agency()->set_display_name("Another name");
  ExpectError(Call(&AdminApp::CreateAgency, admin_, other, &again),
              absl::StatusCode::kAlreadyExists, "REQUEST_ID_REUSED");
  ExpectError(Call(&AdminApp::CreateAgency, admin_,
                   CreateRequest("new-1", "c-2"), &again),
              absl::StatusCode::kAlreadyExists, "ALREADY_EXISTS", "agency_id");

  // Taken even by a disabled agency.
  v1::DisableAgencyResponse disabled;
  ASSERT_THAT(Disable(admin_, "agencies/soc-1", "d-1", &disabled), IsOk());
  ExpectError(Call(&AdminApp::CreateAgency, admin_,
                   CreateRequest("soc-1", "c-3"), &again),
              absl::StatusCode::kAlreadyExists, "ALREADY_EXISTS", "agency_id");
  EXPECT_EQ(AuditSize(), size + 1);  // only the disabling
}

TEST_F(AdminAppTest, GetAgency) {
  const int64_t before = AuditSize();
  v1::GetAgencyRequest req;
  v1::GetAgencyResponse out;
  for (const char* bad : {"", "agencies/B-1", "plans/p1", "agencies/"}) {
    req.set_name(bad);
    ExpectInvalid(Call(&AdminApp::GetAgency, admin_, req, &out), "name");
  }
  req.set_name("agencies/ghost-1");
  ExpectError(Call(&AdminApp::GetAgency, admin_, req, &out),
              absl::StatusCode::kNotFound, "NOT_FOUND");
  req.set_name("agencies/bup-1");
  ASSERT_THAT(Call(&AdminApp::GetAgency, admin_, req, &out), IsOk());
  EXPECT_EQ(out.agency().name(), "agencies/bup-1");
  EXPECT_EQ(out.agency().sector(), v1::SECTOR_HEALTHCARE);
  ExpectError(Call(&AdminApp::GetAgency, school_, req, &out),
              absl::StatusCode::kPermissionDenied, "WRONG_ROLE");
  // Agency data is not personal data: reads are not audited.
  EXPECT_EQ(AuditSize(), before);
}

TEST_F(AdminAppTest, ListAgenciesPagesOneByOne) {
  EXPECT_THAT(
      ListAll(v1::AGENCY_STATE_UNSPECIFIED, v1::SECTOR_UNSPECIFIED, 1),
      ElementsAre("agencies/admin-1", "agencies/admin-2", "agencies/bup-1",
                  "agencies/school-1", "agencies/soc-1"));
  EXPECT_THAT(ListAll(v1::AGENCY_STATE_UNSPECIFIED, v1::SECTOR_UNSPECIFIED, 2),
              SizeIs(5));
  EXPECT_THAT(ListAll(v1::AGENCY_STATE_UNSPECIFIED, v1::SECTOR_UNSPECIFIED, 0),
              SizeIs(5));
}

TEST_F(AdminAppTest, ListAgenciesFiltersBeforePaging) {
  EXPECT_THAT(ListAll(v1::AGENCY_STATE_UNSPECIFIED, v1::SECTOR_SCHOOL, 1),
              ElementsAre("agencies/school-1"));
  // Nothing after bup-1 matches: the one page has no token.
  v1::ListAgenciesRequest req;
  req.set_sector(v1::SECTOR_HEALTHCARE);
  req.set_page_size(1);
  v1::ListAgenciesResponse page;
  ASSERT_THAT(Call(&AdminApp::ListAgencies, admin_, req, &page), IsOk());
  ASSERT_THAT(page.agencies(), SizeIs(1));
  EXPECT_EQ(page.agencies(0).name(), "agencies/bup-1");
  EXPECT_TRUE(page.next_page_token().empty());

  v1::DisableAgencyResponse disabled;
  ASSERT_THAT(Disable(admin_, "agencies/admin-2", "d-1", &disabled), IsOk());
  ASSERT_THAT(Disable(admin_, "agencies/soc-1", "d-2", &disabled), IsOk());
  EXPECT_THAT(ListAll(v1::AGENCY_STATE_DISABLED, v1::SECTOR_UNSPECIFIED, 1),
              ElementsAre("agencies/admin-2", "agencies/soc-1"));
  EXPECT_THAT(
      ListAll(v1::AGENCY_STATE_ACTIVE, v1::SECTOR_UNSPECIFIED, 2),
      ElementsAre("agencies/admin-1", "agencies/bup-1", "agencies/school-1"));
  EXPECT_THAT(ListAll(v1::AGENCY_STATE_DISABLED, v1::SECTOR_SOCIAL_SERVICES, 1),
              ElementsAre("agencies/soc-1"));
  EXPECT_THAT(ListAll(v1::AGENCY_STATE_DISABLED, v1::SECTOR_SCHOOL, 1),
              IsEmpty());

  // A token is tied to its filters.
  req.Clear();
  req.set_state(v1::AGENCY_STATE_ACTIVE);
  req.set_page_size(1);
  ASSERT_THAT(Call(&AdminApp::ListAgencies, admin_, req, &page), IsOk());
  ASSERT_FALSE(page.next_page_token().empty());
  req.set_page_token(page.next_page_token());
  req.set_state(v1::AGENCY_STATE_DISABLED);
  ExpectError(Call(&AdminApp::ListAgencies, admin_, req, &page),
              absl::StatusCode::kInvalidArgument, "INVALID_PAGE_TOKEN",
              "page_token");
}

TEST_F(AdminAppTest, ListAgenciesRefusals) {
  v1::ListAgenciesRequest req;
  v1::ListAgenciesResponse out;
  req.set_state(static_cast<v1::AgencyState>(9));
  ExpectInvalid(Call(&AdminApp::ListAgencies, admin_, req, &out), "state");
  req.Clear();
  req.set_sector(static_cast<v1::Sector>(9));
  ExpectInvalid(Call(&AdminApp::ListAgencies, admin_, req, &out), "sector");
  req.Clear();
  req.set_page_size(-1);
  ExpectInvalid(Call(&AdminApp::ListAgencies, admin_, req, &out), "page_size");
  req.Clear();
  req.set_page_token("not-a-token");
  ExpectError(Call(&AdminApp::ListAgencies, admin_, req, &out),
              absl::StatusCode::kInvalidArgument, "INVALID_PAGE_TOKEN",
              "page_token");
  req.Clear();
  ExpectError(Call(&AdminApp::ListAgencies, school_, req, &out),
              absl::StatusCode::kPermissionDenied, "WRONG_ROLE");
}

TEST_F(AdminAppTest, DisableAgencyRefusals) {
  const int64_t before = AuditSize();
  v1::DisableAgencyRequest req;
  req.set_name("agencies/school-1");
  req.set_reason("the contract has ended");
  v1::DisableAgencyResponse out;
  ExpectInvalid(Call(&AdminApp::DisableAgency, admin_, req, &out),
                "request_id");
  req.set_request_id("d-1");
  for (const char* bad : {"", "agencies/School-1", "grants/g1"}) {
    v1::DisableAgencyRequest named = req;
    named.set_name(bad);
    ExpectInvalid(Call(&AdminApp::DisableAgency, admin_, named, &out), "name");
  }
  v1::DisableAgencyRequest reasoned = req;
  reasoned.clear_reason();
  ExpectInvalid(Call(&AdminApp::DisableAgency, admin_, reasoned, &out),
                "reason");
  reasoned.set_reason(std::string(2001, 'a'));
  ExpectInvalid(Call(&AdminApp::DisableAgency, admin_, reasoned, &out),
                "reason");
  reasoned.set_reason("asked by " + child_);
  ExpectInvalid(Call(&AdminApp::DisableAgency, admin_, reasoned, &out),
                "reason");
  v1::DisableAgencyRequest self = req;
  self.set_name("agencies/admin-1");
  ExpectError(Call(&AdminApp::DisableAgency, admin_, self, &out),
              absl::StatusCode::kFailedPrecondition, "CANNOT_DISABLE_SELF",
              "name");
  v1::DisableAgencyRequest ghost = req;
  ghost.set_name("agencies/ghost-1");
  ExpectError(Call(&AdminApp::DisableAgency, admin_, ghost, &out),
              absl::StatusCode::kNotFound, "NOT_FOUND");
  ExpectError(Call(&AdminApp::DisableAgency, school_, req, &out),
              absl::StatusCode::kPermissionDenied, "WRONG_ROLE");
  EXPECT_EQ(AuditSize(), before);
}

TEST_F(AdminAppTest, DisableAgencyDisablesOnce) {
  v1::DisableAgencyResponse out;
  ASSERT_THAT(Disable(admin_, "agencies/school-1", "d-1", &out), IsOk());
  EXPECT_EQ(out.agency().name(), "agencies/school-1");
  EXPECT_EQ(out.agency().state(), v1::AGENCY_STATE_DISABLED);
  EXPECT_EQ(out.agency().disable_time().seconds(), absl::ToUnixSeconds(Now()));
  EXPECT_EQ(out.agency().disable_reason(), "the contract has ended");
  const v1::AuditEvent e = LastEvent();
  EXPECT_EQ(e.action(), v1::AUDIT_ACTION_AGENCY_DISABLED);
  EXPECT_EQ(e.resource(), "agencies/school-1");
  EXPECT_EQ(e.agency(), "agencies/admin-1");
  EXPECT_EQ(e.request_id(), "d-1");
  EXPECT_EQ(e.detail(), "the contract has ended");
  EXPECT_EQ(e.decision(), v1::DECISION_ALLOW);

  v1::GetAgencyRequest get;
  get.set_name("agencies/school-1");
  v1::GetAgencyResponse got;
  ASSERT_THAT(Call(&AdminApp::GetAgency, admin_, get, &got), IsOk());
  EXPECT_EQ(got.agency().state(), v1::AGENCY_STATE_DISABLED);

  ExpectError(Disable(admin_, "agencies/school-1", "d-2", &out),
              absl::StatusCode::kFailedPrecondition, "AGENCY_DISABLED");
  // Another administrator may disable this one's agency.
  ASSERT_THAT(Disable(other_admin_, "agencies/admin-1", "d-3", &out), IsOk());
  EXPECT_EQ(out.agency().state(), v1::AGENCY_STATE_DISABLED);
}

// ----------------------------------------------------------------- grants

TEST_F(AdminAppTest, RevokeGrantRefusals) {
  const std::string g = InsertGrant("g1", Now() + 30 * kDay);
  const int64_t before = AuditSize();
  v1::RevokeGrantRequest req;
  req.set_name(g);
  req.set_reason("the person asked the administrator");
  v1::RevokeGrantResponse out;
  ExpectInvalid(Call(&AdminApp::RevokeGrant, admin_, req, &out), "request_id");
  req.set_request_id("r-1");
  for (const char* bad : {"", "grants/G1", "plans/p1", "grants/"}) {
    v1::RevokeGrantRequest named = req;
    named.set_name(bad);
    ExpectInvalid(Call(&AdminApp::RevokeGrant, admin_, named, &out), "name");
  }
  v1::RevokeGrantRequest reasoned = req;
  reasoned.clear_reason();
  ExpectInvalid(Call(&AdminApp::RevokeGrant, admin_, reasoned, &out), "reason");
  reasoned.set_reason(std::string(2001, 'a'));
  ExpectInvalid(Call(&AdminApp::RevokeGrant, admin_, reasoned, &out), "reason");
  reasoned.set_reason("the guardian " + guardian_ + " called");
  ExpectInvalid(Call(&AdminApp::RevokeGrant, admin_, reasoned, &out), "reason");
  reasoned.set_reason("asked by " + child_.substr(2, 6) + "-" +
                      child_.substr(8));
  ExpectInvalid(Call(&AdminApp::RevokeGrant, admin_, reasoned, &out), "reason");
  v1::RevokeGrantRequest evidenced = req;
  evidenced.mutable_evidence()->set_reference("letter 12");
  ExpectInvalid(Call(&AdminApp::RevokeGrant, admin_, evidenced, &out),
                "evidence.kind");
  v1::RevokeGrantRequest ghost = req;
  ghost.set_name("grants/nope");
  ExpectError(Call(&AdminApp::RevokeGrant, admin_, ghost, &out),
              absl::StatusCode::kNotFound, "NOT_FOUND");
  ExpectError(Call(&AdminApp::RevokeGrant, school_, req, &out),
              absl::StatusCode::kPermissionDenied, "WRONG_ROLE");
  EXPECT_EQ(AuditSize(), before);
  EXPECT_EQ(StoredGrant("g1").state(), v1::GRANT_STATE_ACTIVE);
}

TEST_F(AdminAppTest, RevokeGrantRevokesOnceAndIsIdempotent) {
  const std::string g = InsertGrant("g1", Now() + 30 * kDay);
  v1::RevokeGrantRequest req;
  req.set_name(g);
  req.set_reason("the person asked the administrator");
  req.mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
  req.mutable_evidence()->set_reference("letter 12");
  req.set_request_id("r-1");
  v1::RevokeGrantResponse first;
  ASSERT_THAT(Call(&AdminApp::RevokeGrant, admin_, req, &first), IsOk());
  EXPECT_EQ(first.grant().name(), g);
  EXPECT_EQ(first.grant().state(), v1::GRANT_STATE_REVOKED);
  EXPECT_EQ(first.grant().end_reason(), "the person asked the administrator");
  EXPECT_EQ(first.grant().end_time().seconds(), absl::ToUnixSeconds(Now()));
  EXPECT_EQ(StoredGrant("g1").state(), v1::GRANT_STATE_REVOKED);

  const v1::AuditEvent e = LastEvent();
  EXPECT_EQ(e.action(), v1::AUDIT_ACTION_GRANT_REVOKED);
  EXPECT_EQ(e.subject(), child_);
  EXPECT_EQ(e.resource(), g);
  EXPECT_THAT(e.grants(), ElementsAre(g));
  EXPECT_EQ(e.detail(), "the person asked the administrator");
  EXPECT_EQ(e.agency(), "agencies/admin-1");
  EXPECT_EQ(e.actor(), "admin.anna");
  EXPECT_EQ(e.request_id(), "r-1");
  EXPECT_EQ(e.decision(), v1::DECISION_ALLOW);

  // The same request again: the first answer, no second event.
  const int64_t size = AuditSize();
  clock_.Advance(absl::Minutes(1));
  v1::RevokeGrantResponse again;
  ASSERT_THAT(Call(&AdminApp::RevokeGrant, admin_, req, &again), IsOk());
  EXPECT_EQ(again.SerializeAsString(), first.SerializeAsString());
  EXPECT_EQ(AuditSize(), size);
  EXPECT_THAT(Events(v1::AUDIT_ACTION_GRANT_REVOKED), SizeIs(1));

  // A new request to revoke it again is refused.
  req.set_request_id("r-2");
  ExpectError(Call(&AdminApp::RevokeGrant, admin_, req, &again),
              absl::StatusCode::kFailedPrecondition, "GRANT_NOT_ACTIVE");
  EXPECT_EQ(AuditSize(), size);
}

TEST_F(AdminAppTest, VoidGrantFromActiveOrExpiredOnly) {
  const std::string active = InsertGrant("g-active", Now() + 30 * kDay);
  const std::string lapsed = InsertGrant("g-lapsed", Now() - kDay);
  const std::string revoked = InsertGrant("g-revoked", Now() + 30 * kDay);
  const std::string withdrawn = InsertGrant("g-withdrawn", Now() + 30 * kDay);
  EndInStorage("g-revoked", v1::GRANT_STATE_REVOKED);
  EndInStorage("g-withdrawn", v1::GRANT_STATE_WITHDRAWN);
  int64_t expired = -1;
  const absl::Status swept =
      store_->Write([&](storage::Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(expired, ExpireLapsedGrants(tx, nullptr, Now(), 10));
        return absl::OkStatus();
      });
  ASSERT_THAT(swept, IsOk());
  ASSERT_EQ(expired, 1);
  ASSERT_EQ(StoredGrant("g-lapsed").state(), v1::GRANT_STATE_EXPIRED);

  auto request = [](const std::string& name, const std::string& request_id) {
    v1::VoidGrantRequest req;
    req.set_name(name);
    req.set_reason("registered for the wrong child");
    req.set_request_id(request_id);
    return req;
  };
  v1::VoidGrantResponse out;
  const int64_t before = AuditSize();
  v1::VoidGrantRequest bad = request(lapsed, "");
  ExpectInvalid(Call(&AdminApp::VoidGrant, admin_, bad, &out), "request_id");
  bad = request("grants/G", "v-0");
  ExpectInvalid(Call(&AdminApp::VoidGrant, admin_, bad, &out), "name");
  bad = request(lapsed, "v-0");
  bad.clear_reason();
  ExpectInvalid(Call(&AdminApp::VoidGrant, admin_, bad, &out), "reason");
  bad.set_reason(std::string(2001, 'a'));
  ExpectInvalid(Call(&AdminApp::VoidGrant, admin_, bad, &out), "reason");
  bad.set_reason("registered for " + child_.substr(0, 8) + "-" +
                 child_.substr(8) + " by mistake");
  ExpectInvalid(Call(&AdminApp::VoidGrant, admin_, bad, &out), "reason");
  ExpectError(
      Call(&AdminApp::VoidGrant, admin_, request("grants/nope", "v-0"), &out),
      absl::StatusCode::kNotFound, "NOT_FOUND");
  ExpectError(Call(&AdminApp::VoidGrant, admin_, request(revoked, "v-0"), &out),
              absl::StatusCode::kFailedPrecondition, "GRANT_NOT_ACTIVE");
  ExpectError(
      Call(&AdminApp::VoidGrant, admin_, request(withdrawn, "v-0"), &out),
      absl::StatusCode::kFailedPrecondition, "GRANT_NOT_ACTIVE");
  ExpectError(Call(&AdminApp::VoidGrant, school_, request(lapsed, "v-0"), &out),
              absl::StatusCode::kPermissionDenied, "WRONG_ROLE");
  EXPECT_EQ(AuditSize(), before);
  EXPECT_EQ(StoredGrant("g-revoked").state(), v1::GRANT_STATE_REVOKED);

  ASSERT_THAT(Call(&AdminApp::VoidGrant, admin_, request(lapsed, "v-1"), &out),
              IsOk());
  EXPECT_EQ(out.grant().state(), v1::GRANT_STATE_VOID);
  EXPECT_EQ(out.grant().end_reason(), "registered for the wrong child");
  const v1::AuditEvent e = LastEvent();
  EXPECT_EQ(e.action(), v1::AUDIT_ACTION_GRANT_VOIDED);
  EXPECT_EQ(e.subject(), child_);
  EXPECT_EQ(e.resource(), lapsed);
  EXPECT_THAT(e.grants(), ElementsAre(lapsed));
  EXPECT_EQ(e.detail(), "registered for the wrong child");
  EXPECT_EQ(e.request_id(), "v-1");
  EXPECT_EQ(e.decision(), v1::DECISION_ALLOW);

  ASSERT_THAT(Call(&AdminApp::VoidGrant, admin_, request(active, "v-2"), &out),
              IsOk());
  EXPECT_EQ(out.grant().state(), v1::GRANT_STATE_VOID);
  ExpectError(Call(&AdminApp::VoidGrant, admin_, request(active, "v-3"), &out),
              absl::StatusCode::kFailedPrecondition, "GRANT_NOT_ACTIVE");
  EXPECT_THAT(Events(v1::AUDIT_ACTION_GRANT_VOIDED), SizeIs(2));
}

TEST_F(AdminAppTest, ExpireLapsedGrantsEndsExactlyTheLapsedOnes) {
  InsertGrant("a-past", Now() - 2 * kDay);
  InsertGrant("b-now", Now());
  InsertGrant("c-future", Now() + absl::Seconds(1));
  InsertGrant("d-revoked", Now() - kDay);
  InsertGrant("e-past", Now() - 3 * kDay);
  EndInStorage("d-revoked", v1::GRANT_STATE_REVOKED);

  int64_t expired = -1;
  // A limit of 1 makes it go round once per grant.
  absl::Status s = store_->Write([&](storage::Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(expired, ExpireLapsedGrants(tx, nullptr, Now(), 1));
    return absl::OkStatus();
  });
  ASSERT_THAT(s, IsOk());
  EXPECT_EQ(expired, 3);
  for (const char* id : {"a-past", "b-now", "e-past"}) {
    const v1::Grant g = StoredGrant(id);
    EXPECT_EQ(g.state(), v1::GRANT_STATE_EXPIRED) << id;
    EXPECT_EQ(g.end_reason(), kExpiredReason) << id;
    EXPECT_EQ(g.end_time().seconds(), absl::ToUnixSeconds(Now())) << id;
  }
  EXPECT_EQ(StoredGrant("c-future").state(), v1::GRANT_STATE_ACTIVE);
  EXPECT_EQ(StoredGrant("d-revoked").state(), v1::GRANT_STATE_REVOKED);

  const std::vector<v1::AuditEvent> events =
      Events(v1::AUDIT_ACTION_GRANT_EXPIRED);
  ASSERT_THAT(events, SizeIs(3));
  std::vector<std::string> resources;
  for (const v1::AuditEvent& e : events) {
    resources.push_back(e.resource());
    EXPECT_THAT(e.grants(), ElementsAre(e.resource()));
    EXPECT_EQ(e.subject(), child_);
    EXPECT_EQ(e.time().seconds(), absl::ToUnixSeconds(Now()));
    EXPECT_EQ(e.decision(), v1::DECISION_UNSPECIFIED);
    // The server's own events carry no caller.
    EXPECT_TRUE(e.agency().empty());
    EXPECT_TRUE(e.actor().empty());
    EXPECT_TRUE(e.certificate().empty());
    EXPECT_TRUE(e.request_id().empty());
  }
  EXPECT_THAT(resources,
              ElementsAre("grants/e-past", "grants/a-past", "grants/b-now"));

  // Nothing left to do.
  s = store_->Write([&](storage::Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(expired, ExpireLapsedGrants(tx, nullptr, Now(), 1));
    return absl::OkStatus();
  });
  ASSERT_THAT(s, IsOk());
  EXPECT_EQ(expired, 0);
  EXPECT_THAT(Events(v1::AUDIT_ACTION_GRANT_EXPIRED), SizeIs(3));

  s = store_->Write([&](storage::Transaction& tx) -> absl::Status {
    return ExpireLapsedGrants(tx, nullptr, Now(), 0).status();
  });
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(AdminAppTest, ExpireGrantsByAnAdministrator) {
  InsertGrant("a-past", Now() - kDay);
  InsertGrant("b-soon", Now() + kDay);
  v1::ExpireGrantsRequest req;
  v1::ExpireGrantsResponse out;
  ExpectInvalid(Call(&AdminApp::ExpireGrants, admin_, req, &out), "request_id");
  req.set_request_id("x-1");
  ExpectError(Call(&AdminApp::ExpireGrants, school_, req, &out),
              absl::StatusCode::kPermissionDenied, "WRONG_ROLE");
  ASSERT_THAT(Call(&AdminApp::ExpireGrants, admin_, req, &out), IsOk());
  EXPECT_EQ(out.expired_count(), 1);
  std::vector<v1::AuditEvent> events = Events(v1::AUDIT_ACTION_GRANT_EXPIRED);
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].resource(), "grants/a-past");
  EXPECT_EQ(events[0].agency(), "agencies/admin-1");
  EXPECT_EQ(events[0].actor(), "admin.anna");
  EXPECT_EQ(events[0].certificate(), admin_.certificate);
  EXPECT_EQ(events[0].request_id(), "x-1");
  // An administrator's expiry is allowed on its role (the sweeper's decides
  // nothing).
  EXPECT_EQ(events[0].decision(), v1::DECISION_ALLOW);
  EXPECT_THAT(events[0].reasons(),
              ElementsAre(v1::DECISION_REASON_ADMINISTRATOR_ROLE));

  // A retry answers as before and expires nothing more, even later.
  clock_.Advance(2 * kDay);
  ASSERT_THAT(Call(&AdminApp::ExpireGrants, admin_, req, &out), IsOk());
  EXPECT_EQ(out.expired_count(), 1);
  EXPECT_THAT(Events(v1::AUDIT_ACTION_GRANT_EXPIRED), SizeIs(1));
  EXPECT_EQ(StoredGrant("b-soon").state(), v1::GRANT_STATE_ACTIVE);

  req.set_request_id("x-2");
  ASSERT_THAT(Call(&AdminApp::ExpireGrants, admin_, req, &out), IsOk());
  EXPECT_EQ(out.expired_count(), 1);
  EXPECT_EQ(StoredGrant("b-soon").state(), v1::GRANT_STATE_EXPIRED);
  req.set_request_id("x-3");
  ASSERT_THAT(Call(&AdminApp::ExpireGrants, admin_, req, &out), IsOk());
  EXPECT_EQ(out.expired_count(), 0);
}

TEST_F(AdminAppTest, ListExpiringGrantsWithinTheHorizon) {
  InsertGrant("a-5", Now() + 5 * kDay);
  InsertGrant("b-20", Now() + 20 * kDay);
  InsertGrant("c-40", Now() + 40 * kDay);
  InsertGrant("d-lapsed", Now() - kDay);
  InsertGrant("e-revoked", Now() + 10 * kDay);
  InsertGrant("f-29", Now() + 29 * kDay);
  EndInStorage("e-revoked", v1::GRANT_STATE_REVOKED);

  v1::ListExpiringGrantsRequest req;
  v1::ListExpiringGrantsResponse out;
  auto names = [&]() {
    std::vector<std::string> n;
    for (const v1::Grant& g : out.grants()) n.push_back(g.name());
    return n;
  };
  req.set_within_days(30);
  ASSERT_THAT(Call(&AdminApp::ListExpiringGrants, admin_, req, &out), IsOk());
  EXPECT_THAT(names(), ElementsAre("grants/a-5", "grants/b-20", "grants/f-29"));
  EXPECT_TRUE(out.next_page_token().empty());
  const v1::AuditEvent e = LastEvent();
  EXPECT_EQ(e.action(), v1::AUDIT_ACTION_CONSENT_READ);
  EXPECT_EQ(e.resource(), "grants");
  EXPECT_TRUE(e.subject().empty());
  EXPECT_EQ(e.agency(), "agencies/admin-1");
  EXPECT_EQ(e.decision(), v1::DECISION_ALLOW);

  req.set_within_days(1);
  ASSERT_THAT(Call(&AdminApp::ListExpiringGrants, admin_, req, &out), IsOk());
  EXPECT_THAT(out.grants(), IsEmpty());
  req.set_within_days(366);
  ASSERT_THAT(Call(&AdminApp::ListExpiringGrants, admin_, req, &out), IsOk());
  EXPECT_THAT(out.grants(), SizeIs(4));

  // One by one.
  req.set_within_days(30);
  req.set_page_size(1);
  std::vector<std::string> paged;
  for (int pages = 0; pages < 10; ++pages) {
    ASSERT_THAT(Call(&AdminApp::ListExpiringGrants, admin_, req, &out), IsOk());
    ASSERT_THAT(out.grants(), SizeIs(1));
    paged.push_back(out.grants(0).name());
    if (out.next_page_token().empty()) break;
    req.set_page_token(out.next_page_token());
  }
  EXPECT_THAT(paged, ElementsAre("grants/a-5", "grants/b-20", "grants/f-29"));

  // Refusals.
  const int64_t before = AuditSize();
  v1::ListExpiringGrantsRequest bad;
  bad.set_within_days(0);
  ExpectInvalid(Call(&AdminApp::ListExpiringGrants, admin_, bad, &out),
                "within_days");
  bad.set_within_days(367);
  ExpectInvalid(Call(&AdminApp::ListExpiringGrants, admin_, bad, &out),
                "within_days");
  bad.set_within_days(-1);
  ExpectInvalid(Call(&AdminApp::ListExpiringGrants, admin_, bad, &out),
                "within_days");
  bad.set_within_days(30);
  bad.set_page_size(-1);
  ExpectInvalid(Call(&AdminApp::ListExpiringGrants, admin_, bad, &out),
                "page_size");
  bad.set_page_size(1);
  bad.set_within_days(31);
  bad.set_page_token(req.page_token());
  ExpectError(Call(&AdminApp::ListExpiringGrants, admin_, bad, &out),
              absl::StatusCode::kInvalidArgument, "INVALID_PAGE_TOKEN",
              "page_token");
  ExpectError(Call(&AdminApp::ListExpiringGrants, school_, req, &out),
              absl::StatusCode::kPermissionDenied, "WRONG_ROLE");
  EXPECT_EQ(AuditSize(), before);
}

}  // namespace
}  // namespace samplan::app
