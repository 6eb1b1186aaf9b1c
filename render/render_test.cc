#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/proto_time.h"
#include "common/test_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "render/document.h"
#include "render/html.h"
#include "render/pdf.h"
#include "render/plan_document.h"
#include "render/receipt_document.h"
#include "render/words.h"

namespace samplan::render {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSubject[] = "201803142388";
constexpr char kGuardianA[] = "198001012383";
constexpr char kGuardianB[] = "198202022390";

absl::TimeZone Stockholm() {
  absl::TimeZone zone;
  // Without tzdata the golden files (Swedish dates) cannot match: the
  // service itself refuses to start without the zone.
  if (!absl::LoadTimeZone("Europe/Stockholm", &zone))
    return absl::UTCTimeZone();
  return zone;
}

absl::Time At(int y, int m, int d, int hh = 0, int mm = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, 0), Stockholm());
}

google::protobuf::Timestamp Ts(absl::Time t) {
  google::protobuf::Timestamp out;
  SetTimestamp(t, &out);
  return out;
}

google::type::Date Date(int y, int m, int d) {
  google::type::Date out;
  out.set_year(y);
  out.set_month(m);
  out.set_day(d);
  return out;
}

v1::Agency Agency(const std::string& id, const std::string& display,
                  v1::Sector sector) {
  v1::Agency a;
  a.set_name("agencies/" + id);
  a.set_display_name(display);
  a.set_sector(sector);
  return a;
}

v1::Entry* AddEntry(v1::GetPlanResponse* read, const std::string& owner,
                    v1::EntryKind kind, v1::InformationCategory category,
                    const std::string& text) {
  v1::Entry* e = read->add_entries();
  e->set_name(
      absl::StrCat(read->plan().name(), "/entries/e", read->entries_size()));
  e->set_owner_agency("agencies/" + owner);
  e->set_author("staff-17");
  e->set_kind(kind);
  e->set_category(category);
  e->set_text(text);
  return e;
}

void AddHelp(v1::GetPlanResponse* read, const std::string& owner,
             const std::string& responsible, int order,
             v1::InformationCategory category, const std::string& text,
             const google::type::Date* start, const google::type::Date* end) {
  v1::Entry* e =
      AddEntry(read, owner, v1::ENTRY_KIND_INTERVENTION, category, text);
  v1::Intervention* in = e->mutable_intervention();
  in->set_responsible_agency("agencies/" + responsible);
  in->set_order(order);
  if (start != nullptr) *in->mutable_start_date() = *start;
  if (end != nullptr) *in->mutable_end_date() = *end;
}

v1::Grant GuardianGrant(const std::string& id, const std::string& guardian,
                        absl::Time recorded) {
  v1::Grant g;
  g.set_name("grants/" + id);
  g.set_subject(kSubject);
  g.set_grantor_role(v1::GRANTOR_ROLE_GUARDIAN);
  g.set_grantor_identity_number(guardian);
  v1::GrantScope* s = g.mutable_scope();
  s->add_disclosing_agencies("agencies/soc-norr");
  s->add_disclosing_sectors(v1::SECTOR_HEALTHCARE);
  s->add_receiving_agencies("agencies/norrskolan");
  s->add_categories(v1::INFORMATION_CATEGORY_NEEDS);
  s->add_categories(v1::INFORMATION_CATEGORY_INTERVENTIONS);
  s->add_categories(v1::INFORMATION_CATEGORY_SOCIAL_SITUATION);
  *g.mutable_valid_from() = Ts(recorded);
  *g.mutable_valid_until() = Ts(At(2027, 7, 1));
  *g.mutable_create_time() = Ts(recorded);
  g.set_recorded_by_agency("agencies/soc-norr");
  g.set_recorded_by_actor("staff-4");
  g.set_state(v1::GRANT_STATE_ACTIVE);
  return g;
}

// A plan led by social services, read by the school, about a child of 8
// with two guardians who share custody: the story the goldens tell.
PlanCopy Story() {
  PlanCopy c;
  c.zone = Stockholm();
  c.now = At(2026, 12, 3, 14, 30);
  c.reader = "agencies/norrskolan";
  for (const v1::Agency& a :
       {Agency("soc-norr", "Socialtjänsten Norr", v1::SECTOR_SOCIAL_SERVICES),
        Agency("bup-norr", "BUP Norr", v1::SECTOR_HEALTHCARE),
        Agency("norrskolan", "Norrskolan", v1::SECTOR_SCHOOL)}) {
    c.agencies[a.name()] = a;
  }
  v1::GetPlanResponse& read = c.read;
  v1::Plan* plan = read.mutable_plan();
  plan->set_name("plans/k3x9q2m7v8w4p1r6");
  plan->set_subject(kSubject);
  *plan->mutable_subject_birth_date() = Date(2018, 3, 14);
  plan->set_lead_agency("agencies/soc-norr");
  v1::Coordinator* co = plan->mutable_coordinator();
  co->set_display_name("Åsa Öberg");
  co->set_phone("070-123 45 67");
  co->set_email("asa.oberg@example.se");
  co->set_agency("agencies/soc-norr");
  plan->set_state(v1::PLAN_STATE_ACTIVE);
  plan->set_revision(3);
  plan->set_effective_revision(3);
  v1::ReviewDate* r = plan->add_review_dates();
  r->set_kind(v1::REVIEW_KIND_EVALUATION);
  *r->mutable_date() = Date(2027, 6, 10);
  r->set_description("Har skolan och hemmet blivit lugnare?");
  r = plan->add_review_dates();
  r->set_kind(v1::REVIEW_KIND_FOLLOW_UP);
  *r->mutable_date() = Date(2027, 2, 15);
  read.set_shown_revision(3);

  auto person = [&](v1::ParticipantKind kind, const std::string& name,
                    const std::string& id, const std::string& note) {
    v1::Participant* p = read.add_participants();
    p->set_kind(kind);
    p->set_display_name(name);
    p->set_identity_number(id);
    p->set_role_note(note);
  };
  auto agency = [&](const std::string& id, const std::string& note) {
    v1::Participant* p = read.add_participants();
    p->set_kind(v1::PARTICIPANT_KIND_AGENCY);
    p->set_agency("agencies/" + id);
    p->set_display_name(c.agencies["agencies/" + id].display_name());
    p->set_role_note(note);
  };
  agency("soc-norr", "Handläggare för barn och unga");
  person(v1::PARTICIPANT_KIND_SUBJECT, "Elsa", kSubject, "");
  person(v1::PARTICIPANT_KIND_GUARDIAN, "Maria Lind", kGuardianA, "");
  person(v1::PARTICIPANT_KIND_GUARDIAN, "Johan Lind", kGuardianB, "");
  agency("bup-norr", "Psykolog");
  agency("norrskolan", "Klasslärare i 2B");

  AddEntry(&read, "soc-norr", v1::ENTRY_KIND_NEED,
           v1::INFORMATION_CATEGORY_NEEDS,
           "Elsa behöver lugna stunder under skoldagen och hjälp att komma "
           "igång på morgonen.");
  AddEntry(&read, "norrskolan", v1::ENTRY_KIND_STRENGTH,
           v1::INFORMATION_CATEGORY_NEEDS,
           "Elsa är nyfiken, tycker om att rita och har två nära kompisar.");
  AddEntry(&read, "soc-norr", v1::ENTRY_KIND_WISH,
           v1::INFORMATION_CATEGORY_NEEDS,
           "Familjen önskar att få träffa samma personer varje gång.\n"
           "Elsa vill få vara med på rasterna.");
  const google::type::Date jan = Date(2027, 1, 11), jun = Date(2027, 6, 11);
  AddHelp(
      &read, "soc-norr", "soc-norr", 1, v1::INFORMATION_CATEGORY_INTERVENTIONS,
      "Familjebehandlare träffar familjen hemma varannan vecka.", &jan, &jun);
  AddHelp(&read, "norrskolan", "norrskolan", 2,
          v1::INFORMATION_CATEGORY_EDUCATION,
          "En egen arbetsplats i klassrummet och en vuxen med på rasterna.",
          &jan, nullptr);
  AddHelp(
      &read, "bup-norr", "bup-norr", 2, v1::INFORMATION_CATEGORY_INTERVENTIONS,
      "Föräldrautbildning i grupp, åtta träffar under våren.", nullptr, &jun);
  AddEntry(&read, "norrskolan", v1::ENTRY_KIND_MINUTES,
           v1::INFORMATION_CATEGORY_MEETING_MINUTES,
           "SIP-möte 1 december: alla var med. Nästa möte i februari.");

  for (const std::string& g :
       {std::string(kGuardianA), std::string(kGuardianB)}) {
    v1::Approval* a = read.add_approvals();
    a->set_revision(3);
    a->set_approver_role(v1::APPROVER_ROLE_GUARDIAN);
    a->set_approver_identity_number(g);
    *a->mutable_approve_time() = Ts(At(2026, 12, 1, 15, 0));
    a->set_recorded_by_agency("agencies/soc-norr");
  }
  c.consents.push_back(GuardianGrant("g1", kGuardianA, At(2026, 12, 1, 14, 0)));
  c.consents.push_back(GuardianGrant("g2", kGuardianB, At(2026, 12, 1, 14, 5)));
  return c;
}

void Withhold(PlanCopy* c, const std::string& owner,
              v1::InformationCategory category, v1::DecisionReason reason) {
  v1::WithheldEntry* w = c->read.add_withheld_entries();
  w->set_owner_agency("agencies/" + owner);
  w->set_category(category);
  w->set_reason(reason);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Compares `html` with render/testdata/<name>; SAMPLAN_UPDATE_GOLDEN=1
// rewrites the file instead (then review the diff).
void ExpectGolden(const std::string& name, const std::string& html) {
  const std::string path =
      absl::StrCat(SAMPLAN_SOURCE_DIR, "/render/testdata/", name);
  if (getenv("SAMPLAN_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path, std::ios::binary) << html;
    return;
  }
  const std::string want = ReadFile(path);
  ASSERT_FALSE(want.empty()) << path << " is missing; run with "
                             << "SAMPLAN_UPDATE_GOLDEN=1 to write it";
  EXPECT_EQ(html, want) << "differs from " << path
                        << "; SAMPLAN_UPDATE_GOLDEN=1 rewrites it";
}

// What every copy must hold to: the page's language, no identity number.
void ExpectSafe(const std::string& html, Language language) {
  EXPECT_THAT(html, HasSubstr(absl::StrCat("<html lang=\"",
                                           LanguageCode(language), "\">")));
  for (const char* number : {kSubject, kGuardianA, kGuardianB}) {
    EXPECT_THAT(html, Not(HasSubstr(number)));
  }
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("staff-")));
}

TEST(PlanDocumentTest, JointCustody) {
  if (Stockholm() == absl::UTCTimeZone()) GTEST_SKIP() << "no tzdata";
  const std::string html =
      ToHtml(ComposePlanDocument(Story(), Language::kSwedish));
  ExpectSafe(html, Language::kSwedish);
  EXPECT_THAT(html, HasSubstr("Den godkändes 1 december 2026 av "
                              "vårdnadshavarna."));
  ExpectGolden("plan_joint_custody.sv.html", html);
}

TEST(PlanDocumentTest, WithheldEntryIsOneSentence) {
  if (Stockholm() == absl::UTCTimeZone()) GTEST_SKIP() << "no tzdata";
  PlanCopy c = Story();
  Withhold(&c, "bup-norr", v1::INFORMATION_CATEGORY_HEALTH,
           v1::DECISION_REASON_CATEGORY_OUT_OF_SCOPE);
  // Two entries of one owner and category make one sentence.
  Withhold(&c, "bup-norr", v1::INFORMATION_CATEGORY_HEALTH,
           v1::DECISION_REASON_CATEGORY_OUT_OF_SCOPE);
  Withhold(&c, "soc-norr", v1::INFORMATION_CATEGORY_SOCIAL_SITUATION,
           v1::DECISION_REASON_CONSENT_REVOKED);
  const std::string html = ToHtml(ComposePlanDocument(c, Language::kSwedish));
  ExpectSafe(html, Language::kSwedish);
  EXPECT_THAT(html, HasSubstr("BUP Norr har information om hälsa som ni inte "
                              "har sagt ja till att dela med Norrskolan."));
  ExpectGolden("plan_withheld.sv.html", html);
}

TEST(PlanDocumentTest, UnapprovedRevisionInEnglish) {
  if (Stockholm() == absl::UTCTimeZone()) GTEST_SKIP() << "no tzdata";
  PlanCopy c = Story();
  c.read.mutable_plan()->set_revision(4);
  c.read.set_shown_revision(4);
  c.read.clear_approvals();  // GetPlan's approvals are the effective one's
  const std::string html = ToHtml(ComposePlanDocument(c, Language::kEnglish));
  ExpectSafe(html, Language::kEnglish);
  EXPECT_THAT(html, HasSubstr("This version has not been approved yet. The "
                              "last approved version is version 3."));
  ExpectGolden("plan_unapproved.en.html", html);
}

TEST(PlanDocumentTest, ClosedPlan) {
  if (Stockholm() == absl::UTCTimeZone()) GTEST_SKIP() << "no tzdata";
  PlanCopy c = Story();
  v1::Plan* plan = c.read.mutable_plan();
  plan->set_state(v1::PLAN_STATE_CLOSED);
  *plan->mutable_close_time() = Ts(At(2026, 12, 2, 10, 0));
  plan->set_closed_by(v1::PLAN_CLOSED_BY_AGENCIES);
  plan->set_close_reason("Elsa får den hjälp hon behöver från skolan.");
  c.consents.clear();
  const std::string html = ToHtml(ComposePlanDocument(c, Language::kSwedish));
  ExpectSafe(html, Language::kSwedish);
  EXPECT_THAT(html, HasSubstr("Planen avslutades 2 december 2026."));
  ExpectGolden("plan_closed.sv.html", html);
}

TEST(PlanDocumentTest, TextIsEscaped) {
  PlanCopy c = Story();
  c.read.mutable_entries(0)->set_text("<script>alert('x')</script> & <b>");
  const std::string html = ToHtml(ComposePlanDocument(c, Language::kSwedish));
  EXPECT_THAT(html, Not(HasSubstr("<script>")));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; "
                              "&amp; &lt;b&gt;"));
}

TEST(PlanDocumentTest, ConsentEndingAtMidnightEndsTheDayBefore) {
  if (Stockholm() == absl::UTCTimeZone()) GTEST_SKIP() << "no tzdata";
  PlanCopy c = Story();
  *c.consents[0].mutable_valid_until() = Ts(At(2027, 7, 1, 0, 0));
  *c.consents[1].mutable_valid_until() = Ts(At(2027, 7, 1, 9, 30));
  const std::string html = ToHtml(ComposePlanDocument(c, Language::kSwedish));
  EXPECT_THAT(html, HasSubstr("Gäller till och med 30 juni 2027."));
  EXPECT_THAT(html, HasSubstr("Gäller till och med 1 juli 2027."));
}

// The text a reader compares: no white space, no hyphens (Pango hyphenates
// long words where it breaks them), no page numbers.
std::string Comparable(std::string text, Language language) {
  text = std::regex_replace(
      text,
      std::regex(language == Language::kEnglish ? "Page [0-9]+"
                                                : "Sida [0-9]+"),
      "");
  std::string out;
  for (char ch : text) {
    if (ch != ' ' && ch != '\n' && ch != '\f' && ch != '\t' && ch != '-') {
      out += ch;
    }
  }
  return out;
}

// pdftotext (poppler-utils) on `pdf`; empty when the tool is missing.
std::string PdfText(const std::string& pdf, const std::string& name) {
  if (std::system("command -v pdftotext >/dev/null 2>&1") != 0) return "";
  const std::string in = (ProcessTempDir() / (name + ".pdf")).string();
  const std::string out = (ProcessTempDir() / (name + ".txt")).string();
  std::ofstream(in, std::ios::binary) << pdf;
  const std::string command =
      absl::StrCat("pdftotext -enc UTF-8 '", in, "' '", out, "'");
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  return ReadFile(out);
}

// The PDF of `doc` holds the text of every block of the document the HTML
// shows, in order, on `pages` pages or more, and no identity number; the
// same document gives the same bytes.
void ExpectPdfSaysWhatTheHtmlSays(const Document& doc, const std::string& name,
                                  int pages) {
  absl::StatusOr<std::string> pdf = ToPdf(doc);
  ASSERT_TRUE(pdf.ok()) << pdf.status();
  EXPECT_EQ(pdf->substr(0, 5), "%PDF-");
  // The same document, the same bytes: its date is the document's.
  absl::StatusOr<std::string> again = ToPdf(doc);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(*again == *pdf) << "two renderings differ";
  const std::string text = PdfText(*pdf, name);
  if (text.empty()) {
    GTEST_SKIP() << "pdftotext not installed (apt install poppler-utils): "
                    "the PDF's text is not checked";
  }
  const Language language = doc.language;
  EXPECT_THAT(text,
              HasSubstr(absl::StrCat(
                  language == Language::kEnglish ? "Page " : "Sida ", pages)));
  std::vector<std::string> texts = {doc.title, doc.subtitle};
  for (const Block& b : doc.blocks) {
    if (!b.text.empty()) texts.push_back(b.text);
    for (const ListItem& item : b.items) {
      texts.push_back(item.text);
      for (const std::string& d : item.details) texts.push_back(d);
    }
  }
  texts.push_back(doc.footer);
  const std::string all = Comparable(text, language);
  size_t at = 0;
  for (const std::string& t : texts) {
    const size_t found = all.find(Comparable(t, language), at);
    ASSERT_NE(found, std::string::npos) << "missing or out of order: " << t;
    at = found;
  }
  for (const char* number : {kSubject, kGuardianA, kGuardianB}) {
    EXPECT_THAT(text, Not(HasSubstr(number)));
  }
}

// The PDF holds the text of every block of the document the HTML shows, in
// order, and nothing of a withheld entry.
TEST(PlanDocumentTest, PdfSaysWhatTheHtmlSays) {
  for (Language language : {Language::kSwedish, Language::kEnglish}) {
    SCOPED_TRACE(LanguageCode(language));
    PlanCopy c = Story();
    Withhold(&c, "bup-norr", v1::INFORMATION_CATEGORY_HEALTH,
             v1::DECISION_REASON_NO_CONSENT);
    // A long plan: three pages or more, so text breaks across pages.
    for (int i = 0; i < 12; ++i) {
      AddEntry(&c.read, "norrskolan", v1::ENTRY_KIND_NOTE,
               v1::INFORMATION_CATEGORY_EDUCATION,
               absl::StrCat("Anteckning ", i,
                            ": Elsa har arbetat med "
                            "läsförståelse och matematik; hon tycker att "
                            "arbetsplatsen i klassrummet hjälper henne att "
                            "koncentrera sig. Sjukgymnastikbehandlingsplanen "
                            "följs upp."));
    }
    ExpectPdfSaysWhatTheHtmlSays(ComposePlanDocument(c, language),
                                 absl::StrCat("story-", LanguageCode(language)),
                                 3);
  }
}

// The father's consent of the story, recorded by social services on 1
// December, and its receipt made on 3 December (entry 41 of the log).
ReceiptCopy StoryReceipt(v1::ReceiptEvent event) {
  ReceiptCopy c;
  c.zone = Stockholm();
  c.log_origin = "samplan.norrby.se/audit";
  for (const v1::Agency& a :
       {Agency("soc-norr", "Socialtjänsten Norr", v1::SECTOR_SOCIAL_SERVICES),
        Agency("norrskolan", "Norrskolan", v1::SECTOR_SCHOOL),
        Agency("registry", "Samplan förvaltning", v1::SECTOR_UNSPECIFIED)}) {
    c.agencies[a.name()] = a;
  }
  v1::ConsentReceipt& r = c.receipt;
  *r.mutable_grant() = GuardianGrant("g7", kGuardianA, At(2026, 12, 1, 10));
  r.mutable_grant()->mutable_evidence()->set_kind(
      v1::EVIDENCE_KIND_SIGNED_FORM);
  r.mutable_grant()->mutable_evidence()->set_reference("dnr-2026-115");
  r.set_event(event);
  r.set_receipt_id("grants/g7/receipts/41");
  *r.mutable_event_time() = Ts(At(2026, 12, 1, 10));
  *r.mutable_issue_time() = Ts(At(2026, 12, 3, 14, 30));
  r.mutable_audit_event()->set_leaf_index(41);
  r.mutable_audit_event()->set_agency("agencies/soc-norr");
  return c;
}

// Ends the story's grant on 2 December as `state`, by `agency`.
void EndStoryGrant(ReceiptCopy* c, v1::GrantState state,
                   const std::string& agency, const std::string& reason) {
  v1::Grant* g = c->receipt.mutable_grant();
  g->set_state(state);
  *g->mutable_end_time() = Ts(At(2026, 12, 2, 9, 15));
  g->set_end_reason(reason);
  *c->receipt.mutable_event_time() = g->end_time();
  c->receipt.set_receipt_id("grants/g7/receipts/57");
  c->receipt.mutable_audit_event()->set_leaf_index(57);
  c->receipt.mutable_audit_event()->set_agency("agencies/" + agency);
}

TEST(ReceiptDocumentTest, ConsentGiven) {
  if (Stockholm() == absl::UTCTimeZone()) GTEST_SKIP() << "no tzdata";
  const std::string html = ToHtml(ComposeReceiptDocument(
      StoryReceipt(v1::RECEIPT_EVENT_GIVEN), Language::kSwedish));
  ExpectSafe(html, Language::kSwedish);
  EXPECT_THAT(html, HasSubstr("<h1>Kvitto på samtycke</h1>"));
  EXPECT_THAT(html, HasSubstr("Socialtjänsten Norr och hälso- och "
                              "sjukvården får berätta för Norrskolan om"));
  EXPECT_THAT(html, HasSubstr("Gäller till och med 30 juni 2027."));
  EXPECT_THAT(html, HasSubstr("Samtycket gavs av en vårdnadshavare och "
                              "dokumenterades på en blankett som personen "
                              "skrev under."));
  EXPECT_THAT(html, HasSubstr("Samtycket gällde när kvittot skrevs ut, 3 "
                              "december 2026."));
  EXPECT_THAT(html, HasSubstr("Så tar ni tillbaka ett samtycke"));
  EXPECT_THAT(html, HasSubstr("post 41 i granskningsloggen "
                              "samplan.norrby.se/audit"));
  EXPECT_THAT(html, HasSubstr("grants/g7/receipts/41"));
  EXPECT_THAT(html, Not(HasSubstr("dnr-2026-115")));
  ExpectGolden("receipt_given.sv.html", html);
}

TEST(ReceiptDocumentTest, ConsentWithdrawn) {
  if (Stockholm() == absl::UTCTimeZone()) GTEST_SKIP() << "no tzdata";
  ReceiptCopy c = StoryReceipt(v1::RECEIPT_EVENT_WITHDRAWN);
  EndStoryGrant(&c, v1::GRANT_STATE_WITHDRAWN, "soc-norr", "withdrawn");
  const std::string html =
      ToHtml(ComposeReceiptDocument(c, Language::kSwedish));
  ExpectSafe(html, Language::kSwedish);
  EXPECT_THAT(html,
              HasSubstr("<h1>Kvitto på att ett samtycke togs tillbaka</h1>"));
  EXPECT_THAT(html, HasSubstr("samtycket nedan togs tillbaka 2 december "
                              "2026."));
  EXPECT_THAT(html, HasSubstr("Det gäller inte längre."));
  // Nothing left to withdraw; the person's reason is theirs.
  EXPECT_THAT(html, Not(HasSubstr("Så tar ni tillbaka")));
  EXPECT_THAT(html, Not(HasSubstr("withdrawn")));
  ExpectGolden("receipt_withdrawn.sv.html", html);
}

TEST(ReceiptDocumentTest, ConsentRevokedInEnglish) {
  if (Stockholm() == absl::UTCTimeZone()) GTEST_SKIP() << "no tzdata";
  ReceiptCopy c = StoryReceipt(v1::RECEIPT_EVENT_REVOKED);
  EndStoryGrant(&c, v1::GRANT_STATE_REVOKED, "registry",
                "The father asked the registry by phone");
  const std::string html =
      ToHtml(ComposeReceiptDocument(c, Language::kEnglish));
  ExpectSafe(html, Language::kEnglish);
  EXPECT_THAT(html, HasSubstr("<h1>Receipt of a revoked consent</h1>"));
  EXPECT_THAT(html, HasSubstr("was revoked on 2 December 2026 by Samplan "
                              "förvaltning."));
  EXPECT_THAT(html,
              HasSubstr("Reason: The father asked the registry by phone"));
  EXPECT_THAT(html, HasSubstr("entry 57 of the audit log"));
  ExpectGolden("receipt_revoked.en.html", html);
}

// Where the grant stands when the receipt is made, whatever the event.
TEST(ReceiptDocumentTest, TheConsentNow) {
  if (Stockholm() == absl::UTCTimeZone()) GTEST_SKIP() << "no tzdata";
  auto now = [](const ReceiptCopy& c) {
    return ToHtml(ComposeReceiptDocument(c, Language::kSwedish));
  };
  ReceiptCopy later = StoryReceipt(v1::RECEIPT_EVENT_GIVEN);
  *later.receipt.mutable_grant()->mutable_valid_from() = Ts(At(2027, 1, 1));
  EXPECT_THAT(now(later), HasSubstr("Samtycket börjar gälla 1 januari 2027."));
  ReceiptCopy over = StoryReceipt(v1::RECEIPT_EVENT_GIVEN);
  *over.receipt.mutable_issue_time() = Ts(At(2027, 7, 1));
  EXPECT_THAT(now(over), HasSubstr("Samtyckets tid har gått ut."));
  EXPECT_THAT(now(over), Not(HasSubstr("Så tar ni tillbaka")));
  ReceiptCopy voided = StoryReceipt(v1::RECEIPT_EVENT_GIVEN);
  voided.receipt.mutable_grant()->set_state(v1::GRANT_STATE_VOID);
  EXPECT_THAT(now(voided), HasSubstr("Det har aldrig gällt."));
  // The giving's receipt of a grant withdrawn since says so.
  ReceiptCopy given = StoryReceipt(v1::RECEIPT_EVENT_GIVEN);
  given.receipt.mutable_grant()->set_state(v1::GRANT_STATE_WITHDRAWN);
  *given.receipt.mutable_grant()->mutable_end_time() = Ts(At(2026, 12, 2));
  EXPECT_THAT(now(given), HasSubstr("<h1>Kvitto på samtycke</h1>"));
  EXPECT_THAT(now(given), HasSubstr("Samtycket togs tillbaka 2 december "
                                    "2026."));
}

TEST(ReceiptDocumentTest, PdfSaysWhatTheHtmlSays) {
  if (Stockholm() == absl::UTCTimeZone()) GTEST_SKIP() << "no tzdata";
  for (Language language : {Language::kSwedish, Language::kEnglish}) {
    SCOPED_TRACE(LanguageCode(language));
    ExpectPdfSaysWhatTheHtmlSays(
        ComposeReceiptDocument(StoryReceipt(v1::RECEIPT_EVENT_GIVEN), language),
        absl::StrCat("receipt-", LanguageCode(language)), 1);
  }
}

TEST(PlanDocumentTest, LanguageCodes) {
  EXPECT_EQ(ParseLanguage(""), Language::kSwedish);
  EXPECT_EQ(ParseLanguage("sv"), Language::kSwedish);
  EXPECT_EQ(ParseLanguage("sv-SE"), Language::kSwedish);
  EXPECT_EQ(ParseLanguage("EN"), Language::kEnglish);
  EXPECT_EQ(ParseLanguage("en-GB"), Language::kEnglish);
  EXPECT_EQ(ParseLanguage("de"), std::nullopt);
  EXPECT_EQ(ParseLanguage("sv-"), std::nullopt);
  EXPECT_EQ(ParseLanguage("svenska"), std::nullopt);
  EXPECT_EQ(ParseLanguage("-sv"), std::nullopt);
}

TEST(PlanDocumentTest, DatesAsPeopleWriteThem) {
  EXPECT_EQ(FormatDay(absl::CivilDay(2026, 12, 3), Language::kSwedish),
            "3 december 2026");
  EXPECT_EQ(FormatDay(absl::CivilDay(2027, 1, 31), Language::kEnglish),
            "31 January 2027");
}

}  // namespace
}  // namespace samplan::render
