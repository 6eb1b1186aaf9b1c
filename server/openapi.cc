#include "server/openapi.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "google/protobuf/descriptor.h"

namespace samplan::server::rest {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::MethodDescriptor;

// --- A small YAML tree, written in block style
// --------------------------------

class Node {
 public:
  enum Kind { kScalar, kMap, kList };

  static Node Map() { return Node(kMap); }
  static Node List() { return Node(kList); }
  // A string, always quoted (JSON escapes are YAML's too).
  static Node Str(absl::string_view s) { return Node(kScalar, JsonString(s)); }
  // A number or a boolean, as written.
  static Node Plain(absl::string_view s) {
    return Node(kScalar, std::string(s));
  }

  // The value of `key` in a map, added (last) when absent.
  Node& operator[](absl::string_view key) {
    for (auto& [k, v] : entries_) {
      if (k == key) return *v;
    }
    entries_.emplace_back(std::string(key),
                          std::unique_ptr<Node>(new Node(kMap)));
    return *entries_.back().second;
  }
  Node& Set(absl::string_view key, Node value) {
    return (*this)[key] = std::move(value);
  }
  bool Has(absl::string_view key) const {
    for (const auto& [k, v] : entries_) {
      if (k == key) return true;
    }
    return false;
  }
  void Push(Node item) { items_.push_back(std::move(item)); }
  bool empty() const { return entries_.empty() && items_.empty(); }

  Node(Node&&) = default;
  Node& operator=(Node&&) = default;

  // The block lines of a map or a list at `indent` spaces.
  void Write(int indent, std::string* out) const {
    const std::string pad(indent, ' ');
    if (kind_ == kMap) {
      for (const auto& [k, v] : entries_) {
        absl::StrAppend(out, pad, Key(k), ":");
        v->WriteValue(indent, out);
      }
      return;
    }
    for (const Node& item : items_) {
      if (item.kind_ == kScalar || item.empty()) {
        absl::StrAppend(out, pad, "-");
        item.WriteValue(indent, out);
        continue;
      }
      std::string block;
      item.Write(indent + 2, &block);
      block.replace(0, indent + 2, pad + "- ");
      out->append(block);
    }
  }

 private:
  explicit Node(Kind kind, std::string scalar = "")
      : kind_(kind), scalar_(std::move(scalar)) {}

  // After "key:" or "-": the rest of the line and any block under it.
  void WriteValue(int indent, std::string* out) const {
    if (kind_ == kScalar) {
      absl::StrAppend(out, " ", scalar_, "\n");
    } else if (empty()) {
      absl::StrAppend(out, kind_ == kMap ? " {}\n" : " []\n");
    } else {
      out->push_back('\n');
      Write(indent + 2, out);
    }
  }

  // Plain when it cannot be read as anything but a string key.
  static std::string Key(absl::string_view k) {
    bool plain = !k.empty() && (absl::ascii_isalpha(k[0]) || k[0] == '_');
    for (char c : k) {
      plain = plain && (absl::ascii_isalnum(c) || c == '_' || c == '.' ||
                        c == '-' || c == '/');
    }
    return plain ? std::string(k) : JsonString(k);
  }

  Kind kind_;
  std::string scalar_;
  std::vector<std::pair<std::string, std::unique_ptr<Node>>> entries_;
  std::vector<Node> items_;
};

Node Ref(absl::string_view schema) {
  Node n = Node::Map();
  n.Set("$ref", Node::Str(absl::StrCat("#/components/schemas/", schema)));
  return n;
}

Node Typed(absl::string_view type, absl::string_view format = "") {
  Node n = Node::Map();
  n.Set("type", Node::Str(type));
  if (!format.empty()) n.Set("format", Node::Str(format));
  return n;
}

// --- JSON Schemas of the protobuf JSON mapping
// ---------------------------------

bool IsWrapper(const Descriptor& d) {
  return d.file()->name() == "google/protobuf/wrappers.proto";
}

class Schemas {
 public:
  // The schema of one field, repeated and map fields included.
  Node Field(const FieldDescriptor& f) {
    if (f.is_map()) {
      Node n = Typed("object");
      n.Set("additionalProperties", Single(*f.message_type()->map_value()));
      return n;
    }
    if (f.is_repeated()) {
      Node n = Typed("array");
      n.Set("items", Single(f));
      return n;
    }
    return Single(f);
  }

  Node Message(const Descriptor& d) {
    if (Node wk = WellKnown(d); !wk.empty()) return wk;
    Add(d);
    return Ref(d.full_name());
  }

  // Whether a query parameter can carry the field's message type whole.
  static bool IsScalarLike(const Descriptor& d) {
    const std::string& n = d.full_name();
    return n == "google.protobuf.Timestamp" ||
           n == "google.protobuf.Duration" ||
           n == "google.protobuf.FieldMask" || IsWrapper(d);
  }

  // components.schemas, by name.
  Node Components() {
    Node out = Node::Map();
    for (auto& [name, schema] : done_) out.Set(name, std::move(schema));
    return out;
  }

 private:
  Node Single(const FieldDescriptor& f) {
    switch (f.type()) {
      case FieldDescriptor::TYPE_STRING:
        return Typed("string");
      case FieldDescriptor::TYPE_BYTES:
        return Typed("string", "byte");
      case FieldDescriptor::TYPE_BOOL:
        return Typed("boolean");
      case FieldDescriptor::TYPE_INT32:
      case FieldDescriptor::TYPE_SINT32:
      case FieldDescriptor::TYPE_SFIXED32:
        return Typed("integer", "int32");
      case FieldDescriptor::TYPE_UINT32:
      case FieldDescriptor::TYPE_FIXED32:
        return Typed("integer", "uint32");
      // 64-bit integers are strings in the JSON mapping.
      case FieldDescriptor::TYPE_INT64:
      case FieldDescriptor::TYPE_SINT64:
      case FieldDescriptor::TYPE_SFIXED64:
        return Typed("string", "int64");
      case FieldDescriptor::TYPE_UINT64:
      case FieldDescriptor::TYPE_FIXED64:
        return Typed("string", "uint64");
      case FieldDescriptor::TYPE_FLOAT:
        return Typed("number", "float");
      case FieldDescriptor::TYPE_DOUBLE:
        return Typed("number", "double");
      case FieldDescriptor::TYPE_ENUM:
        AddEnum(*f.enum_type());
        return Ref(f.enum_type()->full_name());
      case FieldDescriptor::TYPE_MESSAGE:
      case FieldDescriptor::TYPE_GROUP:
        return Message(*f.message_type());
    }
    return Typed("string");
  }

  // Types the JSON mapping writes in a form of their own; empty otherwise.
  Node WellKnown(const Descriptor& d) {
    const std::string& n = d.full_name();
    if (n == "google.protobuf.Timestamp") {
      return Typed("string", "date-time");
    }
    if (n == "google.protobuf.Duration") {
      Node s = Typed("string");
      s.Set("description",
            Node::Str("Seconds with an \"s\" suffix: \"3.5s\"."));
      return s;
    }
    if (n == "google.protobuf.FieldMask") {
      Node s = Typed("string");
      s.Set("description",
            Node::Str("Field paths in lowerCamelCase, separated by commas."));
      return s;
    }
    if (IsWrapper(d)) return Single(*d.FindFieldByName("value"));
    if (n == "google.protobuf.Any") {
      Node s = Typed("object");
      s["properties"].Set("@type", Typed("string"));
      s.Set("additionalProperties", Node::Plain("true"));
      return s;
    }
    if (n == "google.protobuf.Struct" || n == "google.protobuf.Empty") {
      return Typed("object");
    }
    if (n == "google.protobuf.Value") return Node::Map();
    if (n == "google.protobuf.ListValue") return Typed("array");
    return Node::Map();
  }

  void Add(const Descriptor& d) {
    const std::string& name = d.full_name();
    if (done_.count(name) != 0 || started_.count(name) != 0) return;
    started_.insert(name);
    Node s = Typed("object");
    Node props = Node::Map();
    for (int i = 0; i < d.field_count(); ++i) {
      const FieldDescriptor& f = *d.field(i);
      props.Set(f.json_name(), Field(f));
    }
    if (!props.empty()) s.Set("properties", std::move(props));
    done_.emplace(name, std::move(s));
  }

  void AddEnum(const EnumDescriptor& e) {
    if (done_.count(e.full_name()) != 0) return;
    Node s = Typed("string");
    Node values = Node::List();
    for (int i = 0; i < e.value_count(); ++i) {
      values.Push(Node::Str(e.value(i)->name()));
    }
    s.Set("enum", std::move(values));
    done_.emplace(e.full_name(), std::move(s));
  }

  std::map<std::string, Node> done_;  // sorted: a stable document
  std::set<std::string> started_;
};

// --- Paths and operations
// -------------------------------------------------------

// "plans" -> "plan", "entries" -> "entry", "agencies" -> "agency".
std::string Singular(absl::string_view plural) {
  if (absl::EndsWith(plural, "ies")) {
    return absl::StrCat(plural.substr(0, plural.size() - 3), "y");
  }
  if (absl::EndsWith(plural, "s")) {
    return std::string(plural.substr(0, plural.size() - 1));
  }
  return std::string(plural);
}

struct PathParam {
  std::string name;           // in the OpenAPI path
  std::string field;          // the request field it fills, "plan.name"
  std::string field_form;     // the field's whole form, "plans/{plan}"
  bool rest_of_path = false;  // ** : may hold slashes
};

// The OpenAPI path of a template: each * of a variable becomes a parameter
// named after the collection before it ({name=plans/*/entries/*} becomes
// plans/{plan}/entries/{entry}), so the path's literal parts stay visible.
std::string OpenApiPath(const PathTemplate& t, std::vector<PathParam>* params) {
  std::vector<std::string> parts(t.segments.size());
  std::set<std::string> used;
  for (size_t i = 0; i < t.segments.size(); ++i) {
    if (t.segments[i].kind == PathTemplate::Segment::kLiteral) {
      parts[i] = t.segments[i].literal;
    }
  }
  for (const PathTemplate::Variable& v : t.variables) {
    std::vector<std::string> form;
    for (int i = v.begin; i < v.end; ++i) {
      const PathTemplate::Segment& seg = t.segments[i];
      if (seg.kind == PathTemplate::Segment::kLiteral) {
        form.push_back(seg.literal);
        continue;
      }
      std::string name = (i > v.begin && t.segments[i - 1].kind ==
                                             PathTemplate::Segment::kLiteral)
                             ? Singular(t.segments[i - 1].literal)
                             : absl::StrReplaceAll(v.field_name, {{".", "_"}});
      for (int n = 2; used.count(name) != 0; ++n) {
        name = absl::StrCat(name, "_", n);
      }
      used.insert(name);
      parts[i] = absl::StrCat("{", name, "}");
      form.push_back(parts[i]);
      params->push_back({name, v.field_name, "",
                         seg.kind == PathTemplate::Segment::kDoubleStar});
    }
    for (PathParam& p : *params) {
      if (p.field == v.field_name) p.field_form = absl::StrJoin(form, "/");
    }
  }
  std::string path = absl::StrCat("/", absl::StrJoin(parts, "/"));
  if (!t.verb.empty()) absl::StrAppend(&path, ":", t.verb);
  return path;
}

// Whether `path` (a chain of fields from the request) is, or is under, or
// holds the field a path variable binds.
enum class Binding { kNone, kBound, kHoldsBound };
Binding BindingOf(const Route& route,
                  const std::vector<const FieldDescriptor*>& path) {
  Binding out = Binding::kNone;
  for (const PathTemplate::Variable& v : route.path.variables) {
    const size_t n = std::min(v.field_path.size(), path.size());
    if (!std::equal(path.begin(), path.begin() + n, v.field_path.begin())) {
      continue;
    }
    if (path.size() >= v.field_path.size()) return Binding::kBound;
    out = Binding::kHoldsBound;
  }
  return out;
}

// The query parameters of `route` under `d` (the fields neither the path
// nor the body binds), named as the server reads them: JSON names joined
// with dots.
void QueryParams(const Route& route, const Descriptor& d,
                 std::vector<const FieldDescriptor*>* path,
                 const std::string& prefix, Schemas* schemas, Node* out) {
  if (path->size() > 4) return;
  for (int i = 0; i < d.field_count(); ++i) {
    const FieldDescriptor* f = d.field(i);
    if (path->empty() && f == route.body_field) continue;
    path->push_back(f);
    const Binding b = BindingOf(route, *path);
    const std::string name = absl::StrCat(prefix, f->json_name());
    const bool message = f->type() == FieldDescriptor::TYPE_MESSAGE;
    if (b == Binding::kBound || f->is_map()) {
      // Given in the path, or not expressible as a query parameter.
    } else if (message && !Schemas::IsScalarLike(*f->message_type())) {
      if (!f->is_repeated()) {
        QueryParams(route, *f->message_type(), path, name + ".", schemas, out);
      }
    } else if (b == Binding::kNone) {
      Node p = Node::Map();
      p.Set("name", Node::Str(name));
      p.Set("in", Node::Str("query"));
      p.Set("schema", schemas->Field(*f));
      out->Push(std::move(p));
    }
    path->pop_back();
  }
}

Node JsonContent(Node schema, absl::string_view type = "application/json") {
  Node content = Node::Map();
  content[type].Set("schema", std::move(schema));
  return content;
}

Node Operation(const Route& route, const std::string& operation_id,
               const std::vector<PathParam>& path_params, Schemas* schemas) {
  const MethodDescriptor& m = *route.method;
  Node op = Node::Map();
  Node tags = Node::List();
  tags.Push(Node::Str(m.service()->name()));
  op.Set("tags", std::move(tags));
  op.Set("summary",
         Node::Str(absl::StrCat(m.service()->name(), ".", m.name())));
  op.Set("operationId", Node::Str(operation_id));

  Node params = Node::List();
  for (const PathParam& pp : path_params) {
    Node p = Node::Map();
    p.Set("name", Node::Str(pp.name));
    p.Set("in", Node::Str("path"));
    p.Set("required", Node::Plain("true"));
    p.Set("description",
          Node::Str(absl::StrCat(
              "Part of the field `", pp.field, "`, whose form is `",
              pp.field_form, "`.",
              pp.rest_of_path ? " Takes the rest of the path, slashes and all."
                              : "")));
    p.Set("schema", Typed("string"));
    params.Push(std::move(p));
  }
  if (route.body != "*") {
    std::vector<const FieldDescriptor*> path;
    QueryParams(route, *m.input_type(), &path, "", schemas, &params);
  }
  const bool document = IsDocument(*m.output_type());
  if (document) {
    Node alt = Node::Map();
    alt.Set("name", Node::Str("alt"));
    alt.Set("in", Node::Str("query"));
    alt.Set("description",
            Node::Str("json (the default): the response as JSON, the "
                      "document in `content` as base64. media: the document "
                      "itself, with its content type."));
    Node schema = Typed("string");
    Node values = Node::List();
    values.Push(Node::Str("json"));
    values.Push(Node::Str("media"));
    schema.Set("enum", std::move(values));
    alt.Set("schema", std::move(schema));
    params.Push(std::move(alt));
  }
  Node actor = Node::Map();
  actor.Set("$ref", Node::Str("#/components/parameters/Actor"));
  params.Push(std::move(actor));
  op.Set("parameters", std::move(params));

  if (!route.body.empty()) {
    Node body = Node::Map();
    // An empty body is an empty message, as over gRPC.
    body.Set("required", Node::Plain("false"));
    body.Set("content", JsonContent(route.body == "*"
                                        ? schemas->Message(*m.input_type())
                                        : schemas->Field(*route.body_field)));
    op.Set("requestBody", std::move(body));
  }

  Node ok = Node::Map();
  if (m.server_streaming()) {
    ok.Set("description",
           Node::Str("One response message per line (newline-delimited "
                     "JSON), sent as it is read, in chunks. An error once "
                     "the 200 has been sent arrives as a last line "
                     "{\"error\": google.rpc.Status}."));
    ok.Set("content", JsonContent(schemas->Message(*m.output_type()),
                                  "application/x-ndjson"));
  } else if (document) {
    ok.Set("description",
           Node::Str("The response; with alt=media the document itself."));
    Node content = JsonContent(schemas->Message(*m.output_type()));
    for (const char* type : {"text/html", "application/pdf"}) {
      content[type].Set("schema", Typed("string", "binary"));
    }
    ok.Set("content", std::move(content));
  } else {
    ok.Set("description", Node::Str("The response."));
    ok.Set("content", JsonContent(schemas->Message(*m.output_type())));
  }
  op["responses"].Set("200", std::move(ok));
  Node error = Node::Map();
  error.Set("$ref", Node::Str("#/components/responses/Error"));
  op["responses"].Set("default", std::move(error));
  return op;
}

}  // namespace

std::string OpenApiYaml(const OpenApiInfo& info,
                        const std::vector<Route>& routes) {
  Schemas schemas;
  Node doc = Node::Map();
  doc.Set("openapi", Node::Str("3.1.0"));
  Node& i = doc["info"];
  i.Set("title", Node::Str(info.title));
  i.Set("version", Node::Str(info.version));
  i.Set("description", Node::Str(info.description));

  Node& paths = doc["paths"];
  std::map<std::string, int> ids;
  for (const Route& route : routes) {
    std::vector<PathParam> params;
    const std::string path = OpenApiPath(route.path, &params);
    std::string id = absl::StrCat(route.method->service()->name(), "_",
                                  route.method->name());
    if (int n = ++ids[id]; n > 1) id = absl::StrCat(id, "_", n);
    paths[path].Set(absl::AsciiStrToLower(route.http_method),
                    Operation(route, id, params, &schemas));
  }

  // google.rpc.Status for errors, with the ErrorInfo its details carry.
  const google::protobuf::DescriptorPool* pool =
      google::protobuf::DescriptorPool::generated_pool();
  for (const char* name : {"google.rpc.Status", "google.rpc.ErrorInfo"}) {
    if (const Descriptor* d = pool->FindMessageTypeByName(name)) {
      schemas.Message(*d);
    }
  }
  Node& components = doc["components"];
  components.Set("schemas", schemas.Components());

  Node actor = Node::Map();
  actor.Set("name", Node::Str("x-samplan-actor"));
  actor.Set("in", Node::Str("header"));
  actor.Set("required", Node::Plain("true"));
  actor.Set("description",
            Node::Str("The staff member who acts: 1-64 characters of "
                      "[A-Za-z0-9._@-], as the agency's own system names "
                      "them. Written to the audit log with every event."));
  Node actor_schema = Typed("string");
  actor_schema.Set("pattern", Node::Str("^[A-Za-z0-9._@-]{1,64}$"));
  actor.Set("schema", std::move(actor_schema));
  components["parameters"].Set("Actor", std::move(actor));

  Node error = Node::Map();
  error.Set("description",
            Node::Str("An error: the HTTP status of its gRPC code, and a "
                      "google.rpc.Status whose ErrorInfo gives the reason "
                      "(docs/api.md, Errors)."));
  error.Set("content", JsonContent(Ref("google.rpc.Status")));
  components["responses"].Set("Error", std::move(error));

  Node tls = Node::Map();
  tls.Set("type", Node::Str("mutualTLS"));
  tls.Set("description",
          Node::Str("A client certificate from the deployment's CA whose URI "
                    "SAN urn:samplan:agency:<id> names a registered, enabled "
                    "agency; the agency's role decides the methods it may "
                    "call."));
  components["securitySchemes"].Set("mutualTLS", std::move(tls));
  Node requirement = Node::Map();
  requirement.Set("mutualTLS", Node::List());
  Node security = Node::List();
  security.Push(std::move(requirement));
  doc.Set("security", std::move(security));

  std::string out =
      "# Generated by samplan-openapi from the compiled protos; do not edit.\n"
      "# Regenerate: samplan-openapi > docs/openapi.yaml\n";
  doc.Write(0, &out);
  return out;
}

}  // namespace samplan::server::rest
