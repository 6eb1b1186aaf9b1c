#include "audit/leaf.h"

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "audit/enum_names.h"
#include "common/proto_time.h"
#include "samplan/v1/audit.pb.h"
#include "samplan/v1/common.pb.h"

namespace samplan::audit {
namespace {

using internal::EnumNames;

// Appends "<name> <length> <value>\n".
void AddRecord(absl::string_view name, absl::string_view value,
               std::string* out) {
  const absl::AlphaNum length(value.size());
  out->append(name.data(), name.size());
  out->push_back(' ');
  out->append(length.data(), length.size());
  out->push_back(' ');
  out->append(value.data(), value.size());
  out->push_back('\n');
}

// Appends the record of an enum: the value's name, or its decimal number
// when it has none.
void AddEnum(absl::string_view name, const EnumNames& names, int number,
             std::string* out) {
  const absl::string_view text = names.Name(number);
  if (text.empty()) {
    AddRecord(name, absl::StrCat(number), out);
  } else {
    AddRecord(name, text, out);
  }
}

}  // namespace

bool KnownLeafFormat(int leaf_format) {
  return leaf_format == 0 || leaf_format == kCurrentLeafFormat;
}

namespace {

// Appends the leaf data of `event` to `*out_ptr`.
void AppendLeafData(const v1::AuditEvent& event, std::string* out_ptr) {
  std::string& out = *out_ptr;
  const bool v2 = event.leaf_format() >= 2;
  absl::StrAppend(&out, v2 ? kLeafDataHeaderV2 : kLeafDataHeaderV1, "\n");
  AddRecord("time", absl::StrCat(ToUnixMicros(event.time())), &out);
  AddRecord("agency", event.agency(), &out);
  AddRecord("actor", event.actor(), &out);
  AddRecord("certificate", event.certificate(), &out);
  AddEnum("action", EnumNames::AuditAction(), event.action(), &out);
  AddRecord("subject", event.subject(), &out);
  AddRecord("resource", event.resource(), &out);
  AddEnum("decision", EnumNames::Decision(), event.decision(), &out);
  for (int reason : event.reasons()) {
    AddEnum("reason", EnumNames::DecisionReason(), reason, &out);
  }
  for (const std::string& grant : event.grants()) {
    AddRecord("grant", grant, &out);
  }
  AddRecord("request_id", event.request_id(), &out);
  AddRecord("detail", event.detail(), &out);
  if (!v2) return;
  for (const v1::EntryDecision& d : event.entry_decisions()) {
    AddRecord("entry", d.entry(), &out);
    AddRecord("entry_owner", d.owner_agency(), &out);
    AddEnum("entry_category", EnumNames::InformationCategory(), d.category(),
            &out);
    AddEnum("entry_decision", EnumNames::Decision(), d.decision(), &out);
    AddEnum("entry_reason", EnumNames::DecisionReason(), d.reason(), &out);
    for (const std::string& grant : d.grants()) {
      AddRecord("entry_grant", grant, &out);
    }
  }
}

}  // namespace

std::string LeafData(const v1::AuditEvent& event) {
  std::string out;
  AppendLeafData(event, &out);
  return out;
}

Hash EventLeafHash(const v1::AuditEvent& event) {
  // Built in a buffer the thread keeps: a plan read's leaf data is a few
  // kilobytes, and the server and the verifier hash one per event.
  thread_local std::string buffer;
  buffer.clear();
  AppendLeafData(event, &buffer);
  const Hash hash = HashLeaf(buffer);
  if (buffer.capacity() > (size_t{1} << 20)) std::string().swap(buffer);
  return hash;
}

}  // namespace samplan::audit
