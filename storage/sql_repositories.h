// The repositories of storage::Transaction written once in SQL, for every
// backend: a template over the backend's traits `Db`, which give
//   Db::Connection  Prepare(const char* literal) and PrepareText(const
//                   std::string&), each returning a statement with bind(),
//                   executeStep(), getColumn(i) and exec() (SQLiteCpp's
//                   names);
//   Db::Error       what a failed statement throws;
//   Db::FromError(what, error)  the storage error model for it;
//   Db::IsConstraint(error)     whether it is an integrity violation;
//   Db::kPostgres   whether to use PostgreSQL's forms where SQL differs.
// Statements use numbered parameters (?1); the PostgreSQL connection
// rewrites them. Internal to storage/: included by sqlite_store.cc and
// postgres_store.cc only.

#ifndef SAMPLAN_STORAGE_SQL_REPOSITORIES_H_
#define SAMPLAN_STORAGE_SQL_REPOSITORIES_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/types/span.h"
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
#include "storage/store.h"

namespace samplan::storage::sql {

using ::google::protobuf::Timestamp;

inline int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }
inline int64_t Micros(const Timestamp& t) { return ToUnixMicros(t); }
inline absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

// Runs `f`, turning any exception into a status: nothing escapes storage.
template <typename Db, typename F>
auto Guard(absl::string_view what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const typename Db::Error& e) {
    return Db::FromError(what, e);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("storage: ", what, ": ", e.what()));
  }
}

template <typename M, typename Column>
absl::StatusOr<M> ParseColumn(const Column& column, absl::string_view what) {
  M m;
  if (!m.ParseFromArray(column.getBlob(), column.getBytes())) {
    return absl::InternalError(
        absl::StrCat("storage: a stored ", what, " does not parse"));
  }
  return m;
}

template <typename Statement>
void BindBlob(Statement& s, int index, const google::protobuf::MessageLite& m) {
  const std::string bytes = m.SerializeAsString();
  s.bind(index, bytes.data(), static_cast<int>(bytes.size()));
}

template <typename Statement>
void BindText(Statement& s, int index, absl::string_view text) {
  s.bind(index, std::string(text));
}

// Marks a change to what decisions about `subject` read (its grants,
// custody facts and representations): PlanRepository/GrantStore versions.
template <typename Db>
void BumpConsentVersion(typename Db::Connection& c, absl::string_view subject) {
  // (PostgreSQL wants the table named: `version` alone is ambiguous with
  // the row proposed for insertion.)
  auto& s = c.Prepare(
      "INSERT INTO consent_versions(subject, version) VALUES(?1, 1) "
      "ON CONFLICT(subject) DO UPDATE SET "
      "version = consent_versions.version + 1");
  BindText(s, 1, subject);
  s.exec();
}

// Marks a change to plan `plan_id` or what belongs to it.
template <typename Db>
void BumpPlanVersion(typename Db::Connection& c, absl::string_view plan_id) {
  auto& s = c.Prepare("UPDATE plans SET version = version + 1 WHERE id = ?1");
  BindText(s, 1, plan_id);
  s.exec();
}

template <typename Db>
class SqlAgencies final : public AgencyRegistry {
 public:
  explicit SqlAgencies(typename Db::Connection& c) : c_(c) {}

  absl::Status Create(const v1::Agency& agency) override {
    return Guard<Db>("create agency", [&]() -> absl::Status {
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
    return Guard<Db>("get agency", [&]() -> absl::StatusOr<v1::Agency> {
      auto& s = c_.Prepare("SELECT data FROM agencies WHERE id = ?1");
      BindText(s, 1, id);
      if (!s.executeStep()) {
        return NotFound(absl::StrCat("agencies/", id), "agency not found");
      }
      return ParseColumn<v1::Agency>(s.getColumn(0), "agency");
    });
  }

  absl::Status Update(const v1::Agency& agency) override {
    return Guard<Db>("update agency", [&]() -> absl::Status {
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
    return Guard<Db>(
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
  typename Db::Connection& c_;
};

template <typename Db>
class SqlPlans final : public PlanRepository {
 public:
  explicit SqlPlans(typename Db::Connection& c) : c_(c) {}

  absl::Status Create(const v1::Plan& plan, absl::string_view actor,
                      absl::Time time) override {
    return Guard<Db>("create plan", [&]() -> absl::Status {
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
      BumpPlanVersion<Db>(c_, id);
      return InsertRevision(id, plan, lead, actor, "created", time);
    });
  }

  absl::StatusOr<v1::Plan> Get(absl::string_view plan_id,
                               int64_t revision) override {
    return Guard<Db>("get plan", [&]() -> absl::StatusOr<v1::Plan> {
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
    return Guard<Db>("add plan revision", [&]() -> absl::Status {
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
      BumpPlanVersion<Db>(c_, id);
      return InsertRevision(id, plan, agency, actor, change, time);
    });
  }

  absl::Status PutEntry(absl::string_view plan_id,
                        const v1::Entry& entry) override {
    return Guard<Db>("write entry", [&]() -> absl::Status {
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
      BumpPlanVersion<Db>(c_, plan_id);
      return absl::OkStatus();
    });
  }

  absl::StatusOr<std::vector<v1::Entry>> ListEntries(
      absl::string_view plan_id, int64_t revision) override {
    return Guard<Db>(
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
    return Guard<Db>("get entry", [&]() -> absl::StatusOr<v1::Entry> {
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
    return Guard<Db>("add participant", [&]() -> absl::Status {
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
      BumpPlanVersion<Db>(c_, plan_id);
      return absl::OkStatus();
    });
  }

  absl::Status RemoveParticipant(absl::string_view plan_id,
                                 absl::string_view participant_id,
                                 absl::Time time) override {
    return Guard<Db>("remove participant", [&]() -> absl::Status {
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
      BumpPlanVersion<Db>(c_, plan_id);
      return absl::OkStatus();
    });
  }

  absl::StatusOr<std::vector<v1::Participant>> ListParticipants(
      absl::string_view plan_id, bool include_removed) override {
    return Guard<Db>(
        "list participants",
        [&]() -> absl::StatusOr<std::vector<v1::Participant>> {
          auto& s = c_.Prepare(
              "SELECT data FROM participants WHERE plan_id = ?1 AND "
              "(?2 OR removed = 0) ORDER BY participant_id");
          BindText(s, 1, plan_id);
          s.bind(2, include_removed ? 1 : 0);
          std::vector<v1::Participant> out;
          while (s.executeStep()) {
            ASSIGN_OR_RETURN(auto p, ParseColumn<v1::Participant>(
                                         s.getColumn(0), "participant"));
            out.push_back(std::move(p));
          }
          return out;
        });
  }

  absl::StatusOr<bool> TakesPart(absl::string_view plan_id,
                                 absl::string_view agency) override {
    return Guard<Db>("check participation", [&]() -> absl::StatusOr<bool> {
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
    return Guard<Db>("plan version", [&]() -> absl::StatusOr<int64_t> {
      auto& s = c_.Prepare("SELECT version FROM plans WHERE id = ?1");
      BindText(s, 1, plan_id);
      if (!s.executeStep()) return int64_t{0};
      return s.getColumn(0).getInt64();
    });
  }

  absl::StatusOr<ReadView> ReadForAgency(absl::string_view plan_id,
                                         absl::string_view agency,
                                         bool effective_view) override {
    return Guard<Db>("read plan", [&]() -> absl::StatusOr<ReadView> {
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
    return Guard<Db>("add approval", [&]() -> absl::Status {
      auto& s = c_.Prepare(
          "INSERT INTO approvals(plan_id, seq, revision, data) "
          "VALUES(?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM approvals "
          "WHERE plan_id = ?1), ?2, ?3)");
      BindText(s, 1, plan_id);
      s.bind(2, static_cast<int64_t>(approval.revision()));
      BindBlob(s, 3, approval);
      s.exec();
      auto& u = c_.Prepare(
          Db::kPostgres ? "UPDATE plans SET effective_revision = "
                          "GREATEST(effective_revision, ?2), "
                          "state = CASE WHEN state = ?3 THEN ?4 ELSE state END "
                          "WHERE id = ?1"
                        : "UPDATE plans SET effective_revision = "
                          "MAX(effective_revision, ?2), "
                          "state = CASE WHEN state = ?3 THEN ?4 ELSE state END "
                          "WHERE id = ?1");
      BindText(u, 1, plan_id);
      u.bind(2, static_cast<int64_t>(approval.revision()));
      u.bind(3, v1::PLAN_STATE_DRAFT);
      u.bind(4, v1::PLAN_STATE_ACTIVE);
      u.exec();
      BumpPlanVersion<Db>(c_, plan_id);
      return absl::OkStatus();
    });
  }

  absl::StatusOr<std::vector<v1::Approval>> ListApprovals(
      absl::string_view plan_id) override {
    return Guard<Db>(
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
    return Guard<
        Db>("list plans", [&]() -> absl::StatusOr<std::vector<v1::Plan>> {
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

  typename Db::Connection& c_;
};

template <typename Db>
class SqlGrants final : public GrantStore {
 public:
  explicit SqlGrants(typename Db::Connection& c) : c_(c) {}

  absl::Status Insert(const v1::Grant& grant) override {
    return Guard<Db>("record grant", [&]() -> absl::Status {
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
      BumpConsentVersion<Db>(c_, grant.subject());
      return absl::OkStatus();
    });
  }

  absl::StatusOr<v1::Grant> Get(absl::string_view grant_id) override {
    return Guard<Db>("get grant", [&]() -> absl::StatusOr<v1::Grant> {
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
    return Guard<Db>("end grant", [&]() -> absl::Status {
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
      BumpConsentVersion<Db>(c_, grant.subject());
      return absl::OkStatus();
    });
  }

  absl::StatusOr<std::vector<v1::Grant>> ListForSubject(
      absl::string_view subject) override {
    return Guard<Db>(
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
    return Guard<Db>(
        "list grants", [&]() -> absl::StatusOr<std::vector<v1::Grant>> {
          auto& s = c_.Prepare(
              "SELECT g.id, g.data, e.state, e.time, e.reason, e.withdrawer, "
              "e.evidence_kind, e.evidence_reference FROM "
              "(SELECT id, data FROM grants WHERE id > ?1 "
              "  AND (?2 = '' OR subject = ?2) AND (?3 = '' OR plan = ?3) "
              // (The casts type the parameters for PostgreSQL, which
              // cannot infer a type from IS NULL.)
              "  AND (CAST(?4 AS BIGINT) IS NULL OR valid_until >= ?4) "
              "  AND (CAST(?5 AS BIGINT) IS NULL OR valid_until < ?5) "
              "  AND ((CAST(?4 AS BIGINT) IS NULL AND "
              "        CAST(?5 AS BIGINT) IS NULL) OR NOT EXISTS "
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
    return Guard<Db>("consent version", [&]() -> absl::StatusOr<int64_t> {
      auto& s =
          c_.Prepare("SELECT version FROM consent_versions WHERE subject = ?1");
      BindText(s, 1, subject);
      if (!s.executeStep()) return int64_t{0};
      return s.getColumn(0).getInt64();
    });
  }

  absl::StatusOr<std::vector<v1::Grant>> ListLapsed(absl::Time now,
                                                    int limit) override {
    return Guard<Db>(
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

  absl::StatusOr<int64_t> CountActiveEndingBefore(absl::Time before) override {
    return Guard<Db>("count grants ending", [&]() -> absl::StatusOr<int64_t> {
      auto& s =
          c_.Prepare("SELECT COUNT(*) FROM open_grants WHERE valid_until < ?1");
      s.bind(1, Micros(before));
      s.executeStep();
      return s.getColumn(0).getInt64();
    });
  }

 private:
  // Rows of (id, data, ending...) ordered by id then ending seq -> grants
  // with their state derived from the endings.
  template <typename Statement>
  static absl::StatusOr<std::vector<v1::Grant>> Fold(Statement& s) {
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

  typename Db::Connection& c_;
};

template <typename Db>
class SqlCustody final : public CustodyStore {
 public:
  explicit SqlCustody(typename Db::Connection& c) : c_(c) {}

  absl::Status AddCustody(const v1::CustodyFact& f) override {
    return Guard<Db>("record custody", [&]() -> absl::Status {
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
      BumpConsentVersion<Db>(c_, f.subject());
      return absl::OkStatus();
    });
  }

  absl::StatusOr<std::vector<v1::CustodyFact>> ListCustody(
      absl::string_view subject) override {
    return Guard<Db>("list custody",
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
    return Guard<Db>("get custody", [&]() -> absl::StatusOr<v1::CustodyFact> {
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
    return Guard<Db>("end custody", [&]() -> absl::Status {
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
      } catch (const typename Db::Error& e) {
        if (Db::IsConstraint(e)) {
          return Error(absl::StatusCode::kFailedPrecondition, "ALREADY_ENDED",
                       "", "the custody fact has already been ended");
        }
        throw;
      }
      BumpConsentVersion<Db>(c_, fact.subject());
      return absl::OkStatus();
    });
  }

  absl::Status AddRepresentation(const v1::Representation& r) override {
    return Guard<Db>("record representation", [&]() -> absl::Status {
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
      BumpConsentVersion<Db>(c_, r.subject());
      return absl::OkStatus();
    });
  }

  absl::StatusOr<std::vector<v1::Representation>> ListRepresentations(
      absl::string_view subject) override {
    return Guard<Db>(
        "list representations",
        [&]() -> absl::StatusOr<std::vector<v1::Representation>> {
          auto& s = c_.Prepare(
              "SELECT data FROM representations WHERE subject = ?1 "
              "ORDER BY id");
          BindText(s, 1, subject);
          std::vector<v1::Representation> out;
          while (s.executeStep()) {
            ASSIGN_OR_RETURN(auto r, ParseColumn<v1::Representation>(
                                         s.getColumn(0), "representation"));
            out.push_back(std::move(r));
          }
          return out;
        });
  }

  absl::StatusOr<v1::Representation> GetRepresentation(
      absl::string_view id) override {
    return Guard<Db>(
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
    return Guard<Db>("update representation", [&]() -> absl::Status {
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
      BumpConsentVersion<Db>(c_, r.subject());
      return absl::OkStatus();
    });
  }

 private:
  // Row (data, end_time or NULL) -> the fact with valid_until cut short by
  // its ending.
  template <typename Statement>
  static absl::StatusOr<v1::CustodyFact> ReadCustody(Statement& s) {
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

  typename Db::Connection& c_;
};

// The leaf hash of event `e`, as a correlated subquery: a JOIN would let
// SQLite drive the query from audit_nodes and sort, reading every row up to
// the page for each page of an export.
#define LEAF_HASH_COLUMN \
  "(SELECT hash FROM audit_nodes WHERE level = 0 AND idx = e.leaf_index)"

// A hash read from the database; a wrong length is corruption (DATA_LOSS),
// never the caller's fault.
template <typename Column>
absl::StatusOr<audit::Hash> StoredHash(const Column& column) {
  auto hash = audit::HashFromBytes(column.getString());
  if (!hash.ok()) {
    return absl::DataLossError("storage: a stored audit hash is not 32 bytes");
  }
  return hash;
}

template <typename Db>
class SqlAudit final : public AuditLog {
 public:
  explicit SqlAudit(typename Db::Connection& c) : c_(c) {}

  absl::StatusOr<int64_t> Append(v1::AuditEvent stored) override {
    return Guard<Db>("append audit event", [&]() -> absl::StatusOr<int64_t> {
      int64_t index = next_index_;
      if (index < 0) {
        if constexpr (Db::kPostgres) {
          // The batch's lock on the log's right edge: replicas append one
          // batch at a time, each from the size the last one left.
          auto& size =
              c_.Prepare("SELECT size FROM audit_tree_state FOR UPDATE");
          if (!size.executeStep()) {
            return absl::DataLossError("storage: the audit tree state is gone");
          }
          index = size.getColumn(0).getInt64();
        } else {
          ASSIGN_OR_RETURN(index, Size());
        }
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

  // Where a savepoint was set: what Forget() returns to.
  void Mark() { mark_ = next_index_; }

  // After a rollback to the last Mark(): the append position returns to
  // the mark's (on PostgreSQL the stored size moves only at Flush); the
  // remembered nodes may be rolled back, so they are read again.
  void Forget() {
    next_index_ = mark_;
    if (next_index_ >= 0) {
      recent_.assign(64, {});
    } else {
      recent_.clear();
    }
  }

  // Before COMMIT: on PostgreSQL, the log's stored size, once for all the
  // transaction's appends (one statement instead of one per append).
  // next_index_ is set only by an append that stands.
  absl::Status Flush() {
    if constexpr (Db::kPostgres) {
      if (next_index_ >= 0) {
        RETURN_IF_ERROR(Guard<Db>("grow the audit log", [&]() -> absl::Status {
          auto& grow = c_.Prepare("UPDATE audit_tree_state SET size = ?1");
          grow.bind(1, static_cast<int64_t>(next_index_));
          grow.exec();
          return absl::OkStatus();
        }));
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<v1::AuditEvent> Get(int64_t index) override {
    return Guard<Db>(
        "get audit event", [&]() -> absl::StatusOr<v1::AuditEvent> {
          auto& s = c_.Prepare("SELECT e.data, " LEAF_HASH_COLUMN
                               " FROM audit_events e WHERE e.leaf_index = ?1");
          s.bind(1, static_cast<int64_t>(index));
          if (!s.executeStep()) {
            return NotFound(absl::StrCat("leaf ", index),
                            "audit event not found");
          }
          return ReadEvent(s);
        });
  }

  absl::StatusOr<int64_t> Size() override {
    // After an append: known, and on PostgreSQL not yet stored (Flush).
    if (next_index_ >= 0) return next_index_;
    return Guard<Db>("audit log size", [&]() -> absl::StatusOr<int64_t> {
      auto& s =
          c_.Prepare(Db::kPostgres ? "SELECT size FROM audit_tree_state"
                                   : "SELECT COALESCE(MAX(leaf_index) + 1, 0) "
                                     "FROM audit_events");
      s.executeStep();
      return s.getColumn(0).getInt64();
    });
  }

  absl::StatusOr<std::vector<v1::AuditEvent>> Query(
      const AuditQuery& q) override {
    return Guard<Db>(
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
              !q.resource_exact && parts.size() == 4 && parts[0] == "plans" &&
              parts[2] == "entries") {
            entry_plan = absl::StrCat("plans/", parts[1]);
          }
          if (q.resource_exact) {
            sql += " AND e.resource = ?10";
          } else if (!q.resource.empty()) {
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
          auto& s = c_.PrepareText(sql);
          s.bind(1, static_cast<int64_t>(q.after_index));
          if (!q.subject.empty()) BindText(s, 2, q.subject);
          if (!q.agency.empty()) BindText(s, 3, BareId(q.agency));
          if (!q.actor.empty()) BindText(s, 4, q.actor);
          if (q.action != 0) s.bind(5, q.action);
          if (q.decision != 0) s.bind(6, q.decision);
          if (q.start_time.has_value()) s.bind(7, Micros(*q.start_time));
          if (q.end_time.has_value()) s.bind(8, Micros(*q.end_time));
          if (entry_plan.empty()) s.bind(9, q.limit);
          if (!q.resource.empty() || q.resource_exact) {
            BindText(s, 10, q.resource);
          }
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
    return Guard<Db>("audit root", [&]() -> absl::StatusOr<audit::Hash> {
      RETURN_IF_ERROR(CheckSize(size));
      return audit::RootAt(size,
                           [this](int l, int64_t i) { return Node(l, i); });
    });
  }

  absl::StatusOr<std::vector<audit::Hash>> InclusionProof(
      int64_t index, int64_t size) override {
    return Guard<Db>(
        "inclusion proof", [&]() -> absl::StatusOr<std::vector<audit::Hash>> {
          RETURN_IF_ERROR(CheckSize(size));
          return audit::InclusionProof(
              index, size, [this](int l, int64_t i) { return Node(l, i); });
        });
  }

  absl::StatusOr<std::vector<audit::Hash>> ConsistencyProof(
      int64_t first, int64_t second) override {
    return Guard<Db>(
        "consistency proof", [&]() -> absl::StatusOr<std::vector<audit::Hash>> {
          RETURN_IF_ERROR(CheckSize(second));
          return audit::ConsistencyProof(
              first, second, [this](int l, int64_t i) { return Node(l, i); });
        });
  }

  absl::Status AddCheckpoint(const StoredCheckpoint& c) override {
    return Guard<Db>("add checkpoint", [&]() -> absl::Status {
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
    return Guard<Db>(
        "latest checkpoint",
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
  template <typename Statement>
  static absl::StatusOr<v1::AuditEvent> ReadEvent(Statement& s) {
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

  typename Db::Connection& c_;

  // Appends keep the log's size and the right edge of the tree (the nodes
  // last written at each level; a new leaf's left siblings are among them),
  // so an append costs the inserts and no reads. Valid for one transaction;
  // Forget() after a rollback.
  struct RecentNode {
    int64_t idx = -1;
    audit::Hash hash{};
  };
  int64_t next_index_ = -1;
  // next_index_ at the last savepoint (Mark()).
  int64_t mark_ = -1;
  // [level][idx % 2]; allocated by the first append (most transactions
  // append nothing).
  std::vector<std::array<RecentNode, 2>> recent_;
};

#undef LEAF_HASH_COLUMN

template <typename Db>
class SqlRequests final : public RequestLog {
 public:
  explicit SqlRequests(typename Db::Connection& c) : c_(c) {}

  absl::StatusOr<std::optional<RequestRecord>> Find(
      absl::string_view agency, absl::string_view request_id) override {
    return Guard<Db>("find request",
                     [&]() -> absl::StatusOr<std::optional<RequestRecord>> {
                       auto& s = c_.Prepare(
                           "SELECT method, fingerprint, response FROM requests "
                           "WHERE agency = ?1 AND request_id = ?2");
                       BindText(s, 1, BareId(agency));
                       BindText(s, 2, request_id);
                       if (!s.executeStep())
                         return std::optional<RequestRecord>();
                       RequestRecord r;
                       r.method = s.getColumn(0).getString();
                       r.fingerprint = s.getColumn(1).getString();
                       r.response = s.getColumn(2).getString();
                       return std::optional<RequestRecord>(std::move(r));
                     });
  }

  absl::Status Save(absl::string_view agency, absl::string_view request_id,
                    const RequestRecord& r, absl::Time time) override {
    return Guard<Db>("save request", [&]() -> absl::Status {
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
  typename Db::Connection& c_;
};

template <typename Db>
class SqlTransaction final : public Transaction {
 public:
  SqlTransaction(typename Db::Connection& c, bool committed)
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

  // At a savepoint, and after a rollback to it: state kept across calls
  // returns to the savepoint's.
  void Mark() { audit_.Mark(); }
  void Forget() { audit_.Forget(); }
  // Writes what the transaction kept for the end (before COMMIT).
  absl::Status Flush() { return audit_.Flush(); }

 private:
  const bool committed_;
  SqlAgencies<Db> agencies_;
  SqlPlans<Db> plans_;
  SqlGrants<Db> grants_;
  SqlCustody<Db> custody_;
  SqlAudit<Db> audit_;
  SqlRequests<Db> requests_;
};

// --- Transactions, the same on every backend --------------------------------
//
// These also need of the traits:
//   Db::Exec(connection, sql)  a statement without parameters, as a status;
//   Db::Rollback(connection)   rolls back whatever transaction is open;
//   Db::BeforeCommit(connection)  what the backend must do before COMMIT.

// A failed COMMIT: nothing was kept. A damaged database stays DATA_LOSS and a
// constraint checked at commit stays what it was (a retry would fail the
// same way); anything else (a full disk, an I/O error, a lost connection)
// is UNAVAILABLE, to be retried with the same request id.
inline absl::Status CommitFailed(const absl::Status& commit) {
  if (commit.code() == absl::StatusCode::kDataLoss ||
      commit.code() == absl::StatusCode::kFailedPrecondition ||
      commit.code() == absl::StatusCode::kAlreadyExists) {
    return commit;
  }
  return WithReason(absl::UnavailableError(absl::StrCat(
                        "storage: commit failed: ", commit.message())),
                    "STORAGE_UNAVAILABLE");
}

// Runs `fn` in a transaction on `c` that starts with `begin` (null: the
// caller has begun it), commits when fn succeeds and rolls back otherwise.
// `committed`: fn sees only committed data (Transaction::committed()).
template <typename Db>
absl::Status RunTransaction(typename Db::Connection& c,
                            absl::FunctionRef<absl::Status(Transaction&)> fn,
                            const char* begin, bool committed) {
  if (begin != nullptr) RETURN_IF_ERROR(Db::Exec(c, begin));
  absl::Status status;
  SqlTransaction<Db> tx(c, committed);
  try {
    status = fn(tx);
  } catch (const std::exception& e) {
    status = absl::InternalError(
        absl::StrCat("storage: transaction failed: ", e.what()));
  }
  if (status.ok()) status = tx.Flush();
  Db::BeforeCommit(c);
  if (!status.ok()) {
    Db::Rollback(c);
    return status;
  }
  absl::Status commit = Db::Exec(c, "COMMIT");
  if (!commit.ok()) {
    Db::Rollback(c);
    return CommitFailed(commit);
  }
  return absl::OkStatus();
}

// Store::WriteBatch on `c`: each of `fns` in its own savepoint of ONE
// transaction that starts with `begin` (null: the caller has begun it).
template <typename Db>
std::vector<absl::Status> RunBatch(
    typename Db::Connection& c,
    absl::Span<const absl::FunctionRef<absl::Status(Transaction&)>> fns,
    const char* begin) {
  std::vector<absl::Status> out(fns.size());
  absl::Status started =
      begin != nullptr ? Db::Exec(c, begin) : absl::OkStatus();
  if (!started.ok()) {
    for (auto& s : out) s = started;
    return out;
  }
  SqlTransaction<Db> tx(c, /*committed=*/false);
  for (size_t i = 0; i < fns.size(); ++i) {
    absl::Status sp = Db::Exec(c, "SAVEPOINT job");
    if (sp.ok()) {
      tx.Mark();
      try {
        out[i] = fns[i](tx);
      } catch (const std::exception& e) {
        out[i] = absl::InternalError(
            absl::StrCat("storage: transaction failed: ", e.what()));
      }
      if (!out[i].ok()) {
        sp = Db::Exec(c, "ROLLBACK TO job");
        tx.Forget();
      }
      if (sp.ok()) sp = Db::Exec(c, "RELEASE job");
    }
    if (!sp.ok()) {
      // The transaction is in an unknown state: give up on all of it.
      Db::Rollback(c);
      for (auto& s : out) s = sp;
      return out;
    }
  }
  if (absl::Status flushed = tx.Flush(); !flushed.ok()) {
    Db::Rollback(c);
    for (auto& s : out) s = flushed;
    return out;
  }
  Db::BeforeCommit(c);
  absl::Status commit = Db::Exec(c, "COMMIT");
  if (!commit.ok()) {
    Db::Rollback(c);
    for (auto& s : out) s = CommitFailed(commit);
  }
  return out;
}

}  // namespace samplan::storage::sql

#endif  // SAMPLAN_STORAGE_SQL_REPOSITORIES_H_
