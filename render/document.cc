#include "render/document.h"

#include <utility>

#include "absl/strings/ascii.h"

namespace samplan::render {

std::optional<Language> ParseLanguage(absl::string_view code) {
  if (code.empty()) return Language::kSwedish;
  std::string lower = absl::AsciiStrToLower(code);
  absl::string_view primary = lower;
  if (const size_t dash = primary.find_first_of("-_");
      dash != absl::string_view::npos && dash + 1 < primary.size()) {
    primary = primary.substr(0, dash);
  }
  if (primary == "sv") return Language::kSwedish;
  if (primary == "en") return Language::kEnglish;
  return std::nullopt;
}

absl::string_view LanguageCode(Language language) {
  return language == Language::kEnglish ? "en" : "sv";
}

void Document::Section(std::string text) {
  blocks.push_back({Block::Kind::kSection, std::move(text), {}});
}

void Document::Subsection(std::string text) {
  blocks.push_back({Block::Kind::kSubsection, std::move(text), {}});
}

void Document::Paragraph(std::string text) {
  blocks.push_back({Block::Kind::kParagraph, std::move(text), {}});
}

void Document::List(std::vector<ListItem> items) {
  if (items.empty()) return;
  blocks.push_back({Block::Kind::kList, "", std::move(items)});
}

}  // namespace samplan::render
