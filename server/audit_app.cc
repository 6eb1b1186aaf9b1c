#include "server/audit_app.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "audit/merkle.h"
#include "common/errors.h"
#include "common/resource_names.h"
#include "common/status_macros.h"
#include "google/protobuf/util/json_util.h"
#include "samplan/v1/admin.pb.h"
#include "samplan/v1/audit.pb.h"
#include "server/checkpointer.h"

namespace samplan::server {
namespace {

using Outcome = absl::Status;

constexpr int kMaxPage = 1000;
constexpr int kDefaultPage = 100;
constexpr size_t kMaxChunkBytes = 1 << 20;
constexpr int kExportBatch = 200;

// page_size as the audit protos define it: 0 means 100, at most 1000.
absl::StatusOr<int> AuditPageSize(int32_t page_size) {
  if (page_size < 0) return InvalidField("page_size", "may not be negative");
  if (page_size == 0) return kDefaultPage;
  return std::min(page_size, kMaxPage);
}

absl::Status CheckTimes(const storage::AuditQuery& q, absl::string_view field) {
  if (q.start_time.has_value() && q.end_time.has_value() &&
      *q.end_time <= *q.start_time) {
    return InvalidField(field, "must be after start_time");
  }
  return absl::OkStatus();
}

// The filter as a storage query, or INVALID_ARGUMENT naming the field.
absl::StatusOr<storage::AuditQuery> ParseFilter(const v1::AuditEventFilter& f,
                                                const std::string& prefix) {
  storage::AuditQuery q;
  if (!f.subject().empty()) {
    ASSIGN_OR_RETURN(q.subject, ParseIdentity(f.subject(), prefix + "subject"));
  }
  if (!f.agency().empty()) {
    ASSIGN_OR_RETURN(q.agency, ParseAgencyName(f.agency(), prefix + "agency"));
  }
  RETURN_IF_ERROR(CheckText(f.actor(), 64, false, prefix + "actor"));
  q.actor = f.actor();
  if (!v1::AuditAction_IsValid(f.action())) {
    return InvalidField(prefix + "action", "is not a known audit action");
  }
  q.action = f.action();
  if (!v1::Decision_IsValid(f.decision())) {
    return InvalidField(prefix + "decision", "is not a known decision");
  }
  q.decision = f.decision();
  RETURN_IF_ERROR(CheckText(f.resource(), 300, false, prefix + "resource"));
  q.resource = f.resource();
  if (f.has_start_time()) {
    ASSIGN_OR_RETURN(q.start_time,
                     ParseTime(f.start_time(), true, prefix + "start_time"));
  }
  if (f.has_end_time()) {
    ASSIGN_OR_RETURN(q.end_time,
                     ParseTime(f.end_time(), true, prefix + "end_time"));
  }
  RETURN_IF_ERROR(CheckTimes(q, prefix + "end_time"));
  return q;
}

// What was asked, for the AUDIT_QUERIED record's detail. The subject is in
// the record's own subject field.
std::string Describe(absl::string_view method, const storage::AuditQuery& q) {
  std::string d(method);
  if (!q.agency.empty()) absl::StrAppend(&d, " agency=", q.agency);
  if (!q.actor.empty()) absl::StrAppend(&d, " actor=", q.actor);
  if (q.action != 0) {
    absl::StrAppend(
        &d, " action=",
        v1::AuditAction_Name(static_cast<v1::AuditAction>(q.action)));
  }
  if (q.decision != 0) {
    absl::StrAppend(&d, " decision=",
                    v1::Decision_Name(static_cast<v1::Decision>(q.decision)));
  }
  if (!q.resource.empty()) absl::StrAppend(&d, " resource=", q.resource);
  if (q.start_time.has_value()) {
    absl::StrAppend(&d, " since=", absl::FormatTime(*q.start_time));
  }
  if (q.end_time.has_value()) {
    absl::StrAppend(&d, " until=", absl::FormatTime(*q.end_time));
  }
  if (q.after_index >= 0) absl::StrAppend(&d, " after=", q.after_index);
  return d;
}

// Appends the AUDIT_QUERIED record and returns its leaf index.
absl::StatusOr<int64_t> AuditQuery(storage::Transaction& tx,
                                   const Caller& caller,
                                   absl::string_view method,
                                   const storage::AuditQuery& q,
                                   absl::Time now) {
  v1::AuditEvent e = NewEvent(caller, v1::AUDIT_ACTION_AUDIT_QUERIED, q.subject,
                              "auditEvents", now);
  e.set_decision(v1::DECISION_ALLOW);
  e.set_detail(Describe(method, q));
  return tx.audit().Append(e);
}

// A page-token scope bound to the method and the exact filter, without
// carrying the filter (it may hold an identity number).
std::string Scope(absl::string_view method,
                  const google::protobuf::Message& m) {
  return absl::StrCat(method, ":", absl::BytesToHexString(Fingerprint(m)));
}

absl::StatusOr<int64_t> DecodeIndex(absl::string_view token,
                                    absl::string_view scope) {
  ASSIGN_OR_RETURN(std::string after, DecodePageToken(token, scope));
  if (after.empty()) return -1;
  int64_t index = 0;
  if (!absl::SimpleAtoi(after, &index) || index < 0) {
    return Error(absl::StatusCode::kInvalidArgument, "INVALID_PAGE_TOKEN",
                 "page_token", "is not a token this method returned");
  }
  return index;
}

// Storage's OUT_OF_RANGE for a size beyond the log, as the API reports it.
absl::Status SizeError(const absl::Status& s, absl::string_view field) {
  if (s.code() != absl::StatusCode::kOutOfRange) return s;
  return Error(absl::StatusCode::kOutOfRange, "TREE_SIZE_OUT_OF_RANGE", field,
               s.message());
}

}  // namespace

const std::vector<int>& ReadActions() {
  static const auto* const kActions = new std::vector<int>{
      v1::AUDIT_ACTION_PLAN_READ,      v1::AUDIT_ACTION_ENTRY_READ,
      v1::AUDIT_ACTION_PLANS_LISTED,   v1::AUDIT_ACTION_CONSENT_READ,
      v1::AUDIT_ACTION_ACCESS_CHECKED, v1::AUDIT_ACTION_AUDIT_QUERIED,
  };
  return *kActions;
}

absl::StatusOr<std::string> ExportLine(const v1::AuditEvent& event) {
  std::string line;
  auto s = google::protobuf::util::MessageToJsonString(event, &line);
  if (!s.ok()) {
    return absl::InternalError(
        absl::StrCat("an audit event does not map to JSON: ", s.ToString()));
  }
  line.push_back('\n');
  return line;
}

void AuditApp::SearchAuditEvents(const Caller& caller,
                                 const v1::SearchAuditEventsRequest& req,
                                 v1::SearchAuditEventsResponse* resp,
                                 Done done) {
  auto q = ParseFilter(req.filter(), "filter.");
  if (!q.ok()) return done(q.status());
  auto size = AuditPageSize(req.page_size());
  if (!size.ok()) return done(size.status());
  const std::string scope = Scope("SearchAuditEvents", req.filter());
  auto after = DecodeIndex(req.page_token(), scope);
  if (!after.ok()) return done(after.status());
  q->after_index = *after;
  SubmitWithOutcome(
      *ctx_.queue,
      [this, caller, q = *q, size = *size, scope, resp](
          storage::Transaction& tx, Outcome&) mutable -> absl::Status {
        ASSIGN_OR_RETURN(
            const int64_t own,
            AuditQuery(tx, caller, "SearchAuditEvents", q, ctx_.clock->Now()));
        q.before_index = own;
        q.limit = size + 1;
        ASSIGN_OR_RETURN(auto events, tx.audit().Query(q));
        resp->Clear();
        if (static_cast<int>(events.size()) > size) {
          events.resize(size);
          resp->set_next_page_token(
              EncodePageToken(scope, absl::StrCat(events.back().leaf_index())));
        }
        for (auto& e : events) *resp->add_audit_events() = std::move(e);
        return absl::OkStatus();
      },
      std::move(done));
}

void AuditApp::GetLatestCheckpoint(const Caller&,
                                   const v1::GetLatestCheckpointRequest& req,
                                   v1::GetLatestCheckpointResponse* resp,
                                   Done done) {
  SubmitWithOutcome(
      *ctx_.queue,
      [this, refresh = req.refresh(), resp](storage::Transaction& tx,
                                            Outcome&) -> absl::Status {
        ASSIGN_OR_RETURN(auto stored,
                         checkpointer_.Update(tx, ctx_.clock->Now(), refresh));
        checkpointer_.ToProto(stored, resp->mutable_checkpoint());
        return absl::OkStatus();
      },
      std::move(done));
}

void AuditApp::GetInclusionProof(const Caller&,
                                 const v1::GetInclusionProofRequest& req,
                                 v1::GetInclusionProofResponse* resp,
                                 Done done) {
  if (req.tree_size() < 1) {
    return done(InvalidField("tree_size", "must be 1 or more"));
  }
  if (req.leaf_index() < 0 || req.leaf_index() >= req.tree_size()) {
    return done(InvalidField("leaf_index",
                             "must be 0 or more and less than "
                             "tree_size"));
  }
  absl::Status s = ctx_.store->Read([&](storage::Transaction& tx) {
    auto proof = tx.audit().InclusionProof(req.leaf_index(), req.tree_size());
    if (!proof.ok()) return SizeError(proof.status(), "tree_size");
    ASSIGN_OR_RETURN(v1::AuditEvent event, tx.audit().Get(req.leaf_index()));
    resp->set_leaf_index(req.leaf_index());
    resp->set_tree_size(req.tree_size());
    resp->set_leaf_hash(event.leaf_hash());
    for (const audit::Hash& h : *proof) resp->add_hashes(audit::ToBytes(h));
    return absl::OkStatus();
  });
  done(s);
}

void AuditApp::GetConsistencyProof(const Caller&,
                                   const v1::GetConsistencyProofRequest& req,
                                   v1::GetConsistencyProofResponse* resp,
                                   Done done) {
  if (req.first_size() < 1) {
    return done(InvalidField("first_size", "must be 1 or more"));
  }
  if (req.second_size() < req.first_size()) {
    return done(InvalidField("second_size", "must be at least first_size"));
  }
  absl::Status s = ctx_.store->Read([&](storage::Transaction& tx) {
    auto proof =
        tx.audit().ConsistencyProof(req.first_size(), req.second_size());
    if (!proof.ok()) return SizeError(proof.status(), "second_size");
    resp->set_first_size(req.first_size());
    resp->set_second_size(req.second_size());
    for (const audit::Hash& h : *proof) resp->add_hashes(audit::ToBytes(h));
    return absl::OkStatus();
  });
  done(s);
}

void AuditApp::GetAccessExtract(const Caller& caller,
                                const v1::GetAccessExtractRequest& req,
                                v1::GetAccessExtractResponse* resp, Done done) {
  storage::AuditQuery q;
  auto subject = ParseIdentity(req.subject(), "subject");
  if (!subject.ok()) return done(subject.status());
  q.subject = *subject;
  if (req.has_start_time()) {
    auto t = ParseTime(req.start_time(), true, "start_time");
    if (!t.ok()) return done(t.status());
    q.start_time = *t;
  }
  if (req.has_end_time()) {
    auto t = ParseTime(req.end_time(), true, "end_time");
    if (!t.ok()) return done(t.status());
    q.end_time = *t;
  }
  if (absl::Status s = CheckTimes(q, "end_time"); !s.ok()) return done(s);
  q.any_action = ReadActions();
  auto size = AuditPageSize(req.page_size());
  if (!size.ok()) return done(size.status());
  v1::GetAccessExtractRequest fields = req;
  fields.clear_page_size();
  fields.clear_page_token();
  const std::string scope = Scope("GetAccessExtract", fields);
  auto after = DecodeIndex(req.page_token(), scope);
  if (!after.ok()) return done(after.status());
  q.after_index = *after;
  SubmitWithOutcome(
      *ctx_.queue,
      [this, caller, q, size = *size, scope, resp](
          storage::Transaction& tx, Outcome&) mutable -> absl::Status {
        ASSIGN_OR_RETURN(
            const int64_t own,
            AuditQuery(tx, caller, "GetAccessExtract", q, ctx_.clock->Now()));
        q.before_index = own;
        q.limit = size + 1;
        ASSIGN_OR_RETURN(auto events, tx.audit().Query(q));
        resp->Clear();
        if (static_cast<int>(events.size()) > size) {
          events.resize(size);
          resp->set_next_page_token(
              EncodePageToken(scope, absl::StrCat(events.back().leaf_index())));
        }
        absl::flat_hash_map<std::string, std::string> names;
        for (const v1::AuditEvent& e : events) {
          v1::AccessRecord* r = resp->add_records();
          r->set_leaf_index(e.leaf_index());
          *r->mutable_time() = e.time();
          r->set_agency(e.agency());
          auto it = names.find(e.agency());
          if (it == names.end()) {
            auto agency = tx.agencies().Get(BareId(e.agency()));
            it = names
                     .emplace(e.agency(),
                              agency.ok() ? agency->display_name() : "")
                     .first;
          }
          r->set_agency_display_name(it->second);
          r->set_actor(e.actor());
          r->set_action(e.action());
          r->set_resource(e.resource());
          r->set_decision(e.decision());
          *r->mutable_reasons() = e.reasons();
          *r->mutable_grants() = e.grants();
        }
        return absl::OkStatus();
      },
      std::move(done));
}

void AuditApp::StartStream(const Caller& caller,
                           const v1::StreamAuditEventsRequest& req,
                           Started started) {
  auto q = ParseFilter(req.filter(), "filter.");
  if (!q.ok()) return started(q.status());
  if (req.start_leaf_index() < 0) {
    return started(InvalidField("start_leaf_index", "must be 0 or more"));
  }
  q->after_index = req.start_leaf_index() - 1;
  auto cursor = std::make_shared<Cursor>();
  cursor->query = *std::move(q);
  SubmitWithOutcome(
      *ctx_.queue,
      [this, caller, cursor](storage::Transaction& tx,
                             Outcome&) -> absl::Status {
        ASSIGN_OR_RETURN(cursor->query.before_index,
                         AuditQuery(tx, caller, "StreamAuditEvents",
                                    cursor->query, ctx_.clock->Now()));
        return absl::OkStatus();
      },
      [cursor, started = std::move(started)](absl::Status s) {
        if (!s.ok()) return started(s);
        started(*cursor);
      });
}

void AuditApp::StartExport(const Caller& caller,
                           const v1::ExportAuditEventsRequest& req,
                           v1::Checkpoint* checkpoint, Started started) {
  auto q = ParseFilter(req.filter(), "filter.");
  if (!q.ok()) return started(q.status());
  auto cursor = std::make_shared<Cursor>();
  cursor->query = *std::move(q);
  SubmitWithOutcome(
      *ctx_.queue,
      [this, caller, cursor, checkpoint](storage::Transaction& tx,
                                         Outcome&) -> absl::Status {
        const absl::Time now = ctx_.clock->Now();
        RETURN_IF_ERROR(
            AuditQuery(tx, caller, "ExportAuditEvents", cursor->query, now)
                .status());
        // Signed now, so that it covers the export's own audit record.
        ASSIGN_OR_RETURN(auto stored, checkpointer_.Update(tx, now, true));
        checkpointer_.ToProto(stored, checkpoint);
        cursor->query.before_index = stored.tree_size;
        return absl::OkStatus();
      },
      [cursor, started = std::move(started)](absl::Status s) {
        if (!s.ok()) return started(s);
        started(*cursor);
      });
}

absl::StatusOr<std::vector<v1::AuditEvent>> AuditApp::Next(Cursor& cursor,
                                                           int max) {
  std::vector<v1::AuditEvent> events;
  storage::AuditQuery q = cursor.query;
  q.limit = max;
  RETURN_IF_ERROR(ctx_.store->Read([&](storage::Transaction& tx) {
    ASSIGN_OR_RETURN(events, tx.audit().Query(q));
    return absl::OkStatus();
  }));
  if (!events.empty()) cursor.query.after_index = events.back().leaf_index();
  return events;
}

absl::StatusOr<std::optional<v1::ExportAuditEventsResponse>>
AuditApp::NextChunk(Cursor& cursor) {
  v1::ExportAuditEventsResponse chunk;
  std::string* lines = chunk.mutable_json_lines();
  for (;;) {
    ASSIGN_OR_RETURN(auto events, Next(cursor, kExportBatch));
    if (events.empty()) break;
    bool full = false;
    for (const v1::AuditEvent& e : events) {
      ASSIGN_OR_RETURN(std::string line, ExportLine(e));
      if (!lines->empty() && lines->size() + line.size() > kMaxChunkBytes) {
        // Leave the rest for the next chunk.
        cursor.query.after_index = chunk.last_leaf_index();
        full = true;
        break;
      }
      if (lines->empty()) chunk.set_first_leaf_index(e.leaf_index());
      chunk.set_last_leaf_index(e.leaf_index());
      lines->append(line);
    }
    if (full) break;
  }
  if (lines->empty()) return std::nullopt;
  return chunk;
}

}  // namespace samplan::server
