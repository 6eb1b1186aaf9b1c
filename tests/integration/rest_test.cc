// REST/JSON over mutual TLS, driven with curl (a real HTTP client): the
// story's reads and writes, an audit stream as NDJSON, the error classes,
// and the TLS rules (no certificate, a certificate of another CA).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "tests/integration/rest_client.h"

namespace samplan::server {
namespace {

using ::testing::Not;

class RestTest : public StoryTest {
 protected:
  // One request with curl; `agency` empty sends no client certificate.
  Http Curl(const std::string& agency, const std::string& method,
            const std::string& target, const std::string& body = "",
            const std::string& actor = "staff-1",
            const std::string& pki = "main") {
    return Client().Call({agency, method, target, body, actor, pki});
  }

  RestClient& Client() {
    if (client_ == nullptr) {
      client_ = std::make_unique<RestClient>(server_->rest_port(), dir_);
    }
    return *client_;
  }

  template <typename M>
  M Parse(const std::string& json) {
    M m;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &m).ok())
        << json;
    return m;
  }

  // The ErrorInfo of an error body: "REASON field".
  std::string ReasonOf(const Http& http) {
    google::rpc::Status status = Parse<google::rpc::Status>(http.body);
    for (const auto& any : status.details()) {
      google::rpc::ErrorInfo info;
      if (any.UnpackTo(&info)) {
        auto field = info.metadata().find("field");
        return field == info.metadata().end()
                   ? info.reason()
                   : absl::StrCat(info.reason(), " ", field->second);
      }
    }
    return "(no ErrorInfo)";
  }

  std::string PlanPath() { return "/v1/" + plan_; }

  std::unique_ptr<RestClient> client_;
};

TEST_F(RestTest, CreatePlanAndReadItBack) {
  const std::string body =
      absl::StrCat(R"({"requestId":"rest-create-1","plan":{"subject":")",
                   child_, R"(","coordinator":{"displayName":"Berit"}}})");
  Http created = Curl("school-1", "POST", "/v1/plans", body);
  ASSERT_EQ(created.status, 200) << created.body;
  EXPECT_THAT(created.head, HasSubstr("application/json"));
  auto plan = Parse<v1::CreatePlanResponse>(created.body).plan();
  EXPECT_EQ(plan.coordinator().display_name(), "Berit");
  // int64 as a string, enums as names: the protobuf JSON mapping.
  EXPECT_THAT(created.body, HasSubstr(R"("state":"PLAN_STATE_DRAFT")"));

  Http read =
      Curl("school-1", "GET", "/v1/" + plan.name() + "?view=PLAN_VIEW_LATEST");
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(Parse<v1::GetPlanResponse>(read.body).plan().name(), plan.name());

  // A retry with the same request id returns the first answer.
  Http again = Curl("school-1", "POST", "/v1/plans", body);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(Parse<v1::CreatePlanResponse>(again.body).plan().name(),
            plan.name());
}

TEST_F(RestTest, ConsentDecidesTheReadAndWithdrawalEndsIt) {
  // Without consent the school sees no BUP entry.
  Http before = Curl("school-1", "GET", PlanPath());
  ASSERT_EQ(before.status, 200) << before.body;
  auto withheld = Parse<v1::GetPlanResponse>(before.body);
  EXPECT_GE(withheld.withheld_entries_size(), 2);
  EXPECT_THAT(before.body, Not(HasSubstr("weekly sessions")));

  // Joint custody: each guardian's grant, over REST. The route's body is
  // the grant; the request id is a query parameter.
  std::string grant;
  for (const std::string* guardian : {&g1_, &g2_}) {
    const std::string grant_body = absl::StrCat(
        R"({"subject":")", child_,
        R"(","grantorRole":"GRANTOR_ROLE_GUARDIAN","grantorIdentityNumber":")",
        *guardian,
        R"(","scope":{"disclosingSectors":["SECTOR_HEALTHCARE"],)"
        R"("receivingSectors":["SECTOR_SCHOOL"],)"
        R"("categories":["INFORMATION_CATEGORY_INTERVENTIONS"]},)"
        R"("validFrom":"2026-06-01T00:00:00Z",)"
        R"("validUntil":"2027-03-01T00:00:00Z",)"
        R"("evidence":{"kind":"EVIDENCE_KIND_SIGNED_FORM"}})");
    Http granted =
        Curl("school-1", "POST", "/v1/grants?requestId=rest-grant-" + *guardian,
             grant_body);
    ASSERT_EQ(granted.status, 200) << granted.body;
    if (grant.empty()) {
      grant = Parse<v1::CreateGrantResponse>(granted.body).grant().name();
    }
    // With one guardian's grant of two, the entry stays withheld.
    if (guardian == &g1_) {
      EXPECT_THAT(Curl("school-1", "GET", PlanPath()).body,
                  Not(HasSubstr("weekly sessions")));
    }
  }

  Http allowed = Curl("school-1", "GET", PlanPath());
  ASSERT_EQ(allowed.status, 200) << allowed.body;
  EXPECT_THAT(allowed.body, HasSubstr("BUP: weekly sessions"));
  EXPECT_THAT(allowed.body, Not(HasSubstr("BUP: diagnosis")));

  Http withdrawn =
      Curl("school-1", "POST", "/v1/" + grant + ":withdraw",
           absl::StrCat(
               R"({"requestId":"rest-withdraw-1",)"
               R"("withdrawerRole":"GRANTOR_ROLE_GUARDIAN",)"
               R"("withdrawerIdentityNumber":")",
               g1_, R"(","evidence":{"kind":"EVIDENCE_KIND_SIGNED_FORM"}})"));
  ASSERT_EQ(withdrawn.status, 200) << withdrawn.body;

  Http after = Curl("school-1", "GET", PlanPath());
  ASSERT_EQ(after.status, 200) << after.body;
  EXPECT_THAT(after.body, Not(HasSubstr("weekly sessions")));
}

TEST_F(RestTest, AuditStreamArrivesAsNdjson) {
  SchoolReads();
  const int64_t size = AuditSize();
  Http stream =
      Curl("auditor-1", "POST", "/v1/auditEvents:stream",
           absl::StrCat(R"({"filter":{"subject":")", child_, R"("}})"));
  ASSERT_EQ(stream.status, 200) << stream.body;
  EXPECT_THAT(stream.head, HasSubstr("application/x-ndjson"));
  EXPECT_THAT(stream.head, HasSubstr("chunked"));
  EXPECT_THAT(stream.head, HasSubstr("X-Content-Type-Options: nosniff"));
  int events = 0;
  for (absl::string_view line : absl::StrSplit(stream.body, '\n')) {
    if (line.empty()) continue;
    auto m = Parse<v1::StreamAuditEventsResponse>(std::string(line));
    for (const v1::AuditEvent& event : m.audit_events()) {
      ++events;
      EXPECT_NE(event.action(), v1::AUDIT_ACTION_UNSPECIFIED) << line;
    }
  }
  EXPECT_GT(events, 5);
  EXPECT_LE(events, size);
}

TEST_F(RestTest, ErrorsMapToHttpStatusesWithErrorInfo) {
  // 400: an unknown field, named.
  Http unknown = Curl("school-1", "POST", "/v1/plans",
                      R"({"requestId":"x-1","plan":{"colour":"red"}})");
  EXPECT_EQ(unknown.status, 400) << unknown.body;
  EXPECT_EQ(ReasonOf(unknown), "INVALID_FIELD plan.colour");
  // 400: no actor.
  Http no_actor = Curl("school-1", "GET", "/v1/plans", "", "");
  EXPECT_EQ(no_actor.status, 400);
  EXPECT_EQ(ReasonOf(no_actor), "MISSING_ACTOR");
  // 401: a disabled agency.
  Http disabled = Curl("disabled-1", "GET", "/v1/plans");
  EXPECT_EQ(disabled.status, 401) << disabled.body;
  // 403: the wrong role.
  Http role = Curl("auditor-1", "GET", PlanPath());
  EXPECT_EQ(role.status, 403);
  EXPECT_EQ(ReasonOf(role), "WRONG_ROLE");
  // 404: a plan the caller may not see answers as one that does not exist.
  Http hidden = Curl("social-1", "GET", PlanPath());
  Http missing = Curl("social-1", "GET", "/v1/plans/does-not-exist");
  EXPECT_EQ(hidden.status, 404);
  EXPECT_EQ(missing.status, 404);
  std::string normalized = hidden.body;
  const std::string id = std::string(absl::StripPrefix(plan_, "plans/"));
  normalized.replace(normalized.find(id), id.size(), "does-not-exist");
  EXPECT_EQ(normalized, missing.body);
  // 409: an etag that is not current.
  Http stale =
      Curl("bup-1", "PATCH",
           "/v1/" + interventions_ + "?updateMask=text&requestId=etag-1",
           R"({"etag":"stale","text":"BUP: fortnightly"})");
  EXPECT_EQ(stale.status, 409) << stale.body;
  EXPECT_EQ(ReasonOf(stale).substr(0, 13), "ETAG_MISMATCH");
  // 404 and 405: no such route, or not with this method.
  Http route = Curl("school-1", "GET", "/v1/nothing");
  EXPECT_EQ(route.status, 404);
  EXPECT_EQ(ReasonOf(route), "UNKNOWN_ROUTE");
  Http verb = Curl("school-1", "DELETE", "/v1/plans");
  EXPECT_EQ(verb.status, 405);
  EXPECT_EQ(ReasonOf(verb), "UNKNOWN_ROUTE");
  EXPECT_THAT(verb.head, HasSubstr("Allow: GET, POST"));
  // 413: a body larger than limits.max_message_bytes (4 MiB by default).
  Http big = Curl("school-1", "POST", "/v1/plans",
                  "{\"requestId\":\"" + std::string(5 << 20, 'a') + "\"}");
  EXPECT_EQ(big.status, 413) << big.body.substr(0, 200);
  EXPECT_EQ(ReasonOf(big), "REQUEST_TOO_LARGE");
  // 414: a target longer than limits.max_url_bytes.
  Http long_url =
      Curl("school-1", "GET", "/v1/plans?pageToken=" + std::string(5000, 'a'));
  EXPECT_EQ(long_url.status, 414);
  EXPECT_EQ(ReasonOf(long_url), "REQUEST_TOO_LARGE");
}

// alt=media (Google's system parameter) answers a document method with the
// document itself, the same bytes the JSON carries in base64, shown and not
// run; other methods, and other values, are refused naming `alt`.
TEST_F(RestTest, AltMediaAnswersWithTheDocumentItself) {
  const std::string render = PlanPath() + ":render";
  Http json = Curl("school-1", "GET", render);
  ASSERT_EQ(json.status, 200) << json.body;
  const auto rendered = Parse<v1::RenderPlanResponse>(json.body);
  ASSERT_FALSE(rendered.content().empty());

  Http page = Curl("school-1", "GET", render + "?alt=media");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.body, rendered.content());
  EXPECT_THAT(page.head, HasSubstr("Content-Type: text/html; charset=utf-8"));
  EXPECT_THAT(page.head,
              HasSubstr(absl::StrCat("Content-Disposition: inline; filename=\"",
                                     rendered.file_name(), "\"")));
  EXPECT_THAT(page.head, HasSubstr("X-Content-Type-Options: nosniff"));
  EXPECT_THAT(page.head, HasSubstr("Content-Security-Policy: default-src "
                                   "'none'; style-src 'unsafe-inline'; "
                                   "base-uri 'none'; form-action 'none'"));

  Http pdf = Curl("school-1", "GET",
                  render +
                      "?format=DOCUMENT_FORMAT_PDF&alt=media&"
                      "languageCode=en");
  ASSERT_EQ(pdf.status, 200) << pdf.body.substr(0, 200);
  EXPECT_EQ(pdf.body.substr(0, 5), "%PDF-");
  EXPECT_THAT(pdf.head, HasSubstr("Content-Type: application/pdf"));
  EXPECT_THAT(pdf.head, HasSubstr(".pdf\""));

  // alt=json is the default; anything else, or media from a method that
  // answers in JSON only, is refused before the method runs.
  Http explicit_json = Curl("school-1", "GET", render + "?alt=json");
  ASSERT_EQ(explicit_json.status, 200);
  EXPECT_THAT(explicit_json.head, HasSubstr("application/json"));
  Http xml = Curl("school-1", "GET", render + "?alt=xml");
  EXPECT_EQ(xml.status, 400);
  EXPECT_EQ(ReasonOf(xml), "INVALID_FIELD alt");
  Http twice = Curl("school-1", "GET", render + "?alt=media&alt=media");
  EXPECT_EQ(twice.status, 400);
  EXPECT_EQ(ReasonOf(twice), "INVALID_FIELD alt");
  Http plan = Curl("school-1", "GET", PlanPath() + "?alt=media");
  EXPECT_EQ(plan.status, 400);
  EXPECT_EQ(ReasonOf(plan), "INVALID_FIELD alt");
  // Errors stay JSON.
  Http hidden = Curl("social-1", "GET", render + "?alt=media");
  EXPECT_EQ(hidden.status, 404);
  EXPECT_THAT(hidden.head, HasSubstr("application/json"));
  EXPECT_THAT(hidden.head, Not(HasSubstr("Content-Security-Policy")));

  // A consent over REST answers with its signed receipt; the receipt in
  // words comes the same way as the plan's page.
  Http granted = Curl(
      "school-1", "POST", "/v1/grants?requestId=rest-media-grant",
      absl::StrCat(
          R"({"subject":")", child_,
          R"(","grantorRole":"GRANTOR_ROLE_GUARDIAN","grantorIdentityNumber":")",
          g1_,
          R"(","scope":{"disclosingSectors":["SECTOR_HEALTHCARE"],)"
          R"("receivingSectors":["SECTOR_SCHOOL"],)"
          R"("categories":["INFORMATION_CATEGORY_NEEDS"]},)"
          R"("validFrom":"2026-06-01T00:00:00Z",)"
          R"("validUntil":"2027-03-01T00:00:00Z",)"
          R"("evidence":{"kind":"EVIDENCE_KIND_SIGNED_FORM"}})"));
  ASSERT_EQ(granted.status, 200) << granted.body;
  const auto grant = Parse<v1::CreateGrantResponse>(granted.body);
  EXPECT_EQ(grant.receipt().receipt().event(), v1::RECEIPT_EVENT_GIVEN);
  EXPECT_FALSE(grant.receipt().signature().empty());
  Http words = Curl("school-1", "GET",
                    "/v1/" + grant.grant().name() + ":renderReceipt?alt=media");
  ASSERT_EQ(words.status, 200) << words.body;
  EXPECT_THAT(words.body, HasSubstr("<h1>Kvitto på samtycke</h1>"));
  EXPECT_THAT(words.head, HasSubstr("Content-Security-Policy"));
  EXPECT_THAT(words.body, Not(HasSubstr(g1_)));
  Http receipt_pdf =
      Curl("school-1", "GET",
           "/v1/" + grant.grant().name() +
               ":renderReceipt?alt=media&format=DOCUMENT_FORMAT_PDF");
  ASSERT_EQ(receipt_pdf.status, 200);
  EXPECT_EQ(receipt_pdf.body.substr(0, 5), "%PDF-");
  // No page policy on a PDF: a browser's viewer would be refused.
  EXPECT_THAT(receipt_pdf.head, Not(HasSubstr("Content-Security-Policy")));
}

TEST_F(RestTest, TlsRefusesMissingAndForeignCertificates) {
  Http none = Curl("", "GET", "/v1/plans");
  EXPECT_NE(none.curl_exit, 0);
  EXPECT_EQ(none.status, 0);
  Http foreign = Curl("school-1", "GET", "/v1/plans", "", "staff-1", "other");
  EXPECT_NE(foreign.curl_exit, 0);
  EXPECT_EQ(foreign.status, 0);
}

class RestRateLimitTest : public RestTest {
 protected:
  void Configure(config::v1::ServerConfig& cfg) override {
    cfg.mutable_limits()->set_agency_calls_per_second(1);
    cfg.mutable_limits()->set_agency_burst(1000);
  }
};

TEST_F(RestRateLimitTest, AnAgencyOverItsRateGets429) {
  // The story used some of the burst; spend the rest, on one connection.
  const std::vector<int> codes =
      Client().Repeat({"school-1", "GET", "/v1/plans"}, 1100);
  ASSERT_EQ(codes.size(), 1100u);
  EXPECT_EQ(codes.front(), 200);
  EXPECT_EQ(codes.back(), 429);
  // Once refused, refused until time passes: no 200 after the first 429.
  const auto first = std::find(codes.begin(), codes.end(), 429);
  EXPECT_EQ(std::count(first, codes.end(), 200), 0);
  Http limited = Curl("school-1", "GET", "/v1/plans");
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(ReasonOf(limited), "RATE_LIMITED");
  EXPECT_THAT(limited.head, HasSubstr("Retry-After: 1"));
  // Another agency has its own bucket.
  EXPECT_EQ(Curl("bup-1", "GET", "/v1/plans").status, 200);
  // Tokens come back with (fake) time.
  clock_.Advance(absl::Seconds(5));
  EXPECT_EQ(Curl("school-1", "GET", "/v1/plans").status, 200);
}

// A slowloris: connections that stall in the TLS handshake, or send half a
// request head and then trickle, never hold up other clients, and each is
// closed by the server once limits.read_timeout_ms has passed.
class RestSlowClientTest : public RestTest {
 protected:
  void Configure(config::v1::ServerConfig& cfg) override {
    cfg.mutable_limits()->set_rest_threads(1);
    cfg.mutable_limits()->set_read_timeout_ms(300);
  }

  // A TCP connection to the REST port; -1 on failure. Reads give up after
  // 10 s, a bound far above the server's timeout, so a server that never
  // closes fails the test rather than hanging it.
  int Connect() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(server_->rest_port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval bound{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof(bound));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

  // True when the server closes `fd` (EOF or reset) before the bound.
  static bool ClosedByServer(int fd) {
    char buf[256];
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
  }
};

TEST_F(RestSlowClientTest, StalledConnectionsDoNotHoldUpOthers) {
  // Three connections that never start TLS.
  std::vector<int> silent;
  for (int i = 0; i < 3; ++i) {
    silent.push_back(Connect());
    ASSERT_GE(silent.back(), 0);
  }
  // One that completes the handshake and sends half a request head.
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  ASSERT_NE(ctx, nullptr);
  const std::string pem = (PkiDir() / "main" / "school-1.pem").string();
  const std::string key = (PkiDir() / "main" / "school-1.key").string();
  ASSERT_EQ(SSL_CTX_use_certificate_chain_file(ctx, pem.c_str()), 1);
  ASSERT_EQ(SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM), 1);
  const int trickle = Connect();
  ASSERT_GE(trickle, 0);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, trickle);
  ASSERT_EQ(SSL_connect(ssl), 1);
  const std::string half = "GET /v1/plans HTTP/1.1\r\nHost: localhost\r\nx-sam";
  ASSERT_EQ(SSL_write(ssl, half.data(), static_cast<int>(half.size())),
            static_cast<int>(half.size()));

  // Meanwhile, with one REST thread, other clients are served.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Curl("school-1", "GET", "/v1/plans").status, 200);
  }

  // And the server closes every stalled connection on its own.
  for (int fd : silent) {
    EXPECT_TRUE(ClosedByServer(fd));
    ::close(fd);
  }
  char buf[256];
  const int n = SSL_read(ssl, buf, sizeof(buf));
  EXPECT_LE(n, 0) << "the server answered half a request";
  SSL_free(ssl);
  ::close(trickle);
  SSL_CTX_free(ctx);
  EXPECT_EQ(Curl("school-1", "GET", "/v1/plans").status, 200);
}

// Raw requests over TLS, for what curl will not send: `bytes` as they are,
// then everything the server answers until it closes.
class RestRawTest : public RestSlowClientTest {
 protected:
  std::string Exchange(const std::string& bytes) {
    // The server may close while we still write: an error, not a signal.
    std::signal(SIGPIPE, SIG_IGN);
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    const std::string pem = (PkiDir() / "main" / "school-1.pem").string();
    const std::string key = (PkiDir() / "main" / "school-1.key").string();
    SSL_CTX_use_certificate_chain_file(ctx, pem.c_str());
    SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM);
    const int fd = Connect();
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    std::string answer;
    if (SSL_connect(ssl) == 1) {
      // The server may answer and close before all is sent.
      for (size_t at = 0; at < bytes.size();) {
        const int n = SSL_write(
            ssl, bytes.data() + at,
            static_cast<int>(std::min<size_t>(bytes.size() - at, 16384)));
        if (n <= 0) break;
        at += static_cast<size_t>(n);
      }
      char buf[4096];
      int n;
      while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0) answer.append(buf, n);
    }
    SSL_free(ssl);
    ::close(fd);
    SSL_CTX_free(ctx);
    return answer;
  }
};

TEST_F(RestRawTest, AnEndlessChunkLineIsCutOffAt431) {
  // A chunk extension that never ends is not counted by the parser's head
  // or body limits; the connection's buffer limit stops it.
  const std::string answer = Exchange(
      "POST /v1/plans HTTP/1.1\r\nHost: localhost\r\n"
      "x-samplan-actor: staff-1\r\nTransfer-Encoding: chunked\r\n\r\n1;a=" +
      std::string(200000, 'a'));
  EXPECT_THAT(answer, HasSubstr("HTTP/1.1 431"));
  EXPECT_THAT(answer, HasSubstr("REQUEST_TOO_LARGE"));
}

TEST_F(RestRawTest, ATransferCodingOtherThanChunkedIsRefused) {
  const std::string answer = Exchange(
      "POST /v1/plans HTTP/1.1\r\nHost: localhost\r\n"
      "x-samplan-actor: staff-1\r\nTransfer-Encoding: gzip\r\n\r\n"
      "GET /v1/plans HTTP/1.1\r\nHost: localhost\r\n\r\n");
  EXPECT_THAT(answer, HasSubstr("HTTP/1.1 400"));
  EXPECT_THAT(answer, HasSubstr("Transfer-Encoding"));
  // The would-be second request is never answered.
  EXPECT_EQ(answer.find("HTTP/1.1", 5), std::string::npos);
}

class RestConnectionCapTest : public RestSlowClientTest {
 protected:
  void Configure(config::v1::ServerConfig& cfg) override {
    RestSlowClientTest::Configure(cfg);
    cfg.mutable_limits()->set_max_connections(2);
    cfg.mutable_limits()->set_read_timeout_ms(60000);
  }
};

TEST_F(RestConnectionCapTest, ConnectionsBeyondTheCapAreClosedAtOnce) {
  const int a = Connect();
  const int b = Connect();
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  // The server accepts in order, so both are counted before the third,
  // which is closed as soon as it is accepted, long before any timeout.
  const int c = Connect();
  ASSERT_GE(c, 0);
  const bool refused = ClosedByServer(c);
  ::close(c);
  EXPECT_TRUE(refused);
  ::close(a);
  ::close(b);
}

// Prometheus text at GET /metrics on a listener of its own, with the same
// mutual TLS, for administrators.
class MetricsTest : public RestTest {
 protected:
  void Configure(config::v1::ServerConfig& cfg) override {
    cfg.mutable_metrics()->set_address("127.0.0.1:0");
  }
  Http Scrape(const std::string& agency = "admin-1",
              const std::string& method = "GET",
              const std::string& target = "/metrics") {
    RestClient client(server_->metrics_port(), dir_);
    return client.Call({agency, method, target, "", ""});
  }
  // The value of the series `name` (the whole line up to the value).
  static std::string Value(const std::string& text, const std::string& name) {
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      if (absl::ConsumePrefix(&line, name + " ")) return std::string(line);
    }
    return "(no " + name + ")";
  }
};

TEST_F(MetricsTest, AdministratorsScrapeCallsBatchesAndGauges) {
  ASSERT_NE(server_->metrics_port(), 0);
  // A call that fails is counted with its code.
  EXPECT_EQ(Curl("school-1", "GET", "/v1/plans/nope").status, 404);
  Http scrape = Scrape();
  ASSERT_EQ(scrape.status, 200) << scrape.body;
  EXPECT_THAT(scrape.head,
              HasSubstr("text/plain; version=0.0.4; charset=utf-8"));
  const std::string& text = scrape.body;
  // The story: one plan created, two approvals, two entries, two custody
  // facts, over gRPC; the failed read over REST.
  EXPECT_EQ(Value(text,
                  "samplan_calls_total{method=\"samplan.v1.PlanService."
                  "CreatePlan\",code=\"OK\"}"),
            "1");
  EXPECT_EQ(Value(text,
                  "samplan_calls_total{method=\"samplan.v1.PlanService."
                  "ApprovePlan\",code=\"OK\"}"),
            "2");
  EXPECT_EQ(Value(text,
                  "samplan_calls_total{method=\"samplan.v1.PlanService."
                  "GetPlan\",code=\"NOT_FOUND\"}"),
            "1");
  EXPECT_EQ(Value(text,
                  "samplan_call_duration_seconds_count{method=\"samplan."
                  "v1.ConsentService.CreateCustodyFact\"}"),
            "2");
  int64_t batches = 0;
  EXPECT_TRUE(absl::SimpleAtoi(Value(text, "samplan_commit_batch_jobs_count"),
                               &batches));
  EXPECT_GT(batches, 0);
  EXPECT_EQ(Value(text, "samplan_storage_up"), "1");
  EXPECT_EQ(Value(text, "samplan_audit_tree_size"),
            std::to_string(AuditSize()));
  double age = -1;
  EXPECT_TRUE(absl::SimpleAtod(
      Value(text, "samplan_audit_checkpoint_age_seconds"), &age));
  EXPECT_GE(age, 0);
  EXPECT_EQ(Value(text, "samplan_grants_ending_soon"), "0");
  // The grant ends 2027-03-01: within 30 days from mid-February.
  Grant(g1_, "grant-g1");
  clock_.Set(Utc(2027, 2, 15));
  EXPECT_EQ(Value(Scrape().body, "samplan_grants_ending_soon"), "1");
  // No personal data: identity numbers never appear.
  EXPECT_THAT(Scrape().body, Not(HasSubstr(child_)));
  EXPECT_THAT(Scrape().body, Not(HasSubstr(g1_)));
}

TEST_F(MetricsTest, AMetricsAddressInUseIsRefusedNamingTheField) {
  ServerOptions options;
  options.config = config_;
  options.config.mutable_metrics()->set_address(
      absl::StrCat("127.0.0.1:", server_->metrics_port()));
  options.clock = &clock_;
  auto second = Server::Start(std::move(options));
  EXPECT_THAT(second.status(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(FieldOf(second.status()), "metrics.address");
}

TEST_F(MetricsTest, OnlyAdministratorsAndOnlyGetMetrics) {
  Http agency = Scrape("school-1");
  EXPECT_EQ(agency.status, 403);
  EXPECT_EQ(ReasonOf(agency), "WRONG_ROLE");
  EXPECT_EQ(Scrape("auditor-1").status, 403);
  EXPECT_EQ(Scrape("disabled-1").status, 401);
  EXPECT_NE(Scrape("").curl_exit, 0);  // no certificate: no handshake
  Http post = Scrape("admin-1", "POST");
  EXPECT_EQ(post.status, 405);
  EXPECT_THAT(post.head, HasSubstr("Allow: GET"));
  Http other = Scrape("admin-1", "GET", "/v1/plans");
  EXPECT_EQ(other.status, 404);
  EXPECT_EQ(ReasonOf(other), "UNKNOWN_ROUTE");
}

// What both TLS listeners refuse (gRPC's and REST's): TLS 1.0 and 1.1,
// and TLS 1.2 suites without forward secrecy or AEAD, offered by a client
// willing to offer them (security level 0). The client checks that the
// refusal came from the server, not from its own library.
class TlsPolicyTest : public RestTest {
 protected:
  enum class Outcome { kConnected, kServerRefused, kClientCannotOffer };

  Outcome Handshake(int port, int version, const char* ciphers,
                    std::string pem = "") {
    std::signal(SIGPIPE, SIG_IGN);
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_min_proto_version(ctx, version);
    SSL_CTX_set_max_proto_version(ctx, version);
    if (ciphers != nullptr) SSL_CTX_set_cipher_list(ctx, ciphers);
    if (pem.empty()) pem = (PkiDir() / "main" / "school-1.pem").string();
    const std::string key = (PkiDir() / "main" / "school-1.key").string();
    SSL_CTX_use_certificate_chain_file(ctx, pem.c_str());
    SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM);
    static constexpr unsigned char kAlpn[] = {2,   'h', '2', 8,   'h', 't',
                                              't', 'p', '/', '1', '.', '1'};
    SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof(kAlpn));
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval bound{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof(bound));
    Outcome outcome = Outcome::kServerRefused;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
      SSL* ssl = SSL_new(ctx);
      SSL_set_fd(ssl, fd);
      ERR_clear_error();
      if (SSL_connect(ssl) == 1) {
        outcome = Outcome::kConnected;
      } else {
        const int reason = ERR_GET_REASON(ERR_peek_last_error());
        if (reason == SSL_R_NO_PROTOCOLS_AVAILABLE ||
            reason == SSL_R_NO_CIPHERS_AVAILABLE ||
            reason == SSL_R_NO_CIPHER_MATCH) {
          outcome = Outcome::kClientCannotOffer;
        }
      }
      SSL_free(ssl);
    }
    ::close(fd);
    SSL_CTX_free(ctx);
    return outcome;
  }

  // school-1's certificate again (its key, subject and URI SAN), signed by
  // the test CA, valid from now + `from` to now + `until` (seconds); its
  // path in the test's directory.
  std::string Reissued(const std::string& name, long from, long until) {
    auto read_pem = [](const std::filesystem::path& p, auto reader) {
      FILE* f = std::fopen(p.c_str(), "r");
      auto* v = f != nullptr ? reader(f, nullptr, nullptr, nullptr) : nullptr;
      if (f != nullptr) std::fclose(f);
      return v;
    };
    const auto main = PkiDir() / "main";
    X509* original = read_pem(main / "school-1.pem", PEM_read_X509);
    X509* ca = read_pem(main / "ca.pem", PEM_read_X509);
    EVP_PKEY* ca_key = read_pem(main / "ca.key", PEM_read_PrivateKey);
    EVP_PKEY* key = read_pem(main / "school-1.key", PEM_read_PrivateKey);
    EXPECT_TRUE(original && ca && ca_key && key);
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 4242 + from);
    X509_set_subject_name(cert, X509_get_subject_name(original));
    X509_set_issuer_name(cert, X509_get_subject_name(ca));
    X509_gmtime_adj(X509_getm_notBefore(cert), from);
    X509_gmtime_adj(X509_getm_notAfter(cert), until);
    X509_set_pubkey(cert, key);
    for (int i = 0; i < X509_get_ext_count(original); ++i) {
      X509_add_ext(cert, X509_get_ext(original, i), -1);
    }
    EXPECT_GT(X509_sign(cert, ca_key, EVP_sha256()), 0);
    const std::string path = (dir_ / (name + ".pem")).string();
    FILE* out = std::fopen(path.c_str(), "w");
    PEM_write_X509(out, cert);
    std::fclose(out);
    X509_free(cert);
    X509_free(original);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(key);
    return path;
  }
};

TEST_F(TlsPolicyTest, OldProtocolsAndWeakSuitesAreRefusedOnBothListeners) {
  for (int port : {server_->api_port(), server_->rest_port()}) {
    SCOPED_TRACE(port == server_->api_port() ? "gRPC" : "REST");
    // Controls: what a client should use connects.
    EXPECT_EQ(Handshake(port, TLS1_3_VERSION, nullptr), Outcome::kConnected);
    EXPECT_EQ(Handshake(port, TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256"),
              Outcome::kConnected);
    // Old protocol versions.
    EXPECT_EQ(Handshake(port, TLS1_VERSION, "ALL:@SECLEVEL=0"),
              Outcome::kServerRefused);
    EXPECT_EQ(Handshake(port, TLS1_1_VERSION, "ALL:@SECLEVEL=0"),
              Outcome::kServerRefused);
    // TLS 1.2 without AEAD (CBC), or without any encryption.
    EXPECT_EQ(Handshake(port, TLS1_2_VERSION, "ECDHE-ECDSA-AES128-SHA"),
              Outcome::kServerRefused);
    EXPECT_EQ(Handshake(port, TLS1_2_VERSION, "ECDHE-ECDSA-AES256-SHA384"),
              Outcome::kServerRefused);
    EXPECT_EQ(
        Handshake(port, TLS1_2_VERSION, "ECDHE-ECDSA-NULL-SHA:@SECLEVEL=0"),
        Outcome::kServerRefused);
  }
}

// The same policy seen by the command-line tool operators use:
// `openssl s_client` with school-1's certificate. Each refusal is the
// server's: the tool, told security level 0, sent its hello offering the
// old protocol or weak suite, and no session was made (the gRPC listener
// closes the connection, the REST listener sends an alert).
TEST_F(TlsPolicyTest, OpensslSClientSeesTheSamePolicy) {
  struct SClient {
    int exit_code = -1;
    std::string out;
    // The tool sent its hello, and no cipher was agreed.
    bool Refused() const {
      return exit_code != 0 && out.find("Cipher is (NONE)") != out.npos &&
             out.find("and written 0 bytes") == out.npos &&
             out.find("and written ") != out.npos;
    }
  };
  auto s_client = [&](int port, const std::string& args) {
    const auto main = PkiDir() / "main";
    const std::string command =
        absl::StrCat("openssl s_client -connect 127.0.0.1:", port, " -CAfile '",
                     (main / "ca.pem").string(), "' -cert '",
                     (main / "school-1.pem").string(), "' -key '",
                     (main / "school-1.key").string(), "' -alpn h2 ", args,
                     " </dev/null 2>&1");
    SClient r;
    FILE* p = ::popen(command.c_str(), "r");
    if (p == nullptr) return r;
    char buf[4096];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    const int status = ::pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
  };
  for (int port : {server_->api_port(), server_->rest_port()}) {
    SCOPED_TRACE(port == server_->api_port() ? "gRPC" : "REST");
    // Controls: TLS 1.3, and TLS 1.2 with a forward-secret AEAD suite.
    SClient good = s_client(port, "-tls1_3");
    EXPECT_EQ(good.exit_code, 0) << good.out;
    EXPECT_THAT(good.out, HasSubstr("New, TLSv1.3, Cipher is TLS_"));
    EXPECT_THAT(good.out, HasSubstr("Verify return code: 0 (ok)"));
    SClient good12 =
        s_client(port, "-tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256");
    EXPECT_EQ(good12.exit_code, 0) << good12.out;
    EXPECT_THAT(good12.out,
                HasSubstr("Cipher is ECDHE-ECDSA-AES128-GCM-SHA256"));
    for (const char* old : {"-tls1", "-tls1_1"}) {
      SClient r = s_client(port, absl::StrCat(old, " -cipher ALL:@SECLEVEL=0"));
      EXPECT_TRUE(r.Refused()) << old << ":\n" << r.out;
    }
    for (const char* weak :
         {"ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384",
          "ECDHE-ECDSA-NULL-SHA:@SECLEVEL=0"}) {
      SClient r = s_client(port, absl::StrCat("-tls1_2 -cipher '", weak, "'"));
      EXPECT_TRUE(r.Refused()) << weak << ":\n" << r.out;
    }
  }
}

TEST_F(TlsPolicyTest, ExpiredAndNotYetValidClientCertificatesAreRefused) {
  const std::string fresh = Reissued("fresh", -3600, 3600);
  const std::string expired = Reissued("expired", -7200, -3600);
  const std::string early = Reissued("early", 3600, 7200);
  for (int port : {server_->api_port(), server_->rest_port()}) {
    SCOPED_TRACE(port == server_->api_port() ? "gRPC" : "REST");
    // Control: the same certificate, in its validity period, connects.
    // (TLS 1.2: the server checks the client's certificate before its own
    // Finished, so the client's handshake result is the server's verdict.)
    EXPECT_EQ(Handshake(port, TLS1_2_VERSION, nullptr, fresh),
              Outcome::kConnected);
    EXPECT_EQ(Handshake(port, TLS1_2_VERSION, nullptr, expired),
              Outcome::kServerRefused);
    EXPECT_EQ(Handshake(port, TLS1_2_VERSION, nullptr, early),
              Outcome::kServerRefused);
  }
}

}  // namespace
}  // namespace samplan::server
