// samplan-echo: the ceiling that samplan-server is measured against.
//
// It reads the same configuration file as samplan-server and listens with the
// same mutual TLS (MutualTlsCredentials), the same limits (ApplyLimits) and
// the same gRPC callback API, so the same load generator can call
// PlanService.GetPlan on it. GetPlan answers every request with one stored
// GetPlanResponse (written by `samplan-load --save-response`), without
// authorization, storage, consent decisions or audit: what is left is the
// cost of gRPC, TLS and protobuf for a response of the same size.

#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "samplan/v1/plan.grpc.pb.h"
#include "server/config.h"
#include "server/server.h"

namespace samplan::bench {
namespace {

constexpr char kUsage[] =
    R"usage(samplan-echo: the baseline server for the benchmarks

Usage:
  samplan-echo --config FILE --response FILE

Listens like samplan-server (api.address, tls.*, limits.* of the same
configuration file; other blocks are read but not used) and answers every
PlanService.GetPlan call with the GetPlanResponse stored in the --response
file, doing no other work. Every other method is UNIMPLEMENTED.

  --config FILE     samplan-server's configuration (protobuf text format)
  --response FILE   a binary GetPlanResponse, as written by
                    `samplan-load --save-response FILE`
  -h, --help        this text

Prints "samplan-echo listening: api ADDRESS (port N)" to stderr once ready;
SIGINT or SIGTERM stops it. Exit codes: 0 stopped, 1 cannot start,
2 usage error.
)usage";

class EchoPlanService final : public v1::PlanService::CallbackService {
 public:
  explicit EchoPlanService(v1::GetPlanResponse response)
      : response_(std::move(response)) {}

  grpc::ServerUnaryReactor* GetPlan(grpc::CallbackServerContext* context,
                                    const v1::GetPlanRequest*,
                                    v1::GetPlanResponse* response) override {
    *response = response_;
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  const v1::GetPlanResponse response_;
};

int Fail(const std::string& message, int code) {
  std::fprintf(stderr, "samplan-echo: %s\n", message.c_str());
  return code;
}

int Main(int argc, char** argv) {
  std::string config_path;
  std::string response_path;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if ((arg == "--config" || arg == "--response") && i + 1 < argc) {
      (arg == "--config" ? config_path : response_path) = argv[++i];
      continue;
    }
    if (arg == "--config" || arg == "--response") {
      return Fail(absl::StrCat(arg, " needs a file (try --help)"), 2);
    }
    return Fail(absl::StrCat("unknown argument '", arg, "' (try --help)"), 2);
  }
  if (config_path.empty()) return Fail("--config is required (try --help)", 2);
  if (response_path.empty()) {
    return Fail("--response is required (try --help)", 2);
  }

  absl::StatusOr<config::v1::ServerConfig> cfg =
      server::LoadConfigFile(config_path);
  if (!cfg.ok()) return Fail(std::string(cfg.status().message()), 1);
  if (absl::Status s = server::FinishConfig(*cfg); !s.ok()) {
    return Fail(std::string(s.message()), 1);
  }
  std::ifstream in(response_path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  v1::GetPlanResponse response;
  if (!in.good() || !response.ParseFromString(bytes.str())) {
    return Fail(absl::StrCat("--response: cannot read a GetPlanResponse from ",
                             response_path),
                1);
  }
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> creds =
      server::MutualTlsCredentials(*cfg);
  if (!creds.ok()) return Fail(std::string(creds.status().message()), 1);

  // Blocked before gRPC starts its threads, so only sigwait sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  EchoPlanService service(std::move(response));
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(cfg->api().address(), *creds, &port);
  builder.RegisterService(&service);
  server::ApplyLimits(builder, cfg->limits());
  std::unique_ptr<grpc::Server> listener = builder.BuildAndStart();
  if (listener == nullptr || port == 0) {
    return Fail(
        absl::StrCat("api.address: cannot listen on ", cfg->api().address()),
        1);
  }
  std::fprintf(stderr, "samplan-echo listening: api %s (port %d)\n",
               cfg->api().address().c_str(), port);
  int signal = 0;
  sigwait(&signals, &signal);
  listener->Shutdown();
  return 0;
}

}  // namespace
}  // namespace samplan::bench

int main(int argc, char** argv) { return samplan::bench::Main(argc, argv); }
