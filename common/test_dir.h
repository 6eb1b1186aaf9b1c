// A directory of this test process's own, for tests only: made with mkdtemp
// under the test temporary directory (::testing::TempDir(), which honours
// TEST_TMPDIR) on first use, and removed when the process exits. Two test
// runs at once, or two tests of one run, never share a file name.
//
//   const std::string path = (ProcessTempDir() / "key.pem").string();

#ifndef SAMPLAN_COMMON_TEST_DIR_H_
#define SAMPLAN_COMMON_TEST_DIR_H_

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#include "gtest/gtest.h"

namespace samplan {

inline const std::filesystem::path& ProcessTempDir() {
  struct Dir {
    std::filesystem::path path;
    Dir() {
      std::string pattern =
          (std::filesystem::path(::testing::TempDir()) / "samplan-XXXXXX")
              .string();
      if (::mkdtemp(pattern.data()) == nullptr) {
        std::perror("mkdtemp");
        std::abort();
      }
      path = pattern;
    }
    ~Dir() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  };
  static const Dir dir;
  return dir.path;
}

}  // namespace samplan

#endif  // SAMPLAN_COMMON_TEST_DIR_H_
