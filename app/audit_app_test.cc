// AuditApp and the Checkpointer over an in-memory store: proofs for every
// event, exports that verify offline, searches and extracts that are
// themselves audited, and the checkpoint schedule.

#include "app/audit_app.h"

#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "app/checkpointer.h"
#include "app/consent_app.h"
#include "audit/leaf.h"
#include "audit/merkle.h"
#include "audit/note.h"
#include "audit/receipt.h"
#include "audit/verify.h"
#include "common/clock.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "common/status_matchers.h"
#include "consent/identity_number.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "samplan/v1/admin.pb.h"
#include "samplan/v1/audit.pb.h"
#include "samplan/v1/consent.pb.h"
#include "storage/sqlite_store.h"

namespace samplan::app {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

std::string Pnr(const std::string& yyyymmdd, const std::string& nnn) {
  return yyyymmdd + nnn +
         std::to_string(consent::LuhnCheckDigit(yyyymmdd.substr(2) + nnn));
}

class AuditAppTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pem = audit::GenerateSigningKeyPem();
    ASSERT_THAT(pem, IsOk());
    auto signer =
        audit::NoteSigner::FromPrivateKeyPem(*pem, "test.example/audit");
    ASSERT_THAT(signer, IsOk());
    signer_ = *std::move(signer);
    auto verifier =
        audit::NoteVerifier::FromVerifierKey(signer_->VerifierKey());
    ASSERT_THAT(verifier, IsOk());
    verifier_ = std::make_unique<audit::NoteVerifier>(*verifier);
    auto store = storage::OpenSqliteStore(storage::SqliteOptions{});
    ASSERT_THAT(store, IsOk());
    store_ = *std::move(store);
    checkpointer_ = std::make_unique<Checkpointer>(
        *signer_, Checkpointer::Options{5, absl::Seconds(10)});
    queue_ = std::make_unique<CommitQueue>(*store_);
    AppContext ctx;
    ctx.store = store_.get();
    ctx.queue = queue_.get();
    ctx.clock = &clock_;
    ctx.ids = ids_.get();
    ctx.checkpointer = checkpointer_.get();
    ctx_ = ctx;
    app_ = std::make_unique<AuditApp>(ctx);
    auditor_.agency_id = "auditor-1";
    auditor_.role = Role::kAuditor;
    auditor_.actor = "revisor";
    ASSERT_THAT(store_->Write([&](storage::Transaction& tx) -> absl::Status {
      for (auto [id, name] : {std::pair{"school-1", "Ekskolan"},
                              std::pair{"bup-1", "BUP Centrum"}}) {
        v1::Agency a;
        a.set_name(absl::StrCat("agencies/", id));
        a.set_display_name(name);
        a.set_sector(v1::SECTOR_SCHOOL);
        a.set_role(v1::AGENCY_ROLE_AGENCY_SYSTEM);
        a.set_state(v1::AGENCY_STATE_ACTIVE);
        RETURN_IF_ERROR(tx.agencies().Create(a));
      }
      return absl::OkStatus();
    }),
                IsOk());
  }

  // Appends `n` events alternating between two subjects and agencies.
  void AppendEvents(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_THAT(queue_->Run([&](storage::Transaction& tx) {
        v1::AuditEvent e;
        clock_.Advance(absl::Seconds(1));
        SetTimestamp(clock_.Now(), e.mutable_time());
        e.set_agency(i % 2 == 0 ? "agencies/school-1" : "agencies/bup-1");
        e.set_actor(absl::StrCat("staff-", i % 3));
        e.set_action(i % 4 == 2 ? v1::AUDIT_ACTION_GRANT_RECORDED
                                : v1::AUDIT_ACTION_PLAN_READ);
        e.set_subject(i % 2 == 0 ? child_ : other_);
        e.set_resource(absl::StrCat("plans/p", i % 5));
        e.set_decision(i % 3 == 0 ? v1::DECISION_DENY : v1::DECISION_ALLOW);
        if (i % 3 != 0) e.add_grants(absl::StrCat("grants/g", i));
        return tx.audit().Append(e).status();
      }),
                  IsOk());
    }
  }

  template <class Req, class Resp>
  absl::Status Call(void (AuditApp::*method)(const Caller&, const Req&, Resp*,
                                             Done),
                    const Req& req, Resp* out) {
    absl::Notification finished;
    absl::Status result;
    out->Clear();
    (app_.get()->*method)(auditor_, req, out, [&](absl::Status s) {
      result = std::move(s);
      finished.Notify();
    });
    finished.WaitForNotification();
    return result;
  }

  v1::Checkpoint LatestCheckpoint(bool refresh) {
    v1::GetLatestCheckpointRequest req;
    req.set_refresh(refresh);
    v1::GetLatestCheckpointResponse resp;
    EXPECT_THAT(Call(&AuditApp::GetLatestCheckpoint, req, &resp), IsOk());
    return resp.checkpoint();
  }

  // The whole export as text, and its checkpoint.
  std::pair<std::string, v1::Checkpoint> Export(
      const v1::ExportAuditEventsRequest& req) {
    v1::Checkpoint checkpoint;
    absl::Notification started;
    absl::StatusOr<AuditApp::Cursor> cursor;
    app_->StartExport(auditor_, req, &checkpoint,
                      [&](absl::StatusOr<AuditApp::Cursor> c) {
                        cursor = std::move(c);
                        started.Notify();
                      });
    started.WaitForNotification();
    EXPECT_THAT(cursor, IsOk());
    std::string text;
    if (!cursor.ok()) return {text, checkpoint};
    for (;;) {
      auto chunk = app_->NextChunk(*cursor);
      EXPECT_THAT(chunk, IsOk());
      if (!chunk.ok() || !chunk->has_value()) break;
      text += (*chunk)->json_lines();
    }
    return {text, checkpoint};
  }

  FakeClock clock_{absl::FromUnixSeconds(1795000000)};
  std::unique_ptr<IdGenerator> ids_ = NewSequentialIdGenerator();
  std::unique_ptr<audit::NoteSigner> signer_;
  std::unique_ptr<audit::NoteVerifier> verifier_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Checkpointer> checkpointer_;
  std::unique_ptr<CommitQueue> queue_;
  std::unique_ptr<AuditApp> app_;
  Caller auditor_;
  AppContext ctx_;
  const std::string child_ = Pnr("20140312", "238");
  const std::string other_ = Pnr("20100101", "123");
};

TEST_F(AuditAppTest, EveryEventHasAnInclusionProofThatVerifies) {
  AppendEvents(37);
  const v1::Checkpoint cp = LatestCheckpoint(/*refresh=*/true);
  ASSERT_EQ(cp.tree_size(), 37);
  auto body = audit::OpenCheckpoint(*verifier_, cp.signed_note());
  ASSERT_THAT(body, IsOk());
  EXPECT_EQ(audit::ToBytes(body->root), cp.root_hash());
  for (int64_t i = 0; i < cp.tree_size(); ++i) {
    v1::GetInclusionProofRequest req;
    req.set_leaf_index(i);
    req.set_tree_size(cp.tree_size());
    v1::GetInclusionProofResponse resp;
    ASSERT_THAT(Call(&AuditApp::GetInclusionProof, req, &resp), IsOk());
    std::vector<audit::Hash> path;
    for (const std::string& h : resp.hashes()) {
      auto hash = audit::HashFromBytes(h);
      ASSERT_THAT(hash, IsOk());
      path.push_back(*hash);
    }
    auto leaf = audit::HashFromBytes(resp.leaf_hash());
    ASSERT_THAT(leaf, IsOk());
    // The stored leaf hash is the hash of the stored event's content.
    v1::AuditEvent stored;
    ASSERT_THAT(store_->Read([&](storage::Transaction& tx) {
      ASSIGN_OR_RETURN(stored, tx.audit().Get(i));
      return absl::OkStatus();
    }),
                IsOk());
    EXPECT_EQ(audit::EventLeafHash(stored), *leaf) << i;
    EXPECT_THAT(
        audit::VerifyInclusion(i, cp.tree_size(), *leaf, path, body->root),
        IsOk())
        << i;
  }
}

TEST_F(AuditAppTest, ConsistencyProofsLinkEveryCheckpoint) {
  AppendEvents(3);
  const v1::Checkpoint first = LatestCheckpoint(true);
  AppendEvents(20);
  const v1::Checkpoint second = LatestCheckpoint(true);
  ASSERT_LT(first.tree_size(), second.tree_size());
  v1::GetConsistencyProofRequest req;
  req.set_first_size(first.tree_size());
  req.set_second_size(second.tree_size());
  v1::GetConsistencyProofResponse resp;
  ASSERT_THAT(Call(&AuditApp::GetConsistencyProof, req, &resp), IsOk());
  std::vector<audit::Hash> proof;
  for (const std::string& h : resp.hashes())
    proof.push_back(*audit::HashFromBytes(h));
  auto a = audit::HashFromBytes(first.root_hash());
  auto b = audit::HashFromBytes(second.root_hash());
  EXPECT_THAT(audit::VerifyConsistency(first.tree_size(), second.tree_size(),
                                       *a, *b, proof),
              IsOk());
  EXPECT_FALSE(audit::VerifyConsistency(first.tree_size(), second.tree_size(),
                                        *b, *a, proof)
                   .ok());
}

TEST_F(AuditAppTest, ProofArgumentsAreChecked) {
  AppendEvents(4);
  v1::GetInclusionProofRequest inc;
  inc.set_leaf_index(4);
  inc.set_tree_size(4);
  v1::GetInclusionProofResponse inc_resp;
  absl::Status s = Call(&AuditApp::GetInclusionProof, inc, &inc_resp);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(FieldOf(s), "leaf_index");
  inc.set_leaf_index(0);
  inc.set_tree_size(1000);
  s = Call(&AuditApp::GetInclusionProof, inc, &inc_resp);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_EQ(ReasonOf(s), "TREE_SIZE_OUT_OF_RANGE");
  EXPECT_EQ(FieldOf(s), "tree_size");
  v1::GetConsistencyProofRequest con;
  con.set_first_size(3);
  con.set_second_size(2);
  v1::GetConsistencyProofResponse con_resp;
  s = Call(&AuditApp::GetConsistencyProof, con, &con_resp);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(FieldOf(s), "second_size");
  con.set_second_size(5);
  s = Call(&AuditApp::GetConsistencyProof, con, &con_resp);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_EQ(ReasonOf(s), "TREE_SIZE_OUT_OF_RANGE");
  EXPECT_EQ(FieldOf(s), "second_size");
  con.set_first_size(0);
  s = Call(&AuditApp::GetConsistencyProof, con, &con_resp);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(FieldOf(s), "first_size");
}

TEST_F(AuditAppTest, ExportVerifiesOfflineAndCoversItsOwnRecord) {
  AppendEvents(25);
  auto [text, checkpoint] = Export(v1::ExportAuditEventsRequest());
  // 25 events and the export's own AUDIT_QUERIED record.
  EXPECT_EQ(checkpoint.tree_size(), 26);
  std::istringstream in(text);
  audit::VerifyResult r =
      audit::VerifyExport(in, checkpoint.signed_note(), *verifier_);
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.events, 26);
  EXPECT_THAT(text, HasSubstr("AUDIT_ACTION_AUDIT_QUERIED"));
}

TEST_F(AuditAppTest, SearchFiltersPagesAndIsAudited) {
  AppendEvents(20);
  v1::SearchAuditEventsRequest req;
  req.mutable_filter()->set_subject(child_);
  req.mutable_filter()->set_action(v1::AUDIT_ACTION_PLAN_READ);
  req.set_page_size(3);
  std::vector<int64_t> seen;
  for (int page = 0; page < 10; ++page) {
    v1::SearchAuditEventsResponse resp;
    ASSERT_THAT(Call(&AuditApp::SearchAuditEvents, req, &resp), IsOk());
    for (const auto& e : resp.audit_events()) {
      EXPECT_EQ(e.subject(), child_);
      EXPECT_EQ(e.action(), v1::AUDIT_ACTION_PLAN_READ);
      EXPECT_EQ(e.leaf_hash().size(), 32u);
      seen.push_back(e.leaf_index());
    }
    if (resp.next_page_token().empty()) break;
    std::string raw;
    ASSERT_TRUE(absl::WebSafeBase64Unescape(resp.next_page_token(), &raw));
    EXPECT_THAT(raw, ::testing::Not(HasSubstr(child_)));
    req.set_page_token(resp.next_page_token());
  }
  // Even indexes are the child's; 2, 6, 10... are grant records.
  EXPECT_THAT(seen, ElementsAre(0, 4, 8, 12, 16));
  // A token is bound to its filter.
  req.mutable_filter()->set_subject(other_);
  v1::SearchAuditEventsResponse resp;
  absl::Status s = Call(&AuditApp::SearchAuditEvents, req, &resp);
  EXPECT_EQ(ReasonOf(s), "INVALID_PAGE_TOKEN");
  // Each search page was recorded, naming the subject and the filter.
  v1::SearchAuditEventsRequest queries;
  queries.mutable_filter()->set_action(v1::AUDIT_ACTION_AUDIT_QUERIED);
  ASSERT_THAT(Call(&AuditApp::SearchAuditEvents, queries, &resp), IsOk());
  ASSERT_THAT(resp.audit_events(), SizeIs(2));  // two pages
  EXPECT_EQ(resp.audit_events(0).subject(), child_);
  EXPECT_EQ(resp.audit_events(0).agency(), "agencies/auditor-1");
  EXPECT_EQ(resp.audit_events(0).actor(), "revisor");
  EXPECT_THAT(resp.audit_events(0).detail(),
              HasSubstr("SearchAuditEvents action=AUDIT_ACTION_PLAN_READ"));
}

// Every page records its own query; a later page must not see the records
// of the earlier ones, or paging would never end.
TEST_F(AuditAppTest, PagingEndsAlthoughEveryPageIsAudited) {
  AppendEvents(6);
  for (bool extract : {false, true}) {
    std::string token;
    int pages = 0;
    do {
      ASSERT_LT(++pages, 20) << "paging does not end";
      if (extract) {
        v1::GetAccessExtractRequest req;
        req.set_subject(child_);
        req.set_page_size(1);
        req.set_page_token(token);
        v1::GetAccessExtractResponse resp;
        ASSERT_THAT(Call(&AuditApp::GetAccessExtract, req, &resp), IsOk());
        token = resp.next_page_token();
      } else {
        v1::SearchAuditEventsRequest req;
        req.mutable_filter()->set_subject(child_);
        req.set_page_size(1);
        req.set_page_token(token);
        v1::SearchAuditEventsResponse resp;
        ASSERT_THAT(Call(&AuditApp::SearchAuditEvents, req, &resp), IsOk());
        token = resp.next_page_token();
      }
    } while (!token.empty());
    // The child's 3 events (0, 2, 4); the extract lists reads only (0, 4),
    // plus the searches made before it began.
    EXPECT_EQ(pages, extract ? 2 + 3 : 3) << extract;
  }
}

TEST_F(AuditAppTest, PageArgumentsAreChecked) {
  AppendEvents(3);
  v1::SearchAuditEventsRequest req;
  req.set_page_size(-1);
  v1::SearchAuditEventsResponse resp;
  absl::Status s = Call(&AuditApp::SearchAuditEvents, req, &resp);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(FieldOf(s), "page_size");
  req.set_page_size(0);
  req.set_page_token(
      absl::WebSafeBase64Escape("SearchAuditEvents:x\nnot-a-number"));
  s = Call(&AuditApp::SearchAuditEvents, req, &resp);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(ReasonOf(s), "INVALID_PAGE_TOKEN");
  // A token of a search is no token of an extract.
  req.clear_page_token();
  req.set_page_size(1);
  ASSERT_THAT(Call(&AuditApp::SearchAuditEvents, req, &resp), IsOk());
  ASSERT_FALSE(resp.next_page_token().empty());
  v1::GetAccessExtractRequest extract;
  extract.set_subject(child_);
  extract.set_page_token(resp.next_page_token());
  v1::GetAccessExtractResponse records;
  s = Call(&AuditApp::GetAccessExtract, extract, &records);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(ReasonOf(s), "INVALID_PAGE_TOKEN");
  extract.clear_page_token();
  SetTimestamp(absl::FromUnixSeconds(100), extract.mutable_start_time());
  SetTimestamp(absl::FromUnixSeconds(100), extract.mutable_end_time());
  s = Call(&AuditApp::GetAccessExtract, extract, &records);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(FieldOf(s), "end_time");
  extract.mutable_start_time()->set_nanos(-1);
  s = Call(&AuditApp::GetAccessExtract, extract, &records);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(FieldOf(s), "start_time");
}

TEST_F(AuditAppTest, FilterErrorsNameTheField) {
  struct Case {
    v1::AuditEventFilter filter;
    std::string field;
  };
  std::vector<Case> cases(8);
  cases[0].filter.set_subject("20140312-0000");
  cases[0].field = "filter.subject";
  cases[1].filter.set_agency("school-1");
  cases[1].field = "filter.agency";
  cases[2].filter.set_action(static_cast<v1::AuditAction>(999));
  cases[2].field = "filter.action";
  cases[3].filter.set_actor(std::string(65, 'a'));
  cases[3].field = "filter.actor";
  SetTimestamp(absl::FromUnixSeconds(100),
               cases[4].filter.mutable_start_time());
  SetTimestamp(absl::FromUnixSeconds(50), cases[4].filter.mutable_end_time());
  cases[4].field = "filter.end_time";
  cases[5].filter.set_decision(static_cast<v1::Decision>(77));
  cases[5].field = "filter.decision";
  cases[6].filter.set_resource(std::string(301, 'r'));
  cases[6].field = "filter.resource";
  cases[7].filter.mutable_start_time()->set_seconds(-100000000000);
  cases[7].field = "filter.start_time";
  for (const Case& c : cases) {
    v1::SearchAuditEventsRequest req;
    *req.mutable_filter() = c.filter;
    v1::SearchAuditEventsResponse resp;
    absl::Status s = Call(&AuditApp::SearchAuditEvents, req, &resp);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument)) << c.field;
    EXPECT_EQ(FieldOf(s), c.field);
  }
  // Nothing was stored, not even a query record.
  int64_t size = -1;
  ASSERT_THAT(store_->Read([&](storage::Transaction& tx) {
    ASSIGN_OR_RETURN(size, tx.audit().Size());
    return absl::OkStatus();
  }),
              IsOk());
  EXPECT_EQ(size, 0);
}

TEST_F(AuditAppTest, AccessExtractListsReadsAboutOnePersonWithNames) {
  AppendEvents(12);
  v1::GetAccessExtractRequest req;
  req.set_subject(child_);
  v1::GetAccessExtractResponse resp;
  ASSERT_THAT(Call(&AuditApp::GetAccessExtract, req, &resp), IsOk());
  // The child's events are 0, 2, ..., 10; 2, 6 and 10 record grants, which
  // are not reads, so 0, 4 and 8 are listed.
  ASSERT_THAT(resp.records(), SizeIs(3));
  EXPECT_EQ(resp.records(0).agency(), "agencies/school-1");
  EXPECT_EQ(resp.records(0).agency_display_name(), "Ekskolan");
  EXPECT_EQ(resp.records(1).leaf_index(), 4);
  EXPECT_EQ(resp.records(1).grants(0), "grants/g4");
  // The extract itself is now a read about the child, listed next time.
  ASSERT_THAT(Call(&AuditApp::GetAccessExtract, req, &resp), IsOk());
  ASSERT_THAT(resp.records(), SizeIs(4));
  EXPECT_EQ(resp.records(3).action(), v1::AUDIT_ACTION_AUDIT_QUERIED);
  EXPECT_EQ(resp.records(3).actor(), "revisor");
  req.set_subject("1234");
  absl::Status s = Call(&AuditApp::GetAccessExtract, req, &resp);
  EXPECT_EQ(FieldOf(s), "subject");
}

// The checkpoint as stored, without running the checkpointer.
TEST_F(AuditAppTest, CheckpointsFollowTheSchedule) {
  auto stored = [&]() -> int64_t {
    int64_t size = -1;
    EXPECT_THAT(store_->Read([&](storage::Transaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(auto c, tx.audit().LatestCheckpoint());
      if (c.has_value()) size = c->tree_size;
      return absl::OkStatus();
    }),
                IsOk());
    return size;
  };
  queue_->SetBatchTail([this](storage::Transaction& tx) {
    return checkpointer_->Update(tx, clock_.Now(), false).status();
  });
  // The first batch signs the first checkpoint.
  AppendEvents(1);
  EXPECT_EQ(stored(), 1);
  // Every 5 events (one per batch here) a new one.
  AppendEvents(4);
  EXPECT_EQ(stored(), 1);
  AppendEvents(1);
  EXPECT_EQ(stored(), 6);
  // Or when 10 seconds passed since the last and the tree grew.
  AppendEvents(1);
  EXPECT_EQ(stored(), 6);
  clock_.Advance(absl::Seconds(10));
  AppendEvents(1);
  EXPECT_EQ(stored(), 8);
  // On demand.
  AppendEvents(1);
  EXPECT_EQ(LatestCheckpoint(true).tree_size(), 9);
  // Each one is signed by the key and names the origin.
  auto body =
      audit::OpenCheckpoint(*verifier_, LatestCheckpoint(false).signed_note());
  ASSERT_THAT(body, IsOk());
  EXPECT_EQ(body->origin, "test.example/audit");
  EXPECT_EQ(body->tree_size, 9);
}

}  // namespace
}  // namespace samplan::app

namespace samplan::app {
namespace {

// A grant recorded by school-1 about child_, with its audit record among
// others; then its receipt, checked as the family would check it.
class ReceiptTest : public AuditAppTest {
 protected:
  void Record(const std::string& id) {
    ASSERT_THAT(queue_->Run([&](storage::Transaction& tx) -> absl::Status {
      v1::Grant g;
      g.set_name("grants/" + id);
      g.set_subject(child_);
      g.set_grantor_role(v1::GRANTOR_ROLE_GUARDIAN);
      g.set_grantor_identity_number(Pnr("19800101", "238"));
      g.mutable_scope()->add_disclosing_agencies("agencies/bup-1");
      g.mutable_scope()->add_receiving_sectors(v1::SECTOR_SCHOOL);
      g.mutable_scope()->add_categories(v1::INFORMATION_CATEGORY_HEALTH);
      SetTimestamp(clock_.Now(), g.mutable_valid_from());
      SetTimestamp(clock_.Now() + absl::Hours(24 * 180),
                   g.mutable_valid_until());
      g.mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
      g.mutable_evidence()->set_reference("form 7");
      g.set_recorded_by_agency("agencies/school-1");
      g.set_recorded_by_actor("anna");
      SetTimestamp(clock_.Now(), g.mutable_create_time());
      g.set_state(v1::GRANT_STATE_ACTIVE);
      RETURN_IF_ERROR(tx.grants().Insert(g));
      v1::AuditEvent e;
      SetTimestamp(clock_.Now(), e.mutable_time());
      e.set_agency("agencies/school-1");
      e.set_actor("anna");
      e.set_action(v1::AUDIT_ACTION_GRANT_RECORDED);
      e.set_subject(child_);
      e.set_resource(g.name());
      e.set_decision(v1::DECISION_ALLOW);
      e.add_reasons(v1::DECISION_REASON_AGENCY_SYSTEM_ROLE);
      e.add_grants(g.name());
      return tx.audit().Append(e).status();
    }),
                IsOk());
  }

  absl::Status Receipt(const Caller& caller, const std::string& name,
                       v1::ReceiptEvent event,
                       v1::GetGrantReceiptResponse* out) {
    ConsentApp consents(ctx_);
    v1::GetGrantReceiptRequest req;
    req.set_name(name);
    req.set_event(event);
    absl::Notification finished;
    absl::Status result;
    consents.GetGrantReceipt(caller, req, out, [&](absl::Status s) {
      result = std::move(s);
      finished.Notify();
    });
    finished.WaitForNotification();
    return result;
  }

  Caller school_{
      "school-1", consent::Sector::kSchool, Role::kAgencySystem, "anna", "",
      ""};
};

TEST_F(ReceiptTest, AReceiptVerifiesOfflineAndAnyChangedByteFailsIt) {
  AppendEvents(5);
  Record("g1");
  AppendEvents(3);
  v1::GetGrantReceiptResponse resp;
  ASSERT_THAT(
      Receipt(school_, "grants/g1", v1::RECEIPT_EVENT_UNSPECIFIED, &resp),
      IsOk());
  const v1::ConsentReceipt& r = resp.receipt().receipt();
  EXPECT_EQ(r.schema_version(), "samplan.consent-receipt/1");
  EXPECT_EQ(r.event(), v1::RECEIPT_EVENT_GIVEN);
  EXPECT_EQ(r.receipt_id(), "grants/g1/receipts/5");
  EXPECT_EQ(r.audit_event().leaf_index(), 5);
  EXPECT_EQ(r.grant().grantor_role(), v1::GRANTOR_ROLE_GUARDIAN);
  EXPECT_THAT(r.scope_text(),
              HasSubstr("BUP Centrum får berätta för skolan om hälsa."));
  EXPECT_THAT(r.withdrawal_text(), HasSubstr("ta tillbaka"));
  auto verified = audit::VerifyReceipt(resp.receipt(), *verifier_);
  ASSERT_THAT(verified, IsOk());
  EXPECT_EQ(verified->leaf_index, 5);
  // The checkpoint covers the receipt call's own record too.
  EXPECT_EQ(verified->checkpoint.tree_size, 10);

  // The file the family keeps: JSON, read back strictly.
  std::string json;
  ASSERT_TRUE(
      google::protobuf::util::MessageToJsonString(resp.receipt(), &json).ok());
  v1::SignedConsentReceipt parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &parsed).ok());
  EXPECT_THAT(audit::VerifyReceipt(parsed, *verifier_), IsOk());

  // Every single changed byte fails: the JSON no longer parses, or the
  // signature, the record or the proof no longer holds.
  int passed = 0;
  for (size_t i = 0; i < json.size(); ++i) {
    std::string tampered = json;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
    v1::SignedConsentReceipt t;
    if (!google::protobuf::util::JsonStringToMessage(tampered, &t).ok()) {
      continue;
    }
    if (audit::VerifyReceipt(t, *verifier_).ok()) {
      ++passed;
      ADD_FAILURE() << "byte " << i << " changed, still verifies: "
                    << tampered.substr(i > 20 ? i - 20 : 0, 40);
    }
  }
  EXPECT_EQ(passed, 0) << "of " << json.size() << " bytes";

  // Another key does not verify it.
  auto other_pem = audit::GenerateSigningKeyPem();
  auto other =
      audit::NoteSigner::FromPrivateKeyPem(*other_pem, "test.example/audit");
  auto other_verifier =
      audit::NoteVerifier::FromVerifierKey((*other)->VerifierKey());
  EXPECT_THAT(audit::VerifyReceipt(resp.receipt(), *other_verifier),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

// Each refusal of a receipt, and of a receipt that is signed but wrong,
// with its exact code.
TEST_F(ReceiptTest, RefusalsHaveTheirCodes) {
  Record("g1");
  v1::GetGrantReceiptResponse none;
  absl::Status s =
      Receipt(school_, "grants/g1", static_cast<v1::ReceiptEvent>(99), &none);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(FieldOf(s), "event");
  s = Receipt(school_, "grants/", v1::RECEIPT_EVENT_UNSPECIFIED, &none);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(FieldOf(s), "name");
  EXPECT_THAT(
      Receipt(school_, "grants/nosuch", v1::RECEIPT_EVENT_UNSPECIFIED, &none),
      StatusIs(absl::StatusCode::kNotFound));
  // A grant whose audit record is missing: the log lost something.
  ASSERT_THAT(queue_->Run([&](storage::Transaction& tx) {
    v1::Grant g;
    g.set_name("grants/g2");
    g.set_subject(child_);
    g.set_grantor_role(v1::GRANTOR_ROLE_GUARDIAN);
    g.set_grantor_identity_number(Pnr("19800101", "238"));
    g.mutable_scope()->add_disclosing_agencies("agencies/bup-1");
    g.mutable_scope()->add_receiving_sectors(v1::SECTOR_SCHOOL);
    g.mutable_scope()->add_categories(v1::INFORMATION_CATEGORY_HEALTH);
    SetTimestamp(clock_.Now(), g.mutable_valid_from());
    SetTimestamp(clock_.Now() + absl::Hours(24), g.mutable_valid_until());
    g.set_recorded_by_agency("agencies/school-1");
    SetTimestamp(clock_.Now(), g.mutable_create_time());
    g.set_state(v1::GRANT_STATE_ACTIVE);
    return tx.grants().Insert(g);
  }),
              IsOk());
  EXPECT_THAT(
      Receipt(school_, "grants/g2", v1::RECEIPT_EVENT_UNSPECIFIED, &none),
      StatusIs(absl::StatusCode::kDataLoss));
  // Without the audit log's key there are no receipts.
  AppContext keyless = ctx_;
  keyless.checkpointer = nullptr;
  ConsentApp without(keyless);
  v1::GetGrantReceiptRequest req;
  req.set_name("grants/g1");
  absl::Notification finished;
  absl::Status result;
  without.GetGrantReceipt(school_, req, &none, [&](absl::Status st) {
    result = std::move(st);
    finished.Notify();
  });
  finished.WaitForNotification();
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kUnavailable));

  // Signed by the right key, but wrong inside: each check has its code.
  v1::GetGrantReceiptResponse good;
  ASSERT_THAT(
      Receipt(school_, "grants/g1", v1::RECEIPT_EVENT_UNSPECIFIED, &good),
      IsOk());
  auto resigned = [&](auto change) {
    v1::SignedConsentReceipt r = good.receipt();
    change(r.mutable_receipt());
    auto signature = signer_->Sign(audit::ReceiptSignedBody(r.receipt()));
    EXPECT_THAT(signature, IsOk());
    r.set_signature(*signature);
    return audit::VerifyReceipt(r, *verifier_).status();
  };
  EXPECT_THAT(
      resigned([](v1::ConsentReceipt* r) { r->set_schema_version("other/1"); }),
      StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(resigned([](v1::ConsentReceipt* r) {
                r->set_event(v1::RECEIPT_EVENT_WITHDRAWN);
              }),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(resigned([](v1::ConsentReceipt* r) {
                r->mutable_grant()->set_name("grants/other");
              }),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(resigned([](v1::ConsentReceipt* r) {
                r->set_receipt_id("grants/g1/receipts/7");
              }),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(resigned([](v1::ConsentReceipt* r) {
                r->mutable_audit_event()->set_actor("someone else");
              }),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(resigned([](v1::ConsentReceipt*) {}), IsOk());
}

TEST_F(ReceiptTest, EndedGrantsHaveTheirOwnReceiptAndTheGivingStays) {
  Record("g1");
  ASSERT_THAT(queue_->Run([&](storage::Transaction& tx) -> absl::Status {
    storage::GrantEnding ending;
    ending.state = v1::GRANT_STATE_WITHDRAWN;
    ending.time = clock_.Now();
    ending.reason = "withdrawn";
    ending.agency = "school-1";
    ending.actor = "anna";
    ending.withdrawer = Pnr("19800101", "238");
    ending.evidence_kind = v1::EVIDENCE_KIND_SIGNED_FORM;
    ending.evidence_reference = "form 8";
    RETURN_IF_ERROR(tx.grants().End("g1", ending));
    v1::AuditEvent e;
    SetTimestamp(clock_.Now(), e.mutable_time());
    e.set_agency("agencies/school-1");
    e.set_action(v1::AUDIT_ACTION_GRANT_WITHDRAWN);
    e.set_subject(child_);
    e.set_resource("grants/g1");
    e.set_decision(v1::DECISION_ALLOW);
    e.add_reasons(v1::DECISION_REASON_WITHDRAWER_COMPETENT);
    return tx.audit().Append(e).status();
  }),
              IsOk());
  v1::GetGrantReceiptResponse latest;
  ASSERT_THAT(
      Receipt(school_, "grants/g1", v1::RECEIPT_EVENT_UNSPECIFIED, &latest),
      IsOk());
  EXPECT_EQ(latest.receipt().receipt().event(), v1::RECEIPT_EVENT_WITHDRAWN);
  EXPECT_EQ(latest.receipt().receipt().grant().state(),
            v1::GRANT_STATE_WITHDRAWN);
  EXPECT_THAT(audit::VerifyReceipt(latest.receipt(), *verifier_), IsOk());
  v1::GetGrantReceiptResponse given;
  ASSERT_THAT(Receipt(school_, "grants/g1", v1::RECEIPT_EVENT_GIVEN, &given),
              IsOk());
  EXPECT_EQ(given.receipt().receipt().receipt_id(), "grants/g1/receipts/0");
  EXPECT_THAT(audit::VerifyReceipt(given.receipt(), *verifier_), IsOk());

  // An event that did not happen names the field; a stranger sees nothing.
  v1::GetGrantReceiptResponse none;
  const absl::Status revoked =
      Receipt(school_, "grants/g1", v1::RECEIPT_EVENT_REVOKED, &none);
  EXPECT_THAT(revoked, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(FieldOf(revoked), "event");
  Caller stranger{
      "bup-1", consent::Sector::kHealthcare, Role::kAgencySystem, "erik", "",
      ""};
  EXPECT_THAT(
      Receipt(stranger, "grants/g1", v1::RECEIPT_EVENT_UNSPECIFIED, &none),
      StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace samplan::app
