// The pure parts of samplanctl: the command-line splitter, the parsers that
// turn readable flag values into request fields, the formatters for dates and
// times, and the mapping from a status to an exit code. Nothing here does I/O
// except SwedishTimeZone(), which reads the time-zone database once.
//
// Every parser takes the flag it parses (for example "--until") and, on bad
// input, returns INVALID_ARGUMENT with a message that starts with that flag,
// for example "--until: '2026-13-01' is not a date (YYYY-MM-DD) or an
// RFC 3339 time (2026-06-01T00:00:00Z)". The messages are shown to the
// person at the terminal; they repeat the value given.
//
// All functions are thread-safe.

#ifndef SAMPLAN_CLIENT_CLI_H_
#define SAMPLAN_CLIENT_CLI_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/generated_enum_reflection.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/type/date.pb.h"
#include "samplan/v1/common.pb.h"
#include "samplan/v1/plan.pb.h"

namespace samplan::client::cli {

// --- Exit statuses of samplanctl ---

inline constexpr int kExitOk = 0;
// The call failed for another reason: the server could not be reached
// (UNAVAILABLE), took too long (DEADLINE_EXCEEDED), failed (INTERNAL), a
// conflict (ALREADY_EXISTS, ABORTED), or a local file could not be read.
inline constexpr int kExitFailure = 1;
// Usage error: unknown command or flag, missing required flag, unparseable
// value. Nothing was sent.
inline constexpr int kExitUsage = 2;
// The server refused: PERMISSION_DENIED, NOT_FOUND, UNAUTHENTICATED or
// FAILED_PRECONDITION (and, with --fail-on-deny, an access check that says
// DENY).
inline constexpr int kExitDenied = 3;
// The server found the request invalid: INVALID_ARGUMENT.
inline constexpr int kExitInvalid = 4;
// Audit verification failed: an exported log, a checkpoint signature or a
// proof does not match (samplanctl audit verify, prove, consistency).
inline constexpr int kExitVerifyFailed = 5;

// The exit status for a call that ended with `code` (kExitOk for OK).
int ExitCodeFor(absl::StatusCode code);

// One line for stderr: "samplanctl: <CODE> (<REASON>): <message>", for
// example "samplanctl: FAILED_PRECONDITION (PLAN_CLOSED): the plan is
// closed". The code is absl's name of the status code; " (<REASON>)" is left
// out when the status carries no reason (samplan::ReasonOf) or the reason is
// the code's own name ("samplanctl: NOT_FOUND: plan not found"). When the
// status names a field (samplan::FieldOf) that the message does not start
// with, " (field: <field>)" is appended. No trailing newline.
// REQUIRES: !status.ok().
std::string FormatError(const absl::Status& status);

// --- The command line ---

// argv split into words (the command and subcommand) and flags, in order.
// Flags may come before, between or after the words.
//   --name=value and --name value   a flag with a value; in the second form
//                                   the value must not start with "--"
//   --name                          a boolean flag (only names listed in
//                                   `boolean_flags`)
//   -h                              the same as --help
// A value-less flag outside `boolean_flags`, a boolean flag with "=value",
// and any other argument starting with '-' (except "-" itself) are usage
// errors. A value-copyable type.
class CommandLine {
 public:
  struct Flag {
    std::string name;   // with the leading "--"
    std::string value;  // empty for boolean flags
  };

  // Splits `args` (argv without argv[0]). Returns INVALID_ARGUMENT naming the
  // offending argument on the errors listed above.
  static absl::StatusOr<CommandLine> Parse(
      const std::vector<std::string>& args,
      const std::set<std::string>& boolean_flags);

  const std::vector<std::string>& words() const { return words_; }
  const std::vector<Flag>& flags() const { return flags_; }

  // Whether `name` ("--json") was given at least once.
  bool Has(absl::string_view name) const;

  // The value of a flag that may be given once: nullopt when absent;
  // INVALID_ARGUMENT when given more than once.
  absl::StatusOr<std::optional<std::string>> Single(
      absl::string_view name) const;

  // Every value of a repeatable flag, in order, as given.
  std::vector<std::string> All(absl::string_view name) const;

  // Every value of a repeatable flag that also takes comma lists:
  // "--category needs,interventions --category health" gives
  // {"needs", "interventions", "health"}. See SplitList.
  std::vector<std::string> List(absl::string_view name) const;

  // Takes the last word as the value of flag `name` ("receipt verify FILE"
  // as "receipt verify --file FILE"). The caller checks that there is one
  // and that the flag is not given too.
  void WordToFlag(absl::string_view name);

  // OK when every flag given is in `known`; otherwise INVALID_ARGUMENT
  // "unknown flag --x" for the first that is not.
  absl::Status CheckKnown(const std::set<std::string>& known) const;

 private:
  std::vector<std::string> words_;
  std::vector<Flag> flags_;
};

// Splits a comma list, trims ASCII white space around each item and drops
// empty items: " a, b,,c " gives {"a", "b", "c"}.
std::vector<std::string> SplitList(absl::string_view text);

// --- Values ---

// An identity number, passed through as given ("20160510-2381" stays as it
// is; the server checks it and keeps the 12 digits), with surrounding white
// space removed. INVALID_ARGUMENT when empty.
absl::StatusOr<std::string> ParseIdentityNumber(absl::string_view flag,
                                                absl::string_view text);

// An agency: "bup-1" gives "agencies/bup-1"; "agencies/bup-1" is kept.
// INVALID_ARGUMENT when empty or when the id contains '/' or white space.
// (The server checks the id itself.)
absl::StatusOr<std::string> ParseAgencyName(absl::string_view flag,
                                            absl::string_view text);

// A top-level resource of `collection` ("plans", "grants", "custodyFacts",
// "representations"): "p123" gives "plans/p123"; "plans/p123" is kept.
// INVALID_ARGUMENT when empty, when the id contains '/' or white space, or
// when the text names another collection.
absl::StatusOr<std::string> ParseResourceName(absl::string_view flag,
                                              absl::string_view collection,
                                              absl::string_view text);

// A resource inside a plan, `collection` being "entries" or "participants":
// "plans/p1/entries/e1" is kept; a bare id "e1" gives "plans/p1/entries/e1"
// when `plan` is the plan's name "plans/p1", and INVALID_ARGUMENT (asking
// for --plan) when `plan` is empty. INVALID_ARGUMENT also when a full name
// disagrees with a non-empty `plan`.
absl::StatusOr<std::string> ParsePlanChildName(absl::string_view flag,
                                               absl::string_view collection,
                                               absl::string_view plan,
                                               absl::string_view text);

// A decimal integer in [min, max].
absl::StatusOr<int64_t> ParseInteger(absl::string_view flag,
                                     absl::string_view text, int64_t min,
                                     int64_t max);

// A positive number of seconds, fractions allowed, at most one day: "2.5".
absl::StatusOr<absl::Duration> ParseSeconds(absl::string_view flag,
                                            absl::string_view text);

// A calendar date "YYYY-MM-DD" that exists (2026-02-30 does not).
absl::StatusOr<google::type::Date> ParseDate(absl::string_view flag,
                                             absl::string_view text);

// An instant: RFC 3339 with an offset ("2026-06-01T00:00:00Z",
// "2026-06-01T08:30:00+02:00", fractions allowed), or a date "YYYY-MM-DD",
// meaning 00:00 of that day in `date_zone`.
absl::StatusOr<absl::Time> ParseInstantIn(absl::string_view flag,
                                          absl::string_view text,
                                          absl::TimeZone date_zone);

// Like ParseInstantIn with date_zone Europe/Stockholm (SwedishTimeZone()).
// A date form fails with INVALID_ARGUMENT when that zone cannot be loaded.
absl::StatusOr<absl::Time> ParseInstant(absl::string_view flag,
                                        absl::string_view text);

// Europe/Stockholm from the time-zone database, loaded once. NOT_FOUND when
// the database lacks it (install tzdata).
absl::StatusOr<absl::TimeZone> SwedishTimeZone();

// Evidence "KIND[:reference]", for example "signed-form:dnr 2026/114" or
// "e-signature:7f3a". KIND is an EvidenceKind short name (see ParseEnum); the
// reference is everything after the first ':' (it may contain ':'), trimmed,
// and may be empty (the server requires it).
absl::StatusOr<v1::Evidence> ParseEvidence(absl::string_view flag,
                                           absl::string_view text);

// A review date "KIND:YYYY-MM-DD[:description]", for example
// "follow-up:2026-09-01:How school works". KIND is follow-up or evaluation;
// the description is everything after the second ':'.
absl::StatusOr<v1::ReviewDate> ParseReview(absl::string_view flag,
                                           absl::string_view text);

// --- Enums ---
//
// Enum values are given by their short name: the value name without the
// enum's prefix (the prefix of its *_UNSPECIFIED value), case-insensitive,
// with '-' or '_' between words: for InformationCategory "social-situation",
// "SOCIAL_SITUATION" and "INFORMATION_CATEGORY_SOCIAL_SITUATION" all give
// INFORMATION_CATEGORY_SOCIAL_SITUATION. The *_UNSPECIFIED value is never
// accepted.

namespace internal {
absl::StatusOr<int> ParseEnumNumber(const google::protobuf::EnumDescriptor* e,
                                    absl::string_view flag,
                                    absl::string_view text);
std::string EnumNumberLabel(const google::protobuf::EnumDescriptor* e,
                            int number);
std::string EnumNumberCode(const google::protobuf::EnumDescriptor* e,
                           int number);
std::string EnumLabels(const google::protobuf::EnumDescriptor* e);
}  // namespace internal

// Parses a short name of enum E (a generated protobuf enum). INVALID_ARGUMENT
// listing the accepted names when `text` names no value, or names the
// unspecified value.
template <typename E>
absl::StatusOr<E> ParseEnum(absl::string_view flag, absl::string_view text) {
  absl::StatusOr<int> number = internal::ParseEnumNumber(
      google::protobuf::GetEnumDescriptor<E>(), flag, text);
  if (!number.ok()) return number.status();
  return static_cast<E>(*number);
}

// Parses each item of `texts` with ParseEnum; the first error wins.
template <typename E>
absl::StatusOr<std::vector<E>> ParseEnumList(
    absl::string_view flag, const std::vector<std::string>& texts) {
  std::vector<E> out;
  for (const std::string& text : texts) {
    absl::StatusOr<E> value = ParseEnum<E>(flag, text);
    if (!value.ok()) return value.status();
    out.push_back(*value);
  }
  return out;
}

// The short name as a flag would take it, lowercase with '-':
// INFORMATION_CATEGORY_SOCIAL_SITUATION gives "social-situation". A number
// that names no value gives the number.
template <typename E>
std::string EnumLabel(E value) {
  return internal::EnumNumberLabel(google::protobuf::GetEnumDescriptor<E>(),
                                   static_cast<int>(value));
}

// The short name in capitals, as the API's reason codes are written:
// DECISION_REASON_CONSENT_COVERS gives "CONSENT_COVERS".
template <typename E>
std::string EnumCode(E value) {
  return internal::EnumNumberCode(google::protobuf::GetEnumDescriptor<E>(),
                                  static_cast<int>(value));
}

// The accepted labels of E, "a, b or c", for help texts and messages.
template <typename E>
std::string EnumChoices() {
  return internal::EnumLabels(google::protobuf::GetEnumDescriptor<E>());
}

// --- Formatting ---
//
// Timestamps convert with samplan::SetTimestamp and samplan::ToTime
// (common/proto_time.h).

// "YYYY-MM-DD", zero-padded; an unset date (all zero) gives "-".
std::string FormatDate(const google::type::Date& date);

// The instant in `zone` as "YYYY-MM-DD HH:MM" (with ":SS" when the seconds
// are not zero), followed by " UTC" when `zone` is UTC. An unset timestamp
// (all zero) gives "-".
std::string FormatInstant(const google::protobuf::Timestamp& timestamp,
                          absl::TimeZone zone);

// Whether `id` is a valid request id: 1-64 characters of [A-Za-z0-9._:-].
bool IsValidRequestId(absl::string_view id);

// Whether `actor` is a valid staff member id: 1-64 characters of
// [A-Za-z0-9._@-].
bool IsValidActor(absl::string_view actor);

}  // namespace samplan::client::cli

#endif  // SAMPLAN_CLIENT_CLI_H_
