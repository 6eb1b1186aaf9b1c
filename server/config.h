// samplan-server's configuration: a samplan.config.v1.ServerConfig read from
// a protobuf text-format file, with defaults filled in and every field
// validated before the server starts.

#ifndef SAMPLAN_SERVER_CONFIG_H_
#define SAMPLAN_SERVER_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "consent/engine.h"
#include "samplan/config/v1/config.pb.h"

namespace samplan::server {

// Parses the text-format file at `path`. INVALID_ARGUMENT with
// "<path>:<line>:<column>: <problem>" for a syntax error or unknown field;
// NOT_FOUND if the file cannot be read.
absl::StatusOr<config::v1::ServerConfig> LoadConfigFile(
    const std::string& path);

// The same for `text` itself; `source` names it in errors (a path).
absl::StatusOr<config::v1::ServerConfig> ParseConfigText(
    absl::string_view text, absl::string_view source);

// Fills in defaults and checks every field. INVALID_ARGUMENT naming the
// field (e.g. "tls.ca_file: cannot read /x/ca.pem") on the first problem.
// `check_files` also opens the TLS files.
absl::Status FinishConfig(config::v1::ServerConfig& config,
                          bool check_files = true);

// An audit log origin (audit.origin, and the checkpoint key's name): 1-100
// printable ASCII characters without spaces or '+'. INVALID_ARGUMENT naming
// `field` otherwise.
absl::Status CheckOrigin(absl::string_view origin, absl::string_view field);

// The consent policy the configuration asks for, with zone
// Europe/Stockholm. FAILED_PRECONDITION if the zone cannot be loaded.
absl::StatusOr<consent::Policy> PolicyFromConfig(
    const config::v1::ServerConfig& config);

}  // namespace samplan::server

#endif  // SAMPLAN_SERVER_CONFIG_H_
