// Offline verification of an audit log export against a signed checkpoint:
// what `samplanctl audit verify` runs. Needs no access to the server or its
// database: the export (JSON lines, one AuditEvent each, in the proto3 JSON
// mapping with leafIndex and leafHash), the checkpoint note taken with it,
// the server's verifier key and, optionally, an older checkpoint saved
// earlier.
//
// The checks, in order, stopping at the first failure:
//   1. the checkpoint's signature, by the given key; its origin;
//   2. the saved checkpoint, if any: signature, same origin, and a tree size
//      no larger than the checkpoint's (else the log shrank);
//   3. every line, in order: it parses strictly as an AuditEvent; its
//      leafIndex is the line's position (else a leaf is missing, reordered
//      or inserted there); the leaf hash recomputed from its content equals
//      its leafHash (else that event was altered);
//   4. the export holds exactly checkpoint.tree_size events (else it was
//      truncated, or has extra lines);
//   5. the root of the first saved.tree_size recomputed leaves equals the
//      saved checkpoint's root (else the log was rewritten since);
//   6. the root of all recomputed leaves equals the checkpoint's root.
// Checks 3 and 4 name the first failing leaf index; 5 and 6 can only say
// that some leaf below the tree size differs (docs/audit.md explains when).

#ifndef SAMPLAN_AUDIT_VERIFY_H_
#define SAMPLAN_AUDIT_VERIFY_H_

#include <cstdint>
#include <istream>
#include <optional>
#include <string>

#include "audit/merkle.h"
#include "audit/note.h"

namespace samplan::audit {

struct VerifyResult {
  bool ok = false;
  // The first leaf index found wrong, or -1 when the failure is not tied to
  // one leaf (a bad signature, or a root mismatch).
  int64_t failed_index = -1;
  // What failed, in one sentence naming the index when there is one; empty
  // when ok.
  std::string problem;
  // What was checked.
  int64_t events = 0;         // lines read
  CheckpointBody checkpoint;  // as signed (when the signature verified)
  Hash root{};                // recomputed over the lines read
};

// Runs the checks above over `export_lines`. `saved_checkpoint_note` is
// empty when there is none.
VerifyResult VerifyExport(std::istream& export_lines,
                          absl::string_view checkpoint_note,
                          const NoteVerifier& key,
                          absl::string_view saved_checkpoint_note = "");

}  // namespace samplan::audit

#endif  // SAMPLAN_AUDIT_VERIFY_H_
