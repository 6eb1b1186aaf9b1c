// samplanctl's PlanService commands: plan, entry and participant.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/cli.h"
#include "client/client.h"
#include "client/samplanctl.h"
#include "google/protobuf/field_mask.pb.h"
#include "samplan/v1/common.pb.h"
#include "samplan/v1/plan.pb.h"

namespace samplan::client::ctl {
namespace {

using cli::EnumCode;
using cli::EnumLabel;

absl::CivilDay CivilDayOf(const google::type::Date& date) {
  return absl::CivilDay(date.year(), date.month(), date.day());
}

google::type::Date FromCivilDay(absl::CivilDay day) {
  google::type::Date date;
  date.set_year(static_cast<int32_t>(day.year()));
  date.set_month(day.month());
  date.set_day(day.day());
  return date;
}

// ---------------------------------------------------------------------------
// Human-readable output.

std::string Indent(absl::string_view text, absl::string_view indent) {
  return absl::StrCat(
      indent, absl::StrReplaceAll(text, {{"\n", absl::StrCat("\n", indent)}}));
}

std::string CoordinatorText(const v1::Coordinator& c) {
  std::vector<std::string> parts;
  if (!c.display_name().empty()) parts.push_back(c.display_name());
  if (!c.phone().empty()) parts.push_back(c.phone());
  if (!c.email().empty()) parts.push_back(c.email());
  if (!c.agency().empty()) parts.push_back(c.agency());
  return parts.empty() ? "-" : absl::StrJoin(parts, ", ");
}

std::string ReviewText(const v1::ReviewDate& review) {
  std::string out = absl::StrCat(cli::FormatDate(review.date()), " ",
                                 EnumLabel(review.kind()));
  if (!review.description().empty()) {
    absl::StrAppend(&out, ": ", review.description());
  }
  return out;
}

void PrintPlanLine(const v1::Plan& plan) {
  Print(absl::StrCat(plan.name(), "  ", EnumCode(plan.state()), "  revision ",
                     plan.revision(), " (effective ", plan.effective_revision(),
                     ")  subject ", plan.subject(), "  lead ",
                     plan.lead_agency(), "  coordinator ",
                     plan.coordinator().display_name()));
}

// The plan's own fields; `shown_revision` 0 when no revision was chosen.
void PrintPlan(const v1::Plan& plan, int64_t shown_revision) {
  Print(absl::StrCat("Plan ", plan.name(), " (", EnumCode(plan.state()), ")"));
  Print(absl::StrCat(
      "  subject:      ", plan.subject(),
      plan.has_subject_birth_date()
          ? absl::StrCat(" (born ", cli::FormatDate(plan.subject_birth_date()),
                         ")")
          : ""));
  Print(absl::StrCat("  lead agency:  ", plan.lead_agency()));
  std::string revisions;
  if (shown_revision != 0) {
    absl::StrAppend(&revisions, "shown ", shown_revision, "; ");
  }
  absl::StrAppend(&revisions, "newest ", plan.revision(), "; effective ",
                  plan.effective_revision() == 0
                      ? std::string("none (never approved)")
                      : absl::StrCat(plan.effective_revision()));
  Print(absl::StrCat("  revision:     ", revisions));
  Print(absl::StrCat("  coordinator:  ", CoordinatorText(plan.coordinator())));
  for (const v1::ReviewDate& review : plan.review_dates()) {
    Print(absl::StrCat("  review:       ", ReviewText(review)));
  }
  if (plan.has_close_time()) {
    std::string closed = absl::StrCat(When(plan.close_time()), " by ",
                                      EnumLabel(plan.closed_by()));
    if (!plan.closer_identity_number().empty()) {
      absl::StrAppend(&closed, " ", plan.closer_identity_number());
    }
    if (!plan.close_reason().empty()) {
      absl::StrAppend(&closed, ": ", plan.close_reason());
    }
    Print(absl::StrCat("  closed:       ", closed));
  }
  Print(absl::StrCat("  created:      ", When(plan.create_time()), "; changed ",
                     When(plan.update_time())));
  if (!plan.etag().empty())
    Print(absl::StrCat("  etag:         ", plan.etag()));
}

void PrintParticipant(const v1::Participant& p) {
  std::string who;
  if (p.kind() == v1::PARTICIPANT_KIND_AGENCY) {
    who = p.agency();
    if (!p.display_name().empty())
      absl::StrAppend(&who, " (", p.display_name(), ")");
  } else {
    who = p.display_name();
    if (!p.identity_number().empty()) {
      absl::StrAppend(&who, who.empty() ? "" : " ", p.identity_number());
    }
  }
  std::string line = absl::StrCat("  ", EnumLabel(p.kind()), ": ", who);
  if (!p.role_note().empty()) absl::StrAppend(&line, " - ", p.role_note());
  if (p.has_remove_time()) {
    absl::StrAppend(&line, " [removed ", When(p.remove_time()), "]");
  }
  if (!p.name().empty()) absl::StrAppend(&line, "  ", p.name());
  Print(line);
}

void PrintEntry(const v1::Entry& entry) {
  Print(absl::StrCat("  ", entry.owner_agency(), "  ",
                     EnumLabel(entry.category()), "  ", EnumLabel(entry.kind()),
                     "  ", entry.name(), entry.deleted() ? "  [deleted]" : ""));
  Print(Indent(entry.text(), "      "));
  if (entry.has_intervention()) {
    const v1::Intervention& i = entry.intervention();
    std::string line = absl::StrCat(
        "      intervention: ", i.responsible_agency(), ", order ", i.order());
    if (i.has_start_date() || i.has_end_date()) {
      absl::StrAppend(&line, ", ",
                      i.has_start_date() ? cli::FormatDate(i.start_date()) : "",
                      " to ",
                      i.has_end_date() ? cli::FormatDate(i.end_date()) : "");
    }
    Print(line);
  }
  Print(absl::StrCat("      revision ", entry.revision(), ", by ",
                     entry.author().empty() ? "-" : entry.author(), ", ",
                     When(entry.update_time()),
                     entry.etag().empty() ? "" : ", etag ", entry.etag()));
}

void PrintApproval(const v1::Approval& a) {
  Print(absl::StrCat(
      "  revision ", a.revision(), ": ", EnumLabel(a.approver_role()), " ",
      a.approver_identity_number(), ", ", EvidenceText(a.evidence()), ", ",
      When(a.approve_time()), ", recorded by ", a.recorded_by_agency(), " (",
      a.recorded_by_actor(), ")"));
}

void PrintGetPlan(const v1::GetPlanResponse& r) {
  PrintPlan(r.plan(), r.shown_revision());
  Print(absl::StrCat("Participants (", r.participants_size(), "):"));
  for (const v1::Participant& p : r.participants()) PrintParticipant(p);
  Print(absl::StrCat("Entries (", r.entries_size(), "):"));
  for (const v1::Entry& e : r.entries()) PrintEntry(e);
  if (r.withheld_entries_size() > 0) {
    Print(absl::StrCat("Withheld (", r.withheld_entries_size(), "):"));
    for (const v1::WithheldEntry& w : r.withheld_entries()) {
      Print(absl::StrCat("  withheld: ", w.owner_agency(), " ",
                         EnumLabel(w.category()), " (", EnumCode(w.reason()),
                         ")"));
    }
  }
  if (r.approvals_size() > 0) {
    Print("Approvals:");
    for (const v1::Approval& a : r.approvals()) PrintApproval(a);
  }
}

void PrintCreatePlan(const v1::CreatePlanResponse& r) {
  Print(absl::StrCat("Created ", r.plan().name(),
                     " as a draft; it becomes active when approved."));
  PrintPlan(r.plan(), 0);
  Print(absl::StrCat("Participants (", r.participants_size(), "):"));
  for (const v1::Participant& p : r.participants()) PrintParticipant(p);
}

template <typename Response>
void PrintPlans(const Response& r) {
  if (r.plans_size() == 0) Print("No plans.");
  for (const v1::Plan& plan : r.plans()) PrintPlanLine(plan);
  PrintMore(r.next_page_token());
}

void PrintUpdatePlan(const v1::UpdatePlanResponse& r) {
  Print(absl::StrCat("Updated ", r.plan().name(), ": revision ",
                     r.plan().revision(), " awaits approval (plan approve)."));
  PrintPlan(r.plan(), 0);
}

void PrintApprovePlan(const v1::ApprovePlanResponse& r) {
  Print(absl::StrCat("Approved revision ", r.plan().effective_revision(),
                     " of ", r.plan().name(), "; it is now effective."));
  PrintPlan(r.plan(), 0);
  Print("Approvals:");
  for (const v1::Approval& a : r.approvals()) PrintApproval(a);
}

void PrintClosePlan(const v1::ClosePlanResponse& r) {
  Print(absl::StrCat("Closed ", r.plan().name(), "; it stays readable."));
  PrintPlan(r.plan(), 0);
}

template <typename Response>
void PrintEntryResponse(absl::string_view verb, const Response& r) {
  Print(absl::StrCat(verb, " ", r.entry().name(), " (plan revision ",
                     r.entry().revision(), "):"));
  PrintEntry(r.entry());
}

template <typename Response>
void PrintParticipantResponse(absl::string_view verb, const Response& r) {
  Print(absl::StrCat(verb, ":"));
  PrintParticipant(r.participant());
}

void PrintReviews(const v1::ListUpcomingReviewsResponse& r) {
  if (r.reviews_size() == 0) Print("No reviews in that period.");
  for (const v1::UpcomingReview& u : r.reviews()) {
    Print(absl::StrCat(cli::FormatDate(u.review().date()), "  ",
                       EnumLabel(u.review().kind()), "  ", u.plan(),
                       "  subject ", u.subject(), "  lead ", u.lead_agency(),
                       u.review().description().empty() ? "" : "  ",
                       u.review().description()));
  }
  PrintMore(r.next_page_token());
}

// ---------------------------------------------------------------------------
// PlanService commands.

int PlanCreate(Invocation& in) {
  v1::CreatePlanRequest req;
  v1::Plan* plan = req.mutable_plan();
  plan->set_subject(in.Pnr("--subject", Need::kRequired));
  v1::Coordinator* coordinator = plan->mutable_coordinator();
  coordinator->set_display_name(in.Text("--coordinator-name", Need::kRequired));
  coordinator->set_phone(in.Text("--coordinator-phone", Need::kOptional));
  coordinator->set_email(in.Text("--coordinator-email", Need::kOptional));
  coordinator->set_agency(in.Agency("--coordinator-agency", Need::kOptional));
  for (v1::ReviewDate& review : in.Reviews("--review")) {
    *plan->add_review_dates() = std::move(review);
  }
  for (const std::string& agency : in.Agencies("--invite-agency")) {
    v1::Participant* participant = req.add_participants();
    participant->set_kind(v1::PARTICIPANT_KIND_AGENCY);
    participant->set_agency(agency);
  }
  req.set_request_id(in.RequestId());
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::CreatePlanResponse resp;
  return in.Finish(c->CreatePlan(req, &resp), resp, PrintCreatePlan);
}

int PlanGet(Invocation& in) {
  v1::GetPlanRequest req;
  req.set_name(in.PlanName(Need::kRequired));
  req.set_view(in.Enum<v1::PlanView>("--view", Need::kOptional));
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::GetPlanResponse resp;
  return in.Finish(c->GetPlan(req, &resp), resp, PrintGetPlan);
}

int PlanRender(Invocation& in) {
  v1::RenderPlanRequest req;
  req.set_name(in.PlanName(Need::kRequired));
  req.set_view(in.Enum<v1::PlanView>("--view", Need::kOptional));
  req.set_language_code(in.Text("--language", Need::kOptional));
  req.set_format(in.Enum<v1::DocumentFormat>("--format", Need::kOptional));
  const std::string out_path = in.Path("--out", Need::kOptional);
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::RenderPlanResponse resp;
  const absl::Status status = c->RenderPlan(req, &resp);
  if (!status.ok()) return in.ReportError(status);
  return SaveDocument(in, resp, out_path,
                      absl::StrCat("the family's copy of ", req.name()),
                      absl::StrCat("version ", resp.shown_revision(), ", "));
}

int PlanList(Invocation& in) {
  v1::ListPlansRequest req;
  req.set_state(in.Enum<v1::PlanState>("--state", Need::kOptional));
  in.Paging(&req);
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::ListPlansResponse resp;
  return in.Finish(c->ListPlans(req, &resp), resp,
                   [](const v1::ListPlansResponse& r) { PrintPlans(r); });
}

int PlanSearch(Invocation& in) {
  v1::SearchPlansRequest req;
  req.set_subject(in.Pnr("--subject", Need::kRequired));
  req.set_state(in.Enum<v1::PlanState>("--state", Need::kOptional));
  in.Paging(&req);
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::SearchPlansResponse resp;
  return in.Finish(c->SearchPlans(req, &resp), resp,
                   [](const v1::SearchPlansResponse& r) { PrintPlans(r); });
}

int PlanUpdate(Invocation& in) {
  v1::UpdatePlanRequest req;
  v1::Plan* plan = req.mutable_plan();
  plan->set_name(in.PlanName(Need::kRequired));
  plan->set_etag(in.Text("--etag", Need::kOptional));
  google::protobuf::FieldMask* mask = req.mutable_update_mask();
  if (in.Given("--coordinator-name")) {
    plan->mutable_coordinator()->set_display_name(
        in.Text("--coordinator-name", Need::kRequired));
    mask->add_paths("coordinator.display_name");
  }
  if (in.Given("--coordinator-phone")) {
    plan->mutable_coordinator()->set_phone(
        in.Text("--coordinator-phone", Need::kOptional));
    mask->add_paths("coordinator.phone");
  }
  if (in.Given("--coordinator-email")) {
    plan->mutable_coordinator()->set_email(
        in.Text("--coordinator-email", Need::kOptional));
    mask->add_paths("coordinator.email");
  }
  if (in.Given("--coordinator-agency")) {
    plan->mutable_coordinator()->set_agency(
        in.Agency("--coordinator-agency", Need::kOptional, true));
    mask->add_paths("coordinator.agency");
  }
  const bool clear_reviews = in.Given("--clear-reviews");
  if (in.Given("--review")) {
    if (clear_reviews) in.Fail("give --review or --clear-reviews, not both");
    for (v1::ReviewDate& review : in.Reviews("--review")) {
      *plan->add_review_dates() = std::move(review);
    }
    mask->add_paths("review_dates");
  } else if (clear_reviews) {
    mask->add_paths("review_dates");
  }
  if (mask->paths_size() == 0) {
    in.Fail(
        "nothing to change: give --coordinator-name, --coordinator-phone, "
        "--coordinator-email, --coordinator-agency, --review or "
        "--clear-reviews");
  }
  req.set_request_id(in.RequestId());
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::UpdatePlanResponse resp;
  return in.Finish(c->UpdatePlan(req, &resp), resp, PrintUpdatePlan);
}

int PlanApprove(Invocation& in) {
  v1::ApprovePlanRequest req;
  req.set_name(in.PlanName(Need::kRequired));
  const std::optional<int64_t> revision = in.Int(
      "--revision", 1, std::numeric_limits<int64_t>::max(), Need::kOptional);
  v1::Evidence evidence;
  in.EvidenceFlag("--evidence", Need::kRequired, &evidence);
  const auto add = [&](v1::ApproverRole role, const std::string& number) {
    v1::Approval* approval = req.add_approvals();
    approval->set_approver_role(role);
    approval->set_approver_identity_number(number);
    *approval->mutable_evidence() = evidence;
  };
  for (const std::string& number : in.Pnrs("--guardian")) {
    add(v1::APPROVER_ROLE_GUARDIAN, number);
  }
  const std::string subject = in.Pnr("--subject-approver", Need::kOptional);
  if (!subject.empty()) add(v1::APPROVER_ROLE_SUBJECT, subject);
  for (const std::string& number : in.Pnrs("--representative")) {
    add(v1::APPROVER_ROLE_LEGAL_REPRESENTATIVE, number);
  }
  if (req.approvals_size() == 0) {
    in.Fail(
        "give who approved: --guardian PNR (every guardian with custody), "
        "--subject-approver PNR, or --representative PNR");
  }
  req.set_request_id(in.RequestId());
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  if (revision.has_value()) {
    req.set_revision(*revision);
  } else {
    v1::GetPlanRequest get;
    get.set_name(req.name());
    get.set_view(v1::PLAN_VIEW_LATEST);
    v1::GetPlanResponse latest;
    absl::Status status = c->GetPlan(get, &latest);
    if (!status.ok()) return in.ReportError(status);
    req.set_revision(latest.plan().revision());
  }
  v1::ApprovePlanResponse resp;
  return in.Finish(c->ApprovePlan(req, &resp), resp, PrintApprovePlan);
}

int PlanClose(Invocation& in) {
  v1::ClosePlanRequest req;
  req.set_name(in.PlanName(Need::kRequired));
  req.set_closed_by(in.Enum<v1::PlanClosedBy>("--closed-by", Need::kRequired));
  req.set_closer_identity_number(in.Pnr("--closer", Need::kOptional));
  req.set_reason(in.Text("--reason", Need::kRequired));
  in.EvidenceFlag("--evidence", Need::kOptional, req.mutable_evidence());
  if (!in.Given("--evidence")) req.clear_evidence();
  req.set_request_id(in.RequestId());
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::ClosePlanResponse resp;
  return in.Finish(c->ClosePlan(req, &resp), resp, PrintClosePlan);
}

int PlanReviews(Invocation& in) {
  v1::ListUpcomingReviewsRequest req;
  if (!in.Date("--from", Need::kOptional, req.mutable_start_date())) {
    *req.mutable_start_date() =
        FromCivilDay(absl::ToCivilDay(absl::Now(), DisplayZone()));
  }
  if (!in.Date("--to", Need::kOptional, req.mutable_end_date())) {
    *req.mutable_end_date() = FromCivilDay(CivilDayOf(req.start_date()) + 30);
  }
  req.set_kind(in.Enum<v1::ReviewKind>("--kind", Need::kOptional));
  in.Paging(&req);
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::ListUpcomingReviewsResponse resp;
  return in.Finish(c->ListUpcomingReviews(req, &resp), resp, PrintReviews);
}

// The intervention flags of entry create and update. Sets the fields given
// and, when `mask` is not null, adds their paths. Returns whether any was
// given.
bool InterventionFlags(Invocation& in, v1::Entry* entry,
                       google::protobuf::FieldMask* mask) {
  bool any = false;
  const auto path = [&](const char* p) {
    any = true;
    if (mask != nullptr) mask->add_paths(p);
  };
  if (in.Given("--responsible-agency")) {
    entry->mutable_intervention()->set_responsible_agency(
        in.Agency("--responsible-agency", Need::kRequired));
    path("intervention.responsible_agency");
  }
  if (std::optional<int64_t> order =
          in.Int("--order", 1, 1000, Need::kOptional)) {
    entry->mutable_intervention()->set_order(static_cast<int32_t>(*order));
    path("intervention.order");
  }
  google::type::Date date;
  if (in.Date("--start", Need::kOptional, &date)) {
    *entry->mutable_intervention()->mutable_start_date() = date;
    path("intervention.start_date");
  }
  if (in.Date("--end", Need::kOptional, &date)) {
    *entry->mutable_intervention()->mutable_end_date() = date;
    path("intervention.end_date");
  }
  return any;
}

int EntryCreate(Invocation& in) {
  v1::CreateEntryRequest req;
  req.set_parent(in.PlanName(Need::kRequired));
  v1::Entry* entry = req.mutable_entry();
  entry->set_category(
      in.Enum<v1::InformationCategory>("--category", Need::kRequired));
  entry->set_kind(in.Enum<v1::EntryKind>("--kind", Need::kRequired));
  entry->set_text(in.Text("--text", Need::kRequired));
  InterventionFlags(in, entry, nullptr);
  req.set_request_id(in.RequestId());
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::CreateEntryResponse resp;
  return in.Finish(c->CreateEntry(req, &resp), resp,
                   [](const v1::CreateEntryResponse& r) {
                     PrintEntryResponse("Created", r);
                   });
}

int EntryUpdate(Invocation& in) {
  v1::UpdateEntryRequest req;
  v1::Entry* entry = req.mutable_entry();
  entry->set_name(in.ChildName("--entry", "entries"));
  entry->set_etag(in.Text("--etag", Need::kOptional));
  google::protobuf::FieldMask* mask = req.mutable_update_mask();
  if (in.Given("--category")) {
    entry->set_category(
        in.Enum<v1::InformationCategory>("--category", Need::kRequired));
    mask->add_paths("category");
  }
  if (in.Given("--kind")) {
    entry->set_kind(in.Enum<v1::EntryKind>("--kind", Need::kRequired));
    mask->add_paths("kind");
  }
  if (in.Given("--text")) {
    entry->set_text(in.Text("--text", Need::kRequired));
    mask->add_paths("text");
  }
  const bool intervention = InterventionFlags(in, entry, mask);
  if (in.Given("--clear-intervention")) {
    if (intervention) {
      in.Fail("give --clear-intervention or intervention flags, not both");
    }
    mask->add_paths("intervention");
  }
  if (mask->paths_size() == 0) {
    in.Fail(
        "nothing to change: give --category, --kind, --text, "
        "--responsible-agency, --order, --start, --end or "
        "--clear-intervention");
  }
  req.set_request_id(in.RequestId());
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::UpdateEntryResponse resp;
  return in.Finish(c->UpdateEntry(req, &resp), resp,
                   [](const v1::UpdateEntryResponse& r) {
                     PrintEntryResponse("Updated", r);
                   });
}

int EntryDelete(Invocation& in) {
  v1::DeleteEntryRequest req;
  req.set_name(in.ChildName("--entry", "entries"));
  req.set_etag(in.Text("--etag", Need::kOptional));
  req.set_request_id(in.RequestId());
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::DeleteEntryResponse resp;
  return in.Finish(c->DeleteEntry(req, &resp), resp,
                   [](const v1::DeleteEntryResponse& r) {
                     PrintEntryResponse("Deleted", r);
                   });
}

int ParticipantAdd(Invocation& in) {
  v1::AddParticipantRequest req;
  req.set_parent(in.PlanName(Need::kRequired));
  v1::Participant* p = req.mutable_participant();
  const std::string agency = in.Agency("--invite-agency", Need::kOptional);
  v1::ParticipantKind kind =
      in.Enum<v1::ParticipantKind>("--kind", Need::kOptional);
  if (in.Given("--invite-agency")) {
    if (kind != v1::PARTICIPANT_KIND_UNSPECIFIED &&
        kind != v1::PARTICIPANT_KIND_AGENCY) {
      in.Fail(
          "--invite-agency invites an agency; leave out --kind, or give "
          "--kind agency");
    }
    kind = v1::PARTICIPANT_KIND_AGENCY;
    p->set_agency(agency);
  } else if (in.ok() && kind == v1::PARTICIPANT_KIND_UNSPECIFIED) {
    in.Fail(
        "give --invite-agency ID for an agency, or --kind KIND and "
        "--display-name NAME for a person");
  } else if (kind == v1::PARTICIPANT_KIND_AGENCY) {
    in.Fail("--kind agency needs --invite-agency ID");
  }
  p->set_kind(kind);
  p->set_display_name(in.Text("--display-name", Need::kOptional));
  p->set_identity_number(in.Pnr("--identity-number", Need::kOptional));
  p->set_role_note(in.Text("--role-note", Need::kOptional));
  req.set_request_id(in.RequestId());
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::AddParticipantResponse resp;
  return in.Finish(c->AddParticipant(req, &resp), resp,
                   [](const v1::AddParticipantResponse& r) {
                     PrintParticipantResponse("Added", r);
                   });
}

int ParticipantRemove(Invocation& in) {
  v1::RemoveParticipantRequest req;
  req.set_name(in.ChildName("--participant", "participants"));
  req.set_reason(in.Text("--reason", Need::kOptional));
  req.set_request_id(in.RequestId());
  Connection* c = in.Connect();
  if (c == nullptr) return in.exit_code();
  v1::RemoveParticipantResponse resp;
  return in.Finish(c->RemoveParticipant(req, &resp), resp,
                   [](const v1::RemoveParticipantResponse& r) {
                     PrintParticipantResponse("Removed", r);
                   });
}

}  // namespace

void AddPlanCommands(std::vector<Command>* commands) {
  std::vector<Command> table{
      // --- plan ---
      {"plan",
       "create",
       "create a draft plan (SIP) about a child",
       "Creates a draft plan. Your agency becomes the lead agency; it and the "
       "subject\ntake part automatically. The draft is visible to your agency "
       "only until it is\napproved (plan approve).",
       {
           {"--subject", "PNR", Need::kRequired,
            "the child's identity number, e.g. 20160510-2381"},
           {"--coordinator-name", "TEXT", Need::kRequired,
            "the coordinator (samordnare) as the family knows them"},
           {"--coordinator-phone", "TEXT", Need::kOptional, "their phone"},
           {"--coordinator-email", "TEXT", Need::kOptional, "their e-mail"},
           {"--coordinator-agency", "ID", Need::kOptional,
            "the agency they work for, e.g. social-1"},
           {"--invite-agency", "ID", Need::kOptional,
            "invite an agency; repeat or comma list: bup-1,social-1"},
           {"--review", "KIND:DATE[:TEXT]", Need::kOptional,
            "a review date, KIND follow-up or evaluation; repeatable"},
       },
       "samplanctl plan create --subject 20160510-2381 \\\n"
       "      --coordinator-name \"Anna Berg\" --coordinator-phone 070-1234567 "
       "\\\n"
       "      --invite-agency bup-1,social-1 "
       "--review \"follow-up:2026-09-01:How school works\"",
       PlanCreate,
       true},
      {"plan",
       "get",
       "show a plan: participants, entries, withheld entries",
       "Shows the plan in its effective (approved) revision, or with --view "
       "latest in\nits newest revision. Entries another agency owns are shown "
       "only when consent\nallows; the rest are listed as withheld, with the "
       "reason (for example\nNO_CONSENT). Every decision is written to the "
       "audit log.",
       {
           {"--plan", "ID", Need::kRequired, "the plan, its id or plans/ID"},
           {"--view", "VIEW", Need::kOptional, "effective (default) or latest"},
       },
       "samplanctl plan get --plan k3v9x2m4q8w1z7r5 --view latest",
       PlanGet,
       false},
      {"plan",
       "render",
       "write the family's copy of a plan (HTML or PDF)",
       "Writes the plan as the family's copy: one printable page in plain "
       "words, as\nHTML (or PDF with --format pdf), Swedish unless "
       "--language en. It shows what\nplan get shows your agency; an entry "
       "you may not see appears as one sentence,\nnever its content. The "
       "read is written to the audit log. Without --out the file\nis named "
       "sip-PLAN-vREVISION.html (or .pdf) in the current directory; with "
       "--json\nthe response is printed without the page, fileName saying "
       "where it was written.",
       {
           {"--plan", "ID", Need::kRequired, "the plan, its id or plans/ID"},
           {"--view", "VIEW", Need::kOptional, "effective (default) or latest"},
           {"--language", "CODE", Need::kOptional,
            "sv (Swedish, the default) or en (English)"},
           {"--format", "FORMAT", Need::kOptional, "html (the default) or pdf"},
           {"--out", "FILE", Need::kOptional,
            "where to write the page (replaced whole)"},
       },
       "samplanctl plan render --plan k3v9x2m4q8w1z7r5 --out elsa-sip.html",
       PlanRender,
       false},
      {"plan", "list", "list the plans your agency takes part in",
       "Lists the plans your agency takes part in, newest first.",
       WithPaging({
           {"--state", "STATE", Need::kOptional,
            "only draft, active or closed plans"},
       }),
       "samplanctl plan list --state active", PlanList, false},
      {"plan", "search", "find a child's plans by identity number",
       "Lists the plans about one child that your agency takes part in. The "
       "identity\nnumber travels in the request body, never in a URL.",
       WithPaging({
           {"--subject", "PNR", Need::kRequired, "the child's identity number"},
           {"--state", "STATE", Need::kOptional,
            "only draft, active or closed plans"},
       }),
       "samplanctl plan search --subject 20160510-2381", PlanSearch, false},
      {"plan",
       "update",
       "change the coordinator or the review dates",
       "Changes the coordinator or the review dates (lead agency only). Only "
       "the fields\ngiven change. --review replaces all review dates: list "
       "every date to keep.\nThe change makes a new revision that is not "
       "effective until approved.",
       {
           {"--plan", "ID", Need::kRequired, "the plan"},
           {"--coordinator-name", "TEXT", Need::kOptional, "new coordinator"},
           {"--coordinator-phone", "TEXT", Need::kOptional,
            "new phone (\"\" clears it)"},
           {"--coordinator-email", "TEXT", Need::kOptional,
            "new e-mail (\"\" clears it)"},
           {"--coordinator-agency", "ID", Need::kOptional,
            "new agency (\"\" clears it)"},
           {"--review", "KIND:DATE[:TEXT]", Need::kOptional,
            "the new review dates; repeatable"},
           {"--clear-reviews", "", Need::kOptional, "remove every review date"},
           {"--etag", "ETAG", Need::kOptional,
            "fail with ABORTED if the plan changed since you read this etag"},
       },
       "samplanctl plan update --plan k3v9x2m4q8w1z7r5 "
       "--coordinator-phone 070-7654321",
       PlanUpdate,
       true},
      {"plan",
       "approve",
       "record that the family approved the newest revision",
       "Records who approved the plan's newest revision, with evidence, and "
       "makes it\neffective (lead agency only). Under 15: every guardian with "
       "custody (--guardian,\nrepeated); from 15: the child (--subject-"
       "approver); adults: the person or a\nlegal representative. Without "
       "--revision, the newest revision is fetched and\napproved: make sure it "
       "is the one the family saw (plan get --view latest).",
       {
           {"--plan", "ID", Need::kRequired, "the plan"},
           {"--revision", "N", Need::kOptional,
            "the revision the family approved (default: the newest)"},
           {"--guardian", "PNR", Need::kOptional,
            "a guardian who approved; repeat or comma list"},
           {"--subject-approver", "PNR", Need::kOptional,
            "the subject approved (from 15, and adults)"},
           {"--representative", "PNR", Need::kOptional,
            "a legal representative who approved; repeatable"},
           {"--evidence", "KIND[:REF]", Need::kRequired,
            "where the approval is documented, e.g. signed-form:dnr-114"},
       },
       "samplanctl plan approve --plan k3v9x2m4q8w1z7r5 --revision 3 \\\n"
       "      --guardian 19800101-1234 --guardian 19820202-2345 "
       "--evidence signed-form:dnr-2026-114",
       PlanApprove,
       true},
      {"plan",
       "close",
       "end a plan",
       "Ends the plan (lead agency only), recording who ended it, why and the "
       "evidence.\nA closed plan stays readable. --closer and --evidence are "
       "required unless\n--closed-by agencies.",
       {
           {"--plan", "ID", Need::kRequired, "the plan"},
           {"--closed-by", "WHO", Need::kRequired,
            "subject, guardian, legal-representative or agencies"},
           {"--closer", "PNR", Need::kOptional,
            "the person who ended the plan"},
           {"--reason", "TEXT", Need::kRequired, "why the plan ends"},
           {"--evidence", "KIND[:REF]", Need::kOptional,
            "where the decision is documented"},
       },
       "samplanctl plan close --plan k3v9x2m4q8w1z7r5 --closed-by guardian "
       "\\\n      --closer 19800101-1234 --reason \"The family moves\" "
       "--evidence recorded-at-meeting:protokoll-7",
       PlanClose,
       true},
      {"plan", "reviews", "list coming follow-up and evaluation dates",
       "Lists the follow-up and evaluation dates of the active plans your "
       "agency takes\npart in, between two dates (inclusive, at most 366 days "
       "apart), by date.",
       WithPaging({
           {"--from", "DATE", Need::kOptional, "first day (default today)"},
           {"--to", "DATE", Need::kOptional,
            "last day (default 30 days after --from)"},
           {"--kind", "KIND", Need::kOptional, "only follow-up or evaluation"},
       }),
       "samplanctl plan reviews --from 2026-09-01 --to 2026-09-30", PlanReviews,
       false},
      // --- entry ---
      {"entry",
       "create",
       "write a need, strength, intervention, ... into a plan",
       "Writes an entry into a plan; your agency owns it. Other agencies see "
       "it only when\nconsent covers its category. An intervention needs "
       "--responsible-agency and\n--order. For long text use --text \"$(cat "
       "FILE)\".",
       {
           {"--plan", "ID", Need::kRequired, "the plan"},
           {"--category", "CATEGORY", Need::kRequired,
            "needs, interventions, health, education, social-situation,\n"
            "                              meeting-minutes or "
            "follow-up-results"},
           {"--kind", "KIND", Need::kRequired,
            "need, strength, wish, intervention, note, minutes or\n"
            "                              follow-up-result"},
           {"--text", "TEXT", Need::kRequired,
            "the content, written so that the family understands it"},
           {"--responsible-agency", "ID", Need::kOptional,
            "intervention: the agency responsible"},
           {"--order", "N", Need::kOptional,
            "intervention: position in the sequence, 1-1000"},
           {"--start", "DATE", Need::kOptional, "intervention: first day"},
           {"--end", "DATE", Need::kOptional, "intervention: last day"},
       },
       "samplanctl entry create --plan k3v9x2m4q8w1z7r5 --category "
       "interventions \\\n      --kind intervention --text \"Weekly talks "
       "with the school counsellor\" \\\n      --responsible-agency school-1 "
       "--order 1 --start 2026-08-20 --end 2026-12-18",
       EntryCreate,
       true},
      {"entry",
       "update",
       "change an entry (owner agency only)",
       "Changes the fields given; makes a new plan revision. Only the agency "
       "that owns\nthe entry may change it.",
       {
           {"--entry", "ID", Need::kRequired,
            "plans/P/entries/E, or the entry id with --plan"},
           {"--plan", "ID", Need::kOptional, "the plan, with a bare entry id"},
           {"--category", "CATEGORY", Need::kOptional, "new category"},
           {"--kind", "KIND", Need::kOptional, "new kind"},
           {"--text", "TEXT", Need::kOptional, "new text"},
           {"--responsible-agency", "ID", Need::kOptional,
            "intervention: new responsible agency"},
           {"--order", "N", Need::kOptional, "intervention: new position"},
           {"--start", "DATE", Need::kOptional, "intervention: new first day"},
           {"--end", "DATE", Need::kOptional, "intervention: new last day"},
           {"--clear-intervention", "", Need::kOptional,
            "remove the intervention details (when the kind changes)"},
           {"--etag", "ETAG", Need::kOptional,
            "fail with ABORTED if the entry changed since you read it"},
       },
       "samplanctl entry update --plan k3v9x2m4q8w1z7r5 --entry e5t7 "
       "--text \"Talks twice a week\"",
       EntryUpdate,
       true},
      {"entry",
       "delete",
       "delete an entry (owner agency only)",
       "Marks the entry deleted in a new plan revision; earlier revisions "
       "keep it.",
       {
           {"--entry", "ID", Need::kRequired,
            "plans/P/entries/E, or the entry id with --plan"},
           {"--plan", "ID", Need::kOptional, "the plan, with a bare entry id"},
           {"--etag", "ETAG", Need::kOptional,
            "fail with ABORTED if the entry changed since you read it"},
       },
       "samplanctl entry delete --entry plans/k3v9x2m4q8w1z7r5/entries/e5t7",
       EntryDelete,
       true},
      // --- participant ---
      {"participant",
       "add",
       "invite an agency or a person to a plan",
       "Invites an agency (--invite-agency) or a person (--kind and "
       "--display-name) to\nthe plan (lead agency only).",
       {
           {"--plan", "ID", Need::kRequired, "the plan"},
           {"--invite-agency", "ID", Need::kOptional, "the agency to invite"},
           {"--kind", "KIND", Need::kOptional,
            "for a person: guardian, legal-representative, support-person,\n"
            "                              relative or other"},
           {"--display-name", "TEXT", Need::kOptional,
            "the person's name (required for persons)"},
           {"--identity-number", "PNR", Need::kOptional,
            "the person's identity number"},
           {"--role-note", "TEXT", Need::kOptional,
            "their role in plain words, e.g. \"class teacher\""},
       },
       "samplanctl participant add --plan k3v9x2m4q8w1z7r5 --kind guardian "
       "\\\n      --display-name \"Sara Lind\" --identity-number 19800101-1234",
       ParticipantAdd,
       true},
      {"participant",
       "remove",
       "end a participant's part in a plan",
       "Ends a participant's part in the plan (lead agency only); it stays in "
       "the\nhistory. The lead agency and the subject cannot be removed.",
       {
           {"--participant", "ID", Need::kRequired,
            "plans/P/participants/Q, or the id with --plan"},
           {"--plan", "ID", Need::kOptional, "the plan, with a bare id"},
           {"--reason", "TEXT", Need::kOptional, "why they leave the plan"},
       },
       "samplanctl participant remove --plan k3v9x2m4q8w1z7r5 "
       "--participant q8w1z7r5k3v9x2m4",
       ParticipantRemove,
       true},
  };
  for (Command& command : table) commands->push_back(std::move(command));
}

}  // namespace samplan::client::ctl
