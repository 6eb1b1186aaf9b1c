// Connection without a server: option checks, file errors and request ids.
// Calls against a real server are the integration tests' business.

#include "client/client.h"

#include <fstream>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "client/cli.h"
#include "common/status_matchers.h"
#include "common/test_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace samplan::client {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

std::string WriteTempFile(const std::string& name, const std::string& text) {
  const std::string path =
      (ProcessTempDir() / ("samplan-client-" + name)).string();
  std::ofstream out(path, std::ios::out | std::ios::trunc);
  out << text;
  return path;
}

TEST(ConnectionOpenTest, NamesTheFileThatCannotBeRead) {
  ConnectionOptions options;
  options.ca_file = "/nonexistent/samplan/ca.pem";
  EXPECT_THAT(Connection::Open(options),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("/nonexistent/samplan/ca.pem")));

  options.ca_file.clear();
  options.cert_file = "/nonexistent/samplan/school-1.pem";
  options.key_file = "/nonexistent/samplan/school-1.key";
  EXPECT_THAT(Connection::Open(options),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("/nonexistent/samplan/school-1.pem")));
}

TEST(ConnectionOpenTest, RejectsAFileWithoutPem) {
  ConnectionOptions options;
  options.ca_file = WriteTempFile("not-pem.txt", "hello\n");
  EXPECT_THAT(
      Connection::Open(options),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not-pem.txt")));
}

TEST(ConnectionOpenTest, RejectsIncompleteOptions) {
  ConnectionOptions options;
  options.target = "";
  EXPECT_THAT(Connection::Open(options),
              StatusIs(absl::StatusCode::kInvalidArgument));

  options.target = "localhost:7443";
  options.cert_file = "school-1.pem";
  EXPECT_THAT(
      Connection::Open(options),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("key_file")));

  options.cert_file.clear();
  options.deadline = absl::ZeroDuration();
  EXPECT_THAT(
      Connection::Open(options),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("deadline")));

  options.deadline = absl::Seconds(10);
  options.stream_deadline = absl::ZeroDuration();
  EXPECT_THAT(Connection::Open(options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("stream_deadline")));
}

TEST(NewRequestIdTest, IsRandomAndValid) {
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    const std::string id = Connection::NewRequestId();
    EXPECT_THAT(id, MatchesRegex("req-[0-9a-f]{16}"));
    EXPECT_TRUE(cli::IsValidRequestId(id));
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 100u);
}

}  // namespace
}  // namespace samplan::client
