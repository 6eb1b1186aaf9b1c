// The PostgreSQL backend: any number of samplan-server replicas on one
// database.
//
// Opening connects and applies the schema migrations (postgres_schema.h).
// Write and WriteBatch run on the store's one writing connection, one at a
// time; every batch that appends to the audit log first locks the log's
// tree state row, so batches from all replicas append one after another and
// leaf indexes stay dense and unique. Each Read takes a read connection of
// its own from a pool and runs in one REPEATABLE READ, READ ONLY snapshot.
// A transaction whose start fails on a lost connection (every one is lost
// when PostgreSQL restarts) starts again on a new one for a few seconds;
// one lost later is UNAVAILABLE (the caller retries a write with its request
// id), and the next call opens a new connection. Batches hold at most 63
// savepoints (MaxBatch).

#ifndef SAMPLAN_STORAGE_POSTGRES_STORE_H_
#define SAMPLAN_STORAGE_POSTGRES_STORE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "storage/store.h"

namespace samplan::storage {

struct PostgresOptions {
  // libpq's connection string: "host=... port=... dbname=... user=...".
  std::string conninfo;
};

// Connects and migrates. Returns the store; UNAVAILABLE (reason
// STORAGE_UNAVAILABLE) if PostgreSQL cannot be reached; FAILED_PRECONDITION
// (reason SCHEMA_TOO_NEW) if a newer samplan wrote the database; INTERNAL
// if a migration fails.
absl::StatusOr<std::unique_ptr<Store>> OpenPostgresStore(
    const PostgresOptions& options);

}  // namespace samplan::storage

#endif  // SAMPLAN_STORAGE_POSTGRES_STORE_H_
