// REST/JSON routing from the protos themselves: every method's
// google.api.http rule, read from the compiled descriptors at start, becomes
// a route (path template with variables, a body mapping, query parameters
// for the remaining fields, additional_bindings). A newly annotated method
// needs no REST code. JSON follows the protobuf JSON mapping.
//
// No HTTP library here: server/rest_server.h serves these routes over
// HTTP/1.1, and server/openapi.h describes them.

#ifndef SAMPLAN_SERVER_REST_ROUTES_H_
#define SAMPLAN_SERVER_REST_ROUTES_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace google::protobuf {
class Descriptor;
class FieldDescriptor;
class Message;
class MethodDescriptor;
class ServiceDescriptor;
}  // namespace google::protobuf

namespace samplan::server::rest {

// A parsed path template: "/v1/{name=plans/*}:approve".
struct PathTemplate {
  struct Segment {
    enum Kind { kLiteral, kStar, kDoubleStar };
    Kind kind = kLiteral;
    std::string literal;
  };
  // A variable binds the segments [begin, end) to a field path.
  struct Variable {
    std::vector<const google::protobuf::FieldDescriptor*> field_path;
    std::string field_name;  // "plan.name"
    int begin = 0;
    int end = 0;
  };
  std::string text;
  std::vector<Segment> segments;
  std::vector<Variable> variables;
  std::string verb;  // "approve", or ""
};

// Parses `text` against `request` (the method's input type), whose fields
// the variables name. INVALID_ARGUMENT naming the problem otherwise: the
// grammar of google/api/http.proto, variables naming string fields.
absl::StatusOr<PathTemplate> ParsePathTemplate(
    absl::string_view text, const google::protobuf::Descriptor& request);

struct Route {
  const google::protobuf::MethodDescriptor* method = nullptr;
  std::string http_method;  // "GET", "POST", "PATCH", "PUT", "DELETE"
  PathTemplate path;
  // "" (no body: every field not in the path is a query parameter), "*"
  // (the whole request), or the name of a message field.
  std::string body;
  const google::protobuf::FieldDescriptor* body_field = nullptr;
};

// The routes of every method of `service` that has a google.api.http rule,
// its additional bindings included. INVALID_ARGUMENT naming the method
// for a rule that cannot be served.
absl::StatusOr<std::vector<Route>> RoutesOf(
    const google::protobuf::ServiceDescriptor& service);

class Router {
 public:
  explicit Router(std::vector<Route> routes);

  struct Match {
    const Route* route = nullptr;
    // The variables' values, percent-decoded, in the route's order.
    std::vector<std::string> values;
  };

  // The route for `http_method` and `path` (no query). NOT_FOUND (reason
  // UNKNOWN_ROUTE) when no route has the path; UNIMPLEMENTED (reason
  // UNKNOWN_ROUTE, metadata "allow") when routes have the path but not the
  // method.
  absl::StatusOr<Match> Find(absl::string_view http_method,
                             absl::string_view path) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;  // routes with a verb first
};

// Fills `request` (of the route's input type, cleared first) from the
// body (JSON), the path variables and the query string (without '?').
// INVALID_ARGUMENT naming the field at fault: reason INVALID_FIELD with the
// field's snake_case path (an unknown JSON field or query parameter named
// as written), or MALFORMED_REQUEST for a body that is not JSON at all.
absl::Status BuildRequest(const Router::Match& match, absl::string_view query,
                          absl::string_view body,
                          google::protobuf::Message* request);

// The system parameter `alt` of Google's APIs, taken out of `query` (and
// so not a field of the request): `alt=json`, the default, answers in JSON;
// `alt=media` answers a method whose response is a document (IsDocument:
// PlanService.RenderPlan, ConsentService.RenderGrantReceipt) with the
// document itself. Returns whether media was asked for; INVALID_ARGUMENT
// naming `alt` for another value, for `alt` given twice, or for media from
// a method that answers with no document. A query without `alt` is left
// as it is (nothing is copied); with it, `*query` is pointed at the rest,
// kept in `*rest`.
absl::StatusOr<bool> TakeAltMedia(const google::protobuf::Descriptor& response,
                                  absl::string_view* query, std::string* rest);

// Whether messages of `type` are documents: a string content_type, bytes
// content and a string file_name.
bool IsDocument(const google::protobuf::Descriptor& type);

// The document a document response carries.
struct Media {
  std::string content_type;
  std::string content;
  // The response's file_name when it is safe in a header
  // (IsPlainFileName), else empty.
  std::string file_name;
};
// `response` must be of a type IsDocument accepts.
Media MediaOf(const google::protobuf::Message& response);

// `message` in the protobuf JSON mapping (lowerCamelCase names, enums as
// names, int64 as strings, RFC 3339 timestamps), on one line.
absl::Status ToJson(const google::protobuf::Message& message, std::string* out);

// The error as the JSON form of its google.rpc.Status (rpc_status.h).
std::string StatusJson(const absl::Status& status);

// `value` as a JSON string, quotes included (also valid in YAML).
std::string JsonString(absl::string_view value);

// Decodes %XX escapes (and '+' as a space when `plus_is_space`). False for
// a malformed escape.
bool PercentDecode(absl::string_view in, bool plus_is_space, std::string* out);

}  // namespace samplan::server::rest

#endif  // SAMPLAN_SERVER_REST_ROUTES_H_
