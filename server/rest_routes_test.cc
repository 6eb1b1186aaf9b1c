#include "server/rest_routes.h"

#include <string>
#include <vector>

#include "common/errors.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "samplan/v1/audit.pb.h"
#include "samplan/v1/plan.pb.h"

namespace samplan::server::rest {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const google::protobuf::ServiceDescriptor& Service(const std::string& name) {
  return *google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
      name);
}

// The reason and field of an error, "REASON field".
std::string Why(const absl::Status& s) {
  return ReasonOf(s).value_or("(none)") +
         (FieldOf(s) ? " " + *FieldOf(s) : std::string());
}

TEST(PathTemplateTest, ParsesVariablesAndVerb) {
  auto t = ParsePathTemplate("/v1/{name=plans/*}:approve",
                             *v1::ApprovePlanRequest::descriptor());
  ASSERT_THAT(t, IsOk());
  ASSERT_EQ(t->segments.size(), 3u);
  EXPECT_EQ(t->segments[0].literal, "v1");
  EXPECT_EQ(t->segments[1].literal, "plans");
  EXPECT_EQ(t->segments[2].kind, PathTemplate::Segment::kStar);
  EXPECT_EQ(t->verb, "approve");
  ASSERT_EQ(t->variables.size(), 1u);
  EXPECT_EQ(t->variables[0].field_name, "name");
  EXPECT_EQ(t->variables[0].begin, 1);
  EXPECT_EQ(t->variables[0].end, 3);
}

TEST(PathTemplateTest, NestedFieldVariable) {
  auto t = ParsePathTemplate("/v1/{entry.name=plans/*/entries/*}",
                             *v1::UpdateEntryRequest::descriptor());
  ASSERT_THAT(t, IsOk());
  ASSERT_EQ(t->variables.size(), 1u);
  EXPECT_EQ(t->variables[0].field_name, "entry.name");
  EXPECT_EQ(t->variables[0].field_path.size(), 2u);
}

TEST(PathTemplateTest, RefusesWhatCannotBeServed) {
  const auto& get = *v1::GetPlanRequest::descriptor();
  for (const char* bad :
       {"v1/plans", "/v1/{name=plans/*", "/v1/{nope=plans/*}", "/v1/{view}",
        "/v1//plans", "/v1/{name=plans/*}:", "/v1/{name=plans/{x}}"}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(ParsePathTemplate(bad, get),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

TEST(RoutesTest, EveryAnnotatedMethodHasARoute) {
  const auto& plans = Service("samplan.v1.PlanService");
  auto routes = RoutesOf(plans);
  ASSERT_THAT(routes, IsOk());
  EXPECT_EQ(routes->size(), static_cast<size_t>(plans.method_count()));
  for (const Route& r : *routes) {
    if (r.method->name() == "UpdatePlan") {
      EXPECT_EQ(r.http_method, "PATCH");
      EXPECT_EQ(r.body, "plan");
      ASSERT_NE(r.body_field, nullptr);
      EXPECT_EQ(r.body_field->name(), "plan");
    }
    if (r.method->name() == "ListPlans") {
      EXPECT_EQ(r.http_method, "GET");
      EXPECT_EQ(r.body, "");
    }
  }
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<Route> all;
    for (const char* s :
         {"samplan.v1.PlanService", "samplan.v1.AuditService"}) {
      auto routes = RoutesOf(Service(s));
      ASSERT_THAT(routes, IsOk());
      all.insert(all.end(), routes->begin(), routes->end());
    }
    router_ = std::make_unique<Router>(std::move(all));
  }

  std::string MethodOf(absl::string_view http, absl::string_view path) {
    auto m = router_->Find(http, path);
    return m.ok() ? m->route->method->name() : Why(m.status());
  }

  std::unique_ptr<Router> router_;
};

TEST_F(RouterTest, FindsByMethodPathAndVerb) {
  EXPECT_EQ(MethodOf("GET", "/v1/plans"), "ListPlans");
  EXPECT_EQ(MethodOf("POST", "/v1/plans"), "CreatePlan");
  EXPECT_EQ(MethodOf("GET", "/v1/plans/abc"), "GetPlan");
  EXPECT_EQ(MethodOf("POST", "/v1/plans/abc:approve"), "ApprovePlan");
  EXPECT_EQ(MethodOf("POST", "/v1/plans:search"), "SearchPlans");
  EXPECT_EQ(MethodOf("PATCH", "/v1/plans/a/entries/b"), "UpdateEntry");
  auto m = router_->Find("GET", "/v1/plans/a%20b");
  ASSERT_THAT(m, IsOk());
  EXPECT_THAT(m->values, ElementsAre("plans/a b"));
}

TEST_F(RouterTest, UnknownPathsAndMethodsAreTold) {
  EXPECT_EQ(MethodOf("GET", "/v1/nothing"), "UNKNOWN_ROUTE");
  EXPECT_EQ(MethodOf("GET", "/v1/plans/a/b"), "UNKNOWN_ROUTE");
  EXPECT_EQ(MethodOf("GET", "/v1/plans/abc:frobnicate"), "UNKNOWN_ROUTE");
  // An escaped slash does not make two segments of one.
  EXPECT_EQ(MethodOf("GET", "/v1/plans/a%2Fb"), "UNKNOWN_ROUTE");
  EXPECT_EQ(MethodOf("GET", "/v1/plans/%zz"), "UNKNOWN_ROUTE");
  EXPECT_EQ(MethodOf("GET", "v1/plans"), "UNKNOWN_ROUTE");
  auto wrong = router_->Find("DELETE", "/v1/plans");
  EXPECT_THAT(wrong, StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_EQ(MetadataOf(wrong.status(), "allow"), "GET, POST");
  EXPECT_THAT(router_->Find("GET", "/v1/nothing"),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(RouterTest, BuildsRequestsFromPathQueryAndBody) {
  auto list = router_->Find("GET", "/v1/plans");
  ASSERT_THAT(list, IsOk());
  v1::ListPlansRequest l;
  ASSERT_THAT(
      BuildRequest(*list, "pageSize=5&state=PLAN_STATE_ACTIVE&page_token=a+b",
                   "", &l),
      IsOk());
  EXPECT_EQ(l.page_size(), 5);
  EXPECT_EQ(l.state(), v1::PLAN_STATE_ACTIVE);
  EXPECT_EQ(l.page_token(), "a b");

  auto approve = router_->Find("POST", "/v1/plans/p1:approve");
  ASSERT_THAT(approve, IsOk());
  v1::ApprovePlanRequest a;
  ASSERT_THAT(
      BuildRequest(*approve, "", R"({"revision":"3","requestId":"r-1"})", &a),
      IsOk());
  EXPECT_EQ(a.name(), "plans/p1");
  EXPECT_EQ(a.revision(), 3);
  EXPECT_EQ(a.request_id(), "r-1");

  auto update = router_->Find("PATCH", "/v1/plans/p1/entries/e1");
  ASSERT_THAT(update, IsOk());
  v1::UpdateEntryRequest u;
  ASSERT_THAT(BuildRequest(*update, "updateMask=text&requestId=u-1",
                           R"({"text":"new"})", &u),
              IsOk());
  EXPECT_EQ(u.entry().name(), "plans/p1/entries/e1");
  EXPECT_EQ(u.entry().text(), "new");
  EXPECT_THAT(u.update_mask().paths(), ElementsAre("text"));
  EXPECT_EQ(u.request_id(), "u-1");

  auto stream = router_->Find("POST", "/v1/auditEvents:stream");
  ASSERT_THAT(stream, IsOk());
  v1::StreamAuditEventsRequest s;
  ASSERT_THAT(
      BuildRequest(*stream, "",
                   R"({"filter":{"startTime":"2026-06-01T10:00:00Z"}})", &s),
      IsOk());
  EXPECT_EQ(s.filter().start_time().seconds(), 1780308000);
}

TEST_F(RouterTest, BadRequestsNameTheField) {
  auto list = router_->Find("GET", "/v1/plans");
  ASSERT_THAT(list, IsOk());
  v1::ListPlansRequest l;
  EXPECT_EQ(Why(BuildRequest(*list, "colour=red", "", &l)),
            "INVALID_FIELD colour");
  EXPECT_EQ(Why(BuildRequest(*list, "pageSize=many", "", &l)),
            "INVALID_FIELD page_size");
  EXPECT_EQ(Why(BuildRequest(*list, "state=PLAN_STATE_NOPE", "", &l)),
            "INVALID_FIELD state");
  // A name that is not a field path is not quoted back.
  EXPECT_EQ(Why(BuildRequest(*list, "sta%9Bte=x", "", &l)),
            "MALFORMED_REQUEST");
  EXPECT_EQ(Why(BuildRequest(*list, "a%20b=x", "", &l)), "MALFORMED_REQUEST");
  EXPECT_EQ(Why(BuildRequest(*list, std::string(101, 'a') + "=x", "", &l)),
            "MALFORMED_REQUEST");
  EXPECT_EQ(Why(BuildRequest(*list, "pageToken=%4", "", &l)),
            "MALFORMED_REQUEST");
  EXPECT_EQ(Why(BuildRequest(*list, "pageToken=%FF", "", &l)),
            "INVALID_FIELD page_token");
  EXPECT_THAT(BuildRequest(*list, "pageToken=%FF", "", &l),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(Why(BuildRequest(*list, "", R"({"pageSize":5})", &l)),
            "MALFORMED_REQUEST");

  auto get = router_->Find("GET", "/v1/plans/p1");
  ASSERT_THAT(get, IsOk());
  v1::GetPlanRequest g;
  EXPECT_EQ(Why(BuildRequest(*get, "name=plans/p2", "", &g)),
            "INVALID_FIELD name");

  auto create = router_->Find("POST", "/v1/plans");
  ASSERT_THAT(create, IsOk());
  v1::CreatePlanRequest c;
  EXPECT_EQ(Why(BuildRequest(*create, "", R"({"plan":{"colour":"red"}})", &c)),
            "INVALID_FIELD plan.colour");
  // A key that is not a field path is not quoted back: the field around
  // it is named instead.
  EXPECT_EQ(Why(BuildRequest(*create, "", R"({"plan":{"c\u00f6lour":1}})", &c)),
            "INVALID_FIELD plan");
  EXPECT_EQ(Why(BuildRequest(*create, "", "{not json", &c)),
            "MALFORMED_REQUEST");
  EXPECT_EQ(Why(BuildRequest(*create, "requestId=x", R"({})", &c)),
            "MALFORMED_REQUEST");
  // A body that is not UTF-8 names the field whose string holds the
  // first bad byte, however deep (with its index in a list).
  EXPECT_EQ(Why(BuildRequest(*create, "",
                             "{\"plan\":{\"coordinator\":{\"displayName\":"
                             "\"\xff\"}}}",
                             &c)),
            "INVALID_FIELD plan.coordinator.display_name");
  auto approve = router_->Find("POST", "/v1/plans/p1:approve");
  ASSERT_THAT(approve, IsOk());
  v1::ApprovePlanRequest a;
  EXPECT_EQ(Why(BuildRequest(*approve, "",
                             "{\"approvals\":[{},{\"approverIdentityNumber\":"
                             "\"19\\\"8\xc0\xaf\"}]}",
                             &a)),
            "INVALID_FIELD approvals[1].approver_identity_number");
  EXPECT_EQ(Why(BuildRequest(*create, "",
                             "{\"pl\xe2\x82"
                             "an\":{}}",
                             &c)),
            "MALFORMED_REQUEST");  // in a key: no field to name
  // An unknown key on the way is not quoted back either.
  EXPECT_EQ(Why(BuildRequest(*create, "",
                             "{\"plan\":{\"19800101 1231\":\"\xff\"}}", &c)),
            "INVALID_FIELD plan");
  EXPECT_EQ(Why(BuildRequest(*create, "", "{\"plan\":{}}\xff", &c)),
            "MALFORMED_REQUEST");  // outside any string

  auto update = router_->Find("PATCH", "/v1/plans/p1/entries/e1");
  ASSERT_THAT(update, IsOk());
  v1::UpdateEntryRequest u;
  EXPECT_THAT(Why(BuildRequest(*update, "entry.text=x", R"({})", &u)),
              HasSubstr("INVALID_FIELD entry"));
}

TEST(AltMediaTest, TakesAltOutOfTheQueryAndOnlyForDocuments) {
  const auto& render = *v1::RenderPlanResponse::descriptor();
  const auto& plan = *v1::GetPlanResponse::descriptor();
  EXPECT_TRUE(IsDocument(render));
  EXPECT_FALSE(IsDocument(plan));
  std::string rest;
  absl::string_view query =
      "languageCode=en&alt=media&format=DOCUMENT_FORMAT_PDF";
  EXPECT_EQ(TakeAltMedia(render, &query, &rest).value_or(false), true);
  EXPECT_EQ(query, "languageCode=en&format=DOCUMENT_FORMAT_PDF");
  query = "alt=json";
  EXPECT_EQ(TakeAltMedia(plan, &query, &rest).value_or(true), false);
  EXPECT_EQ(query, "");
  // Without alt the query is the caller's own, untouched.
  const std::string untouched = "view=PLAN_VIEW_LATEST&salt=1";
  query = untouched;
  EXPECT_EQ(TakeAltMedia(plan, &query, &rest).value_or(true), false);
  EXPECT_EQ(query.data(), untouched.data());
  EXPECT_EQ(query, untouched);
  for (const char* bad : {"alt=media", "alt=xml", "alt=json&$alt=json"}) {
    query = bad;
    const absl::Status s =
        TakeAltMedia(std::string(bad) == "alt=media" ? plan : render, &query,
                     &rest)
            .status();
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
    EXPECT_EQ(FieldOf(s), "alt") << bad;
  }

  v1::RenderPlanResponse doc;
  doc.set_content_type("application/pdf");
  doc.set_content(std::string("%PDF-\0binary", 12));
  doc.set_file_name("sip-k3x9-v2.pdf");
  Media media = MediaOf(doc);
  EXPECT_EQ(media.content_type, "application/pdf");
  EXPECT_EQ(media.content, doc.content());
  EXPECT_EQ(media.file_name, "sip-k3x9-v2.pdf");
  // A name that is not safe in a header is left out, not passed on.
  doc.set_file_name("a\"; b.pdf");
  EXPECT_EQ(MediaOf(doc).file_name, "");
}

TEST(PercentDecodeTest, DecodesAndRefusesMalformedEscapes) {
  std::string out;
  EXPECT_TRUE(PercentDecode("%41+b%2f", true, &out));
  EXPECT_EQ(out, "A b/");
  EXPECT_TRUE(PercentDecode("a+b", false, &out));
  EXPECT_EQ(out, "a+b");
  EXPECT_FALSE(PercentDecode("%4", true, &out));
  EXPECT_FALSE(PercentDecode("%zz", true, &out));
  EXPECT_FALSE(PercentDecode("abc%", true, &out));
}

TEST(ToJsonTest, FollowsTheProtobufJsonMapping) {
  v1::ApprovePlanRequest a;
  a.set_name("plans/p1");
  a.set_revision(7);
  a.set_request_id("r");
  a.add_approvals()->set_approver_role(v1::APPROVER_ROLE_GUARDIAN);
  std::string json;
  ASSERT_THAT(ToJson(a, &json), IsOk());
  EXPECT_THAT(json, HasSubstr(R"("revision":"7")"));
  EXPECT_THAT(json, HasSubstr(R"("requestId":"r")"));
  EXPECT_THAT(json, HasSubstr(R"("approverRole":"APPROVER_ROLE_GUARDIAN")"));
  EXPECT_EQ(json.find('\n'), std::string::npos);
}

TEST(StatusJsonTest, CarriesCodeMessageAndErrorInfo) {
  const std::string json =
      StatusJson(InvalidField("plan.subject", "is not an identity number"));
  EXPECT_THAT(json, HasSubstr(R"("code":3)"));
  EXPECT_THAT(json, HasSubstr(R"("reason":"INVALID_FIELD")"));
  EXPECT_THAT(json, HasSubstr(R"("field":"plan.subject")"));
}

}  // namespace
}  // namespace samplan::server::rest
