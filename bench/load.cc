// samplan-load: a mutual-TLS load generator for samplan-server and its
// baseline, samplan-echo (bench/README.md).
//
// It opens N independent channels (own TCP and TLS connection each) and keeps
// M calls in flight on each (closed loop), or starts calls at a fixed total
// rate (open loop, latency measured from the intended start so a slow server
// cannot hide its queueing). Calls use gRPC's callback API. After a warm-up
// it measures for a duration and prints throughput and latency percentiles,
// and JSON for scripts.
//
// Before the load it builds its own fixture through the public API (a plan
// with 12 entries from 3 agencies, custody, grants, an approval), checks that
// a read shows what the scenario claims, and notes the audit log's size. After
// the load it checks that the audit log grew by exactly one record per call,
// and that the records hold exactly the decisions the responses report (a
// plan read: one for the plan and one per entry shown or withheld, all in its
// one record; a refused read or a grant: one).
//
// With --transport rest the measured calls are GetPlan over REST/JSON instead
// (GET /v1/<plan>, HTTP/1.1 keep-alive over the same mutual TLS, with
// Boost.Beast): channels x inflight connections, one request in flight on
// each (no pipelining), driven by as many threads as gRPC's callback API
// uses for its completion queue, and each reply's JSON decoded into a
// GetPlanResponse as a client would. The fixture and the audit check still
// go over gRPC (--target).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/bench_support.h"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/address.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/asio/strand.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"
#include "client/client.h"
#include "common/proto_time.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/grpcpp.h"
#include "openssl/ssl.h"

namespace samplan::bench {
namespace {

constexpr char kUsage[] =
    R"usage(samplan-load: load for samplan-server and samplan-echo

Usage:
  samplan-load --target HOST:PORT --pki DIR --scenario NAME [options]
  samplan-load --target HOST:PORT --transport rest --rest-target HOST:PORT
               --pki DIR --scenario plan-read|plan-withheld|plan-denied
               [options]

Scenarios (each builds its own fixture first, except echo):
  plan-read      school-1 reads a plan of 12 entries from 3 agencies that 4
                 guardian grants cover: every entry shown (one audit
                 record holding 13 decisions)
  plan-withheld  the same shape, but the grants cover one category: 6 entries
                 shown, 6 withheld (one record, 13 decisions)
  plan-denied    other-1, not a participant, asks for the plan: NOT_FOUND
                 (1 decision)
  grant-write    CreateGrant: each call records a new adult's own consent
                 (1 decision, a durable write)
  mix            90% plan-read, 10% grant-write
  audit-history  auditor-1 searches the audit log for one subject's events
                 (the first 100), subjects taken in turn from --subjects;
                 each search is itself audited (1 decision); no fixture
  echo           GetPlan against samplan-echo: no fixture, no audit check

Transports:
  grpc  (default) the calls above over gRPC, --channels channels (each its
        own connection) with --inflight calls in flight on each
  rest  GetPlan only (plan-read, plan-withheld, plan-denied) as
        GET /v1/<plan>?view=PLAN_VIEW_EFFECTIVE with header x-samplan-actor,
        over HTTP/1.1 keep-alive and the same mutual TLS (the same CA,
        agency certificate and key), to --rest-target: --channels x
        --inflight connections, one request in flight on each (no
        pipelining); a 200 reply's JSON is decoded into a GetPlanResponse
        (a reply byte-identical to the connection's last decoded one is
        not decoded again: protobuf's JSON parser would otherwise spend
        the shared cores on the client), an error reply's google.rpc.Status counted by its code as the gRPC
        mode counts a status. The fixture and the audit check still use
        gRPC on --target

Options:
  --target HOST:PORT    the server's gRPC listener (required, also with
                        --transport rest)
  --pki DIR             ca.pem and <agency>.pem/.key, as deploy/dev-pki.sh
                        makes them for school-1 social-1 bup-1 other-1
                        auditor-1 (required)
  --scenario NAME       see above (required)
  --transport T         grpc (default) or rest; see above
  --rest-target HOST:PORT
                        rest: the server's REST listener (rest.address in
                        its configuration; samplan-server logs "rest port
                        N"); required with --transport rest
  --rest-threads N      rest: client threads driving the connections, 1-64
                        (default: as many as gRPC's callback API uses for
                        its completion queue, half the cores, 2 to 16)
  --channels N          independent connections (default 4); rest:
                        N x M connections in all
  --inflight M          calls in flight per channel, closed loop (default 8)
  --rate R              open loop instead: start R calls per second in all;
                        latency counts from each call's intended start
  --warmup SECONDS      load before measuring (default 2)
  --duration SECONDS    measured time (default 10)
  --deadline-ms MS      per-call deadline (default 5000)
  --json FILE           also write the result as JSON ('-': stdout)
  --save-response FILE  write one GetPlan response (binary) for samplan-echo
  --subjects FILE       audit-history: identity numbers, one per line
  --no-audit-check      skip the audit count (for a server shared with
                        other writers)
  -h, --help            this text

Exit codes: 0 done (and the audit count matched: one record per call, the
decisions inside them those the responses report), 1 setup or load failed,
2 usage error, 3 the audit log and the calls disagree.

Examples:
  samplan-load --target localhost:7443 --pki var/pki --scenario plan-read \
    --channels 4 --inflight 16 --duration 10 --json result.json
  samplan-load --target localhost:7443 --transport rest \
    --rest-target localhost:8443 --pki var/pki --scenario plan-read \
    --channels 4 --inflight 16 --duration 10 --json rest.json
)usage";

enum class Scenario {
  kPlanRead,
  kPlanWithheld,
  kPlanDenied,
  kGrantWrite,
  kMix,
  kAuditHistory,
  kEcho
};

// gRPC's callback API on this platform runs its completions on a shared
// completion queue with this many threads (CallbackAlternativeCQ, gRPC
// 1.51: half the cores, clamped to 2-16); the REST mode drives its
// connections with as many by default.
int DefaultRestThreads() {
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  return std::clamp(cores / 2, 2, 16);
}

struct Options {
  std::string target;
  bool rest = false;  // --transport rest
  std::string rest_target;
  int rest_threads = 0;  // after ParseArgs: > 0 with --transport rest
  std::string pki;
  std::string scenario_name;
  Scenario scenario = Scenario::kPlanRead;
  int channels = 4;
  int inflight = 8;
  double rate = 0;
  double warmup_s = 2;
  double duration_s = 10;
  int deadline_ms = 5000;
  std::string json;
  std::string save_response;
  std::string subjects_file;
  std::vector<std::string> subjects;
  bool audit_check = true;
};

int Usage(const std::string& message) {
  std::fprintf(stderr, "samplan-load: %s (try --help)\n", message.c_str());
  return 2;
}

// Parses the command line; returns an exit code when it should stop.
std::optional<int> ParseArgs(int argc, char** argv, Options& o) {
  const std::map<std::string, Scenario> scenarios = {
      {"plan-read", Scenario::kPlanRead},
      {"plan-withheld", Scenario::kPlanWithheld},
      {"plan-denied", Scenario::kPlanDenied},
      {"grant-write", Scenario::kGrantWrite},
      {"mix", Scenario::kMix},
      {"audit-history", Scenario::kAuditHistory},
      {"echo", Scenario::kEcho}};
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "-h" || flag == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (flag == "--no-audit-check") {
      o.audit_check = false;
      continue;
    }
    if (i + 1 >= argc) return Usage(absl::StrCat(flag, " needs a value"));
    const std::string value = argv[++i];
    auto number = [&](double lo, double hi, double& out) -> bool {
      return absl::SimpleAtod(value, &out) && out >= lo && out <= hi;
    };
    double d = 0;
    if (flag == "--target") {
      o.target = value;
    } else if (flag == "--pki") {
      o.pki = value;
    } else if (flag == "--transport") {
      if (value != "grpc" && value != "rest") {
        return Usage(absl::StrCat("--transport must be grpc or rest, not '",
                                  value, "'"));
      }
      o.rest = value == "rest";
    } else if (flag == "--rest-target") {
      o.rest_target = value;
    } else if (flag == "--rest-threads") {
      if (!number(1, 64, d)) return Usage("--rest-threads must be 1-64");
      o.rest_threads = static_cast<int>(d);
    } else if (flag == "--scenario") {
      auto it = scenarios.find(value);
      if (it == scenarios.end()) {
        return Usage(absl::StrCat("--scenario: unknown scenario '", value,
                                  "'; one of plan-read, plan-withheld, "
                                  "plan-denied, grant-write, mix, "
                                  "audit-history, echo"));
      }
      o.scenario_name = value;
      o.scenario = it->second;
    } else if (flag == "--channels") {
      if (!number(1, 256, d)) return Usage("--channels must be 1-256");
      o.channels = static_cast<int>(d);
    } else if (flag == "--inflight") {
      if (!number(1, 4096, d)) return Usage("--inflight must be 1-4096");
      o.inflight = static_cast<int>(d);
    } else if (flag == "--rate") {
      if (!number(1, 1e7, d)) return Usage("--rate must be 1-10000000");
      o.rate = d;
    } else if (flag == "--warmup") {
      if (!number(0, 3600, d)) return Usage("--warmup must be 0-3600 seconds");
      o.warmup_s = d;
    } else if (flag == "--duration") {
      if (!number(0.1, 36000, d)) {
        return Usage("--duration must be 0.1-36000 seconds");
      }
      o.duration_s = d;
    } else if (flag == "--deadline-ms") {
      if (!number(1, 600000, d)) return Usage("--deadline-ms must be 1-600000");
      o.deadline_ms = static_cast<int>(d);
    } else if (flag == "--json") {
      o.json = value;
    } else if (flag == "--save-response") {
      o.save_response = value;
    } else if (flag == "--subjects") {
      o.subjects_file = value;
    } else {
      return Usage(absl::StrCat("unknown flag '", flag, "'"));
    }
  }
  if (o.target.empty()) return Usage("--target is required");
  if (o.pki.empty()) return Usage("--pki is required");
  if (o.scenario_name.empty()) return Usage("--scenario is required");
  if (o.rest) {
    if (o.rest_target.empty()) {
      return Usage(
          "--transport rest needs --rest-target HOST:PORT (the server's REST "
          "listener)");
    }
    const size_t colon = o.rest_target.rfind(':');
    int port = 0;
    if (colon == std::string::npos || colon == 0 ||
        !absl::SimpleAtoi(absl::string_view(o.rest_target).substr(colon + 1),
                          &port) ||
        port < 1 || port > 65535) {
      return Usage(absl::StrCat("--rest-target must be HOST:PORT, not '",
                                o.rest_target, "'"));
    }
    if (o.scenario != Scenario::kPlanRead &&
        o.scenario != Scenario::kPlanWithheld &&
        o.scenario != Scenario::kPlanDenied) {
      return Usage(absl::StrCat(
          "--transport rest takes --scenario plan-read, plan-withheld or "
          "plan-denied (GetPlan), not ",
          o.scenario_name));
    }
    if (o.rest_threads == 0) o.rest_threads = DefaultRestThreads();
  } else if (!o.rest_target.empty() || o.rest_threads != 0) {
    return Usage("--rest-target and --rest-threads need --transport rest");
  }
  if (o.scenario == Scenario::kAuditHistory) {
    if (o.subjects_file.empty()) {
      return Usage("--scenario audit-history needs --subjects FILE");
    }
    std::ifstream in(o.subjects_file);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) o.subjects.push_back(line);
    }
    if (o.subjects.empty()) {
      return Usage(
          absl::StrCat("--subjects: no identity numbers in ", o.subjects_file));
    }
  }
  return std::nullopt;
}

client::ConnectionOptions As(const Options& o, const std::string& agency) {
  client::ConnectionOptions c;
  c.target = o.target;
  c.ca_file = o.pki + "/ca.pem";
  c.cert_file = absl::StrCat(o.pki, "/", agency, ".pem");
  c.key_file = absl::StrCat(o.pki, "/", agency, ".key");
  c.actor = "bench.load";
  c.deadline = absl::Seconds(30);
  return c;
}

// --- The fixture ------------------------------------------------------------

constexpr char kEntryText[] =
    "Eleven behöver stöd i att komma igång med skoluppgifter och i "
    "övergångar mellan lektioner. Elevhälsan och vårdnadshavarna följer upp "
    "varannan vecka; målet är att närvaron ökar till minst 90 procent under "
    "terminen. Ansvarig kontaktperson dokumenterar uppföljningen i planen.";

struct Fixture {
  std::string plan;           // the plan the read scenarios ask for
  v1::GetPlanResponse first;  // one response, as setup saw it
};

// In Setup::Build(): returns the failure of one setup step, named.
#define RETURN(expr, what)                             \
  do {                                                 \
    if (absl::Status s_ = (expr); !s_.ok()) {          \
      return Named(absl::StrCat("setup: ", what), s_); \
    }                                                  \
  } while (0)

class Setup {
 public:
  explicit Setup(const Options& o) : o_(o) {}

  absl::StatusOr<Fixture> Build() {
    for (const char* agency : {"school-1", "social-1", "bup-1"}) {
      auto c = client::Connection::Open(As(o_, agency));
      if (!c.ok()) return Named(agency, c.status());
      conns_[agency] = *std::move(c);
    }
    std::mt19937_64 random(absl::ToUnixNanos(absl::Now()));
    auto pick = [&](int lo, int hi) {
      return std::uniform_int_distribution<int>(lo, hi)(random);
    };
    auto day = [&](int from_year, int to_year) {
      return absl::CivilDay(pick(from_year, to_year), pick(1, 12), pick(1, 28));
    };
    const absl::CivilDay birth = day(2012, 2016);
    const std::string child = IdentityNumberFor(birth, pick(100, 999));
    const std::string mother = IdentityNumberFor(day(1975, 1990), pick(0, 999));
    const std::string father = IdentityNumberFor(day(1975, 1990), pick(0, 999));
    const absl::Time now = absl::Now();

    v1::CreatePlanRequest create;
    create.mutable_plan()->set_subject(child);
    create.mutable_plan()->mutable_coordinator()->set_display_name("Anna Lind");
    create.mutable_plan()->mutable_coordinator()->set_phone("070-123 45 67");
    for (const char* invited : {"social-1", "bup-1"}) {
      v1::Participant* p = create.add_participants();
      p->set_kind(v1::PARTICIPANT_KIND_AGENCY);
      p->set_agency(absl::StrCat("agencies/", invited));
    }
    v1::CreatePlanResponse created;
    RETURN(conns_["school-1"]->CreatePlan(create, &created), "create plan");
    const std::string plan = created.plan().name();

    for (const std::string& guardian : {mother, father}) {
      v1::CreateCustodyFactRequest custody;
      v1::CustodyFact* f = custody.mutable_custody_fact();
      f->set_subject(child);
      f->set_guardian_identity_number(guardian);
      SetTimestamp(absl::FromCivil(birth, absl::UTCTimeZone()),
                   f->mutable_valid_from());
      f->mutable_evidence()->set_kind(v1::EVIDENCE_KIND_REGISTER_EXTRACT);
      f->mutable_evidence()->set_reference("folkbokforing");
      v1::CreateCustodyFactResponse r;
      RETURN(conns_["school-1"]->CreateCustodyFact(custody, &r), "custody");
    }

    // The guardians approve the newest revision (a draft is the lead
    // agency's alone: the others may add entries once it is approved).
    auto approve = [&]() -> absl::Status {
      v1::GetPlanRequest get;
      get.set_name(plan);
      get.set_view(v1::PLAN_VIEW_LATEST);
      v1::GetPlanResponse latest;
      RETURN(conns_["school-1"]->GetPlan(get, &latest), "read plan");
      v1::ApprovePlanRequest req;
      req.set_name(plan);
      req.set_revision(latest.plan().revision());
      for (const std::string& guardian : {mother, father}) {
        v1::Approval* a = req.add_approvals();
        a->set_approver_role(v1::APPROVER_ROLE_GUARDIAN);
        a->set_approver_identity_number(guardian);
        a->mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
        a->mutable_evidence()->set_reference("sip-meeting");
      }
      v1::ApprovePlanResponse approved;
      RETURN(conns_["school-1"]->ApprovePlan(req, &approved), "approve plan");
      return absl::OkStatus();
    };
    RETURN(approve(), "first approval");

    // Four entries per agency, one in each of four categories.
    const v1::InformationCategory categories[] = {
        v1::INFORMATION_CATEGORY_NEEDS, v1::INFORMATION_CATEGORY_INTERVENTIONS,
        v1::INFORMATION_CATEGORY_HEALTH, v1::INFORMATION_CATEGORY_EDUCATION};
    for (const char* agency : {"school-1", "social-1", "bup-1"}) {
      for (v1::InformationCategory category : categories) {
        v1::CreateEntryRequest e;
        e.set_parent(plan);
        e.mutable_entry()->set_category(category);
        e.mutable_entry()->set_kind(v1::ENTRY_KIND_NEED);
        e.mutable_entry()->set_text(kEntryText);
        v1::CreateEntryResponse r;
        RETURN(conns_[agency]->CreateEntry(e, &r), "create entry");
      }
    }

    // Four grants: each guardian for social services and for health care,
    // to the school; all four categories, or only NEEDS when withholding.
    const bool narrow = o_.scenario == Scenario::kPlanWithheld;
    for (const std::string& guardian : {mother, father}) {
      for (v1::Sector sector :
           {v1::SECTOR_SOCIAL_SERVICES, v1::SECTOR_HEALTHCARE}) {
        v1::CreateGrantRequest g;
        v1::Grant* grant = g.mutable_grant();
        grant->set_subject(child);
        grant->set_grantor_role(v1::GRANTOR_ROLE_GUARDIAN);
        grant->set_grantor_identity_number(guardian);
        grant->mutable_scope()->add_disclosing_sectors(sector);
        grant->mutable_scope()->add_receiving_sectors(v1::SECTOR_SCHOOL);
        for (v1::InformationCategory category : categories) {
          grant->mutable_scope()->add_categories(category);
          if (narrow) break;
        }
        SetTimestamp(now - absl::Minutes(1), grant->mutable_valid_from());
        SetTimestamp(now + absl::Hours(24 * 300), grant->mutable_valid_until());
        grant->mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
        grant->mutable_evidence()->set_reference("consent-form");
        v1::CreateGrantResponse r;
        RETURN(conns_["school-1"]->CreateGrant(g, &r), "create grant");
      }
    }

    RETURN(approve(), "approval of the entries");

    Fixture f;
    v1::GetPlanRequest get;
    get.set_name(plan);
    f.plan = plan;
    get.set_view(v1::PLAN_VIEW_EFFECTIVE);
    RETURN(conns_["school-1"]->GetPlan(get, &f.first), "read plan");
    const int shown = f.first.entries_size();
    const int withheld = f.first.withheld_entries_size();
    const int want_shown = narrow ? 6 : 12;
    if (shown != want_shown || withheld != 12 - want_shown) {
      return absl::InternalError(absl::StrCat(
          "the fixture does not show what the scenario claims: ", shown,
          " entries shown and ", withheld, " withheld, expected ", want_shown,
          " and ", 12 - want_shown));
    }
    return f;
  }

 private:
  static absl::Status Named(absl::string_view what, const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat(what, ": ", s.message()));
  }
  const Options& o_;
  std::map<std::string, std::unique_ptr<client::Connection>> conns_;
};
#undef RETURN

// The audit log's size, read from a fresh checkpoint (not itself audited).
absl::StatusOr<int64_t> AuditSize(const Options& o) {
  auto auditor = client::Connection::Open(As(o, "auditor-1"));
  if (!auditor.ok()) return auditor.status();
  v1::GetLatestCheckpointRequest req;
  req.set_refresh(true);
  v1::GetLatestCheckpointResponse resp;
  if (absl::Status s = (*auditor)->GetLatestCheckpoint(req, &resp); !s.ok()) {
    return absl::Status(s.code(),
                        absl::StrCat("audit checkpoint: ", s.message()));
  }
  return resp.checkpoint().tree_size();
}

// What the audit log holds in [from, to): records of `agency` and the
// decisions inside them (one per record, plus one per entry decision of a
// plan read). Read with the auditor's stream, whose own record lies past
// `to`.
struct AuditCount {
  int64_t records = 0;
  int64_t decisions = 0;
};
absl::StatusOr<AuditCount> CountAudit(const Options& o,
                                      const std::string& agency, int64_t from,
                                      int64_t to) {
  auto auditor = client::Connection::Open(As(o, "auditor-1"));
  if (!auditor.ok()) return auditor.status();
  v1::StreamAuditEventsRequest req;
  req.mutable_filter()->set_agency(absl::StrCat("agencies/", agency));
  req.set_start_leaf_index(from);
  AuditCount count;
  absl::Status s = (*auditor)->StreamAuditEvents(
      req, [&](const v1::StreamAuditEventsResponse& batch) {
        for (const v1::AuditEvent& e : batch.audit_events()) {
          if (e.leaf_index() < from || e.leaf_index() >= to) continue;
          ++count.records;
          count.decisions += 1 + e.entry_decisions_size();
        }
        return absl::OkStatus();
      });
  if (!s.ok()) {
    return absl::Status(s.code(), absl::StrCat("audit stream: ", s.message()));
  }
  return count;
}

// --- The load ---------------------------------------------------------------

struct Result {
  int64_t ok = 0;
  int64_t errors = 0;
  std::map<std::string, int64_t> error_codes;
  int64_t records = 0;      // calls that left an audit record
  int64_t decisions = 0;    // over every call, warm-up included
  int64_t unaccounted = 0;  // calls whose decisions are unknown
  int64_t shed = 0;         // open loop: calls not started (too many queued)
  std::vector<int64_t> latency_us;  // measured calls only
  double seconds = 0;
  int64_t response_bytes = 0;  // a GetPlanResponse, binary
  int64_t body_bytes = 0;      // rest: the same response as JSON
};

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

// The status an HTTP error reply carries: its JSON google.rpc.Status, or,
// for a body that is not one, the code google/rpc/code.proto maps the HTTP
// status from.
grpc::Status StatusOfHttpError(unsigned http_status, const std::string& body) {
  google::rpc::Status status;
  if (google::protobuf::util::JsonStringToMessage(body, &status).ok() &&
      status.code() != 0) {
    return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                        status.message());
  }
  grpc::StatusCode code = grpc::StatusCode::UNKNOWN;
  switch (http_status) {
    case 400:
      code = grpc::StatusCode::INVALID_ARGUMENT;
      break;
    case 401:
      code = grpc::StatusCode::UNAUTHENTICATED;
      break;
    case 403:
      code = grpc::StatusCode::PERMISSION_DENIED;
      break;
    case 404:
      code = grpc::StatusCode::NOT_FOUND;
      break;
    case 409:
      code = grpc::StatusCode::ABORTED;
      break;
    case 429:
      code = grpc::StatusCode::RESOURCE_EXHAUSTED;
      break;
    case 499:
      code = grpc::StatusCode::CANCELLED;
      break;
    case 500:
      code = grpc::StatusCode::INTERNAL;
      break;
    case 501:
      code = grpc::StatusCode::UNIMPLEMENTED;
      break;
    case 503:
      code = grpc::StatusCode::UNAVAILABLE;
      break;
    case 504:
      code = grpc::StatusCode::DEADLINE_EXCEEDED;
      break;
    default:
      break;
  }
  return grpc::Status(code, body.substr(0, 200));
}

class Load {
 public:
  Load(const Options& o, const Fixture& f) : o_(o), fixture_(f) {}
  ~Load() { StopRest(); }

  absl::Status Connect() {
    const std::string agency = o_.scenario == Scenario::kPlanDenied ? "other-1"
                               : o_.scenario == Scenario::kAuditHistory
                                   ? "auditor-1"
                                   : "school-1";
    if (o_.rest) return ConnectRest(agency);
    for (int i = 0; i < o_.channels; ++i) {
      grpc::ChannelArguments args;
      // A connection of its own for each channel.
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      args.SetInt("samplan.load.channel", i);
      auto channel = client::OpenChannel(As(o_, agency), args);
      if (!channel.ok()) return channel.status();
      if (!(*channel)->WaitForConnected(
              absl::ToChronoTime(absl::Now() + absl::Seconds(10)))) {
        return absl::UnavailableError(
            absl::StrCat("cannot connect to ", o_.target));
      }
      plans_.push_back(v1::PlanService::NewStub(*channel));
      consents_.push_back(v1::ConsentService::NewStub(*channel));
      audits_.push_back(v1::AuditService::NewStub(*channel));
    }
    read_.set_name(o_.scenario == Scenario::kEcho ? "plans/echo"
                                                  : fixture_.plan);
    read_.set_view(v1::PLAN_VIEW_EFFECTIVE);
    run_ = std::to_string(absl::ToUnixNanos(absl::Now()) % 1000000000);
    return absl::OkStatus();
  }

  Result Run() {
    start_ = absl::Now();
    measure_from_ = start_ + absl::Seconds(o_.warmup_s);
    measure_until_ = measure_from_ + absl::Seconds(o_.duration_s);
    if (o_.rate > 0) {
      RunOpenLoop();
    } else if (o_.rest) {
      // Every connection busy, each with one request at a time.
      for (size_t i = 0; i < rest_conns_.size(); ++i) StartRest(absl::Now());
      absl::SleepFor(measure_until_ - absl::Now());
      stopping_.store(true);
    } else {
      for (int c = 0; c < o_.channels; ++c) {
        for (int m = 0; m < o_.inflight; ++m) Start(c, absl::Now());
      }
      absl::SleepFor(measure_until_ - absl::Now());
      stopping_.store(true);
    }
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](int64_t* n) { return *n == 0; }, &outstanding_));
    }
    StopRest();
    absl::MutexLock lock(&mu_);
    result_.seconds = o_.duration_s;
    return result_;
  }

 private:
  void RunOpenLoop() {
    const absl::Duration interval = absl::Seconds(1.0 / o_.rate);
    const int64_t max_outstanding =
        static_cast<int64_t>(o_.channels) * o_.inflight;
    absl::Time next = start_;
    for (int64_t k = 0; next < measure_until_; ++k, next += interval) {
      const absl::Time now = absl::Now();
      if (next > now) absl::SleepFor(next - now);
      bool shed = false;
      {
        absl::MutexLock lock(&mu_);
        shed = outstanding_ >= max_outstanding;
        if (shed && next >= measure_from_) ++result_.shed;
      }
      if (shed) continue;
      if (!o_.rest) {
        Start(static_cast<int>(k % o_.channels), next);
      } else if (!StartRest(next)) {
        // Every connection that is left is busy (one failed to reconnect).
        absl::MutexLock lock(&mu_);
        if (next >= measure_from_) ++result_.shed;
      }
    }
    stopping_.store(true);
  }

  // One call on channel `c`, counted from `intended` (closed loop: now).
  void Start(int c, absl::Time intended) {
    {
      absl::MutexLock lock(&mu_);
      ++outstanding_;
    }
    const int64_t seq = sequence_.fetch_add(1);
    const bool write = o_.scenario == Scenario::kGrantWrite ||
                       (o_.scenario == Scenario::kMix && seq % 10 == 9);
    auto call = std::make_shared<Call>(this);
    call->context.set_deadline(
        absl::ToChronoTime(absl::Now() + absl::Milliseconds(o_.deadline_ms)));
    call->context.AddMetadata(client::kActorMetadataKey, "bench.load");
    call->channel = c;
    call->intended = intended;
    if (o_.scenario == Scenario::kAuditHistory) {
      call->search_request.mutable_filter()->set_subject(
          o_.subjects[seq % o_.subjects.size()]);
      call->search_request.set_page_size(100);
      audits_[c]->async()->SearchAuditEvents(
          &call->context, &call->search_request, &call->search_response,
          [this, call](grpc::Status s) { Finish(*call, s, false); });
    } else if (write) {
      BuildGrant(seq, call->grant_request);
      consents_[c]->async()->CreateGrant(
          &call->context, &call->grant_request, &call->grant_response,
          [this, call](grpc::Status s) { Finish(*call, s, false); });
    } else {
      plans_[c]->async()->GetPlan(
          &call->context, &read_, &call->plan_response,
          [this, call](grpc::Status s) { Finish(*call, s, true); });
    }
  }

  // Ends a call's share of `outstanding_` when the call is destroyed,
  // after its ClientContext (members are destroyed in reverse order, so
  // this one, declared first, goes last). Counting down in Finish instead
  // let Run return, and the channels go, while gRPC still held the last
  // call's context: its reference count then failed an assertion.
  class Outstanding {
   public:
    explicit Outstanding(Load* load) : load_(load) {}
    Outstanding(const Outstanding&) = delete;
    Outstanding& operator=(const Outstanding&) = delete;
    ~Outstanding() {
      absl::MutexLock lock(&load_->mu_);
      --load_->outstanding_;
    }

   private:
    Load* load_;
  };

  struct Call {
    explicit Call(Load* load) : outstanding(load) {}
    Outstanding outstanding;
    grpc::ClientContext context;
    v1::GetPlanResponse plan_response;
    v1::CreateGrantRequest grant_request;
    v1::CreateGrantResponse grant_response;
    v1::SearchAuditEventsRequest search_request;
    v1::SearchAuditEventsResponse search_response;
    int channel = 0;
    absl::Time intended;
  };

  // A new adult's own consent: a distinct subject for every call.
  void BuildGrant(int64_t seq, v1::CreateGrantRequest& req) const {
    const int64_t n = seq;
    const absl::CivilDay birth(1950 + n / (28 * 12 * 1000) % 50,
                               1 + n / (28 * 1000) % 12, 1 + n / 1000 % 28);
    const std::string person =
        IdentityNumberFor(birth, static_cast<int>(n % 1000));
    req.set_request_id(absl::StrCat("load-", run_, "-", seq));
    v1::Grant* g = req.mutable_grant();
    g->set_subject(person);
    g->set_grantor_role(v1::GRANTOR_ROLE_SUBJECT);
    g->set_grantor_identity_number(person);
    g->mutable_scope()->add_disclosing_sectors(v1::SECTOR_HEALTHCARE);
    g->mutable_scope()->add_receiving_sectors(v1::SECTOR_SOCIAL_SERVICES);
    g->mutable_scope()->add_categories(v1::INFORMATION_CATEGORY_NEEDS);
    const absl::Time now = absl::Now();
    SetTimestamp(now - absl::Minutes(1), g->mutable_valid_from());
    SetTimestamp(now + absl::Hours(24 * 300), g->mutable_valid_until());
    g->mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
    g->mutable_evidence()->set_reference("consent-form");
  }

  void Finish(const Call& call, const grpc::Status& s, bool plan_read) {
    if (Record(call.intended, s, plan_read, &call.plan_response, 0, "")) {
      Start(call.channel, absl::Now());
    }
  }

  // Counts one finished call, its latency from `intended`; returns whether
  // the closed loop goes on. `plan_read`: a GetPlan, whose decisions are
  // counted from `plan_response` (read only when `s` is OK); any other call
  // made one decision when it succeeded. `body_bytes`: rest, the JSON body
  // of a successful read. `what` prefixes the error's text (rest: the HTTP
  // status).
  bool Record(absl::Time intended, const grpc::Status& s, bool plan_read,
              const v1::GetPlanResponse* plan_response, int64_t body_bytes,
              absl::string_view what) {
    const absl::Time done = absl::Now();
    int64_t decisions = -1;
    if (s.ok()) {
      decisions = !plan_read ? 1
                             : 1 + plan_response->entries_size() +
                                   plan_response->withheld_entries_size();
    } else if (plan_read && s.error_code() == grpc::StatusCode::NOT_FOUND) {
      decisions = 1;  // a refused read is audited as a deny
    }
    const bool expected_failure = o_.scenario == Scenario::kPlanDenied &&
                                  s.error_code() == grpc::StatusCode::NOT_FOUND;
    absl::MutexLock lock(&mu_);
    if (decisions >= 0) {
      ++result_.records;
      result_.decisions += decisions;
    } else {
      ++result_.unaccounted;
    }
    if (done >= measure_from_ && done < measure_until_) {
      if (s.ok() || expected_failure) {
        ++result_.ok;
        result_.latency_us.push_back(
            absl::ToInt64Microseconds(done - intended));
      } else {
        ++result_.errors;
        ++result_.error_codes[absl::StrCat(what, "code ",
                                           static_cast<int>(s.error_code()),
                                           ": ", s.error_message())];
      }
    }
    if (s.ok() && plan_read && result_.response_bytes == 0) {
      result_.response_bytes =
          static_cast<int64_t>(plan_response->ByteSizeLong());
      result_.body_bytes = body_bytes;
    }
    return o_.rate <= 0 && !stopping_.load();
  }

  // --- REST (--transport rest) ----------------------------------------------

  // One HTTP/1.1 keep-alive connection over mutual TLS with one request in
  // flight at a time. It is busy (counted in outstanding_) from StartRest
  // until it hands itself back with ReleaseRest; in the closed loop it
  // sends its next request itself. Every step runs on its strand.
  class RestConnection {
   public:
    RestConnection(Load& load, net::io_context& ioc)
        : load_(load),
          strand_(net::make_strand(ioc)),
          request_(load.rest_request_) {}
    RestConnection(const RestConnection&) = delete;
    RestConnection& operator=(const RestConnection&) = delete;

    // Connects (TCP, then the TLS handshake; 10 s for both) and reports.
    void Open(std::function<void(absl::Status)> done) {
      net::post(strand_, [this, done = std::move(done)]() mutable {
        Connect(std::move(done));
      });
    }

    // One GetPlan, its latency counted from `intended`.
    void Send(absl::Time intended) {
      net::post(strand_, [this, intended] { Begin(intended); });
    }

   private:
    void Connect(std::function<void(absl::Status)> done) {
      Close();
      on_connected_ = std::move(done);
      stream_.emplace(strand_, *load_.rest_tls_);
      if (!load_.rest_host_is_address_) {
        // SNI (SSL_set_tlsext_host_name, without its cast); never for an
        // address (RFC 6066).
        SSL_ctrl(stream_->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME,
                 TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(load_.rest_host_.c_str()));
      }
      // The server certificate must name the host (DNS or IP SAN), as gRPC
      // checks it against --target's host.
      stream_->set_verify_callback(
          ssl::host_name_verification(load_.rest_host_));
      buffer_.clear();
      used_ = false;
      beast::get_lowest_layer(*stream_).expires_after(std::chrono::seconds(10));
      beast::get_lowest_layer(*stream_).async_connect(
          load_.rest_endpoints_,
          [this](beast::error_code connect_ec, const tcp::endpoint&) {
            OnConnect(connect_ec);
          });
    }

    void OnConnect(beast::error_code ec) {
      if (ec) {
        return Connected(absl::UnavailableError(absl::StrCat(
            "cannot connect to ", load_.o_.rest_target, ": ", ec.message())));
      }
      stream_->async_handshake(ssl::stream_base::client,
                               [this](beast::error_code handshake_ec) {
                                 OnHandshake(handshake_ec);
                               });
    }

    void OnHandshake(beast::error_code ec) {
      if (ec) {
        return Connected(absl::UnavailableError(absl::StrCat(
            "TLS handshake with ", load_.o_.rest_target, ": ", ec.message())));
      }
      beast::get_lowest_layer(*stream_).expires_never();
      Connected(absl::OkStatus());
    }

    void Connected(absl::Status s) {
      if (!s.ok()) Close();
      std::function<void(absl::Status)> done = std::move(on_connected_);
      on_connected_ = nullptr;
      done(std::move(s));
    }

    void Begin(absl::Time intended) {
      intended_ = intended;
      retried_ = false;
      deadline_ = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(load_.o_.deadline_ms);
      Write();
    }

    // The request; the deadline covers writing it and reading the reply.
    void Write() {
      beast::get_lowest_layer(*stream_).expires_at(deadline_);
      http::async_write(*stream_, request_,
                        [this](beast::error_code write_ec, std::size_t) {
                          OnWrite(write_ec);
                        });
    }

    void OnWrite(beast::error_code ec) {
      if (ec) return Failed(ec, /*reply_started=*/false);
      response_ = {};
      http::async_read(*stream_, buffer_, response_,
                       [this](beast::error_code read_ec, std::size_t bytes) {
                         OnRead(read_ec, bytes);
                       });
    }

    void OnRead(beast::error_code ec, std::size_t bytes) {
      if (ec) return Failed(ec, bytes > 0 || buffer_.size() > 0);
      used_ = true;
      const unsigned status = response_.result_int();
      const bool reusable = response_.keep_alive();
      if (status != 200) {
        return Finish(StatusOfHttpError(status, response_.body()), reusable, 0,
                      absl::StrCat("HTTP ", status, ", "));
      }
      // Every reply is checked whole, but a body byte-identical to the last
      // one this connection decoded is not decoded again: it decodes to the
      // same message. The client shares the cores with the server, and
      // protobuf's JSON parser costs several times the server's whole call,
      // so decoding each reply would measure the client. The JSON mapping's
      // cost on each side is reported apart, from the micro-benchmarks.
      if (!decoded_body_.empty() && response_.body() == decoded_body_) {
        return Finish(grpc::Status::OK, reusable,
                      static_cast<int64_t>(response_.body().size()), "");
      }
      decoded_body_.clear();
      const auto parsed = google::protobuf::util::JsonStringToMessage(
          response_.body(), &plan_response_);
      if (parsed.ok()) decoded_body_ = response_.body();
      if (!parsed.ok()) {
        return Finish(
            grpc::Status(grpc::StatusCode::INTERNAL,
                         absl::StrCat("the reply is not a GetPlanResponse: ",
                                      parsed.ToString())),
            reusable, 0, "HTTP 200, ");
      }
      Finish(grpc::Status::OK, reusable,
             static_cast<int64_t>(response_.body().size()), "");
    }

    // A failed write or read. When a connection that has answered before
    // fails before any of the reply came, the server closed it while it was
    // idle (limits.read_timeout_ms) and never read the request: like HTTP
    // clients with an idempotent GET, it sends it once more on a new
    // connection, within the same deadline.
    void Failed(beast::error_code ec, bool reply_started) {
      const bool closed_while_idle =
          used_ && !retried_ && !reply_started &&
          (ec == net::error::eof || ec == http::error::end_of_stream ||
           ec == ssl::error::stream_truncated ||
           ec == net::error::connection_reset || ec == net::error::broken_pipe);
      Close();
      if (closed_while_idle) {
        retried_ = true;
        return Connect([this](absl::Status connected) {
          if (connected.ok()) return Write();
          load_.Record(intended_,
                       grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                    std::string(connected.message())),
                       true, nullptr, 0, "");
          load_.ReleaseRest(this, /*usable=*/false);
        });
      }
      Finish(grpc::Status(ec == beast::error::timeout
                              ? grpc::StatusCode::DEADLINE_EXCEEDED
                              : grpc::StatusCode::UNAVAILABLE,
                          ec.message()),
             /*reusable=*/false, 0, "");
    }

    // Counts the call; then the next one, or back to the idle connections,
    // on this connection or (when the server closes it or it broke) a new
    // one. A connection that cannot be made again retires; in the closed
    // loop its next call counts as failed.
    void Finish(const grpc::Status& s, bool reusable, int64_t body_bytes,
                const std::string& what) {
      const bool again = load_.Record(intended_, s, /*plan_read=*/true,
                                      &plan_response_, body_bytes, what);
      if (reusable) return Next(again);
      Close();
      Connect([this, again](absl::Status connected) {
        if (connected.ok()) return Next(again);
        if (again) {
          load_.Record(absl::Now(),
                       grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                    std::string(connected.message())),
                       true, nullptr, 0, "");
        }
        load_.ReleaseRest(this, /*usable=*/false);
      });
    }

    void Next(bool again) {
      if (again) return Begin(absl::Now());
      load_.ReleaseRest(this, /*usable=*/true);
    }

    void Close() {
      if (stream_.has_value()) beast::get_lowest_layer(*stream_).close();
    }

    Load& load_;
    net::strand<net::io_context::executor_type> strand_;
    http::request<http::empty_body> request_;
    std::optional<beast::ssl_stream<beast::tcp_stream>> stream_;
    beast::flat_buffer buffer_;
    http::response<http::string_body> response_;
    v1::GetPlanResponse plan_response_;
    std::string decoded_body_;  // the last body decoded into plan_response_
    std::function<void(absl::Status)> on_connected_;
    absl::Time intended_;
    std::chrono::steady_clock::time_point deadline_;
    bool used_ = false;     // has answered a request since it connected
    bool retried_ = false;  // the current request is sent a second time
  };

  // The TLS context (the agency's certificate and key, the CA), the REST
  // target, the request, the client threads, and channels x inflight
  // connections, each connected before the load starts.
  absl::Status ConnectRest(const std::string& agency) {
    const client::ConnectionOptions files = As(o_, agency);
    rest_tls_ = std::make_unique<ssl::context>(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(rest_tls_->native_handle(), TLS1_2_VERSION);
    beast::error_code ec;
    rest_tls_->load_verify_file(files.ca_file, ec);
    if (ec) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot use the CA file ", files.ca_file, ": ", ec.message()));
    }
    rest_tls_->use_certificate_chain_file(files.cert_file, ec);
    if (ec) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot use the certificate ", files.cert_file, ": ", ec.message()));
    }
    rest_tls_->use_private_key_file(files.key_file, ssl::context::pem, ec);
    if (ec) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot use the key ", files.key_file, ": ", ec.message()));
    }
    rest_tls_->set_verify_mode(ssl::verify_peer);
    // Linked in, so that the ErrorInfo in an error reply's details decodes.
    static_cast<void>(google::rpc::ErrorInfo::descriptor());

    // HOST:PORT, checked by ParseArgs; "[::1]:8443" too.
    const size_t colon = o_.rest_target.rfind(':');
    rest_host_ = o_.rest_target.substr(0, colon);
    if (rest_host_.size() >= 2 && rest_host_.front() == '[' &&
        rest_host_.back() == ']') {
      rest_host_ = rest_host_.substr(1, rest_host_.size() - 2);
    }
    const std::string port = o_.rest_target.substr(colon + 1);
    static_cast<void>(net::ip::make_address(rest_host_, ec));
    rest_host_is_address_ = !ec;

    rest_ioc_ = std::make_unique<net::io_context>(o_.rest_threads);
    tcp::resolver resolver(*rest_ioc_);
    rest_endpoints_ = resolver.resolve(rest_host_, port, ec);
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat("cannot resolve ", o_.rest_target, ": ", ec.message()));
    }

    // GetPlan is GET /v1/{name=plans/*}; the view as the gRPC mode asks.
    rest_request_ = http::request<http::empty_body>(
        http::verb::get,
        absl::StrCat("/v1/", fixture_.plan,
                     "?view=", v1::PlanView_Name(v1::PLAN_VIEW_EFFECTIVE)),
        11);
    rest_request_.set(http::field::host, o_.rest_target);
    rest_request_.set(http::field::user_agent, "samplan-load");
    rest_request_.set(http::field::accept, "application/json");
    rest_request_.set(client::kActorMetadataKey, "bench.load");
    rest_request_.keep_alive(true);

    rest_work_.emplace(net::make_work_guard(*rest_ioc_));
    for (int i = 0; i < o_.rest_threads; ++i) {
      rest_threads_.emplace_back([this] { rest_ioc_->run(); });
    }
    const int n = o_.channels * o_.inflight;
    for (int i = 0; i < n; ++i) {
      rest_conns_.push_back(
          std::make_unique<RestConnection>(*this, *rest_ioc_));
    }
    {
      absl::MutexLock lock(&mu_);
      rest_connecting_ = n;
    }
    for (const std::unique_ptr<RestConnection>& conn : rest_conns_) {
      RestConnection* raw = conn.get();
      raw->Open([this, raw](absl::Status s) {
        absl::MutexLock lock(&mu_);
        if (s.ok()) {
          rest_idle_.push_back(raw);
        } else if (rest_connect_error_.ok()) {
          rest_connect_error_ = std::move(s);
        }
        --rest_connecting_;
      });
    }
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](int* n_left) { return *n_left == 0; }, &rest_connecting_));
    return rest_connect_error_;
  }

  // Sends one GetPlan on an idle connection; false when none is idle.
  bool StartRest(absl::Time intended) {
    RestConnection* conn = nullptr;
    {
      absl::MutexLock lock(&mu_);
      if (rest_idle_.empty()) return false;
      conn = rest_idle_.front();
      rest_idle_.pop_front();
      ++outstanding_;
    }
    conn->Send(intended);
    return true;
  }

  // A connection's call is over: back among the idle ones, unless it could
  // not connect again.
  void ReleaseRest(RestConnection* conn, bool usable) {
    absl::MutexLock lock(&mu_);
    if (usable) rest_idle_.push_back(conn);
    --outstanding_;
  }

  // Stops the client threads and closes the connections; every call has
  // reported (or none started). Idempotent.
  void StopRest() {
    if (rest_ioc_ == nullptr) return;
    rest_work_.reset();
    rest_ioc_->stop();
    for (std::thread& t : rest_threads_) t.join();
    rest_threads_.clear();
    {
      absl::MutexLock lock(&mu_);
      rest_idle_.clear();
    }
    rest_conns_.clear();
  }

  const Options& o_;
  const Fixture& fixture_;
  std::vector<std::unique_ptr<v1::PlanService::Stub>> plans_;
  std::vector<std::unique_ptr<v1::ConsentService::Stub>> consents_;
  std::vector<std::unique_ptr<v1::AuditService::Stub>> audits_;
  v1::GetPlanRequest read_;
  std::string run_;
  absl::Time start_, measure_from_, measure_until_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> sequence_{0};

  // REST. The connections go before the context, the io_context and the
  // TLS context they use (members are destroyed in reverse order).
  std::unique_ptr<ssl::context> rest_tls_;
  std::string rest_host_;
  bool rest_host_is_address_ = false;
  tcp::resolver::results_type rest_endpoints_;
  http::request<http::empty_body> rest_request_;
  std::unique_ptr<net::io_context> rest_ioc_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>>
      rest_work_;
  std::vector<std::thread> rest_threads_;
  std::vector<std::unique_ptr<RestConnection>> rest_conns_;

  absl::Mutex mu_;
  int64_t outstanding_ ABSL_GUARDED_BY(mu_) = 0;
  Result result_ ABSL_GUARDED_BY(mu_);
  std::deque<RestConnection*> rest_idle_ ABSL_GUARDED_BY(mu_);
  int rest_connecting_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status rest_connect_error_ ABSL_GUARDED_BY(mu_);
};

double Percentile(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const size_t i = std::min(sorted.size() - 1,
                            static_cast<size_t>(p / 100.0 * sorted.size()));
  return static_cast<double>(sorted[i]) / 1000.0;  // ms
}

int Main(int argc, char** argv) {
  Options o;
  if (std::optional<int> rc = ParseArgs(argc, argv, o)) return *rc;
  const bool echo = o.scenario == Scenario::kEcho;
  if (echo) o.audit_check = false;

  Fixture fixture;
  if (!echo && o.scenario != Scenario::kAuditHistory) {
    std::fprintf(stderr, "samplan-load: building the fixture on %s\n",
                 o.target.c_str());
    Setup setup(o);
    absl::StatusOr<Fixture> f = setup.Build();
    if (!f.ok()) {
      std::fprintf(stderr, "samplan-load: %s\n", f.status().ToString().c_str());
      return 1;
    }
    fixture = *std::move(f);
    if (!o.save_response.empty()) {
      std::ofstream out(o.save_response, std::ios::binary | std::ios::trunc);
      if (!fixture.first.SerializeToOstream(&out) || !out.flush()) {
        std::fprintf(stderr, "samplan-load: --save-response: cannot write %s\n",
                     o.save_response.c_str());
        return 1;
      }
    }
  } else if (!o.save_response.empty()) {
    return Usage("--save-response needs a plan scenario");
  }

  // The audit log's size, or nullopt after saying why it is unknown.
  auto audit_size = [&o]() -> std::optional<int64_t> {
    absl::StatusOr<int64_t> size = AuditSize(o);
    if (!size.ok()) {
      std::fprintf(stderr, "samplan-load: %s\n",
                   size.status().ToString().c_str());
      return std::nullopt;
    }
    return *size;
  };
  int64_t audit_before = 0;
  if (o.audit_check) {
    std::optional<int64_t> size = audit_size();
    if (!size.has_value()) return 1;
    audit_before = *size;
  }

  Load load(o, fixture);
  if (absl::Status s = load.Connect(); !s.ok()) {
    std::fprintf(stderr, "samplan-load: %s\n", s.ToString().c_str());
    return 1;
  }
  const std::string transport = o.rest ? "rest" : "grpc";
  std::fprintf(
      stderr, "samplan-load: %s over %s, %.0f s warm-up, %.1f s measured\n",
      o.scenario_name.c_str(), transport.c_str(), o.warmup_s, o.duration_s);
  Result r = load.Run();
  std::sort(r.latency_us.begin(), r.latency_us.end());

  std::string audit_line = "audit check skipped";
  std::string audit_state = "skipped";
  int64_t audit_delta = -1;
  int rc = 0;
  if (o.audit_check) {
    std::optional<int64_t> size = audit_size();
    if (!size.has_value()) return 1;
    audit_delta = *size - audit_before;
    // One record per call, and inside the records the decisions the
    // responses reported.
    const std::string agency = o.scenario == Scenario::kPlanDenied ? "other-1"
                               : o.scenario == Scenario::kAuditHistory
                                   ? "auditor-1"
                                   : "school-1";
    absl::StatusOr<AuditCount> logged =
        CountAudit(o, agency, audit_before, *size);
    if (!logged.ok()) {
      std::fprintf(stderr, "samplan-load: %s\n",
                   logged.status().ToString().c_str());
      return 1;
    }
    if (r.unaccounted > 0) {
      audit_state = "unknown";
      audit_line =
          absl::StrCat("audit records +", audit_delta, ", ", r.unaccounted,
                       " calls failed before a decision was known");
      rc = 3;
    } else if (audit_delta != r.records || logged->records != r.records ||
               logged->decisions != r.decisions) {
      audit_state = "mismatch";
      audit_line = absl::StrCat(
          "audit records +", audit_delta, " (", logged->records, " of ", agency,
          ") holding ", logged->decisions, " decisions != calls ", r.records,
          " making ", r.decisions, " decisions: MISMATCH");
      rc = 3;
    } else {
      audit_state = "ok";
      audit_line =
          absl::StrCat("audit records +", audit_delta, " = calls ", r.records,
                       "; decisions inside = ", r.decisions);
    }
  }

  const double throughput = static_cast<double>(r.ok) / r.seconds;
  std::string mode;
  if (!o.rest) {
    mode = o.rate > 0 ? absl::StrFormat("grpc, open loop %.0f/s", o.rate)
                      : absl::StrFormat("grpc, %d channels x %d in flight",
                                        o.channels, o.inflight);
  } else {
    const int connections = o.channels * o.inflight;
    mode = o.rate > 0
               ? absl::StrFormat("rest, open loop %.0f/s over %d connections",
                                 o.rate, connections)
               : absl::StrFormat(
                     "rest, %d connections (%d x %d), one request in flight "
                     "on each",
                     connections, o.channels, o.inflight);
    absl::StrAppend(&mode, ", ", o.rest_threads, " client threads");
  }
  const std::string response =
      o.rest ? absl::StrFormat("response %d bytes (%d bytes of JSON)",
                               r.response_bytes, r.body_bytes)
             : absl::StrFormat("response %d bytes", r.response_bytes);
  std::printf(
      "%s  %s\n"
      "  calls %" PRId64 " ok, %" PRId64 " errors, %" PRId64
      " shed; %.1f calls/s\n"
      "  latency ms  p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n"
      "  %s; %s\n",
      o.scenario_name.c_str(), mode.c_str(), r.ok, r.errors, r.shed, throughput,
      Percentile(r.latency_us, 50), Percentile(r.latency_us, 90),
      Percentile(r.latency_us, 99), Percentile(r.latency_us, 99.9),
      r.latency_us.empty() ? 0.0 : r.latency_us.back() / 1000.0,
      response.c_str(), audit_line.c_str());
  for (const auto& [what, n] : r.error_codes) {
    std::printf("  error x%" PRId64 ": %s\n", n, what.c_str());
  }
  if (r.errors > 0 && rc == 0) rc = 1;

  if (!o.json.empty()) {
    const std::string json = absl::StrFormat(
        "{\"scenario\": \"%s\", \"transport\": \"%s\", \"channels\": %d, "
        "\"inflight\": %d, \"rest_threads\": %d, "
        "\"rate\": %.0f, \"warmup_s\": %.1f, \"duration_s\": %.1f, "
        "\"ok\": %d, \"errors\": %d, \"shed\": %d, \"throughput\": %.1f, "
        "\"p50_ms\": %.3f, \"p90_ms\": %.3f, \"p99_ms\": %.3f, "
        "\"p999_ms\": %.3f, \"response_bytes\": %d, \"body_bytes\": %d, "
        "\"calls_audited\": %d, "
        "\"decisions\": %d, \"audit_records\": %d, \"audit_check\": "
        "\"%s\"}\n",
        o.scenario_name, transport, o.channels, o.inflight, o.rest_threads,
        o.rate, o.warmup_s, o.duration_s, r.ok, r.errors, r.shed, throughput,
        Percentile(r.latency_us, 50), Percentile(r.latency_us, 90),
        Percentile(r.latency_us, 99), Percentile(r.latency_us, 99.9),
        r.response_bytes, r.body_bytes, r.records, r.decisions, audit_delta,
        audit_state);
    if (o.json == "-") {
      std::fputs(json.c_str(), stdout);
    } else {
      std::ofstream out(o.json, std::ios::trunc);
      out << json;
      if (!out.flush()) {
        std::fprintf(stderr, "samplan-load: --json: cannot write %s\n",
                     o.json.c_str());
        return 1;
      }
    }
  }
  return rc;
}

}  // namespace
}  // namespace samplan::bench

int main(int argc, char** argv) { return samplan::bench::Main(argc, argv); }
