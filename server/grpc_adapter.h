// The gRPC side of every method, in one place: each method of a generated
// service is served as a raw callback, so this code decodes the request
// bytes itself. A request that cannot be decoded is answered
// INVALID_ARGUMENT naming the field (gRPC's own typed handlers answer
// UNIMPLEMENTED with an empty message, telling the client the method does
// not exist). Each call's request and response live in one protobuf arena
// owned by the call.
//
// A method is bound by name to a handler; RawService checks at
// construction that every method of the service has one.

#ifndef SAMPLAN_SERVER_GRPC_ADAPTER_H_
#define SAMPLAN_SERVER_GRPC_ADAPTER_H_

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "app/caller.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/impl/codegen/server_callback_handlers.h"
#include "server/auth.h"
#include "server/grpc_status.h"
#include "storage/store.h"

namespace samplan::server {

// Decodes the request bytes of a call into `message` (DecodeRequest).
absl::Status DecodeByteBuffer(const grpc::ByteBuffer& buffer,
                              google::protobuf::Message* message);

// The caller of `ctx`: its verified certificate's agency, checked against
// the registry and `need` (auth.h), and the actor from the call metadata.
absl::StatusOr<app::Caller> Authenticate(Authenticator& auth,
                                         grpc::CallbackServerContext* ctx,
                                         const app::Requirement& need);

using RawUnary = std::function<grpc::ServerUnaryReactor*(
    grpc::CallbackServerContext*, const grpc::ByteBuffer*, grpc::ByteBuffer*)>;
using RawServerStream =
    std::function<grpc::ServerWriteReactor<grpc::ByteBuffer>*(
        grpc::CallbackServerContext*, const grpc::ByteBuffer*)>;

// The handler of one method: exactly one of `unary` and `stream` is set,
// matching the method's kind.
struct MethodBinding {
  std::string method;  // "GetPlan"
  RawUnary unary;
  RawServerStream stream;
};

// One unary call: its arena, request and response. Reply() serializes the
// response (on OK) into the call's output buffer and finishes; the call
// deletes itself when gRPC is done with it.
template <typename Request, typename Response>
class UnaryCall final : public grpc::ServerUnaryReactor {
 public:
  explicit UnaryCall(grpc::ByteBuffer* out)
      : out_(out),
        arena_(ArenaOptions(initial_block_, sizeof(initial_block_))),
        request_(google::protobuf::Arena::CreateMessage<Request>(&arena_)),
        response_(google::protobuf::Arena::CreateMessage<Response>(&arena_)) {}

  Request* request() { return request_; }
  Response* response() { return response_; }

  void Reply(const absl::Status& status) {
    if (!status.ok()) return Finish(ToGrpcStatus(status));
    bool own = false;
    grpc::Status serialized =
        grpc::SerializationTraits<Response>::Serialize(*response_, out_, &own);
    Finish(serialized.ok() ? grpc::Status::OK
                           : ToGrpcStatus(absl::InternalError(
                                 "the response could not be serialized")));
  }

  void OnDone() override { delete this; }

 private:
  static google::protobuf::ArenaOptions ArenaOptions(char* block, size_t size) {
    google::protobuf::ArenaOptions options;
    options.initial_block = block;
    options.initial_block_size = size;
    return options;
  }

  grpc::ByteBuffer* const out_;
  alignas(16) char initial_block_[8192];
  google::protobuf::Arena arena_;
  Request* const request_;
  Response* const response_;
};

// Binds a unary method to `method` of `app`: authenticate for `need`,
// decode, run, reply when the application reports.
template <typename App, typename Request, typename Response, typename Done>
MethodBinding Unary(std::string name, Authenticator& auth,
                    const app::Requirement& need, App& app,
                    void (App::*method)(const app::Caller&, const Request&,
                                        Response*, Done)) {
  MethodBinding b;
  b.method = std::move(name);
  b.unary = [&auth, need, &app, method](
                grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* in,
                grpc::ByteBuffer* out) -> grpc::ServerUnaryReactor* {
    auto* call = new UnaryCall<Request, Response>(out);
    absl::StatusOr<app::Caller> caller = Authenticate(auth, ctx, need);
    if (!caller.ok()) {
      call->Reply(caller.status());
      return call;
    }
    absl::Status decoded = DecodeByteBuffer(*in, call->request());
    if (!decoded.ok()) {
      call->Reply(decoded);
      return call;
    }
    (app.*method)(*caller, *call->request(), call->response(),
                  [call](absl::Status s) { call->Reply(s); });
    return call;
  };
  return b;
}

// The service `Service` (a generated class such as v1::PlanService) with
// every method served by the binding of its name. Aborts at construction
// when a method has no binding of the right kind: a programming error that
// any test starting a server finds.
template <typename Service>
class RawService final : public Service::Service {
 public:
  explicit RawService(std::vector<MethodBinding> bindings)
      : bindings_(std::move(bindings)) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            Service::service_full_name());
    if (service == nullptr) Die("unknown service", "");
    for (int i = 0; i < service->method_count(); ++i) {
      const google::protobuf::MethodDescriptor* m = service->method(i);
      const MethodBinding* b = Find(m->name());
      if (b == nullptr) Die("no binding for", m->name());
      if (m->client_streaming())
        Die("client streaming is not bound:", m->name());
      if (m->server_streaming()) {
        if (!b->stream) Die("not a stream binding:", m->name());
        this->MarkMethodRawCallback(
            i, new grpc::internal::CallbackServerStreamingHandler<
                   grpc::ByteBuffer, grpc::ByteBuffer>(b->stream));
      } else {
        if (!b->unary) Die("not a unary binding:", m->name());
        this->MarkMethodRawCallback(
            i, new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer,
                                                        grpc::ByteBuffer>(
                   b->unary));
      }
    }
  }

 private:
  const MethodBinding* Find(const std::string& method) const {
    for (const MethodBinding& b : bindings_) {
      if (b.method == method) return &b;
    }
    return nullptr;
  }
  [[noreturn]] static void Die(const char* what, const std::string& method) {
    std::fprintf(stderr, "samplan: %s %s %s\n", Service::service_full_name(),
                 what, method.c_str());
    std::abort();
  }

  const std::vector<MethodBinding> bindings_;
};

}  // namespace samplan::server

#endif  // SAMPLAN_SERVER_GRPC_ADAPTER_H_
