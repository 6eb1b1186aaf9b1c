// Shared by the fuzz targets: a check that stops the run with a message
// (libFuzzer then saves the input), the fixed test key that signs the
// targets' checkpoints, and the writing of seed inputs.
//
// Each target is a libFuzzer entry point, LLVMFuzzerTestOneInput; build
// them with the fuzz preset and run them with tests/fuzz/run.sh.

#ifndef SAMPLAN_TESTS_FUZZ_FUZZ_SUPPORT_H_
#define SAMPLAN_TESTS_FUZZ_FUZZ_SUPPORT_H_

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

// Stops the run when `cond` is false: a property of the code under test
// does not hold for this input.
#define FUZZ_CHECK(cond, what)                                   \
  do {                                                           \
    if (!(cond)) {                                               \
      std::fprintf(stderr, "fuzz check failed: %s: %s\n", #cond, \
                   std::string(what).c_str());                   \
      std::abort();                                              \
    }                                                            \
  } while (false)

namespace samplan::fuzz {

// An Ed25519 key for the fuzz targets only (their checkpoints and
// exports); it signs nothing anywhere else.
inline constexpr char kTestKeyPem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIPP7cPhzroXmO+UzHaWKLASA6blbjSeaJLfSXTqPHlTh\n"
    "-----END PRIVATE KEY-----\n";
inline constexpr char kOrigin[] = "fuzz.samplan.example/audit";

// When the environment names a directory in SAMPLAN_FUZZ_WRITE_SEEDS, the
// target writes its seed inputs there (tests/fuzz/run.sh --seeds) and
// the process ends.
inline const char* SeedDir() { return std::getenv("SAMPLAN_FUZZ_WRITE_SEEDS"); }

inline void WriteSeed(absl::string_view name, absl::string_view bytes) {
  const std::string path = absl::StrCat(SeedDir(), "/", name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out.good()) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    std::exit(1);
  }
}

}  // namespace samplan::fuzz

#endif  // SAMPLAN_TESTS_FUZZ_FUZZ_SUPPORT_H_
