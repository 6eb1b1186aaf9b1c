#include "app/documents.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "app/app_support.h"
#include "app/checkpointer.h"
#include "audit/merkle.h"
#include "audit/receipt.h"
#include "common/errors.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "render/html.h"
#include "render/pdf.h"
#include "render/plan_document.h"
#include "render/receipt_document.h"
#include "samplan/v1/audit.pb.h"
#include "samplan/v1/common.pb.h"

namespace samplan::app {

absl::StatusOr<DocumentOptions> ParseDocumentOptions(
    absl::string_view language_code, int format) {
  DocumentOptions out;
  const std::optional<render::Language> language =
      render::ParseLanguage(language_code);
  if (!language.has_value()) {
    return InvalidField("language_code",
                        "must be \"sv\" (Swedish) or \"en\" (English)");
  }
  out.language = *language;
  if (!v1::DocumentFormat_IsValid(format)) {
    return InvalidField("format", "is not a known document format");
  }
  out.pdf = format == v1::DOCUMENT_FORMAT_PDF;
  return out;
}

std::string RenderedAs(const DocumentOptions& options) {
  return absl::StrCat(", rendered as ", options.pdf ? "PDF" : "HTML", " (",
                      render::LanguageCode(options.language), ")");
}

absl::StatusOr<RenderedDocument> RenderDocument(const render::Document& doc,
                                                bool pdf) {
  RenderedDocument out;
  if (pdf) {
    ASSIGN_OR_RETURN(out.content, render::ToPdf(doc));
    out.content_type = "application/pdf";
    out.extension = ".pdf";
  } else {
    out.content = render::ToHtml(doc);
    out.content_type = "text/html; charset=utf-8";
    out.extension = ".html";
  }
  return out;
}

absl::StatusOr<absl::flat_hash_map<std::string, v1::Agency>> ReceiptAgencies(
    storage::Transaction& tx, const v1::Grant& grant, absl::string_view also) {
  std::vector<std::string> named = {grant.recorded_by_agency(),
                                    std::string(also)};
  for (const std::string& a : grant.scope().disclosing_agencies()) {
    named.push_back(a);
  }
  for (const std::string& a : grant.scope().receiving_agencies()) {
    named.push_back(a);
  }
  return ReadAgencies(tx, named);
}

void FillReceipt(const AppContext& ctx, const v1::Grant& grant,
                 v1::ReceiptEvent event,
                 const absl::flat_hash_map<std::string, v1::Agency>& agencies,
                 absl::Time issued, v1::ConsentReceipt* out) {
  out->set_schema_version(audit::kReceiptSchema);
  out->set_event(event);
  SetTimestamp(issued, out->mutable_issue_time());
  out->set_scope_text(render::ConsentInWords(grant, agencies, ctx.policy.zone,
                                             render::Language::kSwedish));
  out->set_withdrawal_text(
      render::WithdrawalInWords(render::Language::kSwedish));
  out->set_jurisdiction("SE");
  out->set_legal_basis(render::LegalBasisInWords(render::Language::kSwedish));
  out->set_purpose(render::PurposeInWords(render::Language::kSwedish));
  *out->mutable_grant() = grant;
}

absl::Status AttachEventRecord(storage::Transaction& tx,
                               absl::string_view grant_name,
                               v1::ReceiptEvent event,
                               v1::ConsentReceipt* out) {
  storage::AuditQuery query;
  query.resource = std::string(grant_name);
  query.resource_exact = true;  // the grant's own records, by the index
  query.action = audit::ReceiptEventAction(event);
  query.limit = 1;
  ASSIGN_OR_RETURN(std::vector<v1::AuditEvent> records,
                   tx.audit().Query(query));
  if (records.empty()) {
    return absl::DataLossError(
        absl::StrCat("the audit record of ", grant_name, " is missing"));
  }
  out->set_receipt_id(
      absl::StrCat(grant_name, "/receipts/", records[0].leaf_index()));
  *out->mutable_event_time() = records[0].time();
  *out->mutable_audit_event() = std::move(records[0]);
  return absl::OkStatus();
}

absl::Status SealReceipt(const Checkpointer& checkpointer,
                         storage::Transaction& tx, absl::Time now,
                         v1::SignedConsentReceipt* out) {
  v1::ConsentReceipt* receipt = out->mutable_receipt();
  receipt->clear_inclusion_proof();
  ASSIGN_OR_RETURN(const storage::StoredCheckpoint checkpoint,
                   checkpointer.Update(tx, now, /*force=*/true));
  ASSIGN_OR_RETURN(
      const std::vector<audit::Hash> proof,
      tx.audit().InclusionProof(receipt->audit_event().leaf_index(),
                                checkpoint.tree_size));
  for (const audit::Hash& h : proof) {
    receipt->add_inclusion_proof(audit::ToBytes(h));
  }
  receipt->set_checkpoint(checkpoint.signed_note);
  ASSIGN_OR_RETURN(*out->mutable_signature(),
                   checkpointer.SignReceipt(*receipt));
  return absl::OkStatus();
}

absl::Status IssueReceipt(const AppContext& ctx, storage::Transaction& tx,
                          const v1::Grant& grant, v1::ReceiptEvent event,
                          absl::Time issued, v1::SignedConsentReceipt* out) {
  v1::ConsentReceipt* receipt = out->mutable_receipt();
  // The agency of the event's record is the caller's; the recording and
  // the scope's agencies are what the words name.
  ASSIGN_OR_RETURN(const auto agencies, ReceiptAgencies(tx, grant, ""));
  RETURN_IF_ERROR(AttachEventRecord(tx, grant.name(), event, receipt));
  FillReceipt(ctx, grant, event, agencies, issued, receipt);
  return SealReceipt(*ctx.checkpointer, tx, ctx.clock->Now(), out);
}

}  // namespace samplan::app
