// The fixtures of the integration tests: the server in-process on
// 127.0.0.1:0 with real mutual TLS (certificates from deploy/dev-pki.sh,
// made by the pki_setup test fixture), a temporary SQLite file and a fake
// clock (ServerTest); and a plan told as a story (StoryTest): a child of
// 10 with two guardians, a school as lead agency and BUP invited.

#ifndef SAMPLAN_TESTS_INTEGRATION_FIXTURE_H_
#define SAMPLAN_TESTS_INTEGRATION_FIXTURE_H_

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/synchronization/notification.h"
#include "app/app_support.h"
#include "audit/leaf.h"
#include "audit/merkle.h"
#include "audit/note.h"
#include "audit/verify.h"
#include "common/clock.h"
#include "common/errors.h"
#include "common/status_matchers.h"
#include "consent/identity_number.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "samplan/v1/admin.grpc.pb.h"
#include "samplan/v1/audit.grpc.pb.h"
#include "samplan/v1/consent.grpc.pb.h"
#include "samplan/v1/plan.grpc.pb.h"
#include "server/config.h"
#include "server/grpc_status.h"
#include "server/server.h"
#include "spdlog/sinks/base_sink.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"
#include "storage/sqlite_store.h"

namespace samplan::server {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

inline std::string Pnr(const std::string& yyyymmdd, const std::string& nnn) {
  return yyyymmdd + nnn +
         std::to_string(consent::LuhnCheckDigit(yyyymmdd.substr(2) + nnn));
}

inline std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::filesystem::path PkiDir() {
  const char* dir = std::getenv("SAMPLAN_TEST_PKI");
  return dir != nullptr ? std::filesystem::path(dir)
                        : std::filesystem::path("tests/pki");
}

inline absl::Time Utc(int y, int m, int d, int hh = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, 0, 0),
                         absl::UTCTimeZone());
}

inline void Ts(absl::Time t, google::protobuf::Timestamp* out) {
  SetTimestamp(t, out);
}

// The service log as the tests read it: spdlog's default logger gets one
// more sink, once, before the first server of the process starts
// (ServerTest::SetUp), and is never swapped while servers log.
class CaptureSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  static CaptureSink& Get() {
    static CaptureSink* const sink = [] {
      auto capture = std::make_shared<CaptureSink>();
      auto to_stderr = std::make_shared<spdlog::sinks::stderr_sink_mt>();
      spdlog::set_default_logger(std::make_shared<spdlog::logger>(
          "samplan-test", spdlog::sinks_init_list{to_stderr, capture}));
      return capture.get();  // the logger keeps it
    }();
    return *sink;
  }
  void Begin() {
    std::lock_guard<std::mutex> lock(mutex_);
    capturing_ = true;
    text_.clear();
  }
  void End() {
    std::lock_guard<std::mutex> lock(mutex_);
    capturing_ = false;
  }
  std::string Text() {
    std::lock_guard<std::mutex> lock(mutex_);
    return text_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (!capturing_) return;
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    text_.append(formatted.data(), formatted.size());
  }
  void flush_() override {}

 private:
  bool capturing_ = false;
  std::string text_;
};

// What the service log said while it lives.
class LogCapture {
 public:
  LogCapture() { CaptureSink::Get().Begin(); }
  ~LogCapture() { CaptureSink::Get().End(); }
  std::string Text() { return CaptureSink::Get().Text(); }
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(PkiDir() / "main" / "ca.pem"))
        << "run through ctest: the pki_setup fixture makes the certificates";
    CaptureSink::Get();  // before any server of this process logs
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("samplan-it-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    const std::string db = (dir_ / "samplan.db").string();
    RegisterAgencies(db);

    config::v1::ServerConfig cfg;
    cfg.mutable_api()->set_address("127.0.0.1:0");
    cfg.mutable_rest()->set_address("127.0.0.1:0");
    cfg.mutable_tls()->set_ca_file((PkiDir() / "main" / "ca.pem").string());
    cfg.mutable_tls()->set_cert_file(
        (PkiDir() / "main" / "server.pem").string());
    cfg.mutable_tls()->set_key_file(
        (PkiDir() / "main" / "server.key").string());
    cfg.mutable_storage()->set_sqlite_path(db);
    cfg.mutable_limits()->set_shutdown_grace_seconds(1);
    WriteAuditKey();
    if (HasFatalFailure()) return;
    cfg.mutable_audit()->set_origin(kOrigin);
    cfg.mutable_audit()->set_signing_key_file(
        (dir_ / "audit-key.pem").string());
    Configure(cfg);
    ASSERT_THAT(FinishConfig(cfg), IsOk());
    config_ = cfg;
    ServerOptions options;
    options.config = cfg;
    options.clock = &clock_;
    options.ids = app::NewSequentialIdGenerator();
    options.sqlite_vfs = sqlite_vfs_;
    auto server = Server::Start(std::move(options));
    ASSERT_THAT(server, IsOk());
    server_ = *std::move(server);
  }

  // Lets a test class change the configuration before the server starts.
  virtual void Configure(config::v1::ServerConfig&) {}

  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  static void RegisterAgencies(const std::string& db) {
    auto store = storage::OpenSqliteStore(storage::SqliteOptions{db});
    ASSERT_THAT(store, IsOk());
    RegisterAgencies(**store);
  }
  static void RegisterAgencies(storage::Store& store) {
    struct A {
      const char* id;
      v1::Sector sector;
      v1::AgencyRole role;
      bool active;
    };
    const A agencies[] = {
        {"school-1", v1::SECTOR_SCHOOL, v1::AGENCY_ROLE_AGENCY_SYSTEM, true},
        {"social-1", v1::SECTOR_SOCIAL_SERVICES, v1::AGENCY_ROLE_AGENCY_SYSTEM,
         true},
        {"bup-1", v1::SECTOR_HEALTHCARE, v1::AGENCY_ROLE_AGENCY_SYSTEM, true},
        {"auditor-1", v1::SECTOR_HEALTHCARE, v1::AGENCY_ROLE_AUDITOR, true},
        {"admin-1", v1::SECTOR_SOCIAL_SERVICES, v1::AGENCY_ROLE_ADMINISTRATOR,
         true},
        {"disabled-1", v1::SECTOR_SCHOOL, v1::AGENCY_ROLE_AGENCY_SYSTEM, false},
    };
    ASSERT_THAT(store.Write([&](storage::Transaction& tx) -> absl::Status {
      for (const A& a : agencies) {
        v1::Agency agency;
        agency.set_name(std::string("agencies/") + a.id);
        agency.set_sector(a.sector);
        agency.set_role(a.role);
        agency.set_state(a.active ? v1::AGENCY_STATE_ACTIVE
                                  : v1::AGENCY_STATE_DISABLED);
        absl::Status s = tx.agencies().Create(agency);
        if (!s.ok()) return s;
      }
      return absl::OkStatus();
    }),
                IsOk());
  }

  std::shared_ptr<grpc::Channel> Channel(const std::string& agency,
                                         const std::string& pki = "main",
                                         bool with_cert = true, int port = 0) {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = ReadFile(PkiDir() / "main" / "ca.pem");
    if (with_cert) {
      tls.pem_private_key = ReadFile(PkiDir() / pki / (agency + ".key"));
      tls.pem_cert_chain = ReadFile(PkiDir() / pki / (agency + ".pem"));
    }
    return grpc::CreateChannel(
        "localhost:" + std::to_string(port != 0 ? port : server_->api_port()),
        grpc::SslCredentials(tls));
  }

  std::unique_ptr<v1::PlanService::Stub> Plans(const std::string& agency) {
    return v1::PlanService::NewStub(Channel(agency));
  }
  std::unique_ptr<v1::ConsentService::Stub> Consents(
      const std::string& agency) {
    return v1::ConsentService::NewStub(Channel(agency));
  }

  // A context with the actor and a deadline.
  static std::unique_ptr<grpc::ClientContext> Ctx(
      const std::string& actor = "staff-1") {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!actor.empty()) ctx->AddMetadata("x-samplan-actor", actor);
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::seconds(20));
    return ctx;
  }

  template <typename Stub, typename Req, typename Resp>
  absl::Status Call(Stub& stub,
                    grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                 const Req&, Resp*),
                    const Req& req, Resp* resp,
                    const std::string& actor = "staff-1") {
    auto ctx = Ctx(actor);
    return FromGrpcStatus((stub.*method)(ctx.get(), req, resp));
  }

  int64_t AuditSize() {
    // A second connection to the same WAL database sees committed events.
    auto store = storage::OpenSqliteStore(
        storage::SqliteOptions{(dir_ / "samplan.db").string()});
    int64_t size = -1;
    EXPECT_THAT((*store)->Read([&](storage::Transaction& tx) -> absl::Status {
      auto s = tx.audit().Size();
      if (!s.ok()) return s.status();
      size = *s;
      return absl::OkStatus();
    }),
                IsOk());
    return size;
  }

  // Every audit event of the database at `db` (default: the server's).
  std::vector<v1::AuditEvent> AuditEvents(std::string db = "") {
    if (db.empty()) db = (dir_ / "samplan.db").string();
    auto store = storage::OpenSqliteStore(storage::SqliteOptions{db});
    std::vector<v1::AuditEvent> out;
    EXPECT_THAT((*store)->Read([&](storage::Transaction& tx) -> absl::Status {
      storage::AuditQuery q;
      q.limit = 100000;
      auto events = tx.audit().Query(q);
      if (!events.ok()) return events.status();
      out = *std::move(events);
      return absl::OkStatus();
    }),
                IsOk());
    return out;
  }

  // --- The story's people: a child of 10 with two guardians. ---
  const std::string child_ = Pnr("20160510", "238");
  const std::string g1_ = Pnr("19850301", "111");
  const std::string g2_ = Pnr("19870712", "222");

  static constexpr char kOrigin[] = "test.localhost/audit";

  std::unique_ptr<v1::AuditService::Stub> Audits(
      const std::string& agency = "auditor-1") {
    return v1::AuditService::NewStub(Channel(agency));
  }
  // The whole audit log exported through `audits` (as the auditor's
  // staff member "revisor"): its JSON lines and the export's checkpoint.
  struct Export {
    std::string lines;
    std::string checkpoint_note;
  };
  Export ExportAll(v1::AuditService::Stub& audits) {
    auto ctx = Ctx("revisor");
    auto reader =
        audits.ExportAuditEvents(ctx.get(), v1::ExportAuditEventsRequest());
    v1::ExportAuditEventsResponse chunk;
    Export out;
    while (reader->Read(&chunk)) {
      if (chunk.has_checkpoint()) {
        out.checkpoint_note = chunk.checkpoint().signed_note();
      }
      out.lines += chunk.json_lines();
    }
    EXPECT_TRUE(reader->Finish().ok());
    return out;
  }

  std::unique_ptr<v1::AdminService::Stub> Admins(
      const std::string& agency = "admin-1") {
    return v1::AdminService::NewStub(Channel(agency));
  }

  // A new audit signing key in dir_/audit-key.pem; verifier_ checks its
  // notes.
  void WriteAuditKey() {
    auto pem = audit::GenerateSigningKeyPem();
    ASSERT_THAT(pem, IsOk());
    std::ofstream(dir_ / "audit-key.pem") << *pem;
    auto signer = audit::NoteSigner::FromPrivateKeyPem(*pem, kOrigin);
    ASSERT_THAT(signer, IsOk());
    auto verifier =
        audit::NoteVerifier::FromVerifierKey((*signer)->VerifierKey());
    ASSERT_THAT(verifier, IsOk());
    verifier_ = std::make_unique<audit::NoteVerifier>(*verifier);
  }

  // The story's beginning, on any server: school-1 (through `school` and
  // `consents`) creates a plan about the child with BUP invited, and
  // records both guardians' custody; `plan` gets the plan's name.
  void BeginStory(v1::PlanService::Stub& school,
                  v1::ConsentService::Stub& consents, std::string* plan) {
    v1::CreatePlanRequest create;
    create.set_request_id("create-1");
    create.mutable_plan()->set_subject(child_);
    create.mutable_plan()->mutable_coordinator()->set_display_name("Anna");
    auto* p = create.add_participants();
    p->set_kind(v1::PARTICIPANT_KIND_AGENCY);
    p->set_agency("agencies/bup-1");
    v1::CreatePlanResponse created;
    ASSERT_THAT(
        Call(school, &v1::PlanService::Stub::CreatePlan, create, &created),
        IsOk());
    *plan = created.plan().name();

    for (const std::string* g : {&g1_, &g2_}) {
      v1::CreateCustodyFactRequest custody;
      custody.set_request_id("custody-" + *g);
      custody.mutable_custody_fact()->set_subject(child_);
      custody.mutable_custody_fact()->set_guardian_identity_number(*g);
      Ts(Utc(2016, 5, 10),
         custody.mutable_custody_fact()->mutable_valid_from());
      custody.mutable_custody_fact()->mutable_evidence()->set_kind(
          v1::EVIDENCE_KIND_REGISTER_EXTRACT);
      v1::CreateCustodyFactResponse out;
      ASSERT_THAT(Call(consents, &v1::ConsentService::Stub::CreateCustodyFact,
                       custody, &out),
                  IsOk());
    }
  }

  // Both guardians approve the newest revision of `plan`, recorded by
  // school-1 through `school`.
  void ApproveAt(v1::PlanService::Stub& school, const std::string& plan) {
    v1::GetPlanRequest get;
    get.set_name(plan);
    get.set_view(v1::PLAN_VIEW_LATEST);
    v1::GetPlanResponse current;
    ASSERT_THAT(Call(school, &v1::PlanService::Stub::GetPlan, get, &current),
                IsOk());
    v1::ApprovePlanRequest approve;
    approve.set_request_id("approve-" +
                           std::to_string(current.plan().revision()));
    approve.set_name(plan);
    approve.set_revision(current.plan().revision());
    for (const std::string* g : {&g1_, &g2_}) {
      auto* a = approve.add_approvals();
      a->set_approver_role(v1::APPROVER_ROLE_GUARDIAN);
      a->set_approver_identity_number(*g);
      a->mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
    }
    v1::ApprovePlanResponse approved;
    ASSERT_THAT(
        Call(school, &v1::PlanService::Stub::ApprovePlan, approve, &approved),
        IsOk());
  }

  FakeClock clock_{Utc(2026, 6, 1, 10)};
  // The SQLite VFS the server opens its database through; a test class
  // sets it in its constructor (ServerOptions::sqlite_vfs).
  std::string sqlite_vfs_;
  config::v1::ServerConfig config_;  // the server's, as started
  std::filesystem::path dir_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<audit::NoteVerifier> verifier_;
};

// ---------------------------------------------- the story, end to end

class StoryTest : public ServerTest {
 protected:
  // School creates a plan with BUP invited; custody of both guardians is
  // registered; both approve.
  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    school_ = Plans("school-1");
    bup_ = Plans("bup-1");
    social_ = Plans("social-1");
    consents_ = Consents("school-1");

    BeginStory(*school_, *consents_, &plan_);
    if (HasFatalFailure()) return;

    // The guardians approve the plan; only then may BUP see and write it.
    Approve();
    // BUP writes an interventions entry and a health entry, and the
    // guardians approve that revision too.
    interventions_ = WriteEntry(*bup_, v1::INFORMATION_CATEGORY_INTERVENTIONS,
                                v1::ENTRY_KIND_NOTE, "BUP: weekly sessions");
    health_ = WriteEntry(*bup_, v1::INFORMATION_CATEGORY_HEALTH,
                         v1::ENTRY_KIND_NOTE, "BUP: diagnosis");
    Approve();
  }

  std::string WriteEntry(v1::PlanService::Stub& stub,
                         v1::InformationCategory category, v1::EntryKind kind,
                         const std::string& text) {
    v1::CreateEntryRequest req;
    req.set_request_id("entry-" + std::to_string(++entries_written_));
    req.set_parent(plan_);
    req.mutable_entry()->set_category(category);
    req.mutable_entry()->set_kind(kind);
    req.mutable_entry()->set_text(text);
    v1::CreateEntryResponse out;
    EXPECT_THAT(Call(stub, &v1::PlanService::Stub::CreateEntry, req, &out),
                IsOk());
    return out.entry().name();
  }

  void Approve() { ApproveAt(*school_, plan_); }

  std::string Grant(const std::string& guardian, const std::string& id) {
    v1::CreateGrantRequest req;
    req.set_request_id(id);
    v1::Grant* g = req.mutable_grant();
    g->set_subject(child_);
    g->set_grantor_role(v1::GRANTOR_ROLE_GUARDIAN);
    g->set_grantor_identity_number(guardian);
    g->mutable_scope()->add_disclosing_sectors(v1::SECTOR_HEALTHCARE);
    g->mutable_scope()->add_receiving_sectors(v1::SECTOR_SCHOOL);
    g->mutable_scope()->add_categories(v1::INFORMATION_CATEGORY_NEEDS);
    g->mutable_scope()->add_categories(v1::INFORMATION_CATEGORY_INTERVENTIONS);
    Ts(Utc(2026, 6, 1), g->mutable_valid_from());
    Ts(Utc(2027, 3, 1), g->mutable_valid_until());
    g->mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
    v1::CreateGrantResponse out;
    EXPECT_THAT(
        Call(*consents_, &v1::ConsentService::Stub::CreateGrant, req, &out),
        IsOk());
    return out.grant().name();
  }

  v1::GetPlanResponse SchoolReads() {
    v1::GetPlanRequest get;
    get.set_name(plan_);
    v1::GetPlanResponse out;
    EXPECT_THAT(Call(*school_, &v1::PlanService::Stub::GetPlan, get, &out),
                IsOk());
    return out;
  }

  std::unique_ptr<v1::PlanService::Stub> school_, bup_, social_;
  std::unique_ptr<v1::ConsentService::Stub> consents_;
  std::string plan_, interventions_, health_;
  int entries_written_ = 0;
};

}  // namespace samplan::server

#endif  // SAMPLAN_TESTS_INTEGRATION_FIXTURE_H_
