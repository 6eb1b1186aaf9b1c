#include "audit/merkle.h"

#include <bit>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace samplan::audit {
namespace {

using ::testing::ElementsAreArray;
using ::testing::SizeIs;

Hash H(absl::string_view hex) {
  absl::StatusOr<Hash> hash = HashFromBytes(absl::HexStringToBytes(hex));
  EXPECT_THAT(hash, IsOk()) << hex;
  return hash.ok() ? *hash : Hash{};
}

std::vector<Hash> Hs(std::initializer_list<absl::string_view> hexes) {
  std::vector<Hash> out;
  for (absl::string_view hex : hexes) out.push_back(H(hex));
  return out;
}

// ---------------------------------------------------------------------------
// Stored nodes, as a server keeps them.

class NodeStore {
 public:
  // Appends leaves until the tree has `leaves.size()` leaves.
  void AppendAll(const std::vector<Hash>& leaves) {
    while (size_ < static_cast<int64_t>(leaves.size())) {
      limit_ = size_ + 1;  // the tree being built
      ASSERT_THAT(
          AppendLeaf(
              size_, leaves[static_cast<size_t>(size_)],
              [&](int level, int64_t index) { return Read(level, index); },
              [&](int level, int64_t index, const Hash& hash) {
                return Write(level, index, hash);
              }),
          IsOk());
      ++size_;
    }
  }

  absl::StatusOr<Hash> Read(int level, int64_t index) {
    ++reads_;
    auto it = nodes_.find({level, index});
    if (it == nodes_.end()) {
      ADD_FAILURE() << "read of unwritten node (" << level << ", " << index
                    << ")";
      return absl::NotFoundError("no such node");
    }
    // Only subtrees complete in the tree being asked about.
    if (((index + 1) << level) > limit_) {
      ADD_FAILURE() << "read of node (" << level << ", " << index
                    << ") outside the tree of " << limit_ << " leaves";
    }
    return it->second;
  }

  absl::Status Write(int level, int64_t index, const Hash& hash) {
    ++writes_;
    if (!nodes_.emplace(std::make_pair(level, index), hash).second) {
      ADD_FAILURE() << "node (" << level << ", " << index << ") written twice";
    }
    return absl::OkStatus();
  }

  // Readers for a question about the tree of `size` leaves.
  auto Reader(int64_t size) {
    limit_ = size;
    reads_ = 0;
    return [this](int level, int64_t index) { return Read(level, index); };
  }

  int64_t size() const { return size_; }
  int reads() const { return reads_; }
  int writes() const { return writes_; }
  size_t node_count() const { return nodes_.size(); }

 private:
  std::map<std::pair<int, int64_t>, Hash> nodes_;
  int64_t size_ = 0;
  int64_t limit_ = 0;
  int reads_ = 0;
  int writes_ = 0;
};

// ---------------------------------------------------------------------------
// A naive reference: RFC 9162 section 2.1, written as the RFC writes it.

class Reference {
 public:
  explicit Reference(std::vector<Hash> leaves) : leaves_(std::move(leaves)) {}

  // MTH(D[begin:end]).
  Hash Mth(int64_t begin, int64_t end) {
    const int64_t n = end - begin;
    if (n == 0) return EmptyRoot();
    if (n == 1) return leaves_[static_cast<size_t>(begin)];
    auto it = memo_.find({begin, end});
    if (it != memo_.end()) return it->second;
    const int64_t k = LargestPowerOfTwoBelow(n);
    const Hash h = HashChildren(Mth(begin, begin + k), Mth(begin + k, end));
    memo_.emplace(std::make_pair(begin, end), h);
    return h;
  }

  // PATH(m, D[begin:end]).
  std::vector<Hash> Path(int64_t m, int64_t begin, int64_t end) {
    const int64_t n = end - begin;
    if (n == 1) return {};
    const int64_t k = LargestPowerOfTwoBelow(n);
    std::vector<Hash> out;
    if (m < k) {
      out = Path(m, begin, begin + k);
      out.push_back(Mth(begin + k, end));
    } else {
      out = Path(m - k, begin + k, end);
      out.push_back(Mth(begin, begin + k));
    }
    return out;
  }

  // SUBPROOF(m, D[begin:end], b).
  std::vector<Hash> Subproof(int64_t m, int64_t begin, int64_t end, bool b) {
    const int64_t n = end - begin;
    if (m == n) {
      if (b) return {};
      return {Mth(begin, end)};
    }
    const int64_t k = LargestPowerOfTwoBelow(n);
    std::vector<Hash> out;
    if (m <= k) {
      out = Subproof(m, begin, begin + k, b);
      out.push_back(Mth(begin + k, end));
    } else {
      out = Subproof(m - k, begin + k, end, false);
      out.push_back(Mth(begin, begin + k));
    }
    return out;
  }

  static int64_t LargestPowerOfTwoBelow(int64_t n) {
    int64_t k = 1;
    while (k * 2 < n) k *= 2;
    return k;
  }

 private:
  std::vector<Hash> leaves_;
  std::map<std::pair<int64_t, int64_t>, Hash> memo_;
};

std::vector<Hash> TestLeaves(int n, absl::string_view prefix = "leaf ") {
  std::vector<Hash> leaves;
  for (int i = 0; i < n; ++i)
    leaves.push_back(HashLeaf(absl::StrCat(prefix, i)));
  return leaves;
}

int Log2Ceil(int64_t n) {
  return n <= 1 ? 0 : std::bit_width(static_cast<uint64_t>(n - 1));
}

// ---------------------------------------------------------------------------
// Basics.

TEST(MerkleTest, HashesAsInRfc6962) {
  EXPECT_EQ(ToHex(EmptyRoot()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ToHex(HashLeaf("")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  // HashChildren itself is checked by the roots of the vectors below.
  const Hash a = HashLeaf("a");
  const Hash b = HashLeaf("b");
  EXPECT_NE(HashChildren(a, b), HashChildren(b, a));
  EXPECT_NE(HashLeaf(ToBytes(a) + ToBytes(b)), HashChildren(a, b));
}

TEST(MerkleTest, BytesRoundTrip) {
  const Hash h = HashLeaf("x");
  EXPECT_THAT(ToBytes(h), SizeIs(32));
  ASSERT_THAT(HashFromBytes(ToBytes(h)), IsOk());
  EXPECT_EQ(*HashFromBytes(ToBytes(h)), h);
  EXPECT_THAT(HashFromBytes(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(HashFromBytes(std::string(31, 'a')),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(HashFromBytes(std::string(33, 'a')),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(ToHex(h), absl::BytesToHexString(ToBytes(h)));
  EXPECT_THAT(ToHex(h), SizeIs(64));
}

// ---------------------------------------------------------------------------
// The reference test vectors of RFC 6962 implementations: Certificate
// Transparency's merkle_tree_test, as kept in transparency-dev/merkle
// (proof/verify_test.go). Leaf indices there are 1-based; here 0-based.

class VectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (absl::string_view hex :
         {"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
          "606162636465666768696a6b6c6d6e6f"}) {
      leaves_.push_back(HashLeaf(absl::HexStringToBytes(hex)));
    }
    store_.AppendAll(leaves_);
  }

  std::vector<Hash> leaves_;
  NodeStore store_;
};

const std::vector<Hash>& VectorRoots() {
  static const std::vector<Hash>* roots = new std::vector<Hash>(Hs({
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
  }));
  return *roots;
}

TEST_F(VectorTest, Roots) {
  ASSERT_THAT(RootAt(0, store_.Reader(0)), IsOk());
  EXPECT_EQ(*RootAt(0, store_.Reader(0)), EmptyRoot());
  CompactRange range;
  EXPECT_EQ(range.Root(), EmptyRoot());
  for (int64_t size = 1; size <= 8; ++size) {
    const Hash& want = VectorRoots()[static_cast<size_t>(size - 1)];
    absl::StatusOr<Hash> root = RootAt(size, store_.Reader(size));
    ASSERT_THAT(root, IsOk());
    EXPECT_EQ(ToHex(*root), ToHex(want)) << "size " << size;
    range.Append(leaves_[static_cast<size_t>(size - 1)]);
    EXPECT_EQ(range.size(), size);
    EXPECT_EQ(ToHex(range.Root()), ToHex(want)) << "size " << size;
  }
}

struct InclusionVector {
  int64_t index;
  int64_t size;
  std::vector<Hash> proof;
};

TEST_F(VectorTest, InclusionProofs) {
  const std::vector<InclusionVector> vectors = {
      {0, 1, {}},
      {0, 8,
       Hs({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
           "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
           "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e"
           "4"})},
      {5, 8,
       Hs({"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
           "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
           "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b"
           "7"})},
      {2, 3,
       Hs({"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c12"
           "5"})},
      {1, 5,
       Hs({"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
           "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
           "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6"
           "b"})},
  };
  for (const InclusionVector& v : vectors) {
    SCOPED_TRACE(absl::StrCat("leaf ", v.index, " of ", v.size));
    absl::StatusOr<std::vector<Hash>> proof =
        InclusionProof(v.index, v.size, store_.Reader(v.size));
    ASSERT_THAT(proof, IsOk());
    EXPECT_THAT(*proof, ElementsAreArray(v.proof));
    const Hash& root = VectorRoots()[static_cast<size_t>(v.size - 1)];
    const Hash& leaf = leaves_[static_cast<size_t>(v.index)];
    EXPECT_THAT(VerifyInclusion(v.index, v.size, leaf, v.proof, root), IsOk());
    // The corruptions of the reference tests.
    EXPECT_FALSE(
        VerifyInclusion(v.index, v.size, HashLeaf("WrongLeaf"), v.proof, root)
            .ok());
    EXPECT_FALSE(
        VerifyInclusion(v.index, v.size, leaf, v.proof, EmptyRoot()).ok());
    EXPECT_FALSE(
        VerifyInclusion(v.index + 1, v.size, leaf, v.proof, root).ok());
    EXPECT_FALSE(
        VerifyInclusion(v.index - 1, v.size, leaf, v.proof, root).ok());
    EXPECT_FALSE(
        VerifyInclusion(v.index ^ 2, v.size, leaf, v.proof, root).ok());
    EXPECT_FALSE(
        VerifyInclusion(v.index, v.size * 2, leaf, v.proof, root).ok());
    EXPECT_FALSE(
        VerifyInclusion(v.index, v.size / 2, leaf, v.proof, root).ok());
    std::vector<Hash> longer = v.proof;
    longer.push_back(root);
    EXPECT_FALSE(VerifyInclusion(v.index, v.size, leaf, longer, root).ok());
    std::vector<Hash> preceded = v.proof;
    preceded.insert(preceded.begin(), root);
    EXPECT_FALSE(VerifyInclusion(v.index, v.size, leaf, preceded, root).ok());
    for (size_t i = 0; i < v.proof.size(); ++i) {
      std::vector<Hash> wrong = v.proof;
      wrong[i][0] ^= 8;
      EXPECT_THAT(VerifyInclusion(v.index, v.size, leaf, wrong, root),
                  StatusIs(absl::StatusCode::kDataLoss));
    }
    if (!v.proof.empty()) {
      std::vector<Hash> shorter(v.proof.begin(), v.proof.end() - 1);
      EXPECT_THAT(VerifyInclusion(v.index, v.size, leaf, shorter, root),
                  StatusIs(absl::StatusCode::kDataLoss));
    }
  }
}

struct ConsistencyVector {
  int64_t first;
  int64_t second;
  std::vector<Hash> proof;
};

TEST_F(VectorTest, ConsistencyProofs) {
  const std::vector<ConsistencyVector> vectors = {
      {1, 1, {}},
      {1, 8,
       Hs({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
           "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
           "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e"
           "4"})},
      {6, 8,
       Hs({"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
           "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
           "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b"
           "7"})},
      {2, 5,
       Hs({"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
           "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6"
           "b"})},
      {6, 7,
       Hs({"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
           "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
           "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b"
           "7"})},
  };
  for (const ConsistencyVector& v : vectors) {
    SCOPED_TRACE(absl::StrCat("sizes ", v.first, " and ", v.second));
    absl::StatusOr<std::vector<Hash>> proof =
        ConsistencyProof(v.first, v.second, store_.Reader(v.second));
    ASSERT_THAT(proof, IsOk());
    EXPECT_THAT(*proof, ElementsAreArray(v.proof));
    const Hash& root1 = VectorRoots()[static_cast<size_t>(v.first - 1)];
    const Hash& root2 = VectorRoots()[static_cast<size_t>(v.second - 1)];
    EXPECT_THAT(VerifyConsistency(v.first, v.second, root1, root2, v.proof),
                IsOk());
    if (v.proof.empty()) continue;
    EXPECT_FALSE(
        VerifyConsistency(v.first - 1, v.second, root1, root2, v.proof).ok());
    EXPECT_FALSE(
        VerifyConsistency(v.first + 1, v.second, root1, root2, v.proof).ok());
    EXPECT_FALSE(
        VerifyConsistency(v.first ^ 2, v.second, root1, root2, v.proof).ok());
    EXPECT_FALSE(
        VerifyConsistency(v.first, v.second * 2, root1, root2, v.proof).ok());
    EXPECT_FALSE(
        VerifyConsistency(v.first, v.second / 2, root1, root2, v.proof).ok());
    EXPECT_FALSE(
        VerifyConsistency(v.first, v.second, root2, root1, v.proof).ok());
    EXPECT_FALSE(VerifyConsistency(v.first, v.second, HashLeaf("WrongRoot"),
                                   root2, v.proof)
                     .ok());
    EXPECT_FALSE(VerifyConsistency(v.first, v.second, root1,
                                   HashLeaf("WrongRoot"), v.proof)
                     .ok());
    EXPECT_FALSE(VerifyConsistency(v.first, v.second, root1, root2, {}).ok());
    for (const Hash& extra : {root1, root2, v.proof[0]}) {
      std::vector<Hash> longer = v.proof;
      longer.push_back(extra);
      EXPECT_FALSE(
          VerifyConsistency(v.first, v.second, root1, root2, longer).ok());
      std::vector<Hash> preceded = v.proof;
      preceded.insert(preceded.begin(), extra);
      EXPECT_FALSE(
          VerifyConsistency(v.first, v.second, root1, root2, preceded).ok());
    }
    std::vector<Hash> shorter(v.proof.begin(), v.proof.end() - 1);
    EXPECT_FALSE(
        VerifyConsistency(v.first, v.second, root1, root2, shorter).ok());
    for (size_t i = 0; i < v.proof.size(); ++i) {
      std::vector<Hash> wrong = v.proof;
      wrong[i][0] ^= 16;
      EXPECT_THAT(VerifyConsistency(v.first, v.second, root1, root2, wrong),
                  StatusIs(absl::StatusCode::kDataLoss));
    }
  }
}

// The node layout of the proofs, from the diagrams of transparency-dev/merkle
// (proof/proof_test.go): leaves a..j are d0..d6 (and d7), g h i are level-1
// nodes, k l level-2 nodes.
TEST(MerkleTest, ProofShapesOfTheSevenLeafTree) {
  const std::vector<Hash> d = TestLeaves(8);
  NodeStore store;
  store.AppendAll(d);
  const Hash g = HashChildren(d[0], d[1]);
  const Hash h = HashChildren(d[2], d[3]);
  const Hash i = HashChildren(d[4], d[5]);
  const Hash k = HashChildren(g, h);
  const Hash il = HashChildren(i, d[6]);  // l = hash(i, j) in the tree of 7
  EXPECT_THAT(*InclusionProof(0, 7, store.Reader(7)),
              ElementsAreArray({d[1], h, il}));
  EXPECT_THAT(*InclusionProof(4, 7, store.Reader(7)),
              ElementsAreArray({d[5], d[6], k}));
  EXPECT_THAT(*InclusionProof(6, 7, store.Reader(7)), ElementsAreArray({i, k}));
  EXPECT_THAT(*InclusionProof(3, 5, store.Reader(5)),
              ElementsAreArray({d[2], g, d[4]}));
  EXPECT_THAT(*ConsistencyProof(5, 7, store.Reader(7)),
              ElementsAreArray({d[4], d[5], d[6], k}));
  EXPECT_THAT(*ConsistencyProof(3, 7, store.Reader(7)),
              ElementsAreArray({d[2], d[3], g, il}));
  EXPECT_THAT(*ConsistencyProof(4, 7, store.Reader(7)), ElementsAreArray({il}));
  EXPECT_THAT(*ConsistencyProof(6, 7, store.Reader(7)),
              ElementsAreArray({i, d[6], k}));
  EXPECT_THAT(*ConsistencyProof(7, 8, store.Reader(8)),
              ElementsAreArray({d[6], d[7], i, k}));
  EXPECT_THAT(*ConsistencyProof(2, 8, store.Reader(8)),
              ElementsAreArray({h, HashChildren(i, HashChildren(d[6], d[7]))}));
}

TEST(MerkleTest, InvalidArguments) {
  NodeStore store;
  store.AppendAll(TestLeaves(4));
  EXPECT_THAT(RootAt(-1, store.Reader(0)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  for (auto [index, size] : std::vector<std::pair<int64_t, int64_t>>{
           {0, 0}, {1, 1}, {-1, 4}, {4, 4}, {5, 4}, {0, -1}}) {
    EXPECT_THAT(InclusionProof(index, size, store.Reader(4)),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << index << " " << size;
    EXPECT_THAT(VerifyInclusion(index, size, Hash{}, {}, Hash{}),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << index << " " << size;
  }
  for (auto [first, second] : std::vector<std::pair<int64_t, int64_t>>{
           {0, 0}, {0, 4}, {-1, 4}, {5, 4}, {2, 1}}) {
    EXPECT_THAT(ConsistencyProof(first, second, store.Reader(4)),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << first << " " << second;
  }
  EXPECT_THAT(VerifyConsistency(-1, 4, Hash{}, Hash{}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(VerifyConsistency(5, 4, Hash{}, Hash{}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(AppendLeaf(
                  -1, Hash{},
                  [](int, int64_t) -> absl::StatusOr<Hash> { return Hash{}; },
                  [](int, int64_t, const Hash&) { return absl::OkStatus(); }),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(MerkleTest, TrivialConsistency) {
  const Hash r = HashLeaf("r");
  EXPECT_THAT(VerifyConsistency(0, 0, EmptyRoot(), EmptyRoot(), {}), IsOk());
  EXPECT_THAT(VerifyConsistency(0, 5, EmptyRoot(), r, {}), IsOk());
  EXPECT_THAT(VerifyConsistency(0, 5, r, r, {}),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(VerifyConsistency(0, 5, EmptyRoot(), r, {r}),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(VerifyConsistency(3, 3, r, r, {}), IsOk());
  EXPECT_THAT(VerifyConsistency(3, 3, r, EmptyRoot(), {}),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(VerifyConsistency(3, 3, r, r, {r}),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST(MerkleTest, ReaderErrorsPropagate) {
  const auto failing = [](int, int64_t) -> absl::StatusOr<Hash> {
    return absl::UnavailableError("disk on fire");
  };
  EXPECT_THAT(RootAt(3, failing), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(InclusionProof(0, 3, failing),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(ConsistencyProof(1, 3, failing),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(
      AppendLeaf(1, Hash{}, failing,
                 [](int, int64_t, const Hash&) { return absl::OkStatus(); }),
      StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(AppendLeaf(0, Hash{}, failing,
                         [](int, int64_t, const Hash&) {
                           return absl::AbortedError("full");
                         }),
              StatusIs(absl::StatusCode::kAborted));
}

// ---------------------------------------------------------------------------
// Every size up to 70 against the reference.

constexpr int kMaxSize = 70;

TEST(MerklePropertyTest, AppendLeafWritesEachCompleteSubtreeOnce) {
  const std::vector<Hash> leaves = TestLeaves(kMaxSize);
  NodeStore store;
  for (int n = 1; n <= kMaxSize; ++n) {
    store.AppendAll(std::vector<Hash>(leaves.begin(), leaves.begin() + n));
    // One node per complete subtree: 2n - popcount(n).
    EXPECT_EQ(store.writes(), 2 * n - std::popcount(static_cast<unsigned>(n)));
    EXPECT_EQ(store.node_count(), static_cast<size_t>(store.writes()));
  }
  // And each is the reference hash of its leaves.
  Reference ref(leaves);
  for (int level = 0; (1 << level) <= kMaxSize; ++level) {
    for (int64_t index = 0; ((index + 1) << level) <= kMaxSize; ++index) {
      absl::StatusOr<Hash> node = store.Reader(kMaxSize)(level, index);
      ASSERT_THAT(node, IsOk());
      EXPECT_EQ(*node, ref.Mth(index << level, (index + 1) << level))
          << level << " " << index;
    }
  }
}

TEST(MerklePropertyTest, RootsAndProofsMatchTheReference) {
  const std::vector<Hash> leaves = TestLeaves(kMaxSize);
  Reference ref(leaves);
  NodeStore store;
  store.AppendAll(leaves);  // later leaves must not be read for smaller trees
  CompactRange range;
  std::vector<Hash> roots = {EmptyRoot()};
  for (int64_t n = 1; n <= kMaxSize; ++n) {
    SCOPED_TRACE(absl::StrCat("size ", n));
    const int max_reads = 2 * Log2Ceil(n) + 2;
    absl::StatusOr<Hash> root = RootAt(n, store.Reader(n));
    ASSERT_THAT(root, IsOk());
    EXPECT_EQ(*root, ref.Mth(0, n));
    EXPECT_LE(store.reads(), std::popcount(static_cast<uint64_t>(n)));
    range.Append(leaves[static_cast<size_t>(n - 1)]);
    EXPECT_EQ(range.Root(), *root);
    roots.push_back(*root);

    for (int64_t m = 0; m < n; ++m) {
      absl::StatusOr<std::vector<Hash>> proof =
          InclusionProof(m, n, store.Reader(n));
      ASSERT_THAT(proof, IsOk());
      EXPECT_EQ(*proof, ref.Path(m, 0, n)) << "leaf " << m;
      EXPECT_LE(store.reads(), max_reads) << "leaf " << m;
    }
    for (int64_t m = 1; m <= n; ++m) {
      absl::StatusOr<std::vector<Hash>> proof =
          ConsistencyProof(m, n, store.Reader(n));
      ASSERT_THAT(proof, IsOk());
      EXPECT_EQ(*proof, ref.Subproof(m, 0, n, true)) << "from " << m;
      EXPECT_LE(store.reads(), max_reads) << "from " << m;
    }
  }
}

// Roots of every size up to 2 * kMaxSize, for proofs checked against trees
// of other sizes.
std::vector<Hash> AllRoots(NodeStore& store) {
  std::vector<Hash> roots;
  for (int64_t n = 0; n <= store.size(); ++n) {
    absl::StatusOr<Hash> root = RootAt(n, store.Reader(n));
    EXPECT_THAT(root, IsOk());
    roots.push_back(root.ok() ? *root : Hash{});
  }
  return roots;
}

TEST(MerklePropertyTest, EveryInclusionProofVerifiesAndNoCorruptionDoes) {
  const std::vector<Hash> leaves = TestLeaves(2 * kMaxSize);
  NodeStore store;
  store.AppendAll(leaves);
  const std::vector<Hash> roots = AllRoots(store);
  for (int64_t n = 1; n <= kMaxSize; ++n) {
    const Hash& root = roots[static_cast<size_t>(n)];
    for (int64_t m = 0; m < n; ++m) {
      SCOPED_TRACE(absl::StrCat("leaf ", m, " of ", n));
      const Hash& leaf = leaves[static_cast<size_t>(m)];
      const std::vector<Hash> proof = *InclusionProof(m, n, store.Reader(n));
      ASSERT_THAT(VerifyInclusion(m, n, leaf, proof, root), IsOk());
      // Each single flipped bit, in each hash of the proof.
      for (size_t i = 0; i < proof.size(); ++i) {
        for (int bit : {0, 100, 255}) {
          std::vector<Hash> wrong = proof;
          wrong[i][static_cast<size_t>(bit / 8)] ^=
              static_cast<uint8_t>(1 << (bit % 8));
          EXPECT_THAT(VerifyInclusion(m, n, leaf, wrong, root),
                      StatusIs(absl::StatusCode::kDataLoss));
        }
      }
      Hash wrong_leaf = leaf;
      wrong_leaf[31] ^= 1;
      EXPECT_FALSE(VerifyInclusion(m, n, wrong_leaf, proof, root).ok());
      Hash wrong_root = root;
      wrong_root[0] ^= 0x80;
      EXPECT_FALSE(VerifyInclusion(m, n, leaf, proof, wrong_root).ok());
      // Another leaf's position.
      for (int64_t other = 0; other < n; ++other) {
        if (other == m) continue;
        EXPECT_FALSE(VerifyInclusion(other, n, leaf, proof, root).ok())
            << "as leaf " << other;
      }
      // Another tree: the proof does not lead to its root. (With this
      // tree's root a proof can verify for some other sizes: RFC 9162
      // binds the size to the root through the signed checkpoint.)
      for (int64_t size : {n - 1, n + 1, 2 * n, n / 2}) {
        if (size <= m) continue;
        EXPECT_FALSE(VerifyInclusion(m, size, leaf, proof,
                                     roots[static_cast<size_t>(size)])
                         .ok())
            << "in size " << size;
      }
      // Twice the size needs a longer path, whatever the root.
      EXPECT_FALSE(VerifyInclusion(m, 2 * n, leaf, proof, root).ok());
      // Another leaf's proof.
      if (m + 1 < n) {
        EXPECT_FALSE(VerifyInclusion(m, n, leaf,
                                     *InclusionProof(m + 1, n, store.Reader(n)),
                                     root)
                         .ok());
      }
    }
  }
}

TEST(MerklePropertyTest, EveryConsistencyProofVerifiesAndNoCorruptionDoes) {
  const std::vector<Hash> leaves = TestLeaves(2 * kMaxSize);
  NodeStore store;
  store.AppendAll(leaves);
  const std::vector<Hash> roots = AllRoots(store);
  // A second history that differs in one leaf.
  std::vector<Hash> forked = leaves;
  forked[3] = HashLeaf("forged");
  NodeStore fork;
  fork.AppendAll(forked);
  const std::vector<Hash> fork_roots = AllRoots(fork);
  for (int64_t second = 1; second <= kMaxSize; ++second) {
    for (int64_t first = 1; first <= second; ++first) {
      SCOPED_TRACE(absl::StrCat("sizes ", first, " and ", second));
      const Hash& root1 = roots[static_cast<size_t>(first)];
      const Hash& root2 = roots[static_cast<size_t>(second)];
      const std::vector<Hash> proof =
          *ConsistencyProof(first, second, store.Reader(second));
      ASSERT_THAT(VerifyConsistency(first, second, root1, root2, proof),
                  IsOk());
      for (size_t i = 0; i < proof.size(); ++i) {
        for (int bit : {0, 131, 255}) {
          std::vector<Hash> wrong = proof;
          wrong[i][static_cast<size_t>(bit / 8)] ^=
              static_cast<uint8_t>(1 << (bit % 8));
          EXPECT_THAT(VerifyConsistency(first, second, root1, root2, wrong),
                      StatusIs(absl::StatusCode::kDataLoss));
        }
      }
      // Other trees: the proof does not join their roots.
      for (int64_t other : {first - 1, first + 1, first / 2, first * 2}) {
        if (other < 1 || other > second || other == first) continue;
        EXPECT_FALSE(VerifyConsistency(other, second,
                                       roots[static_cast<size_t>(other)], root2,
                                       proof)
                         .ok())
            << "as first size " << other;
      }
      for (int64_t other : {second - 1, second + 1, 2 * second}) {
        if (other < first || other == second) continue;
        EXPECT_FALSE(VerifyConsistency(first, other, root1,
                                       roots[static_cast<size_t>(other)], proof)
                         .ok())
            << "as second size " << other;
      }
      if (first != second) {
        EXPECT_FALSE(
            VerifyConsistency(first, second, root2, root1, proof).ok());
        EXPECT_FALSE(VerifyConsistency(first, second, root1, root2, {}).ok());
        std::vector<Hash> shorter(proof.begin(), proof.end() - 1);
        EXPECT_FALSE(
            VerifyConsistency(first, second, root1, root2, shorter).ok());
      }
      std::vector<Hash> longer = proof;
      longer.push_back(root1);
      EXPECT_FALSE(VerifyConsistency(first, second, root1, root2, longer).ok());
      // A history that differs in leaf 3 is inconsistent wherever leaf 3
      // is in one tree at all.
      if (second > 3) {
        const Hash& forked2 = fork_roots[static_cast<size_t>(second)];
        EXPECT_FALSE(
            VerifyConsistency(first, second, root1, forked2, proof).ok());
        if (first > 3) {
          const Hash& forked1 = fork_roots[static_cast<size_t>(first)];
          EXPECT_FALSE(
              VerifyConsistency(first, second, forked1, root2, proof).ok());
        }
      }
    }
  }
}

TEST(MerklePropertyTest, LargeTreesNeedFewReads) {
  // Sparse store: only the nodes a tree of 2^40 + 12345 leaves would hold
  // along the paths asked for are synthesised on demand.
  int reads = 0;
  const auto synthetic = [&reads](int level,
                                  int64_t index) -> absl::StatusOr<Hash> {
    ++reads;
    return HashLeaf(absl::StrCat(level, "/", index));
  };
  const int64_t n = (int64_t{1} << 40) + 12345;
  ASSERT_THAT(RootAt(n, synthetic), IsOk());
  EXPECT_LE(reads, 41);
  reads = 0;
  absl::StatusOr<std::vector<Hash>> proof = InclusionProof(n - 2, n, synthetic);
  ASSERT_THAT(proof, IsOk());
  EXPECT_LE(reads, 2 * 41 + 2);
  reads = 0;
  ASSERT_THAT(ConsistencyProof(n - 12346, n, synthetic), IsOk());
  EXPECT_LE(reads, 2 * 41 + 2);
}

}  // namespace
}  // namespace samplan::audit
