// A Document as one self-contained HTML page: no scripts, no external
// resources, a stylesheet for screens of any width (phones included) and
// one for print. Headings and lists are real HTML headings and lists, the
// page carries its language, and every colour pair meets WCAG 2.1 AA
// contrast (the lowest, the small print, is 8.4:1 on white).

#ifndef SAMPLAN_RENDER_HTML_H_
#define SAMPLAN_RENDER_HTML_H_

#include <string>

#include "absl/strings/string_view.h"

namespace samplan::render {

struct Document;

std::string ToHtml(const Document& doc);

// `text` with &, <, >, " and ' escaped.
std::string HtmlEscape(absl::string_view text);

}  // namespace samplan::render

#endif  // SAMPLAN_RENDER_HTML_H_
