// ConsentApp's error paths, each with its exact status code and reason, and
// its paging. The happy paths run end to end in tests/integration.

#include "app/consent_app.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/civil_time.h"
#include "app/admin_app.h"
#include "app/checkpointer.h"
#include "audit/note.h"
#include "audit/receipt.h"
#include "common/clock.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "common/status_matchers.h"
#include "consent/identity_number.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "samplan/v1/admin.pb.h"
#include "samplan/v1/audit.pb.h"
#include "samplan/v1/consent.pb.h"
#include "samplan/v1/plan.pb.h"
#include "storage/sqlite_store.h"

namespace samplan::app {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

std::string Pnr(const std::string& yyyymmdd, const std::string& nnn) {
  return yyyymmdd + nnn +
         std::to_string(consent::LuhnCheckDigit(yyyymmdd.substr(2) + nnn));
}

absl::Time Utc(int y, int m, int d) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, 0, 0, 0),
                         absl::UTCTimeZone());
}

class ConsentAppTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto policy = consent::DefaultPolicy();
    ASSERT_THAT(policy, IsOk());
    auto store = storage::OpenSqliteStore(storage::SqliteOptions{});
    ASSERT_THAT(store, IsOk());
    store_ = *std::move(store);
    queue_ = std::make_unique<CommitQueue>(*store_);
    AppContext ctx;
    ctx.store = store_.get();
    ctx.queue = queue_.get();
    ctx.clock = &clock_;
    ctx.ids = ids_.get();
    ctx.policy = *policy;
    ctx_ = ctx;
    app_ = std::make_unique<ConsentApp>(ctx);
    school_.agency_id = "school-1";
    school_.sector = consent::Sector::kSchool;
    school_.actor = "staff-1";
    social_ = school_;
    social_.agency_id = "soc-1";
    social_.sector = consent::Sector::kSocialServices;
    ASSERT_THAT(store_->Write([&](storage::Transaction& tx) -> absl::Status {
      for (auto [id, sector] : {std::pair{"school-1", v1::SECTOR_SCHOOL},
                                std::pair{"soc-1", v1::SECTOR_SOCIAL_SERVICES},
                                std::pair{"bup-1", v1::SECTOR_HEALTHCARE}}) {
        v1::Agency a;
        a.set_name(absl::StrCat("agencies/", id));
        a.set_sector(sector);
        a.set_role(v1::AGENCY_ROLE_AGENCY_SYSTEM);
        a.set_state(v1::AGENCY_STATE_ACTIVE);
        RETURN_IF_ERROR(tx.agencies().Create(a));
      }
      v1::Plan plan;
      plan.set_name("plans/p1");
      plan.set_subject(child_);
      plan.set_lead_agency("agencies/school-1");
      plan.set_state(v1::PLAN_STATE_ACTIVE);
      plan.set_revision(1);
      return tx.plans().Create(plan, "staff-1", Utc(2026, 1, 1));
    }),
                IsOk());
    for (const std::string* g : {&g1_, &g2_}) {
      v1::CreateCustodyFactRequest req;
      req.set_request_id("custody-" + *g);
      req.mutable_custody_fact()->set_subject(child_);
      req.mutable_custody_fact()->set_guardian_identity_number(*g);
      SetTimestamp(Utc(2016, 5, 10),
                   req.mutable_custody_fact()->mutable_valid_from());
      req.mutable_custody_fact()->mutable_evidence()->set_kind(
          v1::EVIDENCE_KIND_REGISTER_EXTRACT);
      v1::CreateCustodyFactResponse out;
      ASSERT_THAT(Call(&ConsentApp::CreateCustodyFact, school_, req, &out),
                  IsOk());
      custody_.push_back(out.custody_fact().name());
    }
  }

  template <class Req, class Resp>
  absl::Status Call(void (ConsentApp::*method)(const Caller&, const Req&, Resp*,
                                               Done),
                    const Caller& caller, const Req& req, Resp* out) {
    absl::Notification finished;
    absl::Status result;
    out->Clear();
    (app_.get()->*method)(caller, req, out, [&](absl::Status s) {
      result = std::move(s);
      finished.Notify();
    });
    finished.WaitForNotification();
    return result;
  }

  v1::CreateGrantRequest GrantRequest(const std::string& grantor,
                                      const std::string& request_id) {
    v1::CreateGrantRequest req;
    req.set_request_id(request_id);
    v1::Grant* g = req.mutable_grant();
    g->set_subject(child_);
    g->set_grantor_role(v1::GRANTOR_ROLE_GUARDIAN);
    g->set_grantor_identity_number(grantor);
    g->mutable_scope()->add_disclosing_sectors(v1::SECTOR_HEALTHCARE);
    g->mutable_scope()->add_receiving_sectors(v1::SECTOR_SCHOOL);
    g->mutable_scope()->add_categories(v1::INFORMATION_CATEGORY_NEEDS);
    SetTimestamp(Utc(2026, 6, 1), g->mutable_valid_from());
    SetTimestamp(Utc(2027, 1, 1), g->mutable_valid_until());
    g->mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
    return req;
  }

  std::string Grant(const std::string& grantor, const std::string& id) {
    v1::CreateGrantResponse out;
    EXPECT_THAT(Call(&ConsentApp::CreateGrant, school_,
                     GrantRequest(grantor, id), &out),
                IsOk());
    return out.grant().name();
  }

  v1::WithdrawGrantRequest Withdraw(const std::string& grant,
                                    const std::string& who,
                                    const std::string& request_id) {
    v1::WithdrawGrantRequest req;
    req.set_request_id(request_id);
    req.set_name(grant);
    req.set_withdrawer_role(v1::GRANTOR_ROLE_GUARDIAN);
    req.set_withdrawer_identity_number(who);
    req.mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
    return req;
  }

  int64_t AuditSize() {
    int64_t size = -1;
    EXPECT_THAT(store_->Read([&](storage::Transaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(size, tx.audit().Size());
      return absl::OkStatus();
    }),
                IsOk());
    return size;
  }

  static void ExpectError(const absl::Status& s, absl::StatusCode code,
                          const std::string& reason,
                          const std::string& field = "") {
    EXPECT_THAT(s, StatusIs(code));
    EXPECT_EQ(ReasonOf(s), reason) << s;
    if (!field.empty()) {
      EXPECT_EQ(FieldOf(s), field) << s;
    }
  }

  const std::string child_ = Pnr("20160510", "238");
  const std::string g1_ = Pnr("19850301", "111");
  const std::string g2_ = Pnr("19870712", "222");
  const std::string stranger_ = Pnr("19900101", "555");
  FakeClock clock_{Utc(2026, 6, 1) + absl::Hours(10)};
  std::unique_ptr<IdGenerator> ids_ = NewSequentialIdGenerator();
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<CommitQueue> queue_;
  std::unique_ptr<ConsentApp> app_;
  AppContext ctx_;
  Caller school_, social_;
  std::vector<std::string> custody_;
};

TEST_F(ConsentAppTest, CustodyFactsAreCheckedAndEndOnce) {
  v1::CreateCustodyFactRequest self;
  self.set_request_id("self");
  self.mutable_custody_fact()->set_subject(child_);
  self.mutable_custody_fact()->set_guardian_identity_number(child_);
  SetTimestamp(Utc(2016, 5, 10),
               self.mutable_custody_fact()->mutable_valid_from());
  self.mutable_custody_fact()->mutable_evidence()->set_kind(
      v1::EVIDENCE_KIND_REGISTER_EXTRACT);
  v1::CreateCustodyFactResponse created;
  ExpectError(Call(&ConsentApp::CreateCustodyFact, school_, self, &created),
              absl::StatusCode::kInvalidArgument, "INVALID_FIELD",
              "custody_fact.guardian_identity_number");
  v1::CreateCustodyFactRequest unborn = self;
  unborn.mutable_custody_fact()->set_subject(Pnr("20300101", "123"));
  unborn.mutable_custody_fact()->set_guardian_identity_number(g1_);
  ExpectError(Call(&ConsentApp::CreateCustodyFact, school_, unborn, &created),
              absl::StatusCode::kInvalidArgument, "INVALID_FIELD",
              "custody_fact.subject");
  v1::CreateCustodyFactRequest backwards = self;
  backwards.mutable_custody_fact()->set_guardian_identity_number(g1_);
  SetTimestamp(Utc(2010, 1, 1),
               backwards.mutable_custody_fact()->mutable_valid_until());
  ExpectError(
      Call(&ConsentApp::CreateCustodyFact, school_, backwards, &created),
      absl::StatusCode::kInvalidArgument, "INVALID_FIELD",
      "custody_fact.valid_until");

  v1::EndCustodyFactRequest end;
  end.set_request_id("end-1");
  end.set_name(custody_[0]);
  SetTimestamp(Utc(2016, 1, 1), end.mutable_end_time());
  end.mutable_evidence()->set_kind(v1::EVIDENCE_KIND_COURT_DECISION);
  v1::EndCustodyFactResponse ended;
  ExpectError(Call(&ConsentApp::EndCustodyFact, school_, end, &ended),
              absl::StatusCode::kInvalidArgument, "INVALID_FIELD", "end_time");
  end.set_request_id("end-2");
  SetTimestamp(Utc(2026, 6, 1), end.mutable_end_time());
  ASSERT_THAT(Call(&ConsentApp::EndCustodyFact, school_, end, &ended), IsOk());
  EXPECT_EQ(ended.custody_fact().valid_until().seconds(),
            absl::ToUnixSeconds(Utc(2026, 6, 1)));
  end.set_request_id("end-3");
  ExpectError(Call(&ConsentApp::EndCustodyFact, school_, end, &ended),
              absl::StatusCode::kFailedPrecondition, "ALREADY_ENDED");
  end.set_request_id("end-4");
  end.set_name("custodyFacts/nope");
  EXPECT_THAT(Call(&ConsentApp::EndCustodyFact, school_, end, &ended),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(ConsentAppTest, RepresentationsAreCheckedAndEndOnce) {
  const std::string adult = Pnr("19500201", "333");
  v1::CreateRepresentationRequest req;
  req.set_request_id("rep-1");
  v1::Representation* r = req.mutable_representation();
  r->set_subject(adult);
  r->set_representative_identity_number(g1_);
  r->set_remit_covers_consent(true);
  SetTimestamp(Utc(2020, 1, 1), r->mutable_valid_from());
  r->mutable_evidence()->set_kind(v1::EVIDENCE_KIND_COURT_DECISION);
  v1::CreateRepresentationResponse created;
  ExpectError(Call(&ConsentApp::CreateRepresentation, school_, req, &created),
              absl::StatusCode::kInvalidArgument, "INVALID_FIELD",
              "representation.kind");
  r->set_kind(v1::REPRESENTATION_KIND_GOD_MAN);
  req.set_request_id("rep-2");
  ASSERT_THAT(Call(&ConsentApp::CreateRepresentation, school_, req, &created),
              IsOk());
  v1::EndRepresentationRequest end;
  end.set_request_id("rep-end-1");
  end.set_name(created.representation().name());
  SetTimestamp(Utc(2026, 1, 1), end.mutable_end_time());
  end.mutable_evidence()->set_kind(v1::EVIDENCE_KIND_COURT_DECISION);
  v1::EndRepresentationResponse ended;
  ASSERT_THAT(Call(&ConsentApp::EndRepresentation, school_, end, &ended),
              IsOk());
  end.set_request_id("rep-end-2");
  ExpectError(Call(&ConsentApp::EndRepresentation, school_, end, &ended),
              absl::StatusCode::kFailedPrecondition, "ALREADY_ENDED");
}

TEST_F(ConsentAppTest, CreateGrantRefusalsStoreNothing) {
  const int64_t before = AuditSize();
  v1::CreateGrantResponse out;
  v1::CreateGrantRequest unknown = GrantRequest(g1_, "g-1");
  unknown.mutable_grant()->mutable_scope()->add_receiving_agencies(
      "agencies/ghost-1");
  ExpectError(Call(&ConsentApp::CreateGrant, school_, unknown, &out),
              absl::StatusCode::kFailedPrecondition,
              "UNKNOWN_REFERENCED_AGENCY", "grant.scope.receiving_agencies[0]");
  v1::CreateGrantRequest other_plan = GrantRequest(g1_, "g-2");
  other_plan.mutable_grant()->mutable_scope()->set_plan("plans/nope");
  ExpectError(Call(&ConsentApp::CreateGrant, school_, other_plan, &out),
              absl::StatusCode::kInvalidArgument, "INVALID_FIELD",
              "grant.scope.plan");
  ExpectError(Call(&ConsentApp::CreateGrant, school_,
                   GrantRequest(stranger_, "g-3"), &out),
              absl::StatusCode::kFailedPrecondition, "GRANTOR_NOT_COMPETENT",
              "grant.grantor_identity_number");
  v1::CreateGrantRequest long_one = GrantRequest(g1_, "g-4");
  SetTimestamp(Utc(2027, 7, 1),
               long_one.mutable_grant()->mutable_valid_until());
  ExpectError(Call(&ConsentApp::CreateGrant, school_, long_one, &out),
              absl::StatusCode::kInvalidArgument, "GRANT_PERIOD_TOO_LONG",
              "grant.valid_until");
  EXPECT_EQ(AuditSize(), before);
}

TEST_F(ConsentAppTest, WithdrawalRules) {
  const std::string g = Grant(g1_, "g-1");
  v1::WithdrawGrantResponse out;
  ExpectError(Call(&ConsentApp::WithdrawGrant, school_,
                   Withdraw(g, stranger_, "w-1"), &out),
              absl::StatusCode::kFailedPrecondition, "GRANTOR_NOT_COMPETENT",
              "withdrawer_identity_number");
  // The other guardian with custody may stop the joint consent.
  ASSERT_THAT(
      Call(&ConsentApp::WithdrawGrant, school_, Withdraw(g, g2_, "w-2"), &out),
      IsOk());
  EXPECT_EQ(out.grant().state(), v1::GRANT_STATE_WITHDRAWN);
  EXPECT_EQ(out.grant().withdrawer_identity_number(), g2_);
  ExpectError(
      Call(&ConsentApp::WithdrawGrant, school_, Withdraw(g, g1_, "w-3"), &out),
      absl::StatusCode::kFailedPrecondition, "GRANT_NOT_ACTIVE");
  EXPECT_THAT(Call(&ConsentApp::WithdrawGrant, school_,
                   Withdraw("grants/nope", g1_, "w-4"), &out),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(ConsentAppTest, ReadsOfGrants) {
  Grant(g1_, "g-1");
  v1::GetGrantRequest get;
  get.set_name("grants/nope");
  v1::GetGrantResponse got;
  EXPECT_THAT(Call(&ConsentApp::GetGrant, school_, get, &got),
              StatusIs(absl::StatusCode::kNotFound));
  v1::ListGrantsRequest list;
  list.set_plan("plans/p1");
  v1::ListGrantsResponse listed;
  EXPECT_THAT(Call(&ConsentApp::ListGrants, school_, list, &listed), IsOk());
  // Social services does not take part in plan p1: it learns nothing.
  absl::Status hidden = Call(&ConsentApp::ListGrants, social_, list, &listed);
  list.set_plan("plans/nope");
  absl::Status missing = Call(&ConsentApp::ListGrants, social_, list, &listed);
  EXPECT_THAT(hidden, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(hidden.message(), missing.message());
  list.set_plan("plans/p1");
  list.set_page_token("not-a-token");
  ExpectError(Call(&ConsentApp::ListGrants, school_, list, &listed),
              absl::StatusCode::kInvalidArgument, "INVALID_PAGE_TOKEN",
              "page_token");
}

TEST_F(ConsentAppTest, SearchCustodyFactsPages) {
  v1::SearchCustodyFactsRequest search;
  search.set_subject(child_);
  search.set_page_size(1);
  v1::SearchCustodyFactsResponse page;
  ASSERT_THAT(Call(&ConsentApp::SearchCustodyFacts, school_, search, &page),
              IsOk());
  ASSERT_THAT(page.custody_facts(), SizeIs(1));
  ASSERT_FALSE(page.next_page_token().empty());
  search.set_page_token(page.next_page_token());
  ASSERT_THAT(Call(&ConsentApp::SearchCustodyFacts, school_, search, &page),
              IsOk());
  ASSERT_THAT(page.custody_facts(), SizeIs(1));
  EXPECT_EQ(page.custody_facts(0).name(), custody_[1]);
  EXPECT_TRUE(page.next_page_token().empty());
}

TEST_F(ConsentAppTest, CheckAccessRefusals) {
  v1::CheckAccessResponse out;
  v1::CheckAccessRequest none;
  none.set_owner_agency("agencies/bup-1");
  none.set_receiving_agency("agencies/school-1");
  none.set_category(v1::INFORMATION_CATEGORY_NEEDS);
  ExpectError(Call(&ConsentApp::CheckAccess, school_, none, &out),
              absl::StatusCode::kInvalidArgument, "INVALID_FIELD", "plan");
  v1::CheckAccessRequest ghost = none;
  ghost.set_subject(child_);
  ghost.set_owner_agency("agencies/ghost-1");
  ExpectError(Call(&ConsentApp::CheckAccess, school_, ghost, &out),
              absl::StatusCode::kFailedPrecondition,
              "UNKNOWN_REFERENCED_AGENCY", "owner_agency");
  // A caller outside the plan cannot check it, and the denial is logged.
  v1::CheckAccessRequest outside = none;
  outside.set_plan("plans/p1");
  outside.set_receiving_agency("agencies/soc-1");
  const int64_t before = AuditSize();
  EXPECT_THAT(Call(&ConsentApp::CheckAccess, social_, outside, &out),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(AuditSize(), before + 1);
  // A disclosure between two other agencies is not the caller's to check.
  v1::CheckAccessRequest others = none;
  others.set_subject(child_);
  ExpectError(Call(&ConsentApp::CheckAccess, social_, others, &out),
              absl::StatusCode::kInvalidArgument, "INVALID_FIELD",
              "receiving_agency");
}

// With the audit log's key: the calls that give, withdraw and revoke a
// consent answer with the family's receipt, and RenderGrantReceipt puts it
// in words.
class ReceiptFlowTest : public ConsentAppTest {
 protected:
  void SetUp() override {
    ConsentAppTest::SetUp();
    auto pem = audit::GenerateSigningKeyPem();
    ASSERT_THAT(pem, IsOk());
    auto signer = audit::NoteSigner::FromPrivateKeyPem(*pem, "test/audit");
    ASSERT_THAT(signer, IsOk());
    signer_ = *std::move(signer);
    auto verifier =
        audit::NoteVerifier::FromVerifierKey(signer_->VerifierKey());
    ASSERT_THAT(verifier, IsOk());
    verifier_ = std::make_unique<audit::NoteVerifier>(*verifier);
    checkpointer_ = std::make_unique<Checkpointer>(
        *signer_, Checkpointer::Options{1000, absl::Seconds(10)});
    ctx_.checkpointer = checkpointer_.get();
    app_ = std::make_unique<ConsentApp>(ctx_);
    admin_app_ = std::make_unique<AdminApp>(ctx_);
    admin_.agency_id = "registry";
    admin_.role = Role::kAdministrator;
    admin_.actor = "admin-1";
  }

  // The audit record at `leaf`.
  v1::AuditEvent Record(int64_t leaf) {
    v1::AuditEvent out;
    EXPECT_THAT(store_->Read([&](storage::Transaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(out, tx.audit().Get(leaf));
      return absl::OkStatus();
    }),
                IsOk());
    return out;
  }

  std::unique_ptr<audit::NoteSigner> signer_;
  std::unique_ptr<audit::NoteVerifier> verifier_;
  std::unique_ptr<Checkpointer> checkpointer_;
  std::unique_ptr<AdminApp> admin_app_;
  Caller admin_;
};

TEST_F(ReceiptFlowTest, RecordingAGrantAnswersWithItsReceipt) {
  v1::CreateGrantResponse created;
  ASSERT_THAT(Call(&ConsentApp::CreateGrant, school_,
                   GrantRequest(g1_, "give-1"), &created),
              IsOk());
  const v1::SignedConsentReceipt& receipt = created.receipt();
  const v1::ConsentReceipt& r = receipt.receipt();
  auto verified = audit::VerifyReceipt(receipt, *verifier_);
  ASSERT_THAT(verified, IsOk());
  EXPECT_EQ(r.event(), v1::RECEIPT_EVENT_GIVEN);
  // The receipt is of the grant as stored, and of the call's own record,
  // the last one: the checkpoint was signed right after it.
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
      r.grant(), created.grant()));
  const int64_t leaf = AuditSize() - 1;
  EXPECT_EQ(r.receipt_id(),
            absl::StrCat(created.grant().name(), "/receipts/", leaf));
  EXPECT_EQ(r.audit_event().action(), v1::AUDIT_ACTION_GRANT_RECORDED);
  EXPECT_EQ(verified->leaf_index, leaf);
  EXPECT_EQ(verified->checkpoint.tree_size, leaf + 1);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
      r.audit_event(), Record(leaf)));
  EXPECT_THAT(r.scope_text(), HasSubstr("behov, styrkor och önskemål"));

  // A retry gets the very same receipt, and records nothing.
  v1::CreateGrantResponse again;
  ASSERT_THAT(Call(&ConsentApp::CreateGrant, school_,
                   GrantRequest(g1_, "give-1"), &again),
              IsOk());
  EXPECT_EQ(again.receipt().SerializeAsString(), receipt.SerializeAsString());
  EXPECT_EQ(AuditSize(), leaf + 1);

  // Asked for later, the receipt is of the same grant and record.
  v1::GetGrantReceiptRequest get;
  get.set_name(created.grant().name());
  v1::GetGrantReceiptResponse later;
  ASSERT_THAT(Call(&ConsentApp::GetGrantReceipt, school_, get, &later), IsOk());
  EXPECT_EQ(later.receipt().receipt().receipt_id(), r.receipt_id());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
      later.receipt().receipt().grant(), r.grant()));
  EXPECT_THAT(audit::VerifyReceipt(later.receipt(), *verifier_), IsOk());
}

TEST_F(ReceiptFlowTest, WithdrawingAndRevokingAnswerWithTheirReceipts) {
  const std::string first = Grant(g1_, "give-1");
  const std::string second = Grant(g2_, "give-2");

  v1::WithdrawGrantResponse withdrawn;
  ASSERT_THAT(Call(&ConsentApp::WithdrawGrant, school_,
                   Withdraw(first, g1_, "withdraw-1"), &withdrawn),
              IsOk());
  const v1::ConsentReceipt& w = withdrawn.receipt().receipt();
  EXPECT_EQ(w.event(), v1::RECEIPT_EVENT_WITHDRAWN);
  EXPECT_EQ(w.grant().state(), v1::GRANT_STATE_WITHDRAWN);
  EXPECT_EQ(w.audit_event().action(), v1::AUDIT_ACTION_GRANT_WITHDRAWN);
  EXPECT_EQ(w.audit_event().leaf_index(), AuditSize() - 1);
  EXPECT_THAT(audit::VerifyReceipt(withdrawn.receipt(), *verifier_), IsOk());
  // A retried withdrawal answers with the same receipt.
  v1::WithdrawGrantResponse again;
  ASSERT_THAT(Call(&ConsentApp::WithdrawGrant, school_,
                   Withdraw(first, g1_, "withdraw-1"), &again),
              IsOk());
  EXPECT_EQ(again.receipt().SerializeAsString(),
            withdrawn.receipt().SerializeAsString());

  v1::RevokeGrantRequest revoke;
  revoke.set_name(second);
  revoke.set_reason("asked the registry by phone");
  revoke.set_request_id("revoke-1");
  v1::RevokeGrantResponse revoked;
  absl::Notification finished;
  absl::Status status;
  admin_app_->RevokeGrant(admin_, revoke, &revoked, [&](absl::Status s) {
    status = std::move(s);
    finished.Notify();
  });
  finished.WaitForNotification();
  ASSERT_THAT(status, IsOk());
  const v1::ConsentReceipt& v = revoked.receipt().receipt();
  EXPECT_EQ(v.event(), v1::RECEIPT_EVENT_REVOKED);
  EXPECT_EQ(v.grant().state(), v1::GRANT_STATE_REVOKED);
  EXPECT_EQ(v.audit_event().agency(), "agencies/registry");
  EXPECT_THAT(audit::VerifyReceipt(revoked.receipt(), *verifier_), IsOk());
}

TEST_F(ReceiptFlowTest, RenderGrantReceiptPutsItInWords) {
  const std::string name = Grant(g1_, "give-1");
  v1::RenderGrantReceiptRequest req;
  req.set_name(name);
  v1::RenderGrantReceiptResponse html;
  const int64_t before = AuditSize();
  ASSERT_THAT(Call(&ConsentApp::RenderGrantReceipt, school_, req, &html),
              IsOk());
  EXPECT_EQ(html.content_type(), "text/html; charset=utf-8");
  EXPECT_EQ(html.language_code(), "sv");
  EXPECT_EQ(html.receipt_id(), absl::StrCat(name, "/receipts/", before - 1));
  EXPECT_EQ(html.file_name(),
            absl::StrCat("receipt-", name.substr(7), "-", before - 1, ".html"));
  EXPECT_THAT(html.content(), HasSubstr("<h1>Kvitto på samtycke</h1>"));
  EXPECT_THAT(html.content(), HasSubstr("behov, styrkor och önskemål"));
  for (const std::string& number : {child_, g1_}) {
    EXPECT_THAT(html.content(), Not(HasSubstr(number)));
    EXPECT_THAT(html.content(),
                Not(HasSubstr(
                    absl::StrCat(number.substr(0, 8), "-", number.substr(8)))));
    EXPECT_THAT(html.content(), Not(HasSubstr(number.substr(2))));
  }
  // One read record, saying what was made; nothing signed.
  ASSERT_EQ(AuditSize(), before + 1);
  const v1::AuditEvent read = Record(before);
  EXPECT_EQ(read.resource(), name);
  EXPECT_THAT(read.detail(),
              HasSubstr("receipt of RECEIPT_EVENT_GIVEN, leaf "));
  EXPECT_THAT(read.detail(), HasSubstr("rendered as HTML (sv)"));

  req.set_language_code("en");
  req.set_format(v1::DOCUMENT_FORMAT_PDF);
  v1::RenderGrantReceiptResponse pdf;
  ASSERT_THAT(Call(&ConsentApp::RenderGrantReceipt, school_, req, &pdf),
              IsOk());
  EXPECT_EQ(pdf.content_type(), "application/pdf");
  EXPECT_EQ(pdf.content().substr(0, 5), "%PDF-");
  EXPECT_EQ(pdf.language_code(), "en");

  // Bad input names its field and records nothing; a stranger sees
  // nothing, as with GetGrantReceipt.
  const int64_t size = AuditSize();
  v1::RenderGrantReceiptResponse none;
  v1::RenderGrantReceiptRequest bad = req;
  bad.set_language_code("de");
  ExpectError(Call(&ConsentApp::RenderGrantReceipt, school_, bad, &none),
              absl::StatusCode::kInvalidArgument, "INVALID_FIELD",
              "language_code");
  bad = req;
  bad.set_format(static_cast<v1::DocumentFormat>(7));
  ExpectError(Call(&ConsentApp::RenderGrantReceipt, school_, bad, &none),
              absl::StatusCode::kInvalidArgument, "INVALID_FIELD", "format");
  bad = req;
  bad.set_event(v1::RECEIPT_EVENT_REVOKED);
  ExpectError(Call(&ConsentApp::RenderGrantReceipt, school_, bad, &none),
              absl::StatusCode::kInvalidArgument, "INVALID_FIELD", "event");
  EXPECT_EQ(AuditSize(), size);
  Caller stranger = school_;
  stranger.agency_id = "bup-1";
  stranger.sector = consent::Sector::kHealthcare;
  EXPECT_THAT(Call(&ConsentApp::RenderGrantReceipt, stranger, req, &none),
              StatusIs(absl::StatusCode::kNotFound));

  // Once withdrawn, the latest receipt is the withdrawal's.
  v1::WithdrawGrantResponse withdrawn;
  ASSERT_THAT(Call(&ConsentApp::WithdrawGrant, school_,
                   Withdraw(name, g1_, "withdraw-1"), &withdrawn),
              IsOk());
  req.clear_format();
  req.clear_language_code();
  ASSERT_THAT(Call(&ConsentApp::RenderGrantReceipt, school_, req, &html),
              IsOk());
  EXPECT_THAT(html.content(),
              HasSubstr("<h1>Kvitto på att ett samtycke togs tillbaka</h1>"));
}

// Without the audit log's key (tests, tools) a grant is still recorded;
// its answer carries no receipt.
TEST_F(ConsentAppTest, WithoutTheAuditKeyAGrantHasNoReceipt) {
  v1::CreateGrantResponse created;
  ASSERT_THAT(Call(&ConsentApp::CreateGrant, school_,
                   GrantRequest(g1_, "give-1"), &created),
              IsOk());
  EXPECT_FALSE(created.has_receipt());
}

}  // namespace
}  // namespace samplan::app
