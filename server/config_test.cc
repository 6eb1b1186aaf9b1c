#include "server/config.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "common/errors.h"
#include "common/status_matchers.h"
#include "common/test_dir.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace samplan::server {
namespace {

using ::testing::HasSubstr;

std::string WriteTemp(const std::string& name, const std::string& text) {
  const auto path = ProcessTempDir() / name;
  std::ofstream(path) << text;
  return path.string();
}

TEST(ConfigTest, TheShippedExampleIsValid) {
  auto cfg = LoadConfigFile(SAMPLAN_SOURCE_DIR "/deploy/samplan.textproto");
  ASSERT_THAT(cfg, IsOk());
  ASSERT_THAT(FinishConfig(*cfg, /*check_files=*/false), IsOk());
  EXPECT_EQ(cfg->api().address(), "127.0.0.1:7443");
  auto policy = PolicyFromConfig(*cfg);
  ASSERT_THAT(policy, IsOk());
  EXPECT_EQ(policy->consent_age, 15);
  EXPECT_TRUE(policy->joint_custody_requires_all);
}

TEST(ConfigTest, SyntaxErrorsGiveLineAndColumn) {
  const std::string path =
      WriteTemp("bad.textproto", "api { address: \"x:1\" }\nstorage {\n");
  auto cfg = LoadConfigFile(path);
  EXPECT_THAT(cfg, StatusIs(absl::StatusCode::kInvalidArgument,
                            HasSubstr("bad.textproto:3:")));
  const std::string unknown =
      WriteTemp("unknown.textproto", "api { adress: \"x:1\" }\n");
  EXPECT_THAT(
      LoadConfigFile(unknown),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("adress")));
  EXPECT_THAT(LoadConfigFile("/nonexistent/samplan.textproto"),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST(ConfigTest, EveryProblemNamesItsField) {
  struct Case {
    std::string text;
    std::string field;
  };
  const std::string tls =
      "tls { ca_file: \"a\" cert_file: \"b\" key_file: \"c\" } ";
  const std::string base = "api { address: \"127.0.0.1:0\" } " + tls +
                           "storage { sqlite_path: \"x.db\" } ";
  const std::string audit =
      "audit { origin: \"o.example/audit\" signing_key_file: \"k.pem\" ";
  const Case cases[] = {
      {"", "api.address"},
      {"api { address: \"nohostport\" }", "api.address"},
      {"api { address: \"127.0.0.1:0\" } admin { address: \"x\" }",
       "admin.address"},
      {"api { address: \"127.0.0.1:0\" } rest { address: \"x\" }",
       "rest.address"},
      {"api { address: \"127.0.0.1:0\" } metrics { address: \"x\" }",
       "metrics.address"},
      {"api { address: \"127.0.0.1:0\" }", "tls.ca_file"},
      {"api { address: \"127.0.0.1:0\" } " + tls, "storage.sqlite_path"},
      {"api { address: \"127.0.0.1:0\" } " + tls + "storage { postgres {} }",
       "storage.postgres.conninfo"},
      {base + "policy { consent_age: 30 }", "policy.consent_age"},
      {base + "policy { max_grant_months: 500 }", "policy.max_grant_months"},
      {base + "limits { max_message_bytes: 10 }", "limits.max_message_bytes"},
      {base + "limits { max_page_size: -1 }", "limits.max_page_size"},
      {base + "log { level: \"loud\" }", "log.level"},
      {base, "audit.origin"},
      {base + "audit { origin: \"has space\" }", "audit.origin"},
      {base + "audit { origin: \"a+b\" }", "audit.origin"},
      {base + "audit { origin: \"o\" }", "audit.signing_key_file"},
      {base + audit + "checkpoint_every_events: -1 }",
       "audit.checkpoint_every_events"},
      {base + audit + "checkpoint_every_seconds: -5 }",
       "audit.checkpoint_every_seconds"},
      {base + audit + "sweep_every_seconds: -1 }", "audit.sweep_every_seconds"},
  };
  for (const Case& c : cases) {
    config::v1::ServerConfig cfg;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(c.text, &cfg))
        << c.text;
    absl::Status s = FinishConfig(cfg, /*check_files=*/false);
    EXPECT_THAT(
        s, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.field)))
        << c.text;
    EXPECT_EQ(FieldOf(s), c.field) << c.text;
  }
  config::v1::ServerConfig ok;
  ASSERT_TRUE(
      google::protobuf::TextFormat::ParseFromString(base + audit + "}", &ok));
  EXPECT_THAT(FinishConfig(ok, false), IsOk());
  EXPECT_EQ(ok.limits().max_page_size(), 500);
  EXPECT_EQ(ok.audit().checkpoint_every_events(), 1000);
  EXPECT_EQ(ok.audit().checkpoint_every_seconds(), 10);
  EXPECT_EQ(ok.audit().sweep_every_seconds(), 60);
  EXPECT_EQ(ok.log().level(), "info");
  // With file checks on, unreadable TLS files are named.
  EXPECT_THAT(
      FinishConfig(ok, true),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tls.ca_file")));
}

}  // namespace
}  // namespace samplan::server
