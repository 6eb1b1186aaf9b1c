#include "app/app_support.h"

#include <memory>
#include <string>

#include "app/method.h"
#include "common/errors.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/type/date.pb.h"
#include "gtest/gtest.h"
#include "samplan/v1/plan.pb.h"
#include "storage/sqlite_store.h"

namespace samplan::app {
namespace {

using ::testing::HasSubstr;

TEST(ValidationTest, RequestIds) {
  EXPECT_THAT(CheckRequestId("r-1.a_b:c"), IsOk());
  EXPECT_THAT(CheckRequestId(""), StatusIs(absl::StatusCode::kInvalidArgument,
                                           HasSubstr("request_id")));
  EXPECT_THAT(CheckRequestId(std::string(65, 'a')),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(CheckRequestId("a b"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ValidationTest, Names) {
  EXPECT_EQ(*ParseName("plans/abc123", "plans", "name"), "abc123");
  EXPECT_THAT(ParseName("plans/", "plans", "name"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("name")));
  EXPECT_THAT(ParseName("grants/x", "plans", "name"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseName("plans/A", "plans", "name"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  auto child = ParseChildName("plans/p1/entries/e1", "entries", "entry.name");
  ASSERT_THAT(child, IsOk());
  EXPECT_EQ(child->first, "p1");
  EXPECT_EQ(child->second, "e1");
  EXPECT_THAT(ParseChildName("plans/p1/participants/e1", "entries", "x"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(*ParseAgencyName("agencies/bup-1", "f"), "bup-1");
  EXPECT_THAT(ParseAgencyName("bup-1", "f"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ValidationTest, IdentityAndDates) {
  EXPECT_EQ(*ParseIdentity("20160510-2381", "plan.subject"), "201605102381");
  absl::Status bad = ParseIdentity("201605102384", "plan.subject").status();
  EXPECT_THAT(bad, StatusIs(absl::StatusCode::kInvalidArgument,
                            HasSubstr("plan.subject")));
  EXPECT_EQ(FieldOf(bad), "plan.subject");
  google::type::Date d;
  d.set_year(2027);
  d.set_month(2);
  d.set_day(29);
  EXPECT_THAT(CheckDate(d, "d"), StatusIs(absl::StatusCode::kInvalidArgument));
  d.set_day(28);
  EXPECT_THAT(CheckDate(d, "d"), IsOk());
}

TEST(PageTokenTest, RoundTripAndScope) {
  const std::string t = EncodePageToken("plans:school-1", "p7");
  EXPECT_EQ(*DecodePageToken(t, "plans:school-1"), "p7");
  EXPECT_THAT(DecodePageToken(t, "plans:bup-1"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(DecodePageToken("!!", "plans:school-1"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(*DecodePageToken("", "x"), "");
}

TEST(PageTokenTest, ServersSharingASecretKeyTokensAlike) {
  // Two servers (or one after a restart) with the same audit key: the same
  // tag, so a token one returned is accepted by the other.
  const std::string a = DerivePageTokenKey("-----BEGIN PRIVATE KEY----- A");
  const std::string b = DerivePageTokenKey("-----BEGIN PRIVATE KEY----- A");
  const std::string other = DerivePageTokenKey("-----BEGIN PRIVATE KEY----- B");
  ASSERT_EQ(a.size(), 32u);
  EXPECT_EQ(KeyedTag(a, "201605102383"), KeyedTag(b, "201605102383"));
  EXPECT_NE(KeyedTag(a, "201605102383"), KeyedTag(other, "201605102383"));
  EXPECT_NE(KeyedTag(a, "201605102383"), KeyedTag(a, "201605102384"));
  // No key: this process's random one, unlike any derived key.
  EXPECT_NE(KeyedTag("", "201605102383"), KeyedTag(a, "201605102383"));
  EXPECT_EQ(KeyedTag("", "201605102383"), KeyedTag("", "201605102383"));
  // The tag does not carry the number.
  EXPECT_EQ(KeyedTag(a, "201605102383").find("2016"), std::string::npos);
}

TEST(IdempotencyTest, RetryReturnsTheFirstAnswerAndReuseIsRefused) {
  auto store = storage::OpenSqliteStore(storage::SqliteOptions{});
  ASSERT_THAT(store, IsOk());
  Caller caller;
  caller.agency_id = "school-1";
  caller.request_id = "r1";
  v1::CreatePlanRequest req;
  req.set_request_id("r1");
  req.mutable_plan()->set_subject("201605102383");
  int runs = 0;
  // What the runner does with a write (method.h): replay, or run and save.
  auto call = [&](const v1::CreatePlanRequest& r, v1::CreatePlanResponse* out) {
    const std::string fingerprint = Fingerprint(r);
    return (*store)->Write([&](storage::Transaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(
          const bool replayed,
          internal::Replay(tx, caller, "CreatePlan", fingerprint, out));
      if (replayed) return absl::OkStatus();
      ++runs;
      out->mutable_plan()->set_name("plans/p" + std::to_string(runs));
      return internal::SaveAnswer(tx, caller, "CreatePlan", fingerprint, *out,
                                  absl::FromUnixSeconds(1));
    });
  };
  v1::CreatePlanResponse first, second, third;
  ASSERT_THAT(call(req, &first), IsOk());
  ASSERT_THAT(call(req, &second), IsOk());
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(second.plan().name(), first.plan().name());
  v1::CreatePlanRequest other = req;
  other.mutable_plan()->set_subject("201605102399");
  absl::Status reused = call(other, &third);
  EXPECT_THAT(reused, StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(ReasonOf(reused), "REQUEST_ID_REUSED");
  EXPECT_EQ(MetadataOf(reused, "request_id"), "r1");
  EXPECT_EQ(runs, 1);
}

TEST(IdsTest, RandomIdsAreWellFormedAndDistinct) {
  auto ids = NewRandomIdGenerator();
  const std::string a = ids->NewId();
  const std::string b = ids->NewId();
  EXPECT_EQ(a.size(), 20u);
  EXPECT_NE(a, b);
  EXPECT_THAT(ParseName("plans/" + a, "plans", "n"), IsOk());
}

}  // namespace
}  // namespace samplan::app
