#include "server/rest_server.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "app/authorize.h"
#include "app/method_table.h"
#include "boost/asio/dispatch.hpp"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/strand.hpp"
#include "boost/asio/thread_pool.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"
#include "common/errors.h"
#include "common/status_macros.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "openssl/ssl.h"
#include "server/peer_certificate.h"
#include "server/rest_routes.h"
#include "server/rpc_status.h"

namespace samplan::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using google::protobuf::Message;

// TLS 1.2 suites: forward-secret AEAD only (TLS 1.3's are all of that kind).
constexpr char kCiphers12[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Bytes a read may add to the buffer beyond a whole head.
constexpr std::size_t kBodyReadBytes = 64 * 1024;

const Message* Prototype(const google::protobuf::Descriptor* type) {
  return google::protobuf::MessageFactory::generated_factory()->GetPrototype(
      type);
}

absl::Status TooLarge(absl::string_view what, int limit,
                      absl::string_view field) {
  return WithMetadata(WithReason(absl::ResourceExhaustedError(absl::StrCat(
                                     "the request ", what, " is larger than ",
                                     limit, " bytes (", field, ")")),
                                 "REQUEST_TOO_LARGE"),
                      "limit", field);
}

}  // namespace

class RestServer::Impl {
 public:
  // Serves `route_list` from `table`, or, with `metrics_text` set, only
  // GET /metrics. `field` names the listener's configuration.
  Impl(const config::v1::ServerConfig& config, const app::MethodTable* table,
       app::AgencyDirectory& directory, std::vector<rest::Route> route_list,
       std::string field, std::function<std::string()> metrics_text)
      : limits(config.limits()),
        agencies(directory),
        router(std::move(route_list)),
        listener_field(std::move(field)),
        metrics(std::move(metrics_text)),
        tls(ssl::context::tls_server),
        ioc(limits.rest_threads()),
        acceptor(net::make_strand(ioc)) {
    for (const rest::Route& r : router.routes()) {
      handlers[r.method] = table->Find(r.method->full_name());
    }
  }

  absl::Status Listen(const config::v1::ServerConfig& config,
                      const std::string& address);
  void Accept();

  // Counts a call handed to the application until it reports.
  bool BeginCall() {
    absl::MutexLock lock(&mu);
    if (stopping) return false;
    ++in_flight;
    return true;
  }
  void EndCall() {
    absl::MutexLock lock(&mu);
    --in_flight;
  }

  const config::v1::Limits limits;
  app::AgencyDirectory& agencies;
  const rest::Router router;
  absl::flat_hash_map<const google::protobuf::MethodDescriptor*,
                      const app::MethodHandler*>
      handlers;
  const std::string listener_field;  // "rest" or "metrics"
  const std::function<std::string()> metrics;
  std::atomic<int> connections{0};
  absl::Mutex mu;
  int in_flight ABSL_GUARDED_BY(mu) = 0;
  bool stopping ABSL_GUARDED_BY(mu) = false;
  bool stopped ABSL_GUARDED_BY(mu) = false;
  int port = 0;
  ssl::context tls;
  // Destroyed before the counters above: its pending handlers own the
  // connections.
  net::io_context ioc;
  // Reads of streamed messages from storage (Session::NextChunk), off the
  // connection threads. Declared after ioc: destroyed first, with the
  // sessions its queued reads hold.
  net::thread_pool blocking{
      static_cast<std::size_t>(std::max(1, limits.rest_threads()))};
  // Keeps the threads in ioc.run() while calls are in the application with
  // no I/O pending, so their answers are still written; reset at shutdown.
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work{
      ioc.get_executor()};
  tcp::acceptor acceptor;
  net::steady_timer accept_retry{ioc};
  std::vector<std::thread> threads;
};

namespace {

// One connection: TLS handshake, then requests one after another
// (HTTP/1.1 keep-alive), each answered before the next is read. Every
// step runs on the connection's strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(RestServer::Impl& server, tcp::socket socket)
      : server_(server),
        stream_(std::move(socket), server.tls),
        // The head whole, and then the body in pieces: a chunk-size line or
        // a trailer that never ends (which the parser's own limits do not
        // count) cannot grow the buffer past this.
        buffer_(static_cast<std::size_t>(server.limits.max_header_bytes()) +
                kBodyReadBytes) {
    server_.connections.fetch_add(1);
  }
  ~Session() {
    if (call_open_) server_.EndCall();
    server_.connections.fetch_sub(1);
  }

  void Start() {
    net::dispatch(stream_.get_executor(),
                  [self = shared_from_this()] { self->Handshake(); });
  }

 private:
  using Self = std::shared_ptr<Session>;

  std::chrono::milliseconds ReadTimeout() const {
    return std::chrono::milliseconds(server_.limits.read_timeout_ms());
  }
  std::chrono::milliseconds WriteTimeout() const {
    return std::chrono::milliseconds(server_.limits.write_timeout_ms());
  }

  void Handshake() {
    beast::get_lowest_layer(stream_).expires_after(ReadTimeout());
    stream_.async_handshake(
        ssl::stream_base::server,
        [self = shared_from_this()](beast::error_code ec) {
          if (ec) return self->Drop();
          self->peer_ = PeerFromCertificate(
              SSL_get0_peer_certificate(self->stream_.native_handle()));
          self->Read();
        });
  }

  void Read() {
    parser_.emplace();
    parser_->header_limit(
        static_cast<std::uint32_t>(server_.limits.max_header_bytes()));
    parser_->body_limit(
        static_cast<std::uint64_t>(server_.limits.max_message_bytes()));
    // One deadline for the whole request: a client that trickles its
    // head or body byte by byte is cut off when it passes.
    beast::get_lowest_layer(stream_).expires_after(ReadTimeout());
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) {
          self->OnRead(ec);
        });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::eof ||
        ec == ssl::error::stream_truncated) {
      return Drop();
    }
    keep_alive_ = false;
    // On any error below, what the client still sends is not read.
    unread_ = static_cast<bool>(ec);
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
      return ReplyError(TooLarge("head", server_.limits.max_header_bytes(),
                                 "limits.max_header_bytes"),
                        http::status::request_header_fields_too_large);
    }
    if (ec == http::error::body_limit) {
      return ReplyError(TooLarge("body", server_.limits.max_message_bytes(),
                                 "limits.max_message_bytes"),
                        http::status::payload_too_large);
    }
    if (ec) {
      // A parse error or a broken connection: answer if the connection
      // still takes it, then close.
      return ReplyError(
          Error(absl::StatusCode::kInvalidArgument, "MALFORMED_REQUEST", "",
                absl::StrCat("the request is not valid HTTP/1.1: ",
                             ec.message())),
          http::status::bad_request);
    }
    request_ = parser_->release();
    // RFC 9112 6.3: a transfer coding other than chunked last leaves the
    // body's length unknown; the request is refused and the connection
    // closed rather than the body read as the next request.
    if (request_.count(http::field::transfer_encoding) != 0 &&
        !request_.chunked()) {
      unread_ = true;
      return ReplyError(
          Error(absl::StatusCode::kInvalidArgument, "MALFORMED_REQUEST", "",
                "the request's Transfer-Encoding does not end in chunked"),
          http::status::bad_request);
    }
    keep_alive_ = request_.keep_alive();
    Handle();
  }

  void Handle() {
    {
      absl::MutexLock lock(&server_.mu);
      if (server_.stopping) {
        keep_alive_ = false;
        return ReplyError(absl::UnavailableError("the server is stopping"));
      }
    }
    const beast::string_view target = request_.target();
    if (target.size() > static_cast<size_t>(server_.limits.max_url_bytes())) {
      return ReplyError(TooLarge("target", server_.limits.max_url_bytes(),
                                 "limits.max_url_bytes"),
                        http::status::uri_too_long);
    }
    const size_t q = target.find('?');
    const absl::string_view path(
        target.data(), q == beast::string_view::npos ? target.size() : q);
    const absl::string_view query =
        q == beast::string_view::npos
            ? absl::string_view()
            : absl::string_view(target.data() + q + 1, target.size() - q - 1);
    const beast::string_view verb = request_.method_string();
    if (server_.metrics) {
      return ServeMetrics(absl::string_view(verb.data(), verb.size()), path);
    }
    auto match =
        server_.router.Find(absl::string_view(verb.data(), verb.size()), path);
    if (!match.ok()) {
      if (match.status().code() != absl::StatusCode::kUnimplemented) {
        return ReplyError(match.status(), http::status::not_found);
      }
      // RFC 9110 15.5.6: a 405 names the methods the path takes.
      allow_ = MetadataOf(match.status(), "allow").value_or("");
      return ReplyError(match.status(), http::status::method_not_allowed);
    }
    const app::MethodHandler* handler =
        server_.handlers.at(match->route->method);
    if (!peer_.ok()) return ReplyError(peer_.status());
    const auto actor = request_[app::kActorMetadataKey];
    absl::StatusOr<app::Caller> caller = app::Authorize(
        server_.agencies, *peer_, absl::string_view(actor.data(), actor.size()),
        handler->need);
    if (!caller.ok()) return ReplyError(caller.status());
    const google::protobuf::MethodDescriptor* method = handler->descriptor;
    absl::string_view fields = query;
    std::string rest_of_query;
    absl::StatusOr<bool> media =
        rest::TakeAltMedia(*method->output_type(), &fields, &rest_of_query);
    if (!media.ok()) return ReplyError(media.status());
    media_ = *media;
    call_request_.reset(Prototype(method->input_type())->New());
    call_response_.reset(Prototype(method->output_type())->New());
    if (absl::Status built = rest::BuildRequest(*match, fields, request_.body(),
                                                call_request_.get());
        !built.ok()) {
      return ReplyError(built);
    }
    if (!server_.BeginCall()) {
      keep_alive_ = false;
      return ReplyError(absl::UnavailableError("the server is stopping"));
    }
    // Counted until its answer is written (or the connection is gone), so
    // that a graceful shutdown waits for the answer, not just the call.
    call_open_ = true;
    auto self = shared_from_this();
    if (handler->unary) {
      handler->unary(*caller, *call_request_, call_response_.get(),
                     [self](absl::Status s) {
                       net::post(self->stream_.get_executor(),
                                 [self, s = std::move(s)] { self->Answer(s); });
                     });
    } else {
      handler->stream(
          *caller, *call_request_,
          [self](absl::StatusOr<std::unique_ptr<app::MessageSource>> source) {
            net::post(self->stream_.get_executor(),
                      [self, source = std::move(source)]() mutable {
                        self->StartStream(std::move(source));
                      });
          });
    }
  }

  // The metrics listener: GET /metrics, for administrators.
  void ServeMetrics(absl::string_view verb, absl::string_view path) {
    if (path != "/metrics") {
      return ReplyError(
          WithReason(absl::NotFoundError("only GET /metrics is served here"),
                     "UNKNOWN_ROUTE"),
          http::status::not_found);
    }
    if (verb != "GET") {
      allow_ = "GET";
      return ReplyError(
          WithReason(absl::UnimplementedError("/metrics takes GET"),
                     "UNKNOWN_ROUTE"),
          http::status::method_not_allowed);
    }
    if (!peer_.ok()) return ReplyError(peer_.status());
    app::Requirement need;
    need.role = app::Role::kAdministrator;
    need.needs_actor = false;
    absl::StatusOr<app::Caller> caller =
        app::Authorize(server_.agencies, *peer_, "", need);
    if (!caller.ok()) return ReplyError(caller.status());
    Reply(http::status::ok, server_.metrics(),
          "text/plain; version=0.0.4; charset=utf-8");
  }

  void Answer(const absl::Status& status) {
    if (!status.ok()) return ReplyError(status);
    if (media_) {
      // The document itself (alt=media). It is shown, not run: no script,
      // no fetch, no frame; only its own inline style.
      rest::Media media = rest::MediaOf(*call_response_);
      if (!media.file_name.empty()) {
        disposition_ =
            absl::StrCat("inline; filename=\"", media.file_name, "\"");
      }
      return Reply(http::status::ok, std::move(media.content),
                   media.content_type);
    }
    std::string json;
    if (absl::Status s = rest::ToJson(*call_response_, &json); !s.ok()) {
      return ReplyError(s);
    }
    Reply(http::status::ok, std::move(json));
  }

  void ReplyError(const absl::Status& status,
                  std::optional<http::status> code = std::nullopt) {
    // RFC 9110 10.2.3: a 429 says when to come back, in whole seconds.
    if (auto ms = MetadataOf(status, "retry_after_ms"); ms.has_value()) {
      int64_t wait = 0;
      if (absl::SimpleAtoi(*ms, &wait)) {
        retry_after_ = absl::StrCat(std::max<int64_t>(1, (wait + 999) / 1000));
      }
    }
    Reply(code.value_or(static_cast<http::status>(HttpStatusOf(status.code()))),
          rest::StatusJson(status));
  }

  void Reply(http::status code, std::string body,
             absl::string_view content_type = "application/json") {
    response_ = {};
    response_.version(11);
    response_.result(code);
    response_.set(http::field::content_type,
                  beast::string_view(content_type.data(), content_type.size()));
    response_.set(http::field::cache_control, "no-store");
    response_.set("X-Content-Type-Options", "nosniff");
    if (media_ && code == http::status::ok &&
        absl::StartsWith(content_type, "text/html")) {
      // A page of the service's own making, shown from the API's origin:
      // its inline style and nothing else. (Not on a PDF: a browser's PDF
      // viewer would be refused as a plugin.)
      response_.set("Content-Security-Policy",
                    "default-src 'none'; style-src 'unsafe-inline'; "
                    "base-uri 'none'; form-action 'none'; "
                    "frame-ancestors 'none'");
    }
    media_ = false;
    if (!disposition_.empty()) {
      response_.set(http::field::content_disposition, disposition_);
      disposition_.clear();
    }
    if (!allow_.empty()) {
      response_.set(http::field::allow, allow_);
      allow_.clear();
    }
    if (!retry_after_.empty()) {
      response_.set(http::field::retry_after, retry_after_);
      retry_after_.clear();
    }
    response_.keep_alive(keep_alive_);
    response_.body() = std::move(body);
    response_.prepare_payload();
    beast::get_lowest_layer(stream_).expires_after(WriteTimeout());
    http::async_write(
        stream_, response_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) {
          self->AfterWrite(ec);
        });
  }

  void AfterWrite(beast::error_code ec) {
    EndCallIfOpen();
    call_request_.reset();
    call_response_.reset();
    // Nothing of this request stays with an idle connection.
    request_ = {};
    response_ = {};
    std::string().swap(chunk_);
    if (ec) return Drop();
    if (unread_) return Linger();
    if (!keep_alive_) return Close();
    Read();
  }

  // --- Streams: NDJSON in chunked transfer encoding. ---

  void StartStream(absl::StatusOr<std::unique_ptr<app::MessageSource>> source) {
    if (!source.ok()) return ReplyError(source.status());
    source_ = *std::move(source);
    stream_head_ = {};
    stream_head_.version(11);
    stream_head_.result(http::status::ok);
    stream_head_.set("X-Content-Type-Options", "nosniff");
    stream_head_.set(http::field::content_type, "application/x-ndjson");
    stream_head_.set(http::field::cache_control, "no-store");
    stream_head_.keep_alive(keep_alive_);
    stream_head_.chunked(true);
    serializer_.emplace(stream_head_);
    beast::get_lowest_layer(stream_).expires_after(WriteTimeout());
    http::async_write_header(
        stream_, *serializer_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) {
          if (ec) return self->Drop();
          self->NextChunk();
        });
  }

  // The next message is read from storage on the blocking pool, never on
  // the threads that serve connections: a long export must not hold up
  // other clients' TLS and requests. The answer comes back to the strand.
  void NextChunk() {
    if (Stopping()) {
      return AfterNext(absl::UnavailableError("the server is stopping"));
    }
    net::post(server_.blocking, [self = shared_from_this()] {
      self->call_response_->Clear();
      absl::StatusOr<bool> more =
          self->source_->Next(self->call_response_.get());
      net::post(self->stream_.get_executor(),
                [self, more = std::move(more)]() mutable {
                  self->AfterNext(std::move(more));
                });
    });
  }

  void AfterNext(absl::StatusOr<bool> more) {
    if (!more.ok()) {
      keep_alive_ = false;
      chunk_ =
          absl::StrCat("{\"error\":", rest::StatusJson(more.status()), "}\n");
      return WriteChunk(/*last=*/true);
    }
    if (!*more) {
      chunk_.clear();
      return WriteChunk(/*last=*/true);
    }
    if (absl::Status s = rest::ToJson(*call_response_, &chunk_); !s.ok()) {
      keep_alive_ = false;
      chunk_ = absl::StrCat("{\"error\":", rest::StatusJson(s), "}\n");
      return WriteChunk(/*last=*/true);
    }
    chunk_.push_back('\n');
    WriteChunk(/*last=*/false);
  }

  void WriteChunk(bool last) {
    beast::get_lowest_layer(stream_).expires_after(WriteTimeout());
    auto then = [self = shared_from_this(), last](beast::error_code ec,
                                                  std::size_t) {
      if (ec) return self->Drop();
      if (!last) return self->NextChunk();
      self->source_.reset();
      self->serializer_.reset();
      self->AfterWrite(ec);
    };
    if (!last) {
      return net::async_write(stream_, http::make_chunk(net::buffer(chunk_)),
                              std::move(then));
    }
    if (chunk_.empty()) {
      return net::async_write(stream_, http::make_chunk_last(),
                              std::move(then));
    }
    // The error line, then the end.
    net::async_write(stream_, http::make_chunk(net::buffer(chunk_)),
                     [self = shared_from_this(), then = std::move(then)](
                         beast::error_code ec, std::size_t) mutable {
                       if (ec) return self->Drop();
                       net::async_write(self->stream_, http::make_chunk_last(),
                                        std::move(then));
                     });
  }

  // --- Closing. ---

  // After answering a request that was not read to its end (too large,
  // malformed): what the client still sends is read and dropped, for at
  // most a second and kMaxLingerBytes, before the close. Closing a socket
  // with unread data resets the connection, and the client could lose the
  // answer it has not read yet.
  static constexpr size_t kMaxLingerBytes = 64 << 20;
  void Linger() {
    unread_ = false;
    lingered_ = 0;
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(1));
    LingerRead();
  }
  void LingerRead() {
    linger_buffer_.resize(16 * 1024);
    stream_.async_read_some(
        net::buffer(linger_buffer_),
        [self = shared_from_this()](beast::error_code ec, std::size_t n) {
          self->lingered_ += n;
          if (ec == beast::error::timeout) return self->Drop();
          if (ec || self->lingered_ > kMaxLingerBytes) return self->Close();
          self->LingerRead();
        });
  }

  // TLS close_notify, bounded by the write timeout.
  void Close() {
    beast::get_lowest_layer(stream_).expires_after(WriteTimeout());
    stream_.async_shutdown(
        [self = shared_from_this()](beast::error_code) { self->Drop(); });
  }

  bool Stopping() {
    absl::MutexLock lock(&server_.mu);
    return server_.stopping;
  }

  void EndCallIfOpen() {
    if (!call_open_) return;
    call_open_ = false;
    server_.EndCall();
  }

  void Drop() {
    EndCallIfOpen();
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().shutdown(
        tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(stream_).close();
  }

  RestServer::Impl& server_;
  beast::ssl_stream<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
  absl::StatusOr<app::PeerIdentity> peer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  bool keep_alive_ = false;
  bool call_open_ = false;   // BeginCall without its EndCall yet
  std::string allow_;        // the Allow header of the next reply (405 only)
  std::string retry_after_;  // the Retry-After header of the next (429)
  bool media_ = false;       // this call answers with its document (alt=media)
  bool unread_ = false;      // the request was not read to its end: linger
  std::size_t lingered_ = 0;
  std::string linger_buffer_;
  std::string disposition_;  // the Content-Disposition of the next reply
  std::unique_ptr<Message> call_request_;
  std::unique_ptr<Message> call_response_;
  std::unique_ptr<app::MessageSource> source_;
  http::response<http::empty_body> stream_head_;
  std::optional<http::response_serializer<http::empty_body>> serializer_;
  std::string chunk_;
};

}  // namespace

absl::Status RestServer::Impl::Listen(const config::v1::ServerConfig& config,
                                      const std::string& address) {
  SSL_CTX* ctx = tls.native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                  ssl::context::no_tlsv1_1 | ssl::context::no_compression |
                  ssl::context::single_dh_use);
  if (SSL_CTX_set_cipher_list(ctx, kCiphers12) != 1) {
    return absl::InternalError("the TLS 1.2 cipher list was refused");
  }
  beast::error_code ec;
  tls.use_certificate_chain_file(config.tls().cert_file(), ec);
  if (ec) {
    return InvalidField("tls.cert_file",
                        absl::StrCat("cannot use ", config.tls().cert_file(),
                                     ": ", ec.message()));
  }
  tls.use_private_key_file(config.tls().key_file(), ssl::context::pem, ec);
  if (ec) {
    return InvalidField("tls.key_file",
                        absl::StrCat("cannot use ", config.tls().key_file(),
                                     ": ", ec.message()));
  }
  tls.load_verify_file(config.tls().ca_file(), ec);
  if (ec) {
    return InvalidField(
        "tls.ca_file", absl::StrCat("cannot use ", config.tls().ca_file(), ": ",
                                    ec.message()));
  }
  if (STACK_OF(X509_NAME)* names =
          SSL_load_client_CA_file(config.tls().ca_file().c_str())) {
    SSL_CTX_set_client_CA_list(ctx, names);
  }
  tls.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  static constexpr unsigned char kSessionContext[] = "samplan-rest";
  SSL_CTX_set_session_id_context(ctx, kSessionContext,
                                 sizeof(kSessionContext) - 1);

  const std::string field = absl::StrCat(listener_field, ".address");
  const size_t colon = address.rfind(':');
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port_text = address.substr(colon + 1);
  tcp::resolver resolver(ioc);
  auto endpoints = resolver.resolve(host, port_text, ec);
  if (ec || endpoints.empty()) {
    return InvalidField(field, absl::StrCat("cannot resolve ", address));
  }
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return InvalidField(
        field, absl::StrCat("cannot listen on ", address, ": ", ec.message()));
  }
  port = acceptor.local_endpoint().port();
  return absl::OkStatus();
}

void RestServer::Impl::Accept() {
  acceptor.async_accept(
      net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
        if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
        if (ec) {
          // Out of descriptors or buffers: try again shortly rather than
          // spin on an error the next accept would repeat.
          accept_retry.expires_after(std::chrono::milliseconds(50));
          accept_retry.async_wait([this](beast::error_code wait_ec) {
            if (!wait_ec && acceptor.is_open()) Accept();
          });
          return;
        }
        {
          if (connections.load() >= limits.max_connections()) {
            // Over the limit: closed before any TLS work is spent on it.
            beast::error_code ignored;
            socket.close(ignored);
          } else {
            std::make_shared<Session>(*this, std::move(socket))->Start();
          }
        }
        Accept();
      });
}

absl::StatusOr<std::unique_ptr<RestServer>> RestServer::Start(
    const config::v1::ServerConfig& config, const app::MethodTable& table,
    app::AgencyDirectory& agencies) {
  std::vector<rest::Route> routes;
  for (const std::string& name : app::MethodTable::ServiceNames()) {
    const auto* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            name);
    if (service == nullptr) {
      return absl::InternalError(absl::StrCat("no service ", name));
    }
    ASSIGN_OR_RETURN(std::vector<rest::Route> more, rest::RoutesOf(*service));
    for (auto& r : more) {
      if (table.Find(r.method->full_name()) == nullptr) {
        return absl::InternalError(
            absl::StrCat("no handler for ", r.method->full_name()));
      }
      routes.push_back(std::move(r));
    }
  }
  return Launch(std::make_unique<Impl>(config, &table, agencies,
                                       std::move(routes), "rest", nullptr),
                config, config.rest().address());
}

absl::StatusOr<std::unique_ptr<RestServer>> RestServer::StartMetrics(
    const config::v1::ServerConfig& config, app::AgencyDirectory& agencies,
    std::function<std::string()> metrics) {
  return Launch(std::make_unique<Impl>(config, nullptr, agencies,
                                       std::vector<rest::Route>(), "metrics",
                                       std::move(metrics)),
                config, config.metrics().address());
}

absl::StatusOr<std::unique_ptr<RestServer>> RestServer::Launch(
    std::unique_ptr<Impl> impl, const config::v1::ServerConfig& config,
    const std::string& address) {
  RETURN_IF_ERROR(impl->Listen(config, address));
  impl->Accept();
  for (int i = 0; i < config.limits().rest_threads(); ++i) {
    impl->threads.emplace_back([raw = impl.get()] {
      // A handler that throws (an allocation that fails) ends that
      // connection's work, not the server.
      for (;;) {
        try {
          raw->ioc.run();
          return;
        } catch (const std::exception&) {
        }
      }
    });
  }
  return std::unique_ptr<RestServer>(new RestServer(std::move(impl)));
}

RestServer::RestServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RestServer::~RestServer() {
  Shutdown(absl::Now());
  // The io_context goes with impl_, and with it the handlers still queued
  // on it and the connections they hold.
}

int RestServer::port() const { return impl_->port; }

void RestServer::Shutdown(absl::Time deadline) {
  {
    absl::MutexLock lock(&impl_->mu);
    if (impl_->stopped) return;
    impl_->stopping = true;
  }
  net::post(impl_->acceptor.get_executor(), [impl = impl_.get()] {
    beast::error_code ignored;
    impl->acceptor.close(ignored);
  });
  {
    absl::MutexLock lock(&impl_->mu);
    impl_->mu.AwaitWithDeadline(
        absl::Condition(
            +[](int* n) { return *n == 0; }, &impl_->in_flight),
        deadline);
    impl_->stopped = true;
  }
  impl_->blocking.stop();
  impl_->blocking.join();
  impl_->work.reset();
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

}  // namespace samplan::server
