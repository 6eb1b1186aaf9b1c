#include "app/audit_app.h"

#include <algorithm>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "app/checkpointer.h"
#include "app/method.h"
#include "audit/merkle.h"
#include "common/errors.h"
#include "common/resource_names.h"
#include "common/status_macros.h"
#include "google/protobuf/util/json_util.h"
#include "samplan/v1/admin.pb.h"
#include "samplan/v1/audit.pb.h"

namespace samplan::app {
namespace {

constexpr size_t kMaxChunkBytes = 1 << 20;
constexpr int kExportBatch = 200;

// start_time (inclusive) and end_time (exclusive), each optional, into `q`;
// INVALID_ARGUMENT naming `prefix` + the field.
absl::Status ParsePeriod(const google::protobuf::Timestamp& start,
                         bool has_start, const google::protobuf::Timestamp& end,
                         bool has_end, const std::string& prefix,
                         storage::AuditQuery& q) {
  if (has_start) {
    ASSIGN_OR_RETURN(q.start_time,
                     ParseTime(start, true, prefix + "start_time"));
  }
  if (has_end) {
    ASSIGN_OR_RETURN(q.end_time, ParseTime(end, true, prefix + "end_time"));
  }
  if (q.start_time.has_value() && q.end_time.has_value() &&
      *q.end_time <= *q.start_time) {
    return InvalidField(prefix + "end_time", "must be after start_time");
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
  RETURN_IF_ERROR(ParsePeriod(f.start_time(), f.has_start_time(), f.end_time(),
                              f.has_end_time(), prefix, q));
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
    absl::StrAppend(
        &d, " since=", absl::FormatTime(*q.start_time, absl::UTCTimeZone()));
  }
  if (q.end_time.has_value()) {
    absl::StrAppend(
        &d, " until=", absl::FormatTime(*q.end_time, absl::UTCTimeZone()));
  }
  if (q.after_index >= 0) absl::StrAppend(&d, " after=", q.after_index);
  return d;
}

// The call's AUDIT_QUERIED record.
void QueryRecord(Effects* fx, const Caller& caller, absl::string_view method,
                 const storage::AuditQuery& q, absl::Time now) {
  v1::AuditEvent* e = fx->mutable_record();
  *e = NewEvent(caller, v1::AUDIT_ACTION_AUDIT_QUERIED, q.subject,
                "auditEvents", now);
  e->set_decision(v1::DECISION_ALLOW);
  e->add_reasons(v1::DECISION_REASON_AUDITOR_ROLE);
  e->set_detail(Describe(method, q));
}

// A page-token scope bound to the method and the exact filter, without
// carrying the filter (it may hold an identity number): a keyed hash.
std::string Scope(const AppContext& ctx, absl::string_view method,
                  const google::protobuf::Message& m) {
  return absl::StrCat(method, ":",
                      KeyedTag(ctx.page_token_key, Fingerprint(m)));
}

// Where a search stands: after `after`, below `end`. `end` is the size of
// the log when the first page was read (its own AUDIT_QUERIED record lies
// at or beyond it), so that later pages do not see the records their
// earlier pages added; -1 on the first page.
struct PagePosition {
  int64_t after = -1;
  int64_t end = -1;
};

absl::StatusOr<PagePosition> DecodePosition(absl::string_view token,
                                            absl::string_view scope) {
  ASSIGN_OR_RETURN(std::string raw, DecodePageToken(token, scope));
  PagePosition p;
  if (raw.empty()) return p;
  std::pair<std::string, std::string> parts =
      absl::StrSplit(raw, absl::MaxSplits(':', 1));
  if (!absl::SimpleAtoi(parts.first, &p.after) ||
      !absl::SimpleAtoi(parts.second, &p.end) || p.after < 0 ||
      p.end <= p.after) {
    return Error(absl::StatusCode::kInvalidArgument, "INVALID_PAGE_TOKEN",
                 "page_token", "is not a token this method returned");
  }
  return p;
}

// Records the call's AUDIT_QUERIED event and reads one page of `q` at
// `pos`: at most `size` events, and the token of the next page, if any.
absl::StatusOr<std::vector<v1::AuditEvent>> AuditedPage(
    storage::Transaction& tx, const Caller& caller, absl::string_view method,
    storage::AuditQuery q, PagePosition pos, int size, absl::string_view scope,
    absl::Time now, std::string* next_page_token, Effects* fx) {
  QueryRecord(fx, caller, method, q, now);
  if (pos.end < 0) {
    ASSIGN_OR_RETURN(pos.end, tx.audit().Size());
  }
  q.after_index = pos.after;
  q.before_index = pos.end;
  q.limit = size + 1;
  ASSIGN_OR_RETURN(auto events, tx.audit().Query(q));
  if (static_cast<int>(events.size()) > size) {
    events.resize(size);
    *next_page_token = EncodePageToken(
        scope, absl::StrCat(events.back().leaf_index(), ":", q.before_index));
  }
  return events;
}

// Storage's OUT_OF_RANGE for a size beyond the log, as the API reports it:
// metadata "tree_size" is the log's current size.
absl::Status SizeError(storage::Transaction& tx, const absl::Status& s,
                       absl::string_view field) {
  if (s.code() != absl::StatusCode::kOutOfRange) return s;
  ASSIGN_OR_RETURN(const int64_t size, tx.audit().Size());
  return WithMetadata(Error(absl::StatusCode::kOutOfRange,
                            "TREE_SIZE_OUT_OF_RANGE", field, s.message()),
                      "tree_size", absl::StrCat(size));
}

// The actions a person's access extract lists: reads of information about
// the person, including audit queries about them.
const std::vector<int>& ReadActions() {
  static const auto* const kActions = new std::vector<int>{
      v1::AUDIT_ACTION_PLAN_READ,      v1::AUDIT_ACTION_ENTRY_READ,
      v1::AUDIT_ACTION_PLANS_LISTED,   v1::AUDIT_ACTION_CONSENT_READ,
      v1::AUDIT_ACTION_ACCESS_CHECKED, v1::AUDIT_ACTION_AUDIT_QUERIED,
  };
  return *kActions;
}

// One event as an export line: its proto3 JSON mapping (with leafIndex and
// leafHash) and "\n".
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

struct PageInput {
  storage::AuditQuery query;
  int size = 0;
  std::string scope;
  PagePosition pos;
};

absl::StatusOr<PageInput> ParseSearchAuditEvents(
    const AppContext& ctx, const Caller&,
    const v1::SearchAuditEventsRequest& req) {
  PageInput in;
  ASSIGN_OR_RETURN(in.query, ParseFilter(req.filter(), "filter."));
  ASSIGN_OR_RETURN(in.size, PageSize(req.page_size(), ctx.max_page_size));
  in.scope = Scope(ctx, "SearchAuditEvents", req.filter());
  ASSIGN_OR_RETURN(in.pos, DecodePosition(req.page_token(), in.scope));
  return in;
}

absl::Status DecideSearchAuditEvents(
    const AppContext& ctx, storage::Transaction& tx, const Caller& caller,
    const v1::SearchAuditEventsRequest& req, absl::Time now,
    v1::SearchAuditEventsResponse* resp, Effects* fx) {
  ASSIGN_OR_RETURN(PageInput in, ParseSearchAuditEvents(ctx, caller, req));
  ASSIGN_OR_RETURN(
      auto events,
      AuditedPage(tx, caller, "SearchAuditEvents", in.query, in.pos, in.size,
                  in.scope, now, resp->mutable_next_page_token(), fx));
  for (auto& e : events) *resp->add_audit_events() = std::move(e);
  return absl::OkStatus();
}

absl::StatusOr<bool> ParseGetLatestCheckpoint(
    const AppContext&, const Caller&, const v1::GetLatestCheckpointRequest&) {
  return true;
}

// Decided in the writer: a refresh signs a checkpoint of the committed log.
absl::Status DecideGetLatestCheckpoint(
    const AppContext& ctx, storage::Transaction&, const Caller&,
    const v1::GetLatestCheckpointRequest& req, absl::Time now,
    v1::GetLatestCheckpointResponse* resp, Effects* fx) {
  fx->AddWrite([cp = ctx.checkpointer, refresh = req.refresh(), now,
                resp](storage::Transaction& tx) -> absl::Status {
    if (cp == nullptr) return absl::InternalError("no checkpointer");
    ASSIGN_OR_RETURN(auto stored, cp->Update(tx, now, refresh));
    cp->ToProto(stored, resp->mutable_checkpoint());
    return absl::OkStatus();
  });
  return absl::OkStatus();
}

absl::StatusOr<bool> ParseGetInclusionProof(
    const AppContext&, const Caller&, const v1::GetInclusionProofRequest& req) {
  if (req.tree_size() < 1) {
    return InvalidField("tree_size", "must be 1 or more");
  }
  if (req.leaf_index() < 0 || req.leaf_index() >= req.tree_size()) {
    return InvalidField("leaf_index",
                        "must be 0 or more and less than tree_size");
  }
  return true;
}

// Proofs reveal only hashes: not audited.
absl::Status DecideGetInclusionProof(const AppContext&,
                                     storage::Transaction& tx, const Caller&,
                                     const v1::GetInclusionProofRequest& req,
                                     absl::Time,
                                     v1::GetInclusionProofResponse* resp,
                                     Effects*) {
  auto proof = tx.audit().InclusionProof(req.leaf_index(), req.tree_size());
  if (!proof.ok()) return SizeError(tx, proof.status(), "tree_size");
  ASSIGN_OR_RETURN(v1::AuditEvent event, tx.audit().Get(req.leaf_index()));
  resp->set_leaf_index(req.leaf_index());
  resp->set_tree_size(req.tree_size());
  resp->set_leaf_hash(event.leaf_hash());
  for (const audit::Hash& h : *proof) resp->add_hashes(audit::ToBytes(h));
  return absl::OkStatus();
}

absl::StatusOr<bool> ParseGetConsistencyProof(
    const AppContext&, const Caller&,
    const v1::GetConsistencyProofRequest& req) {
  if (req.first_size() < 1) {
    return InvalidField("first_size", "must be 1 or more");
  }
  if (req.second_size() < req.first_size()) {
    return InvalidField("second_size", "must be at least first_size");
  }
  return true;
}

absl::Status DecideGetConsistencyProof(
    const AppContext&, storage::Transaction& tx, const Caller&,
    const v1::GetConsistencyProofRequest& req, absl::Time,
    v1::GetConsistencyProofResponse* resp, Effects*) {
  auto proof = tx.audit().ConsistencyProof(req.first_size(), req.second_size());
  if (!proof.ok()) return SizeError(tx, proof.status(), "second_size");
  resp->set_first_size(req.first_size());
  resp->set_second_size(req.second_size());
  for (const audit::Hash& h : *proof) resp->add_hashes(audit::ToBytes(h));
  return absl::OkStatus();
}

absl::StatusOr<PageInput> ParseGetAccessExtract(
    const AppContext& ctx, const Caller&,
    const v1::GetAccessExtractRequest& req) {
  PageInput in;
  ASSIGN_OR_RETURN(in.query.subject, ParseIdentity(req.subject(), "subject"));
  RETURN_IF_ERROR(ParsePeriod(req.start_time(), req.has_start_time(),
                              req.end_time(), req.has_end_time(), "",
                              in.query));
  in.query.any_action = ReadActions();
  ASSIGN_OR_RETURN(in.size, PageSize(req.page_size(), ctx.max_page_size));
  v1::GetAccessExtractRequest fields = req;
  fields.clear_page_size();
  fields.clear_page_token();
  in.scope = Scope(ctx, "GetAccessExtract", fields);
  ASSIGN_OR_RETURN(in.pos, DecodePosition(req.page_token(), in.scope));
  return in;
}

absl::Status DecideGetAccessExtract(
    const AppContext& ctx, storage::Transaction& tx, const Caller& caller,
    const v1::GetAccessExtractRequest& req, absl::Time now,
    v1::GetAccessExtractResponse* resp, Effects* fx) {
  ASSIGN_OR_RETURN(PageInput in, ParseGetAccessExtract(ctx, caller, req));
  ASSIGN_OR_RETURN(
      auto events,
      AuditedPage(tx, caller, "GetAccessExtract", in.query, in.pos, in.size,
                  in.scope, now, resp->mutable_next_page_token(), fx));
  absl::flat_hash_map<std::string, std::string> names;
  for (v1::AuditEvent& e : events) {
    v1::AccessRecord* r = resp->add_records();
    r->set_leaf_index(e.leaf_index());
    *r->mutable_time() = e.time();
    r->set_agency(e.agency());
    auto it = names.find(e.agency());
    if (it == names.end()) {
      auto agency = tx.agencies().Get(BareId(e.agency()));
      it = names.emplace(e.agency(), agency.ok() ? agency->display_name() : "")
               .first;
    }
    r->set_agency_display_name(it->second);
    r->set_actor(e.actor());
    r->set_action(e.action());
    r->set_resource(e.resource());
    r->set_decision(e.decision());
    *r->mutable_reasons() = e.reasons();
    *r->mutable_grants() = e.grants();
    *r->mutable_entry_decisions() = std::move(*e.mutable_entry_decisions());
  }
  return absl::OkStatus();
}

// The start of a stream or an export: its cursor, filled by the decision.
struct Started {
  AuditApp::Cursor cursor;
  void Clear() { cursor = AuditApp::Cursor(); }
};

absl::StatusOr<storage::AuditQuery> ParseStreamAuditEvents(
    const AppContext&, const Caller&, const v1::StreamAuditEventsRequest& req) {
  ASSIGN_OR_RETURN(storage::AuditQuery q, ParseFilter(req.filter(), "filter."));
  if (req.start_leaf_index() < 0) {
    return InvalidField("start_leaf_index", "must be 0 or more");
  }
  q.after_index = req.start_leaf_index() - 1;
  return q;
}

// The stream ends at the end of the log as it stood when it was decided;
// its own record lies at or beyond that end.
absl::Status DecideStreamAuditEvents(const AppContext& ctx,
                                     storage::Transaction& tx,
                                     const Caller& caller,
                                     const v1::StreamAuditEventsRequest& req,
                                     absl::Time now, Started* started,
                                     Effects* fx) {
  ASSIGN_OR_RETURN(started->cursor.query,
                   ParseStreamAuditEvents(ctx, caller, req));
  ASSIGN_OR_RETURN(started->cursor.query.before_index, tx.audit().Size());
  QueryRecord(fx, caller, "StreamAuditEvents", started->cursor.query, now);
  return absl::OkStatus();
}

absl::StatusOr<storage::AuditQuery> ParseExportAuditEvents(
    const AppContext&, const Caller&, const v1::ExportAuditEventsRequest& req) {
  return ParseFilter(req.filter(), "filter.");
}

// Decided in the writer: the checkpoint signed after the export's own
// record covers it, and the export ends at that checkpoint.
struct ExportStarted {
  AuditApp::Cursor cursor;
  v1::Checkpoint* checkpoint = nullptr;
  void Clear() { cursor = AuditApp::Cursor(); }
};

absl::Status DecideExportAuditEvents(const AppContext& ctx,
                                     storage::Transaction&,
                                     const Caller& caller,
                                     const v1::ExportAuditEventsRequest& req,
                                     absl::Time now, ExportStarted* started,
                                     Effects* fx) {
  ASSIGN_OR_RETURN(started->cursor.query,
                   ParseExportAuditEvents(ctx, caller, req));
  QueryRecord(fx, caller, "ExportAuditEvents", started->cursor.query, now);
  fx->AddAfterRecord([cp = ctx.checkpointer, now,
                      started](storage::Transaction& tx) -> absl::Status {
    if (cp == nullptr) return absl::InternalError("no checkpointer");
    ASSIGN_OR_RETURN(auto stored, cp->Update(tx, now, true));
    cp->ToProto(stored, started->checkpoint);
    started->cursor.query.before_index = stored.tree_size;
    return absl::OkStatus();
  });
  return absl::OkStatus();
}

const MethodSpec<v1::StreamAuditEventsRequest, Started> kStreamAuditEvents{
    "StreamAuditEvents", false, false,
    &ValidateBy<v1::StreamAuditEventsRequest, storage::AuditQuery,
                &ParseStreamAuditEvents>,
    &DecideStreamAuditEvents};
const MethodSpec<v1::ExportAuditEventsRequest, ExportStarted>
    kExportAuditEvents{
        "ExportAuditEvents", false, true,
        &ValidateBy<v1::ExportAuditEventsRequest, storage::AuditQuery,
                    &ParseExportAuditEvents>,
        &DecideExportAuditEvents};

}  // namespace

// --- The methods ---

#define SAMPLAN_AUDIT_METHOD(Name, InWriter) \
  SAMPLAN_DEFINE_METHOD(AuditApp, AuditMethods, Name, false, InWriter)

SAMPLAN_AUDIT_METHOD(SearchAuditEvents, false)
SAMPLAN_AUDIT_METHOD(GetLatestCheckpoint, true)
SAMPLAN_AUDIT_METHOD(GetInclusionProof, false)
SAMPLAN_AUDIT_METHOD(GetConsistencyProof, false)
SAMPLAN_AUDIT_METHOD(GetAccessExtract, false)

#undef SAMPLAN_AUDIT_METHOD

void AuditApp::StartStream(const Caller& caller,
                           const v1::StreamAuditEventsRequest& req,
                           StartedFn started) {
  auto state = std::make_shared<Started>();
  runner_.Run(kStreamAuditEvents, caller, req, state.get(),
              [state, started = std::move(started)](absl::Status s) {
                if (!s.ok()) return started(s);
                started(state->cursor);
              });
}

void AuditApp::StartExport(const Caller& caller,
                           const v1::ExportAuditEventsRequest& req,
                           v1::Checkpoint* checkpoint, StartedFn started) {
  auto state = std::make_shared<ExportStarted>();
  state->checkpoint = checkpoint;
  runner_.Run(kExportAuditEvents, caller, req, state.get(),
              [state, started = std::move(started)](absl::Status s) {
                if (!s.ok()) return started(s);
                started(state->cursor);
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

}  // namespace samplan::app
