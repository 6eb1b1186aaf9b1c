// The OpenAPI 3.1 description of the REST routes, made from the same
// compiled descriptors the server routes by (rest_routes.h): paths from the
// google.api.http templates, parameters for path variables and query fields,
// request and response bodies as JSON Schemas of the protobuf JSON mapping,
// google.rpc.Status for errors, NDJSON for server streaming, and mutual TLS
// as the one security scheme. Deterministic: the same descriptors give the
// same bytes, so docs/openapi.yaml can be checked by regenerating it.

#ifndef SAMPLAN_SERVER_OPENAPI_H_
#define SAMPLAN_SERVER_OPENAPI_H_

#include <string>
#include <vector>

#include "server/rest_routes.h"

namespace samplan::server::rest {

struct OpenApiInfo {
  std::string title;
  std::string version;
  std::string description;
};

// The document, as YAML.
std::string OpenApiYaml(const OpenApiInfo& info,
                        const std::vector<Route>& routes);

}  // namespace samplan::server::rest

#endif  // SAMPLAN_SERVER_OPENAPI_H_
