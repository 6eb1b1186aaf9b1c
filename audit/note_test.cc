#include "audit/note.h"

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"
#include "common/status_matchers.h"
#include "common/test_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace samplan::audit {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

constexpr char kName[] = "samplan.example/audit";
constexpr char kEmDash[] = "\xE2\x80\x94";

// A throwaway NIST P-256 key: a valid PEM key that is not Ed25519.
constexpr char kEcPrivateKeyPem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgqWmPSr0MZDvgU+0X\n"
    "IjLoSGXeVUGHca8a/UasQK70bmWhRANCAARgLyt6cYeCY6JxC+ZuY3qsT40REVOG\n"
    "g8M8IYbAfcNX+pP61sWO/6Co3ie8PXV1AzNiAqaufAZDYU2zqfTvltBR\n"
    "-----END PRIVATE KEY-----\n";
constexpr char kEcPublicKeyPem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEYC8renGHgmOicQvmbmN6rE+NERFT\n"
    "hoPDPCGGwH3DV/qT+tbFjv+gqN4nvD11dQMzYgKmrnwGQ2FNs6n075bQUQ==\n"
    "-----END PUBLIC KEY-----\n";

std::unique_ptr<NoteSigner> NewSigner(absl::string_view name = kName) {
  absl::StatusOr<std::string> pem = GenerateSigningKeyPem();
  EXPECT_THAT(pem, IsOk());
  absl::StatusOr<std::unique_ptr<NoteSigner>> signer =
      NoteSigner::FromPrivateKeyPem(*pem, name);
  EXPECT_THAT(signer, IsOk());
  return signer.ok() ? *std::move(signer) : nullptr;
}

NoteVerifier VerifierOf(const NoteSigner& signer) {
  absl::StatusOr<NoteVerifier> v =
      NoteVerifier::FromVerifierKey(signer.VerifierKey());
  EXPECT_THAT(v, IsOk());
  return *v;
}

std::string Body(int64_t size = 7) {
  return FormatCheckpointBody({kName, size, HashLeaf("root")});
}

std::string WriteTempFile(absl::string_view name, absl::string_view contents) {
  const std::string path = (ProcessTempDir() / std::string(name)).string();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  return path;
}

// ---------------------------------------------------------------------------
// Interoperability: the example of golang.org/x/mod/sumdb/note (its package
// documentation and note_test.go), the reference implementation of C2SP
// signed-note. Ed25519 is deterministic, so signing its text with its key
// must give its note byte for byte.

constexpr char kGoVerifierKey[] =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
constexpr char kGoSignerKey[] =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+"
    "Y7hfZx09iUvxdXHKDFz";
constexpr char kGoText[] =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
constexpr char kGoSignature[] =
    "x08go/ZJkuBS9UG/"
    "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpR"
    "Zb6KE6RyyBwJnAM=";

// The Go private key's seed as a PKCS#8 PEM key.
std::string GoPrivateKeyPem() {
  // PRIVATE+KEY+<name>+<hash>+<key>; the base64 key may contain '+'.
  const std::vector<absl::string_view> parts =
      absl::StrSplit(kGoSignerKey, absl::MaxSplits('+', 4));
  std::string typed_seed;
  EXPECT_TRUE(absl::Base64Unescape(parts.back(), &typed_seed));
  EXPECT_EQ(typed_seed.size(), 33u);
  // PrivateKeyInfo { version 0, AlgorithmIdentifier { id-Ed25519 },
  // OCTET STRING { OCTET STRING seed } } (RFC 8410).
  const std::string der =
      absl::HexStringToBytes("302e020100300506032b657004220420") +
      typed_seed.substr(1);
  return absl::StrCat("-----BEGIN PRIVATE KEY-----\n", absl::Base64Escape(der),
                      "\n-----END PRIVATE KEY-----\n");
}

TEST(NoteInteropTest, GoSumdbNoteExample) {
  const std::string go_note = absl::StrCat(
      kGoText, "\n", kEmDash, " PeterNeumann ", kGoSignature, "\n");

  absl::StatusOr<NoteVerifier> verifier =
      NoteVerifier::FromVerifierKey(kGoVerifierKey);
  ASSERT_THAT(verifier, IsOk());
  EXPECT_EQ(verifier->key_name(), "PeterNeumann");
  EXPECT_EQ(verifier->key_hash(), 0xc74f20a3u);
  absl::StatusOr<std::string> text = verifier->Open(go_note);
  ASSERT_THAT(text, IsOk());
  EXPECT_EQ(*text, kGoText);

  absl::StatusOr<std::unique_ptr<NoteSigner>> signer =
      NoteSigner::FromPrivateKeyPem(GoPrivateKeyPem(), "PeterNeumann");
  ASSERT_THAT(signer, IsOk());
  EXPECT_EQ((*signer)->VerifierKey(), kGoVerifierKey);
  absl::StatusOr<std::string> note = (*signer)->Sign(kGoText);
  ASSERT_THAT(note, IsOk());
  EXPECT_EQ(*note, go_note);
}

// A verifier key whose base64 contains a '+', from the tests of
// transparency-dev/formats (note/note_cosigv1_test.go).
TEST(NoteInteropTest, VerifierKeyWithPlusInItsBase64) {
  absl::StatusOr<NoteVerifier> verifier = NoteVerifier::FromVerifierKey(
      "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6");
  ASSERT_THAT(verifier, IsOk());
  EXPECT_EQ(verifier->key_name(), "TEST");
  EXPECT_EQ(verifier->key_hash(), 0x7997405cu);
}

// ---------------------------------------------------------------------------
// Signing and opening.

TEST(NoteTest, SignAndOpen) {
  std::unique_ptr<NoteSigner> signer = NewSigner();
  ASSERT_NE(signer, nullptr);
  EXPECT_EQ(signer->key_name(), kName);
  const std::string body = Body();
  absl::StatusOr<std::string> note = signer->Sign(body);
  ASSERT_THAT(note, IsOk());
  // body, an empty line, one signature line of 4 + 64 bytes in base64.
  EXPECT_THAT(*note,
              MatchesRegex(absl::StrCat(
                  "samplan\\.example/audit\n7\n[A-Za-z0-9+/]{43}=\n\n", kEmDash,
                  " samplan\\.example/audit [A-Za-z0-9+/]{91}=\n")));
  EXPECT_TRUE(absl::StartsWith(*note, body + "\n"));

  const NoteVerifier verifier = VerifierOf(*signer);
  absl::StatusOr<std::string> opened = verifier.Open(*note);
  ASSERT_THAT(opened, IsOk());
  EXPECT_EQ(*opened, body);
  absl::StatusOr<CheckpointBody> checkpoint = OpenCheckpoint(verifier, *note);
  ASSERT_THAT(checkpoint, IsOk());
  EXPECT_EQ(checkpoint->origin, kName);
  EXPECT_EQ(checkpoint->tree_size, 7);
  EXPECT_EQ(checkpoint->root, HashLeaf("root"));
}

TEST(NoteTest, TextWithEmptyLinesIsSplitAtTheLastOne) {
  std::unique_ptr<NoteSigner> signer = NewSigner();
  const std::string text = "first\n\nthird\n";
  absl::StatusOr<std::string> note = signer->Sign(text);
  ASSERT_THAT(note, IsOk());
  absl::StatusOr<std::string> opened = VerifierOf(*signer).Open(*note);
  ASSERT_THAT(opened, IsOk());
  EXPECT_EQ(*opened, text);
}

TEST(NoteTest, SignRejectsBadText) {
  std::unique_ptr<NoteSigner> signer = NewSigner();
  for (absl::string_view text :
       {absl::string_view(""), absl::string_view("no newline"),
        absl::string_view("tab\tinside\n"), absl::string_view("cr\r\n"),
        absl::string_view("nul\0\n", 5),
        absl::string_view("bad \xFF utf8\n")}) {
    EXPECT_THAT(signer->Sign(text),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << absl::CEscape(text);
  }
}

TEST(NoteTest, VerifierKeyRoundTrip) {
  std::unique_ptr<NoteSigner> signer = NewSigner();
  const std::string vkey = signer->VerifierKey();
  EXPECT_THAT(vkey, MatchesRegex("samplan\\.example/audit\\+[0-9a-f]{8}\\+"
                                 "A[Q-Za-f][A-Za-z0-9+/]{42}"));
  absl::StatusOr<NoteVerifier> verifier =
      NoteVerifier::FromVerifierKey(absl::StrCat("  ", vkey, "\n"));
  ASSERT_THAT(verifier, IsOk());
  EXPECT_EQ(verifier->key_name(), kName);
  EXPECT_EQ(absl::StrCat(absl::Hex(verifier->key_hash(), absl::kZeroPad8)),
            std::vector<std::string>(
                absl::StrSplit(vkey, absl::MaxSplits('+', 2)))[1]);
  EXPECT_THAT(verifier->Open(*signer->Sign(Body())), IsOk());
  // Upper-case hex digits of the key hash are accepted too.
  std::vector<std::string> parts =
      absl::StrSplit(vkey, absl::MaxSplits('+', 2));
  parts[1] = absl::AsciiStrToUpper(parts[1]);
  EXPECT_THAT(NoteVerifier::FromVerifierKey(absl::StrJoin(parts, "+")), IsOk());
}

TEST(NoteTest, PublicKeyPem) {
  std::unique_ptr<NoteSigner> signer = NewSigner();
  const std::string pem = signer->PublicKeyPem();
  EXPECT_TRUE(absl::StartsWith(pem, "-----BEGIN PUBLIC KEY-----\n")) << pem;
  absl::StatusOr<NoteVerifier> verifier =
      NoteVerifier::FromPublicKeyPem(pem, kName);
  ASSERT_THAT(verifier, IsOk());
  EXPECT_EQ(verifier->key_hash(), VerifierOf(*signer).key_hash());
  const std::string note = *signer->Sign(Body());
  EXPECT_THAT(verifier->Open(note), IsOk());
  // The same key under another name is another key.
  absl::StatusOr<NoteVerifier> renamed =
      NoteVerifier::FromPublicKeyPem(pem, "other.example/log");
  ASSERT_THAT(renamed, IsOk());
  EXPECT_NE(renamed->key_hash(), verifier->key_hash());
  EXPECT_THAT(renamed->Open(note),
              StatusIs(absl::StatusCode::kPermissionDenied));

  EXPECT_THAT(NoteVerifier::FromPublicKeyPem(pem, ""),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(NoteVerifier::FromPublicKeyPem(kEcPublicKeyPem, kName),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(NoteVerifier::FromPublicKeyPem("not a key", kName),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(NoteTest, Files) {
  absl::StatusOr<std::string> private_pem = GenerateSigningKeyPem();
  ASSERT_THAT(private_pem, IsOk());
  EXPECT_TRUE(absl::StartsWith(*private_pem, "-----BEGIN PRIVATE KEY-----\n"));
  const std::string private_path = WriteTempFile("note_key.pem", *private_pem);
  absl::StatusOr<std::unique_ptr<NoteSigner>> signer =
      NoteSigner::FromPrivateKeyFile(private_path, kName);
  ASSERT_THAT(signer, IsOk());
  const std::string note = *(*signer)->Sign(Body());

  const std::string vkey_path =
      WriteTempFile("note_key.vkey", (*signer)->VerifierKey() + "\n");
  const std::string pem_path =
      WriteTempFile("note_key.pub", (*signer)->PublicKeyPem());
  absl::StatusOr<NoteVerifier> from_vkey =
      NoteVerifier::FromFile(vkey_path, "");
  ASSERT_THAT(from_vkey, IsOk());
  EXPECT_THAT(from_vkey->Open(note), IsOk());
  EXPECT_THAT(NoteVerifier::FromFile(vkey_path, kName), IsOk());
  // A verifier key names itself: the name given is only for PEM keys.
  absl::StatusOr<NoteVerifier> named =
      NoteVerifier::FromFile(vkey_path, "other.example/log");
  ASSERT_THAT(named, IsOk());
  EXPECT_EQ(named->key_name(), kName);
  absl::StatusOr<NoteVerifier> from_pem =
      NoteVerifier::FromFile(pem_path, kName);
  ASSERT_THAT(from_pem, IsOk());
  EXPECT_THAT(from_pem->Open(note), IsOk());
  EXPECT_THAT(
      NoteVerifier::FromFile(pem_path, ""),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(pem_path)));

  const std::string missing = absl::StrCat(::testing::TempDir(), "/no/such");
  EXPECT_THAT(NoteVerifier::FromFile(missing, kName),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(missing)));
  EXPECT_THAT(NoteSigner::FromPrivateKeyFile(missing, kName),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(missing)));
  const std::string junk_path = WriteTempFile("note_junk", "junk");
  EXPECT_THAT(NoteSigner::FromPrivateKeyFile(junk_path, kName),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(NoteVerifier::FromFile(junk_path, kName),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(NoteTest, BadPrivateKeysNeverEchoTheKey) {
  absl::StatusOr<std::string> good = GenerateSigningKeyPem();
  ASSERT_THAT(good, IsOk());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"garbage", kName},
      {kEcPrivateKeyPem, kName},
      {kEcPublicKeyPem, kName},
      {good->substr(0, good->size() / 2), kName},
      {*good, ""},
      {*good, "has space"},
      {*good, "has+plus"},
      {*good, "tab\tname"},
      {*good, "nbsp\xC2\xA0name"},
      {*good, "bad\xFFutf8"},
  };
  for (const auto& [pem, name] : cases) {
    absl::StatusOr<std::unique_ptr<NoteSigner>> signer =
        NoteSigner::FromPrivateKeyPem(pem, name);
    EXPECT_THAT(signer, StatusIs(absl::StatusCode::kInvalidArgument))
        << absl::CEscape(name);
    for (absl::string_view line : absl::StrSplit(pem, '\n')) {
      if (line.size() < 8) continue;
      EXPECT_THAT(std::string(signer.status().message()),
                  Not(HasSubstr(std::string(line))));
    }
  }
}

TEST(NoteTest, OtherKeysAreRejected) {
  std::unique_ptr<NoteSigner> ours = NewSigner();
  std::unique_ptr<NoteSigner> theirs = NewSigner();  // same name, other key
  const NoteVerifier verifier = VerifierOf(*ours);
  const std::string body = Body();
  const std::string forged = *theirs->Sign(body);

  absl::StatusOr<std::string> opened = verifier.Open(forged);
  EXPECT_THAT(opened,
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr(kName)));
  EXPECT_EQ(ReasonOf(opened.status()), "BAD_SIGNATURE");

  // Their signature under our key hash: the line is ours, and fails.
  const std::string ours_note = *ours->Sign(body);
  const std::string our_line = ours_note.substr(body.size() + 1);
  const std::string their_line = forged.substr(body.size() + 1);
  std::string blob;
  ASSERT_TRUE(absl::Base64Unescape(
      their_line.substr(their_line.rfind(' ') + 1,
                        their_line.size() - their_line.rfind(' ') - 2),
      &blob));
  std::string our_blob;
  ASSERT_TRUE(absl::Base64Unescape(
      our_line.substr(our_line.rfind(' ') + 1,
                      our_line.size() - our_line.rfind(' ') - 2),
      &our_blob));
  blob.replace(0, 4, our_blob.substr(0, 4));
  const std::string spliced = absl::StrCat(body, "\n", kEmDash, " ", kName, " ",
                                           absl::Base64Escape(blob), "\n");
  opened = verifier.Open(spliced);
  EXPECT_THAT(opened, StatusIs(absl::StatusCode::kPermissionDenied,
                               HasSubstr("does not verify")));
  EXPECT_EQ(ReasonOf(opened.status()), "BAD_SIGNATURE");

  // Our signature over another body.
  const std::string other_body = Body(8);
  EXPECT_THAT(verifier.Open(absl::StrCat(other_body, "\n", our_line)),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST(NoteTest, SeveralSigners) {
  std::unique_ptr<NoteSigner> a = NewSigner();
  std::unique_ptr<NoteSigner> b = NewSigner("witness.example/w1");
  const std::string body = Body();
  const std::string line_a = a->Sign(body)->substr(body.size() + 1);
  const std::string line_b = b->Sign(body)->substr(body.size() + 1);
  const std::string both = absl::StrCat(body, "\n", line_b, line_a);
  EXPECT_THAT(VerifierOf(*a).Open(both), IsOk());
  EXPECT_THAT(VerifierOf(*b).Open(both), IsOk());
  // A signature line of an unknown key may be anything well formed.
  const std::string unknown = absl::StrCat(kEmDash, " unknown.example ",
                                           absl::Base64Escape("12345"), "\n");
  EXPECT_THAT(VerifierOf(*a).Open(absl::StrCat(body, "\n", unknown, line_a)),
              IsOk());
  // Two signatures by the same key are malformed.
  EXPECT_THAT(VerifierOf(*a).Open(absl::StrCat(body, "\n", line_a, line_a)),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(NoteTest, EverySingleByteChangeIsRejected) {
  std::unique_ptr<NoteSigner> signer = NewSigner();
  const NoteVerifier verifier = VerifierOf(*signer);
  const std::string note = *signer->Sign(Body(123456));
  ASSERT_THAT(verifier.Open(note), IsOk());
  int tried = 0;
  for (size_t i = 0; i < note.size(); ++i) {
    const char original = note[i];
    for (char replacement :
         {static_cast<char>(original ^ 0x01),
          static_cast<char>(original ^ 0x80), 'x', '\n', '='}) {
      if (replacement == original) continue;
      std::string changed = note;
      changed[i] = replacement;
      ++tried;
      EXPECT_THAT(verifier.Open(changed),
                  AnyOf(StatusIs(absl::StatusCode::kInvalidArgument),
                        StatusIs(absl::StatusCode::kPermissionDenied)))
          << "byte " << i << " changed to " << absl::CEscape({&replacement, 1});
    }
    // And removed.
    std::string shorter = note;
    shorter.erase(i, 1);
    EXPECT_FALSE(verifier.Open(shorter).ok()) << "byte " << i << " removed";
  }
  EXPECT_GT(tried, 4 * static_cast<int>(note.size()) - 10);
}

TEST(NoteTest, MalformedNotes) {
  std::unique_ptr<NoteSigner> signer = NewSigner();
  const NoteVerifier verifier = VerifierOf(*signer);
  const std::string body = Body();
  const std::string note = *signer->Sign(body);
  const std::string line = note.substr(body.size() + 1);
  const std::vector<std::string> cases = {
      "",
      "\n",
      body,                             // no signatures
      body + "\n",                      // empty signature block
      note.substr(0, note.size() - 1),  // no final newline
      body + line,                      // no empty line
      body + "\n" + line.substr(4),     // no em dash
      body + "\n- " + line.substr(4),   // a hyphen
      body + "\n" + line + "\n",        // empty line after
      body + "\n" + line + "junk\n",    // a line that is no signature
      absl::StrCat(body, "\n", kEmDash, " ", kName, "\n"),       // no signature
      absl::StrCat(body, "\n", kEmDash, " ", kName, " !!\n"),    // not base64
      absl::StrCat(body, "\n", kEmDash, " ", kName, " AAAA\n"),  // too short
      absl::StrCat(body, "\n", kEmDash, " a+b ", "AAAAAAAA\n"),  // bad name
      absl::StrCat(body, "\n", kEmDash, "  ", kName, " AAAAAAAA\n"),
      absl::StrCat("bad\rtext\n\n", line),
      absl::StrCat("bad \xC3 utf8\n\n", line),
      absl::StrCat(std::string(1 << 20, 'a'), "\n\n", line),
  };
  for (const std::string& c : cases) {
    EXPECT_THAT(verifier.Open(c), StatusIs(absl::StatusCode::kInvalidArgument))
        << absl::CEscape(c.substr(0, 200));
  }
}

TEST(NoteTest, MalformedVerifierKeys) {
  std::unique_ptr<NoteSigner> signer = NewSigner();
  const std::string vkey = signer->VerifierKey();
  const std::vector<std::string> parts =
      absl::StrSplit(vkey, absl::MaxSplits('+', 2));
  std::string key_bytes;
  ASSERT_TRUE(absl::Base64Unescape(parts[2], &key_bytes));
  std::string wrong_hash = parts[1];
  wrong_hash[7] = wrong_hash[7] == '0' ? '1' : '0';
  const std::vector<std::string> cases = {
      "",
      kName,
      absl::StrCat(kName, "+", parts[1]),
      absl::StrCat(kName, "+", parts[1], "+", parts[2], "+x"),
      absl::StrCat("+", parts[1], "+", parts[2]),
      absl::StrCat("other name+", parts[1], "+", parts[2]),
      absl::StrCat(kName, "+", wrong_hash, "+", parts[2]),
      absl::StrCat(kName, "+", parts[1].substr(1), "+", parts[2]),
      absl::StrCat(kName, "+0x", parts[1].substr(2), "+", parts[2]),
      absl::StrCat(kName, "+", parts[1], "+", parts[2].substr(1)),
      absl::StrCat(kName, "+", parts[1], "+",
                   absl::Base64Escape("\x02" + key_bytes.substr(1))),
      absl::StrCat(kName, "+", parts[1], "+",
                   absl::Base64Escape(key_bytes.substr(0, 32))),
      absl::StrCat(kName, "+", parts[1], "+",
                   absl::Base64Escape(key_bytes + "x")),
      absl::StrCat(kName, "+", parts[1], "+", parts[2], "="),
  };
  for (const std::string& c : cases) {
    EXPECT_THAT(NoteVerifier::FromVerifierKey(c),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << c;
  }
  // As in Go's TestNewVerifier: no cut of the key is a key.
  for (size_t i = 0; i < vkey.size(); ++i) {
    for (size_t j = i + 1; j <= vkey.size(); ++j) {
      const std::string cut = vkey.substr(0, i) + vkey.substr(j);
      if (absl::StripAsciiWhitespace(cut) != cut) continue;
      EXPECT_FALSE(NoteVerifier::FromVerifierKey(cut).ok()) << cut;
    }
  }
}

// ---------------------------------------------------------------------------
// Checkpoint bodies.

TEST(CheckpointBodyTest, FormatAndParse) {
  const CheckpointBody body{"example.com/log", 1234, HashLeaf("r")};
  const std::string text = FormatCheckpointBody(body);
  EXPECT_EQ(text,
            absl::StrCat("example.com/log\n1234\n",
                         absl::Base64Escape(ToBytes(HashLeaf("r"))), "\n"));
  absl::StatusOr<CheckpointBody> parsed = ParseCheckpointBody(text);
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(parsed->origin, body.origin);
  EXPECT_EQ(parsed->tree_size, body.tree_size);
  EXPECT_EQ(parsed->root, body.root);

  // Extension lines are ignored; sizes 0 and the largest int64 are fine.
  EXPECT_THAT(ParseCheckpointBody(text + "extension\nmore\n"), IsOk());
  const std::string root = absl::Base64Escape(ToBytes(EmptyRoot()));
  EXPECT_EQ(ParseCheckpointBody(absl::StrCat("o\n0\n", root, "\n"))->tree_size,
            0);
  EXPECT_EQ(
      ParseCheckpointBody(absl::StrCat("o\n9223372036854775807\n", root, "\n"))
          ->tree_size,
      INT64_MAX);
}

TEST(CheckpointBodyTest, Errors) {
  const std::string root = absl::Base64Escape(ToBytes(HashLeaf("r")));
  // Nonzero padding bits: the third character of the last group carries
  // two of them, zero in the canonical form; +1 sets the lowest.
  std::string odd_root = root;
  ++odd_root[42];
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "checkpoint line 1 (origin): missing"},
      {"origin", "checkpoint line 1 (origin): does not end with a newline"},
      {absl::StrCat("\n5\n", root, "\n"), "checkpoint line 1 (origin): empty"},
      {"o\n", "checkpoint line 2 (tree size): missing"},
      {"o\n5", "checkpoint line 2 (tree size): does not end"},
      {absl::StrCat("o\n\n", root, "\n"), "checkpoint line 2 (tree size): "},
      {absl::StrCat("o\n05\n", root, "\n"), "checkpoint line 2 (tree size): "},
      {absl::StrCat("o\n00\n", root, "\n"), "checkpoint line 2 (tree size): "},
      {absl::StrCat("o\n-5\n", root, "\n"), "checkpoint line 2 (tree size): "},
      {absl::StrCat("o\n+5\n", root, "\n"), "checkpoint line 2 (tree size): "},
      {absl::StrCat("o\n 5\n", root, "\n"), "checkpoint line 2 (tree size): "},
      {absl::StrCat("o\n5 \n", root, "\n"), "checkpoint line 2 (tree size): "},
      {absl::StrCat("o\n5a\n", root, "\n"), "checkpoint line 2 (tree size): "},
      {absl::StrCat("o\n0x5\n", root, "\n"), "checkpoint line 2 (tree size): "},
      {absl::StrCat("o\n9223372036854775808\n", root, "\n"),
       "checkpoint line 2 (tree size): too large"},
      {"o\n5\n", "checkpoint line 3 (root hash): missing"},
      {absl::StrCat("o\n5\n", root), "checkpoint line 3 (root hash): does not"},
      {"o\n5\n!!!!\n", "checkpoint line 3 (root hash): "},
      {"o\n5\n\n", "checkpoint line 3 (root hash): "},
      {absl::StrCat("o\n5\n", root.substr(0, 43), "\n"),
       "checkpoint line 3 (root hash): "},
      {absl::StrCat("o\n5\n", odd_root, "\n"),
       "checkpoint line 3 (root hash): "},
      {absl::StrCat("o\n5\n", absl::Base64Escape(std::string(31, 'a')), "\n"),
       "checkpoint line 3 (root hash): "},
      {absl::StrCat("o\n5\n", absl::Base64Escape(std::string(33, 'a')), "\n"),
       "checkpoint line 3 (root hash): "},
      {absl::StrCat("o\n5\n",
                    absl::WebSafeBase64Escape(std::string(32, '\xff')), "=\n"),
       "checkpoint line 3 (root hash): "},
      {absl::StrCat("o\n5\n", root, "\n\n"), "checkpoint line 4: empty"},
      {absl::StrCat("o\n5\n", root, "\next"),
       "checkpoint line 4: does not end with a newline"},
  };
  for (const auto& [text, want] : cases) {
    EXPECT_THAT(ParseCheckpointBody(text),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(want)))
        << absl::CEscape(text);
  }
}

}  // namespace
}  // namespace samplan::audit
