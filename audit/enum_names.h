// The names of the enum values the audit leaf data and the export spell
// out, looked up without protobuf's descriptor tables (the verifier looks
// up several per event, millions of times). Internal to audit/.

#ifndef SAMPLAN_AUDIT_ENUM_NAMES_H_
#define SAMPLAN_AUDIT_ENUM_NAMES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace google::protobuf {
class EnumDescriptor;
}  // namespace google::protobuf

namespace samplan::audit::internal {

// One enum's value names. Immutable once built; thread-safe.
class EnumNames {
 public:
  explicit EnumNames(const google::protobuf::EnumDescriptor* type);

  // The name of the value `number`; empty when it has none.
  absl::string_view Name(int number) const;
  // The number of the value called `name`; nullopt when there is none.
  std::optional<int> Number(absl::string_view name) const;

  // The enums of an audit event, built once.
  static const EnumNames& AuditAction();
  static const EnumNames& Decision();
  static const EnumNames& DecisionReason();
  static const EnumNames& InformationCategory();

 private:
  std::vector<std::string> by_number_;  // for numbers 0..N, dense
  absl::flat_hash_map<std::string, int> by_name_;
  absl::flat_hash_map<int, std::string> sparse_;  // numbers outside 0..N
};

}  // namespace samplan::audit::internal

#endif  // SAMPLAN_AUDIT_ENUM_NAMES_H_
