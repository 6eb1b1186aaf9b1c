// Randomised property tests of consent::Decide (docs: consent-rules.md).
//
// Each test generates the same worlds from fixed seeds: a subject (a child
// under 15 in joint custody, a subject of 15-17, or an adult with a legal
// representative), the people around it, 1-6 grants by competent and
// incompetent grantors with random scopes, periods and states, and one access.
// The properties are checked against the Grant fields directly, not against
// the engine's own helpers. Everything is deterministic: no wall clock, no
// random device.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "consent/engine.h"
#include "consent/identity_number.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace samplan::consent {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr int kSeeds = 20;
constexpr int kCasesPerSeed = 200;
constexpr uint32_t kSeedBase = 0x5A3C0001u;
constexpr int kDaySeconds = 24 * 60 * 60;
constexpr int kAgencyCount = 4;

uint32_t SeedAt(int i) { return kSeedBase + static_cast<uint32_t>(i) * 7919u; }

// --- The world ---------------------------------------------------------------

enum class Kind { kChild, kTeen, kAdult };

absl::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kChild:
      return "child under 15, joint custody";
    case Kind::kTeen:
      return "subject 15-17";
    case Kind::kAdult:
      return "adult with a legal representative";
  }
  return "?";
}

Agency AgencyAt(int i) {
  switch (i) {
    case 0:
      return Agency{"school-1", Sector::kSchool};
    case 1:
      return Agency{"school-2", Sector::kSchool};
    case 2:
      return Agency{"soc-1", Sector::kSocialServices};
    default:
      return Agency{"bup-1", Sector::kHealthcare};
  }
}

int AgencyIndex(const Agency& agency) {
  for (int i = 0; i < kAgencyCount; ++i) {
    if (AgencyAt(i).id == agency.id) return i;
  }
  return 0;
}

Sector SectorAt(int i) { return static_cast<Sector>(1 + i % 3); }

std::string TwoDigits(int v) {
  return std::string{static_cast<char>('0' + v / 10 % 10),
                     static_cast<char>('0' + v % 10)};
}

// A valid 12-digit personal identity number for `birth` and `serial`
// (0-999), with the Luhn check digit.
std::string NumberFor(absl::CivilDay birth, int serial) {
  const std::string date = absl::StrCat(birth.year(), TwoDigits(birth.month()),
                                        TwoDigits(birth.day()));
  const std::string nnn =
      absl::StrCat(serial / 100 % 10, serial / 10 % 10, serial % 10);
  const int check = LuhnCheckDigit(absl::StrCat(date.substr(2), nnn));
  return absl::StrCat(date, nnn, check);
}

absl::Time Start2025() {
  return absl::FromCivil(absl::CivilSecond(2025, 1, 1, 0, 0, 0),
                         absl::UTCTimeZone());
}

struct World {
  Kind kind = Kind::kChild;
  absl::Time now;
  int subject_serial = 0;
  std::string guardian1;       // custody of the subject until 18
  std::string guardian2;       // custody of the subject until 18
  std::string representative;  // of the subject (adults; sometimes others)
  std::string stranger;        // no custody now, no representation
  std::string other_subject;   // another child
  absl::CivilDay subject_birth_date;  // the birth date in access.subject
  Access access;
  std::vector<Grant> grants;
  std::vector<CustodyFact> custody;
  std::vector<Representation> representations;
};

Facts FactsOf(const World& w, const std::vector<Grant>& grants) {
  Facts facts;
  facts.grants = absl::MakeConstSpan(grants);
  facts.custody = absl::MakeConstSpan(w.custody);
  facts.representations = absl::MakeConstSpan(w.representations);
  return facts;
}

Decision DecideFor(const World& w, const Policy& policy) {
  return Decide(w.access, FactsOf(w, w.grants), policy, w.now);
}

Decision DecideWith(const World& w, const std::vector<Grant>& grants,
                    const Policy& policy) {
  return Decide(w.access, FactsOf(w, grants), policy, w.now);
}

// Gives the subject another birth date, and so another identity number,
// everywhere in `w`; custody moves with the birth.
void Rebirth(World& w, absl::CivilDay birth, absl::TimeZone zone) {
  const std::string old_subject = w.access.subject;
  const std::string new_subject = NumberFor(birth, w.subject_serial);
  const absl::Duration shift =
      absl::FromCivil(absl::CivilSecond(birth), zone) -
      absl::FromCivil(absl::CivilSecond(w.subject_birth_date), zone);
  w.access.subject = new_subject;
  w.subject_birth_date = birth;
  for (Grant& g : w.grants) {
    if (g.subject == old_subject) g.subject = new_subject;
    if (g.grantor == old_subject) g.grantor = new_subject;
  }
  for (CustodyFact& c : w.custody) {
    if (c.subject != old_subject) continue;
    c.subject = new_subject;
    c.valid_from += shift;
    c.valid_until += shift;
  }
  for (Representation& r : w.representations) {
    if (r.subject == old_subject) r.subject = new_subject;
  }
}

void SetGrantor(Grant& g, const std::string& person, GrantorRole role) {
  g.grantor = person;
  g.grantor_role = role;
}

// Builds random worlds from one seed.
class WorldMaker {
 public:
  WorldMaker(uint32_t seed, absl::TimeZone zone) : rng_(seed), zone_(zone) {}

  int Uniform(int lo, int hi) {
    std::uniform_int_distribution<int> dist(lo, hi);
    return dist(rng_);
  }
  bool Chance(int percent) { return Uniform(0, 99) < percent; }
  std::mt19937& rng() { return rng_; }

  World Make() { return Make(static_cast<Kind>(Uniform(0, 2))); }

  World Make(Kind kind) {
    World w;
    w.kind = kind;
    w.now = Start2025() + absl::Seconds(Uniform(0, 3 * 365 * kDaySeconds));
    const absl::CivilDay today = absl::ToCivilDay(w.now, zone_);
    int age = 0;
    switch (kind) {
      case Kind::kChild:
        age = Uniform(1, 13);
        break;
      case Kind::kTeen:
        age = Uniform(15, 17);
        break;
      case Kind::kAdult:
        age = Uniform(19, 90);
        break;
    }
    // The last birthday was 3-300 days ago: the age is exactly `age`.
    const int days_since_birthday = Uniform(3, 300);
    const absl::CivilDay birth =
        absl::CivilDay(today.year() - age, today.month(), today.day()) -
        days_since_birthday;
    w.subject_serial = Uniform(0, 99);
    w.access.subject = NumberFor(birth, w.subject_serial);
    w.subject_birth_date = birth;
    // Serial ranges keep every person distinct.
    w.guardian1 = AdultNumber(today, 200, 399);
    w.guardian2 = AdultNumber(today, 400, 599);
    w.representative = AdultNumber(today, 600, 799);
    w.stranger = AdultNumber(today, 800, 999);
    const int sibling_days = Uniform(1, 100);
    const int sibling_serial = Uniform(100, 199);
    w.other_subject = NumberFor(birth + sibling_days, sibling_serial);
    SetFamily(w);
    SetAccess(w.access);
    const int grant_count = Uniform(1, 6);
    for (int i = 0; i < grant_count; ++i) w.grants.push_back(MakeGrant(w, i));
    return w;
  }

 private:
  std::string AdultNumber(absl::CivilDay today, int serial_lo, int serial_hi) {
    const int years = Uniform(25, 60);
    const int month = Uniform(1, 12);
    const int day = Uniform(1, 28);
    const int serial = Uniform(serial_lo, serial_hi);
    return NumberFor(absl::CivilDay(today.year() - years, month, day), serial);
  }

  std::string RandomPlan() { return Chance(50) ? "plan-a" : "plan-b"; }

  void SetFamily(World& w) {
    const absl::CivilDay birth = w.subject_birth_date;
    const absl::Time born = absl::FromCivil(absl::CivilSecond(birth), zone_);
    const absl::Time grown_up =
        absl::FromCivil(absl::CivilSecond(absl::CivilDay(
                            birth.year() + 18, birth.month(), birth.day())),
                        zone_);
    // Joint custody from birth to 18 (so, for an adult, ended).
    for (const std::string* guardian : {&w.guardian1, &w.guardian2}) {
      CustodyFact c;
      c.subject = w.access.subject;
      c.guardian = *guardian;
      c.valid_from = born;
      c.valid_until = grown_up;
      w.custody.push_back(c);
    }
    if (Chance(20)) w.custody.push_back(w.custody.front());  // recorded twice
    if (Chance(25)) {
      // Custody that ended within the first year (every subject is older).
      CustodyFact c;
      c.subject = w.access.subject;
      c.guardian = w.stranger;
      c.valid_from = born;
      c.valid_until = born + absl::Hours(24 * Uniform(1, 365));
      w.custody.push_back(c);
    }
    if (w.kind == Kind::kAdult || Chance(10)) {
      Representation r;
      r.subject = w.access.subject;
      r.representative = w.representative;
      r.covers_consent = Chance(85);
      if (Chance(85)) {
        r.valid_from = w.now - absl::Seconds(Uniform(0, 1000 * kDaySeconds));
        r.valid_until =
            Chance(50) ? absl::InfiniteFuture()
                       : w.now + absl::Seconds(Uniform(1, 300 * kDaySeconds));
      } else {
        r.valid_until = w.now - absl::Seconds(Uniform(0, 100 * kDaySeconds));
        r.valid_from =
            r.valid_until - absl::Seconds(Uniform(1, 300 * kDaySeconds));
      }
      w.representations.push_back(r);
    }
  }

  void SetAccess(Access& a) {
    a.plan = RandomPlan();
    const int owner = Uniform(0, kAgencyCount - 1);
    a.owner = AgencyAt(owner);
    if (Chance(15)) {
      a.reader = a.owner;
    } else {
      const int step = Uniform(1, kAgencyCount - 1);
      a.reader = AgencyAt((owner + step) % kAgencyCount);
    }
    a.category = static_cast<Category>(Uniform(1, kMaxCategory));
    a.reader_participates = Chance(85);
  }

  // Mostly the people whose grant counts, sometimes others, and sometimes a
  // competent person with the wrong role.
  void PickGrantor(const World& w, Grant& g) {
    const int r = Uniform(0, 99);
    const std::string& subject = w.access.subject;
    switch (w.kind) {
      case Kind::kChild:
        if (r < 42) {
          SetGrantor(g, w.guardian1, GrantorRole::kGuardian);
        } else if (r < 84) {
          SetGrantor(g, w.guardian2, GrantorRole::kGuardian);
        } else if (r < 92) {
          SetGrantor(g, subject, GrantorRole::kSubject);
        } else if (r < 96) {
          SetGrantor(g, w.stranger, GrantorRole::kGuardian);
        } else if (r < 98) {
          SetGrantor(g, w.representative, GrantorRole::kLegalRepresentative);
        } else {
          SetGrantor(g, w.guardian1, GrantorRole::kSubject);
        }
        break;
      case Kind::kTeen:
        if (r < 50) {
          SetGrantor(g, subject, GrantorRole::kSubject);
        } else if (r < 70) {
          SetGrantor(g, w.guardian1, GrantorRole::kGuardian);
        } else if (r < 90) {
          SetGrantor(g, w.guardian2, GrantorRole::kGuardian);
        } else if (r < 95) {
          SetGrantor(g, w.stranger, GrantorRole::kGuardian);
        } else {
          SetGrantor(g, subject, GrantorRole::kGuardian);
        }
        break;
      case Kind::kAdult:
        if (r < 50) {
          SetGrantor(g, subject, GrantorRole::kSubject);
        } else if (r < 80) {
          SetGrantor(g, w.representative, GrantorRole::kLegalRepresentative);
        } else if (r < 88) {
          SetGrantor(g, w.guardian1, GrantorRole::kGuardian);
        } else if (r < 95) {
          SetGrantor(g, w.stranger, GrantorRole::kLegalRepresentative);
        } else {
          SetGrantor(g, w.representative, GrantorRole::kSubject);
        }
        break;
    }
  }

  // One side of a scope: when `aim`, it names `target` (by id or sector).
  void FillSide(const Agency& target, bool aim, std::vector<std::string>& ids,
                std::vector<Sector>& sectors) {
    if (aim) {
      if (Chance(50)) {
        ids.push_back(target.id);
      } else {
        sectors.push_back(target.sector);
      }
    }
    const int extra = Uniform(aim ? 0 : 1, 2);
    for (int i = 0; i < extra; ++i) {
      if (Chance(50)) {
        ids.push_back(AgencyAt(Uniform(0, kAgencyCount - 1)).id);
      } else {
        sectors.push_back(SectorAt(Uniform(0, 2)));
      }
    }
  }

  Scope MakeScope(const Access& a, bool aim) {
    Scope s;
    FillSide(a.owner, aim, s.disclosing_agencies, s.disclosing_sectors);
    FillSide(a.reader, aim, s.receiving_agencies, s.receiving_sectors);
    if (aim) s.categories.push_back(a.category);
    const int extra = Uniform(aim ? 0 : 1, 3);
    for (int i = 0; i < extra; ++i) {
      s.categories.push_back(static_cast<Category>(Uniform(1, kMaxCategory)));
    }
    const int p = Uniform(0, 99);
    if (p < 15) {
      s.plan = aim ? a.plan : RandomPlan();
    } else if (p < 25) {
      s.plan = RandomPlan();
    }
    return s;
  }

  // Periods around `now`, including ones that start or end exactly at `now`.
  void SetPeriod(absl::Time now, Grant& g) {
    const int r = Uniform(0, 99);
    if (r < 62) {
      g.valid_from = now - absl::Seconds(Uniform(0, 300 * kDaySeconds));
      g.valid_until = now + absl::Seconds(Uniform(1, 300 * kDaySeconds));
    } else if (r < 72) {  // not yet valid
      g.valid_from = now + absl::Seconds(Uniform(1, 60 * kDaySeconds));
      g.valid_until =
          g.valid_from + absl::Seconds(Uniform(1, 300 * kDaySeconds));
    } else if (r < 84) {  // expired, possibly exactly at `now`
      g.valid_until = now - absl::Seconds(Uniform(0, 60 * kDaySeconds));
      g.valid_from =
          g.valid_until - absl::Seconds(Uniform(1, 300 * kDaySeconds));
    } else if (r < 92) {  // starts exactly at `now`
      g.valid_from = now;
      g.valid_until = now + absl::Hours(Uniform(1, 2000));
    } else {  // ends at `now` or one second later
      g.valid_until = now + absl::Seconds(Uniform(0, 1));
      g.valid_from = g.valid_until - absl::Hours(Uniform(1, 2000));
    }
  }

  void SetState(absl::Time now, Grant& g) {
    const int r = Uniform(0, 99);
    if (r < 70) {
      g.state = GrantState::kActive;
    } else if (r < 78) {
      g.state = GrantState::kWithdrawn;
      g.ended_at = now - absl::Seconds(Uniform(0, 30 * kDaySeconds));
    } else if (r < 84) {
      g.state = GrantState::kRevoked;
      g.ended_at = now - absl::Seconds(Uniform(0, 30 * kDaySeconds));
    } else if (r < 89) {
      g.state = GrantState::kExpired;
    } else if (r < 93) {
      g.state = GrantState::kVoid;
      g.ended_at = now - absl::Seconds(Uniform(0, 30 * kDaySeconds));
    } else if (r < 97) {
      // Still marked active, but ended at or before `now`.
      g.state = GrantState::kActive;
      g.ended_at = now - absl::Seconds(Uniform(0, 30 * kDaySeconds));
    } else {
      // Marked active, ending later.
      g.state = GrantState::kActive;
      g.ended_at = now + absl::Seconds(Uniform(1, 30 * kDaySeconds));
    }
  }

  // Now and then, a malformed grant.
  void MaybeBreak(Grant& g) {
    if (!Chance(8)) return;
    switch (Uniform(0, 9)) {
      case 0:
        g.valid_until = g.valid_from;
        break;
      case 1:
        g.valid_until = g.valid_from - absl::Hours(Uniform(1, 100));
        break;
      case 2:
        g.scope.categories.clear();
        break;
      case 3:
        g.scope.categories.push_back(Category::kUnspecified);
        break;
      case 4:
        g.scope.categories.push_back(static_cast<Category>(99));
        break;
      case 5:
        g.scope.disclosing_agencies.clear();
        g.scope.disclosing_sectors.clear();
        break;
      case 6:
        g.scope.receiving_agencies.clear();
        g.scope.receiving_sectors.clear();
        break;
      case 7:
        g.scope.receiving_sectors.push_back(Sector::kUnspecified);
        break;
      case 8:
        g.state = GrantState::kUnspecified;
        break;
      default:
        g.grantor_role = GrantorRole::kUnspecified;
        break;
    }
  }

  Grant MakeGrant(const World& w, int index) {
    Grant g;
    g.id = absl::StrCat("grant-", index);
    g.subject = Chance(95) ? w.access.subject : w.other_subject;
    PickGrantor(w, g);
    const bool aim = Chance(65);
    g.scope = MakeScope(w.access, aim);
    SetPeriod(w.now, g);
    SetState(w.now, g);
    MaybeBreak(g);
    return g;
  }

  std::mt19937 rng_;
  absl::TimeZone zone_;
};

// --- Independent checks, from the rules --------------------------------------

bool ValidCategoryValue(Category c) {
  const int v = static_cast<int>(c);
  return v >= 1 && v <= kMaxCategory;
}

bool ValidSectorValue(Sector s) {
  return s == Sector::kSchool || s == Sector::kSocialServices ||
         s == Sector::kHealthcare;
}

bool IsWellFormed(const Grant& g) {
  if (g.grantor.empty()) return false;
  if (g.grantor_role != GrantorRole::kSubject &&
      g.grantor_role != GrantorRole::kGuardian &&
      g.grantor_role != GrantorRole::kLegalRepresentative) {
    return false;
  }
  const int state = static_cast<int>(g.state);
  if (state < 1 || state > 5) return false;
  if (!(g.valid_from < g.valid_until)) return false;
  const Scope& s = g.scope;
  if (s.disclosing_agencies.empty() && s.disclosing_sectors.empty()) {
    return false;
  }
  if (s.receiving_agencies.empty() && s.receiving_sectors.empty()) {
    return false;
  }
  if (s.categories.empty()) return false;
  if (!std::all_of(s.categories.begin(), s.categories.end(),
                   ValidCategoryValue)) {
    return false;
  }
  return std::all_of(s.disclosing_sectors.begin(), s.disclosing_sectors.end(),
                     ValidSectorValue) &&
         std::all_of(s.receiving_sectors.begin(), s.receiving_sectors.end(),
                     ValidSectorValue);
}

bool SideNames(const std::vector<std::string>& ids,
               const std::vector<Sector>& sectors, const Agency& agency) {
  return std::find(ids.begin(), ids.end(), agency.id) != ids.end() ||
         std::find(sectors.begin(), sectors.end(), agency.sector) !=
             sectors.end();
}

// The grant's scope covers (subject, owner, reader, category, plan).
bool CoversAccess(const Grant& g, const Access& a) {
  const Scope& s = g.scope;
  return g.subject == a.subject &&
         SideNames(s.disclosing_agencies, s.disclosing_sectors, a.owner) &&
         SideNames(s.receiving_agencies, s.receiving_sectors, a.reader) &&
         std::find(s.categories.begin(), s.categories.end(), a.category) !=
             s.categories.end() &&
         (s.plan.empty() || s.plan == a.plan);
}

// Active, valid_from <= t < valid_until, not ended at or before t.
bool EffectiveAt(const Grant& g, absl::Time t) {
  return g.state == GrantState::kActive &&
         (!g.ended_at.has_value() || *g.ended_at > t) && g.valid_from <= t &&
         t < g.valid_until;
}

bool HasCustody(const World& w, absl::string_view person, absl::Time t) {
  for (const CustodyFact& c : w.custody) {
    if (c.subject == w.access.subject && c.guardian == person &&
        c.valid_from <= t && t < c.valid_until) {
      return true;
    }
  }
  return false;
}

bool RepresentsWithConsent(const World& w, absl::string_view person,
                           absl::Time t) {
  for (const Representation& r : w.representations) {
    if (r.subject == w.access.subject && r.representative == person &&
        r.covers_consent && r.valid_from <= t && t < r.valid_until) {
      return true;
    }
  }
  return false;
}

int AgeAt(const World& w, const Policy& policy, absl::Time t) {
  return AgeOn(w.subject_birth_date, absl::ToCivilDay(t, policy.zone));
}

// Whether `g`'s grantor may consent for the subject at `t` (competence).
bool GrantorCompetent(const World& w, const Grant& g, const Policy& policy,
                      absl::Time t) {
  const int age = AgeAt(w, policy, t);
  const bool by_subject =
      g.grantor_role == GrantorRole::kSubject && g.grantor == w.access.subject;
  const bool by_guardian =
      g.grantor_role == GrantorRole::kGuardian && HasCustody(w, g.grantor, t);
  const bool by_representative =
      g.grantor_role == GrantorRole::kLegalRepresentative &&
      RepresentsWithConsent(w, g.grantor, t);
  if (age < policy.consent_age) return by_guardian;
  if (age < policy.adult_age) {
    return by_subject ||
           (policy.teen_rule == TeenRule::kSubjectOrGuardians && by_guardian);
  }
  return by_subject || by_representative;
}

const Grant* FindGrant(const std::vector<Grant>& grants, absl::string_view id) {
  for (const Grant& g : grants) {
    if (g.id == id) return &g;
  }
  return nullptr;
}

bool Names(const Decision& d, absl::string_view id) {
  return std::find(d.grants_relied_on.begin(), d.grants_relied_on.end(), id) !=
         d.grants_relied_on.end();
}

// The decision relies on a grant of `person` made in `role`.
bool NamesGrantOf(const Decision& d, const std::vector<Grant>& grants,
                  absl::string_view person, GrantorRole role) {
  for (const std::string& id : d.grants_relied_on) {
    const Grant* g = FindGrant(grants, id);
    if (g != nullptr && g->grantor == person && g->grantor_role == role) {
      return true;
    }
  }
  return false;
}

std::string Describe(const Decision& d) {
  return absl::StrCat(d.allowed ? "allow " : "deny ", ReasonName(d.reason),
                      " [", absl::StrJoin(d.grants_relied_on, ","), "]");
}

bool SameDecision(const Decision& a, const Decision& b) {
  return a.allowed == b.allowed && a.reason == b.reason &&
         a.grants_relied_on == b.grants_relied_on &&
         a.explanation == b.explanation;
}

std::vector<Grant> WithoutGrant(const std::vector<Grant>& grants,
                                size_t index) {
  std::vector<Grant> out = grants;
  out.erase(out.begin() + static_cast<std::ptrdiff_t>(index));
  return out;
}

// The grants except those `person` made in `role`.
std::vector<Grant> WithoutGrantsOf(const std::vector<Grant>& grants,
                                   absl::string_view person, GrantorRole role) {
  std::vector<Grant> out;
  for (const Grant& g : grants) {
    if (g.grantor == person && g.grantor_role == role) continue;
    out.push_back(g);
  }
  return out;
}

void Withdraw(Grant& g, absl::Time at) {
  g.state = GrantState::kWithdrawn;
  g.ended_at = at;
}

// --- The tests ---------------------------------------------------------------

using WorldCheck =
    std::function<void(WorldMaker&, const World&, const std::string&)>;

class DecidePropertyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(absl::LoadTimeZone("Europe/Stockholm", &policy_.zone))
        << "the tests need tzdata for Europe/Stockholm";
  }

  // Runs `check` on every generated world, with a description of where it
  // is; stops at the first case that fails.
  void ForEachWorld(const WorldCheck& check) {
    for (int s = 0; s < kSeeds; ++s) {
      WorldMaker maker(SeedAt(s), policy_.zone);
      for (int i = 0; i < kCasesPerSeed; ++i) {
        const World w = maker.Make();
        check(maker, w,
              absl::StrCat("seed #", s, " case ", i, " (", KindName(w.kind),
                           ")"));
        if (HasFailure()) return;
      }
    }
  }

  Policy policy_;
};

TEST_F(DecidePropertyTest, GeneratedWorldsAreValid) {
  std::array<int, 3> worlds = {0, 0, 0};
  std::array<int, 3> consent_allows = {0, 0, 0};
  ForEachWorld([&](WorldMaker&, const World& w, const std::string& where) {
    for (const std::string* number :
         {&w.access.subject, &w.guardian1, &w.guardian2, &w.representative,
          &w.stranger, &w.other_subject}) {
      const absl::StatusOr<IdentityNumber> id = IdentityNumber::Parse(*number);
      ASSERT_TRUE(id.ok()) << where << ": " << id.status();
    }
    for (const Grant& g : w.grants) {
      EXPECT_TRUE(IdentityNumber::Parse(g.subject).ok()) << where;
      EXPECT_TRUE(IdentityNumber::Parse(g.grantor).ok()) << where;
    }
    const absl::StatusOr<IdentityNumber> subject =
        IdentityNumber::Parse(w.access.subject);
    ASSERT_TRUE(subject.ok()) << where;
    EXPECT_EQ(subject->birth_date(), w.subject_birth_date) << where;

    const int age = AgeAt(w, policy_, w.now);
    EXPECT_EQ(SubjectAge(w.subject_birth_date, policy_, w.now), age) << where;
    switch (w.kind) {
      case Kind::kChild:
        EXPECT_TRUE(age >= 1 && age < 15) << where << ": age " << age;
        EXPECT_TRUE(HasCustody(w, w.guardian1, w.now)) << where;
        EXPECT_TRUE(HasCustody(w, w.guardian2, w.now)) << where;
        break;
      case Kind::kTeen:
        EXPECT_TRUE(age >= 15 && age < 18) << where << ": age " << age;
        break;
      case Kind::kAdult:
        EXPECT_GE(age, 18) << where;
        break;
    }
    EXPECT_FALSE(HasCustody(w, w.stranger, w.now)) << where;

    const size_t k = static_cast<size_t>(w.kind);
    ++worlds[k];
    if (DecideFor(w, policy_).reason == Reason::kConsentCovers) {
      ++consent_allows[k];
    }
  });
  for (size_t k = 0; k < worlds.size(); ++k) {
    EXPECT_GT(worlds[k], 100) << KindName(static_cast<Kind>(k));
    // The properties below are only worth something if allows happen.
    EXPECT_GT(consent_allows[k], 10) << KindName(static_cast<Kind>(k));
  }
}

// (a) Monotonicity: fewer grants never turn a deny into an allow.
TEST_F(DecidePropertyTest, RemovingGrantsNeverTurnsDenyIntoAllow) {
  int denies = 0;
  ForEachWorld([&](WorldMaker& maker, const World& w,
                   const std::string& where) {
    const Decision before = DecideFor(w, policy_);
    if (before.allowed) return;
    ++denies;
    for (size_t i = 0; i < w.grants.size(); ++i) {
      const Decision after = DecideWith(w, WithoutGrant(w.grants, i), policy_);
      EXPECT_FALSE(after.allowed) << where << ": without " << w.grants[i].id
                                  << " got " << Describe(after);
    }
    // Random subsets, the empty one included.
    for (int round = 0; round < 3; ++round) {
      std::vector<Grant> subset;
      for (const Grant& g : w.grants) {
        if (round > 0 && maker.Chance(50)) subset.push_back(g);
      }
      const Decision after = DecideWith(w, subset, policy_);
      EXPECT_FALSE(after.allowed) << where << ": a subset of " << subset.size()
                                  << " grants got " << Describe(after);
    }
  });
  EXPECT_GT(denies, 100);
}

// (a) Joint custody: without one guardian's grants there is no allow, and an
// allow becomes GUARDIAN_CONSENT_MISSING.
TEST_F(DecidePropertyTest, JointCustodyWithoutOneGuardiansGrantsIsDenied) {
  int allows_checked = 0;
  ForEachWorld([&](WorldMaker&, const World& w, const std::string& where) {
    if (w.kind != Kind::kChild || w.access.owner.id == w.access.reader.id) {
      return;
    }
    const Decision before = DecideFor(w, policy_);
    if (before.reason == Reason::kConsentCovers) ++allows_checked;
    for (const std::string* guardian : {&w.guardian1, &w.guardian2}) {
      const Decision after = DecideWith(
          w, WithoutGrantsOf(w.grants, *guardian, GrantorRole::kGuardian),
          policy_);
      EXPECT_FALSE(after.allowed)
          << where << ": one guardian's grants removed, got "
          << Describe(after);
      if (before.reason == Reason::kConsentCovers) {
        EXPECT_EQ(after.reason, Reason::kGuardianConsentMissing)
            << where << ": got " << Describe(after);
      }
    }
  });
  EXPECT_GT(allows_checked, 10);
}

// Grants an allow does not name play no part in it.
TEST_F(DecidePropertyTest, RemovingAGrantNotReliedOnKeepsTheDecision) {
  int checked = 0;
  ForEachWorld([&](WorldMaker&, const World& w, const std::string& where) {
    const Decision before = DecideFor(w, policy_);
    if (before.reason != Reason::kConsentCovers) return;
    for (size_t i = 0; i < w.grants.size(); ++i) {
      if (Names(before, w.grants[i].id)) continue;
      ++checked;
      const Decision after = DecideWith(w, WithoutGrant(w.grants, i), policy_);
      EXPECT_TRUE(SameDecision(before, after))
          << where << ": without " << w.grants[i].id << ", " << Describe(before)
          << " became " << Describe(after);
    }
  });
  EXPECT_GT(checked, 10);
}

// (b) An allow by consent relies only on well-formed grants that are effective
// at `now`, cover the access and come from a competent grantor; and no
// decision relies on a grant outside its period.
TEST_F(DecidePropertyTest, AllowReliesOnlyOnEffectiveCoveringGrants) {
  int consent_allows = 0;
  ForEachWorld([&](WorldMaker&, const World& w, const std::string& where) {
    const Decision d = DecideFor(w, policy_);
    EXPECT_EQ(d.allowed, d.reason == Reason::kOwnAgency ||
                             d.reason == Reason::kConsentCovers)
        << where << ": " << Describe(d);
    if (d.reason != Reason::kConsentCovers) {
      EXPECT_THAT(d.grants_relied_on, IsEmpty()) << where;
      return;
    }
    ++consent_allows;
    EXPECT_FALSE(d.grants_relied_on.empty()) << where;
    EXPECT_TRUE(
        std::is_sorted(d.grants_relied_on.begin(), d.grants_relied_on.end()))
        << where << ": " << Describe(d);
    EXPECT_TRUE(std::adjacent_find(d.grants_relied_on.begin(),
                                   d.grants_relied_on.end()) ==
                d.grants_relied_on.end())
        << where << ": " << Describe(d);
    for (const std::string& id : d.grants_relied_on) {
      const Grant* g = FindGrant(w.grants, id);
      ASSERT_NE(g, nullptr) << where << ": unknown grant " << id;
      EXPECT_TRUE(IsWellFormed(*g)) << where << ": " << id;
      EXPECT_TRUE(g->state == GrantState::kActive) << where << ": " << id;
      EXPECT_TRUE(!g->ended_at.has_value() || *g->ended_at > w.now)
          << where << ": " << id << " ended at " << *g->ended_at;
      EXPECT_LE(g->valid_from, w.now) << where << ": " << id;
      EXPECT_LT(w.now, g->valid_until) << where << ": " << id;
      EXPECT_TRUE(CoversAccess(*g, w.access)) << where << ": " << id;
      EXPECT_TRUE(GrantorCompetent(w, *g, policy_, w.now))
          << where << ": " << id;

      // At the end of its period, or just before its start, the same
      // question never relies on it.
      for (const absl::Time t :
           {g->valid_until, g->valid_until + absl::Hours(1),
            g->valid_from - absl::Seconds(1)}) {
        const Decision other =
            Decide(w.access, FactsOf(w, w.grants), policy_, t);
        EXPECT_FALSE(Names(other, id))
            << where << ": at " << t << " " << Describe(other);
        for (const std::string& other_id : other.grants_relied_on) {
          const Grant* o = FindGrant(w.grants, other_id);
          ASSERT_NE(o, nullptr) << where;
          EXPECT_TRUE(EffectiveAt(*o, t))
              << where << ": at " << t << " relies on " << other_id;
        }
      }
    }
  });
  EXPECT_GT(consent_allows, 100);
}

// (c) Withdrawal takes effect at once: the withdrawn grant is never relied
// on, a deny stays a deny, and an allow that did not use the grant stays.
TEST_F(DecidePropertyTest, WithdrawingAGrantNeverTurnsDenyIntoAllow) {
  int relied_withdrawn = 0;
  ForEachWorld([&](WorldMaker&, const World& w, const std::string& where) {
    const Decision before = DecideFor(w, policy_);
    for (size_t i = 0; i < w.grants.size(); ++i) {
      const std::string& id = w.grants[i].id;
      std::vector<Grant> grants = w.grants;
      Withdraw(grants[i], w.now);
      const Decision after = DecideWith(w, grants, policy_);
      EXPECT_FALSE(Names(after, id))
          << where << ": withdrawn " << id << " still relied on";
      if (!before.allowed) {
        EXPECT_FALSE(after.allowed)
            << where << ": withdrawing " << id << " gave " << Describe(after);
      } else if (before.reason == Reason::kOwnAgency) {
        EXPECT_EQ(after.reason, Reason::kOwnAgency) << where;
      } else if (Names(before, id)) {
        ++relied_withdrawn;
        // Either a deny, or an allow that does not need the grant.
        EXPECT_TRUE(!after.allowed || !Names(after, id)) << where;
      } else {
        EXPECT_TRUE(SameDecision(before, after))
            << where << ": withdrawing unused " << id << ", "
            << Describe(before) << " became " << Describe(after);
      }
    }
    // Everything withdrawn: only the owner may still read.
    std::vector<Grant> none_left = w.grants;
    for (Grant& g : none_left) Withdraw(g, w.now);
    const Decision after_all = DecideWith(w, none_left, policy_);
    EXPECT_NE(after_all.reason, Reason::kConsentCovers)
        << where << ": " << Describe(after_all);
    EXPECT_THAT(after_all.grants_relied_on, IsEmpty()) << where;
  });
  EXPECT_GT(relied_withdrawn, 100);
}

// (c) Worked example 4, generalised: under joint custody one guardian
// withdrawing is enough, and the deny says CONSENT_REVOKED.
TEST_F(DecidePropertyTest, OneGuardianWithdrawingStopsTheConsent) {
  int checked = 0;
  ForEachWorld([&](WorldMaker&, const World& w, const std::string& where) {
    if (w.kind != Kind::kChild) return;
    const Decision before = DecideFor(w, policy_);
    if (before.reason != Reason::kConsentCovers) return;
    for (const std::string* guardian : {&w.guardian1, &w.guardian2}) {
      ++checked;
      std::vector<Grant> grants = w.grants;
      for (Grant& g : grants) {
        if (g.grantor == *guardian &&
            g.grantor_role == GrantorRole::kGuardian) {
          Withdraw(g, w.now);
        }
      }
      const Decision after = DecideWith(w, grants, policy_);
      EXPECT_FALSE(after.allowed) << where << ": " << Describe(after);
      EXPECT_EQ(after.reason, Reason::kConsentRevoked)
          << where << ": " << Describe(after);
    }
  });
  EXPECT_GT(checked, 10);
}

// (d) An allow names the people whose consent the rules require.
TEST_F(DecidePropertyTest, AllowNamesGrantsOfTheCompetentGrantors) {
  std::array<int, 3> allows = {0, 0, 0};
  Policy either = policy_;
  either.teen_rule = TeenRule::kSubjectOrGuardians;
  ForEachWorld([&](WorldMaker&, const World& w, const std::string& where) {
    const Decision d = DecideFor(w, policy_);
    if (d.reason == Reason::kConsentCovers) {
      ++allows[static_cast<size_t>(w.kind)];
      const bool by_subject =
          NamesGrantOf(d, w.grants, w.access.subject, GrantorRole::kSubject);
      const bool by_g1 =
          NamesGrantOf(d, w.grants, w.guardian1, GrantorRole::kGuardian);
      const bool by_g2 =
          NamesGrantOf(d, w.grants, w.guardian2, GrantorRole::kGuardian);
      switch (w.kind) {
        case Kind::kChild:
          EXPECT_TRUE(by_g1 && by_g2) << where << ": " << Describe(d);
          EXPECT_FALSE(by_subject) << where << ": " << Describe(d);
          break;
        case Kind::kTeen:
          EXPECT_TRUE(by_subject) << where << ": " << Describe(d);
          EXPECT_FALSE(by_g1 || by_g2) << where << ": " << Describe(d);
          break;
        case Kind::kAdult:
          EXPECT_TRUE(by_subject ||
                      NamesGrantOf(d, w.grants, w.representative,
                                   GrantorRole::kLegalRepresentative))
              << where << ": " << Describe(d);
          EXPECT_FALSE(by_g1 || by_g2) << where << ": " << Describe(d);
          break;
      }
      for (const std::string& id : d.grants_relied_on) {
        const Grant* g = FindGrant(w.grants, id);
        ASSERT_NE(g, nullptr) << where;
        EXPECT_TRUE(GrantorCompetent(w, *g, policy_, w.now))
            << where << ": " << id << " by an incompetent grantor";
      }
    }
    if (w.kind == Kind::kTeen) {
      // The configurable teen rule: the subject, or both guardians.
      const Decision e = DecideFor(w, either);
      if (d.allowed) {
        EXPECT_TRUE(e.allowed) << where << ": " << Describe(e);
      }
      if (e.reason == Reason::kConsentCovers) {
        const bool by_subject =
            NamesGrantOf(e, w.grants, w.access.subject, GrantorRole::kSubject);
        const bool by_both =
            NamesGrantOf(e, w.grants, w.guardian1, GrantorRole::kGuardian) &&
            NamesGrantOf(e, w.grants, w.guardian2, GrantorRole::kGuardian);
        EXPECT_TRUE(by_subject || by_both) << where << ": " << Describe(e);
      }
    }
  });
  for (size_t k = 0; k < allows.size(); ++k) {
    EXPECT_GT(allows[k], 10) << KindName(static_cast<Kind>(k));
  }
}

// (d) Policy: "any one guardian" allows at least what "both guardians"
// allows, and an allow under it still names a guardian's grant.
TEST_F(DecidePropertyTest, AnyGuardianPolicyAllowsAtLeastTheDefault) {
  Policy any_guardian = policy_;
  any_guardian.joint_custody_requires_all = false;
  int allows = 0;
  ForEachWorld([&](WorldMaker&, const World& w, const std::string& where) {
    if (w.kind != Kind::kChild) return;
    const Decision strict = DecideFor(w, policy_);
    const Decision lenient = DecideFor(w, any_guardian);
    if (strict.allowed) {
      EXPECT_TRUE(lenient.allowed) << where << ": " << Describe(lenient);
    }
    if (lenient.reason != Reason::kConsentCovers) return;
    ++allows;
    EXPECT_TRUE(
        NamesGrantOf(lenient, w.grants, w.guardian1, GrantorRole::kGuardian) ||
        NamesGrantOf(lenient, w.grants, w.guardian2, GrantorRole::kGuardian))
        << where << ": " << Describe(lenient);
    EXPECT_FALSE(NamesGrantOf(lenient, w.grants, w.access.subject,
                              GrantorRole::kSubject))
        << where << ": " << Describe(lenient);
  });
  EXPECT_GT(allows, 10);
}

// (d) Worked example 5, generalised: the guardians' grants stop counting on
// the 15th birthday (in Stockholm), by themselves.
TEST_F(DecidePropertyTest, GuardiansStopCountingOnTheFifteenthBirthday) {
  int eve_allows = 0;
  int turned_not_competent = 0;
  ForEachWorld([&](WorldMaker&, const World& w, const std::string& where) {
    if (w.kind != Kind::kChild) return;
    const absl::CivilDay today = absl::ToCivilDay(w.now, policy_.zone);
    const absl::CivilDay fifteen_years_ago(today.year() - 15, today.month(),
                                           today.day());
    if (fifteen_years_ago.day() != today.day()) return;  // 29 February
    const absl::CivilDay eve_birth = fifteen_years_ago + 1;
    // Born on 29 February, one turns 15 on 28 February of a common year:
    // that birth date has no eve on 28 February.
    if (eve_birth.month() == 2 && eve_birth.day() == 29) return;
    World eve = w;
    Rebirth(eve, eve_birth, policy_.zone);
    World birthday = w;
    Rebirth(birthday, fifteen_years_ago, policy_.zone);
    ASSERT_EQ(AgeAt(eve, policy_, w.now), 14) << where;
    ASSERT_EQ(AgeAt(birthday, policy_, w.now), 15) << where;
    ASSERT_TRUE(IdentityNumber::Parse(birthday.access.subject).ok()) << where;

    const Decision d_eve = DecideFor(eve, policy_);
    const Decision d_birthday = DecideFor(birthday, policy_);
    if (d_eve.reason == Reason::kConsentCovers) {
      ++eve_allows;
      EXPECT_TRUE(NamesGrantOf(d_eve, eve.grants, eve.guardian1,
                               GrantorRole::kGuardian) &&
                  NamesGrantOf(d_eve, eve.grants, eve.guardian2,
                               GrantorRole::kGuardian))
          << where << ": " << Describe(d_eve);
    }
    if (d_birthday.reason == Reason::kConsentCovers) {
      for (const std::string& id : d_birthday.grants_relied_on) {
        const Grant* g = FindGrant(birthday.grants, id);
        ASSERT_NE(g, nullptr) << where;
        EXPECT_TRUE(g->grantor_role == GrantorRole::kSubject &&
                    g->grantor == birthday.access.subject)
            << where << ": on the birthday relies on " << id;
      }
    }
    const bool subject_granted = std::any_of(
        birthday.grants.begin(), birthday.grants.end(), [&](const Grant& g) {
          return g.grantor_role == GrantorRole::kSubject &&
                 g.grantor == birthday.access.subject;
        });
    if (d_eve.reason == Reason::kConsentCovers && !subject_granted) {
      ++turned_not_competent;
      EXPECT_FALSE(d_birthday.allowed) << where;
      EXPECT_EQ(d_birthday.reason, Reason::kGrantorNotCompetent)
          << where << ": " << Describe(d_birthday);
    }
  });
  EXPECT_GT(eve_allows, 10);
  EXPECT_GT(turned_not_competent, 10);
}

// (e) The same input gives the same decision; the order of grants and of
// custody facts does not matter.
TEST_F(DecidePropertyTest, DecisionsAreDeterministicAndIgnoreInputOrder) {
  ForEachWorld(
      [&](WorldMaker& maker, const World& w, const std::string& where) {
        const Decision first = DecideFor(w, policy_);
        const Decision second = DecideFor(w, policy_);
        EXPECT_TRUE(SameDecision(first, second))
            << where << ": " << Describe(first) << " then " << Describe(second);

        for (int round = 0; round < 3; ++round) {
          std::vector<Grant> shuffled = w.grants;
          if (round == 0) {
            std::reverse(shuffled.begin(), shuffled.end());
          } else {
            std::shuffle(shuffled.begin(), shuffled.end(), maker.rng());
          }
          const Decision d = DecideWith(w, shuffled, policy_);
          EXPECT_EQ(d.allowed, first.allowed) << where;
          EXPECT_EQ(d.reason, first.reason)
              << where << ": " << Describe(first) << " vs " << Describe(d);
          EXPECT_EQ(d.grants_relied_on, first.grants_relied_on) << where;
        }

        World reordered = w;
        std::reverse(reordered.custody.begin(), reordered.custody.end());
        std::reverse(reordered.representations.begin(),
                     reordered.representations.end());
        const Decision d = DecideFor(reordered, policy_);
        EXPECT_EQ(d.allowed, first.allowed) << where;
        EXPECT_EQ(d.reason, first.reason)
            << where << ": " << Describe(first) << " vs " << Describe(d);
        EXPECT_EQ(d.grants_relied_on, first.grants_relied_on) << where;
      });
}

// (f) Reading one's own entries needs no consent.
TEST_F(DecidePropertyTest, OwnAgencyReadsAreAlwaysAllowed) {
  ForEachWorld([&](WorldMaker& maker, const World& w,
                   const std::string& where) {
    Access own = w.access;
    own.reader = own.owner;
    own.reader_participates = maker.Chance(50);
    own.category = static_cast<Category>(maker.Uniform(1, kMaxCategory));
    const std::vector<Grant> no_grants;
    for (const std::vector<Grant>* grants : {&w.grants, &no_grants}) {
      const Decision d = Decide(own, FactsOf(w, *grants), policy_, w.now);
      EXPECT_TRUE(d.allowed) << where << ": " << Describe(d);
      EXPECT_EQ(d.reason, Reason::kOwnAgency) << where << ": " << Describe(d);
      EXPECT_THAT(d.grants_relied_on, IsEmpty()) << where;
    }
  });
}

// (f) An agency outside the plan never reads another agency's entries.
TEST_F(DecidePropertyTest, NonParticipantsAreAlwaysDenied) {
  int would_have_been_allowed = 0;
  ForEachWorld([&](WorldMaker& maker, const World& w,
                   const std::string& where) {
    Access outsider = w.access;
    if (outsider.reader.id == outsider.owner.id) {
      outsider.reader = AgencyAt(
          (AgencyIndex(outsider.owner) + maker.Uniform(1, kAgencyCount - 1)) %
          kAgencyCount);
    }
    ASSERT_NE(outsider.reader.id, outsider.owner.id) << where;
    outsider.reader_participates = true;
    const Decision inside =
        Decide(outsider, FactsOf(w, w.grants), policy_, w.now);
    if (inside.allowed) ++would_have_been_allowed;
    outsider.reader_participates = false;
    const Decision d = Decide(outsider, FactsOf(w, w.grants), policy_, w.now);
    EXPECT_FALSE(d.allowed) << where << ": " << Describe(d);
    EXPECT_EQ(d.reason, Reason::kNotParticipant)
        << where << ": " << Describe(d);
    EXPECT_THAT(d.grants_relied_on, IsEmpty()) << where;
  });
  EXPECT_GT(would_have_been_allowed, 100);
}

// (g) Fail closed: malformed access is INVALID_INPUT, never an allow, even
// for the owner's own entries.
TEST_F(DecidePropertyTest, MalformedAccessIsAlwaysInvalidInput) {
  const std::vector<std::function<void(Access&)>> breakers = {
      [](Access& a) { a.category = Category::kUnspecified; },
      [](Access& a) { a.category = static_cast<Category>(99); },
      [](Access& a) { a.category = static_cast<Category>(kMaxCategory + 1); },
      [](Access& a) { a.owner.id.clear(); },
      [](Access& a) { a.reader.id.clear(); },
      // Two empty ids are equal, but that is no "own agency".
      [](Access& a) {
        a.owner.id.clear();
        a.reader.id.clear();
      },
      [](Access& a) { a.owner.sector = Sector::kUnspecified; },
      [](Access& a) { a.reader.sector = Sector::kUnspecified; },
      [](Access& a) { a.reader.sector = static_cast<Sector>(42); },
      [](Access& a) { a.owner.sector = static_cast<Sector>(4); },
      [](Access& a) { a.subject.clear(); },
  };
  ForEachWorld(
      [&](WorldMaker& maker, const World& w, const std::string& where) {
        for (size_t b = 0; b < breakers.size(); ++b) {
          Access a = w.access;
          if (maker.Chance(30)) a.reader = a.owner;
          breakers[b](a);
          const Decision d = Decide(a, FactsOf(w, w.grants), policy_, w.now);
          EXPECT_FALSE(d.allowed)
              << where << ": breaker " << b << " " << Describe(d);
          EXPECT_EQ(d.reason, Reason::kInvalidInput)
              << where << ": breaker " << b << " " << Describe(d);
          EXPECT_THAT(d.grants_relied_on, IsEmpty()) << where;
        }
      });
}

// (g) A subject born after the time of the access is invalid input.
TEST_F(DecidePropertyTest, SubjectNotYetBornIsInvalidInput) {
  ForEachWorld([&](WorldMaker& maker, const World& w,
                   const std::string& where) {
    World unborn = w;
    const absl::CivilDay today = absl::ToCivilDay(w.now, policy_.zone);
    Rebirth(unborn, today + maker.Uniform(1, 300), policy_.zone);
    ASSERT_TRUE(IdentityNumber::Parse(unborn.access.subject).ok()) << where;
    if (unborn.access.reader.id == unborn.access.owner.id) {
      unborn.access.reader =
          AgencyAt((AgencyIndex(unborn.access.owner) + 1) % kAgencyCount);
    }
    unborn.access.reader_participates = true;
    const Decision d = DecideFor(unborn, policy_);
    EXPECT_FALSE(d.allowed) << where << ": " << Describe(d);
    EXPECT_EQ(d.reason, Reason::kInvalidInput) << where << ": " << Describe(d);
  });
}

// (g) A malformed grant never counts: breaking any grant an allow relied on
// removes it from every decision.
TEST_F(DecidePropertyTest, MalformedGrantsAreNeverReliedOn) {
  const std::vector<std::function<void(Grant&)>> breakers = {
      [](Grant& g) { g.valid_until = g.valid_from; },
      [](Grant& g) { g.valid_until = g.valid_from - absl::Seconds(1); },
      [](Grant& g) { g.scope.categories.clear(); },
      [](Grant& g) { g.scope.categories.push_back(Category::kUnspecified); },
      [](Grant& g) { g.scope.categories.push_back(static_cast<Category>(99)); },
      [](Grant& g) {
        g.scope.disclosing_agencies.clear();
        g.scope.disclosing_sectors.clear();
      },
      [](Grant& g) {
        g.scope.receiving_agencies.clear();
        g.scope.receiving_sectors.clear();
      },
      [](Grant& g) {
        g.scope.disclosing_sectors.push_back(static_cast<Sector>(9));
      },
      [](Grant& g) { g.state = GrantState::kUnspecified; },
      [](Grant& g) { g.state = static_cast<GrantState>(17); },
      [](Grant& g) { g.state = GrantState::kVoid; },
      [](Grant& g) { g.grantor_role = GrantorRole::kUnspecified; },
      [](Grant& g) { g.grantor_role = static_cast<GrantorRole>(9); },
      [](Grant& g) { g.grantor.clear(); },
  };
  int checked = 0;
  ForEachWorld([&](WorldMaker&, const World& w, const std::string& where) {
    const Decision before = DecideFor(w, policy_);
    // Whatever the world, malformed grants are never named.
    for (const std::string& id : before.grants_relied_on) {
      const Grant* g = FindGrant(w.grants, id);
      ASSERT_NE(g, nullptr) << where;
      EXPECT_TRUE(IsWellFormed(*g)) << where << ": relies on " << id;
      EXPECT_LT(g->valid_from, g->valid_until) << where << ": " << id;
      EXPECT_FALSE(g->scope.categories.empty()) << where << ": " << id;
    }
    if (before.reason != Reason::kConsentCovers) return;
    for (size_t i = 0; i < w.grants.size(); ++i) {
      if (!Names(before, w.grants[i].id)) continue;
      for (size_t b = 0; b < breakers.size(); ++b) {
        ++checked;
        std::vector<Grant> grants = w.grants;
        breakers[b](grants[i]);
        const Decision after = DecideWith(w, grants, policy_);
        EXPECT_FALSE(Names(after, w.grants[i].id))
            << where << ": breaker " << b << " on " << w.grants[i].id << ", "
            << Describe(after);
        for (const std::string& id : after.grants_relied_on) {
          const Grant* g = FindGrant(grants, id);
          ASSERT_NE(g, nullptr) << where;
          EXPECT_TRUE(IsWellFormed(*g)) << where << ": relies on " << id;
        }
      }
    }
  });
  EXPECT_GT(checked, 100);
}

// Explanations can reach logs: they never contain identity numbers.
TEST_F(DecidePropertyTest, ExplanationsNeverContainIdentityNumbers) {
  ForEachWorld([&](WorldMaker&, const World& w, const std::string& where) {
    Access own = w.access;
    own.reader = own.owner;
    Access outsider = w.access;
    outsider.reader_participates = false;
    Access broken = w.access;
    broken.category = Category::kUnspecified;
    const std::array<const Access*, 4> accesses = {&w.access, &own, &outsider,
                                                   &broken};
    for (const Access* a : accesses) {
      const Decision d = Decide(*a, FactsOf(w, w.grants), policy_, w.now);
      EXPECT_FALSE(d.explanation.empty()) << where << ": " << Describe(d);
      for (const std::string* number :
           {&w.access.subject, &w.guardian1, &w.guardian2, &w.representative,
            &w.stranger, &w.other_subject}) {
        EXPECT_THAT(d.explanation, Not(HasSubstr(*number))) << where;
        EXPECT_THAT(d.explanation, Not(HasSubstr(number->substr(2)))) << where;
      }
    }
  });
}

}  // namespace
}  // namespace samplan::consent
