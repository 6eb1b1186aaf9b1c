// samplan-openapi: writes the OpenAPI 3.1 description of samplan's REST/JSON
// API, made from the compiled protos' google.api.http rules (the routes
// samplan-server serves), or checks that a file holds it.

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "app/method_table.h"
#include "google/protobuf/descriptor.h"
#include "server/openapi.h"
#include "server/rest_routes.h"

namespace {

constexpr char kUsage[] = R"(usage: samplan-openapi [--out FILE | --check FILE]

Writes the OpenAPI 3.1 description of samplan's REST/JSON API, made from the
google.api.http rules of the compiled protos: the same routes samplan-server
serves. Nothing is hand-written, so a newly annotated method appears here
without other changes.

  (no flag)      write the document to standard output
  --out FILE     write it to FILE (through a temporary file and a rename)
  --check FILE   exit 0 when FILE holds exactly the document, 1 otherwise
  -h, --help     this text

examples:
  samplan-openapi --out docs/openapi.yaml
  samplan-openapi --check docs/openapi.yaml
)";

int Usage(const std::string& message) {
  std::fprintf(stderr, "samplan-openapi: %s (try --help)\n", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string out_file;
  std::string check_file;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "-h" || flag == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (flag != "--out" && flag != "--check") {
      return Usage(absl::StrCat("unknown argument '", flag, "'"));
    }
    if (i + 1 >= argc) return Usage(flag + " needs a FILE");
    (flag == "--out" ? out_file : check_file) = argv[++i];
  }
  if (!out_file.empty() && !check_file.empty()) {
    return Usage("--out and --check exclude each other");
  }

  std::vector<samplan::server::rest::Route> routes;
  for (const std::string& name : samplan::app::MethodTable::ServiceNames()) {
    const auto* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            name);
    if (service == nullptr) {
      std::fprintf(stderr, "samplan-openapi: no service %s\n", name.c_str());
      return 1;
    }
    auto more = samplan::server::rest::RoutesOf(*service);
    if (!more.ok()) {
      std::fprintf(stderr, "samplan-openapi: %s\n",
                   more.status().ToString().c_str());
      return 1;
    }
    routes.insert(routes.end(), more->begin(), more->end());
  }
  const std::string doc = samplan::server::rest::OpenApiYaml(
      {"samplan", SAMPLAN_VERSION,
       "The REST/JSON form of samplan's gRPC API (docs/api.md): the same "
       "methods, the same mutual TLS, the same errors. Bodies follow the "
       "protobuf JSON mapping: lowerCamelCase names, enums as names, 64-bit "
       "integers as strings, RFC 3339 timestamps. Unknown fields are "
       "refused, naming the field."},
      routes);

  if (!check_file.empty()) {
    std::ifstream in(check_file, std::ios::binary);
    std::stringstream have;
    have << in.rdbuf();
    if (!in && have.str().empty()) {
      std::fprintf(stderr, "samplan-openapi: cannot read %s\n",
                   check_file.c_str());
      return 1;
    }
    if (have.str() != doc) {
      std::fprintf(stderr,
                   "samplan-openapi: %s is not current; regenerate it with "
                   "samplan-openapi --out %s\n",
                   check_file.c_str(), check_file.c_str());
      return 1;
    }
    return 0;
  }
  if (out_file.empty()) {
    std::fwrite(doc.data(), 1, doc.size(), stdout);
    return std::fflush(stdout) == 0 ? 0 : 1;
  }
  const std::string tmp = out_file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << doc;
    out.flush();
    if (!out) {
      std::fprintf(stderr, "samplan-openapi: cannot write %s\n", tmp.c_str());
      return 1;
    }
  }
  if (std::rename(tmp.c_str(), out_file.c_str()) != 0) {
    std::fprintf(stderr, "samplan-openapi: cannot rename %s to %s: %s\n",
                 tmp.c_str(), out_file.c_str(), std::strerror(errno));
    return 1;
  }
  return 0;
}
