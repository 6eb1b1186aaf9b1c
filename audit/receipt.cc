#include "audit/receipt.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "audit/leaf.h"
#include "audit/merkle.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "samplan/v1/audit.pb.h"
#include "samplan/v1/consent.pb.h"

namespace samplan::audit {
namespace {

std::string DeterministicBytes(const v1::ConsentReceipt& receipt) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    receipt.SerializeToCodedStream(&coded);
  }
  return out;
}

absl::Status Malformed(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("the receipt ", what));
}

}  // namespace

int ReceiptEventAction(int receipt_event) {
  switch (receipt_event) {
    case v1::RECEIPT_EVENT_GIVEN:
      return v1::AUDIT_ACTION_GRANT_RECORDED;
    case v1::RECEIPT_EVENT_WITHDRAWN:
      return v1::AUDIT_ACTION_GRANT_WITHDRAWN;
    case v1::RECEIPT_EVENT_REVOKED:
      return v1::AUDIT_ACTION_GRANT_REVOKED;
    default:
      return v1::AUDIT_ACTION_UNSPECIFIED;
  }
}

std::string ReceiptSignedBody(const v1::ConsentReceipt& receipt) {
  const Hash digest = Sha256Of(DeterministicBytes(receipt));
  return absl::StrCat(kReceiptSchema, "\n", absl::Base64Escape(ToBytes(digest)),
                      "\n");
}

absl::StatusOr<VerifiedReceipt> VerifyReceipt(
    const v1::SignedConsentReceipt& signed_receipt,
    const NoteVerifier& verifier) {
  const v1::ConsentReceipt& r = signed_receipt.receipt();
  // The signature first: nothing unsigned is looked at further.
  ASSIGN_OR_RETURN(const std::string body,
                   verifier.Open(signed_receipt.signature()));
  if (body != ReceiptSignedBody(r)) {
    return WithReason(
        absl::PermissionDeniedError(
            "the receipt's signature is valid but signs another receipt: the "
            "receipt was changed"),
        "BAD_SIGNATURE");
  }
  if (r.schema_version() != kReceiptSchema) {
    return Malformed(absl::StrCat("has schema_version \"", r.schema_version(),
                                  "\", not ", kReceiptSchema));
  }
  const v1::AuditEvent& event = r.audit_event();
  if (event.resource() != r.grant().name() || r.grant().name().empty()) {
    return Malformed("record is not about the receipt's grant");
  }
  const int action = ReceiptEventAction(r.event());
  if (action == v1::AUDIT_ACTION_UNSPECIFIED || event.action() != action) {
    return Malformed("record is not of the receipt's event");
  }
  if (r.receipt_id() !=
      absl::StrCat(r.grant().name(), "/receipts/", event.leaf_index())) {
    return Malformed("id does not name the record's leaf");
  }
  ASSIGN_OR_RETURN(CheckpointBody checkpoint,
                   OpenCheckpoint(verifier, r.checkpoint()));
  std::vector<Hash> proof;
  for (const std::string& bytes : r.inclusion_proof()) {
    ASSIGN_OR_RETURN(Hash h, HashFromBytes(bytes));
    proof.push_back(h);
  }
  if (event.leaf_index() < 0 || event.leaf_index() >= checkpoint.tree_size) {
    return Malformed("record's leaf is not in the checkpoint's tree");
  }
  RETURN_IF_ERROR(VerifyInclusion(event.leaf_index(), checkpoint.tree_size,
                                  EventLeafHash(event), proof,
                                  checkpoint.root));
  return VerifiedReceipt{checkpoint, event.leaf_index()};
}

}  // namespace samplan::audit
