// Micro-benchmarks of consent::IdentityNumber::Parse, which runs on every
// identity number that enters the API and again inside every consent
// decision. Three inputs: the canonical 12 digits, the same with the '-'
// before the last four, and numbers whose check digit is wrong (rejected
// only at the last step, after the date checks). Each benchmark rotates
// through 1024 different numbers, so branch prediction cannot learn one
// input.

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "benchmark/benchmark.h"
#include "consent/identity_number.h"

namespace samplan::bench {
namespace {

constexpr size_t kCount = 1024;
static_assert((kCount & (kCount - 1)) == 0, "the index is masked");

// The nine digits YYMMDDNNN of someone born on `day` with serial `nnn`.
std::string NineDigits(absl::CivilDay day, int nnn) {
  return absl::StrCat(absl::Dec(day.year() % 100, absl::kZeroPad2),
                      absl::Dec(day.month(), absl::kZeroPad2),
                      absl::Dec(day.day(), absl::kZeroPad2),
                      absl::Dec(nnn, absl::kZeroPad3));
}

enum class Form { kTwelveDigits, kWithDash, kBadCheckDigit };

// kCount numbers of people born 1930-2024, in `form`; the same sequence on
// every run.
std::vector<std::string> Numbers(Form form) {
  std::mt19937 rng(20260316);
  std::uniform_int_distribution<int> days(0, 95 * 365);
  std::uniform_int_distribution<int> serials(0, 999);
  std::vector<std::string> out;
  out.reserve(kCount);
  for (size_t i = 0; i < kCount; ++i) {
    const absl::CivilDay day = absl::CivilDay(1930, 1, 1) + days(rng);
    const std::string nine = NineDigits(day, serials(rng));
    int check = consent::LuhnCheckDigit(nine);
    if (form == Form::kBadCheckDigit) check = (check + 1) % 10;
    const std::string date = absl::StrCat(day.year() / 100, nine.substr(0, 6));
    out.push_back(absl::StrCat(date, form == Form::kWithDash ? "-" : "",
                               nine.substr(6), check));
  }
  return out;
}

// Times Parse over `inputs` after checking once that every input gives the
// expected outcome: valid, or rejected for its check digit.
void RunParse(benchmark::State& state, Form form) {
  const std::vector<std::string> inputs = Numbers(form);
  for (const std::string& text : inputs) {
    absl::StatusOr<consent::IdentityNumber> id =
        consent::IdentityNumber::Parse(text);
    if (form == Form::kBadCheckDigit) {
      if (id.ok() || !absl::StrContains(id.status().message(), "check digit")) {
        state.SkipWithError(
            absl::StrCat("a number with a wrong check digit gave: ",
                         id.ok() ? "OK" : id.status().ToString())
                .c_str());
        return;
      }
    } else if (!id.ok()) {
      state.SkipWithError(
          absl::StrCat("a valid number was rejected: ", id.status().ToString())
              .c_str());
      return;
    }
  }
  size_t i = 0;
  int64_t bytes = 0;
  for (auto _ : state) {
    const std::string& text = inputs[i];
    absl::StatusOr<consent::IdentityNumber> id =
        consent::IdentityNumber::Parse(text);
    benchmark::DoNotOptimize(id);
    bytes += static_cast<int64_t>(text.size());
    i = (i + 1) & (kCount - 1);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);
}

void BM_IdentityParse(benchmark::State& state) {
  RunParse(state, Form::kTwelveDigits);
}
BENCHMARK(BM_IdentityParse);

void BM_IdentityParseWithDash(benchmark::State& state) {
  RunParse(state, Form::kWithDash);
}
BENCHMARK(BM_IdentityParseWithDash);

void BM_IdentityParseBadCheckDigit(benchmark::State& state) {
  RunParse(state, Form::kBadCheckDigit);
}
BENCHMARK(BM_IdentityParseBadCheckDigit);

}  // namespace
}  // namespace samplan::bench
