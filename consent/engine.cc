#include "consent/engine.h"

#include <algorithm>
#include <string>

#include "absl/container/inlined_vector.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "consent/identity_number.h"

namespace samplan::consent {
namespace {

// How close a grant comes to covering an access; higher is closer. The
// deny reason is taken from the closest grant of the grantor who is missing,
// so a grant that only fails on time says more than one that fails on scope.
enum Rank : int {
  kIgnored = 0,  // other subject, void or malformed: never counts
  kAgencyMiss = 1,
  kPlanMiss = 2,
  kCategoryMiss = 3,
  kRevoked = 4,
  kExpired = 5,
  kNotYetValid = 6,
  kCovers = 7,  // effective at `now` and covering the access
};

Reason ReasonForRank(int rank) {
  switch (rank) {
    case kAgencyMiss:
      return Reason::kAgencyOutOfScope;
    case kPlanMiss:
      return Reason::kPlanOutOfScope;
    case kCategoryMiss:
      return Reason::kCategoryOutOfScope;
    case kRevoked:
      return Reason::kConsentRevoked;
    case kExpired:
      return Reason::kConsentExpired;
    case kNotYetValid:
      return Reason::kConsentNotYetValid;
    case kCovers:
      return Reason::kConsentCovers;
    default:
      return Reason::kNoConsent;
  }
}

bool ValidSector(Sector s) {
  return s == Sector::kSchool || s == Sector::kSocialServices ||
         s == Sector::kHealthcare;
}

bool ValidCategory(Category c) {
  const int v = static_cast<int>(c);
  return v >= 1 && v <= kMaxCategory;
}

bool ValidAgency(const Agency& a) {
  return !a.id.empty() && ValidSector(a.sector);
}

bool WellFormed(const Grant& g) {
  if (g.id.empty() || g.grantor.empty() ||
      g.grantor_role == GrantorRole::kUnspecified ||
      static_cast<int>(g.grantor_role) > 3) {
    return false;
  }
  if (g.state == GrantState::kUnspecified || static_cast<int>(g.state) > 5) {
    return false;
  }
  if (!(g.valid_from < g.valid_until)) return false;
  const Scope& s = g.scope;
  if (s.disclosing_agencies.empty() && s.disclosing_sectors.empty()) {
    return false;
  }
  if (s.receiving_agencies.empty() && s.receiving_sectors.empty()) {
    return false;
  }
  if (s.categories.empty()) return false;
  for (Category c : s.categories) {
    if (!ValidCategory(c)) return false;
  }
  for (Sector x : s.disclosing_sectors) {
    if (!ValidSector(x)) return false;
  }
  for (Sector x : s.receiving_sectors) {
    if (!ValidSector(x)) return false;
  }
  return true;
}

bool SideMatches(const std::vector<std::string>& ids,
                 const std::vector<Sector>& sectors, const Agency& agency) {
  for (const std::string& id : ids) {
    if (id == agency.id) return true;
  }
  for (Sector s : sectors) {
    if (s == agency.sector) return true;
  }
  return false;
}

int RankGrant(const Grant& g, const Access& a, absl::Time now) {
  if (g.subject != a.subject || g.state == GrantState::kVoid ||
      !WellFormed(g)) {
    return kIgnored;
  }
  const Scope& s = g.scope;
  if (!SideMatches(s.disclosing_agencies, s.disclosing_sectors, a.owner) ||
      !SideMatches(s.receiving_agencies, s.receiving_sectors, a.reader)) {
    return kAgencyMiss;
  }
  if (!s.plan.empty() && s.plan != a.plan) return kPlanMiss;
  if (std::find(s.categories.begin(), s.categories.end(), a.category) ==
      s.categories.end()) {
    return kCategoryMiss;
  }
  // A grant the sweeper marked expired carries the sweep's time as its end:
  // it lapsed, nobody ended it, so it ranks as expired.
  if (g.state == GrantState::kExpired) return kExpired;
  if (g.state == GrantState::kWithdrawn || g.state == GrantState::kRevoked ||
      (g.ended_at.has_value() && *g.ended_at <= now)) {
    return kRevoked;
  }
  if (now >= g.valid_until) return kExpired;
  if (now < g.valid_from) return kNotYetValid;
  if (g.state != GrantState::kActive) return kIgnored;
  return kCovers;
}

// One person whose grant is needed: a grant fills the slot when its grantor
// and role match.
struct Slot {
  GrantorRole role;
  absl::string_view person;
  int best = kIgnored;  // best rank among the person's grants
};
using Alternative = absl::InlinedVector<Slot, 2>;
// The access is allowed when every slot of any one alternative is filled.
using Requirement = absl::InlinedVector<Alternative, 2>;

bool Within(absl::Time from, absl::Time until, absl::Time t) {
  return from <= t && t < until;
}

// The guardians of `subject` with custody at `now`, each once.
absl::InlinedVector<absl::string_view, 2> GuardiansAt(absl::string_view subject,
                                                      const Facts& facts,
                                                      absl::Time now) {
  absl::InlinedVector<absl::string_view, 2> out;
  for (const CustodyFact& c : facts.custody) {
    if (c.subject != subject || c.guardian.empty() ||
        !Within(c.valid_from, c.valid_until, now)) {
      continue;
    }
    if (std::find(out.begin(), out.end(), c.guardian) == out.end()) {
      out.push_back(c.guardian);
    }
  }
  return out;
}

void AddGuardianAlternatives(absl::string_view subject, const Facts& facts,
                             const Policy& policy, absl::Time now,
                             Requirement& req) {
  auto guardians = GuardiansAt(subject, facts, now);
  if (guardians.empty()) return;
  if (policy.joint_custody_requires_all) {
    Alternative all;
    for (absl::string_view g : guardians) {
      all.push_back(Slot{GrantorRole::kGuardian, g});
    }
    req.push_back(std::move(all));
  } else {
    for (absl::string_view g : guardians) {
      req.push_back(Alternative{Slot{GrantorRole::kGuardian, g}});
    }
  }
}

// Whose grants count for a subject of `age` at `now` (the competence rule).
Requirement Competent(absl::string_view subject, int age, const Facts& facts,
                      const Policy& policy, absl::Time now) {
  Requirement req;
  if (age < policy.consent_age) {
    AddGuardianAlternatives(subject, facts, policy, now, req);
  } else if (age < policy.adult_age) {
    req.push_back(Alternative{Slot{GrantorRole::kSubject, subject}});
    if (policy.teen_rule == TeenRule::kSubjectOrGuardians) {
      AddGuardianAlternatives(subject, facts, policy, now, req);
    }
  } else {
    req.push_back(Alternative{Slot{GrantorRole::kSubject, subject}});
    for (const Representation& r : facts.representations) {
      if (r.subject == subject && r.covers_consent &&
          !r.representative.empty() &&
          Within(r.valid_from, r.valid_until, now)) {
        req.push_back(Alternative{
            Slot{GrantorRole::kLegalRepresentative, r.representative}});
      }
    }
  }
  return req;
}

bool Fills(const Slot& slot, const Grant& g) {
  return g.grantor_role == slot.role && g.grantor == slot.person;
}

Decision Deny(Reason reason, std::string explanation) {
  Decision d;
  d.allowed = false;
  d.reason = reason;
  d.explanation = std::move(explanation);
  return d;
}

std::string DenyExplanation(Reason reason) {
  switch (reason) {
    case Reason::kNoConsent:
      return "no consent on file covers this disclosure";
    case Reason::kConsentNotYetValid:
      return "the covering consent is not valid yet";
    case Reason::kConsentExpired:
      return "the covering consent has expired";
    case Reason::kConsentRevoked:
      return "the covering consent was withdrawn or revoked";
    case Reason::kAgencyOutOfScope:
      return "the consent does not name the disclosing or the receiving "
             "agency";
    case Reason::kPlanOutOfScope:
      return "the consent is limited to another plan";
    case Reason::kCategoryOutOfScope:
      return "the consent does not cover this category of information";
    case Reason::kGuardianConsentMissing:
      return "joint custody: a guardian with custody has not granted a "
             "covering consent";
    case Reason::kGrantorNotCompetent:
      return "the consents on file were given by someone who cannot consent "
             "for the subject now";
    default:
      return "denied";
  }
}

// `months` calendar months after `from` on the calendar of `zone`: the same
// wall-clock time (and fraction of a second) on the same day of the month,
// or on the last day of the month when it is shorter (Swedish law counts
// months that way: lag (1930:173) om beräkning av lagstadgad tid). A wall
// time that a daylight-saving change skips or repeats takes its later
// instant.
absl::Time AddCalendarMonths(absl::Time from, int months, absl::TimeZone zone) {
  const absl::TimeZone::CivilInfo start = zone.At(from);
  const absl::CivilMonth month = absl::CivilMonth(start.cs) + months;
  const int days_in_month =
      static_cast<int>(absl::CivilDay(month + 1) - absl::CivilDay(month));
  const absl::CivilSecond end(
      month.year(), month.month(), std::min(start.cs.day(), days_in_month),
      start.cs.hour(), start.cs.minute(), start.cs.second());
  const absl::TimeZone::TimeInfo at = zone.At(end);
  return std::max(at.pre, at.post) + start.subsecond;
}

}  // namespace

absl::Time LatestGrantEnd(absl::Time valid_from, int max_months,
                          absl::TimeZone zone) {
  return std::max(
      AddCalendarMonths(valid_from, max_months, zone),
      AddCalendarMonths(valid_from, max_months, absl::UTCTimeZone()));
}

absl::string_view ReasonName(Reason reason) {
  switch (reason) {
    case Reason::kOwnAgency:
      return "OWN_AGENCY";
    case Reason::kConsentCovers:
      return "CONSENT_COVERS";
    case Reason::kNotParticipant:
      return "NOT_PARTICIPANT";
    case Reason::kNoConsent:
      return "NO_CONSENT";
    case Reason::kConsentNotYetValid:
      return "CONSENT_NOT_YET_VALID";
    case Reason::kConsentExpired:
      return "CONSENT_EXPIRED";
    case Reason::kConsentRevoked:
      return "CONSENT_REVOKED";
    case Reason::kAgencyOutOfScope:
      return "AGENCY_OUT_OF_SCOPE";
    case Reason::kPlanOutOfScope:
      return "PLAN_OUT_OF_SCOPE";
    case Reason::kCategoryOutOfScope:
      return "CATEGORY_OUT_OF_SCOPE";
    case Reason::kGuardianConsentMissing:
      return "GUARDIAN_CONSENT_MISSING";
    case Reason::kGrantorNotCompetent:
      return "GRANTOR_NOT_COMPETENT";
    case Reason::kInvalidInput:
      return "INVALID_INPUT";
    default:
      return "UNSPECIFIED";
  }
}

absl::string_view CategoryName(Category category) {
  switch (category) {
    case Category::kNeeds:
      return "NEEDS";
    case Category::kInterventions:
      return "INTERVENTIONS";
    case Category::kHealth:
      return "HEALTH";
    case Category::kEducation:
      return "EDUCATION";
    case Category::kSocialSituation:
      return "SOCIAL_SITUATION";
    case Category::kMeetingMinutes:
      return "MEETING_MINUTES";
    case Category::kFollowUpResults:
      return "FOLLOW_UP_RESULTS";
    default:
      return "UNSPECIFIED";
  }
}

absl::string_view SectorName(Sector sector) {
  switch (sector) {
    case Sector::kSchool:
      return "SCHOOL";
    case Sector::kSocialServices:
      return "SOCIAL_SERVICES";
    case Sector::kHealthcare:
      return "HEALTHCARE";
    default:
      return "UNSPECIFIED";
  }
}

absl::StatusOr<Policy> DefaultPolicy() {
  Policy policy;
  if (!absl::LoadTimeZone("Europe/Stockholm", &policy.zone)) {
    return absl::FailedPreconditionError(
        "the time zone Europe/Stockholm could not be loaded; install tzdata");
  }
  return policy;
}

int SubjectAge(absl::CivilDay birth, const Policy& policy, absl::Time now) {
  return AgeOn(birth, absl::ToCivilDay(now, policy.zone));
}

struct SubjectContext::State {
  enum Kind { kValid, kBadNumber, kNotYetBorn } kind = kBadNumber;
  // Whose grants count, for a valid subject; slots point into `subject`
  // and into the facts.
  Requirement requirement;
};

SubjectContext::SubjectContext(absl::string_view subject, const Facts& facts,
                               const Policy& policy, absl::Time now)
    : subject_(subject),
      facts_(facts),
      now_(now),
      state_(std::make_unique<State>()) {
  auto parsed = IdentityNumber::Parse(subject_);
  if (!parsed.ok() || parsed->digits() != subject_) return;
  const int age = SubjectAge(parsed->birth_date(), policy, now);
  if (age < 0) {
    state_->kind = State::kNotYetBorn;
    return;
  }
  state_->kind = State::kValid;
  state_->requirement = Competent(subject_, age, facts_, policy, now);
}

SubjectContext::~SubjectContext() = default;

Decision SubjectContext::Decide(const Access& access, bool explain) const {
  // Deny(reason, text), with the text only when it is wanted.
  auto deny = [explain](Reason reason, absl::string_view text) {
    return Deny(reason, explain ? std::string(text) : std::string());
  };
  if (access.subject.empty() || access.subject != subject_ ||
      !ValidCategory(access.category) || !ValidAgency(access.owner) ||
      !ValidAgency(access.reader)) {
    return deny(Reason::kInvalidInput,
                "the access names no subject, an unknown category or an "
                "unknown agency");
  }
  if (access.reader.id == access.owner.id) {
    Decision d;
    d.allowed = true;
    d.reason = Reason::kOwnAgency;
    if (explain) d.explanation = "the reading agency owns this information";
    return d;
  }
  if (!access.reader_participates) {
    return deny(Reason::kNotParticipant,
                "the reading agency does not take part in the plan");
  }
  if (state_->kind == State::kBadNumber) {
    return deny(Reason::kInvalidInput,
                "the subject's identity number is not valid");
  }
  if (state_->kind == State::kNotYetBorn) {
    return deny(Reason::kInvalidInput,
                "the subject's birth date is after the time of the access");
  }
  const Facts& facts = facts_;
  const absl::Time now = now_;

  absl::InlinedVector<int, 16> ranks(facts.grants.size());
  for (size_t i = 0; i < facts.grants.size(); ++i) {
    ranks[i] = RankGrant(facts.grants[i], access, now);
  }

  Requirement req = state_->requirement;  // each slot's best rank is per access
  absl::InlinedVector<bool, 16> competent(facts.grants.size(), false);
  for (Alternative& alt : req) {
    for (Slot& slot : alt) {
      for (size_t i = 0; i < facts.grants.size(); ++i) {
        if (ranks[i] == kIgnored || !Fills(slot, facts.grants[i])) continue;
        competent[i] = true;
        slot.best = std::max(slot.best, ranks[i]);
      }
    }
  }

  // Allowed when every slot of one alternative is filled by a covering grant.
  for (const Alternative& alt : req) {
    if (alt.empty()) continue;  // nobody to consent: never an allow
    bool all = true;
    for (const Slot& slot : alt) all = all && slot.best == kCovers;
    if (!all) continue;
    Decision d;
    d.allowed = true;
    d.reason = Reason::kConsentCovers;
    for (const Slot& slot : alt) {
      for (size_t i = 0; i < facts.grants.size(); ++i) {
        if (ranks[i] == kCovers && Fills(slot, facts.grants[i])) {
          d.grants_relied_on.push_back(facts.grants[i].id);
        }
      }
    }
    std::sort(d.grants_relied_on.begin(), d.grants_relied_on.end());
    d.grants_relied_on.erase(
        std::unique(d.grants_relied_on.begin(), d.grants_relied_on.end()),
        d.grants_relied_on.end());
    if (explain) {
      d.explanation = absl::StrCat(d.grants_relied_on.size(),
                                   " effective consent(s) cover this "
                                   "disclosure");
    }
    return d;
  }

  // Denied: find the alternative that came closest and name what it lacks.
  int best_worst = -1;
  int best_filled = -1;
  Reason best_reason = Reason::kNoConsent;
  for (const Alternative& alt : req) {
    if (alt.empty()) continue;
    int worst = kCovers;
    int filled = 0;
    bool any_grant = false;
    for (const Slot& slot : alt) {
      worst = std::min(worst, slot.best);
      if (slot.best == kCovers) ++filled;
      if (slot.best != kIgnored) any_grant = true;
    }
    Reason reason;
    if (worst == kIgnored) {
      const bool guardian_missing =
          any_grant && alt.front().role == GrantorRole::kGuardian;
      reason = guardian_missing ? Reason::kGuardianConsentMissing
                                : Reason::kNoConsent;
    } else {
      reason = ReasonForRank(worst);
    }
    if (worst > best_worst || (worst == best_worst && filled > best_filled)) {
      best_worst = worst;
      best_filled = filled;
      best_reason = reason;
    }
  }
  if (best_reason == Reason::kNoConsent) {
    // Nobody who may consent has granted anything relevant; grants of people
    // who cannot consent now (guardians of a 15-year-old, a child of 10)
    // explain the deny better than "no consent".
    for (size_t i = 0; i < facts.grants.size(); ++i) {
      if (ranks[i] != kIgnored && !competent[i]) {
        best_reason = Reason::kGrantorNotCompetent;
        break;
      }
    }
  }
  Decision d;
  d.allowed = false;
  d.reason = best_reason;
  if (explain) d.explanation = DenyExplanation(best_reason);
  return d;
}

Decision Decide(const Access& access, const Facts& facts, const Policy& policy,
                absl::Time now) {
  return SubjectContext(access.subject, facts, policy, now).Decide(access);
}

absl::Status ValidateNewGrant(const Grant& grant, const Facts& facts,
                              const Policy& policy, absl::Time now) {
  auto subject = IdentityNumber::Parse(grant.subject);
  if (!subject.ok()) {
    return InvalidField("grant.subject", subject.status().message());
  }
  if (grant.grantor_role == GrantorRole::kUnspecified ||
      static_cast<int>(grant.grantor_role) > 3) {
    return InvalidField("grant.grantor_role",
                        "must be SUBJECT, GUARDIAN or LEGAL_REPRESENTATIVE");
  }
  auto grantor = IdentityNumber::Parse(grant.grantor);
  if (!grantor.ok()) {
    return InvalidField("grant.grantor", grantor.status().message());
  }
  const bool same_person = grantor->digits() == subject->digits();
  if (grant.grantor_role == GrantorRole::kSubject && !same_person) {
    return InvalidField("grant.grantor",
                        "must be the subject when grantor_role is SUBJECT");
  }
  if (grant.grantor_role != GrantorRole::kSubject && same_person) {
    return InvalidField("grant.grantor_role",
                        "must be SUBJECT when the grantor is the subject");
  }

  const Scope& s = grant.scope;
  if (s.disclosing_agencies.empty() && s.disclosing_sectors.empty()) {
    return InvalidField("grant.scope.disclosing_agencies",
                        "name at least one disclosing agency or sector");
  }
  if (s.receiving_agencies.empty() && s.receiving_sectors.empty()) {
    return InvalidField("grant.scope.receiving_agencies",
                        "name at least one receiving agency or sector");
  }
  for (const std::string& id : s.disclosing_agencies) {
    if (!IsValidAgencyId(id)) {
      return InvalidField("grant.scope.disclosing_agencies",
                          "agency ids are 2-63 characters of a-z, 0-9, '-'");
    }
  }
  for (const std::string& id : s.receiving_agencies) {
    if (!IsValidAgencyId(id)) {
      return InvalidField("grant.scope.receiving_agencies",
                          "agency ids are 2-63 characters of a-z, 0-9, '-'");
    }
  }
  for (Sector x : s.disclosing_sectors) {
    if (!ValidSector(x)) {
      return InvalidField("grant.scope.disclosing_sectors",
                          "must be SCHOOL, SOCIAL_SERVICES or HEALTHCARE");
    }
  }
  for (Sector x : s.receiving_sectors) {
    if (!ValidSector(x)) {
      return InvalidField("grant.scope.receiving_sectors",
                          "must be SCHOOL, SOCIAL_SERVICES or HEALTHCARE");
    }
  }
  if (s.categories.empty()) {
    return InvalidField("grant.scope.categories",
                        "name at least one information category");
  }
  for (Category c : s.categories) {
    if (!ValidCategory(c)) {
      return InvalidField("grant.scope.categories",
                          "contains an unspecified or unknown category");
    }
  }

  if (grant.valid_from == absl::InfinitePast() ||
      grant.valid_from == absl::InfiniteFuture()) {
    return InvalidField("grant.valid_from", "is required");
  }
  if (grant.valid_until == absl::InfinitePast() ||
      grant.valid_until == absl::InfiniteFuture()) {
    return InvalidField("grant.valid_until", "is required");
  }
  if (!(grant.valid_from < grant.valid_until)) {
    return InvalidField("grant.valid_until", "must be after valid_from");
  }
  const absl::Time latest =
      LatestGrantEnd(grant.valid_from, policy.max_grant_months, policy.zone);
  if (grant.valid_until > latest) {
    return WithMetadata(
        Error(
            absl::StatusCode::kInvalidArgument, "GRANT_PERIOD_TOO_LONG",
            "grant.valid_until",
            absl::StrCat("the period may be at most ", policy.max_grant_months,
                         " months: valid_until may be at most ",
                         absl::FormatTime(absl::RFC3339_full, latest,
                                          absl::UTCTimeZone()))),
        "max_months", absl::StrCat(policy.max_grant_months));
  }

  // Competence at the time of recording.
  const int age = SubjectAge(subject->birth_date(), policy, now);
  if (age < 0) {
    return InvalidField("grant.subject", "birth date is in the future");
  }
  auto not_competent = [](absl::string_view why) {
    return Error(absl::StatusCode::kFailedPrecondition, "GRANTOR_NOT_COMPETENT",
                 "grant.grantor", why);
  };
  switch (grant.grantor_role) {
    case GrantorRole::kSubject:
      if (age < policy.consent_age) {
        return not_competent(
            absl::StrCat("a subject under ", policy.consent_age,
                         " cannot consent; the guardians with custody must"));
      }
      break;
    case GrantorRole::kGuardian: {
      if (age >= policy.adult_age) {
        return not_competent(
            "the subject is an adult; guardians cannot "
            "consent for an adult");
      }
      if (age >= policy.consent_age &&
          policy.teen_rule == TeenRule::kSubjectOnly) {
        return not_competent(absl::StrCat(
            "from ", policy.consent_age,
            " the subject consents personally; guardians' grants do not "
            "count"));
      }
      auto guardians = GuardiansAt(subject->digits(), facts, now);
      if (std::find(guardians.begin(), guardians.end(), grantor->digits()) ==
          guardians.end()) {
        return not_competent(
            "the grantor is not registered as a guardian with custody of "
            "the subject at this time");
      }
      break;
    }
    case GrantorRole::kLegalRepresentative: {
      if (age < policy.adult_age) {
        return not_competent(
            "a legal representative consents only for an "
            "adult subject");
      }
      bool found = false;
      for (const Representation& r : facts.representations) {
        if (r.subject == subject->digits() &&
            r.representative == grantor->digits() && r.covers_consent &&
            Within(r.valid_from, r.valid_until, now)) {
          found = true;
        }
      }
      if (!found) {
        return not_competent(
            "the grantor is not registered as the subject's legal "
            "representative with a remit that covers consent");
      }
      break;
    }
    default:
      break;
  }
  return absl::OkStatus();
}

bool IsValidAgencyId(absl::string_view id) {
  if (id.size() < 2 || id.size() > 63) return false;
  for (char c : id) {
    if (!(absl::ascii_islower(static_cast<unsigned char>(c)) ||
          absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '-')) {
      return false;
    }
  }
  return id.front() != '-' && id.back() != '-';
}

}  // namespace samplan::consent
