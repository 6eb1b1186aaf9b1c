#include "audit/export_line.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "audit/leaf.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "samplan/v1/audit.pb.h"
#include "samplan/v1/common.pb.h"

namespace samplan::audit {
namespace {

using ::google::protobuf::util::MessageDifferencer;

std::string Print(const v1::AuditEvent& e) {
  std::string line;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(e, &line).ok());
  return line;
}

// What protobuf's strict JSON parser makes of `line`; false if it rejects.
bool ProtobufParse(const std::string& line, v1::AuditEvent* out) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  out->Clear();
  return google::protobuf::util::JsonStringToMessage(line, out, options).ok();
}

// Events of every shape the server writes, and a few it does not.
std::vector<v1::AuditEvent> Events() {
  std::vector<v1::AuditEvent> out;
  v1::AuditEvent read;
  read.set_leaf_index(14);
  read.mutable_time()->set_seconds(1796306354);
  read.mutable_time()->set_nanos(642575000);
  read.set_agency("agencies/school-1");
  read.set_actor("anna.lind");
  read.set_certificate(std::string(64, 'f'));
  read.set_action(v1::AUDIT_ACTION_PLAN_READ);
  read.set_subject("201605102381");
  read.set_resource("plans/9r986fau3kux924di2wj");
  read.set_decision(v1::DECISION_ALLOW);
  read.add_reasons(v1::DECISION_REASON_LEAD_AGENCY);
  read.set_detail("latest view, revision 3");
  read.set_leaf_format(kCurrentLeafFormat);
  for (int i = 0; i < 3; ++i) {
    v1::EntryDecision* d = read.add_entry_decisions();
    d->set_entry(absl::StrCat("plans/9r986fau3kux924di2wj/entries/e", i));
    d->set_owner_agency("agencies/bup-1");
    d->set_category(v1::INFORMATION_CATEGORY_HEALTH);
    d->set_decision(i == 1 ? v1::DECISION_DENY : v1::DECISION_ALLOW);
    d->set_reason(i == 1 ? v1::DECISION_REASON_CATEGORY_OUT_OF_SCOPE
                         : v1::DECISION_REASON_CONSENT_COVERS);
    if (i != 1) {
      d->add_grants("grants/a");
      d->add_grants("grants/b");
    }
  }
  const Hash read_hash = EventLeafHash(read);
  read.set_leaf_hash(std::string(read_hash.begin(), read_hash.end()));
  out.push_back(read);

  v1::AuditEvent grant;
  grant.set_leaf_index(0);  // printed as nothing
  grant.mutable_time()->set_seconds(0);
  grant.set_agency("agencies/soc-1");
  grant.set_action(v1::AUDIT_ACTION_GRANT_RECORDED);
  grant.add_reasons(v1::DECISION_REASON_RECORDING_AGENCY);
  grant.add_grants("grants/x");
  grant.set_request_id("req-1");
  // Non-ASCII text, as a withdrawal reason may hold.
  grant.set_detail("återkallat av vårdnadshavare \xF0\x9F\x93\x9D");
  grant.set_leaf_hash(std::string(32, '\xff'));
  out.push_back(grant);

  for (int nanos : {0, 1000000, 1000, 1}) {  // 0, 3, 6 and 9 digits
    v1::AuditEvent e;
    e.set_leaf_index(int64_t{1} << 40);
    e.mutable_time()->set_seconds(253402300799);  // 9999-12-31T23:59:59
    e.mutable_time()->set_nanos(nanos);
    e.set_action(v1::AUDIT_ACTION_GRANT_EXPIRED);
    out.push_back(e);
  }
  v1::AuditEvent quoted;  // escapes: protobuf's parser takes these
  quoted.set_detail("a \"quoted\" reason\\ with\ta tab");
  out.push_back(quoted);
  v1::AuditEvent unknown_enum;  // printed as a number
  unknown_enum.set_action(static_cast<v1::AuditAction>(999));
  out.push_back(unknown_enum);
  out.push_back(v1::AuditEvent());
  return out;
}

TEST(ExportLineTest, PrintedEventsParseAsProtobufParsesThem) {
  int fast = 0;
  for (const v1::AuditEvent& e : Events()) {
    const std::string line = Print(e);
    v1::AuditEvent mine;
    v1::AuditEvent theirs;
    ASSERT_TRUE(ProtobufParse(line, &theirs)) << line;
    if (ParseExportLine(line, &mine)) {
      ++fast;
      EXPECT_TRUE(MessageDifferencer::Equals(mine, theirs)) << line;
      EXPECT_TRUE(MessageDifferencer::Equals(mine, e)) << line;
    }
  }
  // All but the line with escapes and the enum printed as a number.
  EXPECT_EQ(fast, static_cast<int>(Events().size()) - 2);
}

// Every one-byte change, insertion and deletion of printed lines: what this
// parser accepts, protobuf's parser accepts too, with the same message.
TEST(ExportLineTest,
     NoChangedLineIsAcceptedThatProtobufRejectsOrReadsOtherwise) {
  const std::string bytes = std::string("\"\\,:{}[]09aAZT.-+ \t") +
                            std::string("\x01\x7f\xc3\xa5\xff", 5);
  int accepted = 0;
  int checked = 0;
  auto check = [&](const std::string& line) {
    ++checked;
    v1::AuditEvent mine;
    if (!ParseExportLine(line, &mine)) return;
    ++accepted;
    v1::AuditEvent theirs;
    ASSERT_TRUE(ProtobufParse(line, &theirs)) << "accepted: " << line;
    ASSERT_TRUE(MessageDifferencer::Equals(mine, theirs)) << line;
  };
  for (const v1::AuditEvent& e : Events()) {
    const std::string line = Print(e);
    for (size_t i = 0; i < line.size(); ++i) {
      for (char b : bytes) {
        std::string changed = line;
        changed[i] = b;
        check(changed);
        check(line.substr(0, i) + b + line.substr(i));
      }
      check(line.substr(0, i) + line.substr(i + 1));
    }
  }
  // The changes inside strings and digits still parse: the check bit.
  EXPECT_GT(accepted, 1000);
  EXPECT_GT(checked, accepted);
}

TEST(ExportLineTest, RefusesWhatThePrinterNeverWrites) {
  const std::string line = Print(Events()[0]);
  const std::vector<std::string> refused = {
      "",
      " " + line,
      line + " ",
      line + "\n",
      absl::StrReplaceAll(line, {{"\"leafIndex\"", "\"leaf_index\""}}),
      absl::StrReplaceAll(line, {{"\"leafIndex\":\"14\"", "\"leafIndex\":14"}}),
      absl::StrReplaceAll(line,
                          {{"\"leafIndex\":\"14\"", "\"leafIndex\":\"014\""}}),
      absl::StrReplaceAll(line, {{"\"AUDIT_ACTION_PLAN_READ\"", "6"}}),
      absl::StrReplaceAll(line, {{"\":", "\" :"}}),
      absl::StrReplaceAll(line, {{"anna.lind", "anna\\u002elind"}}),
      absl::StrReplaceAll(line, {{"anna.lind", "anna\xc3lind"}}),
      absl::StrReplaceAll(line, {{"2026-12-03", "2026-02-30"}}),
      absl::StrReplaceAll(line, {{".642575Z", ".642575+00:00"}}),
      absl::StrReplaceAll(line, {{".642575Z", ".6425Z"}}),
      // Members out of order, and twice.
      absl::StrReplaceAll(line, {{"\"actor\":\"anna.lind\",", ""},
                                 {"\"leafFormat\":2",
                                  "\"leafFormat\":2,\"actor\":\"anna.lind\""}}),
      absl::StrReplaceAll(
          line, {{"\"leafFormat\":2", "\"leafFormat\":2,\"leafFormat\":2"}}),
      absl::StrReplaceAll(line,
                          {{"\"agency\":", "\"agency\":null,\"agency\":"}}),
  };
  for (const std::string& r : refused) {
    v1::AuditEvent e;
    EXPECT_FALSE(ParseExportLine(r, &e)) << r;
  }
  // The hash in URL-safe or unpadded base64, which protobuf accepts but
  // the printer never writes.
  v1::AuditEvent e = Events()[1];
  const std::string printed = Print(e);
  ASSERT_NE(printed.find("//////"), std::string::npos);
  v1::AuditEvent out;
  EXPECT_FALSE(ParseExportLine(
      absl::StrReplaceAll(printed, {{"//////", "______"}}), &out));
  EXPECT_FALSE(
      ParseExportLine(absl::StrReplaceAll(printed, {{"=\"", "\""}}), &out));
}

}  // namespace
}  // namespace samplan::audit
