// The gRPC transport: thin callback services over the application layer.
// Each method authenticates the caller (certificate -> agency registry ->
// role, actor metadata), calls the transport-free application service, and
// finishes the reactor when the application reports (after the durable
// commit, on the commit queue's thread). Nothing here blocks on a commit.

#ifndef SAMPLAN_SERVER_SERVICES_H_
#define SAMPLAN_SERVER_SERVICES_H_

#include <memory>

#include "samplan/v1/admin.grpc.pb.h"
#include "samplan/v1/audit.grpc.pb.h"
#include "samplan/v1/consent.grpc.pb.h"
#include "samplan/v1/plan.grpc.pb.h"
#include "server/admin_app.h"
#include "server/audit_app.h"
#include "server/consent_app.h"
#include "server/plan_app.h"
#include "storage/store.h"

namespace samplan::server {

std::unique_ptr<v1::PlanService::CallbackService> NewPlanService(
    storage::Store& store, PlanApp& app);
std::unique_ptr<v1::ConsentService::CallbackService> NewConsentService(
    storage::Store& store, ConsentApp& app);
std::unique_ptr<v1::AuditService::CallbackService> NewAuditService(
    storage::Store& store, AuditApp& app);
std::unique_ptr<v1::AdminService::CallbackService> NewAdminService(
    storage::Store& store, AdminApp& app);

}  // namespace samplan::server

#endif  // SAMPLAN_SERVER_SERVICES_H_
