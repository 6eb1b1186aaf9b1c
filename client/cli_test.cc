#include "client/cli.h"

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/errors.h"
#include "common/proto_time.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "samplan/v1/consent.pb.h"

namespace samplan::client::cli {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

absl::Time Utc(int y, int m, int d, int hh = 0, int mm = 0, int ss = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, ss),
                         absl::UTCTimeZone());
}

google::protobuf::Timestamp Ts(absl::Time t) {
  google::protobuf::Timestamp out;
  samplan::SetTimestamp(t, &out);
  return out;
}

// --- Enums ---

TEST(ParseEnumTest, AcceptsShortNamesInAnyCaseWithDashesOrUnderscores) {
  for (const char* text :
       {"social-situation", "SOCIAL_SITUATION", "Social-Situation",
        "social_situation", " social-situation ",
        "INFORMATION_CATEGORY_SOCIAL_SITUATION"}) {
    absl::StatusOr<v1::InformationCategory> c =
        ParseEnum<v1::InformationCategory>("--category", text);
    ASSERT_THAT(c, IsOk()) << text;
    EXPECT_EQ(*c, v1::INFORMATION_CATEGORY_SOCIAL_SITUATION) << text;
  }
}

TEST(ParseEnumTest, ParsesTheValuesTheFlagsUse) {
  EXPECT_EQ(*ParseEnum<v1::InformationCategory>("--category", "interventions"),
            v1::INFORMATION_CATEGORY_INTERVENTIONS);
  EXPECT_EQ(*ParseEnum<v1::Sector>("--sector", "healthcare"),
            v1::SECTOR_HEALTHCARE);
  EXPECT_EQ(*ParseEnum<v1::Sector>("--sector", "social-services"),
            v1::SECTOR_SOCIAL_SERVICES);
  EXPECT_EQ(*ParseEnum<v1::EntryKind>("--kind", "need"), v1::ENTRY_KIND_NEED);
  EXPECT_EQ(*ParseEnum<v1::EntryKind>("--kind", "follow-up-result"),
            v1::ENTRY_KIND_FOLLOW_UP_RESULT);
  EXPECT_EQ(*ParseEnum<v1::GrantorRole>("--grantor-role", "guardian"),
            v1::GRANTOR_ROLE_GUARDIAN);
  EXPECT_EQ(*ParseEnum<v1::ParticipantKind>("--kind", "support-person"),
            v1::PARTICIPANT_KIND_SUPPORT_PERSON);
  EXPECT_EQ(*ParseEnum<v1::EvidenceKind>("--evidence", "signed-form"),
            v1::EVIDENCE_KIND_SIGNED_FORM);
  EXPECT_EQ(*ParseEnum<v1::PlanView>("--view", "LATEST"), v1::PLAN_VIEW_LATEST);
  EXPECT_EQ(*ParseEnum<v1::PlanState>("--state", "active"),
            v1::PLAN_STATE_ACTIVE);
  EXPECT_EQ(*ParseEnum<v1::ReviewKind>("--kind", "follow-up"),
            v1::REVIEW_KIND_FOLLOW_UP);
  EXPECT_EQ(*ParseEnum<v1::PlanClosedBy>("--closed-by", "agencies"),
            v1::PLAN_CLOSED_BY_AGENCIES);
}

TEST(ParseEnumTest, RejectsUnknownAndUnspecifiedValuesNamingTheFlag) {
  EXPECT_THAT(
      ParseEnum<v1::InformationCategory>("--category", "bogus"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("--category"), HasSubstr("bogus"),
                     HasSubstr("needs"), HasSubstr("social-situation"))));
  EXPECT_THAT(ParseEnum<v1::InformationCategory>("--category", "unspecified"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseEnum<v1::InformationCategory>(
                  "--category", "INFORMATION_CATEGORY_UNSPECIFIED"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseEnum<v1::Sector>("--sector", ""),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // A value of another enum is not accepted.
  EXPECT_THAT(ParseEnum<v1::Sector>("--sector", "needs"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ParseEnumTest, ParsesLists) {
  absl::StatusOr<std::vector<v1::InformationCategory>> list =
      ParseEnumList<v1::InformationCategory>("--category",
                                             {"needs", "interventions"});
  ASSERT_THAT(list, IsOk());
  EXPECT_THAT(*list, ElementsAre(v1::INFORMATION_CATEGORY_NEEDS,
                                 v1::INFORMATION_CATEGORY_INTERVENTIONS));
  EXPECT_THAT(
      ParseEnumList<v1::InformationCategory>("--category", {"needs", "nope"}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nope")));
}

TEST(EnumNamesTest, LabelsCodesAndChoices) {
  EXPECT_EQ(EnumLabel(v1::INFORMATION_CATEGORY_SOCIAL_SITUATION),
            "social-situation");
  EXPECT_EQ(EnumLabel(v1::EVIDENCE_KIND_E_SIGNATURE), "e-signature");
  EXPECT_EQ(EnumCode(v1::DECISION_REASON_CONSENT_COVERS), "CONSENT_COVERS");
  EXPECT_EQ(EnumCode(v1::GRANT_STATE_ACTIVE), "ACTIVE");
  EXPECT_EQ(EnumLabel(static_cast<v1::Sector>(99)), "99");
  EXPECT_EQ(EnumChoices<v1::Sector>(), "school, social-services or healthcare");
}

// --- Names and identity numbers ---

TEST(ParseIdentityNumberTest, PassesTheNumberThroughAsGiven) {
  EXPECT_EQ(*ParseIdentityNumber("--subject", "20160510-2381"),
            "20160510-2381");
  EXPECT_EQ(*ParseIdentityNumber("--subject", "201605102381"), "201605102381");
  EXPECT_EQ(*ParseIdentityNumber("--subject", " 201605102381 "),
            "201605102381");
  EXPECT_THAT(
      ParseIdentityNumber("--subject", ""),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--subject")));
}

TEST(ParseAgencyNameTest, AddsThePrefix) {
  EXPECT_EQ(*ParseAgencyName("--owner", "bup-1"), "agencies/bup-1");
  EXPECT_EQ(*ParseAgencyName("--owner", "agencies/bup-1"), "agencies/bup-1");
  EXPECT_THAT(
      ParseAgencyName("--owner", ""),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--owner")));
  EXPECT_THAT(ParseAgencyName("--owner", "agencies/"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseAgencyName("--owner", "plans/p1"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseAgencyName("--owner", "bup 1"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ParseResourceNameTest, AcceptsIdOrName) {
  EXPECT_EQ(*ParseResourceName("--plan", "plans", "p123"), "plans/p123");
  EXPECT_EQ(*ParseResourceName("--plan", "plans", "plans/p123"), "plans/p123");
  EXPECT_EQ(*ParseResourceName("--grant", "grants", "g1"), "grants/g1");
  EXPECT_EQ(*ParseResourceName("--custody", "custodyFacts", "c1"),
            "custodyFacts/c1");
  EXPECT_THAT(
      ParseResourceName("--plan", "plans", "grants/g1"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--plan")));
  EXPECT_THAT(ParseResourceName("--plan", "plans", ""),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseResourceName("--plan", "plans", "plans/"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ParsePlanChildNameTest, AcceptsFullNameOrIdWithPlan) {
  EXPECT_EQ(*ParsePlanChildName("--entry", "entries", "plans/p1", "e1"),
            "plans/p1/entries/e1");
  EXPECT_EQ(
      *ParsePlanChildName("--entry", "entries", "", "plans/p1/entries/e1"),
      "plans/p1/entries/e1");
  EXPECT_EQ(*ParsePlanChildName("--entry", "entries", "plans/p1",
                                "plans/p1/entries/e1"),
            "plans/p1/entries/e1");
  EXPECT_EQ(
      *ParsePlanChildName("--participant", "participants", "plans/p1", "q1"),
      "plans/p1/participants/q1");
}

TEST(ParsePlanChildNameTest, RejectsMismatches) {
  EXPECT_THAT(
      ParsePlanChildName("--entry", "entries", "", "e1"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--plan")));
  EXPECT_THAT(ParsePlanChildName("--entry", "entries", "plans/p2",
                                 "plans/p1/entries/e1"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParsePlanChildName("--participant", "participants", "",
                                 "plans/p1/entries/e1"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParsePlanChildName("--entry", "entries", "", "plans/p1/entries"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParsePlanChildName("--entry", "entries", "plans/p1", ""),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// --- Numbers ---

TEST(ParseIntegerTest, ChecksSyntaxAndRange) {
  EXPECT_EQ(*ParseInteger("--order", "3", 1, 1000), 3);
  EXPECT_THAT(
      ParseInteger("--order", "0", 1, 1000),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--order")));
  EXPECT_THAT(ParseInteger("--order", "1001", 1, 1000),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseInteger("--order", "two", 1, 1000),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseInteger("--order", "", 1, 1000),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ParseSecondsTest, AcceptsPositiveSeconds) {
  EXPECT_EQ(*ParseSeconds("--timeout", "10"), absl::Seconds(10));
  EXPECT_EQ(*ParseSeconds("--timeout", "2.5"), absl::Milliseconds(2500));
  for (const char* bad : {"0", "-1", "abc", "", "nan", "inf", "90000"}) {
    EXPECT_THAT(
        ParseSeconds("--timeout", bad),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--timeout")))
        << bad;
  }
}

// --- Dates and times ---

TEST(ParseDateTest, AcceptsCalendarDays) {
  absl::StatusOr<google::type::Date> d = ParseDate("--start", "2026-06-01");
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->year(), 2026);
  EXPECT_EQ(d->month(), 6);
  EXPECT_EQ(d->day(), 1);
  EXPECT_THAT(ParseDate("--start", "2024-02-29"), IsOk());
}

TEST(ParseDateTest, RejectsOtherShapesAndNonexistentDays) {
  for (const char* bad :
       {"2026-02-30", "2025-02-29", "2026-13-01", "2026-00-10", "0000-01-01",
        "2026-6-1", "20260601", "2026/06/01", "", "2026-06-01T00:00:00Z"}) {
    EXPECT_THAT(
        ParseDate("--start", bad),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--start")))
        << bad;
  }
}

TEST(ParseInstantTest, AcceptsRfc3339WithOffset) {
  EXPECT_EQ(
      *ParseInstantIn("--at", "2026-06-01T00:00:00Z", absl::UTCTimeZone()),
      Utc(2026, 6, 1));
  EXPECT_EQ(
      *ParseInstantIn("--at", "2026-06-01T08:30:00+02:00", absl::UTCTimeZone()),
      Utc(2026, 6, 1, 6, 30));
  EXPECT_EQ(
      *ParseInstantIn("--at", "2026-06-01T00:00:00.5Z", absl::UTCTimeZone()),
      Utc(2026, 6, 1) + absl::Milliseconds(500));
  EXPECT_EQ(*ParseInstant("--at", "2026-06-01t00:00:00z"), Utc(2026, 6, 1));
}

TEST(ParseInstantTest, ADateMeansMidnightInTheGivenZone) {
  const absl::TimeZone plus_two = absl::FixedTimeZone(2 * 60 * 60);
  EXPECT_EQ(*ParseInstantIn("--from", "2026-06-01", plus_two),
            Utc(2026, 5, 31, 22));
}

TEST(ParseInstantTest, ADateMeansMidnightInStockholm) {
  if (!SwedishTimeZone().ok()) GTEST_SKIP() << "no tzdata for Stockholm";
  // Summer time (CEST, +02:00) and winter time (CET, +01:00).
  EXPECT_EQ(*ParseInstant("--from", "2026-06-01"), Utc(2026, 5, 31, 22));
  EXPECT_EQ(*ParseInstant("--from", "2026-01-15"), Utc(2026, 1, 14, 23));
}

TEST(ParseInstantTest, RejectsOtherTexts) {
  for (const char* bad :
       {"tomorrow", "", "2026-06-01T00:00:00", "2026-06-01 00:00:00Z",
        "infinite-future", "2026-02-30", "2026-06-01T25:00:00Z"}) {
    EXPECT_THAT(
        ParseInstantIn("--until", bad, absl::UTCTimeZone()),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--until")))
        << bad;
  }
}

TEST(FormatTest, DatesAndInstants) {
  google::type::Date d;
  d.set_year(2026);
  d.set_month(9);
  d.set_day(1);
  EXPECT_EQ(FormatDate(d), "2026-09-01");
  EXPECT_EQ(FormatDate(google::type::Date()), "-");
  EXPECT_EQ(FormatInstant(Ts(Utc(2026, 6, 1, 6, 30)), absl::UTCTimeZone()),
            "2026-06-01 06:30 UTC");
  EXPECT_EQ(FormatInstant(Ts(Utc(2026, 6, 1, 6, 30, 15)),
                          absl::FixedTimeZone(2 * 60 * 60)),
            "2026-06-01 08:30:15");
  EXPECT_EQ(FormatInstant(google::protobuf::Timestamp(), absl::UTCTimeZone()),
            "-");
}

// --- Evidence and reviews ---

TEST(ParseEvidenceTest, KindAndReference) {
  absl::StatusOr<v1::Evidence> e =
      ParseEvidence("--evidence", "signed-form:dnr 2026/114");
  ASSERT_THAT(e, IsOk());
  EXPECT_EQ(e->kind(), v1::EVIDENCE_KIND_SIGNED_FORM);
  EXPECT_EQ(e->reference(), "dnr 2026/114");

  e = ParseEvidence("--evidence", "e-signature:bankid:7f3a");
  ASSERT_THAT(e, IsOk());
  EXPECT_EQ(e->kind(), v1::EVIDENCE_KIND_E_SIGNATURE);
  EXPECT_EQ(e->reference(), "bankid:7f3a");

  e = ParseEvidence("--evidence", "REGISTER_EXTRACT");
  ASSERT_THAT(e, IsOk());
  EXPECT_EQ(e->kind(), v1::EVIDENCE_KIND_REGISTER_EXTRACT);
  EXPECT_EQ(e->reference(), "");

  EXPECT_THAT(
      ParseEvidence("--evidence", "handshake:x"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--evidence")));
  EXPECT_THAT(ParseEvidence("--evidence", ""),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseEvidence("--evidence", ":ref"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ParseReviewTest, KindDateAndDescription) {
  absl::StatusOr<v1::ReviewDate> r =
      ParseReview("--review", "follow-up:2026-09-01");
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->kind(), v1::REVIEW_KIND_FOLLOW_UP);
  EXPECT_EQ(FormatDate(r->date()), "2026-09-01");
  EXPECT_EQ(r->description(), "");

  r = ParseReview("--review",
                  "evaluation:2026-12-01:How it went: well, mostly");
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->kind(), v1::REVIEW_KIND_EVALUATION);
  EXPECT_EQ(r->description(), "How it went: well, mostly");

  for (const char* bad : {"follow-up", "2026-09-01", "meeting:2026-09-01",
                          "follow-up:2026-13-01", ""}) {
    EXPECT_THAT(
        ParseReview("--review", bad),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--review")))
        << bad;
  }
}

// --- The command line ---

// The single value of `flag`, or "<none>".
std::string SingleValue(const CommandLine& line, absl::string_view flag) {
  absl::StatusOr<std::optional<std::string>> value = line.Single(flag);
  if (!value.ok() || !value->has_value()) return "<none>";
  return **value;
}

const std::set<std::string>& Booleans() {
  static const std::set<std::string>* const kBooleans =
      new std::set<std::string>{"--json", "--help", "--fail-on-deny"};
  return *kBooleans;
}

TEST(CommandLineTest, SplitsWordsAndFlagsInAnyOrder) {
  absl::StatusOr<CommandLine> line = CommandLine::Parse(
      {"--pki", "var/pki", "plan", "--json", "get", "--plan=p1", "-h"},
      Booleans());
  ASSERT_THAT(line, IsOk());
  EXPECT_THAT(line->words(), ElementsAre("plan", "get"));
  EXPECT_TRUE(line->Has("--json"));
  EXPECT_TRUE(line->Has("--help"));
  EXPECT_FALSE(line->Has("--fail-on-deny"));
  EXPECT_EQ(SingleValue(*line, "--pki"), "var/pki");
  EXPECT_EQ(SingleValue(*line, "--plan"), "p1");
  EXPECT_EQ(SingleValue(*line, "--actor"), "<none>");
}

TEST(CommandLineTest, ValuesMayStartWithOneDashOrBeEmpty) {
  absl::StatusOr<CommandLine> line = CommandLine::Parse(
      {"--text", "-5 degrees", "--phone=", "--reason=--odd"}, Booleans());
  ASSERT_THAT(line, IsOk());
  EXPECT_EQ(SingleValue(*line, "--text"), "-5 degrees");
  EXPECT_EQ(SingleValue(*line, "--phone"), "");
  EXPECT_EQ(SingleValue(*line, "--reason"), "--odd");
}

TEST(CommandLineTest, RejectsMissingValuesAndStrayArguments) {
  EXPECT_THAT(CommandLine::Parse({"plan", "get", "--plan"}, Booleans()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--plan needs a value")));
  EXPECT_THAT(
      CommandLine::Parse({"--plan", "--json"}, Booleans()),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--plan")));
  EXPECT_THAT(
      CommandLine::Parse({"--json=yes"}, Booleans()),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--json")));
  EXPECT_THAT(CommandLine::Parse({"-x"}, Booleans()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("-x")));
  EXPECT_THAT(CommandLine::Parse({"--"}, Booleans()),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(CommandLineTest, RepeatedAndCommaFlags) {
  absl::StatusOr<CommandLine> line =
      CommandLine::Parse({"--category", "needs,interventions", "--category",
                          " health ,", "--guardian", "19800101-1234"},
                         Booleans());
  ASSERT_THAT(line, IsOk());
  EXPECT_THAT(line->List("--category"),
              ElementsAre("needs", "interventions", "health"));
  EXPECT_THAT(line->All("--category"),
              ElementsAre("needs,interventions", " health ,"));
  EXPECT_THAT(line->List("--guardian"), ElementsAre("19800101-1234"));
  EXPECT_THAT(line->List("--sector"), IsEmpty());
  EXPECT_THAT(line->Single("--category"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("more than once")));
}

TEST(CommandLineTest, CheckKnownNamesTheUnknownFlag) {
  absl::StatusOr<CommandLine> line =
      CommandLine::Parse({"--plan", "p1", "--colour", "red"}, Booleans());
  ASSERT_THAT(line, IsOk());
  EXPECT_THAT(line->CheckKnown({"--plan", "--colour"}), IsOk());
  EXPECT_THAT(
      line->CheckKnown({"--plan"}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--colour")));
}

TEST(SplitListTest, TrimsAndDropsEmptyItems) {
  EXPECT_THAT(SplitList(" a, b,,c "), ElementsAre("a", "b", "c"));
  EXPECT_THAT(SplitList(""), IsEmpty());
  EXPECT_THAT(SplitList("needs"), ElementsAre("needs"));
}

// --- Exit codes and errors ---

TEST(ExitCodeTest, MapsStatusCodes) {
  EXPECT_EQ(ExitCodeFor(absl::StatusCode::kOk), kExitOk);
  EXPECT_EQ(ExitCodeFor(absl::StatusCode::kPermissionDenied), kExitDenied);
  EXPECT_EQ(ExitCodeFor(absl::StatusCode::kNotFound), kExitDenied);
  EXPECT_EQ(ExitCodeFor(absl::StatusCode::kUnauthenticated), kExitDenied);
  EXPECT_EQ(ExitCodeFor(absl::StatusCode::kFailedPrecondition), kExitDenied);
  EXPECT_EQ(ExitCodeFor(absl::StatusCode::kInvalidArgument), kExitInvalid);
  EXPECT_EQ(ExitCodeFor(absl::StatusCode::kUnavailable), kExitFailure);
  EXPECT_EQ(ExitCodeFor(absl::StatusCode::kInternal), kExitFailure);
  EXPECT_EQ(ExitCodeFor(absl::StatusCode::kDeadlineExceeded), kExitFailure);
  EXPECT_EQ(ExitCodeFor(absl::StatusCode::kAlreadyExists), kExitFailure);
  EXPECT_EQ(ExitCodeFor(absl::StatusCode::kAborted), kExitFailure);
  EXPECT_EQ(ExitCodeFor(absl::StatusCode::kUnknown), kExitFailure);
  EXPECT_EQ(kExitOk, 0);
  EXPECT_EQ(kExitFailure, 1);
  EXPECT_EQ(kExitUsage, 2);
  EXPECT_EQ(kExitDenied, 3);
  EXPECT_EQ(kExitInvalid, 4);
  EXPECT_EQ(kExitVerifyFailed, 5);
}

TEST(FormatErrorTest, CodeOnceThenReasonMessageAndField) {
  EXPECT_EQ(FormatError(
                InvalidField("grant.valid_until", "must be after valid_from")),
            "samplanctl: INVALID_ARGUMENT (INVALID_FIELD): grant.valid_until: "
            "must be after valid_from");
  EXPECT_EQ(FormatError(Error(absl::StatusCode::kFailedPrecondition,
                              "PLAN_CLOSED", "", "plan plans/p1 is closed")),
            "samplanctl: FAILED_PRECONDITION (PLAN_CLOSED): plan plans/p1 is "
            "closed");
  // A reason that is the code's own name is not repeated.
  EXPECT_EQ(FormatError(NotFound("plans/p1", "plan not found")),
            "samplanctl: NOT_FOUND: plan not found");
  // A field the message does not name is added.
  absl::Status s = Error(absl::StatusCode::kAlreadyExists, "ALREADY_EXISTS", "",
                         "already takes part");
  s.SetPayload(kFieldPayload, absl::Cord("participant.agency"));
  EXPECT_EQ(FormatError(s),
            "samplanctl: ALREADY_EXISTS: already takes part (field: "
            "participant.agency)");
  EXPECT_EQ(FormatError(absl::UnavailableError("connection refused")),
            "samplanctl: UNAVAILABLE: connection refused");
}

TEST(ValidityTest, RequestIdsAndActors) {
  EXPECT_TRUE(IsValidRequestId("req-0123456789abcdef"));
  EXPECT_TRUE(IsValidRequestId("a:b.c_d-E"));
  EXPECT_FALSE(IsValidRequestId(""));
  EXPECT_FALSE(IsValidRequestId("has space"));
  EXPECT_FALSE(IsValidRequestId("a@b"));
  EXPECT_FALSE(IsValidRequestId(std::string(65, 'a')));
  EXPECT_TRUE(IsValidRequestId(std::string(64, 'a')));
  EXPECT_TRUE(IsValidActor("anna.berg@school-1"));
  EXPECT_FALSE(IsValidActor("anna:berg"));
  EXPECT_FALSE(IsValidActor(""));
}

}  // namespace
}  // namespace samplan::client::cli
