// The PostgreSQL connection behind the SQLite-shaped statement interface,
// on a real PostgreSQL started by the test.

#include "storage/postgres_connection.h"

#include <libpq-fe.h>

#include <memory>
#include <string>

#include "common/errors.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/postgres_test_server.h"

namespace samplan::storage::postgres {
namespace {

TEST(DollarsTest, RewritesNumberedParametersOutsideQuotes) {
  EXPECT_EQ(PgConnection::Dollars("SELECT ?1, ?12 FROM t WHERE a = ?3"),
            "SELECT $1, $12 FROM t WHERE a = $3");
  EXPECT_EQ(PgConnection::Dollars("SELECT '?1', \"?2\", ?3, 'it''s ?4'"),
            "SELECT '?1', \"?2\", $3, 'it''s ?4'");
  EXPECT_EQ(PgConnection::Dollars("SELECT ? FROM t"), "SELECT ? FROM t");
}

class PgConnectionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new PostgresTestServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(server_->ok());
    auto conn = PgConnection::Open(server_->CreateDatabaseForCurrentTest());
    ASSERT_THAT(conn, IsOk());
    conn_ = *std::move(conn);
    conn_->Exec(
        "CREATE TABLE t (id TEXT PRIMARY KEY, n BIGINT, flag INTEGER, "
        "data BYTEA)");
  }

  static PostgresTestServer* server_;
  std::unique_ptr<PgConnection> conn_;
};

PostgresTestServer* PgConnectionTest::server_ = nullptr;

TEST_F(PgConnectionTest, BindsStepsAndReadsColumns) {
  const std::string blob("\x00\xff\x01'\\", 5);
  for (int i = 0; i < 3; ++i) {
    auto& s = conn_->Prepare(
        "INSERT INTO t(id, n, flag, data) "
        "VALUES(?1, ?2, ?3, ?4)");
    s.bind(1, std::string("row-") + std::to_string(i));
    s.bind(2, static_cast<int64_t>(1) << 40 | i);
    s.bind(3, i % 2);
    s.bind(4, blob.data(), static_cast<int>(blob.size()));
    EXPECT_EQ(s.exec(), 1);
  }
  {
    auto& s = conn_->Prepare("INSERT INTO t(id) VALUES(?1)");
    s.bind(1, "nulls");
    EXPECT_EQ(s.exec(), 1);
  }
  auto& s = conn_->Prepare(
      "SELECT id, n, flag, data FROM t WHERE id LIKE 'row-%' ORDER BY id");
  int rows = 0;
  while (s.executeStep()) {
    EXPECT_EQ(s.getColumn(0).getString(), "row-" + std::to_string(rows));
    EXPECT_EQ(s.getColumn(1).getInt64(),
              (static_cast<int64_t>(1) << 40) | rows);
    EXPECT_EQ(s.getColumn(2).getInt(), rows % 2);
    EXPECT_EQ(s.getColumn(3).getString(), blob);
    EXPECT_EQ(s.getColumn(3).getBytes(), 5);
    EXPECT_EQ(
        std::string(static_cast<const char*>(s.getColumn(3).getBlob()), 5),
        blob);
    ++rows;
  }
  EXPECT_EQ(rows, 3);
  auto& n = conn_->Prepare("SELECT n, data FROM t WHERE id = ?1");
  n.bind(1, "nulls");
  ASSERT_TRUE(n.executeStep());
  EXPECT_TRUE(n.getColumn(0).isNull());
  EXPECT_TRUE(n.getColumn(1).isNull());
  EXPECT_FALSE(n.executeStep());
  // The same statement again, reset by Prepare, rebound.
  auto& again = conn_->Prepare("SELECT n, data FROM t WHERE id = ?1");
  again.bind(1, "row-1");
  ASSERT_TRUE(again.executeStep());
  EXPECT_FALSE(again.getColumn(0).isNull());
  // Rows changed, and none.
  auto& u = conn_->Prepare("UPDATE t SET flag = ?2 WHERE id LIKE ?1");
  u.bind(1, "row-%");
  u.bind(2, 7);
  EXPECT_EQ(u.exec(), 3);
  u.bind(1, "nothing");
  EXPECT_EQ(u.exec(), 0);
}

TEST_F(PgConnectionTest, FailuresMapToTheStorageErrorModel) {
  auto insert = [&](const char* id) {
    auto& s = conn_->Prepare("INSERT INTO t(id) VALUES(?1)");
    s.bind(1, id);
    s.exec();
  };
  insert("a");
  try {
    insert("a");
    ADD_FAILURE() << "a duplicate key was accepted";
  } catch (const PgError& e) {
    EXPECT_EQ(e.sqlstate(), "23505");
    const absl::Status s = FromPg("insert", e);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kAlreadyExists));
    EXPECT_EQ(ReasonOf(s), "ALREADY_EXISTS");
    // The message names the constraint, never the value.
    EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("t_pkey"));
    EXPECT_THAT(std::string(s.message()),
                ::testing::Not(::testing::HasSubstr("(a)")));
  }
  try {
    conn_->Exec("SELECT * FROM no_such_table");
    ADD_FAILURE() << "a missing table went unnoticed";
  } catch (const PgError& e) {
    EXPECT_THAT(FromPg("select", e), StatusIs(absl::StatusCode::kInternal));
  }
  // Each class of failure, by its SQLSTATE.
  EXPECT_THAT(FromPg("insert", PgError("23503", "foreign key")),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  for (const char* retry :
       {"40001", "40P01", "55P03", "57014", "57P01", "08006", "53100"}) {
    const absl::Status s = FromPg("commit", PgError(retry, "x"));
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnavailable)) << retry;
    EXPECT_EQ(MetadataOf(s, "sqlstate"), retry);
  }
  {
    // A data exception's message may quote the value: it is not kept.
    const absl::Status s =
        FromPg("insert", PgError("22P02",
                                 "invalid input syntax for type bigint: "
                                 "\"201503142380x\""));
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInternal));
    EXPECT_THAT(std::string(s.message()),
                ::testing::Not(::testing::HasSubstr("201503142380")));
    EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("22P02"));
  }
  for (const char* damaged : {"XX001", "XX002"}) {
    const absl::Status s = FromPg("select", PgError(damaged, "x"));
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kDataLoss)) << damaged;
    EXPECT_EQ(ReasonOf(s), "STORAGE_CORRUPT");
  }
  // Unreachable servers are UNAVAILABLE at once.
  EXPECT_THAT(PgConnection::Open("host=127.0.0.1 port=1 connect_timeout=2"),
              StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace samplan::storage::postgres
