// The words the family's documents share (plan_document.h,
// receipt_document.h): the document's language, and codes said in words.
// Internal to render/.
#ifndef SAMPLAN_RENDER_WORDS_H_
#define SAMPLAN_RENDER_WORDS_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "render/document.h"
#include "samplan/v1/admin.pb.h"
#include "samplan/v1/common.pb.h"
#include "samplan/v1/consent.pb.h"

namespace samplan::render {

// Picks the words of the document's language.
class Words {
 public:
  explicit Words(Language language)
      : swedish_(language == Language::kSwedish) {}
  absl::string_view operator()(absl::string_view sv,
                               absl::string_view en) const {
    return swedish_ ? sv : en;
  }

 private:
  bool swedish_;
};

// "A", "A och B", "A, B och C".
std::string JoinWords(const std::vector<std::string>& parts, const Words& w);

// The text with its first letter upper case (ASCII letters only: every
// phrase that can start a sentence here starts with one).
std::string Capitalized(std::string text);

// "hälsa" / "health".
std::string CategoryWords(v1::InformationCategory category, const Words& w);
// "skolan" / "the school".
std::string SectorWords(v1::Sector sector, const Words& w);
// "en vårdnadshavare" / "a guardian".
std::string GrantorWords(v1::GrantorRole role, const Words& w);
// "på en blankett som personen skrev under" / "on a form the person signed".
std::string EvidenceWords(v1::EvidenceKind kind, const Words& w);

// The agency `name` (`agencies/{agency}`) by its name for people; "en annan
// verksamhet" / "another agency" when it is not in `agencies` or has none.
std::string AgencyName(
    const absl::flat_hash_map<std::string, v1::Agency>& agencies,
    const std::string& name, const Words& w);

// "3 december 2026" / "3 December 2026".
std::string FormatDay(absl::CivilDay day, Language language);

}  // namespace samplan::render

#endif  // SAMPLAN_RENDER_WORDS_H_
