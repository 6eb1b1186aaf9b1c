// Crash safety of the real binary: samplan-server is driven with mixed load
// (grants, withdrawals, plan reads and entry writes, over gRPC and over
// REST) and killed with SIGKILL at a random moment, again and again, and
// restarted on the same database each time. Afterwards:
//   - every acknowledged write is there (grants, withdrawals, entries);
//   - every acknowledged read has its audit record (each read is made by a
//     staff member of its own, so its record can be found);
//   - no change is half done: each stored grant, withdrawal and load entry
//     has its one audit record, and each such record its change;
//   - the audit log verifies offline, with a consistency proof from every
//     checkpoint seen before a crash to the final one.
// The default run kills the server 20 times; SAMPLAN_CRASH_ROUNDS asks for
// more (a long run).

#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"
#include "google/protobuf/util/json_util.h"
#include "tests/integration/rest_client.h"

namespace samplan::server {
namespace {

using ::testing::Not;

// samplan-server as a child process, its service log read through a pipe.
class ServerProcess {
 public:
  // Starts the binary and waits (reading its log) until it listens.
  static std::unique_ptr<ServerProcess> Start(const std::string& config) {
    auto p = std::unique_ptr<ServerProcess>(new ServerProcess());
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return nullptr;
    const std::string bin = SAMPLAN_SERVER_BIN;
    const char* argv[] = {bin.c_str(), "--config", config.c_str(), nullptr};
    p->pid_ = ::fork();
    if (p->pid_ == 0) {
      ::dup2(fds[1], 2);
      ::close(fds[0]);
      ::close(fds[1]);
      ::execv(argv[0], const_cast<char* const*>(argv));
      ::_exit(127);
    }
    ::close(fds[1]);
    p->in_ = ::fdopen(fds[0], "r");
    char line[4096];
    while (std::fgets(line, sizeof line, p->in_) != nullptr) {
      p->Append(line);
      const std::string l = line;
      if (l.find("samplan-server listening") == std::string::npos) continue;
      p->api_port_ = PortAfter(l, "(port ");
      p->rest_port_ = PortAfter(l, "rest port ");
      break;
    }
    p->drain_ = std::thread([raw = p.get()] {
      char more[4096];
      while (std::fgets(more, sizeof more, raw->in_) != nullptr) {
        raw->Append(more);
      }
    });
    if (p->api_port_ == 0 || p->rest_port_ == 0) {
      ADD_FAILURE() << "the server did not start:\n" << p->Log();
      return nullptr;
    }
    return p;
  }

  ~ServerProcess() {
    Kill(SIGKILL);
    if (drain_.joinable()) drain_.join();
    if (in_ != nullptr) std::fclose(in_);
  }

  // Sends `sig` and waits for the process to end.
  void Kill(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  int api_port() const { return api_port_; }
  int rest_port() const { return rest_port_; }
  std::string Log() {
    absl::MutexLock lock(&mu_);
    return log_;
  }

 private:
  ServerProcess() = default;
  static int PortAfter(const std::string& line, const std::string& marker) {
    const size_t at = line.find(marker);
    if (at == std::string::npos) return 0;
    int port = 0;
    size_t i = at + marker.size();
    while (i < line.size() && line[i] >= '0' && line[i] <= '9') {
      port = port * 10 + (line[i++] - '0');
    }
    return port;
  }
  void Append(const char* s) {
    absl::MutexLock lock(&mu_);
    log_ += s;
  }

  pid_t pid_ = -1;
  FILE* in_ = nullptr;
  std::thread drain_;
  int api_port_ = 0;
  int rest_port_ = 0;
  absl::Mutex mu_;
  std::string log_ ABSL_GUARDED_BY(mu_);
};

// What the clients were told succeeded.
struct Acknowledged {
  absl::Mutex mu;
  std::set<std::string> grants ABSL_GUARDED_BY(mu);       // "grants/x"
  std::set<std::string> withdrawals ABSL_GUARDED_BY(mu);  // "grants/x"
  std::set<std::string> entry_texts ABSL_GUARDED_BY(mu);
  std::set<std::string> read_actors ABSL_GUARDED_BY(mu);
  int count ABSL_GUARDED_BY(mu) = 0;  // calls acknowledged

  // Waits until `n` calls are acknowledged; false if that takes a minute
  // (the server stopped answering).
  bool AwaitCount(int n) {
    auto reached_n = [this, n]()
                         ABSL_NO_THREAD_SAFETY_ANALYSIS { return count >= n; };
    const bool reached =
        mu.LockWhenWithTimeout(absl::Condition(&reached_n), absl::Minutes(1));
    mu.Unlock();
    return reached;
  }
};

// Uses ServerTest's helpers (agencies, the story's people, calls) but runs
// samplan-server as a separate process instead of in-process.
class CrashTest : public ServerTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(PkiDir() / "main" / "ca.pem"))
        << "run through ctest: the pki_setup fixture makes the certificates";
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("samplan-crash-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    db_ = (dir_ / "samplan.db").string();
    RegisterAgencies(db_);
    WriteAuditKey();
    if (HasFatalFailure()) return;
    config_path_ = (dir_ / "samplan.textproto").string();
    const std::string pki = (PkiDir() / "main").string();
    std::ofstream(config_path_) << absl::StrCat(
        "api { address: \"127.0.0.1:0\" }\n",
        "rest { address: \"127.0.0.1:0\" }\n", "tls {\n  ca_file: \"", pki,
        "/ca.pem\"\n  cert_file: \"", pki, "/server.pem\"\n  key_file: \"", pki,
        "/server.key\"\n}\n", "storage { sqlite_path: \"", db_, "\" }\n",
        "audit {\n  origin: \"", kOrigin, "\"\n  signing_key_file: \"",
        (dir_ / "audit-key.pem").string(),
        "\"\n  checkpoint_every_events: 50\n}\n");
  }

  std::unique_ptr<v1::PlanService::Stub> PlansAt(const std::string& agency,
                                                 int port) {
    return v1::PlanService::NewStub(Channel(agency, "main", true, port));
  }
  std::unique_ptr<v1::ConsentService::Stub> ConsentsAt(
      const std::string& agency, int port) {
    return v1::ConsentService::NewStub(Channel(agency, "main", true, port));
  }

  // The plan the load reads and writes: led by the school, BUP taking
  // part, custody of both guardians, approved.
  void CreateStory(int port) {
    auto school = PlansAt("school-1", port);
    auto consents = ConsentsAt("school-1", port);
    BeginStory(*school, *consents, &plan_);
    if (HasFatalFailure()) return;
    ApproveAt(*school, plan_);
  }

  v1::Grant NewGrant() const {
    v1::Grant g;
    g.set_subject(child_);
    g.set_grantor_role(v1::GRANTOR_ROLE_GUARDIAN);
    g.set_grantor_identity_number(g1_);
    g.mutable_scope()->add_disclosing_sectors(v1::SECTOR_HEALTHCARE);
    g.mutable_scope()->add_receiving_sectors(v1::SECTOR_SCHOOL);
    g.mutable_scope()->add_categories(v1::INFORMATION_CATEGORY_NEEDS);
    const absl::Time now = absl::Now();
    Ts(now - absl::Hours(1), g.mutable_valid_from());
    Ts(now + absl::Hours(24 * 200), g.mutable_valid_until());
    g.mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
    return g;
  }

  // One load thread: random operations until `stop`, recording what was
  // acknowledged. Failures (the server is being killed) are expected and
  // not recorded.
  void Load(int round, int thread, int api_port, int rest_port,
            const std::atomic<bool>& stop, Acknowledged& acked) {
    std::mt19937 rng(static_cast<unsigned>(round * 100 + thread));
    auto school = PlansAt("school-1", api_port);
    auto bup = PlansAt("bup-1", api_port);
    auto consents = ConsentsAt("school-1", api_port);
    const std::filesystem::path rest_dir =
        dir_ / absl::StrCat("rest-", round, "-", thread);
    std::filesystem::create_directories(rest_dir);
    RestClient rest(rest_port, rest_dir);
    std::vector<std::string> mine;  // this thread's grants, not withdrawn
    for (int n = 0; !stop.load(); ++n) {
      const std::string tag = absl::StrCat(round, "-", thread, "-", n);
      const bool over_rest = rng() % 4 == 0;
      switch (rng() % 4) {
        case 0: {  // record a grant
          v1::CreateGrantRequest req;
          req.set_request_id("grant-" + tag);
          *req.mutable_grant() = NewGrant();
          std::string name;
          if (over_rest) {
            std::string json;
            (void)google::protobuf::util::MessageToJsonString(req.grant(),
                                                              &json);
            Http h =
                rest.Call({"school-1", "POST",
                           "/v1/grants?requestId=" + req.request_id(), json});
            v1::CreateGrantResponse out;
            if (h.status == 200 &&
                google::protobuf::util::JsonStringToMessage(h.body, &out)
                    .ok()) {
              name = out.grant().name();
            }
          } else {
            v1::CreateGrantResponse out;
            if (Call(*consents, &v1::ConsentService::Stub::CreateGrant, req,
                     &out)
                    .ok()) {
              name = out.grant().name();
            }
          }
          if (name.empty()) continue;
          mine.push_back(name);
          absl::MutexLock lock(&acked.mu);
          acked.grants.insert(name);
          break;
        }
        case 1: {  // withdraw one of this thread's grants
          if (mine.empty()) continue;
          v1::WithdrawGrantRequest req;
          req.set_request_id("withdraw-" + tag);
          req.set_name(mine.back());
          req.set_withdrawer_role(v1::GRANTOR_ROLE_GUARDIAN);
          req.set_withdrawer_identity_number(g1_);
          req.mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
          v1::WithdrawGrantResponse out;
          if (Call(*consents, &v1::ConsentService::Stub::WithdrawGrant, req,
                   &out)
                  .ok()) {
            absl::MutexLock lock(&acked.mu);
            acked.withdrawals.insert(mine.back());
            mine.pop_back();
          } else {
            continue;
          }
          break;
        }
        case 2: {  // read the plan, as a staff member of this read's own
          const std::string actor = "reader-" + tag;
          bool ok = false;
          if (over_rest) {
            Http h = rest.Call({"school-1", "GET", "/v1/" + plan_, "", actor});
            ok = h.status == 200;
          } else {
            v1::GetPlanRequest get;
            get.set_name(plan_);
            v1::GetPlanResponse out;
            ok =
                Call(*school, &v1::PlanService::Stub::GetPlan, get, &out, actor)
                    .ok();
          }
          if (ok) {
            absl::MutexLock lock(&acked.mu);
            acked.read_actors.insert(actor);
          } else {
            continue;  // not acknowledged: not counted
          }
          break;
        }
        default: {  // BUP writes an entry
          v1::CreateEntryRequest req;
          req.set_request_id("entry-" + tag);
          req.set_parent(plan_);
          req.mutable_entry()->set_category(
              v1::INFORMATION_CATEGORY_INTERVENTIONS);
          req.mutable_entry()->set_kind(v1::ENTRY_KIND_NOTE);
          req.mutable_entry()->set_text("load " + tag);
          v1::CreateEntryResponse out;
          if (!Call(*bup, &v1::PlanService::Stub::CreateEntry, req, &out)
                   .ok()) {
            continue;
          }
          absl::MutexLock lock(&acked.mu);
          acked.entry_texts.insert(req.entry().text());
          break;
        }
      }
      absl::MutexLock lock(&acked.mu);
      ++acked.count;
    }
  }

  std::string db_;
  std::string config_path_;
  std::string plan_;
};

TEST_F(CrashTest, NothingAcknowledgedIsLostAcrossRepeatedSigkills) {
  int rounds = 20;
  if (const char* env = std::getenv("SAMPLAN_CRASH_ROUNDS")) {
    ASSERT_TRUE(absl::SimpleAtoi(env, &rounds) && rounds > 0) << env;
  }
  constexpr int kThreads = 3;
  std::mt19937 rng(20261206);
  Acknowledged acked;
  std::vector<std::string> checkpoints;  // signed notes seen before crashes
  std::string service_logs;

  for (int round = 0; round < rounds; ++round) {
    auto server = ServerProcess::Start(config_path_);
    ASSERT_NE(server, nullptr) << "round " << round;
    if (round == 0) {
      CreateStory(server->api_port());
      ASSERT_FALSE(HasFatalFailure());
    }
    std::atomic<bool> stop{false};
    int start = 0;
    {
      absl::MutexLock lock(&acked.mu);
      start = acked.count;
    }
    // The kill comes after a random number of acknowledged calls, with
    // every load thread in the middle of its next one.
    const int target = start + 5 + static_cast<int>(rng() % 40);
    std::vector<std::thread> load;
    for (int t = 0; t < kThreads; ++t) {
      load.emplace_back(
          [&, t, api = server->api_port(), rest = server->rest_port()] {
            Load(round, t, api, rest, stop, acked);
          });
    }
    // Halfway, an auditor saves the latest checkpoint.
    auto audits = v1::AuditService::NewStub(
        Channel("auditor-1", "main", true, server->api_port()));
    EXPECT_TRUE(acked.AwaitCount((start + target) / 2)) << "round " << round;
    v1::GetLatestCheckpointRequest req;
    req.set_refresh(true);
    v1::GetLatestCheckpointResponse out;
    if (Call(*audits, &v1::AuditService::Stub::GetLatestCheckpoint, req, &out,
             "revisor")
            .ok()) {
      checkpoints.push_back(out.checkpoint().signed_note());
    }
    EXPECT_TRUE(acked.AwaitCount(target)) << "round " << round;
    server->Kill(SIGKILL);
    stop = true;
    for (auto& t : load) t.join();
    service_logs += server->Log();
  }

  // The last start: the final checkpoint and the export, then a clean stop.
  auto server = ServerProcess::Start(config_path_);
  ASSERT_NE(server, nullptr);
  auto audits = v1::AuditService::NewStub(
      Channel("auditor-1", "main", true, server->api_port()));
  const Export exported = ExportAll(*audits);
  server->Kill(SIGTERM);
  service_logs += server->Log();

  absl::MutexLock lock(&acked.mu);
  EXPECT_GE(checkpoints.size(), static_cast<size_t>(rounds) - 1);
  EXPECT_GT(acked.grants.size(), 0u);
  EXPECT_GT(acked.withdrawals.size(), 0u);
  EXPECT_GT(acked.entry_texts.size(), 0u);
  EXPECT_GT(acked.read_actors.size(), 0u);

  // Offline: the database as the last server left it.
  auto store = storage::OpenSqliteStore(storage::SqliteOptions{db_});
  ASSERT_THAT(store, IsOk());
  std::map<std::string, int> grant_states;  // "grants/x" -> GrantState
  std::set<std::string> entry_texts;
  std::vector<v1::AuditEvent> events;
  ASSERT_THAT((*store)->Read([&](storage::Transaction& tx) -> absl::Status {
    storage::GrantQuery all;
    all.limit = 1000000;
    ASSIGN_OR_RETURN(std::vector<v1::Grant> grants, tx.grants().List(all));
    for (const v1::Grant& g : grants) grant_states[g.name()] = g.state();
    ASSIGN_OR_RETURN(std::vector<v1::Entry> entries,
                     tx.plans().ListEntries(plan_.substr(6)));
    for (const v1::Entry& e : entries) entry_texts.insert(e.text());
    storage::AuditQuery q;
    q.limit = 10000000;
    ASSIGN_OR_RETURN(events, tx.audit().Query(q));
    return absl::OkStatus();
  }),
              IsOk());

  // Every acknowledged write is there.
  for (const std::string& g : acked.grants) {
    EXPECT_TRUE(grant_states.count(g) == 1) << g << " was acknowledged";
  }
  for (const std::string& g : acked.withdrawals) {
    EXPECT_EQ(grant_states[g], v1::GRANT_STATE_WITHDRAWN)
        << g << " was withdrawn";
  }
  for (const std::string& t : acked.entry_texts) {
    EXPECT_TRUE(entry_texts.count(t) == 1) << "'" << t << "' was written";
  }
  // Every acknowledged read has its record; no change is half done.
  std::set<std::string> read_actors;
  std::map<std::string, int> recorded, withdrawn;
  int entries_recorded = 0;
  for (const v1::AuditEvent& e : events) {
    if (e.action() == v1::AUDIT_ACTION_PLAN_READ) read_actors.insert(e.actor());
    if (e.decision() != v1::DECISION_ALLOW) continue;
    if (e.action() == v1::AUDIT_ACTION_GRANT_RECORDED) ++recorded[e.resource()];
    if (e.action() == v1::AUDIT_ACTION_GRANT_WITHDRAWN) {
      ++withdrawn[e.resource()];
    }
    if (e.action() == v1::AUDIT_ACTION_ENTRY_WRITTEN) ++entries_recorded;
  }
  for (const std::string& actor : acked.read_actors) {
    EXPECT_TRUE(read_actors.count(actor) == 1) << actor << "'s read";
  }
  int load_entries = 0;
  for (const std::string& t : entry_texts)
    load_entries += t.rfind("load ", 0) == 0;
  EXPECT_EQ(entries_recorded, load_entries);
  for (const auto& [grant, state] : grant_states) {
    EXPECT_EQ(recorded[grant], 1) << grant;
    EXPECT_EQ(withdrawn[grant], state == v1::GRANT_STATE_WITHDRAWN ? 1 : 0)
        << grant;
  }
  for (const auto& [grant, n] : recorded) {
    EXPECT_TRUE(grant_states.count(grant) == 1) << grant << " has a record";
  }

  // The log verifies offline, consistent with every checkpoint seen.
  for (const std::string& note : checkpoints) {
    std::istringstream in(exported.lines);
    audit::VerifyResult r =
        audit::VerifyExport(in, exported.checkpoint_note, *verifier_, note);
    ASSERT_TRUE(r.ok) << r.problem;
  }
  std::istringstream in(exported.lines);
  audit::VerifyResult r =
      audit::VerifyExport(in, exported.checkpoint_note, *verifier_);
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.events, static_cast<int64_t>(events.size()));

  // No personal data in the service log.
  for (const std::string& personal : {child_, g1_, g2_, std::string("load ")}) {
    EXPECT_THAT(service_logs, Not(HasSubstr(personal)));
  }
  std::printf(
      "crash test: %d SIGKILLs, %zu checkpoints, %zu grants, %zu "
      "withdrawals, %zu entries, %zu reads acknowledged, %zu audit "
      "events verified\n",
      rounds, checkpoints.size(), acked.grants.size(), acked.withdrawals.size(),
      acked.entry_texts.size(), acked.read_actors.size(), events.size());
}

}  // namespace
}  // namespace samplan::server
