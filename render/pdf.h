// A Document as a PDF: A4 pages laid out by Pango (so å, ä and ö shape,
// and long words wrap and hyphenate) and drawn by Cairo's PDF surface, in
// DejaVu Sans. Text is real text: it can be searched, copied and read by
// a screen reader's text extraction (pdftotext gives it back). Every page
// carries its number; a heading is never left alone at a page's foot.

#ifndef SAMPLAN_RENDER_PDF_H_
#define SAMPLAN_RENDER_PDF_H_

#include <string>

#include "absl/status/statusor.h"

namespace samplan::render {

struct Document;

// The PDF's bytes. INTERNAL if Cairo fails (it does not for valid UTF-8).
absl::StatusOr<std::string> ToPdf(const Document& doc);

}  // namespace samplan::render

#endif  // SAMPLAN_RENDER_PDF_H_
