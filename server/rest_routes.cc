#include "server/rest_routes.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"
#include "common/file_names.h"
#include "common/status_macros.h"
#include "common/utf8.h"
#include "google/api/annotations.pb.h"
#include "google/api/http.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "server/rpc_status.h"

namespace samplan::server::rest {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

absl::Status BadTemplate(absl::string_view text, absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("path template \"", text, "\": ", problem));
}

bool IsIdent(absl::string_view s) {
  if (s.empty() || !(absl::ascii_isalpha(s[0]) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return absl::ascii_isalnum(c) || c == '_'; });
}

// The field of `type` called `name` in JSON (lowerCamelCase) or in the
// proto (snake_case).
const FieldDescriptor* FieldByAnyName(const Descriptor& type,
                                      absl::string_view name) {
  for (int i = 0; i < type.field_count(); ++i) {
    const FieldDescriptor* f = type.field(i);
    if (f->json_name() == name || f->name() == name) return f;
  }
  return nullptr;
}

bool IsWellKnown(const Descriptor& type) {
  return absl::StartsWith(type.full_name(), "google.protobuf.");
}

// Parses "a.b.c" (proto names) against `type`: every part but the last a
// singular message field.
absl::StatusOr<std::vector<const FieldDescriptor*>> ResolveProtoPath(
    const Descriptor& type, absl::string_view path) {
  std::vector<const FieldDescriptor*> out;
  const Descriptor* at = &type;
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    if (at == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": not a message before ", part));
    }
    const FieldDescriptor* f = at->FindFieldByName(std::string(part));
    if (f == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": ", at->full_name(), " has no field ", part));
    }
    out.push_back(f);
    at = (f->type() == FieldDescriptor::TYPE_MESSAGE && !f->is_repeated())
             ? f->message_type()
             : nullptr;
  }
  return out;
}

// Parses the segments of "a/*/b/**" into `t` (no variables).
absl::Status ParseSegments(absl::string_view text, absl::string_view segs,
                           PathTemplate* t) {
  for (absl::string_view s : absl::StrSplit(segs, '/')) {
    PathTemplate::Segment seg;
    if (s == "*") {
      seg.kind = PathTemplate::Segment::kStar;
    } else if (s == "**") {
      seg.kind = PathTemplate::Segment::kDoubleStar;
    } else if (!s.empty() &&
               s.find_first_of("{}*=:") == absl::string_view::npos) {
      seg.literal = std::string(s);
    } else {
      return BadTemplate(text, absl::StrCat("bad segment \"", s, "\""));
    }
    t->segments.push_back(std::move(seg));
  }
  return absl::OkStatus();
}

google::protobuf::util::JsonParseOptions ParseOptions() {
  google::protobuf::util::JsonParseOptions o;
  o.ignore_unknown_fields = false;
  return o;
}

std::string ProtoPath(const std::vector<const FieldDescriptor*>& path) {
  std::string out;
  for (const FieldDescriptor* f : path) {
    if (!out.empty()) out += ".";
    out += f->name();
  }
  return out;
}

// Whether `value` parses as field `f` of a message of type `type`.
bool FieldParses(const Descriptor& type, const FieldDescriptor& f,
                 const google::protobuf::Value& value) {
  google::protobuf::Struct s;
  (*s.mutable_fields())[f.json_name()] = value;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(s, &json).ok()) return false;
  std::unique_ptr<Message> m(
      google::protobuf::MessageFactory::generated_factory()
          ->GetPrototype(&type)
          ->New());
  return google::protobuf::util::JsonStringToMessage(json, m.get(),
                                                     ParseOptions())
      .ok();
}

// Whether a name the client wrote (a JSON key, a query parameter) may be
// echoed in an error as the field at fault: a field path of ASCII letters,
// digits, '_' and '.', at most 100 characters. Anything else is not quoted
// back (it could be any bytes, or personal data).
bool Echoable(absl::string_view name) {
  if (name.empty() || name.size() > 100) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '.') return false;
  }
  return true;
}

// The path of the first field of `value` (a JSON object) that does not
// parse as `type`, in snake_case with indexes; "" when none is found.
std::string Blame(const google::protobuf::Value& value, const Descriptor& type,
                  const std::string& prefix) {
  if (value.kind_case() != google::protobuf::Value::kStructValue) return "";
  for (const auto& [key, v] : value.struct_value().fields()) {
    const FieldDescriptor* f = FieldByAnyName(type, key);
    if (f == nullptr && !Echoable(key)) return "";
    const std::string here =
        prefix.empty() ? key : absl::StrCat(prefix, ".", key);
    if (f == nullptr) return here;
    if (FieldParses(type, *f, v)) continue;
    const std::string named =
        prefix.empty() ? f->name() : absl::StrCat(prefix, ".", f->name());
    if (f->type() == FieldDescriptor::TYPE_MESSAGE && !f->is_map() &&
        !IsWellKnown(*f->message_type())) {
      if (!f->is_repeated()) {
        std::string inner = Blame(v, *f->message_type(), named);
        if (!inner.empty()) return inner;
      } else if (v.kind_case() == google::protobuf::Value::kListValue) {
        for (int i = 0; i < v.list_value().values_size(); ++i) {
          std::string inner =
              Blame(v.list_value().values(i), *f->message_type(),
                    absl::StrCat(named, "[", i, "]"));
          if (!inner.empty()) return inner;
        }
      }
    }
    return named;
  }
  return "";
}

// Stands in for a string of the body that is not UTF-8, so that the rest
// of the body can be parsed to find where it was.
constexpr absl::string_view kNotUtf8Marker = "samplan.not-utf8.5e1d";

// The path (snake_case, with indexes) of the value of `value` equal to
// kNotUtf8Marker, or of the object whose key it is; "" when none.
std::string FindMarker(const google::protobuf::Value& value,
                       const Descriptor* type, const std::string& here) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kStringValue:
      return value.string_value() == kNotUtf8Marker ? here : "";
    case google::protobuf::Value::kListValue:
      for (int i = 0; i < value.list_value().values_size(); ++i) {
        std::string inner = FindMarker(value.list_value().values(i), type,
                                       absl::StrCat(here, "[", i, "]"));
        if (!inner.empty()) return inner;
      }
      return "";
    case google::protobuf::Value::kStructValue:
      for (const auto& [key, v] : value.struct_value().fields()) {
        const FieldDescriptor* f =
            type != nullptr ? FieldByAnyName(*type, key) : nullptr;
        if (key == kNotUtf8Marker) return here;
        if (f == nullptr && !Echoable(key)) return here;
        const std::string name = f != nullptr ? f->name() : key;
        const Descriptor* inner_type =
            f != nullptr && f->type() == FieldDescriptor::TYPE_MESSAGE
                ? f->message_type()
                : nullptr;
        std::string inner = FindMarker(
            v, inner_type, here.empty() ? name : absl::StrCat(here, ".", name));
        if (!inner.empty()) return inner;
      }
      return "";
    default:
      return "";
  }
}

// INVALID_FIELD naming the field whose string in `json` (which is not
// UTF-8) holds the first byte that is not; MALFORMED_REQUEST when that is
// not inside a string.
absl::Status NotUtf8(absl::string_view json, const Descriptor& type,
                     const std::string& prefix) {
  const size_t bad = Utf8PrefixLength(json);
  // The string literal around byte `bad`: scan from the start.
  size_t open = absl::string_view::npos;
  for (size_t i = 0; i < json.size(); ++i) {
    if (open == absl::string_view::npos) {
      if (i >= bad) break;
      if (json[i] == '"') open = i;
      continue;
    }
    if (json[i] == '\\') {
      ++i;
      continue;
    }
    if (json[i] != '"') continue;
    if (bad > open && bad < i) {
      const std::string marked = absl::StrCat(
          json.substr(0, open), "\"", kNotUtf8Marker, "\"", json.substr(i + 1));
      google::protobuf::Value any;
      if (IsUtf8(marked) &&
          google::protobuf::util::JsonStringToMessage(marked, &any).ok()) {
        std::string field = FindMarker(any, &type, prefix);
        if (!field.empty()) return InvalidField(field, "is not valid UTF-8");
      }
      break;
    }
    open = absl::string_view::npos;
  }
  return Error(absl::StatusCode::kInvalidArgument, "MALFORMED_REQUEST", "",
               "the body is not valid UTF-8");
}

// Parses `json` into `message`; INVALID_ARGUMENT naming the field at fault
// under `prefix` ("" or the body field).
absl::Status ParseJson(absl::string_view json, Message* message,
                       const std::string& prefix) {
  if (!IsUtf8(json)) return NotUtf8(json, *message->GetDescriptor(), prefix);
  auto parsed = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), message,
      ParseOptions());
  if (parsed.ok()) return absl::OkStatus();
  google::protobuf::Value any;
  if (!google::protobuf::util::JsonStringToMessage(
           google::protobuf::StringPiece(json.data(), json.size()), &any)
           .ok() ||
      any.kind_case() != google::protobuf::Value::kStructValue) {
    return Error(absl::StatusCode::kInvalidArgument, "MALFORMED_REQUEST", "",
                 "the body is not a JSON object");
  }
  std::string field = Blame(any, *message->GetDescriptor(), prefix);
  if (field.empty()) field = prefix;
  if (field.empty()) {
    return Error(absl::StatusCode::kInvalidArgument, "MALFORMED_REQUEST", "",
                 "the body does not match the request message");
  }
  return InvalidField(field,
                      "is not a field of the request, or its value "
                      "does not have the field's JSON type");
}

// Sets the field at `path` of `message` to `value` (text from a path or
// query): scalars and enums parsed by their JSON mapping, repeated fields
// appended to. INVALID_FIELD naming `name` when the value does not fit.
absl::Status SetFromText(Message* message,
                         const std::vector<const FieldDescriptor*>& path,
                         absl::string_view value, const std::string& name) {
  Message* at = message;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    at = at->GetReflection()->MutableMessage(at, path[i]);
  }
  const FieldDescriptor* f = path.back();
  const Reflection* r = at->GetReflection();
  auto bad = [&](absl::string_view why) { return InvalidField(name, why); };
  if (f->is_map()) return bad("a map cannot be given as a query parameter");
  // As gRPC's decoder does: proto3 strings are UTF-8.
  if (!IsUtf8(value)) return bad("is not valid UTF-8");
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      if (f->type() == FieldDescriptor::TYPE_STRING) {
        if (f->is_repeated()) {
          r->AddString(at, f, std::string(value));
        } else {
          r->SetString(at, f, std::string(value));
        }
        return absl::OkStatus();
      }
      break;  // bytes: base64 through the JSON parser
    case FieldDescriptor::CPPTYPE_BOOL: {
      if (value != "true" && value != "false") {
        return bad("must be true or false");
      }
      if (f->is_repeated()) {
        r->AddBool(at, f, value == "true");
      } else {
        r->SetBool(at, f, value == "true");
      }
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      if (!IsWellKnown(*f->message_type())) {
        return bad("is a message: give its fields, as name.field=value");
      }
      break;
    default:
      break;
  }
  // Numbers, enums, bytes and well-known types (Timestamp, Duration, ...)
  // through the JSON mapping, as a quoted string: {"field": "value"}.
  std::unique_ptr<Message> one(at->New());
  const std::string json =
      absl::StrCat("{", JsonString(f->json_name()), ":",
                   f->is_repeated() ? absl::StrCat("[", JsonString(value), "]")
                                    : JsonString(value),
                   "}");
  if (!google::protobuf::util::JsonStringToMessage(json, one.get(),
                                                   ParseOptions())
           .ok()) {
    return bad(
        f->enum_type() != nullptr
            ? absl::StrCat("is not a value of ", f->enum_type()->full_name())
            : "has the wrong format for its type");
  }
  if (!f->is_repeated()) r->ClearField(at, f);
  at->MergeFrom(*one);
  return absl::OkStatus();
}

// Whether `a` is `b` or a prefix of it, or the other way round.
bool Overlaps(const std::vector<const FieldDescriptor*>& a,
              const std::vector<const FieldDescriptor*>& b) {
  const size_t n = std::min(a.size(), b.size());
  return std::equal(a.begin(), a.begin() + n, b.begin());
}

}  // namespace

absl::StatusOr<PathTemplate> ParsePathTemplate(absl::string_view text,
                                               const Descriptor& request) {
  PathTemplate t;
  t.text = std::string(text);
  if (text.empty() || text[0] != '/') {
    return BadTemplate(text, "must start with /");
  }
  // The verb: after the last ':' outside braces.
  absl::string_view rest = text.substr(1);
  const size_t close = rest.rfind('}');
  const size_t colon = rest.rfind(':');
  if (colon != absl::string_view::npos &&
      (close == absl::string_view::npos || colon > close)) {
    t.verb = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
    if (!IsIdent(t.verb)) return BadTemplate(text, "bad verb");
  }
  while (!rest.empty()) {
    if (rest[0] == '{') {
      const size_t end = rest.find('}');
      if (end == absl::string_view::npos) {
        return BadTemplate(text, "unclosed {");
      }
      absl::string_view var = rest.substr(1, end - 1);
      absl::string_view field = var;
      absl::string_view segs = "*";
      if (const size_t eq = var.find('='); eq != absl::string_view::npos) {
        field = var.substr(0, eq);
        segs = var.substr(eq + 1);
      }
      PathTemplate::Variable v;
      v.field_name = std::string(field);
      auto path = ResolveProtoPath(request, field);
      if (!path.ok()) return BadTemplate(text, path.status().message());
      v.field_path = *std::move(path);
      const FieldDescriptor* leaf = v.field_path.back();
      if (leaf->type() != FieldDescriptor::TYPE_STRING || leaf->is_repeated()) {
        return BadTemplate(text, absl::StrCat(field, " is not a string field"));
      }
      v.begin = static_cast<int>(t.segments.size());
      RETURN_IF_ERROR(ParseSegments(text, segs, &t));
      v.end = static_cast<int>(t.segments.size());
      t.variables.push_back(std::move(v));
      rest = rest.substr(end + 1);
    } else {
      const size_t slash = rest.find('/');
      absl::string_view seg = rest.substr(0, slash);
      RETURN_IF_ERROR(ParseSegments(text, seg, &t));
      rest = slash == absl::string_view::npos ? "" : rest.substr(slash);
    }
    if (!rest.empty()) {
      if (rest[0] != '/' || rest.size() == 1) {
        return BadTemplate(text, "segments must be separated by one /");
      }
      rest = rest.substr(1);
    }
  }
  if (t.segments.empty()) return BadTemplate(text, "has no segments");
  for (size_t i = 0; i + 1 < t.segments.size(); ++i) {
    if (t.segments[i].kind == PathTemplate::Segment::kDoubleStar) {
      return BadTemplate(text, "** must be the last segment");
    }
  }
  return t;
}

namespace {

absl::Status AddRoute(const google::protobuf::MethodDescriptor& m,
                      const google::api::HttpRule& rule,
                      std::vector<Route>* out) {
  Route r;
  r.method = &m;
  std::string path;
  switch (rule.pattern_case()) {
    case google::api::HttpRule::kGet:
      r.http_method = "GET";
      path = rule.get();
      break;
    case google::api::HttpRule::kPost:
      r.http_method = "POST";
      path = rule.post();
      break;
    case google::api::HttpRule::kPut:
      r.http_method = "PUT";
      path = rule.put();
      break;
    case google::api::HttpRule::kPatch:
      r.http_method = "PATCH";
      path = rule.patch();
      break;
    case google::api::HttpRule::kDelete:
      r.http_method = "DELETE";
      path = rule.delete_();
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(m.full_name(), ": unsupported HTTP rule pattern"));
  }
  auto parsed = ParsePathTemplate(path, *m.input_type());
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(m.full_name(), ": ", parsed.status().message()));
  }
  r.path = *std::move(parsed);
  r.body = rule.body();
  if (!r.body.empty() && r.body != "*") {
    r.body_field = m.input_type()->FindFieldByName(r.body);
    if (r.body_field == nullptr ||
        r.body_field->type() != FieldDescriptor::TYPE_MESSAGE ||
        r.body_field->is_repeated()) {
      return absl::InvalidArgumentError(absl::StrCat(
          m.full_name(), ": body \"", r.body, "\" is not a message field"));
    }
  }
  if (!rule.response_body().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(m.full_name(), ": response_body is not supported"));
  }
  out->push_back(std::move(r));
  for (const auto& extra : rule.additional_bindings()) {
    if (extra.additional_bindings_size() > 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(m.full_name(), ": additional_bindings must not nest"));
    }
    RETURN_IF_ERROR(AddRoute(m, extra, out));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<Route>> RoutesOf(
    const google::protobuf::ServiceDescriptor& service) {
  std::vector<Route> out;
  for (int i = 0; i < service.method_count(); ++i) {
    const google::protobuf::MethodDescriptor* m = service.method(i);
    if (!m->options().HasExtension(google::api::http)) continue;
    if (m->client_streaming()) {
      return absl::InvalidArgumentError(
          absl::StrCat(m->full_name(), ": client streaming has no REST form"));
    }
    RETURN_IF_ERROR(
        AddRoute(*m, m->options().GetExtension(google::api::http), &out));
  }
  return out;
}

Router::Router(std::vector<Route> routes) : routes_(std::move(routes)) {
  std::stable_sort(routes_.begin(), routes_.end(),
                   [](const Route& a, const Route& b) {
                     return !a.path.verb.empty() && b.path.verb.empty();
                   });
}

namespace {

// Matches `segs` (raw, not decoded) against `t`, filling the variables'
// decoded values.
bool MatchSegments(const PathTemplate& t,
                   const std::vector<absl::string_view>& segs,
                   std::vector<std::string>* values) {
  const auto& ts = t.segments;
  const bool tail =
      !ts.empty() && ts.back().kind == PathTemplate::Segment::kDoubleStar;
  if (tail ? segs.size() < ts.size() : segs.size() != ts.size()) return false;
  std::vector<std::string> decoded(segs.size());
  for (size_t i = 0; i < segs.size(); ++i) {
    if (!PercentDecode(segs[i], false, &decoded[i])) return false;
    if (decoded[i].empty()) return false;
    const size_t ti = std::min(i, ts.size() - 1);
    const auto& seg = ts[ti];
    if (seg.kind == PathTemplate::Segment::kLiteral) {
      if (decoded[i] != seg.literal) return false;
    } else if (seg.kind == PathTemplate::Segment::kStar) {
      if (decoded[i].find('/') != std::string::npos) return false;
    }
  }
  values->clear();
  for (const auto& v : t.variables) {
    const size_t end =
        (tail && v.end == static_cast<int>(ts.size())) ? segs.size() : v.end;
    std::vector<absl::string_view> parts;
    for (size_t i = v.begin; i < end; ++i) {
      // ** keeps its slashes as written; a single segment is decoded.
      parts.push_back(ts[std::min(i, ts.size() - 1)].kind ==
                              PathTemplate::Segment::kDoubleStar
                          ? segs[i]
                          : absl::string_view(decoded[i]));
    }
    values->push_back(absl::StrJoin(parts, "/"));
  }
  return true;
}

}  // namespace

absl::StatusOr<Router::Match> Router::Find(absl::string_view http_method,
                                           absl::string_view path) const {
  if (path.empty() || path[0] != '/') {
    return WithReason(absl::NotFoundError("the path must start with /"),
                      "UNKNOWN_ROUTE");
  }
  absl::string_view body = path.substr(1);
  const size_t last_slash = body.rfind('/');
  const size_t colon = body.rfind(':');
  absl::string_view verb;
  absl::string_view no_verb = body;
  if (colon != absl::string_view::npos &&
      (last_slash == absl::string_view::npos || colon > last_slash)) {
    verb = body.substr(colon + 1);
    no_verb = body.substr(0, colon);
  }
  const std::vector<absl::string_view> with_verb = absl::StrSplit(no_verb, '/');
  const std::vector<absl::string_view> without_verb = absl::StrSplit(body, '/');
  std::vector<std::string> allow;
  Match match;
  for (const Route& r : routes_) {
    const bool fits = r.path.verb.empty()
                          ? (verb.empty() &&
                             MatchSegments(r.path, without_verb, &match.values))
                          : (verb == r.path.verb &&
                             MatchSegments(r.path, with_verb, &match.values));
    if (!fits) continue;
    if (r.http_method == http_method) {
      match.route = &r;
      return match;
    }
    allow.push_back(r.http_method);
  }
  if (!allow.empty()) {
    std::sort(allow.begin(), allow.end());
    allow.erase(std::unique(allow.begin(), allow.end()), allow.end());
    return WithMetadata(
        WithReason(absl::UnimplementedError(absl::StrCat(
                       "the path does not take ",
                       Echoable(http_method) ? http_method : "this method",
                       "; it takes ", absl::StrJoin(allow, ", "))),
                   "UNKNOWN_ROUTE"),
        "allow", absl::StrJoin(allow, ", "));
  }
  return WithReason(absl::NotFoundError("no method has this path"),
                    "UNKNOWN_ROUTE");
}

absl::Status BuildRequest(const Router::Match& match, absl::string_view query,
                          absl::string_view body, Message* request) {
  const Route& route = *match.route;
  request->Clear();
  // 1. The body.
  const bool has_body = !absl::StripAsciiWhitespace(body).empty();
  if (route.body.empty()) {
    if (has_body) {
      return Error(absl::StatusCode::kInvalidArgument, "MALFORMED_REQUEST", "",
                   absl::StrCat(route.http_method, " ", route.path.text,
                                " takes no body; give the fields as query "
                                "parameters"));
    }
  } else if (has_body) {
    if (route.body_field == nullptr) {
      RETURN_IF_ERROR(ParseJson(body, request, ""));
    } else {
      RETURN_IF_ERROR(ParseJson(
          body,
          request->GetReflection()->MutableMessage(request, route.body_field),
          route.body_field->name()));
    }
  }
  // 2. The path variables, over whatever the body said.
  for (size_t i = 0; i < route.path.variables.size(); ++i) {
    const auto& v = route.path.variables[i];
    RETURN_IF_ERROR(SetFromText(request, v.field_path, match.values[i],
                                ProtoPath(v.field_path)));
  }
  // 3. The query parameters: the fields neither the path nor the body
  // binds.
  if (query.empty()) return absl::OkStatus();
  if (route.body == "*") {
    return Error(absl::StatusCode::kInvalidArgument, "MALFORMED_REQUEST", "",
                 absl::StrCat(route.http_method, " ", route.path.text,
                              " takes every field in the body and no query "
                              "parameters"));
  }
  for (absl::string_view pair : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    const size_t eq = pair.find('=');
    std::string key;
    std::string value;
    if (!PercentDecode(pair.substr(0, eq), true, &key) ||
        (eq != absl::string_view::npos &&
         !PercentDecode(pair.substr(eq + 1), true, &value))) {
      return Error(absl::StatusCode::kInvalidArgument, "MALFORMED_REQUEST", "",
                   "the query string has a malformed %-escape");
    }
    std::vector<const FieldDescriptor*> path;
    const Descriptor* at = request->GetDescriptor();
    std::string name;
    for (absl::string_view part : absl::StrSplit(key, '.')) {
      const FieldDescriptor* f =
          at == nullptr ? nullptr : FieldByAnyName(*at, part);
      if (f == nullptr) {
        if (!Echoable(key)) {
          return Error(absl::StatusCode::kInvalidArgument, "MALFORMED_REQUEST",
                       "",
                       "a query parameter's name is not a field of the "
                       "request");
        }
        return InvalidField(name.empty() ? key : absl::StrCat(name, ".", part),
                            "is not a field of the request");
      }
      name = name.empty() ? f->name() : absl::StrCat(name, ".", f->name());
      path.push_back(f);
      at = (f->type() == FieldDescriptor::TYPE_MESSAGE && !f->is_repeated() &&
            !IsWellKnown(*f->message_type()))
               ? f->message_type()
               : nullptr;
    }
    if (route.body_field != nullptr && path.front() == route.body_field) {
      return InvalidField(name, "is given in the body");
    }
    for (const auto& v : route.path.variables) {
      if (Overlaps(v.field_path, path)) {
        return InvalidField(name, "is given in the path");
      }
    }
    RETURN_IF_ERROR(SetFromText(request, path, value, name));
  }
  return absl::OkStatus();
}

bool IsDocument(const Descriptor& type) {
  auto has = [&](const char* name, FieldDescriptor::Type want) {
    const FieldDescriptor* f = type.FindFieldByName(name);
    return f != nullptr && f->type() == want && !f->is_repeated();
  };
  return has("content_type", FieldDescriptor::TYPE_STRING) &&
         has("content", FieldDescriptor::TYPE_BYTES) &&
         has("file_name", FieldDescriptor::TYPE_STRING);
}

absl::StatusOr<bool> TakeAltMedia(const Descriptor& response,
                                  absl::string_view* query, std::string* rest) {
  // Most requests name no alt: no split, no allocation.
  if (!absl::StrContains(*query, "alt")) return false;
  auto is_alt = [](absl::string_view pair) {
    const absl::string_view name = pair.substr(0, pair.find('='));
    return name == "alt" || name == "$alt";
  };
  std::vector<absl::string_view> pairs =
      absl::StrSplit(*query, '&', absl::SkipEmpty());
  const auto alts = std::count_if(pairs.begin(), pairs.end(), is_alt);
  if (alts == 0) return false;  // "salt=..." and the like
  if (alts > 1) return InvalidField("alt", "is given twice");
  const auto it = std::find_if(pairs.begin(), pairs.end(), is_alt);
  const size_t eq = it->find('=');
  const std::string alt(eq == absl::string_view::npos ? ""
                                                      : it->substr(eq + 1));
  pairs.erase(it);
  *rest = absl::StrJoin(pairs, "&");
  *query = *rest;
  if (alt == "json") return false;
  if (alt != "media") return InvalidField("alt", "must be json or media");
  if (!IsDocument(response)) {
    return InvalidField("alt",
                        "media is for methods that answer with a document "
                        "(RenderPlan, RenderGrantReceipt); this one answers "
                        "in JSON only");
  }
  return true;
}

Media MediaOf(const Message& response) {
  const Descriptor& type = *response.GetDescriptor();
  const Reflection& r = *response.GetReflection();
  Media out;
  out.content_type =
      r.GetString(response, type.FindFieldByName("content_type"));
  out.content = r.GetString(response, type.FindFieldByName("content"));
  std::string name = r.GetString(response, type.FindFieldByName("file_name"));
  if (IsPlainFileName(name)) out.file_name = std::move(name);
  return out;
}

absl::Status ToJson(const Message& message, std::string* out) {
  out->clear();
  google::protobuf::util::JsonPrintOptions options;
  auto s = google::protobuf::util::MessageToJsonString(message, out, options);
  if (!s.ok()) {
    return absl::InternalError("a response could not be written as JSON");
  }
  return absl::OkStatus();
}

std::string StatusJson(const absl::Status& status) {
  std::string out;
  if (!ToJson(ToRpcStatus(status), &out).ok()) {
    out = absl::StrCat("{\"code\":", static_cast<int>(status.code()), "}");
  }
  return out;
}

std::string JsonString(absl::string_view value) {
  std::string out = "\"";
  for (unsigned char c : value) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (c < 0x20) {
          absl::StrAppend(&out, "\\u00", absl::Hex(c, absl::kZeroPad2));
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out += "\"";
  return out;
}

bool PercentDecode(absl::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = 0;
      int lo = 0;
      auto hex = [](char h, int* v) {
        if (h >= '0' && h <= '9')
          *v = h - '0';
        else if (h >= 'a' && h <= 'f')
          *v = h - 'a' + 10;
        else if (h >= 'A' && h <= 'F')
          *v = h - 'A' + 10;
        else
          return false;
        return true;
      };
      if (!hex(in[i + 1], &hi) || !hex(in[i + 2], &lo)) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

}  // namespace samplan::server::rest
