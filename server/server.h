// samplan-server assembled: the SQLite store, the commit queue, the audit
// checkpoint signer, the application services, the maintenance thread (expiry
// sweeper, time-based checkpoints) and the gRPC listeners over mutual TLS.
//
// The API listener serves PlanService, ConsentService, AuditService,
// AdminService and health checking;
// the optional admin listener serves health checking, reflection and
// channelz to administrator certificates; the optional REST listener serves
// the same four services as HTTP/1.1 + JSON (rest_server.h). Both require and
// verify client certificates against the configured CA bundle (gRPC's TLS
// floor: 1.2). There is no plaintext listener.

#ifndef SAMPLAN_SERVER_SERVER_H_
#define SAMPLAN_SERVER_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "app/app_support.h"
#include "common/clock.h"
#include "samplan/config/v1/config.pb.h"

namespace grpc {
class ServerBuilder;
class ServerCredentials;
}  // namespace grpc

namespace samplan::server {

struct ServerOptions {
  // Must have passed FinishConfig().
  config::v1::ServerConfig config;
  // The clock decisions use; the wall clock when null. Not owned.
  const Clock* clock = nullptr;
  // Resource ids; random when null.
  std::unique_ptr<app::IdGenerator> ids;
  // Tests only: the SQLite VFS the database is opened through
  // (storage/fault_vfs.h); empty: SQLite's default.
  std::string sqlite_vfs;
};

class Server {
 public:
  // Opens the store (migrating it), loads TLS files and starts listening.
  // Errors name what failed: the database (UNAVAILABLE / SCHEMA_TOO_NEW),
  // a TLS file, or a listener that could not bind.
  static absl::StatusOr<std::unique_ptr<Server>> Start(ServerOptions options);

  // Shuts down if still running.
  ~Server();

  // The bound ports (useful with port 0).
  int api_port() const;
  int admin_port() const;    // 0 when there is no admin listener
  int rest_port() const;     // 0 when there is no REST listener
  int metrics_port() const;  // 0 when there is no metrics listener

  // Graceful: stops accepting calls, lets in-flight calls finish for up to
  // limits.shutdown_grace_seconds, commits what is queued, closes the
  // database. Idempotent; thread-safe.
  void Shutdown();

  // Blocks until Shutdown() has completed.
  void Wait();

  // Runs the maintenance thread's work once, now: the expiry sweeper, then a
  // checkpoint if one is due. For tests and operators; the thread does the
  // same every audit.sweep_every_seconds / checkpoint_every_seconds.
  absl::Status RunMaintenance();

  class Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The listener settings samplan-server uses, shared with the benchmark's
// baseline server (bench/echo.cc) so that both speak the same TLS with the
// same limits:
// mutual TLS from config.tls (client certificates required and verified
// against tls.ca_file; INVALID_ARGUMENT naming the field of a file that
// cannot be read), and limits.* applied to a builder.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MutualTlsCredentials(
    const config::v1::ServerConfig& config);
void ApplyLimits(grpc::ServerBuilder& builder,
                 const config::v1::Limits& limits);

}  // namespace samplan::server

#endif  // SAMPLAN_SERVER_SERVER_H_
