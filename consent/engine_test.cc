// The worked examples of docs/consent-rules.md, one named test each, plus the
// rules around them (competence by age, representatives, scope, validity).

#include "consent/engine.h"

#include <functional>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/errors.h"
#include "common/status_matchers.h"
#include "consent/identity_number.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace samplan::consent {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A valid identity number born on `yyyymmdd` with serial `nnn`.
std::string Pnr(absl::string_view yyyymmdd, absl::string_view nnn) {
  std::string nine = std::string(yyyymmdd.substr(2)) + std::string(nnn);
  return std::string(yyyymmdd) + std::string(nnn) +
         std::to_string(LuhnCheckDigit(nine));
}

absl::TimeZone Stockholm() {
  absl::TimeZone tz;
  EXPECT_TRUE(absl::LoadTimeZone("Europe/Stockholm", &tz));
  return tz;
}

absl::Time Utc(int y, int m, int d, int hh = 0, int mm = 0, int ss = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, ss),
                         absl::UTCTimeZone());
}

const Agency kSchool{"school-1", Sector::kSchool};
const Agency kSocial{"soc-1", Sector::kSocialServices};
const Agency kBup{"bup-1", Sector::kHealthcare};

class ConsentRulesTest : public ::testing::Test {
 protected:
  ConsentRulesTest() {
    policy_.zone = Stockholm();
    custody_ = {
        CustodyFact{child_, g1_, Utc(2016, 5, 10), absl::InfiniteFuture()},
        CustodyFact{child_, g2_, Utc(2016, 5, 10), absl::InfiniteFuture()}};
  }

  // A guardian's grant HEALTHCARE -> SCHOOL for needs and interventions.
  Grant GuardianGrant(std::string id, const std::string& guardian) const {
    Grant g;
    g.id = std::move(id);
    g.subject = child_;
    g.grantor_role = GrantorRole::kGuardian;
    g.grantor = guardian;
    g.scope.disclosing_sectors = {Sector::kHealthcare};
    g.scope.receiving_sectors = {Sector::kSchool};
    g.scope.categories = {Category::kNeeds, Category::kInterventions};
    g.valid_from = Utc(2026, 1, 1);
    g.valid_until = Utc(2026, 12, 31);
    g.state = GrantState::kActive;
    return g;
  }

  Access Read(const Agency& owner, const Agency& reader, Category c) const {
    Access a;
    a.subject = child_;
    a.plan = "plans/p1";
    a.owner = owner;
    a.reader = reader;
    a.category = c;
    a.reader_participates = true;
    return a;
  }

  Decision DecideNow(const Access& a, absl::Time now) const {
    Facts f{grants_, custody_, representations_};
    return Decide(a, f, policy_, now);
  }

  const std::string child_ = Pnr("20160510", "238");
  const std::string g1_ = Pnr("19850301", "111");
  const std::string g2_ = Pnr("19870712", "222");
  Policy policy_;
  std::vector<Grant> grants_;
  std::vector<CustodyFact> custody_;
  std::vector<Representation> representations_;
  absl::Time now_ = Utc(2026, 6, 1, 10);
};

// Example 1.
TEST_F(ConsentRulesTest, Example1SchoolReadsOwnNeedsEntry) {
  Decision d = DecideNow(Read(kSchool, kSchool, Category::kNeeds), now_);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.reason, Reason::kOwnAgency);
  EXPECT_THAT(d.grants_relied_on, IsEmpty());
}

// Example 2.
TEST_F(ConsentRulesTest, Example2JointCustodyBothGrantedAllowsInterventions) {
  grants_ = {GuardianGrant("g-1", g1_), GuardianGrant("g-2", g2_)};
  Decision d = DecideNow(Read(kBup, kSchool, Category::kInterventions), now_);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.reason, Reason::kConsentCovers);
  EXPECT_THAT(d.grants_relied_on, ElementsAre("g-1", "g-2"));
}

TEST_F(ConsentRulesTest, Example2HealthEntryIsCategoryOutOfScope) {
  grants_ = {GuardianGrant("g-1", g1_), GuardianGrant("g-2", g2_)};
  Decision d = DecideNow(Read(kBup, kSchool, Category::kHealth), now_);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, Reason::kCategoryOutOfScope);
  EXPECT_THAT(d.grants_relied_on, IsEmpty());
}

// Example 3.
TEST_F(ConsentRulesTest, Example3OnlyOneGuardianGranted) {
  grants_ = {GuardianGrant("g-1", g1_)};
  Decision d = DecideNow(Read(kBup, kSchool, Category::kInterventions), now_);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, Reason::kGuardianConsentMissing);
}

// Example 4.
TEST_F(ConsentRulesTest, Example4SecondGuardianWithdraws) {
  grants_ = {GuardianGrant("g-1", g1_), GuardianGrant("g-2", g2_)};
  ASSERT_TRUE(
      DecideNow(Read(kBup, kSchool, Category::kInterventions), now_).allowed);
  grants_[1].state = GrantState::kWithdrawn;
  grants_[1].ended_at = now_;
  Decision d = DecideNow(Read(kBup, kSchool, Category::kInterventions),
                         now_ + absl::Seconds(1));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, Reason::kConsentRevoked);
}

// Example 5: born 2011-06-15, turns 15 on 2026-06-15 (Swedish date).
TEST_F(ConsentRulesTest, Example5ChildTurns15) {
  const std::string teen = Pnr("20110615", "456");
  custody_ = {CustodyFact{teen, g1_}, CustodyFact{teen, g2_}};
  grants_ = {GuardianGrant("g-1", g1_), GuardianGrant("g-2", g2_)};
  for (Grant& g : grants_) g.subject = teen;
  Access a = Read(kBup, kSchool, Category::kNeeds);
  a.subject = teen;

  // 2026-06-14 12:00 Stockholm: still 14.
  Decision before = DecideNow(a, Utc(2026, 6, 14, 10));
  EXPECT_TRUE(before.allowed);
  EXPECT_EQ(before.reason, Reason::kConsentCovers);

  // 2026-06-14 22:30 UTC is already 2026-06-15 00:30 in Stockholm (CEST).
  Decision on = DecideNow(a, Utc(2026, 6, 14, 22, 30));
  EXPECT_FALSE(on.allowed);
  EXPECT_EQ(on.reason, Reason::kGrantorNotCompetent);

  Grant own = GuardianGrant("g-self", teen);
  own.subject = teen;
  own.grantor_role = GrantorRole::kSubject;
  grants_.push_back(own);
  Decision after = DecideNow(a, Utc(2026, 6, 15, 9));
  EXPECT_TRUE(after.allowed);
  EXPECT_THAT(after.grants_relied_on, ElementsAre("g-self"));
}

// Example 6.
TEST_F(ConsentRulesTest, Example6ValidUntilIsExclusive) {
  grants_ = {GuardianGrant("g-1", g1_), GuardianGrant("g-2", g2_)};
  for (Grant& g : grants_) {
    g.valid_from = Utc(2026, 1, 1);
    g.valid_until = Utc(2026, 3, 1);
  }
  Access a = Read(kBup, kSchool, Category::kNeeds);
  EXPECT_TRUE(DecideNow(a, Utc(2026, 2, 28, 23, 59, 59)).allowed);
  Decision d = DecideNow(a, Utc(2026, 3, 1));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, Reason::kConsentExpired);
}

// Example 7: the API turns this into NOT_FOUND; the engine names the reason.
TEST_F(ConsentRulesTest, Example7NonParticipantIsDenied) {
  grants_ = {GuardianGrant("g-1", g1_), GuardianGrant("g-2", g2_)};
  Access a = Read(kBup, kSocial, Category::kNeeds);
  a.reader_participates = false;
  Decision d = DecideNow(a, now_);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, Reason::kNotParticipant);
}

// Example 8.
TEST_F(ConsentRulesTest, Example8ReceiverOutsideScope) {
  grants_ = {GuardianGrant("g-1", g1_), GuardianGrant("g-2", g2_)};
  Decision d = DecideNow(Read(kBup, kSocial, Category::kNeeds), now_);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, Reason::kAgencyOutOfScope);
}

TEST_F(ConsentRulesTest, NotYetValid) {
  grants_ = {GuardianGrant("g-1", g1_), GuardianGrant("g-2", g2_)};
  Decision d = DecideNow(Read(kBup, kSchool, Category::kNeeds),
                         Utc(2025, 12, 31, 22, 59, 59));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, Reason::kConsentNotYetValid);
}

TEST_F(ConsentRulesTest, RevokedAtOrBeforeTimeIsNotEffective) {
  grants_ = {GuardianGrant("g-1", g1_), GuardianGrant("g-2", g2_)};
  grants_[0].state = GrantState::kRevoked;
  grants_[0].ended_at = now_;
  Decision d = DecideNow(Read(kBup, kSchool, Category::kNeeds), now_);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, Reason::kConsentRevoked);
}

// The sweeper marks a lapsed grant EXPIRED and records when (end_time, which
// the bridge passes as ended_at): the reason stays CONSENT_EXPIRED.
TEST_F(ConsentRulesTest, SweptGrantIsExpiredNotRevoked) {
  grants_ = {GuardianGrant("g-1", g1_), GuardianGrant("g-2", g2_)};
  grants_[0].valid_until = now_ - absl::Hours(2);
  grants_[0].state = GrantState::kExpired;
  grants_[0].ended_at = now_ - absl::Hours(1);
  Decision d = DecideNow(Read(kBup, kSchool, Category::kNeeds), now_);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, Reason::kConsentExpired);
}

TEST_F(ConsentRulesTest, VoidGrantNeverCounts) {
  grants_ = {GuardianGrant("g-1", g1_), GuardianGrant("g-2", g2_)};
  grants_[1].state = GrantState::kVoid;
  Decision d = DecideNow(Read(kBup, kSchool, Category::kNeeds), now_);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, Reason::kGuardianConsentMissing);
}

TEST_F(ConsentRulesTest, ChildAloneUnder15IsNotEnough) {
  Grant own = GuardianGrant("g-self", child_);
  own.grantor_role = GrantorRole::kSubject;
  grants_ = {own};
  Decision d = DecideNow(Read(kBup, kSchool, Category::kNeeds), now_);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, Reason::kGrantorNotCompetent);
}

TEST_F(ConsentRulesTest, NoGrantsIsNoConsent) {
  Decision d = DecideNow(Read(kBup, kSchool, Category::kNeeds), now_);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, Reason::kNoConsent);
}

TEST_F(ConsentRulesTest, NoGuardianWithCustodyNeverAllows) {
  custody_.clear();
  grants_ = {GuardianGrant("g-1", g1_), GuardianGrant("g-2", g2_)};
  Decision d = DecideNow(Read(kBup, kSchool, Category::kNeeds), now_);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, Reason::kGrantorNotCompetent);
}

TEST_F(ConsentRulesTest, SoleCustodyNeedsOnlyThatGuardian) {
  custody_.pop_back();
  grants_ = {GuardianGrant("g-1", g1_)};
  EXPECT_TRUE(DecideNow(Read(kBup, kSchool, Category::kNeeds), now_).allowed);
}

TEST_F(ConsentRulesTest, CustodyEndedGuardianNoLongerNeeded) {
  custody_[1].valid_until = Utc(2026, 5, 1);
  grants_ = {GuardianGrant("g-1", g1_)};
  EXPECT_TRUE(DecideNow(Read(kBup, kSchool, Category::kNeeds), now_).allowed);
}

TEST_F(ConsentRulesTest, PolicyAnyGuardianSuffices) {
  policy_.joint_custody_requires_all = false;
  grants_ = {GuardianGrant("g-1", g1_)};
  Decision d = DecideNow(Read(kBup, kSchool, Category::kNeeds), now_);
  EXPECT_TRUE(d.allowed);
  EXPECT_THAT(d.grants_relied_on, ElementsAre("g-1"));
}

TEST_F(ConsentRulesTest, PolicyTeenSubjectOrGuardians) {
  policy_.teen_rule = TeenRule::kSubjectOrGuardians;
  const std::string teen = Pnr("20100101", "777");  // 16 on now_
  custody_ = {CustodyFact{teen, g1_}, CustodyFact{teen, g2_}};
  grants_ = {GuardianGrant("g-1", g1_), GuardianGrant("g-2", g2_)};
  for (Grant& g : grants_) g.subject = teen;
  Access a = Read(kBup, kSchool, Category::kNeeds);
  a.subject = teen;
  EXPECT_TRUE(DecideNow(a, now_).allowed);
  policy_.teen_rule = TeenRule::kSubjectOnly;
  EXPECT_EQ(DecideNow(a, now_).reason, Reason::kGrantorNotCompetent);
}

TEST_F(ConsentRulesTest, ScopeByAgencyId) {
  grants_ = {GuardianGrant("g-1", g1_), GuardianGrant("g-2", g2_)};
  for (Grant& g : grants_) {
    g.scope.disclosing_sectors.clear();
    g.scope.disclosing_agencies = {"bup-1"};
  }
  EXPECT_TRUE(DecideNow(Read(kBup, kSchool, Category::kNeeds), now_).allowed);
  const Agency other_clinic{"bup-2", Sector::kHealthcare};
  EXPECT_EQ(
      DecideNow(Read(other_clinic, kSchool, Category::kNeeds), now_).reason,
      Reason::kAgencyOutOfScope);
}

TEST_F(ConsentRulesTest, ScopeLimitedToOnePlan) {
  grants_ = {GuardianGrant("g-1", g1_), GuardianGrant("g-2", g2_)};
  for (Grant& g : grants_) g.scope.plan = "plans/other";
  EXPECT_EQ(DecideNow(Read(kBup, kSchool, Category::kNeeds), now_).reason,
            Reason::kPlanOutOfScope);
  for (Grant& g : grants_) g.scope.plan = "plans/p1";
  EXPECT_TRUE(DecideNow(Read(kBup, kSchool, Category::kNeeds), now_).allowed);
}

TEST_F(ConsentRulesTest, GrantOfAnotherSubjectIsIgnored) {
  grants_ = {GuardianGrant("g-1", g1_), GuardianGrant("g-2", g2_)};
  grants_[1].subject = Pnr("20150101", "999");
  EXPECT_EQ(DecideNow(Read(kBup, kSchool, Category::kNeeds), now_).reason,
            Reason::kGuardianConsentMissing);
}

class AdultTest : public ConsentRulesTest {
 protected:
  AdultTest() {
    custody_.clear();
    adult_access_ = Read(kBup, kSocial, Category::kHealth);
    adult_access_.subject = adult_;
  }
  Grant AdultGrant(std::string id, GrantorRole role,
                   const std::string& grantor) const {
    Grant g = GuardianGrant(std::move(id), grantor);
    g.subject = adult_;
    g.grantor_role = role;
    g.scope.receiving_sectors = {Sector::kSocialServices};
    g.scope.categories = {Category::kHealth};
    return g;
  }
  const std::string adult_ = Pnr("19500201", "333");
  const std::string rep_ = Pnr("19700101", "444");
  Access adult_access_;
};

TEST_F(AdultTest, OwnGrantAllows) {
  grants_ = {AdultGrant("a-1", GrantorRole::kSubject, adult_)};
  EXPECT_TRUE(DecideNow(adult_access_, now_).allowed);
}

TEST_F(AdultTest, RepresentativeWithConsentRemitAllows) {
  representations_ = {Representation{adult_, rep_, true}};
  grants_ = {AdultGrant("a-1", GrantorRole::kLegalRepresentative, rep_)};
  Decision d = DecideNow(adult_access_, now_);
  EXPECT_TRUE(d.allowed);
  EXPECT_THAT(d.grants_relied_on, ElementsAre("a-1"));
}

TEST_F(AdultTest, RepresentativeWithoutConsentRemitIsNotCompetent) {
  representations_ = {Representation{adult_, rep_, false}};
  grants_ = {AdultGrant("a-1", GrantorRole::kLegalRepresentative, rep_)};
  EXPECT_EQ(DecideNow(adult_access_, now_).reason,
            Reason::kGrantorNotCompetent);
}

TEST(FailClosedTest, MalformedAccessIsDenied) {
  Policy policy;
  Access a;
  a.subject = Pnr("20160510", "238");
  a.owner = kSchool;
  a.reader = kSchool;
  a.reader_participates = true;
  a.category = Category::kUnspecified;
  EXPECT_EQ(Decide(a, Facts{}, policy, Utc(2026, 1, 1)).reason,
            Reason::kInvalidInput);
  a.category = static_cast<Category>(42);
  EXPECT_EQ(Decide(a, Facts{}, policy, Utc(2026, 1, 1)).reason,
            Reason::kInvalidInput);
  a.category = Category::kNeeds;
  a.reader.sector = Sector::kUnspecified;
  EXPECT_FALSE(Decide(a, Facts{}, policy, Utc(2026, 1, 1)).allowed);
  a.reader = Agency{"", Sector::kSchool};
  EXPECT_FALSE(Decide(a, Facts{}, policy, Utc(2026, 1, 1)).allowed);
}

TEST_F(ConsentRulesTest, SubjectBornAfterNowIsInvalidInput) {
  const std::string unborn = Pnr("20300101", "123");
  custody_ = {CustodyFact{unborn, g1_}, CustodyFact{unborn, g2_}};
  grants_ = {GuardianGrant("g-1", g1_), GuardianGrant("g-2", g2_)};
  for (Grant& g : grants_) g.subject = unborn;
  Access a = Read(kBup, kSchool, Category::kNeeds);
  a.subject = unborn;
  EXPECT_EQ(DecideNow(a, now_).reason, Reason::kInvalidInput);
}

TEST_F(ConsentRulesTest, MalformedGrantNeverCounts) {
  grants_ = {GuardianGrant("g-1", g1_), GuardianGrant("g-2", g2_)};
  grants_[1].valid_until = grants_[1].valid_from;
  EXPECT_FALSE(DecideNow(Read(kBup, kSchool, Category::kNeeds), now_).allowed);
  grants_[1] = GuardianGrant("g-2", g2_);
  grants_[1].scope.categories = {Category::kUnspecified, Category::kNeeds};
  EXPECT_FALSE(DecideNow(Read(kBup, kSchool, Category::kNeeds), now_).allowed);
}

// Recording a grant.
class ValidateGrantTest : public ConsentRulesTest {
 protected:
  absl::Status Validate(const Grant& g) const {
    return ValidateNewGrant(g, Facts{grants_, custody_, representations_},
                            policy_, now_);
  }
};

TEST_F(ValidateGrantTest, GuardianWithCustodyMayGrant) {
  EXPECT_THAT(Validate(GuardianGrant("", g1_)), IsOk());
}

TEST_F(ValidateGrantTest, EachBadFieldIsNamed) {
  struct Case {
    std::function<void(Grant&)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](Grant& g) { g.subject = "2016051023"; }, "grant.subject"},
      {[](Grant& g) { g.grantor = "19850301111x"; }, "grant.grantor"},
      {[](Grant& g) { g.grantor_role = GrantorRole::kUnspecified; },
       "grant.grantor_role"},
      {[](Grant& g) { g.scope.disclosing_sectors.clear(); },
       "grant.scope.disclosing_agencies"},
      {[](Grant& g) { g.scope.receiving_sectors.clear(); },
       "grant.scope.receiving_agencies"},
      {[](Grant& g) { g.scope.receiving_agencies = {"Bad Id"}; },
       "grant.scope.receiving_agencies"},
      {[](Grant& g) { g.scope.disclosing_sectors = {Sector::kUnspecified}; },
       "grant.scope.disclosing_sectors"},
      {[](Grant& g) { g.scope.categories.clear(); }, "grant.scope.categories"},
      {[](Grant& g) { g.scope.categories = {Category::kUnspecified}; },
       "grant.scope.categories"},
      {[](Grant& g) { g.valid_from = absl::InfinitePast(); },
       "grant.valid_from"},
      {[](Grant& g) { g.valid_until = g.valid_from; }, "grant.valid_until"},
      {[](Grant& g) { g.valid_until = g.valid_from - absl::Hours(1); },
       "grant.valid_until"},
  };
  for (const Case& c : cases) {
    Grant g = GuardianGrant("", g1_);
    c.mutate(g);
    EXPECT_THAT(Validate(g), StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr(c.field)))
        << c.field;
  }
}

TEST_F(ValidateGrantTest, PeriodAtMostTwelveMonths) {
  Grant g = GuardianGrant("", g1_);
  g.valid_from =
      absl::FromCivil(absl::CivilSecond(2026, 3, 1, 0, 0, 0), policy_.zone);
  g.valid_until =
      absl::FromCivil(absl::CivilSecond(2027, 3, 1, 0, 0, 0), policy_.zone);
  EXPECT_THAT(Validate(g), IsOk());
  g.valid_until += absl::Seconds(1);
  EXPECT_THAT(Validate(g), StatusIs(absl::StatusCode::kInvalidArgument,
                                    HasSubstr("12 months")));
}

// The period's end exactly at the limit is accepted and one nanosecond
// later refused, naming the field and the limit in months.
class GrantPeriodTest : public ValidateGrantTest {
 protected:
  void ExpectLimit(absl::Time from, absl::Time latest) {
    SCOPED_TRACE(absl::FormatTime(from));
    Grant g = GuardianGrant("", g1_);
    g.valid_from = from;
    g.valid_until = latest;
    EXPECT_THAT(Validate(g), IsOk());
    EXPECT_EQ(LatestGrantEnd(from, policy_.max_grant_months, policy_.zone),
              latest);
    g.valid_until = latest + absl::Nanoseconds(1);
    const absl::Status refused = Validate(g);
    EXPECT_THAT(refused, StatusIs(absl::StatusCode::kInvalidArgument,
                                  HasSubstr("grant.valid_until")));
    EXPECT_EQ(ReasonOf(refused), "GRANT_PERIOD_TOO_LONG");
    EXPECT_EQ(FieldOf(refused), "grant.valid_until");
    EXPECT_EQ(MetadataOf(refused, "max_months"),
              std::to_string(policy_.max_grant_months));
  }
};

TEST_F(GrantPeriodTest, TwelveMonthsAtEveryPrecision) {
  const absl::Time from = Utc(2026, 12, 3, 10, 32, 35);
  const absl::Time until = Utc(2027, 12, 3, 10, 32, 35);
  for (const absl::Duration fraction :
       {absl::ZeroDuration(), absl::Milliseconds(884),
        absl::Microseconds(884123), absl::Nanoseconds(884123456),
        absl::Nanoseconds(1), absl::Nanoseconds(999999999)}) {
    ExpectLimit(from + fraction, until + fraction);
  }
}

TEST_F(GrantPeriodTest, TheMessageNamesTheLatestEnd) {
  Grant g = GuardianGrant("", g1_);
  g.valid_from = Utc(2026, 12, 3, 10, 32, 35) + absl::Milliseconds(884);
  g.valid_until = Utc(2027, 12, 4);
  EXPECT_THAT(Validate(g),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("at most 12 months: valid_until may be at "
                                 "most 2027-12-03T10:32:35.884+00:00")));
}

// Swedish time and UTC disagree across a daylight-saving change; the later
// of the two ends is the limit, so a client adding the months in either
// calendar is accepted.
TEST_F(GrantPeriodTest, AcrossDaylightSavingTheLaterCalendarCounts) {
  // 2026-03-28 is winter time (CET), 2027-03-28 summer time (CEST): 10:00
  // Swedish time is 09:00Z and then 08:00Z; UTC's count ends later.
  ExpectLimit(Utc(2026, 3, 28, 9) + absl::Milliseconds(500),
              Utc(2027, 3, 28, 9) + absl::Milliseconds(500));
  // 2027-10-30 is summer time, 2028-10-30 winter time: 12:00 Swedish time
  // is 10:00Z and then 11:00Z; Swedish time's count ends later.
  ExpectLimit(Utc(2027, 10, 30, 10) + absl::Microseconds(250),
              Utc(2028, 10, 30, 11) + absl::Microseconds(250));
  // Wall times a change skips (02:30 on 2027-03-28) or repeats (02:30 on
  // 2027-10-31) take their later instant: 02:30 winter time, 01:30Z.
  ExpectLimit(Utc(2026, 3, 28, 1, 30) + absl::Nanoseconds(7),
              Utc(2027, 3, 28, 1, 30) + absl::Nanoseconds(7));
  ExpectLimit(Utc(2026, 10, 31, 1, 30), Utc(2027, 10, 31, 1, 30));
}

// A month that lacks the starting day ends on its last day, as Swedish law
// counts months.
TEST_F(GrantPeriodTest, FromTheLastDaysOfAMonth) {
  policy_.max_grant_months = 1;
  ExpectLimit(Utc(2027, 1, 31, 12), Utc(2027, 2, 28, 12));
  ExpectLimit(Utc(2028, 1, 31, 12), Utc(2028, 2, 29, 12));
  ExpectLimit(Utc(2026, 3, 31, 10), Utc(2026, 4, 30, 10));
  ExpectLimit(Utc(2026, 5, 31, 10) + absl::Milliseconds(1),
              Utc(2026, 6, 30, 10) + absl::Milliseconds(1));
  policy_.max_grant_months = 12;
  ExpectLimit(Utc(2026, 12, 31, 22, 59, 59), Utc(2027, 12, 31, 22, 59, 59));
  ExpectLimit(Utc(2027, 8, 31, 6), Utc(2028, 8, 31, 6));
  ExpectLimit(Utc(2028, 2, 29, 11), Utc(2029, 2, 28, 11));
}

TEST_F(ValidateGrantTest, CompetenceAtRecording) {
  Grant stranger = GuardianGrant("", Pnr("19900101", "555"));
  EXPECT_THAT(
      Validate(stranger),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("guardian")));
  Grant child = GuardianGrant("", child_);
  child.grantor_role = GrantorRole::kSubject;
  EXPECT_THAT(Validate(child), StatusIs(absl::StatusCode::kFailedPrecondition));
  Grant wrong_role = GuardianGrant("", child_);
  EXPECT_THAT(Validate(wrong_role), StatusIs(absl::StatusCode::kInvalidArgument,
                                             HasSubstr("grant.grantor_role")));
}

TEST_F(ValidateGrantTest, GuardianCannotGrantForA15YearOld) {
  const std::string teen = Pnr("20100101", "777");
  custody_ = {CustodyFact{teen, g1_}};
  Grant g = GuardianGrant("", g1_);
  g.subject = teen;
  EXPECT_THAT(Validate(g), StatusIs(absl::StatusCode::kFailedPrecondition,
                                    HasSubstr("from 15")));
  g.grantor_role = GrantorRole::kSubject;
  g.grantor = teen;
  EXPECT_THAT(Validate(g), IsOk());
}

TEST_F(ConsentRulesTest, InvalidSubjectNumberIsInvalidInput) {
  grants_ = {GuardianGrant("g-1", g1_), GuardianGrant("g-2", g2_)};
  Access a = Read(kBup, kSchool, Category::kNeeds);
  a.subject = child_.substr(0, 11) + (child_[11] == '9' ? "0" : "9");
  EXPECT_EQ(DecideNow(a, now_).reason, Reason::kInvalidInput);
  a.subject = child_.substr(0, 8) + "-" + child_.substr(8);  // not canonical
  EXPECT_EQ(DecideNow(a, now_).reason, Reason::kInvalidInput);
}

TEST_F(ConsentRulesTest, GrantWithoutIdNeverCounts) {
  grants_ = {GuardianGrant("g-1", g1_), GuardianGrant("", g2_)};
  EXPECT_FALSE(DecideNow(Read(kBup, kSchool, Category::kNeeds), now_).allowed);
}

TEST(DefaultPolicyTest, IsStockholmWithTheRulesDefaults) {
  auto policy = DefaultPolicy();
  ASSERT_THAT(policy, IsOk());
  EXPECT_EQ(policy->zone.name(), "Europe/Stockholm");
  EXPECT_EQ(policy->consent_age, 15);
  EXPECT_EQ(policy->adult_age, 18);
  EXPECT_EQ(policy->teen_rule, TeenRule::kSubjectOnly);
  EXPECT_TRUE(policy->joint_custody_requires_all);
  EXPECT_EQ(policy->max_grant_months, 12);
}

TEST(ReasonNameTest, MatchesApiNames) {
  EXPECT_EQ(ReasonName(Reason::kGuardianConsentMissing),
            "GUARDIAN_CONSENT_MISSING");
  EXPECT_EQ(ReasonName(Reason::kOwnAgency), "OWN_AGENCY");
  EXPECT_EQ(ReasonName(static_cast<Reason>(200)), "UNSPECIFIED");
}

// GetPlan decides every entry of a plan through one context: each decision
// must be exactly the one Decide() gives alone, whatever was decided before
// it, and without the explanation only the text differs.
TEST_F(ConsentRulesTest, OneContextDecidesManyAccessesLikeDecide) {
  grants_ = {GuardianGrant("g-1", g1_), GuardianGrant("g-2", g2_)};
  grants_[1].scope.categories.push_back(Category::kHealth);
  grants_[0].scope.categories.push_back(Category::kHealth);
  grants_.push_back(GuardianGrant("g-3", g1_));
  grants_[2].scope.categories = {Category::kEducation};
  grants_[2].valid_until = Utc(2026, 6, 1, 10);  // ends exactly at now_
  const Agency agencies[] = {kSchool, kBup, kSocial};
  Facts facts{grants_, custody_, representations_};
  SubjectContext context(child_, facts, policy_, now_);
  int compared = 0;
  int allowed = 0;
  for (int round = 0; round < 2; ++round) {
    for (const Agency& owner : agencies) {
      for (const Agency& reader : agencies) {
        for (int c = 0; c <= kMaxCategory + 1; ++c) {
          Access a = Read(owner, reader, static_cast<Category>(c));
          a.reader_participates = (c % 3) != 2;
          const Decision alone = DecideNow(a, now_);
          const Decision shared = context.Decide(a);
          EXPECT_EQ(shared.allowed, alone.allowed);
          EXPECT_EQ(shared.reason, alone.reason);
          EXPECT_EQ(shared.grants_relied_on, alone.grants_relied_on);
          EXPECT_EQ(shared.explanation, alone.explanation);
          EXPECT_FALSE(alone.explanation.empty());
          const Decision terse = context.Decide(a, /*explain=*/false);
          EXPECT_EQ(terse.allowed, alone.allowed);
          EXPECT_EQ(terse.reason, alone.reason);
          EXPECT_EQ(terse.grants_relied_on, alone.grants_relied_on);
          EXPECT_TRUE(terse.explanation.empty());
          ++compared;
          allowed += alone.allowed ? 1 : 0;
        }
      }
    }
  }
  EXPECT_EQ(compared, 2 * 3 * 3 * (kMaxCategory + 2));
  // Both kinds of answer were compared.
  EXPECT_GT(allowed, 0);
  EXPECT_LT(allowed, compared);
}

TEST_F(ConsentRulesTest, AContextDeniesAnAccessAboutAnotherSubject) {
  grants_ = {GuardianGrant("g-1", g1_), GuardianGrant("g-2", g2_)};
  Facts facts{grants_, custody_, representations_};
  SubjectContext context(child_, facts, policy_, now_);
  Access a = Read(kBup, kSchool, Category::kNeeds);
  EXPECT_TRUE(context.Decide(a).allowed);
  a.subject = g1_;
  const Decision d = context.Decide(a);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, Reason::kInvalidInput);
}

}  // namespace
}  // namespace samplan::consent
