#include "server/peer_certificate.h"

#include <memory>
#include <string>
#include <vector>

#include "common/errors.h"
#include "common/status_macros.h"
#include "openssl/evp.h"
#include "openssl/pem.h"
#include "openssl/x509.h"
#include "openssl/x509v3.h"

namespace samplan::server {
namespace {

absl::Status NoCertificate() {
  return WithReason(
      absl::UnauthenticatedError("no verified client certificate"),
      "UNKNOWN_AGENCY");
}

}  // namespace

absl::StatusOr<app::PeerIdentity> PeerFromCertificate(const X509* cert) {
  if (cert == nullptr) return NoCertificate();
  std::vector<std::string> uris;
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
      if (name->type != GEN_URI) continue;
      const ASN1_STRING* uri = name->d.uniformResourceIdentifier;
      uris.emplace_back(
          reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
          static_cast<size_t>(ASN1_STRING_length(uri)));
    }
    GENERAL_NAMES_free(names);
  }
  app::PeerIdentity peer;
  ASSIGN_OR_RETURN(peer.agency_id, app::AgencyIdFromUris(uris));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, EVP_sha256(), digest, &len) != 1) {
    return NoCertificate();
  }
  static constexpr char kHex[] = "0123456789abcdef";
  peer.certificate.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    peer.certificate.push_back(kHex[digest[i] >> 4]);
    peer.certificate.push_back(kHex[digest[i] & 0xf]);
  }
  return peer;
}

absl::StatusOr<app::PeerIdentity> PeerFromPem(absl::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  if (bio == nullptr) return NoCertificate();
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
  return PeerFromCertificate(cert.get());
}

}  // namespace samplan::server
