// One PostgreSQL connection (libpq) with prepared statements, behind the
// small statement interface the SQLite store is written against (SQLiteCpp's
// bind / executeStep / getColumn / exec), so that both backends can run the
// same repository code: SQL with numbered parameters (?1, ?2, ...) is
// rewritten to PostgreSQL's ($1, $2, ...) once, when first prepared.
//
// Parameters go as text, blobs as binary; results come back as text, BYTEA
// decoded. Failures throw PgError; FromPg() maps one to the storage error
// model. Not thread-safe: one transaction at a time uses a connection.

#ifndef SAMPLAN_STORAGE_POSTGRES_CONNECTION_H_
#define SAMPLAN_STORAGE_POSTGRES_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct pg_conn;    // libpq's PGconn
struct pg_result;  // libpq's PGresult

namespace samplan::storage::postgres {

// A failed statement: PostgreSQL's SQLSTATE ("23505") and message, or
// "08006" when the connection is gone.
class PgError : public std::runtime_error {
 public:
  PgError(std::string sqlstate, const std::string& message)
      : std::runtime_error(message), sqlstate_(std::move(sqlstate)) {}
  const std::string& sqlstate() const { return sqlstate_; }

 private:
  std::string sqlstate_;
};

// The storage error model for `e` during `what`: a unique violation is
// ALREADY_EXISTS (reason ALREADY_EXISTS); another integrity violation
// FAILED_PRECONDITION; a lost connection, a server shutting down or out of
// resources, a serialization failure or deadlock UNAVAILABLE (reason
// STORAGE_UNAVAILABLE, metadata sqlstate); anything else INTERNAL. Messages
// carry PostgreSQL's text (constraint and table names), never parameters.
absl::Status FromPg(absl::string_view what, const PgError& e);

class PgConnection;

// A column of the current row.
class PgColumn {
 public:
  PgColumn(pg_result* result, int row, int column, std::string* decoded)
      : result_(result), row_(row), column_(column), decoded_(decoded) {}

  bool isNull() const;
  int64_t getInt64() const;
  int getInt() const { return static_cast<int>(getInt64()); }
  // The text, or a BYTEA's bytes.
  std::string getString() const;
  const void* getBlob() const;
  int getBytes() const;

 private:
  pg_result* result_;
  int row_;
  int column_;
  std::string* decoded_;  // the statement's buffer for getBlob()
};

class PgStatement {
 public:
  PgStatement(PgConnection& connection, std::string name, std::string sql);
  ~PgStatement();
  PgStatement(const PgStatement&) = delete;
  PgStatement& operator=(const PgStatement&) = delete;

  // Parameters are numbered from 1.
  void bind(int index, int value) { bind(index, static_cast<int64_t>(value)); }
  void bind(int index, int64_t value);
  void bind(int index, const std::string& text);
  void bind(int index, const char* text) { bind(index, std::string(text)); }
  // Binary (BYTEA).
  void bind(int index, const void* data, int size);
  void bindNull(int index);
  // NULL, as SQLiteCpp's bind(index) does.
  void bind(int index) { bindNull(index); }

  // Runs the statement on the first call, then steps through its rows:
  // true while a row is current.
  bool executeStep();
  // Runs the statement; the number of rows it changed.
  int exec();
  PgColumn getColumn(int index);

  // Forgets the result (the bindings stay until clearBindings()).
  void tryReset();
  void clearBindings();

  const std::string& sql() const { return sql_; }

 private:
  void Run();

  PgConnection& connection_;
  const std::string name_;
  const std::string sql_;  // with $N parameters
  // Which $N the SQL names; a parameter bound but not named (SQL shared
  // with SQLite may skip one) is declared text, since PostgreSQL cannot
  // infer its type.
  std::vector<bool> named_;
  bool prepared_ = false;
  size_t param_count_ = 0;
  struct Param {
    std::string value;
    bool binary = false;
    bool null = true;
  };
  std::vector<Param> params_;
  pg_result* result_ = nullptr;
  int row_ = -1;
  std::string decoded_;
};

class PgConnection {
 public:
  // Connects with libpq's connection string. UNAVAILABLE (reason
  // STORAGE_UNAVAILABLE) when the server cannot be reached.
  static absl::StatusOr<std::unique_ptr<PgConnection>> Open(
      const std::string& conninfo);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // A prepared statement for `sql` (numbered parameters ?N), reset and with
  // bindings cleared. `sql` must be a string literal: statements are cached
  // by its address, as the SQLite store's are.
  PgStatement& Prepare(const char* sql);

  // A statement for SQL built at run time, cached by its text.
  PgStatement& PrepareText(const std::string& sql);

  // Runs statements without parameters or results ("BEGIN", "COMMIT").
  void Exec(const char* sql);

  // Whether the connection still works.
  bool ok() const;

  pg_conn* raw() { return conn_; }

  // Rewrites ?N to $N outside quoted strings and identifiers.
  static std::string Dollars(absl::string_view sql);

 private:
  explicit PgConnection(pg_conn* conn) : conn_(conn) {}

  // The statement `key` names in `cache`, made from `sql` on first use,
  // reset and with bindings cleared.
  template <typename Key>
  PgStatement& Cached(
      absl::flat_hash_map<Key, std::unique_ptr<PgStatement>>& cache,
      const Key& key, absl::string_view sql);

  pg_conn* conn_;
  absl::flat_hash_map<const char*, std::unique_ptr<PgStatement>> cache_;
  absl::flat_hash_map<std::string, std::unique_ptr<PgStatement>> text_cache_;
  int next_name_ = 0;
};

}  // namespace samplan::storage::postgres

#endif  // SAMPLAN_STORAGE_POSTGRES_CONNECTION_H_
