// The canonical leaf data of an audit event: the bytes that are hashed into
// the Merkle tree. Independent of protobuf's wire encoding, so that a
// verifier can recompute it from the JSON export with any tool
// (docs/audit.md, "Leaf data").
//
// Format 2 (events with leaf_format 2, all this server writes) is the line
// "samplan-audit-event/v2" followed by one record per field, in this fixed
// order:
//
//   time agency actor certificate action subject resource decision
//   reason* grant* request_id detail
//   ( entry entry_owner entry_category entry_decision entry_reason
//     entry_grant* )*
//
// Format 1 (leaf_format 0: events written before format 2) is the same with
// the header "samplan-audit-event/v1" and without the entry groups.
//
// Each record is  <name> SP <byte length in decimal> SP <value> LF , where
// the value is:
//   time         the event time in microseconds since the Unix epoch, UTC
//                (decimal; sub-microsecond digits are dropped)
//   action, decision, reason, entry_category, entry_decision, entry_reason
//                the enum value's name (for example AUDIT_ACTION_PLAN_READ),
//                or its decimal number when it has no name
//   everything else
//                the string field's UTF-8 bytes, as they are
// "reason", "grant" and "entry_grant" repeat once per element (zero records
// when empty); one entry group per element of entry_decisions, in order.
// `leaf_index`, `leaf_hash` and `leaf_format` itself are not records: the
// header names the format and the tree gives the position.

#ifndef SAMPLAN_AUDIT_LEAF_H_
#define SAMPLAN_AUDIT_LEAF_H_

#include <string>

#include "audit/merkle.h"

namespace samplan::v1 {
class AuditEvent;
}  // namespace samplan::v1

namespace samplan::audit {

inline constexpr char kLeafDataHeaderV1[] = "samplan-audit-event/v1";
inline constexpr char kLeafDataHeaderV2[] = "samplan-audit-event/v2";
// The format of the events this server appends.
inline constexpr int kCurrentLeafFormat = 2;
// The format of an export (ExportAuditEventsResponse.export_format): JSON
// lines that may hold leafFormat and entryDecisions.
inline constexpr int kExportFormat = 2;

// True for the leaf formats a verifier knows: 0 (format 1) and 2.
bool KnownLeafFormat(int leaf_format);

// The leaf data of `event` in its own format (format 1 when leaf_format is
// below 2, else format 2).
std::string LeafData(const v1::AuditEvent& event);
// HashLeaf(LeafData(event)).
Hash EventLeafHash(const v1::AuditEvent& event);

}  // namespace samplan::audit

#endif  // SAMPLAN_AUDIT_LEAF_H_
