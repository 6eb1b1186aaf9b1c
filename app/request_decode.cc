#include "app/request_decode.h"

#include <cstdint>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/utf8.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/message.h"
#include "google/protobuf/wire_format_lite.h"

namespace samplan::app {
namespace {

using ::google::protobuf::Descriptor;
using ::google::protobuf::FieldDescriptor;
using ::google::protobuf::internal::WireFormatLite;
using ::google::protobuf::io::CodedInputStream;

// Messages nested deeper than this are blamed on the field that opens them
// (protobuf's own parser stops at 100).
constexpr int kMaxDepth = 100;

bool ExpectedWireType(const FieldDescriptor* f, WireFormatLite::WireType type) {
  if (type == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
    // Strings, bytes, messages, and packed repeated scalars.
    return f->type() == FieldDescriptor::TYPE_STRING ||
           f->type() == FieldDescriptor::TYPE_BYTES ||
           f->type() == FieldDescriptor::TYPE_MESSAGE || f->is_repeated();
  }
  if (f->type() == FieldDescriptor::TYPE_GROUP) {
    return type == WireFormatLite::WIRETYPE_START_GROUP;
  }
  return type == WireFormatLite::WireTypeForFieldType(
                     static_cast<WireFormatLite::FieldType>(f->type()));
}

// Walks one message's fields up to the stream's current limit (always
// set). Returns false, with the blamed path in `*path` (empty when the
// fault is in the framing of the message itself), at the first fault.
bool Walk(CodedInputStream& in, const Descriptor* type,
          const std::string& prefix, int depth, std::string* path) {
  std::map<int, int> seen;  // field number -> occurrences so far
  for (;;) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) return in.BytesUntilLimit() == 0;  // else a malformed tag
    const int number = WireFormatLite::GetTagFieldNumber(tag);
    const auto wire = WireFormatLite::GetTagWireType(tag);
    const FieldDescriptor* f = type->FindFieldByNumber(number);
    if (f == nullptr) {
      // Unknown fields are kept and ignored, as protobuf does.
      if (!WireFormatLite::SkipField(&in, tag)) return false;
      continue;
    }
    std::string name = absl::StrCat(prefix, f->name());
    if (f->is_repeated()) {
      absl::StrAppend(&name, "[", seen[number]++, "]");
    }
    const bool is_string = f->type() == FieldDescriptor::TYPE_STRING;
    const bool is_message = f->type() == FieldDescriptor::TYPE_MESSAGE;
    // A value of another wire type is kept as an unknown field, as protobuf
    // does; only its framing can fail.
    if (!ExpectedWireType(f, wire) ||
        wire != WireFormatLite::WIRETYPE_LENGTH_DELIMITED ||
        (!is_string && !is_message)) {
      if (!WireFormatLite::SkipField(&in, tag)) {
        *path = std::move(name);
        return false;
      }
      continue;
    }
    uint32_t length = 0;
    if (!in.ReadVarint32(&length) ||
        static_cast<int64_t>(length) > in.BytesUntilLimit()) {
      *path = std::move(name);
      return false;
    }
    if (is_string) {
      std::string value;
      if (!in.ReadString(&value, static_cast<int>(length)) || !IsUtf8(value)) {
        *path = std::move(name);
        return false;
      }
      continue;
    }
    if (depth >= kMaxDepth) {
      *path = std::move(name);
      return false;
    }
    const CodedInputStream::Limit limit =
        in.PushLimit(static_cast<int>(length));
    if (!Walk(in, f->message_type(), absl::StrCat(name, "."), depth + 1,
              path)) {
      if (path->empty()) *path = std::move(name);
      return false;
    }
    in.PopLimit(limit);
  }
}

}  // namespace

std::string FindUndecodableField(absl::string_view bytes,
                                 const Descriptor* type) {
  if (bytes.size() > static_cast<size_t>(INT32_MAX)) return "";
  CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                      static_cast<int>(bytes.size()));
  in.PushLimit(static_cast<int>(bytes.size()));
  std::string path;
  if (Walk(in, type, "", 0, &path)) return "";
  return path;
}

absl::Status DecodeRequest(absl::string_view bytes,
                           google::protobuf::Message* message) {
  if (bytes.size() <= static_cast<size_t>(INT32_MAX) &&
      message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::OkStatus();
  }
  message->Clear();
  const std::string field =
      FindUndecodableField(bytes, message->GetDescriptor());
  if (field.empty()) {
    return Error(absl::StatusCode::kInvalidArgument, "MALFORMED_REQUEST", "",
                 absl::StrCat("the request could not be decoded as ",
                              message->GetDescriptor()->full_name(),
                              "; check that the client sends that message"));
  }
  return Error(absl::StatusCode::kInvalidArgument, "INVALID_FIELD", field,
               "could not be decoded: the request could not be parsed (a "
               "string that is not valid UTF-8, a value of the wrong type or "
               "a truncated field)");
}

}  // namespace samplan::app
