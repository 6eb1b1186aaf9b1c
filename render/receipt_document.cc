#include "render/receipt_document.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/substitute.h"
#include "common/proto_time.h"
#include "render/plan_document.h"
#include "render/words.h"

namespace samplan::render {
namespace {

class ReceiptComposer {
 public:
  ReceiptComposer(const ReceiptCopy& copy, Language language)
      : c_(copy),
        r_(copy.receipt),
        g_(copy.receipt.grant()),
        w_(language),
        language_(language) {
    doc_.language = language;
    doc_.time = ToTime(r_.issue_time());
  }

  Document Compose() {
    const std::string event_agency = Agency(r_.audit_event().agency());
    const std::string event_day = Day(r_.event_time());
    switch (r_.event()) {
      case v1::RECEIPT_EVENT_WITHDRAWN:
        doc_.title = std::string(w_("Kvitto på att ett samtycke togs tillbaka",
                                    "Receipt of a withdrawn consent"));
        doc_.Paragraph(absl::Substitute(
            w_("Det här kvittot visar att samtycket nedan togs tillbaka $0. "
               "Från den stunden får ingen verksamhet dela information med "
               "stöd av det.",
               "This receipt shows that the consent below was withdrawn on "
               "$0. From that moment no agency may share information because "
               "of it."),
            event_day));
        break;
      case v1::RECEIPT_EVENT_REVOKED:
        doc_.title = std::string(w_("Kvitto på att ett samtycke hävdes",
                                    "Receipt of a revoked consent"));
        doc_.Paragraph(absl::Substitute(
            w_("Det här kvittot visar att samtycket nedan hävdes $0 av $1. "
               "Från den stunden får ingen verksamhet dela information med "
               "stöd av det.",
               "This receipt shows that the consent below was revoked on $0 "
               "by $1. From that moment no agency may share information "
               "because of it."),
            event_day, event_agency));
        if (!g_.end_reason().empty()) {
          doc_.Paragraph(
              absl::StrCat(w_("Skäl: ", "Reason: "), g_.end_reason()));
        }
        break;
      default:
        doc_.title =
            std::string(w_("Kvitto på samtycke", "Receipt of consent"));
        doc_.Paragraph(absl::Substitute(
            w_("Det här kvittot visar vad $0 har sagt ja till. Spara det.",
               "This receipt shows what $0 agreed to. Keep it."),
            GrantorWords(g_.grantor_role(), w_)));
        break;
    }
    doc_.subtitle =
        absl::Substitute(w_("Inskrivet $0 av $1.", "Recorded on $0 by $1."),
                         event_day, event_agency);

    doc_.Section(
        std::string(w_("Vad samtycket gäller", "What the consent covers")));
    doc_.Paragraph(ConsentInWords(g_, c_.agencies, c_.zone, language_));
    doc_.Paragraph(absl::Substitute(
        w_("Samtycket gäller från och med $0.", "It applies from $0."),
        Day(g_.valid_from())));

    doc_.Section(
        std::string(w_("Vem som gav samtycket", "Who gave the consent")));
    doc_.Paragraph(absl::Substitute(
        w_("Samtycket gavs av $0 och dokumenterades $1. $2 skrev in det $3.",
           "The consent was given by $0 and documented $1. $2 recorded it on "
           "$3."),
        GrantorWords(g_.grantor_role(), w_),
        EvidenceWords(g_.evidence().kind(), w_),
        Agency(g_.recorded_by_agency()), Day(g_.create_time())));

    doc_.Section(std::string(w_("Samtycket nu", "The consent now")));
    const auto [standing, withdrawable] = Standing();
    doc_.Paragraph(standing);
    if (withdrawable) {
      doc_.Subsection(std::string(
          w_("Så tar ni tillbaka ett samtycke", "How to withdraw a consent")));
      doc_.Paragraph(WithdrawalInWords(language_));
    }

    doc_.Section(
        std::string(w_("Varför samtycke behövs", "Why consent is needed")));
    doc_.Paragraph(PurposeInWords(language_));
    doc_.Paragraph(LegalBasisInWords(language_));

    doc_.Section(std::string(
        w_("Så kan kvittot kontrolleras", "How this receipt can be checked")));
    doc_.Paragraph(absl::Substitute(
        w_("Händelsen är post $0 i granskningsloggen $1. Ingen kan ändra en "
           "post där i efterhand utan att det syns.",
           "The event is entry $0 of the audit log $1. No one can change an "
           "entry there afterwards without it showing."),
        r_.audit_event().leaf_index(), c_.log_origin));
    doc_.Paragraph(std::string(w_(
        "Till kvittot hör en fil (JSON) som är signerad med loggens nyckel. "
        "Med filen och loggens publika nyckel kan vem som helst kontrollera "
        "kvittot utan uppkoppling, med kommandot samplanctl receipt verify.",
        "A file (JSON) signed with the log's key goes with this receipt. With "
        "that file and the log's public key anyone can check the receipt "
        "offline, with the command samplanctl receipt verify.")));

    doc_.footer = absl::Substitute(w_("Utskrivet $0. Kvittots nummer: $1.",
                                      "Printed $0. The receipt's number: $1."),
                                   Day(r_.issue_time()), r_.receipt_id());
    return std::move(doc_);
  }

 private:
  std::string Agency(const std::string& name) const {
    return AgencyName(c_.agencies, name, w_);
  }
  std::string Day(const google::protobuf::Timestamp& t) const {
    return FormatDay(absl::ToCivilDay(ToTime(t), c_.zone), language_);
  }

  // Where the grant stood when the receipt was made, and whether it could
  // still be withdrawn (in force, or yet to start).
  std::pair<std::string, bool> Standing() const {
    const absl::Time issued = ToTime(r_.issue_time());
    if (g_.state() == v1::GRANT_STATE_ACTIVE &&
        issued < ToTime(g_.valid_until())) {
      if (issued < ToTime(g_.valid_from())) {
        return {absl::Substitute(w_("Samtycket börjar gälla $0.",
                                    "The consent applies from $0."),
                                 Day(g_.valid_from())),
                true};
      }
      return {absl::Substitute(
                  w_("Samtycket gällde när kvittot skrevs ut, $0.",
                     "The consent applied when this receipt was printed, on "
                     "$0."),
                  Day(r_.issue_time())),
              true};
    }
    return {Ended(), false};
  }

  // How an ended grant ended.
  std::string Ended() const {
    switch (g_.state()) {
      case v1::GRANT_STATE_WITHDRAWN:
        return absl::Substitute(
            w_("Samtycket togs tillbaka $0. Det gäller inte längre.",
               "The consent was withdrawn on $0. It no longer applies."),
            Day(g_.end_time()));
      case v1::GRANT_STATE_REVOKED:
        return absl::Substitute(
            w_("Samtycket hävdes $0. Det gäller inte längre.",
               "The consent was revoked on $0. It no longer applies."),
            Day(g_.end_time()));
      case v1::GRANT_STATE_VOID:
        return std::string(
            w_("Samtycket skrevs in av misstag och har strukits. Det har "
               "aldrig gällt.",
               "The consent was recorded by mistake and has been struck out. "
               "It never applied."));
      default:  // expired, or active past its period
        return std::string(
            w_("Samtyckets tid har gått ut. Det gäller inte "
               "längre.",
               "The consent's period has ended. It no longer "
               "applies."));
    }
  }

  const ReceiptCopy& c_;
  const v1::ConsentReceipt& r_;
  const v1::Grant& g_;
  const Words w_;
  const Language language_;
  Document doc_;
};

}  // namespace

std::string LegalBasisInWords(Language language) {
  const Words w(language);
  return std::string(
      w("Samtycke: den enskilde efterger sekretessen mellan verksamheterna "
        "(offentlighets- och sekretesslagen 12 kap. 2 §).",
        "Consent: the person waives confidentiality between the agencies "
        "(Public Access to Information and Secrecy Act, chapter 12, section "
        "2)."));
}

std::string PurposeInWords(Language language) {
  const Words w(language);
  return std::string(
      w("Samordnad individuell plan (SIP) enligt socialtjänstlagen 2 kap. 7 § "
        "och hälso- och sjukvårdslagen 16 kap. 4 §.",
        "A coordinated individual plan (SIP) under the Social Services Act, "
        "chapter 2, section 7, and the Health and Medical Services Act, "
        "chapter 16, section 4."));
}

Document ComposeReceiptDocument(const ReceiptCopy& copy, Language language) {
  return ReceiptComposer(copy, language).Compose();
}

}  // namespace samplan::render
