// PlanService's behaviour, free of any transport: plans, their revisions,
// entries, participants and approvals, with every read decided entry by
// entry by the consent engine and every decision and change audited in the
// same transaction.
//
// Each method is a pair of transaction functions (PlanMethods, see
// method.h) run by the Runner: validated on the calling thread
// (INVALID_ARGUMENT naming the field, nothing stored), decided on a read
// snapshot beside the writer, committed by the commit queue; `done` runs
// after the durable commit (or at once when there is nothing to commit),
// with OK (and `response` filled) or the error. `response` must stay valid
// until `done` runs. Callers must be agency systems (the transport checks
// the role before calling).
//
// Visibility: a plan exists for a caller only if the caller's agency is the
// lead agency or a participant that has not been removed, and a DRAFT plan
// only for its lead agency. Anyone else gets NOT_FOUND, the same answer as
// for a plan that does not exist; the audit log records the real reason.
//
// Thread-safe.

#ifndef SAMPLAN_APP_PLAN_APP_H_
#define SAMPLAN_APP_PLAN_APP_H_

#include "app/app_support.h"
#include "app/caller.h"
#include "app/method.h"

namespace samplan::v1 {
class AddParticipantRequest;
class AddParticipantResponse;
class ApprovePlanRequest;
class ApprovePlanResponse;
class ClosePlanRequest;
class ClosePlanResponse;
class CreateEntryRequest;
class CreateEntryResponse;
class CreatePlanRequest;
class CreatePlanResponse;
class DeleteEntryRequest;
class DeleteEntryResponse;
class GetPlanRequest;
class GetPlanResponse;
class ListPlansRequest;
class ListPlansResponse;
class ListUpcomingReviewsRequest;
class ListUpcomingReviewsResponse;
class RemoveParticipantRequest;
class RemoveParticipantResponse;
class RenderPlanRequest;
class RenderPlanResponse;
class SearchPlansRequest;
class SearchPlansResponse;
class UpdateEntryRequest;
class UpdateEntryResponse;
class UpdatePlanRequest;
class UpdatePlanResponse;
}  // namespace samplan::v1

namespace samplan::app {

// PlanService's transaction functions (method.h): for the runner, and for
// tests and tools that call them on a transaction of their own.
struct PlanMethods {
  static const MethodSpec<v1::CreatePlanRequest, v1::CreatePlanResponse>
      kCreatePlan;
  static const MethodSpec<v1::GetPlanRequest, v1::GetPlanResponse> kGetPlan;
  static const MethodSpec<v1::RenderPlanRequest, v1::RenderPlanResponse>
      kRenderPlan;
  static const MethodSpec<v1::ListPlansRequest, v1::ListPlansResponse>
      kListPlans;
  static const MethodSpec<v1::SearchPlansRequest, v1::SearchPlansResponse>
      kSearchPlans;
  static const MethodSpec<v1::UpdatePlanRequest, v1::UpdatePlanResponse>
      kUpdatePlan;
  static const MethodSpec<v1::ApprovePlanRequest, v1::ApprovePlanResponse>
      kApprovePlan;
  static const MethodSpec<v1::ClosePlanRequest, v1::ClosePlanResponse>
      kClosePlan;
  static const MethodSpec<v1::CreateEntryRequest, v1::CreateEntryResponse>
      kCreateEntry;
  static const MethodSpec<v1::UpdateEntryRequest, v1::UpdateEntryResponse>
      kUpdateEntry;
  static const MethodSpec<v1::DeleteEntryRequest, v1::DeleteEntryResponse>
      kDeleteEntry;
  static const MethodSpec<v1::AddParticipantRequest, v1::AddParticipantResponse>
      kAddParticipant;
  static const MethodSpec<v1::RemoveParticipantRequest,
                          v1::RemoveParticipantResponse>
      kRemoveParticipant;
  static const MethodSpec<v1::ListUpcomingReviewsRequest,
                          v1::ListUpcomingReviewsResponse>
      kListUpcomingReviews;
};

class PlanApp {
 public:
  explicit PlanApp(const AppContext& ctx) : ctx_(ctx), runner_(ctx_) {}

  // The caller becomes the lead agency; the plan starts as DRAFT, revision 1.
  void CreatePlan(const Caller& caller, const v1::CreatePlanRequest& req,
                  v1::CreatePlanResponse* resp, Done done);
  // The plan as of its effective revision (default) or its latest; entries
  // the caller may not see come back only as {owner, category, reason}.
  void GetPlan(const Caller& caller, const v1::GetPlanRequest& req,
               v1::GetPlanResponse* resp, Done done);
  // The family's copy (render/plan_document.h): the plan read as GetPlan
  // reads it, in plain words, as one HTML page.
  void RenderPlan(const Caller& caller, const v1::RenderPlanRequest& req,
                  v1::RenderPlanResponse* resp, Done done);
  void ListPlans(const Caller& caller, const v1::ListPlansRequest& req,
                 v1::ListPlansResponse* resp, Done done);
  void SearchPlans(const Caller& caller, const v1::SearchPlansRequest& req,
                   v1::SearchPlansResponse* resp, Done done);
  // Lead agency only: coordinator and review dates, as a new revision.
  void UpdatePlan(const Caller& caller, const v1::UpdatePlanRequest& req,
                  v1::UpdatePlanResponse* resp, Done done);
  // Lead agency only: records the approvals of a revision and makes it
  // effective when the approvers are competent and complete.
  void ApprovePlan(const Caller& caller, const v1::ApprovePlanRequest& req,
                   v1::ApprovePlanResponse* resp, Done done);
  // Lead agency only: the person ends the plan.
  void ClosePlan(const Caller& caller, const v1::ClosePlanRequest& req,
                 v1::ClosePlanResponse* resp, Done done);
  // Any participant writes its own agency's entries, each change a new
  // revision.
  void CreateEntry(const Caller& caller, const v1::CreateEntryRequest& req,
                   v1::CreateEntryResponse* resp, Done done);
  void UpdateEntry(const Caller& caller, const v1::UpdateEntryRequest& req,
                   v1::UpdateEntryResponse* resp, Done done);
  void DeleteEntry(const Caller& caller, const v1::DeleteEntryRequest& req,
                   v1::DeleteEntryResponse* resp, Done done);
  // Lead agency only.
  void AddParticipant(const Caller& caller,
                      const v1::AddParticipantRequest& req,
                      v1::AddParticipantResponse* resp, Done done);
  void RemoveParticipant(const Caller& caller,
                         const v1::RemoveParticipantRequest& req,
                         v1::RemoveParticipantResponse* resp, Done done);
  void ListUpcomingReviews(const Caller& caller,
                           const v1::ListUpcomingReviewsRequest& req,
                           v1::ListUpcomingReviewsResponse* resp, Done done);

 private:
  const AppContext ctx_;
  const Runner runner_;
};

}  // namespace samplan::app

#endif  // SAMPLAN_APP_PLAN_APP_H_
