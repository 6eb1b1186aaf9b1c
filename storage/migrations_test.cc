#include "storage/migrations.h"

#include <string>

#include "SQLiteCpp/Database.h"
#include "common/errors.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

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
        "grant_endings", "audit_events", "requests", "custody_endings"}) {
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

}  // namespace
}  // namespace samplan::storage
