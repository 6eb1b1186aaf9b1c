#include "server/grpc_adapter.h"

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "app/request_decode.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "grpcpp/impl/codegen/server_callback_handlers.h"
#include "server/grpc_status.h"

namespace samplan::server {
namespace {

using google::protobuf::Message;

// The staff member named in the call's metadata ("" if absent).
std::string ActorOf(const grpc::CallbackServerContext& ctx) {
  const auto& md = ctx.client_metadata();
  auto it = md.find(app::kActorMetadataKey);
  if (it == md.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

const Message* Prototype(const google::protobuf::Descriptor* type) {
  return google::protobuf::MessageFactory::generated_factory()->GetPrototype(
      type);
}

grpc::Status Serialize(const Message& message, grpc::ByteBuffer* out) {
  bool own = false;
  return grpc::SerializationTraits<Message>::Serialize(message, out, &own);
}

// One unary call: its arena, request and response. Reply() serializes the
// response (on OK) into the call's output buffer and finishes; the call
// deletes itself when gRPC is done with it.
class UnaryCall final : public grpc::ServerUnaryReactor {
 public:
  UnaryCall(const Message& request, const Message& response,
            grpc::ByteBuffer* out)
      : out_(out),
        arena_(ArenaOptions(initial_block_, sizeof(initial_block_))),
        request_(request.New(&arena_)),
        response_(response.New(&arena_)) {}

  Message* request() { return request_; }
  Message* response() { return response_; }

  void Reply(const absl::Status& status) {
    if (!status.ok()) return Finish(ToGrpcStatus(status));
    Finish(Serialize(*response_, out_).ok()
               ? grpc::Status::OK
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
  Message* const request_;
  Message* const response_;
};

// A server stream over a MessageSource. Start() runs on the commit queue's
// thread once the call's own audit record is committed, so it only sends
// the initial metadata; every read and write happens in the reactions, on
// gRPC's threads.
class StreamCall final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  StreamCall(const Message& request, const Message& response)
      : request_(request.New()), response_(response.New()) {}

  Message* request() { return request_.get(); }

  void Start(absl::StatusOr<std::unique_ptr<app::MessageSource>> source) {
    if (!source.ok()) return Finish(ToGrpcStatus(source.status()));
    source_ = *std::move(source);
    StartSendInitialMetadata();
  }
  void OnSendInitialMetadataDone(bool ok) override { Next(ok); }
  void OnWriteDone(bool ok) override { Next(ok); }
  void OnDone() override { delete this; }

 private:
  void Next(bool ok) {
    if (!ok) return Finish(grpc::Status::CANCELLED);
    response_->Clear();
    absl::StatusOr<bool> more = source_->Next(response_.get());
    if (!more.ok()) return Finish(ToGrpcStatus(more.status()));
    if (!*more) return Finish(grpc::Status::OK);
    buffer_.Clear();
    if (!Serialize(*response_, &buffer_).ok()) {
      return Finish(ToGrpcStatus(
          absl::InternalError("a stream message could not be serialized")));
    }
    StartWrite(&buffer_);
  }

  std::unique_ptr<Message> request_;
  std::unique_ptr<Message> response_;
  std::unique_ptr<app::MessageSource> source_;
  grpc::ByteBuffer buffer_;
};

grpc::internal::MethodHandler* UnaryHandler(const app::MethodHandler& h,
                                            Authenticator& auth) {
  const Message* in = Prototype(h.descriptor->input_type());
  const Message* out = Prototype(h.descriptor->output_type());
  return new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer,
                                                  grpc::ByteBuffer>(
      [&h, &auth, in, out](
          grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* request,
          grpc::ByteBuffer* response) -> grpc::ServerUnaryReactor* {
        auto* call = new UnaryCall(*in, *out, response);
        absl::StatusOr<app::Caller> caller = Authenticate(auth, ctx, h.need);
        if (!caller.ok()) {
          call->Reply(caller.status());
          return call;
        }
        absl::Status decoded = DecodeByteBuffer(*request, call->request());
        if (!decoded.ok()) {
          call->Reply(decoded);
          return call;
        }
        h.unary(*caller, *call->request(), call->response(),
                [call](absl::Status s) { call->Reply(s); });
        return call;
      });
}

grpc::internal::MethodHandler* StreamHandler(const app::MethodHandler& h,
                                             Authenticator& auth) {
  const Message* in = Prototype(h.descriptor->input_type());
  const Message* out = Prototype(h.descriptor->output_type());
  return new grpc::internal::CallbackServerStreamingHandler<grpc::ByteBuffer,
                                                            grpc::ByteBuffer>(
      [&h, &auth, in, out](grpc::CallbackServerContext* ctx,
                           const grpc::ByteBuffer* request)
          -> grpc::ServerWriteReactor<grpc::ByteBuffer>* {
        auto* stream = new StreamCall(*in, *out);
        absl::StatusOr<app::Caller> caller = Authenticate(auth, ctx, h.need);
        if (!caller.ok()) {
          stream->Start(caller.status());
          return stream;
        }
        absl::Status decoded = DecodeByteBuffer(*request, stream->request());
        if (!decoded.ok()) {
          stream->Start(decoded);
          return stream;
        }
        h.stream(*caller, *stream->request(),
                 [stream](auto source) { stream->Start(std::move(source)); });
        return stream;
      });
}

// A service whose methods are the table's, registered under their gRPC
// paths ("/samplan.v1.PlanService/GetPlan") as raw callbacks.
class TableService final : public grpc::Service {
 public:
  TableService(const google::protobuf::ServiceDescriptor& service,
               const app::MethodTable& table, Authenticator& auth) {
    for (int i = 0; i < service.method_count(); ++i) {
      const google::protobuf::MethodDescriptor* m = service.method(i);
      const app::MethodHandler* h = table.Find(m->full_name());
      if (h == nullptr) Die(m->full_name());  // MethodTable binds them all
      paths_.push_back(absl::StrCat("/", service.full_name(), "/", m->name()));
      const bool stream = m->server_streaming();
      AddMethod(new grpc::internal::RpcServiceMethod(
          paths_.back().c_str(),
          stream ? grpc::internal::RpcMethod::SERVER_STREAMING
                 : grpc::internal::RpcMethod::NORMAL_RPC,
          nullptr));
      MarkMethodRawCallback(
          i, stream ? StreamHandler(*h, auth) : UnaryHandler(*h, auth));
    }
  }

 private:
  [[noreturn]] static void Die(const std::string& method) {
    std::fprintf(stderr, "samplan: no handler for %s\n", method.c_str());
    std::abort();
  }

  std::deque<std::string> paths_;  // RpcServiceMethod keeps the pointers
};

}  // namespace

absl::Status DecodeByteBuffer(const grpc::ByteBuffer& buffer,
                              google::protobuf::Message* message) {
  grpc::Slice slice;
  if (!buffer.TrySingleSlice(&slice).ok() &&
      !buffer.DumpToSingleSlice(&slice).ok()) {
    return Error(absl::StatusCode::kInvalidArgument, "MALFORMED_REQUEST", "",
                 "the request could not be read");
  }
  return app::DecodeRequest(
      absl::string_view(reinterpret_cast<const char*>(slice.begin()),
                        slice.size()),
      message);
}

absl::StatusOr<app::Caller> Authenticate(Authenticator& auth,
                                         grpc::CallbackServerContext* ctx,
                                         const app::Requirement& need) {
  return auth.Authenticate(*ctx->auth_context(), ActorOf(*ctx), need);
}

std::unique_ptr<grpc::Service> NewRawService(const char* service_full_name,
                                             const app::MethodTable& table,
                                             Authenticator& auth) {
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          service_full_name);
  if (service == nullptr) {
    std::fprintf(stderr, "samplan: unknown service %s\n", service_full_name);
    std::abort();
  }
  return std::make_unique<TableService>(*service, table, auth);
}

}  // namespace samplan::server
