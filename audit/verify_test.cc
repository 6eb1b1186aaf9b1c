#include "audit/verify.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "audit/leaf.h"
#include "audit/merkle.h"
#include "audit/note.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "samplan/v1/audit.pb.h"
#include "samplan/v1/common.pb.h"

namespace samplan::audit {
namespace {

using ::testing::HasSubstr;

constexpr char kOrigin[] = "samplan.example/audit";
constexpr int kEvents = 25;

// Event i of a test log; `fork` changes event 3 (another history).
v1::AuditEvent MakeEvent(int i, bool fork = false) {
  v1::AuditEvent e;
  e.set_leaf_index(i);
  // Whole microseconds, as the server stores them.
  e.mutable_time()->set_seconds(1718000000 + 37 * i);
  e.mutable_time()->set_nanos((i % 3 == 0) ? 0 : 1000 * (123456 + 7 * i));
  if (i % 5 != 4) {  // some events are the server's own
    e.set_agency(absl::StrCat("agencies/a", i % 3));
    e.set_actor(i % 2 == 0 ? "anna.lind" : "bo");
    e.set_certificate(std::string(64, "0123456789abcdef"[i % 16]));
    e.set_request_id(absl::StrCat("r", i));
  }
  e.set_action(static_cast<v1::AuditAction>(1 + i % 25));
  if (i % 4 != 1) e.set_subject("201001012386");
  e.set_resource(absl::StrCat("plans/p", i / 3, "/entries/e", i));
  e.set_decision(static_cast<v1::Decision>(i % 3));
  for (int r = 0; r < i % 3; ++r) {
    e.add_reasons(static_cast<v1::DecisionReason>(1 + (i + r) % 13));
  }
  if (i % 3 == 1) e.add_grants(absl::StrCat("grants/g", i));
  if (i % 6 == 2) e.add_grants("grants/second");
  if (i % 7 == 3) e.set_detail("withheld: \"health\" <Bj\xC3\xB6rk>\\\n");
  if (fork && i == 3) e.set_detail("a different story");
  e.set_leaf_hash(ToBytes(EventLeafHash(e)));
  return e;
}

std::vector<v1::AuditEvent> MakeEvents(int n, bool fork = false) {
  std::vector<v1::AuditEvent> events;
  for (int i = 0; i < n; ++i) events.push_back(MakeEvent(i, fork));
  return events;
}

std::string JsonLine(const v1::AuditEvent& e) {
  std::string json;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(e, &json).ok());
  return json + "\n";
}

std::vector<std::string> Lines(const std::vector<v1::AuditEvent>& events) {
  std::vector<std::string> lines;
  for (const v1::AuditEvent& e : events) lines.push_back(JsonLine(e));
  return lines;
}

Hash RootOf(const std::vector<v1::AuditEvent>& events, int64_t size) {
  CompactRange range;
  for (int64_t i = 0; i < size; ++i) {
    range.Append(EventLeafHash(events[static_cast<size_t>(i)]));
  }
  return range.Root();
}

class VerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    signer_ = NewSigner();
    ASSERT_NE(signer_, nullptr);
    absl::StatusOr<NoteVerifier> v =
        NoteVerifier::FromVerifierKey(signer_->VerifierKey());
    ASSERT_THAT(v, IsOk());
    verifier_ = std::make_unique<NoteVerifier>(*std::move(v));
    events_ = MakeEvents(kEvents);
    lines_ = Lines(events_);
    export_ = absl::StrJoin(lines_, "");
    checkpoint_ = Checkpoint(events_, kEvents);
  }

  static std::unique_ptr<NoteSigner> NewSigner(
      absl::string_view name = kOrigin) {
    absl::StatusOr<std::string> pem = GenerateSigningKeyPem();
    EXPECT_THAT(pem, IsOk());
    absl::StatusOr<std::unique_ptr<NoteSigner>> signer =
        NoteSigner::FromPrivateKeyPem(*pem, name);
    EXPECT_THAT(signer, IsOk());
    return signer.ok() ? *std::move(signer) : nullptr;
  }

  std::string Checkpoint(const std::vector<v1::AuditEvent>& events,
                         int64_t size, const NoteSigner* signer = nullptr,
                         absl::string_view origin = kOrigin) {
    if (signer == nullptr) signer = signer_.get();
    absl::StatusOr<std::string> note = signer->Sign(FormatCheckpointBody(
        {std::string(origin), size, RootOf(events, size)}));
    EXPECT_THAT(note, IsOk());
    return note.ok() ? *note : "";
  }

  VerifyResult Verify(const std::string& text, absl::string_view checkpoint,
                      absl::string_view saved = "") {
    std::istringstream in(text);
    return VerifyExport(in, checkpoint, *verifier_, saved);
  }
  VerifyResult Verify(const std::string& text) {
    return Verify(text, checkpoint_);
  }

  std::unique_ptr<NoteSigner> signer_;
  std::unique_ptr<NoteVerifier> verifier_;
  std::vector<v1::AuditEvent> events_;
  std::vector<std::string> lines_;
  std::string export_;
  std::string checkpoint_;
};

TEST_F(VerifyTest, IntactExportVerifies) {
  const VerifyResult r = Verify(export_);
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.failed_index, -1);
  EXPECT_EQ(r.problem, "");
  EXPECT_EQ(r.events, kEvents);
  EXPECT_EQ(r.checkpoint.origin, kOrigin);
  EXPECT_EQ(r.checkpoint.tree_size, kEvents);
  EXPECT_EQ(r.root, RootOf(events_, kEvents));
  EXPECT_EQ(r.root, r.checkpoint.root);
  // The exporter's format: leaf 0 has no leafIndex (proto3 omits zeros).
  EXPECT_FALSE(absl::StrContains(lines_[0], "leafIndex"));
  EXPECT_TRUE(absl::StrContains(lines_[1], "\"leafIndex\":\"1\""));
}

TEST_F(VerifyTest, FinalNewlineIsOptional) {
  const VerifyResult r = Verify(export_.substr(0, export_.size() - 1));
  EXPECT_TRUE(r.ok) << r.problem;
}

TEST_F(VerifyTest, EmptyLog) {
  const std::string empty_checkpoint = Checkpoint(events_, 0);
  const VerifyResult r = Verify("", empty_checkpoint);
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.events, 0);
  EXPECT_EQ(r.root, EmptyRoot());
  const VerifyResult extra = Verify(lines_[0], empty_checkpoint);
  EXPECT_FALSE(extra.ok);
  EXPECT_EQ(extra.failed_index, 0);
  EXPECT_EQ(extra.problem,
            "leaf 0 is beyond the checkpoint of 0 events (an event was "
            "inserted)");
}

// The core promise: no byte of the export can change unnoticed, and the
// report names the line that changed. Every byte is replaced by two other
// bytes (b ^ 0x01 and 'x'); the verifications run on all cores, the checks
// on this thread.
TEST_F(VerifyTest, EverySingleByteChangeIsFoundInItsLine) {
  struct Change {
    size_t pos;
    char replacement;
    int line;
    bool ends_line;  // the change is to the line's final newline
  };
  std::vector<Change> changes;
  size_t line_start = 0;
  for (int line = 0; line < kEvents; ++line) {
    const size_t line_end =
        line_start + lines_[static_cast<size_t>(line)].size();
    for (size_t pos = line_start; pos < line_end; ++pos) {
      // Every byte changes once: a low-bit flip, or (every other byte) to
      // 'x', which turns digits, base64 and names into other valid text.
      char replacement = static_cast<char>(export_[pos] ^ 0x01);
      if (pos % 2 == 1 && export_[pos] != 'x') replacement = 'x';
      changes.push_back({pos, replacement, line, pos + 1 == line_end});
    }
    line_start = line_end;
  }
  ASSERT_EQ(line_start, export_.size());
  ASSERT_EQ(changes.size(), export_.size());

  std::vector<VerifyResult> results(changes.size());
  std::atomic<size_t> next{0};
  const auto work = [&] {
    for (size_t k = next++; k < changes.size(); k = next++) {
      std::string changed = export_;
      changed[changes[k].pos] = changes[k].replacement;
      std::istringstream in(changed);
      results[k] = VerifyExport(in, checkpoint_, *verifier_);
    }
  };
  const unsigned workers =
      std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
  std::vector<std::thread> threads;
  for (unsigned w = 1; w < workers; ++w) threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();

  int failures = 0;
  for (size_t k = 0; k < changes.size() && failures < 20; ++k) {
    const Change& c = changes[k];
    const VerifyResult& r = results[k];
    const char original = export_[c.pos];
    const std::string what = absl::StrCat(
        "line ", c.line, " byte ", c.pos, " '",
        absl::CEscape(std::string(1, original)), "' -> '",
        absl::CEscape(std::string(1, c.replacement)), "': ", r.problem);
    const bool line_ok =
        c.ends_line ? (r.failed_index == c.line || r.failed_index == c.line + 1)
                    : r.failed_index == c.line;
    const bool named = absl::StrContains(
        r.problem, absl::StrCat("leaf ", r.failed_index, " "));
    if (r.ok || !line_ok || !named) {
      ++failures;
      ADD_FAILURE() << (r.ok ? "not detected: " : "wrong index or text: ")
                    << what;
    }
  }
}

TEST_F(VerifyTest, AlteredContentNamesTheLeaf) {
  std::vector<v1::AuditEvent> events = events_;
  events[9].set_actor("mallory");  // content changed, leafHash kept
  std::vector<std::string> lines = lines_;
  lines[9] = JsonLine(events[9]);
  const VerifyResult r = Verify(absl::StrJoin(lines, ""));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failed_index, 9);
  EXPECT_EQ(r.problem,
            "leaf 9 was altered: its content does not match its leaf hash");
  EXPECT_EQ(r.events, 10);
}

TEST_F(VerifyTest, ALineWithoutLeafHashIsNamed) {
  std::vector<v1::AuditEvent> events = events_;
  std::vector<std::string> lines = lines_;
  events[6].clear_leaf_hash();
  lines[6] = JsonLine(events[6]);
  const VerifyResult r = Verify(absl::StrJoin(lines, ""));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failed_index, 6);
  EXPECT_EQ(r.problem, "leaf 6 has no leafHash");
}

// An event altered with its leafHash recomputed passes the per-line checks;
// only the signed root catches it, and it cannot say which leaf.
TEST_F(VerifyTest, AlteredEventWithRecomputedLeafHashBreaksTheRoot) {
  std::vector<v1::AuditEvent> events = events_;
  std::vector<std::string> lines = lines_;
  events[10].set_resource("plans/other");
  events[10].set_leaf_hash(ToBytes(EventLeafHash(events[10])));
  lines[10] = JsonLine(events[10]);
  const VerifyResult r = Verify(absl::StrJoin(lines, ""));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failed_index, -1);
  EXPECT_EQ(r.problem,
            "the root hash of the 25 events does not match the signed "
            "checkpoint (an event below index 25 differs from the one the "
            "server logged)");
  EXPECT_EQ(r.events, kEvents);
}

TEST_F(VerifyTest, DeletingAnyLineNamesIt) {
  for (int i = 0; i < kEvents; ++i) {
    std::vector<std::string> lines = lines_;
    lines.erase(lines.begin() + i);
    const VerifyResult r = Verify(absl::StrJoin(lines, ""));
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.failed_index, i) << r.problem;
    if (i + 1 < kEvents) {
      EXPECT_EQ(r.problem, absl::StrCat("leaf ", i, " is missing: line ", i + 1,
                                        " holds leaf ", i + 1,
                                        " (an event was removed or moved)"));
    } else {
      EXPECT_EQ(r.problem,
                "leaf 24 is missing: the export ends after 24 events but the "
                "checkpoint covers 25 (the log was truncated)");
    }
  }
}

// Lines are checked in chunks of 4096, on several threads: an export of
// more than two chunks verifies whole, and a line missing at or after a
// chunk's edge, or two lines joined deep in the file, is named as in a
// short one.
TEST_F(VerifyTest, ALongExportIsCheckedAcrossChunks) {
  constexpr int kMany = 9000;
  std::vector<v1::AuditEvent> events;
  for (int i = 0; i < kMany; ++i) {
    v1::AuditEvent e = MakeEvent(i);
    e.set_detail(std::string(100 + i % 251, 'x'));  // lines of uneven length
    e.set_leaf_hash(ToBytes(EventLeafHash(e)));
    events.push_back(std::move(e));
  }
  const std::vector<std::string> lines = Lines(events);
  const std::string text = absl::StrJoin(lines, "");
  ASSERT_GT(text.size(), size_t{2} << 20);
  const std::string checkpoint = Checkpoint(events, kMany);

  VerifyResult r = Verify(text, checkpoint);
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.events, kMany);
  r = Verify(text.substr(0, text.size() - 1), checkpoint);
  EXPECT_TRUE(r.ok) << "without the final newline: " << r.problem;

  for (int missing : {4095, 4096, 8191, kMany - 1}) {
    std::vector<std::string> fewer = lines;
    fewer.erase(fewer.begin() + missing);
    r = Verify(absl::StrJoin(fewer, ""), checkpoint);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.failed_index, missing) << r.problem;
  }
  // A newline removed past the first megabyte joins two lines.
  std::string joined = text;
  const size_t at = joined.rfind('\n', size_t{1} << 20);
  ASSERT_NE(at, std::string::npos);
  joined.erase(at, 1);
  const int64_t line = std::count(text.begin(), text.begin() + at, '\n');
  r = Verify(joined, checkpoint);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failed_index, line) << r.problem;
}

TEST_F(VerifyTest, SwappingLinesNamesTheFirst) {
  for (int i = 0; i < kEvents; ++i) {
    for (int j = i + 1; j < kEvents; ++j) {
      std::vector<std::string> lines = lines_;
      std::swap(lines[static_cast<size_t>(i)], lines[static_cast<size_t>(j)]);
      const VerifyResult r = Verify(absl::StrJoin(lines, ""));
      EXPECT_FALSE(r.ok);
      EXPECT_EQ(r.failed_index, i) << i << " " << j << ": " << r.problem;
      EXPECT_THAT(r.problem, HasSubstr(absl::StrCat("leaf ", i, " ")));
    }
  }
}

TEST_F(VerifyTest, TruncationNamesTheFirstMissingLeaf) {
  for (int n = 0; n < kEvents; ++n) {
    std::vector<std::string> lines(lines_.begin(), lines_.begin() + n);
    const VerifyResult r = Verify(absl::StrJoin(lines, ""));
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.failed_index, n);
    EXPECT_EQ(r.events, n);
    EXPECT_EQ(r.problem,
              absl::StrCat("leaf ", n, " is missing: the export ends after ", n,
                           " events but the checkpoint covers 25 (the log was "
                           "truncated)"));
  }
}

TEST_F(VerifyTest, InsertedDuplicateNamesItsPosition) {
  for (int i = 0; i < kEvents; ++i) {
    for (int at : {i, i + 1}) {  // before or after the original
      std::vector<std::string> lines = lines_;
      lines.insert(lines.begin() + at, lines_[static_cast<size_t>(i)]);
      const VerifyResult r = Verify(absl::StrJoin(lines, ""));
      EXPECT_FALSE(r.ok);
      // Inserted before its original, the copy sits where leaf i belongs,
      // and the original after it is the first line out of place.
      EXPECT_EQ(r.failed_index, i + 1)
          << i << " at " << at << ": " << r.problem;
      EXPECT_EQ(r.problem,
                absl::StrCat("leaf ", i + 1, " is out of place: line ", i + 2,
                             " holds leaf ", i,
                             " (events were reordered or inserted)"));
    }
  }
}

TEST_F(VerifyTest, ExtraEventsBeyondTheCheckpoint) {
  const VerifyResult r = Verify(export_, Checkpoint(events_, 20));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failed_index, 20);
  EXPECT_EQ(r.problem,
            "leaf 20 is beyond the checkpoint of 20 events (an event was "
            "inserted)");
}

TEST_F(VerifyTest, EmptyLines) {
  std::vector<std::string> lines = lines_;
  lines.insert(lines.begin() + 7, "\n");
  VerifyResult r = Verify(absl::StrJoin(lines, ""));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failed_index, 7);
  EXPECT_THAT(r.problem, HasSubstr("leaf 7 (line 8): not a valid audit event"));
  r = Verify(export_ + "\n");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failed_index, kEvents);
}

TEST_F(VerifyTest, LinesMustParseStrictly) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not json\n", "not a valid audit event"},
      {"{\"unknownField\":1}\n", "not a valid audit event"},
      {"{\"leafIndex\":\"5\",\"action\":\"NO_SUCH_ACTION\"}\n",
       "not a valid audit event"},
      {" " + lines_[5], "not a valid audit event"},
      {lines_[5].substr(0, lines_[5].size() - 1) + " \n",
       "not a valid audit event"},
      {lines_[5].substr(0, lines_[5].size() - 1) + "\r\n",
       "not a valid audit event"},
      {"[]\n", "not a valid audit event"},
  };
  for (const auto& [line, want] : cases) {
    std::vector<std::string> lines = lines_;
    lines[5] = line;
    const VerifyResult r = Verify(absl::StrJoin(lines, ""));
    EXPECT_FALSE(r.ok) << line;
    EXPECT_EQ(r.failed_index, 5) << line;
    EXPECT_THAT(r.problem, HasSubstr(absl::StrCat("leaf 5 (line 6): ", want)))
        << line;
  }
}

TEST_F(VerifyTest, NonCanonicalLeafHashIsAnAlteration) {
  // The URL-safe alphabet or missing padding decode to the same bytes.
  std::vector<std::string> lines = lines_;
  const std::string hash = events_[4].leaf_hash();
  const std::string std64 = absl::Base64Escape(hash);
  std::string unpadded = std64;
  unpadded.pop_back();
  for (const std::string& other :
       {absl::WebSafeBase64Escape(hash) + "=", unpadded}) {
    if (other == std64) continue;
    lines[4] = lines_[4];
    const size_t at = lines[4].find(std64);
    ASSERT_NE(at, std::string::npos);
    lines[4].replace(at, std64.size(), other);
    const VerifyResult r = Verify(absl::StrJoin(lines, ""));
    EXPECT_FALSE(r.ok) << other;
    EXPECT_EQ(r.failed_index, 4) << other << ": " << r.problem;
  }
}

TEST_F(VerifyTest, CheckpointByAnotherKeyFails) {
  std::unique_ptr<NoteSigner> other = NewSigner();
  const VerifyResult r =
      Verify(export_, Checkpoint(events_, kEvents, other.get()));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failed_index, -1);
  EXPECT_THAT(r.problem, HasSubstr("checkpoint: "));
  EXPECT_THAT(r.problem, HasSubstr(kOrigin));
  EXPECT_EQ(r.events, 0);
}

TEST_F(VerifyTest, CheckpointOfAnotherOriginFails) {
  const VerifyResult r = Verify(
      export_, Checkpoint(events_, kEvents, nullptr, "other.example/log"));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failed_index, -1);
  EXPECT_THAT(r.problem, HasSubstr("checkpoint: "));
  EXPECT_THAT(r.problem, HasSubstr("origin"));
}

TEST_F(VerifyTest, MalformedCheckpointFails) {
  for (const std::string& note :
       {std::string(""), std::string("garbage"),
        checkpoint_.substr(0, checkpoint_.size() - 1)}) {
    const VerifyResult r = Verify(export_, note);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.failed_index, -1);
    EXPECT_THAT(r.problem, HasSubstr("checkpoint: "));
  }
}

TEST_F(VerifyTest, CheckpointOfAnotherHistoryFails) {
  const std::vector<v1::AuditEvent> forked = MakeEvents(kEvents, true);
  const VerifyResult r = Verify(export_, Checkpoint(forked, kEvents));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failed_index, -1);
  EXPECT_THAT(r.problem, HasSubstr("the root hash of the 25 events does not "
                                   "match the signed checkpoint"));
}

TEST_F(VerifyTest, SavedCheckpointOfAnEarlierSizePasses) {
  for (int64_t size : {0, 1, 3, 4, 10, 16, 24, 25}) {
    const VerifyResult r =
        Verify(export_, checkpoint_, Checkpoint(events_, size));
    EXPECT_TRUE(r.ok) << size << ": " << r.problem;
  }
}

TEST_F(VerifyTest, SavedCheckpointOfAnotherHistoryFails) {
  const std::vector<v1::AuditEvent> forked = MakeEvents(kEvents, true);
  for (int64_t size : {4, 10, 25}) {
    const VerifyResult r =
        Verify(export_, checkpoint_, Checkpoint(forked, size));
    EXPECT_FALSE(r.ok) << size;
    EXPECT_EQ(r.failed_index, -1);
    EXPECT_THAT(r.problem, HasSubstr("saved checkpoint"));
    EXPECT_THAT(r.problem, HasSubstr(absl::StrCat("first ", size, " events")));
  }
  // Before the fork the histories agree.
  EXPECT_TRUE(Verify(export_, checkpoint_, Checkpoint(forked, 3)).ok);
  // An empty tree has one root.
  const std::string bad_empty =
      *signer_->Sign(FormatCheckpointBody({kOrigin, 0, HashLeaf("not empty")}));
  const VerifyResult r = Verify(export_, checkpoint_, bad_empty);
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.problem, HasSubstr("saved checkpoint"));
}

TEST_F(VerifyTest, SavedCheckpointLargerThanTheCheckpointFails) {
  const std::vector<v1::AuditEvent> longer = MakeEvents(kEvents + 5);
  const VerifyResult r =
      Verify(export_, checkpoint_, Checkpoint(longer, kEvents + 5));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failed_index, -1);
  EXPECT_THAT(r.problem, HasSubstr("saved checkpoint"));
  EXPECT_THAT(r.problem, HasSubstr("shrank"));
}

TEST_F(VerifyTest, SavedCheckpointMustBeSignedAndOfTheSameLog) {
  std::unique_ptr<NoteSigner> other = NewSigner();
  VerifyResult r =
      Verify(export_, checkpoint_, Checkpoint(events_, 10, other.get()));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failed_index, -1);
  EXPECT_THAT(r.problem, HasSubstr("saved checkpoint: "));
  r = Verify(export_, checkpoint_,
             Checkpoint(events_, 10, nullptr, "other.example/log"));
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.problem, HasSubstr("saved checkpoint: "));
  EXPECT_THAT(r.problem, HasSubstr("origin"));
}

TEST_F(VerifyTest, LineFailuresComeBeforeTheSavedCheckpoint) {
  // Checks run in order: a bad line is reported even when the saved
  // checkpoint would fail too.
  const std::vector<v1::AuditEvent> forked = MakeEvents(kEvents, true);
  std::vector<std::string> lines = lines_;
  lines.erase(lines.begin() + 20);
  const VerifyResult r =
      Verify(absl::StrJoin(lines, ""), checkpoint_, Checkpoint(forked, 10));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failed_index, 20);
}

}  // namespace
}  // namespace samplan::audit
