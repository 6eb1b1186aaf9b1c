// The REST router and JSON mapping: the routes of every service, built
// from the protos' google.api.http rules as the server builds them, and a
// request given as
//   <HTTP method> <path>[?<query>]\n<body>
// Routing, then filling the method's request from path, query and JSON
// body, never crashes; every refusal is one a client is documented to get
// (404 or 405 from the router, 400 naming the field from the mapping) and
// prints as a google.rpc.Status; every request the mapping accepts prints
// back to JSON. Error messages are UTF-8.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "app/method_table.h"
#include "common/errors.h"
#include "common/utf8.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/status.pb.h"
#include "server/rest_routes.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

namespace rest = samplan::server::rest;

const rest::Router& TheRouter() {
  static const rest::Router* router = [] {
    std::vector<rest::Route> all;
    for (const std::string& name : samplan::app::MethodTable::ServiceNames()) {
      const google::protobuf::ServiceDescriptor* service =
          google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
              name);
      FUZZ_CHECK(service != nullptr, name);
      auto routes = rest::RoutesOf(*service);
      FUZZ_CHECK(routes.ok(), routes.status().ToString());
      for (rest::Route& r : *routes) all.push_back(std::move(r));
    }
    return new rest::Router(std::move(all));
  }();
  return *router;
}

void WriteSeeds() {
  int n = 0;
  for (const char* seed : {
           "GET /v1/plans/p1\n",
           "GET /v1/plans?pageSize=5&state=PLAN_STATE_APPROVED\n",
           "POST /v1/plans/p1/entries?requestId=r-1\n"
           "{\"category\":\"INFORMATION_CATEGORY_NEEDS\",\"kind\":"
           "\"ENTRY_KIND_NOTE\",\"text\":\"Behöver stöd\"}",
           "POST /v1/plans/p1:approve\n"
           "{\"requestId\":\"a-1\",\"revision\":\"2\",\"approvals\":[{"
           "\"approverRole\":\"APPROVER_ROLE_GUARDIAN\","
           "\"approverIdentityNumber\":\"201503142383\"}]}",
           "POST /v1/grants?requestId=g-1\n"
           "{\"subject\":\"201503142383\",\"validFrom\":"
           "\"2026-06-01T10:00:00Z\",\"validUntil\":\"2026-12-01T00:00:00.5Z\","
           "\"scope\":{\"categories\":[\"INFORMATION_CATEGORY_HEALTH\"]}}",
           "POST /v1/grants/g1:withdraw\n{\"requestId\":\"w-1\"}",
           "GET /v1/auditEvents?filter.subject=201503142383&pageToken=abc\n",
           "POST /v1/access:check\n{\"plan\":\"plans/p1\"}",
           "DELETE /v1/plans/p1/entries/e1?etag=%22x%22\n",
           "PATCH /v1/plans/p1/entries/e1?updateMask=text\n{\"text\":\"x\"}",
           "GET /v1/plans/%2e%2e%2Fagencies\n",
       }) {
    samplan::fuzz::WriteSeed(absl::StrCat("seed-", n++), seed);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (samplan::fuzz::SeedDir() != nullptr) {
    WriteSeeds();
    std::exit(0);
  }
  TheRouter();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t line_end = std::min(input.find('\n'), input.size());
  const absl::string_view line = input.substr(0, line_end);
  const absl::string_view body =
      line_end < input.size() ? input.substr(line_end + 1) : "";
  const size_t space = std::min(line.find(' '), line.size());
  const absl::string_view method = line.substr(0, space);
  absl::string_view target =
      space < line.size() ? line.substr(space + 1) : absl::string_view();
  absl::string_view query;
  if (const size_t q = target.find('?'); q != absl::string_view::npos) {
    query = target.substr(q + 1);
    target = target.substr(0, q);
  }

  auto check_error = [](const absl::Status& s) {
    // Error messages quote no bytes of the request that are not UTF-8
    // (a client could not parse the answer).
    FUZZ_CHECK(samplan::IsUtf8(s.message()), s.ToString());
    const std::string json = rest::StatusJson(s);
    google::rpc::Status status;
    FUZZ_CHECK(google::protobuf::util::JsonStringToMessage(json, &status).ok(),
               json);
    FUZZ_CHECK(status.code() == static_cast<int>(s.code()), json);
  };

  const rest::Router& router = TheRouter();
  absl::StatusOr<rest::Router::Match> match = router.Find(method, target);
  if (!match.ok()) {
    FUZZ_CHECK(match.status().code() == absl::StatusCode::kNotFound ||
                   match.status().code() == absl::StatusCode::kUnimplemented,
               match.status().ToString());
    FUZZ_CHECK(samplan::ReasonOf(match.status()) == "UNKNOWN_ROUTE",
               match.status().ToString());
    check_error(match.status());
    return 0;
  }
  const google::protobuf::Message* prototype =
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(
          match->route->method->input_type());
  std::unique_ptr<google::protobuf::Message> request(prototype->New());
  absl::Status built = rest::BuildRequest(*match, query, body, request.get());
  if (!built.ok()) {
    FUZZ_CHECK(built.code() == absl::StatusCode::kInvalidArgument,
               built.ToString());
    const auto reason = samplan::ReasonOf(built);
    FUZZ_CHECK(
        reason == "MALFORMED_REQUEST" ||
            (reason == "INVALID_FIELD" && samplan::FieldOf(built).has_value()),
        built.ToString());
    check_error(built);
    return 0;
  }
  std::string json;
  const absl::Status printed = rest::ToJson(*request, &json);
  FUZZ_CHECK(printed.ok(), printed.ToString());
  return 0;
}
