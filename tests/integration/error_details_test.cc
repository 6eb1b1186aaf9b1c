// Every ErrorReason as docs/api.md documents it: each reason is provoked
// through the real server (or, for the few that no request can cause, the
// real code path that makes them), and its gRPC code, ErrorInfo domain and
// exact set of metadata keys are checked against the table in docs/api.md,
// which the test reads. A reason missing from the table, or a key the table
// does not list, fails here.

#include <fstream>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "app/rate_limiter.h"
#include "google/protobuf/descriptor.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "samplan/v1/errors.pb.h"
#include "tests/integration/rest_client.h"

namespace samplan::server {
namespace {

// One row of the errors table in docs/api.md.
struct Documented {
  std::set<std::string> codes;  // gRPC code names
  std::set<std::string> keys;   // ErrorInfo metadata keys
  bool reserved = false;        // "reserved; not returned"
};

// The backticked words of one table cell.
std::vector<std::string> Backticked(absl::string_view cell) {
  std::vector<std::string> out;
  std::vector<absl::string_view> parts = absl::StrSplit(cell, '`');
  for (size_t i = 1; i < parts.size(); i += 2) out.emplace_back(parts[i]);
  return out;
}

std::map<std::string, Documented> ReadErrorTable() {
  const std::string api = ReadFile(SAMPLAN_SOURCE_DIR "/docs/api.md");
  EXPECT_FALSE(api.empty()) << "docs/api.md not found";
  std::map<std::string, Documented> table;
  bool in_errors = false;
  for (absl::string_view line : absl::StrSplit(api, '\n')) {
    if (absl::StartsWith(line, "## ")) in_errors = line == "## Errors";
    if (!in_errors || !absl::StartsWith(line, "| `")) continue;
    std::vector<absl::string_view> cells = absl::StrSplit(line, '|');
    // "", reason, code, http, meaning, metadata, ""
    if (cells.size() != 7) {
      ADD_FAILURE() << "malformed row: " << line;
      continue;
    }
    const std::vector<std::string> reason = Backticked(cells[1]);
    if (reason.size() != 1) continue;
    Documented row;
    for (const std::string& code : Backticked(cells[2])) {
      // gRPC code names, not the method names beside them.
      if (code == absl::AsciiStrToUpper(code)) row.codes.insert(code);
    }
    for (const std::string& key : Backticked(cells[5])) row.keys.insert(key);
    row.reserved = absl::StrContains(cells[4], "reserved");
    table[reason[0]] = std::move(row);
  }
  return table;
}

TEST(ErrorTableTest, EveryErrorReasonIsDocumented) {
  const std::map<std::string, Documented> table = ReadErrorTable();
  const google::protobuf::EnumDescriptor* reasons =
      v1::ErrorReason_descriptor();
  std::set<std::string> in_protos;
  for (int i = 0; i < reasons->value_count(); ++i) {
    std::string name = reasons->value(i)->name();
    if (name == "ERROR_REASON_UNSPECIFIED") continue;
    name = std::string(absl::StripPrefix(name, "ERROR_REASON_"));
    in_protos.insert(name);
    EXPECT_TRUE(table.count(name)) << name << " is not in docs/api.md";
  }
  for (const auto& [name, row] : table) {
    EXPECT_TRUE(in_protos.count(name))
        << name << " is in docs/api.md but not in errors.proto";
    EXPECT_FALSE(row.codes.empty()) << name;
  }
}

// What the server's answer carried.
struct Seen {
  std::string code;
  std::string message;
  std::string domain;
  std::string reason;
  std::map<std::string, std::string> metadata;
  int infos = 0;
};

Seen Inspect(const grpc::Status& status) {
  Seen seen;
  seen.code = absl::StatusCodeToString(
      static_cast<absl::StatusCode>(status.error_code()));
  seen.message = status.error_message();
  google::rpc::Status details;
  if (details.ParseFromString(status.error_details())) {
    for (const auto& any : details.details()) {
      google::rpc::ErrorInfo info;
      if (!any.UnpackTo(&info)) continue;
      ++seen.infos;
      seen.domain = info.domain();
      seen.reason = info.reason();
      for (const auto& [k, v] : info.metadata()) seen.metadata[k] = v;
    }
  }
  return seen;
}

class ErrorDetailsTest : public StoryTest {
 protected:
  template <typename Stub, typename Req, typename Resp>
  grpc::Status Raw(Stub& stub,
                   grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                const Req&, Resp*),
                   const Req& req, const std::string& actor = "staff-1") {
    auto ctx = Ctx(actor);
    Resp resp;
    return (stub.*method)(ctx.get(), req, &resp);
  }

  v1::GetPlanResponse Latest() {
    v1::GetPlanRequest get;
    get.set_name(plan_);
    get.set_view(v1::PLAN_VIEW_LATEST);
    v1::GetPlanResponse out;
    EXPECT_THAT(Call(*school_, &v1::PlanService::Stub::GetPlan, get, &out),
                IsOk());
    return out;
  }

  v1::ApprovePlanRequest Approval(int64_t revision,
                                  std::vector<std::string> approvers) {
    v1::ApprovePlanRequest req;
    req.set_request_id("approve-" + std::to_string(++requests_));
    req.set_name(plan_);
    req.set_revision(revision);
    for (const std::string& person : approvers) {
      auto* a = req.add_approvals();
      a->set_approver_role(v1::APPROVER_ROLE_GUARDIAN);
      a->set_approver_identity_number(person);
      a->mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
    }
    return req;
  }

  std::string NextId() { return "req-" + std::to_string(++requests_); }

  // A unary call of `method` ("/samplan.v1.PlanService/GetPlan") with
  // `bytes` as the request, whatever they hold.
  grpc::Status RawBytes(const std::string& agency, const std::string& method,
                        const std::string& bytes) {
    grpc::GenericStub stub(Channel(agency));
    auto ctx = Ctx();
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    grpc::Status status;
    absl::Notification done;
    stub.UnaryCall(ctx.get(), method, grpc::StubOptions(), &request, &response,
                   [&](grpc::Status s) {
                     status = std::move(s);
                     done.Notify();
                   });
    done.WaitForNotification();
    return status;
  }

  int requests_ = 0;
};

TEST_F(ErrorDetailsTest, EveryReasonCarriesItsCodeAndExactlyItsKeys) {
  const std::map<std::string, Documented> table = ReadErrorTable();
  auto admin = Admins();
  auto audits = Audits();
  const std::string stranger = Pnr("19900101", "555");

  struct Row {
    Row(std::string r, std::function<grpc::Status()> p,
        std::map<std::string, std::string> v, std::string m = "")
        : reason(std::move(r)),
          provoke(std::move(p)),
          values(std::move(v)),
          in_message(std::move(m)) {}
    std::string reason;
    std::function<grpc::Status()> provoke;
    std::map<std::string, std::string> values;  // metadata values to check
    std::string in_message;                     // the message must say this
  };
  const std::vector<Row> rows = {
      {"INVALID_FIELD",
       [&] {
         v1::GetPlanRequest r;
         r.set_name("bad");
         return Raw(*school_, &v1::PlanService::Stub::GetPlan, r);
       },
       {{"field", "name"}}},
      {"INVALID_PAGE_TOKEN",
       [&] {
         v1::ListPlansRequest r;
         r.set_page_token("garbage");
         return Raw(*school_, &v1::PlanService::Stub::ListPlans, r);
       },
       {{"field", "page_token"}}},
      {"MALFORMED_REQUEST",
       [&] {
         return RawBytes("school-1", "/samplan.v1.PlanService/GetPlan",
                         std::string("\xff\xff\xff", 3));
       },
       {},
       "samplan.v1.GetPlanRequest"},
      {"MISSING_ACTOR",
       [&] {
         return Raw(*school_, &v1::PlanService::Stub::ListPlans,
                    v1::ListPlansRequest(), "");
       },
       {},
       "x-samplan-actor"},
      {"GRANT_PERIOD_TOO_LONG",
       [&] {
         v1::CreateGrantRequest r;
         r.set_request_id(NextId());
         v1::Grant* g = r.mutable_grant();
         g->set_subject(child_);
         g->set_grantor_role(v1::GRANTOR_ROLE_GUARDIAN);
         g->set_grantor_identity_number(g1_);
         g->mutable_scope()->add_disclosing_sectors(v1::SECTOR_HEALTHCARE);
         g->mutable_scope()->add_receiving_sectors(v1::SECTOR_SCHOOL);
         g->mutable_scope()->add_categories(v1::INFORMATION_CATEGORY_NEEDS);
         Ts(Utc(2026, 6, 1), g->mutable_valid_from());
         Ts(Utc(2027, 6, 1, 1), g->mutable_valid_until());
         g->mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
         return Raw(*consents_, &v1::ConsentService::Stub::CreateGrant, r);
       },
       {{"field", "grant.valid_until"}, {"max_months", "12"}}},
      {"REVISION_NOT_LATEST",
       [&] {
         return Raw(*school_, &v1::PlanService::Stub::ApprovePlan,
                    Approval(1, {g1_, g2_}));
       },
       {{"field", "revision"},
        {"latest_revision", std::to_string(Latest().plan().revision())}}},
      {"GRANTOR_NOT_COMPETENT",
       [&] {
         v1::CreateGrantRequest r;
         r.set_request_id(NextId());
         v1::Grant* g = r.mutable_grant();
         g->set_subject(child_);
         g->set_grantor_role(v1::GRANTOR_ROLE_GUARDIAN);
         g->set_grantor_identity_number(stranger);
         g->mutable_scope()->add_disclosing_sectors(v1::SECTOR_HEALTHCARE);
         g->mutable_scope()->add_receiving_sectors(v1::SECTOR_SCHOOL);
         g->mutable_scope()->add_categories(v1::INFORMATION_CATEGORY_NEEDS);
         Ts(Utc(2026, 6, 1), g->mutable_valid_from());
         Ts(Utc(2027, 1, 1), g->mutable_valid_until());
         g->mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
         return Raw(*consents_, &v1::ConsentService::Stub::CreateGrant, r);
       },
       {{"field", "grant.grantor_identity_number"}}},
      {"APPROVER_NOT_COMPETENT",
       [&] {
         return Raw(*school_, &v1::PlanService::Stub::ApprovePlan,
                    Approval(Latest().plan().revision(), {g1_, stranger}));
       },
       {{"field", "approvals[1].approver_identity_number"}}},
      {"GUARDIAN_APPROVAL_MISSING",
       [&] {
         return Raw(*school_, &v1::PlanService::Stub::ApprovePlan,
                    Approval(Latest().plan().revision(), {g1_}));
       },
       {{"field", "approvals"}}},
      {"GRANT_NOT_ACTIVE",
       [&] {
         const std::string grant = Grant(g1_, NextId());
         v1::WithdrawGrantRequest r;
         r.set_name(grant);
         r.set_withdrawer_role(v1::GRANTOR_ROLE_GUARDIAN);
         r.set_withdrawer_identity_number(g1_);
         r.mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
         r.set_request_id(NextId());
         EXPECT_TRUE(
             Raw(*consents_, &v1::ConsentService::Stub::WithdrawGrant, r).ok());
         r.set_request_id(NextId());
         return Raw(*consents_, &v1::ConsentService::Stub::WithdrawGrant, r);
       },
       {{"state", "GRANT_STATE_WITHDRAWN"}}},
      {"UNKNOWN_REFERENCED_AGENCY",
       [&] {
         v1::AddParticipantRequest r;
         r.set_request_id(NextId());
         r.set_parent(plan_);
         r.mutable_participant()->set_kind(v1::PARTICIPANT_KIND_AGENCY);
         r.mutable_participant()->set_agency("agencies/nobody-1");
         return Raw(*school_, &v1::PlanService::Stub::AddParticipant, r);
       },
       {{"field", "participant.agency"}}},
      {"ENTRY_DELETED",
       [&] {
         v1::DeleteEntryRequest r;
         r.set_name(health_);
         r.set_request_id(NextId());
         EXPECT_TRUE(Raw(*bup_, &v1::PlanService::Stub::DeleteEntry, r).ok());
         r.set_request_id(NextId());
         return Raw(*bup_, &v1::PlanService::Stub::DeleteEntry, r);
       },
       {}},
      {"PARTICIPANT_REMOVED",
       [&] {
         v1::AddParticipantRequest add;
         add.set_request_id(NextId());
         add.set_parent(plan_);
         add.mutable_participant()->set_kind(v1::PARTICIPANT_KIND_AGENCY);
         add.mutable_participant()->set_agency("agencies/social-1");
         v1::AddParticipantResponse added;
         EXPECT_THAT(Call(*school_, &v1::PlanService::Stub::AddParticipant, add,
                          &added),
                     IsOk());
         v1::RemoveParticipantRequest r;
         r.set_name(added.participant().name());
         r.set_request_id(NextId());
         EXPECT_TRUE(
             Raw(*school_, &v1::PlanService::Stub::RemoveParticipant, r).ok());
         r.set_request_id(NextId());
         return Raw(*school_, &v1::PlanService::Stub::RemoveParticipant, r);
       },
       {{"field", "name"}}},
      {"PARTICIPANT_REQUIRED",
       [&] {
         std::string lead;
         const v1::GetPlanResponse latest = Latest();
         for (const auto& p : latest.participants()) {
           if (p.agency() == "agencies/school-1") lead = p.name();
         }
         v1::RemoveParticipantRequest r;
         r.set_name(lead);
         r.set_request_id(NextId());
         return Raw(*school_, &v1::PlanService::Stub::RemoveParticipant, r);
       },
       {{"field", "name"}}},
      {"ALREADY_ENDED",
       [&] {
         v1::CreateCustodyFactRequest create;
         create.set_request_id(NextId());
         create.mutable_custody_fact()->set_subject(Pnr("20180101", "123"));
         create.mutable_custody_fact()->set_guardian_identity_number(g1_);
         Ts(Utc(2018, 1, 1),
            create.mutable_custody_fact()->mutable_valid_from());
         create.mutable_custody_fact()->mutable_evidence()->set_kind(
             v1::EVIDENCE_KIND_REGISTER_EXTRACT);
         v1::CreateCustodyFactResponse created;
         EXPECT_THAT(
             Call(*consents_, &v1::ConsentService::Stub::CreateCustodyFact,
                  create, &created),
             IsOk());
         v1::EndCustodyFactRequest r;
         r.set_name(created.custody_fact().name());
         Ts(Utc(2026, 5, 1), r.mutable_end_time());
         r.mutable_evidence()->set_kind(v1::EVIDENCE_KIND_REGISTER_EXTRACT);
         r.set_request_id(NextId());
         EXPECT_TRUE(
             Raw(*consents_, &v1::ConsentService::Stub::EndCustodyFact, r)
                 .ok());
         r.set_request_id(NextId());
         return Raw(*consents_, &v1::ConsentService::Stub::EndCustodyFact, r);
       },
       {}},
      {"CANNOT_DISABLE_SELF",
       [&] {
         v1::DisableAgencyRequest r;
         r.set_name("agencies/admin-1");
         r.set_reason("by mistake");
         r.set_request_id(NextId());
         return Raw(*admin, &v1::AdminService::Stub::DisableAgency, r);
       },
       {{"field", "name"}}},
      {"TREE_SIZE_OUT_OF_RANGE",
       [&] {
         v1::GetInclusionProofRequest r;
         r.set_leaf_index(0);
         r.set_tree_size(1000000);
         return Raw(*audits, &v1::AuditService::Stub::GetInclusionProof, r);
       },
       {{"field", "tree_size"}}},
      {"UNKNOWN_AGENCY",
       [&] {
         return Raw(*Plans("stranger-1"), &v1::PlanService::Stub::ListPlans,
                    v1::ListPlansRequest());
       },
       {}},
      {"NOT_OWNER",
       [&] {
         v1::DeleteEntryRequest r;
         r.set_name(interventions_);
         r.set_request_id(NextId());
         return Raw(*school_, &v1::PlanService::Stub::DeleteEntry, r);
       },
       {}},
      {"NOT_LEAD_AGENCY",
       [&] {
         v1::UpdatePlanRequest r;
         r.set_request_id(NextId());
         r.mutable_plan()->set_name(plan_);
         r.mutable_plan()->mutable_coordinator()->set_display_name("Bo");
         r.mutable_update_mask()->add_paths("coordinator");
         return Raw(*bup_, &v1::PlanService::Stub::UpdatePlan, r);
       },
       {}},
      {"AGENCY_DISABLED",
       [&] {
         return Raw(*Plans("disabled-1"), &v1::PlanService::Stub::ListPlans,
                    v1::ListPlansRequest());
       },
       {}},
      {"WRONG_ROLE",
       [&] {
         v1::GetPlanRequest r;
         r.set_name(plan_);
         return Raw(*Plans("auditor-1"), &v1::PlanService::Stub::GetPlan, r);
       },
       {{"required_role", "AGENCY_ROLE_AGENCY_SYSTEM"}},
       "AGENCY_ROLE_AGENCY_SYSTEM"},
      {"NOT_FOUND",
       [&] {
         v1::GetPlanRequest r;
         r.set_name("plans/nope");
         return Raw(*school_, &v1::PlanService::Stub::GetPlan, r);
       },
       {{"resource", "plans/nope"}}},
      {"ALREADY_EXISTS",
       [&] {
         v1::AddParticipantRequest r;
         r.set_request_id(NextId());
         r.set_parent(plan_);
         r.mutable_participant()->set_kind(v1::PARTICIPANT_KIND_AGENCY);
         r.mutable_participant()->set_agency("agencies/bup-1");
         return Raw(*school_, &v1::PlanService::Stub::AddParticipant, r);
       },
       {{"field", "participant.agency"}}},
      {"REQUEST_ID_REUSED",
       [&] {
         v1::CreatePlanRequest r;
         r.set_request_id("create-1");
         r.mutable_plan()->set_subject(g1_);
         return Raw(*school_, &v1::PlanService::Stub::CreatePlan, r);
       },
       {{"field", "request_id"}, {"request_id", "create-1"}}},
      {"ETAG_MISMATCH",
       [&] {
         v1::UpdatePlanRequest r;
         r.set_request_id(NextId());
         r.mutable_plan()->set_name(plan_);
         r.mutable_plan()->set_etag("999");
         r.mutable_plan()->mutable_coordinator()->set_display_name("Bo");
         r.mutable_update_mask()->add_paths("coordinator");
         return Raw(*school_, &v1::PlanService::Stub::UpdatePlan, r);
       },
       {{"field", "plan.etag"}, {"resource", plan_}}},
      {"PLAN_CLOSED",
       [&] {
         v1::ClosePlanRequest close;
         close.set_request_id(NextId());
         close.set_name(plan_);
         close.set_closed_by(v1::PLAN_CLOSED_BY_AGENCIES);
         close.set_reason("the help is no longer needed");
         EXPECT_TRUE(
             Raw(*school_, &v1::PlanService::Stub::ClosePlan, close).ok());
         v1::UpdatePlanRequest r;
         r.set_request_id(NextId());
         r.mutable_plan()->set_name(plan_);
         r.mutable_plan()->mutable_coordinator()->set_display_name("Bo");
         r.mutable_update_mask()->add_paths("coordinator");
         return Raw(*school_, &v1::PlanService::Stub::UpdatePlan, r);
       },
       {}},
      // REST only: the same ErrorInfo, carried in the JSON body.
      {"UNKNOWN_ROUTE",
       [&] {
         RestClient rest(server_->rest_port(), dir_);
         return GrpcStatusOf(rest.Call({"school-1", "DELETE", "/v1/plans"}));
       },
       {{"allow", "GET, POST"}},
       "DELETE"},
      {"REQUEST_TOO_LARGE",
       [&] {
         RestClient rest(server_->rest_port(), dir_);
         return GrpcStatusOf(
             rest.Call({"school-1", "GET",
                        "/v1/plans?pageToken=" + std::string(9000, 'a')}));
       },
       {{"limit", "limits.max_url_bytes"}}},
      // The limiter every transport calls first, with its own budget here
      // so the test needs no thousand calls.
      {"RATE_LIMITED",
       [&] {
         app::RateLimiter limiter(clock_, 2, 1);
         EXPECT_TRUE(limiter.Take("school-1").ok());
         return ToGrpcStatus(limiter.Take("school-1"));
       },
       {{"retry_after_ms", "500"}}},
      // No request can cause these four; the code paths that make them
      // are driven directly and mapped by the one gRPC mapping.
      {"SCHEMA_TOO_NEW",
       [&] {
         const std::string db = (dir_ / "newer.db").string();
         {
           auto store = storage::OpenSqliteStore(storage::SqliteOptions{db});
           EXPECT_THAT(store, IsOk());
         }
         EXPECT_EQ(std::system(("sqlite3 '" + db +
                                "' 'PRAGMA user_version = 1000' >/dev/null")
                                   .c_str()),
                   0);
         return ToGrpcStatus(
             storage::OpenSqliteStore(storage::SqliteOptions{db}).status());
       },
       {{"schema_version", "1000"}}},
      {"STORAGE_UNAVAILABLE",
       [&] {
         return ToGrpcStatus(
             storage::OpenSqliteStore(
                 storage::SqliteOptions{(dir_ / "missing" / "x.db").string()})
                 .status());
       },
       {}},
      {"STORAGE_CORRUPT",
       [&] {
         const std::string db = (dir_ / "damaged.db").string();
         {
           auto store = storage::OpenSqliteStore(storage::SqliteOptions{db});
           EXPECT_THAT(store, IsOk());
         }
         std::fstream f(db, std::ios::in | std::ios::out | std::ios::binary);
         f.write(std::string(100, '\xab').data(), 100);  // the header
         f.close();
         return ToGrpcStatus(
             storage::OpenSqliteStore(storage::SqliteOptions{db}).status());
       },
       {}},
      {"INTERNAL",
       [&] {
         return ToGrpcStatus(absl::InternalError("an unexpected failure"));
       },
       {}},
  };

  std::set<std::string> provoked;
  for (const Row& row : rows) {
    SCOPED_TRACE(row.reason);
    provoked.insert(row.reason);
    auto documented = table.find(row.reason);
    ASSERT_NE(documented, table.end()) << "not in docs/api.md";
    const Seen seen = Inspect(row.provoke());
    EXPECT_EQ(seen.infos, 1) << seen.message;
    EXPECT_EQ(seen.reason, row.reason) << seen.message;
    EXPECT_EQ(seen.domain, "samplan.se");
    EXPECT_TRUE(documented->second.codes.count(seen.code))
        << seen.code << ": " << seen.message;
    std::set<std::string> keys;
    for (const auto& [k, v] : seen.metadata) {
      keys.insert(k);
      EXPECT_FALSE(v.empty()) << k;
    }
    EXPECT_EQ(keys, documented->second.keys) << seen.message;
    for (const auto& [k, v] : row.values) {
      auto it = seen.metadata.find(k);
      EXPECT_EQ(it == seen.metadata.end() ? "(absent)" : it->second, v) << k;
    }
    EXPECT_THAT(seen.message, HasSubstr(row.in_message));
    EXPECT_FALSE(seen.message.empty());
  }
  for (const auto& [reason, row] : table) {
    if (row.reserved) continue;
    EXPECT_TRUE(provoked.count(reason)) << reason << " is never provoked";
  }
}

// A request that does not decode is INVALID_ARGUMENT naming the field, on
// unary and streaming methods alike, never UNIMPLEMENTED.
TEST_F(ErrorDetailsTest, UndecodableRequestsNameTheirField) {
  v1::GetPlanRequest get;
  get.set_name("plans/\xff");
  Seen seen = Inspect(RawBytes("school-1", "/samplan.v1.PlanService/GetPlan",
                               get.SerializeAsString()));
  EXPECT_EQ(seen.code, "INVALID_ARGUMENT");
  EXPECT_EQ(seen.reason, "INVALID_FIELD");
  EXPECT_EQ(seen.metadata["field"], "name");
  EXPECT_THAT(seen.message, HasSubstr("could not be decoded"));

  // A server stream: the status arrives with the end of the stream.
  v1::StreamAuditEventsRequest stream_req;
  stream_req.mutable_filter()->set_subject("2016\xc3");
  auto ctx = Ctx();
  grpc::GenericStub stub(Channel("auditor-1"));
  grpc::CompletionQueue cq;
  grpc::Slice slice(stream_req.SerializeAsString());
  grpc::ByteBuffer request(&slice, 1);
  auto reader = stub.PrepareUnaryCall(
      ctx.get(), "/samplan.v1.AuditService/StreamAuditEvents", request, &cq);
  reader->StartCall();
  grpc::ByteBuffer response;
  grpc::Status status;
  reader->Finish(&response, &status, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  ASSERT_TRUE(cq.Next(&tag, &ok));
  seen = Inspect(status);
  EXPECT_EQ(seen.code, "INVALID_ARGUMENT");
  EXPECT_EQ(seen.reason, "INVALID_FIELD");
  EXPECT_EQ(seen.metadata["field"], "filter.subject");

  // Nothing was audited for either: neither call got that far.
  for (const v1::AuditEvent& e : AuditEvents()) {
    EXPECT_NE(e.agency(), "agencies/auditor-1") << e.ShortDebugString();
  }
}

TEST_F(ErrorDetailsTest, TreeSizeOutOfRangeNamesTheLogSize) {
  v1::GetInclusionProofRequest r;
  r.set_leaf_index(0);
  r.set_tree_size(1000000);
  auto audits = Audits();
  const Seen seen =
      Inspect(Raw(*audits, &v1::AuditService::Stub::GetInclusionProof, r));
  ASSERT_EQ(seen.reason, "TREE_SIZE_OUT_OF_RANGE");
  // The size as it was when the proof was asked for; the refusal itself
  // is not audited (proofs reveal only hashes).
  EXPECT_EQ(seen.metadata.at("tree_size"), std::to_string(AuditSize()));
}

}  // namespace
}  // namespace samplan::server
