// A private PostgreSQL for tests: deploy/pg-local.sh starts Debian's server
// in a directory of the test's own, on loopback, and stops it at the end.
// Each test takes a database of its own.

#ifndef SAMPLAN_STORAGE_POSTGRES_TEST_SERVER_H_
#define SAMPLAN_STORAGE_POSTGRES_TEST_SERVER_H_

#include <libpq-fe.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"

namespace samplan::storage {

struct PgConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using PgConn = std::unique_ptr<PGconn, PgConnDeleter>;

class PostgresTestServer {
 public:
  // Starts the server in a new directory under the test temporary
  // directory; ok() says whether it came up (the reason goes to the test
  // log otherwise).
  PostgresTestServer() {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("samplan-pg-", ::getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::string out;
    if (Run(absl::StrCat("'", SAMPLAN_SOURCE_DIR,
                         "/deploy/pg-local.sh' start '", dir_.string(),
                         "/pg' --no-fsync"),
            &out) == 0) {
      conninfo_ = std::string(absl::StripTrailingAsciiWhitespace(out));
    } else {
      ADD_FAILURE() << "PostgreSQL did not start: " << out;
    }
  }
  ~PostgresTestServer() {
    std::string out;
    Run(absl::StrCat("'", SAMPLAN_SOURCE_DIR, "/deploy/pg-local.sh' stop '",
                     dir_.string(), "/pg'"),
        &out);
    std::filesystem::remove_all(dir_);
  }

  bool ok() const { return !conninfo_.empty(); }

  // A new, empty database `name`; its connection string.
  std::string CreateDatabase(const std::string& name) {
    PgConn admin(PQconnectdb(conninfo_.c_str()));
    PGresult* r =
        PQexec(admin.get(),
               absl::StrCat("DROP DATABASE IF EXISTS ", name, "; ").c_str());
    PQclear(r);
    r = PQexec(admin.get(), absl::StrCat("CREATE DATABASE ", name).c_str());
    EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK)
        << PQerrorMessage(admin.get());
    PQclear(r);
    return absl::StrCat(conninfo_, " dbname=", name);
  }

  // A new, empty database named after the running test; its connection
  // string.
  std::string CreateDatabaseForCurrentTest() {
    std::string name =
        ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name) {
      c = std::isalnum(static_cast<unsigned char>(c))
              ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
              : '_';
    }
    return CreateDatabase(name);
  }

  const std::string& conninfo() const { return conninfo_; }

  // Stops the server (fast shutdown: sessions are cut) and starts it again
  // on the same port, as an operator's restart does. Returns once it
  // accepts connections; false (with the reason in the test log) if not.
  bool Restart() { return Script("restart"); }
  // Stops it; Start() starts it again on the same port.
  bool Stop() { return Script("stop"); }
  bool Start() { return Script("start"); }

 private:
  bool Script(const std::string& command) {
    std::string out;
    const int rc =
        Run(absl::StrCat("'", SAMPLAN_SOURCE_DIR, "/deploy/pg-local.sh' ",
                         command, " '", dir_.string(), "/pg'",
                         command == "stop" ? "" : " --no-fsync"),
            &out);
    if (rc != 0) ADD_FAILURE() << "pg-local.sh " << command << ": " << out;
    return rc == 0;
  }

  static int Run(const std::string& cmd, std::string* out) {
    FILE* p = popen((cmd + " 2>&1").c_str(), "r");
    if (p == nullptr) return -1;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out->append(buf, n);
    return pclose(p);
  }

  std::filesystem::path dir_;
  std::string conninfo_;
};

}  // namespace samplan::storage

#endif  // SAMPLAN_STORAGE_POSTGRES_TEST_SERVER_H_
