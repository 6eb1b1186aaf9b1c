#include "storage/migrations.h"

#include <string>
#include <utility>
#include <vector>

#include "SQLiteCpp/Database.h"
#include "SQLiteCpp/Statement.h"
#include "audit/leaf.h"
#include "audit/merkle.h"
#include "common/errors.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "samplan/v1/audit.pb.h"

namespace samplan::storage {
namespace {

using ::testing::HasSubstr;

SQLite::Database Memory() {
  return SQLite::Database(":memory:",
                          SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
}

TEST(MigrationsTest, BuildsTheSchemaFromEmpty) {
  SQLite::Database db = Memory();
  ASSERT_THAT(Migrate(db), IsOk());
  EXPECT_EQ(db.execAndGet("PRAGMA user_version").getInt(),
            LatestSchemaVersion());
  for (const char* table :
       {"agencies", "plans", "plan_revisions", "entries", "participants",
        "approvals", "custody_facts", "representations", "grants",
        "grant_endings", "audit_events", "requests", "custody_endings",
        "audit_nodes", "audit_checkpoints"}) {
    EXPECT_TRUE(db.tableExists(table)) << table;
  }
  EXPECT_EQ(db.execAndGet("PRAGMA integrity_check").getString(), "ok");
  EXPECT_EQ(
      db.execAndGet("SELECT count(*) FROM pragma_foreign_key_check").getInt(),
      0);
}

TEST(MigrationsTest, IsIdempotent) {
  SQLite::Database db = Memory();
  ASSERT_THAT(Migrate(db), IsOk());
  ASSERT_THAT(Migrate(db), IsOk());
  EXPECT_EQ(db.execAndGet("PRAGMA user_version").getInt(),
            LatestSchemaVersion());
}

TEST(MigrationsTest, RefusesANewerDatabaseUntouched) {
  SQLite::Database db = Memory();
  db.exec("PRAGMA user_version = 999");
  absl::Status s = Migrate(db);
  EXPECT_THAT(
      s, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("999")));
  EXPECT_EQ(ReasonOf(s), "SCHEMA_TOO_NEW");
  EXPECT_FALSE(db.tableExists("plans"));
  EXPECT_EQ(db.execAndGet("PRAGMA user_version").getInt(), 999);
}

// Version 3 builds the Merkle tree over the events logged before it.
TEST(MigrationsTest, Version3HashesTheEventsAlreadyLogged) {
  SQLite::Database db = Memory();
  ASSERT_THAT(MigrateTo(db, 2), IsOk());
  audit::CompactRange expected;
  for (int i = 0; i < 11; ++i) {
    v1::AuditEvent e;
    e.set_leaf_index(i);
    e.mutable_time()->set_seconds(1700000000 + i);
    e.set_agency("agencies/school-1");
    e.set_action(v1::AUDIT_ACTION_PLAN_READ);
    e.set_resource("plans/p" + std::to_string(i));
    expected.Append(audit::EventLeafHash(e));
    SQLite::Statement insert(
        db,
        "INSERT INTO audit_events(leaf_index, time, agency, actor, action, "
        "subject, decision, data) VALUES(?1, 0, 'school-1', '', 1, '', 0, ?2)");
    const std::string data = e.SerializeAsString();
    insert.bind(1, i);
    insert.bind(2, data.data(), static_cast<int>(data.size()));
    insert.exec();
  }
  ASSERT_THAT(Migrate(db), IsOk());
  auto root = audit::RootAt(
      11, [&](int level, int64_t idx) -> absl::StatusOr<audit::Hash> {
        SQLite::Statement q(db,
                            "SELECT hash FROM audit_nodes WHERE level = ?1 AND "
                            "idx = ?2");
        q.bind(1, level);
        q.bind(2, static_cast<int64_t>(idx));
        if (!q.executeStep()) return absl::NotFoundError("node");
        return audit::HashFromBytes(q.getColumn(0).getString());
      });
  ASSERT_THAT(root, IsOk());
  EXPECT_EQ(*root, expected.Root());
  EXPECT_EQ(db.execAndGet("SELECT resource FROM audit_events WHERE "
                          "leaf_index = 4")
                .getString(),
            "plans/p4");
  // The append-only trigger is back.
  EXPECT_THROW(db.exec("UPDATE audit_events SET actor = 'x'"),
               SQLite::Exception);
}

// Version 5 lists the grants that had not ended when it ran, and only
// those, for the expiry sweeper.
TEST(MigrationsTest, Version5ListsTheGrantsNotYetEnded) {
  SQLite::Database db = Memory();
  ASSERT_THAT(MigrateTo(db, 4), IsOk());
  for (int i = 0; i < 3; ++i) {
    SQLite::Statement insert(
        db,
        "INSERT INTO grants(id, subject, plan, valid_from, valid_until, "
        "create_time, data) VALUES(?1, '201001011234', NULL, 0, ?2, 0, x'')");
    insert.bind(1, "g" + std::to_string(i));
    insert.bind(2, 1000 + i);
    insert.exec();
  }
  db.exec(
      "INSERT INTO grant_endings(grant_id, seq, state, time, reason, agency, "
      "actor) VALUES('g1', 1, 2, 500, 'withdrawn', 'school-1', 'anna')");
  ASSERT_THAT(Migrate(db), IsOk());
  SQLite::Statement q(
      db, "SELECT grant_id, valid_until FROM open_grants ORDER BY grant_id");
  std::vector<std::pair<std::string, int64_t>> open;
  while (q.executeStep()) {
    open.emplace_back(q.getColumn(0).getString(), q.getColumn(1).getInt64());
  }
  EXPECT_EQ(open, (std::vector<std::pair<std::string, int64_t>>{{"g0", 1000},
                                                                {"g2", 1002}}));
}

}  // namespace
}  // namespace samplan::storage
