// samplan-datagen: fills a samplan store with realistic volume for the
// benchmarks. See --help (kUsage below) for what it writes and why.
//
// How it works. Everything is planned in memory first ("prepare"): the
// agencies, the people (children and their guardians, with valid identity
// numbers), the plans with their entries and approvals, the grants with
// their endings, each with its time. Every one of those writes becomes an
// Action; the actions are sorted by time and replayed, in large
// transactions, merged with a stream of reads (GetPlan, searches, access
// checks, audit queries) whose times grow with the log. Every write and
// read is a request to the server's own application method (app/), run
// by app::RunInTransaction in the batch's transaction with the clock set
// to its time: the method validates it, decides it (the consent engine
// against the grants and custody facts written so far), writes, and
// appends its audit record, as it does in the server. So the audit log is
// in time order and holds exactly what the server would have written;
// the generator only chooses who asks what, and when.
//
// What is not written: signed checkpoints (the server signs one with its
// own key when it starts).

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "app/admin_app.h"
#include "app/app_support.h"
#include "app/audit_app.h"
#include "app/caller.h"
#include "app/consent_app.h"
#include "app/method.h"
#include "app/plan_app.h"
#include "audit/merkle.h"
#include "common/clock.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "consent/engine.h"
#include "consent/identity_number.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/type/date.pb.h"
#include "samplan/v1/admin.pb.h"
#include "samplan/v1/audit.pb.h"
#include "samplan/v1/common.pb.h"
#include "samplan/v1/consent.pb.h"
#include "samplan/v1/plan.pb.h"
#include "storage/sqlite_store.h"
#include "storage/store.h"

namespace samplan::datagen {
namespace {

constexpr char kProg[] = "samplan-datagen";

constexpr char kUsage[] =
    R"(samplan-datagen: fills a samplan database with realistic volume, for benchmarks.

Usage:
  samplan-datagen --db FILE [--scale X] [--seed N] [--batch N]
                  [--manifest FILE] [--now TIME] [--append]
  samplan-datagen --help

What it writes:
  Every write and read is a request to samplan's own application methods,
  the ones the server runs for its callers, with the time of the request:
  they validate it, decide it, store what it changes and append its audit
  record, so the file holds what the server would have stored. Opening the
  file migrates the schema, resource names and ids look like the server's
  ("plans/<20 characters of a-z0-9>"), identity numbers are valid (date,
  serial, Luhn check digit; about 2% coordination numbers), and every audit
  event is in the Merkle tree. samplan-server can serve the file as it is.

  At --scale 1 (the default):
    1,000,000 children (subjects), each with custody facts for one or two
      guardians (siblings share their guardians; guardians are adults with
      identity numbers of their own);
    200,000 plans, one subject each: a lead agency, two invited agencies of
      the other two sectors, the guardians as participants; 10-14 entries
      of 100-400 characters in every information category, written by the
      three agencies; approved once after the lead agency's first entries
      and, for most plans, again after the other agencies wrote theirs;
    1,000,000 grants by the guardians (by the subject from age 15),
      scoped to sectors or to the plan's agencies, some limited to the
      plan, for 3-12 months; most active now, about 4% withdrawn, a few
      revoked or voided, and the lapsed ones marked expired by the sweeper;
      three subjects get exactly 1, 20 and 200 grants (see the manifest);
    10,000,000 audit events: one for every write above (the sweeper's
      one per expired grant), and reads for the rest, one record each
      (GetPlan, its record holding the consent engine's decision for every
      entry; plan and grant searches, access checks, audit queries; some
      refused, by agencies that do not take part), skewed so that a few
      plans (and subjects) are read very often and most rarely.
  Every count scales with --scale: 0.001 gives 1,000 subjects, 200 plans,
  1,000 grants and 10,000 events in a few seconds. The pool of agencies is
  300 x scale, at least 12, a third per sector.

  The events cover the year before --now and their times never decrease
  along the log. The data depends only on --seed, --scale, --now and, with
  --append, on the size of the existing log. No grant lapses from just
  before --now until 3 days after it, so a server started on the data in
  that time has nothing to expire: its sweeper adds no audit events while
  a benchmark counts them.

  Not written: signed checkpoints (samplan-server signs one with its own
  key when it starts).

  Time and size: the full volume makes a file of roughly 16 GB and takes
  about an hour on two cores (every request does the server's work, and the
  store's random index inserts slow down as the file grows); --scale 0.1
  takes about 3 minutes, --scale 0.01 well under a minute.

Agencies:
  The load generator's agencies are registered the way `samplan-server
  register-agency` registers them (actor local-operator, display name =
  id):
    school-1   SCHOOL           AGENCY_SYSTEM
    social-1   SOCIAL_SERVICES  AGENCY_SYSTEM
    bup-1      HEALTHCARE       AGENCY_SYSTEM
    other-1    SCHOOL           AGENCY_SYSTEM
    auditor-1  HEALTHCARE       AUDITOR
    admin-1    SOCIAL_SERVICES  ADMINISTRATOR
  and admin-1 registers the rest of the pool (school-N, social-N, bup-N)
  through CreateAgency. The server knows a caller's agency by the URI SAN
  urn:samplan:agency:<id> of its client certificate (no fingerprint is
  stored), so certificates made by deploy/dev-pki.sh for these ids work as
  they are. school-1, social-1 and bup-1 also lead, and take part in,
  1% of the plans (at least 100; the manifest lists 100 of them), always
  all three together; other-1 takes part in no plan (its reads are denied).

Options:
  --db FILE        the SQLite database to fill (required); created if missing.
                   A database that already holds agencies or audit events is
                   refused unless --append is given.
  --scale X        volume relative to the full one: 0.00001 to 10 (default 1)
  --seed N         random seed, a whole number 0-18446744073709551615
                   (default 1)
  --batch N        audit events per transaction, 100-1000000 (default
                   100000); each transaction also holds the records its
                   requests wrote. The store commits with synchronous=FULL:
                   big transactions write each index page once instead of
                   many times. The writer keeps up to 2 GiB of pages in
                   memory, so that a transaction's changed pages are not
                   written out and read back before it commits.
  --manifest FILE  also write a JSON file for the benchmark scripts,
                   atomically (FILE.tmp, then rename); see Manifest below
  --now TIME       the end of the generated year, RFC 3339
                   (2025-06-01T08:00:00Z) or a date (2025-06-01: midnight
                   UTC). Default: the start of the current day (UTC), so runs
                   on the same day give the same data.
  --append         add to a database that already holds data: new people
                   (subjects are checked against the custody facts on file),
                   new ids, and times after the newest audit event on file
  -h, --help       print this text and exit

Manifest (--manifest):
  {"generator", "format": 1, "seed", "scale", "append", "now",
   "window_start", "window_end", "elapsed_seconds",
   "counts": {agencies_registered, subjects, guardians, custody_facts, plans,
              plan_revisions, participants, entries, approvals, grants,
              grants_withdrawn, grants_revoked, grants_expired, grants_void,
              audit_events (this run), audit_tree_size_before,
              audit_tree_size, audit_root_hash (hex: the same data gives
              the same root), read_requests, audit_events_by_action {...}},
   "load_agencies": [{id, name, sector, role, certificate_identity,
                      plans_visible}],
   "history_subjects": [100 x {subject, audit_events, grants, plan?,
                               lead_agency?}]  (the 20 with the most events,
                                                then 80 from many to few),
   "subjects_with_grants": [{subject, grants (1, 20, 200), guardians,
                             audit_events, plan, lead_agency}],
   "plans": [100 x {name, lead_agency, participants (2 agencies), subject,
                    state, revision, effective_revision, entries}]}
  The plans are led by school-1, social-1 or bup-1 with the other two
  taking part; subjects and plans are as they stand at the end of the run.

Output:
  Progress on stderr, at most every 2 seconds: phase, done/total, rate per
  second, elapsed time; counts only, never identity numbers. At the end one
  summary line on stdout: the counts written, the time taken and the size
  of the database in bytes.

Exit status: 0 success, 2 usage error (including a non-empty database
without --append), 1 failure.

Example:
  samplan-datagen --db var/bench.db --scale 0.01 --manifest var/bench.json
  samplan-server --config var/samplan.textproto --db var/bench.db
)";

// ------------------------------------------------------------------ basics

using Micros = int64_t;  // microseconds since the Unix epoch, UTC
constexpr Micros kSecond = 1000000;
constexpr Micros kMinute = 60 * kSecond;
constexpr Micros kHour = 60 * kMinute;
constexpr Micros kDay = 24 * kHour;
constexpr Micros kYear = 365 * kDay;
// How long after --now no generated grant lapses (see AddConsent).
constexpr Micros kQuietAfterNow = 3 * kDay;

absl::Time AbslTime(Micros t) { return absl::FromUnixMicros(t); }

void SetTs(Micros t, google::protobuf::Timestamp* out) {
  SetTimestamp(AbslTime(t), out);
}

using Id = std::array<char, 20>;      // a server id: 20 of [a-z0-9]
using Digits = std::array<char, 12>;  // an identity number: YYYYMMDDNNNC

absl::string_view View(const Id& id) {
  return absl::string_view(id.data(), id.size());
}
absl::string_view View(const Digits& d) {
  return absl::string_view(d.data(), d.size());
}

// A random number generator that gives the same numbers on every platform
// and build (xoshiro256**, seeded by SplitMix64): the data must depend on
// --seed only.
uint64_t SplitMix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t Mix(uint64_t a, uint64_t b) {
  uint64_t x = a ^ (b * 0xd1342543de82ef95ULL + 0x632be59bd9b4e019ULL);
  return SplitMix64(x);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    uint64_t x = seed;
    for (uint64_t& s : s_) s = SplitMix64(x);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n); n > 0.
  uint64_t Below(uint64_t n) {
    const uint64_t limit = std::numeric_limits<uint64_t>::max() -
                           std::numeric_limits<uint64_t>::max() % n;
    uint64_t x;
    do {
      x = Next();
    } while (x >= limit);
    return x % n;
  }

  // Uniform in [lo, hi]; lo <= hi.
  int64_t Range(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1));
  }

  // Uniform in [0, 1).
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

  bool Chance(double p) { return Unit() < p; }

  // An index into `weights`, with probability proportional to its weight.
  int Pick(absl::Span<const int> weights) {
    int total = 0;
    for (int w : weights) total += w;
    int x = static_cast<int>(Below(static_cast<uint64_t>(total)));
    for (size_t i = 0; i < weights.size(); ++i) {
      if (x < weights[i]) return static_cast<int>(i);
      x -= weights[i];
    }
    return static_cast<int>(weights.size()) - 1;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// The independent random streams, so that a change in one part of the data
// does not shift every other part.
enum Stream : uint64_t {
  kStreamAgencies = 1,
  kStreamPeople,
  kStreamPlans,
  kStreamGrants,
  kStreamIds,
  kStreamWrites,
  kStreamReads,
  kStreamText,
};

// The server's IdGenerator: 20 characters, each a random byte mod 36.
constexpr char kIdAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";

Id NewId(Rng& r) {
  Id id{};
  uint64_t bits = 0;
  int left = 0;
  for (char& c : id) {
    if (left == 0) {
      bits = r.Next();
      left = 8;
    }
    c = kIdAlphabet[(bits & 0xff) % 36];
    bits >>= 8;
    --left;
  }
  return id;
}

// A client-chosen request id, as a case system would send: a UUID (v4).
void NewRequestId(Rng& r, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->assign(36, '-');
  uint64_t bits = r.Next();
  int left = 16;
  for (int i = 0; i < 36; ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) continue;
    if (left == 0) {
      bits = r.Next();
      left = 16;
    }
    (*out)[static_cast<size_t>(i)] = kHex[bits & 0xf];
    bits >>= 4;
    --left;
  }
  (*out)[14] = '4';
  (*out)[19] = kHex[8 + (bits & 3)];
}

void AppendPadded(int64_t value, int width, std::string* out) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%0*lld", width,
                static_cast<long long>(value));
  out->append(buf);
}

std::string HumanDuration(absl::Duration d) {
  const int64_t s = absl::ToInt64Seconds(d);
  char buf[96];
  if (s < 60) {
    std::snprintf(buf, sizeof(buf), "%.1fs", absl::ToDoubleSeconds(d));
  } else if (s < 3600) {
    std::snprintf(buf, sizeof(buf), "%lldm%02llds",
                  static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof(buf), "%lldh%02lldm%02llds",
                  static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60),
                  static_cast<long long>(s % 60));
  }
  return buf;
}

// Unicode code points of UTF-8 text (limits are counted in them).
int CodePoints(absl::string_view text) {
  int n = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", u);
      out.append(buf);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

// ------------------------------------------------------------- word lists

struct Name {
  const char* display;
  const char* ascii;  // for actor ids and e-mail addresses
};

constexpr Name kFirstNames[] = {
    {"Anna", "anna"},     {"Maria", "maria"},   {"Karin", "karin"},
    {"Sara", "sara"},     {"Emma", "emma"},     {"Lena", "lena"},
    {"Åsa", "asa"},       {"Ingrid", "ingrid"}, {"Eva", "eva"},
    {"Linnéa", "linnea"}, {"Johan", "johan"},   {"Erik", "erik"},
    {"Lars", "lars"},     {"Anders", "anders"}, {"Mikael", "mikael"},
    {"Per", "per"},       {"Jonas", "jonas"},   {"Björn", "bjorn"},
    {"Ali", "ali"},       {"Fatima", "fatima"}, {"Amir", "amir"},
    {"Leila", "leila"},   {"Sofia", "sofia"},   {"Olof", "olof"},
    {"Göran", "goran"},   {"Helena", "helena"}, {"Mats", "mats"},
    {"Nora", "nora"},     {"Elin", "elin"},     {"Oskar", "oskar"},
};

constexpr Name kLastNames[] = {
    {"Andersson", "andersson"},
    {"Johansson", "johansson"},
    {"Karlsson", "karlsson"},
    {"Nilsson", "nilsson"},
    {"Eriksson", "eriksson"},
    {"Larsson", "larsson"},
    {"Olsson", "olsson"},
    {"Persson", "persson"},
    {"Svensson", "svensson"},
    {"Gustafsson", "gustafsson"},
    {"Pettersson", "pettersson"},
    {"Jonsson", "jonsson"},
    {"Lindberg", "lindberg"},
    {"Lindqvist", "lindqvist"},
    {"Berg", "berg"},
    {"Holm", "holm"},
    {"Åberg", "aberg"},
    {"Öberg", "oberg"},
    {"Lundgren", "lundgren"},
    {"Sandberg", "sandberg"},
    {"Ekström", "ekstrom"},
    {"Hassan", "hassan"},
    {"Mohammed", "mohammed"},
    {"Nordin", "nordin"},
    {"Sjöberg", "sjoberg"},
    {"Björk", "bjork"},
    {"Wikström", "wikstrom"},
    {"Forsberg", "forsberg"},
    {"Lindström", "lindstrom"},
    {"Axelsson", "axelsson"},
};

constexpr const char* kMunicipalities[] = {
    "Stockholm",  "Göteborg",    "Malmö",        "Uppsala",    "Västerås",
    "Örebro",     "Linköping",   "Helsingborg",  "Jönköping",  "Norrköping",
    "Lund",       "Umeå",        "Gävle",        "Borås",      "Södertälje",
    "Eskilstuna", "Halmstad",    "Växjö",        "Karlstad",   "Sundsvall",
    "Luleå",      "Trollhättan", "Östersund",    "Borlänge",   "Falun",
    "Kalmar",     "Skövde",      "Kristianstad", "Karlskrona", "Skellefteå",
};

constexpr const char* kSchoolStems[] = {
    "Ek",   "Björk", "Lind",    "Ros",       "Sol",    "Äng",     "Berg",
    "Sjö",  "Hag",   "Lövsta",  "Tallbacka", "Kvarn",  "Furu",    "Strand",
    "Vass", "Gran",  "Ekbacke", "Hammar",    "Norrby", "Söderby",
};

// Entry text, by information category (index = v1::InformationCategory).
// No sentence names a person or holds a number that looks like an identity
// number.
constexpr const char* kNeedsText[] = {
    "Barnet behöver en förutsägbar dag med tydliga övergångar mellan "
    "aktiviteter.",
    "Hen har svårt att komma i gång med skolarbetet på morgonen och behöver "
    "stöd av en vuxen.",
    "En styrka är att barnet är nyfiket och tycker om att bygga och "
    "konstruera.",
    "Familjen önskar att informationen mellan skolan och vården blir tätare.",
    "Barnet säger själv att det vill ha färre byten av personal under veckan.",
    "Behov av bildstöd och visuellt schema både hemma och i skolan.",
    "Hen fungerar bra i mindre grupper och när uppgifterna är tydligt "
    "avgränsade.",
    "Vårdnadshavarna upplever att sömnen är det största problemet just nu.",
    "Barnet önskar att få träna fotboll med sina klasskamrater igen.",
    "Hen behöver hjälp att hantera frustration när saker inte blir som "
    "planerat.",
};
constexpr const char* kInterventionsText[] = {
    "Specialpedagog träffar eleven två gånger i veckan för stöd i "
    "läsförståelse.",
    "Socialtjänsten beviljar kontaktfamilj en helg per månad från och med "
    "nästa termin.",
    "BUP erbjuder föräldrastödsprogram i grupp under tio veckor.",
    "Elevassistent finns med under raster och vid övergångar mellan "
    "lektioner.",
    "Familjebehandlare gör hembesök varannan vecka med fokus på rutiner kring "
    "sömn.",
    "Arbetsterapeut provar ut hjälpmedel för koncentration i klassrummet.",
    "Anpassad studiegång med färre ämnen under vårterminen.",
    "Samordnaren kallar till uppföljande SIP-möte efter åtta veckor.",
    "Kuratorn har stödsamtal med eleven en gång i veckan.",
    "Läkaren följer upp medicineringen efter sex veckor och justerar dosen "
    "vid behov.",
};
constexpr const char* kHealthText[] = {
    "Utredning av uppmärksamhetsförmåga är genomförd och resultatet har "
    "återkopplats till familjen.",
    "Barnet har kontakt med BUP sedan hösten och träffar psykolog "
    "regelbundet.",
    "Medicinering påbörjad i låg dos; eventuella biverkningar följs upp vid "
    "nästa besök.",
    "Sömnsvårigheterna kvarstår trots råd om sömnhygien; melatonin har "
    "diskuterats.",
    "Barnet har återkommande huvudvärk och magont som utreds av barnläkare.",
    "Logoped har bedömt språket och rekommenderar fortsatt träning i hemmet.",
    "Ingen somatisk orsak till tröttheten har hittats vid provtagningen.",
    "Tandvården har noterat behov av extra stöd och tid vid besök.",
};
constexpr const char* kEducationText[] = {
    "Eleven når inte kunskapskraven i matematik och svenska enligt senaste "
    "bedömningen.",
    "Närvaron har ökat från cirka sextio till åttiofem procent sedan "
    "anpassningarna infördes.",
    "Extra anpassningar: förlängd provtid, enskilt rum och uppgifter i "
    "mindre delar.",
    "Åtgärdsprogram är upprättat av rektor efter utredning av elevhälsan.",
    "Eleven fungerar bäst under förmiddagarna och i ämnen med praktiska "
    "inslag.",
    "Mentorn har veckovis kontakt med hemmet via telefon.",
    "Skolan ser en positiv utveckling i samarbetet med klasskamraterna.",
    "Eleven har svårt att hinna med instruktioner som ges muntligt i "
    "helklass.",
};
constexpr const char* kSocialText[] = {
    "Familjen har nyligen flyttat och barnet har bytt skola under läsåret.",
    "Vårdnadshavarna bor på olika orter och barnet växlar mellan hemmen "
    "varannan vecka.",
    "Socialtjänstens utredning är avslutad med beslut om stödinsatser enligt "
    "SoL.",
    "Familjen har ekonomiska svårigheter som påverkar möjligheten till "
    "fritidsaktiviteter.",
    "Syskon har egna insatser från socialtjänsten som samordnas med denna "
    "plan.",
    "Barnet har ett stabilt nätverk med mor- och farföräldrar som bor nära.",
    "Familjen behöver tolk vid möten; tolken bokas av samordnaren.",
    "Boendesituationen är trångbodd men bedöms fungera tills vidare.",
};
constexpr const char* kMinutesText[] = {
    "SIP-möte med vårdnadshavare, skola, socialtjänst och BUP; barnet deltog "
    "under första halvan.",
    "Mötet enades om gemensamma mål för terminen och om vem som ansvarar för "
    "vad.",
    "Samordnare utsågs och kontaktuppgifter delades med familjen.",
    "Barnets egna synpunkter togs upp och fördes in i planen.",
    "Nästa möte bokas om sex veckor; kallelsen skickas av samordnaren.",
    "Vårdnadshavarna vill ha skriftlig återkoppling efter varje möte.",
    "Deltagarna gick igenom tidigare beslutade insatser och hur de har "
    "fungerat.",
    "Oenighet om skolplacering; frågan tas upp igen efter utredningen.",
};
constexpr const char* kFollowUpText[] = {
    "Uppföljningen visar att målet om ökad närvaro är delvis uppnått.",
    "Insatsen med kontaktfamilj har fungerat väl enligt både barnet och "
    "vårdnadshavarna.",
    "Målet om bättre sömn är inte uppnått; insatsen fortsätter med "
    "justeringar.",
    "Barnet beskriver att skoldagen känns lugnare sedan schemat ändrades.",
    "Utvärdering efter sex månader: de flesta mål är uppnådda, två kvarstår.",
    "Samverkan mellan huvudmännen bedöms som god och informationen går "
    "fram bättre.",
    "Familjebehandlingen avslutas enligt plan; uppföljning sker om tre "
    "månader.",
    "Läsinsatsen har gett en tydlig förbättring av läshastigheten.",
};

struct SentenceBank {
  std::vector<std::pair<absl::string_view, int>> sentences;  // text, chars
};

std::vector<SentenceBank> MakeBanks() {
  std::vector<SentenceBank> banks(8);
  auto fill = [&](int category, absl::Span<const char* const> texts) {
    for (const char* t : texts) {
      banks[static_cast<size_t>(category)].sentences.emplace_back(
          t, CodePoints(t));
    }
  };
  fill(v1::INFORMATION_CATEGORY_NEEDS, kNeedsText);
  fill(v1::INFORMATION_CATEGORY_INTERVENTIONS, kInterventionsText);
  fill(v1::INFORMATION_CATEGORY_HEALTH, kHealthText);
  fill(v1::INFORMATION_CATEGORY_EDUCATION, kEducationText);
  fill(v1::INFORMATION_CATEGORY_SOCIAL_SITUATION, kSocialText);
  fill(v1::INFORMATION_CATEGORY_MEETING_MINUTES, kMinutesText);
  fill(v1::INFORMATION_CATEGORY_FOLLOW_UP_RESULTS, kFollowUpText);
  return banks;
}

// ------------------------------------------------------------- arguments

struct Args {
  std::string db;
  std::string manifest;
  std::string now;
  std::string scale_text;
  std::string seed_text;
  std::string batch_text;
  bool append = false;
  bool help = false;
};

struct Config {
  std::string db;
  std::string manifest;
  double scale = 1.0;
  uint64_t seed = 1;
  int64_t batch = 100000;
  bool append = false;
  Micros now = 0;
};

int UsageError(const std::string& message) {
  std::fprintf(stderr, "%s: %s\nTry '%s --help'.\n", kProg, message.c_str(),
               kProg);
  return 2;
}

bool ParseArgs(int argc, char** argv, Args& a, std::string& error) {
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "-h" || flag == "--help") {
      a.help = true;
      continue;
    }
    if (flag.rfind("--", 0) != 0) {
      error = "unexpected argument '" + flag + "' (every option is a --flag)";
      return false;
    }
    std::string value;
    bool has_value = false;
    const size_t eq = flag.find('=');
    if (eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
      has_value = true;
    }
    if (flag == "--append") {
      if (has_value) {
        error = "flag --append takes no value";
        return false;
      }
      a.append = true;
      continue;
    }
    std::string* target = nullptr;
    if (flag == "--db") target = &a.db;
    if (flag == "--scale") target = &a.scale_text;
    if (flag == "--seed") target = &a.seed_text;
    if (flag == "--batch") target = &a.batch_text;
    if (flag == "--manifest") target = &a.manifest;
    if (flag == "--now") target = &a.now;
    if (target == nullptr) {
      error = "unknown flag " + flag;
      return false;
    }
    if (!has_value) {
      if (i + 1 >= argc) {
        error = "flag " + flag + " needs a value";
        return false;
      }
      value = argv[++i];
    }
    *target = value;
  }
  return true;
}

// Validates the arguments into a Config; an error names the flag.
bool MakeConfig(const Args& a, Config& c, std::string& error) {
  if (a.db.empty()) {
    error = "--db FILE is required: the database to fill";
    return false;
  }
  c.db = a.db;
  c.manifest = a.manifest;
  c.append = a.append;
  if (!a.scale_text.empty()) {
    if (!absl::SimpleAtod(a.scale_text, &c.scale) || !std::isfinite(c.scale) ||
        c.scale < 0.00001 || c.scale > 10) {
      error = "--scale must be a number from 0.00001 to 10, got '" +
              a.scale_text + "'";
      return false;
    }
  }
  if (!a.seed_text.empty() && !absl::SimpleAtoi(a.seed_text, &c.seed)) {
    error =
        "--seed must be a whole number from 0 to 18446744073709551615, "
        "got '" +
        a.seed_text + "'";
    return false;
  }
  if (!a.batch_text.empty()) {
    if (!absl::SimpleAtoi(a.batch_text, &c.batch) || c.batch < 100 ||
        c.batch > 1000000) {
      error = "--batch must be a whole number from 100 to 1000000, got '" +
              a.batch_text + "'";
      return false;
    }
  }
  absl::Time now = absl::UnixEpoch();
  if (a.now.empty()) {
    const absl::TimeZone utc = absl::UTCTimeZone();
    now = absl::FromCivil(absl::ToCivilDay(absl::Now(), utc), utc);
  } else {
    std::string err;
    absl::CivilDay day;
    if (absl::ParseTime(absl::RFC3339_full, a.now, &now, &err)) {
      // parsed
    } else if (absl::ParseCivilTime(a.now, &day)) {
      now = absl::FromCivil(day, absl::UTCTimeZone());
    } else {
      error =
          "--now must be an RFC 3339 time (2025-06-01T08:00:00Z) or a "
          "date (2025-06-01), got '" +
          a.now + "'";
      return false;
    }
    const absl::CivilDay day_now = absl::ToCivilDay(now, absl::UTCTimeZone());
    if (day_now.year() < 1990 || day_now.year() > 2200) {
      error = "--now must lie between the years 1990 and 2200";
      return false;
    }
  }
  // Whole seconds: every generated time is then whole microseconds.
  c.now = absl::ToUnixSeconds(now) * kSecond;
  return true;
}

// --------------------------------------------------------------- progress

class Progress {
 public:
  Progress() : start_(absl::Now()) {}

  // Prints a line if 2 seconds passed since the last one (or `force`).
  void Report(absl::string_view phase, int64_t done, int64_t total,
              absl::string_view unit, absl::string_view extra = "",
              bool force = false) {
    const absl::Time now = absl::Now();
    if (phase != phase_) {
      phase_ = std::string(phase);
      phase_start_ = now;
      last_done_ = 0;
      last_phase_report_ = now;
    }
    if (!force && now - last_ < absl::Seconds(2)) return;
    const double span = absl::ToDoubleSeconds(now - last_phase_report_);
    const double rate =
        span > 0 ? static_cast<double>(done - last_done_) / span : 0.0;
    char pct[64] = "";
    if (total > 0) {
      std::snprintf(
          pct, sizeof(pct), " (%.1f%%)",
          100.0 * static_cast<double>(done) / static_cast<double>(total));
    }
    std::fprintf(stderr, "%s: %s: %lld/%lld %s%s, %.0f/s, elapsed %s%s%s\n",
                 kProg, phase_.c_str(), static_cast<long long>(done),
                 static_cast<long long>(total), std::string(unit).c_str(), pct,
                 rate, HumanDuration(now - start_).c_str(),
                 extra.empty() ? "" : "; ", std::string(extra).c_str());
    last_ = now;
    last_phase_report_ = now;
    last_done_ = done;
  }

  // Whether Report() would print now: lets callers skip building `extra`.
  bool Due() const { return absl::Now() - last_ >= absl::Seconds(2); }

  absl::Duration Elapsed() const { return absl::Now() - start_; }

 private:
  absl::Time start_;
  absl::Time last_ = absl::InfinitePast();
  absl::Time phase_start_;
  absl::Time last_phase_report_;
  std::string phase_;
  int64_t last_done_ = 0;
};

// ------------------------------------------------------------------ model

struct Staff {
  uint8_t first = 0;
  uint8_t last = 0;
  std::string actor;  // the x-samplan-actor id, e.g. "anna.berg"
};

struct AgencyInfo {
  std::string id;    // "school-17"
  std::string name;  // "agencies/school-17"
  std::string display_name;
  v1::Sector sector = v1::SECTOR_UNSPECIFIED;
  v1::AgencyRole role = v1::AGENCY_ROLE_UNSPECIFIED;
  std::string certificate;  // the SHA-256 fingerprint its events carry
  std::vector<Staff> staff;
  consent::Agency engine;
  bool load = false;     // one of the load generator's six
  bool in_pool = false;  // takes part in generated plans
  int64_t visible = 0;   // plans ListPlans shows it (replay state)
};

// The load generator's agencies, registered first, in this order.
struct LoadAgency {
  const char* id;
  v1::Sector sector;
  v1::AgencyRole role;
};
constexpr LoadAgency kLoadAgencies[] = {
    {"school-1", v1::SECTOR_SCHOOL, v1::AGENCY_ROLE_AGENCY_SYSTEM},
    {"social-1", v1::SECTOR_SOCIAL_SERVICES, v1::AGENCY_ROLE_AGENCY_SYSTEM},
    {"bup-1", v1::SECTOR_HEALTHCARE, v1::AGENCY_ROLE_AGENCY_SYSTEM},
    {"other-1", v1::SECTOR_SCHOOL, v1::AGENCY_ROLE_AGENCY_SYSTEM},
    {"auditor-1", v1::SECTOR_HEALTHCARE, v1::AGENCY_ROLE_AUDITOR},
    {"admin-1", v1::SECTOR_SOCIAL_SERVICES, v1::AGENCY_ROLE_ADMINISTRATOR},
};
constexpr uint16_t kOther = 3;
constexpr uint16_t kAuditor = 4;
constexpr uint16_t kAdmin = 5;

struct Subject {
  Digits number{};
  int32_t birth = 0;             // days since 1970-01-01 (the calendar date)
  uint32_t guardian = 0;         // index of the first guardian
  uint8_t guardians = 0;         // 1 or 2, consecutive from `guardian`
  uint8_t custody_recorded = 0;  // replay state: facts written so far
  uint16_t custody_agency = 0;
  uint16_t custody_actor = 0;
  int32_t plan = -1;
  Micros custody_time = 0;
  Micros first_use = std::numeric_limits<Micros>::max();
  uint32_t events = 0;  // audit events about the subject, this run
  uint32_t grants = 0;
  bool special = false;  // made to have an exact number of grants
};

struct EntryInfo {
  Id id{};
  Micros time = 0;
  uint16_t owner = 0;        // agency index
  uint16_t actor = 0;        // staff index within the owner
  uint16_t responsible = 0;  // interventions: the responsible agency
  uint8_t category = 0;      // v1::InformationCategory
  uint8_t kind = 0;          // v1::EntryKind
  uint8_t order = 0;         // interventions: the order, from 1
};

struct PlanInfo {
  Id id{};
  uint32_t subject = 0;
  std::array<uint16_t, 3> agency{};  // the lead, then the two invited
  uint16_t lead_actor = 0;
  uint32_t first_entry = 0;
  Micros create_time = 0;
  std::array<Micros, 2> approve_time{};  // 0: no such approval
  uint8_t entries = 0;                   // entries written in all
  uint8_t lead_entries = 0;              // of which before the first approval
  bool load = false;                     // led by school-1, social-1 or bup-1
  // Replay state.
  uint8_t revision = 0;  // newest revision stored; 0: not created yet
  uint8_t effective = 0;
};

struct GrantInfo {
  Id id{};
  uint32_t subject = 0;
  int32_t grantor = -1;  // guardian index; -1: the subject itself
  int32_t plan = -1;     // scope.plan; -1: any plan
  Micros create_time = 0;
  Micros valid_from = 0;
  Micros valid_until = 0;
  Micros end_time = 0;  // 0: no ending
  uint16_t recorder = 0;
  uint16_t actor = 0;
  uint8_t end_state = 0;           // v1::GrantState of the ending
  uint8_t disclosing_sectors = 0;  // bit s: v1::Sector s
  uint8_t receiving_sectors = 0;
  uint8_t categories = 0;  // bit c: v1::InformationCategory c
  uint8_t evidence = 0;    // v1::EvidenceKind
  uint8_t disclosing_count = 0;
  uint8_t receiving_count = 0;
  std::array<uint16_t, 3> disclosing{};
  std::array<uint16_t, 3> receiving{};
};

enum ActionKind : uint8_t {
  kActCustody = 0,
  kActPlanCreate,
  kActEntry,
  kActApprove,
  kActGrant,
  kActGrantEnd,
};

struct Action {
  Micros time;
  uint32_t index;  // subject, plan or grant
  uint8_t kind;
  uint8_t sub;  // custody: guardian slot; entry: its number; approval: 0/1
};

bool operator<(const Action& a, const Action& b) {
  if (a.time != b.time) return a.time < b.time;
  if (a.kind != b.kind) return a.kind < b.kind;
  if (a.index != b.index) return a.index < b.index;
  return a.sub < b.sub;
}

// Identity numbers handed out, so that no two people share one.
class NumberSet {
 public:
  explicit NumberSet(int32_t first_day, int32_t last_day)
      : first_day_(first_day),
        bits_((static_cast<size_t>(last_day - first_day + 1) * 2000 + 63) /
              64) {}

  // False if taken already; otherwise takes it.
  bool Take(int32_t day, int serial, bool coordination) {
    const size_t key = (static_cast<size_t>(day - first_day_) * 1000 +
                        static_cast<size_t>(serial)) *
                           2 +
                       (coordination ? 1 : 0);
    uint64_t& word = bits_[key / 64];
    const uint64_t bit = uint64_t{1} << (key % 64);
    if ((word & bit) != 0) return false;
    word |= bit;
    return true;
  }

 private:
  int32_t first_day_;
  std::vector<uint64_t> bits_;
};

absl::CivilDay DayFromNumber(int32_t days) {
  return absl::CivilDay(1970, 1, 1) + days;
}
int32_t DayNumber(absl::CivilDay day) {
  return static_cast<int32_t>(day - absl::CivilDay(1970, 1, 1));
}

// bench/load.cc's fixture invents a child with a plain personal identity
// number born 2012-2016 on day 1-28, serial 100-999, and expects it to be
// unknown (a generated child with the same number would bring its own
// guardians and fail the fixture's approval). Generated children keep out
// of that space: for those birth dates, serials 001-099 or coordination
// numbers.
bool InLoadFixtureSpace(absl::CivilDay day, int serial, bool coordination) {
  return !coordination && day.year() >= 2012 && day.year() <= 2016 &&
         day.day() <= 28 && serial >= 100;
}

Digits MakeNumber(absl::CivilDay day, int serial, bool coordination) {
  std::string s;
  s.reserve(12);
  AppendPadded(day.year(), 4, &s);
  AppendPadded(day.month(), 2, &s);
  AppendPadded(day.day() + (coordination ? 60 : 0), 2, &s);
  AppendPadded(serial, 3, &s);
  s.push_back(static_cast<char>(
      '0' + consent::LuhnCheckDigit(absl::string_view(s).substr(2, 9))));
  Digits d{};
  std::copy_n(s.begin(), std::min<size_t>(s.size(), d.size()), d.begin());
  return d;
}

struct Counts {
  int64_t agencies = 0;
  int64_t subjects = 0;
  int64_t guardians = 0;
  int64_t custody_facts = 0;
  int64_t plans = 0;
  int64_t participants = 0;
  int64_t revisions = 0;
  int64_t entries = 0;
  int64_t approvals = 0;
  int64_t grants = 0;
  std::array<int64_t, 6> endings{};  // by v1::GrantState
  int64_t events = 0;
  std::array<int64_t, 32> by_action{};
  int64_t read_requests = 0;
};

// ---------------------------------------------------------------- the run

struct Volume {
  int64_t subjects = 0;
  int64_t plans = 0;
  int64_t grants = 0;
  int64_t events = 0;
  int64_t pool = 0;
};

Volume VolumeFor(double scale) {
  auto scaled = [scale](double base) {
    return static_cast<int64_t>(std::llround(base * scale));
  };
  Volume v;
  v.subjects = std::max<int64_t>(4, scaled(1000000));
  v.plans = std::clamp<int64_t>(scaled(200000), 1, v.subjects);
  v.grants = scaled(1000000);
  v.events = scaled(10000000);
  v.pool = std::max<int64_t>(12, scaled(300));
  return v;
}

// The server's ids, from the seeded stream: the next ones handed out can be
// set, so that plans, entries and grants get the ids planned for them.
// Single-threaded (samplan-datagen runs one call at a time).
class DatagenIds final : public app::IdGenerator {
 public:
  explicit DatagenIds(uint64_t seed) : rng(seed) {}
  std::string NewId() override;
  // The next NewId() returns `id` (after any set before).
  void Next(std::string id) { next_.push_back(std::move(id)); }

  Rng rng;

 private:
  std::deque<std::string> next_;
};

class Datagen {
 public:
  Datagen(const Config& config, const consent::Policy& policy,
          const Volume& volume, int64_t base_size, Micros window_start,
          Progress& progress)
      : config_(config),
        policy_(policy),
        volume_(volume),
        base_size_(base_size),
        root_(Mix(config.seed, static_cast<uint64_t>(base_size))),
        now_(config.now),
        start_(window_start),
        end_(config.now - 10 * kMinute),
        replay_start_(window_start + kHour),
        f_(static_cast<double>(config.now - window_start) /
           static_cast<double>(kYear)),
        progress_(progress),
        banks_(MakeBanks()),
        ids_(Mix(root_, kStreamIds)),
        writes_(Mix(root_, kStreamWrites)),
        reads_(Mix(root_, kStreamReads)),
        clock_(absl::UnixEpoch()) {
    ctx_.clock = &clock_;
    ctx_.ids = &ids_;
    ctx_.policy = policy_;
  }

  // Plans everything in memory. `store` is read (inside one read
  // transaction) only with --append, to keep new subjects new.
  absl::Status Prepare(storage::Store& store);
  // Registers the agencies (those not yet registered).
  absl::Status RegisterAgencies(storage::Store& store);
  // Writes everything else.
  absl::Status Replay(storage::Store& store);

  absl::Status WriteManifest(const std::string& path, int64_t tree_size,
                             absl::string_view root_hash,
                             absl::Duration elapsed) const;
  const Counts& counts() const { return counts_; }
  int64_t reads_budget() const { return read_budget_; }

 private:
  // --- prepare ---
  void MakeAgencies();
  absl::Status MakePeople(storage::Transaction* tx);
  void MakePlans();
  void MakeGrants();
  void MakeActions();

  Micros Scaled(Micros d) const {
    return std::max<Micros>(kMinute,
                            static_cast<Micros>(static_cast<double>(d) * f_));
  }
  int AgeAt(const Subject& s, Micros t) const {
    return consent::SubjectAge(DayFromNumber(s.birth), policy_, AbslTime(t));
  }
  Micros BirthStart(const Subject& s) const {
    return absl::ToUnixMicros(absl::FromCivil(
        absl::CivilSecond(DayFromNumber(s.birth)), policy_.zone));
  }
  Micros AddMonths(Micros from, int months) const;
  uint16_t PoolAgency(Rng& r, v1::Sector sector) const;
  uint16_t StaffOf(Rng& r, uint16_t agency) const;
  uint8_t RandomCategories(Rng& r) const;

  struct Scope {
    uint8_t disclosing_sectors = 0;
    uint8_t receiving_sectors = 0;
    uint8_t disclosing_count = 0;
    uint8_t receiving_count = 0;
    std::array<uint16_t, 3> disclosing{};
    std::array<uint16_t, 3> receiving{};
    uint8_t categories = 0;
    int32_t plan = -1;
  };
  Scope PlanScope(Rng& r, const PlanInfo& p, bool may_limit, Micros t) const;
  // Whether `agency` sees plan `p` at `t` (so may limit a grant to it): the
  // lead agency once it exists, the others once it was first approved.
  static bool SeesPlan(const PlanInfo& p, uint16_t agency, Micros t) {
    if (t <= p.create_time) return false;
    return agency == p.agency[0] ||
           (p.approve_time[0] != 0 && t > p.approve_time[0]);
  }
  Scope SectorScope(Rng& r, v1::Sector from) const;
  // Adds the grants of one consent: every competent grantor grants the same
  // scope. Returns how many were added (at most `budget`).
  int64_t AddConsent(Rng& r, uint32_t subject, Micros t, const Scope& scope,
                     uint16_t recorder, int64_t budget);
  void AddEnding(Rng& r, GrantInfo& g);

  // --- replay: every write and read is a call of the server's own
  // application method (app/), run in the batch's transaction ---
  app::Caller CallerOf(uint16_t agency, uint16_t staff) const;
  // Runs one call at time `t` by staff member `staff` of `agency`, sets
  // `*answer` to its answer (a refusal included), and fails when it did
  // not append exactly one audit record. `subject`: the subject index the
  // record is about, or -1.
  template <typename Request, typename Response>
  absl::Status Call(storage::Transaction& tx, Micros t,
                    const app::MethodSpec<Request, Response>& spec,
                    uint16_t agency, uint16_t staff, const Request& request,
                    Response* response, int64_t subject,
                    absl::Status* answer = nullptr);
  // Call for a write, with a new request id; a refusal is an error.
  template <typename Request, typename Response>
  absl::Status Write(storage::Transaction& tx, Micros t,
                     const app::MethodSpec<Request, Response>& spec,
                     uint16_t agency, uint16_t staff, Request& request,
                     Response* response, int64_t subject);
  // Counts the audit records appended since the last count, about subject
  // index `subject` (-1: none; kSubjectOfEachRecord: each record's own),
  // and returns how many.
  static constexpr int64_t kSubjectOfEachRecord = -2;
  absl::StatusOr<int64_t> Counted(storage::Transaction& tx, int64_t subject);

  absl::Status Emit(storage::Transaction& tx, const Action& a);
  absl::Status EmitCustody(storage::Transaction& tx, const Action& a);
  absl::Status EmitPlanCreate(storage::Transaction& tx, uint32_t p, Micros t);
  absl::Status EmitEntry(storage::Transaction& tx, uint32_t p, int k, Micros t);
  absl::Status EmitApproval(storage::Transaction& tx, uint32_t p, Micros t);
  absl::Status EmitGrant(storage::Transaction& tx, uint32_t g, Micros t);
  absl::Status EmitGrantEnd(storage::Transaction& tx, uint32_t g, Micros t);
  absl::Status EmitRead(storage::Transaction& tx, Micros t);

  absl::StatusOr<bool> ReadPlan(storage::Transaction& tx, Micros t);
  absl::Status ReadOne(storage::Transaction& tx, Micros t, int kind);

  Micros ReadTime() const;
  int32_t PickPlan(Rng& r) const;
  int64_t PickSubject(Rng& r) const;
  void BuildPlan(uint32_t p, v1::Plan* plan) const;
  void BuildText(Rng& r, int category, std::string* out) const;
  const std::string& Actor(uint16_t agency, uint16_t staff) const {
    return agencies_[agency].staff[staff].actor;
  }
  std::string StaffName(uint16_t agency, uint16_t staff) const {
    const Staff& s = agencies_[agency].staff[staff];
    return absl::StrCat(kFirstNames[s.first].display, " ",
                        kLastNames[s.last].display);
  }
  std::string GuardianName(uint32_t g) const;

  const Config config_;
  const consent::Policy policy_;
  const Volume volume_;
  const int64_t base_size_;
  const uint64_t root_;
  const Micros now_;
  const Micros start_;  // the generated window: [start_, end_]
  const Micros end_;
  const Micros replay_start_;  // after the agency registrations
  const double f_;             // the window as a fraction of a year
  Progress& progress_;
  const std::vector<SentenceBank> banks_;

  std::vector<AgencyInfo> agencies_;
  std::array<std::vector<uint16_t>, 4> pool_;  // by v1::Sector
  std::vector<Digits> guardians_;
  std::vector<Subject> subjects_;
  std::vector<uint32_t> plan_order_;  // subjects: first those with plans
  std::vector<PlanInfo> plans_;
  std::vector<EntryInfo> entries_;
  std::vector<GrantInfo> grants_;
  std::vector<Action> actions_;
  std::vector<uint32_t> hot_;  // plans by popularity
  std::vector<uint32_t> load_plans_;
  struct Special {
    uint32_t subject;
    int64_t grants;
  };
  std::vector<Special> special_;

  // Replay state.
  DatagenIds ids_;
  Rng writes_;
  Rng reads_;
  FakeClock clock_;
  app::AppContext ctx_;   // no store, queue or caches: RunInTransaction
  int64_t log_size_ = 0;  // the audit log's size, as last counted
  absl::flat_hash_map<std::string, uint32_t> subject_index_;  // by number
  int64_t read_budget_ = 0;
  int64_t read_events_ = 0;
  int64_t batch_events_ = 0;
  uint32_t plans_created_ = 0;
  std::vector<uint32_t> recorded_subjects_;  // in custody order
  std::vector<uint32_t> recorded_grants_;    // in recording order
  Counts counts_;
};

// ---------------------------------------------------------------- prepare

void Datagen::MakeAgencies() {
  Rng r(Mix(root_, kStreamAgencies));
  auto make_staff = [&](AgencyInfo& a) {
    const int n = static_cast<int>(r.Range(5, 20));
    while (static_cast<int>(a.staff.size()) < n) {
      Staff s;
      s.first = static_cast<uint8_t>(r.Below(std::size(kFirstNames)));
      s.last = static_cast<uint8_t>(r.Below(std::size(kLastNames)));
      s.actor = absl::StrCat(kFirstNames[s.first].ascii, ".",
                             kLastNames[s.last].ascii);
      for (const Staff& other : a.staff) {
        if (other.actor == s.actor) {
          absl::StrAppend(&s.actor, a.staff.size() + 1);
          break;
        }
      }
      a.staff.push_back(std::move(s));
    }
    static constexpr char kHex[] = "0123456789abcdef";
    a.certificate.clear();
    for (int i = 0; i < 4; ++i) {
      uint64_t bits = r.Next();
      for (int j = 0; j < 16; ++j) {
        a.certificate.push_back(kHex[bits & 0xf]);
        bits >>= 4;
      }
    }
    a.name = absl::StrCat("agencies/", a.id);
    a.engine = consent::Agency{a.id, static_cast<consent::Sector>(a.sector)};
  };
  for (const LoadAgency& l : kLoadAgencies) {
    AgencyInfo a;
    a.id = l.id;
    a.display_name = l.id;  // register-agency's default: the id
    a.sector = l.sector;
    a.role = l.role;
    a.load = true;
    make_staff(a);
    agencies_.push_back(std::move(a));
  }
  // The pool: a third per sector; number 1 of each is the load agency.
  const v1::Sector sectors[] = {v1::SECTOR_SCHOOL, v1::SECTOR_SOCIAL_SERVICES,
                                v1::SECTOR_HEALTHCARE};
  const char* prefixes[] = {"school", "social", "bup"};
  for (int si = 0; si < 3; ++si) {
    const int64_t n = volume_.pool / 3 + (si < volume_.pool % 3 ? 1 : 0);
    for (int64_t k = 1; k <= n; ++k) {
      if (k == 1) {
        agencies_[static_cast<size_t>(si)].in_pool = true;
        pool_[sectors[si]].push_back(static_cast<uint16_t>(si));
        continue;
      }
      AgencyInfo a;
      a.id = absl::StrCat(prefixes[si], "-", k);
      const char* town = kMunicipalities[r.Below(std::size(kMunicipalities))];
      switch (si) {
        case 0:
          a.display_name = absl::StrCat(
              kSchoolStems[r.Below(std::size(kSchoolStems))], "skolan, ", town);
          break;
        case 1:
          a.display_name = absl::StrCat("Socialtjänsten ", town,
                                        ", barn och unga, enhet ", k);
          break;
        default: {
          const char* kinds[] = {"BUP", "Barnhabiliteringen",
                                 "Barn- och ungdomsmedicin"};
          a.display_name =
              absl::StrCat(kinds[r.Below(3)], " ", town, " (", k, ")");
          break;
        }
      }
      a.sector = sectors[si];
      a.role = v1::AGENCY_ROLE_AGENCY_SYSTEM;
      a.in_pool = true;
      make_staff(a);
      pool_[sectors[si]].push_back(static_cast<uint16_t>(agencies_.size()));
      agencies_.push_back(std::move(a));
    }
  }
}

uint16_t Datagen::PoolAgency(Rng& r, v1::Sector sector) const {
  const std::vector<uint16_t>& pool = pool_[sector];
  return pool[r.Below(pool.size())];
}

uint16_t Datagen::StaffOf(Rng& r, uint16_t agency) const {
  return static_cast<uint16_t>(r.Below(agencies_[agency].staff.size()));
}

absl::Status Datagen::MakePeople(storage::Transaction* tx) {
  Rng r(Mix(root_, kStreamPeople));
  const absl::CivilDay today = absl::ToCivilDay(AbslTime(now_), policy_.zone);
  const absl::CivilDay first_day =
      absl::ToCivilDay(AbslTime(start_), policy_.zone);
  // Children: under 18 now, born at least 30 days before the window.
  const int32_t child_lo = DayNumber(
      absl::CivilDay(today.year() - 18, today.month(), today.day()) + 1);
  const int32_t child_hi = DayNumber(first_day - 30);
  // Guardians: 20 to 45 years older than their oldest child.
  NumberSet taken(child_lo - 46 * 366, child_hi + 1);

  auto new_number = [&](int32_t day, bool child) -> absl::StatusOr<Digits> {
    for (int attempt = 0;; ++attempt) {
      const int32_t d =
          attempt == 0
              ? day
              : (child ? static_cast<int32_t>(r.Range(child_lo, child_hi))
                       : day + static_cast<int32_t>(r.Range(-300, 300)));
      int serial = static_cast<int>(r.Range(1, 999));
      bool coordination = r.Chance(child ? 0.02 : 0.03);
      if (child && InLoadFixtureSpace(DayFromNumber(d), serial, coordination)) {
        if (r.Chance(0.6)) {
          serial = static_cast<int>(r.Range(1, 99));
        } else {
          coordination = true;
        }
      }
      if (!taken.Take(d, serial, coordination)) continue;
      const Digits number = MakeNumber(DayFromNumber(d), serial, coordination);
      if (tx != nullptr && child) {
        // --append: a child with custody facts on file is someone else's.
        ASSIGN_OR_RETURN(auto facts, tx->custody().ListCustody(View(number)));
        if (!facts.empty()) continue;
      }
      return number;
    }
  };

  const int64_t n = volume_.subjects;
  subjects_.reserve(static_cast<size_t>(n));
  guardians_.reserve(static_cast<size_t>(n) * 5 / 4);
  while (static_cast<int64_t>(subjects_.size()) < n) {
    const int size_pick = r.Pick({60, 30, 10});
    const int64_t family = std::min<int64_t>(
        size_pick + 1, n - static_cast<int64_t>(subjects_.size()));
    const int guardians = r.Chance(0.8) ? 2 : 1;
    std::vector<int32_t> births;
    int32_t oldest = child_hi;
    for (int64_t i = 0; i < family; ++i) {
      births.push_back(static_cast<int32_t>(r.Range(child_lo, child_hi)));
      oldest = std::min(oldest, births.back());
    }
    const uint32_t first_guardian = static_cast<uint32_t>(guardians_.size());
    for (int g = 0; g < guardians; ++g) {
      const int32_t day =
          oldest - static_cast<int32_t>(r.Range(20 * 365, 45 * 365));
      ASSIGN_OR_RETURN(Digits number, new_number(day, false));
      guardians_.push_back(number);
    }
    for (int32_t birth : births) {
      Subject s;
      ASSIGN_OR_RETURN(s.number, new_number(birth, true));
      // new_number may have moved the day: take it from the number.
      auto parsed = consent::IdentityNumber::Parse(View(s.number));
      if (!parsed.ok()) {
        return absl::InternalError(
            "samplan-datagen made an invalid identity number (a bug)");
      }
      s.birth = DayNumber(parsed->birth_date());
      s.guardian = first_guardian;
      s.guardians = static_cast<uint8_t>(guardians);
      subjects_.push_back(s);
    }
    if ((subjects_.size() & 0xffff) < static_cast<size_t>(family) &&
        progress_.Due()) {
      progress_.Report("prepare people", static_cast<int64_t>(subjects_.size()),
                       n, "subjects");
    }
  }
  counts_.subjects = n;
  counts_.guardians = static_cast<int64_t>(guardians_.size());
  return absl::OkStatus();
}

void Datagen::MakePlans() {
  Rng r(Mix(root_, kStreamPlans));
  const int64_t n_subjects = volume_.subjects;
  const int64_t n_plans = volume_.plans;
  // Which subjects have a plan: a random permutation, plans first.
  plan_order_.resize(static_cast<size_t>(n_subjects));
  std::iota(plan_order_.begin(), plan_order_.end(), 0u);
  for (size_t i = plan_order_.size() - 1; i > 0; --i) {
    std::swap(plan_order_[i], plan_order_[r.Below(i + 1)]);
  }
  // Creation times, in plan order: over the first 80% of the window, so
  // that every plan has had time for its entries and approvals.
  const Micros window = end_ - replay_start_;
  std::vector<Micros> times(static_cast<size_t>(n_plans));
  for (Micros& t : times) {
    t = replay_start_ + window / 100 +
        static_cast<Micros>(r.Unit() * 0.79 * static_cast<double>(window));
    t -= t % kSecond;
  }
  std::sort(times.begin(), times.end());

  // Plans of the load generator's agencies: 1%, at least 100, spread over
  // the year.
  const int64_t n_load =
      std::min<int64_t>(n_plans, std::max<int64_t>(100, n_plans / 100));
  const int64_t stride = std::max<int64_t>(1, n_plans / n_load);

  plans_.resize(static_cast<size_t>(n_plans));
  entries_.reserve(static_cast<size_t>(n_plans) * 12);
  const v1::Sector sectors[] = {v1::SECTOR_SCHOOL, v1::SECTOR_SOCIAL_SERVICES,
                                v1::SECTOR_HEALTHCARE};
  // Categories an agency writes, by its sector (weights per category 1-7).
  static constexpr int kSchoolMix[] = {0, 20, 20, 2, 35, 3, 10, 10};
  static constexpr int kSocialMix[] = {0, 20, 20, 2, 3, 35, 10, 10};
  static constexpr int kHealthMix[] = {0, 20, 20, 35, 2, 3, 10, 10};
  auto category_for = [&](v1::Sector s) {
    const int* mix = s == v1::SECTOR_SCHOOL            ? kSchoolMix
                     : s == v1::SECTOR_SOCIAL_SERVICES ? kSocialMix
                                                       : kHealthMix;
    return r.Pick(absl::MakeConstSpan(mix, 8));
  };
  auto gap = [&]() { return Scaled(r.Range(30 * kMinute, 3 * kDay)); };

  int64_t load_made = 0;
  for (int64_t pi = 0; pi < n_plans; ++pi) {
    PlanInfo& p = plans_[static_cast<size_t>(pi)];
    p.id = NewId(ids_.rng);
    p.subject = plan_order_[static_cast<size_t>(pi)];
    subjects_[p.subject].plan = static_cast<int32_t>(pi);
    p.create_time = times[static_cast<size_t>(pi)];
    if (pi % stride == 0 && load_made < n_load) {
      // school-1, social-1, bup-1 in turn lead; the other two take part.
      const uint16_t lead = static_cast<uint16_t>(load_made % 3);
      p.agency = {lead, static_cast<uint16_t>((lead + 1) % 3),
                  static_cast<uint16_t>((lead + 2) % 3)};
      p.load = true;
      ++load_made;
      load_plans_.push_back(static_cast<uint32_t>(pi));
    } else {
      const int lead_sector = r.Pick({35, 40, 25});
      p.agency[0] = PoolAgency(r, sectors[lead_sector]);
      p.agency[1] = PoolAgency(r, sectors[(lead_sector + 1) % 3]);
      p.agency[2] = PoolAgency(r, sectors[(lead_sector + 2) % 3]);
    }
    p.lead_actor = StaffOf(r, p.agency[0]);
    subjects_[p.subject].first_use =
        std::min(subjects_[p.subject].first_use, p.create_time);

    // Entries: the lead agency's first ones, the first approval, then the
    // three agencies' entries and (mostly) a second approval.
    const int total = static_cast<int>(r.Range(10, 14));
    const int lead_first = static_cast<int>(r.Range(2, 5));
    p.first_entry = static_cast<uint32_t>(entries_.size());
    Micros t = p.create_time;
    int interventions = 0;
    int written = 0;
    bool others_wrote[2] = {false, false};
    for (int k = 0; k < total; ++k) {
      if (k == lead_first) {
        const Micros approve = t + Scaled(r.Range(kDay, 10 * kDay));
        if (approve > end_ - kMinute) break;
        p.approve_time[0] = approve;
        t = approve;
      }
      t += gap();
      if (t > end_ - kMinute) break;
      EntryInfo e;
      e.id = NewId(ids_.rng);
      e.time = t;
      int who = 0;
      if (k >= lead_first) {
        // Make sure both invited agencies write at least once.
        const int left = total - k;
        if (!others_wrote[0] && left <= 2) {
          who = 1;
        } else if (!others_wrote[1] && left <= 1) {
          who = 2;
        } else {
          who = static_cast<int>(r.Below(3));
        }
        if (who > 0) others_wrote[who - 1] = true;
      }
      e.owner = p.agency[static_cast<size_t>(who)];
      e.actor = who == 0 && r.Chance(0.7) ? p.lead_actor : StaffOf(r, e.owner);
      e.category = static_cast<uint8_t>(
          k == 0 ? v1::INFORMATION_CATEGORY_MEETING_MINUTES
                 : category_for(agencies_[e.owner].sector));
      switch (e.category) {
        case v1::INFORMATION_CATEGORY_NEEDS: {
          const v1::EntryKind kinds[] = {v1::ENTRY_KIND_NEED,
                                         v1::ENTRY_KIND_STRENGTH,
                                         v1::ENTRY_KIND_WISH};
          e.kind = static_cast<uint8_t>(kinds[r.Pick({50, 30, 20})]);
          break;
        }
        case v1::INFORMATION_CATEGORY_INTERVENTIONS:
          e.kind = v1::ENTRY_KIND_INTERVENTION;
          e.order = static_cast<uint8_t>(++interventions);
          e.responsible = r.Chance(0.7)
                              ? e.owner
                              : p.agency[static_cast<size_t>(r.Below(3))];
          break;
        case v1::INFORMATION_CATEGORY_MEETING_MINUTES:
          e.kind = v1::ENTRY_KIND_MINUTES;
          break;
        case v1::INFORMATION_CATEGORY_FOLLOW_UP_RESULTS:
          e.kind = v1::ENTRY_KIND_FOLLOW_UP_RESULT;
          break;
        default:
          e.kind = v1::ENTRY_KIND_NOTE;
          break;
      }
      entries_.push_back(e);
      ++written;
    }
    p.entries = static_cast<uint8_t>(written);
    p.lead_entries = static_cast<uint8_t>(std::min(written, lead_first));
    if (p.approve_time[0] != 0 && written > lead_first && r.Chance(0.85)) {
      const Micros approve = t + Scaled(r.Range(kDay, 10 * kDay));
      if (approve <= end_ - kMinute) p.approve_time[1] = approve;
    }
    if (p.approve_time[0] == 0 && written == lead_first) {
      // Ran out of window before the first approval could follow: approve
      // right after the lead agency's entries if there is still time.
      const Micros approve = t + kHour;
      if (approve <= end_ - kMinute) p.approve_time[0] = approve;
    }
    if ((pi & 0xffff) == 0 && progress_.Due()) {
      progress_.Report("prepare plans", pi, n_plans, "plans");
    }
  }

  // Popularity: a random order of the plans; reads pick early ones often.
  hot_.resize(plans_.size());
  std::iota(hot_.begin(), hot_.end(), 0u);
  for (size_t i = hot_.size() - 1; i > 0; --i) {
    std::swap(hot_[i], hot_[r.Below(i + 1)]);
  }
}

Micros Datagen::AddMonths(Micros from, int months) const {
  // As ValidateNewGrant measures the period: calendar months in Sweden, from
  // the whole second.
  const absl::CivilSecond c = absl::ToCivilSecond(AbslTime(from), policy_.zone);
  const absl::CivilSecond until(c.year(), c.month() + months, c.day(), c.hour(),
                                c.minute(), c.second());
  return absl::ToUnixMicros(absl::FromCivil(until, policy_.zone));
}

uint8_t Datagen::RandomCategories(Rng& r) const {
  // Per category (1-7) the chance that a consent covers it.
  static constexpr double kCover[] = {0, 0.9, 0.85, 0.45, 0.6, 0.5, 0.8, 0.7};
  uint8_t mask = 0;
  for (int c = 1; c <= 7; ++c) {
    if (r.Chance(kCover[c])) mask = static_cast<uint8_t>(mask | (1 << c));
  }
  if (mask == 0) mask = 1 << v1::INFORMATION_CATEGORY_NEEDS;
  return mask;
}

Datagen::Scope Datagen::PlanScope(Rng& r, const PlanInfo& p, bool may_limit,
                                  Micros t) const {
  Scope s;
  const int style = r.Pick({50, 35, 15});
  uint8_t sectors = 0;
  for (uint16_t a : p.agency) {
    sectors = static_cast<uint8_t>(sectors | (1 << agencies_[a].sector));
  }
  if (style == 0) {  // by sector: every sector of the plan, both ways
    s.disclosing_sectors = sectors;
    s.receiving_sectors = sectors;
  } else {  // by agency: the plan's agencies (disclosing), receivers too or
            // their sectors
    const int n = r.Chance(0.7) ? 3 : 2;
    for (int i = 0; i < n; ++i) {
      s.disclosing[s.disclosing_count++] = p.agency[static_cast<size_t>(i)];
    }
    if (style == 1) {
      for (int i = 0; i < 3; ++i) {
        s.receiving[s.receiving_count++] = p.agency[static_cast<size_t>(i)];
      }
    } else {
      s.receiving_sectors = sectors;
    }
  }
  s.categories = RandomCategories(r);
  if (may_limit && t > p.create_time && r.Chance(0.3)) {
    s.plan = static_cast<int32_t>(&p - plans_.data());
  }
  return s;
}

Datagen::Scope Datagen::SectorScope(Rng& r, v1::Sector from) const {
  Scope s;
  s.disclosing_sectors = static_cast<uint8_t>(1 << from);
  for (int other = 1; other <= 3; ++other) {
    if (other != from && r.Chance(0.7)) {
      s.receiving_sectors =
          static_cast<uint8_t>(s.receiving_sectors | (1 << other));
    }
  }
  if (s.receiving_sectors == 0) {
    s.receiving_sectors = static_cast<uint8_t>(1 << (from % 3 + 1));
  }
  s.categories = RandomCategories(r);
  return s;
}

void Datagen::AddEnding(Rng& r, GrantInfo& g) {
  const Micros last = std::min(g.valid_until, end_) - kMinute;
  const double u = r.Unit();
  if (u < 0.04) {  // withdrawn by the grantor
    if (last > g.create_time + kHour) {
      g.end_state = v1::GRANT_STATE_WITHDRAWN;
      g.end_time = r.Range(g.create_time + kHour, last);
      return;
    }
  } else if (u < 0.045) {  // revoked by the administrator
    if (last > g.create_time + kDay) {
      g.end_state = v1::GRANT_STATE_REVOKED;
      g.end_time = r.Range(g.create_time + kDay, last);
      return;
    }
  } else if (u < 0.046) {  // misregistered, voided
    const Micros until = std::min(last, g.create_time + 14 * kDay);
    if (until > g.create_time + kHour) {
      g.end_state = v1::GRANT_STATE_VOID;
      g.end_time = r.Range(g.create_time + kHour, until);
      return;
    }
  }
  // Lapsed: the sweeper (every 60 s) marks it expired at its first tick
  // after both the end of the period and the recording.
  const Micros phase = 17 * kSecond;
  const Micros lapse = std::max(g.valid_until, g.create_time + kSecond);
  const Micros sweep =
      (lapse - phase + kMinute - 1) / kMinute * kMinute + phase;
  if (sweep <= end_) {
    g.end_state = v1::GRANT_STATE_EXPIRED;
    g.end_time = sweep;
  }
}

int64_t Datagen::AddConsent(Rng& r, uint32_t subject, Micros t,
                            const Scope& scope, uint16_t recorder,
                            int64_t budget) {
  Subject& s = subjects_[subject];
  const int age = AgeAt(s, t);
  if (age < 0 || age >= 18 || budget <= 0) return 0;
  static constexpr int kMonths[] = {3, 6, 12};
  const int months = kMonths[r.Pick({15, 30, 55})];
  Micros from = t - t % kSecond;
  if (r.Chance(0.05)) from += Scaled(r.Range(kDay, 30 * kDay));
  Micros until = AddMonths(from, months);
  // No grant lapses between 2 hours before --now and 3 days after it: a
  // server started on the data in that time finds nothing for its expiry
  // sweeper, which would otherwise add GRANT_EXPIRED events while a
  // benchmark (bench/load.cc) compares the log's growth with its decisions.
  // Such a grant ends a little earlier instead (and is swept in the data).
  const Micros quiet_from = end_ - 2 * kHour;
  if (until >= quiet_from && until < now_ + kQuietAfterNow) {
    const Micros earlier = quiet_from - r.Range(kHour, 2 * kDay);
    if (earlier > std::max(from, t) + 3 * kDay) until = earlier;
  }
  const uint16_t actor = StaffOf(r, recorder);
  const uint8_t evidence = static_cast<uint8_t>(
      r.Pick({0, 50, 30, 20}));  // signed form, e-signature, at a meeting
  int64_t added = 0;
  auto add = [&](int32_t grantor, Micros when) {
    GrantInfo g;
    g.id = NewId(ids_.rng);
    g.subject = subject;
    g.grantor = grantor;
    g.plan = scope.plan;
    g.create_time = when;
    g.valid_from = from;
    g.valid_until = until;
    g.recorder = recorder;
    g.actor = actor;
    g.evidence = evidence;
    g.disclosing_sectors = scope.disclosing_sectors;
    g.receiving_sectors = scope.receiving_sectors;
    g.disclosing_count = scope.disclosing_count;
    g.receiving_count = scope.receiving_count;
    g.disclosing = scope.disclosing;
    g.receiving = scope.receiving;
    g.categories = scope.categories;
    AddEnding(r, g);
    grants_.push_back(g);
    s.first_use = std::min(s.first_use, when);
    ++s.grants;
    ++added;
  };
  if (age >= policy_.consent_age) {
    add(-1, t);  // the subject consents personally
    return added;
  }
  // Every guardian with custody grants; the second often a little later.
  Micros when = t;
  for (int i = 0; i < s.guardians && added < budget; ++i) {
    if (i > 0) when += Scaled(r.Range(kMinute, 2 * kDay));
    if (when > end_ - kMinute || AgeAt(s, when) >= policy_.consent_age) break;
    add(static_cast<int32_t>(s.guardian + static_cast<uint32_t>(i)), when);
  }
  return added;
}

void Datagen::MakeGrants() {
  Rng r(Mix(root_, kStreamGrants));
  int64_t budget = volume_.grants;
  grants_.reserve(static_cast<size_t>(budget));
  const Micros first = replay_start_ + Scaled(kDay);
  const Micros last = end_ - kHour;
  auto uniform = [&](Micros lo, Micros hi) {
    return hi <= lo ? lo : r.Range(lo, hi);
  };

  // Subjects with exactly 1, 20 and 200 grants, among the subjects of the
  // load generator's plans (under 14 now, so guardians consent all year;
  // the one with 1 grant has one guardian, so that the grant is enough).
  const int64_t wanted[] = {1, 20, 200};
  int64_t reserved = 0;
  std::vector<uint32_t> taken;
  for (int64_t count : wanted) {
    if (reserved + count > volume_.grants / 2) break;
    int64_t best = -1;
    for (int pass = 0; pass < 2 && best < 0; ++pass) {
      for (uint32_t pi : load_plans_) {
        const uint32_t s = plans_[pi].subject;
        const Subject& subj = subjects_[s];
        if (std::find(taken.begin(), taken.end(), s) != taken.end()) continue;
        if (AgeAt(subj, end_) > 13) continue;
        if (pass == 0 && count == 1 && subj.guardians != 1) continue;
        best = s;
        break;
      }
    }
    if (best < 0) continue;
    taken.push_back(static_cast<uint32_t>(best));
    subjects_[static_cast<size_t>(best)].special = true;
    special_.push_back(Special{static_cast<uint32_t>(best), count});
    reserved += count;
  }
  for (const Special& sp : special_) {
    const PlanInfo& p = plans_[static_cast<size_t>(subjects_[sp.subject].plan)];
    int64_t made = 0;
    if (sp.grants == 1) {
      // One broad, current consent by the one guardian.
      Scope scope;
      scope.disclosing_sectors = 0b1110;
      scope.receiving_sectors = 0b1110;
      scope.categories = 0b11111110;
      const Micros t =
          std::max(p.create_time + kHour, last - Scaled(60 * kDay));
      // Valid for 12 months and never ended: active at --now.
      const size_t before = grants_.size();
      made = AddConsent(r, sp.subject, t, scope, p.agency[0], 1);
      for (size_t i = before; i < grants_.size(); ++i) {
        GrantInfo& g = grants_[i];
        g.valid_until = AddMonths(g.valid_from, 12);
        g.end_state = 0;
        g.end_time = 0;
      }
    } else {
      while (made < sp.grants) {
        const Micros t =
            uniform(std::max(first, p.create_time - 7 * kDay), last);
        const uint16_t recorder = p.agency[r.Below(3)];
        const Scope scope = PlanScope(r, p, SeesPlan(p, recorder, t), t);
        const int64_t n =
            AddConsent(r, sp.subject, t, scope, recorder, sp.grants - made);
        if (n == 0) break;  // cannot happen for a child under 14
        made += n;
      }
    }
    budget -= made;
  }

  // The plans' subjects: a consent at the first meeting, then renewals and
  // widenings through the year.
  for (size_t pi = 0; pi < plans_.size() && budget > 0; ++pi) {
    const PlanInfo& p = plans_[pi];
    if (subjects_[p.subject].special) continue;
    const int consents = r.Pick({30, 40, 20, 10}) + 1;
    for (int c = 0; c < consents && budget > 0; ++c) {
      const Micros t =
          c == 0 ? std::max(first,
                            p.create_time - Scaled(r.Range(kMinute, 7 * kDay)))
                 : uniform(p.create_time + kHour, last);
      const uint16_t recorder = c == 0 ? p.agency[0] : p.agency[r.Below(3)];
      const Scope scope = PlanScope(r, p, c > 0 && SeesPlan(p, recorder, t), t);
      budget -= AddConsent(r, p.subject, t, scope, recorder, budget);
    }
    if ((pi & 0xffff) == 0 && progress_.Due()) {
      progress_.Report("prepare grants", static_cast<int64_t>(grants_.size()),
                       volume_.grants, "grants");
    }
  }
  // The rest: subjects without a plan, one or two consents each, recorded
  // by an agency of the disclosing sector.
  const size_t n_plans = plans_.size();
  const size_t n_others = plan_order_.size() - n_plans;
  size_t next = 0;
  int64_t idle = 0;
  while (budget > 0 && idle < 1000000) {
    uint32_t s;
    if (n_others > 0) {
      s = plan_order_[n_plans + next % n_others];
    } else {
      s = plan_order_[next % n_plans];
    }
    ++next;
    if (subjects_[s].special) {
      ++idle;
      continue;
    }
    const int consents = r.Chance(0.7) ? 1 : 2;
    int64_t added = 0;
    for (int c = 0; c < consents && budget > 0; ++c) {
      const v1::Sector from = static_cast<v1::Sector>(r.Pick({0, 40, 35, 25}));
      const Scope scope = SectorScope(r, from);
      const int64_t n = AddConsent(r, s, uniform(first, last), scope,
                                   PoolAgency(r, from), budget);
      budget -= n;
      added += n;
    }
    idle = added > 0 ? 0 : idle + 1;
    if ((next & 0xffff) == 0 && progress_.Due()) {
      progress_.Report("prepare grants", static_cast<int64_t>(grants_.size()),
                       volume_.grants, "grants");
    }
  }

  // Replay order: by recording time.
  std::sort(grants_.begin(), grants_.end(),
            [](const GrantInfo& a, const GrantInfo& b) {
              if (a.create_time != b.create_time) {
                return a.create_time < b.create_time;
              }
              return a.id < b.id;
            });
}

void Datagen::MakeActions() {
  Rng r(Mix(root_, kStreamPeople + 100));
  // Custody: recorded before the subject's first plan or grant (by the
  // plan's lead agency), or some time in the year for the others.
  for (uint32_t si = 0; si < subjects_.size(); ++si) {
    Subject& s = subjects_[si];
    if (s.first_use != std::numeric_limits<Micros>::max()) {
      // Both facts (20 s apart) before the first use.
      const Micros hi = s.first_use - 2 * kMinute;
      const Micros lo =
          std::max(replay_start_, s.first_use - Scaled(14 * kDay));
      s.custody_time = hi <= lo ? std::max(replay_start_, hi) : r.Range(lo, hi);
    } else {
      s.custody_time = r.Range(replay_start_, end_ - kHour);
    }
    s.custody_time -= s.custody_time % kSecond;
    s.custody_time = std::max(s.custody_time, replay_start_);
    if (s.plan >= 0) {
      s.custody_agency = plans_[static_cast<size_t>(s.plan)].agency[0];
    } else {
      const v1::Sector sector =
          static_cast<v1::Sector>(r.Pick({0, 30, 60, 10}));
      s.custody_agency = PoolAgency(r, sector);
    }
    s.custody_actor = StaffOf(r, s.custody_agency);
  }

  size_t n = 0;
  for (const Subject& s : subjects_) n += s.guardians;
  for (const PlanInfo& p : plans_) {
    n += 1 + p.entries + (p.approve_time[0] != 0) + (p.approve_time[1] != 0);
  }
  for (const GrantInfo& g : grants_) n += 1 + (g.end_time != 0);
  actions_.reserve(n);
  for (uint32_t si = 0; si < subjects_.size(); ++si) {
    const Subject& s = subjects_[si];
    for (uint8_t k = 0; k < s.guardians; ++k) {
      actions_.push_back(
          Action{s.custody_time + k * 20 * kSecond, si, kActCustody, k});
    }
  }
  for (uint32_t pi = 0; pi < plans_.size(); ++pi) {
    const PlanInfo& p = plans_[pi];
    actions_.push_back(Action{p.create_time, pi, kActPlanCreate, 0});
    for (uint8_t k = 0; k < p.entries; ++k) {
      actions_.push_back(
          Action{entries_[p.first_entry + k].time, pi, kActEntry, k});
    }
    for (uint8_t k = 0; k < 2; ++k) {
      if (p.approve_time[k] != 0) {
        actions_.push_back(Action{p.approve_time[k], pi, kActApprove, k});
      }
    }
  }
  for (uint32_t gi = 0; gi < grants_.size(); ++gi) {
    const GrantInfo& g = grants_[gi];
    actions_.push_back(Action{g.create_time, gi, kActGrant, 0});
    if (g.end_time != 0) {
      actions_.push_back(Action{g.end_time, gi, kActGrantEnd, 0});
    }
  }
  std::sort(actions_.begin(), actions_.end());
}

absl::Status Datagen::Prepare(storage::Store& store) {
  MakeAgencies();
  if (config_.append) {
    RETURN_IF_ERROR(
        store.Read([&](storage::Transaction& tx) { return MakePeople(&tx); }));
  } else {
    RETURN_IF_ERROR(MakePeople(nullptr));
  }
  MakePlans();
  MakeGrants();
  MakeActions();
  progress_.Report("prepare", static_cast<int64_t>(actions_.size()),
                   static_cast<int64_t>(actions_.size()), "writes planned",
                   absl::StrCat(subjects_.size(), " subjects, ", plans_.size(),
                                " plans, ", grants_.size(), " grants"),
                   true);
  return absl::OkStatus();
}

// ------------------------------------------------------------------- calls

std::string DatagenIds::NewId() {
  if (!next_.empty()) {
    std::string id = std::move(next_.front());
    next_.pop_front();
    return id;
  }
  return std::string(View(samplan::datagen::NewId(rng)));
}

app::Caller Datagen::CallerOf(uint16_t agency, uint16_t staff) const {
  const AgencyInfo& a = agencies_[agency];
  app::Caller c;
  c.agency_id = a.id;
  c.sector = static_cast<consent::Sector>(a.sector);
  c.role = a.role == v1::AGENCY_ROLE_AUDITOR         ? app::Role::kAuditor
           : a.role == v1::AGENCY_ROLE_ADMINISTRATOR ? app::Role::kAdministrator
                                                     : app::Role::kAgencySystem;
  c.actor = a.staff[staff].actor;
  c.certificate = a.certificate;
  return c;
}

template <typename Request, typename Response>
absl::Status Datagen::Call(storage::Transaction& tx, Micros t,
                           const app::MethodSpec<Request, Response>& spec,
                           uint16_t agency, uint16_t staff,
                           const Request& request, Response* response,
                           int64_t subject, absl::Status* answer) {
  clock_.Set(AbslTime(t));
  const absl::Status s = app::RunInTransaction(
      ctx_, spec, tx, CallerOf(agency, staff), request, response);
  ASSIGN_OR_RETURN(const int64_t records, Counted(tx, subject));
  if (records != 1) {
    return absl::InternalError(absl::StrCat(
        spec.name, " at ", absl::FormatTime(AbslTime(t)), " by ",
        agencies_[agency].id, " appended ", records,
        " audit records instead of one; it answered: ", s.ToString()));
  }
  if (answer != nullptr) *answer = s;
  return absl::OkStatus();
}

template <typename Request, typename Response>
absl::Status Datagen::Write(storage::Transaction& tx, Micros t,
                            const app::MethodSpec<Request, Response>& spec,
                            uint16_t agency, uint16_t staff, Request& request,
                            Response* response, int64_t subject) {
  NewRequestId(writes_, request.mutable_request_id());
  absl::Status answer;
  RETURN_IF_ERROR(
      Call(tx, t, spec, agency, staff, request, response, subject, &answer));
  if (!answer.ok()) {
    return absl::InternalError(absl::StrCat(
        spec.name, " at ", absl::FormatTime(AbslTime(t)), " by ",
        agencies_[agency].id, " was refused: ", answer.ToString()));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> Datagen::Counted(storage::Transaction& tx,
                                         int64_t subject) {
  ASSIGN_OR_RETURN(const int64_t size, tx.audit().Size());
  const int64_t records = size - log_size_;
  for (int64_t i = log_size_; i < size; ++i) {
    ASSIGN_OR_RETURN(const v1::AuditEvent e, tx.audit().Get(i));
    ++counts_.by_action[static_cast<size_t>(e.action()) & 31];
    if (subject == kSubjectOfEachRecord && !e.subject().empty()) {
      if (subject_index_.empty()) {
        subject_index_.reserve(subjects_.size());
        for (uint32_t k = 0; k < subjects_.size(); ++k) {
          subject_index_.emplace(View(subjects_[k].number), k);
        }
      }
      auto it = subject_index_.find(e.subject());
      if (it != subject_index_.end()) ++subjects_[it->second].events;
    }
  }
  log_size_ = size;
  counts_.events += records;
  batch_events_ += records;
  if (subject >= 0) subjects_[static_cast<size_t>(subject)].events += records;
  return records;
}

std::string Datagen::GuardianName(uint32_t g) const {
  uint64_t x = Mix(root_, 0x6a09e667ULL + g);
  const Name& first = kFirstNames[x % std::size(kFirstNames)];
  x /= std::size(kFirstNames);
  const Name& last = kLastNames[x % std::size(kLastNames)];
  return absl::StrCat(first.display, " ", last.display);
}

// The plan as CreatePlan's request gives it: the subject, the coordinator
// and the review dates.
void Datagen::BuildPlan(uint32_t pi, v1::Plan* plan) const {
  const PlanInfo& p = plans_[pi];
  const Subject& s = subjects_[p.subject];
  const AgencyInfo& lead = agencies_[p.agency[0]];
  plan->Clear();
  plan->set_subject(View(s.number).data(), 12);
  v1::Coordinator* c = plan->mutable_coordinator();
  const Staff& staff = lead.staff[p.lead_actor];
  c->set_display_name(StaffName(p.agency[0], p.lead_actor));
  const uint64_t h = Mix(root_, 0xbb67ae85ULL + pi);
  std::string phone = "010-";
  AppendPadded(static_cast<int64_t>(h % 1000), 3, &phone);
  phone.push_back(' ');
  AppendPadded(static_cast<int64_t>(h / 1000 % 100), 2, &phone);
  phone.push_back(' ');
  AppendPadded(static_cast<int64_t>(h / 100000 % 100), 2, &phone);
  c->set_phone(phone);
  c->set_email(absl::StrCat(kFirstNames[staff.first].ascii, ".",
                            kLastNames[staff.last].ascii, "@", lead.id,
                            ".example.se"));
  c->set_agency(lead.name);
  const absl::CivilDay created =
      absl::ToCivilDay(AbslTime(p.create_time), policy_.zone);
  v1::ReviewDate* follow = plan->add_review_dates();
  follow->set_kind(v1::REVIEW_KIND_FOLLOW_UP);
  const absl::CivilDay f = created + 56 + static_cast<int>(h % 35);
  app::SetDate(f, follow->mutable_date());
  follow->set_description("Uppföljning av mål och insatser med familjen");
  if (h % 3 != 0) {
    v1::ReviewDate* eval = plan->add_review_dates();
    eval->set_kind(v1::REVIEW_KIND_EVALUATION);
    const absl::CivilDay e = created + 180 + static_cast<int>(h % 20);
    app::SetDate(e, eval->mutable_date());
    eval->set_description("Utvärdering av planen");
  }
}

void Datagen::BuildText(Rng& r, int category, std::string* out) const {
  const auto& bank = banks_[static_cast<size_t>(category)].sentences;
  const int target = static_cast<int>(r.Range(100, 400));
  out->clear();
  int chars = 0;
  size_t previous = bank.size();
  while (chars < target) {
    size_t i = r.Below(bank.size());
    if (i == previous) i = (i + 1) % bank.size();
    const int extra = bank[i].second + (chars > 0 ? 1 : 0);
    if (chars + extra > 400) break;
    if (chars > 0) out->push_back(' ');
    out->append(bank[i].first.data(), bank[i].first.size());
    chars += extra;
    previous = i;
  }
}

absl::Status Datagen::Emit(storage::Transaction& tx, const Action& a) {
  switch (a.kind) {
    case kActCustody:
      return EmitCustody(tx, a);
    case kActPlanCreate:
      return EmitPlanCreate(tx, a.index, a.time);
    case kActEntry:
      return EmitEntry(tx, a.index, a.sub, a.time);
    case kActApprove:
      return EmitApproval(tx, a.index, a.time);
    case kActGrant:
      return EmitGrant(tx, a.index, a.time);
    case kActGrantEnd:
      return EmitGrantEnd(tx, a.index, a.time);
    default:
      return absl::InternalError("unknown action");
  }
}

// CreateCustodyFact: one fact per request.
absl::Status Datagen::EmitCustody(storage::Transaction& tx, const Action& a) {
  Subject& s = subjects_[a.index];
  const uint32_t g = s.guardian + a.sub;
  v1::CreateCustodyFactRequest req;
  v1::CustodyFact& f = *req.mutable_custody_fact();
  f.set_subject(s.number.data(), 12);
  f.set_guardian_identity_number(guardians_[g].data(), 12);
  SetTs(BirthStart(s), f.mutable_valid_from());
  v1::Evidence* e = f.mutable_evidence();
  const absl::CivilDay day = absl::ToCivilDay(AbslTime(a.time), policy_.zone);
  if (writes_.Chance(0.95)) {
    e->set_kind(v1::EVIDENCE_KIND_REGISTER_EXTRACT);
    e->set_reference(absl::StrCat("Navetutdrag ", absl::FormatCivilTime(day),
                                  " nr ", writes_.Range(1, 99999)));
  } else {
    e->set_kind(v1::EVIDENCE_KIND_COURT_DECISION);
    e->set_reference(absl::StrCat("Tingsrättens dom, mål T ",
                                  writes_.Range(100, 9999), "-",
                                  day.year() % 100));
  }
  v1::CreateCustodyFactResponse resp;
  RETURN_IF_ERROR(Write(tx, a.time, app::ConsentMethods::kCreateCustodyFact,
                        s.custody_agency, s.custody_actor, req, &resp,
                        a.index));
  ++counts_.custody_facts;
  if (s.custody_recorded == 0) recorded_subjects_.push_back(a.index);
  ++s.custody_recorded;
  return absl::OkStatus();
}

// CreatePlan by the lead agency, inviting the two other agencies and the
// guardians (the server adds the lead agency and the subject).
absl::Status Datagen::EmitPlanCreate(storage::Transaction& tx, uint32_t pi,
                                     Micros t) {
  PlanInfo& p = plans_[pi];
  const Subject& s = subjects_[p.subject];
  v1::CreatePlanRequest req;
  BuildPlan(pi, req.mutable_plan());
  static const char* const kRoleNotes[] = {"", "mentor och elevhälsa",
                                           "handläggare barn och unga",
                                           "behandlare och psykolog"};
  for (int i = 1; i < 3; ++i) {
    const AgencyInfo& a = agencies_[p.agency[static_cast<size_t>(i)]];
    v1::Participant* q = req.add_participants();
    q->set_kind(v1::PARTICIPANT_KIND_AGENCY);
    q->set_agency(a.name);
    q->set_role_note(kRoleNotes[a.sector]);
  }
  for (int g = 0; g < s.guardians; ++g) {
    const uint32_t guardian = s.guardian + static_cast<uint32_t>(g);
    v1::Participant* q = req.add_participants();
    q->set_kind(v1::PARTICIPANT_KIND_GUARDIAN);
    q->set_identity_number(guardians_[guardian].data(), 12);
    q->set_display_name(GuardianName(guardian));
    q->set_role_note("vårdnadshavare");
  }
  ids_.Next(std::string(View(p.id)));
  v1::CreatePlanResponse resp;
  RETURN_IF_ERROR(Write(tx, t, app::PlanMethods::kCreatePlan, p.agency[0],
                        p.lead_actor, req, &resp, p.subject));
  p.revision = static_cast<uint8_t>(resp.plan().revision());
  ++plans_created_;
  ++agencies_[p.agency[0]].visible;
  ++counts_.plans;
  ++counts_.revisions;
  counts_.participants += resp.participants_size();
  return absl::OkStatus();
}

// CreateEntry: a new revision and the entry written in it.
absl::Status Datagen::EmitEntry(storage::Transaction& tx, uint32_t pi, int k,
                                Micros t) {
  PlanInfo& p = plans_[pi];
  const EntryInfo& e = entries_[p.first_entry + static_cast<uint32_t>(k)];
  v1::CreateEntryRequest req;
  req.set_parent(absl::StrCat("plans/", View(p.id)));
  v1::Entry& m = *req.mutable_entry();
  m.set_category(static_cast<v1::InformationCategory>(e.category));
  m.set_kind(static_cast<v1::EntryKind>(e.kind));
  Rng text(
      Mix(Mix(root_, kStreamText), p.first_entry + static_cast<uint32_t>(k)));
  BuildText(text, e.category, m.mutable_text());
  if (e.kind == v1::ENTRY_KIND_INTERVENTION) {
    v1::Intervention* iv = m.mutable_intervention();
    iv->set_responsible_agency(agencies_[e.responsible].name);
    iv->set_order(e.order);
    const absl::CivilDay start =
        absl::ToCivilDay(AbslTime(t), policy_.zone) + text.Range(0, 14);
    const absl::CivilDay stop = start + text.Range(30, 180);
    app::SetDate(start, iv->mutable_start_date());
    app::SetDate(stop, iv->mutable_end_date());
  }
  ids_.Next(std::string(View(e.id)));
  v1::CreateEntryResponse resp;
  RETURN_IF_ERROR(Write(tx, t, app::PlanMethods::kCreateEntry, e.owner, e.actor,
                        req, &resp, p.subject));
  p.revision = static_cast<uint8_t>(resp.entry().revision());
  ++counts_.entries;
  ++counts_.revisions;
  return absl::OkStatus();
}

// ApprovePlan, recorded by the lead agency: the guardians with custody
// approve for a child under 15, the subject from 15.
absl::Status Datagen::EmitApproval(storage::Transaction& tx, uint32_t pi,
                                   Micros t) {
  PlanInfo& p = plans_[pi];
  const Subject& s = subjects_[p.subject];
  const uint16_t actor =
      writes_.Chance(0.8) ? p.lead_actor : StaffOf(writes_, p.agency[0]);
  const bool guardians = AgeAt(s, t) < policy_.consent_age;
  const int approvers = guardians ? s.custody_recorded : 1;
  const absl::CivilDay day = absl::ToCivilDay(AbslTime(t), policy_.zone);
  v1::ApprovePlanRequest req;
  req.set_name(absl::StrCat("plans/", View(p.id)));
  req.set_revision(p.revision);
  for (int i = 0; i < approvers; ++i) {
    v1::Approval* a = req.add_approvals();
    if (guardians) {
      a->set_approver_role(v1::APPROVER_ROLE_GUARDIAN);
      a->set_approver_identity_number(
          guardians_[s.guardian + static_cast<uint32_t>(i)].data(), 12);
    } else {
      a->set_approver_role(v1::APPROVER_ROLE_SUBJECT);
      a->set_approver_identity_number(s.number.data(), 12);
    }
    v1::Evidence* e = a->mutable_evidence();
    switch (writes_.Pick({50, 30, 20})) {
      case 0:
        e->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
        e->set_reference(absl::StrCat("Underskriven SIP, dnr ", day.year(), "/",
                                      writes_.Range(100, 9999)));
        break;
      case 1:
        e->set_kind(v1::EVIDENCE_KIND_E_SIGNATURE);
        e->set_reference(
            absl::StrCat("E-underskrift ", View(NewId(writes_)).substr(0, 12)));
        break;
      default:
        e->set_kind(v1::EVIDENCE_KIND_RECORDED_AT_MEETING);
        e->set_reference(
            absl::StrCat("Protokoll SIP-möte ", absl::FormatCivilTime(day)));
        break;
    }
  }
  v1::ApprovePlanResponse resp;
  RETURN_IF_ERROR(Write(tx, t, app::PlanMethods::kApprovePlan, p.agency[0],
                        actor, req, &resp, p.subject));
  counts_.approvals += resp.approvals_size();
  if (p.effective == 0) {
    // A draft becomes active: now the invited agencies see it too.
    ++agencies_[p.agency[1]].visible;
    ++agencies_[p.agency[2]].visible;
  }
  p.effective = static_cast<uint8_t>(resp.plan().effective_revision());
  return absl::OkStatus();
}

// CreateGrant.
absl::Status Datagen::EmitGrant(storage::Transaction& tx, uint32_t gi,
                                Micros t) {
  GrantInfo& g = grants_[gi];
  const Subject& s = subjects_[g.subject];
  v1::CreateGrantRequest req;
  v1::Grant& m = *req.mutable_grant();
  m.set_subject(s.number.data(), 12);
  if (g.grantor < 0) {
    m.set_grantor_role(v1::GRANTOR_ROLE_SUBJECT);
    m.set_grantor_identity_number(s.number.data(), 12);
  } else {
    m.set_grantor_role(v1::GRANTOR_ROLE_GUARDIAN);
    m.set_grantor_identity_number(
        guardians_[static_cast<size_t>(g.grantor)].data(), 12);
  }
  v1::GrantScope* scope = m.mutable_scope();
  for (int i = 0; i < g.disclosing_count; ++i) {
    scope->add_disclosing_agencies(
        agencies_[g.disclosing[static_cast<size_t>(i)]].name);
  }
  for (int sector = 1; sector <= 3; ++sector) {
    if ((g.disclosing_sectors >> sector) & 1) {
      scope->add_disclosing_sectors(static_cast<v1::Sector>(sector));
    }
  }
  for (int i = 0; i < g.receiving_count; ++i) {
    scope->add_receiving_agencies(
        agencies_[g.receiving[static_cast<size_t>(i)]].name);
  }
  for (int sector = 1; sector <= 3; ++sector) {
    if ((g.receiving_sectors >> sector) & 1) {
      scope->add_receiving_sectors(static_cast<v1::Sector>(sector));
    }
  }
  for (int c = 1; c <= 7; ++c) {
    if ((g.categories >> c) & 1) {
      scope->add_categories(static_cast<v1::InformationCategory>(c));
    }
  }
  if (g.plan >= 0) {
    scope->set_plan(
        absl::StrCat("plans/", View(plans_[static_cast<size_t>(g.plan)].id)));
  }
  SetTs(g.valid_from, m.mutable_valid_from());
  SetTs(g.valid_until, m.mutable_valid_until());
  v1::Evidence* e = m.mutable_evidence();
  e->set_kind(static_cast<v1::EvidenceKind>(g.evidence));
  const absl::CivilDay day = absl::ToCivilDay(AbslTime(t), policy_.zone);
  switch (g.evidence) {
    case v1::EVIDENCE_KIND_SIGNED_FORM:
      e->set_reference(absl::StrCat("Samtyckesblankett, dnr ", day.year(), "/",
                                    writes_.Range(100, 99999)));
      break;
    case v1::EVIDENCE_KIND_E_SIGNATURE:
      e->set_reference(
          absl::StrCat("E-underskrift ", View(NewId(writes_)).substr(0, 12)));
      break;
    default:
      e->set_reference(
          absl::StrCat("Protokoll SIP-möte ", absl::FormatCivilTime(day)));
      break;
  }
  ids_.Next(std::string(View(g.id)));
  v1::CreateGrantResponse resp;
  RETURN_IF_ERROR(Write(tx, t, app::ConsentMethods::kCreateGrant, g.recorder,
                        g.actor, req, &resp, g.subject));
  recorded_grants_.push_back(gi);
  ++counts_.grants;
  return absl::OkStatus();
}

// WithdrawGrant, RevokeGrant and VoidGrant, and the server's expiry
// sweeper.
absl::Status Datagen::EmitGrantEnd(storage::Transaction& tx, uint32_t gi,
                                   Micros t) {
  const GrantInfo& g = grants_[gi];
  const Subject& s = subjects_[g.subject];
  const std::string name = absl::StrCat("grants/", View(g.id));
  switch (g.end_state) {
    case v1::GRANT_STATE_WITHDRAWN: {
      static const char* const kReasons[] = {
          "Familjen vill inte längre att uppgifterna delas",
          "Samtycket ersätts av ett nytt med annan omfattning",
          "Vårdnadshavaren återkallar samtycket muntligt vid möte"};
      v1::WithdrawGrantRequest req;
      req.set_name(name);
      const int reason = writes_.Pick({40, 25, 20, 15});
      if (reason > 0) req.set_reason(kReasons[reason - 1]);
      const uint16_t actor = StaffOf(writes_, g.recorder);
      if (g.grantor < 0) {
        req.set_withdrawer_role(v1::GRANTOR_ROLE_SUBJECT);
        req.set_withdrawer_identity_number(s.number.data(), 12);
      } else {
        req.set_withdrawer_role(v1::GRANTOR_ROLE_GUARDIAN);
        req.set_withdrawer_identity_number(
            guardians_[static_cast<size_t>(g.grantor)].data(), 12);
      }
      v1::Evidence* e = req.mutable_evidence();
      if (writes_.Chance(0.6)) {
        e->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
        e->set_reference(
            absl::StrCat("Återkallelse, dnr ", writes_.Range(100, 99999)));
      } else {
        e->set_kind(v1::EVIDENCE_KIND_RECORDED_AT_MEETING);
        e->set_reference("Anteckning i journal vid samtal");
      }
      v1::WithdrawGrantResponse resp;
      RETURN_IF_ERROR(Write(tx, t, app::ConsentMethods::kWithdrawGrant,
                            g.recorder, actor, req, &resp, g.subject));
      break;
    }
    case v1::GRANT_STATE_REVOKED: {
      v1::RevokeGrantRequest req;
      req.set_name(name);
      req.set_reason(
          "Återkallat på den enskildes begäran till administratören");
      const uint16_t actor = StaffOf(writes_, kAdmin);
      if (writes_.Chance(0.5)) {
        req.mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
        req.mutable_evidence()->set_reference(
            absl::StrCat("Begäran, dnr ", writes_.Range(100, 99999)));
      }
      v1::RevokeGrantResponse resp;
      RETURN_IF_ERROR(Write(tx, t, app::AdminMethods::kRevokeGrant, kAdmin,
                            actor, req, &resp, g.subject));
      break;
    }
    case v1::GRANT_STATE_VOID: {
      v1::VoidGrantRequest req;
      req.set_name(name);
      req.set_reason("Registrerat på fel barn; ett nytt samtycke registreras");
      const uint16_t actor = StaffOf(writes_, kAdmin);
      v1::VoidGrantResponse resp;
      RETURN_IF_ERROR(Write(tx, t, app::AdminMethods::kVoidGrant, kAdmin, actor,
                            req, &resp, g.subject));
      break;
    }
    default: {
      // The sweeper's tick: it ends every grant lapsed by now (others of
      // the same tick too; their own actions then find nothing left).
      ASSIGN_OR_RETURN(
          const int64_t expired,
          app::ExpireLapsedGrants(tx, nullptr, AbslTime(t), app::kExpireBatch));
      ASSIGN_OR_RETURN(const int64_t records,
                       Counted(tx, kSubjectOfEachRecord));
      if (records != expired) {
        return absl::InternalError(absl::StrCat("expiring grants appended ",
                                                records, " audit records for ",
                                                expired, " grants"));
      }
      counts_.endings[v1::GRANT_STATE_EXPIRED] += expired;
      return absl::OkStatus();
    }
  }
  ++counts_.endings[g.end_state];
  return absl::OkStatus();
}

// ------------------------------------------------------------------ reads

// Reads grow with the number of plans: the k-th read event of R falls at
// start + window * sqrt(k / R).
Micros Datagen::ReadTime() const {
  if (read_budget_ <= 0) return std::numeric_limits<Micros>::max();
  const double x = std::sqrt(static_cast<double>(read_events_) /
                             static_cast<double>(read_budget_));
  return replay_start_ +
         static_cast<Micros>(x * static_cast<double>(end_ - replay_start_));
}

// A plan created already, popular ones far more often.
int32_t Datagen::PickPlan(Rng& r) const {
  if (plans_created_ == 0) return -1;
  for (int attempt = 0; attempt < 4; ++attempt) {
    const double u = r.Unit();
    const size_t rank =
        static_cast<size_t>(u * u * u * static_cast<double>(hot_.size()));
    const uint32_t p = hot_[std::min(rank, hot_.size() - 1)];
    if (p < plans_created_) return static_cast<int32_t>(p);
  }
  return static_cast<int32_t>(r.Below(plans_created_));
}

// A subject with custody on file: often one with a popular plan.
int64_t Datagen::PickSubject(Rng& r) const {
  if (r.Chance(0.6)) {
    const int32_t p = PickPlan(r);
    if (p >= 0) return plans_[static_cast<size_t>(p)].subject;
  }
  if (recorded_subjects_.empty()) return -1;
  return recorded_subjects_[r.Below(recorded_subjects_.size())];
}

enum ReadKind {
  kReadPlan = 0,
  kSearchPlans,
  kListPlans,
  kSearchGrants,
  kGetGrant,
  kSearchCustody,
  kCheckAccess,
  kAccessExtract,
  kSearchAudit,
  kListExpiring,
};
constexpr int kReadWeights[] = {620, 80, 30, 80, 40, 40, 60, 20, 10, 1};

// GetPlan: mostly by the plan's agencies; sometimes by one that does not
// take part (other-1 among them), or an invited agency of a draft, which
// the server refuses (the refusal has its record too). Returns false if
// no plan has been created yet.
absl::StatusOr<bool> Datagen::ReadPlan(storage::Transaction& tx, Micros t) {
  Rng& r = reads_;
  const int32_t pi = PickPlan(r);
  if (pi < 0) return false;
  const PlanInfo& p = plans_[static_cast<size_t>(pi)];
  uint16_t reader;
  if (r.Chance(0.03)) {
    if (r.Chance(0.3)) {
      reader = kOther;
    } else {
      const v1::Sector sector = static_cast<v1::Sector>(r.Range(1, 3));
      reader = PoolAgency(r, sector);
      if (reader == p.agency[0] || reader == p.agency[1] ||
          reader == p.agency[2]) {
        reader = kOther;
      }
    }
  } else if (p.effective == 0) {
    reader = r.Chance(0.9) ? p.agency[0] : p.agency[1 + r.Below(2)];
  } else {
    reader = p.agency[static_cast<size_t>(r.Pick({40, 30, 30}))];
  }
  const uint16_t actor = reader == p.agency[0] && r.Chance(0.6)
                             ? p.lead_actor
                             : StaffOf(r, reader);
  v1::GetPlanRequest req;
  req.set_name(absl::StrCat("plans/", View(p.id)));
  req.set_view(r.Chance(0.15) ? v1::PLAN_VIEW_LATEST : v1::PLAN_VIEW_EFFECTIVE);
  v1::GetPlanResponse resp;
  RETURN_IF_ERROR(Call(tx, t, app::PlanMethods::kGetPlan, reader, actor, req,
                       &resp, p.subject));
  return true;
}

// One read of kind `kind` other than GetPlan; falls back to ListPlans
// (always possible) when the kind has nothing to read yet. Every read is
// decided by the server's own method, and may be refused by it.
absl::Status Datagen::ReadOne(storage::Transaction& tx, Micros t, int kind) {
  Rng& r = reads_;
  // The agency that asks about a subject: one of its plan's agencies, or
  // the one that recorded its custody.
  auto asker = [&](uint32_t subject) -> uint16_t {
    const Subject& s = subjects_[subject];
    if (s.plan >= 0) {
      const PlanInfo& p = plans_[static_cast<size_t>(s.plan)];
      if (p.revision > 0) {
        return p.effective > 0 ? p.agency[r.Below(3)] : p.agency[0];
      }
    }
    return s.custody_agency;
  };
  // A search about `subject` by `agency`, of the kind `spec` runs.
  auto search = [&](const auto& spec, auto request, auto response,
                    int64_t subject, uint16_t agency) {
    request.set_subject(
        std::string(View(subjects_[static_cast<size_t>(subject)].number)));
    return Call(tx, t, spec, agency, StaffOf(r, agency), request, &response,
                subject);
  };
  switch (kind) {
    case kSearchPlans: {
      const int64_t subject = PickSubject(r);
      if (subject < 0) break;
      const uint16_t agency =
          r.Chance(0.8) ? asker(static_cast<uint32_t>(subject))
                        : PoolAgency(r, static_cast<v1::Sector>(r.Range(1, 3)));
      return search(app::PlanMethods::kSearchPlans, v1::SearchPlansRequest(),
                    v1::SearchPlansResponse(), subject, agency);
    }
    case kSearchGrants: {
      const int64_t subject = PickSubject(r);
      if (subject < 0) break;
      return search(app::ConsentMethods::kSearchGrants,
                    v1::SearchGrantsRequest(), v1::SearchGrantsResponse(),
                    subject, asker(static_cast<uint32_t>(subject)));
    }
    case kSearchCustody: {
      const int64_t subject = PickSubject(r);
      if (subject < 0) break;
      return search(app::ConsentMethods::kSearchCustodyFacts,
                    v1::SearchCustodyFactsRequest(),
                    v1::SearchCustodyFactsResponse(), subject,
                    asker(static_cast<uint32_t>(subject)));
    }
    case kGetGrant: {
      if (recorded_grants_.empty()) break;
      const GrantInfo& g =
          grants_[recorded_grants_[r.Below(recorded_grants_.size())]];
      v1::GetGrantRequest req;
      req.set_name(absl::StrCat("grants/", View(g.id)));
      v1::GetGrantResponse resp;
      return Call(tx, t, app::ConsentMethods::kGetGrant, g.recorder,
                  StaffOf(r, g.recorder), req, &resp, g.subject);
    }
    case kCheckAccess: {  // about a plan, by its owner or receiver
      const int32_t pi = PickPlan(r);
      if (pi < 0) break;
      const PlanInfo& p = plans_[static_cast<size_t>(pi)];
      const uint16_t owner = p.agency[r.Below(3)];
      const uint16_t reader = r.Chance(0.1) ? kOther : p.agency[r.Below(3)];
      const uint16_t caller = r.Chance(0.5) ? owner : reader;
      v1::CheckAccessRequest req;
      req.set_plan(absl::StrCat("plans/", View(p.id)));
      req.set_owner_agency(agencies_[owner].name);
      req.set_receiving_agency(agencies_[reader].name);
      req.set_category(static_cast<v1::InformationCategory>(r.Range(1, 7)));
      v1::CheckAccessResponse resp;
      return Call(tx, t, app::ConsentMethods::kCheckAccess, caller,
                  StaffOf(r, caller), req, &resp, p.subject);
    }
    case kAccessExtract: {  // by auditor-1
      const int64_t subject = PickSubject(r);
      if (subject < 0) break;
      v1::GetAccessExtractRequest req;
      if (r.Chance(0.3)) {
        const absl::CivilDay since =
            absl::ToCivilDay(AbslTime(t), absl::UTCTimeZone()) - 90;
        SetTs(absl::ToUnixMicros(absl::FromCivil(since, absl::UTCTimeZone())),
              req.mutable_start_time());
      }
      return search(app::AuditMethods::kGetAccessExtract, std::move(req),
                    v1::GetAccessExtractResponse(), subject, kAuditor);
    }
    case kSearchAudit: {  // by auditor-1, one agency's events
      const uint16_t agency =
          PoolAgency(r, static_cast<v1::Sector>(r.Range(1, 3)));
      v1::SearchAuditEventsRequest req;
      req.mutable_filter()->set_agency(agencies_[agency].name);
      v1::SearchAuditEventsResponse resp;
      return Call(tx, t, app::AuditMethods::kSearchAuditEvents, kAuditor,
                  StaffOf(r, kAuditor), req, &resp, -1);
    }
    case kListExpiring: {  // by admin-1, 30 days ahead
      v1::ListExpiringGrantsRequest req;
      req.set_within_days(30);
      v1::ListExpiringGrantsResponse resp;
      return Call(tx, t, app::AdminMethods::kListExpiringGrants, kAdmin,
                  StaffOf(r, kAdmin), req, &resp, -1);
    }
    default:
      break;
  }
  // ListPlans: the first page (100) of the agency's plans.
  const uint16_t agency = PoolAgency(r, static_cast<v1::Sector>(r.Range(1, 3)));
  v1::ListPlansRequest req;
  req.set_page_size(100);
  v1::ListPlansResponse resp;
  return Call(tx, t, app::PlanMethods::kListPlans, agency, StaffOf(r, agency),
              req, &resp, -1);
}

absl::Status Datagen::EmitRead(storage::Transaction& tx, Micros t) {
  ++counts_.read_requests;
  const int kind = reads_.Pick(kReadWeights);
  if (kind == kReadPlan) {
    ASSIGN_OR_RETURN(const bool done, ReadPlan(tx, t));
    if (done) {
      ++read_events_;
      return absl::OkStatus();
    }
  }
  RETURN_IF_ERROR(ReadOne(tx, t, kind == kReadPlan ? kListPlans : kind));
  ++read_events_;
  return absl::OkStatus();
}

// ----------------------------------------------------------------- writing

absl::Status Datagen::RegisterAgencies(storage::Store& store) {
  Rng r(Mix(root_, kStreamAgencies + 100));
  return store.Write([&](storage::Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(log_size_, tx.audit().Size());
    // Registered in the window's first hour, before anything else.
    const Micros spacing = std::min<Micros>(
        2 * kSecond, kHour / static_cast<Micros>(agencies_.size() + 2));
    Micros t = start_;
    for (size_t i = 0; i < agencies_.size(); ++i) {
      AgencyInfo& a = agencies_[i];
      absl::StatusOr<v1::Agency> existing = tx.agencies().Get(a.id);
      if (existing.ok()) {
        // --append: registered by an earlier run (or by hand). Registering
        // again changes nothing; the data must agree with it, though.
        if (existing->sector() != a.sector || existing->role() != a.role ||
            existing->state() != v1::AGENCY_STATE_ACTIVE) {
          return absl::FailedPreconditionError(absl::StrCat(
              "agency ", a.id, " is registered already, but as ",
              v1::Sector_Name(existing->sector()), " ",
              v1::AgencyRole_Name(existing->role()), " ",
              v1::AgencyState_Name(existing->state()),
              "; samplan-datagen "
              "needs an active ",
              v1::Sector_Name(a.sector), " ", v1::AgencyRole_Name(a.role),
              ": use a fresh database"));
        }
        a.display_name = existing->display_name();
        continue;
      }
      if (!absl::IsNotFound(existing.status())) return existing.status();
      t += spacing;
      v1::Agency in;
      in.set_display_name(a.display_name);
      in.set_sector(a.sector);
      in.set_role(a.role);
      if (a.load) {
        // As `samplan-server register-agency` does: the operator with the
        // database in hand, as the agency itself.
        ASSIGN_OR_RETURN(const v1::Agency agency,
                         app::NewAgency(a.id, in, AbslTime(t)));
        app::Caller operator_caller;
        operator_caller.agency_id = a.id;
        operator_caller.actor = "local-operator";
        operator_caller.role = app::Role::kAdministrator;
        RETURN_IF_ERROR(
            app::RegisterAgency(tx, operator_caller, agency, AbslTime(t)));
        ASSIGN_OR_RETURN(const int64_t records, Counted(tx, -1));
        if (records != 1) {
          return absl::InternalError("registering an agency left no record");
        }
      } else {
        // The rest of the pool: CreateAgency by admin-1.
        v1::CreateAgencyRequest req;
        req.set_agency_id(a.id);
        *req.mutable_agency() = in;
        NewRequestId(r, req.mutable_request_id());
        v1::CreateAgencyResponse resp;
        absl::Status answer;
        RETURN_IF_ERROR(
            Call(tx, t, app::AdminMethods::kCreateAgency, kAdmin,
                 static_cast<uint16_t>(r.Below(agencies_[kAdmin].staff.size())),
                 req, &resp, -1, &answer));
        RETURN_IF_ERROR(answer);
      }
      ++counts_.agencies;
    }
    return absl::OkStatus();
  });
}

absl::Status Datagen::Replay(storage::Store& store) {
  // Reads fill the log up to the number of events asked for (the agency
  // registrations count too).
  const int64_t total_writes = static_cast<int64_t>(actions_.size());
  read_budget_ =
      std::max<int64_t>(0, volume_.events - counts_.events - total_writes);
  if (read_budget_ == 0 && volume_.events > 0) {
    std::fprintf(stderr,
                 "%s: note: the writes alone make %lld audit events, at "
                 "least the %lld asked for; no reads are added\n",
                 kProg, static_cast<long long>(counts_.events + total_writes),
                 static_cast<long long>(volume_.events));
  }
  const int64_t total = total_writes + read_budget_;
  size_t next = 0;
  int64_t done = 0;
  while (next < actions_.size() || read_events_ < read_budget_) {
    batch_events_ = 0;
    absl::Status s = store.Write([&](storage::Transaction& tx) -> absl::Status {
      while (batch_events_ < config_.batch &&
             (next < actions_.size() || read_events_ < read_budget_)) {
        const Micros read_time = read_events_ < read_budget_
                                     ? ReadTime()
                                     : std::numeric_limits<Micros>::max();
        if (next < actions_.size() && actions_[next].time <= read_time) {
          RETURN_IF_ERROR(Emit(tx, actions_[next]));
          ++next;
        } else {
          RETURN_IF_ERROR(EmitRead(tx, read_time));
        }
      }
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    done += batch_events_;
    if (progress_.Due() || done == total) {
      progress_.Report(
          "replay", static_cast<int64_t>(next) + read_events_, total,
          "audit events",
          absl::StrCat("plans ", counts_.plans, "/", plans_.size(),
                       ", entries ", counts_.entries, ", grants ",
                       counts_.grants, "/", grants_.size(), ", read events ",
                       read_events_, "/", read_budget_),
          done == total);
    }
  }
  return absl::OkStatus();
}

// --------------------------------------------------------------- manifest

absl::Status Datagen::WriteManifest(const std::string& path, int64_t tree_size,
                                    absl::string_view root_hash,
                                    absl::Duration elapsed) const {
  auto time_text = [](Micros t) {
    return absl::FormatTime(absl::RFC3339_sec, AbslTime(t),
                            absl::UTCTimeZone());
  };
  std::string j = "{\n";
  absl::StrAppend(
      &j, "  \"generator\": \"samplan-datagen\",\n", "  \"format\": 1,\n",
      "  \"seed\": ", config_.seed, ",\n", "  \"scale\": ", config_.scale,
      ",\n", "  \"append\": ", config_.append ? "true" : "false", ",\n",
      "  \"now\": ", JsonString(time_text(now_)), ",\n",
      "  \"window_start\": ", JsonString(time_text(start_)), ",\n",
      "  \"window_end\": ", JsonString(time_text(end_)), ",\n",
      "  \"elapsed_seconds\": ", std::llround(absl::ToDoubleSeconds(elapsed)),
      ",\n");
  const Counts& c = counts_;
  absl::StrAppend(
      &j, "  \"counts\": {\n", "    \"agencies_registered\": ", c.agencies,
      ",\n", "    \"subjects\": ", c.subjects, ",\n",
      "    \"guardians\": ", c.guardians, ",\n",
      "    \"custody_facts\": ", c.custody_facts, ",\n",
      "    \"plans\": ", c.plans, ",\n",
      "    \"plan_revisions\": ", c.revisions, ",\n",
      "    \"participants\": ", c.participants, ",\n",
      "    \"entries\": ", c.entries, ",\n", "    \"approvals\": ", c.approvals,
      ",\n", "    \"grants\": ", c.grants, ",\n",
      "    \"grants_withdrawn\": ", c.endings[v1::GRANT_STATE_WITHDRAWN], ",\n",
      "    \"grants_revoked\": ", c.endings[v1::GRANT_STATE_REVOKED], ",\n",
      "    \"grants_expired\": ", c.endings[v1::GRANT_STATE_EXPIRED], ",\n",
      "    \"grants_void\": ", c.endings[v1::GRANT_STATE_VOID], ",\n",
      "    \"audit_events\": ", c.events, ",\n",
      "    \"audit_tree_size_before\": ", base_size_, ",\n",
      "    \"audit_tree_size\": ", tree_size, ",\n",
      "    \"audit_root_hash\": ", JsonString(root_hash), ",\n",
      "    \"read_requests\": ", c.read_requests, ",\n",
      "    \"audit_events_by_action\": {");
  bool first = true;
  for (size_t a = 1; a < c.by_action.size(); ++a) {
    if (c.by_action[a] == 0) continue;
    absl::StrAppend(
        &j, first ? "\n" : ",\n", "      ",
        JsonString(v1::AuditAction_Name(static_cast<v1::AuditAction>(a))), ": ",
        c.by_action[a]);
    first = false;
  }
  absl::StrAppend(&j, "\n    }\n  },\n");

  // The load generator's agencies.
  absl::StrAppend(&j, "  \"load_agencies\": [\n");
  for (size_t i = 0; i < std::size(kLoadAgencies); ++i) {
    const AgencyInfo& a = agencies_[i];
    absl::StrAppend(&j, "    {\"id\": ", JsonString(a.id),
                    ", \"name\": ", JsonString(a.name),
                    ", \"sector\": ", JsonString(v1::Sector_Name(a.sector)),
                    ", \"role\": ", JsonString(v1::AgencyRole_Name(a.role)),
                    ", \"certificate_identity\": ",
                    JsonString(absl::StrCat("urn:samplan:agency:", a.id)),
                    ", \"plans_visible\": ", a.visible, "}",
                    i + 1 < std::size(kLoadAgencies) ? ",\n" : "\n");
  }
  absl::StrAppend(&j, "  ],\n");

  // 100 subjects with audit events: the busiest 20, then 80 spread over
  // the rest from many events to few.
  std::vector<uint32_t> with_events;
  for (uint32_t s = 0; s < subjects_.size(); ++s) {
    if (subjects_[s].events > 0) with_events.push_back(s);
  }
  std::stable_sort(with_events.begin(), with_events.end(),
                   [&](uint32_t a, uint32_t b) {
                     return subjects_[a].events > subjects_[b].events;
                   });
  std::vector<uint32_t> picked;
  const size_t top = std::min<size_t>(20, with_events.size());
  for (size_t i = 0; i < top; ++i) picked.push_back(with_events[i]);
  const size_t rest = with_events.size() - top;
  const size_t spread = std::min<size_t>(80, rest);
  for (size_t i = 0; i < spread; ++i) {
    picked.push_back(with_events[top + i * rest / spread]);
  }
  absl::StrAppend(&j, "  \"history_subjects\": [\n");
  for (size_t i = 0; i < picked.size(); ++i) {
    const Subject& s = subjects_[picked[i]];
    absl::StrAppend(&j, "    {\"subject\": ", JsonString(View(s.number)),
                    ", \"audit_events\": ", s.events,
                    ", \"grants\": ", s.grants);
    if (s.plan >= 0) {
      const PlanInfo& p = plans_[static_cast<size_t>(s.plan)];
      absl::StrAppend(
          &j, ", \"plan\": ", JsonString(absl::StrCat("plans/", View(p.id))),
          ", \"lead_agency\": ", JsonString(agencies_[p.agency[0]].name));
    }
    absl::StrAppend(&j, "}", i + 1 < picked.size() ? ",\n" : "\n");
  }
  absl::StrAppend(&j, "  ],\n");

  // The subjects made to have exactly 1, 20 and 200 grants.
  absl::StrAppend(&j, "  \"subjects_with_grants\": [\n");
  for (size_t i = 0; i < special_.size(); ++i) {
    const Subject& s = subjects_[special_[i].subject];
    const PlanInfo& p = plans_[static_cast<size_t>(s.plan)];
    absl::StrAppend(
        &j, "    {\"subject\": ", JsonString(View(s.number)),
        ", \"grants\": ", s.grants,
        ", \"guardians\": ", static_cast<int>(s.guardians),
        ", \"audit_events\": ", s.events,
        ", \"plan\": ", JsonString(absl::StrCat("plans/", View(p.id))),
        ", \"lead_agency\": ", JsonString(agencies_[p.agency[0]].name), "}",
        i + 1 < special_.size() ? ",\n" : "\n");
  }
  absl::StrAppend(&j, "  ],\n");

  // 100 plans of the load generator's agencies (others if too few).
  std::vector<uint32_t> sample;
  const size_t n_load = load_plans_.size();
  for (size_t i = 0; i < std::min<size_t>(100, n_load); ++i) {
    sample.push_back(load_plans_[i * n_load / std::min<size_t>(100, n_load)]);
  }
  for (uint32_t p = 0; p < plans_.size() && sample.size() < 100; ++p) {
    if (!plans_[p].load) sample.push_back(p);
  }
  absl::StrAppend(&j, "  \"plans\": [\n");
  for (size_t i = 0; i < sample.size(); ++i) {
    const PlanInfo& p = plans_[sample[i]];
    const char* state = p.revision == 0    ? "NOT_CREATED"
                        : p.effective == 0 ? "PLAN_STATE_DRAFT"
                                           : "PLAN_STATE_ACTIVE";
    absl::StrAppend(
        &j, "    {\"name\": ", JsonString(absl::StrCat("plans/", View(p.id))),
        ", \"lead_agency\": ", JsonString(agencies_[p.agency[0]].name),
        ", \"participants\": [", JsonString(agencies_[p.agency[1]].name), ", ",
        JsonString(agencies_[p.agency[2]].name), "]",
        ", \"subject\": ", JsonString(View(subjects_[p.subject].number)),
        ", \"state\": ", JsonString(state),
        ", \"revision\": ", static_cast<int>(p.revision),
        ", \"effective_revision\": ", static_cast<int>(p.effective),
        ", \"entries\": ", static_cast<int>(p.entries), "}",
        i + 1 < sample.size() ? ",\n" : "\n");
  }
  absl::StrAppend(&j, "  ]\n}\n");

  // Atomically: a temporary file next to it, synced, then renamed.
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) {
    return absl::UnavailableError(absl::StrCat(
        "--manifest: cannot create ", tmp, ": ", std::strerror(errno)));
  }
  const bool written = std::fwrite(j.data(), 1, j.size(), f) == j.size() &&
                       std::fflush(f) == 0 && fsync(fileno(f)) == 0;
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed) {
    std::remove(tmp.c_str());
    return absl::UnavailableError(
        absl::StrCat("--manifest: cannot write ", tmp));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    return absl::UnavailableError(absl::StrCat("--manifest: cannot rename ",
                                               tmp, " to ", path, ": ", why));
  }
  return absl::OkStatus();
}

// -------------------------------------------------------------------- main

int Fail(absl::string_view what, const absl::Status& s) {
  std::fprintf(stderr, "%s: %s: %s\n", kProg, std::string(what).c_str(),
               std::string(s.message()).c_str());
  return 1;
}

int Main(int argc, char** argv) {
  Args args;
  std::string error;
  if (!ParseArgs(argc, argv, args, error)) return UsageError(error);
  if (args.help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  Config config;
  if (!MakeConfig(args, config, error)) return UsageError(error);
  Progress progress;

  consent::Policy policy;
  absl::StatusOr<consent::Policy> loaded = consent::DefaultPolicy();
  if (loaded.ok()) {
    policy = *loaded;
  } else {
    std::fprintf(stderr,
                 "%s: warning: %s; ages are computed on UTC dates instead\n",
                 kProg, std::string(loaded.status().message()).c_str());
  }
  const Volume volume = VolumeFor(config.scale);

  std::error_code ec;
  if (std::filesystem::exists(config.db, ec) &&
      !std::filesystem::is_regular_file(config.db, ec)) {
    return UsageError("--db " + config.db + " exists and is not a file");
  }
  absl::StatusOr<std::unique_ptr<storage::Store>> opened =
      storage::OpenSqliteStore(
          storage::SqliteOptions{.path = config.db, .cache_mib = 2048});
  if (!opened.ok()) return Fail("--db " + config.db, opened.status());
  std::unique_ptr<storage::Store> store = *std::move(opened);

  // What is there already.
  int64_t base_size = 0;
  bool has_agencies = false;
  Micros newest = 0;
  absl::Status inspected =
      store->Read([&](storage::Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(base_size, tx.audit().Size());
        ASSIGN_OR_RETURN(std::vector<v1::Agency> some,
                         tx.agencies().List("", 1));
        has_agencies = !some.empty();
        if (base_size > 0) {
          ASSIGN_OR_RETURN(v1::AuditEvent last, tx.audit().Get(base_size - 1));
          newest = ToUnixMicros(last.time());
        }
        return absl::OkStatus();
      });
  if (!inspected.ok()) return Fail("reading --db " + config.db, inspected);
  if ((base_size > 0 || has_agencies) && !config.append) {
    return UsageError(absl::StrCat(
        "--db ", config.db, " already holds data (", base_size, " audit events",
        has_agencies ? ", registered agencies" : "",
        "): generated plans, grants and events would mix with it and the "
        "counts in the manifest would not describe the file. Use a new "
        "file, or give --append to add to it"));
  }
  Micros window_start = config.now - kYear;
  if (config.append && newest + kSecond > window_start) {
    window_start = (newest / kSecond + 1) * kSecond;
    if (config.now - window_start < 2 * kDay) {
      std::fprintf(stderr,
                   "%s: --append: the newest audit event in --db is less "
                   "than two days before --now; give a later --now\n",
                   kProg);
      return 1;
    }
  }

  Datagen gen(config, policy, volume, base_size, window_start, progress);
  if (absl::Status s = gen.Prepare(*store); !s.ok()) return Fail("prepare", s);
  if (absl::Status s = gen.RegisterAgencies(*store); !s.ok()) {
    return Fail("registering agencies", s);
  }
  if (absl::Status s = gen.Replay(*store); !s.ok()) return Fail("replay", s);

  int64_t tree_size = 0;
  std::string root_hash;
  absl::Status sized =
      store->Read([&](storage::Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(tree_size, tx.audit().Size());
        ASSIGN_OR_RETURN(const audit::Hash root, tx.audit().RootAt(tree_size));
        root_hash = audit::ToHex(root);
        return absl::OkStatus();
      });
  if (!sized.ok()) return Fail("reading the log size", sized);
  store.reset();  // closes the database and folds the WAL into it

  const absl::Duration elapsed = progress.Elapsed();
  if (!config.manifest.empty()) {
    if (absl::Status s =
            gen.WriteManifest(config.manifest, tree_size, root_hash, elapsed);
        !s.ok()) {
      return Fail("manifest", s);
    }
  }
  uintmax_t bytes = std::filesystem::file_size(config.db, ec);
  if (ec) bytes = 0;
  const uintmax_t wal = std::filesystem::file_size(config.db + "-wal", ec);
  if (!ec) bytes += wal;

  const Counts& c = gen.counts();
  std::printf(
      "%s: wrote %lld agencies, %lld subjects (%lld guardians, %lld custody "
      "facts), %lld plans (%lld entries, %lld approvals), %lld grants "
      "(%lld withdrawn, %lld revoked, %lld expired, %lld void), %lld audit "
      "events (log size %lld) in %s; database %s is %llu bytes\n",
      kProg, static_cast<long long>(c.agencies),
      static_cast<long long>(c.subjects), static_cast<long long>(c.guardians),
      static_cast<long long>(c.custody_facts), static_cast<long long>(c.plans),
      static_cast<long long>(c.entries), static_cast<long long>(c.approvals),
      static_cast<long long>(c.grants),
      static_cast<long long>(c.endings[v1::GRANT_STATE_WITHDRAWN]),
      static_cast<long long>(c.endings[v1::GRANT_STATE_REVOKED]),
      static_cast<long long>(c.endings[v1::GRANT_STATE_EXPIRED]),
      static_cast<long long>(c.endings[v1::GRANT_STATE_VOID]),
      static_cast<long long>(c.events), static_cast<long long>(tree_size),
      HumanDuration(elapsed).c_str(), config.db.c_str(),
      static_cast<unsigned long long>(bytes));
  return 0;
}

}  // namespace
}  // namespace samplan::datagen

int main(int argc, char** argv) { return samplan::datagen::Main(argc, argv); }
