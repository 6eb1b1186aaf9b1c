// Every method of the four public services, by its full protobuf name: who
// may call it and how to run it on a decoded request. Transport-free: the
// gRPC adapter (server/grpc_adapter.h) and the REST gateway
// (server/rest_server.h) serve exactly these functions, so a method is
// bound once, here, and reaches both transports.
//
// A handler takes messages as google::protobuf::Message; it requires them
// to be of the method's input and output types (the table checks at
// construction that its functions take those types).

#ifndef SAMPLAN_APP_METHOD_TABLE_H_
#define SAMPLAN_APP_METHOD_TABLE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "app/authorize.h"
#include "app/caller.h"

namespace google::protobuf {
class Message;
class MethodDescriptor;
}  // namespace google::protobuf

namespace samplan::app {

class AdminApp;
class AuditApp;
class ConsentApp;
class Metrics;
class PlanApp;
class RateLimiter;

// The messages of a server-streaming call, read one at a time. Next() may
// block on storage; it is called from one thread at a time.
class MessageSource {
 public:
  virtual ~MessageSource() = default;
  // Fills `out` (cleared by the caller) with the next message and returns
  // true, or returns false at the end.
  virtual absl::StatusOr<bool> Next(google::protobuf::Message* out) = 0;
};

struct MethodHandler {
  using Done = std::function<void(absl::Status)>;
  using Started =
      std::function<void(absl::StatusOr<std::unique_ptr<MessageSource>>)>;

  const google::protobuf::MethodDescriptor* descriptor = nullptr;
  Requirement need;
  // Exactly one is set, matching the method's kind. `request` and
  // `response` must stay valid until `done` runs; `done` runs once, after
  // the call's durable commit or at once with an error.
  std::function<void(const Caller&, const google::protobuf::Message& request,
                     google::protobuf::Message* response, Done done)>
      unary;
  // `started` gets the stream's messages once the call's own audit record
  // is committed, or the error. `request` must stay valid until then.
  std::function<void(const Caller&, const google::protobuf::Message& request,
                     Started started)>
      stream;
};

class MethodTable {
 public:
  // The apps must outlive the table. `limiter` (may be null: no limit)
  // is asked before every call; `metrics` (may be null) counts and times
  // every call.
  MethodTable(PlanApp& plans, ConsentApp& consents, AuditApp& audits,
              AdminApp& admins, RateLimiter* limiter,
              Metrics* metrics = nullptr);

  // The method "samplan.v1.PlanService.GetPlan", or null.
  const MethodHandler* Find(absl::string_view full_name) const;
  const std::vector<MethodHandler>& methods() const { return methods_; }

  // The services the table serves, by full name.
  static const std::vector<std::string>& ServiceNames();

 private:
  std::vector<MethodHandler> methods_;
};

}  // namespace samplan::app

#endif  // SAMPLAN_APP_METHOD_TABLE_H_
