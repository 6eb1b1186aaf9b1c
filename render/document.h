// A printable document for the family: a title, then headings, paragraphs
// and lists of plain text. The plan's and the receipts' words are composed
// into this shape once (plan_document.h), and each output format renders
// the same blocks (html.h, pdf.h), so the PDF says what the HTML says.
//
// Text is UTF-8 and plain: the renderers escape it. A line break inside a
// text ("\n") is kept as a line break.

#ifndef SAMPLAN_RENDER_DOCUMENT_H_
#define SAMPLAN_RENDER_DOCUMENT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace samplan::render {

enum class Language { kSwedish, kEnglish };

// "sv" or "en" (also with a region, "sv-SE", "en-GB"; any case); empty
// means Swedish. nullopt for any other code.
std::optional<Language> ParseLanguage(absl::string_view code);
// "sv" or "en".
absl::string_view LanguageCode(Language language);

// One item of a list: its text, then shorter lines that go with it (who is
// responsible, when).
struct ListItem {
  std::string text;
  std::vector<std::string> details;
};

struct Block {
  enum class Kind { kSection, kSubsection, kParagraph, kList };
  Kind kind = Kind::kParagraph;
  std::string text;             // a heading or a paragraph
  std::vector<ListItem> items;  // a list
};

struct Document {
  Language language = Language::kSwedish;
  std::string title;     // the page's one top heading
  std::string subtitle;  // a line under it
  std::vector<Block> blocks;
  std::string footer;  // small print at the end
  absl::Time time;     // when it was made (the PDF's creation date)

  void Section(std::string text);
  void Subsection(std::string text);
  void Paragraph(std::string text);
  // Appends a list (or, when `items` is empty, nothing).
  void List(std::vector<ListItem> items);
};

}  // namespace samplan::render

#endif  // SAMPLAN_RENDER_DOCUMENT_H_
