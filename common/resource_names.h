// Resource names ("agencies/school-1", "plans/p7/entries/e2") and the bare
// ids that storage and the engine use ("school-1", "e2").

#ifndef SAMPLAN_COMMON_RESOURCE_NAMES_H_
#define SAMPLAN_COMMON_RESOURCE_NAMES_H_

#include <string>

#include "absl/strings/string_view.h"

namespace samplan {

// The last segment of a resource name; a bare id is returned as it is.
inline std::string BareId(absl::string_view name) {
  const size_t slash = name.rfind('/');
  return std::string(slash == absl::string_view::npos ? name
                                                      : name.substr(slash + 1));
}

}  // namespace samplan

#endif  // SAMPLAN_COMMON_RESOURCE_NAMES_H_
