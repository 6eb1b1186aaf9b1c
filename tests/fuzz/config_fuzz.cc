// The configuration loader: any text is refused with INVALID_ARGUMENT
// (naming where, or which field) or gives a configuration that FinishConfig
// completes or refuses naming a field; a finished configuration gives a
// consent policy. Nothing is read from disk (check_files off).

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

#include "common/errors.h"
#include "server/config.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

void WriteSeeds() {
  std::ifstream in(SAMPLAN_SOURCE_DIR "/deploy/samplan.textproto");
  std::stringstream text;
  text << in.rdbuf();
  FUZZ_CHECK(!text.str().empty(), "deploy/samplan.textproto");
  samplan::fuzz::WriteSeed("deploy", text.str());
  samplan::fuzz::WriteSeed(
      "minimal",
      "api { address: \"127.0.0.1:0\" }\n"
      "tls { ca_file: \"ca\" cert_file: \"c\" key_file: \"k\" }\n"
      "storage { sqlite_path: \"x.db\" }\n"
      "audit { origin: \"o\" signing_key_file: \"k\" }\n");
  samplan::fuzz::WriteSeed(
      "postgres-limits",
      "api { address: \"[::1]:7443\" }\n"
      "storage { postgres { conninfo: \"host=127.0.0.1\" } }\n"
      "limits { max_message_bytes: 1 agency_calls_per_second: 0.5 "
      "agency_burst: 3 }\n"
      "policy { consent_age: 13 max_grant_months: 100 }\n"
      "log { level: \"debug\" format: FORMAT_JSON }\n");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (samplan::fuzz::SeedDir() != nullptr) {
    WriteSeeds();
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = samplan::server::ParseConfigText(text, "fuzz.textproto");
  if (!config.ok()) {
    FUZZ_CHECK(config.status().code() == absl::StatusCode::kInvalidArgument,
               config.status().ToString());
    return 0;
  }
  absl::Status finished = samplan::server::FinishConfig(*config, false);
  if (!finished.ok()) {
    FUZZ_CHECK(finished.code() == absl::StatusCode::kInvalidArgument,
               finished.ToString());
    FUZZ_CHECK(samplan::FieldOf(finished).has_value(), finished.ToString());
    return 0;
  }
  auto policy = samplan::server::PolicyFromConfig(*config);
  FUZZ_CHECK(policy.ok(), policy.status().ToString());
  return 0;
}
