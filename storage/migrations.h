// Versioned schema migrations for the SQLite store.
//
// The schema version lives in PRAGMA user_version. Migrate() applies every
// migration newer than the database's version, each in its own transaction,
// in order; a database whose version is newer than this build knows is
// refused, untouched.

#ifndef SAMPLAN_STORAGE_MIGRATIONS_H_
#define SAMPLAN_STORAGE_MIGRATIONS_H_

#include "absl/status/status.h"

namespace SQLite {
class Database;
}  // namespace SQLite

namespace samplan::storage {

// The schema version this build writes.
int LatestSchemaVersion();

// Brings `db` to LatestSchemaVersion().
// Returns OK; FAILED_PRECONDITION (reason SCHEMA_TOO_NEW) if the database
// was written by a newer samplan; INTERNAL if a migration fails (that
// migration is rolled back; earlier ones stay).
// REQUIRES: no transaction is open on `db`.
absl::Status Migrate(SQLite::Database& db);

// Migrates up to `version` only (at most the latest): for tests of a
// migration's data step.
absl::Status MigrateTo(SQLite::Database& db, int version);

}  // namespace samplan::storage

#endif  // SAMPLAN_STORAGE_MIGRATIONS_H_
