// The machinery shared by samplanctl's commands: the command table, one run
// of one command (Invocation: flags, connecting, printing), and the entry
// point Run(). Each group of commands lives in its own file and adds its
// commands to the table through one Add*Commands function:
//
//   samplanctl_plan.cc      plan, entry, participant  (PlanService)
//   samplanctl_consent.cc   custody, representation, grant, access
//                           (ConsentService)
//   samplanctl_audit.cc     audit                     (AuditService, and
//                           offline verification)
//   samplanctl_admin.cc     admin agency, admin grant (AdminService)
//
// A command is found by its path: the words of its group followed by its
// verb. Most groups are one word ("plan" + "get"); a group of two words makes
// a second level ("admin agency" + "create" is `samplanctl admin agency
// create`), and `samplanctl admin --help` lists every command below "admin".
//
// Internal to samplanctl and its tests; not thread-safe (a command prints).

#ifndef SAMPLAN_CLIENT_SAMPLANCTL_H_
#define SAMPLAN_CLIENT_SAMPLANCTL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/cli.h"
#include "client/client.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "samplan/v1/common.pb.h"
#include "samplan/v1/consent.pb.h"

namespace samplan::client::ctl {

inline constexpr char kProgram[] = "samplanctl";

// ---------------------------------------------------------------------------
// Commands and their flags.

enum class Need { kOptional, kRequired };

struct FlagDoc {
  const char* name;  // "--plan"
  const char* arg;   // "ID"; "" for a boolean flag (see BooleanFlags())
  Need need;
  const char* doc;
};

class Invocation;

struct Command {
  const char* group;        // "plan"; two words for a subgroup: "admin agency"
  const char* verb;         // "get"
  const char* summary;      // one line for the command list
  const char* description;  // paragraphs for the command's --help
  std::vector<FlagDoc> flags;
  const char* example;
  int (*run)(Invocation&);
  bool writes;  // sends a request_id
  // A flag whose value may also be given alone after the command, as its
  // one argument ("receipt verify FILE"); nullptr for none.
  const char* positional = nullptr;
};

// Each adds its group's commands to the end of `commands`, in the order of
// the help text.
void AddPlanCommands(std::vector<Command>* commands);
void AddConsentCommands(std::vector<Command>* commands);
void AddAuditCommands(std::vector<Command>* commands);
void AddAdminCommands(std::vector<Command>* commands);

// Every command, in the order of the help text. Built once.
const std::vector<Command>& Commands();

// Flags every command takes (see the top-level help).
const std::vector<std::string>& GlobalFlags();
// Flags that take no value, in any command. A flag name is either boolean in
// every command or in none.
const std::set<std::string>& BooleanFlags();

// --page-size and --page-token, and `flags` followed by them.
const std::vector<FlagDoc>& PagingFlags();
std::vector<FlagDoc> WithPaging(std::vector<FlagDoc> flags);

// ---------------------------------------------------------------------------
// Output helpers.

// Writes `contents` to `path` through a temporary file beside it, synced
// and renamed into place: `path` is whole or untouched.
absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view contents);

// Writes a signed consent receipt to `path` as the family's JSON file
// (what receipt verify reads), atomically.
absl::Status SaveReceipt(const std::string& path,
                         const v1::SignedConsentReceipt& receipt);

// One line to stdout / stderr.
void Print(absl::string_view line);
void PrintErr(absl::string_view line);

// Times are shown in Swedish time; in UTC when the zone cannot be loaded.
absl::TimeZone DisplayZone();
std::string When(const google::protobuf::Timestamp& timestamp);

// "signed-form: dnr 114"; "-" when unset.
std::string EvidenceText(const v1::Evidence& evidence);

// "(more: repeat with --page-token T)" when there is a next page.
void PrintMore(const std::string& next_page_token);

// A grant in full, and in one line (samplanctl_consent.cc).
void PrintGrant(const v1::Grant& grant);
void PrintGrantLine(const v1::Grant& grant);

template <typename Response>
void PrintGrants(const Response& r) {
  if (r.grants_size() == 0) Print("No grants.");
  for (const v1::Grant& g : r.grants()) PrintGrantLine(g);
  PrintMore(r.next_page_token());
}

// ---------------------------------------------------------------------------
// One run of one command: reads its flags (recording the first usage error),
// connects, calls and prints.

class Invocation {
 public:
  Invocation(const cli::CommandLine& line, const Command& command);

  Invocation(const Invocation&) = delete;
  Invocation& operator=(const Invocation&) = delete;

  const Command& command() const { return command_; }
  const std::set<std::string>& known_flags() const { return known_; }
  bool json() const { return line_.Has("--json"); }

  // --- Usage errors ---

  // Records `status` as the usage error unless one is recorded already.
  void Fail(absl::Status status);
  void Fail(absl::string_view message);
  bool ok() const { return usage_.ok(); }

  // Prints the recorded usage error and where help is; returns kExitUsage.
  int UsageExit() const;

  // Prints "samplanctl GROUP VERB: <message>" to stderr and returns
  // `exit_code`: for failures found here rather than by the server (a file
  // that cannot be read or written, a proof that does not verify).
  int LocalExit(absl::string_view message, int exit_code) const;

  // --- Flag values. Each returns an empty value when the flag is absent or
  // bad, recording a usage error when it is bad or required and absent. ---

  bool Given(absl::string_view flag);
  std::optional<std::string> Value(absl::string_view flag, Need need);

  // Free text. A required text must not be empty.
  std::string Text(absl::string_view flag, Need need);

  // A file name; "" when absent. A given value must not be empty.
  std::string Path(absl::string_view flag, Need need);

  std::string Pnr(absl::string_view flag, Need need);
  std::vector<std::string> Pnrs(absl::string_view flag);

  // An agency name; with `allow_empty`, an empty value (to clear a field)
  // gives "".
  std::string Agency(absl::string_view flag, Need need,
                     bool allow_empty = false);
  std::vector<std::string> Agencies(absl::string_view flag);

  // A top-level resource name in `collection`.
  std::string Name(absl::string_view flag, absl::string_view collection,
                   Need need);
  std::string PlanName(Need need) { return Name("--plan", "plans", need); }

  // An entry or participant name: full, or an id with --plan.
  std::string ChildName(absl::string_view flag, absl::string_view collection);

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
                             Need need);

  // Sets *out and returns true when the flag is given and valid.
  bool Date(absl::string_view flag, Need need, google::type::Date* out);
  bool Instant(absl::string_view flag, Need need,
               google::protobuf::Timestamp* out);
  bool EvidenceFlag(absl::string_view flag, Need need, v1::Evidence* out);

  // Every --review value (not split at commas: the text may hold them).
  std::vector<v1::ReviewDate> Reviews(absl::string_view flag);

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
  std::string RequestId();

  // --- Calling ---

  // Opens the connection from the global flags and the environment. Returns
  // nullptr after printing why not; exit_code() then says how to exit.
  Connection* Connect();
  int exit_code() const { return exit_code_; }

  // Prints a failed call's error (and, for writes that may have happened, how
  // to repeat them safely); returns the exit status.
  int ReportError(const absl::Status& status) const;

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

  // Prints `message` in the proto3 JSON mapping, indented. Returns kExitOk,
  // or kExitFailure when it cannot be printed.
  static int PrintJson(const google::protobuf::Message& message);

 private:
  // A flag a command reads must be among its documented flags; otherwise the
  // unknown-flag check would refuse it. Reports the mismatch as a usage error
  // so that it shows up at the first run.
  void Declared(absl::string_view flag);
  std::vector<std::string> Items(absl::string_view flag);
  std::string Check(absl::StatusOr<std::string> value);

  const cli::CommandLine& line_;
  const Command& command_;
  std::set<std::string> known_;
  absl::Status usage_;
  std::string request_id_;
  std::unique_ptr<Connection> connection_;
  int exit_code_ = cli::kExitOk;
};

// ---------------------------------------------------------------------------
// Entry points.

// Runs samplanctl with `args` (argv without argv[0]); returns the exit
// status. Prints to stdout and stderr.
int Run(const std::vector<std::string>& args);
int Main(int argc, char** argv);

// `name` when it is a plain file name (IsPlainFileName), else `fallback`: a
// name the server chose must not lead out of the current directory.
std::string SafeFileName(const std::string& name, const std::string& fallback);

// Saves a rendered document (the answer of RenderPlan or
// RenderGrantReceipt) to `out_path`, or to its file_name here, and prints
// "Wrote <what> (<details><language>) to PATH" with how to open it; with
// --json, the answer without its content and with the path as file_name.
template <typename Response>
int SaveDocument(const Invocation& in, Response& resp,
                 const std::string& out_path, absl::string_view what,
                 absl::string_view details) {
  const std::string path =
      !out_path.empty() ? out_path
                        : SafeFileName(resp.file_name(),
                                       resp.content_type() == "application/pdf"
                                           ? "document.pdf"
                                           : "document.html");
  if (absl::Status saved = WriteFileAtomically(path, resp.content());
      !saved.ok()) {
    return in.LocalExit(absl::StrCat("--out: ", saved.message()),
                        cli::kExitFailure);
  }
  if (in.json()) {
    resp.clear_content();
    resp.set_file_name(path);
    return Invocation::PrintJson(resp);
  }
  Print(absl::StrCat("Wrote ", what, " (", details,
                     resp.language_code() == "en" ? "English" : "Swedish",
                     ") to ", path));
  Print(resp.content_type() == "application/pdf"
            ? "Open it in a PDF reader, or print it."
            : "Open it in a web browser; print it from there for a paper "
              "copy.");
  return cli::kExitOk;
}

// --receipt-out FILE of a call that answers with a receipt (grant create,
// grant withdraw, admin grant revoke): "" when not given; a usage error,
// before anything is sent, when FILE's directory does not exist.
std::string ReceiptOutFlag(Invocation& in);

// After such a call has been answered and printed: saves its receipt to
// `path` when given. kExitOk, or a failure exit whose message says that the
// change was made (`grant`) and how to get the receipt, when the answer
// carries none or it cannot be saved.
int SaveReceiptOut(const Invocation& in, const std::string& grant,
                   const v1::SignedConsentReceipt* receipt,
                   const std::string& path);

// Finish() for such a call, then SaveReceiptOut().
template <typename Response, typename PrintFn>
int FinishWithReceipt(const Invocation& in, const absl::Status& status,
                      const Response& resp, const std::string& path,
                      PrintFn print) {
  const int code = in.Finish(status, resp, print);
  if (code != cli::kExitOk || path.empty()) return code;
  return SaveReceiptOut(in, resp.grant().name(),
                        resp.has_receipt() ? &resp.receipt() : nullptr, path);
}

}  // namespace samplan::client::ctl

#endif  // SAMPLAN_CLIENT_SAMPLANCTL_H_
