// Consent receipts (samplan.v1.SignedConsentReceipt): the family's signed
// record of a consent given, withdrawn or revoked. The signature is a C2SP
// signed note by the audit log's key (note.h) whose body is
//
//   samplan.consent-receipt/1
//   <base64 SHA-256 of the receipt's deterministic protobuf encoding>
//
// and the receipt carries the event's audit record, the RFC 9162 inclusion
// proof of its leaf and the signed checkpoint the proof leads to: one key
// checks all of it, offline.

#ifndef SAMPLAN_AUDIT_RECEIPT_H_
#define SAMPLAN_AUDIT_RECEIPT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "audit/note.h"

namespace samplan::v1 {
class ConsentReceipt;
class SignedConsentReceipt;
}  // namespace samplan::v1

namespace samplan::audit {

inline constexpr char kReceiptSchema[] = "samplan.consent-receipt/1";

// The audit action of the record a receipt event has
// (v1::AUDIT_ACTION_GRANT_RECORDED, _WITHDRAWN, _REVOKED);
// v1::AUDIT_ACTION_UNSPECIFIED for RECEIPT_EVENT_UNSPECIFIED or an unknown
// value.
int ReceiptEventAction(int receipt_event);

// The note body the receipt's signature signs.
std::string ReceiptSignedBody(const v1::ConsentReceipt& receipt);

// What a receipt that verifies proves.
struct VerifiedReceipt {
  CheckpointBody checkpoint;  // the signed tree the record is in
  int64_t leaf_index = 0;     // the event's record
};

// Checks `signed_receipt` against the log's key: the receipt's signature;
// the schema; that the audit record is the event's (the grant's resource, the
// event's action, the receipt id's leaf index); the record's leaf hash and
// its inclusion proof to the root of the checkpoint; the checkpoint's
// signature. PERMISSION_DENIED (BAD_SIGNATURE) for a signature that does not
// verify, DATA_LOSS for a proof that does not, INVALID_ARGUMENT for a
// receipt that is malformed or inconsistent.
absl::StatusOr<VerifiedReceipt> VerifyReceipt(
    const v1::SignedConsentReceipt& signed_receipt,
    const NoteVerifier& verifier);

}  // namespace samplan::audit

#endif  // SAMPLAN_AUDIT_RECEIPT_H_
