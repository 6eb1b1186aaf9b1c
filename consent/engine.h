// The consent engine: pure decisions over grants, custody facts, policy and
// time, as laid down in docs/consent-rules.md. No I/O, no clock, no globals:
// every input is passed in, so the same call always gives the same answer.
//
// Two entry points:
//   Decide()             may agency R read entry E about subject S at time T?
//   ValidateNewGrant()   may this grant be recorded now?
//
// Fail closed: malformed input (an unspecified category or sector, an empty
// agency id, a subject whose identity number does not parse or who is not
// yet born) gives a deny with reason kInvalidInput; a malformed grant (no id,
// no grantor, an empty scope, an empty period...) never counts towards an
// allow.
//
// Thread-safety: all functions are thread-safe (they share no state).

#ifndef SAMPLAN_CONSENT_ENGINE_H_
#define SAMPLAN_CONSENT_ENGINE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace samplan::consent {

enum class Sector : uint8_t {
  kUnspecified = 0,
  kSchool = 1,
  kSocialServices = 2,
  kHealthcare = 3,
};

// The closed list of information categories. kUnspecified is invalid input.
enum class Category : uint8_t {
  kUnspecified = 0,
  kNeeds = 1,  // needs, strengths and wishes
  kInterventions = 2,
  kHealth = 3,
  kEducation = 4,
  kSocialSituation = 5,
  kMeetingMinutes = 6,
  kFollowUpResults = 7,
};
inline constexpr int kMaxCategory = 7;

enum class GrantorRole : uint8_t {
  kUnspecified = 0,
  kSubject = 1,
  kGuardian = 2,
  kLegalRepresentative = 3,
};

enum class GrantState : uint8_t {
  kUnspecified = 0,
  kActive = 1,
  kWithdrawn = 2,  // by the person (or a guardian) who may consent
  kRevoked = 3,    // by an administrator, on the person's request
  kExpired = 4,    // marked by the sweeper after valid_until
  kVoid = 5,       // misregistered; never counts, kept for history
};

// Why a decision went the way it did. Names match the API's DecisionReason
// (see ReasonName()).
enum class Reason : uint8_t {
  kUnspecified = 0,
  kOwnAgency = 1,      // allow: the reader owns the entry
  kConsentCovers = 2,  // allow: effective grants of competent grantors cover it
  kNotParticipant = 3,
  kNoConsent = 4,
  kConsentNotYetValid = 5,
  kConsentExpired = 6,
  kConsentRevoked = 7,
  kAgencyOutOfScope = 8,
  kPlanOutOfScope = 9,
  kCategoryOutOfScope = 10,
  kGuardianConsentMissing = 11,
  kGrantorNotCompetent = 12,
  kInvalidInput = 13,  // fail closed: malformed input or an internal error
};

// "OWN_AGENCY", "CONSENT_EXPIRED", ...; "UNSPECIFIED" for unknown values.
absl::string_view ReasonName(Reason reason);
absl::string_view CategoryName(Category category);
absl::string_view SectorName(Sector sector);

struct Agency {
  std::string id;
  Sector sector = Sector::kUnspecified;
};

// Which disclosures a grant allows. An agency matches a side when its id is
// listed or its sector is listed. An empty `plan` means any plan.
struct Scope {
  std::vector<std::string> disclosing_agencies;
  std::vector<Sector> disclosing_sectors;
  std::vector<std::string> receiving_agencies;
  std::vector<Sector> receiving_sectors;
  std::vector<Category> categories;
  std::string plan;
};

// One person's consent. Identity numbers are in canonical 12-digit form.
struct Grant {
  std::string id;
  std::string subject;
  GrantorRole grantor_role = GrantorRole::kUnspecified;
  std::string grantor;
  Scope scope;
  absl::Time valid_from = absl::InfinitePast();   // inclusive
  absl::Time valid_until = absl::InfinitePast();  // exclusive
  GrantState state = GrantState::kUnspecified;
  // When it was withdrawn, revoked or voided; unset while active.
  std::optional<absl::Time> ended_at;
};

// `guardian` has custody of `subject` during [valid_from, valid_until).
struct CustodyFact {
  std::string subject;
  std::string guardian;
  absl::Time valid_from = absl::InfinitePast();
  absl::Time valid_until = absl::InfiniteFuture();
};

// `representative` acts for the adult `subject` during [from, until); only a
// remit that covers consent makes the representative's grants count.
struct Representation {
  std::string subject;
  std::string representative;
  bool covers_consent = false;
  absl::Time valid_from = absl::InfinitePast();
  absl::Time valid_until = absl::InfiniteFuture();
};

// Who may consent for a subject of 15-17 (the consent age to the adult age).
enum class TeenRule : uint8_t {
  kSubjectOnly = 0,         // default: the child's own grant is needed
  kSubjectOrGuardians = 1,  // either the child, or the guardians as for <15
};

// The configurable part of the rules. Defaults are those of
// docs/consent-rules.md except `zone`, which the caller must set to
// Europe/Stockholm (loading it is I/O, which the engine never does).
struct Policy {
  int consent_age = 15;
  int adult_age = 18;
  TeenRule teen_rule = TeenRule::kSubjectOnly;
  // Joint custody: every guardian with custody must have granted (default),
  // or any one guardian is enough.
  bool joint_custody_requires_all = true;
  // Longest allowed period [valid_from, valid_until), in calendar months.
  int max_grant_months = 12;
  absl::TimeZone zone = absl::UTCTimeZone();
};

// The default policy of docs/consent-rules.md with zone Europe/Stockholm.
// Reads the time zone database (tzdata) once; FAILED_PRECONDITION if it is
// missing, so a server never decides ages on the wrong calendar date.
absl::StatusOr<Policy> DefaultPolicy();

// One prospective read: agency `reader` reads information of `category`
// owned by agency `owner`, in plan `plan`, about `subject`. The subject's
// age follows from the birth date in its identity number.
struct Access {
  std::string subject;  // canonical 12 digits
  std::string plan;     // the plan the entry belongs to
  Agency owner;
  Agency reader;
  Category category = Category::kUnspecified;
  bool reader_participates = false;  // lead agency or invited participant
};

// What is known about the subject. Entries about other subjects are ignored.
struct Facts {
  absl::Span<const Grant> grants;
  absl::Span<const CustodyFact> custody;
  absl::Span<const Representation> representations;
};

struct Decision {
  bool allowed = false;
  Reason reason = Reason::kInvalidInput;
  // For an allow by consent: the ids of the grants relied on, sorted.
  std::vector<std::string> grants_relied_on;
  // A sentence a person can act on. Never contains identity numbers.
  std::string explanation;
};

// Decides one access at time `now`. Never fails: any doubt is a deny.
Decision Decide(const Access& access, const Facts& facts, const Policy& policy,
                absl::Time now);

// What Decide() works out once about a subject at a moment: whether its
// identity number is valid, its age, and whose grants count (the competence
// rule). Deciding several accesses about one subject at one moment (every
// entry of a plan) through one context gives exactly Decide()'s decisions.
// What `facts` points to must outlive the context. Thread-compatible.
class SubjectContext {
 public:
  SubjectContext(absl::string_view subject, const Facts& facts,
                 const Policy& policy, absl::Time now);
  ~SubjectContext();
  SubjectContext(const SubjectContext&) = delete;
  SubjectContext& operator=(const SubjectContext&) = delete;

  // Decide(access, facts, policy, now). An access about another subject is
  // a deny (kInvalidInput). The explanation is built only when `explain`
  // (it is empty otherwise): callers that return just the reason skip it.
  Decision Decide(const Access& access, bool explain = true) const;

 private:
  struct State;
  std::string subject_;
  Facts facts_;
  absl::Time now_;
  std::unique_ptr<State> state_;
};

// Checks that `grant` may be recorded at `now` (consent-rules.md, "Changes to
// consent"): subject and grantor are valid identity numbers, the scope is
// non-empty and well formed, valid_until is after valid_from, the period is
// at most policy.max_grant_months, and the grantor is competent at `now`.
// The grant's id, state and ended_at are ignored.
// Returns OK; INVALID_ARGUMENT naming the field (as "grant.<field>") for bad
// input; FAILED_PRECONDITION with reason GRANTOR_NOT_COMPETENT when the
// grantor may not consent for the subject at `now`.
absl::Status ValidateNewGrant(const Grant& grant, const Facts& facts,
                              const Policy& policy, absl::Time now);

// The latest valid_until a grant starting at `valid_from` may have: the
// later of `max_months` calendar months counted in `zone` (Swedish time) and
// counted in UTC, so a client that adds the months in either calendar is
// accepted at the exact limit. A month keeps the day of the month, or ends
// on the month's last day when that day does not exist (31 January + 1
// month = 28 or 29 February); the wall-clock time and the fraction of a
// second of `valid_from` are kept.
absl::Time LatestGrantEnd(absl::Time valid_from, int max_months,
                          absl::TimeZone zone);

// True when `id` is 2-63 characters of a-z, 0-9 and '-', not starting or
// ending with '-'.
bool IsValidAgencyId(absl::string_view id);

// The age rule in force for a subject born on `birth` at `now` in the
// policy's zone: the subject's age in whole years on the Swedish calendar
// date of `now`.
int SubjectAge(absl::CivilDay birth, const Policy& policy, absl::Time now);

}  // namespace samplan::consent

#endif  // SAMPLAN_CONSENT_ENGINE_H_
