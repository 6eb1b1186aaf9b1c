#include "app/checkpointer.h"

#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "audit/merkle.h"
#include "audit/note.h"
#include "audit/receipt.h"
#include "common/status_macros.h"
#include "samplan/v1/audit.pb.h"

namespace samplan::app {

Checkpointer::Checkpointer(const audit::NoteSigner& signer, Options options)
    : signer_(signer), options_(options) {}

const std::string& Checkpointer::origin() const { return signer_.key_name(); }

absl::StatusOr<storage::StoredCheckpoint> Checkpointer::Update(
    storage::Transaction& tx, absl::Time now, bool force) const {
  storage::AuditLog& log = tx.audit();
  ASSIGN_OR_RETURN(std::optional<storage::StoredCheckpoint> latest,
                   log.LatestCheckpoint());
  ASSIGN_OR_RETURN(const int64_t size, log.Size());
  if (latest.has_value()) {
    const int64_t fresh = size - latest->tree_size;
    const bool due = fresh > 0 && (force || fresh >= options_.every_events ||
                                   now - latest->time >= options_.every);
    if (!due) return *std::move(latest);
  }
  storage::StoredCheckpoint next;
  next.tree_size = size;
  next.time = now;
  ASSIGN_OR_RETURN(next.root, log.RootAt(size));
  audit::CheckpointBody body{origin(), size, next.root};
  ASSIGN_OR_RETURN(next.signed_note,
                   signer_.Sign(audit::FormatCheckpointBody(body)));
  RETURN_IF_ERROR(log.AddCheckpoint(next));
  return next;
}

absl::StatusOr<std::string> Checkpointer::SignReceipt(
    const v1::ConsentReceipt& receipt) const {
  return signer_.Sign(audit::ReceiptSignedBody(receipt));
}

void Checkpointer::ToProto(const storage::StoredCheckpoint& stored,
                           v1::Checkpoint* out) const {
  // The origin as signed (it differs from origin() only after the operator
  // changed it and before the next checkpoint).
  absl::string_view note = stored.signed_note;
  out->set_origin(std::string(note.substr(0, note.find('\n'))));
  out->set_tree_size(stored.tree_size);
  out->set_root_hash(audit::ToBytes(stored.root));
  out->set_signed_note(stored.signed_note);
}

}  // namespace samplan::app
