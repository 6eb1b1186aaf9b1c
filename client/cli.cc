#include "client/cli.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "common/errors.h"
#include "common/proto_time.h"

namespace samplan::client::cli {
namespace {

absl::Status FlagError(absl::string_view flag, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(flag, ": ", problem));
}

bool HasSlashOrSpace(absl::string_view text) {
  for (char c : text) {
    if (c == '/' || absl::ascii_isspace(static_cast<unsigned char>(c))) {
      return true;
    }
  }
  return false;
}

bool AllDigits(absl::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Whether `text` has the shape of a date, "DDDD-DD-DD".
bool LooksLikeDate(absl::string_view text) {
  return text.size() == 10 && text[4] == '-' && text[7] == '-' &&
         AllDigits(text.substr(0, 4)) && AllDigits(text.substr(5, 2)) &&
         AllDigits(text.substr(8, 2));
}

// The prefix of every value name of `e`: the name of its zero value without
// "UNSPECIFIED" ("INFORMATION_CATEGORY_"), or "" when there is none.
std::string EnumPrefix(const google::protobuf::EnumDescriptor* e) {
  constexpr absl::string_view kUnspecified = "UNSPECIFIED";
  const google::protobuf::EnumValueDescriptor* zero = e->FindValueByNumber(0);
  if (zero == nullptr || !absl::EndsWith(zero->name(), kUnspecified)) {
    return "";
  }
  return zero->name().substr(0, zero->name().size() - kUnspecified.size());
}

// The value name without the enum's prefix.
std::string ShortName(const google::protobuf::EnumDescriptor* e,
                      const google::protobuf::EnumValueDescriptor* value) {
  const std::string prefix = EnumPrefix(e);
  absl::string_view name = value->name();
  if (!prefix.empty() && absl::StartsWith(name, prefix)) {
    name.remove_prefix(prefix.size());
  }
  return std::string(name);
}

bool IsIdChar(char c, absl::string_view extra) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         absl::StrContains(extra, c);
}

bool IsValidToken(absl::string_view text, absl::string_view extra) {
  if (text.empty() || text.size() > 64) return false;
  for (char c : text) {
    if (!IsIdChar(c, extra)) return false;
  }
  return true;
}

}  // namespace

// --- Exit statuses ---

int ExitCodeFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kFailedPrecondition:
      return kExitDenied;
    case absl::StatusCode::kInvalidArgument:
      return kExitInvalid;
    default:
      return kExitFailure;
  }
}

std::string FormatError(const absl::Status& status) {
  const std::string code = absl::StatusCodeToString(status.code());
  std::string out = absl::StrCat("samplanctl: ", code);
  if (std::optional<std::string> reason = ReasonOf(status);
      reason.has_value() && !reason->empty() && *reason != code) {
    absl::StrAppend(&out, " (", *reason, ")");
  }
  absl::StrAppend(&out, ": ", status.message());
  if (std::optional<std::string> field = FieldOf(status);
      field.has_value() && !field->empty() &&
      !absl::StartsWith(status.message(), absl::StrCat(*field, ":"))) {
    absl::StrAppend(&out, " (field: ", *field, ")");
  }
  return out;
}

// --- CommandLine ---

absl::StatusOr<CommandLine> CommandLine::Parse(
    const std::vector<std::string>& args,
    const std::set<std::string>& boolean_flags) {
  CommandLine line;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h") {
      line.flags_.push_back(Flag{"--help", ""});
      continue;
    }
    if (arg.size() > 2 && absl::StartsWith(arg, "--")) {
      const size_t eq = arg.find('=');
      std::string name = arg.substr(0, eq);
      const bool boolean = boolean_flags.count(name) > 0;
      if (eq != std::string::npos) {
        if (boolean) {
          return absl::InvalidArgumentError(
              absl::StrCat("flag ", name, " takes no value"));
        }
        line.flags_.push_back(Flag{std::move(name), arg.substr(eq + 1)});
      } else if (boolean) {
        line.flags_.push_back(Flag{std::move(name), ""});
      } else if (i + 1 < args.size() && !absl::StartsWith(args[i + 1], "--")) {
        line.flags_.push_back(Flag{std::move(name), args[i + 1]});
        ++i;
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("flag ", name, " needs a value"));
      }
      continue;
    }
    if (arg.size() > 1 && arg[0] == '-') {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown argument ", arg, " (flags are written --name)"));
    }
    line.words_.push_back(arg);
  }
  return line;
}

void CommandLine::WordToFlag(absl::string_view name) {
  flags_.push_back(Flag{std::string(name), std::move(words_.back())});
  words_.pop_back();
}

bool CommandLine::Has(absl::string_view name) const {
  for (const Flag& flag : flags_) {
    if (flag.name == name) return true;
  }
  return false;
}

absl::StatusOr<std::optional<std::string>> CommandLine::Single(
    absl::string_view name) const {
  std::optional<std::string> value;
  for (const Flag& flag : flags_) {
    if (flag.name != name) continue;
    if (value.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": given more than once; give it once"));
    }
    value = flag.value;
  }
  return value;
}

std::vector<std::string> CommandLine::All(absl::string_view name) const {
  std::vector<std::string> values;
  for (const Flag& flag : flags_) {
    if (flag.name == name) values.push_back(flag.value);
  }
  return values;
}

std::vector<std::string> CommandLine::List(absl::string_view name) const {
  std::vector<std::string> values;
  for (const Flag& flag : flags_) {
    if (flag.name != name) continue;
    for (std::string& item : SplitList(flag.value)) {
      values.push_back(std::move(item));
    }
  }
  return values;
}

absl::Status CommandLine::CheckKnown(const std::set<std::string>& known) const {
  for (const Flag& flag : flags_) {
    if (known.count(flag.name) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag ", flag.name));
    }
  }
  return absl::OkStatus();
}

std::vector<std::string> SplitList(absl::string_view text) {
  std::vector<std::string> items;
  for (absl::string_view piece : absl::StrSplit(text, ',')) {
    piece = absl::StripAsciiWhitespace(piece);
    if (!piece.empty()) items.emplace_back(piece);
  }
  return items;
}

// --- Values ---

absl::StatusOr<std::string> ParseIdentityNumber(absl::string_view flag,
                                                absl::string_view text) {
  absl::string_view number = absl::StripAsciiWhitespace(text);
  if (number.empty()) {
    return FlagError(flag,
                     "give an identity number, YYYYMMDDNNNC or YYYYMMDD-NNNC");
  }
  return std::string(number);
}

absl::StatusOr<std::string> ParseAgencyName(absl::string_view flag,
                                            absl::string_view text) {
  absl::string_view id = text;
  absl::ConsumePrefix(&id, "agencies/");
  if (id.empty()) {
    return FlagError(flag, "give an agency id, e.g. bup-1 (or agencies/bup-1)");
  }
  if (HasSlashOrSpace(id)) {
    return FlagError(flag, absl::StrCat("'", text,
                                        "' is not an agency id; give e.g. "
                                        "bup-1 or agencies/bup-1"));
  }
  return absl::StrCat("agencies/", id);
}

absl::StatusOr<std::string> ParseResourceName(absl::string_view flag,
                                              absl::string_view collection,
                                              absl::string_view text) {
  const std::string prefix = absl::StrCat(collection, "/");
  absl::string_view id = text;
  absl::ConsumePrefix(&id, prefix);
  if (id.empty()) {
    return FlagError(flag, absl::StrCat("give an id, or ", collection, "/ID"));
  }
  if (HasSlashOrSpace(id)) {
    return FlagError(flag,
                     absl::StrCat("'", text, "' is not a name in ", collection,
                                  "; give the id or ", collection, "/ID"));
  }
  return absl::StrCat(prefix, id);
}

absl::StatusOr<std::string> ParsePlanChildName(absl::string_view flag,
                                               absl::string_view collection,
                                               absl::string_view plan,
                                               absl::string_view text) {
  if (absl::StartsWith(text, "plans/")) {
    std::vector<absl::string_view> parts = absl::StrSplit(text, '/');
    if (parts.size() != 4 || parts[1].empty() || parts[2] != collection ||
        parts[3].empty() || HasSlashOrSpace(parts[1]) ||
        HasSlashOrSpace(parts[3])) {
      return FlagError(flag, absl::StrCat("'", text,
                                          "' is not a name of the "
                                          "form plans/PLAN/",
                                          collection, "/ID"));
    }
    const std::string parent = absl::StrCat("plans/", parts[1]);
    if (!plan.empty() && plan != parent) {
      return FlagError(flag, absl::StrCat("'", text, "' is not in ", plan,
                                          " (given with --plan)"));
    }
    return std::string(text);
  }
  if (text.empty()) {
    return FlagError(
        flag, absl::StrCat("give an id with --plan, or plans/PLAN/", collection,
                           "/ID"));
  }
  if (HasSlashOrSpace(text)) {
    return FlagError(flag, absl::StrCat("'", text,
                                        "' is not an id; give the "
                                        "id with --plan, or plans/PLAN/",
                                        collection, "/ID"));
  }
  if (plan.empty()) {
    return FlagError(flag, absl::StrCat("a bare id needs --plan; or give "
                                        "plans/PLAN/",
                                        collection, "/", text));
  }
  return absl::StrCat(plan, "/", collection, "/", text);
}

absl::StatusOr<int64_t> ParseInteger(absl::string_view flag,
                                     absl::string_view text, int64_t min,
                                     int64_t max) {
  int64_t value = 0;
  if (!absl::SimpleAtoi(text, &value)) {
    return FlagError(flag, absl::StrCat("'", text, "' is not a whole number"));
  }
  if (value < min || value > max) {
    return FlagError(
        flag, absl::StrCat(value, " is out of range; give ", min, "-", max));
  }
  return value;
}

absl::StatusOr<absl::Duration> ParseSeconds(absl::string_view flag,
                                            absl::string_view text) {
  double seconds = 0;
  if (!absl::SimpleAtod(text, &seconds) || !(seconds > 0) ||
      !(seconds <= 86400)) {
    return FlagError(flag, absl::StrCat("'", text,
                                        "' is not a number of seconds "
                                        "between 0 and 86400, e.g. 10 or 2.5"));
  }
  return absl::Seconds(seconds);
}

absl::StatusOr<google::type::Date> ParseDate(absl::string_view flag,
                                             absl::string_view text) {
  int year = 0;
  int month = 0;
  int day = 0;
  if (!LooksLikeDate(text) || !absl::SimpleAtoi(text.substr(0, 4), &year) ||
      !absl::SimpleAtoi(text.substr(5, 2), &month) ||
      !absl::SimpleAtoi(text.substr(8, 2), &day)) {
    return FlagError(flag,
                     absl::StrCat("'", text, "' is not a date YYYY-MM-DD"));
  }
  const absl::CivilDay civil(year, month, day);
  if (year < 1 || civil.year() != year || civil.month() != month ||
      civil.day() != day) {
    return FlagError(flag,
                     absl::StrCat("'", text, "' is not a day on the calendar"));
  }
  google::type::Date date;
  date.set_year(year);
  date.set_month(month);
  date.set_day(day);
  return date;
}

absl::StatusOr<absl::Time> ParseInstantIn(absl::string_view flag,
                                          absl::string_view text,
                                          absl::TimeZone date_zone) {
  if (text.size() == 10) {
    absl::StatusOr<google::type::Date> date = ParseDate(flag, text);
    if (!date.ok()) return date.status();
    return absl::FromCivil(
        absl::CivilSecond(date->year(), date->month(), date->day(), 0, 0, 0),
        date_zone);
  }
  absl::Time time;
  std::string error;
  if (text.empty() ||
      !absl::ascii_isdigit(static_cast<unsigned char>(text[0])) ||
      !absl::ParseTime(absl::RFC3339_full, text, &time, &error)) {
    return FlagError(flag,
                     absl::StrCat("'", text,
                                  "' is not a date (YYYY-MM-DD) or an RFC 3339 "
                                  "time with offset (2026-06-01T00:00:00Z)"));
  }
  return time;
}

absl::StatusOr<absl::Time> ParseInstant(absl::string_view flag,
                                        absl::string_view text) {
  if (text.size() != 10) {
    return ParseInstantIn(flag, text, absl::UTCTimeZone());
  }
  absl::StatusOr<absl::TimeZone> zone = SwedishTimeZone();
  if (!zone.ok()) {
    return FlagError(flag,
                     "a date means 00:00 in Europe/Stockholm, but that time "
                     "zone cannot be loaded (install tzdata); give an RFC 3339 "
                     "time such as 2026-06-01T00:00:00+02:00 instead");
  }
  return ParseInstantIn(flag, text, *zone);
}

absl::StatusOr<absl::TimeZone> SwedishTimeZone() {
  static const absl::StatusOr<absl::TimeZone>* const kZone = [] {
    absl::TimeZone zone;
    if (absl::LoadTimeZone("Europe/Stockholm", &zone)) {
      return new absl::StatusOr<absl::TimeZone>(zone);
    }
    return new absl::StatusOr<absl::TimeZone>(absl::NotFoundError(
        "time zone Europe/Stockholm not found; install tzdata"));
  }();
  return *kZone;
}

absl::StatusOr<v1::Evidence> ParseEvidence(absl::string_view flag,
                                           absl::string_view text) {
  std::vector<absl::string_view> parts =
      absl::StrSplit(text, absl::MaxSplits(':', 1));
  const absl::string_view kind_text = absl::StripAsciiWhitespace(parts[0]);
  if (kind_text.empty()) {
    return FlagError(flag, absl::StrCat("give KIND[:reference], e.g. "
                                        "signed-form:dnr-2026-114; KIND is ",
                                        EnumChoices<v1::EvidenceKind>()));
  }
  absl::StatusOr<v1::EvidenceKind> kind =
      ParseEnum<v1::EvidenceKind>(flag, kind_text);
  if (!kind.ok()) return kind.status();
  v1::Evidence evidence;
  evidence.set_kind(*kind);
  if (parts.size() > 1) {
    evidence.set_reference(std::string(absl::StripAsciiWhitespace(parts[1])));
  }
  return evidence;
}

absl::StatusOr<v1::ReviewDate> ParseReview(absl::string_view flag,
                                           absl::string_view text) {
  std::vector<absl::string_view> parts =
      absl::StrSplit(text, absl::MaxSplits(':', 2));
  if (parts.size() < 2) {
    return FlagError(flag, absl::StrCat("'", text,
                                        "' is not KIND:YYYY-MM-DD[:text], "
                                        "e.g. follow-up:2026-09-01"));
  }
  absl::StatusOr<v1::ReviewKind> kind =
      ParseEnum<v1::ReviewKind>(flag, absl::StripAsciiWhitespace(parts[0]));
  if (!kind.ok()) return kind.status();
  absl::StatusOr<google::type::Date> date =
      ParseDate(flag, absl::StripAsciiWhitespace(parts[1]));
  if (!date.ok()) return date.status();
  v1::ReviewDate review;
  review.set_kind(*kind);
  *review.mutable_date() = *date;
  if (parts.size() > 2) {
    review.set_description(std::string(absl::StripAsciiWhitespace(parts[2])));
  }
  return review;
}

// --- Enums ---

namespace internal {

absl::StatusOr<int> ParseEnumNumber(const google::protobuf::EnumDescriptor* e,
                                    absl::string_view flag,
                                    absl::string_view text) {
  std::string normalized =
      absl::AsciiStrToUpper(absl::StripAsciiWhitespace(text));
  for (char& c : normalized) {
    if (c == '-' || c == ' ') c = '_';
  }
  if (!normalized.empty()) {
    const google::protobuf::EnumValueDescriptor* value =
        e->FindValueByName(EnumPrefix(e) + normalized);
    if (value == nullptr) value = e->FindValueByName(normalized);
    if (value != nullptr && value->number() != 0) return value->number();
  }
  return FlagError(
      flag, absl::StrCat("unknown value '", text, "'; give ", EnumLabels(e)));
}

std::string EnumNumberLabel(const google::protobuf::EnumDescriptor* e,
                            int number) {
  const google::protobuf::EnumValueDescriptor* value =
      e->FindValueByNumber(number);
  if (value == nullptr) return absl::StrCat(number);
  std::string label = absl::AsciiStrToLower(ShortName(e, value));
  for (char& c : label) {
    if (c == '_') c = '-';
  }
  return label;
}

std::string EnumNumberCode(const google::protobuf::EnumDescriptor* e,
                           int number) {
  const google::protobuf::EnumValueDescriptor* value =
      e->FindValueByNumber(number);
  if (value == nullptr) return absl::StrCat(number);
  return ShortName(e, value);
}

std::string EnumLabels(const google::protobuf::EnumDescriptor* e) {
  std::vector<std::string> labels;
  for (int i = 0; i < e->value_count(); ++i) {
    const int number = e->value(i)->number();
    if (number != 0) labels.push_back(EnumNumberLabel(e, number));
  }
  if (labels.size() < 2) return absl::StrJoin(labels, "");
  const std::string last = labels.back();
  labels.pop_back();
  return absl::StrCat(absl::StrJoin(labels, ", "), " or ", last);
}

}  // namespace internal

// --- Formatting ---

std::string FormatDate(const google::type::Date& date) {
  if (date.year() == 0 && date.month() == 0 && date.day() == 0) return "-";
  return absl::StrCat(absl::Dec(date.year(), absl::kZeroPad4), "-",
                      absl::Dec(date.month(), absl::kZeroPad2), "-",
                      absl::Dec(date.day(), absl::kZeroPad2));
}

std::string FormatInstant(const google::protobuf::Timestamp& timestamp,
                          absl::TimeZone zone) {
  if (timestamp.seconds() == 0 && timestamp.nanos() == 0) return "-";
  const absl::Time time = samplan::ToTime(timestamp);
  const absl::CivilSecond civil = absl::ToCivilSecond(time, zone);
  std::string out = absl::FormatTime(
      civil.second() != 0 ? "%Y-%m-%d %H:%M:%S" : "%Y-%m-%d %H:%M", time, zone);
  if (zone == absl::UTCTimeZone()) absl::StrAppend(&out, " UTC");
  return out;
}

bool IsValidRequestId(absl::string_view id) { return IsValidToken(id, "._:-"); }

bool IsValidActor(absl::string_view actor) {
  return IsValidToken(actor, "._@-");
}

}  // namespace samplan::client::cli
