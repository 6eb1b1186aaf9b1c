// Tests of IdentityNumber::Parse, LuhnCheckDigit and AgeOn.
//
// Valid test numbers are built with MakeNumber(), which appends the Luhn check
// digit; a few numbers are also hard-coded with a check digit computed by hand
// (and checked independently), so that a bug shared by LuhnCheckDigit() and
// MakeNumber() cannot hide.

#include "consent/identity_number.h"

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace samplan::consent {
namespace {

using ::samplan::IsOk;
using ::samplan::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

// Twelve digits YYYYMMDDNNNC: `yyyymmdd` (8 digits, need not be a real date)
// and `nnn` (3 digits), followed by the Luhn check digit over YYMMDDNNN.
std::string MakeNumber(absl::string_view yyyymmdd, absl::string_view nnn) {
  const std::string nine = absl::StrCat(yyyymmdd.substr(2), nnn);
  return absl::StrCat(yyyymmdd, nnn, LuhnCheckDigit(nine));
}

// `number` with its last digit replaced by a different one.
std::string WithWrongCheckDigit(std::string number) {
  char& last = number.back();
  last = last == '9' ? '0' : static_cast<char>(last + 1);
  return number;
}

// The digits of `text`, in order.
std::string DigitsOf(absl::string_view text) {
  std::string out;
  for (char c : text) {
    if (c >= '0' && c <= '9') out.push_back(c);
  }
  return out;
}

// Error messages may reach service logs: they must not repeat the number, in
// whole or in recognisable parts (the 10-digit form, the date of birth as
// written, the last four digits).
void ExpectMessageHidesNumber(const absl::Status& status,
                              absl::string_view text) {
  const std::string message(status.message());
  if (text.size() >= 6) {
    EXPECT_THAT(message, Not(HasSubstr(std::string(text))));
  }
  const std::string digits = DigitsOf(text);
  if (digits.size() >= 10) {
    EXPECT_THAT(message, Not(HasSubstr(digits)));
    EXPECT_THAT(message, Not(HasSubstr(digits.substr(digits.size() - 10))));
    EXPECT_THAT(message, Not(HasSubstr(digits.substr(0, 8))));
    EXPECT_THAT(message, Not(HasSubstr(digits.substr(digits.size() - 4))));
  }
}

// Parse(text) fails with INVALID_ARGUMENT, a message containing `problem`,
// and a message that does not repeat the number.
void ExpectRejected(absl::string_view text, absl::string_view problem) {
  SCOPED_TRACE(absl::StrCat("input \"", text, "\""));
  const absl::StatusOr<IdentityNumber> id = IdentityNumber::Parse(text);
  EXPECT_THAT(id, StatusIs(absl::StatusCode::kInvalidArgument,
                           HasSubstr(std::string(problem))));
  ExpectMessageHidesNumber(id.status(), text);
}

// --- LuhnCheckDigit ----------------------------------------------------------

TEST(LuhnCheckDigitTest, KnownValues) {
  // Computed by hand: weights 2,1,2,1,... from the left over YYMMDDNNN, the
  // digits of each product summed, check digit = (10 - sum % 10) % 10.
  // 1 2 1 2 1 2 1 2 1 -> 2+2+2+2+2+2+2+2+2 = 18 -> 2
  EXPECT_EQ(LuhnCheckDigit("121212121"), 2);
  // 8 1 1 2 1 8 9 8 7 -> 7+1+2+2+2+8+9+8+5 = 44 -> 6
  EXPECT_EQ(LuhnCheckDigit("811218987"), 6);
  // 7 0 1 0 6 3 2 3 9 -> 5+0+2+0+3+3+4+3+9 = 29 -> 1
  EXPECT_EQ(LuhnCheckDigit("701063239"), 1);
  // 1 0 0 3 1 5 1 2 3 -> 2+0+0+3+2+5+2+2+6 = 22 -> 8
  EXPECT_EQ(LuhnCheckDigit("100315123"), 8);
  EXPECT_EQ(LuhnCheckDigit("000000000"), 0);
}

TEST(LuhnCheckDigitTest, MakeNumberAgreesWithHandComputedNumbers) {
  EXPECT_EQ(MakeNumber("19121212", "121"), "191212121212");
  EXPECT_EQ(MakeNumber("19811218", "987"), "198112189876");
  EXPECT_EQ(MakeNumber("20100315", "123"), "201003151238");
}

// --- IdentityNumber::Parse: accepted -----------------------------------------

TEST(IdentityNumberParseTest, AcceptsHardCodedValidNumbers) {
  // Check digits computed by hand (see LuhnCheckDigitTest.KnownValues) and
  // verified with a separate implementation of the Luhn algorithm.
  const absl::StatusOr<IdentityNumber> a =
      IdentityNumber::Parse("191212121212");
  ASSERT_THAT(a, IsOk());
  EXPECT_EQ(a->digits(), "191212121212");
  EXPECT_EQ(a->birth_date(), absl::CivilDay(1912, 12, 12));
  EXPECT_FALSE(a->is_coordination_number());

  const absl::StatusOr<IdentityNumber> b =
      IdentityNumber::Parse("19811218-9876");
  ASSERT_THAT(b, IsOk());
  EXPECT_EQ(b->digits(), "198112189876");
  EXPECT_EQ(b->birth_date(), absl::CivilDay(1981, 12, 18));
  EXPECT_FALSE(b->is_coordination_number());
}

TEST(IdentityNumberParseTest, AcceptsWithAndWithoutDash) {
  const std::string number = MakeNumber("20100315", "123");
  const absl::StatusOr<IdentityNumber> plain = IdentityNumber::Parse(number);
  ASSERT_THAT(plain, IsOk());
  EXPECT_EQ(plain->digits(), number);
  EXPECT_EQ(plain->birth_date(), absl::CivilDay(2010, 3, 15));
  EXPECT_FALSE(plain->is_coordination_number());

  const std::string dashed =
      absl::StrCat(number.substr(0, 8), "-", number.substr(8));
  ASSERT_EQ(dashed.size(), 13u);
  const absl::StatusOr<IdentityNumber> with_dash =
      IdentityNumber::Parse(dashed);
  ASSERT_THAT(with_dash, IsOk());
  EXPECT_EQ(with_dash->digits(), number);  // canonical: no separator
  EXPECT_EQ(with_dash->birth_date(), absl::CivilDay(2010, 3, 15));
  EXPECT_TRUE(*plain == *with_dash);
}

TEST(IdentityNumberParseTest, DifferentNumbersAreNotEqual) {
  const absl::StatusOr<IdentityNumber> a =
      IdentityNumber::Parse(MakeNumber("20100315", "123"));
  const absl::StatusOr<IdentityNumber> b =
      IdentityNumber::Parse(MakeNumber("20100315", "124"));
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  EXPECT_FALSE(*a == *b);
}

TEST(IdentityNumberParseTest, AcceptsHardCodedCoordinationNumber) {
  // 1970-10-03 with 60 added to the day; check digit 1 computed by hand.
  const absl::StatusOr<IdentityNumber> id =
      IdentityNumber::Parse("197010632391");
  ASSERT_THAT(id, IsOk());
  EXPECT_TRUE(id->is_coordination_number());
  EXPECT_EQ(id->birth_date(), absl::CivilDay(1970, 10, 3));
  EXPECT_EQ(id->digits(), "197010632391");
}

TEST(IdentityNumberParseTest, AcceptsCoordinationNumbers) {
  const std::string number = MakeNumber("20100375", "123");  // day 15 + 60
  const absl::StatusOr<IdentityNumber> id = IdentityNumber::Parse(number);
  ASSERT_THAT(id, IsOk());
  EXPECT_TRUE(id->is_coordination_number());
  EXPECT_EQ(id->birth_date(), absl::CivilDay(2010, 3, 15));
  EXPECT_EQ(id->digits(), number);  // the canonical form keeps the +60

  // The first and the last day of a month, as coordination numbers.
  const absl::StatusOr<IdentityNumber> first =
      IdentityNumber::Parse(MakeNumber("20100161", "456"));
  ASSERT_THAT(first, IsOk());
  EXPECT_TRUE(first->is_coordination_number());
  EXPECT_EQ(first->birth_date(), absl::CivilDay(2010, 1, 1));

  const absl::StatusOr<IdentityNumber> last =
      IdentityNumber::Parse(MakeNumber("20100191", "456"));
  ASSERT_THAT(last, IsOk());
  EXPECT_EQ(last->birth_date(), absl::CivilDay(2010, 1, 31));

  const absl::StatusOr<IdentityNumber> leap =
      IdentityNumber::Parse(MakeNumber("20240289", "456"));  // 29 Feb + 60
  ASSERT_THAT(leap, IsOk());
  EXPECT_EQ(leap->birth_date(), absl::CivilDay(2024, 2, 29));
}

TEST(IdentityNumberParseTest, AcceptsLeapDayInLeapYears) {
  const absl::StatusOr<IdentityNumber> y2024 =
      IdentityNumber::Parse(MakeNumber("20240229", "123"));
  ASSERT_THAT(y2024, IsOk());
  EXPECT_EQ(y2024->birth_date(), absl::CivilDay(2024, 2, 29));

  // 2000 is a leap year (divisible by 400).
  const absl::StatusOr<IdentityNumber> y2000 =
      IdentityNumber::Parse(MakeNumber("20000229", "123"));
  ASSERT_THAT(y2000, IsOk());
  EXPECT_EQ(y2000->birth_date(), absl::CivilDay(2000, 2, 29));
}

TEST(IdentityNumberParseTest, AcceptsCalendarEdges) {
  EXPECT_THAT(IdentityNumber::Parse(MakeNumber("20100430", "123")), IsOk());
  EXPECT_THAT(IdentityNumber::Parse(MakeNumber("20101231", "123")), IsOk());
  EXPECT_THAT(IdentityNumber::Parse(MakeNumber("20100101", "123")), IsOk());
  EXPECT_THAT(IdentityNumber::Parse(MakeNumber("20230228", "123")), IsOk());
  // The earliest year accepted.
  const absl::StatusOr<IdentityNumber> old =
      IdentityNumber::Parse(MakeNumber("18500101", "123"));
  ASSERT_THAT(old, IsOk());
  EXPECT_EQ(old->birth_date(), absl::CivilDay(1850, 1, 1));
}

// --- IdentityNumber::Parse: rejected -----------------------------------------

TEST(IdentityNumberParseTest, RejectsWrongLength) {
  const std::string valid = MakeNumber("20100315", "123");
  ExpectRejected("", "12 digits");
  ExpectRejected(valid.substr(0, 11), "12 digits");
  ExpectRejected(valid.substr(2), "12 digits");  // 10-digit form YYMMDDNNNC
  ExpectRejected(absl::StrCat(valid, "0"), "12 digits");
  ExpectRejected(absl::StrCat(valid, "00"), "12 digits");
  ExpectRejected(absl::StrCat(valid, " "), "12 digits");
  ExpectRejected(absl::StrCat(" ", valid), "12 digits");
}

TEST(IdentityNumberParseTest, RejectsLetters) {
  const std::string valid = MakeNumber("20100315", "123");
  std::string letter_in_date = valid;
  letter_in_date[5] = 'A';
  ExpectRejected(letter_in_date, "only digits");
  std::string letter_at_end = valid;
  letter_at_end[11] = 'X';
  ExpectRejected(letter_at_end, "only digits");
  ExpectRejected("ABCDEFGHIJKL", "only digits");
  // A space in place of a digit.
  std::string space = valid;
  space[9] = ' ';
  ExpectRejected(space, "only digits");
}

TEST(IdentityNumberParseTest, RejectsDashInTheWrongPlace) {
  const std::string valid = MakeNumber("20100315", "123");
  // 13 characters, '-' not before the last four.
  ExpectRejected(absl::StrCat(valid.substr(0, 7), "-", valid.substr(7)), "'-'");
  ExpectRejected(absl::StrCat(valid.substr(0, 6), "-", valid.substr(6)), "'-'");
  ExpectRejected(absl::StrCat(valid.substr(0, 9), "-", valid.substr(9)), "'-'");
  ExpectRejected(absl::StrCat(valid, "-"), "'-'");
  ExpectRejected(absl::StrCat("-", valid), "'-'");
  // '+' (the separator of the 10-digit form for those over 100) is not '-'.
  ExpectRejected(absl::StrCat(valid.substr(0, 8), "+", valid.substr(8)), "'-'");
  // 12 characters including a '-': only 11 digits.
  ExpectRejected(absl::StrCat(valid.substr(0, 8), "-", valid.substr(8, 3)),
                 "only digits");
  // Two dashes.
  ExpectRejected(absl::StrCat(valid.substr(0, 4), "-", valid.substr(4, 4), "-",
                              valid.substr(8)),
                 "12 digits");
}

TEST(IdentityNumberParseTest, RejectsMonthZeroAndThirteen) {
  ExpectRejected(MakeNumber("20100015", "123"), "month");
  ExpectRejected(MakeNumber("20101315", "123"), "month");
  ExpectRejected(MakeNumber("20109915", "123"), "month");
}

TEST(IdentityNumberParseTest, RejectsDayZero) {
  ExpectRejected(MakeNumber("20100300", "123"), "day");
}

TEST(IdentityNumberParseTest, RejectsDaysThatDoNotExist) {
  ExpectRejected(MakeNumber("20100431", "123"), "day");  // 31 April
  ExpectRejected(MakeNumber("20100631", "123"), "day");  // 31 June
  ExpectRejected(MakeNumber("20100132", "123"), "day");  // 32 January
  ExpectRejected(MakeNumber("20100145", "123"), "day");  // 45: neither form
}

TEST(IdentityNumberParseTest, RejectsTwentyNinthFebruaryInCommonYears) {
  ExpectRejected(MakeNumber("20230229", "123"), "day");
  // 1900 is not a leap year (divisible by 100, not by 400).
  ExpectRejected(MakeNumber("19000229", "123"), "day");
  // A coordination number for 29 February 2023.
  ExpectRejected(MakeNumber("20230289", "123"), "day");
  // ...while the same day in a leap year is fine.
  EXPECT_THAT(IdentityNumber::Parse(MakeNumber("20240229", "123")), IsOk());
}

TEST(IdentityNumberParseTest, RejectsThirtiethFebruary) {
  ExpectRejected(MakeNumber("20240230", "123"), "day");
  ExpectRejected(MakeNumber("20230230", "123"), "day");
}

TEST(IdentityNumberParseTest, RejectsCoordinationDaysOutOfRange) {
  // 60 + 0: day 60 is neither a day nor a coordination day.
  ExpectRejected(MakeNumber("20100360", "123"), "day");
  // 60 + 32.
  ExpectRejected(MakeNumber("20100392", "123"), "coordination");
  // 60 + 31 in a 30-day month.
  ExpectRejected(MakeNumber("20100491", "123"), "coordination");
  // 60 + 99 - 60 = 39: too large as well.
  ExpectRejected(MakeNumber("20100399", "123"), "day");
}

TEST(IdentityNumberParseTest, RejectsYearBefore1850) {
  ExpectRejected(MakeNumber("18491231", "123"), "1850");
  ExpectRejected(MakeNumber("00010101", "123"), "1850");
}

TEST(IdentityNumberParseTest, RejectsWrongCheckDigit) {
  const std::string valid = MakeNumber("20100315", "123");
  ASSERT_THAT(IdentityNumber::Parse(valid), IsOk());
  ExpectRejected(WithWrongCheckDigit(valid), "check digit");
  ExpectRejected(WithWrongCheckDigit("191212121212"), "check digit");
  ExpectRejected(WithWrongCheckDigit("197010632391"), "check digit");
  // With a dash too.
  const std::string bad = WithWrongCheckDigit(valid);
  ExpectRejected(absl::StrCat(bad.substr(0, 8), "-", bad.substr(8)),
                 "check digit");
  // Every wrong check digit is rejected, not only the neighbour.
  for (char c = '0'; c <= '9'; ++c) {
    std::string other = valid;
    other.back() = c;
    if (other == valid) continue;
    EXPECT_THAT(IdentityNumber::Parse(other),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << "check digit " << c;
  }
}

TEST(IdentityNumberParseTest, TransposedDigitsAreCaught) {
  // Swapping two adjacent different serial digits changes the Luhn sum.
  const std::string valid = MakeNumber("20100315", "123");
  std::string swapped = valid;
  std::swap(swapped[8], swapped[9]);  // "213" instead of "123"
  ExpectRejected(swapped, "check digit");
}

// --- AgeOn -------------------------------------------------------------------

TEST(AgeOnTest, OrdinaryBirthday) {
  const absl::CivilDay birth(2010, 3, 15);
  EXPECT_EQ(AgeOn(birth, absl::CivilDay(2025, 3, 14)), 14);
  EXPECT_EQ(AgeOn(birth, absl::CivilDay(2025, 3, 15)), 15);
  EXPECT_EQ(AgeOn(birth, absl::CivilDay(2025, 3, 16)), 15);
  // Earlier month, later month.
  EXPECT_EQ(AgeOn(birth, absl::CivilDay(2025, 2, 28)), 14);
  EXPECT_EQ(AgeOn(birth, absl::CivilDay(2025, 4, 1)), 15);
  EXPECT_EQ(AgeOn(birth, absl::CivilDay(2025, 12, 31)), 15);
}

TEST(AgeOnTest, BirthDayItselfIsZero) {
  const absl::CivilDay birth(2010, 3, 15);
  EXPECT_EQ(AgeOn(birth, birth), 0);
  EXPECT_EQ(AgeOn(birth, absl::CivilDay(2011, 3, 14)), 0);
  EXPECT_EQ(AgeOn(birth, absl::CivilDay(2011, 3, 15)), 1);
}

TEST(AgeOnTest, YearEnd) {
  const absl::CivilDay birth(2000, 12, 31);
  EXPECT_EQ(AgeOn(birth, absl::CivilDay(2018, 12, 30)), 17);
  EXPECT_EQ(AgeOn(birth, absl::CivilDay(2018, 12, 31)), 18);
  EXPECT_EQ(AgeOn(birth, absl::CivilDay(2019, 1, 1)), 18);
}

TEST(AgeOnTest, LeapDayBirthInCommonYearGainsTheYearOn28February) {
  const absl::CivilDay birth(2008, 2, 29);
  EXPECT_EQ(AgeOn(birth, absl::CivilDay(2023, 2, 27)), 14);
  EXPECT_EQ(AgeOn(birth, absl::CivilDay(2023, 2, 28)), 15);
  EXPECT_EQ(AgeOn(birth, absl::CivilDay(2023, 3, 1)), 15);
}

TEST(AgeOnTest, LeapDayBirthInLeapYearGainsTheYearOn29February) {
  const absl::CivilDay birth(2012, 2, 29);
  EXPECT_EQ(AgeOn(birth, absl::CivilDay(2024, 2, 28)), 11);
  EXPECT_EQ(AgeOn(birth, absl::CivilDay(2024, 2, 29)), 12);
  EXPECT_EQ(AgeOn(birth, absl::CivilDay(2024, 3, 1)), 12);
  // 2100 is not a leap year: the birthday is 28 February.
  EXPECT_EQ(AgeOn(birth, absl::CivilDay(2100, 2, 27)), 87);
  EXPECT_EQ(AgeOn(birth, absl::CivilDay(2100, 2, 28)), 88);
}

TEST(AgeOnTest, BirthdayOf28FebruaryIsNotMoved) {
  const absl::CivilDay birth(2011, 2, 28);
  EXPECT_EQ(AgeOn(birth, absl::CivilDay(2024, 2, 27)), 12);
  EXPECT_EQ(AgeOn(birth, absl::CivilDay(2024, 2, 28)), 13);
  EXPECT_EQ(AgeOn(birth, absl::CivilDay(2024, 2, 29)), 13);
}

TEST(AgeOnTest, NegativeBeforeBirth) {
  const absl::CivilDay birth(2010, 3, 15);
  EXPECT_LT(AgeOn(birth, absl::CivilDay(2010, 3, 14)), 0);
  EXPECT_EQ(AgeOn(birth, absl::CivilDay(2010, 3, 14)), -1);
  EXPECT_LT(AgeOn(birth, absl::CivilDay(2009, 12, 31)), 0);
  EXPECT_LT(AgeOn(birth, absl::CivilDay(2000, 6, 1)), 0);
  EXPECT_LT(AgeOn(absl::CivilDay(2024, 2, 29), absl::CivilDay(2024, 2, 28)), 0);
}

}  // namespace
}  // namespace samplan::consent
