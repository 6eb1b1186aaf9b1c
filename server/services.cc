#include "server/services.h"

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "common/status_macros.h"
#include "samplan/v1/admin.pb.h"
#include "samplan/v1/audit.pb.h"
#include "server/auth.h"
#include "server/grpc_status.h"

namespace samplan::server {
namespace {

// The staff member named in the call's metadata ("" if absent).
std::string ActorOf(const grpc::CallbackServerContext& ctx) {
  const auto& md = ctx.client_metadata();
  auto it = md.find(kActorMetadataKey);
  if (it == md.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

// The caller of `ctx`, authenticated and authorized for `need`.
absl::StatusOr<Caller> Authenticate(storage::Store& store,
                                    grpc::CallbackServerContext* ctx,
                                    const Requirement& need) {
  ASSIGN_OR_RETURN(PeerIdentity peer,
                   PeerFromAuthContext(*ctx->auth_context()));
  return Authorize(store, peer, ActorOf(*ctx), need);
}

// Authenticates, then runs the application `method`; its `done` finishes
// the reactor (after the durable commit, on the commit queue's thread).
template <typename App, typename Request, typename Response>
grpc::ServerUnaryReactor* Unary(
    storage::Store& store, grpc::CallbackServerContext* ctx,
    const Requirement& need, App& app,
    void (App::*method)(const Caller&, const Request&, Response*, Done),
    const Request* req, Response* resp) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto caller = Authenticate(store, ctx, need);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  (app.*method)(*caller, *req, resp, [reactor](absl::Status s) {
    reactor->Finish(ToGrpcStatus(s));
  });
  return reactor;
}

constexpr Requirement kAgencySystem{Role::kAgencySystem, false};
constexpr Requirement kAgencySystemOrAdministrator{Role::kAgencySystem, true};
constexpr Requirement kAuditor{Role::kAuditor, false};
constexpr Requirement kAdministrator{Role::kAdministrator, false};

class PlanServiceImpl final : public v1::PlanService::CallbackService {
 public:
  PlanServiceImpl(storage::Store& store, PlanApp& app)
      : store_(store), app_(app) {}
  grpc::ServerUnaryReactor* CreatePlan(grpc::CallbackServerContext* ctx,
                                       const v1::CreatePlanRequest* req,
                                       v1::CreatePlanResponse* resp) override {
    return Unary(store_, ctx, kAgencySystem, app_, &PlanApp::CreatePlan, req,
                 resp);
  }
  grpc::ServerUnaryReactor* GetPlan(grpc::CallbackServerContext* ctx,
                                    const v1::GetPlanRequest* req,
                                    v1::GetPlanResponse* resp) override {
    return Unary(store_, ctx, kAgencySystem, app_, &PlanApp::GetPlan, req,
                 resp);
  }
  grpc::ServerUnaryReactor* ListPlans(grpc::CallbackServerContext* ctx,
                                      const v1::ListPlansRequest* req,
                                      v1::ListPlansResponse* resp) override {
    return Unary(store_, ctx, kAgencySystem, app_, &PlanApp::ListPlans, req,
                 resp);
  }
  grpc::ServerUnaryReactor* SearchPlans(
      grpc::CallbackServerContext* ctx, const v1::SearchPlansRequest* req,
      v1::SearchPlansResponse* resp) override {
    return Unary(store_, ctx, kAgencySystem, app_, &PlanApp::SearchPlans, req,
                 resp);
  }
  grpc::ServerUnaryReactor* UpdatePlan(grpc::CallbackServerContext* ctx,
                                       const v1::UpdatePlanRequest* req,
                                       v1::UpdatePlanResponse* resp) override {
    return Unary(store_, ctx, kAgencySystem, app_, &PlanApp::UpdatePlan, req,
                 resp);
  }
  grpc::ServerUnaryReactor* ApprovePlan(
      grpc::CallbackServerContext* ctx, const v1::ApprovePlanRequest* req,
      v1::ApprovePlanResponse* resp) override {
    return Unary(store_, ctx, kAgencySystem, app_, &PlanApp::ApprovePlan, req,
                 resp);
  }
  grpc::ServerUnaryReactor* ClosePlan(grpc::CallbackServerContext* ctx,
                                      const v1::ClosePlanRequest* req,
                                      v1::ClosePlanResponse* resp) override {
    return Unary(store_, ctx, kAgencySystem, app_, &PlanApp::ClosePlan, req,
                 resp);
  }
  grpc::ServerUnaryReactor* CreateEntry(
      grpc::CallbackServerContext* ctx, const v1::CreateEntryRequest* req,
      v1::CreateEntryResponse* resp) override {
    return Unary(store_, ctx, kAgencySystem, app_, &PlanApp::CreateEntry, req,
                 resp);
  }
  grpc::ServerUnaryReactor* UpdateEntry(
      grpc::CallbackServerContext* ctx, const v1::UpdateEntryRequest* req,
      v1::UpdateEntryResponse* resp) override {
    return Unary(store_, ctx, kAgencySystem, app_, &PlanApp::UpdateEntry, req,
                 resp);
  }
  grpc::ServerUnaryReactor* DeleteEntry(
      grpc::CallbackServerContext* ctx, const v1::DeleteEntryRequest* req,
      v1::DeleteEntryResponse* resp) override {
    return Unary(store_, ctx, kAgencySystem, app_, &PlanApp::DeleteEntry, req,
                 resp);
  }
  grpc::ServerUnaryReactor* AddParticipant(
      grpc::CallbackServerContext* ctx, const v1::AddParticipantRequest* req,
      v1::AddParticipantResponse* resp) override {
    return Unary(store_, ctx, kAgencySystem, app_, &PlanApp::AddParticipant,
                 req, resp);
  }
  grpc::ServerUnaryReactor* RemoveParticipant(
      grpc::CallbackServerContext* ctx, const v1::RemoveParticipantRequest* req,
      v1::RemoveParticipantResponse* resp) override {
    return Unary(store_, ctx, kAgencySystem, app_, &PlanApp::RemoveParticipant,
                 req, resp);
  }
  grpc::ServerUnaryReactor* ListUpcomingReviews(
      grpc::CallbackServerContext* ctx,
      const v1::ListUpcomingReviewsRequest* req,
      v1::ListUpcomingReviewsResponse* resp) override {
    return Unary(store_, ctx, kAgencySystem, app_,
                 &PlanApp::ListUpcomingReviews, req, resp);
  }

 private:
  storage::Store& store_;
  PlanApp& app_;
};

class ConsentServiceImpl final : public v1::ConsentService::CallbackService {
 public:
  ConsentServiceImpl(storage::Store& store, ConsentApp& app)
      : store_(store), app_(app) {}
  grpc::ServerUnaryReactor* CreateCustodyFact(
      grpc::CallbackServerContext* ctx, const v1::CreateCustodyFactRequest* req,
      v1::CreateCustodyFactResponse* resp) override {
    return Unary(store_, ctx, kAgencySystem, app_,
                 &ConsentApp::CreateCustodyFact, req, resp);
  }
  grpc::ServerUnaryReactor* GetCustodyFact(
      grpc::CallbackServerContext* ctx, const v1::GetCustodyFactRequest* req,
      v1::GetCustodyFactResponse* resp) override {
    return Unary(store_, ctx, kAgencySystem, app_, &ConsentApp::GetCustodyFact,
                 req, resp);
  }
  grpc::ServerUnaryReactor* SearchCustodyFacts(
      grpc::CallbackServerContext* ctx,
      const v1::SearchCustodyFactsRequest* req,
      v1::SearchCustodyFactsResponse* resp) override {
    return Unary(store_, ctx, kAgencySystem, app_,
                 &ConsentApp::SearchCustodyFacts, req, resp);
  }
  grpc::ServerUnaryReactor* EndCustodyFact(
      grpc::CallbackServerContext* ctx, const v1::EndCustodyFactRequest* req,
      v1::EndCustodyFactResponse* resp) override {
    return Unary(store_, ctx, kAgencySystem, app_, &ConsentApp::EndCustodyFact,
                 req, resp);
  }
  grpc::ServerUnaryReactor* CreateRepresentation(
      grpc::CallbackServerContext* ctx,
      const v1::CreateRepresentationRequest* req,
      v1::CreateRepresentationResponse* resp) override {
    return Unary(store_, ctx, kAgencySystem, app_,
                 &ConsentApp::CreateRepresentation, req, resp);
  }
  grpc::ServerUnaryReactor* GetRepresentation(
      grpc::CallbackServerContext* ctx, const v1::GetRepresentationRequest* req,
      v1::GetRepresentationResponse* resp) override {
    return Unary(store_, ctx, kAgencySystem, app_,
                 &ConsentApp::GetRepresentation, req, resp);
  }
  grpc::ServerUnaryReactor* SearchRepresentations(
      grpc::CallbackServerContext* ctx,
      const v1::SearchRepresentationsRequest* req,
      v1::SearchRepresentationsResponse* resp) override {
    return Unary(store_, ctx, kAgencySystem, app_,
                 &ConsentApp::SearchRepresentations, req, resp);
  }
  grpc::ServerUnaryReactor* EndRepresentation(
      grpc::CallbackServerContext* ctx, const v1::EndRepresentationRequest* req,
      v1::EndRepresentationResponse* resp) override {
    return Unary(store_, ctx, kAgencySystem, app_,
                 &ConsentApp::EndRepresentation, req, resp);
  }
  grpc::ServerUnaryReactor* CreateGrant(
      grpc::CallbackServerContext* ctx, const v1::CreateGrantRequest* req,
      v1::CreateGrantResponse* resp) override {
    return Unary(store_, ctx, kAgencySystem, app_, &ConsentApp::CreateGrant,
                 req, resp);
  }
  grpc::ServerUnaryReactor* GetGrant(grpc::CallbackServerContext* ctx,
                                     const v1::GetGrantRequest* req,
                                     v1::GetGrantResponse* resp) override {
    return Unary(store_, ctx, kAgencySystemOrAdministrator, app_,
                 &ConsentApp::GetGrant, req, resp);
  }
  grpc::ServerUnaryReactor* ListGrants(grpc::CallbackServerContext* ctx,
                                       const v1::ListGrantsRequest* req,
                                       v1::ListGrantsResponse* resp) override {
    return Unary(store_, ctx, kAgencySystem, app_, &ConsentApp::ListGrants, req,
                 resp);
  }
  grpc::ServerUnaryReactor* SearchGrants(
      grpc::CallbackServerContext* ctx, const v1::SearchGrantsRequest* req,
      v1::SearchGrantsResponse* resp) override {
    return Unary(store_, ctx, kAgencySystemOrAdministrator, app_,
                 &ConsentApp::SearchGrants, req, resp);
  }
  grpc::ServerUnaryReactor* WithdrawGrant(
      grpc::CallbackServerContext* ctx, const v1::WithdrawGrantRequest* req,
      v1::WithdrawGrantResponse* resp) override {
    return Unary(store_, ctx, kAgencySystem, app_, &ConsentApp::WithdrawGrant,
                 req, resp);
  }
  grpc::ServerUnaryReactor* CheckAccess(
      grpc::CallbackServerContext* ctx, const v1::CheckAccessRequest* req,
      v1::CheckAccessResponse* resp) override {
    return Unary(store_, ctx, kAgencySystem, app_, &ConsentApp::CheckAccess,
                 req, resp);
  }

 private:
  storage::Store& store_;
  ConsentApp& app_;
};

// A server stream over an audit cursor. Start() runs on the commit queue's
// thread once the call's own audit record is committed, so it only sends
// the initial metadata; every read and write happens in the reactions, on
// gRPC's threads. `fill` puts the next message into its argument and says
// whether there was one.
template <typename Response>
class AuditStream final : public grpc::ServerWriteReactor<Response> {
 public:
  using Fill =
      std::function<absl::StatusOr<bool>(AuditApp::Cursor&, Response*)>;
  explicit AuditStream(Fill fill) : fill_(std::move(fill)) {}

  void Start(absl::StatusOr<AuditApp::Cursor> cursor) {
    if (!cursor.ok()) return this->Finish(ToGrpcStatus(cursor.status()));
    cursor_ = *std::move(cursor);
    this->StartSendInitialMetadata();
  }
  void OnSendInitialMetadataDone(bool ok) override { Next(ok); }
  void OnWriteDone(bool ok) override { Next(ok); }
  void OnDone() override { delete this; }

 private:
  void Next(bool ok) {
    if (!ok) return this->Finish(grpc::Status::CANCELLED);
    response_.Clear();
    absl::StatusOr<bool> more = fill_(cursor_, &response_);
    if (!more.ok()) return this->Finish(ToGrpcStatus(more.status()));
    if (!*more) return this->Finish(grpc::Status::OK);
    this->StartWrite(&response_);
  }

  Fill fill_;
  AuditApp::Cursor cursor_;
  Response response_;
};

class AuditServiceImpl final : public v1::AuditService::CallbackService {
 public:
  AuditServiceImpl(storage::Store& store, AuditApp& app)
      : store_(store), app_(app) {}
  grpc::ServerUnaryReactor* SearchAuditEvents(
      grpc::CallbackServerContext* ctx, const v1::SearchAuditEventsRequest* req,
      v1::SearchAuditEventsResponse* resp) override {
    return Unary(store_, ctx, kAuditor, app_, &AuditApp::SearchAuditEvents, req,
                 resp);
  }
  grpc::ServerWriteReactor<v1::StreamAuditEventsResponse>* StreamAuditEvents(
      grpc::CallbackServerContext* ctx,
      const v1::StreamAuditEventsRequest* req) override {
    auto* stream = new AuditStream<v1::StreamAuditEventsResponse>(
        [this](AuditApp::Cursor& cursor,
               v1::StreamAuditEventsResponse* out) -> absl::StatusOr<bool> {
          ASSIGN_OR_RETURN(auto events, app_.Next(cursor, 500));
          for (auto& e : events) *out->add_audit_events() = std::move(e);
          return !events.empty();
        });
    auto caller = Authenticate(store_, ctx, kAuditor);
    if (!caller.ok()) {
      stream->Start(caller.status());
      return stream;
    }
    app_.StartStream(*caller, *req, [stream](auto cursor) {
      stream->Start(std::move(cursor));
    });
    return stream;
  }
  grpc::ServerWriteReactor<v1::ExportAuditEventsResponse>* ExportAuditEvents(
      grpc::CallbackServerContext* ctx,
      const v1::ExportAuditEventsRequest* req) override {
    // The checkpoint goes into the first chunk, which is sent even when no
    // event matches.
    auto checkpoint = std::make_shared<v1::Checkpoint>();
    auto* stream = new AuditStream<v1::ExportAuditEventsResponse>(
        [this, checkpoint, first = true](
            AuditApp::Cursor& cursor,
            v1::ExportAuditEventsResponse* out) mutable
        -> absl::StatusOr<bool> {
          ASSIGN_OR_RETURN(auto chunk, app_.NextChunk(cursor));
          if (!chunk.has_value() && !first) return false;
          if (chunk.has_value()) *out = *std::move(chunk);
          if (first) *out->mutable_checkpoint() = *checkpoint;
          first = false;
          return true;
        });
    auto caller = Authenticate(store_, ctx, kAuditor);
    if (!caller.ok()) {
      stream->Start(caller.status());
      return stream;
    }
    app_.StartExport(*caller, *req, checkpoint.get(),
                     [stream, checkpoint](auto cursor) {
                       stream->Start(std::move(cursor));
                     });
    return stream;
  }
  grpc::ServerUnaryReactor* GetLatestCheckpoint(
      grpc::CallbackServerContext* ctx,
      const v1::GetLatestCheckpointRequest* req,
      v1::GetLatestCheckpointResponse* resp) override {
    return Unary(store_, ctx, kAuditor, app_, &AuditApp::GetLatestCheckpoint,
                 req, resp);
  }
  grpc::ServerUnaryReactor* GetInclusionProof(
      grpc::CallbackServerContext* ctx, const v1::GetInclusionProofRequest* req,
      v1::GetInclusionProofResponse* resp) override {
    return Unary(store_, ctx, kAuditor, app_, &AuditApp::GetInclusionProof, req,
                 resp);
  }
  grpc::ServerUnaryReactor* GetConsistencyProof(
      grpc::CallbackServerContext* ctx,
      const v1::GetConsistencyProofRequest* req,
      v1::GetConsistencyProofResponse* resp) override {
    return Unary(store_, ctx, kAuditor, app_, &AuditApp::GetConsistencyProof,
                 req, resp);
  }
  grpc::ServerUnaryReactor* GetAccessExtract(
      grpc::CallbackServerContext* ctx, const v1::GetAccessExtractRequest* req,
      v1::GetAccessExtractResponse* resp) override {
    return Unary(store_, ctx, kAuditor, app_, &AuditApp::GetAccessExtract, req,
                 resp);
  }

 private:
  storage::Store& store_;
  AuditApp& app_;
};

class AdminServiceImpl final : public v1::AdminService::CallbackService {
 public:
  AdminServiceImpl(storage::Store& store, AdminApp& app)
      : store_(store), app_(app) {}
  grpc::ServerUnaryReactor* CreateAgency(
      grpc::CallbackServerContext* ctx, const v1::CreateAgencyRequest* req,
      v1::CreateAgencyResponse* resp) override {
    return Unary(store_, ctx, kAdministrator, app_, &AdminApp::CreateAgency,
                 req, resp);
  }
  grpc::ServerUnaryReactor* GetAgency(grpc::CallbackServerContext* ctx,
                                      const v1::GetAgencyRequest* req,
                                      v1::GetAgencyResponse* resp) override {
    return Unary(store_, ctx, kAdministrator, app_, &AdminApp::GetAgency, req,
                 resp);
  }
  grpc::ServerUnaryReactor* ListAgencies(
      grpc::CallbackServerContext* ctx, const v1::ListAgenciesRequest* req,
      v1::ListAgenciesResponse* resp) override {
    return Unary(store_, ctx, kAdministrator, app_, &AdminApp::ListAgencies,
                 req, resp);
  }
  grpc::ServerUnaryReactor* DisableAgency(
      grpc::CallbackServerContext* ctx, const v1::DisableAgencyRequest* req,
      v1::DisableAgencyResponse* resp) override {
    return Unary(store_, ctx, kAdministrator, app_, &AdminApp::DisableAgency,
                 req, resp);
  }
  grpc::ServerUnaryReactor* RevokeGrant(
      grpc::CallbackServerContext* ctx, const v1::RevokeGrantRequest* req,
      v1::RevokeGrantResponse* resp) override {
    return Unary(store_, ctx, kAdministrator, app_, &AdminApp::RevokeGrant, req,
                 resp);
  }
  grpc::ServerUnaryReactor* VoidGrant(grpc::CallbackServerContext* ctx,
                                      const v1::VoidGrantRequest* req,
                                      v1::VoidGrantResponse* resp) override {
    return Unary(store_, ctx, kAdministrator, app_, &AdminApp::VoidGrant, req,
                 resp);
  }
  grpc::ServerUnaryReactor* ExpireGrants(
      grpc::CallbackServerContext* ctx, const v1::ExpireGrantsRequest* req,
      v1::ExpireGrantsResponse* resp) override {
    return Unary(store_, ctx, kAdministrator, app_, &AdminApp::ExpireGrants,
                 req, resp);
  }
  grpc::ServerUnaryReactor* ListExpiringGrants(
      grpc::CallbackServerContext* ctx,
      const v1::ListExpiringGrantsRequest* req,
      v1::ListExpiringGrantsResponse* resp) override {
    return Unary(store_, ctx, kAdministrator, app_,
                 &AdminApp::ListExpiringGrants, req, resp);
  }

 private:
  storage::Store& store_;
  AdminApp& app_;
};

}  // namespace

std::unique_ptr<v1::PlanService::CallbackService> NewPlanService(
    storage::Store& store, PlanApp& app) {
  return std::make_unique<PlanServiceImpl>(store, app);
}

std::unique_ptr<v1::ConsentService::CallbackService> NewConsentService(
    storage::Store& store, ConsentApp& app) {
  return std::make_unique<ConsentServiceImpl>(store, app);
}

std::unique_ptr<v1::AuditService::CallbackService> NewAuditService(
    storage::Store& store, AuditApp& app) {
  return std::make_unique<AuditServiceImpl>(store, app);
}

std::unique_ptr<v1::AdminService::CallbackService> NewAdminService(
    storage::Store& store, AdminApp& app) {
  return std::make_unique<AdminServiceImpl>(store, app);
}

}  // namespace samplan::server
