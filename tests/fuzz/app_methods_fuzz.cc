// Every application method, as both transports call it: the request
// decoded from the fuzz bytes by the transports' own decoder, the caller
// authorized against the agency registry, then the method table's handler,
// over an in-memory store holding one plan told as a story (joint custody,
// an approved plan with an entry of BUP's, a consent).
//
// Input: byte 0 picks the method (in method-table order), byte 1 the
// calling agency (school, BUP, social services, auditor, administrator);
// the rest is the request in the protobuf wire format.
//
// Properties: no crash or sanitizer report; no INTERNAL, UNKNOWN or
// DATA_LOSS answer (malformed input must never reach storage as a fault);
// every error message is UTF-8; every INVALID_ARGUMENT carries a reason, and
// names its field when the reason is INVALID_FIELD; and a request refused as
// invalid leaves the audit log as it was (nothing stored).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/notification.h"
#include "absl/time/civil_time.h"
#include "app/admin_app.h"
#include "app/app_support.h"
#include "app/audit_app.h"
#include "app/authorize.h"
#include "app/checkpointer.h"
#include "app/commit_queue.h"
#include "app/consent_app.h"
#include "app/method_table.h"
#include "app/plan_app.h"
#include "app/read_cache.h"
#include "app/request_decode.h"
#include "audit/note.h"
#include "common/clock.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "common/utf8.h"
#include "consent/engine.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/text_format.h"
#include "samplan/v1/admin.pb.h"
#include "samplan/v1/audit.pb.h"
#include "samplan/v1/consent.pb.h"
#include "samplan/v1/plan.pb.h"
#include "storage/sqlite_store.h"
#include "storage/store.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

namespace app = samplan::app;
namespace v1 = samplan::v1;
using google::protobuf::Message;

struct Agency {
  const char* id;
  v1::Sector sector;
  v1::AgencyRole role;
};
constexpr Agency kAgencies[] = {
    {"school-1", v1::SECTOR_SCHOOL, v1::AGENCY_ROLE_AGENCY_SYSTEM},
    {"bup-1", v1::SECTOR_HEALTHCARE, v1::AGENCY_ROLE_AGENCY_SYSTEM},
    {"soc-1", v1::SECTOR_SOCIAL_SERVICES, v1::AGENCY_ROLE_AGENCY_SYSTEM},
    {"auditor-1", v1::SECTOR_UNSPECIFIED, v1::AGENCY_ROLE_AUDITOR},
    {"admin-1", v1::SECTOR_UNSPECIFIED, v1::AGENCY_ROLE_ADMINISTRATOR},
};
constexpr int kCallers = sizeof(kAgencies) / sizeof(kAgencies[0]);

// The story, as calls: {method, calling agency index, request text}. The
// child is 201503142380, the guardians 198001011231 and 198202022342.
// "$PLAN" and "$GRANT" stand for the names the earlier calls returned.
struct Step {
  const char* method;
  int caller;
  const char* request;
};
const Step kStory[] = {
    {"ConsentService.CreateCustodyFact", 0,
     "request_id: 'c1' custody_fact { subject: '201503142380' "
     "guardian_identity_number: '198001011231' valid_from { seconds: "
     "1426291200 } evidence { kind: EVIDENCE_KIND_REGISTER_EXTRACT } }"},
    {"ConsentService.CreateCustodyFact", 0,
     "request_id: 'c2' custody_fact { subject: '201503142380' "
     "guardian_identity_number: '198202022342' valid_from { seconds: "
     "1426291200 } evidence { kind: EVIDENCE_KIND_REGISTER_EXTRACT } }"},
    {"PlanService.CreatePlan", 0,
     "request_id: 'p1' plan { subject: '201503142380' coordinator { "
     "display_name: 'Anna' } } participants { kind: PARTICIPANT_KIND_AGENCY "
     "agency: 'agencies/bup-1' }"},
    {"PlanService.ApprovePlan", 0,
     "request_id: 'a1' name: '$PLAN' revision: 1 approvals { approver_role: "
     "APPROVER_ROLE_GUARDIAN approver_identity_number: '198001011231' "
     "evidence { kind: EVIDENCE_KIND_SIGNED_FORM } } approvals { "
     "approver_role: APPROVER_ROLE_GUARDIAN approver_identity_number: "
     "'198202022342' evidence { kind: EVIDENCE_KIND_SIGNED_FORM } }"},
    {"PlanService.CreateEntry", 1,
     "request_id: 'e1' parent: '$PLAN' entry { category: "
     "INFORMATION_CATEGORY_HEALTH kind: ENTRY_KIND_NOTE text: 'Utredning "
     "pågår' }"},
    {"ConsentService.CreateGrant", 0,
     "request_id: 'g1' grant { subject: '201503142380' grantor_role: "
     "GRANTOR_ROLE_GUARDIAN grantor_identity_number: '198001011231' scope { "
     "disclosing_sectors: SECTOR_HEALTHCARE receiving_sectors: SECTOR_SCHOOL "
     "categories: INFORMATION_CATEGORY_HEALTH } valid_from { seconds: "
     "1780290000 } valid_until { seconds: 1790000000 } evidence { kind: "
     "EVIDENCE_KIND_SIGNED_FORM } }"},
    {"ConsentService.CreateGrant", 0,
     "request_id: 'g2' grant { subject: '201503142380' grantor_role: "
     "GRANTOR_ROLE_GUARDIAN grantor_identity_number: '198202022342' scope { "
     "disclosing_sectors: SECTOR_HEALTHCARE receiving_sectors: SECTOR_SCHOOL "
     "categories: INFORMATION_CATEGORY_HEALTH } valid_from { seconds: "
     "1780290000 } valid_until { seconds: 1790000000 } evidence { kind: "
     "EVIDENCE_KIND_SIGNED_FORM } }"},
    {"PlanService.GetPlan", 0, "name: '$PLAN'"},
};

class World {
 public:
  World()
      : clock_(absl::FromCivil(absl::CivilSecond(2026, 6, 1, 10, 0, 0),
                               absl::UTCTimeZone())) {
    auto store = samplan::storage::OpenSqliteStore(
        samplan::storage::SqliteOptions{});  // in memory
    FUZZ_CHECK(store.ok(), store.status().ToString());
    store_ = *std::move(store);
    const absl::Status registered =
        store_->Write([](samplan::storage::Transaction& tx) -> absl::Status {
          for (const Agency& a : kAgencies) {
            v1::Agency agency;
            agency.set_name(absl::StrCat("agencies/", a.id));
            agency.set_display_name(a.id);
            agency.set_sector(a.sector);
            agency.set_role(a.role);
            agency.set_state(v1::AGENCY_STATE_ACTIVE);
            agency.set_certificate_identity(
                absl::StrCat(app::kAgencyUriPrefix, a.id));
            RETURN_IF_ERROR(tx.agencies().Create(agency));
          }
          return absl::OkStatus();
        });
    FUZZ_CHECK(registered.ok(), registered.ToString());
    auto signer = samplan::audit::NoteSigner::FromPrivateKeyPem(
        samplan::fuzz::kTestKeyPem, samplan::fuzz::kOrigin);
    FUZZ_CHECK(signer.ok(), signer.status().ToString());
    signer_ = *std::move(signer);
    checkpointer_ = std::make_unique<app::Checkpointer>(
        *signer_, app::Checkpointer::Options{1000, absl::Seconds(10)});
    auto policy = samplan::consent::DefaultPolicy();
    FUZZ_CHECK(policy.ok(), policy.status().ToString());
    queue_ = std::make_unique<app::CommitQueue>(*store_);
    ids_ = app::NewSequentialIdGenerator();
    directory_ = std::make_unique<app::AgencyDirectory>(*store_);
    app::AppContext ctx;
    ctx.store = store_.get();
    ctx.queue = queue_.get();
    ctx.clock = &clock_;
    ctx.ids = ids_.get();
    ctx.policy = *policy;
    ctx.checkpointer = checkpointer_.get();
    ctx.agencies = directory_.get();
    ctx.read_cache = &cache_;
    ctx.page_token_key = "fuzz page token key";
    plans_ = std::make_unique<app::PlanApp>(ctx);
    consents_ = std::make_unique<app::ConsentApp>(ctx);
    audits_ = std::make_unique<app::AuditApp>(ctx);
    admins_ = std::make_unique<app::AdminApp>(ctx);
    table_ = std::make_unique<app::MethodTable>(*plans_, *consents_, *audits_,
                                                *admins_, nullptr);
    TellTheStory();
  }

  const app::MethodTable& table() const { return *table_; }

  // The index of "Service.Method" in the table.
  int MethodIndex(absl::string_view short_name) const {
    const auto& methods = table_->methods();
    for (size_t i = 0; i < methods.size(); ++i) {
      if (methods[i].descriptor->full_name() ==
          absl::StrCat("samplan.v1.", short_name)) {
        return static_cast<int>(i);
      }
    }
    FUZZ_CHECK(false, short_name);
    return -1;
  }

  // The story's requests with the names the story got, in wire format.
  std::string StoryRequest(const Step& step) const {
    const std::string text = absl::StrReplaceAll(
        step.request, {{"$PLAN", plan_}, {"$GRANT", grant_}});
    const app::MethodHandler& h = table_->methods()[MethodIndex(step.method)];
    std::unique_ptr<Message> request(Prototype(h.descriptor->input_type()));
    FUZZ_CHECK(
        google::protobuf::TextFormat::ParseFromString(text, request.get()),
        text);
    return request->SerializeAsString();
  }

  static Message* Prototype(const google::protobuf::Descriptor* type) {
    return google::protobuf::MessageFactory::generated_factory()
        ->GetPrototype(type)
        ->New();
  }

  int64_t AuditSize() {
    int64_t size = -1;
    const absl::Status s =
        store_->Read([&](samplan::storage::Transaction& tx) -> absl::Status {
          ASSIGN_OR_RETURN(size, tx.audit().Size());
          return absl::OkStatus();
        });
    FUZZ_CHECK(s.ok(), s.ToString());
    return size;
  }

  // One call, as a transport makes it; returns its status and fills
  // `response` (unary methods).
  absl::Status Call(int method, int caller, absl::string_view bytes,
                    std::unique_ptr<Message>* response) {
    const app::MethodHandler& h = table_->methods()[method];
    std::unique_ptr<Message> request(Prototype(h.descriptor->input_type()));
    RETURN_IF_ERROR(app::DecodeRequest(bytes, request.get()));
    const Agency& a = kAgencies[caller];
    ASSIGN_OR_RETURN(
        app::Caller c,
        app::Authorize(*directory_,
                       app::PeerIdentity{a.id, std::string(64, 'f')}, "staff-1",
                       h.need));
    absl::Status result;
    absl::Notification done;
    if (h.unary) {
      response->reset(Prototype(h.descriptor->output_type()));
      h.unary(c, *request, response->get(), [&](absl::Status s) {
        result = std::move(s);
        done.Notify();
      });
      done.WaitForNotification();
      return result;
    }
    std::unique_ptr<app::MessageSource> source;
    h.stream(c, *request,
             [&](absl::StatusOr<std::unique_ptr<app::MessageSource>> s) {
               if (s.ok()) {
                 source = *std::move(s);
               } else {
                 result = s.status();
               }
               done.Notify();
             });
    done.WaitForNotification();
    if (!result.ok()) return result;
    std::unique_ptr<Message> message(Prototype(h.descriptor->output_type()));
    for (int i = 0; i < 10000; ++i) {
      message->Clear();
      ASSIGN_OR_RETURN(bool more, source->Next(message.get()));
      if (!more) break;
    }
    return absl::OkStatus();
  }

 private:
  void TellTheStory() {
    for (const Step& step : kStory) {
      std::unique_ptr<Message> response;
      const absl::Status s = Call(MethodIndex(step.method), step.caller,
                                  StoryRequest(step), &response);
      FUZZ_CHECK(s.ok(), absl::StrCat(step.method, ": ", s.ToString()));
      if (auto* plan = dynamic_cast<v1::CreatePlanResponse*>(response.get())) {
        plan_ = plan->plan().name();
      }
      if (auto* g = dynamic_cast<v1::CreateGrantResponse*>(response.get())) {
        grant_ = g->grant().name();
      }
    }
  }

  samplan::FakeClock clock_;
  std::unique_ptr<samplan::storage::Store> store_;
  std::unique_ptr<samplan::audit::NoteSigner> signer_;
  std::unique_ptr<app::Checkpointer> checkpointer_;
  std::unique_ptr<app::CommitQueue> queue_;
  std::unique_ptr<app::IdGenerator> ids_;
  std::unique_ptr<app::AgencyDirectory> directory_;
  app::ReadCache cache_;
  std::unique_ptr<app::PlanApp> plans_;
  std::unique_ptr<app::ConsentApp> consents_;
  std::unique_ptr<app::AuditApp> audits_;
  std::unique_ptr<app::AdminApp> admins_;
  std::unique_ptr<app::MethodTable> table_;
  std::string plan_;
  std::string grant_;
};

World& TheWorld() {
  static World* world = new World;
  return *world;
}

std::string Input(int method, int caller, absl::string_view request) {
  std::string out;
  out.push_back(static_cast<char>(method));
  out.push_back(static_cast<char>(caller));
  out.append(request.data(), request.size());
  return out;
}

void WriteSeeds() {
  World& w = TheWorld();
  int n = 0;
  for (const Step& step : kStory) {
    samplan::fuzz::WriteSeed(
        absl::StrCat("story-", n++),
        Input(w.MethodIndex(step.method), step.caller, w.StoryRequest(step)));
  }
  // Every method, empty, from a caller of the role it needs.
  const auto& methods = w.table().methods();
  for (size_t i = 0; i < methods.size(); ++i) {
    int caller = 0;
    if (methods[i].need.role == app::Role::kAuditor) caller = 3;
    if (methods[i].need.role == app::Role::kAdministrator) caller = 4;
    samplan::fuzz::WriteSeed(
        absl::StrCat("empty-", methods[i].descriptor->name()),
        Input(static_cast<int>(i), caller, ""));
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (samplan::fuzz::SeedDir() != nullptr) {
    WriteSeeds();
    std::exit(0);
  }
  TheWorld();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  World& w = TheWorld();
  const int method = data[0] % static_cast<int>(w.table().methods().size());
  const int caller = data[1] % kCallers;
  const absl::string_view bytes(reinterpret_cast<const char*>(data) + 2,
                                size - 2);
  const std::string name = w.table().methods()[method].descriptor->full_name();
  const int64_t before = w.AuditSize();
  std::unique_ptr<Message> response;
  const absl::Status s = w.Call(method, caller, bytes, &response);
  FUZZ_CHECK(s.code() != absl::StatusCode::kInternal &&
                 s.code() != absl::StatusCode::kUnknown &&
                 s.code() != absl::StatusCode::kDataLoss,
             absl::StrCat(name, ": ", s.ToString()));
  FUZZ_CHECK(samplan::IsUtf8(s.message()),
             absl::StrCat(name, ": an error message that is not UTF-8"));
  if (s.code() == absl::StatusCode::kInvalidArgument) {
    const auto reason = samplan::ReasonOf(s);
    FUZZ_CHECK(reason.has_value(), absl::StrCat(name, ": ", s.ToString()));
    if (*reason == "INVALID_FIELD") {
      FUZZ_CHECK(samplan::FieldOf(s).has_value(),
                 absl::StrCat(name, ": ", s.ToString()));
    }
    FUZZ_CHECK(w.AuditSize() == before,
               absl::StrCat(name,
                            ": an invalid request left an audit "
                            "record: ",
                            s.ToString()));
  }
  return 0;
}
