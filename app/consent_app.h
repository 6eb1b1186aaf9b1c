// ConsentService's behaviour, free of any transport: custody facts,
// representations, grants of consent, withdrawals, and access checks that
// explain a decision without reading any data.
//
// Same conventions as PlanApp: transaction functions (ConsentMethods) run by
// the Runner (method.h): validated on the calling thread (INVALID_ARGUMENT
// naming the field, nothing stored), decided on a read snapshot, committed
// by the commit queue, `done` after the durable commit; every change and
// every read of consent data audited. Thread-safe.

#ifndef SAMPLAN_APP_CONSENT_APP_H_
#define SAMPLAN_APP_CONSENT_APP_H_

#include "app/app_support.h"
#include "app/caller.h"
#include "app/method.h"

namespace samplan::v1 {
class CheckAccessRequest;
class CheckAccessResponse;
class CreateCustodyFactRequest;
class CreateCustodyFactResponse;
class CreateGrantRequest;
class CreateGrantResponse;
class CreateRepresentationRequest;
class CreateRepresentationResponse;
class EndCustodyFactRequest;
class EndCustodyFactResponse;
class EndRepresentationRequest;
class EndRepresentationResponse;
class GetCustodyFactRequest;
class GetCustodyFactResponse;
class GetGrantRequest;
class GetGrantResponse;
class GetGrantReceiptRequest;
class GetGrantReceiptResponse;
class RenderGrantReceiptRequest;
class RenderGrantReceiptResponse;
class GetRepresentationRequest;
class GetRepresentationResponse;
class ListGrantsRequest;
class ListGrantsResponse;
class SearchCustodyFactsRequest;
class SearchCustodyFactsResponse;
class SearchGrantsRequest;
class SearchGrantsResponse;
class SearchRepresentationsRequest;
class SearchRepresentationsResponse;
class WithdrawGrantRequest;
class WithdrawGrantResponse;
}  // namespace samplan::v1

namespace samplan::app {

// ConsentService's transaction functions (method.h): for the runner, and
// for tests and tools that call them on a transaction of their own.
struct ConsentMethods {
  static const MethodSpec<v1::CreateCustodyFactRequest,
                          v1::CreateCustodyFactResponse>
      kCreateCustodyFact;
  static const MethodSpec<v1::GetCustodyFactRequest, v1::GetCustodyFactResponse>
      kGetCustodyFact;
  static const MethodSpec<v1::SearchCustodyFactsRequest,
                          v1::SearchCustodyFactsResponse>
      kSearchCustodyFacts;
  static const MethodSpec<v1::EndCustodyFactRequest, v1::EndCustodyFactResponse>
      kEndCustodyFact;
  static const MethodSpec<v1::CreateRepresentationRequest,
                          v1::CreateRepresentationResponse>
      kCreateRepresentation;
  static const MethodSpec<v1::GetRepresentationRequest,
                          v1::GetRepresentationResponse>
      kGetRepresentation;
  static const MethodSpec<v1::SearchRepresentationsRequest,
                          v1::SearchRepresentationsResponse>
      kSearchRepresentations;
  static const MethodSpec<v1::EndRepresentationRequest,
                          v1::EndRepresentationResponse>
      kEndRepresentation;
  static const MethodSpec<v1::CreateGrantRequest, v1::CreateGrantResponse>
      kCreateGrant;
  static const MethodSpec<v1::GetGrantRequest, v1::GetGrantResponse> kGetGrant;
  static const MethodSpec<v1::GetGrantReceiptRequest,
                          v1::GetGrantReceiptResponse>
      kGetGrantReceipt;
  static const MethodSpec<v1::RenderGrantReceiptRequest,
                          v1::RenderGrantReceiptResponse>
      kRenderGrantReceipt;
  static const MethodSpec<v1::ListGrantsRequest, v1::ListGrantsResponse>
      kListGrants;
  static const MethodSpec<v1::SearchGrantsRequest, v1::SearchGrantsResponse>
      kSearchGrants;
  static const MethodSpec<v1::WithdrawGrantRequest, v1::WithdrawGrantResponse>
      kWithdrawGrant;
  static const MethodSpec<v1::CheckAccessRequest, v1::CheckAccessResponse>
      kCheckAccess;
};

class ConsentApp {
 public:
  explicit ConsentApp(const AppContext& ctx) : ctx_(ctx), runner_(ctx_) {}

  void CreateCustodyFact(const Caller& caller,
                         const v1::CreateCustodyFactRequest& req,
                         v1::CreateCustodyFactResponse* resp, Done done);
  void GetCustodyFact(const Caller& caller,
                      const v1::GetCustodyFactRequest& req,
                      v1::GetCustodyFactResponse* resp, Done done);
  void SearchCustodyFacts(const Caller& caller,
                          const v1::SearchCustodyFactsRequest& req,
                          v1::SearchCustodyFactsResponse* resp, Done done);
  void EndCustodyFact(const Caller& caller,
                      const v1::EndCustodyFactRequest& req,
                      v1::EndCustodyFactResponse* resp, Done done);
  void CreateRepresentation(const Caller& caller,
                            const v1::CreateRepresentationRequest& req,
                            v1::CreateRepresentationResponse* resp, Done done);
  void GetRepresentation(const Caller& caller,
                         const v1::GetRepresentationRequest& req,
                         v1::GetRepresentationResponse* resp, Done done);
  void SearchRepresentations(const Caller& caller,
                             const v1::SearchRepresentationsRequest& req,
                             v1::SearchRepresentationsResponse* resp,
                             Done done);
  void EndRepresentation(const Caller& caller,
                         const v1::EndRepresentationRequest& req,
                         v1::EndRepresentationResponse* resp, Done done);
  // Checks the grant with consent::ValidateNewGrant against the custody
  // facts and representations on file, then stores it.
  void CreateGrant(const Caller& caller, const v1::CreateGrantRequest& req,
                   v1::CreateGrantResponse* resp, Done done);
  void GetGrant(const Caller& caller, const v1::GetGrantRequest& req,
                v1::GetGrantResponse* resp, Done done);
  // The family's signed receipt of a grant's event (audit/receipt.h),
  // proved in a checkpoint signed after this call's own record.
  void GetGrantReceipt(const Caller& caller,
                       const v1::GetGrantReceiptRequest& req,
                       v1::GetGrantReceiptResponse* resp, Done done);
  void RenderGrantReceipt(const Caller& caller,
                          const v1::RenderGrantReceiptRequest& req,
                          v1::RenderGrantReceiptResponse* resp, Done done);
  void ListGrants(const Caller& caller, const v1::ListGrantsRequest& req,
                  v1::ListGrantsResponse* resp, Done done);
  void SearchGrants(const Caller& caller, const v1::SearchGrantsRequest& req,
                    v1::SearchGrantsResponse* resp, Done done);
  // The grantor, another guardian with custody, or the subject (from the
  // consent age) withdraws; effective for every decision after the commit.
  void WithdrawGrant(const Caller& caller, const v1::WithdrawGrantRequest& req,
                     v1::WithdrawGrantResponse* resp, Done done);
  void CheckAccess(const Caller& caller, const v1::CheckAccessRequest& req,
                   v1::CheckAccessResponse* resp, Done done);

 private:
  const AppContext ctx_;
  const Runner runner_;
};

}  // namespace samplan::app

#endif  // SAMPLAN_APP_CONSENT_APP_H_
