// Disk faults under the SQLite store: a full disk or a failing device while
// writing (injected through FaultVfs, never by filling the real disk), and a
// damaged database file.

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "SQLiteCpp/Database.h"
#include "absl/status/status.h"
#include "audit/leaf.h"
#include "audit/merkle.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "common/status_matchers.h"
#include "gtest/gtest.h"
#include "samplan/v1/audit.pb.h"
#include "samplan/v1/consent.pb.h"
#include "samplan/v1/plan.pb.h"
#include "sqlite3.h"
#include "storage/fault_vfs.h"
#include "storage/sqlite_store.h"
#include "storage/store_test_util.h"

namespace samplan::storage {
namespace {

// Clears the fault whatever the test's outcome, so that no other test of
// the process inherits it.
class FaultGuard {
 public:
  FaultGuard() : vfs_(FaultVfs::Install()) {}
  ~FaultGuard() { vfs_.Fail(0); }
  FaultVfs& vfs() { return vfs_; }

 private:
  FaultVfs& vfs_;
};

class DiskFaultTest : public ::testing::TestWithParam<int> {};

// While the disk refuses writes every transaction that changes anything is
// UNAVAILABLE and leaves nothing behind, reads still answer from what was
// committed, and once the fault clears the next write succeeds by itself and
// continues the same audit tree, which is whole after a reopen.
TEST_P(DiskFaultTest, WritesAreUnavailableNothingIsKeptAndTheStoreRecovers) {
  TempDir dir;
  FaultGuard fault;
  const std::string path = (dir.path() / "samplan.db").string();
  SqliteOptions options{path};
  options.vfs = FaultVfs::kName;
  options.checkpoint_pages = 4;  // the checkpoint thread writes too
  auto opened = OpenSqliteStore(options);
  ASSERT_THAT(opened, IsOk());
  Store& store = **opened;

  audit::CompactRange expected;
  int64_t time = 1000;
  // One grant and its audit record, in one transaction, as a call commits.
  auto grant_and_record = [&](const std::string& id) {
    return [&, id](Transaction& tx) -> absl::Status {
      RETURN_IF_ERROR(tx.grants().Insert(MakeGrant(id, 1, 2)));
      return tx.audit()
          .Append(MakeEvent(time, kChild, v1::DECISION_ALLOW))
          .status();
    };
  };
  auto committed = [&] {
    expected.Append(
        audit::EventLeafHash(MakeEvent(time++, kChild, v1::DECISION_ALLOW)));
  };
  for (const char* id : {"g1", "g2", "g3"}) {
    ASSERT_THAT(store.Write(grant_and_record(id)), IsOk());
    committed();
  }

  fault.vfs().Fail(GetParam());
  const int64_t failures_before = fault.vfs().failures();
  EXPECT_THAT(store.Write(grant_and_record("lost-1")),
              StatusIs(absl::StatusCode::kUnavailable));
  auto lost2 = grant_and_record("lost-2");
  auto lost3 = grant_and_record("lost-3");
  const absl::FunctionRef<absl::Status(Transaction&)> batch[] = {lost2, lost3};
  for (const absl::Status& s : store.WriteBatch(batch)) {
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnavailable));
  }
  EXPECT_GT(fault.vfs().failures(), failures_before) << "no fault was hit";
  ASSERT_THAT(store.Read([&](Transaction& tx) -> absl::Status {
    EXPECT_EQ(*tx.audit().Size(), 3);
    EXPECT_THAT(tx.grants().Get("g3"), IsOk());
    for (const char* id : {"lost-1", "lost-2", "lost-3"}) {
      EXPECT_THAT(tx.grants().Get(id), StatusIs(absl::StatusCode::kNotFound));
    }
    return absl::OkStatus();
  }),
              IsOk());

  fault.vfs().Fail(0);
  // The same writes, retried, now succeed.
  for (const char* id : {"lost-1", "lost-2"}) {
    ASSERT_THAT(store.Write(grant_and_record(id)), IsOk());
    committed();
  }
  ASSERT_THAT(store.Read([&](Transaction& tx) -> absl::Status {
    EXPECT_EQ(*tx.audit().Size(), 5);
    EXPECT_EQ(*tx.audit().RootAt(5), expected.Root());
    return absl::OkStatus();
  }),
              IsOk());
  opened->reset();

  auto reopened = OpenSqliteStore(SqliteOptions{path});
  ASSERT_THAT(reopened, IsOk());
  ASSERT_THAT((*reopened)->Read([&](Transaction& tx) -> absl::Status {
    EXPECT_EQ(*tx.audit().Size(), 5);
    EXPECT_EQ(*tx.audit().RootAt(5), expected.Root());
    EXPECT_THAT(tx.grants().Get("lost-2"), IsOk());
    EXPECT_THAT(tx.grants().Get("lost-3"),
                StatusIs(absl::StatusCode::kNotFound));
    return absl::OkStatus();
  }),
              IsOk());
}

INSTANTIATE_TEST_SUITE_P(FullDiskAndDeviceError, DiskFaultTest,
                         ::testing::Values(SQLITE_FULL, SQLITE_IOERR),
                         [](const ::testing::TestParamInfo<int>& param) {
                           return std::string(param.param == SQLITE_FULL
                                                  ? "DiskFull"
                                                  : "IoError");
                         });

// Overwrites page `page` (1-based) of the database file at `path` with
// garbage, as a failing disk or a stray write would leave it.
void DamagePage(const std::string& path, int64_t page, int page_size) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f.is_open());
  f.seekp((page - 1) * page_size);
  const std::string garbage(page_size, '\xab');
  f.write(garbage.data(), page_size);
  ASSERT_TRUE(f.good());
}

// A damaged page under a plan's entries is DATA_LOSS (reason
// STORAGE_CORRUPT), never served and never mistaken for "no entries"; the
// rest of the database still answers.
TEST(CorruptDatabaseTest, ADamagedPageIsDataLossNeverServed) {
  TempDir dir;
  const std::string path = (dir.path() / "samplan.db").string();
  {
    auto store = OpenSqliteStore(SqliteOptions{path});
    ASSERT_THAT(store, IsOk());
    ASSERT_THAT((*store)->Write([&](Transaction& tx) -> absl::Status {
      RETURN_IF_ERROR(
          tx.agencies().Create(MakeAgency("school-1", v1::SECTOR_SCHOOL)));
      RETURN_IF_ERROR(
          tx.agencies().Create(MakeAgency("bup-1", v1::SECTOR_HEALTHCARE)));
      RETURN_IF_ERROR(tx.plans().Create(MakePlan("p1"), "staff-1",
                                        absl::FromUnixSeconds(2000)));
      RETURN_IF_ERROR(tx.grants().Insert(MakeGrant("g1", 1, 2)));
      // Enough entries that the table needs pages below its root.
      for (int i = 0; i < 200; ++i) {
        RETURN_IF_ERROR(
            tx.plans().PutEntry("p1", MakeEntry("p1", "e" + std::to_string(i),
                                                1, std::string(200, 'x'))));
      }
      return absl::OkStatus();
    }),
                IsOk());
  }  // closing copies the write-ahead log into the file
  int64_t root = 0;
  int page_size = 0;
  {
    SQLite::Database raw(path, SQLite::OPEN_READONLY);
    root = raw.execAndGet(
                  "SELECT rootpage FROM sqlite_master WHERE name = 'entries'")
               .getInt64();
    page_size = raw.execAndGet("PRAGMA page_size").getInt();
  }
  ASSERT_GT(root, 1);
  DamagePage(path, root, page_size);

  auto store = OpenSqliteStore(SqliteOptions{path});
  ASSERT_THAT(store, IsOk());
  bool served = false;
  EXPECT_THAT((*store)->Read([&](Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<v1::Entry> entries,
                     tx.plans().ListEntries("p1"));
    served = true;
    return absl::OkStatus();
  }),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_FALSE(served);
  EXPECT_THAT((*store)->Read([&](Transaction& tx) {
    return tx.plans().GetEntry("p1", "e7").status();
  }),
              StatusIs(absl::StatusCode::kDataLoss));
  absl::Status in_write = (*store)->Write([&](Transaction& tx) {
    return tx.plans().PutEntry("p1", MakeEntry("p1", "e7", 1, "changed"));
  });
  EXPECT_THAT(in_write, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_EQ(ReasonOf(in_write), "STORAGE_CORRUPT");
  EXPECT_THAT((*store)->Read([&](Transaction& tx) {
    return tx.grants().Get("g1").status();
  }),
              IsOk());
}

// A file whose header is damaged is not opened as an empty database: the
// server refuses to start on it.
TEST(CorruptDatabaseTest, ADamagedHeaderIsDataLossAtOpen) {
  TempDir dir;
  const std::string path = (dir.path() / "samplan.db").string();
  {
    auto store = OpenSqliteStore(SqliteOptions{path});
    ASSERT_THAT(store, IsOk());
  }
  DamagePage(path, 1, 4096);
  auto store = OpenSqliteStore(SqliteOptions{path});
  EXPECT_THAT(store, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_EQ(ReasonOf(store.status()), "STORAGE_CORRUPT");
}

}  // namespace
}  // namespace samplan::storage
