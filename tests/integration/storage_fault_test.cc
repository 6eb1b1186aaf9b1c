// Storage faults under a running server, over gRPC and REST: a full disk or
// a failing device while the audit log is appended (injected through
// storage/fault_vfs.h, never by filling the real disk), and a damaged
// database page. No reply leaves without its audit record, nothing is
// stored, the operators' log says what failed without personal data, and
// the server recovers by itself once the fault clears.

#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "SQLiteCpp/Database.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "audit/verify.h"
#include "sqlite3.h"
#include "storage/fault_vfs.h"
#include "tests/integration/rest_client.h"

namespace samplan::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class StorageFaultTest : public StoryTest {
 protected:
  StorageFaultTest() : vfs_(storage::FaultVfs::Install()) {
    sqlite_vfs_ = storage::FaultVfs::kName;
  }
  ~StorageFaultTest() override { vfs_.Fail(0); }

  RestClient& Rest() {
    if (rest_ == nullptr) {
      rest_ = std::make_unique<RestClient>(server_->rest_port(), dir_);
    }
    return *rest_;
  }

  v1::CreateEntryRequest EntryRequest(const std::string& request_id,
                                      const std::string& text) {
    v1::CreateEntryRequest req;
    req.set_request_id(request_id);
    req.set_parent(plan_);
    req.mutable_entry()->set_category(v1::INFORMATION_CATEGORY_INTERVENTIONS);
    req.mutable_entry()->set_kind(v1::ENTRY_KIND_NOTE);
    req.mutable_entry()->set_text(text);
    return req;
  }

  // Entries of the plan with `text`, as its lead agency sees them.
  int EntriesWithText(const std::string& text) {
    v1::GetPlanRequest get;
    get.set_name(plan_);
    get.set_view(v1::PLAN_VIEW_LATEST);
    v1::GetPlanResponse out;
    EXPECT_THAT(Call(*bup_, &v1::PlanService::Stub::GetPlan, get, &out),
                IsOk());
    int n = 0;
    for (const auto& e : out.entries()) n += e.text() == text;
    return n;
  }

  storage::FaultVfs& vfs_;
  std::unique_ptr<RestClient> rest_;
};

// While the disk refuses writes, a read cannot append its audit record and
// so is not answered (UNAVAILABLE, HTTP 503, no plan content), a write is
// not stored, and the service log names the method and the failure once a
// second without personal data; when the fault clears the same calls work,
// with no restart, the retried write is stored once, and the audit log
// verifies with exactly the records of the answered calls.
TEST_F(StorageFaultTest, AFullDiskIsUnavailableUntilItClears) {
  for (const int fault : {SQLITE_FULL, SQLITE_IOERR}) {
    SCOPED_TRACE(fault == SQLITE_FULL ? "disk full" : "device error");
    LogCapture log;
    clock_.Advance(absl::Seconds(2));  // the fault log's once-a-second line
    const std::string text = absl::StrCat("BUP: sessions moved ", fault);
    const std::string request_id = absl::StrCat("fault-entry-", fault);
    const int64_t before = AuditSize();

    vfs_.Fail(fault);
    v1::GetPlanRequest get;
    get.set_name(plan_);
    v1::GetPlanResponse got;
    EXPECT_THAT(Call(*school_, &v1::PlanService::Stub::GetPlan, get, &got),
                StatusIs(absl::StatusCode::kUnavailable));
    EXPECT_FALSE(got.has_plan());
    Http rest_read = Rest().Call({"school-1", "GET", "/v1/" + plan_});
    EXPECT_EQ(rest_read.status, 503) << rest_read.body;
    EXPECT_THAT(rest_read.body, Not(HasSubstr("BUP:")));
    EXPECT_THAT(rest_read.body, Not(HasSubstr(child_)));
    v1::CreateEntryResponse written;
    EXPECT_THAT(Call(*bup_, &v1::PlanService::Stub::CreateEntry,
                     EntryRequest(request_id, text), &written),
                StatusIs(absl::StatusCode::kUnavailable));
    Http rest_write = Rest().Call(
        {"bup-1", "POST",
         absl::StrCat("/v1/", plan_, "/entries?requestId=rest-", request_id),
         absl::StrCat(R"({"category":"INFORMATION_CATEGORY_NEEDS",)",
                      R"("kind":"ENTRY_KIND_NOTE","text":")", text, R"("})")});
    EXPECT_EQ(rest_write.status, 503) << rest_write.body;
    EXPECT_GT(vfs_.failures(), 0);

    vfs_.Fail(0);
    EXPECT_EQ(AuditSize(), before) << "a refused call left a record";
    EXPECT_EQ(EntriesWithText(text), 0);  // one read: one record
    // The same calls again: answered, with no restart.
    EXPECT_THAT(Call(*school_, &v1::PlanService::Stub::GetPlan, get, &got),
                IsOk());
    EXPECT_THAT(Call(*bup_, &v1::PlanService::Stub::CreateEntry,
                     EntryRequest(request_id, text), &written),
                IsOk());
    EXPECT_THAT(Call(*bup_, &v1::PlanService::Stub::CreateEntry,
                     EntryRequest(request_id, text), &written),
                IsOk());  // a retry: answered from the request log
    EXPECT_EQ(EntriesWithText(text), 1);
    // Three reads and one stored write; the retry adds nothing.
    EXPECT_EQ(AuditSize(), before + 4);

    const std::string logged = log.Text();
    EXPECT_THAT(logged, HasSubstr("call failed: samplan.v1.PlanService"));
    EXPECT_THAT(logged, HasSubstr("UNAVAILABLE"));
    // Four calls failed within the same second: one line; the three left
    // out are counted a second later (by the next such line, or by the
    // maintenance thread's flush, whichever comes first).
    const std::vector<std::string> parts =
        absl::StrSplit(logged, "call failed:");
    EXPECT_EQ(parts.size(), 2u) << logged;
    if (fault == SQLITE_IOERR) {
      EXPECT_THAT(
          logged,
          ::testing::AnyOf(HasSubstr("(and 3 more failed calls since the last "
                                     "such line)"),
                           HasSubstr("calls failed: 3 more since the last such "
                                     "line")));
    }
    for (const std::string& personal : {child_, g1_, g2_, text}) {
      EXPECT_THAT(logged, Not(HasSubstr(personal)));
    }
  }
  auto audits = Audits();
  const Export exported = ExportAll(*audits);
  std::istringstream in(exported.lines);
  audit::VerifyResult verified =
      audit::VerifyExport(in, exported.checkpoint_note, *verifier_);
  EXPECT_TRUE(verified.ok) << verified.problem;
}

// A damaged page under the plan's entries: GetPlan is DATA_LOSS over gRPC
// and HTTP 500 over REST, with no entry served, and the log says so; the
// records of other data still answer.
TEST_F(StorageFaultTest, ADamagedPageIsDataLossNeverServed) {
  server_.reset();  // closing copies the write-ahead log into the file
  const std::string db = (dir_ / "samplan.db").string();
  int64_t root = 0;
  int page_size = 0;
  {
    SQLite::Database raw(db, SQLite::OPEN_READONLY);
    root = raw.execAndGet(
                  "SELECT rootpage FROM sqlite_master WHERE name = 'entries'")
               .getInt64();
    page_size = raw.execAndGet("PRAGMA page_size").getInt();
  }
  {
    std::fstream f(db, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp((root - 1) * page_size);
    const std::string garbage(static_cast<size_t>(page_size), '\xab');
    f.write(garbage.data(), page_size);
    ASSERT_TRUE(f.good());
  }
  LogCapture log;
  ServerOptions options;
  options.config = config_;
  options.clock = &clock_;
  options.ids = app::NewSequentialIdGenerator();
  auto restarted = Server::Start(std::move(options));
  ASSERT_THAT(restarted, IsOk());
  server_ = *std::move(restarted);

  auto bup = Plans("bup-1");
  v1::GetPlanRequest get;
  get.set_name(plan_);
  v1::GetPlanResponse got;
  EXPECT_THAT(Call(*bup, &v1::PlanService::Stub::GetPlan, get, &got),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_EQ(got.entries_size(), 0);
  Http rest = Rest().Call({"bup-1", "GET", "/v1/" + plan_});
  EXPECT_EQ(rest.status, 500) << rest.body;
  EXPECT_THAT(rest.body, HasSubstr("STORAGE_CORRUPT"));
  EXPECT_THAT(rest.body, Not(HasSubstr("BUP:")));
  EXPECT_THAT(log.Text(),
              HasSubstr("call failed: samplan.v1.PlanService.GetPlan: "
                        "DATA_LOSS"));

  // Consent data lives on other pages and still answers.
  auto consents = Consents("school-1");
  v1::SearchCustodyFactsRequest custody;
  custody.set_subject(child_);
  v1::SearchCustodyFactsResponse facts;
  EXPECT_THAT(Call(*consents, &v1::ConsentService::Stub::SearchCustodyFacts,
                   custody, &facts),
              IsOk());
  EXPECT_EQ(facts.custody_facts_size(), 2);
}

}  // namespace
}  // namespace samplan::server
