#include "server/grpc_adapter.h"

#include <string>

#include "app/request_decode.h"
#include "common/errors.h"
#include "common/status_macros.h"

namespace samplan::server {
namespace {

// The staff member named in the call's metadata ("" if absent).
std::string ActorOf(const grpc::CallbackServerContext& ctx) {
  const auto& md = ctx.client_metadata();
  auto it = md.find(app::kActorMetadataKey);
  if (it == md.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

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

}  // namespace samplan::server
