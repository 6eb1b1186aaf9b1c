#include "app/consent_bridge.h"

#include <utility>

#include "app/app_support.h"
#include "common/errors.h"
#include "common/resource_names.h"
#include "common/status_macros.h"
#include "samplan/v1/admin.pb.h"
#include "samplan/v1/consent.pb.h"

namespace samplan::app {
consent::Grant ToEngine(const v1::Grant& g) {
  consent::Grant out;
  out.id = BareId(g.name());
  out.subject = g.subject();
  out.grantor_role = static_cast<consent::GrantorRole>(g.grantor_role());
  out.grantor = g.grantor_identity_number();
  for (const std::string& a : g.scope().disclosing_agencies()) {
    out.scope.disclosing_agencies.push_back(BareId(a));
  }
  for (int s : g.scope().disclosing_sectors()) {
    out.scope.disclosing_sectors.push_back(static_cast<consent::Sector>(s));
  }
  for (const std::string& a : g.scope().receiving_agencies()) {
    out.scope.receiving_agencies.push_back(BareId(a));
  }
  for (int s : g.scope().receiving_sectors()) {
    out.scope.receiving_sectors.push_back(static_cast<consent::Sector>(s));
  }
  for (int c : g.scope().categories()) {
    out.scope.categories.push_back(static_cast<consent::Category>(c));
  }
  out.scope.plan = BareId(g.scope().plan());  // "plans/x" -> "x"
  out.valid_from =
      g.has_valid_from() ? ToTime(g.valid_from()) : absl::InfiniteFuture();
  out.valid_until =
      g.has_valid_until() ? ToTime(g.valid_until()) : absl::InfinitePast();
  out.state = static_cast<consent::GrantState>(g.state());
  if (g.has_end_time()) out.ended_at = ToTime(g.end_time());
  return out;
}

consent::CustodyFact ToEngine(const v1::CustodyFact& f) {
  consent::CustodyFact out;
  out.subject = f.subject();
  out.guardian = f.guardian_identity_number();
  out.valid_from =
      f.has_valid_from() ? ToTime(f.valid_from()) : absl::InfiniteFuture();
  out.valid_until =
      f.has_valid_until() ? ToTime(f.valid_until()) : absl::InfiniteFuture();
  return out;
}

consent::Representation ToEngine(const v1::Representation& r) {
  consent::Representation out;
  out.subject = r.subject();
  out.representative = r.representative_identity_number();
  out.covers_consent = r.remit_covers_consent();
  out.valid_from =
      r.has_valid_from() ? ToTime(r.valid_from()) : absl::InfiniteFuture();
  out.valid_until =
      r.has_valid_until() ? ToTime(r.valid_until()) : absl::InfiniteFuture();
  return out;
}

absl::StatusOr<SubjectFacts> LoadSubjectFacts(storage::Transaction& tx,
                                              absl::string_view subject) {
  SubjectFacts facts;
  ASSIGN_OR_RETURN(auto grants, tx.grants().ListForSubject(subject));
  facts.grants.reserve(grants.size());
  for (const v1::Grant& g : grants) facts.grants.push_back(ToEngine(g));
  ASSIGN_OR_RETURN(auto custody, tx.custody().ListCustody(subject));
  for (const v1::CustodyFact& f : custody) {
    facts.custody.push_back(ToEngine(f));
  }
  ASSIGN_OR_RETURN(auto reps, tx.custody().ListRepresentations(subject));
  for (const v1::Representation& r : reps) {
    facts.representations.push_back(ToEngine(r));
  }
  return facts;
}

absl::StatusOr<consent::Agency> AgencyCache::Get(absl::string_view id) {
  auto it = cache_.find(id);
  if (it != cache_.end()) return it->second;
  auto agency = tx_.agencies().Get(id);
  if (!agency.ok()) return agency.status();
  consent::Agency out{std::string(id),
                      static_cast<consent::Sector>(agency->sector())};
  cache_.emplace(std::string(id), out);
  return out;
}

}  // namespace samplan::app
