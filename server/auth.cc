#include "server/auth.h"

#include <memory>
#include <string>
#include <vector>

#include "common/errors.h"
#include "common/status_macros.h"
#include "grpcpp/security/auth_context.h"
#include "server/peer_certificate.h"

namespace samplan::server {

absl::StatusOr<app::PeerIdentity> PeerFromAuthContext(
    const grpc::AuthContext& context) {
  if (!context.IsPeerAuthenticated()) {
    return WithReason(
        absl::UnauthenticatedError("no verified client certificate"),
        "UNKNOWN_AGENCY");
  }
  auto pem = context.FindPropertyValues("x509_pem_cert");
  if (pem.empty()) return PeerFromCertificate(nullptr);
  return PeerFromPem(absl::string_view(pem.front().data(), pem.front().size()));
}

absl::StatusOr<app::PeerIdentity> Authenticator::Peer(
    const grpc::AuthContext& auth) {
  if (!auth.IsPeerAuthenticated()) return PeerFromAuthContext(auth);
  auto pem = auth.FindPropertyValues("x509_pem_cert");
  if (pem.empty()) return PeerFromAuthContext(auth);
  const absl::string_view key(pem.front().data(), pem.front().size());
  {
    absl::MutexLock lock(&mu_);
    auto it = peers_.find(key);
    if (it != peers_.end()) return it->second;
  }
  ASSIGN_OR_RETURN(app::PeerIdentity peer, PeerFromAuthContext(auth));
  absl::MutexLock lock(&mu_);
  if (peers_.size() >= kMaxPeers) peers_.clear();
  peers_.emplace(std::string(key), peer);
  return peer;
}

absl::StatusOr<app::Caller> Authenticator::Authenticate(
    const grpc::AuthContext& auth, absl::string_view actor,
    const app::Requirement& need) {
  ASSIGN_OR_RETURN(app::PeerIdentity peer, Peer(auth));
  return app::Authorize(agencies_, peer, actor, need);
}

}  // namespace samplan::server
