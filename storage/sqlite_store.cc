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

namespace samplan::storage {
namespace {

using ::google::protobuf::Timestamp;

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }
int64_t Micros(const Timestamp& t) { return ToUnixMicros(t); }
absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

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
    default:
      return absl::InternalError(message);
  }
}

// Runs `f`, turning any exception into a status: nothing escapes storage.
template <typename F>
auto Guard(absl::string_view what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const SQLite::Exception& e) {
    return FromSqlite(what, e);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("storage: ", what, ": ", e.what()));
  }
}

template <typename M>
absl::StatusOr<M> ParseColumn(const SQLite::Column& column,
                              absl::string_view what) {
  M m;
  if (!m.ParseFromArray(column.getBlob(), column.getBytes())) {
    return absl::InternalError(
        absl::StrCat("storage: a stored ", what, " does not parse"));
  }
  return m;
}

void BindBlob(SQLite::Statement& s, int index,
              const google::protobuf::MessageLite& m) {
  const std::string bytes = m.SerializeAsString();
  s.bind(index, bytes.data(), static_cast<int>(bytes.size()));
}

void BindText(SQLite::Statement& s, int index, absl::string_view text) {
  s.bind(index, std::string(text));
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

  // Resets every cached statement. A statement left mid-result keeps its
  // read snapshot open after COMMIT: later transactions would not see other
  // connections' writes, and the WAL could not be checkpointed past it.
  void ResetAll() {
    for (auto& [sql, statement] : cache_) statement->tryReset();
  }

 private:
  SQLite::Database db_;
  absl::flat_hash_map<const char*, std::unique_ptr<SQLite::Statement>> cache_;
};

// Marks a change to what decisions about `subject` read (its grants,
// custody facts and representations): PlanRepository/GrantStore versions.
void BumpConsentVersion(Connection& c, absl::string_view subject) {
  auto& s = c.Prepare(
      "INSERT INTO consent_versions(subject, version) VALUES(?1, 1) "
      "ON CONFLICT(subject) DO UPDATE SET version = version + 1");
  BindText(s, 1, subject);
  s.exec();
}

// Marks a change to plan `plan_id` or what belongs to it.
void BumpPlanVersion(Connection& c, absl::string_view plan_id) {
  auto& s = c.Prepare("UPDATE plans SET version = version + 1 WHERE id = ?1");
  BindText(s, 1, plan_id);
  s.exec();
}

class SqliteAgencies final : public AgencyRegistry {
 public:
  explicit SqliteAgencies(Connection& c) : c_(c) {}

  absl::Status Create(const v1::Agency& agency) override {
    return Guard("create agency", [&]() -> absl::Status {
      auto& s = c_.Prepare(
          "INSERT INTO agencies(id, sector, role, state, data) "
          "VALUES(?1, ?2, ?3, ?4, ?5)");
      BindText(s, 1, BareId(agency.name()));
      s.bind(2, agency.sector());
      s.bind(3, agency.role());
      s.bind(4, agency.state());
      BindBlob(s, 5, agency);
      s.exec();
      return absl::OkStatus();
    });
  }

  absl::StatusOr<v1::Agency> Get(absl::string_view id) override {
    return Guard("get agency", [&]() -> absl::StatusOr<v1::Agency> {
      auto& s = c_.Prepare("SELECT data FROM agencies WHERE id = ?1");
      BindText(s, 1, id);
      if (!s.executeStep()) {
        return NotFound(absl::StrCat("agencies/", id), "agency not found");
      }
      return ParseColumn<v1::Agency>(s.getColumn(0), "agency");
    });
  }

  absl::Status Update(const v1::Agency& agency) override {
    return Guard("update agency", [&]() -> absl::Status {
      auto& s = c_.Prepare(
          "UPDATE agencies SET sector = ?2, role = ?3, state = ?4, data = ?5 "
          "WHERE id = ?1");
      BindText(s, 1, BareId(agency.name()));
      s.bind(2, agency.sector());
      s.bind(3, agency.role());
      s.bind(4, agency.state());
      BindBlob(s, 5, agency);
      if (s.exec() == 0) {
        return NotFound(agency.name(), "agency not found");
      }
      return absl::OkStatus();
    });
  }

  absl::StatusOr<std::vector<v1::Agency>> List(absl::string_view after,
                                               int limit) override {
    return Guard(
        "list agencies", [&]() -> absl::StatusOr<std::vector<v1::Agency>> {
          auto& s = c_.Prepare(
              "SELECT data FROM agencies WHERE id > ?1 "
              "ORDER BY id LIMIT ?2");
          BindText(s, 1, after);
          s.bind(2, limit);
          std::vector<v1::Agency> out;
          while (s.executeStep()) {
            ASSIGN_OR_RETURN(auto a,
                             ParseColumn<v1::Agency>(s.getColumn(0), "agency"));
            out.push_back(std::move(a));
          }
          return out;
        });
  }

 private:
  Connection& c_;
};

class SqlitePlans final : public PlanRepository {
 public:
  explicit SqlitePlans(Connection& c) : c_(c) {}

  absl::Status Create(const v1::Plan& plan, absl::string_view actor,
                      absl::Time time) override {
    return Guard("create plan", [&]() -> absl::Status {
      const std::string id = BareId(plan.name());
      const std::string lead = BareId(plan.lead_agency());
      auto& s = c_.Prepare(
          "INSERT INTO plans(id, subject, lead_agency, state, revision, "
          "effective_revision, create_time) VALUES(?1, ?2, ?3, ?4, ?5, ?6, "
          "?7)");
      BindText(s, 1, id);
      BindText(s, 2, plan.subject());
      BindText(s, 3, lead);
      s.bind(4, plan.state());
      s.bind(5, static_cast<int64_t>(plan.revision()));
      s.bind(6, static_cast<int64_t>(plan.effective_revision()));
      s.bind(7, Micros(time));
      s.exec();
      BumpPlanVersion(c_, id);
      return InsertRevision(id, plan, lead, actor, "created", time);
    });
  }

  absl::StatusOr<v1::Plan> Get(absl::string_view plan_id,
                               int64_t revision) override {
    return Guard("get plan", [&]() -> absl::StatusOr<v1::Plan> {
      auto& s = c_.Prepare(
          "SELECT state, revision, effective_revision FROM plans "
          "WHERE id = ?1");
      BindText(s, 1, plan_id);
      if (!s.executeStep()) return PlanNotFound(plan_id);
      const int state = s.getColumn(0).getInt();
      const int64_t current = s.getColumn(1).getInt64();
      const int64_t effective = s.getColumn(2).getInt64();
      const int64_t wanted = revision == 0 ? current : revision;
      auto& r = c_.Prepare(
          "SELECT data FROM plan_revisions WHERE plan_id = ?1 AND "
          "revision = ?2");
      BindText(r, 1, plan_id);
      r.bind(2, wanted);
      if (!r.executeStep()) {
        return NotFound(absl::StrCat("plans/", plan_id),
                        "plan revision not found");
      }
      ASSIGN_OR_RETURN(v1::Plan plan,
                       ParseColumn<v1::Plan>(r.getColumn(0), "plan"));
      plan.set_state(static_cast<v1::PlanState>(state));
      plan.set_effective_revision(effective);
      return plan;
    });
  }

  absl::Status AddRevision(const v1::Plan& plan, absl::string_view agency,
                           absl::string_view actor, absl::string_view change,
                           absl::Time time) override {
    return Guard("add plan revision", [&]() -> absl::Status {
      const std::string id = BareId(plan.name());
      auto& s = c_.Prepare("SELECT revision FROM plans WHERE id = ?1");
      BindText(s, 1, id);
      if (!s.executeStep()) return PlanNotFound(id);
      const int64_t current = s.getColumn(0).getInt64();
      if (plan.revision() != current + 1) {
        return WithReason(
            absl::AbortedError(absl::StrCat(
                "the plan changed concurrently: revision ", plan.revision(),
                " does not follow the stored revision ", current)),
            "CONCURRENT_CHANGE");
      }
      auto& u = c_.Prepare(
          "UPDATE plans SET state = ?2, revision = ?3 WHERE id = ?1");
      BindText(u, 1, id);
      u.bind(2, plan.state());
      u.bind(3, static_cast<int64_t>(plan.revision()));
      u.exec();
      BumpPlanVersion(c_, id);
      return InsertRevision(id, plan, agency, actor, change, time);
    });
  }

  absl::Status PutEntry(absl::string_view plan_id,
                        const v1::Entry& entry) override {
    return Guard("write entry", [&]() -> absl::Status {
      auto& s = c_.Prepare(
          "INSERT INTO entries(plan_id, entry_id, revision, owner_agency, "
          "category, deleted, data) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
      BindText(s, 1, plan_id);
      BindText(s, 2, BareId(entry.name()));
      s.bind(3, static_cast<int64_t>(entry.revision()));
      BindText(s, 4, BareId(entry.owner_agency()));
      s.bind(5, entry.category());
      s.bind(6, entry.deleted() ? 1 : 0);
      BindBlob(s, 7, entry);
      s.exec();
      BumpPlanVersion(c_, plan_id);
      return absl::OkStatus();
    });
  }

  absl::StatusOr<std::vector<v1::Entry>> ListEntries(
      absl::string_view plan_id, int64_t revision) override {
    return Guard(
        "list entries", [&]() -> absl::StatusOr<std::vector<v1::Entry>> {
          auto& s = c_.Prepare(
              "SELECT e.data FROM entries e WHERE e.plan_id = ?1 AND e.deleted "
              "= 0 "
              "AND e.revision = (SELECT MAX(x.revision) FROM entries x "
              "  WHERE x.plan_id = e.plan_id AND x.entry_id = e.entry_id "
              "  AND x.revision <= ?2) "
              "ORDER BY e.entry_id");
          BindText(s, 1, plan_id);
          s.bind(2, revision == 0 ? INT64_MAX : revision);
          std::vector<v1::Entry> out;
          while (s.executeStep()) {
            ASSIGN_OR_RETURN(auto e,
                             ParseColumn<v1::Entry>(s.getColumn(0), "entry"));
            out.push_back(std::move(e));
          }
          return out;
        });
  }

  absl::StatusOr<v1::Entry> GetEntry(absl::string_view plan_id,
                                     absl::string_view entry_id) override {
    return Guard("get entry", [&]() -> absl::StatusOr<v1::Entry> {
      auto& s = c_.Prepare(
          "SELECT data FROM entries WHERE plan_id = ?1 AND entry_id = ?2 "
          "ORDER BY revision DESC LIMIT 1");
      BindText(s, 1, plan_id);
      BindText(s, 2, entry_id);
      if (!s.executeStep()) {
        return NotFound(absl::StrCat("plans/", plan_id, "/entries/", entry_id),
                        "entry not found");
      }
      return ParseColumn<v1::Entry>(s.getColumn(0), "entry");
    });
  }

  absl::Status AddParticipant(absl::string_view plan_id,
                              const v1::Participant& p) override {
    return Guard("add participant", [&]() -> absl::Status {
      auto& s = c_.Prepare(
          "INSERT INTO participants(plan_id, participant_id, kind, agency, "
          "removed, data) VALUES(?1, ?2, ?3, ?4, 0, ?5)");
      BindText(s, 1, plan_id);
      BindText(s, 2, BareId(p.name()));
      s.bind(3, p.kind());
      if (p.agency().empty()) {
        s.bind(4);
      } else {
        BindText(s, 4, BareId(p.agency()));
      }
      BindBlob(s, 5, p);
      s.exec();
      BumpPlanVersion(c_, plan_id);
      return absl::OkStatus();
    });
  }

  absl::Status RemoveParticipant(absl::string_view plan_id,
                                 absl::string_view participant_id,
                                 absl::Time time) override {
    return Guard("remove participant", [&]() -> absl::Status {
      auto& s = c_.Prepare(
          "SELECT data FROM participants WHERE plan_id = ?1 AND "
          "participant_id = ?2 AND removed = 0");
      BindText(s, 1, plan_id);
      BindText(s, 2, participant_id);
      if (!s.executeStep()) {
        return NotFound(
            absl::StrCat("plans/", plan_id, "/participants/", participant_id),
            "participant not found");
      }
      ASSIGN_OR_RETURN(v1::Participant p, ParseColumn<v1::Participant>(
                                              s.getColumn(0), "participant"));
      SetTimestamp(time, p.mutable_remove_time());
      auto& u = c_.Prepare(
          "UPDATE participants SET removed = 1, data = ?3 "
          "WHERE plan_id = ?1 AND participant_id = ?2");
      BindText(u, 1, plan_id);
      BindText(u, 2, participant_id);
      BindBlob(u, 3, p);
      u.exec();
      BumpPlanVersion(c_, plan_id);
      return absl::OkStatus();
    });
  }

  absl::StatusOr<std::vector<v1::Participant>> ListParticipants(
      absl::string_view plan_id, bool include_removed) override {
    return Guard("list participants",
                 [&]() -> absl::StatusOr<std::vector<v1::Participant>> {
                   auto& s = c_.Prepare(
                       "SELECT data FROM participants WHERE plan_id = ?1 AND "
                       "(?2 OR removed = 0) ORDER BY participant_id");
                   BindText(s, 1, plan_id);
                   s.bind(2, include_removed ? 1 : 0);
                   std::vector<v1::Participant> out;
                   while (s.executeStep()) {
                     ASSIGN_OR_RETURN(
                         auto p, ParseColumn<v1::Participant>(s.getColumn(0),
                                                              "participant"));
                     out.push_back(std::move(p));
                   }
                   return out;
                 });
  }

  absl::StatusOr<bool> TakesPart(absl::string_view plan_id,
                                 absl::string_view agency) override {
    return Guard("check participation", [&]() -> absl::StatusOr<bool> {
      auto& s = c_.Prepare(
          "SELECT 1 FROM plans WHERE id = ?1 AND lead_agency = ?2 "
          "UNION ALL SELECT 1 FROM participants WHERE plan_id = ?1 AND "
          "agency = ?2 AND removed = 0 LIMIT 1");
      BindText(s, 1, plan_id);
      BindText(s, 2, agency);
      return s.executeStep();
    });
  }

  absl::StatusOr<int64_t> Version(absl::string_view plan_id) override {
    return Guard("plan version", [&]() -> absl::StatusOr<int64_t> {
      auto& s = c_.Prepare("SELECT version FROM plans WHERE id = ?1");
      BindText(s, 1, plan_id);
      if (!s.executeStep()) return int64_t{0};
      return s.getColumn(0).getInt64();
    });
  }

  absl::StatusOr<ReadView> ReadForAgency(absl::string_view plan_id,
                                         absl::string_view agency,
                                         bool effective_view) override {
    return Guard("read plan", [&]() -> absl::StatusOr<ReadView> {
      auto& s = c_.Prepare(
          "SELECT p.state, p.revision, p.effective_revision, p.version, "
          "p.lead_agency = ?2 OR EXISTS (SELECT 1 FROM participants x "
          "  WHERE x.plan_id = p.id AND x.agency = ?2 AND x.removed = 0), "
          "n.data, w.revision, w.data "
          "FROM plans p "
          "JOIN plan_revisions n ON n.plan_id = p.id "
          "  AND n.revision = p.revision "
          "JOIN plan_revisions w ON w.plan_id = p.id AND w.revision = "
          "  CASE WHEN ?3 AND p.effective_revision > 0 "
          "  THEN p.effective_revision ELSE p.revision END "
          "WHERE p.id = ?1");
      BindText(s, 1, plan_id);
      BindText(s, 2, agency);
      s.bind(3, effective_view ? 1 : 0);
      ReadView v;
      if (!s.executeStep()) return v;
      const auto state = static_cast<v1::PlanState>(s.getColumn(0).getInt());
      const int64_t effective = s.getColumn(2).getInt64();
      v.version = s.getColumn(3).getInt64();
      v.takes_part = s.getColumn(4).getInt() != 0;
      ASSIGN_OR_RETURN(v1::Plan newest,
                       ParseColumn<v1::Plan>(s.getColumn(5), "plan"));
      newest.set_state(state);
      newest.set_effective_revision(effective);
      v.shown_revision = s.getColumn(6).getInt64();
      if (v.shown_revision == newest.revision()) {
        v.shown = std::make_unique<v1::Plan>(newest);
      } else {
        ASSIGN_OR_RETURN(v1::Plan shown,
                         ParseColumn<v1::Plan>(s.getColumn(7), "plan"));
        v.shown = std::make_unique<v1::Plan>(std::move(shown));
      }
      v.newest = std::make_unique<v1::Plan>(std::move(newest));
      return v;
    });
  }

  absl::Status AddApproval(absl::string_view plan_id,
                           const v1::Approval& approval) override {
    return Guard("add approval", [&]() -> absl::Status {
      auto& s = c_.Prepare(
          "INSERT INTO approvals(plan_id, seq, revision, data) "
          "VALUES(?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM approvals "
          "WHERE plan_id = ?1), ?2, ?3)");
      BindText(s, 1, plan_id);
      s.bind(2, static_cast<int64_t>(approval.revision()));
      BindBlob(s, 3, approval);
      s.exec();
      auto& u = c_.Prepare(
          "UPDATE plans SET effective_revision = MAX(effective_revision, ?2), "
          "state = CASE WHEN state = ?3 THEN ?4 ELSE state END WHERE id = ?1");
      BindText(u, 1, plan_id);
      u.bind(2, static_cast<int64_t>(approval.revision()));
      u.bind(3, v1::PLAN_STATE_DRAFT);
      u.bind(4, v1::PLAN_STATE_ACTIVE);
      u.exec();
      BumpPlanVersion(c_, plan_id);
      return absl::OkStatus();
    });
  }

  absl::StatusOr<std::vector<v1::Approval>> ListApprovals(
      absl::string_view plan_id) override {
    return Guard(
        "list approvals", [&]() -> absl::StatusOr<std::vector<v1::Approval>> {
          auto& s = c_.Prepare(
              "SELECT data FROM approvals WHERE plan_id = ?1 ORDER BY seq");
          BindText(s, 1, plan_id);
          std::vector<v1::Approval> out;
          while (s.executeStep()) {
            ASSIGN_OR_RETURN(
                auto a, ParseColumn<v1::Approval>(s.getColumn(0), "approval"));
            out.push_back(std::move(a));
          }
          return out;
        });
  }

  absl::StatusOr<std::vector<v1::Plan>> ListForAgency(absl::string_view agency,
                                                      absl::string_view subject,
                                                      int state,
                                                      absl::string_view after,
                                                      int limit) override {
    return Guard("list plans", [&]() -> absl::StatusOr<std::vector<v1::Plan>> {
    // Drafts are visible to their lead agency only; the filter is part of
    // the query so that pages are never cut short by hidden plans. Each
    // form walks an index in id order and stops at the limit: by subject
    // (plans_by_subject: a subject has few plans), or, for all of the
    // agency's plans, the plans it leads (plans_by_lead) merged in id
    // order with those it takes part in (participants_by_agency). A scan
    // of every plan in id order, testing each, took a second per page at
    // 200,000 plans. (The participants arm tests the plan's state in a
    // subquery: a join would make SQLite sort the arm instead of reading
    // it in index order.) The page's newest headers come in the same
    // query (a Get per plan cost two more statements per plan).
    // The page's ids are `page`; its newest headers, in id order. (The
    // statements are cached by the address of their literal text, so the
    // shared part is spliced in by the preprocessor.)
#define SAMPLAN_PAGE_HEADERS                                      \
  "SELECT p.id, p.state, p.effective_revision, r.data FROM page " \
  "JOIN plans p ON p.id = page.id JOIN plan_revisions r "         \
  "ON r.plan_id = p.id AND r.revision = p.revision ORDER BY p.id"
      auto& s =
          subject.empty()
              ? c_.Prepare(
                    "WITH page(id) AS ("
                    "SELECT p.id FROM plans p WHERE p.lead_agency = ?1 AND "
                    "p.id > ?3 AND (?5 = 0 OR p.state = ?5) "
                    "UNION "
                    "SELECT x.plan_id FROM participants x WHERE "
                    "x.agency = ?1 AND x.plan_id > ?3 AND x.removed = 0 AND "
                    "EXISTS (SELECT 1 FROM plans q WHERE q.id = x.plan_id "
                    "AND q.state != ?6 AND (?5 = 0 OR q.state = ?5)) "
                    "ORDER BY 1 LIMIT ?4) " SAMPLAN_PAGE_HEADERS)
              : c_.Prepare(
                    "WITH page(id) AS ("
                    "SELECT p.id FROM plans p WHERE p.subject = ?2 AND "
                    "p.id > ?3 AND (?5 = 0 OR p.state = ?5) AND "
                    "(p.lead_agency = ?1 OR (p.state != ?6 AND EXISTS "
                    "(SELECT 1 FROM participants x WHERE x.plan_id = p.id "
                    "AND x.agency = ?1 AND x.removed = 0))) "
                    "ORDER BY p.id LIMIT ?4) " SAMPLAN_PAGE_HEADERS);
#undef SAMPLAN_PAGE_HEADERS
      BindText(s, 1, agency);
      if (!subject.empty()) BindText(s, 2, subject);
      BindText(s, 3, after);
      s.bind(4, limit);
      s.bind(5, state);
      s.bind(6, static_cast<int>(v1::PLAN_STATE_DRAFT));
      std::vector<v1::Plan> out;
      while (s.executeStep()) {
        ASSIGN_OR_RETURN(v1::Plan plan,
                         ParseColumn<v1::Plan>(s.getColumn(3), "plan"));
        plan.set_state(static_cast<v1::PlanState>(s.getColumn(1).getInt()));
        plan.set_effective_revision(s.getColumn(2).getInt64());
        out.push_back(std::move(plan));
      }
      return out;
    });
  }

 private:
  static absl::Status PlanNotFound(absl::string_view plan_id) {
    return NotFound(absl::StrCat("plans/", plan_id), "plan not found");
  }

  absl::Status InsertRevision(const std::string& id, const v1::Plan& plan,
                              absl::string_view agency, absl::string_view actor,
                              absl::string_view change, absl::Time time) {
    auto& s = c_.Prepare(
        "INSERT INTO plan_revisions(plan_id, revision, time, agency, actor, "
        "change, data) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    BindText(s, 1, id);
    s.bind(2, static_cast<int64_t>(plan.revision()));
    s.bind(3, Micros(time));
    BindText(s, 4, BareId(agency));
    BindText(s, 5, actor);
    BindText(s, 6, change);
    BindBlob(s, 7, plan);
    s.exec();
    return absl::OkStatus();
  }

  Connection& c_;
};

class SqliteGrants final : public GrantStore {
 public:
  explicit SqliteGrants(Connection& c) : c_(c) {}

  absl::Status Insert(const v1::Grant& grant) override {
    return Guard("record grant", [&]() -> absl::Status {
      auto& s = c_.Prepare(
          "INSERT INTO grants(id, subject, plan, valid_from, valid_until, "
          "create_time, data) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
      BindText(s, 1, BareId(grant.name()));
      BindText(s, 2, grant.subject());
      if (grant.scope().plan().empty()) {
        s.bind(3);
      } else {
        BindText(s, 3, BareId(grant.scope().plan()));
      }
      s.bind(4, Micros(grant.valid_from()));
      s.bind(5, Micros(grant.valid_until()));
      s.bind(6, Micros(grant.create_time()));
      v1::Grant stored = grant;
      stored.set_state(v1::GRANT_STATE_ACTIVE);
      stored.clear_end_time();
      stored.clear_end_reason();
      BindBlob(s, 7, stored);
      s.exec();
      auto& open = c_.Prepare(
          "INSERT INTO open_grants(grant_id, valid_until) VALUES(?1, ?2)");
      BindText(open, 1, BareId(grant.name()));
      open.bind(2, Micros(grant.valid_until()));
      open.exec();
      BumpConsentVersion(c_, grant.subject());
      return absl::OkStatus();
    });
  }

  absl::StatusOr<v1::Grant> Get(absl::string_view grant_id) override {
    return Guard("get grant", [&]() -> absl::StatusOr<v1::Grant> {
      auto& s = c_.Prepare(
          "SELECT g.id, g.data, e.state, e.time, e.reason, e.withdrawer, "
          "e.evidence_kind, e.evidence_reference FROM grants g "
          "LEFT JOIN grant_endings e ON e.grant_id = g.id "
          "WHERE g.id = ?1 ORDER BY e.seq");
      BindText(s, 1, grant_id);
      ASSIGN_OR_RETURN(auto grants, Fold(s));
      if (grants.empty()) {
        return NotFound(absl::StrCat("grants/", grant_id), "grant not found");
      }
      return std::move(grants.front());
    });
  }

  absl::Status End(absl::string_view grant_id,
                   const GrantEnding& ending) override {
    if (ending.state != v1::GRANT_STATE_WITHDRAWN &&
        ending.state != v1::GRANT_STATE_REVOKED &&
        ending.state != v1::GRANT_STATE_EXPIRED &&
        ending.state != v1::GRANT_STATE_VOID) {
      return InvalidField("state",
                          "must be WITHDRAWN, REVOKED, EXPIRED or VOID");
    }
    ASSIGN_OR_RETURN(v1::Grant grant, Get(grant_id));
    const bool allowed = ending.state == v1::GRANT_STATE_VOID
                             ? grant.state() != v1::GRANT_STATE_VOID
                             : grant.state() == v1::GRANT_STATE_ACTIVE;
    if (!allowed) {
      return WithMetadata(
          Error(absl::StatusCode::kFailedPrecondition, "GRANT_NOT_ACTIVE", "",
                absl::StrCat("the grant is already ",
                             v1::GrantState_Name(grant.state()))),
          "state", v1::GrantState_Name(grant.state()));
    }
    return Guard("end grant", [&]() -> absl::Status {
      auto& s = c_.Prepare(
          "INSERT INTO grant_endings(grant_id, seq, state, time, reason, "
          "agency, actor, withdrawer, evidence_kind, evidence_reference) "
          "VALUES(?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM grant_endings "
          "WHERE grant_id = ?1), ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
      BindText(s, 1, grant_id);
      s.bind(2, ending.state);
      s.bind(3, Micros(ending.time));
      BindText(s, 4, ending.reason);
      BindText(s, 5, BareId(ending.agency));
      BindText(s, 6, ending.actor);
      BindText(s, 7, ending.withdrawer);
      s.bind(8, ending.evidence_kind);
      BindText(s, 9, ending.evidence_reference);
      s.exec();
      auto& open = c_.Prepare("DELETE FROM open_grants WHERE grant_id = ?1");
      BindText(open, 1, grant_id);
      open.exec();
      BumpConsentVersion(c_, grant.subject());
      return absl::OkStatus();
    });
  }

  absl::StatusOr<std::vector<v1::Grant>> ListForSubject(
      absl::string_view subject) override {
    return Guard(
        "list grants", [&]() -> absl::StatusOr<std::vector<v1::Grant>> {
          auto& s = c_.Prepare(
              "SELECT g.id, g.data, e.state, e.time, e.reason, e.withdrawer, "
              "e.evidence_kind, e.evidence_reference FROM grants g "
              "LEFT JOIN grant_endings e ON e.grant_id = g.id "
              "WHERE g.subject = ?1 ORDER BY g.id, e.seq");
          BindText(s, 1, subject);
          return Fold(s);
        });
  }

  absl::StatusOr<std::vector<v1::Grant>> List(const GrantQuery& q) override {
    return Guard(
        "list grants", [&]() -> absl::StatusOr<std::vector<v1::Grant>> {
          auto& s = c_.Prepare(
              "SELECT g.id, g.data, e.state, e.time, e.reason, e.withdrawer, "
              "e.evidence_kind, e.evidence_reference FROM "
              "(SELECT id, data FROM grants WHERE id > ?1 "
              "  AND (?2 = '' OR subject = ?2) AND (?3 = '' OR plan = ?3) "
              "  AND (?4 IS NULL OR valid_until >= ?4) "
              "  AND (?5 IS NULL OR valid_until < ?5) "
              "  AND ((?4 IS NULL AND ?5 IS NULL) OR NOT EXISTS "
              "       (SELECT 1 FROM grant_endings x WHERE x.grant_id = id)) "
              "  AND (?7 = 0 OR COALESCE((SELECT x.state FROM grant_endings x "
              "       WHERE x.grant_id = id ORDER BY x.seq DESC LIMIT 1), "
              "       1) = ?7) "
              "  ORDER BY id LIMIT ?6) g "
              "LEFT JOIN grant_endings e ON e.grant_id = g.id "
              "ORDER BY g.id, e.seq");
          BindText(s, 1, q.after);
          BindText(s, 2, q.subject);
          BindText(s, 3, q.plan);
          if (q.ends_after.has_value()) {
            s.bind(4, Micros(*q.ends_after));
          } else {
            s.bind(4);
          }
          if (q.ends_before.has_value()) {
            s.bind(5, Micros(*q.ends_before));
          } else {
            s.bind(5);
          }
          s.bind(6, q.limit);
          s.bind(7, q.state);
          return Fold(s);
        });
  }

  absl::StatusOr<int64_t> ConsentVersion(absl::string_view subject) override {
    return Guard("consent version", [&]() -> absl::StatusOr<int64_t> {
      auto& s =
          c_.Prepare("SELECT version FROM consent_versions WHERE subject = ?1");
      BindText(s, 1, subject);
      if (!s.executeStep()) return int64_t{0};
      return s.getColumn(0).getInt64();
    });
  }

  absl::StatusOr<std::vector<v1::Grant>> ListLapsed(absl::Time now,
                                                    int limit) override {
    return Guard(
        "list lapsed grants", [&]() -> absl::StatusOr<std::vector<v1::Grant>> {
          auto& s = c_.Prepare(
              "SELECT g.id, g.data, NULL, NULL, NULL, NULL, NULL, NULL "
              "FROM open_grants o JOIN grants g ON g.id = o.grant_id "
              "WHERE o.valid_until <= ?1 "
              "ORDER BY o.valid_until, o.grant_id LIMIT ?2");
          s.bind(1, Micros(now));
          s.bind(2, limit);
          return Fold(s);
        });
  }

 private:
  // Rows of (id, data, ending...) ordered by id then ending seq -> grants
  // with their state derived from the endings.
  static absl::StatusOr<std::vector<v1::Grant>> Fold(SQLite::Statement& s) {
    std::vector<v1::Grant> out;
    std::string last_id;
    while (s.executeStep()) {
      std::string id = s.getColumn(0).getString();
      if (out.empty() || id != last_id) {
        ASSIGN_OR_RETURN(auto g,
                         ParseColumn<v1::Grant>(s.getColumn(1), "grant"));
        out.push_back(std::move(g));
        last_id = std::move(id);
      }
      if (s.getColumn(2).isNull()) continue;
      v1::Grant& g = out.back();
      const auto state = static_cast<v1::GrantState>(s.getColumn(2).getInt());
      const bool first = g.state() == v1::GRANT_STATE_ACTIVE;
      g.set_state(state);
      g.set_end_reason(s.getColumn(4).getString());
      if (first) {
        SetTimestamp(FromMicros(s.getColumn(3).getInt64()),
                     g.mutable_end_time());
      }
      if (state == v1::GRANT_STATE_WITHDRAWN) {
        g.set_withdrawer_identity_number(s.getColumn(5).getString());
        g.mutable_withdrawal_evidence()->set_kind(
            static_cast<v1::EvidenceKind>(s.getColumn(6).getInt()));
        g.mutable_withdrawal_evidence()->set_reference(
            s.getColumn(7).getString());
      }
    }
    return out;
  }

  Connection& c_;
};

class SqliteCustody final : public CustodyStore {
 public:
  explicit SqliteCustody(Connection& c) : c_(c) {}

  absl::Status AddCustody(const v1::CustodyFact& f) override {
    return Guard("record custody", [&]() -> absl::Status {
      auto& s = c_.Prepare(
          "INSERT INTO custody_facts(id, subject, guardian, valid_from, "
          "valid_until, data) VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
      BindText(s, 1, BareId(f.name()));
      BindText(s, 2, f.subject());
      BindText(s, 3, f.guardian_identity_number());
      s.bind(4, Micros(f.valid_from()));
      if (f.has_valid_until()) {
        s.bind(5, Micros(f.valid_until()));
      } else {
        s.bind(5);
      }
      BindBlob(s, 6, f);
      s.exec();
      BumpConsentVersion(c_, f.subject());
      return absl::OkStatus();
    });
  }

  absl::StatusOr<std::vector<v1::CustodyFact>> ListCustody(
      absl::string_view subject) override {
    return Guard("list custody",
                 [&]() -> absl::StatusOr<std::vector<v1::CustodyFact>> {
                   auto& s = c_.Prepare(
                       "SELECT f.data, e.end_time FROM custody_facts f "
                       "LEFT JOIN custody_endings e ON e.fact_id = f.id "
                       "WHERE f.subject = ?1 ORDER BY f.id");
                   BindText(s, 1, subject);
                   std::vector<v1::CustodyFact> out;
                   while (s.executeStep()) {
                     ASSIGN_OR_RETURN(auto f, ReadCustody(s));
                     out.push_back(std::move(f));
                   }
                   return out;
                 });
  }

  absl::StatusOr<v1::CustodyFact> GetCustody(absl::string_view id) override {
    return Guard("get custody", [&]() -> absl::StatusOr<v1::CustodyFact> {
      auto& s = c_.Prepare(
          "SELECT f.data, e.end_time FROM custody_facts f "
          "LEFT JOIN custody_endings e ON e.fact_id = f.id WHERE f.id = ?1");
      BindText(s, 1, id);
      if (!s.executeStep()) {
        return NotFound(absl::StrCat("custodyFacts/", id),
                        "custody fact not found");
      }
      return ReadCustody(s);
    });
  }

  absl::Status EndCustody(absl::string_view id, absl::Time end_time,
                          absl::string_view agency, absl::string_view actor,
                          absl::Time now) override {
    ASSIGN_OR_RETURN(v1::CustodyFact fact, GetCustody(id));
    return Guard("end custody", [&]() -> absl::Status {
      auto& s = c_.Prepare(
          "INSERT INTO custody_endings(fact_id, end_time, agency, actor, time) "
          "VALUES(?1, ?2, ?3, ?4, ?5)");
      BindText(s, 1, id);
      s.bind(2, Micros(end_time));
      BindText(s, 3, BareId(agency));
      BindText(s, 4, actor);
      s.bind(5, Micros(now));
      try {
        s.exec();
      } catch (const SQLite::Exception& e) {
        if ((e.getErrorCode() & 0xff) == SQLITE_CONSTRAINT) {
          return Error(absl::StatusCode::kFailedPrecondition, "ALREADY_ENDED",
                       "", "the custody fact has already been ended");
        }
        throw;
      }
      BumpConsentVersion(c_, fact.subject());
      return absl::OkStatus();
    });
  }

  absl::Status AddRepresentation(const v1::Representation& r) override {
    return Guard("record representation", [&]() -> absl::Status {
      auto& s = c_.Prepare(
          "INSERT INTO representations(id, subject, representative, "
          "valid_from, valid_until, data) VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
      BindText(s, 1, BareId(r.name()));
      BindText(s, 2, r.subject());
      BindText(s, 3, r.representative_identity_number());
      s.bind(4, Micros(r.valid_from()));
      if (r.has_valid_until()) {
        s.bind(5, Micros(r.valid_until()));
      } else {
        s.bind(5);
      }
      BindBlob(s, 6, r);
      s.exec();
      BumpConsentVersion(c_, r.subject());
      return absl::OkStatus();
    });
  }

  absl::StatusOr<std::vector<v1::Representation>> ListRepresentations(
      absl::string_view subject) override {
    return Guard("list representations",
                 [&]() -> absl::StatusOr<std::vector<v1::Representation>> {
                   auto& s = c_.Prepare(
                       "SELECT data FROM representations WHERE subject = ?1 "
                       "ORDER BY id");
                   BindText(s, 1, subject);
                   std::vector<v1::Representation> out;
                   while (s.executeStep()) {
                     ASSIGN_OR_RETURN(auto r,
                                      ParseColumn<v1::Representation>(
                                          s.getColumn(0), "representation"));
                     out.push_back(std::move(r));
                   }
                   return out;
                 });
  }

  absl::StatusOr<v1::Representation> GetRepresentation(
      absl::string_view id) override {
    return Guard(
        "get representation", [&]() -> absl::StatusOr<v1::Representation> {
          auto& s =
              c_.Prepare("SELECT data FROM representations WHERE id = ?1");
          BindText(s, 1, id);
          if (!s.executeStep()) {
            return NotFound(absl::StrCat("representations/", id),
                            "representation not found");
          }
          return ParseColumn<v1::Representation>(s.getColumn(0),
                                                 "representation");
        });
  }

  absl::Status UpdateRepresentation(const v1::Representation& r) override {
    return Guard("update representation", [&]() -> absl::Status {
      auto& s = c_.Prepare(
          "UPDATE representations SET valid_from = ?2, valid_until = ?3, "
          "data = ?4 WHERE id = ?1");
      BindText(s, 1, BareId(r.name()));
      s.bind(2, Micros(r.valid_from()));
      if (r.has_valid_until()) {
        s.bind(3, Micros(r.valid_until()));
      } else {
        s.bind(3);
      }
      BindBlob(s, 4, r);
      if (s.exec() == 0) {
        return NotFound(r.name(), "representation not found");
      }
      BumpConsentVersion(c_, r.subject());
      return absl::OkStatus();
    });
  }

 private:
  // Row (data, end_time or NULL) -> the fact with valid_until cut short by
  // its ending.
  static absl::StatusOr<v1::CustodyFact> ReadCustody(SQLite::Statement& s) {
    ASSIGN_OR_RETURN(
        auto f, ParseColumn<v1::CustodyFact>(s.getColumn(0), "custody fact"));
    if (!s.getColumn(1).isNull()) {
      const int64_t end = s.getColumn(1).getInt64();
      if (!f.has_valid_until() || end < Micros(f.valid_until())) {
        SetTimestamp(FromMicros(end), f.mutable_valid_until());
      }
    }
    return f;
  }

  Connection& c_;
};

// The leaf hash of event `e`, as a correlated subquery: a JOIN would let
// SQLite drive the query from audit_nodes and sort, reading every row up to
// the page for each page of an export.
#define LEAF_HASH_COLUMN \
  "(SELECT hash FROM audit_nodes WHERE level = 0 AND idx = e.leaf_index)"

// A hash read from the database; a wrong length is corruption (DATA_LOSS),
// never the caller's fault.
absl::StatusOr<audit::Hash> StoredHash(const SQLite::Column& column) {
  auto hash = audit::HashFromBytes(column.getString());
  if (!hash.ok()) {
    return absl::DataLossError("storage: a stored audit hash is not 32 bytes");
  }
  return hash;
}

class SqliteAudit final : public AuditLog {
 public:
  explicit SqliteAudit(Connection& c) : c_(c) {}

  absl::StatusOr<int64_t> Append(v1::AuditEvent stored) override {
    return Guard("append audit event", [&]() -> absl::StatusOr<int64_t> {
      int64_t index = next_index_;
      if (index < 0) {
        ASSIGN_OR_RETURN(index, Size());
        recent_.assign(64, {});
      }
      stored.set_leaf_index(index);
      stored.clear_leaf_hash();
      stored.set_leaf_format(audit::kCurrentLeafFormat);
      // The leaf data keeps microseconds (audit/leaf.h); so does the store.
      SetTimestamp(FromMicros(Micros(stored.time())), stored.mutable_time());
      auto& s = c_.Prepare(
          "INSERT INTO audit_events(leaf_index, time, agency, actor, action, "
          "subject, decision, data, resource) "
          "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
      s.bind(1, static_cast<int64_t>(index));
      s.bind(2, Micros(stored.time()));
      BindText(s, 3, BareId(stored.agency()));
      BindText(s, 4, stored.actor());
      s.bind(5, stored.action());
      BindText(s, 6, stored.subject());
      s.bind(7, stored.decision());
      BindBlob(s, 8, stored);
      BindText(s, 9, stored.resource());
      s.exec();
      RETURN_IF_ERROR(audit::AppendLeaf(
          index, audit::EventLeafHash(stored),
          [&](int level, int64_t idx) -> absl::StatusOr<audit::Hash> {
            const RecentNode& r = recent_[level][idx & 1];
            if (r.idx == idx) return r.hash;
            return Node(level, idx);
          },
          [&](int level, int64_t idx, const audit::Hash& h) {
            absl::Status written = WriteNode(level, idx, h);
            if (written.ok()) recent_[level][idx & 1] = RecentNode{idx, h};
            return written;
          }));
      next_index_ = index + 1;
      return index;
    });
  }

  // Drops what Append() remembers (after a rollback to a savepoint).
  void Forget() {
    next_index_ = -1;
    recent_.clear();
  }

  absl::StatusOr<v1::AuditEvent> Get(int64_t index) override {
    return Guard("get audit event", [&]() -> absl::StatusOr<v1::AuditEvent> {
      auto& s = c_.Prepare("SELECT e.data, " LEAF_HASH_COLUMN
                           " FROM audit_events e WHERE e.leaf_index = ?1");
      s.bind(1, static_cast<int64_t>(index));
      if (!s.executeStep()) {
        return NotFound(absl::StrCat("leaf ", index), "audit event not found");
      }
      return ReadEvent(s);
    });
  }

  absl::StatusOr<int64_t> Size() override {
    return Guard("audit log size", [&]() -> absl::StatusOr<int64_t> {
      auto& s = c_.Prepare(
          "SELECT COALESCE(MAX(leaf_index) + 1, 0) "
          "FROM audit_events");
      s.executeStep();
      return s.getColumn(0).getInt64();
    });
  }

  absl::StatusOr<std::vector<v1::AuditEvent>> Query(
      const AuditQuery& q) override {
    return Guard(
        "query audit log",
        [&]() -> absl::StatusOr<std::vector<v1::AuditEvent>> {
          // Built from fixed fragments; every value is bound except the
          // action numbers, which are ints.
          std::string sql = "SELECT e.data, " LEAF_HASH_COLUMN
                            " FROM audit_events e WHERE e.leaf_index > ?1";
          if (!q.subject.empty()) sql += " AND e.subject = ?2";
          if (!q.agency.empty()) sql += " AND e.agency = ?3";
          if (!q.actor.empty()) sql += " AND e.actor = ?4";
          if (q.action != 0) sql += " AND e.action = ?5";
          if (q.decision != 0) sql += " AND e.decision = ?6";
          if (q.start_time.has_value()) sql += " AND e.time >= ?7";
          if (q.end_time.has_value()) sql += " AND e.time < ?8";
          // An entry's name also matches the plan reads that decided about
          // it: the PLAN_READ events of its plan, kept below only when their
          // entry_decisions name it (so the LIMIT moves out of the SQL).
          std::string entry_plan;
          if (std::vector<absl::string_view> parts =
                  absl::StrSplit(q.resource, '/');
              parts.size() == 4 && parts[0] == "plans" &&
              parts[2] == "entries") {
            entry_plan = absl::StrCat("plans/", parts[1]);
          }
          if (!q.resource.empty()) {
            sql +=
                " AND (e.resource = ?10 OR "
                "(e.resource >= ?10 || '/' AND e.resource < ?10 || '0')";
            if (!entry_plan.empty()) {
              absl::StrAppend(&sql, " OR (e.resource = ?12 AND e.action = ",
                              static_cast<int>(v1::AUDIT_ACTION_PLAN_READ),
                              ")");
            }
            sql += ")";
          }
          if (q.before_index >= 0) sql += " AND e.leaf_index < ?11";
          if (!q.any_action.empty()) {
            sql += " AND e.action IN (";
            for (size_t i = 0; i < q.any_action.size(); ++i) {
              absl::StrAppend(&sql, i == 0 ? "" : ", ", q.any_action[i]);
            }
            sql += ")";
          }
          sql += entry_plan.empty() ? " ORDER BY e.leaf_index LIMIT ?9"
                                    : " ORDER BY e.leaf_index";
          SQLite::Statement s(c_.db(), sql);
          s.bind(1, static_cast<int64_t>(q.after_index));
          if (!q.subject.empty()) BindText(s, 2, q.subject);
          if (!q.agency.empty()) BindText(s, 3, BareId(q.agency));
          if (!q.actor.empty()) BindText(s, 4, q.actor);
          if (q.action != 0) s.bind(5, q.action);
          if (q.decision != 0) s.bind(6, q.decision);
          if (q.start_time.has_value()) s.bind(7, Micros(*q.start_time));
          if (q.end_time.has_value()) s.bind(8, Micros(*q.end_time));
          if (entry_plan.empty()) s.bind(9, q.limit);
          if (!q.resource.empty()) BindText(s, 10, q.resource);
          if (q.before_index >= 0)
            s.bind(11, static_cast<int64_t>(q.before_index));
          if (!entry_plan.empty()) BindText(s, 12, entry_plan);
          std::vector<v1::AuditEvent> out;
          while (out.size() < static_cast<size_t>(std::max(q.limit, 0)) &&
                 s.executeStep()) {
            ASSIGN_OR_RETURN(auto e, ReadEvent(s));
            if (!entry_plan.empty() && e.resource() == entry_plan &&
                e.action() == v1::AUDIT_ACTION_PLAN_READ &&
                !DecidesAbout(e, q.resource)) {
              continue;
            }
            out.push_back(std::move(e));
          }
          return out;
        });
  }

  absl::StatusOr<audit::Hash> RootAt(int64_t size) override {
    return Guard("audit root", [&]() -> absl::StatusOr<audit::Hash> {
      RETURN_IF_ERROR(CheckSize(size));
      return audit::RootAt(size,
                           [this](int l, int64_t i) { return Node(l, i); });
    });
  }

  absl::StatusOr<std::vector<audit::Hash>> InclusionProof(
      int64_t index, int64_t size) override {
    return Guard(
        "inclusion proof", [&]() -> absl::StatusOr<std::vector<audit::Hash>> {
          RETURN_IF_ERROR(CheckSize(size));
          return audit::InclusionProof(
              index, size, [this](int l, int64_t i) { return Node(l, i); });
        });
  }

  absl::StatusOr<std::vector<audit::Hash>> ConsistencyProof(
      int64_t first, int64_t second) override {
    return Guard(
        "consistency proof", [&]() -> absl::StatusOr<std::vector<audit::Hash>> {
          RETURN_IF_ERROR(CheckSize(second));
          return audit::ConsistencyProof(
              first, second, [this](int l, int64_t i) { return Node(l, i); });
        });
  }

  absl::Status AddCheckpoint(const StoredCheckpoint& c) override {
    return Guard("add checkpoint", [&]() -> absl::Status {
      auto& s = c_.Prepare(
          "INSERT INTO audit_checkpoints(tree_size, time, root_hash, "
          "signed_note) VALUES(?1, ?2, ?3, ?4)");
      s.bind(1, static_cast<int64_t>(c.tree_size));
      s.bind(2, Micros(c.time));
      s.bind(3, c.root.data(), static_cast<int>(c.root.size()));
      BindText(s, 4, c.signed_note);
      s.exec();
      return absl::OkStatus();
    });
  }

  absl::StatusOr<std::optional<StoredCheckpoint>> LatestCheckpoint() override {
    return Guard("latest checkpoint",
                 [&]() -> absl::StatusOr<std::optional<StoredCheckpoint>> {
                   auto& s = c_.Prepare(
                       "SELECT tree_size, time, root_hash, signed_note FROM "
                       "audit_checkpoints ORDER BY tree_size DESC LIMIT 1");
                   if (!s.executeStep()) {
                     return std::optional<StoredCheckpoint>();
                   }
                   StoredCheckpoint c;
                   c.tree_size = s.getColumn(0).getInt64();
                   c.time = FromMicros(s.getColumn(1).getInt64());
                   ASSIGN_OR_RETURN(c.root, StoredHash(s.getColumn(2)));
                   c.signed_note = s.getColumn(3).getString();
                   return std::optional<StoredCheckpoint>(std::move(c));
                 });
  }

 private:
  // Column 1 is LEAF_HASH_COLUMN: NULL if the event has no leaf in the tree.
  static absl::StatusOr<v1::AuditEvent> ReadEvent(SQLite::Statement& s) {
    if (s.getColumn(1).isNull()) {
      return absl::DataLossError("storage: an audit event has no leaf hash");
    }
    ASSIGN_OR_RETURN(
        auto e, ParseColumn<v1::AuditEvent>(s.getColumn(0), "audit event"));
    e.set_leaf_hash(s.getColumn(1).getString());
    return e;
  }

  // Whether plan read `e` holds a decision about entry `entry`.
  static bool DecidesAbout(const v1::AuditEvent& e, absl::string_view entry) {
    for (const v1::EntryDecision& d : e.entry_decisions()) {
      if (d.entry() == entry) return true;
    }
    return false;
  }

  absl::Status CheckSize(int64_t size) {
    ASSIGN_OR_RETURN(const int64_t current, Size());
    if (size > current) {
      return absl::OutOfRangeError(absl::StrCat(
          "tree size ", size, " exceeds the log's size ", current));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<audit::Hash> Node(int level, int64_t idx) {
    auto& s = c_.Prepare(
        "SELECT hash FROM audit_nodes WHERE level = ?1 AND idx = ?2");
    s.bind(1, level);
    s.bind(2, static_cast<int64_t>(idx));
    if (!s.executeStep()) {
      return absl::DataLossError(absl::StrCat("storage: audit tree node (",
                                              level, ", ", idx, ") missing"));
    }
    return StoredHash(s.getColumn(0));
  }

  absl::Status WriteNode(int level, int64_t idx, const audit::Hash& h) {
    auto& s = c_.Prepare(
        "INSERT INTO audit_nodes(level, idx, hash) VALUES(?1, ?2, ?3)");
    s.bind(1, level);
    s.bind(2, static_cast<int64_t>(idx));
    s.bind(3, h.data(), static_cast<int>(h.size()));
    s.exec();
    return absl::OkStatus();
  }

  Connection& c_;

  // Appends keep the log's size and the right edge of the tree (the nodes
  // last written at each level; a new leaf's left siblings are among them),
  // so an append costs the inserts and no reads. Valid for one transaction;
  // Forget() after a rollback.
  struct RecentNode {
    int64_t idx = -1;
    audit::Hash hash{};
  };
  int64_t next_index_ = -1;
  // [level][idx % 2]; allocated by the first append (most transactions
  // append nothing).
  std::vector<std::array<RecentNode, 2>> recent_;
};

#undef LEAF_HASH_COLUMN

class SqliteRequests final : public RequestLog {
 public:
  explicit SqliteRequests(Connection& c) : c_(c) {}

  absl::StatusOr<std::optional<RequestRecord>> Find(
      absl::string_view agency, absl::string_view request_id) override {
    return Guard("find request",
                 [&]() -> absl::StatusOr<std::optional<RequestRecord>> {
                   auto& s = c_.Prepare(
                       "SELECT method, fingerprint, response FROM requests "
                       "WHERE agency = ?1 AND request_id = ?2");
                   BindText(s, 1, BareId(agency));
                   BindText(s, 2, request_id);
                   if (!s.executeStep()) return std::optional<RequestRecord>();
                   RequestRecord r;
                   r.method = s.getColumn(0).getString();
                   r.fingerprint = s.getColumn(1).getString();
                   r.response = s.getColumn(2).getString();
                   return std::optional<RequestRecord>(std::move(r));
                 });
  }

  absl::Status Save(absl::string_view agency, absl::string_view request_id,
                    const RequestRecord& r, absl::Time time) override {
    return Guard("save request", [&]() -> absl::Status {
      auto& s = c_.Prepare(
          "INSERT INTO requests(agency, request_id, method, fingerprint, "
          "response, time) VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
      BindText(s, 1, BareId(agency));
      BindText(s, 2, request_id);
      BindText(s, 3, r.method);
      s.bind(4, r.fingerprint.data(), static_cast<int>(r.fingerprint.size()));
      s.bind(5, r.response.data(), static_cast<int>(r.response.size()));
      s.bind(6, Micros(time));
      s.exec();
      return absl::OkStatus();
    });
  }

 private:
  Connection& c_;
};

class SqliteTransaction final : public Transaction {
 public:
  SqliteTransaction(Connection& c, bool committed)
      : committed_(committed),
        agencies_(c),
        plans_(c),
        grants_(c),
        custody_(c),
        audit_(c),
        requests_(c) {}

  AgencyRegistry& agencies() override { return agencies_; }
  PlanRepository& plans() override { return plans_; }
  GrantStore& grants() override { return grants_; }
  CustodyStore& custody() override { return custody_; }
  AuditLog& audit() override { return audit_; }
  RequestLog& requests() override { return requests_; }
  bool committed() const override { return committed_; }

  // After a rollback to a savepoint: state kept across calls is stale.
  void Forget() { audit_.Forget(); }

 private:
  const bool committed_;
  SqliteAgencies agencies_;
  SqlitePlans plans_;
  SqliteGrants grants_;
  SqliteCustody custody_;
  SqliteAudit audit_;
  SqliteRequests requests_;
};

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
    std::vector<absl::Status> out(fns.size());
    absl::Status begin = Exec(conn_, "BEGIN IMMEDIATE");
    if (!begin.ok()) {
      for (auto& s : out) s = begin;
      return out;
    }
    SqliteTransaction tx(conn_, /*committed=*/false);
    for (size_t i = 0; i < fns.size(); ++i) {
      absl::Status sp = Exec(conn_, "SAVEPOINT job");
      if (sp.ok()) {
        try {
          out[i] = fns[i](tx);
        } catch (const std::exception& e) {
          out[i] = absl::InternalError(
              absl::StrCat("storage: transaction failed: ", e.what()));
        }
        if (!out[i].ok()) {
          sp = Exec(conn_, "ROLLBACK TO job");
          tx.Forget();
        }
        if (sp.ok()) sp = Exec(conn_, "RELEASE job");
      }
      if (!sp.ok()) {
        // The transaction is in an unknown state: give up on all of it.
        Rollback(conn_);
        for (auto& s : out) s = sp;
        return out;
      }
    }
    conn_.ResetAll();
    absl::Status commit = Exec(conn_, "COMMIT");
    if (!commit.ok()) {
      Rollback(conn_);
      for (auto& s : out) {
        s = WithReason(absl::UnavailableError(absl::StrCat(
                           "storage: commit failed: ", commit.message())),
                       "STORAGE_UNAVAILABLE");
      }
    }
    return out;
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
  // `sql` is a string literal (BEGIN, COMMIT, SAVEPOINT ...), prepared once
  // per connection: every call runs several, and parsing them again each
  // time was a measurable share of the writer's time.
  static absl::Status Exec(Connection& c, const char* sql) {
    return Guard(sql, [&]() -> absl::Status {
      c.Prepare(sql).exec();
      return absl::OkStatus();
    });
  }

  // Runs fn in a transaction on `c` that starts with `begin`, commits when
  // fn succeeds and rolls back otherwise. `committed`: fn sees only
  // committed data (Transaction::committed()).
  static absl::Status Run(Connection& c,
                          absl::FunctionRef<absl::Status(Transaction&)> fn,
                          const char* begin, bool committed) {
    RETURN_IF_ERROR(Exec(c, begin));
    absl::Status status;
    try {
      SqliteTransaction tx(c, committed);
      status = fn(tx);
    } catch (const std::exception& e) {
      status = absl::InternalError(
          absl::StrCat("storage: transaction failed: ", e.what()));
    }
    c.ResetAll();
    if (!status.ok()) {
      Rollback(c);
      return status;
    }
    absl::Status commit = Exec(c, "COMMIT");
    if (!commit.ok()) {
      Rollback(c);
      return WithReason(absl::UnavailableError(absl::StrCat(
                            "storage: commit failed: ", commit.message())),
                        "STORAGE_UNAVAILABLE");
    }
    return absl::OkStatus();
  }

  static void Rollback(Connection& c) {
    c.ResetAll();
    if (sqlite3_get_autocommit(c.db().getHandle()) == 0) {
      (void)Exec(c, "ROLLBACK");
    }
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
                          busy_timeout_ms_);
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
               options.busy_timeout_ms);
  } catch (const SQLite::Exception& e) {
    return WithReason(
        absl::UnavailableError(absl::StrCat("cannot open the database at '",
                                            options.path, "': ", e.what())),
        "STORAGE_UNAVAILABLE");
  }
  absl::Status pragmas = Guard("configure database", [&]() -> absl::Status {
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
    absl::Status opened = Guard("open the checkpoint connection", [&] {
      checkpointer.emplace(options.path, SQLite::OPEN_READWRITE,
                           options.busy_timeout_ms);
      checkpointer->exec("PRAGMA synchronous = FULL");
      return absl::OkStatus();
    });
    RETURN_IF_ERROR(opened);
  }
  return std::make_unique<SqliteStore>(std::move(*db), std::move(checkpointer),
                                       options);
}

}  // namespace samplan::storage
