#include "server/config.h"

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace samplan::server {
namespace {

class FirstError final : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (error_.empty()) {
      error_ = absl::StrCat(line + 1, ":", column + 1, ": ", message);
    }
  }
  void AddWarning(int, int, const std::string&) override {}
  const std::string& error() const { return error_; }

 private:
  std::string error_;
};

// "host:port" or "[v6]:port" with a port 0-65535.
bool ValidAddress(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  int port = 0;
  if (!absl::SimpleAtoi(address.substr(colon + 1), &port)) return false;
  if (port < 0 || port > 65535) return false;
  if (address.front() == '[') return address[colon - 1] == ']';
  return true;
}

absl::Status CheckFile(const std::string& path, absl::string_view field,
                       bool check_files) {
  if (path.empty()) return InvalidField(field, "is required");
  if (!check_files) return absl::OkStatus();
  std::ifstream in(path);
  if (!in.good())
    return InvalidField(field, absl::StrCat("cannot read ", path));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<config::v1::ServerConfig> ParseConfigText(
    absl::string_view text, absl::string_view source) {
  config::v1::ServerConfig config;
  google::protobuf::TextFormat::Parser parser;
  FirstError errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text), &config)) {
    return InvalidField("config", absl::StrCat(source, ":", errors.error()));
  }
  return config;
}

absl::StatusOr<config::v1::ServerConfig> LoadConfigFile(
    const std::string& path) {
  std::ifstream in(path);
  if (!in.good()) {
    return absl::NotFoundError(
        absl::StrCat("cannot read the configuration file ", path));
  }
  std::stringstream text;
  text << in.rdbuf();
  return ParseConfigText(text.str(), path);
}

absl::Status CheckOrigin(absl::string_view origin, absl::string_view field) {
  if (origin.empty()) {
    return InvalidField(field,
                        "is required, e.g. \"samplan.example.se/audit\"");
  }
  if (origin.size() > 100) {
    return InvalidField(field, "must be at most 100 characters");
  }
  for (char ch : origin) {
    if (ch <= ' ' || ch > '~' || ch == '+') {
      return InvalidField(field,
                          "must be printable ASCII without spaces or '+'");
    }
  }
  return absl::OkStatus();
}

absl::Status FinishConfig(config::v1::ServerConfig& c, bool check_files) {
  if (c.api().address().empty()) {
    return InvalidField("api.address", "is required, e.g. \"127.0.0.1:7443\"");
  }
  if (!ValidAddress(c.api().address())) {
    return InvalidField("api.address", "must be host:port");
  }
  if (!c.admin().address().empty() && !ValidAddress(c.admin().address())) {
    return InvalidField("admin.address", "must be host:port");
  }
  if (!c.rest().address().empty() && !ValidAddress(c.rest().address())) {
    return InvalidField("rest.address", "must be host:port");
  }
  if (!c.metrics().address().empty() && !ValidAddress(c.metrics().address())) {
    return InvalidField("metrics.address", "must be host:port");
  }
  RETURN_IF_ERROR(CheckFile(c.tls().ca_file(), "tls.ca_file", check_files));
  RETURN_IF_ERROR(CheckFile(c.tls().cert_file(), "tls.cert_file", check_files));
  RETURN_IF_ERROR(CheckFile(c.tls().key_file(), "tls.key_file", check_files));
  if (c.storage().has_postgres()) {
    if (c.storage().postgres().conninfo().empty()) {
      return InvalidField("storage.postgres.conninfo", "is required");
    }
  } else if (c.storage().sqlite_path().empty()) {
    return InvalidField("storage.sqlite_path",
                        "is required (or storage.postgres)");
  }

  auto* p = c.mutable_policy();
  if (p->consent_age() == 0) p->set_consent_age(15);
  if (p->adult_age() == 0) p->set_adult_age(18);
  if (p->max_grant_months() == 0) p->set_max_grant_months(12);
  if (p->consent_age() < 1 || p->consent_age() > p->adult_age()) {
    return InvalidField("policy.consent_age",
                        "must be between 1 and policy.adult_age");
  }
  if (p->adult_age() > 25) {
    return InvalidField("policy.adult_age", "must be at most 25");
  }
  if (p->max_grant_months() < 1 || p->max_grant_months() > 120) {
    return InvalidField("policy.max_grant_months", "must be 1-120");
  }

  auto* l = c.mutable_limits();
  if (l->max_message_bytes() == 0) l->set_max_message_bytes(4 << 20);
  if (l->keepalive_time_seconds() == 0) l->set_keepalive_time_seconds(60);
  if (l->keepalive_timeout_seconds() == 0) {
    l->set_keepalive_timeout_seconds(20);
  }
  if (l->max_page_size() == 0) l->set_max_page_size(500);
  if (l->shutdown_grace_seconds() == 0) l->set_shutdown_grace_seconds(10);
  if (l->max_message_bytes() < 4096 || l->max_message_bytes() > (64 << 20)) {
    return InvalidField("limits.max_message_bytes", "must be 4096-67108864");
  }
  if (l->keepalive_time_seconds() < 1) {
    return InvalidField("limits.keepalive_time_seconds", "must be positive");
  }
  if (l->keepalive_timeout_seconds() < 1) {
    return InvalidField("limits.keepalive_timeout_seconds", "must be positive");
  }
  if (l->max_page_size() < 1 || l->max_page_size() > 10000) {
    return InvalidField("limits.max_page_size", "must be 1-10000");
  }
  if (l->shutdown_grace_seconds() < 0) {
    return InvalidField("limits.shutdown_grace_seconds",
                        "must not be negative");
  }
  if (l->agency_calls_per_second() < 0) {
    return InvalidField("limits.agency_calls_per_second",
                        "must not be negative (0: no limit)");
  }
  if (l->agency_burst() == 0) {
    l->set_agency_burst(2 * l->agency_calls_per_second());
  }
  if (l->agency_burst() < 0 ||
      (l->agency_calls_per_second() > 0 && l->agency_burst() < 1)) {
    return InvalidField("limits.agency_burst", "must be positive");
  }
  if (l->max_header_bytes() == 0) l->set_max_header_bytes(16384);
  if (l->max_url_bytes() == 0) l->set_max_url_bytes(4096);
  if (l->max_connections() == 0) l->set_max_connections(1024);
  if (l->read_timeout_ms() == 0) l->set_read_timeout_ms(10000);
  if (l->write_timeout_ms() == 0) l->set_write_timeout_ms(30000);
  if (l->rest_threads() == 0) l->set_rest_threads(4);
  if (l->max_header_bytes() < 1024 || l->max_header_bytes() > (1 << 20)) {
    return InvalidField("limits.max_header_bytes", "must be 1024-1048576");
  }
  if (l->max_url_bytes() < 256 || l->max_url_bytes() > l->max_header_bytes()) {
    return InvalidField("limits.max_url_bytes",
                        "must be 256 to limits.max_header_bytes");
  }
  if (l->max_connections() < 1 || l->max_connections() > 100000) {
    return InvalidField("limits.max_connections", "must be 1-100000");
  }
  if (l->read_timeout_ms() < 10 || l->read_timeout_ms() > 600000) {
    return InvalidField("limits.read_timeout_ms", "must be 10-600000");
  }
  if (l->write_timeout_ms() < 10 || l->write_timeout_ms() > 600000) {
    return InvalidField("limits.write_timeout_ms", "must be 10-600000");
  }
  if (l->rest_threads() < 1 || l->rest_threads() > 256) {
    return InvalidField("limits.rest_threads", "must be 1-256");
  }

  auto* log = c.mutable_log();
  if (log->level().empty()) log->set_level("info");
  const std::string& lv = log->level();
  if (lv != "trace" && lv != "debug" && lv != "info" && lv != "warn" &&
      lv != "error") {
    return InvalidField("log.level",
                        "must be trace, debug, info, warn or error");
  }
  if (!config::v1::LogConfig::Format_IsValid(log->format())) {
    return InvalidField("log.format", "must be FORMAT_TEXT or FORMAT_JSON");
  }
  auto* audit = c.mutable_audit();
  RETURN_IF_ERROR(CheckOrigin(audit->origin(), "audit.origin"));
  RETURN_IF_ERROR(CheckFile(audit->signing_key_file(), "audit.signing_key_file",
                            check_files));
  if (audit->checkpoint_every_events() == 0) {
    audit->set_checkpoint_every_events(1000);
  }
  if (audit->checkpoint_every_events() < 1) {
    return InvalidField("audit.checkpoint_every_events", "must be positive");
  }
  if (audit->checkpoint_every_seconds() == 0) {
    audit->set_checkpoint_every_seconds(10);
  }
  if (audit->checkpoint_every_seconds() < 1) {
    return InvalidField("audit.checkpoint_every_seconds", "must be positive");
  }
  if (audit->sweep_every_seconds() == 0) audit->set_sweep_every_seconds(60);
  if (audit->sweep_every_seconds() < 1) {
    return InvalidField("audit.sweep_every_seconds", "must be positive");
  }
  return absl::OkStatus();
}

absl::StatusOr<consent::Policy> PolicyFromConfig(
    const config::v1::ServerConfig& config) {
  ASSIGN_OR_RETURN(consent::Policy policy, consent::DefaultPolicy());
  const auto& p = config.policy();
  if (p.consent_age() != 0) policy.consent_age = p.consent_age();
  if (p.adult_age() != 0) policy.adult_age = p.adult_age();
  if (p.max_grant_months() != 0) policy.max_grant_months = p.max_grant_months();
  policy.teen_rule = p.teen_subject_or_guardians()
                         ? consent::TeenRule::kSubjectOrGuardians
                         : consent::TeenRule::kSubjectOnly;
  policy.joint_custody_requires_all = !p.joint_custody_any_guardian();
  return policy;
}

}  // namespace samplan::server
