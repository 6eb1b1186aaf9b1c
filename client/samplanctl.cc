// samplanctl: the command-line client for samplan's PlanService and
// ConsentService. See --help.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/cli.h"
#include "client/client.h"
#include "google/protobuf/field_mask.pb.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"
#include "samplan/v1/common.pb.h"
#include "samplan/v1/consent.pb.h"
#include "samplan/v1/plan.pb.h"

namespace samplan::client {
namespace {

using cli::CommandLine;
using cli::EnumCode;
using cli::EnumLabel;

// ---------------------------------------------------------------------------
// Commands and their flags.

enum class Need { kOptional, kRequired };

struct FlagDoc {
  const char* name;  // "--plan"
  const char* arg;   // "ID"; "" for a boolean flag
  Need need;
  const char* doc;
};

class Invocation;

struct Command {
  const char* group;        // "plan"
  const char* verb;         // "get"
  const char* summary;      // one line for the command list
  const char* description;  // paragraphs for the command's --help
  std::vector<FlagDoc> flags;
  const char* example;
  int (*run)(Invocation&);
  bool writes;  // sends a request_id
};

constexpr char kProgram[] = "samplanctl";

// Flags every command takes (see kUsage).
const std::vector<std::string>& GlobalFlags() {
  static const std::vector<std::string>* const kFlags =
      new std::vector<std::string>{
          "--server", "--pki",  "--agency",     "--ca",      "--cert", "--key",
          "--actor",  "--json", "--request-id", "--timeout", "--help"};
  return *kFlags;
}

// Flags that take no value, in any command.
const std::set<std::string>& BooleanFlags() {
  static const std::set<std::string>* const kFlags =
      new std::set<std::string>{"--json",
                                "--help",
                                "--fail-on-deny",
                                "--clear-reviews",
                                "--clear-intervention",
                                "--remit-covers-consent"};
  return *kFlags;
}

void Print(absl::string_view line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
}

void PrintErr(absl::string_view line) {
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fputc('\n', stderr);
}

// Times are shown in Swedish time; in UTC when the zone cannot be loaded.
absl::TimeZone DisplayZone() {
  absl::StatusOr<absl::TimeZone> zone = cli::SwedishTimeZone();
  return zone.ok() ? *zone : absl::UTCTimeZone();
}

std::string When(const google::protobuf::Timestamp& timestamp) {
  return cli::FormatInstant(timestamp, DisplayZone());
}

absl::CivilDay CivilDayOf(const google::type::Date& date) {
  return absl::CivilDay(date.year(), date.month(), date.day());
}

google::type::Date FromCivilDay(absl::CivilDay day) {
  google::type::Date date;
  date.set_year(static_cast<int32_t>(day.year()));
  date.set_month(day.month());
  date.set_day(day.day());
  return date;
}

// ---------------------------------------------------------------------------
// One run of one command: reads its flags (recording the first usage error),
// connects, calls and prints.

class Invocation {
 public:
  Invocation(const CommandLine& line, const Command& command)
      : line_(line), command_(command) {
    for (const std::string& flag : GlobalFlags()) known_.insert(flag);
    for (const FlagDoc& flag : command.flags) known_.insert(flag.name);
  }

  const std::set<std::string>& known_flags() const { return known_; }
  bool json() const { return line_.Has("--json"); }

  // --- Usage errors ---

  // Records `status` as the usage error unless one is recorded already.
  void Fail(absl::Status status) {
    if (usage_.ok()) usage_ = std::move(status);
  }
  void Fail(absl::string_view message) {
    Fail(absl::InvalidArgumentError(message));
  }
  bool ok() const { return usage_.ok(); }

  // Prints the recorded usage error and where help is; returns kExitUsage.
  int UsageExit() const {
    PrintErr(absl::StrCat(kProgram, " ", command_.group, " ", command_.verb,
                          ": ", usage_.message()));
    PrintErr(absl::StrCat("Try '", kProgram, " ", command_.group, " ",
                          command_.verb, " --help'."));
    return cli::kExitUsage;
  }

  // --- Flag values. Each returns an empty value when the flag is absent or
  // bad, recording a usage error when it is bad or required and absent. ---

  bool Given(absl::string_view flag) {
    Declared(flag);
    return line_.Has(flag);
  }

  std::optional<std::string> Value(absl::string_view flag, Need need) {
    Declared(flag);
    absl::StatusOr<std::optional<std::string>> value = line_.Single(flag);
    if (!value.ok()) {
      Fail(value.status());
      return std::nullopt;
    }
    if (!value->has_value() && need == Need::kRequired) {
      Fail(absl::StrCat(flag, " is required"));
    }
    return *value;
  }

  // Free text. A required text must not be empty.
  std::string Text(absl::string_view flag, Need need) {
    std::optional<std::string> value = Value(flag, need);
    if (!value.has_value()) return "";
    if (need == Need::kRequired && value->empty()) {
      Fail(absl::StrCat(flag, " must not be empty"));
    }
    return *value;
  }

  std::string Pnr(absl::string_view flag, Need need) {
    std::optional<std::string> value = Value(flag, need);
    if (!value.has_value()) return "";
    return Check(cli::ParseIdentityNumber(flag, *value));
  }

  std::vector<std::string> Pnrs(absl::string_view flag) {
    std::vector<std::string> out;
    for (const std::string& item : Items(flag)) {
      out.push_back(Check(cli::ParseIdentityNumber(flag, item)));
    }
    return out;
  }

  // An agency name; with `allow_empty`, an empty value (to clear a field)
  // gives "".
  std::string Agency(absl::string_view flag, Need need,
                     bool allow_empty = false) {
    std::optional<std::string> value = Value(flag, need);
    if (!value.has_value()) return "";
    if (allow_empty && value->empty()) return "";
    return Check(cli::ParseAgencyName(flag, *value));
  }

  std::vector<std::string> Agencies(absl::string_view flag) {
    std::vector<std::string> out;
    for (const std::string& item : Items(flag)) {
      out.push_back(Check(cli::ParseAgencyName(flag, item)));
    }
    return out;
  }

  // A top-level resource name in `collection`.
  std::string Name(absl::string_view flag, absl::string_view collection,
                   Need need) {
    std::optional<std::string> value = Value(flag, need);
    if (!value.has_value()) return "";
    return Check(cli::ParseResourceName(flag, collection, *value));
  }

  std::string PlanName(Need need) { return Name("--plan", "plans", need); }

  // An entry or participant name: full, or an id with --plan.
  std::string ChildName(absl::string_view flag, absl::string_view collection) {
    const std::string plan = PlanName(Need::kOptional);
    std::optional<std::string> value = Value(flag, Need::kRequired);
    if (!value.has_value()) return "";
    return Check(cli::ParsePlanChildName(flag, collection, plan, *value));
  }

  template <typename E>
  E Enum(absl::string_view flag, Need need) {
    std::optional<std::string> value = Value(flag, need);
    if (!value.has_value()) return static_cast<E>(0);
    absl::StatusOr<E> parsed = cli::ParseEnum<E>(flag, *value);
    if (!parsed.ok()) {
      Fail(parsed.status());
      return static_cast<E>(0);
    }
    return *parsed;
  }

  template <typename E>
  std::vector<E> Enums(absl::string_view flag, Need need) {
    std::vector<std::string> items = Items(flag);
    if (items.empty() && need == Need::kRequired) {
      Fail(absl::StrCat(flag, " is required"));
    }
    absl::StatusOr<std::vector<E>> parsed = cli::ParseEnumList<E>(flag, items);
    if (!parsed.ok()) {
      Fail(parsed.status());
      return {};
    }
    return *std::move(parsed);
  }

  std::optional<int64_t> Int(absl::string_view flag, int64_t min, int64_t max,
                             Need need) {
    std::optional<std::string> value = Value(flag, need);
    if (!value.has_value()) return std::nullopt;
    absl::StatusOr<int64_t> parsed = cli::ParseInteger(flag, *value, min, max);
    if (!parsed.ok()) {
      Fail(parsed.status());
      return std::nullopt;
    }
    return *parsed;
  }

  // Sets *out and returns true when the flag is given and valid.
  bool Date(absl::string_view flag, Need need, google::type::Date* out) {
    std::optional<std::string> value = Value(flag, need);
    if (!value.has_value()) return false;
    absl::StatusOr<google::type::Date> parsed = cli::ParseDate(flag, *value);
    if (!parsed.ok()) {
      Fail(parsed.status());
      return false;
    }
    *out = *parsed;
    return true;
  }

  bool Instant(absl::string_view flag, Need need,
               google::protobuf::Timestamp* out) {
    std::optional<std::string> value = Value(flag, need);
    if (!value.has_value()) return false;
    absl::StatusOr<absl::Time> parsed = cli::ParseInstant(flag, *value);
    if (!parsed.ok()) {
      Fail(parsed.status());
      return false;
    }
    cli::ToTimestamp(*parsed, out);
    return true;
  }

  bool EvidenceFlag(absl::string_view flag, Need need, v1::Evidence* out) {
    std::optional<std::string> value = Value(flag, need);
    if (!value.has_value()) return false;
    absl::StatusOr<v1::Evidence> parsed = cli::ParseEvidence(flag, *value);
    if (!parsed.ok()) {
      Fail(parsed.status());
      return false;
    }
    *out = *parsed;
    return true;
  }

  // Every --review value (not split at commas: the text may hold them).
  std::vector<v1::ReviewDate> Reviews(absl::string_view flag) {
    Declared(flag);
    std::vector<v1::ReviewDate> out;
    for (const std::string& text : line_.All(flag)) {
      absl::StatusOr<v1::ReviewDate> parsed = cli::ParseReview(flag, text);
      if (!parsed.ok()) {
        Fail(parsed.status());
        continue;
      }
      out.push_back(*std::move(parsed));
    }
    return out;
  }

  // --page-size and --page-token into any List/Search request.
  template <typename Request>
  void Paging(Request* request) {
    if (std::optional<int64_t> size =
            Int("--page-size", 0, 1000, Need::kOptional)) {
      request->set_page_size(static_cast<int32_t>(*size));
    }
    request->set_page_token(Text("--page-token", Need::kOptional));
  }

  // The request id for a write: --request-id, or a new random id.
  std::string RequestId() {
    std::optional<std::string> given = Value("--request-id", Need::kOptional);
    if (given.has_value()) {
      if (!cli::IsValidRequestId(*given)) {
        Fail(absl::StrCat("--request-id: '", *given,
                          "' is not 1-64 characters of A-Z a-z 0-9 . _ : -"));
      }
      request_id_ = *given;
    } else {
      request_id_ = Connection::NewRequestId();
    }
    return request_id_;
  }

  // --- Calling ---

  // Opens the connection from the global flags and the environment. Returns
  // nullptr after printing why not; exit_code() then says how to exit.
  Connection* Connect();
  int exit_code() const { return exit_code_; }

  // Prints a failed call's error (and, for writes that may have happened, how
  // to repeat them safely); returns the exit status.
  int ReportError(const absl::Status& status) const {
    PrintErr(cli::FormatError(status));
    const absl::StatusCode code = status.code();
    if (command_.writes && !request_id_.empty() &&
        (code == absl::StatusCode::kUnavailable ||
         code == absl::StatusCode::kDeadlineExceeded ||
         code == absl::StatusCode::kUnknown ||
         code == absl::StatusCode::kInternal)) {
      PrintErr(absl::StrCat(kProgram,
                            ": the change may or may not have been made; "
                            "repeat the same command with --request-id ",
                            request_id_, " to make sure it is made once"));
    }
    return cli::ExitCodeFor(code);
  }

  // Ends a call: on error reports it; on success prints `response` as JSON
  // (--json) or with `print`.
  template <typename Response, typename PrintFn>
  int Finish(const absl::Status& status, const Response& response,
             PrintFn print) const {
    if (!status.ok()) return ReportError(status);
    if (json()) return PrintJson(response);
    print(response);
    return cli::kExitOk;
  }

  static int PrintJson(const google::protobuf::Message& message) {
    google::protobuf::util::JsonPrintOptions options;
    options.add_whitespace = true;
    options.always_print_primitive_fields = false;
    options.preserve_proto_field_names = false;
    std::string out;
    auto status =
        google::protobuf::util::MessageToJsonString(message, &out, options);
    if (!status.ok()) {
      PrintErr(absl::StrCat(kProgram, ": cannot print the response as JSON: ",
                            status.ToString()));
      return cli::kExitFailure;
    }
    while (!out.empty() && out.back() == '\n') out.pop_back();
    Print(out);
    return cli::kExitOk;
  }

 private:
  // A flag a command reads must be among its documented flags; otherwise the
  // unknown-flag check would refuse it. Reports the mismatch as a usage error
  // so that it shows up at the first run.
  void Declared(absl::string_view flag) {
    if (known_.count(std::string(flag)) == 0) {
      Fail(absl::InternalError(absl::StrCat(
          "internal error: flag ", flag, " is not declared for this command")));
    }
  }

  std::vector<std::string> Items(absl::string_view flag) {
    Declared(flag);
    return line_.List(flag);
  }

  std::string Check(absl::StatusOr<std::string> value) {
    if (!value.ok()) {
      Fail(value.status());
      return "";
    }
    return *std::move(value);
  }

  const CommandLine& line_;
  const Command& command_;
  std::set<std::string> known_;
  absl::Status usage_;
  std::string request_id_;
  std::unique_ptr<Connection> connection_;
  int exit_code_ = cli::kExitOk;
};

// The value of a global flag, else of the environment variable, else "".
std::string FlagOrEnv(const CommandLine& line, absl::string_view flag,
                      const char* env, absl::Status* error) {
  absl::StatusOr<std::optional<std::string>> value = line.Single(flag);
  if (!value.ok()) {
    if (error->ok()) *error = value.status();
    return "";
  }
  if (value->has_value()) return **value;
  const char* from_env = std::getenv(env);
  return from_env != nullptr ? std::string(from_env) : std::string();
}

Connection* Invocation::Connect() {
  if (!usage_.ok()) {
    exit_code_ = UsageExit();
    return nullptr;
  }
  absl::Status error;
  ConnectionOptions options;
  options.target = FlagOrEnv(line_, "--server", "SAMPLAN_SERVER", &error);
  if (options.target.empty()) options.target = "localhost:7443";
  const std::string pki = FlagOrEnv(line_, "--pki", "SAMPLAN_PKI", &error);
  const std::string agency =
      FlagOrEnv(line_, "--agency", "SAMPLAN_AGENCY", &error);
  options.ca_file = FlagOrEnv(line_, "--ca", "SAMPLAN_CA", &error);
  options.cert_file = FlagOrEnv(line_, "--cert", "SAMPLAN_CERT", &error);
  options.key_file = FlagOrEnv(line_, "--key", "SAMPLAN_KEY", &error);
  options.actor = FlagOrEnv(line_, "--actor", "SAMPLAN_ACTOR", &error);
  if (!pki.empty()) {
    const std::string dir =
        pki.back() == '/' ? pki.substr(0, pki.size() - 1) : pki;
    if (options.ca_file.empty()) options.ca_file = dir + "/ca.pem";
    if (agency.empty() &&
        (options.cert_file.empty() || options.key_file.empty())) {
      Fail(
          "--pki needs --agency ID (or SAMPLAN_AGENCY) to find DIR/ID.pem and "
          "DIR/ID.key");
    }
    if (!agency.empty()) {
      const absl::StatusOr<std::string> agency_name =
          cli::ParseAgencyName("--agency", agency);
      if (!agency_name.ok()) Fail(agency_name.status());
      if (options.cert_file.empty()) {
        options.cert_file = absl::StrCat(dir, "/", agency, ".pem");
      }
      if (options.key_file.empty()) {
        options.key_file = absl::StrCat(dir, "/", agency, ".key");
      }
    }
  } else if (!agency.empty() && options.cert_file.empty()) {
    Fail("--agency needs --pki DIR (or give --cert FILE and --key FILE)");
  }
  if (options.cert_file.empty() || options.key_file.empty()) {
    Fail(
        "no client certificate: give --pki DIR --agency ID, or --cert FILE "
        "and --key FILE");
  }
  if (options.actor.empty()) {
    Fail(
        "--actor is required (or SAMPLAN_ACTOR): the id of the staff member "
        "who acts, as your agency's own system knows it");
  } else if (!cli::IsValidActor(options.actor)) {
    Fail(absl::StrCat("--actor: '", options.actor,
                      "' is not 1-64 characters of A-Z a-z 0-9 . _ @ -"));
  }
  absl::StatusOr<std::optional<std::string>> timeout =
      line_.Single("--timeout");
  if (!timeout.ok()) {
    Fail(timeout.status());
  } else if (timeout->has_value()) {
    absl::StatusOr<absl::Duration> seconds =
        cli::ParseSeconds("--timeout", **timeout);
    if (seconds.ok()) {
      options.deadline = *seconds;
    } else {
      Fail(seconds.status());
    }
  }
  if (!error.ok()) Fail(error);
  if (!usage_.ok()) {
    exit_code_ = UsageExit();
    return nullptr;
  }
  absl::StatusOr<std::unique_ptr<Connection>> connection =
      Connection::Open(options);
  if (!connection.ok()) {
    PrintErr(absl::StrCat(kProgram, ": ", connection.status().message()));
    exit_code_ = cli::kExitFailure;
    return nullptr;
  }
  connection_ = *std::move(connection);
  return connection_.get();
}

// ---------------------------------------------------------------------------
// Human-readable output.

std::string Indent(absl::string_view text, absl::string_view indent) {
  return absl::StrCat(
      indent, absl::StrReplaceAll(text, {{"\n", absl::StrCat("\n", indent)}}));
}

std::string EvidenceText(const v1::Evidence& evidence) {
  if (evidence.kind() == v1::EVIDENCE_KIND_UNSPECIFIED &&
      evidence.reference().empty()) {
    return "-";
  }
  std::string out = EnumLabel(evidence.kind());
  if (!evidence.reference().empty()) {
    absl::StrAppend(&out, ": ", evidence.reference());
  }
  return out;
}

std::string CoordinatorText(const v1::Coordinator& c) {
  std::vector<std::string> parts;
  if (!c.display_name().empty()) parts.push_back(c.display_name());
  if (!c.phone().empty()) parts.push_back(c.phone());
  if (!c.email().empty()) parts.push_back(c.email());
  if (!c.agency().empty()) parts.push_back(c.agency());
  return parts.empty() ? "-" : absl::StrJoin(parts, ", ");
}

std::string ReviewText(const v1::ReviewDate& review) {
  std::string out = absl::StrCat(cli::FormatDate(review.date()), " ",
                                 EnumLabel(review.kind()));
  if (!review.description().empty()) {
    absl::StrAppend(&out, ": ", review.description());
  }
  return out;
}

std::string PeriodText(const google::protobuf::Timestamp& from, bool has_until,
                       const google::protobuf::Timestamp& until) {
  return absl::StrCat(When(from), " until ",
                      has_until ? When(until) : "further notice");
}

void PrintMore(const std::string& next_page_token) {
  if (!next_page_token.empty()) {
    Print(
        absl::StrCat("(more: repeat with --page-token ", next_page_token, ")"));
  }
}

void PrintPlanLine(const v1::Plan& plan) {
  Print(absl::StrCat(plan.name(), "  ", EnumCode(plan.state()), "  revision ",
                     plan.revision(), " (effective ", plan.effective_revision(),
                     ")  subject ", plan.subject(), "  lead ",
                     plan.lead_agency(), "  coordinator ",
                     plan.coordinator().display_name()));
}

// The plan's own fields; `shown_revision` 0 when no revision was chosen.
void PrintPlan(const v1::Plan& plan, int64_t shown_revision) {
  Print(absl::StrCat("Plan ", plan.name(), " (", EnumCode(plan.state()), ")"));
  Print(absl::StrCat(
      "  subject:      ", plan.subject(),
      plan.has_subject_birth_date()
          ? absl::StrCat(" (born ", cli::FormatDate(plan.subject_birth_date()),
                         ")")
          : ""));
  Print(absl::StrCat("  lead agency:  ", plan.lead_agency()));
  std::string revisions;
  if (shown_revision != 0) {
    absl::StrAppend(&revisions, "shown ", shown_revision, "; ");
  }
  absl::StrAppend(&revisions, "newest ", plan.revision(), "; effective ",
                  plan.effective_revision() == 0
                      ? std::string("none (never approved)")
                      : absl::StrCat(plan.effective_revision()));
  Print(absl::StrCat("  revision:     ", revisions));
  Print(absl::StrCat("  coordinator:  ", CoordinatorText(plan.coordinator())));
  for (const v1::ReviewDate& review : plan.review_dates()) {
    Print(absl::StrCat("  review:       ", ReviewText(review)));
  }
  if (plan.has_close_time()) {
    std::string closed = absl::StrCat(When(plan.close_time()), " by ",
                                      EnumLabel(plan.closed_by()));
    if (!plan.closer_identity_number().empty()) {
      absl::StrAppend(&closed, " ", plan.closer_identity_number());
    }
    if (!plan.close_reason().empty()) {
      absl::StrAppend(&closed, ": ", plan.close_reason());
    }
    Print(absl::StrCat("  closed:       ", closed));
  }
  Print(absl::StrCat("  created:      ", When(plan.create_time()), "; changed ",
                     When(plan.update_time())));
  if (!plan.etag().empty())
    Print(absl::StrCat("  etag:         ", plan.etag()));
}

void PrintParticipant(const v1::Participant& p) {
  std::string who;
  if (p.kind() == v1::PARTICIPANT_KIND_AGENCY) {
    who = p.agency();
    if (!p.display_name().empty())
      absl::StrAppend(&who, " (", p.display_name(), ")");
  } else {
    who = p.display_name();
    if (!p.identity_number().empty()) {
      absl::StrAppend(&who, who.empty() ? "" : " ", p.identity_number());
    }
  }
  std::string line = absl::StrCat("  ", EnumLabel(p.kind()), ": ", who);
  if (!p.role_note().empty()) absl::StrAppend(&line, " - ", p.role_note());
  if (p.has_remove_time()) {
    absl::StrAppend(&line, " [removed ", When(p.remove_time()), "]");
  }
  if (!p.name().empty()) absl::StrAppend(&line, "  ", p.name());
  Print(line);
}

void PrintEntry(const v1::Entry& entry) {
  Print(absl::StrCat("  ", entry.owner_agency(), "  ",
                     EnumLabel(entry.category()), "  ", EnumLabel(entry.kind()),
                     "  ", entry.name(), entry.deleted() ? "  [deleted]" : ""));
  Print(Indent(entry.text(), "      "));
  if (entry.has_intervention()) {
    const v1::Intervention& i = entry.intervention();
    std::string line = absl::StrCat(
        "      intervention: ", i.responsible_agency(), ", order ", i.order());
    if (i.has_start_date() || i.has_end_date()) {
      absl::StrAppend(&line, ", ",
                      i.has_start_date() ? cli::FormatDate(i.start_date()) : "",
                      " to ",
                      i.has_end_date() ? cli::FormatDate(i.end_date()) : "");
    }
    Print(line);
  }
  Print(absl::StrCat("      revision ", entry.revision(), ", by ",
                     entry.author().empty() ? "-" : entry.author(), ", ",
                     When(entry.update_time()),
                     entry.etag().empty() ? "" : ", etag ", entry.etag()));
}

void PrintApproval(const v1::Approval& a) {
  Print(absl::StrCat(
      "  revision ", a.revision(), ": ", EnumLabel(a.approver_role()), " ",
      a.approver_identity_number(), ", ", EvidenceText(a.evidence()), ", ",
      When(a.approve_time()), ", recorded by ", a.recorded_by_agency(), " (",
      a.recorded_by_actor(), ")"));
}

void PrintGetPlan(const v1::GetPlanResponse& r) {
  PrintPlan(r.plan(), r.shown_revision());
  Print(absl::StrCat("Participants (", r.participants_size(), "):"));
  for (const v1::Participant& p : r.participants()) PrintParticipant(p);
  Print(absl::StrCat("Entries (", r.entries_size(), "):"));
  for (const v1::Entry& e : r.entries()) PrintEntry(e);
  if (r.withheld_entries_size() > 0) {
    Print(absl::StrCat("Withheld (", r.withheld_entries_size(), "):"));
    for (const v1::WithheldEntry& w : r.withheld_entries()) {
      Print(absl::StrCat("  withheld: ", w.owner_agency(), " ",
                         EnumLabel(w.category()), " (", EnumCode(w.reason()),
                         ")"));
    }
  }
  if (r.approvals_size() > 0) {
    Print("Approvals:");
    for (const v1::Approval& a : r.approvals()) PrintApproval(a);
  }
}

void PrintCreatePlan(const v1::CreatePlanResponse& r) {
  Print(absl::StrCat("Created ", r.plan().name(),
                     " as a draft; it becomes active when approved."));
  PrintPlan(r.plan(), 0);
  Print(absl::StrCat("Participants (", r.participants_size(), "):"));
  for (const v1::Participant& p : r.participants()) PrintParticipant(p);
}

template <typename Response>
void PrintPlans(const Response& r) {
  if (r.plans_size() == 0) Print("No plans.");
  for (const v1::Plan& plan : r.plans()) PrintPlanLine(plan);
  PrintMore(r.next_page_token());
}

void PrintUpdatePlan(const v1::UpdatePlanResponse& r) {
  Print(absl::StrCat("Updated ", r.plan().name(), ": revision ",
                     r.plan().revision(), " awaits approval (plan approve)."));
  PrintPlan(r.plan(), 0);
}

void PrintApprovePlan(const v1::ApprovePlanResponse& r) {
  Print(absl::StrCat("Approved revision ", r.plan().effective_revision(),
                     " of ", r.plan().name(), "; it is now effective."));
  PrintPlan(r.plan(), 0);
  Print("Approvals:");
  for (const v1::Approval& a : r.approvals()) PrintApproval(a);
}

void PrintClosePlan(const v1::ClosePlanResponse& r) {
  Print(absl::StrCat("Closed ", r.plan().name(), "; it stays readable."));
  PrintPlan(r.plan(), 0);
}

template <typename Response>
void PrintEntryResponse(absl::string_view verb, const Response& r) {
  Print(absl::StrCat(verb, " ", r.entry().name(), " (plan revision ",
                     r.entry().revision(), "):"));
  PrintEntry(r.entry());
}

template <typename Response>
void PrintParticipantResponse(absl::string_view verb, const Response& r) {
  Print(absl::StrCat(verb, ":"));
  PrintParticipant(r.participant());
}

void PrintReviews(const v1::ListUpcomingReviewsResponse& r) {
  if (r.reviews_size() == 0) Print("No reviews in that period.");
  for (const v1::UpcomingReview& u : r.reviews()) {
    Print(absl::StrCat(cli::FormatDate(u.review().date()), "  ",
                       EnumLabel(u.review().kind()), "  ", u.plan(),
                       "  subject ", u.subject(), "  lead ", u.lead_agency(),
                       u.review().description().empty() ? "" : "  ",
                       u.review().description()));
  }
  PrintMore(r.next_page_token());
}

void PrintCustodyFact(const v1::CustodyFact& f) {
  Print(absl::StrCat("Custody ", f.name()));
  Print(absl::StrCat("  child:      ", f.subject()));
  Print(absl::StrCat("  guardian:   ", f.guardian_identity_number()));
  Print(absl::StrCat(
      "  period:     ",
      PeriodText(f.valid_from(), f.has_valid_until(), f.valid_until())));
  Print(absl::StrCat("  evidence:   ", EvidenceText(f.evidence())));
  Print(absl::StrCat("  recorded:   ", When(f.create_time()), " by ",
                     f.recorded_by_agency(), " (", f.recorded_by_actor(), ")"));
}

void PrintRepresentation(const v1::Representation& r) {
  Print(absl::StrCat("Representation ", r.name()));
  Print(absl::StrCat("  adult:          ", r.subject()));
  Print(absl::StrCat("  representative: ", r.representative_identity_number(),
                     " (", EnumLabel(r.kind()), ")"));
  Print(absl::StrCat("  consent:        ",
                     r.remit_covers_consent()
                         ? "the remit covers consenting to disclosure"
                         : "the remit does NOT cover consent"));
  Print(absl::StrCat(
      "  period:         ",
      PeriodText(r.valid_from(), r.has_valid_until(), r.valid_until())));
  Print(absl::StrCat("  evidence:       ", EvidenceText(r.evidence())));
  Print(absl::StrCat("  recorded:       ", When(r.create_time()), " by ",
                     r.recorded_by_agency(), " (", r.recorded_by_actor(), ")"));
}

// "agencies/bup-1, sector healthcare"
std::string ScopeSide(
    const google::protobuf::RepeatedPtrField<std::string>& agencies,
    const google::protobuf::RepeatedField<int>& sectors) {
  std::vector<std::string> parts(agencies.begin(), agencies.end());
  for (int sector : sectors) {
    parts.push_back(
        absl::StrCat("sector ", EnumLabel(static_cast<v1::Sector>(sector))));
  }
  return parts.empty() ? "-" : absl::StrJoin(parts, ", ");
}

std::string ScopeText(const v1::GrantScope& scope) {
  std::vector<std::string> categories;
  for (int category : scope.categories()) {
    categories.push_back(
        EnumLabel(static_cast<v1::InformationCategory>(category)));
  }
  return absl::StrCat(
      absl::StrJoin(categories, ","), " from ",
      ScopeSide(scope.disclosing_agencies(), scope.disclosing_sectors()),
      " to ", ScopeSide(scope.receiving_agencies(), scope.receiving_sectors()),
      scope.plan().empty() ? ", any plan"
                           : absl::StrCat(", only ", scope.plan()));
}

void PrintGrant(const v1::Grant& g) {
  Print(absl::StrCat("Grant ", g.name(), " (", EnumCode(g.state()), ")"));
  Print(absl::StrCat("  subject:   ", g.subject()));
  Print(absl::StrCat("  grantor:   ", EnumLabel(g.grantor_role()), " ",
                     g.grantor_identity_number()));
  Print(absl::StrCat("  scope:     ", ScopeText(g.scope())));
  Print(absl::StrCat(
      "  period:    ",
      PeriodText(g.valid_from(), g.has_valid_until(), g.valid_until())));
  Print(absl::StrCat("  evidence:  ", EvidenceText(g.evidence())));
  Print(absl::StrCat("  recorded:  ", When(g.create_time()), " by ",
                     g.recorded_by_agency(), " (", g.recorded_by_actor(), ")"));
  if (g.has_end_time()) {
    std::string ended = When(g.end_time());
    if (!g.withdrawer_identity_number().empty()) {
      absl::StrAppend(&ended, ", withdrawn by ",
                      g.withdrawer_identity_number());
    }
    if (!g.end_reason().empty()) absl::StrAppend(&ended, ": ", g.end_reason());
    if (g.has_withdrawal_evidence()) {
      absl::StrAppend(&ended, " (", EvidenceText(g.withdrawal_evidence()), ")");
    }
    Print(absl::StrCat("  ended:     ", ended));
  }
}

void PrintGrantLine(const v1::Grant& g) {
  Print(absl::StrCat(
      g.name(), "  ", EnumCode(g.state()), "  ", EnumLabel(g.grantor_role()),
      " ", g.grantor_identity_number(), "  ", ScopeText(g.scope()), "  ",
      When(g.valid_from()), " until ", When(g.valid_until())));
}

template <typename Response>
void PrintGrants(const Response& r) {
  if (r.grants_size() == 0) Print("No grants.");
  for (const v1::Grant& g : r.grants()) PrintGrantLine(g);
  PrintMore(r.next_page_token());
}

void PrintCheckAccess(const v1::CheckAccessResponse& r) {
  std::vector<std::string> reasons;
  for (int reason : r.reasons()) {
    reasons.push_back(EnumCode(static_cast<v1::DecisionReason>(reason)));
  }
  std::string line =
      absl::StrCat(r.decision() == v1::DECISION_ALLOW ? "ALLOW" : "DENY", " (",
                   absl::StrJoin(reasons, ", "), ")");
  if (r.decision() == v1::DECISION_ALLOW && r.grants_size() > 0) {
    absl::StrAppend(&line, " relying on ", absl::StrJoin(r.grants(), ", "));
  }
  absl::StrAppend(&line, ": ", r.explanation());
  Print(line);
}

// ---------------------------------------------------------------------------
// PlanService commands.

int PlanCreate(Invocation& in) {
  v1::CreatePlanRequest req;
  v1::Plan* plan = req.mutable_plan();
  plan->set_subject(in.Pnr("--subject", Need::kRequired));
  v1::Coordinator* coordinator = plan->mutable_coordinator();
  coordinator->set_display_name(in.Text("--coordinator-name", Need::kRequired));
  coordinator->set_phone(in.Text("--coordinator-phone", Need::kOptional));
  coordinator->set_email(in.Text("--coordinator-email", Need::kOptional));
  coordinator->set_agency(in.Agency("--coordinator-agency", Need::kOptional));
  for (v1::ReviewDate& review : in.Reviews("--review")) {
    *plan->add_review_dates() = std::move(review);
  }
  for (const std::string& agency : in.Agencies("--invite-agency")) {
    v1::Participant* participant = req.add_participants();
    participant->set_kind(v1::PARTICIPANT_KIND_AGENCY);
    participant->set_agency(agency);
  }
  req.set_request_id(in.RequestId());
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::CreatePlanResponse resp;
  return in.Finish(c->CreatePlan(req, &resp), resp, PrintCreatePlan);
}

int PlanGet(Invocation& in) {
  v1::GetPlanRequest req;
  req.set_name(in.PlanName(Need::kRequired));
  req.set_view(in.Enum<v1::PlanView>("--view", Need::kOptional));
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::GetPlanResponse resp;
  return in.Finish(c->GetPlan(req, &resp), resp, PrintGetPlan);
}

int PlanList(Invocation& in) {
  v1::ListPlansRequest req;
  req.set_state(in.Enum<v1::PlanState>("--state", Need::kOptional));
  in.Paging(&req);
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::ListPlansResponse resp;
  return in.Finish(c->ListPlans(req, &resp), resp,
                   [](const v1::ListPlansResponse& r) { PrintPlans(r); });
}

int PlanSearch(Invocation& in) {
  v1::SearchPlansRequest req;
  req.set_subject(in.Pnr("--subject", Need::kRequired));
  req.set_state(in.Enum<v1::PlanState>("--state", Need::kOptional));
  in.Paging(&req);
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::SearchPlansResponse resp;
  return in.Finish(c->SearchPlans(req, &resp), resp,
                   [](const v1::SearchPlansResponse& r) { PrintPlans(r); });
}

int PlanUpdate(Invocation& in) {
  v1::UpdatePlanRequest req;
  v1::Plan* plan = req.mutable_plan();
  plan->set_name(in.PlanName(Need::kRequired));
  plan->set_etag(in.Text("--etag", Need::kOptional));
  google::protobuf::FieldMask* mask = req.mutable_update_mask();
  if (in.Given("--coordinator-name")) {
    plan->mutable_coordinator()->set_display_name(
        in.Text("--coordinator-name", Need::kRequired));
    mask->add_paths("coordinator.display_name");
  }
  if (in.Given("--coordinator-phone")) {
    plan->mutable_coordinator()->set_phone(
        in.Text("--coordinator-phone", Need::kOptional));
    mask->add_paths("coordinator.phone");
  }
  if (in.Given("--coordinator-email")) {
    plan->mutable_coordinator()->set_email(
        in.Text("--coordinator-email", Need::kOptional));
    mask->add_paths("coordinator.email");
  }
  if (in.Given("--coordinator-agency")) {
    plan->mutable_coordinator()->set_agency(
        in.Agency("--coordinator-agency", Need::kOptional, true));
    mask->add_paths("coordinator.agency");
  }
  const bool clear_reviews = in.Given("--clear-reviews");
  if (in.Given("--review")) {
    if (clear_reviews) in.Fail("give --review or --clear-reviews, not both");
    for (v1::ReviewDate& review : in.Reviews("--review")) {
      *plan->add_review_dates() = std::move(review);
    }
    mask->add_paths("review_dates");
  } else if (clear_reviews) {
    mask->add_paths("review_dates");
  }
  if (mask->paths_size() == 0) {
    in.Fail(
        "nothing to change: give --coordinator-name, --coordinator-phone, "
        "--coordinator-email, --coordinator-agency, --review or "
        "--clear-reviews");
  }
  req.set_request_id(in.RequestId());
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::UpdatePlanResponse resp;
  return in.Finish(c->UpdatePlan(req, &resp), resp, PrintUpdatePlan);
}

int PlanApprove(Invocation& in) {
  v1::ApprovePlanRequest req;
  req.set_name(in.PlanName(Need::kRequired));
  const std::optional<int64_t> revision = in.Int(
      "--revision", 1, std::numeric_limits<int64_t>::max(), Need::kOptional);
  v1::Evidence evidence;
  in.EvidenceFlag("--evidence", Need::kRequired, &evidence);
  const auto add = [&](v1::ApproverRole role, const std::string& number) {
    v1::Approval* approval = req.add_approvals();
    approval->set_approver_role(role);
    approval->set_approver_identity_number(number);
    *approval->mutable_evidence() = evidence;
  };
  for (const std::string& number : in.Pnrs("--guardian")) {
    add(v1::APPROVER_ROLE_GUARDIAN, number);
  }
  const std::string subject = in.Pnr("--subject-approver", Need::kOptional);
  if (!subject.empty()) add(v1::APPROVER_ROLE_SUBJECT, subject);
  for (const std::string& number : in.Pnrs("--representative")) {
    add(v1::APPROVER_ROLE_LEGAL_REPRESENTATIVE, number);
  }
  if (req.approvals_size() == 0) {
    in.Fail(
        "give who approved: --guardian PNR (every guardian with custody), "
        "--subject-approver PNR, or --representative PNR");
  }
  req.set_request_id(in.RequestId());
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  if (revision.has_value()) {
    req.set_revision(*revision);
  } else {
    v1::GetPlanRequest get;
    get.set_name(req.name());
    get.set_view(v1::PLAN_VIEW_LATEST);
    v1::GetPlanResponse latest;
    absl::Status status = c->GetPlan(get, &latest);
    if (!status.ok()) return in.ReportError(status);
    req.set_revision(latest.plan().revision());
  }
  v1::ApprovePlanResponse resp;
  return in.Finish(c->ApprovePlan(req, &resp), resp, PrintApprovePlan);
}

int PlanClose(Invocation& in) {
  v1::ClosePlanRequest req;
  req.set_name(in.PlanName(Need::kRequired));
  req.set_closed_by(in.Enum<v1::PlanClosedBy>("--closed-by", Need::kRequired));
  req.set_closer_identity_number(in.Pnr("--closer", Need::kOptional));
  req.set_reason(in.Text("--reason", Need::kRequired));
  in.EvidenceFlag("--evidence", Need::kOptional, req.mutable_evidence());
  if (!in.Given("--evidence")) req.clear_evidence();
  req.set_request_id(in.RequestId());
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::ClosePlanResponse resp;
  return in.Finish(c->ClosePlan(req, &resp), resp, PrintClosePlan);
}

int PlanReviews(Invocation& in) {
  v1::ListUpcomingReviewsRequest req;
  if (!in.Date("--from", Need::kOptional, req.mutable_start_date())) {
    *req.mutable_start_date() =
        FromCivilDay(absl::ToCivilDay(absl::Now(), DisplayZone()));
  }
  if (!in.Date("--to", Need::kOptional, req.mutable_end_date())) {
    *req.mutable_end_date() = FromCivilDay(CivilDayOf(req.start_date()) + 30);
  }
  req.set_kind(in.Enum<v1::ReviewKind>("--kind", Need::kOptional));
  in.Paging(&req);
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::ListUpcomingReviewsResponse resp;
  return in.Finish(c->ListUpcomingReviews(req, &resp), resp, PrintReviews);
}

// The intervention flags of entry create and update. Sets the fields given
// and, when `mask` is not null, adds their paths. Returns whether any was
// given.
bool InterventionFlags(Invocation& in, v1::Entry* entry,
                       google::protobuf::FieldMask* mask) {
  bool any = false;
  const auto path = [&](const char* p) {
    any = true;
    if (mask != nullptr) mask->add_paths(p);
  };
  if (in.Given("--responsible-agency")) {
    entry->mutable_intervention()->set_responsible_agency(
        in.Agency("--responsible-agency", Need::kRequired));
    path("intervention.responsible_agency");
  }
  if (std::optional<int64_t> order =
          in.Int("--order", 1, 1000, Need::kOptional)) {
    entry->mutable_intervention()->set_order(static_cast<int32_t>(*order));
    path("intervention.order");
  }
  google::type::Date date;
  if (in.Date("--start", Need::kOptional, &date)) {
    *entry->mutable_intervention()->mutable_start_date() = date;
    path("intervention.start_date");
  }
  if (in.Date("--end", Need::kOptional, &date)) {
    *entry->mutable_intervention()->mutable_end_date() = date;
    path("intervention.end_date");
  }
  return any;
}

int EntryCreate(Invocation& in) {
  v1::CreateEntryRequest req;
  req.set_parent(in.PlanName(Need::kRequired));
  v1::Entry* entry = req.mutable_entry();
  entry->set_category(
      in.Enum<v1::InformationCategory>("--category", Need::kRequired));
  entry->set_kind(in.Enum<v1::EntryKind>("--kind", Need::kRequired));
  entry->set_text(in.Text("--text", Need::kRequired));
  InterventionFlags(in, entry, nullptr);
  req.set_request_id(in.RequestId());
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::CreateEntryResponse resp;
  return in.Finish(c->CreateEntry(req, &resp), resp,
                   [](const v1::CreateEntryResponse& r) {
                     PrintEntryResponse("Created", r);
                   });
}

int EntryUpdate(Invocation& in) {
  v1::UpdateEntryRequest req;
  v1::Entry* entry = req.mutable_entry();
  entry->set_name(in.ChildName("--entry", "entries"));
  entry->set_etag(in.Text("--etag", Need::kOptional));
  google::protobuf::FieldMask* mask = req.mutable_update_mask();
  if (in.Given("--category")) {
    entry->set_category(
        in.Enum<v1::InformationCategory>("--category", Need::kRequired));
    mask->add_paths("category");
  }
  if (in.Given("--kind")) {
    entry->set_kind(in.Enum<v1::EntryKind>("--kind", Need::kRequired));
    mask->add_paths("kind");
  }
  if (in.Given("--text")) {
    entry->set_text(in.Text("--text", Need::kRequired));
    mask->add_paths("text");
  }
  const bool intervention = InterventionFlags(in, entry, mask);
  if (in.Given("--clear-intervention")) {
    if (intervention) {
      in.Fail("give --clear-intervention or intervention flags, not both");
    }
    mask->add_paths("intervention");
  }
  if (mask->paths_size() == 0) {
    in.Fail(
        "nothing to change: give --category, --kind, --text, "
        "--responsible-agency, --order, --start, --end or "
        "--clear-intervention");
  }
  req.set_request_id(in.RequestId());
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::UpdateEntryResponse resp;
  return in.Finish(c->UpdateEntry(req, &resp), resp,
                   [](const v1::UpdateEntryResponse& r) {
                     PrintEntryResponse("Updated", r);
                   });
}

int EntryDelete(Invocation& in) {
  v1::DeleteEntryRequest req;
  req.set_name(in.ChildName("--entry", "entries"));
  req.set_etag(in.Text("--etag", Need::kOptional));
  req.set_request_id(in.RequestId());
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::DeleteEntryResponse resp;
  return in.Finish(c->DeleteEntry(req, &resp), resp,
                   [](const v1::DeleteEntryResponse& r) {
                     PrintEntryResponse("Deleted", r);
                   });
}

int ParticipantAdd(Invocation& in) {
  v1::AddParticipantRequest req;
  req.set_parent(in.PlanName(Need::kRequired));
  v1::Participant* p = req.mutable_participant();
  const std::string agency = in.Agency("--invite-agency", Need::kOptional);
  v1::ParticipantKind kind =
      in.Enum<v1::ParticipantKind>("--kind", Need::kOptional);
  if (in.Given("--invite-agency")) {
    if (kind != v1::PARTICIPANT_KIND_UNSPECIFIED &&
        kind != v1::PARTICIPANT_KIND_AGENCY) {
      in.Fail(
          "--invite-agency invites an agency; leave out --kind, or give "
          "--kind agency");
    }
    kind = v1::PARTICIPANT_KIND_AGENCY;
    p->set_agency(agency);
  } else if (in.ok() && kind == v1::PARTICIPANT_KIND_UNSPECIFIED) {
    in.Fail(
        "give --invite-agency ID for an agency, or --kind KIND and "
        "--display-name NAME for a person");
  } else if (kind == v1::PARTICIPANT_KIND_AGENCY) {
    in.Fail("--kind agency needs --invite-agency ID");
  }
  p->set_kind(kind);
  p->set_display_name(in.Text("--display-name", Need::kOptional));
  p->set_identity_number(in.Pnr("--identity-number", Need::kOptional));
  p->set_role_note(in.Text("--role-note", Need::kOptional));
  req.set_request_id(in.RequestId());
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::AddParticipantResponse resp;
  return in.Finish(c->AddParticipant(req, &resp), resp,
                   [](const v1::AddParticipantResponse& r) {
                     PrintParticipantResponse("Added", r);
                   });
}

int ParticipantRemove(Invocation& in) {
  v1::RemoveParticipantRequest req;
  req.set_name(in.ChildName("--participant", "participants"));
  req.set_reason(in.Text("--reason", Need::kOptional));
  req.set_request_id(in.RequestId());
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::RemoveParticipantResponse resp;
  return in.Finish(c->RemoveParticipant(req, &resp), resp,
                   [](const v1::RemoveParticipantResponse& r) {
                     PrintParticipantResponse("Removed", r);
                   });
}

// ---------------------------------------------------------------------------
// ConsentService commands.

int CustodyCreate(Invocation& in) {
  v1::CreateCustodyFactRequest req;
  v1::CustodyFact* fact = req.mutable_custody_fact();
  fact->set_subject(in.Pnr("--subject", Need::kRequired));
  fact->set_guardian_identity_number(in.Pnr("--guardian", Need::kRequired));
  in.Instant("--from", Need::kRequired, fact->mutable_valid_from());
  in.Instant("--until", Need::kOptional, fact->mutable_valid_until());
  if (!in.Given("--until")) fact->clear_valid_until();
  in.EvidenceFlag("--evidence", Need::kRequired, fact->mutable_evidence());
  req.set_request_id(in.RequestId());
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::CreateCustodyFactResponse resp;
  return in.Finish(c->CreateCustodyFact(req, &resp), resp,
                   [](const v1::CreateCustodyFactResponse& r) {
                     PrintCustodyFact(r.custody_fact());
                   });
}

int CustodyGet(Invocation& in) {
  v1::GetCustodyFactRequest req;
  req.set_name(in.Name("--custody", "custodyFacts", Need::kRequired));
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::GetCustodyFactResponse resp;
  return in.Finish(c->GetCustodyFact(req, &resp), resp,
                   [](const v1::GetCustodyFactResponse& r) {
                     PrintCustodyFact(r.custody_fact());
                   });
}

int CustodySearch(Invocation& in) {
  v1::SearchCustodyFactsRequest req;
  req.set_subject(in.Pnr("--subject", Need::kRequired));
  in.Paging(&req);
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::SearchCustodyFactsResponse resp;
  return in.Finish(c->SearchCustodyFacts(req, &resp), resp,
                   [](const v1::SearchCustodyFactsResponse& r) {
                     if (r.custody_facts_size() == 0)
                       Print("No custody facts.");
                     for (const v1::CustodyFact& f : r.custody_facts()) {
                       PrintCustodyFact(f);
                     }
                     PrintMore(r.next_page_token());
                   });
}

int CustodyEnd(Invocation& in) {
  v1::EndCustodyFactRequest req;
  req.set_name(in.Name("--custody", "custodyFacts", Need::kRequired));
  in.Instant("--until", Need::kOptional, req.mutable_end_time());
  if (!in.Given("--until")) req.clear_end_time();
  in.EvidenceFlag("--evidence", Need::kRequired, req.mutable_evidence());
  req.set_request_id(in.RequestId());
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::EndCustodyFactResponse resp;
  return in.Finish(c->EndCustodyFact(req, &resp), resp,
                   [](const v1::EndCustodyFactResponse& r) {
                     PrintCustodyFact(r.custody_fact());
                   });
}

int RepresentationCreate(Invocation& in) {
  v1::CreateRepresentationRequest req;
  v1::Representation* r = req.mutable_representation();
  r->set_subject(in.Pnr("--subject", Need::kRequired));
  r->set_representative_identity_number(
      in.Pnr("--representative", Need::kRequired));
  r->set_kind(in.Enum<v1::RepresentationKind>("--kind", Need::kRequired));
  r->set_remit_covers_consent(in.Given("--remit-covers-consent"));
  in.Instant("--from", Need::kRequired, r->mutable_valid_from());
  in.Instant("--until", Need::kOptional, r->mutable_valid_until());
  if (!in.Given("--until")) r->clear_valid_until();
  in.EvidenceFlag("--evidence", Need::kRequired, r->mutable_evidence());
  req.set_request_id(in.RequestId());
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::CreateRepresentationResponse resp;
  return in.Finish(c->CreateRepresentation(req, &resp), resp,
                   [](const v1::CreateRepresentationResponse& out) {
                     PrintRepresentation(out.representation());
                   });
}

int RepresentationGet(Invocation& in) {
  v1::GetRepresentationRequest req;
  req.set_name(in.Name("--representation", "representations", Need::kRequired));
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::GetRepresentationResponse resp;
  return in.Finish(c->GetRepresentation(req, &resp), resp,
                   [](const v1::GetRepresentationResponse& out) {
                     PrintRepresentation(out.representation());
                   });
}

int RepresentationSearch(Invocation& in) {
  v1::SearchRepresentationsRequest req;
  req.set_subject(in.Pnr("--subject", Need::kRequired));
  in.Paging(&req);
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::SearchRepresentationsResponse resp;
  return in.Finish(c->SearchRepresentations(req, &resp), resp,
                   [](const v1::SearchRepresentationsResponse& out) {
                     if (out.representations_size() == 0) {
                       Print("No representations.");
                     }
                     for (const v1::Representation& r : out.representations()) {
                       PrintRepresentation(r);
                     }
                     PrintMore(out.next_page_token());
                   });
}

int RepresentationEnd(Invocation& in) {
  v1::EndRepresentationRequest req;
  req.set_name(in.Name("--representation", "representations", Need::kRequired));
  in.Instant("--until", Need::kOptional, req.mutable_end_time());
  if (!in.Given("--until")) req.clear_end_time();
  in.EvidenceFlag("--evidence", Need::kRequired, req.mutable_evidence());
  req.set_request_id(in.RequestId());
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::EndRepresentationResponse resp;
  return in.Finish(c->EndRepresentation(req, &resp), resp,
                   [](const v1::EndRepresentationResponse& out) {
                     PrintRepresentation(out.representation());
                   });
}

int GrantCreate(Invocation& in) {
  v1::CreateGrantRequest req;
  v1::Grant* grant = req.mutable_grant();
  grant->set_subject(in.Pnr("--subject", Need::kRequired));
  grant->set_grantor_role(
      in.Enum<v1::GrantorRole>("--grantor-role", Need::kRequired));
  std::string grantor = in.Pnr("--grantor", Need::kOptional);
  if (grantor.empty() && grant->grantor_role() == v1::GRANTOR_ROLE_SUBJECT) {
    grantor = grant->subject();
  } else if (grantor.empty() && in.ok()) {
    in.Fail(
        "--grantor is required (the identity number of the person who "
        "consents), unless --grantor-role is subject");
  }
  grant->set_grantor_identity_number(grantor);
  v1::GrantScope* scope = grant->mutable_scope();
  for (const std::string& agency : in.Agencies("--disclosing-agency")) {
    scope->add_disclosing_agencies(agency);
  }
  for (v1::Sector sector :
       in.Enums<v1::Sector>("--disclosing-sector", Need::kOptional)) {
    scope->add_disclosing_sectors(sector);
  }
  for (const std::string& agency : in.Agencies("--receiving-agency")) {
    scope->add_receiving_agencies(agency);
  }
  for (v1::Sector sector :
       in.Enums<v1::Sector>("--receiving-sector", Need::kOptional)) {
    scope->add_receiving_sectors(sector);
  }
  for (v1::InformationCategory category :
       in.Enums<v1::InformationCategory>("--category", Need::kRequired)) {
    scope->add_categories(category);
  }
  scope->set_plan(in.PlanName(Need::kOptional));
  if (in.ok() && scope->disclosing_agencies_size() == 0 &&
      scope->disclosing_sectors_size() == 0) {
    in.Fail(
        "give who may disclose: --disclosing-agency ID or "
        "--disclosing-sector SECTOR");
  }
  if (in.ok() && scope->receiving_agencies_size() == 0 &&
      scope->receiving_sectors_size() == 0) {
    in.Fail(
        "give who may receive: --receiving-agency ID or "
        "--receiving-sector SECTOR");
  }
  in.Instant("--from", Need::kOptional, grant->mutable_valid_from());
  if (!in.Given("--from")) grant->clear_valid_from();
  in.Instant("--until", Need::kRequired, grant->mutable_valid_until());
  in.EvidenceFlag("--evidence", Need::kRequired, grant->mutable_evidence());
  req.set_request_id(in.RequestId());
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::CreateGrantResponse resp;
  return in.Finish(
      c->CreateGrant(req, &resp), resp,
      [](const v1::CreateGrantResponse& r) { PrintGrant(r.grant()); });
}

int GrantGet(Invocation& in) {
  v1::GetGrantRequest req;
  req.set_name(in.Name("--grant", "grants", Need::kRequired));
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::GetGrantResponse resp;
  return in.Finish(
      c->GetGrant(req, &resp), resp,
      [](const v1::GetGrantResponse& r) { PrintGrant(r.grant()); });
}

int GrantList(Invocation& in) {
  v1::ListGrantsRequest req;
  req.set_plan(in.PlanName(Need::kRequired));
  req.set_state(in.Enum<v1::GrantState>("--state", Need::kOptional));
  in.Paging(&req);
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::ListGrantsResponse resp;
  return in.Finish(c->ListGrants(req, &resp), resp,
                   [](const v1::ListGrantsResponse& r) { PrintGrants(r); });
}

int GrantSearch(Invocation& in) {
  v1::SearchGrantsRequest req;
  req.set_subject(in.Pnr("--subject", Need::kRequired));
  req.set_state(in.Enum<v1::GrantState>("--state", Need::kOptional));
  in.Paging(&req);
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::SearchGrantsResponse resp;
  return in.Finish(c->SearchGrants(req, &resp), resp,
                   [](const v1::SearchGrantsResponse& r) { PrintGrants(r); });
}

int GrantWithdraw(Invocation& in) {
  v1::WithdrawGrantRequest req;
  req.set_name(in.Name("--grant", "grants", Need::kRequired));
  req.set_withdrawer_role(
      in.Enum<v1::GrantorRole>("--withdrawer-role", Need::kRequired));
  req.set_withdrawer_identity_number(in.Pnr("--withdrawer", Need::kRequired));
  in.EvidenceFlag("--evidence", Need::kRequired, req.mutable_evidence());
  req.set_reason(in.Text("--reason", Need::kOptional));
  req.set_request_id(in.RequestId());
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::WithdrawGrantResponse resp;
  return in.Finish(c->WithdrawGrant(req, &resp), resp,
                   [](const v1::WithdrawGrantResponse& r) {
                     Print(
                         "Withdrawn; no decision relies on the grant from "
                         "now on.");
                     PrintGrant(r.grant());
                   });
}

int AccessCheck(Invocation& in) {
  v1::CheckAccessRequest req;
  const std::string plan = in.PlanName(Need::kOptional);
  const std::string subject = in.Pnr("--subject", Need::kOptional);
  if (!plan.empty() && !subject.empty()) {
    in.Fail("give --plan or --subject, not both");
  } else if (!plan.empty()) {
    req.set_plan(plan);
  } else if (!subject.empty()) {
    req.set_subject(subject);
  } else if (in.ok()) {
    in.Fail("give --plan ID (a plan you take part in) or --subject PNR");
  }
  req.set_owner_agency(in.Agency("--owner", Need::kRequired));
  req.set_receiving_agency(in.Agency("--reader", Need::kOptional));
  req.set_category(
      in.Enum<v1::InformationCategory>("--category", Need::kRequired));
  in.Instant("--at", Need::kOptional, req.mutable_time());
  if (!in.Given("--at")) req.clear_time();
  const bool fail_on_deny = in.Given("--fail-on-deny");
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::CheckAccessResponse resp;
  const int code =
      in.Finish(c->CheckAccess(req, &resp), resp, PrintCheckAccess);
  if (code == cli::kExitOk && fail_on_deny &&
      resp.decision() != v1::DECISION_ALLOW) {
    return cli::kExitDenied;
  }
  return code;
}

// ---------------------------------------------------------------------------
// The command table and the help texts.

const std::vector<FlagDoc>& PagingFlags() {
  static const std::vector<FlagDoc>* const kFlags = new std::vector<FlagDoc>{
      {"--page-size", "N", Need::kOptional,
       "at most N results, 0-1000 (default 100)"},
      {"--page-token", "TOKEN", Need::kOptional,
       "the next page, as printed by the previous call"},
  };
  return *kFlags;
}

std::vector<FlagDoc> WithPaging(std::vector<FlagDoc> flags) {
  for (const FlagDoc& flag : PagingFlags()) flags.push_back(flag);
  return flags;
}

const std::vector<Command>& Commands() {
  static const std::vector<Command>* const kCommands = new std::vector<Command>{
      // --- plan ---
      {"plan",
       "create",
       "create a draft plan (SIP) about a child",
       "Creates a draft plan. Your agency becomes the lead agency; it and the "
       "subject\ntake part automatically. The draft is visible to your agency "
       "only until it is\napproved (plan approve).",
       {
           {"--subject", "PNR", Need::kRequired,
            "the child's identity number, e.g. 20160510-2381"},
           {"--coordinator-name", "TEXT", Need::kRequired,
            "the coordinator (samordnare) as the family knows them"},
           {"--coordinator-phone", "TEXT", Need::kOptional, "their phone"},
           {"--coordinator-email", "TEXT", Need::kOptional, "their e-mail"},
           {"--coordinator-agency", "ID", Need::kOptional,
            "the agency they work for, e.g. social-1"},
           {"--invite-agency", "ID", Need::kOptional,
            "invite an agency; repeat or comma list: bup-1,social-1"},
           {"--review", "KIND:DATE[:TEXT]", Need::kOptional,
            "a review date, KIND follow-up or evaluation; repeatable"},
       },
       "samplanctl plan create --subject 20160510-2381 \\\n"
       "      --coordinator-name \"Anna Berg\" --coordinator-phone 070-1234567 "
       "\\\n"
       "      --invite-agency bup-1,social-1 "
       "--review \"follow-up:2026-09-01:How school works\"",
       PlanCreate,
       true},
      {"plan",
       "get",
       "show a plan: participants, entries, withheld entries",
       "Shows the plan in its effective (approved) revision, or with --view "
       "latest in\nits newest revision. Entries another agency owns are shown "
       "only when consent\nallows; the rest are listed as withheld, with the "
       "reason (for example\nNO_CONSENT). Every decision is written to the "
       "audit log.",
       {
           {"--plan", "ID", Need::kRequired, "the plan, its id or plans/ID"},
           {"--view", "VIEW", Need::kOptional, "effective (default) or latest"},
       },
       "samplanctl plan get --plan k3v9x2m4q8w1z7r5 --view latest",
       PlanGet,
       false},
      {"plan", "list", "list the plans your agency takes part in",
       "Lists the plans your agency takes part in, newest first.",
       WithPaging({
           {"--state", "STATE", Need::kOptional,
            "only draft, active or closed plans"},
       }),
       "samplanctl plan list --state active", PlanList, false},
      {"plan", "search", "find a child's plans by identity number",
       "Lists the plans about one child that your agency takes part in. The "
       "identity\nnumber travels in the request body, never in a URL.",
       WithPaging({
           {"--subject", "PNR", Need::kRequired, "the child's identity number"},
           {"--state", "STATE", Need::kOptional,
            "only draft, active or closed plans"},
       }),
       "samplanctl plan search --subject 20160510-2381", PlanSearch, false},
      {"plan",
       "update",
       "change the coordinator or the review dates",
       "Changes the coordinator or the review dates (lead agency only). Only "
       "the fields\ngiven change. --review replaces all review dates: list "
       "every date to keep.\nThe change makes a new revision that is not "
       "effective until approved.",
       {
           {"--plan", "ID", Need::kRequired, "the plan"},
           {"--coordinator-name", "TEXT", Need::kOptional, "new coordinator"},
           {"--coordinator-phone", "TEXT", Need::kOptional,
            "new phone (\"\" clears it)"},
           {"--coordinator-email", "TEXT", Need::kOptional,
            "new e-mail (\"\" clears it)"},
           {"--coordinator-agency", "ID", Need::kOptional,
            "new agency (\"\" clears it)"},
           {"--review", "KIND:DATE[:TEXT]", Need::kOptional,
            "the new review dates; repeatable"},
           {"--clear-reviews", "", Need::kOptional, "remove every review date"},
           {"--etag", "ETAG", Need::kOptional,
            "fail with ABORTED if the plan changed since you read this etag"},
       },
       "samplanctl plan update --plan k3v9x2m4q8w1z7r5 "
       "--coordinator-phone 070-7654321",
       PlanUpdate,
       true},
      {"plan",
       "approve",
       "record that the family approved the newest revision",
       "Records who approved the plan's newest revision, with evidence, and "
       "makes it\neffective (lead agency only). Under 15: every guardian with "
       "custody (--guardian,\nrepeated); from 15: the child (--subject-"
       "approver); adults: the person or a\nlegal representative. Without "
       "--revision, the newest revision is fetched and\napproved: make sure it "
       "is the one the family saw (plan get --view latest).",
       {
           {"--plan", "ID", Need::kRequired, "the plan"},
           {"--revision", "N", Need::kOptional,
            "the revision the family approved (default: the newest)"},
           {"--guardian", "PNR", Need::kOptional,
            "a guardian who approved; repeat or comma list"},
           {"--subject-approver", "PNR", Need::kOptional,
            "the subject approved (from 15, and adults)"},
           {"--representative", "PNR", Need::kOptional,
            "a legal representative who approved; repeatable"},
           {"--evidence", "KIND[:REF]", Need::kRequired,
            "where the approval is documented, e.g. signed-form:dnr-114"},
       },
       "samplanctl plan approve --plan k3v9x2m4q8w1z7r5 --revision 3 \\\n"
       "      --guardian 19800101-1234 --guardian 19820202-2345 "
       "--evidence signed-form:dnr-2026-114",
       PlanApprove,
       true},
      {"plan",
       "close",
       "end a plan",
       "Ends the plan (lead agency only), recording who ended it, why and the "
       "evidence.\nA closed plan stays readable. --closer and --evidence are "
       "required unless\n--closed-by agencies.",
       {
           {"--plan", "ID", Need::kRequired, "the plan"},
           {"--closed-by", "WHO", Need::kRequired,
            "subject, guardian, legal-representative or agencies"},
           {"--closer", "PNR", Need::kOptional,
            "the person who ended the plan"},
           {"--reason", "TEXT", Need::kRequired, "why the plan ends"},
           {"--evidence", "KIND[:REF]", Need::kOptional,
            "where the decision is documented"},
       },
       "samplanctl plan close --plan k3v9x2m4q8w1z7r5 --closed-by guardian "
       "\\\n      --closer 19800101-1234 --reason \"The family moves\" "
       "--evidence recorded-at-meeting:protokoll-7",
       PlanClose,
       true},
      {"plan", "reviews", "list coming follow-up and evaluation dates",
       "Lists the follow-up and evaluation dates of the active plans your "
       "agency takes\npart in, between two dates (inclusive, at most 366 days "
       "apart), by date.",
       WithPaging({
           {"--from", "DATE", Need::kOptional, "first day (default today)"},
           {"--to", "DATE", Need::kOptional,
            "last day (default 30 days after --from)"},
           {"--kind", "KIND", Need::kOptional, "only follow-up or evaluation"},
       }),
       "samplanctl plan reviews --from 2026-09-01 --to 2026-09-30", PlanReviews,
       false},
      // --- entry ---
      {"entry",
       "create",
       "write a need, strength, intervention, ... into a plan",
       "Writes an entry into a plan; your agency owns it. Other agencies see "
       "it only when\nconsent covers its category. An intervention needs "
       "--responsible-agency and\n--order. For long text use --text \"$(cat "
       "FILE)\".",
       {
           {"--plan", "ID", Need::kRequired, "the plan"},
           {"--category", "CATEGORY", Need::kRequired,
            "needs, interventions, health, education, social-situation,\n"
            "                              meeting-minutes or "
            "follow-up-results"},
           {"--kind", "KIND", Need::kRequired,
            "need, strength, wish, intervention, note, minutes or\n"
            "                              follow-up-result"},
           {"--text", "TEXT", Need::kRequired,
            "the content, written so that the family understands it"},
           {"--responsible-agency", "ID", Need::kOptional,
            "intervention: the agency responsible"},
           {"--order", "N", Need::kOptional,
            "intervention: position in the sequence, 1-1000"},
           {"--start", "DATE", Need::kOptional, "intervention: first day"},
           {"--end", "DATE", Need::kOptional, "intervention: last day"},
       },
       "samplanctl entry create --plan k3v9x2m4q8w1z7r5 --category "
       "interventions \\\n      --kind intervention --text \"Weekly talks "
       "with the school counsellor\" \\\n      --responsible-agency school-1 "
       "--order 1 --start 2026-08-20 --end 2026-12-18",
       EntryCreate,
       true},
      {"entry",
       "update",
       "change an entry (owner agency only)",
       "Changes the fields given; makes a new plan revision. Only the agency "
       "that owns\nthe entry may change it.",
       {
           {"--entry", "ID", Need::kRequired,
            "plans/P/entries/E, or the entry id with --plan"},
           {"--plan", "ID", Need::kOptional, "the plan, with a bare entry id"},
           {"--category", "CATEGORY", Need::kOptional, "new category"},
           {"--kind", "KIND", Need::kOptional, "new kind"},
           {"--text", "TEXT", Need::kOptional, "new text"},
           {"--responsible-agency", "ID", Need::kOptional,
            "intervention: new responsible agency"},
           {"--order", "N", Need::kOptional, "intervention: new position"},
           {"--start", "DATE", Need::kOptional, "intervention: new first day"},
           {"--end", "DATE", Need::kOptional, "intervention: new last day"},
           {"--clear-intervention", "", Need::kOptional,
            "remove the intervention details (when the kind changes)"},
           {"--etag", "ETAG", Need::kOptional,
            "fail with ABORTED if the entry changed since you read it"},
       },
       "samplanctl entry update --plan k3v9x2m4q8w1z7r5 --entry e5t7 "
       "--text \"Talks twice a week\"",
       EntryUpdate,
       true},
      {"entry",
       "delete",
       "delete an entry (owner agency only)",
       "Marks the entry deleted in a new plan revision; earlier revisions "
       "keep it.",
       {
           {"--entry", "ID", Need::kRequired,
            "plans/P/entries/E, or the entry id with --plan"},
           {"--plan", "ID", Need::kOptional, "the plan, with a bare entry id"},
           {"--etag", "ETAG", Need::kOptional,
            "fail with ABORTED if the entry changed since you read it"},
       },
       "samplanctl entry delete --entry plans/k3v9x2m4q8w1z7r5/entries/e5t7",
       EntryDelete,
       true},
      // --- participant ---
      {"participant",
       "add",
       "invite an agency or a person to a plan",
       "Invites an agency (--invite-agency) or a person (--kind and "
       "--display-name) to\nthe plan (lead agency only).",
       {
           {"--plan", "ID", Need::kRequired, "the plan"},
           {"--invite-agency", "ID", Need::kOptional, "the agency to invite"},
           {"--kind", "KIND", Need::kOptional,
            "for a person: guardian, legal-representative, support-person,\n"
            "                              relative or other"},
           {"--display-name", "TEXT", Need::kOptional,
            "the person's name (required for persons)"},
           {"--identity-number", "PNR", Need::kOptional,
            "the person's identity number"},
           {"--role-note", "TEXT", Need::kOptional,
            "their role in plain words, e.g. \"class teacher\""},
       },
       "samplanctl participant add --plan k3v9x2m4q8w1z7r5 --kind guardian "
       "\\\n      --display-name \"Sara Lind\" --identity-number 19800101-1234",
       ParticipantAdd,
       true},
      {"participant",
       "remove",
       "end a participant's part in a plan",
       "Ends a participant's part in the plan (lead agency only); it stays in "
       "the\nhistory. The lead agency and the subject cannot be removed.",
       {
           {"--participant", "ID", Need::kRequired,
            "plans/P/participants/Q, or the id with --plan"},
           {"--plan", "ID", Need::kOptional, "the plan, with a bare id"},
           {"--reason", "TEXT", Need::kOptional, "why they leave the plan"},
       },
       "samplanctl participant remove --plan k3v9x2m4q8w1z7r5 "
       "--participant q8w1z7r5k3v9x2m4",
       ParticipantRemove,
       true},
      // --- custody ---
      {"custody",
       "create",
       "record that a guardian has custody of a child",
       "Records that a guardian has custody (vardnad) of a child from a given "
       "time.",
       {
           {"--subject", "PNR", Need::kRequired, "the child"},
           {"--guardian", "PNR", Need::kRequired, "the guardian"},
           {"--from", "TIME", Need::kRequired, "start of custody"},
           {"--until", "TIME", Need::kOptional,
            "end of custody, exclusive (default: open-ended)"},
           {"--evidence", "KIND[:REF]", Need::kRequired,
            "usually register-extract:REF or court-decision:REF"},
       },
       "samplanctl custody create --subject 20160510-2381 --guardian "
       "19800101-1234 \\\n      --from 2016-05-10 --evidence "
       "register-extract:navet-2026-0042",
       CustodyCreate,
       true},
      {"custody",
       "get",
       "show one custody fact",
       "Shows one custody fact.",
       {{"--custody", "ID", Need::kRequired, "its id or custodyFacts/ID"}},
       "samplanctl custody get --custody c1x2y3z4c1x2y3z4",
       CustodyGet,
       false},
      {"custody", "search", "list the custody facts about a child",
       "Lists the custody facts about one child, newest first.",
       WithPaging({{"--subject", "PNR", Need::kRequired, "the child"}}),
       "samplanctl custody search --subject 20160510-2381", CustodySearch,
       false},
      {"custody",
       "end",
       "record that a custody ended",
       "Records when a custody ended (its valid_until).",
       {
           {"--custody", "ID", Need::kRequired, "its id or custodyFacts/ID"},
           {"--until", "TIME", Need::kOptional,
            "when it ended, exclusive (default: now)"},
           {"--evidence", "KIND[:REF]", Need::kRequired,
            "where the end is documented"},
       },
       "samplanctl custody end --custody c1x2y3z4c1x2y3z4 --until 2026-05-01 "
       "\\\n      --evidence court-decision:T-1234-26",
       CustodyEnd,
       true},
      // --- representation ---
      {"representation",
       "create",
       "record that an adult has a legal representative",
       "Records that an adult has a legal representative (god man, "
       "forvaltare), and\nwhether the remit covers consenting to disclosure "
       "(--remit-covers-consent).",
       {
           {"--subject", "PNR", Need::kRequired, "the represented adult"},
           {"--representative", "PNR", Need::kRequired, "the representative"},
           {"--kind", "KIND", Need::kRequired, "god-man, forvaltare or other"},
           {"--remit-covers-consent", "", Need::kOptional,
            "the remit covers consent (default: it does not)"},
           {"--from", "TIME", Need::kRequired, "start"},
           {"--until", "TIME", Need::kOptional,
            "end, exclusive (default: open-ended)"},
           {"--evidence", "KIND[:REF]", Need::kRequired,
            "usually court-decision:REF"},
       },
       "samplanctl representation create --subject 19990101-1234 "
       "--representative 19700101-1234 \\\n      --kind god-man "
       "--remit-covers-consent --from 2026-01-15 "
       "--evidence court-decision:OFN-77",
       RepresentationCreate,
       true},
      {"representation",
       "get",
       "show one representation",
       "Shows one representation.",
       {{"--representation", "ID", Need::kRequired,
         "its id or representations/ID"}},
       "samplanctl representation get --representation r1s2t3u4r1s2t3u4",
       RepresentationGet,
       false},
      {"representation", "search", "list the representations of an adult",
       "Lists the representations of one adult, newest first.",
       WithPaging({{"--subject", "PNR", Need::kRequired, "the adult"}}),
       "samplanctl representation search --subject 19990101-1234",
       RepresentationSearch, false},
      {"representation",
       "end",
       "record that a representation ended",
       "Records when a representation ended.",
       {
           {"--representation", "ID", Need::kRequired,
            "its id or representations/ID"},
           {"--until", "TIME", Need::kOptional,
            "when it ended, exclusive (default: now)"},
           {"--evidence", "KIND[:REF]", Need::kRequired,
            "where the end is documented"},
       },
       "samplanctl representation end --representation r1s2t3u4r1s2t3u4 "
       "--evidence court-decision:OFN-91",
       RepresentationEnd,
       true},
      // --- grant ---
      {"grant",
       "create",
       "record a consent (samtycke)",
       "Records a consent: who consents for whom, which agencies (or sectors) "
       "may\ndisclose which categories to which agencies (or sectors), "
       "optionally within one\nplan, for which period. The grantor must be "
       "competent now: a guardian with\ncustody while the child is under 15, "
       "the child from 15, for adults the person or\na representative whose "
       "remit covers consent. The period may be at most the\nconfigured "
       "maximum (default 12 months).",
       {
           {"--subject", "PNR", Need::kRequired,
            "whom the information is about"},
           {"--grantor-role", "ROLE", Need::kRequired,
            "subject, guardian or legal-representative"},
           {"--grantor", "PNR", Need::kOptional,
            "who consents (default: the subject, for role subject)"},
           {"--disclosing-agency", "ID", Need::kOptional,
            "an agency that may disclose; repeat or comma list"},
           {"--disclosing-sector", "SECTOR", Need::kOptional,
            "school, social-services or healthcare; repeatable"},
           {"--receiving-agency", "ID", Need::kOptional,
            "an agency that may receive; repeatable"},
           {"--receiving-sector", "SECTOR", Need::kOptional,
            "a sector whose agencies may receive; repeatable"},
           {"--category", "CATEGORY", Need::kRequired,
            "what may be disclosed; repeat or comma list"},
           {"--plan", "ID", Need::kOptional,
            "only within this plan (default: any plan about the subject)"},
           {"--from", "TIME", Need::kOptional, "start (default: now)"},
           {"--until", "TIME", Need::kRequired, "end, exclusive"},
           {"--evidence", "KIND[:REF]", Need::kRequired,
            "where the consent is documented"},
       },
       "samplanctl grant create --subject 20160510-2381 --grantor-role "
       "guardian \\\n      --grantor 19800101-1234 --disclosing-sector "
       "healthcare --receiving-sector school \\\n      --category "
       "needs,interventions --from 2026-06-01 --until 2027-06-01 \\\n"
       "      --evidence signed-form:dnr-2026-115",
       GrantCreate,
       true},
      {"grant",
       "get",
       "show one grant and its state",
       "Shows one grant with its scope, period and state.",
       {{"--grant", "ID", Need::kRequired, "its id or grants/ID"}},
       "samplanctl grant get --grant g7h8j9k0g7h8j9k0",
       GrantGet,
       false},
      {"grant", "list", "list the grants that matter within a plan",
       "Lists the grants about the plan's subject whose scope names that plan "
       "or no\nplan, newest first.",
       WithPaging({
           {"--plan", "ID", Need::kRequired, "the plan"},
           {"--state", "STATE", Need::kOptional,
            "only active, withdrawn, revoked, expired or void grants"},
       }),
       "samplanctl grant list --plan k3v9x2m4q8w1z7r5 --state active",
       GrantList, false},
      {"grant", "search", "list the grants about a person",
       "Lists the grants about one person, newest first.",
       WithPaging({
           {"--subject", "PNR", Need::kRequired, "the person"},
           {"--state", "STATE", Need::kOptional,
            "only active, withdrawn, revoked, expired or void grants"},
       }),
       "samplanctl grant search --subject 20160510-2381 --state active",
       GrantSearch, false},
      {"grant",
       "withdraw",
       "record that a person withdrew a consent",
       "Records that a person withdrew a grant. It takes effect at once: once "
       "the call\nreturns, no decision relies on the grant.",
       {
           {"--grant", "ID", Need::kRequired, "its id or grants/ID"},
           {"--withdrawer", "PNR", Need::kRequired, "who withdraws"},
           {"--withdrawer-role", "ROLE", Need::kRequired,
            "subject, guardian or legal-representative"},
           {"--evidence", "KIND[:REF]", Need::kRequired,
            "where the withdrawal is documented"},
           {"--reason", "TEXT", Need::kOptional,
            "the person's reason, if they gave one"},
       },
       "samplanctl grant withdraw --grant g7h8j9k0g7h8j9k0 --withdrawer "
       "19800101-1234 \\\n      --withdrawer-role guardian --evidence "
       "signed-form:dnr-2026-130",
       GrantWithdraw,
       true},
      // --- access ---
      {"access",
       "check",
       "explain whether a disclosure would be allowed",
       "Explains whether information of one category, owned by one agency, "
       "may be shown\nto another agency (default: yours), now or at --at: "
       "ALLOW or DENY, the reasons,\nthe grants relied on and a plain "
       "explanation. Reads no plan content; the check\nis written to the "
       "audit log. A DENY answer is a successful call (exit 0) unless\n"
       "--fail-on-deny is given.",
       {
           {"--plan", "ID", Need::kOptional, "the plan (or give --subject)"},
           {"--subject", "PNR", Need::kOptional,
            "the person, without a plan (only consent is evaluated)"},
           {"--owner", "ID", Need::kRequired,
            "the agency that owns the information"},
           {"--reader", "ID", Need::kOptional,
            "the agency that would read it (default: yours)"},
           {"--category", "CATEGORY", Need::kRequired, "the category"},
           {"--at", "TIME", Need::kOptional, "the moment (default: now)"},
           {"--fail-on-deny", "", Need::kOptional,
            "exit 3 when the answer is DENY"},
       },
       "samplanctl access check --plan k3v9x2m4q8w1z7r5 --owner bup-1 "
       "--reader school-1 \\\n      --category health",
       AccessCheck,
       false},
  };
  return *kCommands;
}

constexpr char kUsageHead[] =
    R"(samplanctl: the command-line client of samplan, the shared backend where
schools, social services and health care keep a coordinated individual plan
(SIP) for a child, with the consents that decide who may see what.

Usage:
  samplanctl [global flags] GROUP COMMAND [flags]
  samplanctl GROUP COMMAND --help     the flags of one command, with an example
  samplanctl GROUP --help             the commands of one group

Connecting:
  Every call uses mutual TLS. The server takes your agency from your client
  certificate (its URI SAN urn:samplan:agency:<id>) and the staff member who
  acts from --actor; both go into the audit log with every call.

Global flags (before or after the command):
  --server HOST:PORT   the server (default localhost:7443; env SAMPLAN_SERVER)
  --pki DIR            a certificate directory as deploy/dev-pki.sh makes it:
                       DIR/ca.pem, DIR/ID.pem and DIR/ID.key (env SAMPLAN_PKI)
  --agency ID          with --pki: your agency id, e.g. school-1, which picks
                       DIR/ID.pem and DIR/ID.key (env SAMPLAN_AGENCY)
  --ca FILE            the CA certificate (PEM) instead of DIR/ca.pem
                       (env SAMPLAN_CA)
  --cert FILE          your client certificate (PEM) instead of DIR/ID.pem
                       (env SAMPLAN_CERT)
  --key FILE           your private key (PEM) instead of DIR/ID.key
                       (env SAMPLAN_KEY)
  --actor ID           you, as your agency's own system knows you: 1-64
                       characters of A-Z a-z 0-9 . _ @ - (required; env
                       SAMPLAN_ACTOR)
  --json               print the response as JSON (the proto3 JSON mapping,
                       lowerCamelCase names) instead of text
  --request-id ID      for changes: the idempotency key, 1-64 characters of
                       A-Z a-z 0-9 . _ : - (default: a new random id). Sending
                       a change again with the same id makes it once.
  --timeout SECONDS    how long to wait for the answer (default 10)
  -h, --help           this text; after a command, that command's help

Commands:
)";

constexpr char kUsageTail[] = R"(
Values:
  identity numbers  as written: YYYYMMDDNNNC or YYYYMMDD-NNNC (12 digits)
  agencies          the id, e.g. bup-1 (agencies/bup-1 works too)
  plans, grants,    the id, e.g. k3v9x2m4q8w1z7r5, or the full name
  custody, ...      (plans/k3v9x2m4q8w1z7r5)
  entries,          the full name plans/P/entries/E, or the id with --plan P
  participants
  choices           short names in any case: --category social-situation,
                    --sector healthcare, --kind need, --evidence signed-form
  times             RFC 3339 with offset (2026-06-01T08:00:00+02:00,
                    2026-06-01T06:00:00Z) or a date 2026-06-01, meaning 00:00
                    Swedish time (Europe/Stockholm)
  dates             YYYY-MM-DD
  evidence          KIND[:reference]: signed-form, e-signature,
                    recorded-at-meeting, register-extract or court-decision,
                    e.g. signed-form:dnr-2026-114
  lists             repeat the flag or give a comma list:
                    --category needs,interventions --category health
  Times are printed in Swedish time.

The output shows identity numbers and plan text: handle it as you would the
case file.

Exit status:
  0  success; an access check that answers DENY is a success too (use
     --fail-on-deny to get 3)
  1  other failure: server unreachable (UNAVAILABLE), no answer in time
     (DEADLINE_EXCEEDED), server error (INTERNAL), conflict (ALREADY_EXISTS,
     ABORTED), certificate files unreadable
  2  usage error: unknown command or flag, missing flag, unparseable value;
     nothing was sent
  3  refused by the server: PERMISSION_DENIED, NOT_FOUND, UNAUTHENTICATED,
     FAILED_PRECONDITION (and DENY with --fail-on-deny)
  4  invalid request per the server (INVALID_ARGUMENT); the message names the
     field
  Errors go to stderr as "samplanctl: <CODE> <REASON>: <message>".

Example:
  deploy/dev-pki.sh var/pki
  export SAMPLAN_PKI=var/pki SAMPLAN_AGENCY=school-1 SAMPLAN_ACTOR=anna.berg
  samplanctl plan create --subject 20160510-2381 \
      --coordinator-name "Anna Berg" --invite-agency bup-1 \
      --review follow-up:2026-09-01
  samplanctl plan get --plan k3v9x2m4q8w1z7r5 --view latest
  samplanctl --agency bup-1 access check --plan k3v9x2m4q8w1z7r5 \
      --owner bup-1 --reader school-1 --category health
)";

std::string Pad(absl::string_view text, size_t width) {
  std::string out(text);
  if (out.size() < width) out.append(width - out.size(), ' ');
  return out;
}

std::string TopUsage() {
  std::string out = kUsageHead;
  const char* group = "";
  for (const Command& command : Commands()) {
    if (absl::string_view(group) != command.group && group[0] != '\0') {
      out += "\n";
    }
    group = command.group;
    absl::StrAppend(&out, "  ",
                    Pad(absl::StrCat(command.group, " ", command.verb), 24),
                    command.summary, "\n");
  }
  out += kUsageTail;
  return out;
}

std::string GroupUsage(absl::string_view group) {
  std::string out = absl::StrCat("Usage: samplanctl [global flags] ", group,
                                 " COMMAND [flags]\n\nCommands:\n");
  for (const Command& command : Commands()) {
    if (command.group != group) continue;
    absl::StrAppend(&out, "  ", Pad(command.verb, 10), command.summary, "\n");
  }
  absl::StrAppend(&out, "\nTry 'samplanctl ", group,
                  " COMMAND --help' for the flags of a command, and "
                  "'samplanctl --help'\nfor the global flags, value formats "
                  "and exit codes.\n");
  return out;
}

std::string CommandUsage(const Command& command) {
  std::string synopsis = absl::StrCat("samplanctl [global flags] ",
                                      command.group, " ", command.verb);
  for (int pass = 0; pass < 2; ++pass) {
    const Need need = pass == 0 ? Need::kRequired : Need::kOptional;
    for (const FlagDoc& flag : command.flags) {
      if (flag.need != need) continue;
      const std::string text = flag.arg[0] == '\0'
                                   ? std::string(flag.name)
                                   : absl::StrCat(flag.name, " ", flag.arg);
      absl::StrAppend(
          &synopsis, " ",
          need == Need::kRequired ? text : absl::StrCat("[", text, "]"));
    }
  }
  // Wrap the synopsis at about 78 columns.
  std::string wrapped;
  size_t column = 0;
  for (absl::string_view word : absl::StrSplit(synopsis, ' ')) {
    // Keep "[--x Y]" and "--x Y" together: split only before a flag.
    const bool starts_flag =
        absl::StartsWith(word, "--") || absl::StartsWith(word, "[--");
    if (starts_flag && column + word.size() > 76 && column > 0) {
      wrapped += "\n      ";
      column = 6;
    } else if (!wrapped.empty()) {
      wrapped += " ";
      ++column;
    }
    wrapped.append(word.data(), word.size());
    column += word.size();
  }
  std::string out = absl::StrCat(
      kProgram, " ", command.group, " ", command.verb, ": ", command.summary,
      "\n\nUsage:\n  ", wrapped, "\n\n", command.description, "\n\nFlags:\n");
  for (const FlagDoc& flag : command.flags) {
    const std::string name = flag.arg[0] == '\0'
                                 ? std::string(flag.name)
                                 : absl::StrCat(flag.name, " ", flag.arg);
    std::string line = absl::StrCat("  ", Pad(name, 28));
    if (name.size() > 26) line = absl::StrCat("  ", name, "\n", Pad("", 30));
    absl::StrAppend(&out, line, flag.doc,
                    flag.need == Need::kRequired ? " (required)" : "", "\n");
  }
  absl::StrAppend(&out,
                  "\nGlobal flags (--server, --pki, --agency, --actor, --json, "
                  "--request-id, --timeout, ...),\nvalue formats and exit "
                  "codes: samplanctl --help.\n\nExample:\n  ",
                  command.example, "\n");
  return out;
}

int TopUsageError(absl::string_view message) {
  PrintErr(absl::StrCat(kProgram, ": ", message));
  PrintErr(absl::StrCat("Try '", kProgram, " --help'."));
  return cli::kExitUsage;
}

bool IsGroup(absl::string_view group) {
  for (const Command& command : Commands()) {
    if (command.group == group) return true;
  }
  return false;
}

std::string Verbs(absl::string_view group) {
  std::vector<std::string> verbs;
  for (const Command& command : Commands()) {
    if (command.group == group) verbs.push_back(command.verb);
  }
  return absl::StrJoin(verbs, ", ");
}

const Command* FindCommand(absl::string_view group, absl::string_view verb) {
  for (const Command& command : Commands()) {
    if (command.group == group && command.verb == verb) return &command;
  }
  return nullptr;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  absl::StatusOr<CommandLine> line = CommandLine::Parse(args, BooleanFlags());
  if (!line.ok()) return TopUsageError(line.status().message());
  std::vector<std::string> words = line->words();
  bool help = line->Has("--help");
  if (!words.empty() && words[0] == "help") {
    words.erase(words.begin());
    help = true;
  }
  if (words.empty()) {
    if (help) {
      std::fputs(TopUsage().c_str(), stdout);
      return cli::kExitOk;
    }
    return TopUsageError("give a command, e.g. samplanctl plan get --plan ID");
  }
  const std::string& group = words[0];
  if (!IsGroup(group)) {
    return TopUsageError(absl::StrCat("unknown command '", group, "'"));
  }
  if (words.size() < 2) {
    if (help) {
      std::fputs(GroupUsage(group).c_str(), stdout);
      return cli::kExitOk;
    }
    PrintErr(
        absl::StrCat(kProgram, " ", group, ": give a command: ", Verbs(group)));
    PrintErr(absl::StrCat("Try '", kProgram, " ", group, " --help'."));
    return cli::kExitUsage;
  }
  const Command* command = FindCommand(group, words[1]);
  if (command == nullptr) {
    PrintErr(absl::StrCat(kProgram, " ", group, ": unknown command '", words[1],
                          "'; give ", Verbs(group)));
    PrintErr(absl::StrCat("Try '", kProgram, " ", group, " --help'."));
    return cli::kExitUsage;
  }
  if (help) {
    std::fputs(CommandUsage(*command).c_str(), stdout);
    return cli::kExitOk;
  }
  Invocation in(*line, *command);
  if (words.size() > 2) {
    in.Fail(absl::StrCat("unexpected argument '", words[2],
                         "'; values are given with flags"));
    return in.UsageExit();
  }
  if (absl::Status known = line->CheckKnown(in.known_flags()); !known.ok()) {
    in.Fail(known);
    return in.UsageExit();
  }
  return command->run(in);
}

}  // namespace
}  // namespace samplan::client

int main(int argc, char** argv) { return samplan::client::Main(argc, argv); }
