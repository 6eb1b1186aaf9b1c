// What the methods that make the family's documents share: the language
// and format a request asks for, the rendering of a composed document, and
// consent receipts (audit/receipt.h), which GetGrantReceipt returns and
// CreateGrant, WithdrawGrant and RevokeGrant return with their answer.

#ifndef SAMPLAN_APP_DOCUMENTS_H_
#define SAMPLAN_APP_DOCUMENTS_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "app/method.h"
#include "render/document.h"
#include "samplan/v1/admin.pb.h"
#include "samplan/v1/consent.pb.h"
#include "storage/store.h"

namespace samplan::app {

// The language_code and format fields of a render request.
struct DocumentOptions {
  render::Language language = render::Language::kSwedish;
  bool pdf = false;
};
// INVALID_ARGUMENT naming `language_code` or `format` for a code that is
// not "sv"/"en" (with region) or a format that is not known.
absl::StatusOr<DocumentOptions> ParseDocumentOptions(
    absl::string_view language_code, int format);

// What a rendering adds to its read record's detail: ", rendered as PDF
// (sv)".
std::string RenderedAs(const DocumentOptions& options);

struct RenderedDocument {
  std::string content;
  std::string content_type;  // "text/html; charset=utf-8" or "application/pdf"
  std::string extension;     // ".html" or ".pdf"
};
absl::StatusOr<RenderedDocument> RenderDocument(const render::Document& doc,
                                                bool pdf);

// The agencies a receipt of `grant` names: the recording agency, the
// scope's agencies and `also` (the agency of the event's record).
absl::StatusOr<absl::flat_hash_map<std::string, v1::Agency>> ReceiptAgencies(
    storage::Transaction& tx, const v1::Grant& grant, absl::string_view also);

// Sets in the receipt of `event` of `grant` made at `issued` everything
// but the event's record (AttachEventRecord), the proof, the checkpoint
// and the signature (SealReceipt). Words in Swedish.
void FillReceipt(const AppContext& ctx, const v1::Grant& grant,
                 v1::ReceiptEvent event,
                 const absl::flat_hash_map<std::string, v1::Agency>& agencies,
                 absl::Time issued, v1::ConsentReceipt* out);

// The audit record of `event` of grant `grant_name`, as stored; DATA_LOSS
// when it is missing. Sets it in `out` with the receipt's id and event time
// it gives.
absl::Status AttachEventRecord(storage::Transaction& tx,
                               absl::string_view grant_name,
                               v1::ReceiptEvent event, v1::ConsentReceipt* out);

// In the writer's transaction, after the record of the receipt's event:
// signs a checkpoint that covers it (stored in `tx`, dated `now`, the
// writer's time, so that stored checkpoints keep their order), sets the
// inclusion proof to it and signs the receipt. Idempotent, should a
// retried transaction run it again.
absl::Status SealReceipt(const Checkpointer& checkpointer,
                         storage::Transaction& tx, absl::Time now,
                         v1::SignedConsentReceipt* out);

// The whole receipt of `event` of `grant` (as stored in `tx`), once the
// event's record is appended: for the answer of the call that made the
// event at `issued`. Its checkpoint is dated by ctx.clock. Needs the audit
// log's key (ctx.checkpointer).
absl::Status IssueReceipt(const AppContext& ctx, storage::Transaction& tx,
                          const v1::Grant& grant, v1::ReceiptEvent event,
                          absl::Time issued, v1::SignedConsentReceipt* out);

// For a call that gives, withdraws or revokes a grant at `issued`: after
// its record, the answer's receipt of `event` is issued from the answer's
// grant, which the call (or an earlier after-record step) sets to the grant
// as stored. Without the audit log's key (ctx.checkpointer null: tests,
// tools) the answer has no receipt.
template <typename Response>
void AnswerWithReceipt(const AppContext& ctx, Effects* fx,
                       v1::ReceiptEvent event, absl::Time issued,
                       Response* resp) {
  if (ctx.checkpointer == nullptr) return;
  fx->AddAfterRecord([&ctx, event, issued, resp](storage::Transaction& tx) {
    return IssueReceipt(ctx, tx, resp->grant(), event, issued,
                        resp->mutable_receipt());
  });
}

}  // namespace samplan::app

#endif  // SAMPLAN_APP_DOCUMENTS_H_
