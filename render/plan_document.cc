#include "render/plan_document.h"

#include <algorithm>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/strings/substitute.h"
#include "common/proto_time.h"
#include "render/words.h"

namespace samplan::render {
namespace {

std::string ParticipantKindWords(v1::ParticipantKind kind, const Words& w) {
  switch (kind) {
    case v1::PARTICIPANT_KIND_SUBJECT:
      return std::string(
          w("Den som planen gäller.", "The person the plan is about."));
    case v1::PARTICIPANT_KIND_GUARDIAN:
      return std::string(w("Vårdnadshavare.", "Guardian."));
    case v1::PARTICIPANT_KIND_LEGAL_REPRESENTATIVE:
      return std::string(
          w("God man eller förvaltare.", "Legal representative."));
    case v1::PARTICIPANT_KIND_SUPPORT_PERSON:
      return std::string(w("Stödperson.", "Support person."));
    case v1::PARTICIPANT_KIND_RELATIVE:
      return std::string(w("Närstående.", "Relative or friend."));
    default:
      return "";
  }
}

class Composer {
 public:
  Composer(const PlanCopy& copy, Language language)
      : c_(copy), w_(language), language_(language) {
    doc_.language = language;
    doc_.time = copy.now;
  }

  Document Compose() {
    const v1::Plan& plan = c_.read.plan();
    doc_.title = std::string(w_("Samordnad individuell plan (SIP)",
                                "Coordinated individual plan (SIP)"));
    doc_.subtitle = Status();
    doc_.Paragraph(absl::Substitute(
        w_("Det här är er kopia av planen. Den visar det som $0 får se.",
           "This is your copy of the plan. It shows what $0 may see."),
        Agency(c_.reader)));
    Needs();
    Help();
    Responsibility();
    Reviews();
    Notes();
    Withheld();
    Version();
    Consents();
    doc_.footer = absl::Substitute(
        w_("Utskriven $0. Planens namn: $1.",
           "Printed $0. The plan's name: $1."),
        FormatDay(absl::ToCivilDay(c_.now, c_.zone), language_), plan.name());
    return std::move(doc_);
  }

 private:
  std::string Agency(const std::string& name) const {
    return AgencyName(c_.agencies, name, w_);
  }
  v1::Sector SectorOf(const std::string& name) const {
    auto it = c_.agencies.find(name);
    return it == c_.agencies.end() ? v1::SECTOR_UNSPECIFIED
                                   : it->second.sector();
  }
  std::string Day(const google::protobuf::Timestamp& t) const {
    return FormatDay(absl::ToCivilDay(ToTime(t), c_.zone), language_);
  }
  std::string Day(const google::type::Date& d) const {
    return FormatDay(absl::CivilDay(d.year(), d.month(), d.day()), language_);
  }
  // The last day an exclusive end leaves: the day before when the end is
  // at midnight, Swedish time.
  std::string LastDay(const google::protobuf::Timestamp& end) const {
    const absl::CivilSecond s = absl::ToCivilSecond(ToTime(end), c_.zone);
    absl::CivilDay day(s);
    if (s == absl::CivilSecond(day)) day -= 1;
    return FormatDay(day, language_);
  }
  std::string From(const v1::Entry& e) const {
    return absl::Substitute(w_("Från $0.", "From $0."),
                            Agency(e.owner_agency()));
  }
  std::vector<const v1::Entry*> EntriesOf(
      std::initializer_list<v1::EntryKind> kinds) const {
    std::vector<const v1::Entry*> out;
    for (const v1::Entry& e : c_.read.entries()) {
      if (std::find(kinds.begin(), kinds.end(), e.kind()) != kinds.end()) {
        out.push_back(&e);
      }
    }
    return out;
  }

  std::string Status() const {
    const v1::Plan& plan = c_.read.plan();
    if (plan.state() == v1::PLAN_STATE_CLOSED) {
      return absl::Substitute(w_("Planen avslutades $0.", "The plan ended $0."),
                              Day(plan.close_time()));
    }
    if (c_.read.shown_revision() == plan.effective_revision()) {
      return absl::Substitute(
          w_("Version $0, godkänd.", "Version $0, approved."),
          c_.read.shown_revision());
    }
    return absl::Substitute(
        w_("Version $0, inte godkänd än.", "Version $0, not approved yet."),
        c_.read.shown_revision());
  }

  void Needs() {
    doc_.Section(
        std::string(w_("Vilken hjälp som behövs", "What help is needed")));
    const std::pair<v1::EntryKind, absl::string_view> kinds[] = {
        {v1::ENTRY_KIND_NEED, w_("Behov", "Needs")},
        {v1::ENTRY_KIND_STRENGTH, w_("Styrkor", "Strengths")},
        {v1::ENTRY_KIND_WISH, w_("Önskemål", "Wishes")}};
    bool any = false;
    for (const auto& [kind, heading] : kinds) {
      std::vector<ListItem> items;
      for (const v1::Entry* e : EntriesOf({kind})) {
        items.push_back({e->text(), {From(*e)}});
      }
      if (items.empty()) continue;
      any = true;
      doc_.Subsection(std::string(heading));
      doc_.List(std::move(items));
    }
    if (!any) {
      doc_.Paragraph(
          std::string(w_("Inget är skrivet om det här än.",
                         "Nothing has been written about this yet.")));
    }
  }

  void Help() {
    // Steps: the distinct intervention orders, numbered from 1.
    std::vector<const v1::Entry*> help =
        EntriesOf({v1::ENTRY_KIND_INTERVENTION});
    std::stable_sort(
        help.begin(), help.end(), [](const v1::Entry* a, const v1::Entry* b) {
          return a->intervention().order() < b->intervention().order();
        });
    std::vector<int> orders;
    for (const v1::Entry* e : help) orders.push_back(e->intervention().order());
    orders.erase(std::unique(orders.begin(), orders.end()), orders.end());

    enum Group { kMunicipality, kHealthCare, kOthers };
    const std::pair<Group, absl::string_view> groups[] = {
        {kMunicipality,
         w_("Hjälp från kommunen", "Help from the municipality")},
        {kHealthCare, w_("Hjälp från vården", "Help from health care")},
        {kOthers, w_("Hjälp från andra, till exempel skolan",
                     "Help from others, such as the school")}};
    for (const auto& [group, heading] : groups) {
      doc_.Section(std::string(heading));
      std::vector<ListItem> items;
      for (const v1::Entry* e : help) {
        const v1::Intervention& in = e->intervention();
        const v1::Sector sector = SectorOf(in.responsible_agency());
        const Group of = sector == v1::SECTOR_SOCIAL_SERVICES ? kMunicipality
                         : sector == v1::SECTOR_HEALTHCARE    ? kHealthCare
                                                              : kOthers;
        if (of != group) continue;
        ListItem item{e->text(), {}};
        item.details.push_back(
            absl::Substitute(w_("Ansvarig: $0.", "Responsible: $0."),
                             Agency(in.responsible_agency())));
        const size_t step =
            std::lower_bound(orders.begin(), orders.end(), in.order()) -
            orders.begin() + 1;
        const bool shared =
            std::count_if(help.begin(), help.end(), [&](const v1::Entry* o) {
              return o->intervention().order() == in.order();
            }) > 1;
        item.details.push_back(
            absl::StrCat(absl::Substitute(w_("Steg $0 av $1", "Step $0 of $1"),
                                          step, orders.size()),
                         shared ? w_(", samtidigt som annan hjälp.",
                                     ", at the same time as other help.")
                                : "."));
        if (in.has_start_date() && in.has_end_date()) {
          item.details.push_back(
              absl::Substitute(w_("Från $0 till och med $1.", "From $0 to $1."),
                               Day(in.start_date()), Day(in.end_date())));
        } else if (in.has_start_date()) {
          item.details.push_back(absl::Substitute(
              w_("Börjar $0.", "Starts $0."), Day(in.start_date())));
        } else if (in.has_end_date()) {
          item.details.push_back(
              absl::Substitute(w_("Pågår till och med $0.", "Lasts until $0."),
                               Day(in.end_date())));
        }
        items.push_back(std::move(item));
      }
      if (items.empty()) {
        doc_.Paragraph(std::string(w_("Ingen hjälp är planerad här än.",
                                      "No help is planned here yet.")));
      }
      doc_.List(std::move(items));
    }
  }

  void Responsibility() {
    const v1::Plan& plan = c_.read.plan();
    doc_.Section(std::string(w_("Vem som har ansvar", "Who is responsible")));
    doc_.Paragraph(absl::Substitute(
        w_("$0 har det övergripande ansvaret för planen.",
           "$0 holds the overall responsibility for the plan."),
        Agency(plan.lead_agency())));
    const v1::Coordinator& co = plan.coordinator();
    doc_.Paragraph(
        co.agency().empty()
            ? absl::Substitute(
                  w_("Er samordnare är $0.", "Your coordinator is $0."),
                  co.display_name())
            : absl::Substitute(w_("Er samordnare är $0 på $1.",
                                  "Your coordinator is $0 at $1."),
                               co.display_name(), Agency(co.agency())));
    std::vector<ListItem> contact;
    if (!co.phone().empty()) {
      contact.push_back(
          {absl::StrCat(w_("Telefon: ", "Phone: "), co.phone()), {}});
    }
    if (!co.email().empty()) {
      contact.push_back(
          {absl::StrCat(w_("E-post: ", "E-mail: "), co.email()), {}});
    }
    if (contact.empty()) {
      doc_.Paragraph(absl::Substitute(
          w_("Samordnarens kontaktuppgifter finns inte i planen. Fråga $0.",
             "The coordinator's contact details are not in the plan. Ask $0."),
          Agency(plan.lead_agency())));
    }
    doc_.List(std::move(contact));

    doc_.Subsection(std::string(w_("Med i planen", "Taking part")));
    std::vector<ListItem> people;
    for (const v1::Participant& p : c_.read.participants()) {
      if (p.has_remove_time()) continue;
      ListItem item;
      if (p.kind() == v1::PARTICIPANT_KIND_AGENCY) {
        item.text = Agency(p.agency());
      } else {
        item.text = p.display_name().empty()
                        ? ParticipantKindWords(p.kind(), w_)
                        : p.display_name();
        if (!p.display_name().empty()) {
          const std::string kind = ParticipantKindWords(p.kind(), w_);
          if (!kind.empty()) item.details.push_back(kind);
        }
      }
      if (item.text.empty()) continue;
      if (!p.role_note().empty()) item.details.push_back(p.role_note());
      people.push_back(std::move(item));
    }
    doc_.List(std::move(people));
  }

  void Reviews() {
    doc_.Section(std::string(
        w_("Uppföljning och utvärdering", "Follow-up and evaluation")));
    doc_.Paragraph(std::string(w_(
        "Vid en uppföljning pratar ni, kommunen och vården om hur det går. Vid "
        "en utvärdering kontrollerar kommunen och vården hur hjälpen har "
        "fungerat.",
        "At a follow-up, you, the municipality and health care talk about how "
        "it is going. At an evaluation, the municipality and health care check "
        "how well the help has worked.")));
    std::vector<const v1::ReviewDate*> dates;
    for (const v1::ReviewDate& r : c_.read.plan().review_dates()) {
      dates.push_back(&r);
    }
    std::stable_sort(dates.begin(), dates.end(),
                     [](const v1::ReviewDate* a, const v1::ReviewDate* b) {
                       return std::tuple(a->date().year(), a->date().month(),
                                         a->date().day()) <
                              std::tuple(b->date().year(), b->date().month(),
                                         b->date().day());
                     });
    std::vector<ListItem> items;
    for (const v1::ReviewDate* r : dates) {
      ListItem item;
      item.text = absl::StrCat(r->kind() == v1::REVIEW_KIND_EVALUATION
                                   ? w_("Utvärdering ", "Evaluation ")
                                   : w_("Uppföljning ", "Follow-up "),
                               Day(r->date()));
      if (!r->description().empty()) item.details.push_back(r->description());
      items.push_back(std::move(item));
    }
    if (items.empty()) {
      doc_.Paragraph(
          std::string(w_("Inga datum är bestämda än. Fråga samordnaren.",
                         "No dates are set yet. Ask the coordinator.")));
    }
    doc_.List(std::move(items));
  }

  void Notes() {
    std::vector<ListItem> items;
    for (const v1::Entry* e :
         EntriesOf({v1::ENTRY_KIND_NOTE, v1::ENTRY_KIND_MINUTES,
                    v1::ENTRY_KIND_FOLLOW_UP_RESULT})) {
      absl::string_view what =
          e->kind() == v1::ENTRY_KIND_MINUTES
              ? w_("Protokoll från $0.", "Minutes from $0.")
          : e->kind() == v1::ENTRY_KIND_FOLLOW_UP_RESULT
              ? w_("Uppföljning från $0.", "Follow-up from $0.")
              : w_("Anteckning från $0.", "Note from $0.");
      items.push_back(
          {e->text(), {absl::Substitute(what, Agency(e->owner_agency()))}});
    }
    if (items.empty()) return;
    doc_.Section(std::string(w_("Anteckningar", "Notes")));
    doc_.List(std::move(items));
  }

  void Withheld() {
    std::set<std::tuple<std::string, int, int>> seen;
    std::vector<std::string> sentences;
    const std::string reader = Agency(c_.reader);
    for (const v1::WithheldEntry& e : c_.read.withheld_entries()) {
      if (!seen.emplace(e.owner_agency(), e.category(), e.reason()).second) {
        continue;
      }
      const std::string owner = Agency(e.owner_agency());
      const std::string about = CategoryWords(e.category(), w_);
      absl::string_view why;
      switch (e.reason()) {
        case v1::DECISION_REASON_CONSENT_EXPIRED:
          why =
              w_("$0 har information om $1. Samtycket att dela den med $2 "
                 "gäller inte längre.",
                 "$0 has information about $1. The consent to share it "
                 "with $2 no longer applies.");
          break;
        case v1::DECISION_REASON_CONSENT_REVOKED:
          why =
              w_("$0 har information om $1. Samtycket att dela den med $2 "
                 "har tagits tillbaka.",
                 "$0 has information about $1. The consent to share it "
                 "with $2 has been withdrawn.");
          break;
        case v1::DECISION_REASON_CONSENT_NOT_YET_VALID:
          why =
              w_("$0 har information om $1. Samtycket att dela den med $2 "
                 "gäller inte än.",
                 "$0 has information about $1. The consent to share it "
                 "with $2 does not apply yet.");
          break;
        case v1::DECISION_REASON_GUARDIAN_CONSENT_MISSING:
          why =
              w_("$0 har information om $1. Alla vårdnadshavare har inte "
                 "sagt ja till att dela den med $2.",
                 "$0 has information about $1. Not every guardian has "
                 "agreed to share it with $2.");
          break;
        case v1::DECISION_REASON_GRANTOR_NOT_COMPETENT:
          why =
              w_("$0 har information om $1. Den som sa ja till att dela den "
                 "med $2 kan inte längre bestämma det.",
                 "$0 has information about $1. The person who agreed to "
                 "share it with $2 can no longer decide that.");
          break;
        default:
          why =
              w_("$0 har information om $1 som ni inte har sagt ja till att "
                 "dela med $2.",
                 "$0 has information about $1 that you have not agreed to "
                 "share with $2.");
          break;
      }
      sentences.push_back(
          Capitalized(absl::Substitute(why, owner, about, reader)));
    }
    if (sentences.empty()) return;
    doc_.Section(std::string(w_("Det här visas inte", "Not shown here")));
    for (std::string& s : sentences) doc_.Paragraph(std::move(s));
    doc_.Paragraph(std::string(
        w_("Vill ni att informationen ska delas? Prata med samordnaren.",
           "Do you want it shared? Talk to the coordinator.")));
  }

  void Version() {
    const v1::Plan& plan = c_.read.plan();
    const int64_t shown = c_.read.shown_revision();
    doc_.Section(
        std::string(w_("Version och godkännande", "Version and approval")));
    doc_.Paragraph(absl::Substitute(w_("Det här är version $0 av planen.",
                                       "This is version $0 of the plan."),
                                    shown));
    if (plan.effective_revision() == 0) {
      doc_.Paragraph(std::string(
          w_("Planen är inte godkänd än. Den gäller när ni har godkänt den.",
             "The plan has not been approved yet. It applies once you have "
             "approved it.")));
    } else if (shown == plan.effective_revision()) {
      std::string approved = std::string(w_("Ni har godkänt den här versionen.",
                                            "You have approved this version."));
      if (!c_.read.approvals().empty()) {
        int guardians = 0;
        std::vector<std::string> who;
        for (const v1::Approval& a : c_.read.approvals()) {
          if (a.approver_role() == v1::APPROVER_ROLE_GUARDIAN) ++guardians;
        }
        for (const v1::Approval& a : c_.read.approvals()) {
          if (a.approver_role() == v1::APPROVER_ROLE_SUBJECT) {
            who.emplace_back(
                w_("den som planen gäller", "the person the plan is about"));
          } else if (a.approver_role() ==
                     v1::APPROVER_ROLE_LEGAL_REPRESENTATIVE) {
            who.emplace_back(
                w_("en god man eller förvaltare", "a legal representative"));
          }
        }
        if (guardians == 1)
          who.emplace_back(w_("en vårdnadshavare", "a guardian"));
        if (guardians > 1)
          who.emplace_back(w_("vårdnadshavarna", "the guardians"));
        approved = absl::Substitute(
            w_("Den godkändes $0 av $1.", "It was approved on $0 by $1."),
            Day(c_.read.approvals(0).approve_time()), JoinWords(who, w_));
      }
      doc_.Paragraph(std::move(approved));
      if (plan.revision() > shown && plan.state() != v1::PLAN_STATE_CLOSED) {
        doc_.Paragraph(absl::Substitute(
            w_("Det finns en nyare version, $0, som inte är godkänd än.",
               "There is a newer version, $0, that has not been approved yet."),
            plan.revision()));
      }
    } else {
      doc_.Paragraph(absl::Substitute(
          w_("Den här versionen är inte godkänd än. Den senaste godkända "
             "versionen är version $0.",
             "This version has not been approved yet. The last approved "
             "version is version $0."),
          plan.effective_revision()));
    }
    if (plan.state() == v1::PLAN_STATE_CLOSED) {
      absl::string_view by;
      switch (plan.closed_by()) {
        case v1::PLAN_CLOSED_BY_SUBJECT:
          by = w_("den som planen gäller", "the person the plan is about");
          break;
        case v1::PLAN_CLOSED_BY_GUARDIAN:
          by = w_("en vårdnadshavare", "a guardian");
          break;
        case v1::PLAN_CLOSED_BY_LEGAL_REPRESENTATIVE:
          by = w_("en god man eller förvaltare", "a legal representative");
          break;
        default:
          by = w_("verksamheterna, tillsammans med er",
                  "the agencies, together with you");
          break;
      }
      doc_.Paragraph(absl::Substitute(
          w_("Planen avslutades $0 av $1.", "The plan was ended on $0 by $1."),
          Day(plan.close_time()), by));
      if (!plan.close_reason().empty()) {
        doc_.Paragraph(
            absl::StrCat(w_("Skäl: ", "Reason: "), plan.close_reason()));
      }
    }
  }

  // "Skolan Norr och hälso- och sjukvården".
  std::string Parties(
      const google::protobuf::RepeatedPtrField<std::string>& agencies,
      const google::protobuf::RepeatedField<int>& sectors) const {
    std::vector<std::string> parts;
    for (const std::string& a : agencies) parts.push_back(Agency(a));
    for (int s : sectors) {
      parts.push_back(SectorWords(static_cast<v1::Sector>(s), w_));
    }
    return JoinWords(parts, w_);
  }

  void Consents() {
    doc_.Section(std::string(w_("Samtycken", "Consents")));
    if (c_.consents.empty()) {
      doc_.Paragraph(std::string(w_(
          "Inga samtycken gäller just nu. Då får verksamheterna inte berätta "
          "för varandra om det som står i planen.",
          "No consent applies right now. The agencies may then not tell "
          "each other what the plan says.")));
    } else {
      doc_.Paragraph(std::string(
          w_("Ett samtycke betyder att verksamheterna får berätta för varandra "
             "om det ni har sagt ja till. Det här gäller nu:",
             "A consent means that the agencies may tell each other what you "
             "have agreed to. These apply now:")));
      // Grants alike in scope and period make one item: under joint custody
      // each guardian gives the same consent.
      std::vector<std::vector<const v1::Grant*>> alike;
      for (const v1::Grant& g : c_.consents) {
        auto same = std::find_if(
            alike.begin(), alike.end(),
            [&](const std::vector<const v1::Grant*>& group) {
              const v1::Grant& o = *group.front();
              return o.scope().SerializeAsString() ==
                         g.scope().SerializeAsString() &&
                     LastDay(o.valid_until()) == LastDay(g.valid_until());
            });
        if (same == alike.end()) {
          alike.push_back({&g});
        } else {
          same->push_back(&g);
        }
      }
      std::vector<ListItem> items;
      for (const std::vector<const v1::Grant*>& group : alike) {
        const v1::Grant& g = *group.front();
        ListItem item;
        item.text = ScopeSentence(g);
        item.details.push_back(PeriodSentence(g));
        if (!g.scope().plan().empty()) {
          item.details.push_back(std::string(
              w_("Gäller bara den här planen.", "Applies to this plan only.")));
        }
        int guardians = 0;
        std::vector<std::string> givers;
        std::vector<std::string> recorders;
        const v1::Grant* newest = &g;
        for (const v1::Grant* one : group) {
          if (one->grantor_role() == v1::GRANTOR_ROLE_GUARDIAN) {
            ++guardians;
          } else if (std::string who = GrantorWords(one->grantor_role(), w_);
                     std::find(givers.begin(), givers.end(), who) ==
                     givers.end()) {
            givers.push_back(std::move(who));
          }
          const std::string by = Agency(one->recorded_by_agency());
          if (std::find(recorders.begin(), recorders.end(), by) ==
              recorders.end()) {
            recorders.push_back(by);
          }
          if (ToTime(one->create_time()) > ToTime(newest->create_time())) {
            newest = one;
          }
        }
        if (guardians == 1)
          givers.emplace_back(w_("en vårdnadshavare", "a guardian"));
        if (guardians == 2) {
          givers.emplace_back(w_("båda vårdnadshavarna", "both guardians"));
        }
        if (guardians > 2) {
          givers.push_back(absl::Substitute(
              w_("$0 vårdnadshavare", "$0 guardians"), guardians));
        }
        item.details.push_back(
            absl::Substitute(w_("Samtycket gavs av $0 och skrevs in av $1 $2.",
                                "Given by $0 and recorded by $1 on $2."),
                             JoinWords(givers, w_), JoinWords(recorders, w_),
                             Day(newest->create_time())));
        items.push_back(std::move(item));
      }
      doc_.List(std::move(items));
    }
    doc_.Subsection(std::string(
        w_("Så tar ni tillbaka ett samtycke", "How to withdraw a consent")));
    doc_.Paragraph(WithdrawalInWords(language_));
  }

 public:
  // "Socialtjänsten Norr får berätta för Norrskolan om hälsa."
  std::string ScopeSentence(const v1::Grant& g) const {
    const v1::GrantScope& s = g.scope();
    std::vector<std::string> about;
    for (int c : s.categories()) {
      about.push_back(
          CategoryWords(static_cast<v1::InformationCategory>(c), w_));
    }
    return Capitalized(absl::Substitute(
        w_("$0 får berätta för $1 om $2.", "$0 may tell $1 about $2."),
        Parties(s.disclosing_agencies(), s.disclosing_sectors()),
        Parties(s.receiving_agencies(), s.receiving_sectors()),
        JoinWords(about, w_)));
  }
  // "Gäller till och med 30 juni 2027."
  std::string PeriodSentence(const v1::Grant& g) const {
    return absl::Substitute(w_("Gäller till och med $0.", "Applies until $0."),
                            LastDay(g.valid_until()));
  }

 private:
  const PlanCopy& c_;
  const Words w_;
  const Language language_;
  Document doc_;
};

}  // namespace

std::string WithdrawalInWords(Language language) {
  const Words w(language);
  return std::string(
      w("Ni kan ta tillbaka ett samtycke när som helst. Säg det till "
        "samordnaren eller till den verksamhet som skrev in samtycket. Från "
        "den stunden får ingen verksamhet dela information med stöd av det.",
        "You can withdraw a consent at any time. Tell the coordinator or the "
        "agency that recorded it. From that moment no agency may share "
        "information because of it."));
}

std::string ConsentInWords(
    const v1::Grant& grant,
    const absl::flat_hash_map<std::string, v1::Agency>& agencies,
    absl::TimeZone zone, Language language) {
  PlanCopy copy;
  copy.agencies = agencies;
  copy.zone = zone;
  const Composer composer(copy, language);
  std::string out = absl::StrCat(composer.ScopeSentence(grant), " ",
                                 composer.PeriodSentence(grant));
  if (!grant.scope().plan().empty()) {
    absl::StrAppend(&out, " ",
                    language == Language::kSwedish
                        ? "Det gäller bara en plan."
                        : "It applies to one plan only.");
  }
  return out;
}

Document ComposePlanDocument(const PlanCopy& copy, Language language) {
  return Composer(copy, language).Compose();
}

}  // namespace samplan::render
