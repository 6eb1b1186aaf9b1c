// samplan-server: the SIP backend. See --help.

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "app/admin_app.h"
#include "app/app_support.h"
#include "audit/note.h"
#include "common/clock.h"
#include "google/protobuf/stubs/logging.h"
#include "samplan/v1/admin.pb.h"
#include "samplan/v1/audit.pb.h"
#include "server/config.h"
#include "server/server.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"
#include "storage/postgres_store.h"
#include "storage/sqlite_store.h"

namespace samplan::server {
namespace {

constexpr char kUsage[] =
    R"(samplan-server: the shared backend for coordinated individual plans (SIP).

Usage:
  samplan-server --config FILE [--listen ADDR] [--admin-listen ADDR]
                 [--db PATH] [--log-format text|json] [--log-level LEVEL]
  samplan-server check-config --config FILE
  samplan-server register-agency (--db PATH | --postgres CONNINFO)
                 --id ID --sector SECTOR --role ROLE [--name TEXT]
  samplan-server keygen --out FILE --origin ORIGIN
  samplan-server --help

Serving:
  Reads FILE (protobuf text format, samplan.config.v1.ServerConfig; see
  deploy/samplan.textproto for every field), applies the flags below over
  it, validates everything, opens the database (SQLite, creating it, or
  PostgreSQL; migrating either), and serves PlanService, ConsentService, AuditService and
  AdminService over mutual TLS until SIGINT or SIGTERM. Then it stops accepting calls, lets in-flight
  calls finish, commits what is queued and closes the database.

  --config FILE        the configuration file (required)
  --listen ADDR        overrides api.address, e.g. 127.0.0.1:7443
  --admin-listen ADDR  overrides admin.address (health, reflection, channelz)
  --db PATH            overrides storage.sqlite_path
  --log-format F       text (default) or json: the service log on stderr
  --log-level L        trace, debug, info (default), warn or error

  The service log never contains identity numbers or plan text; those go
  to the audit log only.

check-config:
  Validates FILE (and that the TLS files are readable) and exits 0, or
  prints the first problem, naming the field, and exits 2.

register-agency:
  Registers an agency directly in the SQLite database at PATH, or the
  PostgreSQL database CONNINFO names (libpq's connection string), for
  bootstrapping a new installation (the first administrator) and for the
  quickstart.
  The agency's client certificate must carry the URI SAN
  urn:samplan:agency:ID (deploy/dev-pki.sh makes such certificates).
  --id ID          2-63 characters of a-z 0-9 -, e.g. school-1
  --sector SECTOR  SCHOOL, SOCIAL_SERVICES or HEALTHCARE
  --role ROLE      AGENCY_SYSTEM, AUDITOR or ADMINISTRATOR
  --name TEXT      display name (default: the id)
  Registering an id that exists already changes nothing and exits 0.

keygen:
  Makes the Ed25519 key that signs the audit log's checkpoints
  (audit.signing_key_file). Writes FILE (the private key, PKCS#8 PEM, mode
  0600), FILE.pub (the public key, PEM) and FILE.vkey (the verifier key
  line, named after ORIGIN, which must equal audit.origin). Give auditors
  FILE.vkey: `samplanctl audit verify --public-key FILE.vkey` checks
  checkpoints with it. Never overwrites an existing FILE.
  --out FILE       where to write the private key
  --origin ORIGIN  the log's origin, e.g. samplan.example.se/audit

Exit status: 0 success, 2 usage or configuration error, 1 failure.

Example:
  deploy/dev-pki.sh var/pki
  samplan-server register-agency --db var/samplan.db --id school-1 \
      --sector SCHOOL --role AGENCY_SYSTEM --name "Ekskolan"
  samplan-server keygen --out var/audit-key.pem \
      --origin samplan.localhost/audit
  samplan-server --config var/samplan.textproto
)";

struct Args {
  std::string command;  // "", "check-config", "register-agency", "keygen"
  std::string config, listen, admin_listen, db, postgres, log_format, log_level;
  std::string out, origin;
  std::string id, sector, role, name;
  bool help = false;
};

int UsageError(const std::string& message) {
  std::fprintf(stderr, "samplan-server: %s\nTry 'samplan-server --help'.\n",
               message.c_str());
  return 2;
}

bool Parse(int argc, char** argv, Args& a, std::string& error) {
  int i = 1;
  if (i < argc && argv[i][0] != '-') a.command = argv[i++];
  if (!a.command.empty() && a.command != "check-config" &&
      a.command != "register-agency" && a.command != "keygen") {
    error = "unknown command '" + a.command + "'";
    return false;
  }
  for (; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "-h" || flag == "--help") {
      a.help = true;
      continue;
    }
    std::string value;
    const size_t eq = flag.find('=');
    if (eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      error = "flag " + flag + " needs a value";
      return false;
    }
    std::string* target = nullptr;
    if (flag == "--config") target = &a.config;
    if (flag == "--listen") target = &a.listen;
    if (flag == "--admin-listen") target = &a.admin_listen;
    if (flag == "--db") target = &a.db;
    if (flag == "--postgres") target = &a.postgres;
    if (flag == "--log-format") target = &a.log_format;
    if (flag == "--log-level") target = &a.log_level;
    if (flag == "--id") target = &a.id;
    if (flag == "--sector") target = &a.sector;
    if (flag == "--role") target = &a.role;
    if (flag == "--name") target = &a.name;
    if (flag == "--out") target = &a.out;
    if (flag == "--origin") target = &a.origin;
    if (target == nullptr) {
      error = "unknown flag " + flag;
      return false;
    }
    *target = value;
  }
  return true;
}

void SetUpLogging(const config::v1::LogConfig& log) {
  auto logger = spdlog::stderr_logger_mt("samplan");
  if (log.format() == config::v1::LogConfig::FORMAT_JSON) {
    logger->set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","msg":"%v"})",
        spdlog::pattern_time_type::utc);
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %l %v",
                        spdlog::pattern_time_type::utc);
  }
  logger->set_level(spdlog::level::from_str(log.level()));
  spdlog::set_default_logger(logger);
  // Protobuf's own complaints (a client's string that is not UTF-8, ...)
  // are about the client's input, which the client is told about; they go
  // to the service log at debug level, in its format, naming only fields.
  google::protobuf::SetLogHandler([](google::protobuf::LogLevel level,
                                     const char* /*file*/, int /*line*/,
                                     const std::string& message) {
    if (level == google::protobuf::LOGLEVEL_FATAL) {
      spdlog::critical("protobuf: {}", message);
    } else {
      spdlog::debug("protobuf: {}", message);
    }
  });
}

int RegisterAgency(const Args& a) {
  if (a.db.empty() == a.postgres.empty()) {
    return UsageError(
        "register-agency needs --db PATH or --postgres CONNINFO (one of them)");
  }
  if (!consent::IsValidAgencyId(a.id)) {
    return UsageError("--id must be 2-63 characters of a-z 0-9 -");
  }
  v1::Sector sector;
  if (!v1::Sector_Parse("SECTOR_" + a.sector, &sector) ||
      sector == v1::SECTOR_UNSPECIFIED) {
    return UsageError("--sector must be SCHOOL, SOCIAL_SERVICES or HEALTHCARE");
  }
  v1::AgencyRole role;
  if (!v1::AgencyRole_Parse("AGENCY_ROLE_" + a.role, &role) ||
      role == v1::AGENCY_ROLE_UNSPECIFIED) {
    return UsageError("--role must be AGENCY_SYSTEM, AUDITOR or ADMINISTRATOR");
  }
  auto store =
      a.postgres.empty()
          ? storage::OpenSqliteStore(storage::SqliteOptions{a.db})
          : storage::OpenPostgresStore(storage::PostgresOptions{a.postgres});
  if (!store.ok()) {
    std::fprintf(stderr, "samplan-server: %s\n",
                 std::string(store.status().message()).c_str());
    return 1;
  }
  SystemClock clock;
  v1::Agency in;
  in.set_display_name(a.name.empty() ? a.id : a.name);
  in.set_sector(sector);
  in.set_role(role);
  auto built = app::NewAgency(a.id, in, clock.Now());
  if (!built.ok()) {
    return UsageError(std::string(built.status().message()));
  }
  const v1::Agency& agency = *built;
  app::Caller operator_caller;
  operator_caller.agency_id = a.id;
  operator_caller.actor = "local-operator";
  // The operator with the database in hand acts as an administrator.
  operator_caller.role = app::Role::kAdministrator;
  absl::Status s = (*store)->Write([&](storage::Transaction& tx) {
    return app::RegisterAgency(tx, operator_caller, agency, clock.Now());
  });
  const bool existed = absl::IsAlreadyExists(s);
  if (existed) s = absl::OkStatus();
  if (!s.ok()) {
    std::fprintf(stderr, "samplan-server: %s\n",
                 std::string(s.message()).c_str());
    return 1;
  }
  std::printf("%s agencies/%s (%s, %s)\n",
              existed ? "already registered:" : "registered", a.id.c_str(),
              a.sector.c_str(), a.role.c_str());
  return 0;
}

// Writes `text` to a new file with `mode`; fails if the file exists.
absl::Status WriteNewFile(const std::string& path, const std::string& text,
                          mode_t mode) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, mode);
  if (fd < 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot create ", path, ": ", std::strerror(errno),
        errno == EEXIST ? " (keygen never overwrites a key)" : ""));
  }
  const bool ok = write(fd, text.data(), text.size()) ==
                      static_cast<ssize_t>(text.size()) &&
                  fsync(fd) == 0;
  close(fd);
  if (!ok) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

int Keygen(const Args& a) {
  if (a.out.empty()) return UsageError("keygen needs --out FILE");
  if (a.origin.empty()) return UsageError("keygen needs --origin ORIGIN");
  if (absl::Status s = CheckOrigin(a.origin, "--origin"); !s.ok()) {
    return UsageError(std::string(s.message()));
  }
  auto pem = audit::GenerateSigningKeyPem();
  if (!pem.ok()) {
    std::fprintf(stderr, "samplan-server: %s\n",
                 std::string(pem.status().message()).c_str());
    return 1;
  }
  auto signer = audit::NoteSigner::FromPrivateKeyPem(*pem, a.origin);
  if (!signer.ok()) {
    std::fprintf(stderr, "samplan-server: %s\n",
                 std::string(signer.status().message()).c_str());
    return 1;
  }
  for (const auto& [path, text, mode] :
       {std::tuple<std::string, std::string, mode_t>{a.out, *pem, 0600},
        {a.out + ".pub", (*signer)->PublicKeyPem(), 0644},
        {a.out + ".vkey", (*signer)->VerifierKey() + "\n", 0644}}) {
    if (absl::Status s = WriteNewFile(path, text, mode); !s.ok()) {
      std::fprintf(stderr, "samplan-server: %s\n",
                   std::string(s.message()).c_str());
      return 1;
    }
  }
  std::printf(
      "wrote %s (private, 0600), %s.pub and %s.vkey\nverifier key: %s\n",
      a.out.c_str(), a.out.c_str(), a.out.c_str(),
      (*signer)->VerifierKey().c_str());
  return 0;
}

int Serve(const Args& a, bool check_only) {
  if (a.config.empty()) return UsageError("--config FILE is required");
  auto cfg = LoadConfigFile(a.config);
  if (!cfg.ok()) {
    std::fprintf(stderr, "samplan-server: %s\n",
                 std::string(cfg.status().message()).c_str());
    return 2;
  }
  if (!a.listen.empty()) cfg->mutable_api()->set_address(a.listen);
  if (!a.admin_listen.empty())
    cfg->mutable_admin()->set_address(a.admin_listen);
  if (!a.db.empty()) cfg->mutable_storage()->set_sqlite_path(a.db);
  if (a.log_format == "json") {
    cfg->mutable_log()->set_format(config::v1::LogConfig::FORMAT_JSON);
  } else if (a.log_format == "text") {
    cfg->mutable_log()->set_format(config::v1::LogConfig::FORMAT_TEXT);
  } else if (!a.log_format.empty()) {
    return UsageError("--log-format must be text or json");
  }
  if (!a.log_level.empty()) cfg->mutable_log()->set_level(a.log_level);
  if (absl::Status s = FinishConfig(*cfg); !s.ok()) {
    std::fprintf(stderr, "samplan-server: configuration %s: %s\n",
                 a.config.c_str(), std::string(s.message()).c_str());
    return 2;
  }
  if (check_only) {
    std::printf("configuration %s is valid\n", a.config.c_str());
    return 0;
  }
  SetUpLogging(cfg->log());

  // Signals are taken by sigwait below, on this thread only. A shell starts
  // background jobs with SIGINT ignored, and an ignored signal never reaches
  // sigwait: restore the defaults first.
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  ServerOptions options;
  options.config = *cfg;
  auto server = Server::Start(std::move(options));
  if (!server.ok()) {
    spdlog::error("cannot start: {}", std::string(server.status().message()));
    return 1;
  }
  spdlog::info("samplan-server listening: api {} (port {}){}{}",
               cfg->api().address(), (*server)->api_port(),
               (*server)->rest_port() != 0
                   ? absl::StrCat(", rest port ", (*server)->rest_port())
                   : std::string(),
               (*server)->admin_port() != 0
                   ? absl::StrCat(", admin port ", (*server)->admin_port())
                   : std::string());
  std::fflush(stderr);
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("{} received: finishing in-flight calls",
               sig == SIGINT ? "SIGINT" : "SIGTERM");
  (*server)->Shutdown();
  spdlog::info("stopped; database closed");
  return 0;
}

}  // namespace
}  // namespace samplan::server

int main(int argc, char** argv) {
  // Debian's Abseil is built with mutex deadlock detection, which records
  // every lock order in a global graph on every lock: the tests keep it,
  // the server does not pay it on every call.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  using namespace samplan::server;  // NOLINT
  Args args;
  std::string error;
  if (!Parse(argc, argv, args, error)) return UsageError(error);
  if (args.help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (args.command == "register-agency") return RegisterAgency(args);
  if (args.command == "keygen") return Keygen(args);
  return Serve(args, args.command == "check-config");
}
