// samplanctl's shared machinery: the command table, Invocation, the help
// texts and Run(). See samplanctl.h.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
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
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/cli.h"
#include "client/client.h"
#include "client/samplanctl.h"
#include "common/file_names.h"
#include "common/proto_time.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"
#include "samplan/v1/common.pb.h"

namespace samplan::client::ctl {

using cli::CommandLine;
using cli::EnumLabel;

// Flags every command takes (see kUsageHead).
const std::vector<std::string>& GlobalFlags() {
  static const std::vector<std::string>* const kFlags =
      new std::vector<std::string>{
          "--server", "--pki",  "--agency",     "--ca",      "--cert", "--key",
          "--actor",  "--json", "--request-id", "--timeout", "--help"};
  return *kFlags;
}

const std::set<std::string>& BooleanFlags() {
  static const std::set<std::string>* const kFlags =
      new std::set<std::string>{"--json",
                                "--help",
                                "--fail-on-deny",
                                "--clear-reviews",
                                "--clear-intervention",
                                "--remit-covers-consent",
                                "--refresh"};
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

absl::TimeZone DisplayZone() {
  absl::StatusOr<absl::TimeZone> zone = cli::SwedishTimeZone();
  return zone.ok() ? *zone : absl::UTCTimeZone();
}

std::string SafeFileName(const std::string& name, const std::string& fallback) {
  return IsPlainFileName(name) ? name : fallback;
}

std::string When(const google::protobuf::Timestamp& timestamp) {
  return cli::FormatInstant(timestamp, DisplayZone());
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

void PrintMore(const std::string& next_page_token) {
  if (!next_page_token.empty()) {
    Print(
        absl::StrCat("(more: repeat with --page-token ", next_page_token, ")"));
  }
}

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

// ---------------------------------------------------------------------------
// Invocation.

Invocation::Invocation(const CommandLine& line, const Command& command)
    : line_(line), command_(command) {
  for (const std::string& flag : GlobalFlags()) known_.insert(flag);
  for (const FlagDoc& flag : command.flags) known_.insert(flag.name);
}

void Invocation::Fail(absl::Status status) {
  if (usage_.ok()) usage_ = std::move(status);
}

void Invocation::Fail(absl::string_view message) {
  Fail(absl::InvalidArgumentError(message));
}

int Invocation::UsageExit() const {
  PrintErr(absl::StrCat(kProgram, " ", command_.group, " ", command_.verb, ": ",
                        usage_.message()));
  PrintErr(absl::StrCat("Try '", kProgram, " ", command_.group, " ",
                        command_.verb, " --help'."));
  return cli::kExitUsage;
}

int Invocation::LocalExit(absl::string_view message, int exit_code) const {
  PrintErr(absl::StrCat(kProgram, " ", command_.group, " ", command_.verb, ": ",
                        message));
  return exit_code;
}

bool Invocation::Given(absl::string_view flag) {
  Declared(flag);
  return line_.Has(flag);
}

std::optional<std::string> Invocation::Value(absl::string_view flag,
                                             Need need) {
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

std::string Invocation::Text(absl::string_view flag, Need need) {
  std::optional<std::string> value = Value(flag, need);
  if (!value.has_value()) return "";
  if (need == Need::kRequired && value->empty()) {
    Fail(absl::StrCat(flag, " must not be empty"));
  }
  return *value;
}

std::string Invocation::Path(absl::string_view flag, Need need) {
  std::optional<std::string> value = Value(flag, need);
  if (!value.has_value()) return "";
  if (value->empty()) Fail(absl::StrCat(flag, ": give a file name"));
  return *value;
}

std::string Invocation::Pnr(absl::string_view flag, Need need) {
  std::optional<std::string> value = Value(flag, need);
  if (!value.has_value()) return "";
  return Check(cli::ParseIdentityNumber(flag, *value));
}

std::vector<std::string> Invocation::Pnrs(absl::string_view flag) {
  std::vector<std::string> out;
  for (const std::string& item : Items(flag)) {
    out.push_back(Check(cli::ParseIdentityNumber(flag, item)));
  }
  return out;
}

std::string Invocation::Agency(absl::string_view flag, Need need,
                               bool allow_empty) {
  std::optional<std::string> value = Value(flag, need);
  if (!value.has_value()) return "";
  if (allow_empty && value->empty()) return "";
  return Check(cli::ParseAgencyName(flag, *value));
}

std::vector<std::string> Invocation::Agencies(absl::string_view flag) {
  std::vector<std::string> out;
  for (const std::string& item : Items(flag)) {
    out.push_back(Check(cli::ParseAgencyName(flag, item)));
  }
  return out;
}

std::string Invocation::Name(absl::string_view flag,
                             absl::string_view collection, Need need) {
  std::optional<std::string> value = Value(flag, need);
  if (!value.has_value()) return "";
  return Check(cli::ParseResourceName(flag, collection, *value));
}

std::string Invocation::ChildName(absl::string_view flag,
                                  absl::string_view collection) {
  const std::string plan = PlanName(Need::kOptional);
  std::optional<std::string> value = Value(flag, Need::kRequired);
  if (!value.has_value()) return "";
  return Check(cli::ParsePlanChildName(flag, collection, plan, *value));
}

std::optional<int64_t> Invocation::Int(absl::string_view flag, int64_t min,
                                       int64_t max, Need need) {
  std::optional<std::string> value = Value(flag, need);
  if (!value.has_value()) return std::nullopt;
  absl::StatusOr<int64_t> parsed = cli::ParseInteger(flag, *value, min, max);
  if (!parsed.ok()) {
    Fail(parsed.status());
    return std::nullopt;
  }
  return *parsed;
}

bool Invocation::Date(absl::string_view flag, Need need,
                      google::type::Date* out) {
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

bool Invocation::Instant(absl::string_view flag, Need need,
                         google::protobuf::Timestamp* out) {
  std::optional<std::string> value = Value(flag, need);
  if (!value.has_value()) return false;
  absl::StatusOr<absl::Time> parsed = cli::ParseInstant(flag, *value);
  if (!parsed.ok()) {
    Fail(parsed.status());
    return false;
  }
  samplan::SetTimestamp(*parsed, out);
  return true;
}

bool Invocation::EvidenceFlag(absl::string_view flag, Need need,
                              v1::Evidence* out) {
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

std::vector<v1::ReviewDate> Invocation::Reviews(absl::string_view flag) {
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

std::string Invocation::RequestId() {
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

int Invocation::ReportError(const absl::Status& status) const {
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

int Invocation::PrintJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = false;
  options.preserve_proto_field_names = false;
  std::string out;
  auto status =
      google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!status.ok()) {
    PrintErr(absl::StrCat(
        kProgram, ": cannot print the response as JSON: ", status.ToString()));
    return cli::kExitFailure;
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  Print(out);
  return cli::kExitOk;
}

void Invocation::Declared(absl::string_view flag) {
  if (known_.count(std::string(flag)) == 0) {
    Fail(absl::InternalError(absl::StrCat(
        "internal error: flag ", flag, " is not declared for this command")));
  }
}

std::vector<std::string> Invocation::Items(absl::string_view flag) {
  Declared(flag);
  return line_.List(flag);
}

std::string Invocation::Check(absl::StatusOr<std::string> value) {
  if (!value.ok()) {
    Fail(value.status());
    return "";
  }
  return *std::move(value);
}

namespace {

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

}  // namespace

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
// The command table and the help texts.

const std::vector<Command>& Commands() {
  static const std::vector<Command>* const kCommands = [] {
    auto* commands = new std::vector<Command>;
    AddPlanCommands(commands);
    AddConsentCommands(commands);
    AddAuditCommands(commands);
    AddAdminCommands(commands);
    return commands;
  }();
  return *kCommands;
}

namespace {

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
  5  audit verification failed: an export, a checkpoint signature or a proof
     does not match (audit verify, audit prove, audit consistency)
  Errors go to stderr as "samplanctl: <CODE> (<REASON>): <message>".

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

// The words of a command's path: the words of its group, then its verb.
std::vector<std::string> PathOf(const Command& command) {
  std::vector<std::string> path = absl::StrSplit(command.group, ' ');
  path.push_back(command.verb);
  return path;
}

// Whether the words `path` start with the words `prefix`.
bool PathStartsWith(const std::vector<std::string>& path,
                    const std::vector<std::string>& prefix) {
  return prefix.size() <= path.size() &&
         std::equal(prefix.begin(), prefix.end(), path.begin());
}

// The rest of the command's path after `prefix`, joined by spaces: "create"
// below "plan", "agency create" below "admin".
std::string RestOf(const Command& command,
                   const std::vector<std::string>& prefix) {
  const std::vector<std::string> path = PathOf(command);
  return absl::StrJoin(
      path.begin() + static_cast<std::ptrdiff_t>(prefix.size()), path.end(),
      " ");
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

// The commands below `prefix` (one or more group words), with a blank line
// between subgroups when there is a second level.
std::string GroupUsage(const std::vector<std::string>& prefix) {
  const std::string group = absl::StrJoin(prefix, " ");
  size_t width = 10;
  for (const Command& command : Commands()) {
    if (PathStartsWith(PathOf(command), prefix)) {
      width = std::max(width, RestOf(command, prefix).size() + 2);
    }
  }
  std::string out = absl::StrCat("Usage: samplanctl [global flags] ", group,
                                 " COMMAND [flags]\n\nCommands:\n");
  const char* subgroup = "";
  for (const Command& command : Commands()) {
    if (!PathStartsWith(PathOf(command), prefix)) continue;
    if (absl::string_view(subgroup) != command.group && subgroup[0] != '\0') {
      out += "\n";
    }
    subgroup = command.group;
    absl::StrAppend(&out, "  ", Pad(RestOf(command, prefix), width),
                    command.summary, "\n");
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
      const bool positional =
          command.positional != nullptr &&
          absl::string_view(command.positional) == flag.name;
      const std::string text = positional ? std::string(flag.arg)
                               : flag.arg[0] == '\0'
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

// The commands below `prefix`, as "create, get, ..." ("agency create, ..."
// below "admin").
std::string Verbs(const std::vector<std::string>& prefix) {
  std::vector<std::string> verbs;
  for (const Command& command : Commands()) {
    if (PathStartsWith(PathOf(command), prefix)) {
      verbs.push_back(RestOf(command, prefix));
    }
  }
  return absl::StrJoin(verbs, ", ");
}

}  // namespace

int Run(const std::vector<std::string>& args) {
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
  // The command whose whole path the words start with.
  const Command* command = nullptr;
  size_t depth = 0;
  for (const Command& candidate : Commands()) {
    const std::vector<std::string> path = PathOf(candidate);
    if (PathStartsWith(words, path)) {
      command = &candidate;
      depth = path.size();
      break;
    }
  }
  if (command == nullptr) {
    // The longest run of leading words that are group words of a command.
    size_t known = 0;
    for (const Command& candidate : Commands()) {
      const std::vector<std::string> path = PathOf(candidate);
      size_t n = 0;
      while (n + 1 < path.size() && n < words.size() && path[n] == words[n]) {
        ++n;
      }
      known = std::max(known, n);
    }
    if (known == 0) {
      return TopUsageError(absl::StrCat("unknown command '", words[0], "'"));
    }
    const std::vector<std::string> prefix(
        words.begin(), words.begin() + static_cast<std::ptrdiff_t>(known));
    const std::string group = absl::StrJoin(prefix, " ");
    if (known == words.size()) {
      if (help) {
        std::fputs(GroupUsage(prefix).c_str(), stdout);
        return cli::kExitOk;
      }
      PrintErr(absl::StrCat(kProgram, " ", group,
                            ": give a command: ", Verbs(prefix)));
    } else {
      PrintErr(absl::StrCat(kProgram, " ", group, ": unknown command '",
                            words[known], "'; give ", Verbs(prefix)));
    }
    PrintErr(absl::StrCat("Try '", kProgram, " ", group, " --help'."));
    return cli::kExitUsage;
  }
  if (help) {
    std::fputs(CommandUsage(*command).c_str(), stdout);
    return cli::kExitOk;
  }
  if (command->positional != nullptr && words.size() == depth + 1 &&
      !line->Has(command->positional)) {
    line->WordToFlag(command->positional);
    words.pop_back();
  }
  Invocation in(*line, *command);
  if (words.size() > depth) {
    in.Fail(absl::StrCat("unexpected argument '", words[depth],
                         "'; values are given with flags"));
    return in.UsageExit();
  }
  if (absl::Status known = line->CheckKnown(in.known_flags()); !known.ok()) {
    in.Fail(known);
    return in.UsageExit();
  }
  return command->run(in);
}

int Main(int argc, char** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  return Run(args);
}

}  // namespace samplan::client::ctl
