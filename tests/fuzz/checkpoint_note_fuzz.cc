// The checkpoint note parsers: a signed note opened with the verifier key
// (OpenCheckpoint), its body alone (ParseCheckpointBody), and a verifier
// key line (NoteVerifier::FromVerifierKey). None crashes on any text; a
// body that parses formats back to a body that parses to the same
// checkpoint; a note opens only with its signature.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "audit/merkle.h"
#include "audit/note.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using samplan::audit::CheckpointBody;

struct Keys {
  std::unique_ptr<samplan::audit::NoteSigner> signer;
  std::unique_ptr<samplan::audit::NoteVerifier> verifier;
};

const Keys& TheKeys() {
  static const Keys* keys = [] {
    auto* k = new Keys;
    auto signer = samplan::audit::NoteSigner::FromPrivateKeyPem(
        samplan::fuzz::kTestKeyPem, samplan::fuzz::kOrigin);
    FUZZ_CHECK(signer.ok(), signer.status().ToString());
    k->signer = *std::move(signer);
    auto verifier =
        samplan::audit::NoteVerifier::FromVerifierKey(k->signer->VerifierKey());
    FUZZ_CHECK(verifier.ok(), verifier.status().ToString());
    k->verifier =
        std::make_unique<samplan::audit::NoteVerifier>(*std::move(verifier));
    return k;
  }();
  return *keys;
}

void WriteSeeds() {
  const Keys& keys = TheKeys();
  CheckpointBody body;
  body.origin = samplan::fuzz::kOrigin;
  body.tree_size = 42;
  body.root = samplan::audit::HashLeaf("x");
  const std::string text = samplan::audit::FormatCheckpointBody(body);
  auto note = keys.signer->Sign(text);
  FUZZ_CHECK(note.ok(), note.status().ToString());
  samplan::fuzz::WriteSeed("signed-note", *note);
  samplan::fuzz::WriteSeed("body", text);
  samplan::fuzz::WriteSeed("verifier-key", keys.signer->VerifierKey());
  samplan::fuzz::WriteSeed("extension-line", text + "ext\n");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (samplan::fuzz::SeedDir() != nullptr) {
    WriteSeeds();
    std::exit(0);
  }
  TheKeys();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  const Keys& keys = TheKeys();

  absl::StatusOr<CheckpointBody> body =
      samplan::audit::ParseCheckpointBody(text);
  if (body.ok()) {
    const std::string again = samplan::audit::FormatCheckpointBody(*body);
    absl::StatusOr<CheckpointBody> reparsed =
        samplan::audit::ParseCheckpointBody(again);
    FUZZ_CHECK(reparsed.ok(), reparsed.status().ToString());
    FUZZ_CHECK(reparsed->origin == body->origin, again);
    FUZZ_CHECK(reparsed->tree_size == body->tree_size, again);
    FUZZ_CHECK(reparsed->root == body->root, again);
    FUZZ_CHECK(body->tree_size >= 0, again);
  }

  absl::StatusOr<CheckpointBody> opened =
      samplan::audit::OpenCheckpoint(*keys.verifier, text);
  if (opened.ok()) {
    // Only a note the key signed opens: re-signing its body must give the
    // same signature line (Ed25519 signatures are deterministic).
    absl::StatusOr<std::string> body_text = keys.verifier->Open(text);
    FUZZ_CHECK(body_text.ok(), body_text.status().ToString());
    absl::StatusOr<std::string> resigned = keys.signer->Sign(*body_text);
    FUZZ_CHECK(resigned.ok(), resigned.status().ToString());
    FUZZ_CHECK(text.find(resigned->substr(body_text->size())) !=
                   absl::string_view::npos,
               "a note opened without its signature");
  }

  (void)samplan::audit::NoteVerifier::FromVerifierKey(text);
  return 0;
}
