// The caller's identity in a verified client certificate, read the same
// way for every transport: the agency id from the URI SAN
// "urn:samplan:agency:<id>" (app::AgencyIdFromUris) and the SHA-256
// fingerprint of the certificate's DER encoding.

#ifndef SAMPLAN_SERVER_PEER_CERTIFICATE_H_
#define SAMPLAN_SERVER_PEER_CERTIFICATE_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "app/authorize.h"

typedef struct x509_st X509;

namespace samplan::server {

// UNAUTHENTICATED, reason UNKNOWN_AGENCY, when `cert` is null or names no
// agency.
absl::StatusOr<app::PeerIdentity> PeerFromCertificate(const X509* cert);

// The same, from the certificate's PEM text.
absl::StatusOr<app::PeerIdentity> PeerFromPem(absl::string_view pem);

}  // namespace samplan::server

#endif  // SAMPLAN_SERVER_PEER_CERTIFICATE_H_
