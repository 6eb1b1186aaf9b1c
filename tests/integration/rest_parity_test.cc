// Every annotated method is reachable over REST with the same result as
// over gRPC. Two servers start alike (one clock, sequential ids, one audit
// key, the same agencies); each step of one story goes to server A over
// gRPC and to server B over REST (curl), built from the same request
// message by the route its google.api.http rule gives. Each answer must be
// the same (the same JSON, or the same error with the same ErrorInfo), and
// at the end the two audit logs must be the same record for record, leaf
// hashes included: the same decisions, the same audit record shape.

#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "app/method_table.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/generic/generic_stub.h"
#include "server/rest_routes.h"
#include "server/rpc_status.h"
#include "tests/integration/rest_client.h"

namespace samplan::server {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using ::testing::ElementsAre;

const Message* Prototype(const google::protobuf::Descriptor* type) {
  return google::protobuf::MessageFactory::generated_factory()->GetPrototype(
      type);
}

std::string Json(const Message& m) {
  std::string out;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(m, &out).ok());
  return out;
}

// --- From a request message to its REST form, by its route ----------------

std::string PercentEncode(absl::string_view s, bool keep_slash) {
  std::string out;
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' ||
        c == '~' || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppendFormat(&out, "%%%02X", c);
    }
  }
  return out;
}

// The string at a chain of singular fields; cleared from `m` when `clear`.
std::string TakeString(Message* m,
                       const std::vector<const FieldDescriptor*>& path,
                       bool clear) {
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    m = m->GetReflection()->MutableMessage(m, path[i]);
  }
  const std::string value = m->GetReflection()->GetString(*m, path.back());
  if (clear) m->GetReflection()->ClearField(m, path.back());
  return value;
}

void Flatten(const std::string& name, const google::protobuf::Value& v,
             std::vector<std::string>* out) {
  switch (v.kind_case()) {
    case google::protobuf::Value::kStructValue: {
      std::map<std::string, const google::protobuf::Value*> sorted;
      for (const auto& [k, child] : v.struct_value().fields()) {
        sorted[k] = &child;
      }
      for (const auto& [k, child] : sorted) {
        Flatten(name.empty() ? k : absl::StrCat(name, ".", k), *child, out);
      }
      break;
    }
    case google::protobuf::Value::kListValue:
      for (const auto& item : v.list_value().values()) Flatten(name, item, out);
      break;
    case google::protobuf::Value::kStringValue:
      out->push_back(
          absl::StrCat(name, "=", PercentEncode(v.string_value(), false)));
      break;
    case google::protobuf::Value::kNumberValue:
      out->push_back(absl::StrCat(name, "=", v.number_value()));
      break;
    case google::protobuf::Value::kBoolValue:
      out->push_back(
          absl::StrCat(name, "=", v.bool_value() ? "true" : "false"));
      break;
    default:
      break;
  }
}

struct RestForm {
  std::string method;
  std::string target;
  std::string body;
};

// The request as a client following the route would send it: path
// variables from their fields, the body from the body field (or the whole
// request), every other set field as a query parameter.
RestForm ToRest(const rest::Route& route, const Message& request) {
  std::unique_ptr<Message> rest(request.New());
  rest->CopyFrom(request);
  RestForm out;
  out.method = route.http_method;
  // "/v1/{name=plans/*}:approve": each {...} in order is a variable.
  const std::string& text = route.path.text;
  size_t var = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '{') {
      out.target.push_back(text[i]);
      continue;
    }
    i = text.find('}', i);
    const auto& v = route.path.variables[var++];
    out.target += PercentEncode(TakeString(rest.get(), v.field_path, true),
                                /*keep_slash=*/true);
  }
  if (route.body == "*") {
    out.body = Json(*rest);
    return out;
  }
  if (route.body_field != nullptr) {
    const Reflection* r = rest->GetReflection();
    out.body = Json(r->GetMessage(*rest, route.body_field));
    r->ClearField(rest.get(), route.body_field);
  }
  google::protobuf::Value query;
  EXPECT_TRUE(
      google::protobuf::util::JsonStringToMessage(Json(*rest), &query).ok());
  std::vector<std::string> params;
  Flatten("", query, &params);
  if (!params.empty())
    absl::StrAppend(&out.target, "?", absl::StrJoin(params, "&"));
  return out;
}

// --- The test
// -----------------------------------------------------------------

struct Step {
  std::string agency;
  std::string method;   // "PlanService.GetPlan"
  std::string request;  // text format, $VARS replaced
  // Variables taken from the answer: name, chain of singular fields.
  std::vector<std::pair<std::string, std::string>> save = {};
};

class RestParityTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    // Server B: the same configuration and clock, its own database.
    std::filesystem::create_directories(dir_ / "b");
    b_db_ = (dir_ / "b" / "samplan.db").string();
    RegisterAgencies(b_db_);
    ServerOptions options;
    options.config = config_;
    options.config.mutable_storage()->set_sqlite_path(b_db_);
    options.clock = &clock_;
    options.ids = app::NewSequentialIdGenerator();
    auto b = Server::Start(std::move(options));
    ASSERT_THAT(b, IsOk());
    b_ = *std::move(b);
    rest_ = std::make_unique<RestClient>(b_->rest_port(), dir_);

    for (const std::string& name : app::MethodTable::ServiceNames()) {
      auto routes =
          rest::RoutesOf(*google::protobuf::DescriptorPool::generated_pool()
                              ->FindServiceByName(name));
      ASSERT_THAT(routes, IsOk());
      for (rest::Route& r : *routes) {
        // The first binding of each method; additional ones share it.
        routes_.emplace(r.method->full_name(), std::move(r));
      }
    }
    vars_ = {{"$CHILD", child_},
             {"$G1", g1_},
             {"$G2", g2_},
             {"$AGENT", Pnr("19700101", "333")}};
  }

  void TearDown() override {
    b_.reset();
    ServerTest::TearDown();
  }

  struct Answer {
    grpc::Status status;
    std::vector<std::string> json;  // one per response message
  };

  Answer OverGrpc(const Step& step, const google::protobuf::MethodDescriptor& m,
                  const Message& request) {
    Answer a;
    auto channel = Channel(step.agency);
    const std::string path =
        absl::StrCat("/", m.service()->full_name(), "/", m.name());
    if (m.server_streaming()) {
      // The two streaming methods, through their stubs.
      auto stub = v1::AuditService::NewStub(channel);
      auto ctx = Ctx();
      if (m.name() == "StreamAuditEvents") {
        auto reader = stub->StreamAuditEvents(
            ctx.get(),
            static_cast<const v1::StreamAuditEventsRequest&>(request));
        v1::StreamAuditEventsResponse r;
        while (reader->Read(&r)) a.json.push_back(Json(r));
        a.status = reader->Finish();
      } else {
        auto reader = stub->ExportAuditEvents(
            ctx.get(),
            static_cast<const v1::ExportAuditEventsRequest&>(request));
        v1::ExportAuditEventsResponse r;
        while (reader->Read(&r)) a.json.push_back(Json(r));
        a.status = reader->Finish();
      }
      return a;
    }
    grpc::GenericStub stub(channel);
    auto ctx = Ctx();
    const std::string bytes = request.SerializeAsString();
    grpc::Slice slice(bytes);
    grpc::ByteBuffer in(&slice, 1);
    grpc::ByteBuffer out;
    absl::Notification done;
    stub.UnaryCall(ctx.get(), path, grpc::StubOptions(), &in, &out,
                   [&](grpc::Status s) {
                     a.status = std::move(s);
                     done.Notify();
                   });
    done.WaitForNotification();
    if (a.status.ok()) {
      std::vector<grpc::Slice> slices;
      EXPECT_TRUE(out.Dump(&slices).ok());
      std::string reply;
      for (const auto& s : slices) {
        reply.append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
      std::unique_ptr<Message> response(Prototype(m.output_type())->New());
      EXPECT_TRUE(response->ParseFromString(reply));
      a.json.push_back(Json(*response));
    }
    return a;
  }

  Answer OverRest(const Step& step, const google::protobuf::MethodDescriptor& m,
                  const Message& request) {
    const RestForm form = ToRest(routes_.at(m.full_name()), request);
    const Http http =
        rest_->Call({step.agency, form.method, form.target, form.body});
    EXPECT_EQ(http.curl_exit, 0) << form.method << " " << form.target;
    Answer a;
    if (http.status != 200) {
      a.status = GrpcStatusOf(http);
      EXPECT_EQ(
          http.status,
          HttpStatusOf(static_cast<absl::StatusCode>(a.status.error_code())))
          << http.body;
      return a;
    }
    // The same JSON a gRPC client would print from the same message.
    for (absl::string_view line : absl::StrSplit(http.body, '\n')) {
      if (absl::StripAsciiWhitespace(line).empty()) continue;
      std::unique_ptr<Message> response(Prototype(m.output_type())->New());
      EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(std::string(line),
                                                              response.get())
                      .ok())
          << line;
      a.json.push_back(Json(*response));
    }
    return a;
  }

  // Sends the step both ways and compares; the gRPC answer's saved
  // variables feed later steps.
  void Run(const Step& step) {
    SCOPED_TRACE(step.method + " " + step.request);
    const auto* m =
        google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
            "samplan.v1." + step.method);
    ASSERT_NE(m, nullptr);
    ASSERT_EQ(routes_.count(m->full_name()), 1u) << "no route";
    std::unique_ptr<Message> request(Prototype(m->input_type())->New());
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
        absl::StrReplaceAll(step.request, vars_), request.get()));

    const Answer a = OverGrpc(step, *m, *request);
    const Answer b = OverRest(step, *m, *request);
    EXPECT_EQ(a.status.error_code(), b.status.error_code())
        << a.status.error_message() << " | " << b.status.error_message();
    EXPECT_EQ(a.status.error_message(), b.status.error_message());
    google::rpc::Status da;
    google::rpc::Status db;
    da.ParseFromString(a.status.error_details());
    db.ParseFromString(b.status.error_details());
    EXPECT_EQ(Json(da), Json(db));
    EXPECT_EQ(a.json, b.json);
    walked_.insert(m->full_name());
    if (a.status.ok()) {
      EXPECT_FALSE(a.json.empty());
    } else {
      failed_.push_back(
          absl::StrCat(step.method, ": ", a.status.error_message()));
    }

    // Variables from the (single) answer.
    if (step.save.empty()) return;
    ASSERT_TRUE(a.status.ok()) << a.status.error_message();
    std::unique_ptr<Message> response(Prototype(m->output_type())->New());
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(a.json.at(0),
                                                            response.get())
                    .ok());
    for (const auto& [var, field_path] : step.save) {
      const Message* at = response.get();
      std::string value;
      for (absl::string_view part : absl::StrSplit(field_path, '.')) {
        const FieldDescriptor* f =
            at->GetDescriptor()->FindFieldByName(std::string(part));
        ASSERT_NE(f, nullptr) << field_path;
        if (f->type() == FieldDescriptor::TYPE_MESSAGE) {
          at = &at->GetReflection()->GetMessage(*at, f);
        } else if (f->type() == FieldDescriptor::TYPE_INT64) {
          value = absl::StrCat(at->GetReflection()->GetInt64(*at, f));
        } else {
          value = at->GetReflection()->GetString(*at, f);
        }
      }
      ASSERT_FALSE(value.empty()) << field_path;
      vars_[var] = value;
    }
  }

  std::string b_db_;
  std::unique_ptr<Server> b_;
  std::unique_ptr<RestClient> rest_;
  std::map<std::string, rest::Route> routes_;
  std::map<std::string, std::string> vars_;
  std::set<std::string> walked_;
  std::vector<std::string> failed_;
};

constexpr char kEvidence[] = "evidence { kind: EVIDENCE_KIND_SIGNED_FORM }";

std::string GrantOf(const std::string& id, const std::string& guardian) {
  return absl::StrCat(
      "request_id: '", id,
      "' grant { subject: '$CHILD' grantor_role: GRANTOR_ROLE_GUARDIAN "
      "grantor_identity_number: '",
      guardian,
      "' scope { disclosing_sectors: SECTOR_HEALTHCARE receiving_sectors: "
      "SECTOR_SCHOOL categories: INFORMATION_CATEGORY_INTERVENTIONS } "
      "valid_from { seconds: 1780272000 } valid_until { seconds: 1803859200 } ",
      kEvidence, " }");
}

std::string ApprovalOf(const std::string& id) {
  std::string out =
      absl::StrCat("request_id: '", id, "' name: '$PLAN' revision: $REV");
  for (const char* g : {"$G1", "$G2"}) {
    absl::StrAppend(&out, " approvals { approver_role: APPROVER_ROLE_GUARDIAN",
                    " approver_identity_number: '", g, "' ", kEvidence, " }");
  }
  return out;
}

TEST_F(RestParityTest, EveryAnnotatedMethodAnswersAlikeOverBothTransports) {
  const std::vector<Step> steps = {
      // A plan with BUP invited; custody; approval.
      {"school-1",
       "PlanService.CreatePlan",
       "request_id: 'p1' plan { subject: '$CHILD' coordinator { display_name: "
       "'Anna' } } participants { kind: PARTICIPANT_KIND_AGENCY agency: "
       "'agencies/bup-1' }",
       {{"$PLAN", "plan.name"}}},
      {"school-1",
       "ConsentService.CreateCustodyFact",
       "request_id: 'c1' custody_fact { subject: '$CHILD' "
       "guardian_identity_number: '$G1' valid_from { seconds: 1462838400 } "
       "evidence { kind: EVIDENCE_KIND_REGISTER_EXTRACT } }",
       {{"$CUSTODY", "custody_fact.name"}}},
      {"school-1", "ConsentService.CreateCustodyFact",
       "request_id: 'c2' custody_fact { subject: '$CHILD' "
       "guardian_identity_number: '$G2' valid_from { seconds: 1462838400 } "
       "evidence { kind: EVIDENCE_KIND_REGISTER_EXTRACT } }"},
      {"school-1",
       "PlanService.GetPlan",
       "name: '$PLAN' view: PLAN_VIEW_LATEST",
       {{"$REV", "plan.revision"}}},
      {"school-1", "PlanService.ApprovePlan", ApprovalOf("a1")},
      // BUP writes, changes and deletes entries.
      {"bup-1",
       "PlanService.CreateEntry",
       "request_id: 'e1' parent: '$PLAN' entry { category: "
       "INFORMATION_CATEGORY_INTERVENTIONS kind: ENTRY_KIND_NOTE text: 'BUP: "
       "weekly sessions' }",
       {{"$ENTRYA", "entry.name"}, {"$ETAG", "entry.etag"}}},
      {"bup-1", "PlanService.UpdateEntry",
       "request_id: 'e2' entry { name: '$ENTRYA' etag: '$ETAG' text: 'BUP: "
       "fortnightly sessions' } update_mask { paths: 'text' }"},
      {"bup-1",
       "PlanService.CreateEntry",
       "request_id: 'e3' parent: '$PLAN' entry { category: "
       "INFORMATION_CATEGORY_HEALTH kind: ENTRY_KIND_NOTE text: 'BUP: "
       "diagnosis' }",
       {{"$ENTRYB", "entry.name"}}},
      {"bup-1", "PlanService.DeleteEntry", "request_id: 'e4' name: '$ENTRYB'"},
      {"school-1", "PlanService.UpdatePlan",
       "request_id: 'u1' plan { name: '$PLAN' coordinator { display_name: "
       "'Berit' } } update_mask { paths: 'coordinator' }"},
      {"school-1",
       "PlanService.GetPlan",
       "name: '$PLAN' view: PLAN_VIEW_LATEST",
       {{"$REV", "plan.revision"}}},
      {"school-1", "PlanService.ApprovePlan", ApprovalOf("a2")},
      {"bup-1", "PlanService.RenderPlan", "name: '$PLAN' language_code: 'en'"},
      {"school-1", "PlanService.RenderPlan",
       "name: '$PLAN' format: DOCUMENT_FORMAT_PDF"},
      {"school-1", "PlanService.ListPlans", "page_size: 5"},
      {"school-1", "PlanService.SearchPlans", "subject: '$CHILD'"},
      {"school-1",
       "PlanService.AddParticipant",
       "request_id: 'pa1' parent: '$PLAN' participant { kind: "
       "PARTICIPANT_KIND_AGENCY agency: 'agencies/social-1' }",
       {{"$PART", "participant.name"}}},
      {"school-1", "PlanService.RemoveParticipant",
       "request_id: 'pr1' name: '$PART' reason: 'no longer involved'"},
      {"school-1", "PlanService.ListUpcomingReviews",
       "start_date { year: 2026 month: 6 day: 1 } end_date { year: 2027 "
       "month: 6 day: 1 }"},
      // Custody and representation.
      {"school-1", "ConsentService.GetCustodyFact", "name: '$CUSTODY'"},
      {"school-1", "ConsentService.SearchCustodyFacts", "subject: '$CHILD'"},
      {"school-1",
       "ConsentService.CreateRepresentation",
       absl::StrCat("request_id: 'r1' representation { subject: '$CHILD' "
                    "representative_identity_number: '$AGENT' kind: "
                    "REPRESENTATION_KIND_GOD_MAN remit_covers_consent: true "
                    "valid_from { seconds: 1780272000 } ",
                    kEvidence, " }"),
       {{"$REPRESENTATION", "representation.name"}}},
      {"school-1", "ConsentService.GetRepresentation",
       "name: '$REPRESENTATION'"},
      {"school-1", "ConsentService.SearchRepresentations", "subject: '$CHILD'"},
      {"school-1", "ConsentService.EndRepresentation",
       absl::StrCat(
           "request_id: 'r2' name: '$REPRESENTATION' end_time { seconds: "
           "1780358400 } ",
           kEvidence)},
      // Consent: a read withheld, granted, allowed, withdrawn.
      {"school-1", "PlanService.GetPlan", "name: '$PLAN'"},
      {"school-1",
       "ConsentService.CreateGrant",
       GrantOf("g1", "$G1"),
       {{"$GRANTA", "grant.name"}}},
      {"school-1",
       "ConsentService.CreateGrant",
       GrantOf("g2", "$G2"),
       {{"$GRANTB", "grant.name"}}},
      {"school-1", "ConsentService.GetGrant", "name: '$GRANTA'"},
      {"school-1", "ConsentService.GetGrantReceipt", "name: '$GRANTA'"},
      {"school-1", "ConsentService.RenderGrantReceipt",
       "name: '$GRANTA' language_code: 'en' format: DOCUMENT_FORMAT_PDF"},
      {"school-1", "ConsentService.RenderGrantReceipt", "name: '$GRANTA'"},
      {"school-1", "ConsentService.ListGrants", "plan: '$PLAN'"},
      {"school-1", "ConsentService.SearchGrants", "subject: '$CHILD'"},
      {"school-1", "ConsentService.CheckAccess",
       "plan: '$PLAN' owner_agency: 'agencies/bup-1' receiving_agency: "
       "'agencies/school-1' category: INFORMATION_CATEGORY_INTERVENTIONS"},
      {"school-1", "PlanService.GetPlan", "name: '$PLAN'"},
      {"school-1", "ConsentService.WithdrawGrant",
       absl::StrCat("request_id: 'w1' name: '$GRANTA' withdrawer_role: "
                    "GRANTOR_ROLE_GUARDIAN withdrawer_identity_number: '$G1' ",
                    kEvidence)},
      {"school-1", "PlanService.GetPlan", "name: '$PLAN'"},
      // Existence hiding: the same NOT_FOUND both ways.
      {"social-1", "PlanService.GetPlan", "name: '$PLAN'"},
      {"school-1", "ConsentService.EndCustodyFact",
       absl::StrCat("request_id: 'ce1' name: '$CUSTODY' end_time { seconds: "
                    "1780358400 } ",
                    kEvidence)},
      // Administration.
      {"admin-1", "AdminService.CreateAgency",
       "request_id: 'ag1' agency_id: 'school-2' agency { display_name: "
       "'School 2' sector: SECTOR_SCHOOL role: AGENCY_ROLE_AGENCY_SYSTEM }"},
      {"admin-1", "AdminService.GetAgency", "name: 'agencies/school-2'"},
      {"admin-1", "AdminService.ListAgencies", "sector: SECTOR_SCHOOL"},
      {"admin-1", "AdminService.DisableAgency",
       "request_id: 'ad1' name: 'agencies/school-2' reason: 'merged'"},
      {"admin-1", "ConsentService.GetGrant", "name: '$GRANTB'"},
      {"admin-1", "AdminService.RevokeGrant",
       absl::StrCat("request_id: 'rv1' name: '$GRANTB' reason: 'given under "
                    "pressure' ",
                    kEvidence)},
      {"school-1",
       "ConsentService.CreateGrant",
       GrantOf("g3", "$G1"),
       {{"$GRANTC", "grant.name"}}},
      {"admin-1", "AdminService.VoidGrant",
       "request_id: 'vd1' name: '$GRANTC' reason: 'recorded in error'"},
      {"admin-1", "AdminService.ListExpiringGrants", "within_days: 300"},
      {"admin-1", "AdminService.ExpireGrants", "request_id: 'ex1'"},
      {"school-1", "PlanService.ClosePlan",
       "request_id: 'cl1' name: '$PLAN' closed_by: PLAN_CLOSED_BY_AGENCIES "
       "reason: 'the help is no longer needed'"},
      // Audit.
      {"auditor-1", "AuditService.SearchAuditEvents",
       "filter { subject: '$CHILD' } page_size: 10"},
      {"auditor-1", "AuditService.StreamAuditEvents",
       "filter { subject: '$CHILD' }"},
      {"auditor-1", "AuditService.ExportAuditEvents", ""},
      {"auditor-1",
       "AuditService.GetLatestCheckpoint",
       "refresh: true",
       {{"$SIZE", "checkpoint.tree_size"}}},
      {"auditor-1", "AuditService.GetInclusionProof",
       "leaf_index: 1 tree_size: $SIZE"},
      {"auditor-1", "AuditService.GetConsistencyProof",
       "first_size: 2 second_size: $SIZE"},
      {"auditor-1", "AuditService.GetAccessExtract", "subject: '$CHILD'"},
  };
  for (const Step& step : steps) {
    Run(step);
    if (HasFatalFailure()) return;
  }

  // Every annotated method was walked, and all but the one hidden read
  // succeeded.
  std::set<std::string> annotated;
  for (const auto& [name, route] : routes_) annotated.insert(name);
  EXPECT_EQ(walked_, annotated);
  EXPECT_THAT(failed_, ElementsAre(HasSubstr("PlanService.GetPlan")));

  // The same audit log, record for record.
  const std::vector<v1::AuditEvent> a = AuditEvents();
  const std::vector<v1::AuditEvent> b = AuditEvents(b_db_);
  EXPECT_GT(a.size(), 40u);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(Json(a[i]), Json(b[i])) << "leaf " << i;
  }
}

}  // namespace
}  // namespace samplan::server
