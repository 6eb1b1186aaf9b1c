// Versioned schema migrations for the PostgreSQL store.
//
// The same records as the SQLite schema (storage/migrations.cc), in
// PostgreSQL's types, with the same append-only guarantees twice over:
// triggers refuse UPDATE, DELETE and TRUNCATE on the append-only tables for
// every role, the owner included, and the role `samplan_app`, which the
// servers' login roles are meant to be members of, is granted no UPDATE or
// DELETE on them in the first place. One row of tree state (the audit log's
// size) is what concurrent writers lock to sequence their audit batches.
//
// The version lives in the one-row table samplan_schema. Migrate() applies
// every newer migration, each in its own transaction, under an advisory lock
// so that replicas starting together migrate once; a database whose version
// is newer than this build knows is refused, untouched.

#ifndef SAMPLAN_STORAGE_POSTGRES_SCHEMA_H_
#define SAMPLAN_STORAGE_POSTGRES_SCHEMA_H_

#include "absl/status/status.h"

struct pg_conn;  // libpq's PGconn

namespace samplan::storage::postgres {

// The role the servers act as: SELECT and INSERT on every table, UPDATE or
// DELETE only on the tables that hold current state.
inline constexpr char kAppRole[] = "samplan_app";

// The schema version this build writes.
int LatestSchemaVersion();

// Brings the database `conn` is connected to to LatestSchemaVersion().
// Returns OK; FAILED_PRECONDITION (reason SCHEMA_TOO_NEW, metadata
// schema_version) if a newer samplan wrote it; UNAVAILABLE if the
// connection fails; INTERNAL naming the migration that failed (it is rolled
// back; earlier ones stay). The connecting role must own the database's
// public schema and may create roles (for kAppRole, once per cluster).
// REQUIRES: no transaction is open on `conn`.
absl::Status Migrate(pg_conn* conn);

}  // namespace samplan::storage::postgres

#endif  // SAMPLAN_STORAGE_POSTGRES_SCHEMA_H_
