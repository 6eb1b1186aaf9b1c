// A consent receipt in words, for the family to keep on paper: what was
// agreed (or that it was withdrawn or revoked), by whom in which role, for
// how long, where the grant stood when the receipt was made, how to
// withdraw, why consent is needed, and how to check the signed receipt
// (audit/receipt.h) it goes with. Swedish or English; no identity numbers.
#ifndef SAMPLAN_RENDER_RECEIPT_DOCUMENT_H_
#define SAMPLAN_RENDER_RECEIPT_DOCUMENT_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "render/document.h"
#include "samplan/v1/admin.pb.h"
#include "samplan/v1/consent.pb.h"

namespace samplan::render {

// What the receipt in words is made from.
struct ReceiptCopy {
  // The receipt, with its grant, event, times, id and audit record; its
  // proof, checkpoint and signature are not used (the words do not depend
  // on them).
  v1::ConsentReceipt receipt;
  // The agencies the grant and the event's record name, by resource name;
  // one missing here is "another agency".
  absl::flat_hash_map<std::string, v1::Agency> agencies;
  // The audit log's origin (the name its checkpoints are signed under).
  std::string log_origin;
  absl::TimeZone zone;  // Europe/Stockholm in the service
};

Document ComposeReceiptDocument(const ReceiptCopy& copy, Language language);

// The legal basis of a consent receipt, in words: consent lifts the
// confidentiality between the agencies.
std::string LegalBasisInWords(Language language);
// The purpose of a consent receipt, in words: a coordinated individual plan.
std::string PurposeInWords(Language language);

}  // namespace samplan::render

#endif  // SAMPLAN_RENDER_RECEIPT_DOCUMENT_H_
