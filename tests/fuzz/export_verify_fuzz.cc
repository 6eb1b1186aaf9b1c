// The audit export verifier (what `samplanctl audit verify` runs) over any
// text, against a real signed checkpoint of a six-event log and a saved
// checkpoint of its first three: it never crashes, and it accepts the
// genuine export. Each line is also given to the fast export-line parser,
// which must agree with protobuf's strict JSON parser on every line it
// accepts (audit/export_line.h promises exactly that).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "audit/export_line.h"
#include "audit/leaf.h"
#include "audit/merkle.h"
#include "audit/note.h"
#include "audit/verify.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "samplan/v1/audit.pb.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

namespace audit = samplan::audit;
namespace v1 = samplan::v1;

struct World {
  std::unique_ptr<audit::NoteVerifier> verifier;
  std::string export_text;  // six events, as the server exports them
  std::string note;         // the checkpoint of all six
  std::string saved_note;   // the checkpoint of the first three
};

v1::AuditEvent Event(int i) {
  v1::AuditEvent e;
  e.mutable_time()->set_seconds(1780000000 + i * 61);
  e.mutable_time()->set_nanos(i % 2 == 0 ? 0 : 125000000 * i);
  e.set_agency(i % 2 == 0 ? "agencies/school-1" : "agencies/bup-1");
  e.set_actor(absl::StrCat("staff-", i));
  e.set_certificate(std::string(64, "0123456789abcdef"[i]));
  e.set_action(i % 3 == 0 ? v1::AUDIT_ACTION_PLAN_READ
                          : v1::AUDIT_ACTION_GRANT_RECORDED);
  e.set_subject("201503142383");
  e.set_resource(absl::StrCat("plans/p", i));
  e.set_decision(i == 4 ? v1::DECISION_DENY : v1::DECISION_ALLOW);
  e.add_reasons(v1::DECISION_REASON_CONSENT_COVERS);
  if (i == 2) e.add_grants("grants/g1");
  e.set_request_id(absl::StrCat("r-", i));
  if (i == 5) e.set_detail("Åsa läste \"planen\"\\n");
  if (i == 3) {
    v1::EntryDecision* d = e.add_entry_decisions();
    d->set_entry("plans/p3/entries/e1");
    d->set_owner_agency("agencies/bup-1");
    d->set_category(v1::INFORMATION_CATEGORY_HEALTH);
    d->set_decision(v1::DECISION_DENY);
    d->set_reason(v1::DECISION_REASON_NO_CONSENT);
  }
  e.set_leaf_format(audit::kCurrentLeafFormat);
  return e;
}

const World& TheWorld() {
  static const World* world = [] {
    auto* w = new World;
    auto signer = audit::NoteSigner::FromPrivateKeyPem(
        samplan::fuzz::kTestKeyPem, samplan::fuzz::kOrigin);
    FUZZ_CHECK(signer.ok(), signer.status().ToString());
    auto verifier =
        audit::NoteVerifier::FromVerifierKey((*signer)->VerifierKey());
    FUZZ_CHECK(verifier.ok(), verifier.status().ToString());
    w->verifier = std::make_unique<audit::NoteVerifier>(*std::move(verifier));
    audit::CompactRange tree;
    for (int i = 0; i < 6; ++i) {
      v1::AuditEvent e = Event(i);
      const audit::Hash leaf = audit::EventLeafHash(e);
      tree.Append(leaf);
      e.set_leaf_index(i);
      e.set_leaf_hash(audit::ToBytes(leaf));
      std::string line;
      FUZZ_CHECK(google::protobuf::util::MessageToJsonString(e, &line).ok(),
                 "print");
      absl::StrAppend(&w->export_text, line, "\n");
      if (i == 2 || i == 5) {
        audit::CheckpointBody body{samplan::fuzz::kOrigin, tree.size(),
                                   tree.Root()};
        auto note = (*signer)->Sign(audit::FormatCheckpointBody(body));
        FUZZ_CHECK(note.ok(), note.status().ToString());
        (i == 2 ? w->saved_note : w->note) = *note;
      }
    }
    std::istringstream in(w->export_text);
    audit::VerifyResult genuine =
        audit::VerifyExport(in, w->note, *w->verifier, w->saved_note);
    FUZZ_CHECK(genuine.ok, genuine.problem);
    return w;
  }();
  return *world;
}

// The fast parser accepts only what protobuf's parser reads the same way.
void CheckLineParsers(absl::string_view line) {
  v1::AuditEvent fast;
  if (!audit::ParseExportLine(line, &fast)) return;
  v1::AuditEvent strict;
  const auto parsed =
      google::protobuf::util::JsonStringToMessage(std::string(line), &strict);
  FUZZ_CHECK(parsed.ok(), absl::StrCat("fast parser accepted what protobuf "
                                       "refuses: ",
                                       parsed.ToString()));
  FUZZ_CHECK(google::protobuf::util::MessageDifferencer::Equals(fast, strict),
             "the fast and the strict parser read the line differently");
}

void WriteSeeds() {
  const World& w = TheWorld();
  samplan::fuzz::WriteSeed("genuine", w.export_text);
  std::vector<std::string> lines = absl::StrSplit(w.export_text, '\n');
  samplan::fuzz::WriteSeed("one-line", lines[3] + "\n");
  std::string swapped;
  for (int i : {0, 2, 1, 3, 4, 5}) absl::StrAppend(&swapped, lines[i], "\n");
  samplan::fuzz::WriteSeed("reordered", swapped);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (samplan::fuzz::SeedDir() != nullptr) {
    WriteSeeds();
    std::exit(0);
  }
  TheWorld();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const World& w = TheWorld();
  const std::string text(reinterpret_cast<const char*>(data), size);
  {
    std::istringstream in(text);
    audit::VerifyResult r =
        audit::VerifyExport(in, w.note, *w.verifier, w.saved_note);
    FUZZ_CHECK(r.ok || !r.problem.empty(), "a failure without a problem");
    if (r.ok) FUZZ_CHECK(r.events == 6, text);
  }
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    CheckLineParsers(line);
  }
  return 0;
}
