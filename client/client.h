// A typed client for samplan's four services (PlanService, ConsentService,
// AuditService and AdminService) over mutual TLS.
//
//   ConnectionOptions options;
//   options.target = "localhost:7443";
//   options.ca_file = "var/pki/ca.pem";
//   options.cert_file = "var/pki/school-1.pem";
//   options.key_file = "var/pki/school-1.key";
//   options.actor = "anna.berg";
//   auto connection = Connection::Open(options);
//   if (!connection.ok()) ...;
//   v1::GetPlanRequest request;
//   request.set_name("plans/k3v9x2m4q8w1z7r5");
//   v1::GetPlanResponse response;
//   absl::Status s = (*connection)->GetPlan(request, &response);
//
// The caller's agency is the one named in the client certificate (its URI SAN
// urn:samplan:agency:<id>); the staff member who acts is `actor`, sent as the
// call metadata "x-samplan-actor" on every call (docs/api.md, "Actor").
//
// Every call returns the server's status as an absl::Status with the same
// code and message. The machine reason of the google.rpc.ErrorInfo (for
// example "PLAN_CLOSED") and its "field" metadata travel as payloads: read
// them with samplan::ReasonOf() and samplan::FieldOf() (common/errors.h).
// Transport failures come back as gRPC reports them: UNAVAILABLE when the
// server cannot be reached or the TLS handshake fails, DEADLINE_EXCEEDED when
// the call took longer than `deadline` (`stream_deadline` for the
// server-streaming calls).
//
// Streams. StreamAuditEvents and ExportAuditEvents read a server stream with a
// blocking grpc::ClientReader and hand each message to a callback, in order,
// on the calling thread. When the callback returns an error, the call is
// cancelled and that error is returned as it is (the caller can tell its own
// error from the server's). A callback that has seen enough can stop the
// stream this way. Otherwise the method returns the stream's final status.
//
// Request ids. Every write request (one with a `request_id` field) needs a
// client-chosen idempotency key. When the caller leaves request_id empty, the
// Connection sends a copy of the request with request_id set to
// NewRequestId(); the caller's message is not changed, so that id is not
// known to the caller. A caller that may want to repeat a write after an
// UNAVAILABLE or DEADLINE_EXCEEDED (without applying it twice) should set
// request_id itself and reuse it for the repetition.

#ifndef SAMPLAN_CLIENT_CLIENT_H_
#define SAMPLAN_CLIENT_CLIENT_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "samplan/v1/admin.grpc.pb.h"
#include "samplan/v1/audit.grpc.pb.h"
#include "samplan/v1/consent.grpc.pb.h"
#include "samplan/v1/plan.grpc.pb.h"

namespace grpc {
class Channel;
class ChannelArguments;
}  // namespace grpc

namespace samplan::client {

// The call metadata key that names the acting staff member.
inline constexpr char kActorMetadataKey[] = "x-samplan-actor";

// Where and as whom to connect. A plain value type.
struct ConnectionOptions {
  // The server, "host:port".
  std::string target = "localhost:7443";
  // PEM file with the CA certificate(s) the server certificate must chain to.
  // Empty: gRPC's default roots.
  std::string ca_file;
  // PEM file with the agency's client certificate (chain), and the PEM file
  // with its private key. Both or neither; without them the call is made
  // without a client certificate, which the samplan server refuses.
  std::string cert_file;
  std::string key_file;
  // The staff member who acts, sent as "x-samplan-actor" on every call: 1-64
  // characters of [A-Za-z0-9._@-]. The server checks it; when empty, no
  // metadata is sent and every call fails with INVALID_ARGUMENT,
  // MISSING_ACTOR.
  std::string actor;
  // Time allowed for each call, from its start. Must be positive.
  absl::Duration deadline = absl::Seconds(10);
  // Time allowed for each server-streaming call (StreamAuditEvents,
  // ExportAuditEvents), from its start to the end of the stream, instead of
  // `deadline`: exporting a large audit log takes longer than one answer.
  // Must be positive.
  absl::Duration stream_deadline = absl::Minutes(30);
};

// A mutual-TLS channel to options.target from options' CA, certificate and
// key files (deadlines are not used). `args` go to gRPC as they are: the load
// generator (bench/load.cc) opens several independent connections this way.
// INVALID_ARGUMENT for an empty target or a lone certificate or key;
// NOT_FOUND for a file that cannot be read; INVALID_ARGUMENT for a file
// without PEM.
absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(
    const ConnectionOptions& options, const grpc::ChannelArguments& args);

// One channel to one samplan server, with stubs for PlanService,
// ConsentService, AuditService and AdminService.
//
// Thread-safe: the options and stubs are constant after Open(), and each call
// uses its own grpc::ClientContext, so any number of threads may call the
// methods at once. Calls block until the server answers or the deadline
// passes. The Connection owns its channel; destroying it while calls are in
// flight is not allowed.
class Connection {
 public:
  // Reads the PEM files named in `options`, builds grpc::SslCredentials with
  // the CA as root and the client certificate and key, and creates the
  // channel. No network traffic happens yet: an unreachable server shows up
  // as UNAVAILABLE on the first call.
  // Returns NOT_FOUND, naming the file, when a file cannot be read;
  // INVALID_ARGUMENT when the target is empty, when only one of cert_file and
  // key_file is given, when a file holds no PEM block ("-----BEGIN "), or when
  // the deadline or the stream deadline is not positive.
  static absl::StatusOr<std::unique_ptr<Connection>> Open(
      const ConnectionOptions& options);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // The options this connection was opened with.
  const ConnectionOptions& options() const { return options_; }

  // A new random request id: "req-" followed by 16 lowercase hex digits from
  // std::random_device. Thread-safe.
  static std::string NewRequestId();

  // --- PlanService. Each method makes one call (proto/samplan/v1/plan.proto
  // documents the request and the errors) and, on OK, fills *response.
  // REQUIRES: response != nullptr. Write methods fill an empty request_id as
  // described in the file comment.

  absl::Status CreatePlan(const v1::CreatePlanRequest& request,
                          v1::CreatePlanResponse* response);
  absl::Status GetPlan(const v1::GetPlanRequest& request,
                       v1::GetPlanResponse* response);
  absl::Status GetGrantReceipt(const v1::GetGrantReceiptRequest& request,
                               v1::GetGrantReceiptResponse* response);
  absl::Status RenderGrantReceipt(const v1::RenderGrantReceiptRequest& request,
                                  v1::RenderGrantReceiptResponse* response);
  absl::Status RenderPlan(const v1::RenderPlanRequest& request,
                          v1::RenderPlanResponse* response);
  absl::Status ListPlans(const v1::ListPlansRequest& request,
                         v1::ListPlansResponse* response);
  absl::Status SearchPlans(const v1::SearchPlansRequest& request,
                           v1::SearchPlansResponse* response);
  absl::Status UpdatePlan(const v1::UpdatePlanRequest& request,
                          v1::UpdatePlanResponse* response);
  absl::Status ApprovePlan(const v1::ApprovePlanRequest& request,
                           v1::ApprovePlanResponse* response);
  absl::Status ClosePlan(const v1::ClosePlanRequest& request,
                         v1::ClosePlanResponse* response);
  absl::Status CreateEntry(const v1::CreateEntryRequest& request,
                           v1::CreateEntryResponse* response);
  absl::Status UpdateEntry(const v1::UpdateEntryRequest& request,
                           v1::UpdateEntryResponse* response);
  absl::Status DeleteEntry(const v1::DeleteEntryRequest& request,
                           v1::DeleteEntryResponse* response);
  absl::Status AddParticipant(const v1::AddParticipantRequest& request,
                              v1::AddParticipantResponse* response);
  absl::Status RemoveParticipant(const v1::RemoveParticipantRequest& request,
                                 v1::RemoveParticipantResponse* response);
  absl::Status ListUpcomingReviews(
      const v1::ListUpcomingReviewsRequest& request,
      v1::ListUpcomingReviewsResponse* response);

  // --- ConsentService (proto/samplan/v1/consent.proto). Same contract as
  // above.

  absl::Status CreateCustodyFact(const v1::CreateCustodyFactRequest& request,
                                 v1::CreateCustodyFactResponse* response);
  absl::Status GetCustodyFact(const v1::GetCustodyFactRequest& request,
                              v1::GetCustodyFactResponse* response);
  absl::Status SearchCustodyFacts(const v1::SearchCustodyFactsRequest& request,
                                  v1::SearchCustodyFactsResponse* response);
  absl::Status EndCustodyFact(const v1::EndCustodyFactRequest& request,
                              v1::EndCustodyFactResponse* response);
  absl::Status CreateRepresentation(
      const v1::CreateRepresentationRequest& request,
      v1::CreateRepresentationResponse* response);
  absl::Status GetRepresentation(const v1::GetRepresentationRequest& request,
                                 v1::GetRepresentationResponse* response);
  absl::Status SearchRepresentations(
      const v1::SearchRepresentationsRequest& request,
      v1::SearchRepresentationsResponse* response);
  absl::Status EndRepresentation(const v1::EndRepresentationRequest& request,
                                 v1::EndRepresentationResponse* response);
  absl::Status CreateGrant(const v1::CreateGrantRequest& request,
                           v1::CreateGrantResponse* response);
  absl::Status GetGrant(const v1::GetGrantRequest& request,
                        v1::GetGrantResponse* response);
  absl::Status ListGrants(const v1::ListGrantsRequest& request,
                          v1::ListGrantsResponse* response);
  absl::Status SearchGrants(const v1::SearchGrantsRequest& request,
                            v1::SearchGrantsResponse* response);
  absl::Status WithdrawGrant(const v1::WithdrawGrantRequest& request,
                             v1::WithdrawGrantResponse* response);
  absl::Status CheckAccess(const v1::CheckAccessRequest& request,
                           v1::CheckAccessResponse* response);

  // --- AuditService (proto/samplan/v1/audit.proto). Same contract as above.

  absl::Status SearchAuditEvents(const v1::SearchAuditEventsRequest& request,
                                 v1::SearchAuditEventsResponse* response);
  absl::Status GetLatestCheckpoint(
      const v1::GetLatestCheckpointRequest& request,
      v1::GetLatestCheckpointResponse* response);
  absl::Status GetInclusionProof(const v1::GetInclusionProofRequest& request,
                                 v1::GetInclusionProofResponse* response);
  absl::Status GetConsistencyProof(
      const v1::GetConsistencyProofRequest& request,
      v1::GetConsistencyProofResponse* response);
  absl::Status GetAccessExtract(const v1::GetAccessExtractRequest& request,
                                v1::GetAccessExtractResponse* response);

  // The server-streaming calls, with `stream_deadline` (see "Streams" in the
  // file comment). `on_batch` / `on_chunk` is called once per message, in
  // order; returning an error cancels the call and makes it the result.
  absl::Status StreamAuditEvents(
      const v1::StreamAuditEventsRequest& request,
      const std::function<absl::Status(const v1::StreamAuditEventsResponse&)>&
          on_batch);
  absl::Status ExportAuditEvents(
      const v1::ExportAuditEventsRequest& request,
      const std::function<absl::Status(const v1::ExportAuditEventsResponse&)>&
          on_chunk);

  // --- AdminService (proto/samplan/v1/admin.proto). Same contract as above;
  // the write methods (CreateAgency, DisableAgency, RevokeGrant, VoidGrant,
  // ExpireGrants) fill an empty request_id.

  absl::Status CreateAgency(const v1::CreateAgencyRequest& request,
                            v1::CreateAgencyResponse* response);
  absl::Status GetAgency(const v1::GetAgencyRequest& request,
                         v1::GetAgencyResponse* response);
  absl::Status ListAgencies(const v1::ListAgenciesRequest& request,
                            v1::ListAgenciesResponse* response);
  absl::Status DisableAgency(const v1::DisableAgencyRequest& request,
                             v1::DisableAgencyResponse* response);
  absl::Status RevokeGrant(const v1::RevokeGrantRequest& request,
                           v1::RevokeGrantResponse* response);
  absl::Status VoidGrant(const v1::VoidGrantRequest& request,
                         v1::VoidGrantResponse* response);
  absl::Status ExpireGrants(const v1::ExpireGrantsRequest& request,
                            v1::ExpireGrantsResponse* response);
  absl::Status ListExpiringGrants(const v1::ListExpiringGrantsRequest& request,
                                  v1::ListExpiringGrantsResponse* response);

 private:
  Connection(ConnectionOptions options, std::shared_ptr<grpc::Channel> channel);

  // Makes a ClientContext with the actor metadata and the deadline, calls
  // `method` on `stub` (with request_id filled when the request has one and
  // it is empty) and converts the status.
  template <typename Stub, typename Request, typename Response>
  absl::Status Call(Stub* stub,
                    grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                 const Request&, Response*),
                    const Request& request, Response* response) const;

  // Makes a ClientContext with the actor metadata and `stream_deadline`,
  // starts the server stream `method` on `stub`, hands every message to
  // `on_message` and converts the final status (see "Streams").
  template <typename Stub, typename Request, typename Response>
  absl::Status ReadStream(
      Stub* stub,
      std::unique_ptr<grpc::ClientReader<Response>> (Stub::*method)(
          grpc::ClientContext*, const Request&),
      const Request& request,
      const std::function<absl::Status(const Response&)>& on_message) const;

  // Adds the actor metadata and sets the deadline `timeout` from now.
  void PrepareContext(grpc::ClientContext* context,
                      absl::Duration timeout) const;

  // Constant after construction.
  const ConnectionOptions options_;
  const std::shared_ptr<grpc::Channel> channel_;
  const std::unique_ptr<v1::PlanService::Stub> plans_;
  const std::unique_ptr<v1::ConsentService::Stub> consents_;
  const std::unique_ptr<v1::AuditService::Stub> audits_;
  const std::unique_ptr<v1::AdminService::Stub> admins_;
};

}  // namespace samplan::client

#endif  // SAMPLAN_CLIENT_CLIENT_H_
