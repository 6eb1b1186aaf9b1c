#include "server/services.h"

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "audit/leaf.h"
#include "common/status_macros.h"
#include "samplan/v1/admin.grpc.pb.h"
#include "samplan/v1/audit.grpc.pb.h"
#include "samplan/v1/consent.grpc.pb.h"
#include "samplan/v1/plan.grpc.pb.h"
#include "server/auth.h"
#include "server/grpc_adapter.h"
#include "server/grpc_status.h"

namespace samplan::server {
namespace {

constexpr app::Requirement kAgencySystem{app::Role::kAgencySystem, false};
constexpr app::Requirement kAgencySystemOrAdministrator{
    app::Role::kAgencySystem, true};
constexpr app::Requirement kAuditor{app::Role::kAuditor, false};
constexpr app::Requirement kAdministrator{app::Role::kAdministrator, false};

// A server stream over an audit cursor. Start() runs on the commit queue's
// thread once the call's own audit record is committed, so it only sends
// the initial metadata; every read and write happens in the reactions, on
// gRPC's threads. `fill` puts the next message into its argument and says
// whether there was one. The request stays with the stream for its life.
template <typename Request, typename Response>
class AuditStream final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  using Fill =
      std::function<absl::StatusOr<bool>(app::AuditApp::Cursor&, Response*)>;
  Request* request() { return &request_; }
  // Call before Start() with a cursor.
  void set_fill(Fill fill) { fill_ = std::move(fill); }

  void Start(absl::StatusOr<app::AuditApp::Cursor> cursor) {
    if (!cursor.ok()) return Finish(ToGrpcStatus(cursor.status()));
    cursor_ = *std::move(cursor);
    StartSendInitialMetadata();
  }
  void OnSendInitialMetadataDone(bool ok) override { Next(ok); }
  void OnWriteDone(bool ok) override { Next(ok); }
  void OnDone() override { delete this; }

 private:
  void Next(bool ok) {
    if (!ok) return Finish(grpc::Status::CANCELLED);
    response_.Clear();
    absl::StatusOr<bool> more = fill_(cursor_, &response_);
    if (!more.ok()) return Finish(ToGrpcStatus(more.status()));
    if (!*more) return Finish(grpc::Status::OK);
    buffer_.Clear();
    bool own = false;
    if (!grpc::SerializationTraits<Response>::Serialize(response_, &buffer_,
                                                        &own)
             .ok()) {
      return Finish(ToGrpcStatus(
          absl::InternalError("a stream message could not be serialized")));
    }
    StartWrite(&buffer_);
  }

  Fill fill_;
  Request request_;
  app::AuditApp::Cursor cursor_;
  Response response_;
  grpc::ByteBuffer buffer_;
};

// Binds a server-streaming audit method: authenticate, decode, then
// `start`, which sets the stream's fill and has the stream Start()ed.
template <typename Request, typename Response>
MethodBinding AuditStreamMethod(
    std::string name, Authenticator& auth,
    std::function<void(const app::Caller&, AuditStream<Request, Response>*)>
        start) {
  MethodBinding b;
  b.method = std::move(name);
  b.stream = [&auth, start = std::move(start)](grpc::CallbackServerContext* ctx,
                                               const grpc::ByteBuffer* in)
      -> grpc::ServerWriteReactor<grpc::ByteBuffer>* {
    auto* stream = new AuditStream<Request, Response>();
    absl::StatusOr<app::Caller> caller = Authenticate(auth, ctx, kAuditor);
    if (!caller.ok()) {
      stream->Start(caller.status());
      return stream;
    }
    absl::Status decoded = DecodeByteBuffer(*in, stream->request());
    if (!decoded.ok()) {
      stream->Start(decoded);
      return stream;
    }
    start(*caller, stream);
    return stream;
  };
  return b;
}

}  // namespace

std::unique_ptr<grpc::Service> NewPlanService(Authenticator& auth,
                                              app::PlanApp& app) {
  return std::make_unique<
      RawService<v1::PlanService>>(std::vector<MethodBinding>{
      Unary("CreatePlan", auth, kAgencySystem, app, &app::PlanApp::CreatePlan),
      Unary("GetPlan", auth, kAgencySystem, app, &app::PlanApp::GetPlan),
      Unary("ListPlans", auth, kAgencySystem, app, &app::PlanApp::ListPlans),
      Unary("SearchPlans", auth, kAgencySystem, app,
            &app::PlanApp::SearchPlans),
      Unary("UpdatePlan", auth, kAgencySystem, app, &app::PlanApp::UpdatePlan),
      Unary("ApprovePlan", auth, kAgencySystem, app,
            &app::PlanApp::ApprovePlan),
      Unary("ClosePlan", auth, kAgencySystem, app, &app::PlanApp::ClosePlan),
      Unary("CreateEntry", auth, kAgencySystem, app,
            &app::PlanApp::CreateEntry),
      Unary("UpdateEntry", auth, kAgencySystem, app,
            &app::PlanApp::UpdateEntry),
      Unary("DeleteEntry", auth, kAgencySystem, app,
            &app::PlanApp::DeleteEntry),
      Unary("AddParticipant", auth, kAgencySystem, app,
            &app::PlanApp::AddParticipant),
      Unary("RemoveParticipant", auth, kAgencySystem, app,
            &app::PlanApp::RemoveParticipant),
      Unary("ListUpcomingReviews", auth, kAgencySystem, app,
            &app::PlanApp::ListUpcomingReviews),
  });
}

std::unique_ptr<grpc::Service> NewConsentService(Authenticator& auth,
                                                 app::ConsentApp& app) {
  return std::make_unique<RawService<v1::ConsentService>>(
      std::vector<MethodBinding>{
          Unary("CreateCustodyFact", auth, kAgencySystem, app,
                &app::ConsentApp::CreateCustodyFact),
          Unary("GetCustodyFact", auth, kAgencySystem, app,
                &app::ConsentApp::GetCustodyFact),
          Unary("SearchCustodyFacts", auth, kAgencySystem, app,
                &app::ConsentApp::SearchCustodyFacts),
          Unary("EndCustodyFact", auth, kAgencySystem, app,
                &app::ConsentApp::EndCustodyFact),
          Unary("CreateRepresentation", auth, kAgencySystem, app,
                &app::ConsentApp::CreateRepresentation),
          Unary("GetRepresentation", auth, kAgencySystem, app,
                &app::ConsentApp::GetRepresentation),
          Unary("SearchRepresentations", auth, kAgencySystem, app,
                &app::ConsentApp::SearchRepresentations),
          Unary("EndRepresentation", auth, kAgencySystem, app,
                &app::ConsentApp::EndRepresentation),
          Unary("CreateGrant", auth, kAgencySystem, app,
                &app::ConsentApp::CreateGrant),
          Unary("GetGrant", auth, kAgencySystemOrAdministrator, app,
                &app::ConsentApp::GetGrant),
          Unary("ListGrants", auth, kAgencySystem, app,
                &app::ConsentApp::ListGrants),
          Unary("SearchGrants", auth, kAgencySystemOrAdministrator, app,
                &app::ConsentApp::SearchGrants),
          Unary("WithdrawGrant", auth, kAgencySystem, app,
                &app::ConsentApp::WithdrawGrant),
          Unary("CheckAccess", auth, kAgencySystem, app,
                &app::ConsentApp::CheckAccess),
      });
}

std::unique_ptr<grpc::Service> NewAuditService(Authenticator& auth,
                                               app::AuditApp& app) {
  using Stream =
      AuditStream<v1::StreamAuditEventsRequest, v1::StreamAuditEventsResponse>;
  using Export =
      AuditStream<v1::ExportAuditEventsRequest, v1::ExportAuditEventsResponse>;
  std::vector<MethodBinding> bindings{
      Unary("SearchAuditEvents", auth, kAuditor, app,
            &app::AuditApp::SearchAuditEvents),
      Unary("GetLatestCheckpoint", auth, kAuditor, app,
            &app::AuditApp::GetLatestCheckpoint),
      Unary("GetInclusionProof", auth, kAuditor, app,
            &app::AuditApp::GetInclusionProof),
      Unary("GetConsistencyProof", auth, kAuditor, app,
            &app::AuditApp::GetConsistencyProof),
      Unary("GetAccessExtract", auth, kAuditor, app,
            &app::AuditApp::GetAccessExtract),
  };
  bindings.push_back(AuditStreamMethod<v1::StreamAuditEventsRequest,
                                       v1::StreamAuditEventsResponse>(
      "StreamAuditEvents", auth,
      [&app](const app::Caller& caller, Stream* stream) {
        stream->set_fill(
            [&app](app::AuditApp::Cursor& cursor,
                   v1::StreamAuditEventsResponse* out) -> absl::StatusOr<bool> {
              ASSIGN_OR_RETURN(auto events, app.Next(cursor, 500));
              for (auto& e : events) *out->add_audit_events() = std::move(e);
              return !events.empty();
            });
        app.StartStream(caller, *stream->request(), [stream](auto cursor) {
          stream->Start(std::move(cursor));
        });
      }));
  bindings.push_back(AuditStreamMethod<v1::ExportAuditEventsRequest,
                                       v1::ExportAuditEventsResponse>(
      "ExportAuditEvents", auth,
      [&app](const app::Caller& caller, Export* stream) {
        // The checkpoint goes into the first chunk, which is sent even when
        // no event matches.
        auto checkpoint = std::make_shared<v1::Checkpoint>();
        stream->set_fill([&app, checkpoint, first = true](
                             app::AuditApp::Cursor& cursor,
                             v1::ExportAuditEventsResponse* out) mutable
                         -> absl::StatusOr<bool> {
          ASSIGN_OR_RETURN(auto chunk, app.NextChunk(cursor));
          if (!chunk.has_value() && !first) return false;
          if (chunk.has_value()) *out = *std::move(chunk);
          if (first) {
            *out->mutable_checkpoint() = *checkpoint;
            out->set_export_format(audit::kExportFormat);
          }
          first = false;
          return true;
        });
        app.StartExport(caller, *stream->request(), checkpoint.get(),
                        [stream, checkpoint](auto cursor) {
                          stream->Start(std::move(cursor));
                        });
      }));
  return std::make_unique<RawService<v1::AuditService>>(std::move(bindings));
}

std::unique_ptr<grpc::Service> NewAdminService(Authenticator& auth,
                                               app::AdminApp& app) {
  return std::make_unique<RawService<v1::AdminService>>(
      std::vector<MethodBinding>{
          Unary("CreateAgency", auth, kAdministrator, app,
                &app::AdminApp::CreateAgency),
          Unary("GetAgency", auth, kAdministrator, app,
                &app::AdminApp::GetAgency),
          Unary("ListAgencies", auth, kAdministrator, app,
                &app::AdminApp::ListAgencies),
          Unary("DisableAgency", auth, kAdministrator, app,
                &app::AdminApp::DisableAgency),
          Unary("RevokeGrant", auth, kAdministrator, app,
                &app::AdminApp::RevokeGrant),
          Unary("VoidGrant", auth, kAdministrator, app,
                &app::AdminApp::VoidGrant),
          Unary("ExpireGrants", auth, kAdministrator, app,
                &app::AdminApp::ExpireGrants),
          Unary("ListExpiringGrants", auth, kAdministrator, app,
                &app::AdminApp::ListExpiringGrants),
      });
}

}  // namespace samplan::server
