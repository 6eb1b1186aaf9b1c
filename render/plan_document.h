// The family's copy of a plan: the plan as one agency may see it, composed
// in plain words (Swedish or English) in the order the information pages
// for families give: the help needed; the help from the municipality, from
// health care and from others such as the school, each with who is
// responsible and in what order; who holds the overall responsibility and
// who the coordinator is; when follow-up and evaluation happen; notes;
// what is not shown and why; which revision this is and whether the family
// approved it; the consents in force, and how to withdraw them.
//
// Short sentences, no codes: agencies by their names, categories and roles
// in words, dates as people write them ("3 december 2026") in Swedish time.
// Identity numbers never appear. An entry the reader may not see appears
// only as a sentence naming its owner and its category.

#ifndef SAMPLAN_RENDER_PLAN_DOCUMENT_H_
#define SAMPLAN_RENDER_PLAN_DOCUMENT_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "render/document.h"
#include "samplan/v1/admin.pb.h"
#include "samplan/v1/consent.pb.h"
#include "samplan/v1/plan.pb.h"

namespace samplan::render {

// What the copy is made from.
struct PlanCopy {
  // The plan exactly as GetPlan answers the reading agency: consent has
  // already decided every entry.
  v1::GetPlanResponse read;
  // The reading agency, `agencies/{agency}`.
  std::string reader;
  // Every agency the plan, its entries and the consents name, by resource
  // name; an agency missing here is called "another agency".
  absl::flat_hash_map<std::string, v1::Agency> agencies;
  // The consents about the subject in force at `now` that may cover this
  // plan (active, within their period, for this plan or for any plan).
  std::vector<v1::Grant> consents;
  absl::Time now;
  absl::TimeZone zone;  // Europe/Stockholm in the service
};

Document ComposePlanDocument(const PlanCopy& copy, Language language);

// One consent in the words of the copy: who may tell whom about what, and
// until which day ("Socialtjänsten Norr får berätta för Norrskolan om hälsa.
// Gäller till och med 30 juni 2027."). Agencies missing from `agencies` are
// "another agency".
std::string ConsentInWords(
    const v1::Grant& grant,
    const absl::flat_hash_map<std::string, v1::Agency>& agencies,
    absl::TimeZone zone, Language language);

// How to withdraw a consent, in words.
std::string WithdrawalInWords(Language language);

}  // namespace samplan::render

#endif  // SAMPLAN_RENDER_PLAN_DOCUMENT_H_
