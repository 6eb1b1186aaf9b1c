#include "storage/sqlite_store.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "SQLiteCpp/Database.h"
#include "SQLiteCpp/Exception.h"
#include "SQLiteCpp/Statement.h"
#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "audit/leaf.h"
#include "audit/merkle.h"
#include "common/errors.h"
#include "common/proto_time.h"
#include "common/resource_names.h"
#include "common/status_macros.h"
#include "samplan/v1/admin.pb.h"
#include "samplan/v1/audit.pb.h"
#include "samplan/v1/consent.pb.h"
#include "samplan/v1/plan.pb.h"
#include "sqlite3.h"
#include "storage/migrations.h"
#include "storage/sql_repositories.h"

namespace samplan::storage {
namespace {

using ::google::protobuf::Timestamp;

// Maps a SQLite failure to the storage error model. Messages name the
// operation and SQLite's own text (constraint and table names, never values).
absl::Status FromSqlite(absl::string_view what, const SQLite::Exception& e) {
  const int primary = e.getErrorCode() & 0xff;
  const int extended = e.getExtendedErrorCode();
  const std::string message = absl::StrCat("storage: ", what, ": ", e.what());
  switch (primary) {
    case SQLITE_CONSTRAINT:
      if (extended == SQLITE_CONSTRAINT_PRIMARYKEY ||
          extended == SQLITE_CONSTRAINT_UNIQUE) {
        return WithReason(absl::AlreadyExistsError(message), "ALREADY_EXISTS");
      }
      return absl::FailedPreconditionError(message);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
      return WithReason(absl::UnavailableError(message), "STORAGE_UNAVAILABLE");
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      // A damaged page or file: what it held is gone, and nothing read
      // from it may be served. Retrying does not help.
      return WithReason(absl::DataLossError(message), "STORAGE_CORRUPT");
    default:
      return absl::InternalError(message);
  }
}

// The connection and its prepared statements. Used by one transaction at a
// time (the store's mutex is held), so it needs no lock of its own.
class Connection {
 public:
  explicit Connection(SQLite::Database db) : db_(std::move(db)) {}

  SQLite::Database& db() { return db_; }

  // A prepared statement for `sql`, reset and with bindings cleared. `sql`
  // must be a string literal: statements are cached by its address.
  SQLite::Statement& Prepare(const char* sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
      it = cache_.emplace(sql, std::make_unique<SQLite::Statement>(db_, sql))
               .first;
    }
    SQLite::Statement& s = *it->second;
    // tryReset: reset() would throw the previous step's error again.
    s.tryReset();
    s.clearBindings();
    return s;
  }

  // A statement for SQL built at run time, cached by its text.
  SQLite::Statement& PrepareText(const std::string& sql) {
    auto it = text_cache_.find(sql);
    if (it == text_cache_.end()) {
      it = text_cache_
               .emplace(sql, std::make_unique<SQLite::Statement>(db_, sql))
               .first;
    }
    SQLite::Statement& s = *it->second;
    s.tryReset();
    s.clearBindings();
    return s;
  }

  // Resets every cached statement. A statement left mid-result keeps its
  // read snapshot open after COMMIT: later transactions would not see other
  // connections' writes, and the WAL could not be checkpointed past it.
  void ResetAll() {
    for (auto& [sql, statement] : cache_) statement->tryReset();
    for (auto& [sql, statement] : text_cache_) statement->tryReset();
  }

 private:
  SQLite::Database db_;
  absl::flat_hash_map<const char*, std::unique_ptr<SQLite::Statement>> cache_;
  absl::flat_hash_map<std::string, std::unique_ptr<SQLite::Statement>>
      text_cache_;
};

// The SQLite backend's traits for the shared repositories.
struct SqliteDb {
  using Connection = samplan::storage::Connection;
  using Error = SQLite::Exception;
  static absl::Status FromError(absl::string_view what, const Error& e) {
    return FromSqlite(what, e);
  }
  static bool IsConstraint(const Error& e) {
    return (e.getErrorCode() & 0xff) == SQLITE_CONSTRAINT;
  }
  static constexpr bool kPostgres = false;
  // `sql` is a string literal (BEGIN, COMMIT, SAVEPOINT ...), prepared once
  // per connection: every call runs several, and parsing them again each
  // time was a measurable share of the writer's time.
  static absl::Status Exec(Connection& c, const char* sql);
  static void Rollback(Connection& c);
  // A statement left mid-result would keep its read snapshot open.
  static void BeforeCommit(Connection& c) { c.ResetAll(); }
};

using sql::Guard;

absl::Status SqliteDb::Exec(Connection& c, const char* sql) {
  return Guard<SqliteDb>(sql, [&]() -> absl::Status {
    c.Prepare(sql).exec();
    return absl::OkStatus();
  });
}

void SqliteDb::Rollback(Connection& c) {
  c.ResetAll();
  if (sqlite3_get_autocommit(c.db().getHandle()) == 0) {
    (void)Exec(c, "ROLLBACK");
  }
}

class SqliteStore final : public Store {
 public:
  // `options.path` names a file: Read() uses read-only connections of its
  // own, so reads run beside the writer (WAL) instead of waiting for it.
  // For ":memory:" (private to its connection) reads share the writer's.
  // For a file, `checkpointer` is a second writable connection: it copies
  // the write-ahead log into the database on a thread of its own.
  SqliteStore(SQLite::Database db, std::optional<SQLite::Database> checkpointer,
              const SqliteOptions& options)
      : conn_(std::move(db)),
        readers_path_(options.path == ":memory:" ? "" : options.path),
        vfs_(options.vfs),
        busy_timeout_ms_(options.busy_timeout_ms),
        checkpoint_pages_(options.checkpoint_pages),
        wal_limit_pages_(
            std::max(options.wal_limit_pages, options.checkpoint_pages)),
        restart_at_pages_(wal_limit_pages_),
        after_checkpoint_(options.after_checkpoint_for_testing) {
    if (checkpointer.has_value()) {
      checkpoint_db_.emplace(std::move(*checkpointer));
      // Replaces SQLite's automatic checkpoint, which the commit crossing
      // the limit would run before its COMMIT returns.
      sqlite3_wal_hook(conn_.db().getHandle(), &SqliteStore::OnWalCommit, this);
      checkpoint_thread_ = std::thread([this] { CheckpointLoop(); });
    }
  }

  ~SqliteStore() override {
    {
      absl::MutexLock lock(&checkpoint_mu_);
      stopping_ = true;
    }
    if (checkpoint_thread_.joinable()) checkpoint_thread_.join();
  }

  absl::Status Write(
      absl::FunctionRef<absl::Status(Transaction&)> fn) override {
    absl::MutexLock lock(&mu_);
    return Run(conn_, fn, "BEGIN IMMEDIATE", /*committed=*/false);
  }

  std::vector<absl::Status> WriteBatch(
      absl::Span<const absl::FunctionRef<absl::Status(Transaction&)>> fns)
      override {
    absl::MutexLock lock(&mu_);
    return sql::RunBatch<SqliteDb>(conn_, fns, "BEGIN IMMEDIATE");
  }

  absl::Status Read(absl::FunctionRef<absl::Status(Transaction&)> fn) override {
    if (readers_path_.empty()) {
      absl::MutexLock lock(&mu_);
      RETURN_IF_ERROR(Exec(conn_, "PRAGMA query_only = ON"));
      absl::Status s = Run(conn_, fn, "BEGIN", /*committed=*/true);
      absl::Status reset = Exec(conn_, "PRAGMA query_only = OFF");
      return s.ok() ? reset : s;
    }
    ASSIGN_OR_RETURN(std::unique_ptr<Connection> reader, TakeReader());
    // A read transaction: one snapshot for all of fn's statements.
    absl::Status status = Run(*reader, fn, "BEGIN", /*committed=*/true);
    if (sqlite3_get_autocommit(reader->db().getHandle()) != 0) {
      absl::MutexLock lock(&readers_mu_);
      readers_.push_back(std::move(reader));
    }  // else: left in an unknown state; dropped.
    return status;
  }

 private:
  // On the writer's connection (conn_), callers hold mu_; a read
  // connection belongs to the one Read() that took it.
  static absl::Status Exec(Connection& c, const char* sql) {
    return SqliteDb::Exec(c, sql);
  }
  static absl::Status Run(Connection& c,
                          absl::FunctionRef<absl::Status(Transaction&)> fn,
                          const char* begin, bool committed) {
    return sql::RunTransaction<SqliteDb>(c, fn, begin, committed);
  }

  // An idle read-only connection, or a new one.
  absl::StatusOr<std::unique_ptr<Connection>> TakeReader() {
    {
      absl::MutexLock lock(&readers_mu_);
      if (!readers_.empty()) {
        std::unique_ptr<Connection> c = std::move(readers_.back());
        readers_.pop_back();
        return c;
      }
    }
    try {
      SQLite::Database db(readers_path_, SQLite::OPEN_READONLY,
                          busy_timeout_ms_, vfs_);
      return std::make_unique<Connection>(std::move(db));
    } catch (const SQLite::Exception& e) {
      return WithReason(
          absl::UnavailableError(absl::StrCat(
              "storage: cannot open a read connection: ", e.what())),
          "STORAGE_UNAVAILABLE");
    }
  }

  // Called by SQLite on the writer's connection after each commit, with the
  // pages now in the write-ahead log: past checkpoint_pages, wakes the
  // checkpoint thread and returns at once; past wal_limit_pages (the thread
  // fell behind), checkpoints here and waits for readers, so that the next
  // transaction starts the log over (SqliteOptions::wal_limit_pages). When
  // that cannot finish within the busy timeout (a reader held on), the next
  // try waits for the log to grow by another wal_limit_pages, so commits do
  // not each wait out the timeout.
  static int OnWalCommit(void* arg, sqlite3* db, const char*, int pages) {
    auto* self = static_cast<SqliteStore*>(arg);
    if (pages >= self->checkpoint_pages_) {
      absl::MutexLock lock(&self->checkpoint_mu_);
      self->checkpoint_wanted_ = true;
    }
    if (pages >= self->restart_at_pages_) {
      int log_frames = 0;
      int copied = 0;
      const int rc = sqlite3_wal_checkpoint_v2(
          db, nullptr, SQLITE_CHECKPOINT_RESTART, &log_frames, &copied);
      self->restart_at_pages_ = rc == SQLITE_OK
                                    ? self->wal_limit_pages_
                                    : pages + self->wal_limit_pages_;
    }
    return SQLITE_OK;
  }

  // PASSIVE: copies what no reader still needs, never waits for the writer
  // or a reader and never stops them. Once the whole log is copied the
  // writer starts it over from the beginning.
  void CheckpointLoop() {
    for (;;) {
      {
        absl::MutexLock lock(&checkpoint_mu_);
        auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(checkpoint_mu_) {
          return checkpoint_wanted_ || stopping_;
        };
        checkpoint_mu_.Await(absl::Condition(&ready));
        if (stopping_) return;
        checkpoint_wanted_ = false;
      }
      int log_frames = 0;
      int copied = 0;
      // An error (SQLITE_BUSY while another process checkpoints) is left
      // for the next commit's request to retry.
      (void)sqlite3_wal_checkpoint_v2(checkpoint_db_->getHandle(), nullptr,
                                      SQLITE_CHECKPOINT_PASSIVE, &log_frames,
                                      &copied);
      if (after_checkpoint_) after_checkpoint_(log_frames, copied);
    }
  }

  absl::Mutex mu_;
  Connection conn_ ABSL_GUARDED_BY(mu_);

  // Idle read-only connections; as many as reads ever ran at once.
  const std::string readers_path_;
  const std::string vfs_;
  const int busy_timeout_ms_;
  absl::Mutex readers_mu_;
  std::vector<std::unique_ptr<Connection>> readers_
      ABSL_GUARDED_BY(readers_mu_);

  // The checkpoint thread, its connection (used by that thread only) and
  // its wake-up.
  const int checkpoint_pages_;
  const int wal_limit_pages_;
  // Read and written only by OnWalCommit, which runs inside the writer's
  // commit (under mu_).
  int restart_at_pages_;
  const std::function<void(int, int)> after_checkpoint_;
  std::optional<SQLite::Database> checkpoint_db_;
  absl::Mutex checkpoint_mu_;
  bool checkpoint_wanted_ ABSL_GUARDED_BY(checkpoint_mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(checkpoint_mu_) = false;
  std::thread checkpoint_thread_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> OpenSqliteStore(
    const SqliteOptions& options) {
  std::optional<SQLite::Database> db;
  try {
    db.emplace(options.path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE,
               options.busy_timeout_ms, options.vfs);
  } catch (const SQLite::Exception& e) {
    return WithReason(
        absl::UnavailableError(absl::StrCat("cannot open the database at '",
                                            options.path, "': ", e.what())),
        "STORAGE_UNAVAILABLE");
  }
  absl::Status pragmas =
      Guard<SqliteDb>("configure database", [&]() -> absl::Status {
        db->exec("PRAGMA foreign_keys = ON");
        // WAL is unavailable for in-memory databases; they keep "memory".
        db->execAndGet("PRAGMA journal_mode = WAL");
        db->exec("PRAGMA synchronous = FULL");
        // The writer's page cache (SQLite's default is 2 MiB): the audit log's
        // indexes grow without bound, and every append touches five of them.
        db->exec(absl::StrCat("PRAGMA cache_size = -",
                              std::max(1, options.cache_mib) * 1024));
        // Savepoint journals (one per group-commit batch) in memory, not in a
        // temporary file created and deleted for every batch.
        db->exec("PRAGMA temp_store = MEMORY");
        return absl::OkStatus();
      });
  RETURN_IF_ERROR(pragmas);
  RETURN_IF_ERROR(Migrate(*db));
  std::optional<SQLite::Database> checkpointer;
  if (options.path != ":memory:" && options.checkpoint_pages > 0) {
    absl::Status opened =
        Guard<SqliteDb>("open the checkpoint connection", [&] {
          checkpointer.emplace(options.path, SQLite::OPEN_READWRITE,
                               options.busy_timeout_ms, options.vfs);
          checkpointer->exec("PRAGMA synchronous = FULL");
          return absl::OkStatus();
        });
    RETURN_IF_ERROR(opened);
  }
  return std::make_unique<SqliteStore>(std::move(*db), std::move(checkpointer),
                                       options);
}

}  // namespace samplan::storage
