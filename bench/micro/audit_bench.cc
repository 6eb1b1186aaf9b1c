// Micro-benchmarks of the audit log through the real SQLite store. Every read
// and change the server makes appends an event, and an append is durable
// only when its transaction commits (WAL, synchronous=FULL: one fsync per
// commit), so the commit rate bounds the request rate unless commits are
// shared by many events (group commit).
//
//   BM_AuditAppendBatched/N  N appends per Store::Write on a file store, one
//                            durable commit per batch; N=1 is the baseline
//                            of one fsync per event.
//   BM_AuditAppendMemory/N   the same on ":memory:": the CPU part (SQL,
//                            protobuf, leaf hash, Merkle nodes), no fsync.
//   BM_AuditLeafHash         audit::EventLeafHash alone: the canonical leaf
//                            data and its SHA-256.
//   BM_AuditVerifyExport     audit::VerifyExport over an export of 20,000
//                            such events (samplanctl audit verify).
//   BM_AuditSubjectHistory   AuditLog::Query for one subject (first page of
//                            100) in a log of 200,000 events, as an auditor's
//                            search by subject reads it.
//
// The events are PLAN_READ records as GetPlan writes them (one per read,
// every entry's decision inside; app/plan_app.cc). Store-backed benchmarks use
// real time: fsync waits do not show in CPU time, and the rates must be durable
// events per second.

#include <linux/magic.h>
#include <sys/vfs.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "audit/leaf.h"
#include "audit/merkle.h"
#include "audit/note.h"
#include "audit/verify.h"
#include "bench/bench_support.h"
#include "benchmark/benchmark.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "consent/identity_number.h"
#include "google/protobuf/util/json_util.h"
#include "samplan/v1/audit.pb.h"
#include "samplan/v1/common.pb.h"
#include "storage/sqlite_store.h"
#include "storage/store.h"

namespace samplan::bench {
namespace {

// --- Scratch directory ---

// A fresh directory under $TMPDIR (or /tmp), removed with its contents when
// destroyed.
class TempDir {
 public:
  TempDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string path = absl::StrCat(
        tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/samplan-micro-XXXXXX");
    if (mkdtemp(path.data()) == nullptr) {
      error_ = absl::StrCat("mkdtemp ", path, ": ", std::strerror(errno));
      return;
    }
    path_ = std::move(path);
  }
  ~TempDir() {
    if (path_.empty()) return;
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }
  const std::string& error() const { return error_; }

  // True when the directory is on tmpfs, where fsync costs nothing and
  // durable-append rates mean little.
  bool OnTmpfs() const {
    struct statfs st;
    return statfs(path_.c_str(), &st) == 0 && st.f_type == TMPFS_MAGIC;
  }

 private:
  std::string path_;
  std::string error_;
};

void Skip(benchmark::State& state, const absl::Status& status) {
  state.SkipWithError(status.ToString().c_str());
}

absl::StatusOr<std::unique_ptr<storage::Store>> Open(const std::string& path) {
  storage::SqliteOptions options;
  options.path = path;
  return storage::OpenSqliteStore(options);
}

// --- Realistic events ---

// A resource id as the server makes them: 20 characters of a-z, 0-9.
std::string RandomId(std::mt19937_64& rng) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string id(20, 'a');
  for (char& c : id) c = kAlphabet[rng() % 36];
  return id;
}

// `count` distinct children born 2008-2023. 7919 is prime to kDays, so the
// birth days of each run of kDays children are all different; the serial
// tells the runs apart.
std::vector<std::string> Children(int count) {
  constexpr int kDays = 16 * 365;
  std::vector<std::string> out;
  out.reserve(count);
  for (int k = 0; k < count; ++k) {
    out.push_back(
        IdentityNumberFor(absl::CivilDay(2008, 1, 1) + (k * 7919) % kDays,
                          101 + 7 * (k / kDays)));
  }
  return out;
}

// A calling agency system and the staff member behind it.
struct Reader {
  const char* agency;
  const char* actor;
  const char* certificate;  // SHA-256 of the client certificate, in hex
};
constexpr Reader kReaders[] = {
    {"agencies/school-1", "anna.lind",
     "7482db7a5af8312cf1708de6179bea73537a80855ff65a2a2c766a1366a2ceb3"},
    {"agencies/soc-1", "sara.ek",
     "7bfb6115417e10d6ebca2b231f8786f2c066fd364d29c992009d09e6e4d95b39"},
    {"agencies/bup-1", "erik.berg",
     "4168d8297b00f424ffc26db89a85a6eb69eaee254da3d6c027df4bc4670c49c9"},
};

// The record GetPlan appends when `reader` reads `plan` about `subject`
// (app/plan_app.cc): one PLAN_READ event holding the decisions about the
// plan's 12 entries; of every four entries one is the reader's own, two are
// allowed by both guardians' grants and one is withheld. Reads carry no
// request id (Caller::request_id is set by write methods).
v1::AuditEvent PlanRead(const Reader& reader, const std::string& subject,
                        const std::string& plan, std::mt19937_64& rng) {
  v1::AuditEvent e;
  e.set_agency(reader.agency);
  e.set_actor(reader.actor);
  e.set_certificate(reader.certificate);
  e.set_action(v1::AUDIT_ACTION_PLAN_READ);
  e.set_subject(subject);
  e.set_resource(absl::StrCat("plans/", plan));
  e.set_decision(v1::DECISION_ALLOW);
  e.add_reasons(v1::DECISION_REASON_PLAN_PARTICIPANT);
  e.set_detail("effective view, revision 14");
  const std::string g1 = absl::StrCat("grants/", RandomId(rng));
  const std::string g2 = absl::StrCat("grants/", RandomId(rng));
  for (int n = 0; n < 12; ++n) {
    v1::EntryDecision* d = e.add_entry_decisions();
    d->set_entry(absl::StrCat("plans/", plan, "/entries/", RandomId(rng)));
    d->set_owner_agency(n % 4 == 0 ? reader.agency : "agencies/bup-1");
    switch (n % 4) {
      case 0:
        d->set_category(v1::INFORMATION_CATEGORY_NEEDS);
        d->set_decision(v1::DECISION_ALLOW);
        d->set_reason(v1::DECISION_REASON_OWN_AGENCY);
        break;
      case 3:
        d->set_category(v1::INFORMATION_CATEGORY_HEALTH);
        d->set_decision(v1::DECISION_DENY);
        d->set_reason(v1::DECISION_REASON_CATEGORY_OUT_OF_SCOPE);
        break;
      default:
        d->set_category(v1::INFORMATION_CATEGORY_INTERVENTIONS);
        d->set_decision(v1::DECISION_ALLOW);
        d->set_reason(v1::DECISION_REASON_CONSENT_COVERS);
        d->add_grants(g1);
        d->add_grants(g2);
        break;
    }
  }
  return e;
}

absl::Time LogStart() {
  return absl::FromCivil(absl::CivilSecond(2026, 3, 16, 8, 0, 0),
                         absl::UTCTimeZone());
}

constexpr size_t kPoolSize = 1024;
static_assert((kPoolSize & (kPoolSize - 1)) == 0, "the index is masked");

// kPoolSize reads by school-1 of 128 children's plans (12 entries each),
// 3 ms apart.
std::vector<v1::AuditEvent> SchoolReads() {
  std::mt19937_64 rng(1);
  const std::vector<std::string> children = Children(128);
  std::vector<std::string> plans;
  for (size_t i = 0; i < children.size(); ++i) plans.push_back(RandomId(rng));
  std::vector<v1::AuditEvent> out;
  out.reserve(kPoolSize);
  for (size_t i = 0; i < kPoolSize; ++i) {
    const size_t child = i % children.size();
    out.push_back(PlanRead(kReaders[0], children[child], plans[child], rng));
    SetTimestamp(LogStart() + absl::Milliseconds(3 * static_cast<int64_t>(i)),
                 out.back().mutable_time());
  }
  return out;
}

// --- Appends ---

// Appends range(0) events per Store::Write to the store at `path` and checks
// afterwards that the log holds every one.
void RunAppend(benchmark::State& state, const std::string& path) {
  const int batch = static_cast<int>(state.range(0));
  absl::StatusOr<std::unique_ptr<storage::Store>> store = Open(path);
  if (!store.ok()) return Skip(state, store.status());
  std::vector<v1::AuditEvent> events = SchoolReads();
  const absl::Time start = LogStart();

  int64_t appended = 0;
  for (auto _ : state) {
    const absl::Status s =
        (*store)->Write([&](storage::Transaction& tx) -> absl::Status {
          for (int i = 0; i < batch; ++i) {
            v1::AuditEvent& e = events[appended & (kPoolSize - 1)];
            SetTimestamp(start + absl::Milliseconds(3 * appended),
                         e.mutable_time());
            RETURN_IF_ERROR(tx.audit().Append(e).status());
            ++appended;
          }
          return absl::OkStatus();
        });
    if (!s.ok()) return Skip(state, s);
  }

  int64_t size = -1;
  const absl::Status read =
      (*store)->Read([&](storage::Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(size, tx.audit().Size());
        return absl::OkStatus();
      });
  if (!read.ok()) return Skip(state, read);
  if (size != appended) {
    state.SkipWithError(absl::StrCat("the log holds ", size, " events; ",
                                     appended, " were appended")
                            .c_str());
    return;
  }
  state.SetItemsProcessed(state.iterations() * batch);
}

void BM_AuditAppendBatched(benchmark::State& state) {
  TempDir dir;
  if (!dir.ok()) {
    state.SkipWithError(dir.error().c_str());
    return;
  }
  RunAppend(state, absl::StrCat(dir.path(), "/samplan.db"));
  if (dir.OnTmpfs()) state.SetLabel("tmpfs: fsync is free here");
}
BENCHMARK(BM_AuditAppendBatched)
    ->Arg(1)
    ->Arg(64)
    ->Arg(256)
    ->Arg(1024)
    ->UseRealTime();

void BM_AuditAppendMemory(benchmark::State& state) {
  RunAppend(state, ":memory:");
}
BENCHMARK(BM_AuditAppendMemory)
    ->Arg(1)
    ->Arg(64)
    ->Arg(256)
    ->Arg(1024)
    ->UseRealTime();

// --- Leaf hash ---

void BM_AuditLeafHash(benchmark::State& state) {
  const std::vector<v1::AuditEvent> events = SchoolReads();
  std::vector<int64_t> sizes;
  for (const v1::AuditEvent& e : events) {
    sizes.push_back(static_cast<int64_t>(audit::LeafData(e).size()));
  }
  size_t i = 0;
  int64_t bytes = 0;
  for (auto _ : state) {
    audit::Hash hash = audit::EventLeafHash(events[i]);
    benchmark::DoNotOptimize(hash);
    bytes += sizes[i];
    i = (i + 1) & (kPoolSize - 1);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_AuditLeafHash);

// --- Verifying an export ---

// audit::VerifyExport over an export of 20,000 plan reads (each with its
// entries' decisions), as `samplanctl audit verify` checks one: parse each
// line, rebuild its leaf data, hash it, rebuild the tree, check the signed
// root. Items are events.
void BM_AuditVerifyExport(benchmark::State& state) {
  constexpr int kEvents = 20000;
  const std::vector<v1::AuditEvent> pool = SchoolReads();
  std::string text;
  audit::CompactRange range;
  for (int i = 0; i < kEvents; ++i) {
    v1::AuditEvent e = pool[static_cast<size_t>(i) & (kPoolSize - 1)];
    e.set_leaf_index(i);
    e.set_leaf_format(audit::kCurrentLeafFormat);
    const audit::Hash hash = audit::EventLeafHash(e);
    e.set_leaf_hash(audit::ToBytes(hash));
    range.Append(hash);
    std::string line;
    if (!google::protobuf::util::MessageToJsonString(e, &line).ok()) {
      return Skip(state, absl::InternalError("an event does not print"));
    }
    absl::StrAppend(&text, line, "\n");
  }
  absl::StatusOr<std::string> pem = audit::GenerateSigningKeyPem();
  if (!pem.ok()) return Skip(state, pem.status());
  auto signer = audit::NoteSigner::FromPrivateKeyPem(*pem, "bench/audit");
  if (!signer.ok()) return Skip(state, signer.status());
  absl::StatusOr<std::string> note = (*signer)->Sign(
      audit::FormatCheckpointBody({"bench/audit", kEvents, range.Root()}));
  if (!note.ok()) return Skip(state, note.status());
  auto key = audit::NoteVerifier::FromVerifierKey((*signer)->VerifierKey());
  if (!key.ok()) return Skip(state, key.status());
  for (auto _ : state) {
    std::istringstream in(text);
    const audit::VerifyResult result = audit::VerifyExport(in, *note, *key);
    if (!result.ok) {
      return Skip(state, absl::InternalError(result.problem));
    }
  }
  state.SetItemsProcessed(state.iterations() * kEvents);
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(text.size()));
}
// Real time: the verifier hashes on worker threads, whose CPU time the
// calling thread's clock would not count.
BENCHMARK(BM_AuditVerifyExport)->Unit(benchmark::kMillisecond)->UseRealTime();

// --- Subject history ---

constexpr int kHistorySubjects = 20000;
constexpr int kHistoryEvents = 200000;
constexpr int kEventsPerSubject = kHistoryEvents / kHistorySubjects;
// One GetPlan: a run of entry reads about one subject.
constexpr int kEventsPerVisit = 5;
// Events per transaction while filling.
constexpr int kFillBatch = 10000;
static_assert(kHistoryEvents % (kHistorySubjects * kEventsPerVisit) == 0,
              "every subject gets the same number of visits");

// A file store holding kHistoryEvents entry reads about kHistorySubjects
// children: the subjects are visited in a shuffled order, every one once per
// round, so each subject's events are spread over the whole log. Filled
// once per process (it takes seconds); the store is closed and its directory
// removed at exit.
class FilledLog {
 public:
  static FilledLog& Get() {
    // Destroyed at exit on purpose (not leaked): closing the store and
    // removing the database is the destructor's job.
    static FilledLog log;
    return log;
  }

  const absl::Status& status() const { return status_; }
  storage::Store& store() { return *store_; }
  const std::vector<std::string>& subjects() const { return subjects_; }
  absl::Duration fill_time() const { return fill_time_; }

 private:
  FilledLog() {
    const absl::Time t0 = absl::Now();
    status_ = Fill();
    fill_time_ = absl::Now() - t0;
  }

  absl::Status Fill() {
    if (!dir_.ok()) return absl::UnavailableError(dir_.error());
    ASSIGN_OR_RETURN(store_, Open(absl::StrCat(dir_.path(), "/samplan.db")));
    subjects_ = Children(kHistorySubjects);
    std::mt19937_64 rng(7);
    std::vector<std::string> plans;
    plans.reserve(subjects_.size());
    for (size_t i = 0; i < subjects_.size(); ++i) {
      plans.push_back(RandomId(rng));
    }
    std::vector<int> order(kHistorySubjects);
    std::iota(order.begin(), order.end(), 0);

    const absl::Time start = LogStart() - absl::Hours(24 * 60);
    int64_t appended = 0;
    while (appended < kHistoryEvents) {
      const absl::Status s =
          store_->Write([&](storage::Transaction& tx) -> absl::Status {
            for (int i = 0; i < kFillBatch && appended < kHistoryEvents; ++i) {
              const int64_t visit = appended / kEventsPerVisit;
              if (appended % kEventsPerVisit == 0 &&
                  visit % kHistorySubjects == 0) {
                std::shuffle(order.begin(), order.end(), rng);
              }
              const int subject = order[visit % kHistorySubjects];
              v1::AuditEvent e = PlanRead(
                  kReaders[visit % 3], subjects_[subject], plans[subject], rng);
              // About 60 days of reads.
              SetTimestamp(start + absl::Seconds(26 * appended),
                           e.mutable_time());
              RETURN_IF_ERROR(tx.audit().Append(e).status());
              ++appended;
            }
            return absl::OkStatus();
          });
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }

  // Declared before store_, so that the store is closed before the
  // directory is removed.
  TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::vector<std::string> subjects_;
  absl::Duration fill_time_;
  absl::Status status_;
};

// One subject's events (the first page of 100), for a random subject each
// time; items are queries.
void BM_AuditSubjectHistory(benchmark::State& state) {
  FilledLog& log = FilledLog::Get();
  if (!log.status().ok()) return Skip(state, log.status());
  const std::vector<std::string>& subjects = log.subjects();

  constexpr size_t kPicks = 4096;
  static_assert((kPicks & (kPicks - 1)) == 0, "the index is masked");
  std::mt19937 rng(3);
  std::uniform_int_distribution<size_t> pick(0, subjects.size() - 1);
  std::vector<size_t> picks(kPicks);
  for (size_t& p : picks) p = pick(rng);

  // Check once that a query finds exactly the subject's events.
  storage::AuditQuery check;
  check.subject = subjects[picks[0]];
  check.limit = 100;
  const absl::Status checked =
      log.store().Read([&](storage::Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(std::vector<v1::AuditEvent> events,
                         tx.audit().Query(check));
        if (events.size() != static_cast<size_t>(kEventsPerSubject)) {
          return absl::InternalError(
              absl::StrCat("a subject's history has ", events.size(),
                           " events, not ", kEventsPerSubject));
        }
        for (const v1::AuditEvent& e : events) {
          if (e.subject() != check.subject) {
            return absl::InternalError("a query returned another subject");
          }
        }
        return absl::OkStatus();
      });
  if (!checked.ok()) return Skip(state, checked);

  size_t i = 0;
  int64_t returned = 0;
  for (auto _ : state) {
    storage::AuditQuery q;
    q.subject = subjects[picks[i]];
    q.limit = 100;
    const absl::Status s =
        log.store().Read([&](storage::Transaction& tx) -> absl::Status {
          ASSIGN_OR_RETURN(std::vector<v1::AuditEvent> events,
                           tx.audit().Query(q));
          returned += static_cast<int64_t>(events.size());
          benchmark::DoNotOptimize(events);
          return absl::OkStatus();
        });
    if (!s.ok()) return Skip(state, s);
    i = (i + 1) & (kPicks - 1);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["events_per_query"] = benchmark::Counter(
      static_cast<double>(returned), benchmark::Counter::kAvgIterations);
  state.SetLabel(absl::StrCat(kHistoryEvents, " events, filled in ",
                              absl::FormatDuration(log.fill_time()))
                     .c_str());
}
BENCHMARK(BM_AuditSubjectHistory)->UseRealTime();

}  // namespace
}  // namespace samplan::bench
