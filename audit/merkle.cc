#include "audit/merkle.h"

#include <openssl/evp.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/status_macros.h"

namespace samplan::audit {
namespace {

// SHA-256 over the concatenation of `parts`. OpenSSL failures here mean
// memory exhaustion or a broken library: there is no hash to return.
Hash Sha256(std::initializer_list<absl::string_view> parts) {
  // Fetched once (explicit fetching avoids a provider lookup per hash).
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = md != nullptr && ctx != nullptr &&
            EVP_DigestInit_ex2(ctx, md, nullptr) == 1;
  for (absl::string_view part : parts) {
    ok = ok && EVP_DigestUpdate(ctx, part.data(), part.size()) == 1;
  }
  Hash out;
  unsigned int len = 0;
  ok =
      ok && EVP_DigestFinal_ex(ctx, out.data(), &len) == 1 && len == out.size();
  EVP_MD_CTX_free(ctx);
  if (!ok) std::abort();
  return out;
}

absl::string_view View(const Hash& hash) {
  return absl::string_view(reinterpret_cast<const char*>(hash.data()),
                           hash.size());
}

// The largest power of two strictly smaller than n (n >= 2).
int64_t SplitPoint(int64_t n) {
  return int64_t{1} << (std::bit_width(static_cast<uint64_t>(n - 1)) - 1);
}

// MTH(D[begin:end]) for a range that occurs in the RFC 9162 recursion:
// `begin` is a multiple of the largest power of two <= end - begin, so the
// range splits into complete subtrees, one per set bit of its size (largest
// first), each a stored node. MTH folds them from the right.
absl::StatusOr<Hash> RangeHash(int64_t begin, int64_t end, NodeReader read) {
  const int64_t size = end - begin;
  if (size <= 0) return absl::InternalError("empty Merkle range");
  std::vector<Hash> parts;
  int64_t at = begin;
  for (int level = 62; level >= 0; --level) {
    const int64_t width = int64_t{1} << level;
    if ((size & width) == 0) continue;
    ASSIGN_OR_RETURN(Hash node, read(level, at >> level));
    parts.push_back(node);
    at += width;
  }
  Hash acc = parts.back();
  for (size_t i = parts.size() - 1; i-- > 0;) {
    acc = HashChildren(parts[i], acc);
  }
  return acc;
}

absl::Status Mismatch(absl::string_view what) {
  return absl::DataLossError(what);
}

}  // namespace

Hash Sha256Of(absl::string_view data) { return Sha256({data}); }

Hash HashLeaf(absl::string_view leaf_data) {
  static constexpr char kPrefix[1] = {'\x00'};
  return Sha256({absl::string_view(kPrefix, 1), leaf_data});
}

Hash HashChildren(const Hash& left, const Hash& right) {
  static constexpr char kPrefix[1] = {'\x01'};
  return Sha256({absl::string_view(kPrefix, 1), View(left), View(right)});
}

Hash EmptyRoot() { return Sha256({}); }

std::string ToBytes(const Hash& hash) { return std::string(View(hash)); }

absl::StatusOr<Hash> HashFromBytes(absl::string_view bytes) {
  Hash hash;
  if (bytes.size() != hash.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("a hash is 32 bytes, not ", bytes.size()));
  }
  std::copy(bytes.begin(), bytes.end(), hash.begin());
  return hash;
}

std::string ToHex(const Hash& hash) {
  return absl::BytesToHexString(View(hash));
}

absl::Status AppendLeaf(int64_t size, const Hash& leaf_hash, NodeReader read,
                        NodeWriter write) {
  if (size < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("tree size ", size, " is negative"));
  }
  RETURN_IF_ERROR(write(0, size, leaf_hash));
  Hash node = leaf_hash;
  int level = 0;
  int64_t index = size;
  // Each trailing one bit of the index is a left sibling that now has its
  // right half: their parent becomes complete.
  while ((index & 1) != 0) {
    ASSIGN_OR_RETURN(Hash left, read(level, index - 1));
    node = HashChildren(left, node);
    index >>= 1;
    ++level;
    RETURN_IF_ERROR(write(level, index, node));
  }
  return absl::OkStatus();
}

absl::StatusOr<Hash> RootAt(int64_t size, NodeReader read) {
  if (size < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("tree size ", size, " is negative"));
  }
  if (size == 0) return EmptyRoot();
  return RangeHash(0, size, read);
}

absl::StatusOr<std::vector<Hash>> InclusionProof(int64_t index, int64_t size,
                                                 NodeReader read) {
  if (index < 0 || index >= size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "leaf index ", index, " is not in a tree of ", size, " leaves"));
  }
  // PATH(m, D[n]) recursively appends the sibling after the deeper path, so
  // the siblings found walking down from the root are in reverse order.
  std::vector<Hash> proof;
  int64_t begin = 0;
  int64_t end = size;
  int64_t m = index;
  while (end - begin > 1) {
    const int64_t n = end - begin;
    const int64_t k = SplitPoint(n);
    if (m < k) {
      ASSIGN_OR_RETURN(Hash right, RangeHash(begin + k, end, read));
      proof.push_back(right);
      end = begin + k;
    } else {
      const int level = std::countr_zero(static_cast<uint64_t>(k));
      ASSIGN_OR_RETURN(Hash left, read(level, begin >> level));
      proof.push_back(left);
      begin += k;
      m -= k;
    }
  }
  std::reverse(proof.begin(), proof.end());
  return proof;
}

absl::StatusOr<std::vector<Hash>> ConsistencyProof(int64_t first,
                                                   int64_t second,
                                                   NodeReader read) {
  if (first <= 0 || first > second) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no consistency proof between tree sizes ", first, " and ", second));
  }
  // SUBPROOF(m, D[begin:end], b), unrolled; as for PATH, the hashes found
  // walking down are appended in reverse order.
  std::vector<Hash> proof;
  int64_t begin = 0;
  int64_t end = second;
  int64_t m = first;
  bool whole = true;  // b: the subtree is the whole old tree so far
  while (m != end - begin) {
    const int64_t n = end - begin;
    const int64_t k = SplitPoint(n);
    if (m <= k) {
      ASSIGN_OR_RETURN(Hash right, RangeHash(begin + k, end, read));
      proof.push_back(right);
      end = begin + k;
    } else {
      const int level = std::countr_zero(static_cast<uint64_t>(k));
      ASSIGN_OR_RETURN(Hash left, read(level, begin >> level));
      proof.push_back(left);
      begin += k;
      m -= k;
      whole = false;
    }
  }
  if (!whole) {
    ASSIGN_OR_RETURN(Hash old_subtree, RangeHash(begin, end, read));
    proof.push_back(old_subtree);
  }
  std::reverse(proof.begin(), proof.end());
  return proof;
}

absl::Status VerifyInclusion(int64_t index, int64_t size, const Hash& leaf_hash,
                             absl::Span<const Hash> proof, const Hash& root) {
  if (index < 0 || index >= size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "leaf index ", index, " is not in a tree of ", size, " leaves"));
  }
  uint64_t fn = static_cast<uint64_t>(index);
  uint64_t sn = static_cast<uint64_t>(size - 1);
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) {
      return Mismatch(absl::StrCat("the inclusion proof of leaf ", index,
                                   " in a tree of ", size,
                                   " leaves has too many hashes"));
    }
    if ((fn & 1) != 0 || fn == sn) {
      r = HashChildren(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = HashChildren(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return Mismatch(absl::StrCat("the inclusion proof of leaf ", index,
                                 " in a tree of ", size,
                                 " leaves has too few hashes"));
  }
  if (r != root) {
    return Mismatch(absl::StrCat("the inclusion proof of leaf ", index,
                                 " does not lead to the root hash of the "
                                 "tree of ",
                                 size, " leaves"));
  }
  return absl::OkStatus();
}

absl::Status VerifyConsistency(int64_t first, int64_t second,
                               const Hash& first_root, const Hash& second_root,
                               absl::Span<const Hash> proof) {
  if (first < 0 || first > second) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no consistency between tree sizes ", first, " and ", second));
  }
  if (first == 0 || first == second) {
    // Nothing to prove but that the roots are what they must be.
    if (!proof.empty()) {
      return Mismatch(absl::StrCat("the consistency proof between tree sizes ",
                                   first, " and ", second, " must be empty"));
    }
    if (first == 0 && first_root != EmptyRoot()) {
      return Mismatch("the root hash of the empty tree is wrong");
    }
    if (first == second && first_root != second_root) {
      return Mismatch(absl::StrCat("the root hashes of two trees of ", first,
                                   " leaves differ"));
    }
    return absl::OkStatus();
  }
  if (proof.empty()) {
    return Mismatch(absl::StrCat("the consistency proof between tree sizes ",
                                 first, " and ", second, " is empty"));
  }
  uint64_t fn = static_cast<uint64_t>(first - 1);
  uint64_t sn = static_cast<uint64_t>(second - 1);
  // When the old tree is a complete subtree its root is the path's start.
  size_t next = 0;
  Hash fr;
  if (std::has_single_bit(static_cast<uint64_t>(first))) {
    fr = first_root;
  } else {
    fr = proof[next++];
  }
  Hash sr = fr;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  for (; next < proof.size(); ++next) {
    const Hash& c = proof[next];
    if (sn == 0) {
      return Mismatch(absl::StrCat("the consistency proof between tree sizes ",
                                   first, " and ", second,
                                   " has too many hashes"));
    }
    if ((fn & 1) != 0 || fn == sn) {
      fr = HashChildren(c, fr);
      sr = HashChildren(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = HashChildren(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return Mismatch(absl::StrCat("the consistency proof between tree sizes ",
                                 first, " and ", second,
                                 " has too few hashes"));
  }
  if (fr != first_root) {
    return Mismatch(
        absl::StrCat("the consistency proof does not lead to the "
                     "root hash of the tree of ",
                     first, " leaves"));
  }
  if (sr != second_root) {
    return Mismatch(
        absl::StrCat("the consistency proof does not lead to the "
                     "root hash of the tree of ",
                     second, " leaves"));
  }
  return absl::OkStatus();
}

void CompactRange::Append(const Hash& leaf_hash) {
  Hash node = leaf_hash;
  for (int64_t s = size_; (s & 1) != 0; s >>= 1) {
    node = HashChildren(peaks_.back(), node);
    peaks_.pop_back();
  }
  peaks_.push_back(node);
  ++size_;
}

Hash CompactRange::Root() const {
  if (peaks_.empty()) return EmptyRoot();
  Hash acc = peaks_.back();
  for (size_t i = peaks_.size() - 1; i-- > 0;) {
    acc = HashChildren(peaks_[i], acc);
  }
  return acc;
}

}  // namespace samplan::audit
