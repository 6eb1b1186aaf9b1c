// Signed checkpoints of the audit log, in the C2SP formats so that other
// tools can verify them:
//   - tlog-checkpoint: the body is three lines, "<origin>\n<tree size>\n
//     <base64 root hash>\n" (https://c2sp.org/tlog-checkpoint);
//   - signed-note: the body, an empty line, then signature lines
//     "\u2014 <key name> <base64(4-byte key hash || signature)>\n"
//     (https://c2sp.org/signed-note). The key hash is the first 4 bytes of
//     SHA-256(<key name> || "\n" || 0x01 || <32-byte Ed25519 public key>),
//     and the signature is Ed25519 over the body bytes.
//   - the verifier key, one line: "<key name>+<key hash, 8 hex digits>+
//     <base64(0x01 || public key)>".
// samplan uses the log's origin as the key name.

#ifndef SAMPLAN_AUDIT_NOTE_H_
#define SAMPLAN_AUDIT_NOTE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "audit/merkle.h"

namespace samplan::audit {

struct CheckpointBody {
  std::string origin;  // non-empty, no newline
  int64_t tree_size = 0;
  Hash root{};
};

// "<origin>\n<tree_size>\n<base64 root>\n".
std::string FormatCheckpointBody(const CheckpointBody& body);
// INVALID_ARGUMENT naming the line unless `body` is exactly three such lines
// (extension lines after the third are allowed and ignored).
absl::StatusOr<CheckpointBody> ParseCheckpointBody(absl::string_view body);

// A new Ed25519 private key, PKCS#8 PEM (OpenSSL).
absl::StatusOr<std::string> GenerateSigningKeyPem();

// Signs notes with one Ed25519 private key. Thread-safe after creation.
class NoteSigner {
 public:
  // `pem`: a PKCS#8 PEM Ed25519 private key. `key_name`: non-empty, no
  // whitespace or '+'. INVALID_ARGUMENT otherwise (never echoes the key).
  static absl::StatusOr<std::unique_ptr<NoteSigner>> FromPrivateKeyPem(
      absl::string_view pem, absl::string_view key_name);
  // Reads the PEM file; NOT_FOUND naming the path when it cannot be read.
  static absl::StatusOr<std::unique_ptr<NoteSigner>> FromPrivateKeyFile(
      const std::string& path, absl::string_view key_name);
  ~NoteSigner();
  NoteSigner(const NoteSigner&) = delete;
  NoteSigner& operator=(const NoteSigner&) = delete;

  const std::string& key_name() const { return key_name_; }
  // The signed note: `body` (which must end in "\n"), "\n", and one
  // signature line.
  absl::StatusOr<std::string> Sign(absl::string_view body) const;
  // The verifier key line (without a newline).
  std::string VerifierKey() const;
  // The public key as SubjectPublicKeyInfo PEM.
  std::string PublicKeyPem() const;

 private:
  struct Key;
  NoteSigner(std::unique_ptr<Key> key, std::string key_name);
  std::unique_ptr<Key> key_;
  std::string key_name_;
};

// Verifies notes signed by one Ed25519 public key.
class NoteVerifier {
 public:
  // From a verifier key line (surrounding whitespace ignored).
  // INVALID_ARGUMENT saying what is malformed.
  static absl::StatusOr<NoteVerifier> FromVerifierKey(absl::string_view vkey);
  // From a SubjectPublicKeyInfo PEM Ed25519 public key and the key name.
  static absl::StatusOr<NoteVerifier> FromPublicKeyPem(
      absl::string_view pem, absl::string_view key_name);
  // Either of the above, from a file: a PEM file needs `key_name`.
  static absl::StatusOr<NoteVerifier> FromFile(const std::string& path,
                                               absl::string_view key_name);

  const std::string& key_name() const { return key_name_; }
  uint32_t key_hash() const { return key_hash_; }

  // The body of `note` when it carries a valid signature by this key
  // (other signers' lines are ignored). INVALID_ARGUMENT when the note is
  // malformed; PERMISSION_DENIED (reason BAD_SIGNATURE) when no line is by
  // this key or the signature does not verify.
  absl::StatusOr<std::string> Open(absl::string_view note) const;

 private:
  std::string key_name_;
  uint32_t key_hash_ = 0;
  std::string public_key_;  // 32 raw bytes
};

// Opens `note` with `verifier` and parses the checkpoint body.
absl::StatusOr<CheckpointBody> OpenCheckpoint(const NoteVerifier& verifier,
                                              absl::string_view note);

}  // namespace samplan::audit

#endif  // SAMPLAN_AUDIT_NOTE_H_
