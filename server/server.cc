#include "server/server.h"

#include <algorithm>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "app/admin_app.h"
#include "app/audit_app.h"
#include "app/checkpointer.h"
#include "app/consent_app.h"
#include "app/method_table.h"
#include "app/metrics.h"
#include "app/plan_app.h"
#include "app/rate_limiter.h"
#include "app/read_cache.h"
#include "audit/note.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "grpcpp/ext/channelz_service_plugin.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/impl/server_builder_option.h"
#include "server/auth.h"
#include "server/config.h"
#include "server/grpc_adapter.h"
#include "server/grpc_status.h"
#include "server/rest_server.h"
#include "spdlog/spdlog.h"
#include "storage/postgres_store.h"
#include "storage/sqlite_store.h"

namespace samplan::server {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     absl::string_view field) {
  std::ifstream in(path);
  if (!in.good())
    return InvalidField(field, absl::StrCat("cannot read ", path));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Keeps reflection and channelz off a listener: both are global builder
// plugins in gRPC, and only the admin listener may serve them.
class WithoutAdminPlugins final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>*
                         plugins) override {
    std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>> kept;
    for (auto& p : *plugins) {
      const std::string name = p->name();
      if (name == "proto_server_reflection" || name == "channelz_service") {
        continue;
      }
      kept.push_back(std::move(p));
    }
    *plugins = std::move(kept);
  }
};

// Lets only administrators' certificates use the admin listener: every call
// is checked against the agency registry before it reaches a service.
class AdministratorsOnly final : public grpc::AuthMetadataProcessor {
 public:
  explicit AdministratorsOnly(Authenticator& auth) : auth_(auth) {}
  bool IsBlocking() const override { return true; }
  grpc::Status Process(const InputMetadata&, grpc::AuthContext* context,
                       OutputMetadata*, OutputMetadata*) override {
    app::Requirement need{app::Role::kAdministrator, false,
                          /*needs_actor=*/false};
    return ToGrpcStatus(auth_.Authenticate(*context, "", need).status());
  }

 private:
  Authenticator& auth_;
};

// The service log's line for calls that failed on the server's side
// (Metrics::OnServerFault): the first at once, then at most one a second,
// saying how many more there were, so that a full disk under load does not
// flood the log. Calls left out after the last line are counted by Flush(),
// which the maintenance thread calls every second. Messages name fields and
// storage operations, never values.
class FaultLog {
 public:
  void Log(const Clock& clock, absl::string_view method,
           const absl::Status& status) {
    int64_t more = 0;
    if (!Due(clock.Now(), &more)) return;
    spdlog::error("call failed: {}: {}: {}{}", std::string(method),
                  absl::StatusCodeToString(status.code()),
                  std::string(status.message()),
                  more > 0 ? absl::StrCat(" (and ", more,
                                          " more failed calls since the "
                                          "last such line)")
                           : std::string());
  }

  // Logs the count of calls left out since the last line, once a second
  // has passed.
  void Flush(const Clock& clock) {
    int64_t more = 0;
    {
      absl::MutexLock lock(&mu_);
      if (suppressed_ == 0) return;
    }
    if (!Due(clock.Now(), &more, /*count=*/false) || more == 0) return;
    spdlog::error("calls failed: {} more since the last such line", more);
  }

 private:
  // Whether a line may be written at `now` (a second after the last, or
  // the clock went back); `more` gets the calls left out meanwhile. A call
  // that may not be logged is counted when `count`.
  bool Due(absl::Time now, int64_t* more, bool count = true) {
    absl::MutexLock lock(&mu_);
    if (now >= last_ && now - last_ < absl::Seconds(1)) {
      if (count) ++suppressed_;
      return false;
    }
    last_ = now;
    *more = std::exchange(suppressed_, 0);
    return true;
  }

  absl::Mutex mu_;
  absl::Time last_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int64_t suppressed_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace

void ApplyLimits(grpc::ServerBuilder& b, const config::v1::Limits& l) {
  b.SetMaxReceiveMessageSize(l.max_message_bytes());
  b.SetMaxSendMessageSize(l.max_message_bytes());
  b.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS,
                       l.keepalive_time_seconds() * 1000);
  b.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                       l.keepalive_timeout_seconds() * 1000);
  b.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                       10000);
  b.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
  // The same bounds as the REST listener's: a request's metadata (its
  // head) and the time a client has for its TLS handshake.
  b.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE, l.max_header_bytes());
  b.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
                       l.read_timeout_ms());
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MutualTlsCredentials(
    const config::v1::ServerConfig& cfg) {
  ASSIGN_OR_RETURN(std::string ca,
                   ReadFile(cfg.tls().ca_file(), "tls.ca_file"));
  ASSIGN_OR_RETURN(std::string cert,
                   ReadFile(cfg.tls().cert_file(), "tls.cert_file"));
  ASSIGN_OR_RETURN(std::string key,
                   ReadFile(cfg.tls().key_file(), "tls.key_file"));
  grpc::SslServerCredentialsOptions tls(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  tls.pem_root_certs = std::move(ca);
  tls.pem_key_cert_pairs.push_back({std::move(key), std::move(cert)});
  return grpc::SslServerCredentials(tls);
}

class Server::Impl {
 public:
  ServerOptions options;
  SystemClock system_clock;
  // Before the queue, whose batch tail uses them until it is destroyed.
  std::unique_ptr<audit::NoteSigner> signer;
  std::unique_ptr<app::Checkpointer> checkpointer;
  // Before the queue and the method table, which record into it.
  FaultLog fault_log;
  app::Metrics metrics;
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<app::CommitQueue> queue;
  // Before the applications, which read through it.
  std::unique_ptr<app::ReadCache> read_cache;
  std::unique_ptr<app::PlanApp> plans;
  std::unique_ptr<app::ConsentApp> consents;
  std::unique_ptr<app::AuditApp> audits;
  std::unique_ptr<app::AdminApp> admins;
  std::unique_ptr<app::AgencyDirectory> agencies;
  std::unique_ptr<Authenticator> auth;
  std::unique_ptr<app::RateLimiter> limiter;
  std::unique_ptr<app::MethodTable> methods;
  std::vector<std::unique_ptr<grpc::Service>> services;
  std::unique_ptr<grpc::Server> api;
  std::unique_ptr<grpc::Server> admin;
  std::unique_ptr<RestServer> rest;
  std::unique_ptr<RestServer> metrics_server;
  int api_port = 0;
  int admin_port = 0;

  const Clock* clock = nullptr;

  absl::Mutex mu;
  bool shut_down ABSL_GUARDED_BY(mu) = false;
  absl::Notification done;

  // The maintenance thread: the expiry sweeper and time-based checkpoints.
  absl::Notification stop_maintenance;
  std::thread maintenance;

  absl::Status Sweep() {
    const absl::Time now = clock->Now();
    return queue->Run([now](storage::Transaction& tx) {
      return app::ExpireLapsedGrants(tx, nullptr, now, app::kExpireBatch)
          .status();
    });
  }
  // An empty batch: its tail signs a checkpoint if one is due by time.
  absl::Status CheckpointIfDue() {
    return queue->Run([](storage::Transaction&) { return absl::OkStatus(); });
  }
  // Reads the metrics' gauges from storage (at each scrape).
  void RefreshGauges() {
    app::Metrics::StorageState state;
    absl::Status s = store->Read([&](storage::Transaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(state.audit_tree_size, tx.audit().Size());
      ASSIGN_OR_RETURN(std::optional<storage::StoredCheckpoint> checkpoint,
                       tx.audit().LatestCheckpoint());
      if (checkpoint.has_value()) state.checkpoint_time = checkpoint->time;
      ASSIGN_OR_RETURN(state.grants_ending_soon,
                       tx.grants().CountActiveEndingBefore(
                           clock->Now() + app::Metrics::kEndingSoon));
      return absl::OkStatus();
    });
    state.up = s.ok();
    metrics.SetStorageState(state);
  }

  // Health reports SERVING only while the database answers: a balancer or
  // an orchestrator then sends calls to the servers that can decide them.
  void ProbeStorage() {
    absl::Status s =
        store->Read([](storage::Transaction&) { return absl::OkStatus(); });
    const bool serving = s.ok();
    if (serving != serving_) {
      if (serving) {
        spdlog::info("storage reachable again: serving");
      } else {
        spdlog::error("storage unreachable, health NOT_SERVING: {}",
                      std::string(s.message()));
      }
      serving_ = serving;
    }
    for (grpc::Server* g : {api.get(), admin.get()}) {
      grpc::HealthCheckServiceInterface* health =
          g != nullptr ? g->GetHealthCheckService() : nullptr;
      if (health != nullptr) health->SetServingStatus(serving);
    }
  }
  bool serving_ = true;  // the maintenance thread's

  void MaintenanceLoop() {
    const auto& a = options.config.audit();
    const absl::Duration sweep_every = absl::Seconds(a.sweep_every_seconds());
    const absl::Duration checkpoint_every =
        absl::Seconds(a.checkpoint_every_seconds());
    const absl::Duration tick =
        std::min({absl::Seconds(1), checkpoint_every, sweep_every});
    absl::Time next_sweep = absl::Now();
    absl::Time next_checkpoint = absl::Now() + checkpoint_every;
    while (!stop_maintenance.WaitForNotificationWithTimeout(tick)) {
      fault_log.Flush(*clock);
      ProbeStorage();
      if (!serving_) continue;
      if (absl::Now() < std::min(next_sweep, next_checkpoint)) continue;
      next_checkpoint = absl::Now() + checkpoint_every;
      // One server at a time, of those sharing the database.
      if (!store->LeadsMaintenance()) continue;
      // A failure is logged and retried on the next tick; decisions never
      // depend on the sweeper. The sweep's batch also runs the tail, so a
      // tick that sweeps needs no second batch.
      if (absl::Now() >= next_sweep) {
        if (absl::Status s = Sweep(); !s.ok()) {
          spdlog::error("expiry sweep failed: {}", std::string(s.message()));
        }
        next_sweep = absl::Now() + sweep_every;
      } else if (absl::Status s = CheckpointIfDue(); !s.ok()) {
        spdlog::error("maintenance batch failed: {}", std::string(s.message()));
      }
    }
  }
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Shutdown(); }

int Server::api_port() const { return impl_->api_port; }
int Server::admin_port() const { return impl_->admin_port; }
int Server::metrics_port() const {
  return impl_->metrics_server != nullptr ? impl_->metrics_server->port() : 0;
}
int Server::rest_port() const {
  return impl_->rest != nullptr ? impl_->rest->port() : 0;
}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(ServerOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  const config::v1::ServerConfig& cfg = impl->options.config;
  const Clock* clock = impl->options.clock != nullptr ? impl->options.clock
                                                      : &impl->system_clock;
  if (impl->options.ids == nullptr)
    impl->options.ids = app::NewRandomIdGenerator();

  impl->clock = clock;
  ASSIGN_OR_RETURN(consent::Policy policy, PolicyFromConfig(cfg));
  // Every server of a deployment has this key: it signs checkpoints, and
  // keys page tokens so that theirs agree.
  ASSIGN_OR_RETURN(
      const std::string signing_key,
      ReadFile(cfg.audit().signing_key_file(), "audit.signing_key_file"));
  {
    auto signer =
        audit::NoteSigner::FromPrivateKeyPem(signing_key, cfg.audit().origin());
    if (!signer.ok()) {
      return InvalidField("audit.signing_key_file", signer.status().message());
    }
    impl->signer = *std::move(signer);
  }
  impl->checkpointer = std::make_unique<app::Checkpointer>(
      *impl->signer,
      app::Checkpointer::Options{
          cfg.audit().checkpoint_every_events(),
          absl::Seconds(cfg.audit().checkpoint_every_seconds())});
  if (cfg.storage().has_postgres()) {
    ASSIGN_OR_RETURN(impl->store,
                     storage::OpenPostgresStore(storage::PostgresOptions{
                         cfg.storage().postgres().conninfo()}));
  } else {
    ASSIGN_OR_RETURN(
        impl->store,
        storage::OpenSqliteStore(storage::SqliteOptions{
            cfg.storage().sqlite_path(), impl->options.sqlite_vfs}));
  }
  impl->queue = std::make_unique<app::CommitQueue>(*impl->store);
  impl->queue->SetMetrics(&impl->metrics);
  impl->queue->SetBatchTail(
      [cp = impl->checkpointer.get(), clock](storage::Transaction& tx) {
        // The batch's own jobs are not affected by a failure here: the
        // tail has its own savepoint. Storage messages carry no values.
        absl::Status s = cp->Update(tx, clock->Now(), false).status();
        if (!s.ok()) {
          spdlog::error("audit checkpoint not signed: {}",
                        std::string(s.message()));
        }
        return s;
      });
  // The first checkpoint of a new log, and a check that the key signs.
  RETURN_IF_ERROR(impl->queue->Run([&](storage::Transaction& tx) {
    return impl->checkpointer->Update(tx, clock->Now(), false).status();
  }));

  app::AppContext ctx;
  ctx.store = impl->store.get();
  ctx.queue = impl->queue.get();
  ctx.clock = clock;
  ctx.ids = impl->options.ids.get();
  ctx.policy = policy;
  ctx.max_page_size = cfg.limits().max_page_size();
  ctx.page_token_key = app::DerivePageTokenKey(signing_key);
  ctx.checkpointer = impl->checkpointer.get();
  impl->read_cache = std::make_unique<app::ReadCache>();
  ctx.read_cache = impl->read_cache.get();
  impl->agencies = std::make_unique<app::AgencyDirectory>(*impl->store);
  impl->auth = std::make_unique<Authenticator>(*impl->agencies);
  ctx.agencies = impl->agencies.get();
  impl->plans = std::make_unique<app::PlanApp>(ctx);
  impl->consents = std::make_unique<app::ConsentApp>(ctx);
  impl->audits = std::make_unique<app::AuditApp>(ctx);
  impl->admins = std::make_unique<app::AdminApp>(ctx);
  if (cfg.limits().agency_calls_per_second() > 0) {
    impl->limiter = std::make_unique<app::RateLimiter>(
        *clock, cfg.limits().agency_calls_per_second(),
        cfg.limits().agency_burst());
  }
  impl->metrics.OnServerFault(
      [log = &impl->fault_log, clock](absl::string_view method,
                                      const absl::Status& status) {
        log->Log(*clock, method, status);
      });
  impl->methods = std::make_unique<app::MethodTable>(
      *impl->plans, *impl->consents, *impl->audits, *impl->admins,
      impl->limiter.get(), &impl->metrics);
  for (const std::string& name : app::MethodTable::ServiceNames()) {
    impl->services.push_back(
        NewRawService(name.c_str(), *impl->methods, *impl->auth));
  }

  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> api_creds,
                   MutualTlsCredentials(cfg));
  grpc::EnableDefaultHealthCheckService(true);
  {
    grpc::ServerBuilder b;
    b.SetOption(std::make_unique<WithoutAdminPlugins>());
    b.AddListeningPort(cfg.api().address(), api_creds, &impl->api_port);
    for (auto& service : impl->services) b.RegisterService(service.get());
    ApplyLimits(b, cfg.limits());
    impl->api = b.BuildAndStart();
    if (impl->api == nullptr || impl->api_port == 0) {
      return InvalidField("api.address",
                          absl::StrCat("cannot listen on ", cfg.api().address(),
                                       " (in use, or TLS files invalid)"));
    }
  }
  if (!cfg.admin().address().empty()) {
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::channelz::experimental::InitChannelzService();
    grpc::ServerBuilder b;
    // Its own credentials object: the processor must not reach the API.
    ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> admin_creds,
                     MutualTlsCredentials(cfg));
    admin_creds->SetAuthMetadataProcessor(
        std::make_shared<AdministratorsOnly>(*impl->auth));
    b.AddListeningPort(cfg.admin().address(), admin_creds, &impl->admin_port);
    ApplyLimits(b, cfg.limits());
    impl->admin = b.BuildAndStart();
    if (impl->admin == nullptr || impl->admin_port == 0) {
      impl->api->Shutdown();
      return InvalidField("admin.address", absl::StrCat("cannot listen on ",
                                                        cfg.admin().address()));
    }
  }
  if (!cfg.rest().address().empty()) {
    auto rest = RestServer::Start(cfg, *impl->methods, *impl->agencies);
    if (!rest.ok()) {
      if (impl->admin != nullptr) impl->admin->Shutdown();
      impl->api->Shutdown();
      return rest.status();
    }
    impl->rest = *std::move(rest);
  }
  if (!cfg.metrics().address().empty()) {
    // A scrape reads the gauges afresh (a storage failure shows as
    // samplan_storage_up 0).
    auto m = RestServer::StartMetrics(cfg, *impl->agencies, [raw = impl.get()] {
      raw->RefreshGauges();
      return raw->metrics.Render(raw->clock->Now());
    });
    if (!m.ok()) {
      if (impl->rest != nullptr) impl->rest->Shutdown(absl::Now());
      if (impl->admin != nullptr) impl->admin->Shutdown();
      impl->api->Shutdown();
      return m.status();
    }
    impl->metrics_server = *std::move(m);
  }
  Impl* raw = impl.get();
  impl->maintenance = std::thread([raw] { raw->MaintenanceLoop(); });
  // Other servers on the same database change the registry too. (Here,
  // after the last failure Start can return: Shutdown stops the store, and
  // with it the watch, before the directory goes.)
  impl->store->WatchAgencies(
      [agencies = impl->agencies.get()] { agencies->Invalidate(); });
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

absl::Status Server::RunMaintenance() {
  {
    absl::MutexLock lock(&impl_->mu);
    if (impl_->shut_down) {
      return absl::FailedPreconditionError("the server is shut down");
    }
  }
  RETURN_IF_ERROR(impl_->Sweep());
  return impl_->CheckpointIfDue();
}

void Server::Shutdown() {
  {
    absl::MutexLock lock(&impl_->mu);
    if (impl_->shut_down) return;
    impl_->shut_down = true;
  }
  const auto grace =
      std::chrono::system_clock::now() +
      std::chrono::seconds(
          impl_->options.config.limits().shutdown_grace_seconds());
  impl_->stop_maintenance.Notify();
  if (impl_->maintenance.joinable()) impl_->maintenance.join();
  if (impl_->rest != nullptr) {
    impl_->rest->Shutdown(absl::FromChrono(grace));
  }
  if (impl_->metrics_server != nullptr) {
    impl_->metrics_server->Shutdown(absl::FromChrono(grace));
  }
  if (impl_->admin != nullptr) impl_->admin->Shutdown(grace);
  impl_->api->Shutdown(grace);  // in-flight calls finish through the queue
  impl_->queue->Shutdown();     // commits what is left
  impl_->rest.reset();          // after every call it started has reported
  impl_->metrics_server.reset();
  impl_->api.reset();
  impl_->admin.reset();
  impl_->queue.reset();
  impl_->store.reset();  // closes the database
  impl_->done.Notify();
}

void Server::Wait() { impl_->done.WaitForNotification(); }

}  // namespace samplan::server
