// AuditService's behaviour, free of any transport: searching, streaming and
// exporting the audit log, checkpoints and proofs, and a person's access
// extract. Auditors only (the transport checks the role).
//
// Every search, stream, export and extract is itself audited (one
// AUDIT_QUERIED event naming the caller, the subject asked about and the
// filter in `detail`), durably, before any event is returned. Checkpoints
// and proofs reveal only hashes and are not audited.

#ifndef SAMPLAN_APP_AUDIT_APP_H_
#define SAMPLAN_APP_AUDIT_APP_H_

#include <functional>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "app/app_support.h"
#include "app/caller.h"
#include "app/method.h"
#include "storage/store.h"

namespace samplan::v1 {
class AuditEventFilter;
class Checkpoint;
class ExportAuditEventsRequest;
class ExportAuditEventsResponse;
class GetAccessExtractRequest;
class GetAccessExtractResponse;
class GetConsistencyProofRequest;
class GetConsistencyProofResponse;
class GetInclusionProofRequest;
class GetInclusionProofResponse;
class GetLatestCheckpointRequest;
class GetLatestCheckpointResponse;
class SearchAuditEventsRequest;
class SearchAuditEventsResponse;
class StreamAuditEventsRequest;
}  // namespace samplan::v1

namespace samplan::app {

class Checkpointer;

// AuditService's unary transaction functions (method.h).
struct AuditMethods {
  static const MethodSpec<v1::SearchAuditEventsRequest,
                          v1::SearchAuditEventsResponse>
      kSearchAuditEvents;
  static const MethodSpec<v1::GetLatestCheckpointRequest,
                          v1::GetLatestCheckpointResponse>
      kGetLatestCheckpoint;
  static const MethodSpec<v1::GetInclusionProofRequest,
                          v1::GetInclusionProofResponse>
      kGetInclusionProof;
  static const MethodSpec<v1::GetConsistencyProofRequest,
                          v1::GetConsistencyProofResponse>
      kGetConsistencyProof;
  static const MethodSpec<v1::GetAccessExtractRequest,
                          v1::GetAccessExtractResponse>
      kGetAccessExtract;
};

class AuditApp {
 public:
  // `checkpointer` must outlive this.
  // `ctx.checkpointer` signs the checkpoints.
  explicit AuditApp(const AppContext& ctx) : ctx_(ctx), runner_(ctx_) {}

  void SearchAuditEvents(const Caller& caller,
                         const v1::SearchAuditEventsRequest& req,
                         v1::SearchAuditEventsResponse* resp, Done done);
  void GetLatestCheckpoint(const Caller& caller,
                           const v1::GetLatestCheckpointRequest& req,
                           v1::GetLatestCheckpointResponse* resp, Done done);
  void GetInclusionProof(const Caller& caller,
                         const v1::GetInclusionProofRequest& req,
                         v1::GetInclusionProofResponse* resp, Done done);
  void GetConsistencyProof(const Caller& caller,
                           const v1::GetConsistencyProofRequest& req,
                           v1::GetConsistencyProofResponse* resp, Done done);
  void GetAccessExtract(const Caller& caller,
                        const v1::GetAccessExtractRequest& req,
                        v1::GetAccessExtractResponse* resp, Done done);

  // A stream's position: its filter, the last leaf index sent
  // (query.after_index) and its end (query.before_index).
  struct Cursor {
    storage::AuditQuery query;
  };
  using StartedFn = std::function<void(absl::StatusOr<Cursor>)>;

  // Validates and audits a StreamAuditEvents call; `started` gets the
  // cursor once the audit record is committed, or the error.
  void StartStream(const Caller& caller,
                   const v1::StreamAuditEventsRequest& req, StartedFn started);
  // Validates and audits an export and signs a checkpoint covering it (and
  // its own audit record) into `*checkpoint`, which must stay valid until
  // `started` runs. The cursor ends at the checkpoint's tree size.
  void StartExport(const Caller& caller,
                   const v1::ExportAuditEventsRequest& req,
                   v1::Checkpoint* checkpoint, StartedFn started);
  // The next at most `max` events of `cursor`, advancing it; empty at the
  // end. Reads a consistent snapshot; may run on any thread.
  absl::StatusOr<std::vector<v1::AuditEvent>> Next(Cursor& cursor, int max);
  // The next export chunk: whole JSON lines, up to about 1 MiB, or nullopt
  // at the end.
  absl::StatusOr<std::optional<v1::ExportAuditEventsResponse>> NextChunk(
      Cursor& cursor);

 private:
  const AppContext ctx_;
  const Runner runner_;
};

}  // namespace samplan::app

#endif  // SAMPLAN_APP_AUDIT_APP_H_
