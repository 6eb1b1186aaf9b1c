// samplanctl's AdminService commands, two levels deep: admin agency
// (create, get, list, disable) and admin grant (revoke, void, expire,
// expiring).

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "client/cli.h"
#include "client/client.h"
#include "client/samplanctl.h"
#include "common/resource_names.h"
#include "samplan/v1/admin.pb.h"
#include "samplan/v1/common.pb.h"
#include "samplan/v1/consent.pb.h"

namespace samplan::client::ctl {
namespace {

using cli::EnumCode;
using cli::EnumLabel;

// ---------------------------------------------------------------------------
// Human-readable output.

std::string SectorText(v1::Sector sector) {
  return sector == v1::SECTOR_UNSPECIFIED ? "-" : EnumLabel(sector);
}

void PrintAgency(const v1::Agency& a) {
  Print(absl::StrCat("Agency ", a.name(), " (", EnumCode(a.state()), ")"));
  Print(absl::StrCat("  name:         ", a.display_name()));
  Print(absl::StrCat("  role:         ", EnumLabel(a.role())));
  Print(absl::StrCat("  sector:       ", SectorText(a.sector())));
  Print(absl::StrCat("  certificate:  ", a.certificate_identity(),
                     " (URI SAN of its client certificate)"));
  Print(absl::StrCat("  registered:   ", When(a.create_time())));
  if (a.has_disable_time()) {
    std::string disabled = When(a.disable_time());
    if (!a.disable_reason().empty()) {
      absl::StrAppend(&disabled, ": ", a.disable_reason());
    }
    Print(absl::StrCat("  disabled:     ", disabled));
  }
}

void PrintAgencyLine(const v1::Agency& a) {
  Print(absl::StrCat(a.name(), "  ", EnumCode(a.state()), "  ",
                     EnumLabel(a.role()), "  ", SectorText(a.sector()), "  ",
                     a.display_name()));
}

// ---------------------------------------------------------------------------
// admin agency.

int AgencyCreate(Invocation& in) {
  v1::CreateAgencyRequest req;
  const std::string name = in.Agency("--id", Need::kRequired);
  if (!name.empty()) req.set_agency_id(samplan::BareId(name));
  v1::Agency* agency = req.mutable_agency();
  agency->set_display_name(in.Text("--display-name", Need::kRequired));
  agency->set_role(in.Enum<v1::AgencyRole>("--role", Need::kRequired));
  agency->set_sector(in.Enum<v1::Sector>("--sector", Need::kOptional));
  if (in.ok() && agency->role() == v1::AGENCY_ROLE_AGENCY_SYSTEM &&
      agency->sector() == v1::SECTOR_UNSPECIFIED) {
    in.Fail(absl::StrCat("--sector is required with --role agency-system: ",
                         cli::EnumChoices<v1::Sector>()));
  }
  req.set_request_id(in.RequestId());
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::CreateAgencyResponse resp;
  return in.Finish(
      c->CreateAgency(req, &resp), resp, [](const v1::CreateAgencyResponse& r) {
        Print(absl::StrCat("Registered ", r.agency().name(),
                           "; its client certificate must carry the URI SAN ",
                           r.agency().certificate_identity(), "."));
        PrintAgency(r.agency());
      });
}

int AgencyGet(Invocation& in) {
  v1::GetAgencyRequest req;
  req.set_name(in.Agency("--id", Need::kRequired));
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::GetAgencyResponse resp;
  return in.Finish(
      c->GetAgency(req, &resp), resp,
      [](const v1::GetAgencyResponse& r) { PrintAgency(r.agency()); });
}

int AgencyList(Invocation& in) {
  v1::ListAgenciesRequest req;
  req.set_state(in.Enum<v1::AgencyState>("--state", Need::kOptional));
  req.set_sector(in.Enum<v1::Sector>("--sector", Need::kOptional));
  in.Paging(&req);
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::ListAgenciesResponse resp;
  return in.Finish(c->ListAgencies(req, &resp), resp,
                   [](const v1::ListAgenciesResponse& r) {
                     if (r.agencies_size() == 0) Print("No agencies.");
                     for (const v1::Agency& a : r.agencies()) {
                       PrintAgencyLine(a);
                     }
                     PrintMore(r.next_page_token());
                   });
}

int AgencyDisable(Invocation& in) {
  v1::DisableAgencyRequest req;
  req.set_name(in.Agency("--id", Need::kRequired));
  req.set_reason(in.Text("--reason", Need::kRequired));
  req.set_request_id(in.RequestId());
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::DisableAgencyResponse resp;
  return in.Finish(c->DisableAgency(req, &resp), resp,
                   [](const v1::DisableAgencyResponse& r) {
                     Print(
                         "Disabled; its certificate is refused from now on. "
                         "Its data and history stay.");
                     PrintAgency(r.agency());
                   });
}

// ---------------------------------------------------------------------------
// admin grant.

int GrantRevoke(Invocation& in) {
  v1::RevokeGrantRequest req;
  req.set_name(in.Name("--grant", "grants", Need::kRequired));
  req.set_reason(in.Text("--reason", Need::kRequired));
  in.EvidenceFlag("--evidence", Need::kOptional, req.mutable_evidence());
  if (!in.Given("--evidence")) req.clear_evidence();
  req.set_request_id(in.RequestId());
  const std::string receipt_out = ReceiptOutFlag(in);
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::RevokeGrantResponse resp;
  return FinishWithReceipt(
      in, c->RevokeGrant(req, &resp), resp, receipt_out,
      [](const v1::RevokeGrantResponse& r) {
        Print("Revoked; no decision relies on the grant from now on.");
        PrintGrant(r.grant());
      });
}

int GrantVoid(Invocation& in) {
  v1::VoidGrantRequest req;
  req.set_name(in.Name("--grant", "grants", Need::kRequired));
  req.set_reason(in.Text("--reason", Need::kRequired));
  req.set_request_id(in.RequestId());
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::VoidGrantResponse resp;
  return in.Finish(c->VoidGrant(req, &resp), resp,
                   [](const v1::VoidGrantResponse& r) {
                     Print(
                         "Voided; the grant stays in the history but never "
                         "counts, not even for the time before.");
                     PrintGrant(r.grant());
                   });
}

int GrantExpire(Invocation& in) {
  v1::ExpireGrantsRequest req;
  req.set_request_id(in.RequestId());
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::ExpireGrantsResponse resp;
  return in.Finish(
      c->ExpireGrants(req, &resp), resp, [](const v1::ExpireGrantsResponse& r) {
        Print(absl::StrCat("Marked ", r.expired_count(),
                           r.expired_count() == 1 ? " grant" : " grants",
                           " whose period has ended as expired."));
      });
}

int GrantExpiring(Invocation& in) {
  v1::ListExpiringGrantsRequest req;
  if (std::optional<int64_t> days =
          in.Int("--within-days", 1, 366, Need::kRequired)) {
    req.set_within_days(static_cast<int32_t>(*days));
  }
  in.Paging(&req);
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::ListExpiringGrantsResponse resp;
  return in.Finish(
      c->ListExpiringGrants(req, &resp), resp,
      [](const v1::ListExpiringGrantsResponse& r) { PrintGrants(r); });
}

}  // namespace

void AddAdminCommands(std::vector<Command>* commands) {
  std::vector<Command> table{
      // --- admin agency ---
      {"admin agency",
       "create",
       "register an agency and its role",
       "Registers an agency (administrators only). Its client certificate "
       "must carry the\nURI SAN urn:samplan:agency:ID; the role decides what "
       "it may call: agency-system\n(a case system: plans and consent), "
       "auditor (the audit log) or administrator.\nThe id is 2-63 characters "
       "of a-z 0-9 - and can never be used again.",
       {
           {"--id", "ID", Need::kRequired, "the new agency's id, e.g. bup-2"},
           {"--display-name", "TEXT", Need::kRequired,
            "its name for people, e.g. \"BUP Norra\""},
           {"--role", "ROLE", Need::kRequired,
            "agency-system, auditor or administrator"},
           {"--sector", "SECTOR", Need::kOptional,
            "school, social-services or healthcare (required\n"
            "                              for agency-system)"},
       },
       "samplanctl admin agency create --id bup-2 --display-name \"BUP "
       "Norra\" \\\n      --role agency-system --sector healthcare",
       AgencyCreate,
       true},
      {"admin agency",
       "get",
       "show one agency",
       "Shows one registered agency: name, role, sector, state and the "
       "certificate\nidentity it must present.",
       {{"--id", "ID", Need::kRequired, "the agency's id or agencies/ID"}},
       "samplanctl admin agency get --id bup-1",
       AgencyGet,
       false},
      {"admin agency", "list", "list the registered agencies",
       "Lists the registered agencies, by id.",
       WithPaging({
           {"--state", "STATE", Need::kOptional, "only active or disabled"},
           {"--sector", "SECTOR", Need::kOptional,
            "only school, social-services or healthcare"},
       }),
       "samplanctl admin agency list --state active --sector school",
       AgencyList, false},
      {"admin agency",
       "disable",
       "refuse an agency's certificate from now on",
       "Disables an agency: from the moment the call returns, its calls are "
       "refused\n(AGENCY_DISABLED). Its data and history stay. The id is "
       "never reused.",
       {
           {"--id", "ID", Need::kRequired, "the agency's id or agencies/ID"},
           {"--reason", "TEXT", Need::kRequired, "why, for the audit log"},
       },
       "samplanctl admin agency disable --id school-9 --reason \"The school "
       "closed\"",
       AgencyDisable,
       true},
      // --- admin grant ---
      {"admin grant",
       "revoke",
       "revoke a consent, e.g. at the person's request",
       "Revokes a grant, for example when the person asked the administrator "
       "rather\nthan an agency. It takes effect at once: once the call "
       "returns, no decision\nrelies on the grant. Find the grant with "
       "samplanctl grant search. The reason\nmust not contain an identity "
       "number. The answer carries the family's receipt of\nthe revocation; "
       "--receipt-out saves it.",
       {
           {"--grant", "ID", Need::kRequired, "its id or grants/ID"},
           {"--reason", "TEXT", Need::kRequired, "why it is revoked"},
           {"--evidence", "KIND[:REF]", Need::kOptional,
            "where the person's request is documented"},
           {"--receipt-out", "FILE", Need::kOptional,
            "save the receipt of the revocation to FILE"},
       },
       "samplanctl admin grant revoke --grant g7h8j9k0g7h8j9k0 \\\n"
       "      --reason \"Asked the registry by phone\" \\\n"
       "      --evidence recorded-at-meeting:dnr-2026-201",
       GrantRevoke,
       true},
      {"admin grant",
       "void",
       "mark a misregistered consent void",
       "Marks a grant that was registered by mistake void: it stays in the "
       "history but\nnever counts, not even for the time before. The reason "
       "must not contain an\nidentity number.",
       {
           {"--grant", "ID", Need::kRequired, "its id or grants/ID"},
           {"--reason", "TEXT", Need::kRequired,
            "what was wrong with the registration"},
       },
       "samplanctl admin grant void --grant g7h8j9k0g7h8j9k0 \\\n"
       "      --reason \"Registered for the wrong child\"",
       GrantVoid,
       true},
      {"admin grant",
       "expire",
       "mark ended consents as expired now",
       "Marks every active grant whose period has ended as expired, now, and "
       "logs one\nevent each; prints how many. The server's sweeper does the "
       "same on a schedule.",
       {},
       "samplanctl admin grant expire",
       GrantExpire,
       true},
      {"admin grant", "expiring", "list consents that end soon",
       "Lists the active grants whose period ends within the given number of "
       "days,\nin grant id order.",
       WithPaging({
           {"--within-days", "N", Need::kRequired,
            "the horizon in days from now, 1-366"},
       }),
       "samplanctl admin grant expiring --within-days 30", GrantExpiring,
       false},
  };
  for (Command& command : table) commands->push_back(std::move(command));
}

}  // namespace samplan::client::ctl
