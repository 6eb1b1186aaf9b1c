#include "audit/enum_names.h"

#include "google/protobuf/descriptor.h"
#include "samplan/v1/audit.pb.h"
#include "samplan/v1/common.pb.h"

namespace samplan::audit::internal {
namespace {

// Numbers up to this go in the dense table.
constexpr int kDenseLimit = 256;

}  // namespace

EnumNames::EnumNames(const google::protobuf::EnumDescriptor* type) {
  for (int i = 0; i < type->value_count(); ++i) {
    const google::protobuf::EnumValueDescriptor* v = type->value(i);
    by_name_.emplace(v->name(), v->number());
    if (v->number() >= 0 && v->number() < kDenseLimit) {
      const auto at = static_cast<size_t>(v->number());
      if (by_number_.size() <= at) by_number_.resize(at + 1);
      // An alias keeps the first name, as protobuf's lookup does.
      if (by_number_[at].empty()) by_number_[at] = v->name();
    } else {
      sparse_.emplace(v->number(), v->name());
    }
  }
}

absl::string_view EnumNames::Name(int number) const {
  if (number >= 0 && static_cast<size_t>(number) < by_number_.size()) {
    return by_number_[static_cast<size_t>(number)];
  }
  auto it = sparse_.find(number);
  return it == sparse_.end() ? absl::string_view() : it->second;
}

std::optional<int> EnumNames::Number(absl::string_view name) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

const EnumNames& EnumNames::AuditAction() {
  static const auto* const kNames = new EnumNames(v1::AuditAction_descriptor());
  return *kNames;
}
const EnumNames& EnumNames::Decision() {
  static const auto* const kNames = new EnumNames(v1::Decision_descriptor());
  return *kNames;
}
const EnumNames& EnumNames::DecisionReason() {
  static const auto* const kNames =
      new EnumNames(v1::DecisionReason_descriptor());
  return *kNames;
}
const EnumNames& EnumNames::InformationCategory() {
  static const auto* const kNames =
      new EnumNames(v1::InformationCategory_descriptor());
  return *kNames;
}

}  // namespace samplan::audit::internal
