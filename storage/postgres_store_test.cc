// The PostgreSQL store as several replicas use it: stores opened on the
// same database (as separate samplan-server processes would) append to the
// one audit log at the same time, and the log stays one verifiable tree.
// Everything else a store does is in the conformance suite
// (store_conformance_test.cc), which runs on PostgreSQL too.

#include "storage/postgres_store.h"

#include <algorithm>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "audit/leaf.h"
#include "audit/merkle.h"
#include "common/status_macros.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/postgres_test_server.h"
#include "storage/store_test_util.h"

namespace samplan::storage {
namespace {

TEST(PostgresReplicasTest, ConcurrentAppendsMakeOneDenseVerifiableLog) {
  PostgresTestServer server;
  ASSERT_TRUE(server.ok());
  const std::string conninfo = server.CreateDatabase("replicas");
  constexpr int kReplicas = 3;
  constexpr int kWriters = 2;  // per replica
  constexpr int kCalls = 40;   // per writer; 1-3 events each
  std::vector<std::unique_ptr<Store>> replicas;
  for (int r = 0; r < kReplicas; ++r) {
    auto store = OpenPostgresStore(PostgresOptions{conninfo});
    ASSERT_THAT(store, IsOk());
    replicas.push_back(*std::move(store));
  }

  absl::Mutex mu;
  std::vector<int64_t> acknowledged;  // leaf indexes returned to callers
  std::vector<std::thread> writers;
  for (int r = 0; r < kReplicas; ++r) {
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, r, w] {
        for (int i = 0; i < kCalls; ++i) {
          std::vector<int64_t> mine;
          const int events = 1 + (i + w) % 3;
          // Batches on even calls, single writes on odd ones.
          auto job = [&](Transaction& tx) -> absl::Status {
            mine.clear();
            for (int e = 0; e < events; ++e) {
              ASSIGN_OR_RETURN(int64_t index,
                               tx.audit().Append(MakeEvent(
                                   1000 + i, kChild, v1::DECISION_ALLOW)));
              mine.push_back(index);
            }
            return absl::OkStatus();
          };
          absl::Status s;
          if (i % 2 == 0) {
            absl::FunctionRef<absl::Status(Transaction&)> fns[] = {job};
            s = replicas[r]->WriteBatch(fns)[0];
          } else {
            s = replicas[r]->Write(job);
          }
          EXPECT_THAT(s, IsOk());
          absl::MutexLock lock(&mu);
          acknowledged.insert(acknowledged.end(), mine.begin(), mine.end());
        }
      });
    }
  }
  for (auto& t : writers) t.join();

  // Every acknowledged index once, and nothing else: 0 .. n-1.
  std::sort(acknowledged.begin(), acknowledged.end());
  const int64_t n = static_cast<int64_t>(acknowledged.size());
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(acknowledged[i], i);

  // The tree matches the records, read from another replica than most
  // wrote them: each leaf's hash is its record's, and proves inclusion in
  // the root of the whole log.
  ASSERT_THAT(replicas[1]->Read([&](Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(const int64_t size, tx.audit().Size());
    EXPECT_EQ(size, n);
    ASSIGN_OR_RETURN(const audit::Hash root, tx.audit().RootAt(n));
    for (int64_t i = 0; i < n; ++i) {
      ASSIGN_OR_RETURN(v1::AuditEvent e, tx.audit().Get(i));
      EXPECT_EQ(e.leaf_index(), i);
      ASSIGN_OR_RETURN(const audit::Hash leaf,
                       audit::HashFromBytes(e.leaf_hash()));
      v1::AuditEvent bare = e;
      bare.clear_leaf_hash();
      EXPECT_EQ(leaf, audit::EventLeafHash(bare)) << "leaf " << i;
      ASSIGN_OR_RETURN(auto proof, tx.audit().InclusionProof(i, n));
      EXPECT_THAT(audit::VerifyInclusion(i, n, leaf, proof, root), IsOk())
          << "leaf " << i;
    }
    EXPECT_THAT(tx.audit().Get(n), StatusIs(absl::StatusCode::kNotFound));
    return absl::OkStatus();
  }),
              IsOk());
}

TEST(PostgresReplicasTest, AWriteOnOneReplicaIsReadOnAnotherAtOnce) {
  PostgresTestServer server;
  ASSERT_TRUE(server.ok());
  const std::string conninfo = server.CreateDatabase("visibility");
  auto a = OpenPostgresStore(PostgresOptions{conninfo});
  auto b = OpenPostgresStore(PostgresOptions{conninfo});
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  const v1::Grant grant = MakeGrant("g1", 1000, 2000);
  ASSERT_THAT(
      (*a)->Write([&](Transaction& tx) { return tx.grants().Insert(grant); }),
      IsOk());
  int64_t version_before = 0;
  ASSERT_THAT((*b)->Read([&](Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(v1::Grant g, tx.grants().Get("g1"));
    EXPECT_EQ(g.state(), v1::GRANT_STATE_ACTIVE);
    ASSIGN_OR_RETURN(version_before, tx.grants().ConsentVersion(kChild));
    return absl::OkStatus();
  }),
              IsOk());
  // Withdrawn on A; the next read on B sees it, and the consent version
  // that decisions check has moved.
  GrantEnding ending;
  ending.state = v1::GRANT_STATE_WITHDRAWN;
  ending.time = absl::FromUnixSeconds(1500);
  ending.reason = "withdrawn by the guardian";
  ending.agency = "school-1";
  ending.actor = "staff-1";
  ending.withdrawer = kGuardian;
  ending.evidence_kind = v1::EVIDENCE_KIND_SIGNED_FORM;
  ASSERT_THAT((*a)->Write([&](Transaction& tx) {
    return tx.grants().End("g1", ending);
  }),
              IsOk());
  ASSERT_THAT((*b)->Read([&](Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(v1::Grant g, tx.grants().Get("g1"));
    EXPECT_EQ(g.state(), v1::GRANT_STATE_WITHDRAWN);
    ASSIGN_OR_RETURN(const int64_t version, tx.grants().ConsentVersion(kChild));
    EXPECT_GT(version, version_before);
    return absl::OkStatus();
  }),
              IsOk());
}

TEST(PostgresReplicasTest, ARegistryChangeOnOneReplicaReachesTheOthers) {
  PostgresTestServer server;
  ASSERT_TRUE(server.ok());
  const std::string conninfo = server.CreateDatabase("registry");
  // Before the stores: their watch calls back until they are gone.
  absl::Mutex mu;
  int changes = 0;
  auto a = OpenPostgresStore(PostgresOptions{conninfo});
  auto b = OpenPostgresStore(PostgresOptions{conninfo});
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  (*b)->WatchAgencies([&] {
    absl::MutexLock lock(&mu);
    ++changes;
  });
  // Waits (up to a bound far above any delivery) until `n` changes came.
  auto at_least = [&](int n) {
    std::pair<int*, int> want(&changes, n);
    absl::MutexLock lock(&mu);
    return mu.AwaitWithTimeout(
        absl::Condition(
            +[](std::pair<int*, int>* c) { return *c->first >= c->second; },
            &want),
        absl::Seconds(30));
  };
  // Listening begins with a change (whatever came before is unknown).
  ASSERT_TRUE(at_least(2));
  int before;
  {
    absl::MutexLock lock(&mu);
    before = changes;
  }
  ASSERT_THAT((*a)->Write([](Transaction& tx) {
    return tx.agencies().Create(MakeAgency("school-9", v1::SECTOR_SCHOOL));
  }),
              IsOk());
  EXPECT_TRUE(at_least(before + 1)) << "no notification of the new agency";
  v1::Agency disabled = MakeAgency("school-9", v1::SECTOR_SCHOOL);
  disabled.set_state(v1::AGENCY_STATE_DISABLED);
  {
    absl::MutexLock lock(&mu);
    before = changes;
  }
  ASSERT_THAT((*a)->Write([&](Transaction& tx) {
    return tx.agencies().Update(disabled);
  }),
              IsOk());
  EXPECT_TRUE(at_least(before + 1)) << "no notification of the disabling";
  b->reset();  // stops the watch
}

TEST(PostgresReplicasTest, OneReplicaLeadsMaintenanceAndAnotherTakesOver) {
  PostgresTestServer server;
  ASSERT_TRUE(server.ok());
  const std::string conninfo = server.CreateDatabase("leader");
  auto a = OpenPostgresStore(PostgresOptions{conninfo});
  auto b = OpenPostgresStore(PostgresOptions{conninfo});
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  EXPECT_TRUE((*a)->LeadsMaintenance());
  EXPECT_FALSE((*b)->LeadsMaintenance());
  EXPECT_TRUE((*a)->LeadsMaintenance());  // it keeps the lead
  EXPECT_FALSE((*b)->LeadsMaintenance());
  a->reset();  // the leader goes; its session, and the lock, with it
  // PostgreSQL ends the closed session asynchronously: B takes over at one
  // of its next tries (bounded, far above the time that takes).
  bool took_over = false;
  for (int i = 0; i < 1000 && !took_over; ++i) {
    took_over = (*b)->LeadsMaintenance();
  }
  EXPECT_TRUE(took_over);
}

TEST(PostgresStoreTest, SurvivesARestartOfPostgresWithoutBeingReopened) {
  PostgresTestServer server;
  ASSERT_TRUE(server.ok());
  const std::string conninfo = server.CreateDatabase("restart");
  auto store = OpenPostgresStore(PostgresOptions{conninfo});
  ASSERT_THAT(store, IsOk());
  auto other = OpenPostgresStore(PostgresOptions{conninfo});
  ASSERT_THAT(other, IsOk());
  ASSERT_THAT((*store)->Write([&](Transaction& tx) {
    return tx.grants().Insert(MakeGrant("g1", 1000, 2000));
  }),
              IsOk());
  // A pooled read connection, and the maintenance lead's session.
  ASSERT_THAT((*store)->Read([&](Transaction& tx) {
    return tx.grants().Get("g1").status();
  }),
              IsOk());
  ASSERT_TRUE((*store)->LeadsMaintenance());
  ASSERT_FALSE((*other)->LeadsMaintenance());

  // Every session the store holds is cut. The next transactions start on
  // new connections, with no error for the caller.
  ASSERT_TRUE(server.Restart());
  ASSERT_THAT((*store)->Write([&](Transaction& tx) {
    return tx.grants().Insert(MakeGrant("g2", 1000, 2000));
  }),
              IsOk());
  ASSERT_THAT((*store)->Read([&](Transaction& tx) -> absl::Status {
    RETURN_IF_ERROR(tx.grants().Get("g1").status());
    return tx.grants().Get("g2").status();
  }),
              IsOk());
  // The lead went with its session: whoever asks first leads now, once.
  const bool a = (*store)->LeadsMaintenance();
  const bool b = (*other)->LeadsMaintenance();
  EXPECT_NE(a, b);

  // While PostgreSQL is down, calls fail UNAVAILABLE after a few seconds of
  // trying, and work again once it is back.
  ASSERT_TRUE(server.Stop());
  EXPECT_THAT((*store)->Read([&](Transaction&) { return absl::OkStatus(); }),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT((*store)->Write([&](Transaction& tx) {
    return tx.grants().Insert(MakeGrant("g3", 1000, 2000));
  }),
              StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_TRUE(server.Start());
  EXPECT_THAT((*store)->Write([&](Transaction& tx) {
    return tx.grants().Insert(MakeGrant("g3", 1000, 2000));
  }),
              IsOk());
}

}  // namespace
}  // namespace samplan::storage
