// Well-formed UTF-8, as proto3 requires of string fields: one check for
// every decoder of requests (the binary one in app/, REST's query, path
// values and JSON bodies in server/).

#ifndef SAMPLAN_COMMON_UTF8_H_
#define SAMPLAN_COMMON_UTF8_H_

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace samplan {

// The length of the longest prefix of `s` that is well-formed UTF-8 (no
// overlong forms, no surrogates, nothing above U+10FFFF): the offset of
// the first byte at fault, or s.size().
inline size_t Utf8PrefixLength(absl::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int more;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      more = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      more = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      more = 3;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + static_cast<size_t>(more) >= n) return i;
    for (int k = 1; k <= more; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((more == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (more == 3 && (cp < 0x10000 || cp > 0x10FFFF))) {
      return i;
    }
    i += static_cast<size_t>(more) + 1;
  }
  return n;
}

// True when `s` is well-formed UTF-8, as proto3 requires of string fields.
inline bool IsUtf8(absl::string_view s) {
  return Utf8PrefixLength(s) == s.size();
}

}  // namespace samplan

#endif  // SAMPLAN_COMMON_UTF8_H_
