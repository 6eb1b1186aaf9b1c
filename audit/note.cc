#include "audit/note.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/errors.h"
#include "common/status_macros.h"

namespace samplan::audit {
namespace {

// U+2014 EM DASH and a space: the start of every signature line.
constexpr absl::string_view kSignaturePrefix = "\xE2\x80\x94 ";
// The signature type byte of Ed25519 in key hashes and verifier keys.
constexpr char kEd25519Type = '\x01';
constexpr size_t kPublicKeySize = 32;
constexpr size_t kSignatureSize = 64;
// Bounds on what Open() accepts (C2SP asks for at least 16 signatures).
constexpr size_t kMaxNoteSize = 1 << 20;
constexpr size_t kMaxSignatures = 100;

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

absl::Status BadSignature(absl::string_view message) {
  return WithReason(absl::PermissionDeniedError(message), "BAD_SIGNATURE");
}

// A memory BIO reading `data`, which must outlive it.
BioPtr ReadBio(absl::string_view data) {
  if (data.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return nullptr;
  }
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

// Everything written to the memory BIO `bio`.
std::string BioContents(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);  // NOLINT(runtime/int)
  if (len <= 0 || data == nullptr) return "";
  return std::string(data, static_cast<size_t>(len));
}

// Never prompts for a passphrase: encrypted keys are refused.
int NoPassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*u*/) {
  return -1;
}

std::string RawPublicKey(EVP_PKEY* pkey) {
  std::string out(kPublicKeySize, '\0');
  size_t len = out.size();
  if (EVP_PKEY_get_raw_public_key(
          pkey, reinterpret_cast<unsigned char*>(out.data()), &len) != 1 ||
      len != kPublicKeySize) {
    ERR_clear_error();
    return "";
  }
  return out;
}

std::string Sha256(absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(),
                 nullptr) != 1) {
    std::abort();  // no hash without a working libcrypto
  }
  return std::string(reinterpret_cast<const char*>(digest), len);
}

// The C2SP key ID of an Ed25519 key.
uint32_t KeyHash(absl::string_view name, absl::string_view public_key) {
  const std::string digest = Sha256(absl::StrCat(
      name, "\n", absl::string_view(&kEd25519Type, 1), public_key));
  uint32_t hash = 0;
  for (int i = 0; i < 4; ++i) {
    hash = (hash << 8) | static_cast<uint8_t>(digest[static_cast<size_t>(i)]);
  }
  return hash;
}

// Decodes standard base64 with padding, accepting only the canonical
// encoding (so that no two texts decode to the same bytes).
bool DecodeBase64(absl::string_view text, std::string* out) {
  if (!absl::Base64Unescape(text, out)) return false;
  return absl::Base64Escape(*out) == text;
}

// Decodes one UTF-8 code point at `s[*i]`, advancing *i; -1 when invalid
// (overlong forms, surrogates and values above U+10FFFF included).
int32_t NextCodePoint(absl::string_view s, size_t* i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t b0 = byte(*i);
  if (b0 < 0x80) {
    ++*i;
    return b0;
  }
  int len;
  int32_t cp;
  int32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
    min = 0x10000;
  } else {
    return -1;
  }
  if (*i + static_cast<size_t>(len) > s.size()) return -1;
  for (int k = 1; k < len; ++k) {
    const uint8_t b = byte(*i + static_cast<size_t>(k));
    if ((b & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  *i += static_cast<size_t>(len);
  return cp;
}

// Go's unicode.IsSpace, which C2SP key names must not contain.
bool IsUnicodeSpace(int32_t cp) {
  switch (cp) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

// Key names: non-empty UTF-8 without spaces, control characters or '+'.
absl::Status CheckKeyName(absl::string_view name) {
  if (name.empty()) {
    return absl::InvalidArgumentError("key name: empty");
  }
  for (size_t i = 0; i < name.size();) {
    const int32_t cp = NextCodePoint(name, &i);
    if (cp < 0) return absl::InvalidArgumentError("key name: not UTF-8");
    if (cp < 0x20 || cp == 0x7F || IsUnicodeSpace(cp) || cp == '+') {
      return absl::InvalidArgumentError(
          "key name: must not contain spaces, control characters or '+'");
    }
  }
  return absl::OkStatus();
}

// Note text: valid UTF-8 without control characters other than newline.
absl::Status CheckNoteText(absl::string_view text, absl::string_view what) {
  for (size_t i = 0; i < text.size();) {
    const int32_t cp = NextCodePoint(text, &i);
    if (cp < 0)
      return absl::InvalidArgumentError(absl::StrCat(what, ": not UTF-8"));
    if ((cp < 0x20 && cp != '\n') || cp == 0x7F) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": contains a control character other than newline"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  return contents.str();
}

}  // namespace

std::string FormatCheckpointBody(const CheckpointBody& body) {
  return absl::StrCat(body.origin, "\n", body.tree_size, "\n",
                      absl::Base64Escape(ToBytes(body.root)), "\n");
}

absl::StatusOr<CheckpointBody> ParseCheckpointBody(absl::string_view body) {
  static constexpr const char* kLineNames[] = {"origin", "tree size",
                                               "root hash"};
  const auto line_error = [](size_t number, absl::string_view problem) {
    const std::string line =
        number <= 3 ? absl::StrCat("checkpoint line ", number, " (",
                                   kLineNames[number - 1], ")")
                    : absl::StrCat("checkpoint line ", number);
    return absl::InvalidArgumentError(absl::StrCat(line, ": ", problem));
  };
  std::vector<absl::string_view> lines = absl::StrSplit(body, '\n');
  // Every line ends in a newline, so the last piece is empty.
  const absl::string_view unterminated = lines.back();
  lines.pop_back();
  if (lines.size() < 3) {
    return line_error(lines.size() + 1, unterminated.empty()
                                            ? "missing"
                                            : "does not end with a newline");
  }
  if (!unterminated.empty()) {
    return line_error(lines.size() + 1, "does not end with a newline");
  }
  CheckpointBody out;
  if (lines[0].empty()) return line_error(1, "empty");
  out.origin = std::string(lines[0]);

  const absl::string_view size = lines[1];
  const bool digits = !size.empty() && std::all_of(size.begin(), size.end(),
                                                   absl::ascii_isdigit);
  if (!digits || (size.size() > 1 && size[0] == '0')) {
    return line_error(2, "not a decimal number without sign or leading zeros");
  }
  if (!absl::SimpleAtoi(size, &out.tree_size)) {
    return line_error(2, "too large");
  }

  std::string root;
  if (!DecodeBase64(lines[2], &root)) {
    return line_error(3, "not standard base64");
  }
  absl::StatusOr<Hash> hash = HashFromBytes(root);
  if (!hash.ok()) return line_error(3, hash.status().message());
  out.root = *hash;

  for (size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty()) return line_error(i + 1, "empty");
  }
  return out;
}

absl::StatusOr<std::string> GenerateSigningKeyPem() {
  PkeyPtr pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (pkey == nullptr) {
    ERR_clear_error();
    return absl::InternalError("cannot generate an Ed25519 key");
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr ||
      PEM_write_bio_PrivateKey(bio.get(), pkey.get(), nullptr, nullptr, 0,
                               nullptr, nullptr) != 1) {
    ERR_clear_error();
    return absl::InternalError("cannot encode the Ed25519 key");
  }
  return BioContents(bio.get());
}

struct NoteSigner::Key {
  PkeyPtr pkey;
  std::string public_key;  // 32 raw bytes
  uint32_t key_hash = 0;
};

NoteSigner::NoteSigner(std::unique_ptr<Key> key, std::string key_name)
    : key_(std::move(key)), key_name_(std::move(key_name)) {}

NoteSigner::~NoteSigner() = default;

absl::StatusOr<std::unique_ptr<NoteSigner>> NoteSigner::FromPrivateKeyPem(
    absl::string_view pem, absl::string_view key_name) {
  RETURN_IF_ERROR(CheckKeyName(key_name));
  BioPtr bio = ReadBio(pem);
  PkeyPtr pkey;
  if (bio != nullptr) {
    pkey.reset(
        PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  }
  ERR_clear_error();
  if (pkey == nullptr) {
    return absl::InvalidArgumentError(
        "private key: not an unencrypted PKCS#8 PEM private key");
  }
  if (EVP_PKEY_get_id(pkey.get()) != EVP_PKEY_ED25519) {
    return absl::InvalidArgumentError("private key: not an Ed25519 key");
  }
  auto key = std::make_unique<Key>();
  key->public_key = RawPublicKey(pkey.get());
  if (key->public_key.empty()) {
    return absl::InvalidArgumentError(
        "private key: cannot derive its public key");
  }
  key->key_hash = KeyHash(key_name, key->public_key);
  key->pkey = std::move(pkey);
  return std::unique_ptr<NoteSigner>(
      new NoteSigner(std::move(key), std::string(key_name)));
}

absl::StatusOr<std::unique_ptr<NoteSigner>> NoteSigner::FromPrivateKeyFile(
    const std::string& path, absl::string_view key_name) {
  ASSIGN_OR_RETURN(std::string pem, ReadFile(path));
  absl::StatusOr<std::unique_ptr<NoteSigner>> signer =
      FromPrivateKeyPem(pem, key_name);
  // Wipe the copy of the private key.
  OPENSSL_cleanse(pem.data(), pem.size());
  if (!signer.ok()) {
    return absl::Status(signer.status().code(),
                        absl::StrCat(path, ": ", signer.status().message()));
  }
  return signer;
}

absl::StatusOr<std::string> NoteSigner::Sign(absl::string_view body) const {
  if (body.empty() || body.back() != '\n') {
    return absl::InvalidArgumentError("note text: must end with a newline");
  }
  RETURN_IF_ERROR(CheckNoteText(body, "note text"));
  MdCtxPtr ctx(EVP_MD_CTX_new());
  unsigned char signature[kSignatureSize];
  size_t signature_len = sizeof(signature);
  if (ctx == nullptr ||
      EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr,
                         key_->pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), signature, &signature_len,
                     reinterpret_cast<const unsigned char*>(body.data()),
                     body.size()) != 1 ||
      signature_len != kSignatureSize) {
    ERR_clear_error();
    return absl::InternalError("cannot sign the note");
  }
  std::string blob;
  for (int shift = 24; shift >= 0; shift -= 8) {
    blob.push_back(static_cast<char>((key_->key_hash >> shift) & 0xFF));
  }
  blob.append(reinterpret_cast<const char*>(signature), signature_len);
  return absl::StrCat(body, "\n", kSignaturePrefix, key_name_, " ",
                      absl::Base64Escape(blob), "\n");
}

std::string NoteSigner::VerifierKey() const {
  return absl::StrCat(
      key_name_, "+", absl::StrFormat("%08x", key_->key_hash), "+",
      absl::Base64Escape(
          absl::StrCat(absl::string_view(&kEd25519Type, 1), key_->public_key)));
}

std::string NoteSigner::PublicKeyPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr ||
      PEM_write_bio_PUBKEY(bio.get(), key_->pkey.get()) != 1) {
    ERR_clear_error();
    return "";
  }
  return BioContents(bio.get());
}

absl::StatusOr<NoteVerifier> NoteVerifier::FromVerifierKey(
    absl::string_view vkey) {
  vkey = absl::StripAsciiWhitespace(vkey);
  // Names have no '+'; the base64 key may.
  const std::vector<absl::string_view> parts =
      absl::StrSplit(vkey, absl::MaxSplits('+', 2));
  if (parts.size() != 3) {
    return absl::InvalidArgumentError(
        "verifier key: not <name>+<key hash>+<key>");
  }
  if (absl::Status s = CheckKeyName(parts[0]); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("verifier key: ", s.message()));
  }
  const absl::string_view hash_hex = parts[1];
  if (hash_hex.size() != 8 ||
      !std::all_of(hash_hex.begin(), hash_hex.end(), absl::ascii_isxdigit)) {
    return absl::InvalidArgumentError(
        "verifier key: the key hash is not 8 hex digits");
  }
  uint32_t hash = 0;
  for (char c : hash_hex) {
    const int digit =
        absl::ascii_isdigit(c) ? c - '0' : absl::ascii_tolower(c) - 'a' + 10;
    hash = (hash << 4) | static_cast<uint32_t>(digit);
  }
  std::string key;
  if (!DecodeBase64(parts[2], &key)) {
    return absl::InvalidArgumentError(
        "verifier key: the key is not standard base64");
  }
  if (key.empty() || key[0] != kEd25519Type) {
    return absl::InvalidArgumentError(
        "verifier key: not an Ed25519 key (type 0x01)");
  }
  if (key.size() != 1 + kPublicKeySize) {
    return absl::InvalidArgumentError(
        "verifier key: an Ed25519 public key is 32 bytes");
  }
  NoteVerifier verifier;
  verifier.key_name_ = std::string(parts[0]);
  verifier.public_key_ = key.substr(1);
  verifier.key_hash_ = KeyHash(verifier.key_name_, verifier.public_key_);
  if (verifier.key_hash_ != hash) {
    return absl::InvalidArgumentError(
        "verifier key: the key hash does not match the name and key");
  }
  return verifier;
}

absl::StatusOr<NoteVerifier> NoteVerifier::FromPublicKeyPem(
    absl::string_view pem, absl::string_view key_name) {
  RETURN_IF_ERROR(CheckKeyName(key_name));
  BioPtr bio = ReadBio(pem);
  PkeyPtr pkey;
  if (bio != nullptr) {
    pkey.reset(PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassphrase, nullptr));
  }
  ERR_clear_error();
  if (pkey == nullptr) {
    return absl::InvalidArgumentError(
        "public key: not a SubjectPublicKeyInfo PEM public key");
  }
  if (EVP_PKEY_get_id(pkey.get()) != EVP_PKEY_ED25519) {
    return absl::InvalidArgumentError("public key: not an Ed25519 key");
  }
  NoteVerifier verifier;
  verifier.key_name_ = std::string(key_name);
  verifier.public_key_ = RawPublicKey(pkey.get());
  if (verifier.public_key_.empty()) {
    return absl::InvalidArgumentError("public key: cannot read the key");
  }
  verifier.key_hash_ = KeyHash(verifier.key_name_, verifier.public_key_);
  return verifier;
}

absl::StatusOr<NoteVerifier> NoteVerifier::FromFile(
    const std::string& path, absl::string_view key_name) {
  ASSIGN_OR_RETURN(const std::string contents, ReadFile(path));
  absl::StatusOr<NoteVerifier> verifier;
  if (absl::StartsWith(absl::StripLeadingAsciiWhitespace(contents),
                       "-----BEGIN")) {
    if (key_name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": a PEM public key needs the key name (the log's origin)"));
    }
    verifier = FromPublicKeyPem(contents, key_name);
  } else {
    // A verifier key line names its key itself; `key_name` is for PEM only.
    verifier = FromVerifierKey(contents);
  }
  if (!verifier.ok()) {
    return absl::Status(verifier.status().code(),
                        absl::StrCat(path, ": ", verifier.status().message()));
  }
  return verifier;
}

absl::StatusOr<std::string> NoteVerifier::Open(absl::string_view note) const {
  if (note.size() > kMaxNoteSize) {
    return absl::InvalidArgumentError("note: too large");
  }
  RETURN_IF_ERROR(CheckNoteText(note, "note"));
  if (note.empty() || note.back() != '\n') {
    return absl::InvalidArgumentError("note: does not end with a newline");
  }
  // C2SP signed-note: the text is separated from the signatures by the last
  // empty line; the text keeps its final newline.
  const size_t split = note.rfind("\n\n");
  if (split == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        "note: no empty line before the signatures");
  }
  const absl::string_view text = note.substr(0, split + 1);
  absl::string_view signatures = note.substr(split + 2);
  if (signatures.empty()) {
    return absl::InvalidArgumentError("note: no signature lines");
  }
  signatures.remove_suffix(1);  // the final newline
  const std::vector<absl::string_view> lines = absl::StrSplit(signatures, '\n');
  if (lines.size() > kMaxSignatures) {
    return absl::InvalidArgumentError("note: too many signature lines");
  }
  std::string ours;  // the signature by this key, if any
  bool found = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    absl::string_view line = lines[i];
    const std::string where = absl::StrCat("note: signature line ", i + 1);
    if (!absl::ConsumePrefix(&line, kSignaturePrefix)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": does not start with an em dash and a space"));
    }
    const size_t space = line.find(' ');
    if (space == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": not \"<key name> <signature>\""));
    }
    const absl::string_view name = line.substr(0, space);
    if (!CheckKeyName(name).ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": not a valid key name"));
    }
    std::string blob;
    if (!DecodeBase64(line.substr(space + 1), &blob) || blob.size() < 5) {
      return absl::InvalidArgumentError(
          absl::StrCat(where,
                       ": the signature is not standard base64 of a "
                       "key hash and a signature"));
    }
    uint32_t hash = 0;
    for (size_t k = 0; k < 4; ++k) {
      hash = (hash << 8) | static_cast<uint8_t>(blob[k]);
    }
    if (name != key_name_ || hash != key_hash_) continue;  // another key
    if (found) {
      return absl::InvalidArgumentError(
          absl::StrCat("note: more than one signature by key ", key_name_));
    }
    found = true;
    ours = blob.substr(4);
  }
  if (!found) {
    return BadSignature(
        absl::StrCat("the note carries no signature by key ", key_name_));
  }
  bool verified = false;
  if (ours.size() == kSignatureSize) {
    PkeyPtr pkey(EVP_PKEY_new_raw_public_key(
        EVP_PKEY_ED25519, nullptr,
        reinterpret_cast<const unsigned char*>(public_key_.data()),
        public_key_.size()));
    MdCtxPtr ctx(EVP_MD_CTX_new());
    verified =
        pkey != nullptr && ctx != nullptr &&
        EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr,
                             pkey.get()) == 1 &&
        EVP_DigestVerify(
            ctx.get(), reinterpret_cast<const unsigned char*>(ours.data()),
            ours.size(), reinterpret_cast<const unsigned char*>(text.data()),
            text.size()) == 1;
    ERR_clear_error();
  }
  if (!verified) {
    return BadSignature(
        absl::StrCat("signature does not verify with key ", key_name_));
  }
  return std::string(text);
}

absl::StatusOr<CheckpointBody> OpenCheckpoint(const NoteVerifier& verifier,
                                              absl::string_view note) {
  ASSIGN_OR_RETURN(const std::string body, verifier.Open(note));
  return ParseCheckpointBody(body);
}

}  // namespace samplan::audit
