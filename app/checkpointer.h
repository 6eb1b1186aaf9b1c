// Signs checkpoints of the audit log: at most every N appended events or T
// seconds (AuditConfig), and on demand. Runs inside a write transaction (the
// commit queue's batch tail, or a job), so the signed tree size and root are
// exactly what is committed with it.

#ifndef SAMPLAN_APP_CHECKPOINTER_H_
#define SAMPLAN_APP_CHECKPOINTER_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/store.h"

namespace samplan::audit {
class NoteSigner;
}  // namespace samplan::audit
namespace samplan::v1 {
class Checkpoint;
class ConsentReceipt;
}  // namespace samplan::v1

namespace samplan::app {

class Checkpointer {
 public:
  struct Options {
    int64_t every_events = 1000;
    absl::Duration every = absl::Seconds(10);
  };
  // `signer` (its key name is the log's origin) must outlive this.
  Checkpointer(const audit::NoteSigner& signer, Options options);

  const std::string& origin() const;

  // Signs and stores a checkpoint of the tree as it stands in `tx` when one
  // is due: none exists yet; or the tree grew and either `force` is set,
  // every_events were appended since the newest, or the newest is older
  // than `every`. Returns the newest checkpoint afterwards.
  absl::StatusOr<storage::StoredCheckpoint> Update(storage::Transaction& tx,
                                                   absl::Time now,
                                                   bool force) const;

  // The signature of a consent receipt (audit/receipt.h), by the log's key.
  absl::StatusOr<std::string> SignReceipt(
      const v1::ConsentReceipt& receipt) const;

  // The API form of a stored checkpoint.
  void ToProto(const storage::StoredCheckpoint& stored,
               v1::Checkpoint* out) const;

 private:
  const audit::NoteSigner& signer_;
  const Options options_;
};

}  // namespace samplan::app

#endif  // SAMPLAN_APP_CHECKPOINTER_H_
