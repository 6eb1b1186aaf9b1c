// samplanctl: the command-line client for samplan's PlanService,
// ConsentService, AuditService and AdminService. See --help, and
// samplanctl.h for how the commands are put together.

#include "client/samplanctl.h"

int main(int argc, char** argv) {
  return samplan::client::ctl::Main(argc, argv);
}
