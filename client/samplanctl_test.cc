// samplanctl without a server: the command table, help texts, usage errors
// and the offline `audit verify --export`. Calls against a real server are
// the integration and end-to-end tests' business.

#include "client/samplanctl.h"

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "audit/leaf.h"
#include "audit/merkle.h"
#include "audit/note.h"
#include "client/cli.h"
#include "common/test_dir.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "samplan/v1/audit.pb.h"
#include "samplan/v1/common.pb.h"

namespace samplan::client::ctl {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

Result RunCtl(const std::vector<std::string>& args) {
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  Result result;
  result.code = Run(args);
  result.out = ::testing::internal::GetCapturedStdout();
  result.err = ::testing::internal::GetCapturedStderr();
  return result;
}

std::string TempPath(absl::string_view name) {
  return (ProcessTempDir() / absl::StrCat("samplanctl-test-", name)).string();
}

void WriteFile(const std::string& path, absl::string_view contents) {
  std::ofstream out(path, std::ios::out | std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  ASSERT_TRUE(out.good()) << path;
}

// --- The command table and help ---

TEST(SamplanctlHelpTest, TopHelpListsEveryGroupAndExitStatus5) {
  const Result r = RunCtl({"--help"});
  EXPECT_EQ(r.code, cli::kExitOk);
  EXPECT_THAT(
      r.out,
      AllOf(HasSubstr("  plan create"), HasSubstr("access check"),
            HasSubstr("  audit verify"), HasSubstr("  audit consistency"),
            HasSubstr("  admin agency create"),
            HasSubstr("  admin grant expiring"),
            HasSubstr("  5  audit verification failed")));
}

TEST(SamplanctlHelpTest, EveryCommandHasItsOwnHelp) {
  for (const Command& command : Commands()) {
    const std::string path = absl::StrCat(command.group, " ", command.verb);
    std::vector<std::string> args = absl::StrSplit(path, ' ');
    args.push_back("--help");
    const Result r = RunCtl(args);
    EXPECT_EQ(r.code, cli::kExitOk) << path << "\n" << r.err;
    EXPECT_THAT(r.out, HasSubstr(absl::StrCat("samplanctl ", path, ": ",
                                              command.summary)))
        << path;
    EXPECT_THAT(r.out, HasSubstr("Example:")) << path;
  }
}

TEST(SamplanctlHelpTest, ExistingGroupsListTheirCommandsAsBefore) {
  const Result r = RunCtl({"plan", "--help"});
  EXPECT_EQ(r.code, cli::kExitOk);
  EXPECT_THAT(r.out,
              AllOf(HasSubstr("Usage: samplanctl [global flags] plan COMMAND "
                              "[flags]"),
                    HasSubstr("\n  create    create a draft plan (SIP) about "
                              "a child\n"),
                    HasSubstr("\n  reviews   list coming follow-up")));

  const Result bad = RunCtl({"plan", "bogus"});
  EXPECT_EQ(bad.code, cli::kExitUsage);
  EXPECT_THAT(bad.err,
              HasSubstr("samplanctl plan: unknown command 'bogus'; give "
                        "create, get, render, list, search, update, approve, "
                        "close, reviews"));
}

TEST(SamplanctlHelpTest, AdminHelpListsBothLevels) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"admin", "--help"},
        std::vector<std::string>{"help", "admin"}}) {
    const Result r = RunCtl(args);
    EXPECT_EQ(r.code, cli::kExitOk);
    EXPECT_THAT(
        r.out,
        AllOf(HasSubstr("samplanctl [global flags] admin COMMAND"),
              HasSubstr("  agency create "), HasSubstr("  agency get "),
              HasSubstr("  agency list "), HasSubstr("  agency disable "),
              HasSubstr("  grant revoke "), HasSubstr("  grant void "),
              HasSubstr("  grant expire "), HasSubstr("  grant expiring ")));
  }
  const Result agency = RunCtl({"admin", "agency", "--help"});
  EXPECT_EQ(agency.code, cli::kExitOk);
  EXPECT_THAT(agency.out, AllOf(HasSubstr("admin agency COMMAND"),
                                HasSubstr("\n  create    register an agency"),
                                Not(HasSubstr("revoke"))));
}

TEST(SamplanctlHelpTest, AdminWithoutOrWithAnUnknownCommandIsAUsageError) {
  Result r = RunCtl({"admin"});
  EXPECT_EQ(r.code, cli::kExitUsage);
  EXPECT_THAT(r.err, AllOf(HasSubstr("samplanctl admin: give a command: "
                                     "agency create, agency get"),
                           HasSubstr("Try 'samplanctl admin --help'.")));

  r = RunCtl({"admin", "bogus"});
  EXPECT_EQ(r.code, cli::kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("samplanctl admin: unknown command 'bogus'"));

  r = RunCtl({"admin", "agency", "bogus"});
  EXPECT_EQ(r.code, cli::kExitUsage);
  EXPECT_THAT(r.err,
              HasSubstr("samplanctl admin agency: unknown command 'bogus'; "
                        "give create, get, list, disable"));

  r = RunCtl({"admin", "agency", "get", "bup-1"});
  EXPECT_EQ(r.code, cli::kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("unexpected argument 'bup-1'"));

  r = RunCtl({"bogus"});
  EXPECT_EQ(r.code, cli::kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("unknown command 'bogus'"));
}

TEST(SamplanctlHelpTest, AuditSearchHelpNamesEveryAction) {
  const Result r = RunCtl({"audit", "search", "--help"});
  ASSERT_EQ(r.code, cli::kExitOk);
  EXPECT_THAT(r.out, AllOf(HasSubstr("--caller-agency ID"),
                           HasSubstr("--caller-actor ID")));
  const google::protobuf::EnumDescriptor* actions =
      google::protobuf::GetEnumDescriptor<v1::AuditAction>();
  for (int i = 0; i < actions->value_count(); ++i) {
    const int number = actions->value(i)->number();
    if (number == 0) continue;
    EXPECT_THAT(
        r.out, HasSubstr(cli::EnumLabel(static_cast<v1::AuditAction>(number))));
  }
}

TEST(SamplanctlParseTest, ActionsByShortOrFullName) {
  EXPECT_EQ(*cli::ParseEnum<v1::AuditAction>("--action", "plan-read"),
            v1::AUDIT_ACTION_PLAN_READ);
  EXPECT_EQ(
      *cli::ParseEnum<v1::AuditAction>("--action", "AUDIT_ACTION_PLAN_READ"),
      v1::AUDIT_ACTION_PLAN_READ);
  EXPECT_EQ(*cli::ParseEnum<v1::Decision>("--decision", "deny"),
            v1::DECISION_DENY);
}

// --- Usage errors: exit 2, naming the flag, before any connection ---

struct UsageCase {
  std::vector<std::string> args;
  std::string message;
};

TEST(SamplanctlUsageTest, BadFlagsNameTheFlagAndExit2) {
  const std::vector<UsageCase> cases = {
      {{"audit", "verify", "--export", "x.jsonl"}, "--public-key is required"},
      {{"audit", "verify", "--public-key", ""}, "--public-key: give a file"},
      {{"audit", "verify", "--public-key", "k", "--checkpoint", "c"},
       "--checkpoint goes with --export"},
      {{"audit", "search", "--action", "bogus"},
       "--action: unknown value 'bogus'; give plan-read, entry-read"},
      {{"audit", "search", "--decision", "maybe"},
       "--decision: unknown value 'maybe'; give allow or deny"},
      {{"audit", "search", "--since", "yesterday"}, "--since: 'yesterday'"},
      {{"audit", "search", "--since", "2026-06-02T00:00:00Z", "--until",
        "2026-06-01T00:00:00Z"},
       "--until: must be after --since"},
      {{"audit", "search", "--caller-actor", "anna lind"},
       "--caller-actor: 'anna lind' is not 1-64 characters of A-Z a-z 0-9 . _ "
       "@ -"},
      {{"audit", "search", "--caller-agency", "a/b"},
       "--caller-agency: 'a/b' is not an agency id; give e.g. bup-1 or "
       "agencies/bup-1"},
      {{"audit", "search", "--page-size", "5000"},
       "--page-size: 5000 is out of range; give 0-1000"},
      {{"audit", "search", "--staff-actor", "x"}, "unknown flag --staff-actor"},
      {{"audit", "extract"}, "--subject is required"},
      {{"audit", "export"}, "--out is required"},
      {{"audit", "export", "--out", "-"}, "--checkpoint-out FILE is required"},
      {{"audit", "export", "--out", "a", "--checkpoint-out", "a"},
       "--checkpoint-out: give another file"},
      {{"receipt", "verify", "--public-key", "k"}, "--file is required"},
      {{"receipt", "verify", "a.json", "b.json", "--public-key", "k"},
       "unexpected argument 'a.json'; values are given with flags"},
      {{"receipt", "verify", "a.json", "--file", "b.json", "--public-key", "k"},
       "unexpected argument 'a.json'"},
      {{"receipt", "render", "--grant", "g1", "--format", "docx"},
       "--format: unknown value 'docx'; give html or pdf"},
      {{"grant", "withdraw", "--grant", "g1", "--withdrawer", "20160510-2381",
        "--withdrawer-role", "guardian", "--evidence", "signed-form",
        "--receipt-out", ""},
       "--receipt-out: give a file"},
      {{"grant", "withdraw", "--grant", "g1", "--withdrawer", "20160510-2381",
        "--withdrawer-role", "guardian", "--evidence", "signed-form",
        "--receipt-out", "/no-such-directory/r.json"},
       "--receipt-out: the directory /no-such-directory does not exist"},
      {{"audit", "prove"}, "--leaf-index is required"},
      {{"audit", "prove", "--leaf-index", "-1"},
       "--leaf-index: -1 is out of range; give 0-9223372036854775807"},
      {{"audit", "prove", "--leaf-index", "x"}, "--leaf-index: 'x'"},
      {{"audit", "consistency", "--public-key", "k"},
       "--saved-checkpoint is required"},
      {{"admin", "agency", "create", "--id", "bup-2", "--display-name", "BUP",
        "--role", "agency-system"},
       "--sector is required with --role agency-system"},
      {{"admin", "agency", "create", "--id", "bup-2", "--display-name", "BUP",
        "--role", "king"},
       "--role: unknown value 'king'; give agency-system, auditor or "
       "administrator"},
      {{"admin", "agency", "list", "--state", "gone"},
       "--state: unknown value 'gone'; give active or disabled"},
      {{"admin", "agency", "disable", "--id", "bup-2"}, "--reason is required"},
      {{"admin", "grant", "revoke", "--grant", "g1", "--reason", "r",
        "--evidence", "napkin"},
       "--evidence: unknown value 'napkin'; give signed-form, e-signature, "
       "recorded-at-meeting, register-extract or court-decision"},
      {{"admin", "grant", "void", "--grant", "x/y", "--reason", "r"},
       "--grant: 'x/y' is not a name in grants; give the id or grants/ID"},
      {{"admin", "grant", "expiring", "--within-days", "0"},
       "--within-days: 0 is out of range; give 1-366"},
      {{"admin", "grant", "expiring"}, "--within-days is required"},
  };
  for (const UsageCase& c : cases) {
    const Result r = RunCtl(c.args);
    const std::string command = absl::StrCat(c.args[0], " ", c.args[1]);
    EXPECT_EQ(r.code, cli::kExitUsage) << command << "\n" << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.message)) << command;
    EXPECT_THAT(r.err, HasSubstr("--help'.")) << command;
    EXPECT_EQ(r.out, "") << command;
  }
}

// --- audit verify --export: offline ---

TEST(SamplanctlVerifyTest, OfflineNeedsNoServerAndNamesTheMissingFile) {
  // No --actor, --pki or --cert: opening a connection would be a usage error
  // (exit 2); a missing file is a failure (exit 1).
  const std::string missing = TempPath("missing.jsonl");
  const Result r = RunCtl({"audit", "verify", "--public-key",
                           TempPath("missing.vkey"), "--export", missing});
  EXPECT_EQ(r.code, cli::kExitFailure) << r.err;
  EXPECT_THAT(r.err, HasSubstr(missing + ".checkpoint"));
}

// A file name the server chose is used only when it stays in the current
// directory.
TEST(SamplanctlFilesTest, ServerChosenNamesStayHere) {
  EXPECT_EQ(SafeFileName("sip-k3x9-v2.html", "d"), "sip-k3x9-v2.html");
  EXPECT_EQ(SafeFileName("receipt-g1-11.json", "d"), "receipt-g1-11.json");
  for (const char* bad :
       {"../x.html", "/etc/passwd", ".bashrc", "a/b", "", "a b", "x\n"}) {
    EXPECT_EQ(SafeFileName(bad, "d"), "d") << bad;
  }
  EXPECT_EQ(SafeFileName(std::string(201, 'a'), "d"), "d");
}

// The receipt to check may be given alone after the command, as the file
// it is; the help shows it so.
TEST(SamplanctlVerifyTest, AReceiptFileMayBeGivenAlone) {
  const std::string missing = TempPath("missing-receipt.json");
  const Result r = RunCtl(
      {"receipt", "verify", missing, "--public-key", TempPath("missing.vkey")});
  EXPECT_EQ(r.code, cli::kExitFailure) << r.err;
  EXPECT_THAT(r.err, HasSubstr(absl::StrCat("--file: ")));
  EXPECT_THAT(r.err, HasSubstr(missing));
  const Result help = RunCtl({"receipt", "verify", "--help"});
  EXPECT_THAT(help.out,
              HasSubstr("samplanctl [global flags] receipt verify FILE "
                        "--public-key FILE"));
}

class SamplanctlVerifyExportTest : public ::testing::Test {
 protected:
  static constexpr char kOrigin[] = "test.samplan.se/audit";

  void SetUp() override {
    absl::StatusOr<std::string> pem = audit::GenerateSigningKeyPem();
    ASSERT_TRUE(pem.ok()) << pem.status();
    absl::StatusOr<std::unique_ptr<audit::NoteSigner>> signer =
        audit::NoteSigner::FromPrivateKeyPem(*pem, kOrigin);
    ASSERT_TRUE(signer.ok()) << signer.status();
    signer_ = *std::move(signer);

    audit::CompactRange range;
    google::protobuf::util::JsonPrintOptions options;
    options.always_print_primitive_fields = true;
    for (int i = 0; i < 5; ++i) {
      v1::AuditEvent event;
      event.set_leaf_index(i);
      event.mutable_time()->set_seconds(1780000000 + i);
      event.mutable_time()->set_nanos(123000);
      event.set_agency("agencies/school-1");
      event.set_actor("anna.lind");
      event.set_action(v1::AUDIT_ACTION_PLAN_READ);
      event.set_subject("201605102381");
      event.set_resource("plans/p1");
      event.set_decision(v1::DECISION_ALLOW);
      event.add_reasons(v1::DECISION_REASON_OWN_AGENCY);
      event.set_request_id(absl::StrCat("req-", i));
      // The log spans an upgrade: events 3 and 4 are of leaf format 2, one
      // record per plan read with its entries' decisions inside.
      if (i >= 3) {
        event.set_leaf_format(2);
        v1::EntryDecision* d = event.add_entry_decisions();
        d->set_entry("plans/p1/entries/e1");
        d->set_owner_agency("agencies/bup-1");
        d->set_category(v1::INFORMATION_CATEGORY_HEALTH);
        d->set_decision(v1::DECISION_DENY);
        d->set_reason(v1::DECISION_REASON_NO_CONSENT);
      }
      const audit::Hash hash = audit::EventLeafHash(event);
      event.set_leaf_hash(audit::ToBytes(hash));
      range.Append(hash);
      std::string json;
      ASSERT_TRUE(
          google::protobuf::util::MessageToJsonString(event, &json, options)
              .ok());
      absl::StrAppend(&lines_, json, "\n");
    }
    audit::CheckpointBody body;
    body.origin = kOrigin;
    body.tree_size = 5;
    body.root = range.Root();
    absl::StatusOr<std::string> note =
        signer_->Sign(audit::FormatCheckpointBody(body));
    ASSERT_TRUE(note.ok()) << note.status();
    note_ = *std::move(note);
  }

  // Writes the export, its checkpoint and the verifier key under `name`;
  // returns the export's path.
  std::string Write(absl::string_view name, absl::string_view lines) {
    const std::string path = TempPath(absl::StrCat(name, ".jsonl"));
    WriteFile(path, lines);
    WriteFile(path + ".checkpoint", note_);
    WriteFile(TempPath(absl::StrCat(name, ".vkey")),
              absl::StrCat(signer_->VerifierKey(), "\n"));
    WriteFile(TempPath(absl::StrCat(name, ".pub.pem")),
              signer_->PublicKeyPem());
    return path;
  }

  std::unique_ptr<audit::NoteSigner> signer_;
  std::string lines_;
  std::string note_;
};

TEST_F(SamplanctlVerifyExportTest, VerifiesAnIntactExport) {
  const std::string path = Write("intact", lines_);
  Result r = RunCtl({"audit", "verify", "--public-key", TempPath("intact.vkey"),
                     "--export", path});
  EXPECT_EQ(r.code, cli::kExitOk) << r.out << r.err;
  EXPECT_THAT(r.out, AllOf(HasSubstr("verified: 5 events, root "),
                           HasSubstr("checkpoint tree size 5 signed by "
                                     "test.samplan.se/audit")));

  // A PEM public key takes its name from the checkpoint's origin.
  r = RunCtl({"audit", "verify", "--public-key", TempPath("intact.pub.pem"),
              "--export", path});
  EXPECT_EQ(r.code, cli::kExitOk) << r.out << r.err;

  // The checkpoint itself as the saved checkpoint: consistent.
  r = RunCtl({"audit", "verify", "--public-key", TempPath("intact.vkey"),
              "--export", path, "--saved-checkpoint", path + ".checkpoint"});
  EXPECT_EQ(r.code, cli::kExitOk) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("consistent with saved checkpoint of size 5"));

  r = RunCtl({"audit", "verify", "--json", "--public-key",
              TempPath("intact.vkey"), "--export", path});
  EXPECT_EQ(r.code, cli::kExitOk) << r.out << r.err;
  EXPECT_THAT(r.out, AllOf(HasSubstr("\"verified\": true"),
                           HasSubstr("\"treeSize\": 5")));
}

TEST_F(SamplanctlVerifyExportTest, AnAlteredEventFailsWithExit5) {
  const std::string tampered = absl::StrReplaceAll(
      lines_, {{"\"requestId\":\"req-2\"", "\"requestId\":\"req-X\""}});
  ASSERT_NE(tampered, lines_);
  const std::string path = Write("tampered", tampered);
  const Result r = RunCtl({"audit", "verify", "--public-key",
                           TempPath("tampered.vkey"), "--export", path});
  EXPECT_EQ(r.code, cli::kExitVerifyFailed) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("verification FAILED: leaf 2 was altered"));
}

TEST_F(SamplanctlVerifyExportTest, AnAlteredEntryDecisionOrFormatFails) {
  // Leaf 3 is of format 2: its entries' decisions are part of its leaf.
  std::string tampered = absl::StrReplaceAll(
      lines_,
      {{"DECISION_REASON_NO_CONSENT", "DECISION_REASON_CONSENT_COVERS"}});
  ASSERT_NE(tampered, lines_);
  std::string path = Write("entry", tampered);
  Result r = RunCtl({"audit", "verify", "--public-key", TempPath("entry.vkey"),
                     "--export", path});
  EXPECT_EQ(r.code, cli::kExitVerifyFailed) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("verification FAILED: leaf 3 was altered"));
  // A format this verifier does not know is refused, not guessed at.
  tampered =
      absl::StrReplaceAll(lines_, {{"\"leafFormat\":2", "\"leafFormat\":3"}});
  ASSERT_NE(tampered, lines_);
  path = Write("format", tampered);
  r = RunCtl({"audit", "verify", "--public-key", TempPath("format.vkey"),
              "--export", path});
  EXPECT_EQ(r.code, cli::kExitVerifyFailed) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("leaf 3 has leaf format 3"));
}

TEST_F(SamplanctlVerifyExportTest, AnotherKeyFailsWithExit5) {
  const std::string path = Write("otherkey", lines_);
  absl::StatusOr<std::string> pem = audit::GenerateSigningKeyPem();
  ASSERT_TRUE(pem.ok());
  absl::StatusOr<std::unique_ptr<audit::NoteSigner>> other =
      audit::NoteSigner::FromPrivateKeyPem(*pem, kOrigin);
  ASSERT_TRUE(other.ok());
  WriteFile(TempPath("otherkey.vkey"),
            absl::StrCat((*other)->VerifierKey(), "\n"));
  const Result r = RunCtl({"audit", "verify", "--public-key",
                           TempPath("otherkey.vkey"), "--export", path});
  EXPECT_EQ(r.code, cli::kExitVerifyFailed) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("verification FAILED: "));
}

}  // namespace
}  // namespace samplan::client::ctl
