#include "consent/identity_number.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"

namespace samplan::consent {
namespace {

constexpr int kMinYear = 1850;

bool IsLeapYear(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int DaysInMonth(int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  if (month == 2 && IsLeapYear(year)) return 29;
  return kDays[month - 1];
}

int ToInt(absl::string_view digits) {
  int v = 0;
  for (char c : digits) v = v * 10 + (c - '0');
  return v;
}

absl::Status Invalid(absl::string_view problem) {
  return WithReason(
      absl::InvalidArgumentError(absl::StrCat("identity number ", problem)),
      "INVALID_FIELD");
}

}  // namespace

int LuhnCheckDigit(absl::string_view yymmddnnn) {
  int sum = 0;
  for (size_t i = 0; i < yymmddnnn.size(); ++i) {
    int d = yymmddnnn[i] - '0';
    if (i % 2 == 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - sum % 10) % 10;
}

absl::StatusOr<IdentityNumber> IdentityNumber::Parse(absl::string_view text) {
  std::string digits;
  if (text.size() == 13) {
    if (text[8] != '-') {
      return Invalid(
          "must be 12 digits, optionally with '-' before the last four "
          "(YYYYMMDD-NNNC)");
    }
    digits = absl::StrCat(text.substr(0, 8), text.substr(9));
  } else if (text.size() == 12) {
    digits = std::string(text);
  } else {
    return Invalid(
        absl::StrCat("must be 12 digits (YYYYMMDDNNNC or YYYYMMDD-NNNC); got ",
                     text.size(), " characters"));
  }
  for (char c : digits) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return Invalid(
          "may contain only digits and one '-' before the last four");
    }
  }

  const int year = ToInt(absl::string_view(digits).substr(0, 4));
  const int month = ToInt(absl::string_view(digits).substr(4, 2));
  int day = ToInt(absl::string_view(digits).substr(6, 2));
  if (year < kMinYear) {
    return Invalid(absl::StrCat("has a year before ", kMinYear));
  }
  if (month < 1 || month > 12) {
    return Invalid("has a month that is not 01-12");
  }
  bool coordination = false;
  if (day > 60) {
    coordination = true;
    day -= 60;
  }
  if (day < 1 || day > DaysInMonth(year, month)) {
    return Invalid(coordination
                       ? "has a day that does not exist in its month (a "
                         "coordination number adds 60 to the day)"
                       : "has a day that does not exist in its month");
  }
  const int expected = LuhnCheckDigit(absl::string_view(digits).substr(2, 9));
  if (digits[11] - '0' != expected) {
    return Invalid("has a wrong check digit (Luhn)");
  }
  return IdentityNumber(std::move(digits), absl::CivilDay(year, month, day),
                        coordination);
}

int AgeOn(absl::CivilDay birth, absl::CivilDay day) {
  int age = static_cast<int>(day.year() - birth.year());
  int birth_day = birth.day();
  // Born on 29 February: the birthday is 28 February in common years.
  if (birth.month() == 2 && birth_day == 29 && !IsLeapYear(day.year())) {
    birth_day = 28;
  }
  if (day.month() < birth.month() ||
      (day.month() == birth.month() && day.day() < birth_day)) {
    --age;
  }
  return age;
}

}  // namespace samplan::consent
