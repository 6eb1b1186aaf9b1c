// File names that may be used as they are: in a Content-Disposition header,
// or as the name of a file written in the current directory.

#ifndef SAMPLAN_COMMON_FILE_NAMES_H_
#define SAMPLAN_COMMON_FILE_NAMES_H_

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"

namespace samplan {

// 1-200 characters of A-Z a-z 0-9 . _ -, not starting with a dot: no
// directory, no quote, nothing hidden, nothing to escape.
inline bool IsPlainFileName(absl::string_view name) {
  return !name.empty() && name.size() <= 200 && name[0] != '.' &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                  c == '.' || c == '_' || c == '-';
         });
}

}  // namespace samplan

#endif  // SAMPLAN_COMMON_FILE_NAMES_H_
