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
#include "gtest/gtest.h"
#include "samplan/v1/admin.pb.h"
#include "samplan/v1/audit.pb.h"
#include "samplan/v1/consent.pb.h"
#include "samplan/v1/plan.pb.h"
#include "storage/store_test_util.h"

namespace samplan::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

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
