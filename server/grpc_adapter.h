// The gRPC side of every method, in one place: each method of a generated
// service is served as a raw callback over its handler in the method table
// (app/method_table.h), so this code decodes the request bytes itself. A
// request that cannot be decoded is answered INVALID_ARGUMENT naming the
// field (gRPC's own typed handlers answer UNIMPLEMENTED with an empty
// message, telling the client the method does not exist). Each unary
// call's request and response live in one protobuf arena owned by the call.

#ifndef SAMPLAN_SERVER_GRPC_ADAPTER_H_
#define SAMPLAN_SERVER_GRPC_ADAPTER_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "app/caller.h"
#include "app/method_table.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/impl/codegen/service_type.h"
#include "server/auth.h"

namespace samplan::server {

// Decodes the request bytes of a call into `message` (DecodeRequest).
absl::Status DecodeByteBuffer(const grpc::ByteBuffer& buffer,
                              google::protobuf::Message* message);

// The caller of `ctx`: its verified certificate's agency, checked against
// the registry and `need` (auth.h), and the actor from the call metadata.
absl::StatusOr<app::Caller> Authenticate(Authenticator& auth,
                                         grpc::CallbackServerContext* ctx,
                                         const app::Requirement& need);

// The generated service `service_full_name` ("samplan.v1.PlanService")
// with every method served by its handler in `table`, which must outlive
// the service and bind every method (MethodTable checks that).
std::unique_ptr<grpc::Service> NewRawService(const char* service_full_name,
                                             const app::MethodTable& table,
                                             Authenticator& auth);

}  // namespace samplan::server

#endif  // SAMPLAN_SERVER_GRPC_ADAPTER_H_
