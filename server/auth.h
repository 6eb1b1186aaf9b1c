// Caller identity over gRPC: the verified client certificate of the
// connection, read from gRPC's auth context (app/authorize.h does the rest:
// the agency registry, the role and the actor).

#ifndef SAMPLAN_SERVER_AUTH_H_
#define SAMPLAN_SERVER_AUTH_H_

#include "absl/status/statusor.h"
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

}  // namespace samplan::server

#endif  // SAMPLAN_SERVER_AUTH_H_
