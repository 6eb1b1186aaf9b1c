#include "render/html.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "render/document.h"

namespace samplan::render {
namespace {

// Body text #1a1a1a on #ffffff is 17.4:1, the small print #4d4d4d 8.5:1,
// headings #0b3d66 11.2:1 and the rules are decoration only.
constexpr absl::string_view kStyle = R"css(
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0 auto;max-width:42rem;padding:1rem;
font-family:"DejaVu Sans",Verdana,Arial,sans-serif;font-size:1.05rem;
line-height:1.5;color:#1a1a1a;background:#fff;
overflow-wrap:break-word;word-wrap:break-word;hyphens:auto}
h1{font-size:1.6rem;line-height:1.25;color:#0b3d66;margin:0 0 .25rem}
h2{font-size:1.25rem;line-height:1.3;color:#0b3d66;margin:2rem 0 .5rem;
padding-top:.75rem;border-top:2px solid #c8d3dd}
h3{font-size:1.05rem;margin:1.25rem 0 .25rem}
p{margin:.5rem 0}
ul{margin:.5rem 0;padding-left:1.25rem}
li{margin:.5rem 0}
li p{margin:0}
.subtitle{font-size:1.1rem;margin:0 0 1rem}
.detail{color:#4d4d4d}
footer{margin-top:2.5rem;padding-top:.75rem;border-top:1px solid #c8d3dd;
font-size:.9rem;color:#4d4d4d}
@media print{
body{max-width:none;padding:0;font-size:11pt;color:#000}
h1,h2,h3{color:#000;break-after:avoid;page-break-after:avoid}
h2{border-top:1px solid #000}
li{break-inside:avoid;page-break-inside:avoid}
footer{color:#000}
@page{margin:2cm}
}
)css";

// Escaped text with each line break kept as <br>.
std::string Text(absl::string_view text) {
  return absl::StrReplaceAll(HtmlEscape(text), {{"\n", "<br>\n"}});
}

}  // namespace

std::string HtmlEscape(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"&", "&amp;"},
                                    {"<", "&lt;"},
                                    {">", "&gt;"},
                                    {"\"", "&quot;"},
                                    {"'", "&#39;"}});
}

std::string ToHtml(const Document& doc) {
  std::string out;
  absl::StrAppend(
      &out, "<!DOCTYPE html>\n<html lang=\"", LanguageCode(doc.language),
      "\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, "
      "initial-scale=1\">\n<title>",
      HtmlEscape(doc.title), "</title>\n<style>", kStyle,
      "</style>\n</head>\n<body>\n<main>\n<h1>", Text(doc.title), "</h1>\n");
  if (!doc.subtitle.empty()) {
    absl::StrAppend(&out, "<p class=\"subtitle\">", Text(doc.subtitle),
                    "</p>\n");
  }
  for (const Block& block : doc.blocks) {
    switch (block.kind) {
      case Block::Kind::kSection:
        absl::StrAppend(&out, "<h2>", Text(block.text), "</h2>\n");
        break;
      case Block::Kind::kSubsection:
        absl::StrAppend(&out, "<h3>", Text(block.text), "</h3>\n");
        break;
      case Block::Kind::kParagraph:
        absl::StrAppend(&out, "<p>", Text(block.text), "</p>\n");
        break;
      case Block::Kind::kList:
        out += "<ul>\n";
        for (const ListItem& item : block.items) {
          absl::StrAppend(&out, "<li><p>", Text(item.text), "</p>");
          for (const std::string& detail : item.details) {
            absl::StrAppend(&out, "<p class=\"detail\">", Text(detail), "</p>");
          }
          out += "</li>\n";
        }
        out += "</ul>\n";
        break;
    }
  }
  out += "</main>\n";
  if (!doc.footer.empty()) {
    absl::StrAppend(&out, "<footer>\n<p>", Text(doc.footer),
                    "</p>\n</footer>\n");
  }
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace samplan::render
