#include "audit/leaf.h"

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/proto_time.h"
#include "google/protobuf/descriptor.h"
#include "samplan/v1/audit.pb.h"
#include "samplan/v1/common.pb.h"

namespace samplan::audit {
namespace {

// Appends "<name> <length> <value>\n".
void AddRecord(absl::string_view name, absl::string_view value,
               std::string* out) {
  absl::StrAppend(out, name, " ", value.size(), " ", value, "\n");
}

// Appends the record of an enum: the value's name, or its decimal number
// when it has none.
void AddEnum(absl::string_view name,
             const google::protobuf::EnumDescriptor* type, int number,
             std::string* out) {
  const google::protobuf::EnumValueDescriptor* value =
      type->FindValueByNumber(number);
  if (value == nullptr) {
    AddRecord(name, absl::StrCat(number), out);
  } else {
    AddRecord(name, value->name(), out);
  }
}

}  // namespace

bool KnownLeafFormat(int leaf_format) {
  return leaf_format == 0 || leaf_format == kCurrentLeafFormat;
}

std::string LeafData(const v1::AuditEvent& event) {
  const bool v2 = event.leaf_format() >= 2;
  std::string out;
  // One allocation for most records: the fixed part, and each entry's.
  out.reserve(event.ByteSizeLong() + 256 +
              static_cast<size_t>(event.entry_decisions_size()) * 96);
  absl::StrAppend(&out, v2 ? kLeafDataHeaderV2 : kLeafDataHeaderV1, "\n");
  AddRecord("time", absl::StrCat(ToUnixMicros(event.time())), &out);
  AddRecord("agency", event.agency(), &out);
  AddRecord("actor", event.actor(), &out);
  AddRecord("certificate", event.certificate(), &out);
  AddEnum("action", v1::AuditAction_descriptor(), event.action(), &out);
  AddRecord("subject", event.subject(), &out);
  AddRecord("resource", event.resource(), &out);
  AddEnum("decision", v1::Decision_descriptor(), event.decision(), &out);
  for (int reason : event.reasons()) {
    AddEnum("reason", v1::DecisionReason_descriptor(), reason, &out);
  }
  for (const std::string& grant : event.grants()) {
    AddRecord("grant", grant, &out);
  }
  AddRecord("request_id", event.request_id(), &out);
  AddRecord("detail", event.detail(), &out);
  if (!v2) return out;
  for (const v1::EntryDecision& d : event.entry_decisions()) {
    AddRecord("entry", d.entry(), &out);
    AddRecord("entry_owner", d.owner_agency(), &out);
    AddEnum("entry_category", v1::InformationCategory_descriptor(),
            d.category(), &out);
    AddEnum("entry_decision", v1::Decision_descriptor(), d.decision(), &out);
    AddEnum("entry_reason", v1::DecisionReason_descriptor(), d.reason(),
            &out);
    for (const std::string& grant : d.grants()) {
      AddRecord("entry_grant", grant, &out);
    }
  }
  return out;
}

Hash EventLeafHash(const v1::AuditEvent& event) {
  return HashLeaf(LeafData(event));
}

}  // namespace samplan::audit
