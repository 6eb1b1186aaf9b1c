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
// under the same mutex. A file database's write-ahead log is checkpointed
// by a thread of the store's own, off the commit path (checkpoint_pages).
// SQLiteCpp exceptions stop here and become absl::Status.

#ifndef SAMPLAN_STORAGE_SQLITE_STORE_H_
#define SAMPLAN_STORAGE_SQLITE_STORE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "storage/store.h"

namespace samplan::storage {

struct SqliteOptions {
  // A file path, or ":memory:" for a private in-memory database (tests).
  std::string path = ":memory:";
  // The SQLite VFS every connection opens the file through; empty:
  // SQLite's default. Tests name a fault-injecting one (fault_vfs.h).
  std::string vfs{};
  // How long a statement waits for a lock held by another process.
  int busy_timeout_ms = 5000;
  // The writing connection's page cache, in MiB. A transaction that
  // changes more pages than fit spills them to the write-ahead log before
  // it commits and reads them back: samplan-datagen, which writes 100,000
  // records per transaction, asks for more.
  int cache_mib = 64;
  // A file database's write-ahead log is copied into the database file
  // (checkpointed) by a thread of the store's own once it holds this many
  // pages, instead of by the commit that crosses the limit, which would
  // copy and fsync before its COMMIT returns. 0: SQLite's automatic
  // checkpoints, on the commit path.
  int checkpoint_pages = 1000;
  // The bound on the write-ahead log when that thread falls behind. A
  // writer that never pauses begins each transaction before the thread's
  // checkpoint of the last one has finished, so the log is never started
  // over and grows without end (it filled a disk under samplan-datagen).
  // The commit that leaves the log holding this many pages therefore
  // checkpoints it itself and waits for readers (SQLite's RESTART mode), so
  // that the next transaction starts the log from the beginning. Only with
  // checkpoint_pages > 0; at least checkpoint_pages.
  int wal_limit_pages = 8000;
  // Tests only: called on the checkpoint thread after each checkpoint with
  // the frames in the log and the frames copied.
  std::function<void(int log_frames, int copied)> after_checkpoint_for_testing =
      nullptr;
};

// Opens (creating if missing) and migrates the database.
// Returns the store; UNAVAILABLE if the file cannot be opened or created;
// DATA_LOSS (reason STORAGE_CORRUPT) if it is not a database or damaged;
// FAILED_PRECONDITION (reason SCHEMA_TOO_NEW) if a newer samplan wrote it;
// INTERNAL if a migration fails.
absl::StatusOr<std::unique_ptr<Store>> OpenSqliteStore(
    const SqliteOptions& options);

}  // namespace samplan::storage

#endif  // SAMPLAN_STORAGE_SQLITE_STORE_H_
