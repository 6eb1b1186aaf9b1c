// samplanctl's ConsentService commands: custody, representation, grant and
// access.

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "client/cli.h"
#include "client/client.h"
#include "client/samplanctl.h"
#include "samplan/v1/common.pb.h"
#include "samplan/v1/consent.pb.h"

namespace samplan::client::ctl {
namespace {

using cli::EnumCode;
using cli::EnumLabel;

// ---------------------------------------------------------------------------
// Human-readable output.

std::string PeriodText(const google::protobuf::Timestamp& from, bool has_until,
                       const google::protobuf::Timestamp& until) {
  return absl::StrCat(When(from), " until ",
                      has_until ? When(until) : "further notice");
}

void PrintCustodyFact(const v1::CustodyFact& f) {
  Print(absl::StrCat("Custody ", f.name()));
  Print(absl::StrCat("  child:      ", f.subject()));
  Print(absl::StrCat("  guardian:   ", f.guardian_identity_number()));
  Print(absl::StrCat(
      "  period:     ",
      PeriodText(f.valid_from(), f.has_valid_until(), f.valid_until())));
  Print(absl::StrCat("  evidence:   ", EvidenceText(f.evidence())));
  Print(absl::StrCat("  recorded:   ", When(f.create_time()), " by ",
                     f.recorded_by_agency(), " (", f.recorded_by_actor(), ")"));
}

void PrintRepresentation(const v1::Representation& r) {
  Print(absl::StrCat("Representation ", r.name()));
  Print(absl::StrCat("  adult:          ", r.subject()));
  Print(absl::StrCat("  representative: ", r.representative_identity_number(),
                     " (", EnumLabel(r.kind()), ")"));
  Print(absl::StrCat("  consent:        ",
                     r.remit_covers_consent()
                         ? "the remit covers consenting to disclosure"
                         : "the remit does NOT cover consent"));
  Print(absl::StrCat(
      "  period:         ",
      PeriodText(r.valid_from(), r.has_valid_until(), r.valid_until())));
  Print(absl::StrCat("  evidence:       ", EvidenceText(r.evidence())));
  Print(absl::StrCat("  recorded:       ", When(r.create_time()), " by ",
                     r.recorded_by_agency(), " (", r.recorded_by_actor(), ")"));
}

// "agencies/bup-1, sector healthcare"
std::string ScopeSide(
    const google::protobuf::RepeatedPtrField<std::string>& agencies,
    const google::protobuf::RepeatedField<int>& sectors) {
  std::vector<std::string> parts(agencies.begin(), agencies.end());
  for (int sector : sectors) {
    parts.push_back(
        absl::StrCat("sector ", EnumLabel(static_cast<v1::Sector>(sector))));
  }
  return parts.empty() ? "-" : absl::StrJoin(parts, ", ");
}

std::string ScopeText(const v1::GrantScope& scope) {
  std::vector<std::string> categories;
  for (int category : scope.categories()) {
    categories.push_back(
        EnumLabel(static_cast<v1::InformationCategory>(category)));
  }
  return absl::StrCat(
      absl::StrJoin(categories, ","), " from ",
      ScopeSide(scope.disclosing_agencies(), scope.disclosing_sectors()),
      " to ", ScopeSide(scope.receiving_agencies(), scope.receiving_sectors()),
      scope.plan().empty() ? ", any plan"
                           : absl::StrCat(", only ", scope.plan()));
}

void PrintCheckAccess(const v1::CheckAccessResponse& r) {
  std::vector<std::string> reasons;
  for (int reason : r.reasons()) {
    reasons.push_back(EnumCode(static_cast<v1::DecisionReason>(reason)));
  }
  std::string line =
      absl::StrCat(r.decision() == v1::DECISION_ALLOW ? "ALLOW" : "DENY", " (",
                   absl::StrJoin(reasons, ", "), ")");
  if (r.decision() == v1::DECISION_ALLOW && r.grants_size() > 0) {
    absl::StrAppend(&line, " relying on ", absl::StrJoin(r.grants(), ", "));
  }
  absl::StrAppend(&line, ": ", r.explanation());
  Print(line);
}

// ---------------------------------------------------------------------------
// ConsentService commands.

int CustodyCreate(Invocation& in) {
  v1::CreateCustodyFactRequest req;
  v1::CustodyFact* fact = req.mutable_custody_fact();
  fact->set_subject(in.Pnr("--subject", Need::kRequired));
  fact->set_guardian_identity_number(in.Pnr("--guardian", Need::kRequired));
  in.Instant("--from", Need::kRequired, fact->mutable_valid_from());
  in.Instant("--until", Need::kOptional, fact->mutable_valid_until());
  if (!in.Given("--until")) fact->clear_valid_until();
  in.EvidenceFlag("--evidence", Need::kRequired, fact->mutable_evidence());
  req.set_request_id(in.RequestId());
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::CreateCustodyFactResponse resp;
  return in.Finish(c->CreateCustodyFact(req, &resp), resp,
                   [](const v1::CreateCustodyFactResponse& r) {
                     PrintCustodyFact(r.custody_fact());
                   });
}

int CustodyGet(Invocation& in) {
  v1::GetCustodyFactRequest req;
  req.set_name(in.Name("--custody", "custodyFacts", Need::kRequired));
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::GetCustodyFactResponse resp;
  return in.Finish(c->GetCustodyFact(req, &resp), resp,
                   [](const v1::GetCustodyFactResponse& r) {
                     PrintCustodyFact(r.custody_fact());
                   });
}

int CustodySearch(Invocation& in) {
  v1::SearchCustodyFactsRequest req;
  req.set_subject(in.Pnr("--subject", Need::kRequired));
  in.Paging(&req);
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::SearchCustodyFactsResponse resp;
  return in.Finish(c->SearchCustodyFacts(req, &resp), resp,
                   [](const v1::SearchCustodyFactsResponse& r) {
                     if (r.custody_facts_size() == 0)
                       Print("No custody facts.");
                     for (const v1::CustodyFact& f : r.custody_facts()) {
                       PrintCustodyFact(f);
                     }
                     PrintMore(r.next_page_token());
                   });
}

int CustodyEnd(Invocation& in) {
  v1::EndCustodyFactRequest req;
  req.set_name(in.Name("--custody", "custodyFacts", Need::kRequired));
  in.Instant("--until", Need::kOptional, req.mutable_end_time());
  if (!in.Given("--until")) req.clear_end_time();
  in.EvidenceFlag("--evidence", Need::kRequired, req.mutable_evidence());
  req.set_request_id(in.RequestId());
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::EndCustodyFactResponse resp;
  return in.Finish(c->EndCustodyFact(req, &resp), resp,
                   [](const v1::EndCustodyFactResponse& r) {
                     PrintCustodyFact(r.custody_fact());
                   });
}

int RepresentationCreate(Invocation& in) {
  v1::CreateRepresentationRequest req;
  v1::Representation* r = req.mutable_representation();
  r->set_subject(in.Pnr("--subject", Need::kRequired));
  r->set_representative_identity_number(
      in.Pnr("--representative", Need::kRequired));
  r->set_kind(in.Enum<v1::RepresentationKind>("--kind", Need::kRequired));
  r->set_remit_covers_consent(in.Given("--remit-covers-consent"));
  in.Instant("--from", Need::kRequired, r->mutable_valid_from());
  in.Instant("--until", Need::kOptional, r->mutable_valid_until());
  if (!in.Given("--until")) r->clear_valid_until();
  in.EvidenceFlag("--evidence", Need::kRequired, r->mutable_evidence());
  req.set_request_id(in.RequestId());
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::CreateRepresentationResponse resp;
  return in.Finish(c->CreateRepresentation(req, &resp), resp,
                   [](const v1::CreateRepresentationResponse& out) {
                     PrintRepresentation(out.representation());
                   });
}

int RepresentationGet(Invocation& in) {
  v1::GetRepresentationRequest req;
  req.set_name(in.Name("--representation", "representations", Need::kRequired));
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::GetRepresentationResponse resp;
  return in.Finish(c->GetRepresentation(req, &resp), resp,
                   [](const v1::GetRepresentationResponse& out) {
                     PrintRepresentation(out.representation());
                   });
}

int RepresentationSearch(Invocation& in) {
  v1::SearchRepresentationsRequest req;
  req.set_subject(in.Pnr("--subject", Need::kRequired));
  in.Paging(&req);
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::SearchRepresentationsResponse resp;
  return in.Finish(c->SearchRepresentations(req, &resp), resp,
                   [](const v1::SearchRepresentationsResponse& out) {
                     if (out.representations_size() == 0) {
                       Print("No representations.");
                     }
                     for (const v1::Representation& r : out.representations()) {
                       PrintRepresentation(r);
                     }
                     PrintMore(out.next_page_token());
                   });
}

int RepresentationEnd(Invocation& in) {
  v1::EndRepresentationRequest req;
  req.set_name(in.Name("--representation", "representations", Need::kRequired));
  in.Instant("--until", Need::kOptional, req.mutable_end_time());
  if (!in.Given("--until")) req.clear_end_time();
  in.EvidenceFlag("--evidence", Need::kRequired, req.mutable_evidence());
  req.set_request_id(in.RequestId());
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::EndRepresentationResponse resp;
  return in.Finish(c->EndRepresentation(req, &resp), resp,
                   [](const v1::EndRepresentationResponse& out) {
                     PrintRepresentation(out.representation());
                   });
}

int GrantCreate(Invocation& in) {
  v1::CreateGrantRequest req;
  v1::Grant* grant = req.mutable_grant();
  grant->set_subject(in.Pnr("--subject", Need::kRequired));
  grant->set_grantor_role(
      in.Enum<v1::GrantorRole>("--grantor-role", Need::kRequired));
  std::string grantor = in.Pnr("--grantor", Need::kOptional);
  if (grantor.empty() && grant->grantor_role() == v1::GRANTOR_ROLE_SUBJECT) {
    grantor = grant->subject();
  } else if (grantor.empty() && in.ok()) {
    in.Fail(
        "--grantor is required (the identity number of the person who "
        "consents), unless --grantor-role is subject");
  }
  grant->set_grantor_identity_number(grantor);
  v1::GrantScope* scope = grant->mutable_scope();
  for (const std::string& agency : in.Agencies("--disclosing-agency")) {
    scope->add_disclosing_agencies(agency);
  }
  for (v1::Sector sector :
       in.Enums<v1::Sector>("--disclosing-sector", Need::kOptional)) {
    scope->add_disclosing_sectors(sector);
  }
  for (const std::string& agency : in.Agencies("--receiving-agency")) {
    scope->add_receiving_agencies(agency);
  }
  for (v1::Sector sector :
       in.Enums<v1::Sector>("--receiving-sector", Need::kOptional)) {
    scope->add_receiving_sectors(sector);
  }
  for (v1::InformationCategory category :
       in.Enums<v1::InformationCategory>("--category", Need::kRequired)) {
    scope->add_categories(category);
  }
  scope->set_plan(in.PlanName(Need::kOptional));
  if (in.ok() && scope->disclosing_agencies_size() == 0 &&
      scope->disclosing_sectors_size() == 0) {
    in.Fail(
        "give who may disclose: --disclosing-agency ID or "
        "--disclosing-sector SECTOR");
  }
  if (in.ok() && scope->receiving_agencies_size() == 0 &&
      scope->receiving_sectors_size() == 0) {
    in.Fail(
        "give who may receive: --receiving-agency ID or "
        "--receiving-sector SECTOR");
  }
  in.Instant("--from", Need::kOptional, grant->mutable_valid_from());
  if (!in.Given("--from")) grant->clear_valid_from();
  in.Instant("--until", Need::kRequired, grant->mutable_valid_until());
  in.EvidenceFlag("--evidence", Need::kRequired, grant->mutable_evidence());
  req.set_request_id(in.RequestId());
  const std::string receipt_out = ReceiptOutFlag(in);
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::CreateGrantResponse resp;
  return FinishWithReceipt(
      in, c->CreateGrant(req, &resp), resp, receipt_out,
      [](const v1::CreateGrantResponse& r) { PrintGrant(r.grant()); });
}

int GrantGet(Invocation& in) {
  v1::GetGrantRequest req;
  req.set_name(in.Name("--grant", "grants", Need::kRequired));
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::GetGrantResponse resp;
  return in.Finish(
      c->GetGrant(req, &resp), resp,
      [](const v1::GetGrantResponse& r) { PrintGrant(r.grant()); });
}

int GrantList(Invocation& in) {
  v1::ListGrantsRequest req;
  req.set_plan(in.PlanName(Need::kRequired));
  req.set_state(in.Enum<v1::GrantState>("--state", Need::kOptional));
  in.Paging(&req);
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::ListGrantsResponse resp;
  return in.Finish(c->ListGrants(req, &resp), resp,
                   [](const v1::ListGrantsResponse& r) { PrintGrants(r); });
}

int GrantSearch(Invocation& in) {
  v1::SearchGrantsRequest req;
  req.set_subject(in.Pnr("--subject", Need::kRequired));
  req.set_state(in.Enum<v1::GrantState>("--state", Need::kOptional));
  in.Paging(&req);
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::SearchGrantsResponse resp;
  return in.Finish(c->SearchGrants(req, &resp), resp,
                   [](const v1::SearchGrantsResponse& r) { PrintGrants(r); });
}

int GrantWithdraw(Invocation& in) {
  v1::WithdrawGrantRequest req;
  req.set_name(in.Name("--grant", "grants", Need::kRequired));
  req.set_withdrawer_role(
      in.Enum<v1::GrantorRole>("--withdrawer-role", Need::kRequired));
  req.set_withdrawer_identity_number(in.Pnr("--withdrawer", Need::kRequired));
  in.EvidenceFlag("--evidence", Need::kRequired, req.mutable_evidence());
  req.set_reason(in.Text("--reason", Need::kOptional));
  req.set_request_id(in.RequestId());
  const std::string receipt_out = ReceiptOutFlag(in);
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::WithdrawGrantResponse resp;
  return FinishWithReceipt(
      in, c->WithdrawGrant(req, &resp), resp, receipt_out,
      [](const v1::WithdrawGrantResponse& r) {
        Print("Withdrawn; no decision relies on the grant from now on.");
        PrintGrant(r.grant());
      });
}

int AccessCheck(Invocation& in) {
  v1::CheckAccessRequest req;
  const std::string plan = in.PlanName(Need::kOptional);
  const std::string subject = in.Pnr("--subject", Need::kOptional);
  if (!plan.empty() && !subject.empty()) {
    in.Fail("give --plan or --subject, not both");
  } else if (!plan.empty()) {
    req.set_plan(plan);
  } else if (!subject.empty()) {
    req.set_subject(subject);
  } else if (in.ok()) {
    in.Fail("give --plan ID (a plan you take part in) or --subject PNR");
  }
  req.set_owner_agency(in.Agency("--owner", Need::kRequired));
  req.set_receiving_agency(in.Agency("--reader", Need::kOptional));
  req.set_category(
      in.Enum<v1::InformationCategory>("--category", Need::kRequired));
  in.Instant("--at", Need::kOptional, req.mutable_time());
  if (!in.Given("--at")) req.clear_time();
  const bool fail_on_deny = in.Given("--fail-on-deny");
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::CheckAccessResponse resp;
  const int code =
      in.Finish(c->CheckAccess(req, &resp), resp, PrintCheckAccess);
  if (code == cli::kExitOk && fail_on_deny &&
      resp.decision() != v1::DECISION_ALLOW) {
    return cli::kExitDenied;
  }
  return code;
}

}  // namespace

void PrintGrant(const v1::Grant& g) {
  Print(absl::StrCat("Grant ", g.name(), " (", EnumCode(g.state()), ")"));
  Print(absl::StrCat("  subject:   ", g.subject()));
  Print(absl::StrCat("  grantor:   ", EnumLabel(g.grantor_role()), " ",
                     g.grantor_identity_number()));
  Print(absl::StrCat("  scope:     ", ScopeText(g.scope())));
  Print(absl::StrCat(
      "  period:    ",
      PeriodText(g.valid_from(), g.has_valid_until(), g.valid_until())));
  Print(absl::StrCat("  evidence:  ", EvidenceText(g.evidence())));
  Print(absl::StrCat("  recorded:  ", When(g.create_time()), " by ",
                     g.recorded_by_agency(), " (", g.recorded_by_actor(), ")"));
  if (g.has_end_time()) {
    std::string ended = When(g.end_time());
    if (!g.withdrawer_identity_number().empty()) {
      absl::StrAppend(&ended, ", withdrawn by ",
                      g.withdrawer_identity_number());
    }
    if (!g.end_reason().empty()) absl::StrAppend(&ended, ": ", g.end_reason());
    if (g.has_withdrawal_evidence()) {
      absl::StrAppend(&ended, " (", EvidenceText(g.withdrawal_evidence()), ")");
    }
    Print(absl::StrCat("  ended:     ", ended));
  }
}

void PrintGrantLine(const v1::Grant& g) {
  Print(absl::StrCat(
      g.name(), "  ", EnumCode(g.state()), "  ", EnumLabel(g.grantor_role()),
      " ", g.grantor_identity_number(), "  ", ScopeText(g.scope()), "  ",
      When(g.valid_from()), " until ", When(g.valid_until())));
}

void AddConsentCommands(std::vector<Command>* commands) {
  std::vector<Command> table{
      // --- custody ---
      {"custody",
       "create",
       "record that a guardian has custody of a child",
       "Records that a guardian has custody (vardnad) of a child from a given "
       "time.",
       {
           {"--subject", "PNR", Need::kRequired, "the child"},
           {"--guardian", "PNR", Need::kRequired, "the guardian"},
           {"--from", "TIME", Need::kRequired, "start of custody"},
           {"--until", "TIME", Need::kOptional,
            "end of custody, exclusive (default: open-ended)"},
           {"--evidence", "KIND[:REF]", Need::kRequired,
            "usually register-extract:REF or court-decision:REF"},
       },
       "samplanctl custody create --subject 20160510-2381 --guardian "
       "19800101-1234 \\\n      --from 2016-05-10 --evidence "
       "register-extract:navet-2026-0042",
       CustodyCreate,
       true},
      {"custody",
       "get",
       "show one custody fact",
       "Shows one custody fact.",
       {{"--custody", "ID", Need::kRequired, "its id or custodyFacts/ID"}},
       "samplanctl custody get --custody c1x2y3z4c1x2y3z4",
       CustodyGet,
       false},
      {"custody", "search", "list the custody facts about a child",
       "Lists the custody facts about one child, newest first.",
       WithPaging({{"--subject", "PNR", Need::kRequired, "the child"}}),
       "samplanctl custody search --subject 20160510-2381", CustodySearch,
       false},
      {"custody",
       "end",
       "record that a custody ended",
       "Records when a custody ended (its valid_until).",
       {
           {"--custody", "ID", Need::kRequired, "its id or custodyFacts/ID"},
           {"--until", "TIME", Need::kOptional,
            "when it ended, exclusive (default: now)"},
           {"--evidence", "KIND[:REF]", Need::kRequired,
            "where the end is documented"},
       },
       "samplanctl custody end --custody c1x2y3z4c1x2y3z4 --until 2026-05-01 "
       "\\\n      --evidence court-decision:T-1234-26",
       CustodyEnd,
       true},
      // --- representation ---
      {"representation",
       "create",
       "record that an adult has a legal representative",
       "Records that an adult has a legal representative (god man, "
       "forvaltare), and\nwhether the remit covers consenting to disclosure "
       "(--remit-covers-consent).",
       {
           {"--subject", "PNR", Need::kRequired, "the represented adult"},
           {"--representative", "PNR", Need::kRequired, "the representative"},
           {"--kind", "KIND", Need::kRequired, "god-man, forvaltare or other"},
           {"--remit-covers-consent", "", Need::kOptional,
            "the remit covers consent (default: it does not)"},
           {"--from", "TIME", Need::kRequired, "start"},
           {"--until", "TIME", Need::kOptional,
            "end, exclusive (default: open-ended)"},
           {"--evidence", "KIND[:REF]", Need::kRequired,
            "usually court-decision:REF"},
       },
       "samplanctl representation create --subject 19990101-1234 "
       "--representative 19700101-1234 \\\n      --kind god-man "
       "--remit-covers-consent --from 2026-01-15 "
       "--evidence court-decision:OFN-77",
       RepresentationCreate,
       true},
      {"representation",
       "get",
       "show one representation",
       "Shows one representation.",
       {{"--representation", "ID", Need::kRequired,
         "its id or representations/ID"}},
       "samplanctl representation get --representation r1s2t3u4r1s2t3u4",
       RepresentationGet,
       false},
      {"representation", "search", "list the representations of an adult",
       "Lists the representations of one adult, newest first.",
       WithPaging({{"--subject", "PNR", Need::kRequired, "the adult"}}),
       "samplanctl representation search --subject 19990101-1234",
       RepresentationSearch, false},
      {"representation",
       "end",
       "record that a representation ended",
       "Records when a representation ended.",
       {
           {"--representation", "ID", Need::kRequired,
            "its id or representations/ID"},
           {"--until", "TIME", Need::kOptional,
            "when it ended, exclusive (default: now)"},
           {"--evidence", "KIND[:REF]", Need::kRequired,
            "where the end is documented"},
       },
       "samplanctl representation end --representation r1s2t3u4r1s2t3u4 "
       "--evidence court-decision:OFN-91",
       RepresentationEnd,
       true},
      // --- grant ---
      {"grant",
       "create",
       "record a consent (samtycke)",
       "Records a consent: who consents for whom, which agencies (or sectors) "
       "may\ndisclose which categories to which agencies (or sectors), "
       "optionally within one\nplan, for which period. The grantor must be "
       "competent now: a guardian with\ncustody while the child is under 15, "
       "the child from 15, for adults the person or\na representative whose "
       "remit covers consent. The period may be at most the\nconfigured "
       "maximum (default 12 months). The answer carries the family's signed "
       "receipt;\n--receipt-out saves it (receipt verify checks it).",
       {
           {"--subject", "PNR", Need::kRequired,
            "whom the information is about"},
           {"--grantor-role", "ROLE", Need::kRequired,
            "subject, guardian or legal-representative"},
           {"--grantor", "PNR", Need::kOptional,
            "who consents (default: the subject, for role subject)"},
           {"--disclosing-agency", "ID", Need::kOptional,
            "an agency that may disclose; repeat or comma list"},
           {"--disclosing-sector", "SECTOR", Need::kOptional,
            "school, social-services or healthcare; repeatable"},
           {"--receiving-agency", "ID", Need::kOptional,
            "an agency that may receive; repeatable"},
           {"--receiving-sector", "SECTOR", Need::kOptional,
            "a sector whose agencies may receive; repeatable"},
           {"--category", "CATEGORY", Need::kRequired,
            "what may be disclosed; repeat or comma list"},
           {"--plan", "ID", Need::kOptional,
            "only within this plan (default: any plan about the subject)"},
           {"--from", "TIME", Need::kOptional, "start (default: now)"},
           {"--until", "TIME", Need::kRequired, "end, exclusive"},
           {"--evidence", "KIND[:REF]", Need::kRequired,
            "where the consent is documented"},
           {"--receipt-out", "FILE", Need::kOptional,
            "save the family's receipt (JSON) to FILE"},
       },
       "samplanctl grant create --subject 20160510-2381 --grantor-role "
       "guardian \\\n      --grantor 19800101-1234 --disclosing-sector "
       "healthcare --receiving-sector school \\\n      --category "
       "needs,interventions --from 2026-06-01 --until 2027-06-01 \\\n"
       "      --evidence signed-form:dnr-2026-115",
       GrantCreate,
       true},
      {"grant",
       "get",
       "show one grant and its state",
       "Shows one grant with its scope, period and state.",
       {{"--grant", "ID", Need::kRequired, "its id or grants/ID"}},
       "samplanctl grant get --grant g7h8j9k0g7h8j9k0",
       GrantGet,
       false},
      {"grant", "list", "list the grants that matter within a plan",
       "Lists the grants about the plan's subject whose scope names that plan "
       "or no\nplan, newest first.",
       WithPaging({
           {"--plan", "ID", Need::kRequired, "the plan"},
           {"--state", "STATE", Need::kOptional,
            "only active, withdrawn, revoked, expired or void grants"},
       }),
       "samplanctl grant list --plan k3v9x2m4q8w1z7r5 --state active",
       GrantList, false},
      {"grant", "search", "list the grants about a person",
       "Lists the grants about one person, newest first.",
       WithPaging({
           {"--subject", "PNR", Need::kRequired, "the person"},
           {"--state", "STATE", Need::kOptional,
            "only active, withdrawn, revoked, expired or void grants"},
       }),
       "samplanctl grant search --subject 20160510-2381 --state active",
       GrantSearch, false},
      {"grant",
       "withdraw",
       "record that a person withdrew a consent",
       "Records that a person withdrew a grant. It takes effect at once: once "
       "the call\nreturns, no decision relies on the grant. The answer "
       "carries the receipt of\nthe withdrawal; --receipt-out saves it.",
       {
           {"--grant", "ID", Need::kRequired, "its id or grants/ID"},
           {"--withdrawer", "PNR", Need::kRequired, "who withdraws"},
           {"--withdrawer-role", "ROLE", Need::kRequired,
            "subject, guardian or legal-representative"},
           {"--evidence", "KIND[:REF]", Need::kRequired,
            "where the withdrawal is documented"},
           {"--reason", "TEXT", Need::kOptional,
            "the person's reason, if they gave one"},
           {"--receipt-out", "FILE", Need::kOptional,
            "save the receipt of the withdrawal to FILE"},
       },
       "samplanctl grant withdraw --grant g7h8j9k0g7h8j9k0 --withdrawer "
       "19800101-1234 \\\n      --withdrawer-role guardian --evidence "
       "signed-form:dnr-2026-130",
       GrantWithdraw,
       true},
      // --- access ---
      {"access",
       "check",
       "explain whether a disclosure would be allowed",
       "Explains whether information of one category, owned by one agency, "
       "may be shown\nto another agency (default: yours), now or at --at: "
       "ALLOW or DENY, the reasons,\nthe grants relied on and a plain "
       "explanation. Reads no plan content; the check\nis written to the "
       "audit log. Your agency must be the owner or the reader, and\nsee "
       "the plan (or, with --subject, a plan about the person); --at is at "
       "most\n10 years away. A DENY answer is a successful call (exit 0) "
       "unless\n--fail-on-deny is given.",
       {
           {"--plan", "ID", Need::kOptional, "the plan (or give --subject)"},
           {"--subject", "PNR", Need::kOptional,
            "the person, without a plan (only consent is evaluated)"},
           {"--owner", "ID", Need::kRequired,
            "the agency that owns the information"},
           {"--reader", "ID", Need::kOptional,
            "the agency that would read it (default: yours)"},
           {"--category", "CATEGORY", Need::kRequired, "the category"},
           {"--at", "TIME", Need::kOptional, "the moment (default: now)"},
           {"--fail-on-deny", "", Need::kOptional,
            "exit 3 when the answer is DENY"},
       },
       "samplanctl access check --plan k3v9x2m4q8w1z7r5 --owner bup-1 "
       "--reader school-1 \\\n      --category health",
       AccessCheck,
       false},
  };
  for (Command& command : table) commands->push_back(std::move(command));
}

}  // namespace samplan::client::ctl
