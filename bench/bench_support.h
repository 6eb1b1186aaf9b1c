// Helpers shared by the benchmark programs (bench/).

#ifndef SAMPLAN_BENCH_BENCH_SUPPORT_H_
#define SAMPLAN_BENCH_BENCH_SUPPORT_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "consent/identity_number.h"

namespace samplan::bench {

// A valid 12-digit identity number (correct Luhn digit) for someone born on
// `day`, with serial `nnn` (0-999).
inline std::string IdentityNumberFor(absl::CivilDay day, int nnn) {
  const std::string nine = absl::StrCat(
      absl::Dec(day.year() % 100, absl::kZeroPad2),
      absl::Dec(day.month(), absl::kZeroPad2),
      absl::Dec(day.day(), absl::kZeroPad2), absl::Dec(nnn, absl::kZeroPad3));
  return absl::StrCat(day.year() / 100, nine, consent::LuhnCheckDigit(nine));
}

}  // namespace samplan::bench

#endif  // SAMPLAN_BENCH_BENCH_SUPPORT_H_
