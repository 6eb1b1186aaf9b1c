#include "storage/postgres_schema.h"

#include <libpq-fe.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/status_macros.h"

namespace samplan::storage::postgres {
namespace {

// Migration N (1-based) brings the schema from version N-1 to N. Never edit
// a migration that has shipped: add a new one.
//
// Text columns compare byte by byte (COLLATE "C"), as SQLite's do, whatever
// the database's locale: paging by id and the audit log's resource-prefix
// search depend on that order.
//
// Conventions, as in the SQLite schema: times are microseconds since the
// Unix epoch (UTC); `data` holds the serialized API message, the other
// columns are indexes into it; enums are their numbers; flags are 0 or 1
// (INTEGER, not BOOLEAN), so that both backends run the same statements.
const std::vector<std::string>& Migrations() {
  static const auto* const kMigrations = new std::vector<std::string>{
      // 1: the schema of SQLite's version 5, in one step.
      R"sql(
CREATE TABLE agencies (
  id     TEXT COLLATE "C" PRIMARY KEY,
  sector INTEGER NOT NULL,
  role   INTEGER NOT NULL,
  state  INTEGER NOT NULL,
  data   BYTEA NOT NULL
);

CREATE TABLE plans (
  id                  TEXT COLLATE "C" PRIMARY KEY,
  subject             TEXT COLLATE "C" NOT NULL,
  lead_agency         TEXT COLLATE "C" NOT NULL REFERENCES agencies(id),
  state               INTEGER NOT NULL,
  revision            BIGINT NOT NULL,
  effective_revision  BIGINT NOT NULL DEFAULT 0,
  create_time         BIGINT NOT NULL,
  version             BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX plans_by_subject ON plans(subject);
CREATE INDEX plans_by_lead ON plans(lead_agency, id);

-- One row per revision: the plan's header as it was at that revision.
CREATE TABLE plan_revisions (
  plan_id   TEXT COLLATE "C" NOT NULL REFERENCES plans(id),
  revision  BIGINT NOT NULL,
  time      BIGINT NOT NULL,
  agency    TEXT COLLATE "C" NOT NULL,
  actor     TEXT COLLATE "C" NOT NULL,
  change    TEXT COLLATE "C" NOT NULL,
  data      BYTEA NOT NULL,
  PRIMARY KEY (plan_id, revision)
);

-- One row per version of an entry: the version written in `revision`.
CREATE TABLE entries (
  plan_id       TEXT COLLATE "C" NOT NULL REFERENCES plans(id),
  entry_id      TEXT COLLATE "C" NOT NULL,
  revision      BIGINT NOT NULL,
  owner_agency  TEXT COLLATE "C" NOT NULL,
  category      INTEGER NOT NULL,
  deleted       INTEGER NOT NULL DEFAULT 0,
  data          BYTEA NOT NULL,
  PRIMARY KEY (plan_id, entry_id, revision),
  FOREIGN KEY (plan_id, revision) REFERENCES plan_revisions(plan_id, revision)
);

CREATE TABLE participants (
  plan_id         TEXT COLLATE "C" NOT NULL REFERENCES plans(id),
  participant_id  TEXT COLLATE "C" NOT NULL,
  kind            INTEGER NOT NULL,
  agency          TEXT COLLATE "C",
  removed         INTEGER NOT NULL DEFAULT 0,
  data            BYTEA NOT NULL,
  PRIMARY KEY (plan_id, participant_id)
);
CREATE INDEX participants_by_agency ON participants(agency, plan_id)
  WHERE agency IS NOT NULL;

CREATE TABLE approvals (
  plan_id   TEXT COLLATE "C" NOT NULL REFERENCES plans(id),
  seq       BIGINT NOT NULL,
  revision  BIGINT NOT NULL,
  data      BYTEA NOT NULL,
  PRIMARY KEY (plan_id, seq),
  FOREIGN KEY (plan_id, revision) REFERENCES plan_revisions(plan_id, revision)
);

CREATE TABLE custody_facts (
  id           TEXT COLLATE "C" PRIMARY KEY,
  subject      TEXT COLLATE "C" NOT NULL,
  guardian     TEXT COLLATE "C" NOT NULL,
  valid_from   BIGINT NOT NULL,
  valid_until  BIGINT,
  data         BYTEA NOT NULL
);
CREATE INDEX custody_by_subject ON custody_facts(subject);

-- A custody fact is ended by a row of its own.
CREATE TABLE custody_endings (
  fact_id   TEXT COLLATE "C" PRIMARY KEY REFERENCES custody_facts(id),
  end_time  BIGINT NOT NULL,
  agency    TEXT COLLATE "C" NOT NULL,
  actor     TEXT COLLATE "C" NOT NULL,
  time      BIGINT NOT NULL
);

CREATE TABLE representations (
  id              TEXT COLLATE "C" PRIMARY KEY,
  subject         TEXT COLLATE "C" NOT NULL,
  representative  TEXT COLLATE "C" NOT NULL,
  valid_from      BIGINT NOT NULL,
  valid_until     BIGINT,
  data            BYTEA NOT NULL
);
CREATE INDEX representations_by_subject ON representations(subject);

CREATE TABLE grants (
  id           TEXT COLLATE "C" PRIMARY KEY,
  subject      TEXT COLLATE "C" NOT NULL,
  plan         TEXT COLLATE "C",
  valid_from   BIGINT NOT NULL,
  valid_until  BIGINT NOT NULL,
  create_time  BIGINT NOT NULL,
  data         BYTEA NOT NULL
);
CREATE INDEX grants_by_subject ON grants(subject);
CREATE INDEX grants_by_plan ON grants(plan) WHERE plan IS NOT NULL;
CREATE INDEX grants_by_until ON grants(valid_until);

CREATE TABLE grant_endings (
  grant_id            TEXT COLLATE "C" NOT NULL REFERENCES grants(id),
  seq                 BIGINT NOT NULL,
  state               INTEGER NOT NULL,
  time                BIGINT NOT NULL,
  reason              TEXT COLLATE "C" NOT NULL,
  agency              TEXT COLLATE "C" NOT NULL,
  actor               TEXT COLLATE "C" NOT NULL,
  withdrawer          TEXT COLLATE "C" NOT NULL DEFAULT '',
  evidence_kind       INTEGER NOT NULL DEFAULT 0,
  evidence_reference  TEXT COLLATE "C" NOT NULL DEFAULT '',
  PRIMARY KEY (grant_id, seq)
);

-- The grants not yet ended, by the end of their period, for the expiry
-- sweeper; a row leaves when its grant ends (not append-only).
CREATE TABLE open_grants (
  grant_id     TEXT COLLATE "C" PRIMARY KEY REFERENCES grants(id),
  valid_until  BIGINT NOT NULL
);
CREATE INDEX open_grants_by_until ON open_grants(valid_until, grant_id);

-- A subject's consent version moves with every grant, custody fact or
-- representation recorded or ended about the subject.
CREATE TABLE consent_versions (
  subject  TEXT COLLATE "C" PRIMARY KEY,
  version  BIGINT NOT NULL
);

CREATE TABLE audit_events (
  leaf_index  BIGINT PRIMARY KEY,
  time        BIGINT NOT NULL,
  agency      TEXT COLLATE "C" NOT NULL,
  actor       TEXT COLLATE "C" NOT NULL,
  action      INTEGER NOT NULL,
  subject     TEXT COLLATE "C" NOT NULL,
  decision    INTEGER NOT NULL,
  resource    TEXT COLLATE "C" NOT NULL DEFAULT '',
  data        BYTEA NOT NULL
);
CREATE INDEX audit_by_subject ON audit_events(subject, leaf_index);
CREATE INDEX audit_by_agency ON audit_events(agency, leaf_index);
CREATE INDEX audit_by_time ON audit_events(time);
CREATE INDEX audit_by_resource ON audit_events(resource, leaf_index);
CREATE INDEX audit_by_actor ON audit_events(actor, leaf_index);

-- The hash of every complete subtree of the audit log's Merkle tree:
-- (level, idx) covers the leaves [idx << level, (idx + 1) << level).
CREATE TABLE audit_nodes (
  level  INTEGER NOT NULL,
  idx    BIGINT NOT NULL,
  hash   BYTEA NOT NULL,
  PRIMARY KEY (level, idx)
);

CREATE TABLE audit_checkpoints (
  tree_size    BIGINT PRIMARY KEY,
  time         BIGINT NOT NULL,
  root_hash    BYTEA NOT NULL,
  signed_note  TEXT COLLATE "C" NOT NULL
);

-- The log's size: one row, which a batch of appends locks (FOR UPDATE)
-- for its whole transaction, so that replicas appending at once get dense,
-- unique leaf indexes and each batch hashes onto the right edge it read.
CREATE TABLE audit_tree_state (
  singleton  BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
  size       BIGINT NOT NULL CHECK (size >= 0)
);
INSERT INTO audit_tree_state(size) VALUES (0);

CREATE TABLE requests (
  agency       TEXT COLLATE "C" NOT NULL,
  request_id   TEXT COLLATE "C" NOT NULL,
  method       TEXT COLLATE "C" NOT NULL,
  fingerprint  BYTEA NOT NULL,
  response     BYTEA NOT NULL,
  time         BIGINT NOT NULL,
  PRIMARY KEY (agency, request_id)
);

-- Append-only, whatever the role: UPDATE, DELETE and TRUNCATE fail.
CREATE FUNCTION samplan_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME
    USING ERRCODE = 'restrict_violation';
END
$$;
DO $$
DECLARE t TEXT;
BEGIN
  FOREACH t IN ARRAY ARRAY['plan_revisions', 'entries', 'approvals',
      'custody_facts', 'custody_endings', 'grants', 'grant_endings',
      'audit_events', 'audit_nodes', 'audit_checkpoints'] LOOP
    EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I '
                   'FOR EACH ROW EXECUTE FUNCTION samplan_append_only()',
                   t || '_append_only', t);
    EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I '
                   'FOR EACH STATEMENT EXECUTE FUNCTION samplan_append_only()',
                   t || '_no_truncate', t);
  END LOOP;
END
$$;

-- The servers' role: it reads and appends everywhere, and changes only
-- the tables that hold current state.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'samplan_app') THEN
    CREATE ROLE samplan_app NOLOGIN;
  END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO samplan_app;
GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO samplan_app;
GRANT UPDATE ON agencies, plans, participants, representations,
  consent_versions, audit_tree_state TO samplan_app;
GRANT DELETE ON open_grants TO samplan_app;
REVOKE INSERT ON audit_tree_state FROM samplan_app;

-- Every server caches the agency registry: a change, once committed, tells
-- the others (storage::Store::WatchAgencies).
CREATE FUNCTION samplan_agencies_changed() RETURNS trigger LANGUAGE plpgsql
AS $$
BEGIN
  PERFORM pg_notify('samplan_agencies', '');
  RETURN NULL;
END
$$;
CREATE TRIGGER agencies_changed AFTER INSERT OR UPDATE OR DELETE ON agencies
  FOR EACH STATEMENT EXECUTE FUNCTION samplan_agencies_changed();
)sql",
  };
  return *kMigrations;
}

// A libpq result, cleared when it goes.
struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

// Runs `sql` (one or more statements, no parameters). OK when the server
// accepted it; INTERNAL with the server's message (no data of ours is in
// these statements), or UNAVAILABLE when the connection is gone.
absl::Status Exec(pg_conn* conn, const std::string& sql,
                  Result* out = nullptr) {
  Result r(PQexec(conn, sql.c_str()));
  const ExecStatusType s = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
    if (out != nullptr) *out = std::move(r);
    return absl::OkStatus();
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    return WithReason(
        absl::UnavailableError(absl::StrCat(
            "the PostgreSQL connection failed: ", PQerrorMessage(conn))),
        "STORAGE_UNAVAILABLE");
  }
  return absl::InternalError(PQerrorMessage(conn));
}

// Any key will do that nothing else in the database takes: "samplan" in
// ASCII, as a number (0x73616d706c616e).
constexpr char kMigrationLock[] =
    "SELECT pg_advisory_xact_lock(32476744987205998)";

}  // namespace

int LatestSchemaVersion() { return static_cast<int>(Migrations().size()); }

absl::Status Migrate(pg_conn* conn) {
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    return WithReason(
        absl::UnavailableError("no PostgreSQL connection to migrate"),
        "STORAGE_UNAVAILABLE");
  }
  const auto& migrations = Migrations();
  // "already exists, skipping" and the like are not news for a service log.
  RETURN_IF_ERROR(Exec(conn, "SET client_min_messages TO warning"));
  for (;;) {
    // Each step: lock, read the version, apply the next migration, commit.
    // The lock makes replicas that start together take turns.
    if (absl::Status s = Exec(conn, "BEGIN"); !s.ok()) return s;
    auto rollback = [&](absl::Status s) {
      (void)Exec(conn, "ROLLBACK");
      return s;
    };
    Result version_row;
    Result exists;
    absl::Status s = Exec(conn, kMigrationLock);
    // Created only when missing: a server whose role may not create
    // tables (a member of samplan_app only) starts on a current schema.
    if (s.ok()) {
      s = Exec(conn, "SELECT to_regclass('samplan_schema') IS NULL", &exists);
    }
    if (s.ok() && PQntuples(exists.get()) == 1 &&
        PQgetvalue(exists.get(), 0, 0)[0] == 't') {
      s = Exec(conn,
               "CREATE TABLE samplan_schema ("
               " singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),"
               " version INTEGER NOT NULL)");
    }
    if (s.ok()) {
      s = Exec(conn, "SELECT version FROM samplan_schema", &version_row);
    }
    if (!s.ok()) return rollback(s);
    int version = 0;
    if (PQntuples(version_row.get()) == 1 &&
        !absl::SimpleAtoi(PQgetvalue(version_row.get(), 0, 0), &version)) {
      return rollback(absl::InternalError("samplan_schema holds no number"));
    }
    if (version > LatestSchemaVersion()) {
      return rollback(WithMetadata(
          Error(
              absl::StatusCode::kFailedPrecondition, "SCHEMA_TOO_NEW", "",
              absl::StrCat("the database has schema version ", version,
                           "; this samplan knows up to ", LatestSchemaVersion(),
                           ": run a newer samplan, or restore a backup")),
          "schema_version", absl::StrCat(version)));
    }
    if (version == LatestSchemaVersion()) {
      return Exec(conn, "COMMIT");
    }
    s = Exec(conn, migrations[version]);
    if (s.ok()) {
      s = Exec(conn,
               absl::StrCat(
                   "INSERT INTO samplan_schema(version) VALUES (", version + 1,
                   ") ON CONFLICT (singleton) DO UPDATE SET version = ",
                   version + 1));
    }
    if (!s.ok()) {
      if (s.code() == absl::StatusCode::kInternal) {
        s = absl::InternalError(absl::StrCat(
            "PostgreSQL migration ", version + 1, " failed: ", s.message()));
      }
      return rollback(s);
    }
    if (s = Exec(conn, "COMMIT"); !s.ok()) return s;
  }
}

}  // namespace samplan::storage::postgres
