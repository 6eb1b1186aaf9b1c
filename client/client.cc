#include "client/client.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <system_error>
#include <utility>

#include "absl/memory/memory.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/sync_stream.h"
#include "server/grpc_status.h"

namespace samplan::client {
namespace {

// The contents of the PEM file `path`; `what` names it in errors.
absl::StatusOr<std::string> ReadPemFile(const std::string& path,
                                        absl::string_view what) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return absl::NotFoundError(
        absl::StrCat("cannot read ", what, " ", path, ": it is a directory"));
  }
  std::ifstream in(path, std::ios::in | std::ios::binary);
  if (!in.is_open()) {
    return absl::NotFoundError(absl::StrCat("cannot read ", what, " ", path,
                                            ": missing or not readable"));
  }
  std::stringstream contents;
  contents << in.rdbuf();
  if (in.bad()) {
    return absl::NotFoundError(
        absl::StrCat("cannot read ", what, " ", path, ": read error"));
  }
  std::string pem = contents.str();
  if (!absl::StrContains(pem, "-----BEGIN ")) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " ", path, " holds no PEM block (no '-----BEGIN ' line)"));
  }
  return pem;
}

}  // namespace

Connection::Connection(ConnectionOptions opts,
                       std::shared_ptr<grpc::Channel> channel)
    : options_(std::move(opts)),
      channel_(std::move(channel)),
      plans_(v1::PlanService::NewStub(channel_)),
      consents_(v1::ConsentService::NewStub(channel_)),
      audits_(v1::AuditService::NewStub(channel_)),
      admins_(v1::AdminService::NewStub(channel_)) {}

Connection::~Connection() = default;

absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(
    const ConnectionOptions& opts, const grpc::ChannelArguments& args) {
  if (opts.target.empty()) {
    return absl::InvalidArgumentError(
        "target is empty; give host:port, e.g. localhost:7443");
  }
  if (opts.cert_file.empty() != opts.key_file.empty()) {
    return absl::InvalidArgumentError(
        "cert_file and key_file go together: give both or neither");
  }
  grpc::SslCredentialsOptions tls;
  if (!opts.ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadPemFile(opts.ca_file, "CA file");
    if (!ca.ok()) return ca.status();
    tls.pem_root_certs = *std::move(ca);
  }
  if (!opts.cert_file.empty()) {
    absl::StatusOr<std::string> cert =
        ReadPemFile(opts.cert_file, "certificate file");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadPemFile(opts.key_file, "key file");
    if (!key.ok()) return key.status();
    tls.pem_cert_chain = *std::move(cert);
    tls.pem_private_key = *std::move(key);
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials =
      grpc::SslCredentials(tls);
  if (credentials == nullptr) {
    return absl::InvalidArgumentError(
        "cannot build TLS credentials from the CA, certificate and key files");
  }
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(opts.target, credentials, args);
  if (channel == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot create a channel to ", opts.target));
  }
  return channel;
}

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(
    const ConnectionOptions& opts) {
  if (opts.deadline <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("deadline must be positive");
  }
  if (opts.stream_deadline <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("stream_deadline must be positive");
  }
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      OpenChannel(opts, grpc::ChannelArguments());
  if (!channel.ok()) return channel.status();
  return absl::WrapUnique(new Connection(opts, *std::move(channel)));
}

std::string Connection::NewRequestId() {
  std::random_device random;
  const uint64_t high = random();
  const uint64_t low = random();
  const uint64_t value = (high << 32) ^ low;
  return absl::StrCat("req-", absl::Hex(value, absl::kZeroPad16));
}

void Connection::PrepareContext(grpc::ClientContext* context,
                                absl::Duration timeout) const {
  if (!options_.actor.empty()) {
    context->AddMetadata(kActorMetadataKey, options_.actor);
  }
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

template <typename Stub, typename Request, typename Response>
absl::Status Connection::Call(Stub* stub,
                              grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                           const Request&,
                                                           Response*),
                              const Request& request,
                              Response* response) const {
  grpc::ClientContext context;
  PrepareContext(&context, options_.deadline);
  if constexpr (requires(Request & r) {
                  r.request_id();
                  r.set_request_id(std::string());
                }) {
    if (request.request_id().empty()) {
      Request with_id = request;
      with_id.set_request_id(NewRequestId());
      return server::FromGrpcStatus(
          (stub->*method)(&context, with_id, response));
    }
  }
  return server::FromGrpcStatus((stub->*method)(&context, request, response));
}

template <typename Stub, typename Request, typename Response>
absl::Status Connection::ReadStream(
    Stub* stub,
    std::unique_ptr<grpc::ClientReader<Response>> (Stub::*method)(
        grpc::ClientContext*, const Request&),
    const Request& request,
    const std::function<absl::Status(const Response&)>& on_message) const {
  grpc::ClientContext context;
  PrepareContext(&context, options_.stream_deadline);
  std::unique_ptr<grpc::ClientReader<Response>> reader =
      (stub->*method)(&context, request);
  absl::Status stopped;
  Response message;
  while (reader->Read(&message)) {
    stopped = on_message(message);
    if (!stopped.ok()) {
      context.TryCancel();
      // Drain what is already on its way; Read fails soon after the cancel.
      while (reader->Read(&message)) {
      }
      break;
    }
  }
  const grpc::Status status = reader->Finish();
  if (!stopped.ok()) return stopped;
  return server::FromGrpcStatus(status);
}

// --- PlanService ---

absl::Status Connection::CreatePlan(const v1::CreatePlanRequest& request,
                                    v1::CreatePlanResponse* response) {
  return Call(plans_.get(), &v1::PlanService::Stub::CreatePlan, request,
              response);
}

absl::Status Connection::GetPlan(const v1::GetPlanRequest& request,
                                 v1::GetPlanResponse* response) {
  return Call(plans_.get(), &v1::PlanService::Stub::GetPlan, request, response);
}

absl::Status Connection::GetGrantReceipt(
    const v1::GetGrantReceiptRequest& request,
    v1::GetGrantReceiptResponse* response) {
  return Call(consents_.get(), &v1::ConsentService::Stub::GetGrantReceipt,
              request, response);
}

absl::Status Connection::RenderGrantReceipt(
    const v1::RenderGrantReceiptRequest& request,
    v1::RenderGrantReceiptResponse* response) {
  return Call(consents_.get(), &v1::ConsentService::Stub::RenderGrantReceipt,
              request, response);
}

absl::Status Connection::RenderPlan(const v1::RenderPlanRequest& request,
                                    v1::RenderPlanResponse* response) {
  return Call(plans_.get(), &v1::PlanService::Stub::RenderPlan, request,
              response);
}

absl::Status Connection::ListPlans(const v1::ListPlansRequest& request,
                                   v1::ListPlansResponse* response) {
  return Call(plans_.get(), &v1::PlanService::Stub::ListPlans, request,
              response);
}

absl::Status Connection::SearchPlans(const v1::SearchPlansRequest& request,
                                     v1::SearchPlansResponse* response) {
  return Call(plans_.get(), &v1::PlanService::Stub::SearchPlans, request,
              response);
}

absl::Status Connection::UpdatePlan(const v1::UpdatePlanRequest& request,
                                    v1::UpdatePlanResponse* response) {
  return Call(plans_.get(), &v1::PlanService::Stub::UpdatePlan, request,
              response);
}

absl::Status Connection::ApprovePlan(const v1::ApprovePlanRequest& request,
                                     v1::ApprovePlanResponse* response) {
  return Call(plans_.get(), &v1::PlanService::Stub::ApprovePlan, request,
              response);
}

absl::Status Connection::ClosePlan(const v1::ClosePlanRequest& request,
                                   v1::ClosePlanResponse* response) {
  return Call(plans_.get(), &v1::PlanService::Stub::ClosePlan, request,
              response);
}

absl::Status Connection::CreateEntry(const v1::CreateEntryRequest& request,
                                     v1::CreateEntryResponse* response) {
  return Call(plans_.get(), &v1::PlanService::Stub::CreateEntry, request,
              response);
}

absl::Status Connection::UpdateEntry(const v1::UpdateEntryRequest& request,
                                     v1::UpdateEntryResponse* response) {
  return Call(plans_.get(), &v1::PlanService::Stub::UpdateEntry, request,
              response);
}

absl::Status Connection::DeleteEntry(const v1::DeleteEntryRequest& request,
                                     v1::DeleteEntryResponse* response) {
  return Call(plans_.get(), &v1::PlanService::Stub::DeleteEntry, request,
              response);
}

absl::Status Connection::AddParticipant(
    const v1::AddParticipantRequest& request,
    v1::AddParticipantResponse* response) {
  return Call(plans_.get(), &v1::PlanService::Stub::AddParticipant, request,
              response);
}

absl::Status Connection::RemoveParticipant(
    const v1::RemoveParticipantRequest& request,
    v1::RemoveParticipantResponse* response) {
  return Call(plans_.get(), &v1::PlanService::Stub::RemoveParticipant, request,
              response);
}

absl::Status Connection::ListUpcomingReviews(
    const v1::ListUpcomingReviewsRequest& request,
    v1::ListUpcomingReviewsResponse* response) {
  return Call(plans_.get(), &v1::PlanService::Stub::ListUpcomingReviews,
              request, response);
}

// --- ConsentService ---

absl::Status Connection::CreateCustodyFact(
    const v1::CreateCustodyFactRequest& request,
    v1::CreateCustodyFactResponse* response) {
  return Call(consents_.get(), &v1::ConsentService::Stub::CreateCustodyFact,
              request, response);
}

absl::Status Connection::GetCustodyFact(
    const v1::GetCustodyFactRequest& request,
    v1::GetCustodyFactResponse* response) {
  return Call(consents_.get(), &v1::ConsentService::Stub::GetCustodyFact,
              request, response);
}

absl::Status Connection::SearchCustodyFacts(
    const v1::SearchCustodyFactsRequest& request,
    v1::SearchCustodyFactsResponse* response) {
  return Call(consents_.get(), &v1::ConsentService::Stub::SearchCustodyFacts,
              request, response);
}

absl::Status Connection::EndCustodyFact(
    const v1::EndCustodyFactRequest& request,
    v1::EndCustodyFactResponse* response) {
  return Call(consents_.get(), &v1::ConsentService::Stub::EndCustodyFact,
              request, response);
}

absl::Status Connection::CreateRepresentation(
    const v1::CreateRepresentationRequest& request,
    v1::CreateRepresentationResponse* response) {
  return Call(consents_.get(), &v1::ConsentService::Stub::CreateRepresentation,
              request, response);
}

absl::Status Connection::GetRepresentation(
    const v1::GetRepresentationRequest& request,
    v1::GetRepresentationResponse* response) {
  return Call(consents_.get(), &v1::ConsentService::Stub::GetRepresentation,
              request, response);
}

absl::Status Connection::SearchRepresentations(
    const v1::SearchRepresentationsRequest& request,
    v1::SearchRepresentationsResponse* response) {
  return Call(consents_.get(), &v1::ConsentService::Stub::SearchRepresentations,
              request, response);
}

absl::Status Connection::EndRepresentation(
    const v1::EndRepresentationRequest& request,
    v1::EndRepresentationResponse* response) {
  return Call(consents_.get(), &v1::ConsentService::Stub::EndRepresentation,
              request, response);
}

absl::Status Connection::CreateGrant(const v1::CreateGrantRequest& request,
                                     v1::CreateGrantResponse* response) {
  return Call(consents_.get(), &v1::ConsentService::Stub::CreateGrant, request,
              response);
}

absl::Status Connection::GetGrant(const v1::GetGrantRequest& request,
                                  v1::GetGrantResponse* response) {
  return Call(consents_.get(), &v1::ConsentService::Stub::GetGrant, request,
              response);
}

absl::Status Connection::ListGrants(const v1::ListGrantsRequest& request,
                                    v1::ListGrantsResponse* response) {
  return Call(consents_.get(), &v1::ConsentService::Stub::ListGrants, request,
              response);
}

absl::Status Connection::SearchGrants(const v1::SearchGrantsRequest& request,
                                      v1::SearchGrantsResponse* response) {
  return Call(consents_.get(), &v1::ConsentService::Stub::SearchGrants, request,
              response);
}

absl::Status Connection::WithdrawGrant(const v1::WithdrawGrantRequest& request,
                                       v1::WithdrawGrantResponse* response) {
  return Call(consents_.get(), &v1::ConsentService::Stub::WithdrawGrant,
              request, response);
}

absl::Status Connection::CheckAccess(const v1::CheckAccessRequest& request,
                                     v1::CheckAccessResponse* response) {
  return Call(consents_.get(), &v1::ConsentService::Stub::CheckAccess, request,
              response);
}

// --- AuditService ---

absl::Status Connection::SearchAuditEvents(
    const v1::SearchAuditEventsRequest& request,
    v1::SearchAuditEventsResponse* response) {
  return Call(audits_.get(), &v1::AuditService::Stub::SearchAuditEvents,
              request, response);
}

absl::Status Connection::GetLatestCheckpoint(
    const v1::GetLatestCheckpointRequest& request,
    v1::GetLatestCheckpointResponse* response) {
  return Call(audits_.get(), &v1::AuditService::Stub::GetLatestCheckpoint,
              request, response);
}

absl::Status Connection::GetInclusionProof(
    const v1::GetInclusionProofRequest& request,
    v1::GetInclusionProofResponse* response) {
  return Call(audits_.get(), &v1::AuditService::Stub::GetInclusionProof,
              request, response);
}

absl::Status Connection::GetConsistencyProof(
    const v1::GetConsistencyProofRequest& request,
    v1::GetConsistencyProofResponse* response) {
  return Call(audits_.get(), &v1::AuditService::Stub::GetConsistencyProof,
              request, response);
}

absl::Status Connection::GetAccessExtract(
    const v1::GetAccessExtractRequest& request,
    v1::GetAccessExtractResponse* response) {
  return Call(audits_.get(), &v1::AuditService::Stub::GetAccessExtract, request,
              response);
}

absl::Status Connection::StreamAuditEvents(
    const v1::StreamAuditEventsRequest& request,
    const std::function<absl::Status(const v1::StreamAuditEventsResponse&)>&
        on_batch) {
  return ReadStream(audits_.get(), &v1::AuditService::Stub::StreamAuditEvents,
                    request, on_batch);
}

absl::Status Connection::ExportAuditEvents(
    const v1::ExportAuditEventsRequest& request,
    const std::function<absl::Status(const v1::ExportAuditEventsResponse&)>&
        on_chunk) {
  return ReadStream(audits_.get(), &v1::AuditService::Stub::ExportAuditEvents,
                    request, on_chunk);
}

// --- AdminService ---

absl::Status Connection::CreateAgency(const v1::CreateAgencyRequest& request,
                                      v1::CreateAgencyResponse* response) {
  return Call(admins_.get(), &v1::AdminService::Stub::CreateAgency, request,
              response);
}

absl::Status Connection::GetAgency(const v1::GetAgencyRequest& request,
                                   v1::GetAgencyResponse* response) {
  return Call(admins_.get(), &v1::AdminService::Stub::GetAgency, request,
              response);
}

absl::Status Connection::ListAgencies(const v1::ListAgenciesRequest& request,
                                      v1::ListAgenciesResponse* response) {
  return Call(admins_.get(), &v1::AdminService::Stub::ListAgencies, request,
              response);
}

absl::Status Connection::DisableAgency(const v1::DisableAgencyRequest& request,
                                       v1::DisableAgencyResponse* response) {
  return Call(admins_.get(), &v1::AdminService::Stub::DisableAgency, request,
              response);
}

absl::Status Connection::RevokeGrant(const v1::RevokeGrantRequest& request,
                                     v1::RevokeGrantResponse* response) {
  return Call(admins_.get(), &v1::AdminService::Stub::RevokeGrant, request,
              response);
}

absl::Status Connection::VoidGrant(const v1::VoidGrantRequest& request,
                                   v1::VoidGrantResponse* response) {
  return Call(admins_.get(), &v1::AdminService::Stub::VoidGrant, request,
              response);
}

absl::Status Connection::ExpireGrants(const v1::ExpireGrantsRequest& request,
                                      v1::ExpireGrantsResponse* response) {
  return Call(admins_.get(), &v1::AdminService::Stub::ExpireGrants, request,
              response);
}

absl::Status Connection::ListExpiringGrants(
    const v1::ListExpiringGrantsRequest& request,
    v1::ListExpiringGrantsResponse* response) {
  return Call(admins_.get(), &v1::AdminService::Stub::ListExpiringGrants,
              request, response);
}

}  // namespace samplan::client
