// Small helpers for absl::Status that Debian's Abseil (20220623) lacks.
//
//   RETURN_IF_ERROR(expr): evaluates expr (an absl::Status); returns it from
//     the enclosing function when it is not OK.
//   ASSIGN_OR_RETURN(lhs, expr): evaluates expr (an absl::StatusOr<T>);
//     returns its status when not OK, otherwise moves the value into lhs
//     (which may be a declaration such as `auto x`).

#ifndef SAMPLAN_COMMON_STATUS_MACROS_H_
#define SAMPLAN_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SAMPLAN_STATUS_CONCAT_INNER_(a, b) a##b
#define SAMPLAN_STATUS_CONCAT_(a, b) SAMPLAN_STATUS_CONCAT_INNER_(a, b)

#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    ::absl::Status samplan_status_ = (expr);           \
    if (!samplan_status_.ok()) return samplan_status_; \
  } while (false)

#define SAMPLAN_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                   \
  if (!statusor.ok()) return std::move(statusor).status();  \
  lhs = *std::move(statusor)

#define ASSIGN_OR_RETURN(lhs, expr) \
  SAMPLAN_ASSIGN_OR_RETURN_IMPL_(   \
      SAMPLAN_STATUS_CONCAT_(samplan_statusor_, __LINE__), lhs, expr)

#endif  // SAMPLAN_COMMON_STATUS_MACROS_H_
