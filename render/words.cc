#include "render/words.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace samplan::render {
namespace {

constexpr absl::string_view kMonthsSv[] = {
    "januari", "februari", "mars",      "april",   "maj",      "juni",
    "juli",    "augusti",  "september", "oktober", "november", "december"};
constexpr absl::string_view kMonthsEn[] = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};

}  // namespace

std::string JoinWords(const std::vector<std::string>& parts, const Words& w) {
  if (parts.empty()) return "";
  if (parts.size() == 1) return parts[0];
  std::vector<std::string> head(parts.begin(), parts.end() - 1);
  return absl::StrCat(absl::StrJoin(head, ", "), w(" och ", " and "),
                      parts.back());
}

std::string Capitalized(std::string text) {
  if (!text.empty() && text[0] >= 'a' && text[0] <= 'z') {
    text[0] = static_cast<char>(text[0] - 'a' + 'A');
  }
  return text;
}

std::string CategoryWords(v1::InformationCategory category, const Words& w) {
  switch (category) {
    case v1::INFORMATION_CATEGORY_NEEDS:
      return std::string(
          w("behov, styrkor och önskemål", "needs, strengths and wishes"));
    case v1::INFORMATION_CATEGORY_INTERVENTIONS:
      return std::string(w("vilken hjälp som ges", "what help is given"));
    case v1::INFORMATION_CATEGORY_HEALTH:
      return std::string(w("hälsa", "health"));
    case v1::INFORMATION_CATEGORY_EDUCATION:
      return std::string(w("skolgång", "schooling"));
    case v1::INFORMATION_CATEGORY_SOCIAL_SITUATION:
      return std::string(
          w("familjens sociala situation", "the family's social situation"));
    case v1::INFORMATION_CATEGORY_MEETING_MINUTES:
      return std::string(w("protokoll från möten", "minutes of meetings"));
    case v1::INFORMATION_CATEGORY_FOLLOW_UP_RESULTS:
      return std::string(
          w("uppföljningar och utvärderingar", "follow-ups and evaluations"));
    default:
      return std::string(w("annat", "other matters"));
  }
}

std::string SectorWords(v1::Sector sector, const Words& w) {
  switch (sector) {
    case v1::SECTOR_SCHOOL:
      return std::string(w("skolan", "the school"));
    case v1::SECTOR_SOCIAL_SERVICES:
      return std::string(w("socialtjänsten", "social services"));
    case v1::SECTOR_HEALTHCARE:
      return std::string(w("hälso- och sjukvården", "health care"));
    default:
      return std::string(w("en annan verksamhet", "another agency"));
  }
}

std::string GrantorWords(v1::GrantorRole role, const Words& w) {
  switch (role) {
    case v1::GRANTOR_ROLE_SUBJECT:
      return std::string(
          w("den som planen gäller", "the person the plan is about"));
    case v1::GRANTOR_ROLE_GUARDIAN:
      return std::string(w("en vårdnadshavare", "a guardian"));
    case v1::GRANTOR_ROLE_LEGAL_REPRESENTATIVE:
      return std::string(
          w("en god man eller förvaltare", "a legal representative"));
    default:
      return std::string(w("en person", "a person"));
  }
}

std::string AgencyName(
    const absl::flat_hash_map<std::string, v1::Agency>& agencies,
    const std::string& name, const Words& w) {
  auto it = agencies.find(name);
  if (it == agencies.end() || it->second.display_name().empty()) {
    return std::string(w("en annan verksamhet", "another agency"));
  }
  return it->second.display_name();
}

std::string EvidenceWords(v1::EvidenceKind kind, const Words& w) {
  switch (kind) {
    case v1::EVIDENCE_KIND_SIGNED_FORM:
      return std::string(w("på en blankett som personen skrev under",
                           "on a form the person signed"));
    case v1::EVIDENCE_KIND_E_SIGNATURE:
      return std::string(
          w("med en e-underskrift", "with an electronic signature"));
    case v1::EVIDENCE_KIND_RECORDED_AT_MEETING:
      return std::string(
          w("på ett möte, i protokollet", "at a meeting, in its minutes"));
    case v1::EVIDENCE_KIND_REGISTER_EXTRACT:
      return std::string(w("med ett utdrag ur folkbokföringen",
                           "by an extract from the population register"));
    case v1::EVIDENCE_KIND_COURT_DECISION:
      return std::string(
          w("med ett beslut av domstol eller överförmyndare",
            "by a decision of a court or guardianship authority"));
    default:
      return std::string(w("på annat sätt", "in another way"));
  }
}

std::string FormatDay(absl::CivilDay day, Language language) {
  const auto& months = language == Language::kSwedish ? kMonthsSv : kMonthsEn;
  return absl::StrCat(day.day(), " ", months[day.month() - 1], " ", day.year());
}

}  // namespace samplan::render
