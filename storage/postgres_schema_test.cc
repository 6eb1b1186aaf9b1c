// The PostgreSQL schema on a real PostgreSQL (Debian's, started by the test
// on loopback): migrations apply once, also from replicas starting
// together; a newer schema is refused untouched; the append-only tables
// refuse UPDATE, DELETE and TRUNCATE whatever the role; the servers' role
// has no UPDATE or DELETE on them at all.

#include "storage/postgres_schema.h"

#include <libpq-fe.h>

#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/postgres_test_server.h"

namespace samplan::storage::postgres {
namespace {

using ::testing::HasSubstr;

class PostgresSchemaTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new PostgresTestServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(server_->ok());
    conninfo_ = server_->CreateDatabaseForCurrentTest();
    conn_ = Connect();
    ASSERT_EQ(PQstatus(conn_.get()), CONNECTION_OK)
        << PQerrorMessage(conn_.get());
  }

  PgConn Connect() { return PgConn(PQconnectdb(conninfo_.c_str())); }

  // The SQLSTATE of `sql` on `conn` ("" when it succeeded).
  static std::string StateOf(PGconn* conn, const std::string& sql) {
    PGresult* r = PQexec(conn, sql.c_str());
    const ExecStatusType s = PQresultStatus(r);
    std::string state;
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
      const char* code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
      state = code != nullptr ? code : "?";
    }
    PQclear(r);
    return state;
  }

  std::string Scalar(const std::string& sql) {
    PGresult* r = PQexec(conn_.get(), sql.c_str());
    std::string v = PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "(none)";
    PQclear(r);
    return v;
  }

  static PostgresTestServer* server_;
  std::string conninfo_;
  PgConn conn_;
};

PostgresTestServer* PostgresSchemaTest::server_ = nullptr;

TEST_F(PostgresSchemaTest, MigratesOnceAndAgainIsANoOp) {
  ASSERT_THAT(Migrate(conn_.get()), IsOk());
  EXPECT_EQ(Scalar("SELECT version FROM samplan_schema"),
            absl::StrCat(LatestSchemaVersion()));
  EXPECT_EQ(Scalar("SELECT size FROM audit_tree_state"), "0");
  ASSERT_THAT(Migrate(conn_.get()), IsOk());
  EXPECT_EQ(Scalar("SELECT count(*) FROM samplan_schema"), "1");
  EXPECT_EQ(Scalar("SELECT count(*) FROM audit_tree_state"), "1");
}

TEST_F(PostgresSchemaTest, ReplicasStartingTogetherMigrateOnce) {
  std::vector<std::thread> replicas;
  std::vector<absl::Status> results(4);
  for (size_t i = 0; i < results.size(); ++i) {
    replicas.emplace_back([&, i] {
      PgConn conn = Connect();
      results[i] = Migrate(conn.get());
    });
  }
  for (auto& t : replicas) t.join();
  for (const auto& s : results) EXPECT_THAT(s, IsOk());
  EXPECT_EQ(Scalar("SELECT version FROM samplan_schema"),
            absl::StrCat(LatestSchemaVersion()));
}

TEST_F(PostgresSchemaTest, ANewerSchemaIsRefusedUntouched) {
  ASSERT_THAT(Migrate(conn_.get()), IsOk());
  ASSERT_EQ(StateOf(conn_.get(), "UPDATE samplan_schema SET version = 1000"),
            "");
  const absl::Status s = Migrate(conn_.get());
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ReasonOf(s), "SCHEMA_TOO_NEW");
  EXPECT_EQ(MetadataOf(s, "schema_version"), "1000");
  EXPECT_EQ(Scalar("SELECT version FROM samplan_schema"), "1000");
  // The connection is left usable, outside any transaction.
  EXPECT_EQ(PQtransactionStatus(conn_.get()), PQTRANS_IDLE);
}

TEST_F(PostgresSchemaTest, NoConnectionIsUnavailable) {
  EXPECT_THAT(Migrate(nullptr), StatusIs(absl::StatusCode::kUnavailable));
  PgConn bad(PQconnectdb("host=127.0.0.1 port=1 connect_timeout=2"));
  EXPECT_THAT(Migrate(bad.get()), StatusIs(absl::StatusCode::kUnavailable));
}

// One row in each append-only table, then every way to change it.
TEST_F(PostgresSchemaTest, AServerRoleWithoutCreateStartsOnACurrentSchema) {
  ASSERT_THAT(Migrate(conn_.get()), IsOk());
  // A login role that is only a member of samplan_app: it may not create
  // tables in the schema, and needs not once the schema is current.
  ASSERT_EQ(
      StateOf(conn_.get(),
              absl::StrCat("DO $$ BEGIN CREATE ROLE samplan_replica LOGIN "
                           "IN ROLE ",
                           kAppRole,
                           "; EXCEPTION WHEN duplicate_object THEN "
                           "NULL; END $$")),
      "");
  PgConn replica(
      PQconnectdb(absl::StrCat(conninfo_, " user=samplan_replica").c_str()));
  ASSERT_EQ(PQstatus(replica.get()), CONNECTION_OK)
      << PQerrorMessage(replica.get());
  EXPECT_EQ(StateOf(replica.get(), "CREATE TABLE t (x INTEGER)"), "42501");
  EXPECT_THAT(Migrate(replica.get()), IsOk());
}

TEST_F(PostgresSchemaTest, AppendOnlyTablesRefuseChangesWhateverTheRole) {
  ASSERT_THAT(Migrate(conn_.get()), IsOk());
  ASSERT_EQ(StateOf(conn_.get(), R"sql(
    INSERT INTO agencies VALUES ('a', 1, 1, 1, '\x00');
    INSERT INTO plans(id, subject, lead_agency, state, revision, create_time)
      VALUES ('p', 's', 'a', 1, 1, 0);
    INSERT INTO plan_revisions VALUES ('p', 1, 0, 'a', 'x', 'create', '\x00');
    INSERT INTO entries(plan_id, entry_id, revision, owner_agency, category, data)
      VALUES ('p', 'e', 1, 'a', 1, '\x00');
    INSERT INTO approvals VALUES ('p', 1, 1, '\x00');
    INSERT INTO custody_facts VALUES ('c', 's', 'g', 0, NULL, '\x00');
    INSERT INTO custody_endings VALUES ('c', 1, 'a', 'x', 1);
    INSERT INTO grants VALUES ('g', 's', NULL, 0, 1, 0, '\x00');
    INSERT INTO grant_endings(grant_id, seq, state, time, reason, agency, actor)
      VALUES ('g', 1, 2, 1, 'r', 'a', 'x');
    INSERT INTO audit_events VALUES (0, 0, 'a', 'x', 1, 's', 1, 'p', '\x00');
    INSERT INTO audit_nodes VALUES (0, 0, '\x00');
    INSERT INTO audit_checkpoints VALUES (1, 0, '\x00', 'note');
  )sql"),
            "");
  // Each table and a column of it that an UPDATE could change.
  const std::vector<std::pair<std::string, std::string>> tables = {
      {"plan_revisions", "actor"},  {"entries", "owner_agency"},
      {"approvals", "data"},        {"custody_facts", "guardian"},
      {"custody_endings", "actor"}, {"grants", "subject"},
      {"grant_endings", "reason"},  {"audit_events", "actor"},
      {"audit_nodes", "hash"},      {"audit_checkpoints", "signed_note"}};
  // The owner (a superuser here): the triggers refuse, with
  // restrict_violation (23001) from samplan_append_only().
  for (const auto& [t, column] : tables) {
    SCOPED_TRACE(t);
    EXPECT_EQ(StateOf(conn_.get(), absl::StrCat("UPDATE ", t, " SET ", column,
                                                " = ", column)),
              "23001");
    EXPECT_EQ(StateOf(conn_.get(), absl::StrCat("DELETE FROM ", t)), "23001");
    EXPECT_EQ(StateOf(conn_.get(), absl::StrCat("TRUNCATE ", t, " CASCADE")),
              "23001");
  }
  EXPECT_EQ(StateOf(conn_.get(), "UPDATE audit_events SET actor = 'y'"),
            "23001");
  EXPECT_EQ(StateOf(conn_.get(), "UPDATE grants SET valid_until = 2"), "23001");
  EXPECT_EQ(Scalar("SELECT count(*) FROM audit_events"), "1");

  // The servers' role: no privilege to try, and the current-state tables
  // still change.
  ASSERT_EQ(StateOf(conn_.get(), absl::StrCat("SET ROLE ", kAppRole)), "");
  for (const auto& [t, column] : tables) {
    SCOPED_TRACE(t);
    // insufficient_privilege
    EXPECT_EQ(StateOf(conn_.get(), absl::StrCat("UPDATE ", t, " SET ", column,
                                                " = ", column)),
              "42501");
    EXPECT_EQ(StateOf(conn_.get(), absl::StrCat("DELETE FROM ", t)), "42501");
  }
  EXPECT_EQ(StateOf(conn_.get(), "UPDATE audit_events SET actor = 'y'"),
            "42501");
  EXPECT_EQ(StateOf(conn_.get(),
                    "INSERT INTO audit_events VALUES "
                    "(1, 0, 'a', 'x', 1, 's', 1, 'p', '\\x00')"),
            "");
  EXPECT_EQ(StateOf(conn_.get(), "UPDATE audit_tree_state SET size = 2"), "");
  EXPECT_EQ(StateOf(conn_.get(),
                    "INSERT INTO open_grants VALUES ('g', 1); "
                    "DELETE FROM open_grants WHERE grant_id = 'g'"),
            "");
  EXPECT_EQ(StateOf(conn_.get(), "UPDATE plans SET version = version + 1"), "");
  EXPECT_EQ(StateOf(conn_.get(), "DELETE FROM plans"), "42501");
}

}  // namespace
}  // namespace samplan::storage::postgres
