// Between the API/storage messages and the consent engine's own types: loads
// everything the engine needs about one subject inside a transaction and
// converts it. The engine then decides with no further I/O.

#ifndef SAMPLAN_APP_CONSENT_BRIDGE_H_
#define SAMPLAN_APP_CONSENT_BRIDGE_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "consent/engine.h"
#include "storage/store.h"

namespace samplan::v1 {
class CustodyFact;
class Grant;
class Representation;
}  // namespace samplan::v1

namespace samplan::app {

// What is on file about one subject, in the engine's types.
struct SubjectFacts {
  std::vector<consent::Grant> grants;
  std::vector<consent::CustodyFact> custody;
  std::vector<consent::Representation> representations;

  consent::Facts view() const {
    return consent::Facts{grants, custody, representations};
  }
};

// Loads the subject's grants (every state), custody facts and
// representations. `subject` is the canonical 12 digits.
absl::StatusOr<SubjectFacts> LoadSubjectFacts(storage::Transaction& tx,
                                              absl::string_view subject);

consent::Grant ToEngine(const v1::Grant& grant);
consent::CustodyFact ToEngine(const v1::CustodyFact& fact);
consent::Representation ToEngine(const v1::Representation& r);

// Agencies by id, read once per request. Unknown agencies are NOT_FOUND.
class AgencyCache {
 public:
  explicit AgencyCache(storage::Transaction& tx) : tx_(tx) {}
  // The agency's id and sector; NOT_FOUND if it is not registered (the
  // caller says which request field named it).
  absl::StatusOr<consent::Agency> Get(absl::string_view id);

 private:
  storage::Transaction& tx_;
  absl::flat_hash_map<std::string, consent::Agency> cache_;
};

}  // namespace samplan::app

#endif  // SAMPLAN_APP_CONSENT_BRIDGE_H_
