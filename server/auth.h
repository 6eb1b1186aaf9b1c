// Caller identity over gRPC: the verified client certificate of the
// connection, read from gRPC's auth context (app/authorize.h does the rest:
// the agency registry, the role and the actor).

#ifndef SAMPLAN_SERVER_AUTH_H_
#define SAMPLAN_SERVER_AUTH_H_

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "app/authorize.h"

namespace grpc {
class AuthContext;
}  // namespace grpc

namespace samplan::server {

// The verified peer's agency id (its certificate's URI SAN) and certificate
// fingerprint. UNAUTHENTICATED (reason UNKNOWN_AGENCY) when the connection
// carries no verified client certificate or the certificate names no
// agency.
absl::StatusOr<app::PeerIdentity> PeerFromAuthContext(
    const grpc::AuthContext& context);

// Authenticates gRPC calls: the certificate is parsed once per distinct
// certificate (PeerFromAuthContext parses PEM and hashes the DER, the most
// expensive step of a call otherwise) and kept, and the agency is checked
// against the AgencyDirectory on every call. Thread-safe.
class Authenticator {
 public:
  // `agencies` must outlive this.
  explicit Authenticator(app::AgencyDirectory& agencies)
      : agencies_(agencies) {}

  // The caller of a call on the connection of `auth`, for `need`
  // (app::Authorize's errors).
  absl::StatusOr<app::Caller> Authenticate(const grpc::AuthContext& auth,
                                           absl::string_view actor,
                                           const app::Requirement& need);

  // PeerFromAuthContext, cached by the certificate's PEM text.
  absl::StatusOr<app::PeerIdentity> Peer(const grpc::AuthContext& auth);

 private:
  static constexpr size_t kMaxPeers = 4096;
  app::AgencyDirectory& agencies_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, app::PeerIdentity> peers_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace samplan::server

#endif  // SAMPLAN_SERVER_AUTH_H_
