#include "server/services.h"

#include <string>
#include <utility>

#include "absl/strings/string_view.h"
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

// Authenticates, then runs `call` with a `done` that finishes the reactor.
template <typename Call>
grpc::ServerUnaryReactor* Handle(storage::Store& store,
                                 grpc::CallbackServerContext* ctx,
                                 const Requirement& need, Call&& call) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto peer = PeerFromAuthContext(*ctx->auth_context());
  if (!peer.ok()) {
    reactor->Finish(ToGrpcStatus(peer.status()));
    return reactor;
  }
  auto caller = Authorize(store, *peer, ActorOf(*ctx), need);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  call(*caller,
       [reactor](absl::Status s) { reactor->Finish(ToGrpcStatus(s)); });
  return reactor;
}

class PlanServiceImpl final : public v1::PlanService::CallbackService {
 public:
  PlanServiceImpl(storage::Store& store, PlanApp& app)
      : store_(store), app_(app) {}
  grpc::ServerUnaryReactor* CreatePlan(grpc::CallbackServerContext* ctx,
                                       const v1::CreatePlanRequest* req,
                                       v1::CreatePlanResponse* resp) override {
    return Handle(store_, ctx, Requirement{Role::kAgencySystem, false},
                  [this, req, resp](const Caller& c, Done done) {
                    app_.CreatePlan(c, *req, resp, std::move(done));
                  });
  }
  grpc::ServerUnaryReactor* GetPlan(grpc::CallbackServerContext* ctx,
                                    const v1::GetPlanRequest* req,
                                    v1::GetPlanResponse* resp) override {
    return Handle(store_, ctx, Requirement{Role::kAgencySystem, false},
                  [this, req, resp](const Caller& c, Done done) {
                    app_.GetPlan(c, *req, resp, std::move(done));
                  });
  }
  grpc::ServerUnaryReactor* ListPlans(grpc::CallbackServerContext* ctx,
                                      const v1::ListPlansRequest* req,
                                      v1::ListPlansResponse* resp) override {
    return Handle(store_, ctx, Requirement{Role::kAgencySystem, false},
                  [this, req, resp](const Caller& c, Done done) {
                    app_.ListPlans(c, *req, resp, std::move(done));
                  });
  }
  grpc::ServerUnaryReactor* SearchPlans(
      grpc::CallbackServerContext* ctx, const v1::SearchPlansRequest* req,
      v1::SearchPlansResponse* resp) override {
    return Handle(store_, ctx, Requirement{Role::kAgencySystem, false},
                  [this, req, resp](const Caller& c, Done done) {
                    app_.SearchPlans(c, *req, resp, std::move(done));
                  });
  }
  grpc::ServerUnaryReactor* UpdatePlan(grpc::CallbackServerContext* ctx,
                                       const v1::UpdatePlanRequest* req,
                                       v1::UpdatePlanResponse* resp) override {
    return Handle(store_, ctx, Requirement{Role::kAgencySystem, false},
                  [this, req, resp](const Caller& c, Done done) {
                    app_.UpdatePlan(c, *req, resp, std::move(done));
                  });
  }
  grpc::ServerUnaryReactor* ApprovePlan(
      grpc::CallbackServerContext* ctx, const v1::ApprovePlanRequest* req,
      v1::ApprovePlanResponse* resp) override {
    return Handle(store_, ctx, Requirement{Role::kAgencySystem, false},
                  [this, req, resp](const Caller& c, Done done) {
                    app_.ApprovePlan(c, *req, resp, std::move(done));
                  });
  }
  grpc::ServerUnaryReactor* ClosePlan(grpc::CallbackServerContext* ctx,
                                      const v1::ClosePlanRequest* req,
                                      v1::ClosePlanResponse* resp) override {
    return Handle(store_, ctx, Requirement{Role::kAgencySystem, false},
                  [this, req, resp](const Caller& c, Done done) {
                    app_.ClosePlan(c, *req, resp, std::move(done));
                  });
  }
  grpc::ServerUnaryReactor* CreateEntry(
      grpc::CallbackServerContext* ctx, const v1::CreateEntryRequest* req,
      v1::CreateEntryResponse* resp) override {
    return Handle(store_, ctx, Requirement{Role::kAgencySystem, false},
                  [this, req, resp](const Caller& c, Done done) {
                    app_.CreateEntry(c, *req, resp, std::move(done));
                  });
  }
  grpc::ServerUnaryReactor* UpdateEntry(
      grpc::CallbackServerContext* ctx, const v1::UpdateEntryRequest* req,
      v1::UpdateEntryResponse* resp) override {
    return Handle(store_, ctx, Requirement{Role::kAgencySystem, false},
                  [this, req, resp](const Caller& c, Done done) {
                    app_.UpdateEntry(c, *req, resp, std::move(done));
                  });
  }
  grpc::ServerUnaryReactor* DeleteEntry(
      grpc::CallbackServerContext* ctx, const v1::DeleteEntryRequest* req,
      v1::DeleteEntryResponse* resp) override {
    return Handle(store_, ctx, Requirement{Role::kAgencySystem, false},
                  [this, req, resp](const Caller& c, Done done) {
                    app_.DeleteEntry(c, *req, resp, std::move(done));
                  });
  }
  grpc::ServerUnaryReactor* AddParticipant(
      grpc::CallbackServerContext* ctx, const v1::AddParticipantRequest* req,
      v1::AddParticipantResponse* resp) override {
    return Handle(store_, ctx, Requirement{Role::kAgencySystem, false},
                  [this, req, resp](const Caller& c, Done done) {
                    app_.AddParticipant(c, *req, resp, std::move(done));
                  });
  }
  grpc::ServerUnaryReactor* RemoveParticipant(
      grpc::CallbackServerContext* ctx, const v1::RemoveParticipantRequest* req,
      v1::RemoveParticipantResponse* resp) override {
    return Handle(store_, ctx, Requirement{Role::kAgencySystem, false},
                  [this, req, resp](const Caller& c, Done done) {
                    app_.RemoveParticipant(c, *req, resp, std::move(done));
                  });
  }
  grpc::ServerUnaryReactor* ListUpcomingReviews(
      grpc::CallbackServerContext* ctx,
      const v1::ListUpcomingReviewsRequest* req,
      v1::ListUpcomingReviewsResponse* resp) override {
    return Handle(store_, ctx, Requirement{Role::kAgencySystem, false},
                  [this, req, resp](const Caller& c, Done done) {
                    app_.ListUpcomingReviews(c, *req, resp, std::move(done));
                  });
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
    return Handle(store_, ctx, Requirement{Role::kAgencySystem, false},
                  [this, req, resp](const Caller& c, Done done) {
                    app_.CreateCustodyFact(c, *req, resp, std::move(done));
                  });
  }
  grpc::ServerUnaryReactor* GetCustodyFact(
      grpc::CallbackServerContext* ctx, const v1::GetCustodyFactRequest* req,
      v1::GetCustodyFactResponse* resp) override {
    return Handle(store_, ctx, Requirement{Role::kAgencySystem, false},
                  [this, req, resp](const Caller& c, Done done) {
                    app_.GetCustodyFact(c, *req, resp, std::move(done));
                  });
  }
  grpc::ServerUnaryReactor* SearchCustodyFacts(
      grpc::CallbackServerContext* ctx,
      const v1::SearchCustodyFactsRequest* req,
      v1::SearchCustodyFactsResponse* resp) override {
    return Handle(store_, ctx, Requirement{Role::kAgencySystem, false},
                  [this, req, resp](const Caller& c, Done done) {
                    app_.SearchCustodyFacts(c, *req, resp, std::move(done));
                  });
  }
  grpc::ServerUnaryReactor* EndCustodyFact(
      grpc::CallbackServerContext* ctx, const v1::EndCustodyFactRequest* req,
      v1::EndCustodyFactResponse* resp) override {
    return Handle(store_, ctx, Requirement{Role::kAgencySystem, false},
                  [this, req, resp](const Caller& c, Done done) {
                    app_.EndCustodyFact(c, *req, resp, std::move(done));
                  });
  }
  grpc::ServerUnaryReactor* CreateRepresentation(
      grpc::CallbackServerContext* ctx,
      const v1::CreateRepresentationRequest* req,
      v1::CreateRepresentationResponse* resp) override {
    return Handle(store_, ctx, Requirement{Role::kAgencySystem, false},
                  [this, req, resp](const Caller& c, Done done) {
                    app_.CreateRepresentation(c, *req, resp, std::move(done));
                  });
  }
  grpc::ServerUnaryReactor* GetRepresentation(
      grpc::CallbackServerContext* ctx, const v1::GetRepresentationRequest* req,
      v1::GetRepresentationResponse* resp) override {
    return Handle(store_, ctx, Requirement{Role::kAgencySystem, false},
                  [this, req, resp](const Caller& c, Done done) {
                    app_.GetRepresentation(c, *req, resp, std::move(done));
                  });
  }
  grpc::ServerUnaryReactor* SearchRepresentations(
      grpc::CallbackServerContext* ctx,
      const v1::SearchRepresentationsRequest* req,
      v1::SearchRepresentationsResponse* resp) override {
    return Handle(store_, ctx, Requirement{Role::kAgencySystem, false},
                  [this, req, resp](const Caller& c, Done done) {
                    app_.SearchRepresentations(c, *req, resp, std::move(done));
                  });
  }
  grpc::ServerUnaryReactor* EndRepresentation(
      grpc::CallbackServerContext* ctx, const v1::EndRepresentationRequest* req,
      v1::EndRepresentationResponse* resp) override {
    return Handle(store_, ctx, Requirement{Role::kAgencySystem, false},
                  [this, req, resp](const Caller& c, Done done) {
                    app_.EndRepresentation(c, *req, resp, std::move(done));
                  });
  }
  grpc::ServerUnaryReactor* CreateGrant(
      grpc::CallbackServerContext* ctx, const v1::CreateGrantRequest* req,
      v1::CreateGrantResponse* resp) override {
    return Handle(store_, ctx, Requirement{Role::kAgencySystem, false},
                  [this, req, resp](const Caller& c, Done done) {
                    app_.CreateGrant(c, *req, resp, std::move(done));
                  });
  }
  grpc::ServerUnaryReactor* GetGrant(grpc::CallbackServerContext* ctx,
                                     const v1::GetGrantRequest* req,
                                     v1::GetGrantResponse* resp) override {
    return Handle(store_, ctx, Requirement{Role::kAgencySystem, true},
                  [this, req, resp](const Caller& c, Done done) {
                    app_.GetGrant(c, *req, resp, std::move(done));
                  });
  }
  grpc::ServerUnaryReactor* ListGrants(grpc::CallbackServerContext* ctx,
                                       const v1::ListGrantsRequest* req,
                                       v1::ListGrantsResponse* resp) override {
    return Handle(store_, ctx, Requirement{Role::kAgencySystem, false},
                  [this, req, resp](const Caller& c, Done done) {
                    app_.ListGrants(c, *req, resp, std::move(done));
                  });
  }
  grpc::ServerUnaryReactor* SearchGrants(
      grpc::CallbackServerContext* ctx, const v1::SearchGrantsRequest* req,
      v1::SearchGrantsResponse* resp) override {
    return Handle(store_, ctx, Requirement{Role::kAgencySystem, true},
                  [this, req, resp](const Caller& c, Done done) {
                    app_.SearchGrants(c, *req, resp, std::move(done));
                  });
  }
  grpc::ServerUnaryReactor* WithdrawGrant(
      grpc::CallbackServerContext* ctx, const v1::WithdrawGrantRequest* req,
      v1::WithdrawGrantResponse* resp) override {
    return Handle(store_, ctx, Requirement{Role::kAgencySystem, false},
                  [this, req, resp](const Caller& c, Done done) {
                    app_.WithdrawGrant(c, *req, resp, std::move(done));
                  });
  }
  grpc::ServerUnaryReactor* CheckAccess(
      grpc::CallbackServerContext* ctx, const v1::CheckAccessRequest* req,
      v1::CheckAccessResponse* resp) override {
    return Handle(store_, ctx, Requirement{Role::kAgencySystem, false},
                  [this, req, resp](const Caller& c, Done done) {
                    app_.CheckAccess(c, *req, resp, std::move(done));
                  });
  }

 private:
  storage::Store& store_;
  ConsentApp& app_;
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

}  // namespace samplan::server
