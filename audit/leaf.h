// The canonical leaf data of an audit event: the bytes that are hashed into
// the Merkle tree. Independent of protobuf's wire encoding, so that a
// verifier can recompute it from the JSON export with any tool
// (docs/audit.md, "Leaf data").
//
// The leaf data is the line "samplan-audit-event/v1" followed by one record
// per field, in this fixed order, every field always present:
//
//   time agency actor certificate action subject resource decision
//   reason* grant* request_id detail
//
// Each record is  <name> SP <byte length in decimal> SP <value> LF , where
// the value is:
//   time         the event time in microseconds since the Unix epoch, UTC
//                (decimal; sub-microsecond digits are dropped)
//   action, decision, reason
//                the enum value's name (for example AUDIT_ACTION_PLAN_READ),
//                or its decimal number when it has no name
//   everything else
//                the string field's UTF-8 bytes, as they are
// "reason" and "grant" repeat once per element of `reasons` and `grants`,
// in order (zero records when empty). `leaf_index` and `leaf_hash` are not
// part of the leaf data: a leaf's position is given by the tree.

#ifndef SAMPLAN_AUDIT_LEAF_H_
#define SAMPLAN_AUDIT_LEAF_H_

#include <string>

#include "audit/merkle.h"

namespace samplan::v1 {
class AuditEvent;
}  // namespace samplan::v1

namespace samplan::audit {

inline constexpr char kLeafDataHeader[] = "samplan-audit-event/v1";

std::string LeafData(const v1::AuditEvent& event);
// HashLeaf(LeafData(event)).
Hash EventLeafHash(const v1::AuditEvent& event);

}  // namespace samplan::audit

#endif  // SAMPLAN_AUDIT_LEAF_H_
