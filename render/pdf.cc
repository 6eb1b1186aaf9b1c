#include "render/pdf.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "render/document.h"

namespace samplan::render {
namespace {

// A4 in points, with 2 cm margins.
constexpr double kPageWidth = 595.276;
constexpr double kPageHeight = 841.890;
constexpr double kMargin = 56.693;
constexpr double kBottom = kPageHeight - kMargin;
constexpr double kTextWidth = kPageWidth - 2 * kMargin;
constexpr double kIndent = 16;  // list items, after the bullet

struct Style {
  const char* font;
  double before;  // space above, points
  double after;   // space below
  double grey;    // 0 black .. 1 white
};
// Headings dark blue in HTML; black in print, like the HTML's print sheet.
constexpr Style kTitle{"DejaVu Sans Bold 18", 0, 4, 0};
constexpr Style kSubtitle{"DejaVu Sans 12", 0, 14, 0};
constexpr Style kSection{"DejaVu Sans Bold 14", 16, 6, 0};
constexpr Style kSubsection{"DejaVu Sans Bold 11.5", 10, 3, 0};
constexpr Style kBody{"DejaVu Sans 10.5", 0, 6, 0};
constexpr Style kDetail{"DejaVu Sans 9.5", 0, 1, 0.3};
constexpr Style kFooter{"DejaVu Sans 9", 18, 0, 0.3};

struct CairoDeleter {
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
  void operator()(cairo_t* c) const { cairo_destroy(c); }
  void operator()(PangoFontDescription* f) const {
    pango_font_description_free(f);
  }
  void operator()(PangoLayout* l) const { g_object_unref(l); }
};

cairo_status_t Append(void* closure, const unsigned char* data,
                      unsigned int length) {
  static_cast<std::string*>(closure)->append(
      reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

class Writer {
 public:
  Writer(cairo_t* cr, Language language)
      : cr_(cr), language_(language), y_(kMargin) {}

  // Lays `text` out at `indent` in `style`; breaks the page between lines
  // as needed. `keep` more points must fit after the first line (a heading
  // keeps with what follows). `bullet` draws a bullet before the first line.
  void Text(const std::string& text, const Style& style, double indent = 0,
            double keep = 0, bool bullet = false) {
    y_ += page_top_ ? 0 : style.before;
    std::unique_ptr<PangoLayout, CairoDeleter> layout(
        pango_cairo_create_layout(cr_));
    pango_context_set_language(
        pango_layout_get_context(layout.get()),
        pango_language_from_string(language_ == Language::kEnglish ? "en"
                                                                   : "sv"));
    std::unique_ptr<PangoFontDescription, CairoDeleter> font(
        pango_font_description_from_string(style.font));
    pango_layout_set_font_description(layout.get(), font.get());
    pango_layout_set_width(
        layout.get(), static_cast<int>((kTextWidth - indent) * PANGO_SCALE));
    pango_layout_set_wrap(layout.get(), PANGO_WRAP_WORD_CHAR);
    pango_layout_set_text(layout.get(), text.data(),
                          static_cast<int>(text.size()));
    cairo_set_source_rgb(cr_, style.grey, style.grey, style.grey);

    PangoLayoutIter* iter = pango_layout_get_iter(layout.get());
    bool first = true;
    do {
      PangoRectangle logical;
      pango_layout_iter_get_line_extents(iter, nullptr, &logical);
      const double line_top = static_cast<double>(logical.y) / PANGO_SCALE;
      const double height = static_cast<double>(logical.height) / PANGO_SCALE;
      const double baseline =
          static_cast<double>(pango_layout_iter_get_baseline(iter)) /
              PANGO_SCALE -
          line_top;
      const double need = height + (first ? keep : 0);
      if (y_ + need > kBottom && !page_top_) NewPage(style);
      cairo_move_to(cr_, kMargin + indent, y_ + baseline);
      pango_cairo_show_layout_line(cr_,
                                   pango_layout_iter_get_line_readonly(iter));
      if (first && bullet) {
        cairo_move_to(cr_, kMargin + indent - kIndent + 4, y_ + baseline);
        std::unique_ptr<PangoLayout, CairoDeleter> dot(
            pango_cairo_create_layout(cr_));
        pango_layout_set_font_description(dot.get(), font.get());
        pango_layout_set_text(dot.get(), "•", -1);
        pango_cairo_show_layout_line(
            cr_, pango_layout_get_line_readonly(dot.get(), 0));
      }
      y_ += height;
      page_top_ = false;
      first = false;
    } while (pango_layout_iter_next_line(iter));
    pango_layout_iter_free(iter);
    y_ += style.after;
  }

  // The number of the last page, written at its foot; Cairo ends the page.
  void Finish() { PageNumber(); }

 private:
  void NewPage(const Style& style) {
    PageNumber();
    cairo_show_page(cr_);
    ++page_;
    y_ = kMargin;
    page_top_ = true;
    cairo_set_source_rgb(cr_, style.grey, style.grey, style.grey);
  }

  void PageNumber() {
    std::unique_ptr<PangoLayout, CairoDeleter> layout(
        pango_cairo_create_layout(cr_));
    std::unique_ptr<PangoFontDescription, CairoDeleter> font(
        pango_font_description_from_string(kFooter.font));
    pango_layout_set_font_description(layout.get(), font.get());
    const std::string text = absl::StrCat(
        language_ == Language::kEnglish ? "Page " : "Sida ", page_);
    pango_layout_set_text(layout.get(), text.data(),
                          static_cast<int>(text.size()));
    int width = 0;
    int height = 0;
    pango_layout_get_size(layout.get(), &width, &height);
    cairo_save(cr_);
    cairo_set_source_rgb(cr_, kFooter.grey, kFooter.grey, kFooter.grey);
    cairo_move_to(cr_, kPageWidth - kMargin - width / PANGO_SCALE,
                  kPageHeight - kMargin / 2 - height / PANGO_SCALE);
    pango_cairo_show_layout(cr_, layout.get());
    cairo_restore(cr_);
  }

  cairo_t* const cr_;
  const Language language_;
  double y_;
  bool page_top_ = true;
  int page_ = 1;
};

}  // namespace

absl::StatusOr<std::string> ToPdf(const Document& doc) {
  std::string out;
  std::unique_ptr<cairo_surface_t, CairoDeleter> surface(
      cairo_pdf_surface_create_for_stream(&Append, &out, kPageWidth,
                                          kPageHeight));
  cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_TITLE,
                                 doc.title.c_str());
  cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_CREATOR,
                                 "samplan");
  // The document's own time, not the clock's: the same document gives the
  // same bytes.
  const std::string created =
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", doc.time, absl::UTCTimeZone());
  cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_CREATE_DATE,
                                 created.c_str());
  {
    std::unique_ptr<cairo_t, CairoDeleter> cr(cairo_create(surface.get()));
    Writer w(cr.get(), doc.language);
    w.Text(doc.title, kTitle);
    if (!doc.subtitle.empty()) w.Text(doc.subtitle, kSubtitle);
    constexpr double kKeep = 40;  // about two lines of body text
    for (const Block& block : doc.blocks) {
      switch (block.kind) {
        case Block::Kind::kSection:
          w.Text(block.text, kSection, 0, kKeep);
          break;
        case Block::Kind::kSubsection:
          w.Text(block.text, kSubsection, 0, kKeep);
          break;
        case Block::Kind::kParagraph:
          w.Text(block.text, kBody);
          break;
        case Block::Kind::kList:
          for (const ListItem& item : block.items) {
            const Style text =
                item.details.empty() ? kBody : Style{kBody.font, 0, 1, 0};
            w.Text(item.text, text, kIndent, 0, /*bullet=*/true);
            for (size_t i = 0; i < item.details.size(); ++i) {
              Style detail = kDetail;
              if (i + 1 == item.details.size()) detail.after = kBody.after;
              w.Text(item.details[i], detail, kIndent);
            }
          }
          break;
      }
    }
    if (!doc.footer.empty()) w.Text(doc.footer, kFooter);
    w.Finish();
    if (cairo_status(cr.get()) != CAIRO_STATUS_SUCCESS) {
      return absl::InternalError(
          absl::StrCat("the PDF could not be drawn: ",
                       cairo_status_to_string(cairo_status(cr.get()))));
    }
  }
  cairo_surface_finish(surface.get());
  if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS) {
    return absl::InternalError(absl::StrCat(
        "the PDF could not be written: ",
        cairo_status_to_string(cairo_surface_status(surface.get()))));
  }
  return out;
}

}  // namespace samplan::render
