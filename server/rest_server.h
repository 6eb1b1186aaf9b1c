// The REST/JSON listener: HTTP/1.1 over the same mutual TLS as gRPC, routed
// by the google.api.http annotations (rest_routes.h) to the same method
// handlers gRPC calls (app/method_table.h), with the same caller identity
// (client certificate -> agency registry -> role; x-samplan-actor header).
//
// Built on Boost.Beast (asynchronous; a slow client holds no thread). Every
// connection is bounded: limits.max_connections open at once (more are
// closed on accept), limits.read_timeout_ms for the TLS handshake and for
// each whole request (head and body together, however slowly they
// trickle) or the idle wait before it, limits.write_timeout_ms per write,
// limits.max_header_bytes, limits.max_url_bytes and limits.max_message_bytes
// for the body. A server-streaming method answers with newline-delimited
// JSON in chunked transfer encoding, one message per line, read from
// storage as the client takes them; an error after the first line ends the
// stream with a line {"error": <google.rpc.Status>}.

#ifndef SAMPLAN_SERVER_REST_SERVER_H_
#define SAMPLAN_SERVER_REST_SERVER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "samplan/config/v1/config.pb.h"

namespace samplan::app {
class AgencyDirectory;
class MethodTable;
}  // namespace samplan::app

namespace samplan::server {

class RestServer {
 public:
  // Listens on config.rest().address with config.tls and config.limits.
  // `table` and `agencies` must outlive the server. INVALID_ARGUMENT
  // naming the field for a TLS file that cannot be used or an address
  // that cannot be bound.
  static absl::StatusOr<std::unique_ptr<RestServer>> Start(
      const config::v1::ServerConfig& config, const app::MethodTable& table,
      app::AgencyDirectory& agencies);

  // Serves only GET /metrics: `metrics`' text (Prometheus' format), to
  // administrator certificates, on config.metrics().address with the same
  // TLS and limits. `agencies` must outlive the server; `metrics` is called
  // on the server's threads.
  static absl::StatusOr<std::unique_ptr<RestServer>> StartMetrics(
      const config::v1::ServerConfig& config, app::AgencyDirectory& agencies,
      std::function<std::string()> metrics);

  // Stops if still running; then frees every connection. Destroy it only
  // after every call it started has reported (after the commit queue has
  // shut down).
  ~RestServer();

  int port() const;

  // Stops accepting connections and requests, waits until the calls in
  // flight have reported or `deadline` passes, then closes every
  // connection and stops its threads. Idempotent.
  void Shutdown(absl::Time deadline);

  class Impl;

 private:
  explicit RestServer(std::unique_ptr<Impl> impl);
  static absl::StatusOr<std::unique_ptr<RestServer>> Launch(
      std::unique_ptr<Impl> impl, const config::v1::ServerConfig& config,
      const std::string& address);
  std::unique_ptr<Impl> impl_;
};

}  // namespace samplan::server

#endif  // SAMPLAN_SERVER_REST_SERVER_H_
