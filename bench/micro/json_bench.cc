// Micro-benchmarks of the JSON mapping the REST gateway will use
// (google::protobuf::util::MessageToJsonString and JsonStringToMessage, with
// their default options: lowerCamelCase names, no whitespace) on a
// GetPlanResponse shaped like a real one: a plan header, 12 entries from 3
// agencies with 200-400 bytes of text each, 3 participants and 2 approvals.
// The binary encoding is measured next to it for comparison, so the cost of
// offering JSON can be read off directly. Each benchmark first checks that
// the JSON and binary forms decode back to the same message.

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "common/proto_time.h"
#include "consent/identity_number.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/type/date.pb.h"
#include "samplan/v1/common.pb.h"
#include "samplan/v1/plan.pb.h"

namespace samplan::bench {
namespace {

using ::google::protobuf::util::JsonStringToMessage;
using ::google::protobuf::util::MessageDifferencer;
using ::google::protobuf::util::MessageToJsonString;

constexpr char kPlanId[] = "p7f3k2q9x1m4c8d0w5e2";

absl::Time Utc(int y, int m, int d, int hh, int mm) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, 0),
                         absl::UTCTimeZone());
}

google::type::Date Day(int y, int m, int d) {
  google::type::Date date;
  date.set_year(y);
  date.set_month(m);
  date.set_day(d);
  return date;
}

// A valid identity number (correct Luhn digit) born on `day`, serial `nnn`.
std::string IdentityNumberFor(absl::CivilDay day, int nnn) {
  const std::string nine = absl::StrCat(
      absl::Dec(day.year() % 100, absl::kZeroPad2),
      absl::Dec(day.month(), absl::kZeroPad2),
      absl::Dec(day.day(), absl::kZeroPad2), absl::Dec(nnn, absl::kZeroPad3));
  return absl::StrCat(day.year() / 100, nine, consent::LuhnCheckDigit(nine));
}

// A resource id as the server makes them: 20 characters of a-z, 0-9.
std::string RandomId(std::mt19937_64& rng) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string id(20, 'a');
  for (char& c : id) c = kAlphabet[rng() % 36];
  return id;
}

struct EntrySpec {
  const char* owner;
  const char* author;
  v1::InformationCategory category;
  v1::EntryKind kind;
  const char* text;
};

// What three agencies write in a plan for a 10-year-old, in Swedish as in
// production (UTF-8, with å, ä and ö).
constexpr EntrySpec kEntries[] = {
    {"agencies/school-1", "anna.lind", v1::INFORMATION_CATEGORY_NEEDS,
     v1::ENTRY_KIND_NEED,
     "Alva har svårt att komma igång med skoluppgifter på egen hand och "
     "tappar fokus när det är stökigt i klassrummet. Hon behöver tydliga "
     "instruktioner, gärna skriftliga, och en lugn plats att arbeta på under "
     "lektioner med mycket grupparbete. Mentor ser också att hon ofta är "
     "trött på måndagar."},
    {"agencies/school-1", "anna.lind", v1::INFORMATION_CATEGORY_NEEDS,
     v1::ENTRY_KIND_STRENGTH,
     "Alva är nyfiken och kreativ, och hon läser gärna. Hon har lätt för "
     "matematik när uppgifterna är konkreta och visar stor omsorg om "
     "yngre elever på rasterna. Hon trivs i slöjden och i musiken och tar "
     "gärna ansvar i elevrådet."},
    {"agencies/school-1", "johan.strand",
     v1::INFORMATION_CATEGORY_INTERVENTIONS, v1::ENTRY_KIND_INTERVENTION,
     "Specialpedagog träffar Alva två gånger i veckan, tisdagar och "
     "torsdagar 30 minuter, för strukturstöd i läsning och skrivande. "
     "Klassläraren använder ett bildschema och delar upp större uppgifter i "
     "mindre steg. Avstämning med vårdnadshavarna var tredje vecka via "
     "lärplattformen."},
    {"agencies/school-1", "johan.strand", v1::INFORMATION_CATEGORY_EDUCATION,
     v1::ENTRY_KIND_FOLLOW_UP_RESULT,
     "Uppföljning efter sex veckor: Alva kommer igång snabbare med "
     "uppgifterna och lämnar in fler av dem i tid. Frånvaron har minskat "
     "från fyra till en dag per månad. Läsförståelsen är fortfarande under "
     "förväntad nivå; insatsen fortsätter terminen ut."},
    {"agencies/soc-1", "sara.ek", v1::INFORMATION_CATEGORY_NEEDS,
     v1::ENTRY_KIND_WISH,
     "Alva önskar att få vara med på fritids igen och att träffa sin kompis "
     "Elsa efter skolan. Vårdnadshavarna önskar att alla kontakter med "
     "verksamheterna samlas hos en person och att möten läggs efter klockan "
     "15 så att de kan komma båda två."},
    {"agencies/soc-1", "sara.ek", v1::INFORMATION_CATEGORY_INTERVENTIONS,
     v1::ENTRY_KIND_INTERVENTION,
     "Familjebehandlare från öppenvården träffar familjen varannan vecka i "
     "hemmet med fokus på rutiner kring läggning och morgnar. Insatsen "
     "beviljas enligt 4 kap. 1 § SoL för sex månader och följs upp vid "
     "nästa SIP-möte."},
    {"agencies/soc-1", "maria.holm", v1::INFORMATION_CATEGORY_SOCIAL_SITUATION,
     v1::ENTRY_KIND_NOTE,
     "Familjen har flyttat till en större lägenhet i samma område under "
     "hösten. Pappan har fått ett arbete med skift, vilket gör att mamman "
     "oftare är ensam på morgnarna. Familjen har inget övrigt nätverk i "
     "närheten men en moster som hjälper till ibland."},
    {"agencies/soc-1", "maria.holm", v1::INFORMATION_CATEGORY_MEETING_MINUTES,
     v1::ENTRY_KIND_MINUTES,
     "SIP-möte 2026-02-10. Närvarande: båda vårdnadshavarna, Alva under "
     "mötets första del, mentor, specialpedagog, familjebehandlare och "
     "psykolog från BUP. Beslutades att fortsätta nuvarande insatser, att "
     "BUP gör en utredning av koncentrationssvårigheterna och att nästa "
     "möte hålls i maj."},
    {"agencies/bup-1", "erik.berg", v1::INFORMATION_CATEGORY_NEEDS,
     v1::ENTRY_KIND_NEED,
     "Alva behöver en fördjupad bedömning av uppmärksamhet och "
     "sömnsvårigheter. Hon beskriver själv oro på kvällarna och att hon "
     "har svårt att somna. Vårdnadshavarna har noterat samma sak sedan "
     "flytten i höstas."},
    {"agencies/bup-1", "erik.berg", v1::INFORMATION_CATEGORY_INTERVENTIONS,
     v1::ENTRY_KIND_INTERVENTION,
     "Samtalskontakt med psykolog varannan vecka under våren, med "
     "inslag av sömnskola för Alva och föräldrastöd för vårdnadshavarna. "
     "Neuropsykiatrisk utredning påbörjas i mars; skolan ombeds fylla i "
     "skattningsformulär inför första besöket."},
    {"agencies/bup-1", "lina.sjoberg", v1::INFORMATION_CATEGORY_HEALTH,
     v1::ENTRY_KIND_NOTE,
     "Läkarbesök 2026-01-28: längd och vikt följer kurvan, inga somatiska "
     "fynd som förklarar tröttheten. Sömndagbok under två veckor visar "
     "sen insomning, i snitt efter klockan 23. Ingen medicinering i "
     "nuläget; ny bedömning efter utredningen."},
    {"agencies/bup-1", "lina.sjoberg",
     v1::INFORMATION_CATEGORY_FOLLOW_UP_RESULTS,
     v1::ENTRY_KIND_FOLLOW_UP_RESULT,
     "Efter fyra samtal somnar Alva i snitt en timme tidigare enligt "
     "sömndagboken, och vårdnadshavarna upplever kvällarna som lugnare. "
     "Oron är mindre men finns kvar inför prov i skolan; samtalen "
     "fortsätter enligt planen."},
};

// The response the lead agency (soc-1) gets for the effective view of a
// plan at revision 7, effective revision 6.
v1::GetPlanResponse MakeResponse() {
  std::mt19937_64 rng(11);
  const std::string plan_name = absl::StrCat("plans/", kPlanId);
  const std::string child = IdentityNumberFor(absl::CivilDay(2015, 9, 14), 238);
  const std::string mother =
      IdentityNumberFor(absl::CivilDay(1984, 2, 29), 402);
  const std::string father =
      IdentityNumberFor(absl::CivilDay(1982, 11, 7), 115);

  v1::GetPlanResponse resp;
  v1::Plan* plan = resp.mutable_plan();
  plan->set_name(plan_name);
  plan->set_subject(child);
  *plan->mutable_subject_birth_date() = Day(2015, 9, 14);
  plan->set_lead_agency("agencies/soc-1");
  v1::Coordinator* co = plan->mutable_coordinator();
  co->set_display_name("Maria Holm");
  co->set_phone("+46 8-508 123 45");
  co->set_email("maria.holm@socialtjansten.example.se");
  co->set_agency("agencies/soc-1");
  plan->set_state(v1::PLAN_STATE_ACTIVE);
  plan->set_revision(7);
  plan->set_effective_revision(6);
  v1::ReviewDate* follow_up = plan->add_review_dates();
  follow_up->set_kind(v1::REVIEW_KIND_FOLLOW_UP);
  *follow_up->mutable_date() = Day(2026, 5, 19);
  follow_up->set_description("Uppföljning av insatserna före sommarlovet");
  v1::ReviewDate* evaluation = plan->add_review_dates();
  evaluation->set_kind(v1::REVIEW_KIND_EVALUATION);
  *evaluation->mutable_date() = Day(2026, 11, 17);
  evaluation->set_description("Utvärdering av planen med familjen");
  SetTimestamp(Utc(2025, 10, 6, 13, 12), plan->mutable_create_time());
  SetTimestamp(Utc(2026, 2, 10, 15, 47), plan->mutable_update_time());
  plan->set_etag("7");
  resp.set_shown_revision(6);

  const char* const agencies[] = {"agencies/school-1", "agencies/bup-1"};
  const char* const notes[] = {"mentor och specialpedagog",
                               "psykolog, samtalskontakt"};
  for (int i = 0; i < 2; ++i) {
    v1::Participant* p = resp.add_participants();
    p->set_name(absl::StrCat(plan_name, "/participants/", RandomId(rng)));
    p->set_kind(v1::PARTICIPANT_KIND_AGENCY);
    p->set_agency(agencies[i]);
    p->set_role_note(notes[i]);
    SetTimestamp(Utc(2025, 10, 6, 13, 20 + i), p->mutable_invite_time());
  }
  v1::Participant* guardian = resp.add_participants();
  guardian->set_name(absl::StrCat(plan_name, "/participants/", RandomId(rng)));
  guardian->set_kind(v1::PARTICIPANT_KIND_GUARDIAN);
  guardian->set_identity_number(mother);
  guardian->set_display_name("Karin Andersson");
  guardian->set_role_note("vårdnadshavare, vill ha kallelser via e-post");
  SetTimestamp(Utc(2025, 10, 6, 13, 25), guardian->mutable_invite_time());

  int n = 0;
  for (const EntrySpec& spec : kEntries) {
    v1::Entry* e = resp.add_entries();
    e->set_name(absl::StrCat(plan_name, "/entries/", RandomId(rng)));
    e->set_owner_agency(spec.owner);
    e->set_author(spec.author);
    e->set_category(spec.category);
    e->set_kind(spec.kind);
    e->set_text(spec.text);
    if (spec.kind == v1::ENTRY_KIND_INTERVENTION) {
      v1::Intervention* in = e->mutable_intervention();
      in->set_responsible_agency(spec.owner);
      in->set_order(n / 4 + 1);
      *in->mutable_start_date() = Day(2026, 1, 12);
      *in->mutable_end_date() = Day(2026, 6, 12);
    }
    e->set_revision(2 + n % 5);
    SetTimestamp(Utc(2025, 10, 20 + n % 8, 9 + n % 7, 3 * n),
                 e->mutable_create_time());
    SetTimestamp(Utc(2026, 2, 1 + n % 9, 10 + n % 6, 4 * n),
                 e->mutable_update_time());
    e->set_etag(std::to_string(e->revision()));
    ++n;
  }

  const std::string guardians[] = {mother, father};
  for (int i = 0; i < 2; ++i) {
    v1::Approval* a = resp.add_approvals();
    a->set_revision(6);
    a->set_approver_role(v1::APPROVER_ROLE_GUARDIAN);
    a->set_approver_identity_number(guardians[i]);
    v1::Evidence* evidence = a->mutable_evidence();
    evidence->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
    evidence->set_reference(
        absl::StrCat("Underskriven SIP-blankett, dnr SOC 2026/", 142 + i));
    SetTimestamp(Utc(2026, 2, 10, 15, 30 + i), a->mutable_approve_time());
    a->set_recorded_by_agency("agencies/soc-1");
    a->set_recorded_by_actor("maria.holm");
  }
  return resp;
}

// The response and its two encodings, checked to decode back to it.
struct Payload {
  v1::GetPlanResponse response;
  std::string json;
  std::string binary;
};

absl::Status Prepare(Payload& p) {
  p.response = MakeResponse();
  auto printed = MessageToJsonString(p.response, &p.json);
  if (!printed.ok()) {
    return absl::InternalError(
        absl::StrCat("MessageToJsonString: ", printed.ToString()));
  }
  v1::GetPlanResponse from_json;
  auto parsed = JsonStringToMessage(p.json, &from_json);
  if (!parsed.ok()) {
    return absl::InternalError(
        absl::StrCat("JsonStringToMessage: ", parsed.ToString()));
  }
  if (!MessageDifferencer::Equals(from_json, p.response)) {
    return absl::InternalError("the JSON does not decode to the response");
  }
  if (!p.response.SerializeToString(&p.binary)) {
    return absl::InternalError("SerializeToString failed");
  }
  v1::GetPlanResponse from_binary;
  if (!from_binary.ParseFromString(p.binary) ||
      !MessageDifferencer::Equals(from_binary, p.response)) {
    return absl::InternalError("the binary does not decode to the response");
  }
  return absl::OkStatus();
}

// Items are responses; bytes are those of the encoding produced or read.
void Finish(benchmark::State& state, const Payload& p, size_t bytes) {
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes));
  state.counters["json_bytes"] = static_cast<double>(p.json.size());
  state.counters["binary_bytes"] = static_cast<double>(p.binary.size());
}

void BM_PlanToJson(benchmark::State& state) {
  Payload p;
  if (absl::Status s = Prepare(p); !s.ok()) {
    state.SkipWithError(s.ToString().c_str());
    return;
  }
  for (auto _ : state) {
    std::string json;
    auto s = MessageToJsonString(p.response, &json);
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      return;
    }
    benchmark::DoNotOptimize(json);
  }
  Finish(state, p, p.json.size());
}
BENCHMARK(BM_PlanToJson);

void BM_PlanFromJson(benchmark::State& state) {
  Payload p;
  if (absl::Status s = Prepare(p); !s.ok()) {
    state.SkipWithError(s.ToString().c_str());
    return;
  }
  for (auto _ : state) {
    v1::GetPlanResponse response;
    auto s = JsonStringToMessage(p.json, &response);
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      return;
    }
    benchmark::DoNotOptimize(response);
  }
  Finish(state, p, p.json.size());
}
BENCHMARK(BM_PlanFromJson);

void BM_PlanToBinary(benchmark::State& state) {
  Payload p;
  if (absl::Status s = Prepare(p); !s.ok()) {
    state.SkipWithError(s.ToString().c_str());
    return;
  }
  for (auto _ : state) {
    std::string binary;
    if (!p.response.SerializeToString(&binary)) {
      state.SkipWithError("SerializeToString failed");
      return;
    }
    benchmark::DoNotOptimize(binary);
  }
  Finish(state, p, p.binary.size());
}
BENCHMARK(BM_PlanToBinary);

void BM_PlanFromBinary(benchmark::State& state) {
  Payload p;
  if (absl::Status s = Prepare(p); !s.ok()) {
    state.SkipWithError(s.ToString().c_str());
    return;
  }
  for (auto _ : state) {
    v1::GetPlanResponse response;
    if (!response.ParseFromString(p.binary)) {
      state.SkipWithError("ParseFromString failed");
      return;
    }
    benchmark::DoNotOptimize(response);
  }
  Finish(state, p, p.binary.size());
}
BENCHMARK(BM_PlanFromBinary);

}  // namespace
}  // namespace samplan::bench
