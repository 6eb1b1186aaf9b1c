#include "storage/postgres_store.h"

#include <libpq-fe.h>
#include <poll.h>

#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "storage/postgres_connection.h"
#include "storage/postgres_schema.h"
#include "storage/sql_repositories.h"

namespace samplan::storage {
namespace {

using postgres::PgConnection;
using postgres::PgError;

// The PostgreSQL backend's traits for the shared repositories.
struct PgDb {
  using Connection = PgConnection;
  using Error = PgError;
  static absl::Status FromError(absl::string_view what, const Error& e) {
    return postgres::FromPg(what, e);
  }
  static bool IsConstraint(const Error& e) {
    return absl::StartsWith(e.sqlstate(), "23");
  }
  static constexpr bool kPostgres = true;
  static absl::Status Exec(Connection& c, const char* sql);
  static void Rollback(Connection& c);
  static void BeforeCommit(Connection&) {}
};

// The key of the maintenance lock ("samplan" in ASCII, plus one: the
// migrations' key is the same number).
constexpr char kMaintenanceLock[] =
    "SELECT pg_try_advisory_lock(32476744987205999)";

// Every write transaction, on every replica, first locks the audit log's
// tree state row: writers run one at a time across the cluster, as SQLite's
// one writer does, so the versions a decision read cannot move before its
// commit, and each batch appends from the size the last one left. Under READ
// COMMITTED every later statement sees what the writers before committed.
constexpr char kBeginWrite[] =
    "BEGIN ISOLATION LEVEL READ COMMITTED; "
    "SELECT size FROM audit_tree_state FOR UPDATE";

absl::Status PgDb::Exec(PgConnection& c, const char* sql) {
  return sql::Guard<PgDb>(sql, [&]() -> absl::Status {
    c.Exec(sql);
    return absl::OkStatus();
  });
}

void PgDb::Rollback(PgConnection& c) {
  if (PQtransactionStatus(c.raw()) != PQTRANS_IDLE) {
    (void)Exec(c, "ROLLBACK");
  }
}

class PgStore final : public Store {
 public:
  PgStore(std::string conninfo, std::unique_ptr<PgConnection> writer)
      : conninfo_(std::move(conninfo)), writer_(std::move(writer)) {}

  ~PgStore() override {
    stop_.Notify();
    if (watch_.joinable()) watch_.join();
  }

  // A session-level advisory lock on a connection of its own: held while
  // the connection lives, released by PostgreSQL when it closes or the
  // process dies, so another server takes over at its next try.
  bool LeadsMaintenance() override {
    absl::MutexLock lock(&lead_mu_);
    // A connection looks fine until it is used: ask, so that a session
    // PostgreSQL ended (and the lock with it) is noticed.
    if (lead_ != nullptr && PgDb::Exec(*lead_, "SELECT 1").ok()) return true;
    lead_.reset();
    auto c = PgConnection::Open(conninfo_);
    if (!c.ok()) return false;
    bool held = false;
    absl::Status s =
        sql::Guard<PgDb>("maintenance lock", [&]() -> absl::Status {
          auto& q = (*c)->Prepare(kMaintenanceLock);
          held = q.executeStep() && q.getColumn(0).getString() == "t";
          return absl::OkStatus();
        });
    if (s.ok() && held) lead_ = *std::move(c);
    return lead_ != nullptr;
  }

  // LISTEN on a connection of its own for the registry trigger's
  // notifications (postgres_schema.cc). Without a connection it cannot
  // know what it missed, so a lost one counts as a change, and so does
  // (re)listening.
  void WatchAgencies(std::function<void()> on_change) override {
    watch_ = std::thread([this, on_change = std::move(on_change)] {
      std::unique_ptr<PgConnection> c;
      while (!stop_.HasBeenNotified()) {
        if (c == nullptr || !c->ok()) {
          c.reset();
          on_change();
          auto opened = PgConnection::Open(conninfo_);
          if (!opened.ok()) {
            stop_.WaitForNotificationWithTimeout(absl::Seconds(1));
            continue;
          }
          c = *std::move(opened);
          if (!PgDb::Exec(*c, "LISTEN samplan_agencies").ok()) {
            c.reset();
            continue;
          }
          on_change();
        }
        // Waits for a notification, or 200 ms to look at stop_ again.
        pollfd p{PQsocket(c->raw()), POLLIN, 0};
        ::poll(&p, 1, 200);
        if (PQconsumeInput(c->raw()) == 0) {
          c.reset();
          continue;
        }
        bool changed = false;
        while (PGnotify* n = PQnotifies(c->raw())) {
          changed = true;
          PQfreemem(n);
        }
        if (changed) on_change();
      }
    });
  }

  absl::Status Write(
      absl::FunctionRef<absl::Status(Transaction&)> fn) override {
    absl::MutexLock lock(&mu_);
    RETURN_IF_ERROR(Begin(writer_, kBeginWrite));
    return sql::RunTransaction<PgDb>(*writer_, fn, nullptr,
                                     /*committed=*/false);
  }

  std::vector<absl::Status> WriteBatch(
      absl::Span<const absl::FunctionRef<absl::Status(Transaction&)>> fns)
      override {
    absl::MutexLock lock(&mu_);
    if (absl::Status s = Begin(writer_, kBeginWrite); !s.ok()) {
      return std::vector<absl::Status>(fns.size(), s);
    }
    return sql::RunBatch<PgDb>(*writer_, fns, nullptr);
  }

  absl::Status Read(absl::FunctionRef<absl::Status(Transaction&)> fn) override {
    std::unique_ptr<PgConnection> reader = TakeReader();
    // One snapshot for all of fn's statements.
    RETURN_IF_ERROR(
        Begin(reader, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    absl::Status status = sql::RunTransaction<PgDb>(*reader, fn, nullptr,
                                                    /*committed=*/true);
    if (reader->ok() && PQtransactionStatus(reader->raw()) == PQTRANS_IDLE) {
      absl::MutexLock lock(&readers_mu_);
      readers_.push_back(std::move(reader));
    }  // else: broken or in an unknown state; dropped.
    return status;
  }

  int MaxBatch() const override { return kMaxBatch; }

 private:
  // 62 savepoints and the tail's: below the 64 subtransactions a session
  // keeps in shared memory.
  static constexpr int kMaxBatch = 63;

  // Begins a transaction with `begin` on `c`, opening `c` when there is
  // none. Nothing of the caller's has run yet, so a start that fails for a
  // reason that passes (a connection PostgreSQL closed when it restarted,
  // which every pooled one is afterwards; a server still starting) is tried
  // again on a new connection, for about three seconds. Then UNAVAILABLE:
  // what follows the start cannot be repeated here, and the caller retries
  // a write with its request id.
  absl::Status Begin(std::unique_ptr<PgConnection>& c, const char* begin) {
    absl::Duration pause = absl::Milliseconds(50);
    absl::Status status;
    for (int attempt = 0; attempt < 7; ++attempt) {
      if (attempt > 0) {
        absl::SleepFor(pause);
        pause *= 2;
      }
      if (c == nullptr || !c->ok()) {
        c.reset();
        absl::StatusOr<std::unique_ptr<PgConnection>> opened =
            PgConnection::Open(conninfo_);
        if (!opened.ok()) {
          status = opened.status();
          continue;
        }
        c = *std::move(opened);
      }
      status = PgDb::Exec(*c, begin);
      if (status.ok()) return status;
      const bool lost = !c->ok();
      PgDb::Rollback(*c);
      c.reset();
      // A lock timeout, say, is not helped by another try.
      if (!lost) return status;
    }
    return status;
  }

  // A pooled read connection, or none (Begin opens one).
  std::unique_ptr<PgConnection> TakeReader() {
    absl::MutexLock lock(&readers_mu_);
    while (!readers_.empty()) {
      std::unique_ptr<PgConnection> c = std::move(readers_.back());
      readers_.pop_back();
      if (c->ok()) return c;
    }
    return nullptr;
  }

  const std::string conninfo_;
  // The session that holds the maintenance lock, while this process leads.
  absl::Mutex lead_mu_;
  std::unique_ptr<PgConnection> lead_ ABSL_GUARDED_BY(lead_mu_);
  absl::Notification stop_;
  std::thread watch_;
  absl::Mutex mu_;
  std::unique_ptr<PgConnection> writer_ ABSL_GUARDED_BY(mu_);
  absl::Mutex readers_mu_;
  std::vector<std::unique_ptr<PgConnection>> readers_
      ABSL_GUARDED_BY(readers_mu_);
};

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> OpenPostgresStore(
    const PostgresOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> writer,
                   PgConnection::Open(options.conninfo));
  RETURN_IF_ERROR(postgres::Migrate(writer->raw()));
  return std::unique_ptr<Store>(
      new PgStore(options.conninfo, std::move(writer)));
}

}  // namespace samplan::storage
