#include "server/auth.h"

#include <memory>
#include <string>
#include <vector>

#include "common/errors.h"
#include "common/status_macros.h"
#include "grpcpp/security/auth_context.h"
#include "openssl/evp.h"
#include "openssl/pem.h"
#include "openssl/x509.h"

namespace samplan::server {
namespace {

// SHA-256 of the certificate's DER encoding, from its PEM text.
std::string Fingerprint(absl::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  if (bio == nullptr) return "";
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
  if (cert == nullptr) return "";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert.get(), EVP_sha256(), digest, &len) != 1) return "";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

}  // namespace

absl::StatusOr<app::PeerIdentity> PeerFromAuthContext(
    const grpc::AuthContext& context) {
  if (!context.IsPeerAuthenticated()) {
    return WithReason(
        absl::UnauthenticatedError("no verified client certificate"),
        "UNKNOWN_AGENCY");
  }
  std::vector<std::string> uris;
  for (const auto& v : context.FindPropertyValues("peer_uri")) {
    uris.emplace_back(v.data(), v.size());
  }
  if (uris.empty()) {
    // Older gRPC builds expose every SAN only as x509_subject_alternative_name.
    for (const auto& v :
         context.FindPropertyValues("x509_subject_alternative_name")) {
      uris.emplace_back(v.data(), v.size());
    }
  }
  app::PeerIdentity peer;
  ASSIGN_OR_RETURN(peer.agency_id, app::AgencyIdFromUris(uris));
  auto pem = context.FindPropertyValues("x509_pem_cert");
  if (!pem.empty()) {
    peer.certificate =
        Fingerprint(absl::string_view(pem.front().data(), pem.front().size()));
  }
  return peer;
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
