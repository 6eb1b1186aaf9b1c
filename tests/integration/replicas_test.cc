// Three samplan servers on one PostgreSQL (Debian's, started on loopback by
// the test): the plan story told across them, a withdrawal on one replica
// in force at once on the others, and 1,000 concurrent writes spread over
// the replicas while PostgreSQL restarts, after which every acknowledged
// write is there once and the audit log verifies offline against every
// checkpoint seen on the way.

#include <atomic>
#include <iostream>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "grpc/health/v1/health.grpc.pb.h"
#include "storage/postgres_store.h"
#include "storage/postgres_test_server.h"
#include "tests/integration/fixture.h"

namespace samplan::server {
namespace {

class ReplicasTest : public StoryTest {
 protected:
  static void SetUpTestSuite() { pg_ = new storage::PostgresTestServer(); }
  static void TearDownTestSuite() {
    delete pg_;
    pg_ = nullptr;
  }

  // Replica 0 is the fixture's server; the story is told through it.
  void Configure(config::v1::ServerConfig& cfg) override {
    ASSERT_TRUE(pg_->ok());
    const std::string conninfo = pg_->CreateDatabaseForCurrentTest();
    auto store = storage::OpenPostgresStore(storage::PostgresOptions{conninfo});
    ASSERT_THAT(store, IsOk());
    RegisterAgencies(**store);
    cfg.mutable_storage()->mutable_postgres()->set_conninfo(conninfo);
    cfg.clear_rest();
  }

  void SetUp() override {
    StoryTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(config_.storage().has_postgres());
    for (int i = 1; i < 3; ++i) {
      ServerOptions options;
      options.config = config_;
      options.clock = &clock_;  // ids: random, as every replica's are
      auto replica = Server::Start(std::move(options));
      ASSERT_THAT(replica, IsOk());
      replicas_.push_back(*std::move(replica));
    }
  }

  void TearDown() override {
    replicas_.clear();
    StoryTest::TearDown();
  }

  int Port(int replica) {
    return replica == 0 ? server_->api_port()
                        : replicas_[replica - 1]->api_port();
  }
  template <typename Service>
  std::unique_ptr<typename Service::Stub> On(int replica,
                                             const std::string& agency) {
    return Service::NewStub(Channel(agency, "main", true, Port(replica)));
  }

  v1::GetPlanResponse SchoolReadsOn(int replica) {
    auto plans = On<v1::PlanService>(replica, "school-1");
    v1::GetPlanRequest get;
    get.set_name(plan_);
    v1::GetPlanResponse out;
    EXPECT_THAT(Call(*plans, &v1::PlanService::Stub::GetPlan, get, &out),
                IsOk());
    return out;
  }

  absl::Status Withdraw(int replica, const std::string& grant,
                        const std::string& guardian,
                        const std::string& request_id) {
    auto consents = On<v1::ConsentService>(replica, "school-1");
    v1::WithdrawGrantRequest w;
    w.set_request_id(request_id);
    w.set_name(grant);
    w.set_withdrawer_role(v1::GRANTOR_ROLE_GUARDIAN);
    w.set_withdrawer_identity_number(guardian);
    w.mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
    v1::WithdrawGrantResponse out;
    return Call(*consents, &v1::ConsentService::Stub::WithdrawGrant, w, &out);
  }

  std::string Checkpoint(int replica) {
    auto audits = On<v1::AuditService>(replica, "auditor-1");
    v1::GetLatestCheckpointResponse cp;
    EXPECT_THAT(Call(*audits, &v1::AuditService::Stub::GetLatestCheckpoint,
                     v1::GetLatestCheckpointRequest(), &cp, "revisor"),
                IsOk());
    return cp.checkpoint().signed_note();
  }

  static storage::PostgresTestServer* pg_;
  std::vector<std::unique_ptr<Server>> replicas_;
};

storage::PostgresTestServer* ReplicasTest::pg_ = nullptr;

TEST_F(ReplicasTest, AWithdrawalOnOneReplicaIsInForceAtOnceOnTheOthers) {
  // The plan and custody were recorded on replica 0; BUP's entries too.
  // The first guardian's grant is recorded on replica 1.
  consents_ = On<v1::ConsentService>(1, "school-1");
  Grant(g1_, "grant-g1");
  for (int round = 0; round < 12; ++round) {
    const int grant_on = round % 3;
    const int read_on = (round + 1) % 3;
    const int withdraw_on = (round + 2) % 3;
    consents_ = On<v1::ConsentService>(grant_on, "school-1");
    const std::string g2 = Grant(g2_, "grant-g2-" + std::to_string(round));
    ASSERT_FALSE(g2.empty());
    // Both guardians agree: the school reads BUP's interventions entry on
    // another replica than the one that recorded the grant.
    v1::GetPlanResponse allowed = SchoolReadsOn(read_on);
    ASSERT_THAT(allowed.entries(), SizeIs(1)) << "round " << round;
    EXPECT_EQ(allowed.entries(0).name(), interventions_);
    // Withdrawn on a third replica: the next read, on the replica that
    // just allowed it, is withheld.
    ASSERT_THAT(
        Withdraw(withdraw_on, g2, g2_, "withdraw-g2-" + std::to_string(round)),
        IsOk());
    v1::GetPlanResponse withheld = SchoolReadsOn(read_on);
    EXPECT_THAT(withheld.entries(), IsEmpty()) << "round " << round;
    bool revoked = false;
    for (const auto& w : withheld.withheld_entries()) {
      if (w.category() == v1::INFORMATION_CATEGORY_INTERVENTIONS) {
        revoked = w.reason() == v1::DECISION_REASON_CONSENT_REVOKED;
      }
    }
    EXPECT_TRUE(revoked) << "round " << round;
  }
  // A write retried with its request id on another replica returns the
  // first answer and changes nothing.
  consents_ = On<v1::ConsentService>(2, "school-1");
  v1::CreateGrantRequest again;
  again.set_request_id("grant-g2-0");
  v1::SearchGrantsRequest search;
  search.set_subject(child_);
  search.set_page_size(100);
  v1::SearchGrantsResponse before, after;
  ASSERT_THAT(Call(*consents_, &v1::ConsentService::Stub::SearchGrants, search,
                   &before),
              IsOk());
  const std::string first = Grant(g2_, "grant-g2-0");
  ASSERT_THAT(
      Call(*consents_, &v1::ConsentService::Stub::SearchGrants, search, &after),
      IsOk());
  EXPECT_EQ(after.grants_size(), before.grants_size());
  EXPECT_EQ(after.grants_size(), 13);
  bool found = false;
  for (const auto& g : before.grants()) found |= g.name() == first;
  EXPECT_TRUE(found);

  // A page token one replica returned works on the next: the replicas key
  // their tokens alike (from the audit key they share).
  v1::SearchAuditEventsRequest page;
  page.mutable_filter()->set_subject(child_);
  page.set_page_size(5);
  std::set<std::string> seen;
  int pages = 0;
  for (int replica = 0;; replica = (replica + 1) % 3, ++pages) {
    v1::SearchAuditEventsResponse events;
    ASSERT_THAT(Call(*On<v1::AuditService>(replica, "auditor-1"),
                     &v1::AuditService::Stub::SearchAuditEvents, page, &events,
                     "revisor"),
                IsOk())
        << "page " << pages << " on replica " << replica;
    for (const auto& e : events.audit_events()) {
      EXPECT_TRUE(seen.insert(std::to_string(e.leaf_index())).second);
    }
    if (events.next_page_token().empty()) break;
    page.set_page_token(events.next_page_token());
  }
  EXPECT_GT(pages, 3);
}

TEST_F(ReplicasTest, AThousandWritesAcrossAPostgresRestartLoseNothing) {
  constexpr int kWrites = 1000;
  constexpr int kThreads = 8;
  constexpr int kRestartAfter = 300;
  const std::string before_note = Checkpoint(1);
  ASSERT_FALSE(before_note.empty());

  std::vector<std::unique_ptr<v1::PlanService::Stub>> bup;
  std::vector<std::unique_ptr<v1::ConsentService::Stub>> school;
  for (int r = 0; r < 3; ++r) {
    bup.push_back(On<v1::PlanService>(r, "bup-1"));
    school.push_back(On<v1::ConsentService>(r, "school-1"));
  }
  std::mutex mu;
  std::set<std::string> acked_entries, acked_grants;
  std::vector<std::string> failures;
  std::atomic<int> acked{0};
  std::atomic<int> retries{0};
  std::atomic<bool> restarted{false};
  std::atomic<int> acked_when_restarted{-1};
  std::string during_note;

  auto write = [&](int i) {
    const std::string id = "w-" + std::to_string(i);
    absl::Status s;
    std::string name;
    for (int attempt = 0; attempt < 30; ++attempt) {
      const int r = (i + attempt) % 3;
      if (attempt > 0) ++retries;
      if (i % 2 == 0) {
        v1::CreateEntryRequest req;
        req.set_request_id(id);
        req.set_parent(plan_);
        req.mutable_entry()->set_category(
            v1::INFORMATION_CATEGORY_INTERVENTIONS);
        req.mutable_entry()->set_kind(v1::ENTRY_KIND_NOTE);
        req.mutable_entry()->set_text("BUP: session " + std::to_string(i));
        v1::CreateEntryResponse out;
        s = Call(*bup[r], &v1::PlanService::Stub::CreateEntry, req, &out);
        name = out.entry().name();
      } else {
        v1::CreateGrantRequest req;
        req.set_request_id(id);
        v1::Grant* g = req.mutable_grant();
        g->set_subject(child_);
        g->set_grantor_role(v1::GRANTOR_ROLE_GUARDIAN);
        g->set_grantor_identity_number(i % 4 == 1 ? g1_ : g2_);
        g->mutable_scope()->add_disclosing_sectors(v1::SECTOR_HEALTHCARE);
        g->mutable_scope()->add_receiving_sectors(v1::SECTOR_SCHOOL);
        g->mutable_scope()->add_categories(v1::INFORMATION_CATEGORY_NEEDS);
        Ts(Utc(2026, 6, 1), g->mutable_valid_from());
        Ts(Utc(2027, 3, 1), g->mutable_valid_until());
        g->mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
        v1::CreateGrantResponse out;
        s = Call(*school[r], &v1::ConsentService::Stub::CreateGrant, req, &out);
        name = out.grant().name();
      }
      if (!absl::IsUnavailable(s)) break;
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!s.ok()) {
        failures.push_back(id + ": " + s.ToString());
        return;
      }
      (i % 2 == 0 ? acked_entries : acked_grants).insert(name);
    }
    if (++acked == kRestartAfter) {
      // In the middle of the load, from a writer's thread while the others
      // go on: every session of every replica is cut.
      during_note = Checkpoint(2);
      restarted = pg_->Restart();
      acked_when_restarted = acked.load();
    }
  };
  std::vector<std::thread> threads;
  std::atomic<int> next{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < kWrites; i = next++) write(i);
    });
  }
  for (auto& t : threads) t.join();

  ASSERT_TRUE(restarted.load());
  EXPECT_LT(acked_when_restarted.load(), kWrites);
  EXPECT_THAT(failures, IsEmpty());
  ASSERT_EQ(acked_entries.size() + acked_grants.size(),
            static_cast<size_t>(kWrites));
  std::cout << "[ writes ] " << kWrites << " acknowledged, " << retries.load()
            << " retries; PostgreSQL restarted after " << kRestartAfter
            << " and back by " << acked_when_restarted.load() << "\n";

  // Every acknowledged write is there, once, on every replica.
  for (int r = 0; r < 3; ++r) {
    auto own = On<v1::PlanService>(r, "bup-1");
    v1::GetPlanRequest get;
    get.set_name(plan_);
    get.set_view(v1::PLAN_VIEW_LATEST);  // not yet approved by the family
    v1::GetPlanResponse plan;
    ASSERT_THAT(Call(*own, &v1::PlanService::Stub::GetPlan, get, &plan),
                IsOk());
    std::set<std::string> entries;
    for (const auto& e : plan.entries()) entries.insert(e.name());
    EXPECT_EQ(plan.entries_size(), kWrites / 2 + 2);  // and the story's two
    for (const std::string& e : acked_entries) {
      EXPECT_TRUE(entries.count(e)) << e << " missing on replica " << r;
    }
    std::set<std::string> grants;
    v1::SearchGrantsRequest search;
    search.set_subject(child_);
    search.set_page_size(100);
    for (;;) {
      v1::SearchGrantsResponse page;
      ASSERT_THAT(Call(*On<v1::ConsentService>(r, "school-1"),
                       &v1::ConsentService::Stub::SearchGrants, search, &page),
                  IsOk());
      for (const auto& g : page.grants()) grants.insert(g.name());
      if (page.next_page_token().empty()) break;
      search.set_page_token(page.next_page_token());
    }
    EXPECT_EQ(grants, acked_grants) << "replica " << r;
  }

  // Offline: the export verifies against the newest checkpoint, and the
  // checkpoints seen before and during the load are prefixes of it.
  const Export exported = ExportAll(*On<v1::AuditService>(0, "auditor-1"));
  ASSERT_FALSE(exported.checkpoint_note.empty());
  for (const std::string& saved : {before_note, during_note}) {
    std::istringstream in(exported.lines);
    audit::VerifyResult r =
        audit::VerifyExport(in, exported.checkpoint_note, *verifier_, saved);
    EXPECT_TRUE(r.ok) << r.problem;
    // Each write, its decision and the story: at least one record each.
    EXPECT_GT(r.events, kWrites);
  }
}

TEST_F(ReplicasTest, HealthIsNotServingWhilePostgresIsDown) {
  auto channel = Channel("school-1", "main", true, Port(1));
  auto health = grpc::health::v1::Health::NewStub(channel);
  auto status = [&] {
    grpc::health::v1::HealthCheckRequest req;
    grpc::health::v1::HealthCheckResponse resp;
    auto ctx = Ctx();
    grpc::Status s = health->Check(ctx.get(), req, &resp);
    return s.ok() ? resp.status()
                  : grpc::health::v1::HealthCheckResponse::UNKNOWN;
  };
  ASSERT_EQ(status(), grpc::health::v1::HealthCheckResponse::SERVING);
  // Watch streams every change: no polling, no sleeping.
  auto ctx = Ctx();
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(60));
  grpc::health::v1::HealthCheckRequest req;
  auto watch = health->Watch(ctx.get(), req);
  grpc::health::v1::HealthCheckResponse change;
  ASSERT_TRUE(watch->Read(&change));
  EXPECT_EQ(change.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  ASSERT_TRUE(pg_->Stop());
  ASSERT_TRUE(watch->Read(&change));
  EXPECT_EQ(change.status(),
            grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  ASSERT_TRUE(pg_->Start());
  ASSERT_TRUE(watch->Read(&change));
  EXPECT_EQ(change.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  ctx->TryCancel();
  // Serving again means serving: a read works.
  EXPECT_THAT(SchoolReadsOn(1).withheld_entries(), SizeIs(2));
}

}  // namespace
}  // namespace samplan::server
