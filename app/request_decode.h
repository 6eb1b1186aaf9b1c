// Decoding a request from the protobuf wire format with an answer a client
// can act on. A parse failure says which field could not be decoded (a
// string that is not valid UTF-8, a field with the wrong wire type, a
// truncated length) where the bytes allow it to be found.
//
// Transport-free: the gRPC adapter decodes every request through it, and
// so may any other transport that receives protobuf bytes.

#ifndef SAMPLAN_APP_REQUEST_DECODE_H_
#define SAMPLAN_APP_REQUEST_DECODE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace google::protobuf {
class Descriptor;
class Message;
}  // namespace google::protobuf

namespace samplan::app {

// Parses `bytes` into `message` (cleared first). Returns OK; or
// INVALID_ARGUMENT, "the request could not be decoded", with reason
// INVALID_FIELD naming the first field at fault (snake_case path with
// indexes, as "participants[1].display_name"), or reason MALFORMED_REQUEST
// when no field can be blamed. Nothing of the bytes' content is quoted.
absl::Status DecodeRequest(absl::string_view bytes,
                           google::protobuf::Message* message);

// The path of the first field of `bytes` that does not decode as `type`,
// or "" when the fault lies outside any field (or none is found).
std::string FindUndecodableField(absl::string_view bytes,
                                 const google::protobuf::Descriptor* type);

}  // namespace samplan::app

#endif  // SAMPLAN_APP_REQUEST_DECODE_H_
