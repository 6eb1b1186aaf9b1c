// A parser for the lines of an audit export as the server writes them: one
// AuditEvent in the proto3 JSON mapping, as protobuf's JSON printer prints
// it. The verifier reads millions of lines; protobuf's general JSON parser
// takes 15-20 us a line, this one about a microsecond.
//
// It accepts only that printed form:
//   - one object, no white space outside strings, members in field-number
//     order, each at most once, under their lowerCamelCase JSON names;
//   - int64 as a quoted decimal, int32 as a bare decimal, enums by value
//     name, bytes as standard padded base64 that re-encodes to itself,
//     timestamps as "YYYY-MM-DDTHH:MM:SS[.fff|.ffffff|.fffffffff]Z";
//   - strings of valid UTF-8 without escapes or control characters.
// Everything else (an escape, an enum by number, another spelling of a
// name, a malformed line) is refused without a reason, and the caller falls
// back to protobuf's strict parser, which accepts or rejects it. So a line
// this parser accepts gives exactly the message protobuf's parser gives
// (export_line_test.cc checks that on printed events and on one-byte
// changes of them: some 25 byte values, each put in place of, and inserted
// before, every byte, and every byte deleted), and nothing that parser
// rejects is accepted.

#ifndef SAMPLAN_AUDIT_EXPORT_LINE_H_
#define SAMPLAN_AUDIT_EXPORT_LINE_H_

#include "absl/strings/string_view.h"

namespace samplan::v1 {
class AuditEvent;
}  // namespace samplan::v1

namespace samplan::audit {

// Fills `event` (cleared first) from `line` and returns true when `line` is
// in the printed form above; false otherwise (`event` is then unspecified).
bool ParseExportLine(absl::string_view line, v1::AuditEvent* event);

}  // namespace samplan::audit

#endif  // SAMPLAN_AUDIT_EXPORT_LINE_H_
