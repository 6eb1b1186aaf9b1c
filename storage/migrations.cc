#include "storage/migrations.h"

#include <string>
#include <vector>

#include "SQLiteCpp/Database.h"
#include "SQLiteCpp/Exception.h"
#include "SQLiteCpp/Statement.h"
#include "SQLiteCpp/Transaction.h"
#include "absl/strings/str_cat.h"
#include "audit/leaf.h"
#include "audit/merkle.h"
#include "common/errors.h"
#include "samplan/v1/audit.pb.h"

namespace samplan::storage {
namespace {

// Migration N (1-based) brings the schema from version N-1 to N. Never edit
// a migration that has shipped: add a new one.
//
// Conventions: times are microseconds since the Unix epoch (UTC); `data`
// holds the serialized API message, the other columns are indexes into it.
const std::vector<std::string>& Migrations() {
  static const auto* const kMigrations = new std::vector<std::string>{
      // 1: the first schema.
      R"sql(
CREATE TABLE agencies (
  id            TEXT PRIMARY KEY,
  sector        INTEGER NOT NULL,
  role          INTEGER NOT NULL,
  state         INTEGER NOT NULL,
  data          BLOB NOT NULL
) STRICT;

CREATE TABLE plans (
  id                  TEXT PRIMARY KEY,
  subject             TEXT NOT NULL,
  lead_agency         TEXT NOT NULL REFERENCES agencies(id),
  state               INTEGER NOT NULL,
  revision            INTEGER NOT NULL,
  effective_revision  INTEGER NOT NULL DEFAULT 0,
  create_time         INTEGER NOT NULL
) STRICT;
CREATE INDEX plans_by_subject ON plans(subject);
CREATE INDEX plans_by_lead ON plans(lead_agency, id);

-- One row per revision: the plan's header (everything but entries,
-- participants and approvals) as it was at that revision. Never changed.
CREATE TABLE plan_revisions (
  plan_id     TEXT NOT NULL REFERENCES plans(id),
  revision    INTEGER NOT NULL,
  time        INTEGER NOT NULL,
  agency      TEXT NOT NULL,
  actor       TEXT NOT NULL,
  change      TEXT NOT NULL,
  data        BLOB NOT NULL,
  PRIMARY KEY (plan_id, revision)
) STRICT, WITHOUT ROWID;

-- One row per version of an entry: the version written in `revision`.
CREATE TABLE entries (
  plan_id       TEXT NOT NULL REFERENCES plans(id),
  entry_id      TEXT NOT NULL,
  revision      INTEGER NOT NULL,
  owner_agency  TEXT NOT NULL,
  category      INTEGER NOT NULL,
  deleted       INTEGER NOT NULL DEFAULT 0,
  data          BLOB NOT NULL,
  PRIMARY KEY (plan_id, entry_id, revision),
  FOREIGN KEY (plan_id, revision) REFERENCES plan_revisions(plan_id, revision)
) STRICT, WITHOUT ROWID;

CREATE TABLE participants (
  plan_id         TEXT NOT NULL REFERENCES plans(id),
  participant_id  TEXT NOT NULL,
  kind            INTEGER NOT NULL,
  agency          TEXT,
  removed         INTEGER NOT NULL DEFAULT 0,
  data            BLOB NOT NULL,
  PRIMARY KEY (plan_id, participant_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX participants_by_agency ON participants(agency, plan_id)
  WHERE agency IS NOT NULL;

CREATE TABLE approvals (
  plan_id   TEXT NOT NULL REFERENCES plans(id),
  seq       INTEGER NOT NULL,
  revision  INTEGER NOT NULL,
  data      BLOB NOT NULL,
  PRIMARY KEY (plan_id, seq),
  FOREIGN KEY (plan_id, revision) REFERENCES plan_revisions(plan_id, revision)
) STRICT, WITHOUT ROWID;

CREATE TABLE custody_facts (
  id           TEXT PRIMARY KEY,
  subject      TEXT NOT NULL,
  guardian     TEXT NOT NULL,
  valid_from   INTEGER NOT NULL,
  valid_until  INTEGER,
  data         BLOB NOT NULL
) STRICT;
CREATE INDEX custody_by_subject ON custody_facts(subject);

CREATE TABLE representations (
  id               TEXT PRIMARY KEY,
  subject          TEXT NOT NULL,
  representative   TEXT NOT NULL,
  valid_from       INTEGER NOT NULL,
  valid_until      INTEGER,
  data             BLOB NOT NULL
) STRICT;
CREATE INDEX representations_by_subject ON representations(subject);

-- Grants are never updated or deleted: an ending (withdrawal, revocation,
-- expiry, voiding) is a row of grant_endings.
CREATE TABLE grants (
  id           TEXT PRIMARY KEY,
  subject      TEXT NOT NULL,
  plan         TEXT,
  valid_from   INTEGER NOT NULL,
  valid_until  INTEGER NOT NULL,
  create_time  INTEGER NOT NULL,
  data         BLOB NOT NULL
) STRICT;
CREATE INDEX grants_by_subject ON grants(subject);
CREATE INDEX grants_by_plan ON grants(plan) WHERE plan IS NOT NULL;
CREATE INDEX grants_by_until ON grants(valid_until);

CREATE TABLE grant_endings (
  grant_id  TEXT NOT NULL REFERENCES grants(id),
  seq       INTEGER NOT NULL,
  state     INTEGER NOT NULL,
  time      INTEGER NOT NULL,
  reason    TEXT NOT NULL,
  agency    TEXT NOT NULL,
  actor     TEXT NOT NULL,
  withdrawer          TEXT NOT NULL DEFAULT '',
  evidence_kind       INTEGER NOT NULL DEFAULT 0,
  evidence_reference  TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (grant_id, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE audit_events (
  leaf_index  INTEGER PRIMARY KEY,
  time        INTEGER NOT NULL,
  agency      TEXT NOT NULL,
  actor       TEXT NOT NULL,
  action      INTEGER NOT NULL,
  subject     TEXT NOT NULL,
  decision    INTEGER NOT NULL,
  data        BLOB NOT NULL
) STRICT;
CREATE INDEX audit_by_subject ON audit_events(subject, leaf_index);
CREATE INDEX audit_by_agency ON audit_events(agency, leaf_index);
CREATE INDEX audit_by_time ON audit_events(time);

-- Idempotency: the first answer to each (agency, request id).
CREATE TABLE requests (
  agency       TEXT NOT NULL,
  request_id   TEXT NOT NULL,
  method       TEXT NOT NULL,
  fingerprint  BLOB NOT NULL,
  response     BLOB NOT NULL,
  time         INTEGER NOT NULL,
  PRIMARY KEY (agency, request_id)
) STRICT, WITHOUT ROWID;

-- Append-only tables, enforced below the application too.
CREATE TRIGGER grants_no_update BEFORE UPDATE ON grants
  BEGIN SELECT RAISE(ABORT, 'grants are append-only'); END;
CREATE TRIGGER grants_no_delete BEFORE DELETE ON grants
  BEGIN SELECT RAISE(ABORT, 'grants are append-only'); END;
CREATE TRIGGER grant_endings_no_update BEFORE UPDATE ON grant_endings
  BEGIN SELECT RAISE(ABORT, 'grant endings are append-only'); END;
CREATE TRIGGER grant_endings_no_delete BEFORE DELETE ON grant_endings
  BEGIN SELECT RAISE(ABORT, 'grant endings are append-only'); END;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_events
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_events
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER plan_revisions_no_update BEFORE UPDATE ON plan_revisions
  BEGIN SELECT RAISE(ABORT, 'plan revisions are append-only'); END;
CREATE TRIGGER plan_revisions_no_delete BEFORE DELETE ON plan_revisions
  BEGIN SELECT RAISE(ABORT, 'plan revisions are append-only'); END;
CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries
  BEGIN SELECT RAISE(ABORT, 'entry versions are append-only'); END;
CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
  BEGIN SELECT RAISE(ABORT, 'entry versions are append-only'); END;
CREATE TRIGGER approvals_no_update BEFORE UPDATE ON approvals
  BEGIN SELECT RAISE(ABORT, 'approvals are append-only'); END;
CREATE TRIGGER approvals_no_delete BEFORE DELETE ON approvals
  BEGIN SELECT RAISE(ABORT, 'approvals are append-only'); END;
CREATE TRIGGER custody_no_update BEFORE UPDATE ON custody_facts
  BEGIN SELECT RAISE(ABORT, 'custody facts are append-only'); END;
CREATE TRIGGER custody_no_delete BEFORE DELETE ON custody_facts
  BEGIN SELECT RAISE(ABORT, 'custody facts are append-only'); END;
)sql",
      // 2: ending custody facts (append-only, so an ending is its own row)
      // and representations.
      R"sql(
CREATE TABLE custody_endings (
  fact_id   TEXT PRIMARY KEY REFERENCES custody_facts(id),
  end_time  INTEGER NOT NULL,
  agency    TEXT NOT NULL,
  actor     TEXT NOT NULL,
  time      INTEGER NOT NULL
) STRICT;
CREATE TRIGGER custody_endings_no_update BEFORE UPDATE ON custody_endings
  BEGIN SELECT RAISE(ABORT, 'custody endings are append-only'); END;
CREATE TRIGGER custody_endings_no_delete BEFORE DELETE ON custody_endings
  BEGIN SELECT RAISE(ABORT, 'custody endings are append-only'); END;
)sql",
      // 3: the audit log as a Merkle tree (docs/audit.md). audit_nodes holds
      // the hash of every complete subtree: (level, idx) covers the leaves
      // [idx << level, (idx + 1) << level); level 0 holds the leaf hashes.
      // audit_checkpoints holds the signed checkpoints. The resource column
      // makes the resource filter an index lookup. BackfillAuditTree() below
      // hashes the events written before this version.
      R"sql(
CREATE TABLE audit_nodes (
  level  INTEGER NOT NULL,
  idx    INTEGER NOT NULL,
  hash   BLOB NOT NULL,
  PRIMARY KEY (level, idx)
) STRICT, WITHOUT ROWID;
CREATE TABLE audit_checkpoints (
  tree_size    INTEGER PRIMARY KEY,
  time         INTEGER NOT NULL,
  root_hash    BLOB NOT NULL,
  signed_note  TEXT NOT NULL
) STRICT;
ALTER TABLE audit_events ADD COLUMN resource TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_by_resource ON audit_events(resource, leaf_index);
CREATE INDEX audit_by_actor ON audit_events(actor, leaf_index);
CREATE TRIGGER audit_nodes_no_update BEFORE UPDATE ON audit_nodes
  BEGIN SELECT RAISE(ABORT, 'the audit tree is append-only'); END;
CREATE TRIGGER audit_nodes_no_delete BEFORE DELETE ON audit_nodes
  BEGIN SELECT RAISE(ABORT, 'the audit tree is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
  BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
  BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
)sql",
      // 4: versions for decisions made on a snapshot and committed later
      // (app/method.h): a plan's version changes with every change to the
      // plan, its participants, entries or approvals; a subject's consent
      // version with every grant, custody fact or representation recorded
      // or ended about the subject. The commit checks that the versions a
      // decision read still hold.
      R"sql(
ALTER TABLE plans ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
CREATE TABLE consent_versions (
  subject  TEXT PRIMARY KEY,
  version  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
)sql",
      // 5: the grants not yet ended, by the end of their period, for the
      // expiry sweeper. Its query walked every grant whose period had
      // passed, the long-ended ones too, on every sweep (a third of a
      // second per sweep, in the writer, at 100,000 grants). Derived from
      // grants and grant_endings and kept with them in the same
      // transaction by GrantStore::Insert and End; not append-only: a row
      // leaves when its grant ends.
      R"sql(
CREATE TABLE open_grants (
  grant_id     TEXT PRIMARY KEY REFERENCES grants(id),
  valid_until  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX open_grants_by_until ON open_grants(valid_until, grant_id);
INSERT INTO open_grants(grant_id, valid_until)
  SELECT id, valid_until FROM grants g
  WHERE NOT EXISTS (SELECT 1 FROM grant_endings x WHERE x.grant_id = g.id);
)sql",
  };
  return *kMigrations;
}

// Migration 3's data step: the tree over the events already logged, and
// their resource column. The append-only trigger is lifted for the update
// inside the migration's transaction only.
void BackfillAuditTree(SQLite::Database& db) {
  db.exec("DROP TRIGGER audit_no_update");
  SQLite::Statement events(db,
                           "SELECT leaf_index, data FROM audit_events "
                           "ORDER BY leaf_index");
  SQLite::Statement set_resource(
      db, "UPDATE audit_events SET resource = ?2 WHERE leaf_index = ?1");
  SQLite::Statement read_node(
      db, "SELECT hash FROM audit_nodes WHERE level = ?1 AND idx = ?2");
  SQLite::Statement write_node(
      db, "INSERT INTO audit_nodes(level, idx, hash) VALUES(?1, ?2, ?3)");
  int64_t size = 0;
  while (events.executeStep()) {
    if (events.getColumn(0).getInt64() != size) {
      throw SQLite::Exception("audit_events has a gap in its leaf indexes");
    }
    v1::AuditEvent event;
    if (!event.ParseFromArray(events.getColumn(1).getBlob(),
                              events.getColumn(1).getBytes())) {
      throw SQLite::Exception("a stored audit event does not parse");
    }
    set_resource.tryReset();
    set_resource.bind(1, static_cast<int64_t>(size));
    set_resource.bind(2, event.resource());
    set_resource.exec();
    absl::Status s = audit::AppendLeaf(
        size, audit::EventLeafHash(event),
        [&](int level, int64_t idx) -> absl::StatusOr<audit::Hash> {
          read_node.tryReset();
          read_node.bind(1, level);
          read_node.bind(2, static_cast<int64_t>(idx));
          if (!read_node.executeStep()) {
            return absl::InternalError("audit tree node missing");
          }
          return audit::HashFromBytes(read_node.getColumn(0).getString());
        },
        [&](int level, int64_t idx, const audit::Hash& h) -> absl::Status {
          write_node.tryReset();
          write_node.bind(1, level);
          write_node.bind(2, static_cast<int64_t>(idx));
          write_node.bind(3, h.data(), static_cast<int>(h.size()));
          write_node.exec();
          return absl::OkStatus();
        });
    if (!s.ok()) throw SQLite::Exception(std::string(s.message()));
    ++size;
  }
  db.exec(
      "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_events "
      "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END");
}

}  // namespace

int LatestSchemaVersion() { return static_cast<int>(Migrations().size()); }

absl::Status Migrate(SQLite::Database& db) {
  return MigrateTo(db, LatestSchemaVersion());
}

absl::Status MigrateTo(SQLite::Database& db, int target) {
  int version = 0;
  try {
    version = db.execAndGet("PRAGMA user_version").getInt();
  } catch (const SQLite::Exception& e) {
    return absl::InternalError(
        absl::StrCat("reading the schema version failed: ", e.what()));
  }
  const int latest = LatestSchemaVersion();
  if (target > latest) target = latest;
  if (version > latest) {
    return WithMetadata(
        Error(absl::StatusCode::kFailedPrecondition, "SCHEMA_TOO_NEW", "",
              absl::StrCat("the database has schema version ", version,
                           " but this samplan knows versions up to ", latest,
                           "; run a newer samplan or restore a backup")),
        "schema_version", absl::StrCat(version));
  }
  for (int v = version; v < target; ++v) {
    try {
      SQLite::Transaction tx(db);
      db.exec(Migrations()[v]);
      if (v + 1 == 3) BackfillAuditTree(db);
      db.exec(absl::StrCat("PRAGMA user_version = ", v + 1));
      tx.commit();
    } catch (const SQLite::Exception& e) {
      return absl::InternalError(absl::StrCat("schema migration to version ",
                                              v + 1, " failed: ", e.what()));
    }
  }
  return absl::OkStatus();
}

}  // namespace samplan::storage
