// The embedded storage backend: one SQLite database file (or memory) through
// SQLiteCpp.
//
// Opening applies the schema migrations (see migrations.h) and sets WAL
// journaling, synchronous=FULL (a transaction is on disk when Write
// returns) and foreign keys. SqliteStore is thread-safe: one writing
// connection serves Write and WriteBatch, one at a time on its mutex; on a
// file database each Read takes a read-only connection of its own from a
// pool (opened when all are busy, then kept), so reads run beside the
// writer and see every transaction committed before they began. On
// ":memory:" (private to its connection) reads share the writing connection
// under the same mutex. SQLiteCpp exceptions stop here and become
// absl::Status.

#ifndef SAMPLAN_STORAGE_SQLITE_STORE_H_
#define SAMPLAN_STORAGE_SQLITE_STORE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "storage/store.h"

namespace samplan::storage {

struct SqliteOptions {
  // A file path, or ":memory:" for a private in-memory database (tests).
  std::string path = ":memory:";
  // How long a statement waits for a lock held by another process.
  int busy_timeout_ms = 5000;
};

// Opens (creating if missing) and migrates the database.
// Returns the store; UNAVAILABLE if the file cannot be opened or created;
// FAILED_PRECONDITION (reason SCHEMA_TOO_NEW) if a newer samplan wrote it;
// INTERNAL if a migration fails.
absl::StatusOr<std::unique_ptr<Store>> OpenSqliteStore(
    const SqliteOptions& options);

}  // namespace samplan::storage

#endif  // SAMPLAN_STORAGE_SQLITE_STORE_H_
