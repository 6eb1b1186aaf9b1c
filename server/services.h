// The gRPC transport: thin raw-callback services over the application
// layer (grpc_adapter.h). Each method authenticates the caller (certificate
// -> agency registry -> role, actor metadata), decodes the request, calls
// the transport-free application service, and finishes the reactor when the
// application reports (after the durable commit, on the commit queue's
// thread). Nothing here blocks on a commit.

#ifndef SAMPLAN_SERVER_SERVICES_H_
#define SAMPLAN_SERVER_SERVICES_H_

#include <memory>

#include "app/admin_app.h"
#include "app/audit_app.h"
#include "app/consent_app.h"
#include "app/plan_app.h"
#include "grpcpp/impl/codegen/service_type.h"
#include "server/auth.h"

namespace samplan::server {

std::unique_ptr<grpc::Service> NewPlanService(Authenticator& auth,
                                              app::PlanApp& app);
std::unique_ptr<grpc::Service> NewConsentService(Authenticator& auth,
                                                 app::ConsentApp& app);
std::unique_ptr<grpc::Service> NewAuditService(Authenticator& auth,
                                               app::AuditApp& app);
std::unique_ptr<grpc::Service> NewAdminService(Authenticator& auth,
                                               app::AdminApp& app);

}  // namespace samplan::server

#endif  // SAMPLAN_SERVER_SERVICES_H_
