// The identity-number parser: any text is either refused with
// INVALID_ARGUMENT or accepted as a number whose canonical form is twelve
// digits with a matching check digit and a real birth date, and which
// parses again to itself.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "consent/identity_number.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using samplan::consent::IdentityNumber;

void WriteSeeds() {
  int n = 0;
  for (const char* seed :
       {"201503142383", "20150314-2383", "201503742384", "19121212-1212",
        "201503142384", "2015031423830", "20151314-2383", "1849010100009",
        "20150314+2383", ""}) {
    samplan::fuzz::WriteSeed(absl::StrCat("seed-", n++), seed);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (samplan::fuzz::SeedDir() != nullptr) {
    WriteSeeds();
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<IdentityNumber> pnr = IdentityNumber::Parse(text);
  if (!pnr.ok()) {
    FUZZ_CHECK(pnr.status().code() == absl::StatusCode::kInvalidArgument,
               pnr.status().ToString());
    return 0;
  }
  const std::string& d = pnr->digits();
  FUZZ_CHECK(d.size() == 12, d);
  for (char c : d) FUZZ_CHECK(absl::ascii_isdigit(c), d);
  FUZZ_CHECK(samplan::consent::LuhnCheckDigit(d.substr(2, 9)) == d[11] - '0',
             d);
  FUZZ_CHECK(pnr->birth_date().year() >= 1850, d);
  absl::StatusOr<IdentityNumber> again = IdentityNumber::Parse(d);
  FUZZ_CHECK(again.ok(), d);
  FUZZ_CHECK(*again == *pnr, d);
  FUZZ_CHECK(again->birth_date() == pnr->birth_date(), d);
  FUZZ_CHECK(again->is_coordination_number() == pnr->is_coordination_number(),
             d);
  return 0;
}
