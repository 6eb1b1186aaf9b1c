// Swedish personal identity numbers (personnummer) and coordination numbers
// (samordningsnummer) in their 12-digit form, YYYYMMDDNNNC.
//
// A coordination number is written like a personal identity number with 60
// added to the day of birth. The last digit is a Luhn check digit over the
// ten digits YYMMDDNNN. Parse() accepts the 12 digits with or without a '-'
// before the last four and rejects anything else, saying why. The messages
// never repeat the number itself, so they are safe to log.

#ifndef SAMPLAN_CONSENT_IDENTITY_NUMBER_H_
#define SAMPLAN_CONSENT_IDENTITY_NUMBER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"

namespace samplan::consent {

// A value type; copyable and thread-compatible.
class IdentityNumber {
 public:
  // Parses `text`.
  // Returns INVALID_ARGUMENT, with a message naming the problem, when `text`
  // is not 12 digits (with an optional '-' between the date and the last
  // four), when the month or day does not exist on the calendar (after
  // removing the +60 of a coordination number), when the year is before 1850,
  // or when the check digit does not match.
  static absl::StatusOr<IdentityNumber> Parse(absl::string_view text);

  // The canonical form: 12 digits, no separator.
  const std::string& digits() const { return digits_; }

  // The birth date (for a coordination number, with the 60 removed).
  absl::CivilDay birth_date() const { return birth_date_; }

  bool is_coordination_number() const { return coordination_; }

  friend bool operator==(const IdentityNumber& a, const IdentityNumber& b) {
    return a.digits_ == b.digits_;
  }

 private:
  IdentityNumber(std::string digits, absl::CivilDay birth, bool coordination)
      : digits_(std::move(digits)),
        birth_date_(birth),
        coordination_(coordination) {}

  std::string digits_;
  absl::CivilDay birth_date_;
  bool coordination_ = false;
};

// The Luhn check digit (0-9) for the nine digits `yymmddnnn`.
// REQUIRES: yymmddnnn is exactly nine ASCII digits.
int LuhnCheckDigit(absl::string_view yymmddnnn);

// Age in whole years on `day` of someone born on `birth`. Someone born on
// 29 February becomes a year older on 28 February in years without that day.
// Returns a negative number when `day` is before `birth`.
int AgeOn(absl::CivilDay birth, absl::CivilDay day);

}  // namespace samplan::consent

#endif  // SAMPLAN_CONSENT_IDENTITY_NUMBER_H_
