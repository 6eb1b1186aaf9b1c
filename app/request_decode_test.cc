#include "app/request_decode.h"

#include <string>

#include "common/errors.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "samplan/v1/audit.pb.h"
#include "samplan/v1/plan.pb.h"

namespace samplan::app {
namespace {

using ::testing::HasSubstr;

// The wire bytes of `m`, whatever its strings hold (protobuf's setters and
// serializer do not refuse invalid UTF-8; its parser does).
std::string Bytes(const google::protobuf::Message& m) {
  std::string out;
  EXPECT_TRUE(m.SerializeToString(&out));
  return out;
}

void ExpectField(const absl::Status& s, const std::string& field) {
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument,
                          HasSubstr("could not be decoded")));
  EXPECT_EQ(ReasonOf(s), "INVALID_FIELD") << s;
  EXPECT_EQ(FieldOf(s), field) << s;
}

TEST(DecodeRequestTest, AValidRequestDecodes) {
  v1::CreatePlanRequest in;
  in.set_request_id("r1");
  in.mutable_plan()->mutable_coordinator()->set_display_name("Åsa Öberg");
  in.add_participants()->set_display_name("Mormor");
  v1::CreatePlanRequest out;
  ASSERT_THAT(DecodeRequest(Bytes(in), &out), IsOk());
  EXPECT_EQ(out.plan().coordinator().display_name(), "Åsa Öberg");
  EXPECT_EQ(out.participants(0).display_name(), "Mormor");
}

TEST(DecodeRequestTest, InvalidUtf8IsBlamedOnItsField) {
  v1::GetPlanRequest get;
  get.set_name("plans/\xff");
  v1::GetPlanRequest out;
  ExpectField(DecodeRequest(Bytes(get), &out), "name");

  v1::CreatePlanRequest create;
  create.set_request_id("r1");
  create.add_participants()->set_display_name("ok");
  create.add_participants()->set_display_name("bad \xc3");
  v1::CreatePlanRequest created;
  ExpectField(DecodeRequest(Bytes(create), &created),
              "participants[1].display_name");
  EXPECT_EQ(created.participants_size(), 0) << "nothing half-decoded";

  v1::StreamAuditEventsRequest stream;
  stream.mutable_filter()->set_subject("2016\xed\xa0\x80");  // a surrogate
  v1::StreamAuditEventsRequest streamed;
  ExpectField(DecodeRequest(Bytes(stream), &streamed), "filter.subject");
}

TEST(DecodeRequestTest, OverlongAndOutOfRangeSequencesAreNotUtf8) {
  for (const char* bad : {"\xc0\xaf", "\xe0\x80\xaf", "\xf4\x90\x80\x80",
                          "\xf8\x88\x80\x80", "a\x80", "\xe2\x82"}) {
    v1::GetPlanRequest get;
    get.set_name(bad);
    v1::GetPlanRequest out;
    ExpectField(DecodeRequest(Bytes(get), &out), "name");
  }
}

TEST(DecodeRequestTest, ATruncatedFieldIsBlamed) {
  v1::CreatePlanRequest create;
  create.set_request_id("r1");
  create.mutable_plan()->set_subject("201605102384");
  std::string bytes = Bytes(create);
  // The plan (field 1) comes first: its length now runs past the end.
  bytes.resize(5);
  v1::CreatePlanRequest out;
  const absl::Status s = DecodeRequest(bytes, &out);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(FieldOf(s), "plan") << s;
}

TEST(DecodeRequestTest, BytesThatAreNoMessageAreMalformed) {
  v1::GetPlanRequest out;
  const absl::Status s = DecodeRequest(std::string("\xff\xff\xff", 3), &out);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument,
                          HasSubstr("samplan.v1.GetPlanRequest")));
  EXPECT_EQ(ReasonOf(s), "MALFORMED_REQUEST");
  EXPECT_EQ(FieldOf(s), std::nullopt);
}

TEST(DecodeRequestTest, UnknownFieldsAndOtherWireTypesAreKeptAsProtobufDoes) {
  // Field 15 (unknown) as a varint, and field 1 (name, a string) sent as a
  // varint: protobuf keeps both as unknown fields and the parse succeeds.
  const std::string bytes("\x78\x01\x08\x05", 4);
  v1::GetPlanRequest out;
  EXPECT_THAT(DecodeRequest(bytes, &out), IsOk());
  EXPECT_EQ(out.name(), "");
}

}  // namespace
}  // namespace samplan::app
