#include "app/method_table.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "app/admin_app.h"
#include "app/audit_app.h"
#include "app/consent_app.h"
#include "app/metrics.h"
#include "app/plan_app.h"
#include "app/rate_limiter.h"
#include "audit/leaf.h"
#include "common/status_macros.h"
#include "google/protobuf/descriptor.h"
#include "samplan/v1/admin.pb.h"
#include "samplan/v1/audit.pb.h"
#include "samplan/v1/consent.pb.h"
#include "samplan/v1/plan.pb.h"

namespace samplan::app {
namespace {

using google::protobuf::Message;
using google::protobuf::MethodDescriptor;

constexpr Requirement kAgencySystem{Role::kAgencySystem, false};
constexpr Requirement kAgencySystemOrAdministrator{Role::kAgencySystem, true};
constexpr Requirement kAuditor{Role::kAuditor, false};
constexpr Requirement kAdministrator{Role::kAdministrator, false};

constexpr char kPlanService[] = "samplan.v1.PlanService";
constexpr char kConsentService[] = "samplan.v1.ConsentService";
constexpr char kAuditService[] = "samplan.v1.AuditService";
constexpr char kAdminService[] = "samplan.v1.AdminService";

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "samplan: method table: %s\n", what.c_str());
  std::abort();
}

// The method `service`.`name`, checked to take `in` and give `out`: a
// mismatch is a programming error that any test building a table finds.
const MethodDescriptor* FindMethod(const char* service, const char* name,
                                   const google::protobuf::Descriptor* in,
                                   const google::protobuf::Descriptor* out,
                                   bool streaming) {
  const MethodDescriptor* m =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
          absl::StrCat(service, ".", name));
  if (m == nullptr) Die(absl::StrCat("no method ", service, ".", name));
  if (m->input_type() != in || m->output_type() != out ||
      m->server_streaming() != streaming || m->client_streaming()) {
    Die(absl::StrCat(m->full_name(), " is bound to a function of other types"));
  }
  return m;
}

absl::Status Admit(RateLimiter* limiter, const Caller& caller) {
  return limiter == nullptr ? absl::OkStatus()
                            : limiter->Take(caller.agency_id);
}

template <typename App, typename Request, typename Response>
MethodHandler Unary(const char* service, const char* name,
                    const Requirement& need, App& app,
                    void (App::*fn)(const Caller&, const Request&, Response*,
                                    Done),
                    RateLimiter* limiter) {
  MethodHandler h;
  h.descriptor = FindMethod(service, name, Request::descriptor(),
                            Response::descriptor(), false);
  h.need = need;
  h.unary = [&app, fn, limiter](const Caller& caller, const Message& request,
                                Message* response, Done done) {
    if (absl::Status s = Admit(limiter, caller); !s.ok()) return done(s);
    (app.*fn)(caller, static_cast<const Request&>(request),
              static_cast<Response*>(response), std::move(done));
  };
  return h;
}

// StreamAuditEvents: up to 500 events per message.
class EventSource final : public MessageSource {
 public:
  EventSource(AuditApp& app, AuditApp::Cursor cursor)
      : app_(app), cursor_(std::move(cursor)) {}
  absl::StatusOr<bool> Next(Message* out) override {
    ASSIGN_OR_RETURN(auto events, app_.Next(cursor_, 500));
    auto* response = static_cast<v1::StreamAuditEventsResponse*>(out);
    for (auto& e : events) *response->add_audit_events() = std::move(e);
    return !events.empty();
  }

 private:
  AuditApp& app_;
  AuditApp::Cursor cursor_;
};

// ExportAuditEvents: chunks of JSON lines; the checkpoint goes into the
// first chunk, which is sent even when no event matches.
class ExportSource final : public MessageSource {
 public:
  ExportSource(AuditApp& app, AuditApp::Cursor cursor,
               std::shared_ptr<v1::Checkpoint> checkpoint)
      : app_(app),
        cursor_(std::move(cursor)),
        checkpoint_(std::move(checkpoint)) {}
  absl::StatusOr<bool> Next(Message* out) override {
    ASSIGN_OR_RETURN(auto chunk, app_.NextChunk(cursor_));
    if (!chunk.has_value() && !first_) return false;
    auto* response = static_cast<v1::ExportAuditEventsResponse*>(out);
    if (chunk.has_value()) *response = *std::move(chunk);
    if (first_) {
      *response->mutable_checkpoint() = *checkpoint_;
      response->set_export_format(audit::kExportFormat);
    }
    first_ = false;
    return true;
  }

 private:
  AuditApp& app_;
  AuditApp::Cursor cursor_;
  std::shared_ptr<v1::Checkpoint> checkpoint_;
  bool first_ = true;
};

MethodHandler StreamEvents(AuditApp& app, RateLimiter* limiter) {
  MethodHandler h;
  h.descriptor = FindMethod(kAuditService, "StreamAuditEvents",
                            v1::StreamAuditEventsRequest::descriptor(),
                            v1::StreamAuditEventsResponse::descriptor(), true);
  h.need = kAuditor;
  h.stream = [&app, limiter](const Caller& caller, const Message& request,
                             MethodHandler::Started started) {
    if (absl::Status s = Admit(limiter, caller); !s.ok()) return started(s);
    app.StartStream(
        caller, static_cast<const v1::StreamAuditEventsRequest&>(request),
        [&app, started = std::move(started)](
            absl::StatusOr<AuditApp::Cursor> cursor) {
          if (!cursor.ok()) return started(cursor.status());
          started(std::make_unique<EventSource>(app, *std::move(cursor)));
        });
  };
  return h;
}

MethodHandler ExportEvents(AuditApp& app, RateLimiter* limiter) {
  MethodHandler h;
  h.descriptor = FindMethod(kAuditService, "ExportAuditEvents",
                            v1::ExportAuditEventsRequest::descriptor(),
                            v1::ExportAuditEventsResponse::descriptor(), true);
  h.need = kAuditor;
  h.stream = [&app, limiter](const Caller& caller, const Message& request,
                             MethodHandler::Started started) {
    if (absl::Status s = Admit(limiter, caller); !s.ok()) return started(s);
    auto checkpoint = std::make_shared<v1::Checkpoint>();
    app.StartExport(caller,
                    static_cast<const v1::ExportAuditEventsRequest&>(request),
                    checkpoint.get(),
                    [&app, checkpoint, started = std::move(started)](
                        absl::StatusOr<AuditApp::Cursor> cursor) {
                      if (!cursor.ok()) return started(cursor.status());
                      started(std::make_unique<ExportSource>(
                          app, *std::move(cursor), checkpoint));
                    });
  };
  return h;
}

}  // namespace

const std::vector<std::string>& MethodTable::ServiceNames() {
  static const auto* names = new std::vector<std::string>{
      kPlanService, kConsentService, kAuditService, kAdminService};
  return *names;
}

namespace {

// Wraps `h` so that each call's status code and time reach `metrics`. A
// stream counts when it starts (its own audit record committed) or fails.
void Measure(MethodHandler& h, Metrics& metrics) {
  const int i = metrics.AddMethod(h.descriptor->full_name());
  if (h.unary) {
    h.unary = [inner = std::move(h.unary), &metrics, i](
                  const Caller& caller, const Message& request,
                  Message* response, MethodHandler::Done done) {
      const absl::Time start = absl::Now();
      inner(caller, request, response,
            [done = std::move(done), &metrics, i, start](absl::Status s) {
              metrics.RecordCall(i, s.code(), absl::Now() - start);
              if (!s.ok()) metrics.RecordFault(i, s);
              done(std::move(s));
            });
    };
  } else {
    h.stream = [inner = std::move(h.stream), &metrics, i](
                   const Caller& caller, const Message& request,
                   MethodHandler::Started started) {
      const absl::Time start = absl::Now();
      inner(caller, request,
            [started = std::move(started), &metrics, i,
             start](absl::StatusOr<std::unique_ptr<MessageSource>> source) {
              metrics.RecordCall(i, source.status().code(),
                                 absl::Now() - start);
              if (!source.ok()) metrics.RecordFault(i, source.status());
              started(std::move(source));
            });
    };
  }
}

}  // namespace

MethodTable::MethodTable(PlanApp& plans, ConsentApp& consents, AuditApp& audits,
                         AdminApp& admins, RateLimiter* limiter,
                         Metrics* metrics) {
  RateLimiter* const l = limiter;
  const char* const p = kPlanService;
  methods_ = {
      Unary(p, "CreatePlan", kAgencySystem, plans, &PlanApp::CreatePlan, l),
      Unary(p, "GetPlan", kAgencySystem, plans, &PlanApp::GetPlan, l),
      Unary(p, "RenderPlan", kAgencySystem, plans, &PlanApp::RenderPlan, l),
      Unary(p, "ListPlans", kAgencySystem, plans, &PlanApp::ListPlans, l),
      Unary(p, "SearchPlans", kAgencySystem, plans, &PlanApp::SearchPlans, l),
      Unary(p, "UpdatePlan", kAgencySystem, plans, &PlanApp::UpdatePlan, l),
      Unary(p, "ApprovePlan", kAgencySystem, plans, &PlanApp::ApprovePlan, l),
      Unary(p, "ClosePlan", kAgencySystem, plans, &PlanApp::ClosePlan, l),
      Unary(p, "CreateEntry", kAgencySystem, plans, &PlanApp::CreateEntry, l),
      Unary(p, "UpdateEntry", kAgencySystem, plans, &PlanApp::UpdateEntry, l),
      Unary(p, "DeleteEntry", kAgencySystem, plans, &PlanApp::DeleteEntry, l),
      Unary(p, "AddParticipant", kAgencySystem, plans, &PlanApp::AddParticipant,
            l),
      Unary(p, "RemoveParticipant", kAgencySystem, plans,
            &PlanApp::RemoveParticipant, l),
      Unary(p, "ListUpcomingReviews", kAgencySystem, plans,
            &PlanApp::ListUpcomingReviews, l),
  };
  const char* const c = kConsentService;
  for (MethodHandler h : {
           Unary(c, "CreateCustodyFact", kAgencySystem, consents,
                 &ConsentApp::CreateCustodyFact, l),
           Unary(c, "GetCustodyFact", kAgencySystem, consents,
                 &ConsentApp::GetCustodyFact, l),
           Unary(c, "SearchCustodyFacts", kAgencySystem, consents,
                 &ConsentApp::SearchCustodyFacts, l),
           Unary(c, "EndCustodyFact", kAgencySystem, consents,
                 &ConsentApp::EndCustodyFact, l),
           Unary(c, "CreateRepresentation", kAgencySystem, consents,
                 &ConsentApp::CreateRepresentation, l),
           Unary(c, "GetRepresentation", kAgencySystem, consents,
                 &ConsentApp::GetRepresentation, l),
           Unary(c, "SearchRepresentations", kAgencySystem, consents,
                 &ConsentApp::SearchRepresentations, l),
           Unary(c, "EndRepresentation", kAgencySystem, consents,
                 &ConsentApp::EndRepresentation, l),
           Unary(c, "CreateGrant", kAgencySystem, consents,
                 &ConsentApp::CreateGrant, l),
           Unary(c, "GetGrant", kAgencySystemOrAdministrator, consents,
                 &ConsentApp::GetGrant, l),
           Unary(c, "GetGrantReceipt", kAgencySystemOrAdministrator, consents,
                 &ConsentApp::GetGrantReceipt, l),
           Unary(c, "RenderGrantReceipt", kAgencySystemOrAdministrator,
                 consents, &ConsentApp::RenderGrantReceipt, l),
           Unary(c, "ListGrants", kAgencySystem, consents,
                 &ConsentApp::ListGrants, l),
           Unary(c, "SearchGrants", kAgencySystemOrAdministrator, consents,
                 &ConsentApp::SearchGrants, l),
           Unary(c, "WithdrawGrant", kAgencySystem, consents,
                 &ConsentApp::WithdrawGrant, l),
           Unary(c, "CheckAccess", kAgencySystem, consents,
                 &ConsentApp::CheckAccess, l),
       }) {
    methods_.push_back(std::move(h));
  }
  const char* const a = kAuditService;
  for (MethodHandler h : {
           Unary(a, "SearchAuditEvents", kAuditor, audits,
                 &AuditApp::SearchAuditEvents, l),
           StreamEvents(audits, l),
           ExportEvents(audits, l),
           Unary(a, "GetLatestCheckpoint", kAuditor, audits,
                 &AuditApp::GetLatestCheckpoint, l),
           Unary(a, "GetInclusionProof", kAuditor, audits,
                 &AuditApp::GetInclusionProof, l),
           Unary(a, "GetConsistencyProof", kAuditor, audits,
                 &AuditApp::GetConsistencyProof, l),
           Unary(a, "GetAccessExtract", kAuditor, audits,
                 &AuditApp::GetAccessExtract, l),
       }) {
    methods_.push_back(std::move(h));
  }
  const char* const d = kAdminService;
  for (MethodHandler h : {
           Unary(d, "CreateAgency", kAdministrator, admins,
                 &AdminApp::CreateAgency, l),
           Unary(d, "GetAgency", kAdministrator, admins, &AdminApp::GetAgency,
                 l),
           Unary(d, "ListAgencies", kAdministrator, admins,
                 &AdminApp::ListAgencies, l),
           Unary(d, "DisableAgency", kAdministrator, admins,
                 &AdminApp::DisableAgency, l),
           Unary(d, "RevokeGrant", kAdministrator, admins,
                 &AdminApp::RevokeGrant, l),
           Unary(d, "VoidGrant", kAdministrator, admins, &AdminApp::VoidGrant,
                 l),
           Unary(d, "ExpireGrants", kAdministrator, admins,
                 &AdminApp::ExpireGrants, l),
           Unary(d, "ListExpiringGrants", kAdministrator, admins,
                 &AdminApp::ListExpiringGrants, l),
       }) {
    methods_.push_back(std::move(h));
  }
  // Every method of every service is bound.
  for (const std::string& name : ServiceNames()) {
    const auto* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            name);
    if (service == nullptr) Die("no service " + name);
    for (int i = 0; i < service->method_count(); ++i) {
      if (Find(service->method(i)->full_name()) == nullptr)
        Die("no binding for " + service->method(i)->full_name());
    }
  }
  if (metrics != nullptr) {
    for (MethodHandler& h : methods_) Measure(h, *metrics);
  }
}

const MethodHandler* MethodTable::Find(absl::string_view full_name) const {
  for (const MethodHandler& h : methods_) {
    if (h.descriptor->full_name() == full_name) return &h;
  }
  return nullptr;
}

}  // namespace samplan::app
