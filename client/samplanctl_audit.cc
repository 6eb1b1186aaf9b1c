// samplanctl's AuditService commands: audit search, extract, export,
// checkpoint, verify, prove and consistency. The checks run here, on the
// auditor's side, with the audit library (audit/): `audit verify --export`
// needs no server at all.

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "audit/leaf.h"
#include "audit/merkle.h"
#include "audit/note.h"
#include "audit/receipt.h"
#include "audit/verify.h"
#include "client/cli.h"
#include "client/client.h"
#include "client/samplanctl.h"
#include "common/proto_time.h"
#include "google/protobuf/repeated_field.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "samplan/v1/audit.pb.h"
#include "samplan/v1/common.pb.h"
#include "samplan/v1/consent.pb.h"

namespace samplan::client::ctl {
namespace {

using cli::EnumCode;
using cli::EnumLabel;

// An export prints a progress line on a terminal every this many events.
constexpr int64_t kProgressEvery = 100000;

// ---------------------------------------------------------------------------
// Files.

// The whole file at `path`; NOT_FOUND naming it when it cannot be read.
absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return absl::NotFoundError(
        absl::StrCat("cannot read ", path, ": it is a directory"));
  }
  std::ifstream in(path, std::ios::in | std::ios::binary);
  if (!in.is_open()) {
    return absl::NotFoundError(
        absl::StrCat("cannot read ", path, ": missing or not readable"));
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) {
    return absl::NotFoundError(
        absl::StrCat("cannot read ", path, ": read error"));
  }
  return contents.str();
}

std::string ErrnoText() { return std::strerror(errno); }

// A file written under a temporary name next to its final name, readable by
// its owner only (mkstemp), and renamed into place by Commit(). Until then,
// and when anything fails, the destructor removes it: a failed write leaves
// no partial file under the final name.
class TempFile {
 public:
  // Creates "<final_path>.partial-XXXXXX".
  static absl::StatusOr<std::unique_ptr<TempFile>> Create(
      const std::string& final_path) {
    const std::string pattern = absl::StrCat(final_path, ".partial-XXXXXX");
    std::vector<char> name(pattern.begin(), pattern.end());
    name.push_back('\0');
    const int fd = ::mkstemp(name.data());
    if (fd < 0) {
      return absl::UnknownError(absl::StrCat("cannot create a file next to ",
                                             final_path, ": ", ErrnoText()));
    }
    std::FILE* file = ::fdopen(fd, "wb");
    if (file == nullptr) {
      const std::string error = ErrnoText();
      ::close(fd);
      std::remove(name.data());
      return absl::UnknownError(
          absl::StrCat("cannot write ", name.data(), ": ", error));
    }
    return std::unique_ptr<TempFile>(
        new TempFile(final_path, std::string(name.data()), file));
  }

  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  ~TempFile() {
    if (file_ != nullptr) std::fclose(file_);
    if (!committed_) std::remove(temp_path_.c_str());
  }

  const std::string& temp_path() const { return temp_path_; }

  absl::Status Write(absl::string_view data) {
    if (file_ == nullptr) {
      return absl::FailedPreconditionError("the file is closed");
    }
    if (!data.empty() &&
        std::fwrite(data.data(), 1, data.size(), file_) != data.size()) {
      return absl::UnknownError(
          absl::StrCat("cannot write ", temp_path_, ": ", ErrnoText()));
    }
    return absl::OkStatus();
  }

  // Flushes the data to the disk and closes the file (under its temporary
  // name, which stays until destruction or Commit()).
  absl::Status Close() {
    if (file_ == nullptr) return absl::OkStatus();
    const bool flushed =
        std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
    const std::string error = flushed ? "" : ErrnoText();
    const bool closed = std::fclose(file_) == 0;
    file_ = nullptr;
    if (!flushed || !closed) {
      return absl::UnknownError(absl::StrCat("cannot write ", temp_path_, ": ",
                                             flushed ? ErrnoText() : error));
    }
    return absl::OkStatus();
  }

  // Close(), then renames the file to its final name.
  absl::Status Commit() {
    if (absl::Status closed = Close(); !closed.ok()) return closed;
    if (std::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
      return absl::UnknownError(absl::StrCat("cannot rename ", temp_path_,
                                             " to ", final_path_, ": ",
                                             ErrnoText()));
    }
    committed_ = true;
    return absl::OkStatus();
  }

 private:
  TempFile(std::string final_path, std::string temp_path, std::FILE* file)
      : final_path_(std::move(final_path)),
        temp_path_(std::move(temp_path)),
        file_(file) {}

  const std::string final_path_;
  const std::string temp_path_;
  std::FILE* file_;
  bool committed_ = false;
};

}  // namespace

absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view contents) {
  absl::StatusOr<std::unique_ptr<TempFile>> file = TempFile::Create(path);
  if (!file.ok()) return file.status();
  if (absl::Status written = (*file)->Write(contents); !written.ok()) {
    return written;
  }
  return (*file)->Commit();
}

namespace {

absl::Status WriteStdout(absl::string_view data) {
  if (!data.empty() &&
      std::fwrite(data.data(), 1, data.size(), stdout) != data.size()) {
    return absl::UnknownError(
        absl::StrCat("cannot write to stdout: ", ErrnoText()));
  }
  return absl::OkStatus();
}

bool StderrIsTerminal() { return ::isatty(::fileno(stderr)) == 1; }

// ---------------------------------------------------------------------------
// Values and output.

// Identity numbers in audit filters are compared as 12 digits:
// "20160510-2381" gives "201605102381".
std::string TwelveDigits(std::string pnr) {
  if (pnr.size() == 13 && pnr[8] == '-') pnr.erase(8, 1);
  return pnr;
}

// `text` broken at spaces into lines of at most `width` columns (a longer
// word gets a line of its own).
std::string WrapWords(absl::string_view text, size_t width) {
  std::string out;
  size_t column = 0;
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (column > 0 && column + 1 + word.size() > width) {
      out += '\n';
      column = 0;
    } else if (column > 0) {
      out += ' ';
      ++column;
    }
    out.append(word.data(), word.size());
    column += word.size();
  }
  return out;
}

// The first line of a note: the checkpoint's origin, which samplan also uses
// as the key name.
std::string FirstLine(absl::string_view note) {
  return std::string(note.substr(0, note.find('\n')));
}

// The body of a signed note (everything up to the blank line), without
// checking any signature.
std::string NoteBody(absl::string_view note) {
  const size_t blank = note.find("\n\n");
  if (blank == absl::string_view::npos) return std::string(note);
  return std::string(note.substr(0, blank + 1));
}

std::string DecisionText(v1::Decision decision,
                         const google::protobuf::RepeatedField<int>& reasons) {
  std::string out =
      decision == v1::DECISION_UNSPECIFIED ? "-" : EnumCode(decision);
  if (!reasons.empty()) {
    std::vector<std::string> codes;
    for (int reason : reasons) {
      codes.push_back(EnumCode(static_cast<v1::DecisionReason>(reason)));
    }
    absl::StrAppend(&out, " (", absl::StrJoin(codes, ", "), ")");
  }
  return out;
}

std::string OrDash(const std::string& text) {
  return text.empty() ? "-" : text;
}

// "#12  2026-06-01 10:00  agencies/social-1  sara.ek  plan-read  DENY (...)"
std::string EventHeadline(const v1::AuditEvent& e) {
  return absl::StrCat("#", e.leaf_index(), "  ", When(e.time()), "  ",
                      e.agency().empty() ? "(server)" : e.agency(), "  ",
                      OrDash(e.actor()), "  ", EnumLabel(e.action()), "  ",
                      DecisionText(e.decision(), e.reasons()));
}

// One line per entry decision of a plan read, indented under the event:
// "      entry plans/p/entries/e  agencies/bup-1 interventions  ALLOW
// (CONSENT_COVERS)  relying on grants/a, grants/b".
void PrintEntryDecisions(
    const google::protobuf::RepeatedPtrField<v1::EntryDecision>& decisions) {
  for (const v1::EntryDecision& d : decisions) {
    google::protobuf::RepeatedField<int> reason;
    reason.Add(d.reason());
    std::string line = absl::StrCat(
        "      entry ", d.entry(), "  ", d.owner_agency(), " ",
        EnumLabel(d.category()), "  ", DecisionText(d.decision(), reason));
    if (d.grants_size() > 0) {
      absl::StrAppend(&line, "  relying on ", absl::StrJoin(d.grants(), ", "));
    }
    Print(line);
  }
}

void PrintEvent(const v1::AuditEvent& e) {
  Print(EventHeadline(e));
  std::vector<std::string> parts;
  if (!e.subject().empty())
    parts.push_back(absl::StrCat("subject ", e.subject()));
  if (!e.resource().empty()) {
    parts.push_back(absl::StrCat("resource ", e.resource()));
  }
  if (e.grants_size() > 0) {
    parts.push_back(
        absl::StrCat("relying on ", absl::StrJoin(e.grants(), ", ")));
  }
  if (!e.request_id().empty()) {
    parts.push_back(absl::StrCat("request ", e.request_id()));
  }
  if (!parts.empty()) Print(absl::StrCat("      ", absl::StrJoin(parts, "  ")));
  if (!e.detail().empty()) Print(absl::StrCat("      detail: ", e.detail()));
  PrintEntryDecisions(e.entry_decisions());
}

void PrintAccessRecord(const v1::AccessRecord& r) {
  const std::string who =
      r.agency_display_name().empty()
          ? r.agency()
          : absl::StrCat(r.agency_display_name(), " (", r.agency(), ")");
  std::string line =
      absl::StrCat(When(r.time()), "  ", who, "  ", OrDash(r.actor()), "  ",
                   EnumLabel(r.action()), "  ", OrDash(r.resource()), "  ",
                   DecisionText(r.decision(), r.reasons()));
  if (r.grants_size() > 0) {
    absl::StrAppend(&line, "  relying on ", absl::StrJoin(r.grants(), ", "));
  }
  absl::StrAppend(&line, "  [leaf ", r.leaf_index(), "]");
  Print(line);
  PrintEntryDecisions(r.entry_decisions());
}

// A JSON object for --json output of the commands whose result is not one
// response message.
class JsonObject {
 public:
  JsonObject& String(const std::string& key, const std::string& value) {
    (*value_.mutable_fields())[key].set_string_value(value);
    return *this;
  }
  JsonObject& Number(const std::string& key, int64_t value) {
    (*value_.mutable_fields())[key].set_number_value(
        static_cast<double>(value));
    return *this;
  }
  JsonObject& Bool(const std::string& key, bool value) {
    (*value_.mutable_fields())[key].set_bool_value(value);
    return *this;
  }
  int Print() const { return Invocation::PrintJson(value_); }

 private:
  google::protobuf::Struct value_;
};

// ---------------------------------------------------------------------------
// Filters and exports.

std::vector<FlagDoc> WithFilter(std::vector<FlagDoc> flags) {
  std::vector<FlagDoc> out = {
      {"--subject", "PNR", Need::kOptional, "only events about this person"},
      {"--caller-agency", "ID", Need::kOptional,
       "only calls by this agency (--agency is yours)"},
      {"--caller-actor", "ID", Need::kOptional,
       "only calls by this staff member (--actor is you)"},
      {"--action", "ACTION", Need::kOptional,
       "only this action, e.g. plan-read (see above)"},
      {"--decision", "DECISION", Need::kOptional, "only allow or deny"},
      {"--resource", "NAME", Need::kOptional,
       "only this resource and those below it,\n"
       "                              e.g. plans/k3v9x2m4q8w1z7r5"},
      {"--since", "TIME", Need::kOptional, "only events at or after TIME"},
      {"--until", "TIME", Need::kOptional, "only events before TIME"},
  };
  out.insert(out.end(), flags.begin(), flags.end());
  return out;
}

// Reads --since and --until into the start_time and end_time of *message (a
// filter or a request), leaving each unset when its flag is absent; records a
// usage error unless --until is after --since.
template <typename Message>
void ReadTimeRange(Invocation& in, Message* message) {
  const bool since =
      in.Instant("--since", Need::kOptional, message->mutable_start_time());
  if (!since) message->clear_start_time();
  const bool until =
      in.Instant("--until", Need::kOptional, message->mutable_end_time());
  if (!until) message->clear_end_time();
  if (since && until &&
      samplan::ToTime(message->end_time()) <=
          samplan::ToTime(message->start_time())) {
    in.Fail("--until: must be after --since");
  }
}

// Reads the filter flags of WithFilter into *filter.
void ReadFilter(Invocation& in, v1::AuditEventFilter* filter) {
  filter->set_subject(TwelveDigits(in.Pnr("--subject", Need::kOptional)));
  filter->set_agency(in.Agency("--caller-agency", Need::kOptional));
  if (std::optional<std::string> actor =
          in.Value("--caller-actor", Need::kOptional)) {
    if (!cli::IsValidActor(*actor)) {
      in.Fail(absl::StrCat("--caller-actor: '", *actor,
                           "' is not 1-64 characters of A-Z a-z 0-9 . _ @ -"));
    }
    filter->set_actor(*actor);
  }
  filter->set_action(in.Enum<v1::AuditAction>("--action", Need::kOptional));
  filter->set_decision(in.Enum<v1::Decision>("--decision", Need::kOptional));
  if (in.Given("--resource")) {
    filter->set_resource(in.Text("--resource", Need::kRequired));
  }
  ReadTimeRange(in, filter);
}

// What an export brought.
struct ExportTotals {
  int64_t events = 0;       // JSON lines received
  int64_t first_leaf = -1;  // of the first event; -1 when none
  int64_t last_leaf = -1;   // of the last event
  std::optional<v1::Checkpoint> checkpoint;
};

// Runs ExportAuditEvents, handing each chunk's JSON lines to `sink` and
// printing progress to stderr on a terminal. Returns the call's status, or
// the sink's first error as it is.
absl::Status RunExport(
    Connection& connection, const v1::ExportAuditEventsRequest& request,
    const std::function<absl::Status(absl::string_view)>& sink,
    ExportTotals* totals) {
  const bool progress = StderrIsTerminal();
  int64_t next_report = kProgressEvery;
  return connection.ExportAuditEvents(
      request, [&](const v1::ExportAuditEventsResponse& chunk) -> absl::Status {
        if (chunk.has_checkpoint() && !totals->checkpoint.has_value()) {
          totals->checkpoint = chunk.checkpoint();
        }
        const std::string& lines = chunk.json_lines();
        if (lines.empty()) return absl::OkStatus();
        if (totals->first_leaf < 0)
          totals->first_leaf = chunk.first_leaf_index();
        totals->last_leaf = chunk.last_leaf_index();
        totals->events += std::count(lines.begin(), lines.end(), '\n');
        if (absl::Status written = sink(lines); !written.ok()) return written;
        if (progress && totals->events >= next_report) {
          PrintErr(absl::StrCat(kProgram, ": ", totals->events,
                                " events so far (leaf ", totals->last_leaf,
                                ")"));
          next_report = (totals->events / kProgressEvery + 1) * kProgressEvery;
        }
        return absl::OkStatus();
      });
}

// "verification FAILED: <problem>", or the JSON object; returns 5.
int VerificationFailed(const Invocation& in, absl::string_view problem) {
  if (in.json()) {
    JsonObject()
        .Bool("verified", false)
        .String("problem", std::string(problem))
        .Print();
  } else {
    Print(absl::StrCat("verification FAILED: ", problem));
  }
  return cli::kExitVerifyFailed;
}

// --origin, the name of a PEM key: nullopt when absent; records a usage
// error when given empty.
std::optional<std::string> Origin(Invocation& in) {
  std::optional<std::string> origin = in.Value("--origin", Need::kOptional);
  if (origin.has_value() && origin->empty()) {
    in.Fail("--origin: give the log's origin, e.g. samplan.example.se/audit");
  }
  return origin;
}

// The verifier for --public-key, named `key_name` (needed for a PEM key).
absl::StatusOr<audit::NoteVerifier> LoadKey(const std::string& path,
                                            const std::string& key_name) {
  absl::StatusOr<audit::NoteVerifier> verifier =
      audit::NoteVerifier::FromFile(path, key_name);
  if (!verifier.ok()) {
    return absl::Status(
        verifier.status().code(),
        absl::StrCat("--public-key: ", verifier.status().message()));
  }
  return verifier;
}

absl::StatusOr<std::vector<audit::Hash>> HashesOf(
    const google::protobuf::RepeatedPtrField<std::string>& bytes) {
  std::vector<audit::Hash> out;
  for (const std::string& b : bytes) {
    absl::StatusOr<audit::Hash> hash = audit::HashFromBytes(b);
    if (!hash.ok()) return hash.status();
    out.push_back(*hash);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Commands.

int AuditSearch(Invocation& in) {
  v1::SearchAuditEventsRequest req;
  ReadFilter(in, req.mutable_filter());
  in.Paging(&req);
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::SearchAuditEventsResponse resp;
  return in.Finish(c->SearchAuditEvents(req, &resp), resp,
                   [](const v1::SearchAuditEventsResponse& r) {
                     if (r.audit_events_size() == 0) Print("No audit events.");
                     for (const v1::AuditEvent& e : r.audit_events()) {
                       PrintEvent(e);
                     }
                     PrintMore(r.next_page_token());
                   });
}

int AuditExtract(Invocation& in) {
  v1::GetAccessExtractRequest req;
  req.set_subject(TwelveDigits(in.Pnr("--subject", Need::kRequired)));
  ReadTimeRange(in, &req);
  in.Paging(&req);
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::GetAccessExtractResponse resp;
  return in.Finish(c->GetAccessExtract(req, &resp), resp,
                   [](const v1::GetAccessExtractResponse& r) {
                     if (r.records_size() == 0) Print("No reads recorded.");
                     for (const v1::AccessRecord& record : r.records()) {
                       PrintAccessRecord(record);
                     }
                     PrintMore(r.next_page_token());
                   });
}

int AuditExport(Invocation& in) {
  v1::ExportAuditEventsRequest req;
  ReadFilter(in, req.mutable_filter());
  const std::string out_path = in.Path("--out", Need::kRequired);
  std::string checkpoint_path = in.Path("--checkpoint-out", Need::kOptional);
  const bool to_stdout = out_path == "-";
  if (checkpoint_path == "-") {
    in.Fail(
        "--checkpoint-out: give a file name; the checkpoint cannot go to "
        "stdout");
  } else if (in.ok() && checkpoint_path.empty()) {
    if (to_stdout) {
      in.Fail(
          "--checkpoint-out FILE is required with --out - (the events go "
          "to stdout, the checkpoint to FILE)");
    } else {
      checkpoint_path = absl::StrCat(out_path, ".checkpoint");
    }
  } else if (in.ok() && checkpoint_path == out_path) {
    in.Fail("--checkpoint-out: give another file than --out");
  }
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();

  std::unique_ptr<TempFile> out_file;
  if (!to_stdout) {
    absl::StatusOr<std::unique_ptr<TempFile>> created =
        TempFile::Create(out_path);
    if (!created.ok()) {
      return in.LocalExit(absl::StrCat("--out: ", created.status().message()),
                          cli::kExitFailure);
    }
    out_file = *std::move(created);
  }
  absl::Status write_error;
  ExportTotals totals;
  const absl::Status status = RunExport(
      *c, req,
      [&](absl::string_view lines) {
        write_error = to_stdout ? WriteStdout(lines) : out_file->Write(lines);
        return write_error;
      },
      &totals);
  if (!write_error.ok()) {
    return in.LocalExit(absl::StrCat("--out: ", write_error.message()),
                        cli::kExitFailure);
  }
  if (!status.ok()) return in.ReportError(status);
  if (!totals.checkpoint.has_value()) {
    return in.LocalExit(
        "the server sent no checkpoint with the export; nothing was saved",
        cli::kExitFailure);
  }
  if (to_stdout && std::fflush(stdout) != 0) {
    return in.LocalExit(
        absl::StrCat("--out: cannot write to stdout: ", ErrnoText()),
        cli::kExitFailure);
  }
  if (absl::Status saved = WriteFileAtomically(
          checkpoint_path, totals.checkpoint->signed_note());
      !saved.ok()) {
    return in.LocalExit(absl::StrCat("--checkpoint-out: ", saved.message()),
                        cli::kExitFailure);
  }
  if (out_file != nullptr) {
    if (absl::Status committed = out_file->Commit(); !committed.ok()) {
      std::remove(checkpoint_path.c_str());
      return in.LocalExit(absl::StrCat("--out: ", committed.message()),
                          cli::kExitFailure);
    }
  }

  const int64_t tree_size = totals.checkpoint->tree_size();
  if (in.json() && !to_stdout) {
    return JsonObject()
        .Number("events", totals.events)
        .Number("firstLeafIndex", totals.first_leaf)
        .Number("lastLeafIndex", totals.last_leaf)
        .Number("treeSize", tree_size)
        .String("rootHash",
                absl::BytesToHexString(totals.checkpoint->root_hash()))
        .String("out", out_path)
        .String("checkpointOut", checkpoint_path)
        .Print();
  }
  std::string summary = absl::StrCat("exported ", totals.events, " events");
  if (totals.events > 0) {
    absl::StrAppend(&summary, " (leaves ", totals.first_leaf, "..",
                    totals.last_leaf, ")");
  }
  absl::StrAppend(&summary, "; checkpoint: tree size ", tree_size,
                  ", saved to ", checkpoint_path);
  if (to_stdout) {
    PrintErr(summary);
  } else {
    Print(summary);
  }
  return cli::kExitOk;
}

}  // namespace

absl::Status SaveReceipt(const std::string& path,
                         const v1::SignedConsentReceipt& receipt) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  if (!google::protobuf::util::MessageToJsonString(receipt, &json, options)
           .ok()) {
    return absl::InternalError("the receipt could not be written as JSON");
  }
  return WriteFileAtomically(path, json);
}

std::string ReceiptOutFlag(Invocation& in) {
  const std::string path = in.Path("--receipt-out", Need::kOptional);
  if (path.empty()) return path;
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  std::error_code error;
  if (!dir.empty() && !std::filesystem::is_directory(dir, error)) {
    in.Fail(absl::StrCat("--receipt-out: the directory ", dir.string(),
                         " does not exist"));
  }
  return path;
}

int SaveReceiptOut(const Invocation& in, const std::string& grant,
                   const v1::SignedConsentReceipt* receipt,
                   const std::string& path) {
  const std::string again =
      absl::StrCat("; get it with: samplanctl receipt get --grant ",
                   absl::StripPrefix(grant, "grants/"), " --out ", path);
  if (receipt == nullptr) {
    return in.LocalExit(
        absl::StrCat("the change was made (", grant,
                     "), but the server sent no receipt", again),
        cli::kExitFailure);
  }
  if (absl::Status saved = SaveReceipt(path, *receipt); !saved.ok()) {
    return in.LocalExit(
        absl::StrCat("the change was made (", grant,
                     "), but its receipt was not saved: --receipt-out: ",
                     saved.message(), again),
        cli::kExitFailure);
  }
  if (!in.json()) Print(absl::StrCat("Saved the family's receipt to ", path));
  return cli::kExitOk;
}

namespace {

int ReceiptGet(Invocation& in) {
  v1::GetGrantReceiptRequest req;
  req.set_name(in.Name("--grant", "grants", Need::kRequired));
  req.set_event(in.Enum<v1::ReceiptEvent>("--event", Need::kOptional));
  const std::string out_path = in.Path("--out", Need::kOptional);
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::GetGrantReceiptResponse resp;
  const absl::Status status = c->GetGrantReceipt(req, &resp);
  if (!status.ok()) return in.ReportError(status);
  const v1::ConsentReceipt& r = resp.receipt().receipt();
  const std::string path =
      out_path.empty()
          ? SafeFileName(
                absl::StrCat("receipt-",
                             absl::StripPrefix(r.grant().name(), "grants/"),
                             "-", r.audit_event().leaf_index(), ".json"),
                "receipt.json")
          : out_path;
  if (absl::Status saved = SaveReceipt(path, resp.receipt()); !saved.ok()) {
    return in.LocalExit(absl::StrCat("--out: ", saved.message()),
                        cli::kExitFailure);
  }
  if (in.json()) {
    return JsonObject()
        .String("receiptId", r.receipt_id())
        .String("event", v1::ReceiptEvent_Name(r.event()))
        .String("out", path)
        .Print();
  }
  Print(absl::StrCat("Wrote the receipt ", r.receipt_id(), " (",
                     v1::ReceiptEvent_Name(r.event()), ") to ", path));
  Print(absl::StrCat("  ", r.scope_text()));
  Print(absl::StrCat("Check it offline: samplanctl receipt verify ", path,
                     " --public-key KEY"));
  return cli::kExitOk;
}

int ReceiptRender(Invocation& in) {
  v1::RenderGrantReceiptRequest req;
  req.set_name(in.Name("--grant", "grants", Need::kRequired));
  req.set_event(in.Enum<v1::ReceiptEvent>("--event", Need::kOptional));
  req.set_language_code(in.Text("--language", Need::kOptional));
  req.set_format(in.Enum<v1::DocumentFormat>("--format", Need::kOptional));
  const std::string out_path = in.Path("--out", Need::kOptional);
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::RenderGrantReceiptResponse resp;
  const absl::Status status = c->RenderGrantReceipt(req, &resp);
  if (!status.ok()) return in.ReportError(status);
  return SaveDocument(
      in, resp, out_path,
      absl::StrCat("the receipt ", resp.receipt_id(), " in words"), "");
}

int ReceiptVerify(Invocation& in) {
  const std::string file = in.Path("--file", Need::kRequired);
  const std::string key_path = in.Path("--public-key", Need::kRequired);
  const std::optional<std::string> origin = Origin(in);
  if (!in.ok()) return in.UsageExit();
  absl::StatusOr<std::string> text = ReadFile(file);
  if (!text.ok()) {
    return in.LocalExit(absl::StrCat("--file: ", text.status().message()),
                        cli::kExitFailure);
  }
  v1::SignedConsentReceipt receipt;
  if (const auto parsed =
          google::protobuf::util::JsonStringToMessage(*text, &receipt);
      !parsed.ok()) {
    return VerificationFailed(in, absl::StrCat("the file is not a receipt: ",
                                               std::string(parsed.message())));
  }
  const v1::ConsentReceipt& r = receipt.receipt();
  const std::string key_name = origin.value_or(std::string(
      absl::string_view(r.checkpoint()).substr(0, r.checkpoint().find('\n'))));
  absl::StatusOr<audit::NoteVerifier> verifier = LoadKey(key_path, key_name);
  if (!verifier.ok()) {
    return in.LocalExit(verifier.status().message(), cli::kExitFailure);
  }
  absl::StatusOr<audit::VerifiedReceipt> verified =
      audit::VerifyReceipt(receipt, *verifier);
  if (!verified.ok())
    return VerificationFailed(in, verified.status().message());
  const v1::Grant& g = r.grant();
  const absl::Time issued = ToTime(r.issue_time());
  const bool in_force = g.state() == v1::GRANT_STATE_ACTIVE &&
                        ToTime(g.valid_from()) <= issued &&
                        issued < ToTime(g.valid_until());
  const std::string what = r.event() == v1::RECEIPT_EVENT_WITHDRAWN
                               ? "withdrawn"
                           : r.event() == v1::RECEIPT_EVENT_REVOKED ? "revoked"
                                                                    : "given";
  const char* const by = g.grantor_role() == v1::GRANTOR_ROLE_SUBJECT
                             ? "the subject"
                         : g.grantor_role() == v1::GRANTOR_ROLE_GUARDIAN
                             ? "a guardian"
                             : "a legal representative";
  const std::string state =
      in_force
          ? "In force"
          : absl::StrCat("Not in force (", v1::GrantState_Name(g.state()), ")");
  if (in.json()) {
    return JsonObject()
        .Bool("verified", true)
        .String("receiptId", r.receipt_id())
        .String("event", v1::ReceiptEvent_Name(r.event()))
        .String("scope", r.scope_text())
        .Bool("inForce", in_force)
        .Number("leafIndex", verified->leaf_index)
        .Number("treeSize", verified->checkpoint.tree_size)
        .String("origin", verified->checkpoint.origin)
        .Print();
  }
  Print(absl::StrCat("verified: consent ", what, " ", When(r.event_time()),
                     " by ", by, ": ", r.scope_text(), " ", state, " as of ",
                     When(r.issue_time()), ", leaf ", verified->leaf_index,
                     " of ", verified->checkpoint.tree_size, " signed by ",
                     verified->checkpoint.origin));
  return cli::kExitOk;
}

int AuditCheckpoint(Invocation& in) {
  const std::string out_path = in.Path("--out", Need::kOptional);
  v1::GetLatestCheckpointRequest req;
  req.set_refresh(in.Given("--refresh"));
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::GetLatestCheckpointResponse resp;
  const absl::Status status = c->GetLatestCheckpoint(req, &resp);
  if (!status.ok()) return in.ReportError(status);
  const v1::Checkpoint& checkpoint = resp.checkpoint();
  if (!out_path.empty()) {
    if (absl::Status saved =
            WriteFileAtomically(out_path, checkpoint.signed_note());
        !saved.ok()) {
      return in.LocalExit(absl::StrCat("--out: ", saved.message()),
                          cli::kExitFailure);
    }
  }
  if (in.json()) {
    // Flat, with numbers and a hex root hash, like the other audit commands'
    // --json output (the response message would give treeSize as a string).
    JsonObject out;
    out.String("origin", checkpoint.origin())
        .Number("treeSize", checkpoint.tree_size())
        .String("rootHash", absl::BytesToHexString(checkpoint.root_hash()))
        .String("signedNote", checkpoint.signed_note());
    if (!out_path.empty()) out.String("out", out_path);
    return out.Print();
  }
  Print(absl::StrCat("Checkpoint of ", checkpoint.origin()));
  Print(absl::StrCat("  tree size:  ", checkpoint.tree_size()));
  Print(absl::StrCat("  root hash:  ",
                     absl::BytesToHexString(checkpoint.root_hash())));
  Print("Signed note (not verified here; use audit consistency or verify):");
  absl::string_view note = checkpoint.signed_note();
  absl::ConsumeSuffix(&note, "\n");
  Print(note);
  if (!out_path.empty())
    Print(absl::StrCat("Saved the signed note to ", out_path));
  return cli::kExitOk;
}

int AuditVerify(Invocation& in) {
  const std::string key_path = in.Path("--public-key", Need::kRequired);
  const std::string export_path = in.Path("--export", Need::kOptional);
  std::string checkpoint_path = in.Path("--checkpoint", Need::kOptional);
  const std::string saved_path = in.Path("--saved-checkpoint", Need::kOptional);
  const std::optional<std::string> origin = Origin(in);
  if (!checkpoint_path.empty() && export_path.empty()) {
    in.Fail(
        "--checkpoint goes with --export; without --export the export and "
        "its checkpoint are fetched from the server");
  }
  if (!in.ok()) return in.UsageExit();

  std::string saved_note;
  if (!saved_path.empty()) {
    absl::StatusOr<std::string> read = ReadFile(saved_path);
    if (!read.ok()) {
      return in.LocalExit(
          absl::StrCat("--saved-checkpoint: ", read.status().message()),
          cli::kExitFailure);
    }
    saved_note = *std::move(read);
  }

  std::string checkpoint_note;
  std::ifstream export_stream;
  std::unique_ptr<TempFile> fetched;  // the export fetched from the server
  int64_t fetched_events = -1;
  if (!export_path.empty()) {
    // Offline: no connection is opened.
    if (checkpoint_path.empty()) {
      checkpoint_path = absl::StrCat(export_path, ".checkpoint");
    }
    absl::StatusOr<std::string> read = ReadFile(checkpoint_path);
    if (!read.ok()) {
      return in.LocalExit(
          absl::StrCat("--checkpoint: ", read.status().message()),
          cli::kExitFailure);
    }
    checkpoint_note = *std::move(read);
    std::error_code ec;
    if (std::filesystem::is_directory(export_path, ec)) {
      return in.LocalExit(absl::StrCat("--export: cannot read ", export_path,
                                       ": it is a directory"),
                          cli::kExitFailure);
    }
    export_stream.open(export_path, std::ios::in | std::ios::binary);
    if (!export_stream.is_open()) {
      return in.LocalExit(absl::StrCat("--export: cannot read ", export_path,
                                       ": missing or not readable"),
                          cli::kExitFailure);
    }
  } else {
    Connection* c = in.Connect();
    if (c == nullptr) return in.exit_code();
    std::error_code ec;
    std::filesystem::path dir = std::filesystem::temp_directory_path(ec);
    if (ec) dir = "/tmp";
    absl::StatusOr<std::unique_ptr<TempFile>> created =
        TempFile::Create((dir / "samplanctl-export").string());
    if (!created.ok()) {
      return in.LocalExit(created.status().message(), cli::kExitFailure);
    }
    fetched = *std::move(created);
    absl::Status write_error;
    ExportTotals totals;
    const absl::Status status = RunExport(
        *c, v1::ExportAuditEventsRequest(),
        [&](absl::string_view lines) {
          write_error = fetched->Write(lines);
          return write_error;
        },
        &totals);
    if (!write_error.ok()) {
      return in.LocalExit(write_error.message(), cli::kExitFailure);
    }
    if (!status.ok()) return in.ReportError(status);
    if (!totals.checkpoint.has_value()) {
      return VerificationFailed(
          in, "the server sent no checkpoint with the export");
    }
    if (absl::Status closed = fetched->Close(); !closed.ok()) {
      return in.LocalExit(closed.message(), cli::kExitFailure);
    }
    checkpoint_note = totals.checkpoint->signed_note();
    fetched_events = totals.events;
    export_stream.open(fetched->temp_path(), std::ios::in | std::ios::binary);
    if (!export_stream.is_open()) {
      return in.LocalExit(
          absl::StrCat("cannot read back ", fetched->temp_path()),
          cli::kExitFailure);
    }
  }

  absl::StatusOr<audit::NoteVerifier> key =
      LoadKey(key_path, origin.value_or(FirstLine(checkpoint_note)));
  if (!key.ok()) return in.LocalExit(key.status().message(), cli::kExitFailure);

  const audit::VerifyResult result =
      audit::VerifyExport(export_stream, checkpoint_note, *key, saved_note);
  if (!result.ok) return VerificationFailed(in, result.problem);

  int64_t saved_size = -1;
  if (!saved_note.empty()) {
    absl::StatusOr<audit::CheckpointBody> saved =
        audit::OpenCheckpoint(*key, saved_note);
    if (!saved.ok()) {
      return VerificationFailed(
          in, absl::StrCat("the saved checkpoint: ", saved.status().message()));
    }
    saved_size = saved->tree_size;
  }
  const std::string root = audit::ToHex(result.root);
  if (in.json()) {
    JsonObject out;
    out.Bool("verified", true)
        .Number("events", result.events)
        .String("root", root)
        .Number("treeSize", result.checkpoint.tree_size)
        .String("origin", result.checkpoint.origin)
        .String("keyName", key->key_name());
    if (saved_size >= 0) out.Number("savedTreeSize", saved_size);
    return out.Print();
  }
  if (fetched_events >= 0) {
    Print(absl::StrCat("fetched the whole audit log from the server: ",
                       fetched_events, " events"));
  }
  Print(absl::StrCat("verified: ", result.events, " events, root ", root,
                     ", checkpoint tree size ", result.checkpoint.tree_size,
                     " signed by ", key->key_name()));
  if (saved_size >= 0) {
    Print(
        absl::StrCat("consistent with saved checkpoint of size ", saved_size));
  }
  return cli::kExitOk;
}

// The event with leaf index `leaf` in the export file at `path` (JSON lines),
// or, when `leaf` is nullopt, its only event.
absl::StatusOr<v1::AuditEvent> ReadEventFile(const std::string& path,
                                             std::optional<int64_t> leaf) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return absl::NotFoundError(
        absl::StrCat("cannot read ", path, ": it is a directory"));
  }
  std::ifstream in(path, std::ios::in | std::ios::binary);
  if (!in.is_open()) {
    return absl::NotFoundError(
        absl::StrCat("cannot read ", path, ": missing or not readable"));
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  std::optional<v1::AuditEvent> found;
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    absl::string_view text = line;
    absl::ConsumeSuffix(&text, "\r");
    if (text.empty()) continue;
    v1::AuditEvent event;
    auto parsed = google::protobuf::util::JsonStringToMessage(std::string(text),
                                                              &event, options);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, " line ", number,
                       " is not an audit event in JSON: ", parsed.ToString()));
    }
    if (leaf.has_value()) {
      if (event.leaf_index() == *leaf) return event;
      continue;
    }
    if (found.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, " holds more than one event; give --leaf-index to pick one"));
    }
    found = std::move(event);
  }
  if (in.bad()) {
    return absl::NotFoundError(
        absl::StrCat("cannot read ", path, ": read error"));
  }
  if (leaf.has_value()) {
    return absl::NotFoundError(
        absl::StrCat(path, " holds no event with leaf index ", *leaf));
  }
  if (!found.has_value()) {
    return absl::NotFoundError(absl::StrCat(path, " holds no event"));
  }
  return *std::move(found);
}

int AuditProve(Invocation& in) {
  const std::optional<int64_t> leaf = in.Int(
      "--leaf-index", 0, std::numeric_limits<int64_t>::max(), Need::kOptional);
  const std::string event_path = in.Path("--event-file", Need::kOptional);
  const std::string key_path = in.Path("--public-key", Need::kOptional);
  const std::string checkpoint_path = in.Path("--checkpoint", Need::kOptional);
  const std::optional<std::string> origin = Origin(in);
  if (in.ok() && !leaf.has_value() && event_path.empty()) {
    in.Fail(
        "--leaf-index is required (or give --event-file with one event from "
        "an export)");
  }
  if (!in.ok()) return in.UsageExit();

  // The local files first: a mistake there needs no call.
  std::optional<v1::AuditEvent> event;
  if (!event_path.empty()) {
    absl::StatusOr<v1::AuditEvent> read = ReadEventFile(event_path, leaf);
    if (!read.ok()) {
      return in.LocalExit(
          absl::StrCat("--event-file: ", read.status().message()),
          cli::kExitFailure);
    }
    event = *std::move(read);
  }
  std::string note;
  if (!checkpoint_path.empty()) {
    absl::StatusOr<std::string> read = ReadFile(checkpoint_path);
    if (!read.ok()) {
      return in.LocalExit(
          absl::StrCat("--checkpoint: ", read.status().message()),
          cli::kExitFailure);
    }
    note = *std::move(read);
  }

  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  const int64_t index = event.has_value() ? event->leaf_index() : *leaf;

  // The event.
  if (!event.has_value()) {
    v1::StreamAuditEventsRequest sreq;
    sreq.set_start_leaf_index(index);
    const absl::Status status = c->StreamAuditEvents(
        sreq, [&](const v1::StreamAuditEventsResponse& batch) -> absl::Status {
          if (batch.audit_events_size() == 0) return absl::OkStatus();
          event = batch.audit_events(0);
          return absl::CancelledError("the first event is enough");
        });
    if (!event.has_value()) {
      if (!status.ok()) return in.ReportError(status);
      return in.LocalExit(absl::StrCat("no event at leaf index ", index,
                                       ": the log is shorter"),
                          cli::ExitCodeFor(absl::StatusCode::kNotFound));
    }
    if (event->leaf_index() != index) {
      return VerificationFailed(
          in, absl::StrCat("asked for leaf ", index,
                           ", the server returned leaf ", event->leaf_index()));
    }
  }

  // The checkpoint, authenticated when there is a key.
  v1::GetLatestCheckpointResponse latest;
  if (checkpoint_path.empty()) {
    // Refreshed, so that it covers the event even when it is very new.
    v1::GetLatestCheckpointRequest creq;
    creq.set_refresh(true);
    const absl::Status status = c->GetLatestCheckpoint(creq, &latest);
    if (!status.ok()) return in.ReportError(status);
    note = latest.checkpoint().signed_note();
  }
  audit::CheckpointBody body;
  std::string key_name;
  if (!key_path.empty()) {
    absl::StatusOr<audit::NoteVerifier> key =
        LoadKey(key_path, origin.value_or(FirstLine(note)));
    if (!key.ok()) {
      return in.LocalExit(key.status().message(), cli::kExitFailure);
    }
    absl::StatusOr<audit::CheckpointBody> opened =
        audit::OpenCheckpoint(*key, note);
    if (!opened.ok()) {
      return VerificationFailed(
          in, absl::StrCat("the checkpoint: ", opened.status().message()));
    }
    body = *std::move(opened);
    key_name = key->key_name();
  } else if (checkpoint_path.empty()) {
    absl::StatusOr<audit::Hash> root =
        audit::HashFromBytes(latest.checkpoint().root_hash());
    if (!root.ok()) {
      return VerificationFailed(in, absl::StrCat("the server's checkpoint: ",
                                                 root.status().message()));
    }
    body.origin = latest.checkpoint().origin();
    body.tree_size = latest.checkpoint().tree_size();
    body.root = *root;
  } else {
    absl::StatusOr<audit::CheckpointBody> parsed =
        audit::ParseCheckpointBody(NoteBody(note));
    if (!parsed.ok()) {
      return in.LocalExit(
          absl::StrCat("--checkpoint: ", parsed.status().message()),
          cli::kExitFailure);
    }
    body = *std::move(parsed);
  }
  if (index >= body.tree_size) {
    return in.LocalExit(
        absl::StrCat("leaf ", index,
                     " is not covered by the checkpoint (tree "
                     "size ",
                     body.tree_size, "); use a newer checkpoint"),
        cli::kExitFailure);
  }

  // The leaf hash, recomputed from the event's content.
  const audit::Hash leaf_hash = audit::EventLeafHash(*event);
  absl::StatusOr<audit::Hash> stated = audit::HashFromBytes(event->leaf_hash());
  if (!stated.ok() || *stated != leaf_hash) {
    return VerificationFailed(
        in, absl::StrCat("the event at leaf ", index,
                         " does not match its leaf hash: its content was "
                         "altered, or the hash is missing"));
  }

  // The proof.
  v1::GetInclusionProofRequest preq;
  preq.set_leaf_index(index);
  preq.set_tree_size(body.tree_size);
  v1::GetInclusionProofResponse proof;
  if (absl::Status status = c->GetInclusionProof(preq, &proof); !status.ok()) {
    return in.ReportError(status);
  }
  absl::StatusOr<audit::Hash> proof_leaf =
      audit::HashFromBytes(proof.leaf_hash());
  if (!proof_leaf.ok() || *proof_leaf != leaf_hash) {
    return VerificationFailed(
        in, absl::StrCat("the server's leaf hash for leaf ", index,
                         " differs from the event's"));
  }
  absl::StatusOr<std::vector<audit::Hash>> path = HashesOf(proof.hashes());
  if (!path.ok()) {
    return VerificationFailed(in,
                              absl::StrCat("the inclusion proof is malformed: ",
                                           path.status().message()));
  }
  if (absl::Status included = audit::VerifyInclusion(
          index, body.tree_size, leaf_hash, *path, body.root);
      !included.ok()) {
    return VerificationFailed(
        in, absl::StrCat("leaf ", index, " is not in the tree of size ",
                         body.tree_size, ": ", included.message()));
  }

  const std::string root = audit::ToHex(body.root);
  if (in.json()) {
    JsonObject out;
    out.Bool("verified", true)
        .Number("leafIndex", index)
        .String("leafHash", audit::ToHex(leaf_hash))
        .Number("treeSize", body.tree_size)
        .String("root", root)
        .String("origin", body.origin)
        .Bool("rootAuthenticated", !key_name.empty());
    if (!key_name.empty()) out.String("keyName", key_name);
    return out.Print();
  }
  Print(absl::StrCat("proved: the event at leaf ", index,
                     " is in the audit log of tree size ", body.tree_size,
                     ", root ", root));
  Print(absl::StrCat("  event:      ", EventHeadline(*event)));
  Print(absl::StrCat("  from:       ", event_path.empty()
                                           ? std::string("the server")
                                           : event_path));
  Print(absl::StrCat("  leaf hash:  ", audit::ToHex(leaf_hash),
                     " (recomputed from the event)"));
  Print(absl::StrCat("  proof:      ", path->size(), " hashes"));
  if (!key_name.empty()) {
    Print(
        absl::StrCat("  checkpoint: ", body.origin, ", signed by ", key_name));
  } else {
    Print(absl::StrCat("  checkpoint: ", body.origin,
                       ", NOT authenticated: no --public-key was given, so "
                       "the root"));
    if (checkpoint_path.empty()) {
      Print(
          "              is the server's word; give --public-key to check the "
          "signature");
    } else {
      Print(absl::StrCat("              comes from ", checkpoint_path,
                         " and is unchecked; give --public-key to check the "
                         "signature"));
    }
  }
  return cli::kExitOk;
}

int AuditConsistency(Invocation& in) {
  const std::string saved_path = in.Path("--saved-checkpoint", Need::kRequired);
  const std::string key_path = in.Path("--public-key", Need::kRequired);
  const std::optional<std::string> origin = Origin(in);
  if (!in.ok()) return in.UsageExit();

  absl::StatusOr<std::string> saved_note = ReadFile(saved_path);
  if (!saved_note.ok()) {
    return in.LocalExit(
        absl::StrCat("--saved-checkpoint: ", saved_note.status().message()),
        cli::kExitFailure);
  }
  absl::StatusOr<audit::NoteVerifier> key =
      LoadKey(key_path, origin.value_or(FirstLine(*saved_note)));
  if (!key.ok()) return in.LocalExit(key.status().message(), cli::kExitFailure);
  absl::StatusOr<audit::CheckpointBody> saved =
      audit::OpenCheckpoint(*key, *saved_note);
  if (!saved.ok()) {
    return VerificationFailed(
        in, absl::StrCat("the saved checkpoint: ", saved.status().message()));
  }

  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  // Refreshed, so that the server signs a checkpoint of the whole log first:
  // the newest signed one may be the saved one itself (say, right after a
  // restart), which would prove nothing about the events since.
  v1::GetLatestCheckpointRequest creq;
  creq.set_refresh(true);
  v1::GetLatestCheckpointResponse resp;
  if (absl::Status status = c->GetLatestCheckpoint(creq, &resp); !status.ok()) {
    return in.ReportError(status);
  }
  absl::StatusOr<audit::CheckpointBody> latest =
      audit::OpenCheckpoint(*key, resp.checkpoint().signed_note());
  if (!latest.ok()) {
    return VerificationFailed(in,
                              absl::StrCat("the server's latest checkpoint: ",
                                           latest.status().message()));
  }
  if (latest->origin != saved->origin) {
    return VerificationFailed(
        in, absl::StrCat("the saved checkpoint is of log '", saved->origin,
                         "', the server's of log '", latest->origin, "'"));
  }
  if (saved->tree_size > latest->tree_size) {
    return VerificationFailed(
        in, absl::StrCat("the log shrank: the saved checkpoint has ",
                         saved->tree_size, " leaves, the latest ",
                         latest->tree_size));
  }
  int64_t proof_size = 0;
  if (saved->tree_size == latest->tree_size) {
    if (saved->root != latest->root) {
      return VerificationFailed(
          in, absl::StrCat("the log was rewritten: the same tree size ",
                           saved->tree_size, " has another root hash"));
    }
  } else if (saved->tree_size > 0) {
    v1::GetConsistencyProofRequest preq;
    preq.set_first_size(saved->tree_size);
    preq.set_second_size(latest->tree_size);
    v1::GetConsistencyProofResponse proof;
    if (absl::Status status = c->GetConsistencyProof(preq, &proof);
        !status.ok()) {
      return in.ReportError(status);
    }
    absl::StatusOr<std::vector<audit::Hash>> hashes = HashesOf(proof.hashes());
    if (!hashes.ok()) {
      return VerificationFailed(
          in, absl::StrCat("the consistency proof is malformed: ",
                           hashes.status().message()));
    }
    if (absl::Status consistent =
            audit::VerifyConsistency(saved->tree_size, latest->tree_size,
                                     saved->root, latest->root, *hashes);
        !consistent.ok()) {
      return VerificationFailed(
          in, absl::StrCat("the log of size ", latest->tree_size,
                           " does not extend the saved checkpoint of size ",
                           saved->tree_size, ": ", consistent.message()));
    }
    proof_size = static_cast<int64_t>(hashes->size());
  }

  if (in.json()) {
    return JsonObject()
        .Bool("verified", true)
        .Number("savedTreeSize", saved->tree_size)
        .String("savedRoot", audit::ToHex(saved->root))
        .Number("treeSize", latest->tree_size)
        .String("root", audit::ToHex(latest->root))
        .String("origin", latest->origin)
        .String("keyName", key->key_name())
        .Print();
  }
  Print(absl::StrCat("consistent: the log of size ", latest->tree_size,
                     " (root ", audit::ToHex(latest->root), ")"));
  Print(absl::StrCat("  extends the saved checkpoint of size ",
                     saved->tree_size, " (root ", audit::ToHex(saved->root),
                     ") without changing it"));
  Print(absl::StrCat("  both signed by ", key->key_name(), "; proof of ",
                     proof_size, " hashes"));
  Print(
      "  To check against this checkpoint next time: samplanctl audit "
      "checkpoint --out FILE");
  return cli::kExitOk;
}

// The description of audit search, with the accepted actions taken from
// AuditAction. Built once.
const char* AuditSearchDescription() {
  static const std::string* const kDescription = new std::string(absl::StrCat(
      "Lists the audit events that match every filter given, by leaf index "
      "(the event's\nposition in the log), two lines each. For auditors "
      "(role auditor); the search\nis itself logged. --caller-agency and "
      "--caller-actor are about the calls\nlogged; the global --agency and "
      "--actor are about you.\n\n",
      WrapWords(
          absl::StrCat("ACTION is one of ", cli::EnumChoices<v1::AuditAction>(),
                       " (AUDIT_ACTION_PLAN_READ works too)."),
          78)));
  return kDescription->c_str();
}

}  // namespace

void AddAuditCommands(std::vector<Command>* commands) {
  std::vector<Command> table{
      {"audit", "search", "list audit events that match a filter",
       AuditSearchDescription(), WithPaging(WithFilter({})),
       "samplanctl audit search --subject 20160510-2381 --action plan-read "
       "\\\n      --decision deny --since 2026-06-01",
       AuditSearch, false},
      {"audit", "extract", "list every read of information about a person",
       "The access extract (logutdrag) for a person: every read of "
       "information about\nthem, oldest first, one line each: when, the "
       "agency (name and id), the staff\nmember, what was read, the decision "
       "with its reasons, the grants relied on and\nthe event's leaf index "
       "(for audit prove).",
       WithPaging({
           {"--subject", "PNR", Need::kRequired, "the person"},
           {"--since", "TIME", Need::kOptional, "only reads at or after TIME"},
           {"--until", "TIME", Need::kOptional, "only reads before TIME"},
       }),
       "samplanctl audit extract --subject 20160510-2381 --since 2026-01-01",
       AuditExtract, false},
      {"audit", "export", "save audit events and a signed checkpoint to files",
       "Streams the audit events that match the filters (default: the whole "
       "log) into\n--out as JSON lines, one event each, and the signed "
       "checkpoint that covers them\ninto --checkpoint-out (default: "
       "FILE.checkpoint). Both are written under a\ntemporary name and "
       "renamed when complete, readable by you only: a failed\nexport "
       "leaves no partial file. Only a whole-log export can be checked with "
       "audit\nverify; check single events of a filtered one with audit "
       "prove --event-file.\nOn a terminal, progress goes to stderr.",
       WithFilter({
           {"--out", "FILE", Need::kRequired,
            "where to write the events; - for stdout"},
           {"--checkpoint-out", "FILE", Need::kOptional,
            "where to save the checkpoint (default:\n"
            "                              FILE.checkpoint; required with "
            "--out -)"},
       }),
       "samplanctl audit export --out audit-2026-06.jsonl", AuditExport, false},
      {"receipt",
       "get",
       "save a grant's signed receipt for the family",
       "Saves the receipt of a grant: what the person agreed to (or its "
       "withdrawal or\nrevocation), in the shape of ISO/IEC TS 27560 consent "
       "records, signed with the\naudit log's key, with the event's audit "
       "record and its proof in a signed\ncheckpoint. The family keeps the "
       "JSON file and can check it offline with\nreceipt verify. Without "
       "--event: the latest event (the withdrawal of a withdrawn\ngrant). "
       "Without --out the file is receipt-GRANT-LEAF.json here.",
       {
           {"--grant", "ID", Need::kRequired, "the grant, its id or grants/ID"},
           {"--event", "EVENT", Need::kOptional,
            "given, withdrawn or revoked (default: the latest)"},
           {"--out", "FILE", Need::kOptional, "where to write the receipt"},
       },
       "samplanctl receipt get --grant q2m7v8w4p1r6k3x9 --out consent.json",
       ReceiptGet,
       false},
      {"receipt",
       "render",
       "write a receipt in words, as HTML or PDF",
       "Writes the receipt of a grant in plain words for the family to read "
       "and print:\nwhat was agreed (or its withdrawal or revocation), by "
       "whom in which role, for\nhow long, where the grant stands, how to "
       "withdraw it, and how to check the\nsigned receipt (receipt get) it "
       "goes with. Swedish unless --language en;\nHTML unless --format pdf. "
       "Without --out the file is\nreceipt-GRANT-LEAF.html (or .pdf) here.",
       {
           {"--grant", "ID", Need::kRequired, "the grant, its id or grants/ID"},
           {"--event", "EVENT", Need::kOptional,
            "given, withdrawn or revoked (default: the latest)"},
           {"--language", "CODE", Need::kOptional, "sv (default) or en"},
           {"--format", "FORMAT", Need::kOptional, "html (default) or pdf"},
           {"--out", "FILE", Need::kOptional, "where to write the document"},
       },
       "samplanctl receipt render --grant q2m7v8w4p1r6k3x9 --format pdf",
       ReceiptRender,
       false},
      {"receipt",
       "verify",
       "check a receipt offline",
       "Checks a receipt with the server's public key, without contacting "
       "the server:\nthe receipt's signature, that its audit record is the "
       "grant's event, the\nrecord's leaf hash, its inclusion proof and the "
       "checkpoint's signature. Says in\none line what was agreed and "
       "whether it was in force when the receipt was made;\na failed check "
       "prints \"verification FAILED: ...\" and exits 5. The key is a\n"
       "verifier key line or an Ed25519 public key in PEM (named by the "
       "checkpoint's\norigin unless --origin is given).",
       {
           {"--file", "FILE", Need::kRequired,
            "the receipt (receipt get); the file alone\n"
            "                              after verify does the same"},
           {"--public-key", "FILE", Need::kRequired,
            "the server's public key file"},
           {"--origin", "NAME", Need::kOptional,
            "PEM key name (default: the checkpoint's origin)"},
       },
       "samplanctl receipt verify consent.json --public-key "
       "audit-key.pem.vkey",
       ReceiptVerify,
       false,
       "--file"},
      {"audit",
       "checkpoint",
       "show the newest signed checkpoint",
       "Shows the newest checkpoint of the audit log: its origin, tree size "
       "(the number\nof events), root hash and signed note. --out saves the "
       "signed note exactly as\nsigned, to compare a later log with (audit "
       "consistency, audit verify\n--saved-checkpoint). The server signs "
       "checkpoints from time to time; --refresh\nasks it to sign one that "
       "covers every event first.",
       {
           {"--out", "FILE", Need::kOptional, "save the signed note to FILE"},
           {"--refresh", "", Need::kOptional,
            "first sign one of the whole log, if it grew"},
       },
       "samplanctl audit checkpoint --out checkpoint-2026-06-01.txt",
       AuditCheckpoint,
       false},
      {"audit",
       "verify",
       "check an export against its signed checkpoint",
       "Checks an export of the whole log offline, with the server's public "
       "key: the\ncheckpoint's signature, that every event is at its place "
       "and unaltered (its\nleaf hash recomputed), that no event is missing "
       "or added, and that the events\ngive the signed root hash. With "
       "--saved-checkpoint, also that the log still\nbegins with the log "
       "that checkpoint signed. With --export no server is\ncontacted; "
       "without it, the whole log is fetched first (ExportAuditEvents). A\n"
       "failed check prints \"verification FAILED: ...\", naming the first "
       "wrong leaf\nwhere there is one, and exits 5.\n\nThe key is a "
       "verifier key line (NAME+HASH+KEY) or an Ed25519 public key in\nPEM; "
       "its name is the log's origin, taken from the checkpoint unless "
       "--origin\nis given.",
       {
           {"--public-key", "FILE", Need::kRequired,
            "the server's public key file"},
           {"--export", "FILE", Need::kOptional,
            "an export (audit export); default: fetch one"},
           {"--checkpoint", "FILE", Need::kOptional,
            "its checkpoint (default: FILE.checkpoint)"},
           {"--saved-checkpoint", "FILE", Need::kOptional,
            "an older checkpoint the log must extend"},
           {"--origin", "NAME", Need::kOptional,
            "PEM key name (default: the checkpoint's origin)"},
       },
       "samplanctl audit verify --public-key audit-key.vkey \\\n"
       "      --export audit-2026-06.jsonl --saved-checkpoint "
       "checkpoint-2026-05-01.txt",
       AuditVerify,
       false},
      {"audit",
       "prove",
       "prove that one event is in the signed log",
       "Proves that one event is in the log: fetches the event at --leaf-index "
       "(or reads\nit from --event-file, an export), recomputes its leaf hash "
       "from its content,\nand checks the server's inclusion proof against "
       "the checkpoint's root. With\n--public-key the checkpoint's signature "
       "is checked too; without it the root is\nthe server's word (or, with "
       "--checkpoint, that file's, unchecked), and the\noutput says so. A "
       "failed check exits 5.",
       {
           {"--leaf-index", "N", Need::kOptional,
            "the event's position in the log (required without\n"
            "                              --event-file)"},
           {"--event-file", "FILE", Need::kOptional,
            "read the event from an export file: its only line,\n"
            "                              or the line with --leaf-index"},
           {"--public-key", "FILE", Need::kOptional,
            "check the checkpoint's signature with this key"},
           {"--checkpoint", "FILE", Need::kOptional,
            "a saved checkpoint to prove against (default: a\n"
            "                              fresh one of the whole log)"},
           {"--origin", "NAME", Need::kOptional,
            "PEM key name (default: the checkpoint's origin)"},
       },
       "samplanctl audit prove --leaf-index 1234 --public-key audit-key.vkey",
       AuditProve,
       false},
      {"audit",
       "consistency",
       "prove that the log extends a saved checkpoint",
       "Proves that the server's log is append-only since a checkpoint you "
       "saved: asks\nthe server to sign a checkpoint of the whole log now "
       "(as audit checkpoint\n--refresh does), checks its and the saved "
       "checkpoint's signatures, then the\nserver's consistency proof that "
       "the new tree begins with the saved one. A\nfailed check exits 5.",
       {
           {"--saved-checkpoint", "FILE", Need::kRequired,
            "from audit checkpoint --out, earlier"},
           {"--public-key", "FILE", Need::kRequired,
            "the server's public key file"},
           {"--origin", "NAME", Need::kOptional,
            "PEM key name (default: the checkpoint's origin)"},
       },
       "samplanctl audit consistency --saved-checkpoint "
       "checkpoint-2026-05-01.txt \\\n      --public-key audit-key.vkey",
       AuditConsistency,
       false},
  };
  for (Command& command : table) commands->push_back(std::move(command));
}

}  // namespace samplan::client::ctl
