// Who is calling: established by the transport (mutual TLS certificate and
// call metadata) before any application code runs.

#ifndef SAMPLAN_APP_CALLER_H_
#define SAMPLAN_APP_CALLER_H_

#include <string>

#include "consent/engine.h"

namespace samplan::app {

enum class Role {
  kAgencySystem,
  kAuditor,
  kAdministrator,
};

struct Caller {
  std::string agency_id;  // bare id, e.g. "school-1"
  consent::Sector sector = consent::Sector::kUnspecified;
  Role role = Role::kAgencySystem;
  std::string actor;        // staff member id from x-samplan-actor
  std::string certificate;  // SHA-256 fingerprint of the client certificate
  std::string request_id;   // set by write methods, for the audit record

  // "agencies/<agency_id>"
  std::string agency_name() const { return "agencies/" + agency_id; }
};

}  // namespace samplan::app

#endif  // SAMPLAN_APP_CALLER_H_
