// The audit log's Merkle tree, hashed as in Certificate Transparency (RFC 6962,
// RFC 9162 section 2.1): leaf = SHA-256(0x00 || leaf data), node =
// SHA-256(0x01 || left || right), and the root of the empty tree is
// SHA-256 of the empty string.
//
// Storage keeps the hash of every complete ("perfect") subtree: node (level,
// index) covers the leaves [index << level, (index + 1) << level). Roots and
// proofs for any tree size are computed from O(log n) of those stored nodes,
// never by rereading the log; the verification side needs only the proofs.
//
//   CompactRange range;                    // verifier: fold leaves in order
//   for (const Hash& leaf : leaves) range.Append(leaf);
//   Hash root = range.Root();
//
//   // server: proofs from stored nodes
//   auto proof = InclusionProof(index, size, reader);
//   absl::Status ok = VerifyInclusion(index, size, leaf, *proof, root);

#ifndef SAMPLAN_AUDIT_MERKLE_H_
#define SAMPLAN_AUDIT_MERKLE_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace samplan::audit {

// A SHA-256 hash.
using Hash = std::array<uint8_t, 32>;

// SHA-256(0x00 || leaf_data).
Hash HashLeaf(absl::string_view leaf_data);
// Plain SHA-256 of `data` (no RFC 9162 prefix).
Hash Sha256Of(absl::string_view data);
// SHA-256(0x01 || left || right).
Hash HashChildren(const Hash& left, const Hash& right);
// SHA-256("") : the root of the tree with no leaves.
Hash EmptyRoot();

// The 32 bytes as a string (for protobuf `bytes` fields), and back:
// INVALID_ARGUMENT unless `bytes` is exactly 32 bytes long.
std::string ToBytes(const Hash& hash);
absl::StatusOr<Hash> HashFromBytes(absl::string_view bytes);
// 64 lowercase hex digits.
std::string ToHex(const Hash& hash);

// Reads the stored hash of the complete subtree (level, index). Called only
// for subtrees that are complete in the tree being asked about.
using NodeReader =
    absl::FunctionRef<absl::StatusOr<Hash>(int level, int64_t index)>;
// Stores the hash of a complete subtree that has just become complete.
using NodeWriter =
    absl::FunctionRef<absl::Status(int level, int64_t index, const Hash&)>;

// Adds leaf number `size` (the tree grows from `size` to size + 1 leaves):
// writes node (0, size) and every node completed by it, reading the left
// siblings it needs. O(log n); amortised two writes per leaf.
absl::Status AppendLeaf(int64_t size, const Hash& leaf_hash, NodeReader read,
                        NodeWriter write);

// The root hash of the first `size` leaves (RFC 9162 MTH). `size` >= 0.
absl::StatusOr<Hash> RootAt(int64_t size, NodeReader read);

// The inclusion proof (audit path) of leaf `index` in the tree of `size`
// leaves, RFC 9162 section 2.1.3.1. INVALID_ARGUMENT unless
// 0 <= index < size.
absl::StatusOr<std::vector<Hash>> InclusionProof(int64_t index, int64_t size,
                                                 NodeReader read);

// The consistency proof between the trees of `first` and `second` leaves,
// RFC 9162 section 2.1.4.1. INVALID_ARGUMENT unless 0 < first <= second.
// Empty when first == second.
absl::StatusOr<std::vector<Hash>> ConsistencyProof(int64_t first,
                                                   int64_t second,
                                                   NodeReader read);

// RFC 9162 section 2.1.3.2. OK, or DATA_LOSS saying what does not match
// (INVALID_ARGUMENT for impossible index/size pairs).
absl::Status VerifyInclusion(int64_t index, int64_t size, const Hash& leaf_hash,
                             absl::Span<const Hash> proof, const Hash& root);

// RFC 9162 section 2.1.4.2. OK, or DATA_LOSS saying what does not match
// (INVALID_ARGUMENT for impossible sizes).
absl::Status VerifyConsistency(int64_t first, int64_t second,
                               const Hash& first_root, const Hash& second_root,
                               absl::Span<const Hash> proof);

// The right edge of a tree built leaf by leaf in memory: one hash per set
// bit of the size. For verifiers that fold a whole log in order.
class CompactRange {
 public:
  CompactRange() = default;
  void Append(const Hash& leaf_hash);
  int64_t size() const { return size_; }
  // The root of the leaves appended so far (EmptyRoot() when none).
  Hash Root() const;

 private:
  int64_t size_ = 0;
  std::vector<Hash> peaks_;  // highest subtree first
};

}  // namespace samplan::audit

#endif  // SAMPLAN_AUDIT_MERKLE_H_
