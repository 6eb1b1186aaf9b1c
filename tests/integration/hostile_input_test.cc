// Hostile input over both transports, against a running server with the
// story's plan: oversize messages and heads, very long strings, bytes that
// are not UTF-8, unknown enum values, times out of range, SQL
// metacharacters and path tricks in names and ids, floods of idle
// connections, and the per-agency rate limit. Each is refused with a
// clear error that names the field (or the limit), nothing is stored (the
// audit log and the plan are as they were), and nothing of the input
// reaches the service log.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "tests/integration/rest_client.h"

namespace samplan::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The reason and field of a REST error body.
struct RestError {
  std::string reason;
  std::string field;
  std::string limit;
};
RestError ErrorOf(const Http& http) {
  RestError out;
  google::rpc::Status status;
  if (!google::protobuf::util::JsonStringToMessage(http.body, &status).ok()) {
    return out;
  }
  for (const auto& any : status.details()) {
    google::rpc::ErrorInfo info;
    if (!any.UnpackTo(&info)) continue;
    out.reason = info.reason();
    out.field =
        info.metadata().count("field") ? info.metadata().at("field") : "";
    out.limit =
        info.metadata().count("limit") ? info.metadata().at("limit") : "";
  }
  return out;
}

class HostileInputTest : public StoryTest {
 protected:
  void Configure(config::v1::ServerConfig& config) override {
    config.mutable_limits()->set_max_message_bytes(64 * 1024);
    // Below gRPC's own default metadata limit (8 KiB), so that a refusal
    // of a 6 KiB head shows the setting reaches gRPC.
    config.mutable_limits()->set_max_header_bytes(4096);
  }

  RestClient& Rest() {
    if (rest_ == nullptr) {
      rest_ = std::make_unique<RestClient>(server_->rest_port(), dir_);
    }
    return *rest_;
  }

  // The plan's entries as BUP (which wrote them) sees them.
  int Entries() {
    v1::GetPlanRequest get;
    get.set_name(plan_);
    v1::GetPlanResponse out;
    EXPECT_THAT(Call(*bup_, &v1::PlanService::Stub::GetPlan, get, &out),
                IsOk());
    return out.entries_size();
  }

  v1::CreateEntryRequest Entry(const std::string& text) {
    v1::CreateEntryRequest req;
    req.set_request_id("hostile-1");
    req.set_parent(plan_);
    req.mutable_entry()->set_category(v1::INFORMATION_CATEGORY_NEEDS);
    req.mutable_entry()->set_kind(v1::ENTRY_KIND_NOTE);
    req.mutable_entry()->set_text(text);
    return req;
  }

  std::unique_ptr<RestClient> rest_;
};

// Larger than limits.max_message_bytes: gRPC refuses the message before it
// is decoded, REST answers 413 naming the limit. Within it but over the
// entry's own limit: INVALID_ARGUMENT naming entry.text.
TEST_F(HostileInputTest, OversizeMessagesAreRefused) {
  LogCapture log;
  const int64_t audit = AuditSize();
  const std::string huge = "HUGE" + std::string(100 * 1024, 'x');
  v1::CreateEntryResponse out;
  EXPECT_THAT(
      Call(*bup_, &v1::PlanService::Stub::CreateEntry, Entry(huge), &out),
      StatusIs(absl::StatusCode::kResourceExhausted));
  Http rest = Rest().Call(
      {"bup-1", "POST", "/v1/" + plan_ + "/entries?requestId=hostile-2",
       absl::StrCat(R"({"category":"INFORMATION_CATEGORY_NEEDS",)",
                    R"("kind":"ENTRY_KIND_NOTE","text":")", huge, R"("})")});
  EXPECT_EQ(rest.status, 413);
  EXPECT_EQ(ErrorOf(rest).reason, "REQUEST_TOO_LARGE");
  EXPECT_EQ(ErrorOf(rest).limit, "limits.max_message_bytes");

  const std::string long_text = "LONG" + std::string(30 * 1024, 'y');
  absl::Status s =
      Call(*bup_, &v1::PlanService::Stub::CreateEntry, Entry(long_text), &out);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(FieldOf(s), "entry.text");
  rest = Rest().Call(
      {"bup-1", "POST", "/v1/" + plan_ + "/entries?requestId=hostile-3",
       absl::StrCat(R"({"category":"INFORMATION_CATEGORY_NEEDS",)",
                    R"("kind":"ENTRY_KIND_NOTE","text":")", long_text,
                    R"("})")});
  EXPECT_EQ(rest.status, 400);
  EXPECT_EQ(ErrorOf(rest).field, "entry.text");

  EXPECT_EQ(AuditSize(), audit);
  EXPECT_EQ(Entries(), 2);
  EXPECT_THAT(log.Text(), Not(HasSubstr("HUGE")));
  EXPECT_THAT(log.Text(), Not(HasSubstr("LONG")));
}

// A head larger than limits.max_header_bytes (here a 6 KiB actor over a
// 4 KiB limit): 431 over REST, and over gRPC the call ends with
// RESOURCE_EXHAUSTED; an actor over its own limit (64 characters) is
// INVALID_ARGUMENT, MISSING_ACTOR. Nothing is stored or logged.
TEST_F(HostileInputTest, OversizeHeadsAreRefused) {
  LogCapture log;
  const int64_t audit = AuditSize();
  const std::string huge_actor = "ACTOR" + std::string(6 * 1024, 'a');
  v1::GetPlanRequest get;
  get.set_name(plan_);
  v1::GetPlanResponse out;
  absl::Status s =
      Call(*school_, &v1::PlanService::Stub::GetPlan, get, &out, huge_actor);
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(out.has_plan());
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kResourceExhausted))
      << s.ToString();
  Http rest = Rest().Call({"school-1", "GET", "/v1/" + plan_, "", huge_actor});
  EXPECT_EQ(rest.status, 431);
  EXPECT_EQ(ErrorOf(rest).limit, "limits.max_header_bytes");

  const std::string long_actor(65, 'a');
  s = Call(*school_, &v1::PlanService::Stub::GetPlan, get, &out, long_actor);
  EXPECT_EQ(ReasonOf(s), "MISSING_ACTOR");
  rest = Rest().Call({"school-1", "GET", "/v1/" + plan_, "", long_actor});
  EXPECT_EQ(rest.status, 400);
  EXPECT_EQ(ErrorOf(rest).reason, "MISSING_ACTOR");
  EXPECT_EQ(AuditSize(), audit);
  EXPECT_THAT(log.Text(), Not(HasSubstr("ACTOR")));
  EXPECT_THAT(log.Text(), Not(HasSubstr(long_actor)));
}

// Names and ids that try to escape their collection or the SQL around
// them, strings that are not UTF-8, unknown enum values, and times out of
// range: INVALID_ARGUMENT (400) naming the field, over both transports;
// nothing stored, nothing of the input in the service log.
TEST_F(HostileInputTest, HostileFieldsAreNamedAndNothingIsStored) {
  LogCapture log;
  const int64_t audit = AuditSize();

  // gRPC: a name, a parent, a request id.
  for (const std::string& name :
       {std::string("plans/x' OR '1'='1"), std::string("plans/../agencies/x"),
        std::string("plans/p1; DROP TABLE entries; --"),
        std::string("plans/p1\0x", 10), std::string("plans/%2e%2e"),
        "plans/" + std::string(50 * 1024, 'p')}) {
    SCOPED_TRACE(name.substr(0, 40));
    v1::GetPlanRequest get;
    get.set_name(name);
    v1::GetPlanResponse out;
    absl::Status s = Call(*school_, &v1::PlanService::Stub::GetPlan, get, &out);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_EQ(FieldOf(s), "name");
    v1::CreateEntryRequest write = Entry("text");
    write.set_parent(name);
    v1::CreateEntryResponse written;
    s = Call(*bup_, &v1::PlanService::Stub::CreateEntry, write, &written);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_EQ(FieldOf(s), "parent");
  }
  {
    v1::CreateEntryRequest write = Entry("text");
    write.set_request_id("r'; DELETE FROM audit_events; --");
    v1::CreateEntryResponse written;
    absl::Status s =
        Call(*bup_, &v1::PlanService::Stub::CreateEntry, write, &written);
    EXPECT_EQ(FieldOf(s), "request_id");
  }
  // gRPC: an unknown enum value, times out of range.
  {
    v1::CreateEntryRequest write = Entry("text");
    write.mutable_entry()->set_category(
        static_cast<v1::InformationCategory>(999));
    v1::CreateEntryResponse written;
    absl::Status s =
        Call(*bup_, &v1::PlanService::Stub::CreateEntry, write, &written);
    EXPECT_EQ(FieldOf(s), "entry.category");
  }
  struct TimeCase {
    int64_t seconds;
    int32_t nanos;
    const char* field;
  };
  for (const TimeCase& t :
       {TimeCase{253402300800, 0, "grant.valid_until"},
        TimeCase{-62135596801, 0, "grant.valid_until"},
        TimeCase{1790000000, 1000000000, "grant.valid_until"},
        TimeCase{1790000000, -1, "grant.valid_until"}}) {
    SCOPED_TRACE(absl::StrCat(t.seconds, ".", t.nanos));
    v1::CreateGrantRequest req;
    req.set_request_id("grant-hostile");
    v1::Grant* g = req.mutable_grant();
    g->set_subject(child_);
    g->set_grantor_role(v1::GRANTOR_ROLE_GUARDIAN);
    g->set_grantor_identity_number(g1_);
    g->mutable_scope()->add_disclosing_sectors(v1::SECTOR_HEALTHCARE);
    g->mutable_scope()->add_receiving_sectors(v1::SECTOR_SCHOOL);
    g->mutable_scope()->add_categories(v1::INFORMATION_CATEGORY_NEEDS);
    Ts(Utc(2026, 6, 1), g->mutable_valid_from());
    g->mutable_valid_until()->set_seconds(t.seconds);
    g->mutable_valid_until()->set_nanos(t.nanos);
    g->mutable_evidence()->set_kind(v1::EVIDENCE_KIND_SIGNED_FORM);
    v1::CreateGrantResponse out;
    absl::Status s =
        Call(*consents_, &v1::ConsentService::Stub::CreateGrant, req, &out);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_EQ(FieldOf(s), t.field);
  }

  // REST: the same through paths, queries and JSON bodies.
  struct RestCase {
    std::string method;
    std::string target;
    std::string body;
    int status;
    std::string field;  // "" when the router refuses (404, no field)
  };
  const std::string entries = "/v1/" + plan_ + "/entries?requestId=rest-h";
  auto entry = [](const std::string& members) {
    return absl::StrCat(R"({"category":"INFORMATION_CATEGORY_NEEDS",)",
                        R"("kind":"ENTRY_KIND_NOTE",)", members, "}");
  };
  const RestCase cases[] = {
      {"GET", "/v1/plans/x'%20OR%20'1'='1", "", 400, "name"},
      {"GET", "/v1/plans/p1;%20DROP%20TABLE%20entries", "", 400, "name"},
      {"GET", "/v1/plans/..%2Fagencies%2Fadmin-1", "", 404, ""},
      {"GET", "/v1/plans/p1%00", "", 400, "name"},
      {"GET", "/v1/plans/%FF%FE", "", 400, "name"},
      {"GET", "/v1/plans?pageToken=%FF", "", 400, "page_token"},
      {"POST", entries, entry("\"text\":\"\xff\xfe\""), 400, "entry.text"},
      {"POST", entries,
       R"({"category":"INFORMATION_CATEGORY_NOPE","kind":"ENTRY_KIND_NOTE","text":"x"})",
       400, "entry.category"},
      {"POST", entries,
       R"({"category":999,"kind":"ENTRY_KIND_NOTE","text":"x"})", 400,
       "entry.category"},
      {"POST", "/v1/plans/p1'--/entries?requestId=rest-h",
       entry("\"text\":\"x\""), 400, "parent"},
      {"POST", "/v1/" + plan_ + "/entries?requestId=r%27%3B--",
       entry("\"text\":\"x\""), 400, "request_id"},
      {"POST", "/v1/grants?requestId=rest-g",
       absl::StrCat(R"({"subject":")", child_,
                    R"(","validFrom":"10000-01-01T00:00:00Z"})"),
       400, "grant.valid_from"},
      {"POST", "/v1/grants?requestId=rest-g",
       absl::StrCat(R"({"subject":")", child_,
                    R"(","validFrom":"2026-13-01T00:00:00Z"})"),
       400, "grant.valid_from"},
  };
  for (const RestCase& c : cases) {
    SCOPED_TRACE(c.method + " " + c.target + " " + c.body.substr(0, 60));
    const std::string agency =
        absl::StrContains(c.target, "grants") ? "school-1" : "bup-1";
    Http h = Rest().Call({agency, c.method, c.target, c.body});
    EXPECT_EQ(h.status, c.status) << h.body;
    if (!c.field.empty()) {
      EXPECT_EQ(ErrorOf(h).field, c.field) << h.body;
    }
  }

  EXPECT_EQ(AuditSize(), audit);
  EXPECT_EQ(Entries(), 2);
  const std::string logged = log.Text();
  for (const char* secret :
       {"DROP TABLE", "OR '1'='1", "DELETE FROM", "pppppppppp", "..%2F"}) {
    EXPECT_THAT(logged, Not(HasSubstr(secret)));
  }
}

// Hundreds of connections that never say anything (an attacker holding
// sockets open, or clients stalled before their TLS handshake) on both
// listeners: the server goes on answering others over both transports.
TEST_F(HostileInputTest, IdleConnectionFloodsDoNotStopService) {
  std::vector<int> sockets;
  for (int port : {server_->api_port(), server_->rest_port()}) {
    for (int i = 0; i < 200; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      ASSERT_GE(fd, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<uint16_t>(port));
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
                0);
      // Half a TLS record header, then nothing.
      const char partial[] = {0x16, 0x03};
      (void)::write(fd, partial, sizeof partial);
      sockets.push_back(fd);
    }
  }
  v1::GetPlanResponse got = SchoolReads();
  EXPECT_EQ(got.plan().name(), plan_);
  Http rest = Rest().Call({"school-1", "GET", "/v1/" + plan_});
  EXPECT_EQ(rest.status, 200) << rest.body;
  // A new gRPC connection, too.
  auto fresh = Plans("bup-1");
  v1::GetPlanRequest get;
  get.set_name(plan_);
  v1::GetPlanResponse out;
  EXPECT_THAT(Call(*fresh, &v1::PlanService::Stub::GetPlan, get, &out), IsOk());
  for (int fd : sockets) ::close(fd);
}

// The per-agency rate limit is one budget over both transports: past it,
// RESOURCE_EXHAUSTED (gRPC) and 429 (REST), reason RATE_LIMITED with the
// wait; other agencies are not affected; nothing is recorded for a refused
// call; the budget refills with time (the injected clock).
class RateLimitTest : public ServerTest {
 protected:
  void Configure(config::v1::ServerConfig& config) override {
    config.mutable_limits()->set_agency_calls_per_second(1);
    config.mutable_limits()->set_agency_burst(3);
  }
};

TEST_F(RateLimitTest, OneBudgetOverBothTransports) {
  auto school = Plans("school-1");
  RestClient rest(server_->rest_port(), dir_);
  v1::ListPlansRequest list;
  v1::ListPlansResponse out;
  EXPECT_THAT(Call(*school, &v1::PlanService::Stub::ListPlans, list, &out),
              IsOk());
  EXPECT_EQ(rest.Call({"school-1", "GET", "/v1/plans"}).status, 200);
  EXPECT_THAT(Call(*school, &v1::PlanService::Stub::ListPlans, list, &out),
              IsOk());
  const int64_t audit = AuditSize();
  absl::Status s = Call(*school, &v1::PlanService::Stub::ListPlans, list, &out);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(ReasonOf(s), "RATE_LIMITED");
  EXPECT_TRUE(MetadataOf(s, "retry_after_ms").has_value());
  Http refused = rest.Call({"school-1", "GET", "/v1/plans"});
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(ErrorOf(refused).reason, "RATE_LIMITED");
  EXPECT_EQ(AuditSize(), audit);
  // Another agency has its own budget.
  auto bup = Plans("bup-1");
  EXPECT_THAT(Call(*bup, &v1::PlanService::Stub::ListPlans, list, &out),
              IsOk());
  // A second later the school may call again.
  clock_.Advance(absl::Seconds(1));
  EXPECT_THAT(Call(*school, &v1::PlanService::Stub::ListPlans, list, &out),
              IsOk());
}

}  // namespace
}  // namespace samplan::server
