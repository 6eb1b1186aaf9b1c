// Micro-benchmarks of consent::Decide(), which GetPlan calls once per entry,
// so its cost is paid per entry on every read of a plan.
//
// The subject is a 10-year-old child in the joint custody of two guardians:
// under the default policy both guardians' grants are needed. The grants on
// file are a realistic mix from both guardians (other agencies, expired,
// withdrawn, revoked, another plan, other categories), and the covering ones
// come last, so no early exit can skip the others. Each benchmark checks
// its decision once before timing, so it cannot silently measure the wrong
// path (an unexpected deny, or invalid input that fails fast).

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "bench/bench_support.h"
#include "benchmark/benchmark.h"
#include "consent/engine.h"
#include "consent/identity_number.h"

namespace samplan::bench {
namespace {

using consent::Category;
using consent::GrantorRole;
using consent::GrantState;
using consent::Reason;
using consent::Sector;

constexpr char kPlan[] = "p7f3k2q9x1m4c8d0w5e2";
constexpr char kOtherPlan[] = "p2m8x4c1z9r7t3b6n0a5";

absl::Time Utc(int y, int m, int d, int hh = 0, int mm = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, 0),
                         absl::UTCTimeZone());
}

// A guardian's grant bup-1 -> SCHOOL for needs and interventions in kPlan,
// active over the school year; its id sorts by `i`.
consent::Grant CoveringGrant(int i, const std::string& subject,
                             const std::string& guardian) {
  consent::Grant g;
  g.id = absl::StrCat("g", absl::Dec(i, absl::kZeroPad4));
  g.subject = subject;
  g.grantor_role = GrantorRole::kGuardian;
  g.grantor = guardian;
  g.scope.disclosing_agencies = {"bup-1"};
  g.scope.receiving_sectors = {Sector::kSchool};
  g.scope.categories = {Category::kNeeds, Category::kInterventions};
  g.scope.plan = kPlan;
  g.valid_from = Utc(2025, 8, 18);
  g.valid_until = Utc(2026, 8, 18);
  g.state = GrantState::kActive;
  return g;
}

// Grant number `i` that does not cover the access: the history a plan
// collects over the years, in six kinds.
consent::Grant OtherGrant(int i, const std::string& subject,
                          const std::string& guardian) {
  consent::Grant g = CoveringGrant(i, subject, guardian);
  switch (i % 6) {
    case 0:  // social services -> healthcare
      g.scope.disclosing_agencies = {"soc-1"};
      g.scope.receiving_sectors = {Sector::kHealthcare};
      break;
    case 1:  // last school year's, marked expired by the sweeper
      g.valid_from = Utc(2024, 8, 19);
      g.valid_until = Utc(2025, 8, 18);
      g.state = GrantState::kExpired;
      break;
    case 2:  // withdrawn by the guardian
      g.state = GrantState::kWithdrawn;
      g.ended_at = Utc(2025, 11, 3, 14, 5);
      break;
    case 3:  // limited to an earlier plan
      g.scope.plan = kOtherPlan;
      break;
    case 4:  // health and social situation only
      g.scope.categories = {Category::kHealth, Category::kSocialSituation};
      break;
    default:  // revoked by an administrator on request
      g.state = GrantState::kRevoked;
      g.ended_at = Utc(2026, 1, 20, 9, 40);
      break;
  }
  return g;
}

// One read: the school reads bup-1's intervention entry in kPlan.
struct Scenario {
  consent::Policy policy;
  consent::Access access;
  std::vector<consent::Grant> grants;
  std::vector<consent::CustodyFact> custody;
  absl::Time now;

  consent::Facts facts() const { return consent::Facts{grants, custody, {}}; }
};

// `other` non-covering grants from both guardians in turn, followed by one
// covering grant from each guardian when `covering`.
Scenario MakeScenario(const consent::Policy& policy, int other, bool covering) {
  Scenario s;
  s.policy = policy;
  s.now = Utc(2026, 3, 16, 9, 30);
  // Born 2015-09-14: 10 years old at `now`.
  const std::string child = IdentityNumberFor(absl::CivilDay(2015, 9, 14), 238);
  const std::string mother =
      IdentityNumberFor(absl::CivilDay(1984, 2, 29), 402);
  const std::string father =
      IdentityNumberFor(absl::CivilDay(1982, 11, 7), 115);
  const absl::Time birth = Utc(2015, 9, 14);
  s.custody = {
      consent::CustodyFact{child, mother, birth, absl::InfiniteFuture()},
      consent::CustodyFact{child, father, birth, absl::InfiniteFuture()}};

  for (int i = 0; i < other; ++i) {
    s.grants.push_back(OtherGrant(i, child, i % 2 == 0 ? mother : father));
  }
  if (covering) {
    s.grants.push_back(CoveringGrant(other, child, mother));
    s.grants.push_back(CoveringGrant(other + 1, child, father));
  }

  s.access.subject = child;
  s.access.plan = kPlan;
  s.access.owner = consent::Agency{"bup-1", Sector::kHealthcare};
  s.access.reader = consent::Agency{"school-1", Sector::kSchool};
  s.access.category = Category::kInterventions;
  s.access.reader_participates = true;
  return s;
}

// Times Decide() on `s`; items are decisions.
void RunDecide(benchmark::State& state, const Scenario& s) {
  const consent::Facts facts = s.facts();
  for (auto _ : state) {
    consent::Decision d = consent::Decide(s.access, facts, s.policy, s.now);
    benchmark::DoNotOptimize(d);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["grants"] = static_cast<double>(s.grants.size());
}

// An allow by consent with range(0) grants on file: range(0) - 2 that do not
// cover the read, then one covering grant from each guardian. Joint custody
// needs both, so 2 is the smallest allow.
void BM_DecideAllowed(benchmark::State& state) {
  absl::StatusOr<consent::Policy> policy = consent::DefaultPolicy();
  if (!policy.ok()) {
    state.SkipWithError(std::string(policy.status().message()).c_str());
    return;
  }
  const int n = static_cast<int>(state.range(0));
  if (n < 2) {
    state.SkipWithError("joint custody: an allow needs at least 2 grants");
    return;
  }
  const Scenario s = MakeScenario(*policy, n - 2, /*covering=*/true);
  const consent::Decision d =
      consent::Decide(s.access, s.facts(), s.policy, s.now);
  if (!d.allowed || d.reason != Reason::kConsentCovers ||
      d.grants_relied_on.size() != 2) {
    state.SkipWithError(
        absl::StrCat("expected an allow by CONSENT_COVERS on 2 grants; got ",
                     d.allowed ? "ALLOW (" : "DENY (",
                     consent::ReasonName(d.reason), ") on ",
                     d.grants_relied_on.size(), " grants")
            .c_str());
    return;
  }
  RunDecide(state, s);
}
BENCHMARK(BM_DecideAllowed)->Arg(2)->Arg(20)->Arg(200);

// A deny with range(0) grants on file, none of which covers the read. The
// deny path also ranks every grant and picks the closest one's reason.
void BM_DecideDenied(benchmark::State& state) {
  absl::StatusOr<consent::Policy> policy = consent::DefaultPolicy();
  if (!policy.ok()) {
    state.SkipWithError(std::string(policy.status().message()).c_str());
    return;
  }
  const int n = static_cast<int>(state.range(0));
  const Scenario s = MakeScenario(*policy, n, /*covering=*/false);
  const consent::Decision d =
      consent::Decide(s.access, s.facts(), s.policy, s.now);
  // A deny for a consent reason; not one decided before looking at grants.
  if (d.allowed || d.reason == Reason::kInvalidInput ||
      d.reason == Reason::kNotParticipant || d.reason == Reason::kNoConsent) {
    state.SkipWithError(absl::StrCat("expected a deny on the grants; got ",
                                     d.allowed ? "ALLOW (" : "DENY (",
                                     consent::ReasonName(d.reason), ")")
                            .c_str());
    return;
  }
  RunDecide(state, s);
  state.SetLabel(std::string(consent::ReasonName(d.reason)).c_str());
}
BENCHMARK(BM_DecideDenied)->Arg(20);

}  // namespace
}  // namespace samplan::bench
