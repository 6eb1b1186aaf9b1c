// Receipts the family already holds must verify with every later version:
// the files in audit/testdata were issued by the quickstart demo (fictional
// identity numbers; the last one by GetGrantReceipt against the demo's
// database afterwards) and are kept as they were written. If this test fails,
// a change broke receipts people keep (the JSON names, the deterministic
// encoding the signature covers, the leaf hash or the proof); such a change
// needs a new schema version, not new golden files.

#include "audit/receipt.h"

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "audit/note.h"
#include "common/status_matchers.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "samplan/v1/consent.pb.h"

namespace samplan::audit {
namespace {

std::string Testdata(const std::string& name) {
  std::ifstream in(absl::StrCat(SAMPLAN_SOURCE_DIR, "/audit/testdata/", name),
                   std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

v1::SignedConsentReceipt Parse(const std::string& json) {
  v1::SignedConsentReceipt out;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &out).ok());
  return out;
}

TEST(ReceiptGoldenTest, ReceiptsIssuedByVersionOneStillVerify) {
  const std::string vkey(
      absl::StripTrailingAsciiWhitespace(Testdata("receipt_v1.vkey")));
  absl::StatusOr<NoteVerifier> verifier = NoteVerifier::FromVerifierKey(vkey);
  ASSERT_THAT(verifier, IsOk());
  struct Case {
    const char* file;
    v1::ReceiptEvent event;
    int64_t leaf;
    int64_t tree_size;
  };
  for (const Case& c :
       {Case{"receipt_given_v1.json", v1::RECEIPT_EVENT_GIVEN, 11, 12},
        Case{"receipt_withdrawn_v1.json", v1::RECEIPT_EVENT_WITHDRAWN, 22, 23},
        // The same giving, issued again by GetGrantReceipt after the
        // withdrawal: its proof is to a larger tree.
        Case{"receipt_given_later_v1.json", v1::RECEIPT_EVENT_GIVEN, 11, 37}}) {
    SCOPED_TRACE(c.file);
    const std::string json = Testdata(c.file);
    ASSERT_FALSE(json.empty());
    const v1::SignedConsentReceipt receipt = Parse(json);
    EXPECT_EQ(receipt.receipt().schema_version(), kReceiptSchema);
    EXPECT_EQ(receipt.receipt().event(), c.event);
    absl::StatusOr<VerifiedReceipt> verified =
        VerifyReceipt(receipt, *verifier);
    ASSERT_THAT(verified, IsOk());
    EXPECT_EQ(verified->leaf_index, c.leaf);
    EXPECT_EQ(verified->checkpoint.tree_size, c.tree_size);
    EXPECT_EQ(verified->checkpoint.origin, "samplan.localhost/audit");
  }
  // And the two are different receipts: one cannot stand in for the other.
  v1::SignedConsentReceipt swapped = Parse(Testdata("receipt_given_v1.json"));
  swapped.set_signature(
      Parse(Testdata("receipt_withdrawn_v1.json")).signature());
  EXPECT_THAT(VerifyReceipt(swapped, *verifier),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

}  // namespace
}  // namespace samplan::audit
